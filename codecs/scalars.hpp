#pragma once

// Fixed-width scalars: bool, int2, int4, int8, float4, float8 (FORMATS.md §2.0–2.1).
//
//   bool   : [length:i32=1][value:u8]       0 = false, 1 = true   utils/adt/bool.c boolrecv
//   int2   : [length:i32=2][value:i16]                             utils/adt/int.c int2recv
//   int4   : [length:i32=4][value:i32]                             utils/adt/int.c int4recv
//   int8   : [length:i32=8][value:i64]                             utils/adt/int8.c int8recv
//   float4 : [length:i32=4][value:f32 IEEE 754 bits]               utils/adt/float.c float4recv
//   float8 : [length:i32=8][value:f64 IEEE 754 bits]               utils/adt/float.c float8recv
//
// All big-endian. The server checks nothing but the length: any bit pattern, including NaN,
// ±Infinity and -0, is stored as sent; boolrecv takes any non-zero byte as true.
//
// Text input is parsed separately (`parse_bool`, `parse_int64`, `parse_double`, ...) with the
// rules of the server's text input functions (boolin, int2in/int4in/int8in, float4in/float8in),
// so a value we accept is a value `'<text>'::type` accepts, and the same value.

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Bytes `encode_bool` appends (length prefix included). Pure.
constexpr std::size_t bool_encoded_size_max() noexcept {
    return 4 + 1;
}
/// Bytes `encode_int2` appends (length prefix included). Pure.
constexpr std::size_t int2_encoded_size_max() noexcept {
    return 4 + 2;
}
/// Bytes `encode_int4` appends (length prefix included). Pure.
constexpr std::size_t int4_encoded_size_max() noexcept {
    return 4 + 4;
}
/// Bytes `encode_int8` appends (length prefix included). Pure.
constexpr std::size_t int8_encoded_size_max() noexcept {
    return 4 + 8;
}
/// Bytes `encode_float4` appends (length prefix included). Pure.
constexpr std::size_t float4_encoded_size_max() noexcept {
    return 4 + 4;
}
/// Bytes `encode_float8` appends (length prefix included). Pure.
constexpr std::size_t float8_encoded_size_max() noexcept {
    return 4 + 8;
}

/// Appends a bool field: length 1, byte 1 or 0 (the bytes boolsend writes; bool.c boolrecv).
/// Does not fail; allocates only if `out` must grow. Any thread, one buffer per thread.
inline void encode_bool(ByteBuffer& out, bool value) {
    char* at = out.extend(bool_encoded_size_max());
    ByteBuffer::store_be(at, std::uint32_t{1});
    at[4] = value ? 1 : 0;
}

/// Appends an int2 field: length 2, big-endian two's complement (int.c int2recv).
/// Does not fail; allocates only if `out` must grow.
inline void encode_int2(ByteBuffer& out, std::int16_t value) {
    char* at = out.extend(int2_encoded_size_max());
    ByteBuffer::store_be(at, std::uint32_t{2});
    ByteBuffer::store_be(at + 4, static_cast<std::uint16_t>(value));
}

/// Appends an int4 field: length 4, big-endian two's complement (int.c int4recv).
/// Does not fail; allocates only if `out` must grow.
inline void encode_int4(ByteBuffer& out, std::int32_t value) {
    char* at = out.extend(int4_encoded_size_max());
    ByteBuffer::store_be(at, std::uint32_t{4});
    ByteBuffer::store_be(at + 4, static_cast<std::uint32_t>(value));
}

/// Appends an int8 field: length 8, big-endian two's complement (int8.c int8recv).
/// Does not fail; allocates only if `out` must grow.
inline void encode_int8(ByteBuffer& out, std::int64_t value) {
    char* at = out.extend(int8_encoded_size_max());
    ByteBuffer::store_be(at, std::uint32_t{8});
    ByteBuffer::store_be(at + 4, static_cast<std::uint64_t>(value));
}

