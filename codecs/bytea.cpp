#include "codecs/bytea.hpp"

#include "codecs/copy_binary.hpp"
#include "codecs/detail/hex.hpp"

namespace pgingest {

namespace {

using detail::hex_value;

Status fail(Errc code, std::size_t at) { return Status{code, static_cast<std::uint32_t>(at)}; }

// The whitespace hex_decode skips between pairs (not isspace: no \v, no \f).
bool hex_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

bool octal_digit(char c, char highest) noexcept { return c >= '0' && c <= highest; }

// Checks the hex format after "\x" and counts the bytes it decodes to.
Status check_hex(std::string_view text, std::size_t& size_bytes) {
    size_bytes = 0;
    for (std::size_t at = 2; at < text.size();) {
        if (hex_space(text[at])) {
            at++;
            continue;
        }
        if (hex_value(text[at]) < 0) {
            return fail(text[at] == '\0' ? Errc::nul_in_text : Errc::bytea_invalid_hex_digit, at);
        }
        if (at + 1 >= text.size()) {
            return fail(Errc::bytea_odd_hex_digits, at);
        }
        if (hex_value(text[at + 1]) < 0) {
            return fail(text[at + 1] == '\0' ? Errc::nul_in_text : Errc::bytea_invalid_hex_digit,
                        at + 1);
        }
        at += 2;
        size_bytes++;
    }
    return Status{};
}

// Checks the escape format (byteain's first loop) and counts the bytes it decodes to.
Status check_escape(std::string_view text, std::size_t& size_bytes) {
    size_bytes = 0;
    for (std::size_t at = 0; at < text.size(); size_bytes++) {
        if (text[at] == '\0') {
            return fail(Errc::nul_in_text, at);
        }
        if (text[at] != '\\') {
            at++;
        } else if (at + 3 < text.size() && octal_digit(text[at + 1], '3') &&
                   octal_digit(text[at + 2], '7') && octal_digit(text[at + 3], '7')) {
            at += 4;
        } else if (at + 1 < text.size() && text[at + 1] == '\\') {
            at += 2;
        } else {
            return fail(Errc::invalid_bytea, at);
        }
    }
    return Status{};
}

void decode_hex(std::string_view text, char* to) noexcept {
    for (std::size_t at = 2; at < text.size();) {
        if (hex_space(text[at])) {
            at++;
            continue;
        }
        *to++ = static_cast<char>(hex_value(text[at]) << 4 | hex_value(text[at + 1]));
        at += 2;
    }
}

void decode_escape(std::string_view text, char* to) noexcept {
    for (std::size_t at = 0; at < text.size();) {
        if (text[at] != '\\') {
            *to++ = text[at++];
        } else if (text[at + 1] == '\\') {
            *to++ = '\\';
            at += 2;
        } else {
            *to++ = static_cast<char>((text[at + 1] - '0') << 6 | (text[at + 2] - '0') << 3 |
                                      (text[at + 3] - '0'));
            at += 4;
        }
    }
}

}  // namespace

Status encode_bytea_text(ByteBuffer& out, std::string_view text) {
    // byteain: "\x" starts the hex format; "\X" and anything else is the escape format.
    const bool hex = text.size() >= 2 && text[0] == '\\' && text[1] == 'x';
    std::size_t size_bytes = 0;
    Status status = hex ? check_hex(text, size_bytes) : check_escape(text, size_bytes);
    if (!status.ok()) {
        return status;
    }
    if (size_bytes > copy_field_size_max) {
        return fail(Errc::field_too_large, 0);
    }
    out.put_i32(static_cast<std::int32_t>(size_bytes));
    char* to = out.extend(size_bytes);
    if (hex) {
        decode_hex(text, to);
    } else {
        decode_escape(text, to);
    }
    return Status{};
}

}  // namespace pgingest
