// Proves the ledger of `pgingest load` end to end (issue 14), by running the built binary
// against a real server: a load killed with SIGKILL at random moments, or cut off by an
// immediate server stop, and then resumed holds exactly the rows of a reference load (multiset
// equality) and records each reject once; a finished load run again writes nothing; an
// interrupted one asks for --resume; a changed file refuses the resume; an appended NDJSON file
// resumes with --resume=append; a second run of a running load refuses; --reload loads again;
// a role that cannot create the ledger loads without it after a warning. Every refusal's
// message text is checked.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "engine/ledger.hpp"
#include "tests/load/load_support.hpp"
#include "tests/support/pg.hpp"
#include "tools/local_cluster.hpp"

using namespace pgingest;

namespace {

constexpr const char* table_sql =
    " (id int8 NOT NULL, kind text NOT NULL, n int4 CHECK (n >= 0), payload text)";

/// A generated NDJSON source: `records` lines, of which every 5000th (from id 1001) is
/// malformed, has n = -1 (the server's CHECK refuses it) or an int4 overflow (pgingest refuses
/// it).
struct Source {
    std::string text;
    std::set<std::uint64_t> reject_offsets;  ///< byte offsets of the rejected lines
    std::uint64_t rows_good = 0;
};

Source make_source(std::uint64_t first_id, std::uint64_t records) {
    Source source;
    for (std::uint64_t i = first_id; i < first_id + records; ++i) {
        std::uint64_t at = source.text.size();
        std::string line;
        switch (i % 5000) {
            case 1001:
                line = R"({"id": )" + std::to_string(i) + R"(, "kind": )";  // malformed
                break;
            case 1002:
                line = R"({"id": )" + std::to_string(i) + R"(, "kind": "bad", "n": -1})";
                break;
            case 1003:
                line = R"({"id": )" + std::to_string(i) + R"(, "kind": "big", "n": 99999999999})";
                break;
            default:
                line = R"({"id": )" + std::to_string(i) + R"(, "kind": "k)" +
                       std::to_string(i % 7) + R"(", "n": )" + std::to_string(i % 1000) +
                       R"(, "payload": "some text to make the line longer )" +
                       std::to_string(i * 7) + R"("})";
                ++source.rows_good;
        }
        if (i % 5000 >= 1001 && i % 5000 <= 1003) {
            source.reject_offsets.insert(at);
        }
        source.text += line + "\n";
    }
    return source;
}

std::vector<std::string> load_args(const std::string& conninfo, const std::string& table,
                                   const std::string& file, std::vector<std::string> extra) {
    std::vector<std::string> args{"load",  "--db",        conninfo, "--table",
                                  table,   "--summary",   "json",   "--progress",
                                  "never", "--txn-bytes", "200000", "--batch-bytes",
                                  "32768", "--workers",   "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(file);
    return args;
}

/// Starts the built `pgingest` with `args`, its stdout and stderr to `output_path`.
pid_t spawn_pgingest(const std::vector<std::string>& args, const std::string& output_path) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::vector<char*> argv{const_cast<char*>(PGINGEST_BINARY)};
        for (const std::string& arg : args) {
            argv.push_back(const_cast<char*>(arg.c_str()));
        }
        argv.push_back(nullptr);
        ::execv(PGINGEST_BINARY, argv.data());
        ::_exit(127);
    }
    return pid;
}

/// Waits for `pid`; its exit status, or 128 + the signal that ended it.
int wait_exit(pid_t pid) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Rows of `a` not in `b` plus rows of `b` not in `a`, as multisets.
std::string multiset_difference(Connection& conn, const std::string& a, const std::string& b) {
    return conn.query_value("SELECT count(*) FROM ((SELECT * FROM " + a +
                            " EXCEPT ALL SELECT * FROM " + b + ") UNION ALL (SELECT * FROM " + b +
                            " EXCEPT ALL SELECT * FROM " + a + ")) d");
}

/// Loads `file` into `table` with --resume (or without, when the ledger never heard of the
/// load: the run was killed before it recorded it) until it finished.
void resume_to_end(const std::string& conninfo, const std::string& table, const std::string& file,
                   const std::string& load_id, const std::string& rejects) {
    test::CliResult result = test::run_pgingest(
        load_args(conninfo, table, file, {"--load-id", load_id, "--rejects", rejects, "--resume"}));
    INFO(result.output);
    if (result.exit_code == 2) {
        REQUIRE(result.output.find("cannot resume load " + load_id +
                                   ": the ledger (schema pgingest) has no such load; nothing "
                                   "written. Run without --resume to start it") !=
                std::string::npos);
        result = test::run_pgingest(
            load_args(conninfo, table, file, {"--load-id", load_id, "--rejects", rejects}));
    }
    INFO(result.output);
    // 1: rejects came in this run; 0: every reject was settled before (or the load finished).
    CHECK((result.exit_code == 1 || result.exit_code == 0));
}

