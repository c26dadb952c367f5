// Proves `pgingest load` end to end, by running the built binary against the test server: every
// record read is loaded or rejected (exact counts, from the server), rejected records carry
// source, line, reason and SQLSTATE, flags naming something wrong fail before anything is
// written, exit statuses are the documented ones, and gzip input and stdin load the same rows.

#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/load/load_support.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

TEST_CASE("load: every record is loaded or rejected, and the rejects say where and why",
          "[load][cli][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS ld_events; CREATE TABLE ld_events (id int8 PRIMARY KEY, "
        "kind text NOT NULL, n int4 CHECK (n >= 0), at timestamptz, attrs jsonb)");
    test::TempDir dir;
    std::string input = dir.write("events.ndjson",
                                  R"({"id": 1, "kind": "a", "n": 1, "attrs": {"x": [1, 2]}})"
                                  "\n"
                                  R"({"id": 2, "kind": "b", "n": 2, "at": "2024-05-01T00:00:00Z"})"
                                  "\n\n"
                                  R"({"id": 3, "kind": "c", "n": -1})"  // CHECK: server reject
                                  "\n"
                                  R"({"id": 4, "kind": "d", "n": 99999999999})"  // int4 overflow
                                  "\n"
                                  R"({"id": 5, "kind": )"  // malformed
                                  "\n"
                                  R"([1, 2])"  // not an object
                                  "\n"
                                  R"({"id": 1, "kind": "dup"})"  // primary key: server reject
                                  "\n"
                                  R"({"id": 6, "kind": "e", "attrs": "x\u0000y"})"  // NUL
                                  "\n"
                                  R"({"id": 7, "kind": "g", "n": 7})"
                                  "\n");
    std::string rejects = dir.path("rejects.ndjson");
    test::CliResult result =
        test::run_pgingest({"load", "--db", test::cluster().conninfo(), "--table", "ld_events",
                            "--rejects", rejects, "--summary", "json", input});
    INFO(result.output);
    CHECK(result.exit_code == 1);
    test::Summary summary = test::parse_summary(result.output);
    CHECK(summary.rows_read == 9);
    CHECK(summary.rows_loaded == 3);
    CHECK(summary.rows_rejected == 6);
    CHECK(conn.query_value("SELECT string_agg(id || ':' || kind, ',' ORDER BY id) FROM "
                           "ld_events") == "1:a,2:b,7:g");
    CHECK(conn.query_value("SELECT attrs FROM ld_events WHERE id = 1") == "{\"x\": [1, 2]}");

    std::vector<test::Reject> lines = test::read_rejects(rejects);
    REQUIRE(lines.size() == 6);
    std::sort(lines.begin(), lines.end(),
              [](const test::Reject& a, const test::Reject& b) { return a.offset < b.offset; });
    for (const test::Reject& line : lines) {
        CHECK(line.source == input);
    }
    CHECK(lines[0].sqlstate == "23514");
    CHECK(lines[0].line == 4);  // found again in the source after the load
    CHECK(lines[0].record == R"({"id": 3, "kind": "c", "n": -1})");
    CHECK(lines[0].reason.find("ld_events_n_check") != std::string::npos);
    CHECK(lines[1].line == 5);
    CHECK(lines[1].reason ==
          "column \"n\" (integer): value \"99999999999\" at byte 0: integer out of range for the "
          "column's "
          "type");
    CHECK(lines[1].record == R"({"id": 4, "kind": "d", "n": 99999999999})");
    CHECK(lines[2].line == 6);
    CHECK(lines[2].reason.starts_with("invalid JSON"));
    CHECK(lines[2].record == R"({"id": 5, "kind":)");  // trailing blanks are not the record's
    CHECK(lines[3].line == 7);
    CHECK(lines[3].reason == "record is not a JSON object");
    CHECK(lines[4].sqlstate == "23505");
    CHECK(lines[4].line == 8);
    CHECK(lines[4].record == R"({"id": 1, "kind": "dup"})");
    CHECK(lines[5].line == 9);
    CHECK(lines[5].reason.find("\\u0000 is not allowed in jsonb") != std::string::npos);
}

TEST_CASE("load: --nul strip stores the value without the NUL", "[load][cli][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS ld_nul; CREATE TABLE ld_nul (attrs jsonb)");
    test::TempDir dir;
    std::string input = dir.write("nul.ndjson", R"({"attrs": {"a\u0000": "x\u0000y"}})"
                                                "\n");
    test::CliResult result =
        test::run_pgingest({"load", "--db", test::cluster().conninfo(), "--table", "ld_nul",
                            "--nul", "strip", "--quiet", input});
    CHECK(result.exit_code == 0);
    CHECK(conn.query_value("SELECT attrs FROM ld_nul") == "{\"a\": \"xy\"}");
}

