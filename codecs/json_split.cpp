#include "codecs/json_split.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace pgingest {

namespace {

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

bool is_hex(unsigned char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// Bytes a strict string reads one at a time: `"`, `\`, control characters, non-ASCII.
constexpr std::array<bool, 256> string_stops = [] {
    std::array<bool, 256> stops{};
    for (std::size_t c = 0; c < 256; ++c) {
        stops[c] = c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
    }
    return stops;
}();

/// Bytes a record's string stops at: `"`, `\`, and `\n` (counted).
constexpr std::array<bool, 256> record_string_stops = [] {
    std::array<bool, 256> stops{};
    stops['"'] = true;
    stops['\\'] = true;
    stops['\n'] = true;
    return stops;
}();

/// Bytes a record outside its strings stops at: brackets, quotes and `\n`.
constexpr std::array<bool, 256> record_stops = [] {
    std::array<bool, 256> stops{};
    for (char c : {'"', '{', '[', '}', ']', '\n'}) {
        stops[static_cast<unsigned char>(c)] = true;
    }
    return stops;
}();

/// Bytes that end a scalar record (a number or literal): blanks and structural characters.
constexpr std::array<bool, 256> atom_ends = [] {
    std::array<bool, 256> ends{};
    for (char c : {' ', '\t', '\n', '\r', ',', ':', '"', '{', '[', '}', ']'}) {
        ends[static_cast<unsigned char>(c)] = true;
    }
    return ends;
}();

/// The JSON type a value starting with `c` has, as the pointer errors name it; nullptr when no
/// value starts with `c`.
const char* scalar_type(char c) noexcept {
    if (c == '"') {
        return "string";
    }
    if (c == '-' || is_digit(c)) {
        return "number";
    }
    if (c == 't' || c == 'f') {
        return "boolean";
    }
    if (c == 'n') {
        return "null";
    }
    return nullptr;
}

/// Number states: what was read so far. Terminal: zero, integer, fraction, exponent.
enum Number : std::uint8_t { minus, zero, integer, dot, fraction, e, e_sign, exponent };

}  // namespace

JsonSplitter::JsonSplitter(std::vector<JsonSplitSegment> pointer, bool require_array,
                           std::size_t depth_max, std::vector<JsonCarry> carry)
    : _pointer(std::move(pointer)),
      _depth_max(depth_max),
      _require_array(require_array),
      _carry(std::move(carry)),
      _carry_values(_carry.size()) {
    if (depth_max == 0) {
        throw std::invalid_argument("JsonSplitter: depth_max must be at least 1");
    }
    _stack.reserve(depth_max);
    _levels.resize(_pointer.size() + 1);
    for (std::size_t i = 0; i < _pointer.size(); ++i) {
        const std::string& key = _pointer[i].key;
        Level& level = _levels[i];
        level.key_cap = key.size();
        // As tools/input.cpp walk_index: decimal, no leading zero, under 19 digits.
        level.numeric = !key.empty() && key.size() < 19 && (key == "0" || key[0] != '0');
        for (char c : key) {
            level.numeric = level.numeric && is_digit(c);
            level.wanted = level.wanted * 10 + static_cast<std::uint64_t>(c - '0');
        }
    }
    for (const JsonCarry& carried : _carry) {
        if (carried.level >= _pointer.size() || _pointer[carried.level].wildcard ||
            _pointer[carried.level].key == carried.key) {
            throw std::invalid_argument("JsonSplitter: carried member \"" + carried.key +
                                        "\" at level " + std::to_string(carried.level) +
                                        " is not beside a key segment of the pointer");
        }
        Level& level = _levels[carried.level];
        level.key_cap = std::max(level.key_cap, carried.key.size());
    }
    for (Level& level : _levels) {
        level.key.reserve(level.key_cap + 1);
    }
}

bool JsonSplitter::feed(std::string_view bytes, JsonSplitSink& sink) {
    const char* data = bytes.data();
    _data = data;
    std::size_t at = 0;
    while (at < bytes.size() && !_failed) {
        at = step(data, bytes.size(), at, sink);
    }
    if (_carry_now != no_carry && !_failed) {  // the carried value goes on in the next chunk
        auto from = static_cast<std::size_t>(_carry_from - _base);
        _carry_values[_carry_now].text.append(data + from, bytes.size() - from);
        _carry_from = _base + bytes.size();
    }
    _base += bytes.size();
    _pos = _base;
    return !_failed;
}

std::size_t JsonSplitter::step(const char* data, std::size_t size, std::size_t at,
                               JsonSplitSink& sink) {
    _pos = _base + at;
    switch (_token) {
        case Token::string:
        case Token::key:
            return string_bytes(data, size, at, sink);
        case Token::record:
            return record_bytes(data, size, at, sink);
        case Token::atom:
            if (atom_byte(data[at])) {
                return at + 1;
            }
            if (!atom_end(sink)) {
                return size;
            }
            return at;  // the byte after the atom is read in `_expect`
        case Token::none:
            break;
    }
    return expect_byte(data[at], at, sink);
}

std::size_t JsonSplitter::expect_byte(char c, std::size_t at, JsonSplitSink& sink) {
    if (is_blank(c)) {
        _line += c == '\n' ? 1 : 0;
        return at + 1;
    }
    _seen = true;
    switch (_expect) {
        case Expect::value:
            begin_value(c, sink);
            return at + 1;
        case Expect::value_or_close:
            if (c == ']') {
                close(sink);
            } else {
                begin_value(c, sink);
            }
            return at + 1;
        case Expect::key_or_close:
        case Expect::key:
            if (c == '}' && _expect == Expect::key_or_close) {
                close(sink);
            } else if (c == '"') {
                _token = Token::key;
                _token_start = _pos;
                _token_line = _line;
                std::size_t depth = _stack.size() - 1;
                if (depth < _levels.size()) {
                    _levels[depth].key.clear();
                    _levels[depth].key_over = false;
                }
            } else {
                fail(sink, _expect == Expect::key ? "expected a string key after ','"
                                                  : "expected a string key or '}'");
            }
            return at + 1;
        case Expect::colon:
            if (c == ':') {
                _expect = Expect::value;
            } else {
                fail(sink, "expected ':' after an object key");
            }
            return at + 1;
        case Expect::comma_or_close:
            return comma_or_close(c, at, sink);
        case Expect::end:
            fail(sink, "more text after the JSON document");
            return at + 1;
    }
    return at + 1;
}

std::size_t JsonSplitter::comma_or_close(char c, std::size_t at, JsonSplitSink& sink) {
    bool object = _stack.back() == '{';
    if (c == ',') {
        _expect = object ? Expect::key : Expect::value;
    } else if (c == (object ? '}' : ']')) {
        close(sink);
    } else {
        fail(sink, object ? "expected ',' or '}' after an object member"
                          : "expected ',' or ']' after an array element");
    }
    return at + 1;
}

bool JsonSplitter::begin_value(char c, JsonSplitSink& sink) {
    std::size_t depth = _stack.size();
    if (_carry_next != no_carry) {  // the value of a carried member: copied as it is read
        _carry_now = std::exchange(_carry_next, no_carry);
        _carry_depth = depth;
        _carry_from = _pos;
        _carry_values[_carry_now].text.clear();
    }
    bool on_path = depth == 0;
    if (depth > 0 && _stack.back() == '[') {
        begin_element();
    }
    if (depth > 0 && depth - 1 < _levels.size() && _levels[depth - 1].active) {
        if (_levels[depth - 1].expand) {
            return begin_record(c, sink);
        }
        on_path = _levels[depth - 1].child_on;
    }
    if (on_path && depth < _pointer.size()) {
        return begin_path_value(c, depth, sink);
    }
    if (on_path) {  // the pointer's target
        if (depth == 0 && _pointer.empty() && _require_array && c != '[') {
            return fail_at(sink, 0, 1, "expected a top-level array (format json-array)");
        }
        if (c != '[') {
            return begin_record(c, sink);
        }
        if (!push(c, sink)) {
            return false;
        }
        Level& level = _levels[depth];
        level.active = true;
        level.expand = true;
        return true;
    }
    return begin_plain_value(c, sink);
}

/// A value off the pointer's path: checked whole, not handed out.
bool JsonSplitter::begin_plain_value(char c, JsonSplitSink& sink) {
    if (c == '{' || c == '[') {
        return push(c, sink);
    }
    if (c == '"') {
        _token = Token::string;
        _token_start = _pos;
        _token_line = _line;
        return true;
    }
    if (!start_atom(c)) {
        return fail(sink, "expected a value");
    }
    return true;
}

/// A value at `depth` < the pointer's size on its path: an object or array to go into, else
/// a pointer miss (the value is then read as any other).
bool JsonSplitter::begin_path_value(char c, std::size_t depth, JsonSplitSink& sink) {
    if (c == '{' || c == '[') {
        if (!push(c, sink)) {
            return false;
        }
        carry_reset(depth);
        Level& level = _levels[depth];
        level.active = true;
        level.object = c == '{';
        level.found = false;
        level.child_on = false;
        level.start = _pos;
        level.start_line = _line;
        level.index = 0;
        return true;
    }
    const char* type = scalar_type(c);
    if (type == nullptr) {
        return fail(sink, "expected a value");
    }
    if (_pointer[depth].wildcard) {
        sink.error(
            _pos, _line,
            "pointer " + prefix(depth + 1) + ": `*` applied to a " + type + " at " + prefix(depth));
    } else {
        sink.error(_pos, _line,
                   "pointer " + prefix(depth + 1) + ": " + prefix(depth) + " is a " + type +
                       ", not an object or array");
    }
    return begin_plain_value(c, sink);
}

bool JsonSplitter::begin_record(char c, JsonSplitSink& sink) {
    if (c == ',' || c == ':' || c == ']' || c == '}') {
        return fail(sink, "expected a value");
    }
    _record_start = _pos;
    _record_line = _line;
    _record_depth = _stack.size();
    _record_first = c;
    _token = Token::record;
    if (c == '{' || c == '[') {
        return push(c, sink);
    }
    _record_string = c == '"';
    _record_atom = c != '"';
    return true;
}

bool JsonSplitter::start_atom(char c) {
    _literal = nullptr;
    if (c == '-' || is_digit(c)) {
        _atom_state = c == '-' ? minus : c == '0' ? zero : integer;
    } else if (c == 't' || c == 'f' || c == 'n') {
        _literal = c == 't' ? "true" : c == 'f' ? "false" : "null";
        _literal_at = 1;
    } else {
        return false;
    }
    _token = Token::atom;
    _token_start = _pos;
    _token_line = _line;
    return true;
}

bool JsonSplitter::push(char c, JsonSplitSink& sink) {
    if (_stack.size() >= _depth_max) {
        return fail(sink, "nesting too deep");
    }
    std::size_t depth = _stack.size();
    if (depth < _levels.size()) {
        _levels[depth].active = false;
        _levels[depth].expand = false;
    }
    _stack.push_back(static_cast<std::uint8_t>(c));
    _expect = c == '{' ? Expect::key_or_close : Expect::value_or_close;
    return true;
}

/// Closes the innermost container (its closing bracket matches, the caller checked); reports
/// a pointer miss when it was on the path and the wanted key or index was not in it.
void JsonSplitter::close(JsonSplitSink& sink) {
    _stack.pop_back();
    std::size_t depth = _stack.size();
    if (depth < _levels.size() && _levels[depth].active) {
        Level& level = _levels[depth];
        level.active = false;
        carry_reset(depth);
        if (!level.expand && !_pointer[depth].wildcard && !level.found) {
            const std::string& key = _pointer[depth].key;
            sink.error(level.start, level.start_line,
                       "pointer " + prefix(depth + 1) +
                           (level.object ? ": key \"" + key + "\" not found"
                                         : ": no element \"" + key + "\" in the array"));
        }
    }
    value_done();
}

void JsonSplitter::value_done() {
    if (_carry_now != no_carry && _stack.size() == _carry_depth) {
        carry_end(_pos + 1);  // `_pos`: the closing quote or bracket
    }
    _expect = _stack.empty() ? Expect::end : Expect::comma_or_close;
}

/// An element of the innermost container (an array) begins: is it on the path?
void JsonSplitter::begin_element() {
    std::size_t depth = _stack.size() - 1;
    if (depth >= _pointer.size() || !_levels[depth].active) {
        return;
    }
    Level& level = _levels[depth];
    std::uint64_t index = level.index++;
    if (_pointer[depth].wildcard) {
        level.child_on = true;
        return;
    }
    level.child_on = !level.found && level.numeric && index == level.wanted;
    level.found = level.found || level.child_on;
}

/// A key of the innermost container (an object) ended: is its value on the path? Keys are
/// compared as written, escapes not decoded, as simdjson's `find_field_unordered` does.
void JsonSplitter::key_done(JsonSplitSink& sink) {
    _expect = Expect::colon;
    std::size_t depth = _stack.size() - 1;
    if (depth >= _pointer.size() || !_levels[depth].active) {
        return;
    }
    Level& level = _levels[depth];
    if (_pointer[depth].wildcard) {
        level.child_on = true;
        return;
    }
    bool path_met = level.found;
    level.child_on = !level.found && !level.key_over && level.key == _pointer[depth].key;
    level.found = level.found || level.child_on;
    if (!level.child_on && !_carry.empty() && !level.key_over) {
        carry_key(depth, path_met, sink);
    }
}

std::size_t JsonSplitter::string_bytes(const char* data, std::size_t size, std::size_t at,
                                       JsonSplitSink& sink) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data);
    std::size_t depth = _stack.empty() ? 0 : _stack.size() - 1;
    bool collect = _token == Token::key && depth < _pointer.size() && _levels[depth].active &&
                   !_pointer[depth].wildcard;
    while (at < size) {
        std::size_t from = at;
        if (!_escape && _hex_left == 0 && _utf8_left == 0) {
            while (at < size && !string_stops[bytes[at]]) {
                ++at;
            }
        }
        if (collect && at > from) {
            Level& level = _levels[depth];
            std::size_t room = level.key_cap + 1 - level.key.size();
            level.key_over = level.key_over || at - from > room;
            level.key.append(data + from, std::min(room, at - from));
        }
        if (at == size) {
            break;
        }
        _pos = _base + at;
        unsigned char c = bytes[at];
        if (!_escape && _hex_left == 0 && _utf8_left == 0 && c == '"') {
            if (_token == Token::key) {
                key_done(sink);
            } else {
                value_done();
            }
            _token = Token::none;
            return at + 1;
        }
        if (!string_byte(c, sink)) {
            return size;
        }
        if (collect) {
            Level& level = _levels[depth];
            if (level.key.size() <= level.key_cap) {
                level.key.push_back(static_cast<char>(c));
            } else {
                level.key_over = true;
            }
        }
        ++at;
    }
    return at;
}

