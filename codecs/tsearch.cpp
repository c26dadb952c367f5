#include "codecs/tsearch.hpp"

#include <algorithm>
#include <limits>
#include <string_view>

#include "codecs/copy_binary.hpp"
#include "codecs/utf8.hpp"

namespace pgingest {

namespace {

using detail::TsItem;
using detail::TsToken;

// ts_type.h limits.
constexpr std::size_t lexeme_bytes_limit = 2048;  // MAXSTRLEN: a lexeme must be shorter
constexpr std::size_t total_bytes_max = (1 << 20) - 1;  // MAXSTRPOS
constexpr std::uint32_t entry_pos_limit = 1 << 14;      // MAXENTRYPOS
constexpr std::size_t positions_max = 256;              // MAXNUMPOS
constexpr std::size_t opstack_depth = 32;               // tsquery.c STACKDEPTH

// ts_type.h QueryItem types and operators.
constexpr std::uint8_t qi_val = 1;
constexpr std::uint8_t qi_opr = 2;
constexpr std::uint8_t op_not = 1;
constexpr std::uint8_t op_and = 2;
constexpr std::uint8_t op_or = 3;
constexpr std::uint8_t op_phrase = 4;

constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// ts_utils.h ISOPERATOR: the characters that end a tsquery operand.
constexpr bool is_operator(char c) noexcept {
    return c == '!' || c == '&' || c == '|' || c == '(' || c == ')' || c == '<';
}

constexpr std::uint32_t offset(std::size_t at) noexcept {
    return at > std::numeric_limits<std::uint32_t>::max()
               ? std::numeric_limits<std::uint32_t>::max()
               : static_cast<std::uint32_t>(at);
}

// pg_mblen for valid UTF-8: the length of the sequence `lead` starts.
constexpr std::size_t utf8_length(char lead) noexcept {
    const auto byte = static_cast<unsigned char>(lead);
    return byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
}

// atoi(s) as glibc computes it, (int) strtol(s): digits clamped to LONG_MAX, then truncated to
// 32 bits; then LIMITPOS and WEP_SETPOS's 14-bit mask.
std::uint16_t position_value(std::string_view text, std::size_t at) noexcept {
    constexpr std::uint64_t long_max = std::numeric_limits<std::int64_t>::max();
    std::uint64_t value = 0;
    for (; at < text.size() && is_digit(text[at]); at++) {
        const auto digit = static_cast<std::uint64_t>(text[at] - '0');
        value = value > (long_max - digit) / 10 ? long_max : value * 10 + digit;
    }
    const auto as_int = static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
    const std::int32_t limited = as_int >= static_cast<std::int32_t>(entry_pos_limit)
                                     ? static_cast<std::int32_t>(entry_pos_limit - 1)
                                     : as_int;
    return static_cast<std::uint16_t>(static_cast<std::uint32_t>(limited) & 0x3FFF);
}

enum class Lex : std::uint8_t { go, word, end, error };

// tsvector_parser.c gettoken_tsvector. In tsquery mode (P_TSV_OPR_IS_DELIM | P_TSV_IS_TSQUERY)
// operators end a word and `:` ends it without position info.
class Lexer {
  public:
    Lexer(std::string_view text, bool tsquery, TsearchScratch& scratch) noexcept
        : _text(text), _tsquery(tsquery), _scratch(scratch) {}

    std::size_t at = 0;  ///< the next byte; after a word, where the word's reader stopped
    Status status{};     ///< the error after Lex::error

    // Reads one word from `at`: its bytes appended to scratch.chars and, in tsvector mode, its
    // positions to scratch.positions; fills `token`. Lex::word, Lex::end (no more words) or
    // Lex::error.
    Lex next(TsToken& token) {
        token = TsToken{};
        token.chars_begin = static_cast<std::uint32_t>(_scratch.chars.size());
        token.positions_begin = static_cast<std::uint32_t>(_scratch.positions.size());
        _token = &token;
        _state = State::wait_word;
        _old_state = State::wait_end_word;
        Lex result = Lex::go;
        while (result == Lex::go) {
            result = step();
        }
        token.length = static_cast<std::uint32_t>(_scratch.chars.size()) - token.chars_begin;
        token.positions_count =
            static_cast<std::uint32_t>(_scratch.positions.size()) - token.positions_begin;
        return result;
    }

