// Proves, for one column of every type of a stock PostgreSQL 15 that binary COPY can write
// (enumerated from pg_type: base types, a created enum, domain and composite, every range and
// multirange, and the arrays of all of them), that a value pgingest stores is the server's own
// input of the same text, or that the load of such a column is refused before anything is
// written with a message naming the column. Any JSON value is stored as the server reads its
// text (json/jsonb: the member's JSON text) or its record is rejected naming the column, never
// stored as something else; JSON strings the server reads but pgingest rejects are listed (gaps
// of pgingest's text input for a type, not silent losses). New types in the catalog join the test
// by themselves, so a type that is neither encoded nor refused fails it.

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "codecs/copy_binary.hpp"
#include "engine/catalog.hpp"
#include "tests/load/load_support.hpp"
#include "tests/support/pg.hpp"
#include "codecs/load_plan.hpp"

using namespace pgingest;
using namespace pgingest::tools;

namespace {

struct Candidate {
    std::string json;  ///< the member's JSON text
    std::string text;  ///< what `'text'::type` reads; empty with `null`
    bool null = false;
    bool string = false;
};

std::string json_string(const std::string& text) {
    std::string json = "\"";
    for (char c : text) {
        json += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    }
    return json + "\"";
}

std::vector<Candidate> candidates() {
    std::vector<Candidate> all = {{"null", "", true, false}};
    for (const char* number : {"0",
                               "-0",
                               "1",
                               "-1",
                               "1.5",
                               "1.50",
                               "0.1",
                               "32767",
                               "-32768",
                               "2147483647",
                               "-2147483648",
                               "9223372036854775807",
                               "-9223372036854775808",
                               "1e3",
                               "3.4e38",
                               "1.7976931348623157e308",
                               "true",
                               "false",
                               "{\"a\":1}",
                               "[1,2]",
                               "[[1,2],[3,4]]"}) {
        all.push_back({number, number, false, false});
    }
    for (const char* text : {"",
                             "0",
                             "1",
                             "t",
                             "abc",
                             "a b",
                             "NaN",
                             "Infinity",
                             "-Infinity",
                             "infinity",
                             "empty",
                             "[1,5)",
                             "(1,5]",
                             "[1.5,2.5]",
                             "{[1,5)}",
                             "{}",
                             "{1,2}",
                             "{{1,2},{3,4}}",
                             "{NULL}",
                             "{a,b}",
                             "(1,x)",
                             "(2,)",
                             "12:00:00",
                             "23:59:59.999999",
                             "12:00:00+02",
                             "2024-01-02",
                             "2024-01-02 03:04:05",
                             "2024-01-02 03:04:05+00",
                             "infinity",
                             "1 day",
                             "-1 mon 2 days",
                             "10.0.0.1",
                             "10.0.0.0/8",
                             "::1",
                             "08:00:2b:01:02:03",
                             "08:00:2b:01:02:03:04:05",
                             "(1,2)",
                             "((0,0),(1,1))",
                             "[(0,0),(1,1)]",
                             "{1,2,3}",
                             "<(0,0),1>",
                             "((0,0),(1,0),(1,1))",
                             "a & b",
                             "a:1 b:2",
                             "$.a",
                             "0/16B6C50",
                             "101",
                             "B101",
                             "\\x0102",
                             "<a/>",
                             "1:2:",
                             "{\"a\": 1}",
                             "a=>1",
                             "top.mid",
                             "ok",
                             "sad",
                             "00000000-0000-0000-0000-000000000001",
                             "$1.50",
                             "5",
                             "-5",
                             "x",
                             "\"q\"",
                             "0.000123",
                             "1.50",
                             "100.000"}) {
        all.push_back({json_string(text), text, false, true});
    }
    return all;
}

}  // namespace

