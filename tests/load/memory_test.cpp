// Proves that `pgingest load` holds its memory bound with records far above the memory budget
// (issue 11, point 7): peak RSS <= --memory-bytes + 2 x the largest record + 64 MB, measured as
// the child's ru_maxrss (wait4), with every row stored byte for byte; that a record above
// --max-record-bytes is one reject naming it and the limit while the others are stored; and that
// a record of 1 MiB or more (validated in place, no DOM) is stored as the same record small is;
// and that a JSON array or --pointer document of many small records, far larger than the bound,
// is cut as it is read (codecs/json_split) and stays under it too.

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/load/load_support.hpp"
#include "tests/support/pg.hpp"
#include "codecs/load_plan.hpp"

using namespace pgingest;

namespace {

struct Measured {
    int exit_code = -1;
    std::uint64_t peak_rss_bytes = 0;
    std::string output;
};

/// Runs the built pgingest with `args` as a child of this process (no shell) and reads its peak
/// resident set size from wait4(2)'s rusage (ru_maxrss, KiB).
Measured run_measured(const std::vector<std::string>& args, const std::string& output_path) {
    std::vector<char*> argv;
    std::string binary = PGINGEST_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copies = args;
    for (std::string& arg : copies) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    // The child's resident pages before exec (this process's, shared) count in its ru_maxrss:
    // give free memory back first, so the figure is pgingest's own.
    (void)::malloc_trim(0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) {
            ::_exit(127);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    rusage usage{};
    REQUIRE(::wait4(pid, &status, 0, &usage) == pid);
    Measured measured;
    measured.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    measured.peak_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
    measured.output = test::read_file(output_path);
    return measured;
}

/// A record of about `size` bytes: {"id":N,"obj":{...}} with many nested members.
std::string nested_record(int id, std::size_t size) {
    std::string text = "{\"id\":" + std::to_string(id) + ",\"obj\":{";
    for (std::size_t i = 0; text.size() < size; ++i) {
        text += (i == 0 ? "\"k" : ",\"k") + std::to_string(i) +
                R"(":{"name":"v\u00e9\"q","vals":[1,2.50,-3e2,null,true],"sub":{"a":[{}]}})";
    }
    return text + "}}";
}

/// {"id":N,"s":"..."}: one string of about `size` bytes, escapes included.
std::string string_record(int id, std::size_t size) {
    std::string text = "{\"id\":" + std::to_string(id) + ",\"s\":\"";
    while (text.size() < size) {
        text += R"(abcdefghij\"klm\\nop\n \u00e9\ud83d\ude00 0123456789 )";
    }
    return text + "\"}";
}

/// {"id":N,"arr":[0,1,...]}: a dense array of one-digit numbers, about `size` bytes (the shape
/// whose DOM costs most: 12 bytes of index and tape per input byte).
std::string array_record(int id, std::size_t size) {
    std::string text = "{\"id\":" + std::to_string(id) + ",\"arr\":[0";
    for (std::size_t i = 1; text.size() < size; ++i) {
        text += ',';
        text += static_cast<char>('0' + i % 10);
    }
    return text + "]}";
}

/// The four records of the memory test: 24 MiB each, every costly shape.
std::vector<std::string> big_records() {
    constexpr std::size_t record_bytes = std::size_t{24} << 20;
    return {nested_record(1, record_bytes), string_record(2, record_bytes),
            array_record(3, record_bytes), nested_record(4, record_bytes)};
}

}  // namespace

