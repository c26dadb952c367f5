#include "codecs/contrib.hpp"

#include "codecs/text.hpp"
#include "codecs/utf8.hpp"

namespace pgingest {

FieldStart begin_hstore(ByteBuffer& out) {
    FieldStart start = begin_field(out);
    out.put_u32(0);
    return start;
}

Status put_hstore_pair(ByteBuffer& out, std::string_view key, const std::string_view* value) {
    const std::size_t start = out.size();
    Status status = encode_text(out, key);
    if (status.ok() && value != nullptr) {
        status = encode_text(out, *value);
    } else if (status.ok()) {
        put_null(out);
    }
    if (!status.ok()) {
        out.truncate(start);
    }
    return status;
}

Status end_hstore(ByteBuffer& out, FieldStart start, std::uint32_t pair_count) {
    ByteBuffer::store_be(out.data() + start.length_offset + 4, pair_count);
    return end_field(out, start);
}

namespace {

// scanner_isspace: the whitespace hstore_in skips.
bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Status hstore_error(std::size_t at) noexcept {
    return Status{Errc::invalid_hstore, static_cast<std::uint32_t>(at)};
}

// get_val: one key (is_value false: '=' ends it) or value (',' ends it) from `at`, after
// skipping whitespace, appended to out.chars. `found` is false at the end of the text.
Status hstore_word(std::string_view text, std::size_t& at, bool is_value, HstoreText& out,
                   bool& found, bool& quoted) {
    found = false;
    quoted = false;
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    if (at >= text.size()) {
        return Status{};
    }
    found = true;
    if (text[at] == '"') {
        quoted = true;
        for (at++; at < text.size() && text[at] != '"'; at++) {
            if (text[at] == '\\' && ++at >= text.size()) {
                break;
            }
            out.chars += text[at];
        }
        if (at >= text.size()) {
            return hstore_error(at);
        }
        at++;
        return Status{};
    }
    if (text[at] == '=' && !is_value) {
        return hstore_error(at);
    }
    for (; at < text.size() && !is_space(text[at]); at++) {
        const char c = text[at];
        if ((c == '=' && !is_value) || (c == ',' && is_value)) {
            break;
        }
        if (c == '\\' && ++at >= text.size()) {
            return hstore_error(at);
        }
        out.chars += text[at];
    }
    return Status{};
}

bool is_null_word(std::string_view word) noexcept {
    if (word.size() != 4) {
        return false;
    }
    for (std::size_t i = 0; i < 4; i++) {
        if ((word[i] | 0x20) != "null"[i]) {
            return false;
        }
    }
    return true;
}

// Skips whitespace, then expects `expected` at `at`.
Status expect_char(std::string_view text, std::size_t& at, char expected) {
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    if (at >= text.size() || text[at] != expected) {
        return hstore_error(at);
    }
    at++;
    return Status{};
}

}  // namespace

Status parse_hstore_text(std::string_view text, HstoreText& out) {
    out.chars.clear();
    out.pairs.clear();
    std::size_t at = 0;
    for (;;) {
        HstoreText::Pair pair;
        pair.key_offset = static_cast<std::uint32_t>(out.chars.size());
        bool found = false;
        bool quoted = false;
        Status status = hstore_word(text, at, false, out, found, quoted);
        if (!status.ok() || !found) {
            return status;  // the end where a key would start: done (a trailing ',' is fine)
        }
        pair.key_length = static_cast<std::uint32_t>(out.chars.size() - pair.key_offset);
        status = expect_char(text, at, '=');
        if (status.ok() && (at >= text.size() || text[at] != '>')) {
            status = hstore_error(at);
        }
        if (!status.ok()) {
            return status;
        }
        at++;
        pair.value_offset = static_cast<std::uint32_t>(out.chars.size());
        status = hstore_word(text, at, true, out, found, quoted);
        if (!status.ok() || !found) {
            return status.ok() ? hstore_error(at) : status;
        }
        pair.value_length = static_cast<std::int32_t>(out.chars.size() - pair.value_offset);
        if (!quoted && is_null_word(std::string_view(out.chars).substr(pair.value_offset))) {
            out.chars.resize(pair.value_offset);
            pair.value_length = -1;
        }
        out.pairs.push_back(pair);
        while (at < text.size() && is_space(text[at])) {
            at++;
        }
        if (at >= text.size()) {
            return Status{};
        }
        if (text[at] != ',') {
            return hstore_error(at);
        }
        at++;
    }
}

Status encode_ltree(ByteBuffer& out, std::string_view text) {
    Status status = validate_text(text);
    if (!status.ok()) {
        return status;
    }
    if (text.size() + 1 > copy_field_size_max) {
        return Status{Errc::field_too_large, 0};
    }
    out.put_u32(static_cast<std::uint32_t>(text.size() + 1));
    out.put_u8(1);
    out.put_bytes(text);
    return Status{};
}

}  // namespace pgingest
