#include "tests/support/pg.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>

#include "codecs/copy_binary.hpp"

namespace pgingest::test {

LocalCluster& cluster() {
    // A function-local static: started by the first test that needs it, destroyed (server
    // stopped, directory removed) at exit. If starting throws, the next call tries again.
    static LocalCluster instance(LocalClusterOptions{});
    return instance;
}

Connection connect() {
    return Connection(cluster().conninfo());
}

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

std::string server_field(Connection& conn, std::string_view expression) {
    std::string stream =
        conn.copy_out("COPY (SELECT " + std::string(expression) + ") TO STDOUT (FORMAT binary)");
    // header (19) + field count (2) + length (4) + data + trailer (2)
    REQUIRE(stream.size() >= copy_header_size + 2 + 4 + copy_trailer_size);
    std::int32_t length = read_i32(stream, copy_header_size + 2);
    REQUIRE(length >= 0);
    std::size_t data_at = copy_header_size + 2 + 4;
    REQUIRE(data_at + static_cast<std::size_t>(length) + copy_trailer_size == stream.size());
    return stream.substr(data_at, static_cast<std::size_t>(length));
}

std::string field_data(std::string_view encoded_field) {
    REQUIRE(encoded_field.size() >= 4);
    std::int32_t length = read_i32(encoded_field, 0);
    REQUIRE(length >= 0);
    REQUIRE(static_cast<std::size_t>(length) + 4 == encoded_field.size());
    return std::string(encoded_field.substr(4));
}

std::string round_trip(Connection& conn, std::string_view column_type,
                       std::string_view encoded_field, std::string_view table) {
    const std::string name = conn.quote_identifier(table);
    conn.exec("DROP TABLE IF EXISTS " + name + "; CREATE TABLE " + name + " (v " +
              std::string(column_type) + ")");
    ByteBuffer stream;
    put_copy_header(stream);
    put_tuple_header(stream, 1);
    stream.put_bytes(encoded_field);
    put_copy_trailer(stream);
    std::uint64_t rows =
        conn.copy_in("COPY " + name + " (v) FROM STDIN (FORMAT binary)", stream.view());
    REQUIRE(rows == 1);
    std::vector<std::string> values =
        conn.query_column("SELECT coalesce(v::text, '<NULL>') FROM " + name);
    REQUIRE(values.size() == 1);
    return values[0];
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
