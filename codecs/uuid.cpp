#include "codecs/uuid.hpp"

#include "codecs/detail/hex.hpp"

namespace pgingest {

namespace {

using detail::hex_value;

constexpr Status invalid_at(std::size_t at) noexcept {
    return Status{Errc::invalid_uuid, static_cast<std::uint32_t>(at)};
}

}  // namespace

Status parse_uuid(std::string_view text, UuidBytes& bytes) noexcept {
    // A uuid is at most 2 + 32 + 7 bytes long; anything longer fails within that distance, so
    // the offsets below stay small.
    std::size_t at = 0;
    const bool braces = !text.empty() && text[0] == '{';
    if (braces) {
        at++;
    }
    UuidBytes parsed{};
    for (std::size_t i = 0; i < parsed.size(); i++) {
        int high = at < text.size() ? hex_value(text[at]) : -1;
        if (high < 0) {
            return invalid_at(at);
        }
        int low = at + 1 < text.size() ? hex_value(text[at + 1]) : -1;
        if (low < 0) {
            return invalid_at(at + 1);
        }
        parsed[i] = static_cast<std::uint8_t>(high * 16 + low);
        at += 2;
        // string_to_uuid: one hyphen may follow every second byte (a group of 4 digits),
        // except the last.
        if (at < text.size() && text[at] == '-' && i % 2 == 1 && i + 1 < parsed.size()) {
            at++;
        }
    }
    if (braces) {
        if (at == text.size() || text[at] != '}') {
            return invalid_at(at);
        }
        at++;
    }
    if (at != text.size()) {
        return invalid_at(at);
    }
    bytes = parsed;
    return Status{};
}

Status encode_uuid_text(ByteBuffer& out, std::string_view text) {
    UuidBytes bytes;
    Status status = parse_uuid(text, bytes);
    if (status.ok()) {
        encode_uuid(out, bytes);
    }
    return status;
}

}  // namespace pgingest
