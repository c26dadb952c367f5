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

}  // namespace pgingest::test