/// Appends a float4 field: length 4, the IEEE 754 binary32 bits big-endian (float.c
/// float4recv). NaN, ±Infinity and -0 are written as they are; the server stores them.
/// Does not fail; allocates only if `out` must grow.
inline void encode_float4(ByteBuffer& out, float value) {
    char* at = out.extend(float4_encoded_size_max());
    ByteBuffer::store_be(at, std::uint32_t{4});
    ByteBuffer::store_be(at + 4, std::bit_cast<std::uint32_t>(value));
}

/// Appends a float8 field: length 8, the IEEE 754 binary64 bits big-endian (float.c
/// float8recv). NaN, ±Infinity and -0 are written as they are; the server stores them.
/// Does not fail; allocates only if `out` must grow.
inline void encode_float8(ByteBuffer& out, double value) {
    char* at = out.extend(float8_encoded_size_max());
    ByteBuffer::store_be(at, std::uint32_t{8});
    ByteBuffer::store_be(at + 4, std::bit_cast<std::uint64_t>(value));
}

/// Appends an int2 field for a wider integer. `Errc::integer_out_of_range` (position 0, buffer
/// unchanged) outside -32768..32767, as the server's int82/int42 casts refuse (22003).
[[nodiscard]] Status encode_int2_checked(ByteBuffer& out, std::int64_t value);

/// Appends an int4 field for a wider integer. `Errc::integer_out_of_range` (position 0, buffer
/// unchanged) outside -2147483648..2147483647 (server: int84, 22003).
[[nodiscard]] Status encode_int4_checked(ByteBuffer& out, std::int64_t value);

/// Appends an int8 field for an unsigned 64-bit integer. `Errc::integer_out_of_range`
/// (position 0, buffer unchanged) above 9223372036854775807.
[[nodiscard]] Status encode_int8_checked(ByteBuffer& out, std::uint64_t value);

/// `value` rounded to nearest float4 as dtof does, in `narrowed`; false (and `narrowed`
/// unspecified) when dtof refuses it: see `encode_float4_checked`. Inline: it runs once per
/// element of every embedding loaded from JSON. Pure.
[[nodiscard]] inline bool narrow_to_float4(double value, float& narrowed) noexcept {
    // 2^128 - 2^103 is halfway between FLT_MAX and 2^128: from there on, round-to-nearest gives
    // Infinity. Checking before the cast keeps the cast defined ([conv.double]).
    constexpr double overflow_from = 0x1.ffffffp+127;
    if (std::isfinite(value) && std::fabs(value) >= overflow_from) [[unlikely]] {
        return false;
    }
    narrowed = static_cast<float>(value);
    return narrowed != 0.0f || value == 0.0;
}

/// True when the double `value` may lie exactly halfway between two floats: rounding it to
/// float then may differ from rounding the decimal it came from (double rounding), so float4
/// needs the number's text. A normal double has 52 fraction bits, a float 23: the 29 dropped
/// bits are 1 then zeros. Doubles in float's subnormal range (which drop more bits) are always
/// said to be halfway: rare enough to take the text always. Pure.
[[nodiscard]] inline bool float_halfway(double value) noexcept {
    auto bits = std::bit_cast<std::uint64_t>(value);
    double magnitude = std::fabs(value);
    if (magnitude < 0x1p-126 && magnitude != 0.0) {
        return true;
    }
    return (bits & ((std::uint64_t{1} << 29) - 1)) == (std::uint64_t{1} << 28);
}

/// Appends a float4 field for a double, rounded to nearest as the server's float8 → float4 cast
/// (float.c dtof) does. `Errc::float_out_of_range` (position 0, buffer unchanged) when a finite
/// value overflows float4 (|value| ≥ 2^128 − 2^103, which would round to Infinity) or a non-zero
/// value underflows to zero (|value| < 2^-150), both of which dtof refuses with 22003. NaN and
/// ±Infinity pass as they are: float4 stores them.
[[nodiscard]] inline Status encode_float4_checked(ByteBuffer& out, double value) {
    float narrowed = 0;
    if (!narrow_to_float4(value, narrowed)) [[unlikely]] {
        return Status{Errc::float_out_of_range, 0};
    }
    encode_float4(out, narrowed);
    return Status{};
}

