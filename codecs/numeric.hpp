#pragma once

// PostgreSQL `numeric` in binary COPY (FORMATS.md §2.2). Reader: backend/utils/adt/numeric.c
// numeric_recv(); the bytes we write are those of numeric_send() for the same value, except
// ±Infinity (see below).
//
//   [ndigits:u16][weight:i16][sign:u16][dscale:u16][digit:i16 × ndigits]
//
//   value  = Σ digit[i] · 10000^(weight − i), each digit 0..9999, no leading/trailing zero digits
//   sign   = 0x0000 positive, 0x4000 negative, 0xC000 NaN, 0xD000 +Infinity, 0xF000 −Infinity
//   dscale = decimal digits shown after the point, 0..16383
//
// ±Infinity: numeric_send emits dscale 0x0020 (an artefact of its short-header bits); we send
// dscale 0, which numeric_recv ignores for special values (FORMATS.md §2.2 "Reader pitfall").

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// What a parsed numeric is: a finite number or one of the three special values.
enum class NumericKind : std::uint8_t { finite, nan, pos_infinity, neg_infinity };

/// A decimal number parsed by `parse_numeric`, ready to encode without further checks.
///
/// A view into the parsed text: `digits` must outlive the value. `digits` runs from the first to
/// the last non-zero digit and may contain one '.'; empty for zero and for special values.
struct NumericText {
    NumericKind kind = NumericKind::finite;
    bool negative = false;           ///< sign of a non-zero finite value
    std::string_view digits;         ///< significant digits, possibly with one '.'
    std::int64_t first_exponent = 0; ///< decimal exponent of the first character of `digits`
    std::int16_t weight = 0;         ///< base-10000 exponent of the first numeric digit
    std::uint16_t ndigits = 0;       ///< base-10000 digits on the wire
    std::uint16_t dscale = 0;        ///< decimal digits after the point, 0..16383
};

/// Largest dscale numeric can store (NUMERIC_DSCALE_MAX, numeric.c).
inline constexpr std::uint16_t numeric_dscale_max = 16383;

/// Field bytes (length prefix included) that `encode_numeric_text` writes at most for a text of
/// `text_bytes` bytes: 4 + 8 + 2 per base-10000 digit.
[[nodiscard]] constexpr std::size_t numeric_text_encoded_size_max(std::size_t text_bytes) {
    return 4 + 8 + 2 * (text_bytes / 4 + 2);
}

/// Field bytes `encode_numeric(out, std::int64_t)` writes at most (five base-10000 digits).
inline constexpr std::size_t numeric_int64_encoded_size_max = 4 + 8 + 2 * 5;

/// Field bytes `encode_numeric(out, double)` writes at most.
inline constexpr std::size_t numeric_double_encoded_size_max = numeric_text_encoded_size_max(32);

/// Parses decimal text the way PostgreSQL 15 numeric_in() does (numeric.c numeric_in,
/// set_var_from_str): optional leading/trailing whitespace; "NaN", "Infinity", "+Infinity",
/// "-Infinity", "inf", "+inf", "-inf" in any case; otherwise an optional sign, digits with at
/// most one '.' (".5" and "5." are fine), and an optional exponent `e`/`E` read like strtol
/// (whitespace and a sign may follow the `e`). dscale = fraction digits − exponent, at least 0.
///
/// Errors: `Errc::invalid_numeric` at the offending byte (server: 22P02 invalid input syntax);
/// `Errc::numeric_out_of_range` at the number's first byte when the weight leaves int16
/// (1e131072 and above) or dscale exceeds 16383 (1e-16384), or at the `e` when |exponent| ≥
/// 1073741823 (server: 22003 value overflows numeric format). Syntax is checked first, as
/// numeric_in does, except for the exponent limit.
/// Pure, any thread, no allocation; `out` views `text`.
[[nodiscard]] Status parse_numeric(std::string_view text, NumericText& out);

/// Appends a numeric field for a value from `parse_numeric`. Does not fail.
/// Pure, any thread; allocates only if `out` must grow.
void encode_numeric(ByteBuffer& out, const NumericText& value);

/// Parses `text` (see `parse_numeric`) and appends its numeric field; on error appends nothing.
[[nodiscard]] Status encode_numeric_text(ByteBuffer& out, std::string_view text);

/// Appends a numeric field holding the integer `value` (dscale 0). Does not fail.
void encode_numeric(ByteBuffer& out, std::int64_t value);

/// Appends a numeric field for `value` written as its shortest round-trip decimal text
/// (std::to_chars), e.g. 0.1 → `0.1` with dscale 1; NaN → NaN, ±inf → ±Infinity. Does not fail.
void encode_numeric(ByteBuffer& out, double value);

}  // namespace pgingest