TEST_CASE("load: records far above the memory budget peak under budget + 2 x largest + 64 MB",
          "[load][cli][pg][memory]") {
    // Both io paths: libpq's own output buffer must not hold another copy of a huge batch.
    std::string io = GENERATE("uring", "libpq");
    INFO("--io " << io);
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS mem_big; CREATE TABLE mem_big (doc json)");
    test::TempDir dir;
    std::size_t largest = 0;
    {
        std::string lines;
        for (const std::string& record : big_records()) {
            largest = std::max(largest, record.size());
            lines += record + "\n";
        }
        dir.write("big.ndjson", lines);
    }  // freed before the fork: the child's RSS before exec counts in its ru_maxrss
    std::string input = dir.path("big.ndjson");
    constexpr std::uint64_t budget_bytes = std::uint64_t{16} << 20;
    Measured run =
        run_measured({"load", "--db", test::cluster().conninfo(), "--table", "mem_big",
                      "--document-column", "doc", "--memory-bytes", std::to_string(budget_bytes),
                      "--io", io, "--summary", "json", "--progress", "never", input},
                     dir.path("out.txt"));
    INFO(run.output.substr(0, 2000));
    REQUIRE(run.exit_code == 0);
    test::Summary summary = test::parse_summary(run.output);
    CHECK(summary.rows_loaded == 4);
    std::uint64_t bound = budget_bytes + 2 * std::uint64_t{largest} + (std::uint64_t{64} << 20);
    INFO("peak RSS " << run.peak_rss_bytes << " bytes, bound " << bound << " (largest record "
                     << largest << " bytes)");
    CHECK(run.peak_rss_bytes <= bound);
    REQUIRE(conn.query_value("SELECT count(*) FROM mem_big") == "4");
    // Read back in storage order (no JSON parse on the server), compared as sorted lists.
    std::vector<std::string> stored;
    for (std::size_t i = 0; i < 4; ++i) {
        stored.push_back(conn.query_value("SELECT doc::text FROM mem_big ORDER BY ctid OFFSET " +
                                          std::to_string(i) + " LIMIT 1"));
    }
    std::vector<std::string> records = big_records();
    std::sort(stored.begin(), stored.end());
    std::sort(records.begin(), records.end());
    for (std::size_t i = 0; i < records.size(); ++i) {
        CHECK(stored[i].size() == records[i].size());
        CHECK(stored[i] == records[i]);  // json keeps the text: byte for byte
    }
}

TEST_CASE("load: a record over --max-record-bytes is rejected naming it and the limit",
          "[load][cli][pg][memory]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS mem_max; CREATE TABLE mem_max (id int8, doc jsonb)");
    test::TempDir dir;
    std::string big = string_record(2, 3'000'000);
    std::string input = dir.write("max.ndjson", "{\"id\":1}\n" + big + "\n{\"id\":3}\n");
    std::string rejects = dir.path("rejects.ndjson");
    test::CliResult result = test::run_pgingest(
        {"load", "--db", test::cluster().conninfo(), "--table", "mem_max", "--max-record-bytes",
         "2000000", "--rejects", rejects, "--summary", "json", "--progress", "never", input});
    INFO(result.output);
    CHECK(result.exit_code == 1);
    test::Summary summary = test::parse_summary(result.output);
    CHECK(summary.rows_read == 3);
    CHECK(summary.rows_loaded == 2);
    CHECK(summary.rows_rejected == 1);
    CHECK(conn.query_value("SELECT string_agg(id::text, ',' ORDER BY id) FROM mem_max") == "1,3");
    std::vector<test::Reject> lines = test::read_rejects(rejects);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].source == input);
    CHECK(lines[0].line == 2);
    CHECK(lines[0].offset == 9);
    CHECK(lines[0].reason ==
          "record of " + std::to_string(big.size()) + " bytes exceeds max_record_bytes (2000000)");
    CHECK(lines[0].record == big.substr(0, 1000));
}

