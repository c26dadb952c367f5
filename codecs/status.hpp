#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgingest {

/// Why a value could not be encoded (STYLE.md tier 2: bad data on the row path).
///
/// Each code names one thing the server would reject (FORMATS.md §2–§4) or one limit of ours.
/// Codes are grouped by codec; add new ones inside the group, and give each a reason in
/// `errc_reason` (codecs/status.cpp).
enum class Errc : std::uint16_t {
    ok = 0,

    // COPY framing
    field_too_large,  ///< field over 0x3FFFFFFE bytes (server: 54000 out of memory)

    // text-like
    invalid_utf8,     ///< server: 22021 invalid byte sequence for encoding "UTF8"
    nul_in_text,      ///< NUL byte in text; server: 22021 ... 0x00
    string_too_long,  ///< over the varchar(n)/char(n) length; server: 22001

    // bool and numbers
    invalid_bool,          ///< not a recognised boolean spelling
    invalid_integer,       ///< not a decimal integer
    integer_out_of_range,  ///< does not fit the column's integer width
    invalid_float,         ///< not a decimal floating-point number
    float_out_of_range,    ///< finite input that overflows float4/float8
    invalid_numeric,       ///< not a decimal number, NaN or ±Infinity
    numeric_out_of_range,  ///< weight or scale over what numeric can hold; server: 22003

    // uuid
    invalid_uuid,  ///< not 32 hex digits in canonical (optionally braced/hyphenless) form

    // date and time
    invalid_date,            ///< not an ISO 8601 date
    date_out_of_range,       ///< outside 4713 BC .. 5874897 AD; server: 22008
    invalid_timestamp,       ///< not an RFC 3339 / ISO 8601 timestamp
    timestamp_out_of_range,  ///< outside 4713 BC .. 294276 AD; server: 22008
    invalid_interval,        ///< not interval text (interval_in); server: 22007
    interval_out_of_range,   ///< a component overflows its int32/int64 field

    // arrays
    array_too_large,  ///< more elements than the server allows (134217727)

    // json / jsonb
    json_syntax,            ///< input is not valid JSON text (RFC 8259)
    json_nul_escape,        ///< \u0000 in jsonb with policy "error"; server: 22P05
    json_lone_surrogate,    ///< unpaired UTF-16 surrogate; server: 22P02
    json_non_finite,        ///< NaN or ±Infinity with policy "error"; server: 22P02
    json_depth_exceeded,    ///< nesting deeper than the writer's depth limit
    json_string_too_long,   ///< jsonb string over 268435455 bytes; server: 54000
    json_unbalanced,        ///< document ended with containers still open or a key missing

    // pgvector
    vector_empty,               ///< zero dimensions; server: 22000 must have at least 1 dimension
    vector_too_many_dims,       ///< over 16000 (vector, halfvec) / 1e9 (sparsevec); server: 54000
    vector_dim_mismatch,        ///< dimension differs from the column's typmod; server: 22000
    vector_nan,                 ///< NaN element; server: 22000 NaN not allowed in vector
    vector_infinite,            ///< ±Inf element; server: 22000 infinite value not allowed
    halfvec_overflow,           ///< finite float32 too large for binary16 (|x| ≥ 65520)
    sparsevec_too_many_nonzero, ///< over 16000 non-zero elements; server: 54000
    sparsevec_index_out_of_bounds,  ///< index < 0 or ≥ dim; server: 22000
    sparsevec_index_order,      ///< indices not strictly ascending; server: 22000

