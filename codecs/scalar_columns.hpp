#pragma once

// The column kinds of issue 10's scalar types (time, timetz, inet, cidr, macaddr, macaddr8,
// money, bit, varbit, "char", oid, xml, jsonpath, pg_lsn) for the typed row API
// (codecs/row_writer.hpp): which OIDs they are, their names, and how a text or a JSON number
// becomes their binary field. The codecs are codecs/time_of_day.hpp, network.hpp, bits.hpp
// and misc_types.hpp; RowWriter calls these from a few one-line hooks.

#include <cstdint>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"
#include "codecs/row_writer.hpp"

namespace pgingest {

/// The kind of a built-in type OID of this group (codecs/oids.hpp), else `unsupported`. Pure.
[[nodiscard]] ColumnKind scalar_column_kind(std::uint32_t type_oid) noexcept;

/// True for the kinds of this group. Pure.
[[nodiscard]] bool is_scalar_column_kind(ColumnKind kind) noexcept;

/// The SQL name of a kind of this group ("time", "\"char\"", ...), else nullptr. Static string.
[[nodiscard]] const char* scalar_column_kind_name(ColumnKind kind) noexcept;

/// Encodes `text` as the type's input function reads it (see each codec); `typmod` is the
/// column's atttypmod (bit(n), varbit(n) lengths). `Errc::type_mismatch` for a kind outside
/// this group. On error `out` is unchanged. Allocates only if `out` must grow.
[[nodiscard]] Status encode_scalar_column_text(ByteBuffer& out, ColumnKind kind,
                                               std::int32_t typmod, std::string_view text);

/// A JSON number into a column of this group: the number's text goes through the type's input
/// rules, as `'<number>'::type` would in the server (1 into oid, 12.5 into money, 101 into
/// bit(3), 7 into "char"; a time or inet refuses it). Doubles are written in their shortest
/// round-trip form (JSON 1.50 is "1.5"). Errors as for `encode_scalar_column_text`.
[[nodiscard]] Status encode_scalar_column_number(ByteBuffer& out, ColumnKind kind,
                                                 std::int32_t typmod, std::int64_t value);
/// As above for integers above INT64_MAX.
[[nodiscard]] Status encode_scalar_column_number(ByteBuffer& out, ColumnKind kind,
                                                 std::int32_t typmod, std::uint64_t value);
/// As above for doubles.
[[nodiscard]] Status encode_scalar_column_number(ByteBuffer& out, ColumnKind kind,
                                                 std::int32_t typmod, double value);

}  // namespace pgingest