TEST_CASE("load: a record of 1 MiB or more is stored as the same record small is",
          "[load][cli][pg][memory]") {
    auto conn = test::connect();
    std::string columns =
        "(id int8, name text, amount numeric, ratio float4, attrs jsonb, deep text, rest jsonb, "
        "note text DEFAULT 'd')";
    conn.exec("DROP TABLE IF EXISTS mem_small, mem_large; CREATE TABLE mem_small " + columns +
              "; CREATE TABLE mem_large " + columns);
    std::vector<std::string> records = {
        R"({"id":1,"name":"a\"b\u00e9","amount":1.50,"ratio":0.1,"attrs":{"x":[1,2.0,"y"]},)"
        R"("deep":{"a":[0,{"b":"first"}]},"extra":{"k":1e400},"ke\u0079":2})",
        R"({"id":2,"name":null,"amount":123456789012345678901234567890,"id":3,)"
        R"("deep":{"a":[0,{"b":"x"}],"a":[0,{"b":"last"}]},"attrs":"s"})",
        R"({"id":4,"attrs":[],"deep":[],"name":"\ud83d\ude00"})"};
    std::string small;
    std::string large;
    std::string padding(tools::RecordEncoder::large_record_bytes, ' ');
    for (const std::string& record : records) {
        small += record + "\n";
        large += "{" + padding + record.substr(1) + "\n";
    }
    test::TempDir dir;
    for (const auto& [table, text] :
         {std::pair{"mem_small", small}, std::pair{"mem_large", large}}) {
        test::CliResult result = test::run_pgingest(
            {"load", "--db", test::cluster().conninfo(), "--table", table, "--map",
             "deep=/deep/a/1/b", "--rest-column", "rest", "--summary", "json", "--progress",
             "never", dir.write(std::string(table) + ".ndjson", text)});
        INFO(result.output);
        CHECK(result.exit_code == 0);
        CHECK(test::parse_summary(result.output).rows_loaded == 3);
    }
    std::string all = "SELECT id, name, amount, ratio, attrs, deep, rest, note FROM ";
    CHECK(conn.query_value("SELECT count(*) FROM (" + all + "mem_small EXCEPT " + all +
                           "mem_large) d") == "0");
    CHECK(conn.query_value("SELECT count(*) FROM (" + all + "mem_large EXCEPT " + all +
                           "mem_small) d") == "0");
    CHECK(conn.query_value("SELECT amount::text || ' ' || deep || ' ' || rest::text FROM "
                           "mem_large WHERE id = 3") == "123456789012345678901234567890 last {}");
}

TEST_CASE("load: a record of 1 MiB or more that is not valid is rejected saying where",
          "[load][cli][pg][memory]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS mem_bad; CREATE TABLE mem_bad (id int8, note text DEFAULT 'd')");
    std::string padding(tools::RecordEncoder::large_record_bytes, ' ');
    std::vector<std::pair<std::string, std::string>> cases = {
        {"{\"id\":1," + padding + "\"x\":tru}", "invalid JSON: invalid value at byte "},
        {"{\"id\":1," + padding + "\"x\":\"a\tb\"}",
         "invalid JSON: control character in a string (escape it) at byte "},
        {"{\"id\":1," + padding + "\"x\":01}", "invalid JSON: invalid number at byte "},
        {"{\"id\":1," + padding + "\"x\":\"\\q\"}",
         "invalid JSON: invalid escape in a string at byte "},
        {"{\"id\":1," + padding + "\"x\":[1,]}", "invalid JSON: expected a value at byte "},
        {"{\"id\":1," + padding + "\"x\" 1}",
         "invalid JSON: expected ':' after an object key at byte "},
        {"{\"id\":1," + padding + "\"x\":1",
         "invalid JSON: expected ',' or '}' in an object at byte "},
        {"[1," + padding + "2]", "record is not a JSON object"},
        {"{\"id\":1," + padding + "\"note\":\"n\"}",
         "column \"note\" (text) has a default and is not loaded, but the record has a value for "
         "it: load it with --map note, or keep it with --rest-column"},
    };
    std::string text;
    for (const auto& [record, reason] : cases) {
        text += record + "\n";
    }
    test::TempDir dir;
    std::string rejects = dir.path("rejects.ndjson");
    test::CliResult result =
        test::run_pgingest({"load", "--db", test::cluster().conninfo(), "--table", "mem_bad",
                            "--rejects", rejects, "--threads", "1", "--summary", "json",
                            "--progress", "never", dir.write("bad.ndjson", text + "{\"id\":9}\n")});
    INFO(result.output);
    CHECK(result.exit_code == 1);
    CHECK(conn.query_value("SELECT string_agg(id::text, ',') FROM mem_bad") == "9");
    std::vector<test::Reject> lines = test::read_rejects(rejects);
    REQUIRE(lines.size() == cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
        INFO("case " << i);
        CHECK(lines[i].line == i + 1);
        CHECK(lines[i].reason.starts_with(cases[i].second));
    }
    // Positions are 1-based bytes of the record: the `t` of `tru`, the tab, the `0` of `01`.
    CHECK(lines[0].reason.ends_with(" " + std::to_string(cases[0].first.find("tru") + 1)));
    CHECK(lines[1].reason.ends_with(" " + std::to_string(cases[1].first.find('\t') + 1)));
    CHECK(lines[2].reason.ends_with(" " + std::to_string(cases[2].first.find("01") + 1)));
}

