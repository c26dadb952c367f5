// Proves, by running the built `pgingest load` against the test server, that every value is
// stored as written or the record is rejected, and that nothing is dropped silently: numbers keep
// their text and scale in text, numeric, json and jsonb columns (compared in SQL with the
// server's own input of the same text), float4/float8 take the correctly rounded value and
// refuse out-of-range numbers with the server's words, the last of duplicate keys wins, an empty
// document file is one reject, a column left to the server rejects records with a value for it,
// and a column pgingest cannot write refuses the load up front (exit 2) naming the column.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/load/load_support.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

struct Loaded {
    test::CliResult result;
    std::vector<test::Reject> rejects;
};

Loaded load(const std::string& table, const std::vector<std::string>& flags,
            const std::string& ndjson) {
    test::TempDir dir;
    std::string input = dir.write("in.ndjson", ndjson);
    std::string rejects = dir.path("rejects.ndjson");
    std::vector<std::string> args = {"load",    "--db",      test::cluster().conninfo(),
                                     "--table", table,       "--rejects",
                                     rejects,   "--summary", "json"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(input);
    Loaded loaded{test::run_pgingest(args), {}};
    if (std::filesystem::exists(rejects)) {
        loaded.rejects = test::read_rejects(rejects);
    }
    return loaded;
}

}  // namespace

TEST_CASE("values: numbers keep every digit and their scale in text, numeric, json, jsonb",
          "[load][values][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS vl_num; CREATE TABLE vl_num (id int4, t text, v varchar(60), "
        "n numeric, js json, jb jsonb, pm text, pn numeric, r jsonb)");
    const std::vector<std::string> literals = {"1.50",
                                               "100.000",
                                               "0.10",
                                               "2.5e-400",
                                               "1.0e-5",
                                               "12345678901234567890.123456789",
                                               "3.141592653589793238462643383279",
                                               "-0",
                                               "-0.0",
                                               "0.00001",
                                               "1E+2",
                                               "0.0001",
                                               "42",
                                               "1.5",
                                               "-7.25e3",
                                               "123456789012345678901234567890",
                                               "0.000123"};
    std::string ndjson;
    for (std::size_t i = 0; i < literals.size(); ++i) {
        const std::string& l = literals[i];
        ndjson += "{\"id\":" + std::to_string(i) + ",\"t\":" + l + ",\"v\":" + l + ",\"n\":" + l +
                  ",\"js\":{\"a\":" + l + "},\"jb\":{\"a\":" + l + "},\"p\":{\"x\":" + l +
                  ",\"y\":[" + l + "]},\"o\":" + l + "}\n";
    }
    Loaded loaded =
        load("vl_num", {"--map", "pm=/p/x", "--map", "pn=/p/y/0", "--rest-column", "r"}, ndjson);
    INFO(loaded.result.output);
    REQUIRE(loaded.result.exit_code == 0);
    for (std::size_t i = 0; i < literals.size(); ++i) {
        const std::string& l = literals[i];
        INFO(l);
        std::string q = "'" + l + "'";
        CHECK(conn.query_value("SELECT concat_ws(',', t = " + q + ", v = " + q + ", n::text = (" +
                               q + "::numeric)::text, js::text = '{\"a\":" + l +
                               "}', jb::text = ('{\"a\":" + l + "}'::jsonb)::text, pm = " + q +
                               ", pn::text = (" + q + "::numeric)::text, r::text = ('{\"o\": " + l +
                               "}'::jsonb)::text) FROM vl_num WHERE id = " + std::to_string(i)) ==
              "t,t,t,t,t,t,t,t");
    }
}