/// Parses a boolean as boolin (utils/adt/bool.c parse_bool_with_len) does: surrounding
/// whitespace, case-insensitive `true`/`false`/`yes`/`no` or any prefix of them, `on`, `off`
/// (prefix of at least 2 letters, "o" alone is ambiguous), `1`, `0`. `Errc::invalid_bool`
/// with the byte offset of the value (after leading whitespace). Pure, any thread.
[[nodiscard]] Status parse_bool(std::string_view text, bool& value) noexcept;

/// Parses a decimal integer as int8in (common/string.c pg_strtoint64, PG15) does: surrounding
/// whitespace, an optional `+`/`-`, one or more ASCII digits; no underscores, no hex (those are
/// PG16+). `Errc::invalid_integer` at the first byte that does not fit the grammar (the end of
/// the text when a digit is missing); `Errc::integer_out_of_range` at the sign or first digit.
/// Pure, any thread.
[[nodiscard]] Status parse_int64(std::string_view text, std::int64_t& value) noexcept;

/// `parse_int64` for int4 (int4in, pg_strtoint32): out of -2147483648..2147483647 is
/// `Errc::integer_out_of_range` at the sign or first digit.
[[nodiscard]] Status parse_int32(std::string_view text, std::int32_t& value) noexcept;

/// `parse_int64` for int2 (int2in, pg_strtoint16): out of -32768..32767 is
/// `Errc::integer_out_of_range` at the sign or first digit.
[[nodiscard]] Status parse_int16(std::string_view text, std::int16_t& value) noexcept;

/// Parses a float8 as float8in (utils/adt/float.c float8in_internal) does on glibc: surrounding
/// whitespace, an optional sign, decimal with optional exponent, hexadecimal (`0x1.8p1`), and
/// case-insensitive `NaN`, `Infinity`, `inf`. Correctly rounded (std::from_chars).
/// `Errc::invalid_float` at the first byte that does not fit (the end of the text when nothing
/// is there); `Errc::float_out_of_range` at the number's start when it overflows or underflows
/// to zero (`1e400`, `1e-400`; subnormals such as `5e-324` are accepted). Pure, any thread.
[[nodiscard]] Status parse_double(std::string_view text, double& value) noexcept;

/// `parse_double` for float4, rounding the text straight to float as float4in (strtof) does,
/// with float4's range: `3.5e38` and `1e-46` are `Errc::float_out_of_range`.
[[nodiscard]] Status parse_float(std::string_view text, float& value) noexcept;

/// `parse_bool` then `encode_bool`. On error the buffer is unchanged.
[[nodiscard]] Status encode_bool_text(ByteBuffer& out, std::string_view text);
/// `parse_int16` then `encode_int2`. On error the buffer is unchanged.
[[nodiscard]] Status encode_int2_text(ByteBuffer& out, std::string_view text);
/// `parse_int32` then `encode_int4`. On error the buffer is unchanged.
[[nodiscard]] Status encode_int4_text(ByteBuffer& out, std::string_view text);
/// `parse_int64` then `encode_int8`. On error the buffer is unchanged.
[[nodiscard]] Status encode_int8_text(ByteBuffer& out, std::string_view text);
/// `parse_float` then `encode_float4`. On error the buffer is unchanged.
[[nodiscard]] Status encode_float4_text(ByteBuffer& out, std::string_view text);
/// `parse_double` then `encode_float8`. On error the buffer is unchanged.
[[nodiscard]] Status encode_float8_text(ByteBuffer& out, std::string_view text);

}  // namespace pgingest