TEST_CASE("load: usage errors fail before anything is written", "[load][cli][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS ld_usage; CREATE TABLE ld_usage (id int8, doc jsonb)");
    test::TempDir dir;
    std::string input = dir.write("ok.ndjson", "{\"id\": 1}\n");
    const std::string db = test::cluster().conninfo();

    test::CliResult no_table =
        test::run_pgingest({"load", "--db", db, "--table", "ld_nowhere", input});
    CHECK(no_table.exit_code == 2);
    CHECK(no_table.output.find("ld_nowhere") != std::string::npos);

    test::CliResult bad_map =
        test::run_pgingest({"load", "--db", db, "--table", "ld_usage", "--map", "nope=/x", input});
    CHECK(bad_map.exit_code == 2);
    CHECK(bad_map.output.find("--map nope=/x: table public.ld_usage has no column \"nope\"") !=
          std::string::npos);

    std::string missing = dir.path("missing.ndjson");
    test::CliResult no_file =
        test::run_pgingest({"load", "--db", db, "--table", "ld_usage", input, missing});
    CHECK(no_file.exit_code == 2);
    CHECK(no_file.output.find(missing) != std::string::npos);

    test::CliResult bad_flag =
        test::run_pgingest({"load", "--db", db, "--table", "ld_usage", "--workers", "0", input});
    CHECK(bad_flag.exit_code == 2);
    CHECK(bad_flag.output.find("--workers") != std::string::npos);

    for (const char* flag : {"--lock-timeout", "--reconnect-timeout"}) {
        test::CliResult bad_duration =
            test::run_pgingest({"load", "--db", db, "--table", "ld_usage", flag, "soon", input});
        CHECK(bad_duration.exit_code == 2);
        CHECK(bad_duration.output.find(std::string(flag) +
                                       " soon: expected a duration such as 500ms, 2s or 1min") !=
              std::string::npos);
    }

    test::CliResult no_server = test::run_pgingest(
        {"load", "--db", "host=127.0.0.1 port=1 connect_timeout=2", "--table", "ld_usage", input});
    CHECK(no_server.exit_code == 3);

    CHECK(conn.query_value("SELECT count(*) FROM ld_usage") == "0");
}

TEST_CASE("load: --max-errors stops the load with its own exit status", "[load][cli][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS ld_max; CREATE TABLE ld_max (id int4)");
    test::TempDir dir;
    std::string text;
    for (int i = 0; i < 100; ++i) {
        text += i % 2 == 0 ? "{\"id\": " + std::to_string(i) + "}\n" : "{\"id\": \"x\"}\n";
    }
    std::string input = dir.write("max.ndjson", text);
    test::CliResult result = test::run_pgingest(
        {"load", "--db", test::cluster().conninfo(), "--table", "ld_max", "--max-errors", "3",
         "--threads", "1", "--summary", "json", "--rejects", dir.path("r.ndjson"), input});
    CHECK(result.exit_code == 4);
    test::Summary summary = test::parse_summary(result.output);
    CHECK(summary.rows_rejected >= 4);
    CHECK(summary.rows_read == summary.rows_loaded + summary.rows_rejected);
    CHECK(conn.query_value("SELECT count(*) FROM ld_max") == std::to_string(summary.rows_loaded));
}

TEST_CASE("load: gzip input and stdin load the same rows as the plain file", "[load][cli][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS ld_same; CREATE TABLE ld_same (id int8, name text)");
    test::TempDir dir;
    std::string text;
    for (int i = 0; i < 5000; ++i) {
        text += "{\"id\": " + std::to_string(i) + ", \"name\": \"n" + std::to_string(i) + "\"}\n";
    }
    std::string plain = dir.write("same.ndjson", text);
    REQUIRE(std::system(("gzip -k -c " + plain + " > " + plain + ".gz").c_str()) == 0);
    const std::string db = test::cluster().conninfo();
    CHECK(test::run_pgingest({"load", "--db", db, "--table", "ld_same", "-q", plain + ".gz"})
              .exit_code == 0);
    CHECK(test::run_shell("cat " + plain + " | " + PGINGEST_BINARY + " load -q --db '" + db +
                          "' --table ld_same -") == 0);
    CHECK(conn.query_value("SELECT count(*) FROM ld_same") == "10000");
    CHECK(conn.query_value("SELECT count(*) FROM (SELECT id, name FROM ld_same GROUP BY id, name "
                           "HAVING count(*) = 2 AND name = 'n' || id) x") == "5000");
}

