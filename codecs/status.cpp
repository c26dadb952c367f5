#include "codecs/status.hpp"

#include <cstdio>

#include "codecs/utf8.hpp"

namespace pgingest {

const char* errc_reason(Errc code) noexcept {
    switch (code) {
        case Errc::ok: return "ok";
        case Errc::field_too_large: return "field exceeds the server's 1 GiB field limit";
        case Errc::invalid_utf8: return "invalid UTF-8 byte sequence";
        case Errc::nul_in_text: return "NUL byte (0x00) is not allowed in text";
        case Errc::string_too_long: return "string longer than the column's declared length";
        case Errc::invalid_bool: return "not a boolean (expected true/false, t/f, yes/no, on/off, 1/0)";
        case Errc::invalid_integer: return "not an integer";
        case Errc::integer_out_of_range: return "integer out of range for the column's type";
        case Errc::invalid_float: return "not a floating-point number";
        case Errc::float_out_of_range: return "number out of range for the column's float type";
        case Errc::invalid_numeric: return "not a decimal number, NaN or Infinity";
        case Errc::numeric_out_of_range: return "value overflows numeric format";
        case Errc::invalid_uuid: return "invalid uuid (expected 32 hexadecimal digits)";
        case Errc::invalid_date: return "invalid date (expected YYYY-MM-DD)";
        case Errc::date_out_of_range: return "date out of range (4713 BC to 5874897 AD)";
        case Errc::invalid_timestamp:
            return "invalid timestamp (expected RFC 3339, e.g. 2024-05-01T12:00:00.5Z)";
        case Errc::timestamp_out_of_range:
            return "timestamp out of range (4713 BC to 294276 AD)";
        case Errc::invalid_interval:
            return "invalid input syntax for type interval (e.g. 1 day 02:03:04, 3 hours, P1DT2H)";
        case Errc::interval_out_of_range: return "interval field out of range";
        case Errc::array_too_large: return "array has more elements than PostgreSQL allows";
        case Errc::json_syntax: return "invalid JSON";
        case Errc::json_nul_escape: return "\\u0000 is not allowed in jsonb";
        case Errc::json_lone_surrogate: return "unpaired UTF-16 surrogate escape in JSON string";
        case Errc::json_non_finite: return "NaN or Infinity cannot be represented in JSON";
        case Errc::json_depth_exceeded: return "JSON nesting deeper than the depth limit";
        case Errc::json_string_too_long:
            return "jsonb strings cannot exceed 268435455 bytes";
        case Errc::json_unbalanced: return "JSON document is incomplete (unclosed container)";
        case Errc::vector_empty: return "vector must have at least 1 dimension";
        case Errc::vector_too_many_dims: return "vector has more dimensions than pgvector allows";
        case Errc::vector_dim_mismatch:
            return "vector dimension differs from the column's declared dimension";
        case Errc::vector_nan: return "NaN not allowed in vector";
        case Errc::vector_infinite: return "infinite value not allowed in vector";
        case Errc::halfvec_overflow: return "value too large for halfvec (|x| >= 65520)";
        case Errc::sparsevec_too_many_nonzero:
            return "sparsevec cannot have more than 16000 non-zero elements";
        case Errc::sparsevec_index_out_of_bounds: return "sparsevec index out of bounds";
        case Errc::sparsevec_index_order:
            return "sparsevec indices must be strictly ascending (no duplicates)";
        // issue 10: scalar types
        case Errc::invalid_time:
            return "invalid input syntax for type time (expected HH:MM[:SS[.fraction]][offset])";
        case Errc::time_field_out_of_range: return "date/time field value out of range";
        case Errc::time_zone_out_of_range: return "time zone displacement out of range";
        case Errc::invalid_inet: return "invalid input syntax for type inet";
        case Errc::invalid_cidr: return "invalid input syntax for type cidr";
        case Errc::cidr_host_bits_set:
            return "invalid cidr value: Value has bits set to right of mask.";
        case Errc::invalid_macaddr: return "invalid input syntax for type macaddr";
        case Errc::macaddr_octet_out_of_range: return "invalid octet value in \"macaddr\" value";
        case Errc::invalid_macaddr8: return "invalid input syntax for type macaddr8";
        case Errc::bit_invalid_binary_digit: return "not a valid binary digit";
        case Errc::bit_invalid_hex_digit: return "not a valid hexadecimal digit";
        case Errc::bit_length_mismatch:
            return "bit string length does not match the column's type bit(n)";
        case Errc::varbit_too_long:
            return "bit string too long for the column's type bit varying(n)";
        case Errc::char_not_one_byte:
            return "\"char\" holds one byte (ASCII character or \\ooo octal escape)";
        case Errc::invalid_oid: return "invalid input syntax for type oid";
        case Errc::oid_out_of_range: return "value is out of range for type oid";
        case Errc::invalid_money: return "invalid input syntax for type money";
        case Errc::money_out_of_range: return "value is out of range for type money";
        case Errc::xml_encoding_not_utf8:
            return "XML declaration names an encoding other than UTF-8";
        case Errc::bytea_invalid_hex_digit:
            return "invalid hexadecimal digit (bytea hex format: \\x then pairs of 0-9a-fA-F)";
        case Errc::bytea_odd_hex_digits:
            return "invalid hexadecimal data: odd number of digits";
        case Errc::invalid_bytea:
            return "invalid input syntax for type bytea (a backslash must be followed by "
                   "another or by three octal digits up to \\377)";
        case Errc::invalid_pg_lsn: return "invalid input syntax for type pg_lsn";
        case Errc::geometry_syntax: return "invalid geometric value (see the type's input syntax)";
        case Errc::line_invalid:
            return "invalid line: A and B cannot both be zero, or the two points are equal";
        case Errc::geometry_out_of_range: return "value out of range: line slope over/underflows";
        case Errc::tsvector_syntax: return "syntax error in tsvector";
        case Errc::tsvector_too_long:
            return "tsvector too long (lexeme 2047 bytes, whole value 1 MiB at most)";
        case Errc::tsquery_syntax: return "syntax error in tsquery";
        case Errc::tsquery_out_of_range:
            return "tsquery out of range (distance over 16384, word or query too long)";
        case Errc::tsquery_empty:
            return "empty tsquery: binary COPY cannot carry it (tsqueryrecv refuses it)";
        case Errc::invalid_range:
            return "malformed range literal (expected e.g. [1,5), (,), empty)";
        case Errc::invalid_multirange:
            return "malformed multirange literal (expected e.g. {[1,5), [7,9)})";
        case Errc::invalid_array_text:
            return "malformed array literal (expected e.g. {{1,2},{3,4}})";
        case Errc::array_ragged:
            return "multidimensional arrays must have sub-arrays with matching dimensions";
        case Errc::array_too_many_dims:
            return "array has more than 6 dimensions (the maximum allowed)";
        case Errc::invalid_enum_label: return "not a label of the enum type (pg_enum)";
        case Errc::composite_field_count:
            return "more values than the composite type has attributes";
        case Errc::unknown_attribute: return "no attribute of the composite type has this name";
        case Errc::invalid_composite_text:
            return "malformed record literal (expected e.g. (1,\"a b\",))";
        case Errc::invalid_hstore:
            return "malformed hstore (expected \"key\"=>\"value\" pairs, or string/null values)";
        case Errc::type_mismatch: return "value of this kind cannot be stored in this column";
        case Errc::row_field_count: return "row does not have one value per column";
    }
    return "unknown error";
}

const char* errc_position_unit(Errc code) noexcept {
    switch (code) {
        case Errc::ok:
        case Errc::field_too_large:
        case Errc::json_unbalanced:
        case Errc::line_invalid:
        case Errc::geometry_out_of_range:
        case Errc::tsquery_empty:
        case Errc::type_mismatch:
        case Errc::row_field_count:
        case Errc::bit_length_mismatch:
        case Errc::varbit_too_long:
        case Errc::invalid_enum_label:
            return nullptr;
        case Errc::array_too_large:
        case Errc::array_ragged:
        case Errc::array_too_many_dims:
        case Errc::composite_field_count:
        case Errc::unknown_attribute:
        case Errc::invalid_hstore:
        case Errc::vector_empty:
        case Errc::vector_too_many_dims:
        case Errc::vector_dim_mismatch:
        case Errc::vector_nan:
        case Errc::vector_infinite:
        case Errc::halfvec_overflow:
        case Errc::sparsevec_too_many_nonzero:
        case Errc::sparsevec_index_out_of_bounds:
        case Errc::sparsevec_index_order:
            return "element";
        default:
            return "byte";
    }
}

namespace {

constexpr std::size_t shown_bytes_max = 60;

// Appends `value` quoted, shortened at a UTF-8 boundary, with control and invalid bytes as \xNN
// so that a message never carries bytes that would garble a terminal or a log line.
void append_shortened(std::string& out, std::string_view value) {
    out += '"';
    std::size_t i = 0;
    while (i < value.size() && i < shown_bytes_max) {
        auto byte = static_cast<unsigned char>(value[i]);
        if (byte >= 0x20 && byte < 0x7F && byte != '"' && byte != '\\') {
            out += static_cast<char>(byte);
            i += 1;
            continue;
        }
        std::size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC2 ? 2 : 0;
        // The full well-formedness check, not just continuation bytes: overlong forms,
        // surrogates (ED A0..BF) and code points above U+10FFFF must be escaped too, or the
        // message would carry the very bytes it reports as invalid.
        bool sequence_ok = length > 0 && i + length <= value.size() &&
                           validate_utf8(value.substr(i, length)).ok();
        if (sequence_ok) {
            out.append(value.substr(i, length));
            i += length;
            continue;
        }
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
        out += escaped;
        i += 1;
    }
    out += '"';
    if (i < value.size()) {
        out += "… (";
        out += std::to_string(value.size());
        out += " bytes)";
    }
}

}  // namespace

std::string describe_error(Status status, std::string_view column, std::string_view value) {
    std::string message;
    if (!column.empty()) {
        message += "column \"";
        message += column;
        message += "\": ";
    }
    message += "value ";
    append_shortened(message, value);
    if (const char* unit = errc_position_unit(status.code)) {
        message += " at ";
        message += unit;
        message += ' ';
        message += std::to_string(status.position);
    }
    message += ": ";
    message += errc_reason(status.code);
    return message;
}

}  // namespace pgingest
