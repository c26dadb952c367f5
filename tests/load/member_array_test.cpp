// Proves that a large record's array members (records of 1 MiB or more: no DOM, the arrays of
// numbers scanned once into the tuple, RowWriter::json_array_raw) and json members are stored
// as the same record small stores them, read back from the server byte for byte, with the same
// reject reasons (column, element index); and (issue 11 point 7) that a real[] member of many
// MiB stays under the memory bound: peak RSS <= --memory-bytes + 2 x the record + 64 MB.

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "codecs/load_plan.hpp"
#include "tests/load/load_support.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

/// `record` as a record of 1 MiB or more: blanks after its `{` (the large-record path).
std::string padded(const std::string& record) {
    return "{" + std::string(tools::RecordEncoder::large_record_bytes, ' ') + record.substr(1);
}

/// Loads `lines` into `table` (one thread, --rejects); the rejects as "line: reason".
std::vector<std::string> load_lines(const std::string& table, const std::vector<std::string>& lines,
                                    test::TempDir& dir, std::uint64_t rows_loaded,
                                    const std::vector<std::string>& extra = {}) {
    std::string text;
    for (const std::string& line : lines) {
        text += line + "\n";
    }
    std::string rejects = dir.path(table + ".rejects");
    std::vector<std::string> args = {"load",      "--db",      test::cluster().conninfo(),
                                     "--table",   table,       "--rejects",
                                     rejects,     "--threads", "1",
                                     "--summary", "json",      "--progress",
                                     "never"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(dir.write(table + ".ndjson", text));
    test::CliResult result = test::run_pgingest(args);
    INFO(result.output.substr(0, 4000));
    CHECK(test::parse_summary(result.output).rows_loaded == rows_loaded);
    std::vector<std::string> reasons;
    if (std::filesystem::exists(rejects)) {
        for (const test::Reject& reject : test::read_rejects(rejects)) {
            reasons.push_back(std::to_string(reject.line) + ": " + reject.reason);
        }
    }
    return reasons;
}

/// `[first, first, ..., last]`: `count` elements, `last` at index count - 1.
std::string long_array(std::size_t count, const std::string& first, const std::string& last) {
    std::string text = "[";
    for (std::size_t i = 0; i + 1 < count; ++i) {
        text += first + ",";
    }
    return text + last + "]";
}

/// Rows of `a` not in `b`, compared as text column by column.
std::string missing(Connection& conn, const std::string& select, const std::string& a,
                    const std::string& b) {
    return conn.query_value("SELECT count(*) FROM (" + select + a + " EXCEPT " + select + b +
                            ") d");
}

}  // namespace

