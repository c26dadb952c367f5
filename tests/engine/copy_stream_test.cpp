// Proves CopyStream against a real server, on both I/O paths: every row sent is stored (exact
// count and checksum) with frames that split tuples; the io_uring path sees a server error sent
// mid-COPY at once and stops sending, where libpq sends everything first (FORMATS.md §5.4); a
// refused COPY and an aborted COPY leave the connection usable and the table untouched.

#include "engine/copy_stream.hpp"

#include <catch2/catch.hpp>

#include "codecs/copy_binary.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

// Splits the COPY stream for rows [0, rows) of (id int8, label text) into CopyData frames of
// about `frame_bytes`; frames end at arbitrary byte positions, splitting tuples.
std::vector<ByteBuffer> framed_batches(std::int64_t rows, std::size_t frame_bytes,
                                       std::int64_t bad_id = -1) {
    ByteBuffer stream;
    put_copy_header(stream);
    for (std::int64_t id = 0; id < rows; id++) {
        put_tuple_header(stream, 2);
        stream.put_i32(8);
        stream.put_i64(id == bad_id ? -id : id);
        std::string label = "label " + std::to_string(id);
        stream.put_i32(static_cast<std::int32_t>(label.size()));
        stream.put_bytes(label);
    }
    put_copy_trailer(stream);
    std::vector<ByteBuffer> frames;
    for (std::size_t at = 0; at < stream.size(); at += frame_bytes) {
        ByteBuffer frame;
        begin_copy_data(frame);
        frame.put_bytes(stream.data() + at, std::min(frame_bytes, stream.size() - at));
        end_copy_data(frame);
        frames.push_back(std::move(frame));
    }
    return frames;
}

}  // namespace

TEST_CASE("CopyStream: every row arrives on both I/O paths", "[engine][pg][uring]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS cs_rows; CREATE TABLE cs_rows (id int8, label text)");
    const std::int64_t rows = 200'000;
    auto frames = framed_batches(rows, 100'003);
    std::uint64_t expected_bytes = 0;
    CopyStream copy(conn, io);
    REQUIRE(copy.io() == io);
    copy.start("COPY cs_rows (id, label) FROM STDIN (FORMAT binary)");
    for (const auto& frame : frames) {
        REQUIRE(copy.send(frame));
        expected_bytes += frame.size();
    }
    CHECK(copy.finish() == static_cast<std::uint64_t>(rows));
    CHECK(copy.bytes_sent() == expected_bytes);
    CHECK(conn.query_value("SELECT count(*) FROM cs_rows") == "200000");
    CHECK(conn.query_value("SELECT sum(id) FROM cs_rows") == "19999900000");
    CHECK(conn.query_value("SELECT count(*) FROM cs_rows WHERE label = 'label ' || id") ==
          "200000");
}

TEST_CASE("CopyStream: io_uring sees a mid-COPY error at once and stops sending",
          "[engine][pg][uring]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS cs_check; "
        "CREATE TABLE cs_check (id int8 CHECK (id >= 0), label text)");
    // Row 5 violates the CHECK; then ~60 MB more follow that the server would discard.
    auto frames = framed_batches(3'000'000, 256 * 1024, 5);
    CopyStream copy(conn, CopyIo::uring);
    copy.start("COPY cs_check (id, label) FROM STDIN (FORMAT binary)");
    std::size_t frames_sent = 0;
    for (const auto& frame : frames) {
        if (!copy.send(frame)) {
            break;
        }
        frames_sent++;
    }
    CHECK(copy.server_error_seen());
    // The error is noticed within the socket buffers' worth of data, not after 60 MB.
    CHECK(frames_sent < frames.size() / 4);
    try {
        (void)copy.finish();
        FAIL("the COPY succeeded despite a CHECK violation");
    } catch (const ServerError& error) {
        CHECK(error.sqlstate() == "23514");
        CHECK_THAT(error.what(),
                   Catch::Contains("violates check constraint \"cs_check_id_check\""));
        CHECK_THAT(error.what(), Catch::Contains("COPY cs_check, line 6"));
    }
    CHECK(conn.query_value("SELECT count(*) FROM cs_check") == "0");
    CHECK(conn.query_value("SELECT 1") == "1");  // the connection is still usable
}

TEST_CASE("CopyStream: a COPY into a missing table is refused at start", "[engine][pg]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    CopyStream copy(conn, io);
    try {
        copy.start("COPY cs_missing (id) FROM STDIN (FORMAT binary)");
        FAIL("COPY into a missing table started");
    } catch (const ServerError& error) {
        CHECK(error.sqlstate() == "42P01");
        CHECK_THAT(error.what(), Catch::Contains("relation \"cs_missing\" does not exist"));
    }
    CHECK(conn.query_value("SELECT 2") == "2");
}

TEST_CASE("CopyStream: abort rolls the COPY back and keeps the connection", "[engine][pg]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS cs_abort; CREATE TABLE cs_abort (id int8, label text)");
    auto frames = framed_batches(1000, 4096);
    CopyStream copy(conn, io);
    copy.start("COPY cs_abort (id, label) FROM STDIN (FORMAT binary)");
    REQUIRE(copy.send(frames[0]));
    copy.abort(std::string(20'000, 'x'));  // longer than the server's CopyFail limit
    CHECK(conn.query_value("SELECT count(*) FROM cs_abort") == "0");
}