/// Checks that `table` holds the rows of `reference` exactly, that the ledger recorded each
/// reject of `source` once, and that the rejects file never reports one twice.
void check_exactly_once(Connection& conn, const std::string& table, const std::string& reference,
                        const Source& source, const std::string& load_id,
                        const std::string& rejects) {
    CHECK(conn.query_value("SELECT count(*) FROM " + table) == std::to_string(source.rows_good));
    CHECK(multiset_difference(conn, table, reference) == "0");
    CHECK(conn.query_value("SELECT finished_at IS NOT NULL FROM pgingest.loads WHERE load_id = " +
                           test::sql_literal(conn, load_id)) == "t");
    std::string offsets;
    for (std::uint64_t offset : source.reject_offsets) {
        offsets += (offsets.empty() ? "" : ",") + std::to_string(offset);
    }
    CHECK(conn.query_value("SELECT string_agg(byte_offset::text, ',' ORDER BY byte_offset) FROM "
                           "pgingest.rejects WHERE load_id = " +
                           test::sql_literal(conn, load_id)) == offsets);
    std::set<std::uint64_t> reported;
    for (const test::Reject& reject : test::read_rejects(rejects)) {
        INFO("reject at " << reject.offset);
        CHECK(reported.insert(reject.offset).second);  // never reported twice
        CHECK(source.reject_offsets.contains(reject.offset));
    }
}

void create_tables(Connection& conn, const std::string& table) {
    conn.exec("DROP TABLE IF EXISTS " + table + ", " + table + "_ref; CREATE TABLE " + table +
              table_sql + "; CREATE TABLE " + table + "_ref" + table_sql);
}

/// `runs` loads killed with SIGKILL after a random delay, each resumed to the end.
void kill_and_resume(int runs, const std::string& tag) {
    auto conn = test::connect();
    std::string conninfo = test::cluster().conninfo();
    std::string table = "lg_kill_" + tag;
    create_tables(conn, table);
    test::TempDir dir;
    Source source = make_source(1, 60000);
    std::string file = dir.write("events.ndjson", source.text);
    test::CliResult reference = test::run_pgingest(
        load_args(conninfo, table + "_ref", file, {"--no-ledger", "--rejects", dir.path("r")}));
    REQUIRE(reference.exit_code == 1);
    std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937_64 random(seed);
    for (int run = 0; run < runs; ++run) {
        conn.exec("TRUNCATE " + table);
        std::string load_id =
            "kill-" + tag + "-" + std::to_string(run) + "-" + std::to_string(seed);
        std::string rejects = dir.path("rejects-" + std::to_string(run));
        auto delay = std::chrono::milliseconds(random() % 1500);
        INFO("run " << run << ": SIGKILL after " << delay.count() << " ms");
        pid_t pid = spawn_pgingest(
            load_args(conninfo, table, file, {"--load-id", load_id, "--rejects", rejects}),
            dir.path("out"));
        std::this_thread::sleep_for(delay);
        ::kill(pid, SIGKILL);
        wait_exit(pid);
        resume_to_end(conninfo, table, file, load_id, rejects);
        check_exactly_once(conn, table, table + "_ref", source, load_id, rejects);
    }
}

}  // namespace

TEST_CASE("ledger: SIGKILL at 5 random moments, then --resume: the table equals a reference load",
          "[load][ledger][pg]") {
    kill_and_resume(5, "a");
}

TEST_CASE("ledger: SIGKILL at 20 random moments, then --resume (slow)", "[.][load][ledger][pg]") {
    kill_and_resume(20, "b");
}

