// Proves that the contenders of the end-to-end benchmark (bench/e2e/contenders: asyncpg, pgx,
// libpqxx) store exactly what `pgingest load` stores: for each kind of `pgingest generate`
// data, each contender prints {"rows": N} with the exact N, its table holds N rows, and its
// table equals the one pgingest loaded, row for row both ways (EXCEPT ALL). A malformed line
// makes each of them exit 1 naming the line, with nothing committed.

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tests/load/load_support.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

struct Contender {
    std::string name;                  ///< table prefix and test section
    std::vector<std::string> command;  ///< program (and script) before the arguments
};

std::vector<Contender> contenders() {
    return {{"asyncpg", {PGINGEST_PYTHON3, PGINGEST_ASYNCPG_LOAD}},
            {"pgx", {PGINGEST_PGX_LOAD}},
            {"pqxx", {PGINGEST_PQXX_LOAD}}};
}

struct Run {
    int exit_code = -1;
    std::string out;
    std::string err;
};

/// Runs `command` (no shell interpretation of its words) with stdout and stderr apart.
Run run(const std::vector<std::string>& command, const test::TempDir& dir) {
    const std::string err_path = dir.path("stderr.txt");
    std::string line;
    for (const std::string& word : command) {
        line += test::shell_quote(word) + " ";
    }
    line += "2> " + test::shell_quote(err_path);
    Run result;
    result.exit_code = test::run_capturing(line, result.out);
    std::ifstream err(err_path, std::ios::binary);
    result.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
    return result;
}

Run run_contender(const Contender& contender, const std::string& conninfo, const std::string& table,
                  const std::string& kind, const std::string& file, const test::TempDir& dir) {
    std::vector<std::string> command = contender.command;
    command.insert(command.end(), {"--db", conninfo, "--table", table, "--kind", kind, file});
    return run(command, dir);
}

/// Creates `table` with the --schema of `kind` (dropping an older one).
void create_table(Connection& conn, const std::string& kind, const std::string& table,
                  const test::TempDir& dir) {
    Run schema = run({PGINGEST_BINARY, "generate", kind, "--schema", "--table", table}, dir);
    INFO(schema.err);
    REQUIRE(schema.exit_code == 0);
    conn.exec("DROP TABLE IF EXISTS " + table + "; " + schema.out);
}

std::string count_rows(Connection& conn, const std::string& table) {
    return conn.query_value("SELECT count(*) FROM " + table);
}

std::string rows_missing(Connection& conn, const std::string& from, const std::string& in) {
    return conn.query_value("SELECT count(*) FROM (TABLE " + from + " EXCEPT ALL TABLE " + in +
                            ") x");
}

/// Generates `rows` records of `kind`, loads them with pgingest and with every contender, and
/// checks that every contender's table equals pgingest's.
void check_kind(const std::string& kind, std::uint64_t rows,
                const std::vector<std::string>& generate_flags) {
    test::TempDir dir;
    const std::string file = dir.path(kind + ".ndjson");
    std::vector<std::string> generate = {PGINGEST_BINARY,      "generate", kind, "--rows",
                                         std::to_string(rows), "--output", file};
    generate.insert(generate.end(), generate_flags.begin(), generate_flags.end());
    Run generated = run(generate, dir);
    INFO(generated.err);
    REQUIRE(generated.exit_code == 0);

    auto conn = test::connect();
    const std::string conninfo = test::cluster().conninfo();
    const std::string reference = "e2e_ref_" + kind;
    create_table(conn, kind, reference, dir);
    Run loaded = run({PGINGEST_BINARY, "load", "--db", conninfo, "--table", reference, file}, dir);
    INFO(loaded.out << loaded.err);
    REQUIRE(loaded.exit_code == 0);
    REQUIRE(count_rows(conn, reference) == std::to_string(rows));

    for (const Contender& contender : contenders()) {
        const std::string table = "e2e_" + contender.name + "_" + kind;
        create_table(conn, kind, table, dir);
        Run result = run_contender(contender, conninfo, "public." + table, kind, file, dir);
        INFO(contender.name << " " << kind << "\nstdout: " << result.out
                            << "\nstderr: " << result.err);
        CHECK(result.exit_code == 0);
        CHECK(result.out == "{\"rows\": " + std::to_string(rows) + "}\n");
        CHECK(count_rows(conn, table) == std::to_string(rows));
        CHECK(rows_missing(conn, reference, table) == "0");
        CHECK(rows_missing(conn, table, reference) == "0");
    }
}

}  // namespace

TEST_CASE("contenders: spans load the same rows as pgingest load", "[e2e][pg]") {
    check_kind("spans", 200, {});
}

TEST_CASE("contenders: events load the same rows as pgingest load", "[e2e][pg]") {
    check_kind("events", 2000, {});
}

TEST_CASE("contenders: snapshots load the same rows as pgingest load", "[e2e][pg]") {
    check_kind("snapshots", 3, {"--snapshot-bytes-min", "20000", "--snapshot-bytes-max", "60000"});
}

TEST_CASE("contenders: vectors load the same rows as pgingest load", "[e2e][pg]") {
    check_kind("vectors", 100, {});
}

TEST_CASE("contenders: a malformed line 3 fails the load, names line 3, commits nothing",
          "[e2e][pg]") {
    test::TempDir dir;
    Run generated = run(
        {PGINGEST_BINARY, "generate", "events", "--rows", "4", "--output", dir.path("ok")}, dir);
    REQUIRE(generated.exit_code == 0);
    std::ifstream in(dir.path("ok"));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    REQUIRE(lines.size() == 4);
    // Line 3 cut in the middle of its record: valid UTF-8, invalid JSON.
    const std::string file = dir.write("bad.ndjson", lines[0] + "\n" + lines[1] + "\n" +
                                                         lines[2].substr(0, lines[2].size() / 2) +
                                                         "\n" + lines[3] + "\n");
    auto conn = test::connect();
    for (const Contender& contender : contenders()) {
        const std::string table = "e2e_bad_" + contender.name;
        create_table(conn, "events", table, dir);
        // The unix-socket form of a key=value conninfo.
        Run result =
            run_contender(contender, test::cluster().socket_conninfo(), table, "events", file, dir);
        INFO(contender.name << "\nstdout: " << result.out << "\nstderr: " << result.err);
        CHECK(result.exit_code == 1);
        CHECK(result.out.empty());
        CHECK(result.err.find("line 3") != std::string::npos);
        CHECK(result.err.find("bad.ndjson") != std::string::npos);
        CHECK(count_rows(conn, table) == "0");
    }
}
