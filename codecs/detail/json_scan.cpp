#include "codecs/detail/json_scan.hpp"

#include <simdjson.h>

#include <array>
#include <cstring>

#include "codecs/assert.hpp"
#include "codecs/utf8.hpp"

namespace pgingest::detail {

namespace {

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

bool is_hex(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::size_t skip_blanks(std::string_view text, std::size_t at) noexcept {
    while (at < text.size() && is_blank(text[at])) {
        ++at;
    }
    return at;
}

/// Bytes that end a run of plain string content: `"`, `\` and the control characters.
constexpr std::array<bool, 256> string_stops = [] {
    std::array<bool, 256> stops{};
    for (std::size_t c = 0; c < 0x20; ++c) {
        stops[c] = true;
    }
    stops['"'] = true;
    stops['\\'] = true;
    return stops;
}();

/// A scan's position and its error, if any.
struct Scan {
    std::string_view text;
    std::size_t at = 0;
    JsonScanError error{};
    bool failed = false;

    bool fail(const char* what, std::size_t offset) noexcept {
        error = {what, offset};
        failed = true;
        return false;
    }

    /// The string whose opening quote is at `at`; `at` moves past its closing quote.
    bool string() noexcept {
        std::size_t start = at++;
        const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
        for (;;) {
            while (at < text.size() && !string_stops[bytes[at]]) {
                ++at;
            }
            if (at >= text.size()) {
                return fail("unterminated string", start);
            }
            char c = text[at];
            if (c == '"') {
                ++at;
                return true;
            }
            if (c != '\\') {
                return fail("control character in a string (escape it)", at);
            }
            if (!escape()) {
                return false;
            }
        }
    }

    /// The escape whose backslash is at `at`.
    bool escape() noexcept {
        if (at + 1 >= text.size()) {
            return fail("unterminated string", at);
        }
        char kind = text[at + 1];
        if (kind == 'u') {
            if (at + 6 > text.size() || !is_hex(text[at + 2]) || !is_hex(text[at + 3]) ||
                !is_hex(text[at + 4]) || !is_hex(text[at + 5])) {
                return fail("\\u not followed by 4 hexadecimal digits", at);
            }
            at += 6;
            return true;
        }
        if (std::strchr("\"\\/bfnrt", kind) == nullptr || kind == '\0') {
            return fail("invalid escape in a string", at);
        }
        at += 2;
        return true;
    }

    std::size_t digits() noexcept {
        std::size_t from = at;
        while (at < text.size() && is_digit(text[at])) {
            ++at;
        }
        return at - from;
    }

    /// RFC 8259 §6: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    bool number() noexcept {
        std::size_t start = at;
        if (text[at] == '-') {
            ++at;
        }
        std::size_t first = at;
        std::size_t whole = digits();
        bool ok = whole > 0 && (whole == 1 || text[first] != '0');
        if (ok && at < text.size() && text[at] == '.') {
            ++at;
            ok = digits() > 0;
        }
        if (ok && at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
            ++at;
            if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
                ++at;
            }
            ok = digits() > 0;
        }
        return ok || fail("invalid number", start);
    }

    bool literal() noexcept {
        for (std::string_view word : {"true", "false", "null"}) {
            if (text.substr(at, word.size()) == word) {
                at += word.size();
                return true;
            }
        }
        return fail("invalid value", at);
    }

    /// A scalar at `at`, which must then be followed by a blank, `,`, `]`, `}` or the end.
    bool scalar() noexcept {
        char c = text[at];
        std::size_t start = at;
        bool ok = c == '"' ? string() : c == '-' || is_digit(c) ? number() : literal();
        if (ok && at < text.size() && c != '"' && !is_blank(text[at]) && text[at] != ',' &&
            text[at] != ']' && text[at] != '}') {
            return fail(is_digit(c) || c == '-' ? "invalid number" : "invalid value", start);
        }
        return ok;
    }

    /// A key, its colon and the blanks after them, at `at` (the blanks before are skipped).
    bool key() noexcept {
        at = skip_blanks(text, at);
        if (at >= text.size() || text[at] != '"') {
            return fail("expected a string as object key", at);
        }
        if (!string()) {
            return false;
        }
        at = skip_blanks(text, at);
        if (at >= text.size() || text[at] != ':') {
            return fail("expected ':' after an object key", at);
        }
        at = skip_blanks(text, at + 1);
        return true;
    }
};

}  // namespace