TEST_CASE("values: float4/float8 round the text once; out of range says so", "[load][values][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS vl_float; CREATE TABLE vl_float (id int4, f4 real, f8 float8)");
    const std::vector<std::string> stored = {"1.5",
                                             "0.1",
                                             "1.00000005960464477550",
                                             "3.4028235e38",
                                             "1e-45",
                                             "-0",
                                             "-0.0",
                                             "\"-Infinity\"",
                                             "\"NaN\"",
                                             "\"Infinity\"",
                                             "2.2250738585072014e-308",
                                             "16777217"};
    std::string ndjson;
    for (std::size_t i = 0; i < stored.size(); ++i) {
        ndjson += "{\"id\":" + std::to_string(i) + ",\"f4\":" + stored[i] + ",\"f8\":" + stored[i] +
                  "}\n";
    }
    ndjson +=
        "{\"id\":100,\"f8\":1e999}\n{\"id\":101,\"f8\":-Infinity}\n{\"id\":102,\"f4\":1e39}\n"
        "{\"id\":103,\"f4\":-1e999}\n{\"id\":104,\"f8\":-1e999}\n";
    Loaded loaded = load("vl_float", {}, ndjson);
    INFO(loaded.result.output);
    CHECK(loaded.result.exit_code == 1);
    for (std::size_t i = 0; i < stored.size(); ++i) {
        std::string text =
            stored[i].front() == '"' ? stored[i].substr(1, stored[i].size() - 2) : stored[i];
        INFO(text);
        if (text == "2.2250738585072014e-308") {  // below float4's range: the record is a reject
            CHECK(conn.query_value("SELECT count(*) FROM vl_float WHERE id = " +
                                   std::to_string(i)) == "0");
            continue;
        }
        CHECK(conn.query_value(
                  "SELECT concat_ws(',', f4 = '" + text + "'::real, f4::text = ('" + text +
                  "'::real)::text, f8 = '" + text + "'::float8, f8::text = ('" + text +
                  "'::float8)::text) FROM vl_float WHERE id = " + std::to_string(i)) == "t,t,t,t");
    }
    std::vector<std::string> reasons;
    for (const test::Reject& reject : loaded.rejects) {
        reasons.push_back(reject.reason);
    }
    std::sort(reasons.begin(), reasons.end());
    CHECK(reasons == std::vector<std::string>{
                         "column \"f4\" (real): value \"-1e999\" at byte 0: out of range for type "
                         "real",
                         "column \"f4\" (real): value \"1e39\" at byte 0: out of range for type "
                         "real",
                         "column \"f4\" (real): value \"2.2250738585072014e-308\" at byte 0: out "
                         "of range for type real",
                         "column \"f8\" (double precision): value \"-1e999\" at byte 0: out of "
                         "range for type double precision",
                         "column \"f8\" (double precision): value \"-Infinity\" at byte 0: out of "
                         "range for type double precision",
                         "column \"f8\" (double precision): value \"1e999\" at byte 0: out of "
                         "range for type double precision"});
}

TEST_CASE("values: of duplicate keys the last wins, for columns, pointers, rest and document",
          "[load][values][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS vl_dup; CREATE TABLE vl_dup (id int4, s text, n numeric, k int4, "
        "pn numeric, r jsonb, d jsonb)");
    std::string first = R"({"id":1,"s":"first","s":"second","o":{"k":1,"k":2},"x":1,"x":2})";
    std::string second = R"({"id":2,"n":1.50,"n":2.50,"o":{"k":3,"q":1.0,"q":2.50},"id":3})";
    Loaded loaded = load(
        "vl_dup",
        {"--map", "k=/o/k", "--map", "pn=/o/q", "--document-column", "d", "--rest-column", "r"},
        first + "\n" + second + "\n");
    INFO(loaded.result.output);
    REQUIRE(loaded.result.exit_code == 0);
    CHECK(conn.query_value("SELECT concat_ws('|', s, k, r, d = '" + first +
                           "'::jsonb) FROM vl_dup WHERE id = 1") == "second|2|{\"x\": 2}|t");
    CHECK(conn.query_value("SELECT concat_ws('|', n, k, pn, r, d = '" + second +
                           "'::jsonb) FROM vl_dup WHERE id = 3") == "2.50|3|2.50|{}|t");
}

TEST_CASE("values: an empty or blank file in --format document is one reject naming it",
          "[load][values][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS vl_doc; CREATE TABLE vl_doc (d jsonb)");
    test::TempDir dir;
    std::string empty = dir.write("empty.json", "");
    std::string blank = dir.write("blank.json", " \n\t\n");
    std::string good = dir.write("good.json", "{\"a\": 1}\n");
    std::string rejects = dir.path("rejects.ndjson");
    test::CliResult result = test::run_pgingest(
        {"load", "--db", test::cluster().conninfo(), "--table", "vl_doc", "--format", "document",
         "--document-column", "d", "--rejects", rejects, "--summary", "json", empty, blank, good});
    INFO(result.output);
    CHECK(result.exit_code == 1);
    test::Summary summary = test::parse_summary(result.output);
    CHECK(summary.rows_read == 3);
    CHECK(summary.rows_loaded == 1);
    CHECK(summary.rows_rejected == 2);
    std::vector<test::Reject> lines = test::read_rejects(rejects);
    REQUIRE(lines.size() == 2);
    std::sort(lines.begin(), lines.end(),
              [](const test::Reject& a, const test::Reject& b) { return a.source < b.source; });
    CHECK(lines[0].source == blank);
    CHECK(lines[1].source == empty);
    for (const test::Reject& line : lines) {
        CHECK(line.line == 1);
        CHECK(line.reason == "the file holds no JSON document (it is empty or only whitespace)");
    }
    CHECK(conn.query_value("SELECT d FROM vl_doc") == "{\"a\": 1}");
}

