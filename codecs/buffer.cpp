#include "codecs/buffer.hpp"

#include <algorithm>

namespace pgingest {

void ByteBuffer::grow_for(std::size_t count) {
    PGINGEST_ASSERT(count <= SIZE_MAX - _size);
    std::size_t needed = _size + count;
    grow_to(std::max({needed, _capacity * 2, std::size_t{256}}));
}

void ByteBuffer::grow_to(std::size_t capacity_bytes) {
    // new char[] leaves the bytes uninitialised: growth costs one copy of what is there, no memset.
    std::unique_ptr<char[]> grown(new char[capacity_bytes]);
    if (_size > 0) {
        std::memcpy(grown.get(), _data.get(), _size);
    }
    _data = std::move(grown);
    _capacity = capacity_bytes;
}

}  // namespace pgingest
