#include "codecs/utf8.hpp"

#include <simdjson.h>

#include <cstdint>
#include <cstring>

namespace pgingest {

namespace {

// Length of the well-formed sequence starting at `at`, or 0. Only runs after the SIMD validator
// said no, to find where (Unicode Table 3-7, "Well-Formed UTF-8 Byte Sequences").
std::size_t sequence_length(const unsigned char* at, std::size_t left) noexcept {
    unsigned char lead = at[0];
    if (lead < 0x80) {
        return 1;
    }
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;
        high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (left < length || at[1] < low || at[1] > high) {
        return 0;
    }
    for (std::size_t k = 2; k < length; k++) {
        if (at[k] < 0x80 || at[k] > 0xBF) {
            return 0;
        }
    }
    return length;
}

std::uint32_t first_invalid_offset(std::string_view bytes) noexcept {
    const auto* begin = reinterpret_cast<const unsigned char*>(bytes.data());
    std::size_t i = 0;
    while (i < bytes.size()) {
        std::size_t length = sequence_length(begin + i, bytes.size() - i);
        if (length == 0) {
            break;
        }
        i += length;
    }
    return static_cast<std::uint32_t>(i);
}

}  // namespace

Status validate_utf8(std::string_view bytes) noexcept {
    if (simdjson::validate_utf8(bytes.data(), bytes.size())) [[likely]] {
        return Status{};
    }
    return Status{Errc::invalid_utf8, first_invalid_offset(bytes)};
}

Status validate_text(std::string_view bytes) noexcept {
    if (const void* nul = std::memchr(bytes.data(), 0, bytes.size())) {
        auto offset = static_cast<const char*>(nul) - bytes.data();
        Status before = validate_utf8(bytes.substr(0, static_cast<std::size_t>(offset)));
        if (!before.ok()) {
            return before;
        }
        return Status{Errc::nul_in_text, static_cast<std::uint32_t>(offset)};
    }
    return validate_utf8(bytes);
}

std::size_t encode_utf8(char* out, char32_t code) noexcept {
    if (code < 0x80) {
        out[0] = static_cast<char>(code);
        return 1;
    }
    if (code < 0x800) {
        out[0] = static_cast<char>(0xC0 | (code >> 6));
        out[1] = static_cast<char>(0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = static_cast<char>(0xE0 | (code >> 12));
        out[1] = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out[2] = static_cast<char>(0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = static_cast<char>(0xF0 | (code >> 18));
    out[1] = static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out[2] = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out[3] = static_cast<char>(0x80 | (code & 0x3F));
    return 4;
}

}  // namespace pgingest