TEST_CASE("load: a large record's number arrays are stored as the same record small stores them",
          "[load][cli][pg][memory]") {
    auto conn = test::connect();
    std::string columns =
        "(id int8, r real[], d float8[], s int2[], i int4[], l int8[], "
        "n numeric[], n62 numeric(6,2)[])";
    conn.exec("DROP TABLE IF EXISTS arr_small, arr_large; CREATE TABLE arr_small " + columns +
              "; CREATE TABLE arr_large " + columns);
    std::vector<std::string> records = {
        R"({"id":1,"r":[0.5,-2.25e-3,1,null,"NaN",0.1,"-Infinity","12",1e-40,3.4e38],)"
        R"("d":[ 0.1 , 1.7976931348623157e308, 5e-324, -0, -0.0, 1e-400, 1E2, 2.50 ],)"
        R"("s":[32767,-32768,1.0,"7",null],"i":[2147483647,-2147483648,1e2],)"
        R"("l":[9223372036854775807,-9223372036854775808,"42"],)"
        R"("n":[1.50,123456789012345678,0.1,1e-5,"1.50",18446744073709551615],)"
        R"("n62":[1.005,"2.5",3]})",
        R"({"id":2,"r":[],"d":[null],"s":[],"i":[],"l":[],"n":[],"n62":[]})",
        // 1 + 2^-24 is halfway between two floats; the text just above it: float4in's rounding.
        R"({"id":3,"r":[1.0000000596046447753906250001,0.1,1.0000000596046447753906250000]})",
        R"({"id":4,"r":[[1,2],[3,4]],"i":[[1],[2]],"n":[["1.5"]]})",
    };
    std::size_t good = records.size();
    // Bad elements deep in long arrays: the reason names the column and the element's index.
    records.push_back("{\"id\":10,\"i\":" + long_array(100000, "1", "2147483648") + "}");
    records.push_back("{\"id\":11,\"r\":" + long_array(100000, "0.5", "\"x\"") + "}");
    records.push_back("{\"id\":12,\"s\":" + long_array(50000, "1", "true") + "}");
    records.push_back("{\"id\":13,\"d\":" + long_array(50000, "1", "[1]") + "}");
    records.push_back("{\"id\":14,\"l\":" + long_array(50000, "1", "1e999") + "}");
    records.push_back("{\"id\":15,\"n62\":" + long_array(50000, "1", "12345.5") + "}");
    records.push_back("{\"id\":16,\"i\":[1,true,\"\\ud800\"]}");
    records.push_back("{\"id\":17,\"r\":[1,3.5e38]}");
    std::vector<std::string> large;
    for (const std::string& record : records) {
        large.push_back(padded(record));
    }
    test::TempDir dir;
    std::vector<std::string> small_reasons = load_lines("arr_small", records, dir, good);
    std::vector<std::string> large_reasons = load_lines("arr_large", large, dir, good);
    REQUIRE(large_reasons.size() == records.size() - good);
    REQUIRE(small_reasons.size() == large_reasons.size());
    // The value shown is the member as written (large) or simdjson's minified re-serialization
    // of it (small): the same for these records but one, whose 3.5e38 the DOM writes 3.5e+38.
    // Column, element index and reason are the same for all.
    std::string out_of_range =
        "12: column \"r\" (real[]): value \"[1,3.5e38]\" at element 1: out of range for type real";
    for (std::size_t i = 0; i < large_reasons.size(); ++i) {
        if (large_reasons[i] == out_of_range) {
            CHECK(small_reasons[i] ==
                  "12: column \"r\" (real[]): value \"[1,3.5e+38]\" at "
                  "element 1: out of range for type real");
        } else {
            std::string reason = large_reasons[i];  // the server's names the table
            if (std::size_t at = reason.find("arr_large"); at != std::string::npos) {
                reason.replace(at, 9, "arr_small");
            }
            CHECK(reason == small_reasons[i]);
        }
    }
    std::string deep = long_array(100000, "1", "2147483648");
    CHECK(large_reasons[0] ==
          "5: column \"i\" (integer[]): value \"" + deep.substr(0, 60) + "\"… (" +
              std::to_string(deep.size()) +
              " bytes) at element 99999: " + errc_reason(Errc::integer_out_of_range));
    CHECK(large_reasons[1].starts_with("6: column \"r\" (real[]): value \"[0.5,0.5,"));
    CHECK(
        large_reasons[1].ends_with("(400001 bytes) at element 99999: not a floating-point "
                                   "number"));
    CHECK(large_reasons[2].ends_with(
        "(100004 bytes): value of this kind cannot be stored in this column (element 49999)"));
    CHECK(large_reasons[4].ends_with("(100005 bytes) at element 0: invalid JSON"));
    CHECK(large_reasons[5] == "11: invalid JSON: Problem while parsing a string");
    CHECK(large_reasons[6] == out_of_range);
    CHECK(large_reasons[7].starts_with("10: COPY: numeric field overflow (SQLSTATE 22003)"));
    std::string all =
        "SELECT id, r::text, d::text, s::text, i::text, l::text, n::text, "
        "n62::text FROM ";
    CHECK(missing(conn, all, "arr_small", "arr_large") == "0");
    CHECK(missing(conn, all, "arr_large", "arr_small") == "0");
    CHECK(conn.query_value("SELECT count(*) FROM arr_large") == std::to_string(good));
    CHECK(conn.query_value("SELECT r::text FROM arr_large WHERE id = 3") == "{1.0000001,0.1,1}");
    CHECK(conn.query_value("SELECT d::text || n::text FROM arr_large WHERE id = 1") ==
          "{0.1,1.7976931348623157e+308,5e-324,0,-0,0,100,2.5}"
          "{1.5,123456789012345678,0.1,0.00001,1.50,18446744073709551615}");
}

