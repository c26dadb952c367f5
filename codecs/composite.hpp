#pragma once

// Composite types (FORMATS.md §2.7; utils/adt/rowtypes.c record_recv, record_send).
//
//   record : [length:i32][field count:i32] ([type OID:u32] ([length:i32][data] | [-1:i32])) × n
//
// The field count must equal the type's non-dropped attributes and each OID the attribute's
// atttypid when both are built-in (42804 otherwise): the OID of a domain attribute is the
// domain's. Each field is exactly what the attribute type's encoder writes.

#include <cstdint>

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

}  // namespace pgingest
