// Proves the COPY BINARY framing (codecs/copy_binary.hpp) and ByteBuffer against a real server:
// the header, NULL fields and trailer we write are byte-for-byte what `COPY ... TO STDOUT (FORMAT
// binary)` writes, the server accepts our streams, and malformed framing is refused with the
// server's own error (so the harness really reports server errors).

#include <catch2/catch.hpp>

#include "codecs/copy_binary.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

TEST_CASE("ByteBuffer: big-endian writers and length back-patching", "[codecs]") {
    ByteBuffer buffer;
    buffer.put_u8(0x64);
    buffer.put_i16(-2);
    buffer.put_i32(1);
    buffer.put_i64(-1);
    buffer.put_f32(1.5f);
    buffer.put_f64(-0.0);
    std::size_t at = buffer.put_placeholder_i32();
    buffer.put_bytes("xyz");
    buffer.patch_i32(at, 3);
    CHECK(hex(buffer.view()) ==
          "64 ff fe 00 00 00 01 ff ff ff ff ff ff ff ff 3f c0 00 00 "
          "80 00 00 00 00 00 00 00 00 00 00 03 78 79 7a");
    buffer.truncate(1);
    CHECK(hex(buffer.view()) == "64");
}

TEST_CASE("ByteBuffer: growth keeps earlier bytes", "[codecs]") {
    ByteBuffer buffer(1);
    for (std::uint32_t i = 0; i < 10000; i++) {
        buffer.put_u32(i);
    }
    REQUIRE(buffer.size() == 40000);
    for (std::uint32_t i = 0; i < 10000; i += 997) {
        auto byte = static_cast<unsigned char>(buffer.data()[i * 4 + 3]);
        CHECK(byte == (i & 0xFF));
    }
}

TEST_CASE("copy framing: header, NULL and trailer equal the server's COPY TO output",
          "[codecs][pg]") {
    auto conn = test::connect();
    std::string server = conn.copy_out(
        "COPY (SELECT 1::int4, NULL::text) TO STDOUT (FORMAT binary)");

    ByteBuffer ours;
    put_copy_header(ours);
    put_tuple_header(ours, 2);
    ours.put_i32(4);
    ours.put_i32(1);
    put_null(ours);
    put_copy_trailer(ours);
    CHECK(hex(ours.view()) == hex(server));
    CHECK(ours.size() == copy_header_size + 2 + 8 + 4 + copy_trailer_size);
}

TEST_CASE("copy framing: a stream of many tuples loads with the exact row count",
          "[codecs][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS framing; CREATE TABLE framing (a int4, b text)");
    ByteBuffer stream;
    put_copy_header(stream);
    for (std::int32_t i = 0; i < 1000; i++) {
        put_tuple_header(stream, 2);
        stream.put_i32(4);
        stream.put_i32(i);
        if (i % 10 == 0) {
            put_null(stream);
        } else {
            FieldStart field = begin_field(stream);
            stream.put_bytes("row " + std::to_string(i));
            REQUIRE(end_field(stream, field).ok());
        }
    }
    put_copy_trailer(stream);
    // 7-byte CopyData chunks: tuples cross message boundaries, which the protocol allows.
    CHECK(conn.copy_in("COPY framing FROM STDIN (FORMAT binary)", stream.view(), 7) == 1000);
    CHECK(conn.query_value("SELECT count(*) FROM framing WHERE b IS NULL") == "100");
    CHECK(conn.query_value("SELECT sum(a) FROM framing") == "499500");
    CHECK(conn.query_value("SELECT b FROM framing WHERE a = 999") == "row 999");
}

TEST_CASE("copy framing: a wrong field count is refused by the server and nothing is stored",
          "[codecs][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS framing_bad; CREATE TABLE framing_bad (a int4, b int4)");
    ByteBuffer stream;
    put_copy_header(stream);
    put_tuple_header(stream, 2);
    stream.put_i32(4);
    stream.put_i32(1);
    put_null(stream);
    put_tuple_header(stream, 3);  // the server expects 2
    for (int i = 0; i < 3; i++) {
        put_null(stream);
    }
    try {
        (void)conn.copy_in("COPY framing_bad FROM STDIN (FORMAT binary)", stream.view());
        FAIL("the server accepted a tuple with 3 fields for 2 columns");
    } catch (const ServerError& error) {
        CHECK(error.sqlstate() == "22P04");
        CHECK_THAT(error.what(), Catch::Contains("row field count is 3, expected 2"));
        CHECK_THAT(error.what(), Catch::Contains("COPY framing_bad, line 2"));
    }
    CHECK(conn.query_value("SELECT count(*) FROM framing_bad") == "0");
}

TEST_CASE("end_field: a field over the server's 1 GiB limit is an error, not a bad length",
          "[codecs][.]") {
    ByteBuffer buffer;
    FieldStart field = begin_field(buffer);
    (void)buffer.extend(copy_field_size_max + 1);
    Status status = end_field(buffer, field);
    CHECK(status.code == Errc::field_too_large);
}