TEST_CASE("load: json members and the rest column store the record's own text, small or large",
          "[load][cli][pg][memory]") {
    auto conn = test::connect();
    std::string columns = "(id int8, j json, jb jsonb, tx text, rest json)";
    conn.exec("DROP TABLE IF EXISTS js_small, js_large; CREATE TABLE js_small " + columns +
              "; CREATE TABLE js_large " + columns);
    std::vector<std::string> records = {
        R"({"id":1,"j":{"a": "\u00e9\/x\"", "n": [1, 2.5, {}]},"jb":{"a": "\u00e9\/x", "b": 1},)"
        R"("x":{ "k" : [ "\u0041" ] },"tx":{ "a\u00e9" : [1.50, -0, 1e5, "\/\n"], "b":null }})",
        R"({"id":2,"j":"s\u00e9\n\/","jb":"\u00e9","y":"\t\/"})",
        R"({"id":3,"j":[ 1 , 1.50 ],"jb":[1.50, "a"],"z":[ 1.50 ],"tx":[ true, {} ]})",
        R"({"id":4,"j":1.5,"jb":true})",
    };
    std::vector<std::string> large;
    for (const std::string& record : records) {
        large.push_back(padded(record));
    }
    test::TempDir dir;
    std::vector<std::string> rest = {"--rest-column", "rest"};
    CHECK(load_lines("js_small", records, dir, records.size(), rest).empty());
    CHECK(load_lines("js_large", large, dir, records.size(), rest).empty());
    std::string all = "SELECT id, j::text, jb::text, tx, rest::text FROM ";
    CHECK(missing(conn, all, "js_small", "js_large") == "0");
    CHECK(missing(conn, all, "js_large", "js_small") == "0");
    CHECK(conn.query_value("SELECT j::text || '|' || rest::text FROM js_small WHERE id = 1") ==
          R"({"a": "\u00e9\/x\"", "n": [1, 2.5, {}]}|{"x":{ "k" : [ "\u0041" ] }})");
    // A text column takes an object or array as the DOM writes it: minified, re-escaped.
    CHECK(conn.query_value("SELECT tx FROM js_large WHERE id = 1") ==
          R"({"aé":[1.5,0,1e+05,"/\n"],"b":null})");
    CHECK(conn.query_value("SELECT j::text || '|' || rest::text FROM js_small WHERE id = 2") ==
          R"("s\u00e9\n\/"|{"y":"\t\/"})");
}

TEST_CASE("load: a large record's strings into types parsed from text are stored as small",
          "[load][cli][pg][memory]") {
    auto conn = test::connect();
    std::string columns =
        "(id int8, b bytea, n numeric, u uuid, d date, i int4, f float4, "
        "bo bool, p point, ts tsvector)";
    conn.exec("DROP TABLE IF EXISTS str_small, str_large; CREATE TABLE str_small " + columns +
              "; CREATE TABLE str_large " + columns);
    std::vector<std::string> records = {
        R"j({"id":1,"b":"\\x00ff10","n":"1.50","u":"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",)j"
        R"j("d":"2024-02-29","i":" 12 ","f":"1.0000000596046447753906250001","bo":"yes",)j"
        R"j("p":"(1,2)","ts":"a:1 b"})j",
        R"j({"id":2,"b":"ab\\\\cd\\000\u00e9","n":"\u0031.5e3",)j"
        R"j("u":"a0eebc999c0b4ef8bb6d6bb9bd380a11","d":"\u0032024-01-01","i":"-7","f":"NaN",)j"
        R"j("bo":"\u0074","p":"1,2","ts":"\u00e9t\u00e9"})j",
        R"j({"id":3,"b":"","n":"NaN","f":"-Infinity","bo":"off"})j",
    };
    std::size_t good = records.size();
    records.push_back(R"j({"id":4,"b":"\\xzz"})j");
    records.push_back(R"j({"id":5,"n":"1.5\u0000"})j");
    records.push_back(R"j({"id":6,"u":"x\ud800"})j");
    records.push_back(R"j({"id":7,"i":"99999999999"})j");
    records.push_back(R"j({"id":8,"d":"2024-13-01"})j");
    records.push_back(R"j({"id":9,"f":"3.5e38"})j");
    std::vector<std::string> large;
    for (const std::string& record : records) {
        large.push_back(padded(record));
    }
    test::TempDir dir;
    std::vector<std::string> small_reasons = load_lines("str_small", records, dir, good);
    std::vector<std::string> large_reasons = load_lines("str_large", large, dir, good);
    CHECK(large_reasons == small_reasons);
    REQUIRE(large_reasons.size() == records.size() - good);
    CHECK(large_reasons[0].starts_with(
        "4: column \"b\" (bytea): value \"\\x5cxzz\" at byte 2: invalid hexadecimal digit"));
    CHECK(large_reasons[2] == "6: invalid JSON: Problem while parsing a string");
    std::string all =
        "SELECT id, b::text, n::text, u::text, d::text, i::text, f::text, "
        "bo::text, p::text, ts::text FROM ";
    CHECK(missing(conn, all, "str_small", "str_large") == "0");
    CHECK(missing(conn, all, "str_large", "str_small") == "0");
    CHECK(conn.query_value("SELECT count(*) FROM str_large") == std::to_string(good));
    CHECK(conn.query_value("SELECT b::text || ' ' || n || ' ' || f FROM str_large WHERE id = 1") ==
          "\\x00ff10 1.50 1.0000001");
}
