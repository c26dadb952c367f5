#include "codecs/array_text.hpp"

namespace pgingest {

namespace {

// array_isspace: the characters array_in skips.
bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

Status at_byte(Errc code, std::size_t at) noexcept {
    return Status{code, static_cast<std::uint32_t>(at)};
}

bool is_null_word(std::string_view text) noexcept {
    constexpr std::string_view word = "null";
    if (text.size() != word.size()) {
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

// One element from `at` (not '{'): quoted or unquoted, appended to out.chars.
Status parse_element(std::string_view text, std::size_t& at, ArrayText& out) {
    const std::size_t offset = out.chars.size();
    if (text[at] == '"') {
        for (at++;; at++) {
            if (at >= text.size()) {
                return at_byte(Errc::invalid_array_text, at);
            }
            char c = text[at];
            if (c == '\\') {
                if (++at >= text.size()) {
                    return at_byte(Errc::invalid_array_text, at);
                }
                out.chars += text[at];
            } else if (c == '"') {
                at++;
                break;
            } else {
                out.chars += c;
            }
        }
        out.elements.push_back({static_cast<std::uint32_t>(offset),
                                static_cast<std::int32_t>(out.chars.size() - offset)});
        return Status{};
    }
    std::size_t significant = offset;  // chars up to the last one that is not plain whitespace
    bool escaped = false;
    for (; at < text.size() && text[at] != ',' && text[at] != '}'; at++) {
        char c = text[at];
        if (c == '\\') {
            if (++at >= text.size()) {
                return at_byte(Errc::invalid_array_text, at);
            }
            out.chars += text[at];
            significant = out.chars.size();
            escaped = true;
        } else if (c == '"' || c == '{') {
            return at_byte(Errc::invalid_array_text, at);
        } else {
            out.chars += c;
            significant = is_space(c) ? significant : out.chars.size();
        }
    }
    out.chars.resize(significant);
    std::string_view element = std::string_view(out.chars).substr(offset);
    if (element.empty() && !escaped) {
        return at_byte(Errc::invalid_array_text, at);  // '{1,,2}': an empty unquoted element
    }
    std::int32_t length = static_cast<std::int32_t>(element.size());
    if (!escaped && is_null_word(element)) {
        out.chars.resize(offset);
        length = -1;
    }
    out.elements.push_back({static_cast<std::uint32_t>(offset), length});
    return Status{};
}

enum class Expect : std::uint8_t { value_or_close, value, comma_or_close };

// Where the parse is: the open brace levels and the elements counted in each.
struct Nesting {
    std::size_t level = 1;
    std::size_t counts[array_dimensions_max + 1] = {};
    bool known[array_dimensions_max] = {};
};

// A '}' after an element or sub-array: the level's length must equal its siblings'.
Status close_level(Nesting& nesting, std::size_t at, ArrayText& out) {
    const std::size_t dim = nesting.level - 1;
    const std::size_t count = nesting.counts[nesting.level];
    if (nesting.known[dim] && out.dims[dim] != count) {
        return at_byte(Errc::array_ragged, at);
    }
    nesting.known[dim] = true;
    out.dims[dim] = static_cast<std::uint32_t>(count);
    if (--nesting.level > 0) {
        nesting.counts[nesting.level]++;
    }
    return Status{};
}

}  // namespace

Status parse_array_text(std::string_view text, ArrayText& out) {
    out.chars.clear();
    out.elements.clear();
    out.rank = 0;
    Nesting nesting;
    std::size_t at = 0;
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    if (at >= text.size() || text[at] != '{') {
        return at_byte(Errc::invalid_array_text, at);
    }
    Expect expect = Expect::value_or_close;
    for (at++; nesting.level > 0;) {
        while (at < text.size() && is_space(text[at])) {
            at++;
        }
        if (at >= text.size()) {
            return at_byte(Errc::invalid_array_text, at);
        }
        const char c = text[at];
        Status status{};
        if (expect == Expect::value_or_close && c == '}') {
            if (nesting.level != 1 || out.rank != 0) {
                return at_byte(Errc::invalid_array_text, at);  // '{{},{}}'
            }
            nesting.level = 0;  // '{}'
        } else if (expect != Expect::comma_or_close && c == '{') {
            if (out.rank != 0 && nesting.level >= out.rank) {
                return at_byte(Errc::array_ragged, at);
            }
            if (nesting.level == array_dimensions_max) {
                return at_byte(Errc::array_too_many_dims, at);
            }
            nesting.counts[++nesting.level] = 0;
            expect = Expect::value_or_close;
        } else if (expect != Expect::comma_or_close) {
            if (out.rank != 0 && nesting.level != out.rank) {
                return at_byte(Errc::array_ragged, at);
            }
            out.rank = nesting.level;
            status = parse_element(text, at, out);
            nesting.counts[nesting.level]++;
            expect = Expect::comma_or_close;
            if (!status.ok()) {
                return status;
            }
            continue;  // parse_element moved past the element
        } else if (c == ',') {
            expect = Expect::value;
        } else if (c == '}') {
            status = close_level(nesting, at, out);
        } else {
            status = at_byte(Errc::invalid_array_text, at);
        }
        if (!status.ok()) {
            return status;
        }
        at++;
    }
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    return at == text.size() ? Status{} : at_byte(Errc::invalid_array_text, at);
}

}  // namespace pgingest