TEST_CASE("ledger: an immediate server stop mid-load, then --resume: exactly the source's rows",
          "[load][ledger][pg]") {
    LocalClusterOptions options;
    options.settings = {"synchronous_commit=on"};
    LocalCluster server(options);  // its own: the stop must not disturb other tests
    Connection conn(server.conninfo());
    create_tables(conn, "lg_crash");
    test::TempDir dir;
    Source source = make_source(1, 60000);
    std::string file = dir.write("events.ndjson", source.text);
    REQUIRE(test::run_pgingest(load_args(server.conninfo(), "lg_crash_ref", file,
                                         {"--no-ledger", "--rejects", dir.path("r")}))
                .exit_code == 1);
    std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937_64 random(seed);
    for (int run = 0; run < 2; ++run) {
        Connection(server.conninfo()).exec("TRUNCATE lg_crash");
        std::string load_id = "crash-" + std::to_string(run);
        std::string rejects = dir.path("rejects-" + std::to_string(run));
        auto delay = std::chrono::milliseconds(100 + random() % 900);
        INFO("run " << run << ": immediate stop after " << delay.count() << " ms");
        pid_t pid = spawn_pgingest(
            load_args(server.conninfo(), "lg_crash", file,
                      {"--load-id", load_id, "--rejects", rejects, "--reconnect-timeout", "0"}),
            dir.path("out"));
        std::this_thread::sleep_for(delay);
        server.restart(Shutdown::immediate, std::chrono::milliseconds(300));
        int exit = wait_exit(pid);
        INFO("first run: exit " << exit << ": " << test::read_file(dir.path("out")));
        CHECK((exit == 0 || exit == 1 || exit == 3));
        resume_to_end(server.conninfo(), "lg_crash", file, load_id, rejects);
        Connection after(server.conninfo());
        check_exactly_once(after, "lg_crash", "lg_crash_ref", source, load_id, rejects);
    }
}

namespace {

/// A source of `records` lines in `dir`, loaded once into `table` and then stopped by
/// --max-errors 0 at its first reject (line 1001): an interrupted load with records settled.
std::string interrupted_load(Connection& conn, test::TempDir& dir, const std::string& table,
                             const std::string& load_id) {
    conn.exec("DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table + table_sql);
    std::string file = dir.write("src.ndjson", make_source(1, 20000).text);
    test::CliResult first = test::run_pgingest(
        load_args(test::cluster().conninfo(), table, file,
                  {"--load-id", load_id, "--max-errors", "0", "--rejects", dir.path("rejects")}));
    INFO(first.output);
    REQUIRE(first.exit_code == 4);
    return file;
}

std::string count(Connection& conn, const std::string& table) {
    return conn.query_value("SELECT count(*) FROM " + table);
}

}  // namespace

TEST_CASE(
    "ledger: a finished load run again says so, exits 0 and writes nothing; --reload "
    "loads it again",
    "[load][ledger][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS lg_done; CREATE TABLE lg_done" + std::string(table_sql));
    test::TempDir dir;
    Source source = make_source(1, 12000);
    std::string file = dir.write("done.ndjson", source.text);
    std::string conninfo = test::cluster().conninfo();
    test::CliResult first = test::run_pgingest(
        load_args(conninfo, "lg_done", file, {"--rejects", dir.path("rejects")}));
    INFO(first.output);
    REQUIRE(first.exit_code == 1);
    CHECK(count(conn, "lg_done") == std::to_string(source.rows_good));
    std::string rows = std::to_string(source.rows_good);
    std::string rejected = std::to_string(source.reject_offsets.size());

    test::CliResult again = test::run_pgingest(
        load_args(conninfo, "lg_done", file, {"--rejects", dir.path("rejects")}));
    INFO(again.output);
    CHECK(again.exit_code == 0);
    std::string load_id =
        conn.query_value("SELECT load_id FROM pgingest.loads WHERE target = 'public.lg_done'");
    CHECK(load_id.starts_with("public.lg_done:"));
    CHECK(again.output.find("pgingest load: load " + load_id + " already finished (" + rows +
                            " rows loaded, " + rejected +
                            " rejected): nothing to do; --reload loads every record again\n") !=
          std::string::npos);
    CHECK(test::parse_summary(again.output).rows_read == 0);
    CHECK(count(conn, "lg_done") == rows);

    test::CliResult resumed = test::run_pgingest(
        load_args(conninfo, "lg_done", file, {"--resume", "--rejects", dir.path("rejects")}));
    INFO(resumed.output);
    CHECK(resumed.exit_code == 0);
    CHECK(resumed.output.find("already finished (" + rows + " rows loaded, " + rejected +
                              " rejected): nothing to resume") != std::string::npos);
    CHECK(count(conn, "lg_done") == rows);

    test::CliResult reload = test::run_pgingest(
        load_args(conninfo, "lg_done", file, {"--reload", "--rejects", dir.path("rejects")}));
    INFO(reload.output);
    CHECK(reload.exit_code == 1);
    CHECK(test::parse_summary(reload.output).rows_loaded == source.rows_good);
    CHECK(count(conn, "lg_done") == std::to_string(2 * source.rows_good));
    CHECK(conn.query_value("SELECT count(*) FROM pgingest.rejects WHERE load_id = " +
                           test::sql_literal(conn, load_id)) == rejected);
}