TEST_CASE("load: rows the server refuses from stdin are rejected with their line and record",
          "[load][cli][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS ld_stdin; CREATE TABLE ld_stdin (id int8 PRIMARY KEY, "
        "n int4 CHECK (n % 9973 <> 0), name text)");
    test::TempDir dir;
    // 200 000 records (about 11 MB: several input chunks, many batches and commits); the CHECK
    // refuses every 9973rd, and record 150 000 repeats the id of record 7 (primary key).
    std::string text;
    for (int i = 1; i <= 200'000; ++i) {
        int id = i == 150'000 ? 7 : i;
        text += "{\"id\": " + std::to_string(id) + ", \"n\": " + std::to_string(i) +
                ", \"name\": \"n" + std::to_string(i) + "\"}\n";
    }
    std::string input = dir.write("stdin.ndjson", text);
    std::string rejects = dir.path("rejects.ndjson");
    const std::string db = test::cluster().conninfo();
    CHECK(test::run_shell("cat " + input + " | " + PGINGEST_BINARY + " load -q --db '" + db +
                          "' --table ld_stdin --workers 2 --batch-bytes 65536 --rejects " +
                          rejects + " -") == 1);  // exit status 1: rejects
    std::vector<std::uint64_t> refused;           // lines (= n) of the refused records
    for (std::uint64_t n = 9973; n <= 200'000; n += 9973) {
        refused.push_back(n);
    }
    refused.push_back(150'000);
    std::sort(refused.begin(), refused.end());
    CHECK(conn.query_value("SELECT count(*) FROM ld_stdin") ==
          std::to_string(200'000 - refused.size()));
    std::vector<test::Reject> lines = test::read_rejects(rejects);
    REQUIRE(lines.size() == refused.size());
    std::sort(lines.begin(), lines.end(),
              [](const test::Reject& a, const test::Reject& b) { return a.line < b.line; });
    for (std::size_t k = 0; k < lines.size(); ++k) {
        const test::Reject& line = lines[k];
        const std::uint64_t n = refused[k];
        INFO("reject " << k << ": line " << line.line << ", expected " << n);
        CHECK(line.source == "-");
        REQUIRE(line.line == n);
        CHECK(line.sqlstate == (n == 150'000 ? "23505" : "23514"));
        std::string id = std::to_string(n == 150'000 ? 7 : n);
        CHECK(line.record == "{\"id\": " + id + ", \"n\": " + std::to_string(n) +
                                 ", \"name\": \"n" + std::to_string(n) + "\"}");
        CHECK(line.offset == text.find(line.record));
    }
}

TEST_CASE("load: server rejects from several files name their own file, line and byte offset",
          "[load][cli][pg][origin]") {
    // Rows carry their origin (file index, byte offset) through the engine: with three files
    // read by two workers at once, each refused row is traced back to its own file.
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS ld_origins; CREATE TABLE ld_origins (f int4, n int4 "
        "CHECK (n % 997 <> 0), name text)");
    test::TempDir dir;
    std::vector<std::string> paths;
    std::vector<std::string> texts;
    for (int f = 0; f < 3; ++f) {
        std::string text = "\n";  // a blank first line: offsets are not line starts
        for (int n = 1; n <= 30'000; ++n) {
            text += "{\"f\": " + std::to_string(f) + ", \"n\": " + std::to_string(n + f) +
                    ", \"name\": \"" + std::string(static_cast<std::size_t>(n % 7), 'x') + "\"}\n";
        }
        texts.push_back(text);
        paths.push_back(dir.write("f" + std::to_string(f) + ".ndjson", text));
    }
    std::string rejects = dir.path("rejects.ndjson");
    std::vector<std::string> args{"load",      "--db",          test::cluster().conninfo(),
                                  "--table",   "ld_origins",    "--workers",
                                  "2",         "--batch-bytes", "16384",
                                  "--rejects", rejects,         "--quiet"};
    args.insert(args.end(), paths.begin(), paths.end());
    test::CliResult result = test::run_pgingest(args);
    INFO(result.output);
    CHECK(result.exit_code == 1);
    std::vector<test::Reject> lines = test::read_rejects(rejects);
    std::size_t expected = 0;
    for (int f = 0; f < 3; ++f) {
        for (int n = 1 + f; n <= 30'000 + f; ++n) {
            expected += n % 997 == 0 ? 1 : 0;
        }
    }
    CHECK(lines.size() == expected);
    CHECK(conn.query_value("SELECT count(*) FROM ld_origins") == std::to_string(90'000 - expected));
    for (const test::Reject& line : lines) {
        auto file = static_cast<std::size_t>(std::find(paths.begin(), paths.end(), line.source) -
                                             paths.begin());
        REQUIRE(file < 3);
        INFO(line.source << " line " << line.line);
        CHECK(line.sqlstate == "23514");
        CHECK(line.record.starts_with("{\"f\": " + std::to_string(file) + ", "));
        CHECK(line.offset == texts[file].find(line.record));
        // Line k holds record k - 1 (line 1 is blank), whose n is k - 1 + file.
        std::string n = std::to_string(line.line - 1 + file);
        CHECK(line.record.find("\"n\": " + n + ",") != std::string::npos);
        CHECK((line.line - 1 + file) % 997 == 0);
    }
}

TEST_CASE("load: --dry-run prints the plan and writes nothing", "[load][cli][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS ld_dry; CREATE TABLE ld_dry (id bigserial, name text, "
        "state jsonb)");
    test::TempDir dir;
    std::string input = dir.write("dry.json", "{\"name\": \"x\"}");
    test::CliResult result =
        test::run_pgingest({"load", "--db", test::cluster().conninfo(), "--table", "ld_dry",
                            "--document-column", "state", "--dry-run", input});
    CHECK(result.exit_code == 0);
    CHECK(result.output.find("name  text  <- key name") != std::string::npos);
    CHECK(result.output.find("state  jsonb  <- document") != std::string::npos);
    CHECK(result.output.find("id  (not sent: the server's default)") != std::string::npos);
    CHECK(conn.query_value("SELECT count(*) FROM ld_dry") == "0");
}

TEST_CASE("load: --help documents every flag and the exit statuses", "[load][cli]") {
    test::CliResult help = test::run_pgingest({"load", "--help"});
    CHECK(help.exit_code == 0);
    for (const char* flag : {"--db",
                             "--table",
                             "--format",
                             "--pointer",
                             "--map",
                             "--set",
                             "--document-column",
                             "--rest-column",
                             "--workers",
                             "--threads",
                             "--batch-bytes",
                             "--txn-bytes",
                             "--memory-bytes",
                             "--io",
                             "--rejects",
                             "--max-errors",
                             "--summary",
                             "--nul",
                             "--progress",
                             "--quiet",
                             "--dry-run",
                             "PGINGEST_WORKERS",
                             "Exit status",
                             "--lock-timeout",
                             "--reconnect-timeout",
                             "SIGTERM",
                             "6 interrupted",
                             "rows_not_loaded"}) {
        INFO(flag);
        CHECK(help.output.find(flag) != std::string::npos);
    }
}

TEST_CASE("load: a progress line when asked, none off a terminal by default", "[load][cli][pg]") {
    auto conn = test::connect();
    test::TempDir dir;
    std::string input = dir.path("events.ndjson");
    REQUIRE(test::run_pgingest({"generate", "events", "--rows", "20000", "-o", input}).exit_code ==
            0);
    test::CliResult schema =
        test::run_pgingest({"generate", "events", "--schema", "--table", "ld_progress"});
    REQUIRE(schema.exit_code == 0);
    const std::string db = test::cluster().conninfo();
    for (const char* progress : {"always", "auto"}) {
        conn.exec("DROP TABLE IF EXISTS ld_progress; " + schema.output);
        // --reload: the same file into the table again (the ledger knows it was loaded).
        test::CliResult result =
            test::run_pgingest({"load", "--db", db, "--table", "ld_progress", "--progress",
                                progress, "--reload", input});
        INFO(progress << ": " << result.output.substr(0, 2000));
        CHECK(result.exit_code == 0);
        bool shown = result.output.find(" records, ") != std::string::npos &&
                     result.output.find(" rejected") != std::string::npos &&
                     result.output.find("MB/s") != std::string::npos;
        // `always` shows the line every 0.5 s and once when reading ends; popen's pipe is not
        // a terminal, so `auto` shows nothing.
        CHECK(shown == (std::string(progress) == "always"));
        CHECK(conn.query_value("SELECT count(*) FROM ld_progress") == "20000");
    }
}
