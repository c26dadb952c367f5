// Proves the record plan of `pgingest load` against a real server's catalog: which column takes
// what (key, pointer, document, rest, constant; defaults left to the server), that every flag
// naming something wrong is refused before anything is written with a message naming the flag
// and the column, and that records encoded with the plan store exactly what the JSON said.

#include "codecs/load_plan.hpp"

#include <catch2/catch.hpp>

#include "codecs/copy_binary.hpp"
#include "engine/catalog.hpp"
#include "tests/load/load_support.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using namespace pgingest::tools;

namespace {

TableInfo make_table(Connection& conn) {
    conn.exec(
        "DROP TABLE IF EXISTS lp_events; CREATE TABLE lp_events (id bigserial PRIMARY KEY, "
        "kind text NOT NULL, actor_id int8, created_at timestamptz DEFAULT now(), "
        "score numeric, doc jsonb, rest jsonb, source text, g tid)");
    return read_table_info(conn, "lp_events");
}

std::string plan_error(const TableInfo& table, const MappingOptions& mapping) {
    try {
        (void)make_load_plan(table, mapping);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no error)";
}

/// Encodes `records` with `plan` and loads them; returns the rejected records' reasons.
std::vector<std::string> load(Connection& conn, const LoadPlan& plan,
                              const std::vector<std::string>& records) {
    RecordEncoder encoder(plan, JsonWriterOptions{});
    ByteBuffer stream;
    put_copy_header(stream);
    std::vector<std::string> errors;
    for (const std::string& record : records) {
        simdjson::padded_string padded(record);
        std::size_t start = stream.size();
        put_tuple_header(stream, static_cast<std::uint16_t>(plan.columns.size()));
        RecordError error;
        if (!encoder.encode(padded, stream, error)) {
            CHECK(stream.size() == start + 2);  // nothing of the record's fields left behind
            stream.truncate(start);
            errors.push_back(error.reason);
        }
    }
    put_copy_trailer(stream);
    conn.copy_in(plan.table.copy_sql(), stream.view());
    return errors;
}

}  // namespace

TEST_CASE("load plan: columns by key, defaults left to the server", "[load][plan][pg]") {
    auto conn = test::connect();
    TableInfo table = make_table(conn);
    LoadPlan plan = make_load_plan(table, MappingOptions{.skips = {"g"}});
    std::vector<std::string> names;
    for (const PlannedColumn& column : plan.columns) {
        names.push_back(column.column.name);
        CHECK(column.source == SourceKind::key);
    }
    CHECK(names == std::vector<std::string>{"kind", "actor_id", "score", "doc", "rest", "source"});
    CHECK(plan.left_out == std::vector<std::string>{"id", "created_at"});
    CHECK(plan.skipped == std::vector<std::string>{"g"});
    CHECK(plan.needs_object);
    CHECK(plan.table.copy_sql() ==
          "COPY public.lp_events (\"kind\", \"actor_id\", \"score\", \"doc\", \"rest\", "
          "\"source\") FROM STDIN (FORMAT binary)");
    CHECK(plan.describe().find("  id  (not sent: the server's default)") != std::string::npos);
}

TEST_CASE("load plan: --map, --set, --document-column, --rest-column", "[load][plan][pg]") {
    auto conn = test::connect();
    TableInfo table = make_table(conn);
    LoadPlan plan =
        make_load_plan(table, MappingOptions{.maps = {"actor_id=/actor/id", "created_at"},
                                             .sets = {"source=github"},
                                             .document_column = "doc",
                                             .rest_column = "rest",
                                             .skips = {"g"}});
    auto errors =
        load(conn, plan,
             {R"({"kind": "PushEvent", "actor": {"id": 42, "login": "x"}, "created_at": )"
              R"("2024-01-02T03:04:05Z", "score": 1.25, "extra": [1, {"a": null}]})",
              R"({"kind": "Other"})", R"({"kind": "Bad", "actor": {"id": "not a number"}})",
              R"(["not", "an", "object"])", R"({"kind": "Bad2", "created_at": "noon"})"});
    REQUIRE(errors.size() == 3);
    CHECK(errors[0] ==
          "column \"actor_id\" (bigint): value \"not a number\" at byte 0: not an integer");
    CHECK(errors[1] == "record is not a JSON object");
    CHECK(errors[2].starts_with(
        "column \"created_at\" (timestamp with time zone): value \"noon\" at byte 0: "
        "invalid timestamp"));
    auto rows = conn.query_column(
        "SELECT concat_ws('|', id, kind, coalesce(actor_id::text, 'NULL'), created_at, "
        "coalesce(score::text, 'NULL'), doc = '" +
        std::string(R"({"kind": "PushEvent", "actor": {"id": 42, "login": "x"}, "created_at": )"
                    R"("2024-01-02T03:04:05Z", "score": 1.25, "extra": [1, {"a": null}]})") +
        "'::jsonb, rest, source) FROM lp_events ORDER BY id");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] ==
          "1|PushEvent|42|2024-01-02 03:04:05+00|1.25|t|{\"extra\": [1, {\"a\": null}]}|"
          "github");
    // A missing member is NULL, also for a column with a default once it is named by --map.
    CHECK(rows[1] == "2|Other|NULL|NULL|f|{}|github");
}