  private:
    enum class State : std::uint8_t {
        wait_word,
        wait_end_word,
        wait_next_char,
        wait_end_complex,
        wait_char_complex,
        wait_pos_info,
        in_pos_info,
        wait_pos_delim
    };

    [[nodiscard]] char peek() const noexcept { return at < _text.size() ? _text[at] : '\0'; }
    [[nodiscard]] bool empty() const noexcept {
        return _scratch.chars.size() == _token->chars_begin;
    }
    Lex fail(Errc code = Errc::tsvector_syntax) noexcept {
        status = Status{_tsquery && code == Errc::tsvector_syntax ? Errc::tsquery_syntax : code,
                        offset(at)};
        return Lex::error;
    }
    void copy_char() {
        const std::size_t length = std::min(utf8_length(peek()), _text.size() - at);
        _scratch.chars.insert(_scratch.chars.end(), _text.data() + at,
                              _text.data() + at + length);
    }
    Lex advance() noexcept {
        at += at < _text.size() ? utf8_length(_text[at]) : 0;
        return Lex::go;
    }
    Lex word_ended() noexcept { return empty() ? fail() : Lex::word; }
    Lex step();
    Lex step_quoted(char c);
    Lex step_positions(char c);

    std::string_view _text;
    bool _tsquery;
    TsearchScratch& _scratch;
    TsToken* _token = nullptr;
    State _state = State::wait_word;
    State _old_state = State::wait_end_word;
};

// One character of gettoken_tsvector's state machine.
Lex Lexer::step() {
    const char c = peek();
    switch (_state) {
        case State::wait_word:
            if (c == '\0') {
                return Lex::end;
            }
            if (c == '\'') {
                _state = State::wait_end_complex;
            } else if (c == '\\') {
                _state = State::wait_next_char;
                _old_state = State::wait_end_word;
            } else if (_tsquery && is_operator(c)) {
                return fail();
            } else if (!is_space(c)) {
                copy_char();
                _state = State::wait_end_word;
            }
            return advance();
        case State::wait_next_char:
            if (c == '\0') {
                return fail();  // there is no escaped character
            }
            copy_char();
            _state = _old_state;
            return advance();
        case State::wait_end_word:
            if (c == '\\') {
                _state = State::wait_next_char;
                _old_state = State::wait_end_word;
            } else if (is_space(c) || c == '\0' || (_tsquery && is_operator(c))) {
                return word_ended();
            } else if (c == ':') {
                if (empty() || _tsquery) {
                    return word_ended();
                }
                _state = State::in_pos_info;
            } else {
                copy_char();
            }
            return advance();
        case State::wait_end_complex:
        case State::wait_char_complex:
            return step_quoted(c);
        case State::wait_pos_info:
        case State::in_pos_info:
        case State::wait_pos_delim:
            return step_positions(c);
    }
    return fail();
}

Lex Lexer::step_quoted(char c) {
    if (_state == State::wait_end_complex) {
        if (c == '\'') {
            _state = State::wait_char_complex;
        } else if (c == '\\') {
            _state = State::wait_next_char;
            _old_state = State::wait_end_complex;
        } else if (c == '\0') {
            return fail();
        } else {
            copy_char();
        }
        return advance();
    }
    if (c == '\'') {  // '' inside quotes is one quote
        copy_char();
        _state = State::wait_end_complex;
        return advance();
    }
    if (empty() || _tsquery) {
        return word_ended();
    }
    _state = State::wait_pos_info;
    return Lex::go;  // this character again, in the new state
}

Lex Lexer::step_positions(char c) {
    if (_state == State::wait_pos_info) {
        if (c != ':') {
            return Lex::word;
        }
        _state = State::in_pos_info;
        return advance();
    }
    if (_state == State::in_pos_info) {
        if (!is_digit(c)) {
            return fail();
        }
        const std::uint16_t position = position_value(_text, at);
        if (position == 0) {
            return fail();  // wrong position info in tsvector
        }
        _scratch.positions.push_back(position);
        _state = State::wait_pos_delim;
        return advance();
    }
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (c == ',') {
        _state = State::in_pos_info;
    } else if (lower == 'a' || lower == 'b' || lower == 'c' || lower == 'd' || c == '*') {
        std::uint16_t& last = _scratch.positions.back();
        if ((last >> 14) != 0) {
            return fail();  // a second weight
        }
        const int weight = c == '*' ? 3 : 'd' - lower;
        last = static_cast<std::uint16_t>((last & 0x3FFF) | (weight << 14));
    } else if (is_space(c) || c == '\0') {
        return Lex::word;
    } else if (!is_digit(c)) {
        return fail();
    }
    return advance();
}

std::string_view token_text(const TsearchScratch& scratch, const TsToken& token) noexcept {
    return {scratch.chars.data() + token.chars_begin, token.length};
}

// tsvector.c uniquePos on `positions` (sorted here): one entry per position with the highest
// weight; stops after 256 entries or at position 16383. Returns the count kept.
std::size_t unique_positions(std::uint16_t* positions, std::size_t count) noexcept {
    if (count <= 1) {
        return count;
    }
    std::sort(positions, positions + count,
              [](std::uint16_t a, std::uint16_t b) { return (a & 0x3FFF) < (b & 0x3FFF); });
    std::size_t kept = 0;
    for (std::size_t i = 1; i < count; i++) {
        const std::uint16_t next = positions[i];
        std::uint16_t& last = positions[kept];
        if ((next & 0x3FFF) != (last & 0x3FFF)) {
            positions[++kept] = next;
            if (kept >= positions_max - 1 || (next & 0x3FFF) == entry_pos_limit - 1) {
                break;
            }
        } else if ((next >> 14) > (last >> 14)) {
            last = static_cast<std::uint16_t>((last & 0x3FFF) | (next & 0xC000));
        }
    }
    return kept + 1;
}

// tsvectorin's loop over gettoken_tsvector: fills scratch.tokens with the lexemes as written.
Status read_lexemes(std::string_view text, TsearchScratch& scratch) {
    Lexer lexer(text, false, scratch);
    std::size_t lexeme_bytes = 0;
    while (true) {
        const std::size_t start = lexer.at;
        TsToken token;
        const Lex result = lexer.next(token);
        if (result == Lex::end) {
            return Status{};
        }
        if (result == Lex::error) {
            return lexer.status;
        }
        if (token.length >= lexeme_bytes_limit || lexeme_bytes > total_bytes_max) {
            std::size_t word_at = start;
            while (word_at < text.size() && is_space(text[word_at])) {
                word_at++;
            }
            return Status{Errc::tsvector_too_long, offset(word_at)};
        }
        lexeme_bytes += token.length;
        scratch.tokens.push_back(token);
    }
}

// tsvector.c uniqueentry: sorts the lexemes, merges the positions of equal ones into the first
// (in scratch.positions, appended), and returns the number of distinct lexemes; `data_bytes`
// is the server's size of the lexemes and positions (buflen, checked against 1 MiB).
std::size_t merge_lexemes(TsearchScratch& scratch, std::size_t& data_bytes) {
    std::vector<TsToken>& tokens = scratch.tokens;
    std::sort(tokens.begin(), tokens.end(), [&](const TsToken& a, const TsToken& b) {
        return token_text(scratch, a) < token_text(scratch, b);
    });
    std::size_t kept = 0;
    data_bytes = 0;
    for (std::size_t i = 0; i < tokens.size();) {
        std::size_t j = i + 1;
        const std::string_view lexeme = token_text(scratch, tokens[i]);
        while (j < tokens.size() && token_text(scratch, tokens[j]) == lexeme) {
            j++;
        }
        TsToken merged = tokens[i];
        if (j - i > 1) {
            merged.positions_begin = static_cast<std::uint32_t>(scratch.positions.size());
            for (std::size_t k = i; k < j; k++) {
                for (std::uint32_t p = 0; p < tokens[k].positions_count; p++) {
                    scratch.positions.push_back(scratch.positions[tokens[k].positions_begin + p]);
                }
            }
            merged.positions_count =
                static_cast<std::uint32_t>(scratch.positions.size()) - merged.positions_begin;
        }
        merged.positions_count = static_cast<std::uint32_t>(unique_positions(
            scratch.positions.data() + merged.positions_begin, merged.positions_count));
        data_bytes += merged.length;
        if (merged.positions_count > 0) {
            data_bytes += data_bytes % 2;  // SHORTALIGN
            data_bytes += 2 * merged.positions_count + 2;
        }
        tokens[kept++] = merged;
        i = j;
    }
    return kept;
}

// tsquery.c tsearch_op_priority: NOT 4, PHRASE 3, AND 2, OR 1.
constexpr int op_priority(std::uint8_t oper) noexcept {
    return oper == op_not ? 4 : oper == op_phrase ? 3 : oper == op_and ? 2 : 1;
}

enum class Pt : std::uint8_t { end, error, value, oper, open, close };

// tsquery.c parse_tsquery with gettoken_query_standard and makepol, without recursion: the
// operator stacks of all open parentheses share scratch.operators, scratch.levels holding where
// each level's stack starts. Items land in scratch.items in the order pushValue/pushOperator
// push them; the stored (and sent) order is the reverse.
class QueryParser {
  public:
    QueryParser(std::string_view text, TsearchScratch& scratch) noexcept
        : _text(text), _scratch(scratch), _lexer(text, true, scratch) {}

