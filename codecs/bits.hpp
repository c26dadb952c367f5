#pragma once

// bit(n) and bit varying(n) in binary COPY (FORMATS.md §2.10).
//
//   bit, varbit : [bitlen:i32][data:u8 × ⌈bitlen/8⌉]   most significant bit first, pad bits 0
//
// Reader: backend/utils/adt/varbit.c bit_recv (bitlen must equal the typmod n of bit(n):
// 22026 "bit string length %d does not match type bit(%d)") and varbit_recv (bitlen ≤ n:
// 22001 "bit string too long for type bit varying(%d)"). Writers: bit_send / varbit_send.
// Text input follows varbit.c bit_in / varbit_in: an optional leading `B`/`b` (binary digits)
// or `X`/`x` (hex digits, 4 bits each); no whitespace. The length is checked before the digits.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Field bytes `encode_bit_text` writes at most for `text` (length prefix included). Pure.
[[nodiscard]] constexpr std::size_t bit_encoded_size_max(std::size_t text_size) noexcept {
    return 4 + 4 + (text_size * 4 + 7) / 8;
}

/// Parses `text` as bit_in for a bit(`typmod`) column (`typmod` ≤ 0: any length, as bit_in
/// without a typmod) and appends the field. Errors, buffer unchanged:
/// `Errc::bit_length_mismatch` (no position) when the length differs from `typmod`;
/// `Errc::bit_invalid_binary_digit` / `Errc::bit_invalid_hex_digit` at the first bad digit
/// (server: 22P02 "x" is not a valid binary/hexadecimal digit). May grow `out`.
[[nodiscard]] Status encode_bit_text(ByteBuffer& out, std::string_view text, std::int32_t typmod);

/// As `encode_bit_text` for bit varying(`typmod`): `Errc::varbit_too_long` when the length is
/// above `typmod` (`typmod` ≤ 0: unlimited).
[[nodiscard]] Status encode_varbit_text(ByteBuffer& out, std::string_view text,
                                        std::int32_t typmod);

}  // namespace pgingest