/// One byte of a string that is not plain ASCII content or its closing quote.
bool JsonSplitter::string_byte(unsigned char c, JsonSplitSink& sink) {
    if (_escape) {
        _escape = false;
        if (c == 'u') {
            _hex_left = 4;
            return true;
        }
        if (c == '\0' || std::strchr("\"\\/bfnrt", c) == nullptr) {
            return fail(sink, "invalid escape in a string");
        }
        return true;
    }
    if (_hex_left > 0) {
        --_hex_left;
        return is_hex(c) || fail(sink, "\\u not followed by 4 hexadecimal digits");
    }
    if (_utf8_left > 0) {
        if (c < _utf8_lo || c > _utf8_hi) {
            return fail(sink, "invalid UTF-8 in a string");
        }
        --_utf8_left;
        _utf8_lo = 0x80;
        _utf8_hi = 0xBF;
        return true;
    }
    if (c == '\\') {
        _escape = true;
        return true;
    }
    if (c < 0x20) {
        return fail(sink, "control character in a string (escape it)");
    }
    // RFC 3629 §4 (as simdjson's validate_utf8): no overlong forms, surrogates or > U+10FFFF.
    if (c >= 0xC2 && c <= 0xDF) {
        _utf8_left = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        _utf8_left = 2;
        _utf8_lo = c == 0xE0 ? 0xA0 : 0x80;
        _utf8_hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        _utf8_left = 3;
        _utf8_lo = c == 0xF0 ? 0x90 : 0x80;
        _utf8_hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return fail(sink, "invalid UTF-8 in a string");
    }
    return true;
}

