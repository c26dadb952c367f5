#include "codecs/composite.hpp"

namespace pgingest {

FieldStart begin_record(ByteBuffer& out, std::uint32_t field_count) {
    FieldStart start = begin_field(out);
    out.put_u32(field_count);
    return start;
}

Status end_record(ByteBuffer& out, FieldStart start) { return end_field(out, start); }

}  // namespace pgingest
