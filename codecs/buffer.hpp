#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>

#include "codecs/assert.hpp"

namespace pgingest {

/// A growable byte buffer with big-endian writers and length back-patching; the target of every
/// encoder in `codecs/`.
///
/// All multi-byte integers and floats are written big-endian (network order), as the server's
/// `pq_getmsgint`/`pq_getmsgfloat4` read them (backend/libpq/pqformat.c). Growth doubles the
/// capacity; call `reserve` once with an `encoded_size_max` to keep the row path allocation-free.
/// Not thread-safe: one buffer belongs to one producer at a time. Move-only.
class ByteBuffer {
public:
    /// An empty buffer with room for `capacity_bytes` before the first growth. Allocates.
    explicit ByteBuffer(std::size_t capacity_bytes = 0) { reserve(capacity_bytes); }

    ByteBuffer(ByteBuffer&&) noexcept = default;
    ByteBuffer& operator=(ByteBuffer&&) noexcept = default;
    ByteBuffer(const ByteBuffer&) = delete;
    ByteBuffer& operator=(const ByteBuffer&) = delete;

    [[nodiscard]] const char* data() const noexcept { return _data.get(); }
    [[nodiscard]] char* data() noexcept { return _data.get(); }
    [[nodiscard]] std::size_t size() const noexcept { return _size; }
    [[nodiscard]] std::size_t capacity() const noexcept { return _capacity; }
    [[nodiscard]] bool empty() const noexcept { return _size == 0; }
    [[nodiscard]] std::string_view view() const noexcept { return {_data.get(), _size}; }

    /// Forgets the contents; keeps the memory.
    void clear() noexcept { _size = 0; }

    /// Drops everything after the first `size_bytes` bytes (rolls back a partly written tuple).
    void truncate(std::size_t size_bytes) noexcept {
        PGINGEST_ASSERT(size_bytes <= _size);
        _size = size_bytes;
    }

    /// Ensures room for `capacity_bytes` in total without further growth. May allocate.
    void reserve(std::size_t capacity_bytes) {
        if (capacity_bytes > _capacity) {
            grow_to(capacity_bytes);
        }
    }

    /// Appends `count` uninitialised bytes and returns where they start; the caller fills them.
    /// The pointer is valid until the next call that may grow the buffer.
    [[nodiscard]] char* extend(std::size_t count) {
        if (_capacity - _size < count) [[unlikely]] {
            grow_for(count);
        }
        char* at = _data.get() + _size;
        _size += count;
        return at;
    }

    void put_bytes(const void* bytes, std::size_t count) {
        if (count > 0) {
            std::memcpy(extend(count), bytes, count);
        }
    }
    void put_bytes(std::string_view bytes) { put_bytes(bytes.data(), bytes.size()); }
    void put_u8(std::uint8_t value) { *extend(1) = static_cast<char>(value); }
    void put_u16(std::uint16_t value) { store_be(extend(2), value); }
    void put_u32(std::uint32_t value) { store_be(extend(4), value); }
    void put_u64(std::uint64_t value) { store_be(extend(8), value); }
    void put_i16(std::int16_t value) { put_u16(static_cast<std::uint16_t>(value)); }
    void put_i32(std::int32_t value) { put_u32(static_cast<std::uint32_t>(value)); }
    void put_i64(std::int64_t value) { put_u64(static_cast<std::uint64_t>(value)); }
    void put_f32(float value) { put_u32(std::bit_cast<std::uint32_t>(value)); }
    void put_f64(double value) { put_u64(std::bit_cast<std::uint64_t>(value)); }

    /// Appends a 4-byte placeholder and returns its offset, for `patch_i32` once the length of
    /// what follows is known (COPY field lengths, array and CopyData message lengths).
    [[nodiscard]] std::size_t put_placeholder_i32() {
        std::size_t at = _size;
        (void)extend(4);
        return at;
    }

    /// Overwrites the 4 bytes at `offset` with `value`, big-endian.
    void patch_i32(std::size_t offset, std::int32_t value) noexcept {
        PGINGEST_ASSERT(offset + 4 <= _size);
        store_be(_data.get() + offset, static_cast<std::uint32_t>(value));
    }

    /// Stores `value` big-endian at `at`; for encoders that reserve once and write unchecked.
    template <typename Unsigned>
    static void store_be(char* at, Unsigned value) noexcept {
        static_assert(std::is_unsigned_v<Unsigned>);
        if constexpr (std::endian::native == std::endian::little && sizeof(Unsigned) == 2) {
            value = __builtin_bswap16(value);
        } else if constexpr (std::endian::native == std::endian::little && sizeof(Unsigned) == 4) {
            value = __builtin_bswap32(value);
        } else if constexpr (std::endian::native == std::endian::little && sizeof(Unsigned) == 8) {
            value = __builtin_bswap64(value);
        }
        std::memcpy(at, &value, sizeof value);
    }

private:
    void grow_for(std::size_t count);
    void grow_to(std::size_t capacity_bytes);

    std::unique_ptr<char[]> _data;
    std::size_t _size = 0;
    std::size_t _capacity = 0;
};

}  // namespace pgingest
