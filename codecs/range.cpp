#include "codecs/range.hpp"

namespace pgingest {

namespace {

// The server's isspace() in the C locale: the characters range_parse and multirange_in skip.
bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool starts_with_empty(std::string_view text) noexcept {
    constexpr std::string_view word = "empty";
    if (text.size() < word.size()) {
        return false;
    }
    for (std::size_t i = 0; i < word.size(); i++) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if (c != word[i]) {
            return false;
        }
    }
    return true;
}

Status range_error(std::size_t at) noexcept {
    return Status{Errc::invalid_range, static_cast<std::uint32_t>(at)};
}

// range_parse_bound: from `at`, one bound up to ',' ')' or ']' outside quotes. Sets `infinite`
// when the bound is empty (not even ""), and returns the offset of the stop character.
Status parse_bound(std::string_view text, std::size_t& at, std::string& bound, bool& infinite) {
    bound.clear();
    auto stop = [](char c) { return c == ',' || c == ')' || c == ']'; };
    infinite = at < text.size() && stop(text[at]);
    if (infinite) {
        return Status{};
    }
    bool in_quote = false;
    while (at < text.size() && (in_quote || !stop(text[at]))) {
        char c = text[at++];
        if (c == '\\') {
            if (at >= text.size()) {
                return range_error(at);
            }
            bound += text[at++];
        } else if (c == '"') {
            if (!in_quote) {
                in_quote = true;
            } else if (at < text.size() && text[at] == '"') {
                bound += '"';
                at++;
            } else {
                in_quote = false;
            }
        } else {
            bound += c;
        }
    }
    return at < text.size() ? Status{} : range_error(at);
}

void skip_spaces(std::string_view text, std::size_t& at) noexcept {
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
}

}  // namespace

std::uint8_t range_flags(bool empty, bool lower_infinite, bool lower_inclusive,
                         bool upper_infinite, bool upper_inclusive) noexcept {
    if (empty) {
        return range_flag::empty;
    }
    const int lower =
        lower_infinite ? range_flag::lower_inf : (lower_inclusive ? range_flag::lower_inc : 0);
    const int upper =
        upper_infinite ? range_flag::upper_inf : (upper_inclusive ? range_flag::upper_inc : 0);
    return static_cast<std::uint8_t>(lower | upper);
}

FieldStart begin_range(ByteBuffer& out, std::uint8_t flags) {
    FieldStart start = begin_field(out);
    out.put_u8(flags);
    return start;
}

Status end_range(ByteBuffer& out, FieldStart start) { return end_field(out, start); }

FieldStart begin_multirange(ByteBuffer& out) {
    FieldStart start = begin_field(out);
    out.put_u32(0);
    return start;
}

Status end_multirange(ByteBuffer& out, FieldStart start, std::uint32_t range_count) {
    ByteBuffer::store_be(out.data() + start.length_offset + 4, range_count);
    return end_field(out, start);
}

Status parse_range_text(std::string_view text, RangeText& out) {
    out.flags = 0;
    std::size_t at = 0;
    skip_spaces(text, at);
    if (starts_with_empty(text.substr(at))) {
        at += 5;
        skip_spaces(text, at);
        out.flags = range_flag::empty;
        out.lower.clear();
        out.upper.clear();
        return at == text.size() ? Status{} : range_error(at);
    }
    if (at >= text.size() || (text[at] != '[' && text[at] != '(')) {
        return range_error(at);
    }
    out.flags = static_cast<std::uint8_t>(
        out.flags | (text[at++] == '[' ? range_flag::lower_inc : 0));
    bool infinite = false;
    Status status = parse_bound(text, at, out.lower, infinite);
    if (!status.ok()) {
        return status;
    }
    out.flags = static_cast<std::uint8_t>(out.flags | (infinite ? range_flag::lower_inf : 0));
    if (text[at] != ',') {
        return range_error(at);
    }
    at++;
    status = parse_bound(text, at, out.upper, infinite);
    if (!status.ok()) {
        return status;
    }
    out.flags = static_cast<std::uint8_t>(out.flags | (infinite ? range_flag::upper_inf : 0));
    if (text[at] != ']' && text[at] != ')') {
        return range_error(at);  // a second ',': "Too many commas."
    }
    out.flags = static_cast<std::uint8_t>(
        out.flags | (text[at++] == ']' ? range_flag::upper_inc : 0));
    skip_spaces(text, at);
    return at == text.size() ? Status{} : range_error(at);
}

namespace {

enum class MultirangeState : std::uint8_t {
    before_range,
    in_range,
    in_range_escaped,
    in_range_quoted,
    in_range_quoted_escaped,
    after_range,
};

}  // namespace

Status split_multirange_text(std::string_view text, std::vector<std::string_view>& ranges) {
    ranges.clear();
    auto error = [](std::size_t at) {
        return Status{Errc::invalid_multirange, static_cast<std::uint32_t>(at)};
    };
    std::size_t at = 0;
    skip_spaces(text, at);
    if (at >= text.size() || text[at] != '{') {
        return error(at);
    }
    using State = MultirangeState;
    State state = State::before_range;
    std::size_t range_start = 0;
    bool seen = false;
    for (at++;; at++) {
        if (at >= text.size()) {
            return error(at);
        }
        char c = text[at];
        if (is_space(c)) {
            continue;
        }
        if (state == State::before_range) {
            if (c == '[' || c == '(') {
                range_start = at;
                state = State::in_range;
            } else if (c == '}' && !seen) {
                break;
            } else if (starts_with_empty(text.substr(at))) {
                seen = true;  // multirange_in drops empty ranges
                at += 4;
                state = State::after_range;
            } else {
                return error(at);
            }
        } else if (state == State::in_range) {
            if (c == ']' || c == ')') {
                ranges.push_back(text.substr(range_start, at - range_start + 1));
                seen = true;
                state = State::after_range;
            } else if (c == '"') {
                state = State::in_range_quoted;
            } else if (c == '\\') {
                state = State::in_range_escaped;
            }
        } else if (state == State::in_range_escaped) {
            state = State::in_range;
        } else if (state == State::in_range_quoted) {
            if (c == '"' && at + 1 < text.size() && text[at + 1] == '"') {
                at++;
            } else if (c == '"') {
                state = State::in_range;
            } else if (c == '\\') {
                state = State::in_range_quoted_escaped;
            }
        } else if (state == State::in_range_quoted_escaped) {
            state = State::in_range_quoted;
        } else if (c == ',') {
            state = State::before_range;
        } else if (c == '}') {
            break;
        } else {
            return error(at);
        }
    }
    at++;
    skip_spaces(text, at);
    return at == text.size() ? Status{} : error(at);
}

}  // namespace pgingest