TEST_CASE(
    "ledger: a load into a table dropped and created again refuses (exit 2, nothing written) "
    "until --reload",
    "[load][ledger][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS lg_again; CREATE TABLE lg_again" + std::string(table_sql));
    test::TempDir dir;
    Source source = make_source(1, 6000);
    std::string file = dir.write("again.ndjson", source.text);
    std::string conninfo = test::cluster().conninfo();
    test::CliResult first = test::run_pgingest(
        load_args(conninfo, "lg_again", file, {"--rejects", dir.path("rejects")}));
    INFO(first.output);
    REQUIRE(first.exit_code == 1);
    std::string rows = std::to_string(source.rows_good);
    REQUIRE(count(conn, "lg_again") == rows);
    std::string load_id =
        conn.query_value("SELECT load_id FROM pgingest.loads WHERE target = 'public.lg_again'");

    conn.exec("DROP TABLE lg_again; CREATE TABLE lg_again" + std::string(table_sql));
    for (const char* resume : {"", "--resume"}) {
        std::vector<std::string> extra{"--rejects", dir.path("rejects2")};
        if (*resume != 0) {
            extra.emplace_back(resume);
        }
        test::CliResult again = test::run_pgingest(load_args(conninfo, "lg_again", file, extra));
        INFO(again.output);
        CHECK(again.exit_code == 2);
        CHECK(again.output.find(
                  "pgingest load: error: table public.lg_again is not the table load " + load_id +
                  " ran into (its OID changed: dropped and created again, or restored from a "
                  "dump); nothing written. If the rows it loaded are gone, --reload loads every "
                  "record again\n") != std::string::npos);
        CHECK(count(conn, "lg_again") == "0");
    }

    test::CliResult reload = test::run_pgingest(
        load_args(conninfo, "lg_again", file, {"--reload", "--rejects", dir.path("rejects3")}));
    INFO(reload.output);
    CHECK(reload.exit_code == 1);
    CHECK(test::parse_summary(reload.output).rows_loaded == source.rows_good);
    CHECK(count(conn, "lg_again") == rows);
    CHECK(conn.query_value("SELECT count(*) FROM pgingest.rejects WHERE load_id = " +
                           test::sql_literal(conn, load_id)) ==
          std::to_string(source.reject_offsets.size()));

    // Now the ledger knows the new table: another run is the finished load again.
    test::CliResult third = test::run_pgingest(load_args(conninfo, "lg_again", file, {}));
    INFO(third.output);
    CHECK(third.exit_code == 0);
    CHECK(third.output.find("already finished (" + rows + " rows loaded") != std::string::npos);
    CHECK(count(conn, "lg_again") == rows);
}

TEST_CASE("ledger: a load run again with other flags for its records refuses until --reload",
          "[load][ledger][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS lg_shape; CREATE TABLE lg_shape" + std::string(table_sql));
    test::TempDir dir;
    Source source = make_source(1, 1000);  // no bad record below id 1001
    std::string file = dir.write("shape.ndjson", source.text);
    std::string conninfo = test::cluster().conninfo();
    test::CliResult first = test::run_pgingest(load_args(conninfo, "lg_shape", file, {}));
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    std::string rows = std::to_string(source.rows_good);
    REQUIRE(count(conn, "lg_shape") == rows);
    std::string load_id =
        conn.query_value("SELECT load_id FROM pgingest.loads WHERE target = 'public.lg_shape'");

    test::CliResult other =
        test::run_pgingest(load_args(conninfo, "lg_shape", file, {"--nul", "strip"}));
    INFO(other.output);
    CHECK(other.exit_code == 2);
    CHECK(other.output.find("pgingest load: error: load " + load_id +
                            " ran with other flags (--format=auto --pointer= --nul=error; now "
                            "--format=auto --pointer= --nul=strip); nothing "
                            "written. Run it with the same flags, or --reload loads every "
                            "record again\n") != std::string::npos);
    CHECK(count(conn, "lg_shape") == rows);

    test::CliResult reload = test::run_pgingest(
        load_args(conninfo, "lg_shape", file, {"--nul", "strip", "--reload"}));
    INFO(reload.output);
    CHECK(reload.exit_code == 0);
    CHECK(count(conn, "lg_shape") == std::to_string(2 * source.rows_good));
    // The ledger now holds the new flags: the same command again is the finished load.
    test::CliResult again =
        test::run_pgingest(load_args(conninfo, "lg_shape", file, {"--nul", "strip"}));
    INFO(again.output);
    CHECK(again.exit_code == 0);
    CHECK(again.output.find("already finished (" + rows + " rows loaded") != std::string::npos);
}

