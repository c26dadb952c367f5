#include "codecs/copy_binary.hpp"

namespace pgingest {

namespace {
// BinarySignature in copyfromparse.c / copyto.c; the trailing NUL is part of it.
constexpr char copy_signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};
}  // namespace

void put_copy_header(ByteBuffer& out) {
    out.put_bytes(copy_signature, sizeof copy_signature);
    out.put_i32(0);  // flags: no OIDs, no critical bits
    out.put_i32(0);  // header extension length
}

void put_copy_trailer(ByteBuffer& out) { out.put_i16(-1); }

Status end_field(ByteBuffer& out, FieldStart start) {
    std::size_t length = out.size() - start.length_offset - 4;
    if (length > copy_field_size_max) {
        return Status{Errc::field_too_large, 0};
    }
    out.patch_i32(start.length_offset, static_cast<std::int32_t>(length));
    return Status{};
}

}  // namespace pgingest