    Status parse();

  private:
    enum class State : std::uint8_t { wait_first_operand, wait_operand, wait_operator };

    [[nodiscard]] char peek() const noexcept { return _at < _text.size() ? _text[_at] : '\0'; }
    Pt fail(Errc code, std::size_t at) noexcept {
        _status = Status{code, offset(at)};
        return Pt::error;
    }
    Pt next(std::uint8_t& oper, std::int16_t& distance);
    Pt next_operand(TsToken& token);
    Pt next_operator(std::uint8_t& oper, std::int16_t& distance);
    int phrase_operator(std::int16_t& distance);
    void modifiers(TsToken& token) noexcept;
    Status push_value(const TsToken& token, std::size_t at);
    void clean_stack(std::uint8_t oper);

    std::string_view _text;
    TsearchScratch& _scratch;
    Lexer _lexer;
    std::size_t _at = 0;
    std::size_t _count = 0;  // open parentheses
    std::size_t _operand_bytes = 0;
    std::size_t _operand_at = 0;  // where the last operand starts
    State _state = State::wait_first_operand;
    Status _status{};
    TsToken _token{};
};

Status QueryParser::parse() {
    _scratch.levels.push_back(0);
    while (true) {
        std::uint8_t oper = 0;
        std::int16_t distance = 0;
        const Pt type = next(oper, distance);
        if (type == Pt::end) {
            break;
        }
        if (type == Pt::error) {
            return _status;
        }
        if (type == Pt::value) {
            if (Status status = push_value(_token, _operand_at); !status.ok()) {
                return status;
            }
        } else if (type == Pt::oper) {
            clean_stack(oper);
            if (_scratch.operators.size() - _scratch.levels.back() == opstack_depth) {
                return Status{Errc::tsquery_out_of_range, offset(_at - 1)};
            }
            _scratch.operators.push_back(TsItem{oper, distance, 0});
        } else if (type == Pt::open) {
            if (_scratch.levels.size() > tsquery_depth_max) {
                return Status{Errc::tsquery_out_of_range, offset(_at - 1)};
            }
            _scratch.levels.push_back(static_cast<std::uint32_t>(_scratch.operators.size()));
        } else {
            clean_stack(op_or);
            _scratch.levels.pop_back();
        }
    }
    clean_stack(op_or);
    return Status{};
}

// cleanOpStack: pops the operators of this level that bind at least as tightly as `oper`
// (NOT, right associative, pops nothing).
void QueryParser::clean_stack(std::uint8_t oper) {
    const int priority = op_priority(oper);
    std::vector<TsItem>& stack = _scratch.operators;
    while (stack.size() > _scratch.levels.back()) {
        const int top = op_priority(stack.back().oper);
        if ((oper != op_not && priority > top) || (oper == op_not && priority >= top)) {
            break;
        }
        _scratch.items.push_back(stack.back());
        stack.pop_back();
    }
}

// pushValue / pushValue_internal limits, then the operand item.
Status QueryParser::push_value(const TsToken& token, std::size_t at) {
    if (token.length >= lexeme_bytes_limit || _operand_bytes >= total_bytes_max) {
        return Status{Errc::tsquery_out_of_range, offset(at)};
    }
    _operand_bytes += token.length + 1;
    _scratch.tokens.push_back(token);
    _scratch.items.push_back(
        TsItem{0, 0, static_cast<std::uint32_t>(_scratch.tokens.size() - 1)});
    return Status{};
}

Pt QueryParser::next(std::uint8_t& oper, std::int16_t& distance) {
    while (true) {
        if (_state != State::wait_operator) {
            const char c = peek();
            if (c == '!') {
                _at++;
                _state = State::wait_operand;
                oper = op_not;
                return Pt::oper;
            }
            if (c == '(') {
                _at++;
                _state = State::wait_operand;
                _count++;
                return Pt::open;
            }
            if (c == ':') {
                return fail(Errc::tsquery_syntax, _at);
            }
            if (!is_space(c)) {
                return next_operand(_token);
            }
        } else if (Pt type = next_operator(oper, distance); type != Pt::end || peek() == '\0') {
            return type;
        }
        _at += utf8_length(peek());
    }
}

// An operand through gettoken_tsvector, then its modifiers.
Pt QueryParser::next_operand(TsToken& token) {
    _lexer.at = _at;
    _operand_at = _at;
    const Lex result = _lexer.next(token);
    if (result == Lex::word) {
        _at = _lexer.at;
        modifiers(token);
        _state = State::wait_operator;
        return Pt::value;
    }
    if (result == Lex::error) {
        _status = _lexer.status;
        return Pt::error;
    }
    if (_state == State::wait_first_operand) {
        return Pt::end;
    }
    return fail(Errc::tsquery_syntax, _at);  // no operand in tsquery
}

// The operator states of gettoken_query_standard. Pt::end with more text means "a space: go on".
Pt QueryParser::next_operator(std::uint8_t& oper, std::int16_t& distance) {
    const char c = peek();
    if (c == '&' || c == '|') {
        _at++;
        _state = State::wait_operand;
        oper = c == '&' ? op_and : op_or;
        return Pt::oper;
    }
    if (const int phrase = phrase_operator(distance); phrase != 0) {
        if (phrase < 0) {
            return fail(Errc::tsquery_out_of_range, _at);
        }
        _state = State::wait_operand;
        oper = op_phrase;
        return Pt::oper;
    }
    if (c == ')') {
        _at++;
        if (_count == 0) {
            return fail(Errc::tsquery_syntax, _at - 1);
        }
        _count--;
        return Pt::close;
    }
    if (c == '\0') {
        return _count > 0 ? fail(Errc::tsquery_syntax, _at) : Pt::end;
    }
    if (!is_space(c)) {
        return fail(Errc::tsquery_syntax, _at);
    }
    return Pt::end;
}

// parse_phrase_operator: `<->` or `<N>`, followed by at least one more character. 1 when read
// (`_at` moved past it), 0 when not a phrase operator, -1 when N is over 16384.
int QueryParser::phrase_operator(std::int16_t& distance) {
    enum class Phrase : std::uint8_t { open, dist, close, finish };
    Phrase state = Phrase::open;
    std::size_t at = _at;
    std::uint64_t value = 1;
    while (at < _text.size()) {
        const char c = _text[at];
        if (state == Phrase::open) {
            if (c != '<') {
                return 0;
            }
            state = Phrase::dist;
            at++;
        } else if (state == Phrase::dist) {
            if (c == '-') {
                state = Phrase::close;
                at++;
                continue;
            }
            if (!is_digit(c)) {
                return 0;
            }
            value = 0;
            for (; at < _text.size() && is_digit(_text[at]); at++) {
                if (value <= entry_pos_limit) {  // past the limit the exact value is moot
                    value = value * 10 + static_cast<unsigned>(_text[at] - '0');
                }
            }
            if (value > entry_pos_limit) {
                return -1;
            }
            state = Phrase::close;
        } else if (state == Phrase::close) {
            if (c != '>') {
                return 0;
            }
            state = Phrase::finish;
            at++;
        } else {
            distance = static_cast<std::int16_t>(value);
            _at = at;
            return 1;
        }
    }
    return 0;
}

// get_modifiers: `:` then any of a-d, A-D (weights) and `*` (prefix), up to the first other
// character.
void QueryParser::modifiers(TsToken& token) noexcept {
    if (peek() != ':') {
        return;
    }
    _at++;
    for (; _at < _text.size(); _at++) {
        const char c = _text[_at];
        if (c == 'a' || c == 'A') {
            token.weight |= 8;
        } else if (c == 'b' || c == 'B') {
            token.weight |= 4;
        } else if (c == 'c' || c == 'C') {
            token.weight |= 2;
        } else if (c == 'd' || c == 'D') {
            token.weight |= 1;
        } else if (c == '*') {
            token.prefix = true;
        } else {
            return;
        }
    }
}

}  // namespace

Status encode_tsvector_text(ByteBuffer& out, std::string_view text, TsearchScratch& scratch) {
    if (Status valid = validate_text(text); !valid.ok()) {
        return valid;
    }
    scratch.chars.clear();
    scratch.positions.clear();
    scratch.tokens.clear();
    if (Status status = read_lexemes(text, scratch); !status.ok()) {
        return status;
    }
    std::size_t data_bytes = 0;
    const std::size_t count = scratch.tokens.empty() ? 0 : merge_lexemes(scratch, data_bytes);
    if (data_bytes > total_bytes_max) {
        return Status{Errc::tsvector_too_long, 0};
    }
    std::size_t field_bytes = 4;
    for (std::size_t i = 0; i < count; i++) {
        field_bytes += scratch.tokens[i].length + 3 + 2 * scratch.tokens[i].positions_count;
    }
    out.put_u32(static_cast<std::uint32_t>(field_bytes));
    out.put_u32(static_cast<std::uint32_t>(count));
    for (std::size_t i = 0; i < count; i++) {
        const TsToken& token = scratch.tokens[i];
        out.put_bytes(token_text(scratch, token));
        out.put_u8(0);
        out.put_u16(static_cast<std::uint16_t>(token.positions_count));
        for (std::uint32_t p = 0; p < token.positions_count; p++) {
            out.put_u16(scratch.positions[token.positions_begin + p]);
        }
    }
    return Status{};
}

Status encode_tsquery_text(ByteBuffer& out, std::string_view text, TsearchScratch& scratch) {
    if (Status valid = validate_text(text); !valid.ok()) {
        return valid;
    }
    scratch.chars.clear();
    scratch.positions.clear();
    scratch.tokens.clear();
    scratch.items.clear();
    scratch.operators.clear();
    scratch.levels.clear();
    QueryParser parser(text, scratch);
    if (Status status = parser.parse(); !status.ok()) {
        return status;
    }
    if (scratch.items.empty()) {
        return Status{Errc::tsquery_empty, 0};
    }
    std::size_t field_bytes = 4;
    for (const TsItem& item : scratch.items) {
        field_bytes += item.oper == 0 ? 4 + scratch.tokens[item.token].length
                                      : (item.oper == op_phrase ? 4 : 2);
    }
    if (field_bytes > copy_field_size_max) {
        return Status{Errc::field_too_large, 0};
    }
    out.put_u32(static_cast<std::uint32_t>(field_bytes));
    out.put_u32(static_cast<std::uint32_t>(scratch.items.size()));
    for (auto item = scratch.items.rbegin(); item != scratch.items.rend(); ++item) {
        if (item->oper == 0) {
            const TsToken& token = scratch.tokens[item->token];
            out.put_u8(qi_val);
            out.put_u8(token.weight);
            out.put_u8(token.prefix ? 1 : 0);
            out.put_bytes(token_text(scratch, token));
            out.put_u8(0);
            continue;
        }
        out.put_u8(qi_opr);
        out.put_u8(item->oper);
        if (item->oper == op_phrase) {
            out.put_i16(item->distance);
        }
    }
    return Status{};
}

}  // namespace pgingest
