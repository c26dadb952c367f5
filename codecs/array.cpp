#include "codecs/array.hpp"

#include <bit>
#include <cstring>

#include "codecs/copy_binary.hpp"

namespace pgingest {

namespace {

// Field length prefix + ndim + flags + element OID + one (dim, lbound) pair.
constexpr std::size_t header_size = 4 + 4 + 4 + 4 + 8;
// Field length prefix + ndim + flags + element OID: the whole of an empty array.
constexpr std::size_t empty_size = 4 + 12;

struct ElementCount {
    std::size_t count = 0;
    bool has_null = false;
};

// Walks the length-prefixed elements in [begin, end). They were written by our own encoders,
// so a length that does not fit is a programmer error, not bad data: checked once at the end
// (the walk must land exactly on `end`), not per element, to keep the loop at a few
// instructions per element (it runs for every real[384] embedding).
ElementCount count_elements(const char* begin, const char* end) noexcept {
    ElementCount result;
    const std::size_t size = static_cast<std::size_t>(end - begin);
    std::size_t at = 0;
    while (size - at >= 4) {
        std::uint32_t big_endian = 0;
        std::memcpy(&big_endian, begin + at, 4);
        if constexpr (std::endian::native == std::endian::little) {
            big_endian = __builtin_bswap32(big_endian);
        }
        auto length = static_cast<std::int32_t>(big_endian);
        at += 4;
        if (length < 0) {
            result.has_null = true;  // -1: NULL, no data
        } else {
            at += static_cast<std::uint32_t>(length);
            if (at > size) {
                break;
            }
        }
        result.count++;
    }
    PGINGEST_ASSERT(at == size);
    return result;
}

}  // namespace

ArrayWriter::ArrayWriter(ByteBuffer& out, std::uint32_t element_oid)
    : _out(out), _start(out.size()), _element_oid(element_oid) {
    (void)_out.extend(header_size);
}

ArrayWriter::ArrayWriter(ByteBuffer& out, std::uint32_t element_oid, std::size_t dimension_count)
    : _out(out), _start(out.size()), _element_oid(element_oid), _dimension_count(dimension_count) {
    PGINGEST_ASSERT(dimension_count >= 1 && dimension_count <= array_dimensions_max);
    (void)_out.extend(header_size + 8 * (dimension_count - 1));
}

ArrayWriter::~ArrayWriter() {
    if (_open) {
        abandon();
    }
}

void ArrayWriter::null_element() {
    PGINGEST_ASSERT(_open);
    _out.put_i32(-1);
}

Status ArrayWriter::finish(std::span<const std::uint32_t> dims) {
    PGINGEST_ASSERT(_open);
    PGINGEST_ASSERT(dims.size() == _dimension_count);
    const std::size_t dims_size = 8 * _dimension_count;
    const std::size_t elements_at = _start + 16 + dims_size;
    PGINGEST_ASSERT(_out.size() >= elements_at);
    ElementCount elements = count_elements(_out.data() + elements_at, _out.data() + _out.size());
    std::size_t product = 1;
    for (std::uint32_t dim : dims) {
        product *= dim;
    }
    PGINGEST_ASSERT(product == elements.count);
    if (elements.count > array_elements_max) {
        abandon();
        return Status{Errc::array_too_large, static_cast<std::uint32_t>(array_elements_max)};
    }
    if (elements.count == 0) {
        _out.truncate(_start + empty_size);
    }
    std::size_t data_size = _out.size() - _start - 4;
    if (data_size > copy_field_size_max) {
        abandon();
        return Status{Errc::field_too_large, 0};
    }
    char* field = _out.data() + _start;
    ByteBuffer::store_be(field, static_cast<std::uint32_t>(data_size));
    ByteBuffer::store_be(field + 4, static_cast<std::uint32_t>(product == 0 ? 0 : dims.size()));
    ByteBuffer::store_be(field + 8, std::uint32_t{elements.has_null ? 1u : 0u});
    ByteBuffer::store_be(field + 12, _element_oid);
    for (std::size_t i = 0; product > 0 && i < dims.size(); i++) {
        ByteBuffer::store_be(field + 16 + 8 * i, dims[i]);
        ByteBuffer::store_be(field + 20 + 8 * i, std::uint32_t{1});
    }
    _open = false;
    return Status{};
}

Status ArrayWriter::finish() {
    PGINGEST_ASSERT(_open);
    PGINGEST_ASSERT(_dimension_count == 1);
    PGINGEST_ASSERT(_out.size() >= _start + header_size);
    char* field = _out.data() + _start;
    ElementCount elements = count_elements(field + header_size, _out.data() + _out.size());
    if (elements.count > array_elements_max) {
        abandon();
        return Status{Errc::array_too_large, static_cast<std::uint32_t>(array_elements_max)};
    }
    if (elements.count == 0) {
        _out.truncate(_start + empty_size);
    }
    std::size_t data_size = _out.size() - _start - 4;
    if (data_size > copy_field_size_max) {
        abandon();
        return Status{Errc::field_too_large, 0};
    }
    field = _out.data() + _start;
    ByteBuffer::store_be(field, static_cast<std::uint32_t>(data_size));
    ByteBuffer::store_be(field + 4, std::uint32_t{elements.count == 0 ? 0u : 1u});
    ByteBuffer::store_be(field + 8, std::uint32_t{elements.has_null ? 1u : 0u});
    ByteBuffer::store_be(field + 12, _element_oid);
    if (elements.count > 0) {
        ByteBuffer::store_be(field + 16, static_cast<std::uint32_t>(elements.count));
        ByteBuffer::store_be(field + 20, std::uint32_t{1});
    }
    _open = false;
    return Status{};
}

void ArrayWriter::abandon() noexcept {
    PGINGEST_ASSERT(_open);
    PGINGEST_ASSERT(_out.size() >= _start);
    _out.truncate(_start);
    _open = false;
}

}  // namespace pgingest
