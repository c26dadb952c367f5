#pragma once

// COPY BINARY stream framing (FORMATS.md §1.1). Writer side in the server:
// backend/commands/copyto.c DoCopyTo() (header, trailer) and CopyOneRowTo() (tuples);
// reader side: backend/commands/copyfromparse.c ReceiveCopyBinaryHeader(), NextCopyFrom(),
// CopyReadBinaryAttribute().
//
//   header : ["PGCOPY\n\377\r\n\0":11][flags:i32=0][extension length:i32=0]      19 bytes
//   tuple  : [field count:i16] { [length:i32][data:length] | [-1:i32] (NULL) } × field count
//   trailer: [-1:i16]
//
// Every field's data is what the type's *recv function consumes, nothing more (codecs/*.hpp).

#include <cstddef>
#include <cstdint>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Bytes in the stream header: signature (11), flags (4), header-extension length (4).
inline constexpr std::size_t copy_header_size = 19;

/// Bytes in the stream trailer (int16 -1).
inline constexpr std::size_t copy_trailer_size = 2;

/// Largest field data the server accepts: a field length of 0x3FFFFFFF or more fails before
/// any data is read (copyfromparse.c CopyReadBinaryAttribute → enlargeStringInfo, MaxAllocSize).
inline constexpr std::size_t copy_field_size_max = 0x3FFFFFFE;

/// Appends the 19-byte header with flags 0 and no extension. Does not fail.
void put_copy_header(ByteBuffer& out);

/// Appends the trailer (int16 -1). Optional for the server (EOF at a tuple start is a normal
/// end), but written by `COPY TO` and expected by other readers.
void put_copy_trailer(ByteBuffer& out);

/// Appends a tuple's field count. `field_count` must equal the COPY column list length.
inline void put_tuple_header(ByteBuffer& out, std::uint16_t field_count) {
    out.put_u16(field_count);
}

/// Appends a NULL field (length -1, no data).
inline void put_null(ByteBuffer& out) { out.put_i32(-1); }

/// A field whose length is patched once its data is written: `begin_field`, write the data,
/// `end_field`. Used by encoders whose output size is not known in advance (numeric, JSON).
struct FieldStart {
    std::size_t length_offset;
};

/// Appends a placeholder field length and returns where it is.
[[nodiscard]] inline FieldStart begin_field(ByteBuffer& out) {
    return FieldStart{out.put_placeholder_i32()};
}

/// Patches the field length for everything written since `begin_field`.
/// Returns `Errc::field_too_large` (and leaves the bytes for the caller to truncate) when the
/// data exceeds `copy_field_size_max`.
[[nodiscard]] Status end_field(ByteBuffer& out, FieldStart start);

}  // namespace pgingest
