#pragma once

// One hex digit's value, shared by the codecs that read hex text (bytea, bit/varbit, uuid,
// inet/macaddr).

namespace pgingest::detail {

/// The value of an ASCII hex digit (0-9, a-f, A-F: isxdigit in the C locale, PostgreSQL's
/// encode.c get_hex), or -1 for any other character (a negative `char` or an end marker of -1
/// included). Pure; any thread.
constexpr int hex_value(int c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace pgingest::detail