/// Whether `c` continues the number or literal being read (RFC 8259 §3, §6).
bool JsonSplitter::atom_byte(char c) {
    if (_literal != nullptr) {
        if (_literal[_literal_at] != '\0' && _literal[_literal_at] == c) {
            ++_literal_at;
            return true;
        }
        return false;
    }
    bool digit = is_digit(c);
    switch (_atom_state) {
        case minus:
            if (digit) {
                _atom_state = c == '0' ? zero : integer;
            }
            return digit;
        case zero:
        case integer:
            if (digit && _atom_state == integer) {
                return true;
            }
            if (c == '.') {
                _atom_state = dot;
                return true;
            }
            break;
        case dot:
        case fraction:
            if (digit) {
                _atom_state = fraction;
                return true;
            }
            if (_atom_state == dot) {
                return false;
            }
            break;
        case e:
            if (c == '+' || c == '-') {
                _atom_state = e_sign;
                return true;
            }
            [[fallthrough]];
        case e_sign:
        case exponent:
            if (digit) {
                _atom_state = exponent;
            }
            return digit;
        default:
            return false;
    }
    if (c == 'e' || c == 'E') {
        _atom_state = e;
        return true;
    }
    return false;
}

/// The number or literal ended (the next byte is not part of it): is it whole?
bool JsonSplitter::atom_end(JsonSplitSink& sink) {
    _token = Token::none;
    if (_literal != nullptr) {
        if (_literal[_literal_at] != '\0') {
            return fail_at(sink, _token_start, _token_line,
                           "malformed JSON: invalid literal (expected true, false or null)");
        }
    } else if (_atom_state != zero && _atom_state != integer && _atom_state != fraction &&
               _atom_state != exponent) {
        return fail_at(sink, _token_start, _token_line, "malformed JSON: invalid number");
    }
    if (_carry_now != no_carry && _stack.size() == _carry_depth) {
        carry_end(_pos);  // `_pos`: the byte after the atom
    }
    value_done();
    return true;
}