TEST_CASE(
    "ledger: an interrupted load run again without --resume exits 2, says how far it "
    "got and writes nothing; --resume loads the rest",
    "[load][ledger][pg]") {
    auto conn = test::connect();
    test::TempDir dir;
    std::string file = interrupted_load(conn, dir, "lg_int", "interrupted-1");
    std::string stored = count(conn, "lg_int");
    std::string conninfo = test::cluster().conninfo();
    test::CliResult again =
        test::run_pgingest(load_args(conninfo, "lg_int", file, {"--load-id", "interrupted-1"}));
    INFO(again.output);
    CHECK(again.exit_code == 2);
    std::string settled =
        conn.query_value("SELECT sum(rows) FROM pgingest.settled WHERE load_id = 'interrupted-1'");
    CHECK(again.output.find("pgingest load: error: load interrupted-1 was interrupted: " + settled +
                            " records settled (" + stored + " loaded, 1 rejected); " + file +
                            ": ") != std::string::npos);
    CHECK(again.output.find(" of " + std::to_string(std::filesystem::file_size(file)) +
                            " bytes settled (") != std::string::npos);
    CHECK(again.output.find(". Nothing written: run again with --resume to load the records not "
                            "yet settled, or --reload to load every record again\n") !=
          std::string::npos);
    CHECK(count(conn, "lg_int") == stored);

    test::CliResult resumed = test::run_pgingest(
        load_args(conninfo, "lg_int", file,
                  {"--load-id", "interrupted-1", "--resume", "--rejects", dir.path("rejects")}));
    INFO(resumed.output);
    CHECK(resumed.exit_code == 1);
    Source source = make_source(1, 20000);
    CHECK(count(conn, "lg_int") == std::to_string(source.rows_good));
    CHECK(conn.query_value("SELECT count(DISTINCT id) FROM lg_int") ==
          std::to_string(source.rows_good));
    CHECK(test::parse_summary(resumed.output).rows_loaded + std::stoull(stored) ==
          source.rows_good);
    CHECK(resumed.output.find("\"rows_skipped_settled\":") != std::string::npos);
    std::set<std::uint64_t> reported;
    for (const test::Reject& reject : test::read_rejects(dir.path("rejects"))) {
        CHECK(reported.insert(reject.offset).second);
    }
    CHECK(reported == source.reject_offsets);
}

TEST_CASE("ledger: a changed source refuses --resume, naming the file and what changed",
          "[load][ledger][pg]") {
    auto conn = test::connect();
    test::TempDir dir;
    std::string file = interrupted_load(conn, dir, "lg_changed", "changed-1");
    std::string stored = count(conn, "lg_changed");
    std::uint64_t size = std::filesystem::file_size(file);
    {
        std::ofstream out(file, std::ios::app);
        out << R"({"id": 999999, "kind": "new"})"
            << "\n";
    }
    std::string conninfo = test::cluster().conninfo();
    test::CliResult resumed = test::run_pgingest(
        load_args(conninfo, "lg_changed", file, {"--load-id", "changed-1", "--resume"}));
    INFO(resumed.output);
    CHECK(resumed.exit_code == 2);
    CHECK(resumed.output.find(
              "pgingest load: error: cannot resume load changed-1: " + file +
              " changed since (size " + std::to_string(size) + " bytes -> " +
              std::to_string(std::filesystem::file_size(file)) +
              " bytes); nothing written. --resume=append loads what was appended to an NDJSON "
              "file that only grew; --reload loads every record again\n") != std::string::npos);
    CHECK(count(conn, "lg_changed") == stored);

    // The same size, other bytes: not a file that only grew.
    std::string text = test::read_file(file);
    text[1] = ' ';
    dir.write("src.ndjson", text);
    test::CliResult append = test::run_pgingest(
        load_args(conninfo, "lg_changed", file, {"--load-id", "changed-1", "--resume=append"}));
    INFO(append.output);
    CHECK(append.exit_code == 2);
    CHECK(append.output.find("pgingest load: error: cannot resume load changed-1 with "
                             "--resume=append: " +
                             file + " did not only grow at its end (size ") != std::string::npos);
    CHECK(count(conn, "lg_changed") == stored);
}