namespace {

/// Record `id` of the many-small-records documents; the SQL below builds the same text.
std::string small_record(std::uint64_t id) {
    return "{\"id\":" + std::to_string(id) + ",\"name\":\"r\\u00e9cord " + std::to_string(id) +
           "\",\"tags\":[\"a\",\"b\"],\"pad\":\"" + std::string(100, 'x') + "\"}";
}

/// The same text as `small_record`, in SQL, for the row whose id is `id`.
const char* const small_record_sql =
    "format('{\"id\":%s,\"name\":\"r\\u00e9cord %s\",\"tags\":[\"a\",\"b\"],\"pad\":\"%s\"}', "
    "(doc->>'id'), (doc->>'id'), repeat('x', 100))";

/// Writes a document of `count` small records to `path`, streaming (the test process holds no
/// copy): a pretty-printed root array, or `{"meta":...,"items":[...],"tail":...}`.
void write_small_records(const std::string& path, std::uint64_t count, bool pointer) {
    std::FILE* out = std::fopen(path.c_str(), "wb");
    REQUIRE(out != nullptr);
    std::string text = pointer ? "{\"meta\":{\"n\":[1,2,{\"k\":\"v\"}]},\"items\":[\n" : "[\n";
    for (std::uint64_t id = 1; id <= count; ++id) {
        text += small_record(id);
        text += id == count ? "\n" : ",\n";
        if (text.size() > (std::size_t{1} << 20) || id == count) {
            REQUIRE(std::fwrite(text.data(), 1, text.size(), out) == text.size());
            text.clear();
        }
    }
    text = pointer ? "],\"tail\":{\"done\":true}}\n" : "]\n";
    REQUIRE(std::fwrite(text.data(), 1, text.size(), out) == text.size());
    REQUIRE(std::fclose(out) == 0);
}

}  // namespace