TEST_CASE("values: a record with a value for a column left to the server is rejected",
          "[load][values][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS vl_left; CREATE TABLE vl_left (id bigserial, name text, "
        "created_at timestamptz DEFAULT '2000-01-01Z', note text, r jsonb)");
    std::string ndjson =
        "{\"name\":\"a\",\"created_at\":\"2024-01-02T03:04:05Z\"}\n"
        "{\"name\":\"b\",\"created_at\":null}\n{\"name\":\"c\",\"note\":\"n\"}\n";
    Loaded loaded = load("vl_left", {"--skip", "note", "--skip", "r"}, ndjson);
    INFO(loaded.result.output);
    CHECK(loaded.result.exit_code == 1);
    REQUIRE(loaded.rejects.size() == 2);
    std::sort(loaded.rejects.begin(), loaded.rejects.end(),
              [](const test::Reject& a, const test::Reject& b) { return a.line < b.line; });
    CHECK(loaded.rejects[0].reason ==
          "column \"created_at\" (timestamp with time zone) has a default and is not loaded, but "
          "the record has a value for it: load it with --map created_at, or keep it with "
          "--rest-column");
    CHECK(loaded.rejects[1].reason ==
          "column \"note\" (text) is skipped (--skip note), but the record has a value for it: "
          "keep it with --rest-column, or drop --skip note to load it");
    CHECK(conn.query_value("SELECT string_agg(name || ':' || created_at::date, ',') FROM "
                           "vl_left") == "b:2000-01-01");

    // With a rest column the member is kept there, not rejected.
    conn.exec("TRUNCATE vl_left");
    loaded = load("vl_left", {"--skip", "note", "--rest-column", "r"}, ndjson);
    CHECK(loaded.result.exit_code == 0);
    CHECK(conn.query_value("SELECT string_agg(name || ':' || r::text, ',' ORDER BY name) FROM "
                           "vl_left") ==
          "a:{\"created_at\": \"2024-01-02T03:04:05Z\"},b:{\"created_at\": null},"
          "c:{\"note\": \"n\"}");

    test::CliResult dry =
        test::run_pgingest({"load", "--db", test::cluster().conninfo(), "--table", "vl_left",
                            "--skip", "note", "--skip", "r", "--dry-run"});
    CHECK(dry.exit_code == 0);
    CHECK(dry.output.find("  created_at  (not sent: the server's default)  timestamp with time "
                          "zone; a record with a value for it is rejected\n") != std::string::npos);
    CHECK(dry.output.find("  note  (not sent: --skip, the server's default or NULL)  text; a "
                          "record with a value for it is rejected\n") != std::string::npos);
}

TEST_CASE(
    "values: time, inet, enum, domain are stored as the server reads them or refused "
    "up front",
    "[load][values][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS vl_r1; DROP TYPE IF EXISTS vl_mood; DROP DOMAIN IF EXISTS "
        "vl_posint; CREATE TYPE vl_mood AS ENUM ('sad', 'ok'); CREATE DOMAIN vl_posint AS int "
        "CHECK (VALUE > 0); CREATE TABLE vl_r1 (id int, t time, ip inet, e vl_mood, "
        "dom vl_posint)");
    Loaded loaded = load("vl_r1", {},
                         "{\"id\":1,\"t\":\"12:00:00\",\"ip\":\"10.0.0.1\",\"e\":\"ok\","
                         "\"dom\":5}\n{\"id\":2,\"t\":\"12:00:00\",\"ip\":\"10.0.0.1\","
                         "\"e\":\"ok\",\"dom\":-5}\n");
    INFO(loaded.result.output);
    if (loaded.result.exit_code == 2) {
        // Refused before anything was written, naming a column, its type and --skip.
        CHECK(loaded.result.output.find("which pgingest cannot write yet; nothing was loaded") !=
              std::string::npos);
        CHECK(loaded.result.output.find("--skip ") != std::string::npos);
        bool named = false;
        for (const char* column : {"\"t\" has type time", "\"ip\" has type inet",
                                   "\"e\" has type vl_mood", "\"dom\" has type vl_posint"}) {
            named = named || loaded.result.output.find(column) != std::string::npos;
        }
        CHECK(named);
        CHECK(conn.query_value("SELECT count(*) FROM vl_r1") == "0");
    } else {
        CHECK(loaded.result.exit_code == 1);  // the domain's CHECK refuses dom = -5
        REQUIRE(loaded.rejects.size() == 1);
        CHECK(loaded.rejects[0].line == 2);
        CHECK(conn.query_value("SELECT count(*) FROM vl_r1 WHERE id = 1 AND t = '12:00:00' AND "
                               "ip = '10.0.0.1' AND e = 'ok' AND dom = 5") == "1");
        CHECK(conn.query_value("SELECT count(*) FROM vl_r1") == "1");
    }
}

