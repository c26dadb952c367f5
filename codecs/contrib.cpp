#include "codecs/contrib.hpp"

#include "codecs/text.hpp"
#include "codecs/utf8.hpp"

namespace pgingest {

FieldStart begin_hstore(ByteBuffer& out) {
    FieldStart start = begin_field(out);
    out.put_u32(0);
    return start;
}

Status put_hstore_pair(ByteBuffer& out, std::string_view key, const std::string_view* value) {
    const std::size_t start = out.size();
    Status status = encode_text(out, key);
    if (status.ok() && value != nullptr) {
        status = encode_text(out, *value);
    } else if (status.ok()) {
        put_null(out);
    }
    if (!status.ok()) {
        out.truncate(start);
    }
    return status;
}

Status end_hstore(ByteBuffer& out, FieldStart start, std::uint32_t pair_count) {
    ByteBuffer::store_be(out.data() + start.length_offset + 4, pair_count);
    return end_field(out, start);
}

Status encode_ltree(ByteBuffer& out, std::string_view text) {
    Status status = validate_text(text);
    if (!status.ok()) {
        return status;
    }
    if (text.size() + 1 > copy_field_size_max) {
        return Status{Errc::field_too_large, 0};
    }
    out.put_u32(static_cast<std::uint32_t>(text.size() + 1));
    out.put_u8(1);
    out.put_bytes(text);
    return Status{};
}

}  // namespace pgingest