TEST_CASE("load: a JSON array or --pointer document far above the budget peaks under the bound",
          "[load][cli][pg][memory]") {
    // About 165 MB of 170-byte records: far above budget + 64 MB, so a document held whole (or
    // its On-Demand index, 4 bytes per structural byte) could not stay under the bound.
    bool pointer = GENERATE(false, true);
    INFO((pointer ? "--pointer /items" : "--format json-array"));
    constexpr std::uint64_t count = 1'000'000;
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS mem_array; CREATE TABLE mem_array (doc json)");
    test::TempDir dir;
    std::string input = dir.path("many.json");
    write_small_records(input, count, pointer);
    std::uint64_t file_bytes = std::filesystem::file_size(input);
    std::vector<std::string> args{"load", "--db", test::cluster().conninfo(), "--table",
                                  "mem_array", "--document-column", "doc", "--memory-bytes",
                                  "16777216", "--summary", "json", "--progress", "never"};
    if (pointer) {
        args.insert(args.end(), {"--pointer", "/items"});
    } else {
        args.insert(args.end(), {"--format", "json-array"});
    }
    args.push_back(input);
    Measured run = run_measured(args, dir.path("out.txt"));
    INFO(run.output.substr(0, 2000));
    REQUIRE(run.exit_code == 0);
    CHECK(test::parse_summary(run.output).rows_loaded == count);
    std::uint64_t largest = small_record(count).size();
    std::uint64_t bound = (std::uint64_t{16} << 20) + 2 * largest + (std::uint64_t{64} << 20);
    INFO("peak RSS " << run.peak_rss_bytes << " bytes, bound " << bound << ", document "
                     << file_bytes << " bytes");
    CHECK(file_bytes > bound + bound / 2);
    CHECK(run.peak_rss_bytes <= bound);
    // Every row byte for byte (json keeps the text), each id once.
    CHECK(conn.query_value("SELECT count(*) || ' ' || count(DISTINCT doc->>'id') || ' ' || "
                           "min((doc->>'id')::int8) || ' ' || max((doc->>'id')::int8) FROM "
                           "mem_array") == "1000000 1000000 1 1000000");
    CHECK(conn.query_value(std::string("SELECT count(*) FROM mem_array WHERE doc::text <> ") +
                           small_record_sql) == "0");
}

namespace {

/// Every JSON string escape, and raw UTF-8, as written in a record.
const std::vector<std::string> string_escapes = {
    R"(\")",     R"(\\)",     R"(\/)",     R"(\b)",     R"(\f)",           R"(\n)",
    R"(\r)",     R"(\t)",     R"(\u0041)", R"(\u00e9)", R"(\u20AC)",       R"(\ud83d\ude00)",
    R"(\uD83D\uDE00)", "\xc3\xa9", "x"};

/// `record` as a record of 1 MiB or more: blanks after its `{` (the large-record path).
std::string padded(const std::string& record) {
    return "{" + std::string(tools::RecordEncoder::large_record_bytes, ' ') + record.substr(1);
}

/// Loads `lines` (records) into `table` with --rejects; the rejects' reasons, in line order.
std::vector<std::string> load_strings(const std::string& table,
                                      const std::vector<std::string>& lines, test::TempDir& dir,
                                      std::uint64_t rows_loaded) {
    std::string text;
    for (const std::string& line : lines) {
        text += line + "\n";
    }
    std::string rejects = dir.path(table + ".rejects");
    test::CliResult result = test::run_pgingest(
        {"load", "--db", test::cluster().conninfo(), "--table", table, "--rejects", rejects,
         "--threads", "1", "--summary", "json", "--progress", "never",
         dir.write(table + ".ndjson", text)});
    INFO(result.output);
    CHECK(test::parse_summary(result.output).rows_loaded == rows_loaded);
    std::vector<std::string> reasons;
    if (std::filesystem::exists(rejects)) {
        for (const test::Reject& reject : test::read_rejects(rejects)) {
            reasons.push_back(std::to_string(reject.line) + ": " + reject.reason);
        }
    }
    return reasons;
}

}  // namespace