JsonValidator::JsonValidator(std::size_t depth_max) : _depth_max(depth_max) {
    _stack.reserve(depth_max);
}

namespace {

/// One step of `JsonValidator::validate` where a value is due at `scan.at`: opens a container
/// (and reads its first key) or reads a scalar. Returns whether a value is still due.
bool value_step(Scan& scan, std::vector<std::uint8_t>& stack, std::size_t depth_max) {
    std::string_view text = scan.text;
    if (scan.at >= text.size()) {
        return scan.fail("unexpected end of the text: a value is missing", scan.at);
    }
    char c = text[scan.at];
    if (c != '{' && c != '[') {
        if (c == ']' || c == '}' || c == ',' || c == ':') {
            return scan.fail("expected a value", scan.at);
        }
        (void)scan.scalar();
        return false;
    }
    if (stack.size() == depth_max) {
        return scan.fail("nesting deeper than the depth limit", scan.at);
    }
    stack.push_back(static_cast<std::uint8_t>(c));
    scan.at = skip_blanks(text, scan.at + 1);
    if (scan.at < text.size() && text[scan.at] == (c == '{' ? '}' : ']')) {
        stack.pop_back();
        ++scan.at;
        return false;
    }
    if (c == '{') {
        (void)scan.key();
    }
    return true;
}

/// One step after a value: a `,` (then the next key) or a closing bracket, or the end of the
/// text after the root value. Returns whether a value is due next; `done` at the end.
bool separator_step(Scan& scan, std::vector<std::uint8_t>& stack, bool& done) {
    std::string_view text = scan.text;
    scan.at = skip_blanks(text, scan.at);
    if (stack.empty()) {
        done = true;
        return scan.at == text.size() || scan.fail("text after the end of the JSON value", scan.at);
    }
    char c = scan.at < text.size() ? text[scan.at] : '\0';
    bool in_object = stack.back() == '{';
    if (c == ',') {
        ++scan.at;
        if (in_object) {
            (void)scan.key();
        } else {
            scan.at = skip_blanks(text, scan.at);
        }
        return true;
    }
    if (c == (in_object ? '}' : ']')) {
        stack.pop_back();
        ++scan.at;
        return false;
    }
    return scan.fail(
        in_object ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array",
        scan.at);
}

}  // namespace

bool JsonValidator::validate(std::string_view text, JsonScanError& error) {
    if (!simdjson::validate_utf8(text.data(), text.size())) {
        error = {"invalid UTF-8", 0};
        return false;
    }
    Scan scan{.text = text};
    _stack.clear();
    scan.at = skip_blanks(text, 0);
    bool need_value = true;
    bool done = false;
    while (!scan.failed && !done) {
        need_value =
            need_value ? value_step(scan, _stack, _depth_max) : separator_step(scan, _stack, done);
    }
    error = scan.error;
    return !scan.failed;
}

std::size_t skip_json_value(std::string_view text, std::size_t at) noexcept {
    std::size_t depth = 0;
    while (at < text.size()) {
        char c = text[at];
        if (c == '"') {
            // The closing quote: the first one not escaped by an odd run of backslashes.
            std::size_t from = at + 1;
            for (;;) {
                const void* quote = std::memchr(text.data() + from, '"', text.size() - from);
                PGINGEST_ASSERT(quote != nullptr);  // validated text
                std::size_t end =
                    static_cast<std::size_t>(static_cast<const char*>(quote) - text.data());
                std::size_t slashes = 0;
                while (end - slashes > from && text[end - slashes - 1] == '\\') {
                    ++slashes;
                }
                from = end + 1;
                if (slashes % 2 == 0) {
                    break;
                }
            }
            at = from;
        } else if (c == '{' || c == '[') {
            ++depth;
            ++at;
        } else if (depth == 0 && (c == ',' || c == '}' || c == ']' || is_blank(c))) {
            return at;  // the end of a scalar
        } else if (c == '}' || c == ']') {
            --depth;
            ++at;
        } else {
            ++at;
        }
        if (depth == 0 && (c == '"' || c == '}' || c == ']')) {
            return at;
        }
    }
    return at;
}