TEST_CASE("values: --skip leaves a column pgingest cannot write to the server",
          "[load][values][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS vl_skip; CREATE TABLE vl_skip (id int, a pg_snapshot)");
    Loaded plain = load("vl_skip", {}, "{\"id\":1}\n");
    INFO(plain.result.output);
    if (plain.result.exit_code == 2) {  // while pg_snapshot has no encoder
        CHECK(plain.result.output.find(
                  "table public.vl_skip: column \"a\" has type pg_snapshot, which pgingest cannot "
                  "write yet; nothing was loaded. Leave it to the server (its default or NULL) "
                  "with --skip a") != std::string::npos);
        Loaded mapped = load("vl_skip", {"--map", "a=/a"}, "{\"id\":1}\n");
        CHECK(mapped.result.exit_code == 2);
        CHECK(mapped.result.output.find("--map a=/a: column \"a\" has type pg_snapshot, which "
                                        "pgingest cannot write") != std::string::npos);
        CHECK(conn.query_value("SELECT count(*) FROM vl_skip") == "0");
    } else {
        CHECK(plain.result.exit_code == 0);
        conn.exec("TRUNCATE vl_skip");
    }
    Loaded skipped = load("vl_skip", {"--skip", "a"}, "{\"id\":1}\n{\"id\":2,\"a\":\"x\"}\n");
    INFO(skipped.result.output);
    CHECK(skipped.result.exit_code == 1);
    REQUIRE(skipped.rejects.size() == 1);
    CHECK(skipped.rejects[0].line == 2);
    CHECK(
        skipped.rejects[0].reason.starts_with("column \"a\" (pg_snapshot) is skipped (--skip a)"));
    CHECK(conn.query_value("SELECT concat_ws('|', id, a IS NULL) FROM vl_skip") == "1|t");
}