TEST_CASE("load: a large record's strings go to text columns as the same record small does",
          "[load][cli][pg][memory]") {
    auto conn = test::connect();
    std::string columns =
        "(id int8, t text, v varchar(10), c char(5), n name, j json, b bytea, f float8)";
    conn.exec("DROP TABLE IF EXISTS mem_str_small, mem_str_large; CREATE TABLE mem_str_small " +
              columns + "; CREATE TABLE mem_str_large " + columns);
    // Each escape at the start, the end, twice in a row and between other characters.
    std::vector<std::string> records;
    int id = 1;
    for (const std::string& e : string_escapes) {
        std::string s = e + "a" + e + e + "b" + e;
        records.push_back("{\"id\":" + std::to_string(id++) + ",\"t\":\"" + s + "\",\"v\":\"" + e +
                          "12345678" + e + "\",\"c\":\"" + e + "b   \",\"n\":\"" + s +
                          "\",\"j\":\"" + s + "\",\"b\":\"\\\\x00ff\",\"f\":\"1.5\"}");
        records.push_back("{\"id\":" + std::to_string(id++) + ",\"t\":\"" + e + "\",\"v\":\"" +
                          e + "\",\"c\":\"" + e + "\",\"n\":\"" + e + "\"}");
    }
    records.push_back(R"({"id":99,"t":"","v":"","c":"     ","n":"","t":"last"})");
    // The bad ones: NUL (text refuses it), lone surrogates (the DOM refuses them), too long.
    records.push_back(R"({"id":100,"t":"ab\u0000c"})");
    records.push_back(R"({"id":101,"t":"x\ud800y"})");
    records.push_back(R"({"id":102,"t":"x\udc00"})");
    records.push_back(R"({"id":103,"v":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9)"
                      R"(\u00e9\u00e9x"})");
    records.push_back("{\"id\":104,\"n\":\"" + std::string(64, 'n') + "\"}");
    records.push_back(R"({"id":105,"c":"\ud83d\ude00bcdef"})");
    std::vector<std::string> large;
    for (const std::string& record : records) {
        large.push_back(padded(record));
    }
    test::TempDir dir;
    std::uint64_t good = records.size() - 6;
    std::vector<std::string> small_reasons = load_strings("mem_str_small", records, dir, good);
    std::vector<std::string> large_reasons = load_strings("mem_str_large", large, dir, good);
    CHECK(large_reasons == small_reasons);
    REQUIRE(large_reasons.size() == 6);
    std::size_t first_bad = records.size() - 5;
    CHECK(large_reasons[0] == std::to_string(first_bad) +
                                  ": column \"t\" (text): value \"ab\\x00c\" at byte 2: " +
                                  errc_reason(Errc::nul_in_text));
    CHECK(large_reasons[1] == std::to_string(first_bad + 1) +
                                  ": invalid JSON: Problem while parsing a string");
    CHECK(large_reasons[2] == std::to_string(first_bad + 2) +
                                  ": invalid JSON: Problem while parsing a string");
    // Every column byte for byte, json too: small or large, a json column stores the member's
    // own text (escapes as written).
    std::string all = "SELECT id, t, v, c, n, j::text, b, f FROM ";
    CHECK(conn.query_value("SELECT count(*) FROM (" + all + "mem_str_small EXCEPT " + all +
                           "mem_str_large) d") == "0");
    CHECK(conn.query_value("SELECT count(*) FROM (" + all + "mem_str_large EXCEPT " + all +
                           "mem_str_small) d") == "0");
    CHECK(conn.query_value("SELECT count(*) FROM mem_str_large") == std::to_string(good));
    // Unescaped as the server unescapes the same JSON string.
    CHECK(conn.query_value("SELECT count(*) FROM mem_str_large WHERE t IS DISTINCT FROM j #>> "
                           "'{}' AND j IS NOT NULL") == "0");
    CHECK(conn.query_value("SELECT t || '|' || c || '|' || length(c::text) FROM mem_str_large "
                           "WHERE id = 99") == "last||0");
}