JsonMemberCursor::JsonMemberCursor(std::string_view object) noexcept : _text(object), _at(1) {
    PGINGEST_ASSERT(!object.empty() && object.front() == '{');
}

bool JsonMemberCursor::next(std::string_view& raw_key, std::string_view& value) noexcept {
    _at = skip_blanks(_text, _at);
    if (_at >= _text.size() || _text[_at] == '}') {
        return false;
    }
    if (_text[_at] == ',') {
        _at = skip_blanks(_text, _at + 1);
    }
    std::size_t key_end = skip_json_value(_text, _at);
    raw_key = _text.substr(_at + 1, key_end - _at - 2);
    _at = skip_blanks(_text, key_end);
    PGINGEST_ASSERT(_at < _text.size() && _text[_at] == ':');
    _at = skip_blanks(_text, _at + 1);
    std::size_t end = skip_json_value(_text, _at);
    value = _text.substr(_at, end - _at);
    _at = end;
    return true;
}

JsonElementCursor::JsonElementCursor(std::string_view array) noexcept : _text(array), _at(1) {
    PGINGEST_ASSERT(!array.empty() && array.front() == '[');
}

bool JsonElementCursor::next(std::string_view& value) noexcept {
    _at = skip_blanks(_text, _at);
    if (_at >= _text.size() || _text[_at] == ']') {
        return false;
    }
    if (_text[_at] == ',') {
        _at = skip_blanks(_text, _at + 1);
    }
    std::size_t end = skip_json_value(_text, _at);
    value = _text.substr(_at, end - _at);
    _at = end;
    return true;
}

namespace {

unsigned hex_value(std::string_view four) noexcept {
    unsigned value = 0;
    for (char c : four) {
        unsigned digit = is_digit(c)              ? static_cast<unsigned>(c - '0')
                         : (c >= 'a' && c <= 'f') ? static_cast<unsigned>(c - 'a' + 10)
                                                  : static_cast<unsigned>(c - 'A' + 10);
        value = value * 16 + digit;
    }
    return value;
}

}  // namespace

std::size_t decode_json_escapes(std::string_view raw, char* out, LoneSurrogate lone) noexcept {
    constexpr std::string_view from = "bfnrt";
    constexpr std::string_view to = "\b\f\n\r\t";
    std::size_t written = 0;
    std::size_t at = 0;
    while (at < raw.size()) {
        std::size_t slash = raw.find('\\', at);
        std::size_t plain = (slash == std::string_view::npos ? raw.size() : slash) - at;
        std::memcpy(out + written, raw.data() + at, plain);
        written += plain;
        if (slash == std::string_view::npos) {
            break;
        }
        char kind = raw[slash + 1];
        at = slash + 2;
        if (kind != 'u') {
            std::size_t index = from.find(kind);
            out[written++] = index == std::string_view::npos ? kind : to[index];
            continue;
        }
        unsigned code = hex_value(raw.substr(at, 4));
        at += 4;
        if (code >= 0xD800 && code <= 0xDBFF && raw.substr(at, 2) == "\\u") {
            unsigned low = hex_value(raw.substr(at + 2, 4));
            if (low >= 0xDC00 && low <= 0xDFFF) {
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                at += 6;
            }
        }
        if (code >= 0xD800 && code <= 0xDFFF) {
            if (lone == LoneSurrogate::refuse) {
                return std::string_view::npos;
            }
            code = 0xFFFD;
        }
        written += encode_utf8(out + written, static_cast<char32_t>(code));
    }
    return written;
}

void unescape_json_string(std::string_view raw, std::string& out) {
    std::size_t base = out.size();
    out.resize(base + raw.size());
    std::size_t written = decode_json_escapes(raw, out.data() + base, LoneSurrogate::replace);
    out.resize(base + written);
}

std::size_t unescape_json_string_into(std::string_view raw, char* out) noexcept {
    return decode_json_escapes(raw, out, LoneSurrogate::refuse);
}

}  // namespace pgingest::detail
