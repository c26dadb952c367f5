#pragma once

// bytea from its text input (varlena.c byteain, PostgreSQL 15), for values given as text (a
// JSON string into a bytea column, an element of a bytea[] literal, a composite field). The
// field is the decoded bytes, the layout bytearecv reads (FORMATS.md §2.5):
//
//   bytea : [length:i32][bytes:length]
//
// byteain reads two formats:
//   hex    : `\x` (lowercase x) then pairs of hex digits, either case; space, tab, CR and LF
//            may stand between pairs, never inside one (encode.c hex_decode, get_hex).
//   escape : anything else; `\\` is one backslash, `\ooo` with o₁ in 0..3 and o₂, o₃ in 0..7
//            is the byte of that octal value, any other backslash is an error, and every other
//            byte stands for itself.
// A NUL cannot reach byteain (its input is a C string), so it is refused here.

#include <cstddef>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Bytes `encode_bytea_text` appends for `text_size_bytes` bytes of input, length prefix
/// included (the escape format never grows its input). Pure.
constexpr std::size_t bytea_text_encoded_size_max(std::size_t text_size_bytes) noexcept {
    return 4 + text_size_bytes;
}

/// Appends the bytea field of `text` read as byteain reads it (varlena.c byteain, encode.c
/// hex_decode). Errors, buffer unchanged, position = byte offset into `text`:
/// - `Errc::bytea_invalid_hex_digit` at a byte of the hex format that is not a hex digit
///   (server: 22023 invalid hexadecimal digit);
/// - `Errc::bytea_odd_hex_digits` at the lone last digit (server: 22023 invalid hexadecimal
///   data: odd number of digits);
/// - `Errc::invalid_bytea` at a backslash of the escape format followed by neither a backslash
///   nor three octal digits up to \377 (server: 22P02 invalid input syntax for type bytea);
/// - `Errc::nul_in_text` at a NUL byte (the server's text input cannot carry one);
/// - `Errc::field_too_large` (position 0) for a result over `copy_field_size_max` bytes.
/// Allocates only if `out` must grow; pure, any thread.
[[nodiscard]] Status encode_bytea_text(ByteBuffer& out, std::string_view text);

}  // namespace pgingest
