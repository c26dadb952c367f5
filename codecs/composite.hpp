#pragma once

// Composite types (FORMATS.md §2.7; utils/adt/rowtypes.c record_recv, record_send).
//
//   record : [length:i32][field count:i32] ([type OID:u32] ([length:i32][data] | [-1:i32])) × n
//
// The field count must equal the type's non-dropped attributes and each OID the attribute's
// atttypid when both are built-in (42804 otherwise): the OID of a domain attribute is the
// domain's. Each field is exactly what the attribute type's encoder writes.
//
// Text input follows record_in (rowtypes.c): optional whitespace, '(', one field per attribute
// separated by ',', ')', optional whitespace. A field with no characters at all is NULL; "..."
// quotes (a doubled "" inside is one '"'), a backslash takes the next character literally, and
// unquoted whitespace belongs to the field (record_in keeps it).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/buffer.hpp"
#include "codecs/copy_binary.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Bytes a record of `field_count` fields adds besides its fields' own bytes. Pure.
constexpr std::size_t record_overhead_size(std::size_t field_count) noexcept {
    return 4 + 4 + field_count * 4;
}

/// Begins a record field of `field_count` fields: appends the field length placeholder and the
/// count. Then, for each attribute in attnum order, `put_record_field_oid` and the field (or
/// `put_null`), and `end_record`.
[[nodiscard]] FieldStart begin_record(ByteBuffer& out, std::uint32_t field_count);

/// Appends the type OID that precedes each field of a record.
inline void put_record_field_oid(ByteBuffer& out, std::uint32_t type_oid) {
    out.put_u32(type_oid);
}

/// Completes a record begun with `begin_record`. `Errc::field_too_large` (bytes left for the
/// caller to truncate) over `copy_field_size_max`.
[[nodiscard]] Status end_record(ByteBuffer& out, FieldStart start);

/// A record literal taken apart by `parse_record_text`.
struct RecordText {
    /// One field: `length` bytes of `chars` from `offset`, or NULL when `length` is -1.
    struct Field {
        std::uint32_t offset = 0;
        std::int32_t length = -1;
    };
    std::string chars;          ///< the field texts back to back, quotes and escapes removed
    std::vector<Field> fields;  ///< in attnum order

    /// The text of field `index` (not NULL).
    [[nodiscard]] std::string_view text(std::size_t index) const noexcept {
        return std::string_view(chars).substr(fields[index].offset,
                                              static_cast<std::size_t>(fields[index].length));
    }
};

/// Parses a record literal of exactly `field_count` fields as record_in does. Errors:
/// `Errc::invalid_composite_text` at the byte where the literal stops making sense (too few
/// or too many fields included: "Too few columns." / "Too many columns."). The fields' text is
/// the attribute types' business. Allocates only when `out` grows; pure, any thread.
[[nodiscard]] Status parse_record_text(std::string_view text, std::size_t field_count,
                                       RecordText& out);

}  // namespace pgingest
