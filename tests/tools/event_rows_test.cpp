// Proves tools/event_rows against a real server: the table it creates accepts its tuples through
// binary COPY, each stored row holds what the generator documents for its row number (stream,
// position, timestamps, run ids shared within a run, a ~100-byte payload), the unique index on
// (stream, step_id) holds, and a row depends only on the seed and its number.

#include "tools/event_rows.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "codecs/copy_binary.hpp"
#include "codecs/json_writer.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

std::string event_stream(const tools::EventRows& events, std::uint64_t first, std::uint64_t end) {
    ByteBuffer stream;
    JsonWriter json(stream);
    put_copy_header(stream);
    for (std::uint64_t row = first; row < end; row++) {
        REQUIRE(events.put_tuple(stream, json, row).ok());
    }
    put_copy_trailer(stream);
    return std::string(stream.data(), stream.size());
}

std::string copy_sql() {
    return "COPY evrows_events " + tools::EventRows::column_list() + " FROM STDIN (FORMAT binary)";
}

}  // namespace

TEST_CASE("event rows: the server stores each row as the generator describes it", "[tools][pg]") {
    auto conn = test::connect();
    const tools::EventRows events;
    conn.exec("DROP TABLE IF EXISTS evrows_events");
    conn.exec(events.create_table_sql("evrows_events"));
    REQUIRE(conn.copy_in(copy_sql(), event_stream(events, 0, 64)) == 64);

    CHECK(conn.query_value("SELECT count(DISTINCT stream) || ' ' || count(DISTINCT run_id) || ' '"
                           " || min(id) || ' ' || max(id) FROM evrows_events") == "4 4 1 64");
    // Row 19: run 1, the 4th event of its stream, 19 × 0.25 s after 2026-05-18 00:00 UTC.
    CHECK(conn.query_value(
              "SELECT stream || ' ' || step_id || ' ' || flow_name || ' ' || step_name || ' ' ||"
              " (ts = timestamptz '2026-05-18 00:00:04.75+00') || ' ' || (attempt IN (1, 2))"
              " || ' ' || (type IN ('step_started', 'step_completed', 'step_retried'))"
              " FROM evrows_events WHERE id = 20") ==
          "run/1 3 answer-question parse true true true");
    CHECK(conn.query_value("SELECT string_agg(type, ',' ORDER BY step_id) FROM evrows_events"
                           " WHERE stream = 'run/0' AND step_id IN (0, 15)") ==
          "run_started,run_completed");
    CHECK(conn.query_value("SELECT min(octet_length(payload::text)) >= 60 AND"
                           " max(octet_length(payload::text)) <= 160 AND"
                           " bool_and(payload ? 'worker') FROM evrows_events") == "t");

    try {
        (void)conn.copy_in(copy_sql(), event_stream(events, 16, 17));
        FAIL("a repeated (stream, step_id) was stored");
    } catch (const ServerError& error) {
        CHECK_THAT(error.what(), Catch::Contains("evrows_events_stream_step"));
    }
}

TEST_CASE("event rows: a row depends only on the seed and its number", "[tools]") {
    const tools::EventRows events(tools::EventRowOptions{.seed = 7});
    const tools::EventRows same(tools::EventRowOptions{.seed = 7});
    const tools::EventRows other(tools::EventRowOptions{.seed = 8});
    auto fields = [](const tools::EventRows& generator, std::uint64_t row) {
        ByteBuffer out;
        JsonWriter json(out);
        REQUIRE(generator.put_fields(out, json, row).ok());
        return std::string(out.data(), out.size());
    };
    CHECK(fields(events, 1000) == fields(same, 1000));
    CHECK(fields(events, 1000) != fields(events, 1001));
    CHECK(fields(events, 1000) != fields(other, 1000));
}