std::size_t JsonSplitter::record_bytes(const char* data, std::size_t size, std::size_t at,
                                       JsonSplitSink& sink) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data);
    if (_record_atom) {
        while (at < size && !atom_ends[bytes[at]]) {
            ++at;
        }
        if (at < size) {
            record_done(_base + at, sink);
        }
        return at;
    }
    while (at < size) {
        if (_record_string) {
            if (_record_escape) {
                _record_escape = false;
                _line += bytes[at] == '\n' ? 1 : 0;
                ++at;
                continue;
            }
            while (at < size && !record_string_stops[bytes[at]]) {
                ++at;
            }
            if (at == size) {
                break;
            }
            char c = data[at++];
            if (c == '\n') {
                ++_line;
            } else if (c == '\\') {
                _record_escape = true;
            } else {
                _record_string = false;
                if (_stack.size() == _record_depth) {
                    record_done(_base + at, sink);
                    return at;
                }
            }
            continue;
        }
        while (at < size && !record_stops[bytes[at]]) {
            ++at;
        }
        if (at == size) {
            break;
        }
        _pos = _base + at;
        char c = data[at++];
        if (c == '\n') {
            ++_line;
        } else if (c == '"') {
            _record_string = true;
        } else if (c == '{' || c == '[') {
            if (!push(c, sink)) {
                return size;
            }
        } else if (_stack.back() != (c == '}' ? '{' : '[')) {
            fail(sink, c == '}' ? "'}' closes an array" : "']' closes an object");
            return size;
        } else {
            _stack.pop_back();
            if (_stack.size() == _record_depth) {
                record_done(_base + at, sink);
                return at;
            }
        }
    }
    return at;
}