    // issue 10: scalar types (codecs/time_of_day.hpp, network.hpp, bits.hpp, misc_types.hpp)
    invalid_time,               ///< not a time of day; server: 22007 invalid input syntax
    time_field_out_of_range,    ///< hour > 24, minute > 59, second > 60 or past 24:00; 22008
    time_zone_out_of_range,     ///< UTC offset of 16 hours or more; server: 22009
    invalid_inet,               ///< not an IPv4/IPv6 address[/bits]; server: 22P02
    invalid_cidr,               ///< not an IPv4/IPv6 network[/bits]; server: 22P02
    cidr_host_bits_set,         ///< cidr with bits set right of the mask; server: 22P02
    invalid_macaddr,            ///< not one of macaddr_in's six formats; server: 22P02
    macaddr_octet_out_of_range, ///< a macaddr group above ff; server: 22003 invalid octet value
    invalid_macaddr8,           ///< not a 6- or 8-byte MAC address; server: 22P02
    bit_invalid_binary_digit,   ///< not 0 or 1 in a B'' string; server: 22P02
    bit_invalid_hex_digit,      ///< not a hex digit in an X'' string; server: 22P02
    bit_length_mismatch,        ///< bit(n) given another length; server: 22026
    varbit_too_long,            ///< varbit(n) given more than n bits; server: 22001
    char_not_one_byte,          ///< "char" given more than one byte (charin would truncate)
    invalid_oid,                ///< not a decimal integer; server: 22P02
    oid_out_of_range,           ///< outside -2147483648..4294967295; server: 22003
    invalid_money,              ///< not a money amount; server: 22P02
    money_out_of_range,         ///< overflows int8 cents; server: 22003
    xml_encoding_not_utf8,      ///< XML declaration names an encoding other than UTF-8
    invalid_pg_lsn,             ///< not X/Y with 1 to 8 hex digits each; server: 22P02
    bytea_invalid_hex_digit,    ///< not a hex digit after \x (codecs/bytea.hpp); server: 22023
    bytea_odd_hex_digits,       ///< \x with an odd number of hex digits; server: 22023
    invalid_bytea,              ///< a backslash not followed by \ or \ooo; server: 22P02
    // geometric types (codecs/geometry.hpp)
    geometry_syntax,        ///< not the type's text syntax; server: 22P02 invalid input syntax
    line_invalid,           ///< line with A = B = 0 or two equal points; server: 22P02
    geometry_out_of_range,  ///< line through two points overflows float8; server: 22003

    // text search (codecs/tsearch.hpp)
    tsvector_syntax,        ///< not tsvector text; server: 42601 syntax error in tsvector
    tsvector_too_long,      ///< lexeme ≥ 2 KiB or tsvector ≥ 1 MiB; server: 54000
    tsquery_syntax,         ///< not tsquery text; server: 42601 syntax error in tsquery
    tsquery_out_of_range,   ///< distance over 16384, weight or word too long; server: 22023/54000
    tsquery_empty,          ///< no operand: tsqueryrecv refuses it (XX000 malformed tsquery)
    // catalog-driven types (issue 10: ranges, composites, N-d arrays, enums, hstore)
    invalid_range,          ///< malformed range literal (rangetypes.c range_parse); 22P02
    invalid_multirange,     ///< malformed multirange literal (multirange_in); 22P02
    invalid_array_text,     ///< malformed array literal (arrayfuncs.c array_in); 22P02
    array_ragged,           ///< sub-arrays of different lengths or depths; server: 22P02
    array_too_many_dims,    ///< more than 6 dimensions (MAXDIM); server: 54000
    invalid_enum_label,     ///< not a label of the enum (pg_enum); server: 22P02
    composite_field_count,  ///< more values than the composite type has attributes
    unknown_attribute,      ///< a JSON key that names no attribute of the composite type
    invalid_composite_text, ///< malformed record literal (rowtypes.c record_in); 22P02
    invalid_hstore,         ///< malformed hstore text, or a value that is not a string/null

    // rows (codecs/row_writer.hpp)
    type_mismatch,    ///< a value of a kind the column's type cannot take (text into uuid...)
    row_field_count,  ///< a tuple ended with columns unwritten, or a value past the last column
};

/// Outcome of encoding one value: `Errc::ok`, or the reason plus where in the input it was found.
///
/// `position` is a byte offset into the input text for text-shaped input, or an element index
/// for arrays and vectors (see `errc_position_unit`). Trivially copyable; never allocates.
struct [[nodiscard]] Status {
    Errc code = Errc::ok;
    std::uint32_t position = 0;

    /// True when the value was encoded.
    [[nodiscard]] constexpr bool ok() const noexcept { return code == Errc::ok; }
};

/// A short English reason for `code`, e.g. "invalid UTF-8 byte sequence"; a static string.
[[nodiscard]] const char* errc_reason(Errc code) noexcept;

/// "byte" or "element": what `Status::position` counts for `code`; nullptr when it means nothing.
[[nodiscard]] const char* errc_position_unit(Errc code) noexcept;

/// The user-facing message for a bad value, naming the column (when known), the value
/// (shortened to about 60 bytes, non-printable bytes as \xNN) and the reason:
/// `column "trace_id": value "12-zz…" at byte 3: invalid uuid: ...`.
///
/// Allocates; meant for the error path only. Any thread may call it.
[[nodiscard]] std::string describe_error(Status status, std::string_view column,
                                         std::string_view value);

}  // namespace pgingest