TEST_CASE(
    "ledger: an NDJSON file that grew is refused without --resume=append, which loads "
    "exactly the appended lines",
    "[load][ledger][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS lg_grow; CREATE TABLE lg_grow" + std::string(table_sql));
    test::TempDir dir;
    Source first = make_source(1, 8000);
    std::string file = dir.write("grow.ndjson", first.text);
    std::string conninfo = test::cluster().conninfo();
    REQUIRE(test::run_pgingest(load_args(conninfo, "lg_grow", file, {"--rejects", dir.path("r")}))
                .exit_code == 1);
    std::uint64_t size = first.text.size();
    Source more = make_source(8001, 4000);
    {
        std::ofstream out(file, std::ios::app);
        out << more.text;
    }
    test::CliResult plain = test::run_pgingest(load_args(conninfo, "lg_grow", file, {}));
    INFO(plain.output);
    CHECK(plain.exit_code == 2);
    CHECK(plain.output.find(" ran before, but " + file + " changed since (size " +
                            std::to_string(size) + " bytes -> " +
                            std::to_string(size + more.text.size()) +
                            " bytes); nothing written. --resume=append loads what was appended "
                            "to an NDJSON file that only grew; --reload loads every record "
                            "again\n") != std::string::npos);
    CHECK(count(conn, "lg_grow") == std::to_string(first.rows_good));

    test::CliResult append = test::run_pgingest(
        load_args(conninfo, "lg_grow", file, {"--resume=append", "--rejects", dir.path("r2")}));
    INFO(append.output);
    CHECK(append.exit_code == 1);
    CHECK(test::parse_summary(append.output).rows_loaded == more.rows_good);
    CHECK(count(conn, "lg_grow") == std::to_string(first.rows_good + more.rows_good));
    CHECK(conn.query_value("SELECT count(DISTINCT id) FROM lg_grow") ==
          std::to_string(first.rows_good + more.rows_good));
    std::vector<test::Reject> rejects = test::read_rejects(dir.path("r2"));
    CHECK(rejects.size() == more.reject_offsets.size());
    for (const test::Reject& reject : rejects) {
        CHECK(more.reject_offsets.contains(reject.offset - size));
    }
    test::CliResult again = test::run_pgingest(load_args(conninfo, "lg_grow", file, {}));
    CHECK(again.exit_code == 0);
    CHECK(again.output.find(" already finished (") != std::string::npos);
}

TEST_CASE("ledger: a second run of a running load refuses, naming the session that runs it",
          "[load][ledger][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS lg_busy; CREATE TABLE lg_busy" + std::string(table_sql));
    test::TempDir dir;
    Source source = make_source(1, 3000);
    std::string file = dir.write("busy.ndjson", source.text);
    std::string conninfo = test::cluster().conninfo();
    // SHARE conflicts with the COPY's ROW EXCLUSIVE, not with reading the catalog: the run that
    // takes the load first waits at its first COPY, holding the load, until the lock goes.
    conn.exec("BEGIN; LOCK TABLE lg_busy IN SHARE MODE");
    std::vector<std::string> args =
        load_args(conninfo, "lg_busy", file, {"--load-id", "busy-1", "--rejects", dir.path("r")});
    pid_t one = spawn_pgingest(args, dir.path("one"));
    pid_t two = spawn_pgingest(args, dir.path("two"));
    // The refused run ends by itself; the other waits for the table lock.
    int status = 0;
    pid_t ended = ::waitpid(-1, &status, 0);
    REQUIRE((ended == one || ended == two));
    std::string output = test::read_file(dir.path(ended == one ? "one" : "two"));
    INFO(output);
    CHECK(WEXITSTATUS(status) == 2);
    CHECK(output.find("pgingest load: error: load busy-1 is being run by another session "
                      "(backend pid ") != std::string::npos);
    CHECK(output.find("); wait for it to end; nothing written\n") != std::string::npos);
    conn.exec("COMMIT");
    int exit = wait_exit(ended == one ? two : one);
    INFO(test::read_file(dir.path(ended == one ? "two" : "one")));
    CHECK(exit == 1);
    CHECK(count(conn, "lg_busy") == std::to_string(source.rows_good));
}