void JsonSplitter::record_done(std::uint64_t end, JsonSplitSink& sink) {
    _token = Token::none;
    _record_string = false;
    _record_escape = false;
    _record_atom = false;
    if (_record_first != '{' && carry_present()) {
        const char* type = scalar_type(_record_first);
        sink.error(_record_start, _record_line,
                   "pointer " + prefix(_pointer.size()) +
                       ": a record with carried members must be an object, not a" +
                       (type == nullptr ? std::string("n array") : std::string(" ") + type));
    } else {
        sink.record(_record_start, end - _record_start, _record_line);
    }
    value_done();
}

bool JsonSplitter::finish(JsonSplitSink& sink) {
    if (_failed) {
        return false;
    }
    _pos = _base;
    if (_token == Token::atom && !atom_end(sink)) {
        return false;
    }
    if (_token == Token::record && _record_atom && _stack.size() == _record_depth) {
        record_done(_base, sink);
    }
    if (!_seen) {
        return fail_at(sink, 0, 1, "malformed JSON: the document is empty");
    }
    if (_token != Token::none || _expect != Expect::end) {
        return fail(sink, "the document ends before its value is complete");
    }
    return true;
}

std::optional<std::uint64_t> JsonSplitter::record_start() const noexcept {
    if (_token == Token::record) {
        return _record_start;
    }
    return std::nullopt;
}