TEST_CASE("values: a JSON string into bytea is read as byteain reads it, in arrays and fields",
          "[load][values][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS vl_bytea; DROP TYPE IF EXISTS vl_bytea_pair; CREATE TYPE "
        "vl_bytea_pair AS (n int4, b bytea); CREATE TABLE vl_bytea (id int4, b bytea, "
        "ba bytea[], p vl_bytea_pair)");
    // Each JSON string is the SQL text; the stored value must equal '<text>'::bytea.
    const std::string ndjson =
        R"({"id":1,"b":"\\x0102ff","ba":["\\xDEAD beef","a\\\\b",null],"p":{"n":1,"b":"\\101"}})"
        "\n"
        R"({"id":2,"b":"plain é","ba":[["\\x01"],["\\377"]],"p":[2,"\\x"]})"
        "\n"
        R"({"id":3,"b":"\\x0"})"
        "\n"
        R"({"id":4,"ba":["\\x01","\\400"]})"
        "\n"
        R"({"id":5,"p":{"b":"\\xzz"}})"
        "\n"
        R"({"id":6,"b":"a\\b"})"
        "\n";
    Loaded loaded = load("vl_bytea", {}, ndjson);
    INFO(loaded.result.output);
    CHECK(loaded.result.exit_code == 1);
    CHECK(conn.query_value(
              "SELECT count(*) FROM vl_bytea WHERE (id = 1 AND b = '\\x0102ff'::bytea AND ba = "
              "ARRAY['\\xDEAD beef'::bytea, 'a\\\\b'::bytea, NULL] AND p = ROW(1, "
              "'\\101'::bytea)::vl_bytea_pair) OR (id = 2 AND b = 'plain é'::bytea AND ba = "
              "ARRAY[['\\x01'::bytea], ['\\377'::bytea]] AND p = ROW(2, "
              "''::bytea)::vl_bytea_pair)") == "2");
    CHECK(conn.query_value("SELECT count(*) FROM vl_bytea") == "2");
    REQUIRE(loaded.rejects.size() == 4);
    std::sort(loaded.rejects.begin(), loaded.rejects.end(),
              [](const test::Reject& a, const test::Reject& b) { return a.line < b.line; });
    CHECK(loaded.rejects[0].reason ==
          "column \"b\" (bytea): value \"\\x5cx0\" at byte 2: invalid hexadecimal data: odd "
          "number of digits");
    CHECK_THAT(loaded.rejects[1].reason,
               Catch::StartsWith("column \"ba\" (bytea[]): value ") &&
                   Catch::EndsWith(" at element 1: invalid input syntax for type bytea (a "
                                   "backslash must be followed by another or by three octal "
                                   "digits up to \\377)"));
    CHECK(loaded.rejects[2].reason.starts_with("column \"p\" (vl_bytea_pair)"));
    CHECK_THAT(loaded.rejects[2].reason, Catch::Contains("invalid hexadecimal digit"));
    CHECK(loaded.rejects[3].reason ==
          "column \"b\" (bytea): value \"a\\x5cb\" at byte 1: invalid input syntax for type bytea "
          "(a backslash must be followed by another or by three octal digits up to \\377)");
}

TEST_CASE("values: interval in PostgreSQL's style and ISO 8601 is stored as the server reads it",
          "[load][values][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS vl_interval; CREATE TABLE vl_interval (id int4, i interval, "
              "ia interval[])");
    const std::vector<std::string> texts = {
        "1 day",          "3 hours",        "1 day 02:03:04",       "-1 day +02:00",
        "1 year 2 mons",  "@ 1 minute ago", "P1Y2M3DT4H5M6S",       "P0001-02-03T04:05:06",
        "02:03",          "1.5 days",       "1d2h3m",               "90 min",
        "1-2"};
    std::string ndjson;
    for (std::size_t k = 0; k < texts.size(); ++k) {
        ndjson += "{\"id\":" + std::to_string(k) + ",\"i\":\"" + texts[k] + "\",\"ia\":[\"" +
                  texts[k] + "\",null]}\n";
    }
    ndjson += "{\"id\":100,\"i\":\"1 day 1 day\"}\n";
    ndjson += "{\"id\":101,\"ia\":[\"1 day\",\"2 weeks x\"]}\n";
    Loaded loaded = load("vl_interval", {}, ndjson);
    INFO(loaded.result.output);
    CHECK(loaded.result.exit_code == 1);
    for (std::size_t k = 0; k < texts.size(); ++k) {
        INFO(texts[k]);
        CHECK(conn.query_value("SELECT count(*) FROM vl_interval WHERE id = " +
                               std::to_string(k) + " AND i = " + test::sql_literal(conn, texts[k]) +
                               "::interval AND ia[1] = i AND ia[2] IS NULL") == "1");
    }
    CHECK(conn.query_value("SELECT count(*) FROM vl_interval") == std::to_string(texts.size()));
    REQUIRE(loaded.rejects.size() == 2);
    std::sort(loaded.rejects.begin(), loaded.rejects.end(),
              [](const test::Reject& a, const test::Reject& b) { return a.line < b.line; });
    CHECK(loaded.rejects[0].reason ==
          "column \"i\" (interval): value \"1 day 1 day\" at byte 0: invalid input syntax for "
          "type interval (e.g. 1 day 02:03:04, 3 hours, P1DT2H)");
    CHECK(loaded.rejects[1].reason ==
          "column \"ia\" (interval[]): value \"[\\x221 day\\x22,\\x222 weeks x\\x22]\" at element "
          "1: invalid input syntax for type interval (e.g. 1 day 02:03:04, 3 hours, P1DT2H)");
}