TEST_CASE(
    "ledger: a role that cannot create the ledger loads without it after a warning, "
    "unless --resume asked for it",
    "[load][ledger][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS lg_role; CREATE TABLE lg_role" + std::string(table_sql));
    conn.exec(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lg_nocreate') "
        "THEN CREATE ROLE lg_nocreate LOGIN; END IF; END $$");
    conn.exec(
        "REVOKE CREATE ON DATABASE postgres FROM PUBLIC, lg_nocreate; "
        "GRANT SELECT, INSERT ON lg_role TO lg_nocreate");
    test::TempDir dir;
    Source source = make_source(1, 3000);
    std::string file = dir.write("role.ndjson", source.text);
    std::string conninfo = test::cluster().conninfo() + " user=lg_nocreate";
    test::CliResult result = test::run_pgingest(load_args(
        conninfo, "lg_role", file, {"--ledger-schema", "lg_absent", "--rejects", dir.path("r")}));
    INFO(result.output);
    CHECK(result.exit_code == 1);
    CHECK(result.output.find("pgingest load: warning: ledger schema \"lg_absent\" cannot be "
                             "created or used by this role (") != std::string::npos);
    CHECK(result.output.find("permission denied for database postgres") != std::string::npos);
    CHECK(result.output.find("; loading without a ledger: a re-run cannot tell what this run "
                             "loaded\n") != std::string::npos);
    CHECK(count(conn, "lg_role") == std::to_string(source.rows_good));
    CHECK(conn.query_value("SELECT to_regnamespace('lg_absent') IS NULL") == "t");

    test::CliResult resume = test::run_pgingest(
        load_args(conninfo, "lg_role", file, {"--ledger-schema", "lg_absent", "--resume"}));
    INFO(resume.output);
    CHECK(resume.exit_code == 2);
    CHECK(resume.output.find("; --load-id, --resume and --reload need the ledger: nothing "
                             "written\n") != std::string::npos);
    CHECK(count(conn, "lg_role") == std::to_string(source.rows_good));
}

TEST_CASE("ledger: flags that need the ledger are refused where there is none",
          "[load][ledger][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS lg_flags; CREATE TABLE lg_flags" + std::string(table_sql));
    test::TempDir dir;
    std::string file = dir.write("f.ndjson", make_source(1, 10).text);
    std::string conninfo = test::cluster().conninfo();
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases{
        {{"--no-ledger", "--resume", file},
         "--no-ledger cannot be combined with --load-id, --resume or --reload (they need the "
         "ledger)"},
        {{"--reload", "--resume", file},
         "--reload and --resume exclude each other: --reload loads every record again, --resume "
         "only those not yet settled"},
        {{"--load-id", "x", "-"},
         "--load-id, --resume and --reload need regular files: stdin has no identity a later run "
         "could check (loads from it keep no ledger)"},
        {{"--resume=sideways", file}, "--resume: sideways not in {strict,append}"},
        {{"--load-id", "never-ran", "--resume", file},
         "cannot resume load never-ran: the ledger (schema pgingest) has no such load; nothing "
         "written. Run without --resume to start it"},
    };
    for (const Case& c : cases) {
        std::vector<std::string> args{"load", "--db", conninfo, "--table", "lg_flags"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        test::CliResult result = test::run_pgingest(args);
        INFO(result.output);
        CHECK(result.exit_code == 2);
        CHECK(result.output.find(c.message) != std::string::npos);
    }
    CHECK(count(conn, "lg_flags") == "0");
    CHECK(conn.query_value("SELECT count(*) FROM pgingest.loads WHERE load_id = 'never-ran'") ==
          "0");
}

TEST_CASE(
    "ledger: a run whose ledger connection dropped commits nothing more; --resume loads "
    "the rest",
    "[load][ledger][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS lg_lost; CREATE TABLE lg_lost" + std::string(table_sql));
    test::TempDir dir;
    Source source = make_source(1, 900);  // no reject: nothing else uses the ledger
    std::string file = dir.write("lost.ndjson", source.text);
    std::string conninfo = test::cluster().conninfo();
    // The writers wait at their first COPY (SHARE blocks ROW EXCLUSIVE) while the run lock's
    // session is ended; then no transaction of the run may commit.
    conn.exec("BEGIN; LOCK TABLE lg_lost IN SHARE MODE");
    pid_t run = spawn_pgingest(
        load_args(conninfo, "lg_lost", file, {"--load-id", "lost-1", "--rejects", dir.path("r")}),
        dir.path("out"));
    auto other = test::connect();
    std::string ended;
    while (ended.empty()) {  // until the run holds its lock and its writers wait for the table
        ended = other.query_value(
            "SELECT coalesce((SELECT string_agg(pg_terminate_backend(l.pid)::text, ',') FROM "
            "pg_locks l WHERE l.locktype = 'advisory' AND l.mode = 'ExclusiveLock' AND l.granted "
            "AND l.objsubid = 1 AND EXISTS (SELECT 1 FROM pg_locks w WHERE NOT w.granted AND "
            "w.relation = 'lg_lost'::regclass)), '')");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(ended == "true");
    conn.exec("COMMIT");
    int exit = wait_exit(run);
    std::string output = test::read_file(dir.path("out"));
    INFO(output);
    CHECK(exit == 5);
    CHECK(output.find("load lost-1 lost its run lock (the ledger's control connection, backend "
                      "pid ") != std::string::npos);
    CHECK(output.find(", ended): nothing more is committed; --resume it") != std::string::npos);
    CHECK(count(conn, "lg_lost") == "0");

    test::CliResult resumed = test::run_pgingest(
        load_args(conninfo, "lg_lost", file,
                  {"--load-id", "lost-1", "--resume", "--rejects", dir.path("r")}));
    INFO(resumed.output);
    CHECK(resumed.exit_code == 0);
    CHECK(count(conn, "lg_lost") == std::to_string(source.rows_good));
}

