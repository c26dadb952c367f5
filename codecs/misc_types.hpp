#pragma once

// "char", oid, money, pg_lsn, xml and jsonpath in binary COPY.
//
//   "char"   : [byte:u8]                        utils/adt/char.c charrecv / charsend
//   oid      : [value:u32]                      utils/adt/oid.c oidrecv / oidsend
//   money    : [cents:i64]                      utils/adt/cash.c cash_recv / cash_send
//   pg_lsn   : [lsn:u64]                        utils/adt/pg_lsn.c pg_lsn_recv / pg_lsn_send
//   xml      : [UTF-8 text:u8 × n]              utils/adt/xml.c xml_recv / xml_send
//   jsonpath : [version:u8=1][text:u8 × n]      utils/adt/jsonpath.c jsonpath_recv / _send
//
// Text input follows each type's input function: charin, oidin (oidin_subr), cash_in (with the
// C locale's symbols, as the test cluster's lc_monetary C.UTF-8 gives: `$`, `,`, `.`, 2
// fraction digits), pg_lsn_in (pg_lsn_in_internal). xml and jsonpath are sent as text and
// parsed by the server (xml_recv checks well-formedness, jsonpath_recv parses the path): a bad
// document or path is the server's reject at COPY, not ours.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Field bytes of the fixed-size encoders below (length prefix included).
inline constexpr std::size_t char_encoded_size = 4 + 1;
inline constexpr std::size_t oid_encoded_size = 4 + 4;
inline constexpr std::size_t money_encoded_size = 4 + 8;
inline constexpr std::size_t pg_lsn_encoded_size = 4 + 8;

/// Field bytes `encode_xml_text` writes for `text_size` bytes of text. Pure.
[[nodiscard]] constexpr std::size_t xml_encoded_size_max(std::size_t text_size) noexcept {
    return 4 + text_size;
}
/// Field bytes `encode_jsonpath_text` writes for `text_size` bytes of text. Pure.
[[nodiscard]] constexpr std::size_t jsonpath_encoded_size_max(std::size_t text_size) noexcept {
    return 4 + 1 + text_size;
}

/// Parses a "char" as charin does: the empty text is byte 0, `\ooo` (three octal digits) the
/// byte of that value (mod 256), one byte itself. Narrower than charin, which keeps the first
/// byte of a longer text and drops the rest: that is `Errc::char_not_one_byte` at byte 1 here,
/// so nothing is stored other than as written. A NUL byte is `Errc::nul_in_text`. Pure.
[[nodiscard]] Status parse_char(std::string_view text, std::uint8_t& byte);

/// Parses an oid as oidin does (strtoul base 10): optional whitespace, an optional sign,
/// decimal digits, optional whitespace. Values 0..4294967295 are themselves; negative values
/// down to -2147483648 are their int4 bit pattern (-1 is 4294967295), as are the wrapped
/// values strtoul gives for -18446744069414584321..-18446744073709551615.
/// `Errc::invalid_oid` at the offending byte; `Errc::oid_out_of_range` at the first digit.
[[nodiscard]] Status parse_oid(std::string_view text, std::uint32_t& value);

/// Parses money as cash_in does under the C locale: whitespace, an optional `$`, a sign (`-`,
/// `+` or `(`), whitespace and `$` again, digits with `,` ignored anywhere and one `.`, at most
/// 2 fraction digits used, the third rounding half up (away from zero) and further digits
/// ignored; then only whitespace, `)`, `-` (makes it negative), `+` and `$`. An amount without
/// digits is 0. `Errc::invalid_money` at the offending byte; `Errc::money_out_of_range` at 0
/// when the cents leave int8. Pure.
[[nodiscard]] Status parse_money(std::string_view text, std::int64_t& cents);

/// Parses a pg_lsn as pg_lsn_in does: 1 to 8 hex digits, `/`, 1 to 8 hex digits, nothing else
/// (no whitespace). `Errc::invalid_pg_lsn` at the offending byte. Pure.
[[nodiscard]] Status parse_pg_lsn(std::string_view text, std::uint64_t& lsn);

/// Appends a "char" field (one byte). Does not fail.
void encode_char(ByteBuffer& out, std::uint8_t byte);
/// Appends an oid field. Does not fail.
void encode_oid(ByteBuffer& out, std::uint32_t value);
/// Appends a money field (cents). Does not fail.
void encode_money(ByteBuffer& out, std::int64_t cents);
/// Appends a pg_lsn field. Does not fail.
void encode_pg_lsn(ByteBuffer& out, std::uint64_t lsn);

/// `parse_char` then `encode_char`; on error appends nothing.
[[nodiscard]] Status encode_char_text(ByteBuffer& out, std::string_view text);
/// `parse_oid` then `encode_oid`; on error appends nothing.
[[nodiscard]] Status encode_oid_text(ByteBuffer& out, std::string_view text);
/// `parse_money` then `encode_money`; on error appends nothing.
[[nodiscard]] Status encode_money_text(ByteBuffer& out, std::string_view text);
/// `parse_pg_lsn` then `encode_pg_lsn`; on error appends nothing.
[[nodiscard]] Status encode_pg_lsn_text(ByteBuffer& out, std::string_view text);

/// Appends an xml field: the text as xml_recv reads it (UTF-8 unless the document declares
/// another encoding). Checked here: valid UTF-8 (`Errc::invalid_utf8`), no NUL
/// (`Errc::nul_in_text`; xml_recv would cut the text there), and an XML declaration's
/// `encoding`, if any, must name UTF-8 (`Errc::xml_encoding_not_utf8` at the name): xml_recv
/// would decode the UTF-8 bytes in the declared encoding, while xml_in ignores the
/// declaration. Well-formedness is the server's check (2200N at COPY). Text over
/// the 1 GiB field limit is `Errc::field_too_large`.
[[nodiscard]] Status encode_xml_text(ByteBuffer& out, std::string_view text);

/// Appends a jsonpath field: version byte 1 and the text (jsonpath_recv). Checked here: valid
/// UTF-8, no NUL, the field limit. The path's syntax is the server's check at COPY (42601;
/// 22P02 for an empty path).
[[nodiscard]] Status encode_jsonpath_text(ByteBuffer& out, std::string_view text);

}  // namespace pgingest