/// A key of the object at `depth` on the path ended (not its path key): is it a carried member?
/// `path_met`: the object's path member came before it.
void JsonSplitter::carry_key(std::size_t depth, bool path_met, JsonSplitSink& sink) {
    const Level& level = _levels[depth];
    for (std::size_t i = 0; i < _carry.size(); ++i) {
        if (_carry[i].level != depth || _carry[i].key != level.key || _carry_values[i].seen) {
            continue;
        }
        _carry_values[i].seen = true;
        if (path_met) {
            sink.error(_token_start, _token_line,
                       "pointer " + prefix(depth + 1) + ": member \"" + _carry[i].key + "\" of " +
                           prefix(depth) + " comes after " + _pointer[depth].key +
                           "; only members before it are carried");
        } else {
            _carry_next = i;
        }
        return;
    }
}

/// The carried value being copied ends at offset `end` (exclusive).
void JsonSplitter::carry_end(std::uint64_t end) {
    auto from = static_cast<std::size_t>(_carry_from - _base);
    _carry_values[_carry_now].text.append(_data + from,
                                          static_cast<std::size_t>(end - _carry_from));
    _carry_values[_carry_now].present = true;
    _carry_now = no_carry;
}

/// The object at `depth` on the path begins or ends: its carried values no longer apply.
void JsonSplitter::carry_reset(std::size_t depth) {
    for (std::size_t i = 0; i < _carry.size(); ++i) {
        if (_carry[i].level == depth) {
            _carry_values[i].text.clear();
            _carry_values[i].present = false;
            _carry_values[i].seen = false;
        }
    }
}

bool JsonSplitter::carry_present() const noexcept {
    return std::any_of(_carry_values.begin(), _carry_values.end(),
                       [](const CarryValue& value) { return value.present; });
}

std::vector<std::optional<std::string_view>> JsonSplitter::carried() const {
    std::vector<std::optional<std::string_view>> out;
    out.reserve(_carry.size());
    for (const CarryValue& value : _carry_values) {
        out.push_back(value.present ? std::optional<std::string_view>(value.text) : std::nullopt);
    }
    return out;
}

void JsonSplitter::compose(std::string_view text, std::string& out) const {
    out.clear();
    if (!carry_present() || text.empty() || text.front() != '{') {
        out.assign(text);
        return;
    }
    out += '{';
    bool first = true;
    for (std::size_t i = 0; i < _carry.size(); ++i) {
        if (!_carry_values[i].present) {
            continue;
        }
        out += first ? "\"" : ",\"";
        first = false;
        for (char c : _carry[i].as) {
            auto byte = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else if (byte < 0x20) {
                constexpr const char* digits = "0123456789abcdef";
                out += "\\u00";
                out += digits[byte >> 4];
                out += digits[byte & 15];
            } else {
                out += c;
            }
        }
        out += "\":";
        out += _carry_values[i].text;
    }
    std::string_view members = text.substr(1);
    std::size_t next = members.find_first_not_of(" \t\r\n");
    if (next != std::string_view::npos && members[next] != '}') {
        out += ',';
    }
    out += members;
}

bool JsonSplitter::fail(JsonSplitSink& sink, const char* what) {
    return fail_at(sink, _pos, _line, std::string("malformed JSON: ") + what);
}

bool JsonSplitter::fail_at(JsonSplitSink& sink, std::uint64_t offset, std::uint64_t line,
                           std::string reason) {
    _failed = true;
    sink.error(offset, line, std::move(reason));
    return false;
}

std::string JsonSplitter::prefix(std::size_t count) const {
    std::string out;
    for (std::size_t i = 0; i < count && i < _pointer.size(); ++i) {
        out += '/';
        out += _pointer[i].wildcard ? std::string("*") : _pointer[i].key;
    }
    return out.empty() ? std::string("/") : out;
}

}  // namespace pgingest