TEST_CASE("ledger: `pgingest ledger` lists, shows and forgets a load", "[load][ledger][pg]") {
    auto conn = test::connect();
    test::TempDir dir;
    std::string file = interrupted_load(conn, dir, "lg_cmd", "cmd-1");
    std::string conninfo = test::cluster().conninfo();
    std::string stored = count(conn, "lg_cmd");

    test::CliResult list = test::run_pgingest({"ledger", "list", "--db", conninfo});
    INFO(list.output);
    CHECK(list.exit_code == 0);
    CHECK(list.output.find("cmd-1\tinterrupted\tpublic.lg_cmd\t" + stored +
                           " loaded\t1 rejected\n") != std::string::npos);

    test::CliResult show = test::run_pgingest({"ledger", "show", "cmd-1", "--db", conninfo});
    INFO(show.output);
    CHECK(show.exit_code == 0);
    CHECK(
        show.output.starts_with("load cmd-1\n  table public.lg_cmd\n  state interrupted\n  "
                                "rows loaded " +
                                stored + ", rejected 1\n  file 0: " + file + ", " +
                                std::to_string(std::filesystem::file_size(file)) + " bytes, "));
    CHECK(show.output.ends_with(" bytes settled\n"));

    test::CliResult forget = test::run_pgingest({"ledger", "--db", conninfo, "forget", "cmd-1"});
    INFO(forget.output);
    CHECK(forget.exit_code == 0);
    CHECK(forget.output == "forgot load cmd-1: a load of its files starts anew\n");
    CHECK(conn.query_value("SELECT count(*) FROM pgingest.settled WHERE load_id = 'cmd-1'") == "0");

    for (const char* command : {"show", "forget"}) {
        test::CliResult unknown =
            test::run_pgingest({"ledger", "--db", conninfo, command, "cmd-1"});
        CHECK(unknown.exit_code == 1);
        CHECK(unknown.output == "pgingest ledger: no load cmd-1 in the ledger\n");
    }
    // Forgotten: the same command is a new load of the whole file.
    test::CliResult again = test::run_pgingest(
        load_args(conninfo, "lg_cmd", file, {"--load-id", "cmd-1", "--rejects", dir.path("r2")}));
    INFO(again.output);
    CHECK(again.exit_code == 1);
    CHECK(test::parse_summary(again.output).rows_loaded == make_source(1, 20000).rows_good);
}

TEST_CASE(
    "ledger: a gzip source resumes at the records not settled (offsets in the "
    "decompressed text)",
    "[load][ledger][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS lg_gzip; CREATE TABLE lg_gzip" + std::string(table_sql));
    test::TempDir dir;
    Source source = make_source(1, 20000);
    std::string plain = dir.write("src.ndjson", source.text);
    REQUIRE(test::run_shell("gzip -n " + test::shell_quote(plain)) == 0);
    std::string file = plain + ".gz";
    std::string conninfo = test::cluster().conninfo();
    test::CliResult first = test::run_pgingest(
        load_args(conninfo, "lg_gzip", file,
                  {"--load-id", "gzip-1", "--max-errors", "0", "--rejects", dir.path("rejects")}));
    INFO(first.output);
    REQUIRE(first.exit_code == 4);
    std::string stored = count(conn, "lg_gzip");
    test::CliResult resumed = test::run_pgingest(
        load_args(conninfo, "lg_gzip", file,
                  {"--load-id", "gzip-1", "--resume", "--rejects", dir.path("rejects")}));
    INFO(resumed.output);
    CHECK(resumed.exit_code == 1);
    CHECK(count(conn, "lg_gzip") == std::to_string(source.rows_good));
    CHECK(conn.query_value("SELECT count(DISTINCT id) FROM lg_gzip") ==
          std::to_string(source.rows_good));
    CHECK(test::parse_summary(resumed.output).rows_loaded + std::stoull(stored) ==
          source.rows_good);
    std::set<std::uint64_t> reported;
    for (const test::Reject& reject : test::read_rejects(dir.path("rejects"))) {
        CHECK(reported.insert(reject.offset).second);
    }
    CHECK(reported == source.reject_offsets);
}