TEST_CASE("load plan: flags naming something wrong are refused before loading",
          "[load][plan][pg]") {
    auto conn = test::connect();
    TableInfo table = make_table(conn);
    CHECK(plan_error(table, {.maps = {"nope=/a"}}) ==
          "--map nope=/a: table public.lp_events has no column \"nope\" (columns: id, kind, "
          "actor_id, created_at, score, doc, rest, source, g)");
    CHECK(plan_error(table, {.maps = {"kind=a/b"}}) ==
          "--map kind=a/b: \"a/b\" is not a JSON pointer (RFC 6901: \"/key/0/key\", '~' only as "
          "~0 or ~1)");
    CHECK(plan_error(table, {.maps = {"kind=/a~2"}}).starts_with("--map kind=/a~2: "));
    CHECK(plan_error(table, {.maps = {"doc=/a"}, .document_column = "doc"}) ==
          "--document-column doc: column \"doc\" already has a source (--map doc=/a)");
    CHECK(plan_error(table, {.document_column = "kind"}) ==
          "--document-column kind: column \"kind\" is text, not json or jsonb");
    CHECK(plan_error(table, {.rest_column = "score"}) ==
          "--rest-column score: column \"score\" is numeric, not json or jsonb");
    CHECK(plan_error(table, {.sets = {"actor_id=12x"}}) ==
          "--set actor_id=12x: column \"actor_id\" (bigint): value \"12x\" at byte 2: not an "
          "integer");
    CHECK(plan_error(table, {.sets = {"actor_id"}}) == "--set actor_id: expected COLUMN=VALUE");
    CHECK(plan_error(table, {.maps = {"g=/g"}}) ==
          "--map g=/g: column \"g\" has type tid, which pgingest cannot write");
    conn.exec("DROP TABLE IF EXISTS lp_defaults; CREATE TABLE lp_defaults (id serial)");
    CHECK(plan_error(read_table_info(conn, "lp_defaults"), {}) ==
          "table public.lp_defaults: no column to load (every column has a default or is "
          "skipped; name columns with --map)");
    CHECK(conn.query_value("SELECT count(*) FROM lp_events") == "0");
}

TEST_CASE("load plan: a document column stores what the server parses from the record",
          "[load][plan][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS lp_docs; CREATE TABLE lp_docs (id bigserial, name text, "
        "state jsonb)");
    LoadPlan plan = make_load_plan(read_table_info(conn, "lp_docs"),
                                   MappingOptions{.document_column = "state"});
    CHECK(plan.needs_object);  // name is still taken by key
    const std::string record =
        R"({"name": "snap", "agents": [{"id": 1, "memory": {"k": "värde \ud83d\ude00"}}], )"
        R"("big": 12345678901234567890, "neg": -0.0, "esc": "tab\tquote\"", "n": null})";
    REQUIRE(load(conn, plan, {record, "17"}).size() == 1);
    CHECK(conn.query_value("SELECT state = '" + record + "'::jsonb FROM lp_docs") == "t");
    CHECK(conn.query_value("SELECT name FROM lp_docs") == "snap");
}

TEST_CASE("load plan: integers beyond 64 bits are stored where the column can hold them",
          "[load][plan][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS lp_big; CREATE TABLE lp_big (n numeric, small int8, j jsonb, "
        "name text, rest jsonb, doc jsonb)");
    LoadPlan plan = make_load_plan(read_table_info(conn, "lp_big"),
                                   MappingOptions{.document_column = "doc", .rest_column = "rest"});
    const std::string big = "123456789012345678901234567890";
    const std::string record = R"({"n": )" + big + R"(, "small": 7, "j": {"x": -)" + big +
                               R"(}, "name": "b\u00e9", "other": [)" + big + "]}";
    auto errors =
        load(conn, plan, {record, R"({"small": )" + big + "}", R"({"n": 1, "name": )" + big + "}"});
    REQUIRE(errors.size() == 1);  // int8 cannot hold it; text takes the number's text
    CHECK(errors[0] == "column \"small\" (bigint): value \"" + big +
                           "\" at byte 0: integer out of range for the column's type");
    auto rows = conn.query_column(
        "SELECT concat_ws('|', n, small, j, name, rest, doc = " + test::sql_literal(conn, record) +
        "::jsonb) FROM lp_big ORDER BY n");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == "1|" + big + "|{}|f");
    CHECK(rows[1] == big + "|7|{\"x\": -" + big + "}|bé|{\"other\": [" + big + "]}|t");
}

TEST_CASE("load plan: numbers of 16 and more digits keep them wherever they sit in the record",
          "[load][plan][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS lp_digits; CREATE TABLE lp_digits (pad text, v text, n numeric, "
        "j jsonb, e real[])");
    LoadPlan plan = make_load_plan(read_table_info(conn, "lp_digits"), MappingOptions{});
    // Each value at every byte offset modulo 64 (the scan's chunk) and across a chunk boundary,
    // after embedding-like floats (runs of 10-12 bytes, which must not start the raw-text pass)
    // and a long run of digits and dots with fewer than 16 digits (which must not hide the
    // number after it).
    const std::vector<std::string> values = {"1234567.8901234567", "0.12345678901234567",
                                             "123456789012345.67", "1234567890123.4567",
                                             "-98765432109876.543"};
    const std::size_t shifts = 80;
    std::vector<std::string> records;
    for (const std::string& value : values) {
        for (std::size_t shift = 0; shift < shifts; ++shift) {
            records.push_back(R"({"pad": ")" + std::string(shift, 'x') +
                              R"(", "e": [0.959076166, -0.0583357811], )"
                              R"("v": "1.2.3.4.5.6.7.8.9.10.11", "n": )" +
                              value + R"(, "j": [)" + value + R"(, 0.66699934]})");
        }
    }
    REQUIRE(load(conn, plan, records).empty());
    for (const std::string& value : values) {
        INFO(value);
        CHECK(conn.query_value("SELECT count(*) FROM lp_digits WHERE n = " + value +
                               " AND n::text = '" + value + "' AND j = '[" + value +
                               ", 0.66699934]'::jsonb") == std::to_string(shifts));
    }
}