TEST_CASE("load: a string member of many MiB goes to a text column unescaped as it was written",
          "[load][cli][pg][memory]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS mem_member; CREATE TABLE mem_member (id int8, t text, "
              "v varchar, j json)");
    // Every escape at every offset modulo the pattern, across 3 MiB.
    std::string pattern;
    for (const std::string& e : string_escapes) {
        pattern += e + "0" + e + e;
    }
    std::string s;
    while (s.size() < (std::size_t{3} << 20)) {
        s += pattern;
        s += "z";
    }
    std::string record = "{\"id\":1,\"t\":\"" + s + "\",\"v\":\"" + s + "\",\"j\":\"" + s + "\"}";
    test::TempDir dir;
    test::CliResult result = test::run_pgingest(
        {"load", "--db", test::cluster().conninfo(), "--table", "mem_member", "--summary", "json",
         "--progress", "never", dir.write("member.ndjson", record + "\n")});
    INFO(result.output.substr(0, 2000));
    REQUIRE(result.exit_code == 0);
    CHECK(test::parse_summary(result.output).rows_loaded == 1);
    CHECK(conn.query_value("SELECT (t = j #>> '{}')::text || ' ' || (v = t)::text FROM "
                           "mem_member") == "true true");
    CHECK(conn.query_value("SELECT j::text FROM mem_member") == "\"" + s + "\"");
    CHECK(conn.query_value("SELECT octet_length(t) > 1048576 FROM mem_member") == "t");
}

namespace {

/// {"id":N,"r":[0.0000000,0.0007919,...]}: about `size` bytes of 7-digit fractions (an
/// embedding's shape: 10 bytes of text per element, 8 bytes of real[] field).
std::string float_array_record(int id, std::size_t size, std::size_t& count) {
    std::string text = "{\"id\":" + std::to_string(id) + ",\"r\":[";
    char digits[16];
    for (count = 0; text.size() < size; ++count) {
        std::snprintf(digits, sizeof digits, "%s0.%07zu", count == 0 ? "" : ",",
                      (count * 7919) % 10000000);
        text += digits;
    }
    return text + "]}";
}

/// Loads one record of a real[] member of about `size` bytes with --memory-bytes 16 MiB and
/// checks the peak RSS against the bound and the stored array's length and ends.
void load_float_array_member(std::size_t size) {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS mem_floats; CREATE TABLE mem_floats (id int8, r real[])");
    test::TempDir dir;
    std::size_t count = 0;
    std::uint64_t record_bytes = 0;
    {
        std::string record = float_array_record(1, size, count);
        record_bytes = record.size();
        dir.write("floats.ndjson", record + "\n");
    }  // freed before the fork: the child's RSS before exec counts in its ru_maxrss
    constexpr std::uint64_t budget_bytes = std::uint64_t{16} << 20;
    Measured run = run_measured(
        {"load", "--db", test::cluster().conninfo(), "--table", "mem_floats", "--memory-bytes",
         std::to_string(budget_bytes), "--summary", "json", "--progress", "never",
         dir.path("floats.ndjson")},
        dir.path("out.txt"));
    INFO(run.output.substr(0, 2000));
    REQUIRE(run.exit_code == 0);
    std::uint64_t bound = budget_bytes + 2 * record_bytes + (std::uint64_t{64} << 20);
    INFO("peak RSS " << run.peak_rss_bytes << " bytes, bound " << bound << " (record "
                     << record_bytes << " bytes, " << count << " elements)");
    CHECK(run.peak_rss_bytes <= bound);
    std::size_t last = ((count - 1) * 7919) % 10000000;
    char digits[16];
    std::snprintf(digits, sizeof digits, "%zu", last);
    std::string last_text = "0." + std::string(7 - std::strlen(digits), '0') + digits;
    CHECK(conn.query_value("SELECT array_length(r, 1) || ' ' || r[1] || ' ' || r[2] || ' ' || "
                           "(r[" + std::to_string(count) + "] = " + last_text +
                           "::real) FROM mem_floats") ==
          std::to_string(count) + " 0 0.0007919 true");
}

}  // namespace

TEST_CASE("load: a real[] member of many MiB peaks under budget + 2 x the record + 64 MB",
          "[load][cli][pg][memory]") {
    load_float_array_member(std::size_t{24} << 20);
}

TEST_CASE("load: a real[] member of 150 MB peaks under budget + 2 x the record + 64 MB",
          "[load][cli][pg][memory][.]") {
    load_float_array_member(std::size_t{150} * 1000 * 1000);
}
