#pragma once

// uuid (FORMATS.md §2.1).
//
//   uuid : [length:i32=16][bytes:u8 × 16]   the bytes in the order of the text form
//
// Server side: utils/adt/uuid.c uuid_recv (exactly 16 bytes, any content). Text input follows
// uuid.c string_to_uuid (uuid_in).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// The 16 bytes of a uuid, most significant first (as in the text form and on the wire).
using UuidBytes = std::array<std::uint8_t, 16>;

/// Bytes `encode_uuid` appends (length prefix included). Pure.
constexpr std::size_t uuid_encoded_size_max() noexcept { return 4 + 16; }

/// Parses a uuid as uuid_in (uuid.c string_to_uuid, PG15) does: 32 hex digits, either case,
/// optionally wrapped in `{}`, with an optional `-` after any group of 4 digits except the last
/// (so canonical `8-4-4-4-12`, no hyphens, and `a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11` all pass).
/// No whitespace anywhere. `Errc::invalid_uuid` at the first byte that cannot continue a uuid
/// (the end of the text when it is too short or a `}` is missing). Pure, any thread.
[[nodiscard]] Status parse_uuid(std::string_view text, UuidBytes& bytes) noexcept;

/// Appends a uuid field: length 16 and the bytes (uuid.c uuid_recv). Does not fail; allocates
/// only if `out` must grow.
inline void encode_uuid(ByteBuffer& out, const UuidBytes& bytes) {
    char* at = out.extend(uuid_encoded_size_max());
    ByteBuffer::store_be(at, std::uint32_t{16});
    std::memcpy(at + 4, bytes.data(), bytes.size());
}

/// `parse_uuid` then `encode_uuid`. On error the buffer is unchanged.
[[nodiscard]] Status encode_uuid_text(ByteBuffer& out, std::string_view text);

}  // namespace pgingest
