#include "tests/support/bytes.hpp"

#include <catch2/catch.hpp>
#include <cstdio>

#include "codecs/copy_binary.hpp"

namespace pgingest::test {

std::int32_t read_i32(std::string_view bytes, std::size_t at) {
    REQUIRE(at + 4 <= bytes.size());
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; i++) {
        value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
    }
    return static_cast<std::int32_t>(value);
}

std::vector<std::optional<std::string>> stream_fields(std::string_view stream) {
    std::vector<std::optional<std::string>> fields;
    std::size_t at = copy_header_size;
    while (at + 2 <= stream.size() && stream.substr(at, 2) != std::string_view("\xff\xff", 2)) {
        at += 2;  // the field count, 1
        std::int32_t length = read_i32(stream, at);
        at += 4;
        if (length < 0) {
            fields.emplace_back(std::nullopt);
            continue;
        }
        REQUIRE(at + static_cast<std::size_t>(length) <= stream.size());
        fields.emplace_back(std::string(stream.substr(at, static_cast<std::size_t>(length))));
        at += static_cast<std::size_t>(length);
    }
    return fields;
}

std::string field_data(std::string_view encoded_field) {
    REQUIRE(encoded_field.size() >= 4);
    std::int32_t length = read_i32(encoded_field, 0);
    REQUIRE(length >= 0);
    REQUIRE(static_cast<std::size_t>(length) + 4 == encoded_field.size());
    return std::string(encoded_field.substr(4));
}

std::string hex(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 3);
    char pair[4];
    for (char raw : bytes) {
        auto byte = static_cast<unsigned char>(raw);
        std::snprintf(pair, sizeof pair, "%02x ", byte);
        out += pair;
    }
    if (!out.empty()) {
        out.pop_back();
    }
    return out;
}

}  // namespace pgingest::test