TEST_CASE("values: json[] and jsonb[] store what json_populate_record reads from the record",
          "[load][values][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS vl_jarr; CREATE TABLE vl_jarr (id int4, a jsonb[], b json[])");
    // Elements keep their JSON text (1.50, 2.0, escapes); JSON null is an SQL NULL element;
    // nested arrays are dimensions; a string is an array literal.
    const std::vector<std::string> records = {
        R"({"id":1,"a":[{"x":1.50},"s",null,1.50,true],"b":[{"x" : 1.50},"s",null,-0]})",
        R"({"id":2,"a":[[1,2],[3,{"y":2.0}]],"b":[[1,{"y":[2,3]}],[3,"4"]]})",
        R"({"id":3,"a":[],"b":"{1,2}"})",
        R"({"id":4,"a":[[[1e400]]],"b":[12345678901234567890123]})",
        R"({"id":5,"a":"{\"{\\\"k\\\": 1}\",NULL}","b":null})",
        R"({"id":6,"a":[1,2],"b":[1,2]})",
        R"({"id":7,"a":["\u00e9"],"b":["\u00e9", "\n"]})"};
    std::string ndjson;
    for (const std::string& record : records) {
        ndjson += record + "\n";
    }
    ndjson += R"({"id":100,"a":[[1,2],[3]]})" "\n" R"({"id":101,"b":[[1],2]})" "\n"
              R"({"id":102,"a":[1,[2]]})" "\n" R"({"id":103,"a":{"x":1}})" "\n";
    Loaded loaded = load("vl_jarr", {}, ndjson);
    INFO(loaded.result.output);
    CHECK(loaded.result.exit_code == 1);
    for (const std::string& record : records) {
        INFO(record);
        CHECK(conn.query_value(
                  "SELECT count(*) FROM vl_jarr v, json_populate_record(NULL::vl_jarr, " +
                  test::sql_literal(conn, record) +
                  ") p WHERE v.id = p.id AND v.a::text IS NOT DISTINCT FROM p.a::text AND "
                  "v.b::text IS NOT DISTINCT FROM p.b::text") == "1");
    }
    CHECK(conn.query_value("SELECT a[3] IS NULL AND b[3] IS NULL AND a[1]->>'x' = '1.50' AND "
                           "b[1]::text = '{\"x\" : 1.50}' FROM vl_jarr WHERE id = 1") == "t");
    CHECK(conn.query_value("SELECT count(*) FROM vl_jarr") == std::to_string(records.size()));
    REQUIRE(loaded.rejects.size() == 4);
    std::sort(loaded.rejects.begin(), loaded.rejects.end(),
              [](const test::Reject& a, const test::Reject& b) { return a.line < b.line; });
    CHECK(loaded.rejects[0].reason ==
          "column \"a\" (jsonb[]): value \"[[1,2],[3]]\" at element 2: multidimensional arrays "
          "must have sub-arrays with matching dimensions");
    CHECK(loaded.rejects[1].reason ==
          "column \"b\" (json[]): value \"[[1],2]\" at element 1: multidimensional arrays must "
          "have sub-arrays with matching dimensions");
    CHECK(loaded.rejects[2].reason ==
          "column \"a\" (jsonb[]): value \"[1,[2]]\" at element 1: multidimensional arrays must "
          "have sub-arrays with matching dimensions");
    CHECK(loaded.rejects[3].reason.starts_with("column \"a\" (jsonb[]): "));
}

TEST_CASE("values: int2vector and oidvector are refused up front, naming the column",
          "[load][values][pg]") {
    // int2vectorrecv/oidvectorrecv refuse an array with lower bound 1 (22P03), so no value of
    // these types could be stored: the load is refused before anything is written.
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS vl_vec; CREATE TABLE vl_vec (id int, v int2vector, "
              "o oidvector)");
    Loaded loaded = load("vl_vec", {}, "{\"id\":1,\"v\":[1,2],\"o\":\"1 2\"}\n");
    INFO(loaded.result.output);
    CHECK(loaded.result.exit_code == 2);
    CHECK(loaded.result.output.find("table public.vl_vec: column \"v\" has type int2vector, "
                                    "which pgingest cannot write yet; nothing was loaded.") !=
          std::string::npos);
    Loaded skipped = load("vl_vec", {"--skip", "v"}, "{\"id\":1,\"o\":\"1 2\"}\n");
    CHECK(skipped.result.exit_code == 2);
    CHECK(skipped.result.output.find("column \"o\" has type oidvector, which pgingest cannot "
                                     "write yet") != std::string::npos);
    CHECK(conn.query_value("SELECT count(*) FROM vl_vec") == "0");
}