TEST_CASE("catalog: every type COPY can write is stored as the server reads it or refused",
          "[load][catalog][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS ct_all; DROP TYPE IF EXISTS ct_comp; DROP DOMAIN IF EXISTS "
        "ct_dom; DROP TYPE IF EXISTS ct_enum; CREATE TYPE ct_enum AS ENUM ('sad', 'ok'); "
        "CREATE DOMAIN ct_dom AS int4 CHECK (VALUE > 0); CREATE TYPE ct_comp AS (a int4, b "
        "text); CREATE OR REPLACE FUNCTION pg_temp.ct_valid(t text, ty regtype) RETURNS bool "
        "LANGUAGE plpgsql AS $$ BEGIN EXECUTE format('SELECT %L::%s', t, ty); RETURN true; "
        "EXCEPTION WHEN others THEN RETURN false; END $$");
    // Types a column can have and binary COPY can read (typreceive set, for arrays also the
    // element's): base, enum, domain, range, multirange, our composite, and their arrays.
    std::vector<std::string> types = conn.query_column(R"(
        SELECT format_type(t.oid, NULL) FROM pg_type t
        LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
        WHERE t.typisdefined AND t.typreceive <> 0
          AND t.typnamespace IN ('pg_catalog'::regnamespace, 'public'::regnamespace)
          AND (t.typtype IN ('b', 'e', 'd', 'r', 'm') OR t.oid = 'ct_comp'::regtype)
          AND (e.oid IS NULL OR (e.typreceive <> 0 AND e.typtype <> 'p' AND (e.typtype <> 'c' OR
                                                        e.oid = 'ct_comp'::regtype)))
          AND t.typname NOT IN ('unknown')
        ORDER BY t.oid)");
    REQUIRE(types.size() > 150);
    std::string create = "CREATE TABLE ct_all (id int4";
    for (std::size_t i = 0; i < types.size(); ++i) {
        create += ", c" + std::to_string(i) + " " + types[i];
    }
    conn.exec(create + ")");
    TableInfo table = read_table_info(conn, "ct_all");
    REQUIRE(table.columns.size() == types.size() + 1);

    std::vector<Candidate> pool = candidates();
    std::size_t refused = 0;
    std::string refused_types;  // for the report: which types pgingest cannot write
    std::size_t stored = 0;
    std::vector<std::string> failures;
    std::vector<std::string> gaps;
    std::int32_t id = 0;
    for (std::size_t i = 0; i < types.size(); ++i) {
        const std::string column = "c" + std::to_string(i);
        INFO(column + " " + types[i]);
        TableInfo one = table;
        one.columns = {table.columns[0], table.columns[i + 1]};
        LoadPlan plan;
        try {
            plan = make_load_plan(one, {});
        } catch (const std::invalid_argument& e) {
            CHECK(std::string(e.what()).find("column \"" + column + "\"") != std::string::npos);
            ++refused;
            refused_types += " " + types[i];
            continue;
        }
        // The candidates the server reads as this type, checked server-side in one query.
        std::string texts = "ARRAY[";
        for (std::size_t k = 1; k < pool.size(); ++k) {
            texts += (k > 1 ? "," : "") + test::sql_literal(conn, pool[k].text);
        }
        std::vector<std::string> valid =
            conn.query_column("SELECT ord::text FROM unnest(" + texts +
                              "]) WITH ORDINALITY AS u(t, ord) WHERE "
                              "pg_temp.ct_valid(t, " +
                              test::sql_literal(conn, types[i]) + "::regtype)");
        std::vector<std::size_t> chosen = {0};  // null
        for (const std::string& ord : valid) {
            chosen.push_back(std::stoul(ord));
        }
        RecordEncoder encoder(plan, JsonWriterOptions{});
        ByteBuffer stream;
        put_copy_header(stream);
        std::string expected = "VALUES ";
        std::size_t rows = 0;
        for (std::size_t k : chosen) {
            const Candidate& c = pool[k];
            std::string record =
                "{\"id\":" + std::to_string(++id) + ",\"" + column + "\":" + c.json + "}";
            simdjson::padded_string padded(record);
            std::size_t start = stream.size();
            put_tuple_header(stream, 2);
            RecordError error;
            if (!encoder.encode(padded, stream, error)) {
                stream.truncate(start);
                // A reject is no silent loss, but a JSON string the server reads is a gap of
                // pgingest's text input for the type: listed, for the record.
                CHECK(error.reason.find("column \"" + column + "\"") != std::string::npos);
                if (c.string || c.null) {
                    gaps.push_back(types[i] + " " + c.json + ": " + error.reason);
                }
                continue;
            }
            // json/jsonb store the member as JSON: its reference is the member's JSON text.
            bool json = plan.table.columns[1].type_name == "json" ||
                        plan.table.columns[1].type_name == "jsonb";
            expected += std::string(rows++ > 0 ? "," : "") + "(" + std::to_string(id) + ", " +
                        (c.null ? "NULL::text" : test::sql_literal(conn, json ? c.json : c.text)) +
                        ")";
        }
        put_copy_trailer(stream);
        if (rows == 0) {
            continue;
        }
        try {
            conn.copy_in(plan.table.copy_sql(), stream.view());
        } catch (const std::exception& e) {
            failures.push_back(types[i] + ": COPY failed: " + e.what());
            continue;
        }
        std::vector<std::string> wrong = conn.query_column(
            "SELECT v.id || ' ' || coalesce(v.t, 'NULL') || ' -> ' || coalesce(a." + column +
            "::text, 'NULL') FROM (" + expected + ") v(id, t) JOIN ct_all a USING (id) WHERE a." +
            column + "::text IS DISTINCT FROM (v.t::" + types[i] + ")::text");
        for (const std::string& row : wrong) {
            failures.push_back(types[i] + ": stored differently: " + row);
        }
        stored += rows;
    }
    std::string report;
    for (const std::string& failure : failures) {
        report += failure + "\n";
    }
    INFO(report);
    // No known failure: every value stored is the server's input of the same text (a JSON
    // string into bytea follows byteain since codecs/bytea.hpp).
    CHECK(failures.empty());
    CHECK(refused + stored > 0);
    std::string gap_report;
    for (const std::string& gap : gaps) {
        gap_report += gap + "\n";
    }
    WARN(std::to_string(types.size()) + " types: " + std::to_string(refused) +
         " refused up front (" + refused_types + " ), " + std::to_string(stored) +
         " values stored as the server reads "
         "them, " +
         std::to_string(gaps.size()) + " strings the server reads rejected:\n" + gap_report);
}
