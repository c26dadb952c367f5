// `pgingest load` as a long-lived process: signals mid-load, rows visible before the input ends,
// --max-errors that holds, --lock-timeout and the lock the writers wait for, a server that is
// gone for good, a FIFO. The binary runs as a child process fed through a pipe by the test, so
// the test decides when records come and when signals go; waits are polls with a bound.

#include <fcntl.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tests/load/load_support.hpp"
#include "tests/support/pg.hpp"
#include "tools/local_cluster.hpp"

using namespace pgingest;

namespace {

/// The built pgingest running `load` with `args`, its stdin a pipe the test writes, its stdout
/// and stderr files in `dir`.
class LoadChild {
  public:
    LoadChild(const test::TempDir& dir, const std::vector<std::string>& args)
        : _stdout(dir.path("stdout")), _stderr(dir.path("stderr")) {
        ::signal(SIGPIPE, SIG_IGN);  // a write after the child exited fails with EPIPE instead
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        std::vector<std::string> argv_text{PGINGEST_BINARY, "load"};
        argv_text.insert(argv_text.end(), args.begin(), args.end());
        _pid = ::fork();
        REQUIRE(_pid >= 0);
        if (_pid == 0) {
            ::dup2(fds[0], STDIN_FILENO);
            ::close(fds[0]);
            ::close(fds[1]);
            int out = ::open(_stdout.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int err = ::open(_stderr.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(out, STDOUT_FILENO);
            ::dup2(err, STDERR_FILENO);
            std::vector<char*> argv;
            for (std::string& arg : argv_text) {
                argv.push_back(arg.data());
            }
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(fds[0]);
        _input = fds[1];
    }
    ~LoadChild() {
        close_input();
        if (_pid > 0) {
            ::kill(_pid, SIGKILL);
            ::waitpid(_pid, nullptr, 0);
        }
    }
    LoadChild(const LoadChild&) = delete;
    LoadChild& operator=(const LoadChild&) = delete;

    /// Writes all of `text`; false when the child closed its stdin (it exited) first.
    bool write(const std::string& text) {
        std::size_t done = 0;
        while (done < text.size()) {
            ssize_t wrote = ::write(_input, text.data() + done, text.size() - done);
            if (wrote <= 0) {
                return false;
            }
            done += static_cast<std::size_t>(wrote);
        }
        return true;
    }
    void close_input() {
        if (_input >= 0) {
            ::close(_input);
            _input = -1;
        }
    }
    void signal(int number) const { REQUIRE(::kill(_pid, number) == 0); }

    /// Waits for the exit (at most `seconds`) and returns its status; 128 + N when a signal N
    /// killed it.
    int wait(int seconds = 120) {
        for (int i = 0; i < seconds * 10; ++i) {
            int status = 0;
            pid_t got = ::waitpid(_pid, &status, WNOHANG);
            if (got == _pid) {
                _pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        FAIL("pgingest load did not exit within " << seconds << " s");
        return -1;
    }

    [[nodiscard]] std::string out() const { return test::read_file(_stdout); }
    [[nodiscard]] std::string err() const { return test::read_file(_stderr); }

  private:
    std::string _stdout;
    std::string _stderr;
    pid_t _pid = -1;
    int _input = -1;
};

/// Polls `done` every 100 ms for at most `seconds`; fails the test with `what` when it never held.
void wait_until(const std::string& what, const std::function<bool()>& done, int seconds = 60) {
    for (int i = 0; i < seconds * 10; ++i) {
        if (done()) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("waited " << seconds << " s for " << what);
}

std::uint64_t count_rows(Connection& conn, const std::string& table) {
    return std::stoull(conn.query_value("SELECT count(*) FROM " + table));
}

/// NDJSON records `first` .. `last` (inclusive): {"id": i, "n": i, "pad": "..."}; every record
/// whose id is a multiple of `bad_every` has n = "x" (the encoder refuses it).
std::string records(int first, int last, int bad_every = 0) {
    std::string text;
    for (int i = first; i <= last; ++i) {
        bool bad = bad_every != 0 && i % bad_every == 0;
        text += "{\"id\": " + std::to_string(i) +
                ", \"n\": " + (bad ? std::string("\"x\"") : std::to_string(i)) + ", \"pad\": \"" +
                std::string(40, 'p') + "\"}\n";
    }
    return text;
}

struct FullSummary {
    test::Summary counts;
    std::uint64_t rows_not_loaded = 0;
    bool interrupted = false;
    std::int64_t exit_code = -1;
};

FullSummary parse_full(const std::string& output) {
    FullSummary full;
    full.counts = test::parse_summary(output);
    std::size_t at = output.find("{\"rows_read\"");
    std::string line = output.substr(at, output.find('\n', at) - at);
    simdjson::dom::parser parser;
    simdjson::dom::element json = parser.parse(line);
    full.rows_not_loaded = json["rows_not_loaded"].get_uint64().value();
    full.interrupted = json["interrupted"].get_bool().value();
    full.exit_code = json["exit_code"].get_int64().value();
    return full;
}

/// Every record read is loaded, rejected or not loaded; the loaded ones are in the table; the
/// rejects file holds the rejected ones.
void check_accounts(const FullSummary& summary, Connection& conn, const std::string& table,
                    const std::string& rejects) {
    INFO("read " << summary.counts.rows_read << ", loaded " << summary.counts.rows_loaded
                 << ", rejected " << summary.counts.rows_rejected << ", not loaded "
                 << summary.rows_not_loaded);
    CHECK(summary.counts.rows_read ==
          summary.counts.rows_loaded + summary.counts.rows_rejected + summary.rows_not_loaded);
    CHECK(count_rows(conn, table) == summary.counts.rows_loaded);
    CHECK(test::read_rejects(rejects).size() == summary.counts.rows_rejected);
    CHECK(summary.counts.bytes_read > 0);
}

void signal_mid_load(int number) {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS ld_signal; CREATE TABLE ld_signal (id int8 PRIMARY KEY, "
        "n int4 CHECK (n % 997 <> 0), pad text)");
    test::TempDir dir;
    std::string rejects = dir.path("rejects.ndjson");
    LoadChild child(dir, {"--db", test::cluster().conninfo(), "--table", "ld_signal", "--rejects",
                          rejects, "--summary", "json", "--progress", "never", "-"});
    // About 7 MB: several input chunks whatever the reader's chunk size; the encoder refuses
    // every 500th record, the server every 997th.
    REQUIRE(child.write(records(1, 100'000, 500)));
    wait_until("rows committed", [&] { return count_rows(conn, "ld_signal") > 0; });
    child.signal(number);  // the producer is still there: stdin stays open
    int status = child.wait();
    INFO(child.err());
    CHECK(status == 6);
    FullSummary summary = parse_full(child.out());
    CHECK(summary.interrupted);
    CHECK(summary.exit_code == 6);
    CHECK(summary.rows_not_loaded == 0);  // in-flight transactions were let finish
    check_accounts(summary, conn, "ld_signal", rejects);
    CHECK(summary.counts.rows_rejected > 0);
    CHECK(child.err().find(number == SIGINT ? "SIGINT: stopped reading"
                                            : "SIGTERM: stopped "
                                              "reading") != std::string::npos);
    for (const test::Reject& reject : test::read_rejects(rejects)) {
        std::uint64_t id = reject.line;  // line i holds id i
        CHECK(reject.record.find("{\"id\": " + std::to_string(id) + ",") == 0);
        CHECK((id % 500 == 0 || id % 997 == 0));
    }
}

}  // namespace

TEST_CASE("load: SIGINT mid-load finishes what is in flight and prints the summary",
          "[load][stream][pg]") {
    signal_mid_load(SIGINT);
}

TEST_CASE("load: SIGTERM mid-load finishes what is in flight and prints the summary",
          "[load][stream][pg]") {
    signal_mid_load(SIGTERM);
}

TEST_CASE("load: a wait for a lock is named, and a second signal aborts at once",
          "[load][stream][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS ld_locked; CREATE TABLE ld_locked (id int8, n int4, pad text)");
    auto holder = test::connect();
    std::string holder_pid = holder.query_value("SELECT pg_backend_pid()");
    holder.exec("BEGIN; LOCK TABLE ld_locked IN ACCESS EXCLUSIVE MODE");
    test::TempDir dir;
    LoadChild child(dir, {"--db", test::cluster().conninfo(), "--table", "ld_locked", "--summary",
                          "json", "--progress", "never", "--rejects", dir.path("r.ndjson"), "-"});
    REQUIRE(child.write(records(1, 1000)));
    child.close_input();
    // No progress line (not a terminal): the note goes to stderr once.
    std::string note =
        "for a lock on public.ld_locked: AccessExclusiveLock held by pid " + holder_pid;
    wait_until("the lock note", [&] { return child.err().find(note) != std::string::npos; });
    child.signal(SIGTERM);
    wait_until("the first signal's note",
               [&] { return child.err().find("SIGTERM: stopped reading") != std::string::npos; });
    child.signal(SIGTERM);
    CHECK(child.wait() == 143);
    CHECK(child.err().find("SIGTERM again: rolling back") != std::string::npos);
    holder.exec("COMMIT");
    CHECK(count_rows(conn, "ld_locked") == 0);
}

TEST_CASE("load: --lock-timeout gives up with a message naming the table", "[load][stream][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS ld_lock_to; CREATE TABLE ld_lock_to (id int8, n int4, pad text)");
    auto holder = test::connect();
    test::TempDir dir;
    std::string rejects = dir.path("rejects.ndjson");
    LoadChild child(dir, {"--db", test::cluster().conninfo(), "--table", "ld_lock_to",
                          "--lock-timeout", "1s", "--summary", "json", "--rejects", rejects, "-"});
    REQUIRE(child.write(records(1, 60'000)));  // more than one input chunk
    wait_until("rows committed", [&] { return count_rows(conn, "ld_lock_to") > 0; });
    // Waits for the writers' open transactions to commit; then every later COPY waits for it.
    holder.exec("BEGIN; LOCK TABLE ld_lock_to IN ACCESS EXCLUSIVE MODE");
    (void)child.write(records(60'001, 120'000));  // fails once the load gave up
    int status = child.wait();
    holder.exec("COMMIT");
    INFO(child.err());
    CHECK(status == 5);
    CHECK(child.err().find("--lock-timeout 1s: gave up waiting for a lock on public.ld_lock_to") !=
          std::string::npos);
    FullSummary summary = parse_full(child.out());
    CHECK(summary.exit_code == 5);
    CHECK(summary.counts.rows_loaded > 0);
    check_accounts(summary, conn, "ld_lock_to", rejects);
}

TEST_CASE("load: --max-errors 5 stops after at most 6 rejects, from the encoder or the server",
          "[load][stream][pg]") {
    auto conn = test::connect();
    test::TempDir dir;
    std::string text = records(1, 200'000, 10);  // the encoder refuses every 10th
    std::string input = dir.write("max.ndjson", text);
    for (const char* check : {"true", "n % 10 <> 0"}) {  // the server refuses every 10th
        INFO("CHECK (" << check << ")");
        conn.exec(std::string("DROP TABLE IF EXISTS ld_max5; CREATE TABLE ld_max5 (id int8, "
                              "n int4 CHECK (") +
                  check + "), pad text)");
        std::string rejects = dir.path(std::string("rejects-") + check[0] + ".ndjson");
        std::string file = input;
        if (std::string(check) != "true") {
            file = dir.write("server.ndjson", records(1, 200'000));
        }
        test::CliResult result = test::run_pgingest(
            {"load", "--db", test::cluster().conninfo(), "--table", "ld_max5", "--max-errors", "5",
             "--summary", "json", "--rejects", rejects, "--batch-bytes", "65536", file});
        INFO(result.output.substr(0, 2000));
        CHECK(result.exit_code == 4);
        FullSummary summary = parse_full(result.output);
        CHECK(summary.counts.rows_rejected >= 6);
        CHECK(summary.counts.rows_rejected <= 6);
        check_accounts(summary, conn, "ld_max5", rejects);
        CHECK(summary.counts.rows_loaded < 100'000);  // stopped early, not at the end
    }
}

TEST_CASE("load: a server gone for longer than --reconnect-timeout exits 3 with the counts",
          "[load][stream][pg]") {
    LocalCluster server;  // a server of its own: this test stops it for good
    std::string db = server.conninfo();
    Connection conn(db);
    conn.exec("CREATE TABLE ld_gone (id int8, n int4, pad text)");
    test::TempDir dir;
    std::string rejects = dir.path("rejects.ndjson");
    LoadChild child(dir, {"--db", db, "--table", "ld_gone", "--reconnect-timeout", "2s",
                          "--summary", "json", "--rejects", rejects, "-"});
    REQUIRE(child.write(records(1, 60'000)));
    wait_until("rows committed", [&] { return count_rows(conn, "ld_gone") > 0; });
    std::uint64_t before = count_rows(conn, "ld_gone");
    server.stop();
    (void)child.write(records(60'001, 120'000));  // fails once the load gave up
    child.close_input();
    int status = child.wait();
    INFO(child.err());
    CHECK(status == 3);
    FullSummary summary = parse_full(child.out());
    CHECK(summary.exit_code == 3);
    CHECK(summary.counts.rows_loaded >= before);
    CHECK(summary.counts.rows_read ==
          summary.counts.rows_loaded + summary.counts.rows_rejected + summary.rows_not_loaded);
    CHECK(summary.rows_not_loaded > 0);
    CHECK(summary.counts.bytes_read > 0);
}

TEST_CASE("load: rows from a slow producer become visible before the input ends, across a stall",
          "[load][stream][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS ld_live; CREATE TABLE ld_live (id int8, n int4, pad text)");
    test::TempDir dir;
    std::string rejects = dir.path("rejects.ndjson");
    LoadChild child(dir, {"--db", test::cluster().conninfo(), "--table", "ld_live", "--summary",
                          "json", "--rejects", rejects, "-"});
    for (int i = 1; i <= 20; ++i) {  // one record every 50 ms, then a stall with stdin open
        REQUIRE(child.write(records(i, i)));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    wait_until("20 rows visible before EOF", [&] { return count_rows(conn, "ld_live") == 20; });
    REQUIRE(child.write(records(21, 30)));
    wait_until("30 rows visible before EOF", [&] { return count_rows(conn, "ld_live") == 30; });
    child.close_input();
    CHECK(child.wait() == 0);
    FullSummary summary = parse_full(child.out());
    CHECK(summary.counts.rows_loaded == 30);
    check_accounts(summary, conn, "ld_live", rejects);
}

TEST_CASE("load: a row the server refuses from a FIFO is rejected with its exact record",
          "[load][stream][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS ld_fifo; CREATE TABLE ld_fifo (id int8, n int4 CHECK (n <> 7), "
        "pad text)");
    test::TempDir dir;
    std::string fifo = dir.path("in.fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::string text = records(1, 10);
    std::string source = dir.write("source.ndjson", text);
    std::string rejects = dir.path("rejects.ndjson");
    // The writer opens the FIFO late; pgingest opens it once (a second open would block).
    std::string command = "(sleep 1; cat " + source + " > " + fifo + ") & timeout 60 " +
                          test::shell_quote(PGINGEST_BINARY) + " load --db " +
                          test::shell_quote(test::cluster().conninfo()) +
                          " --table ld_fifo --summary json --rejects " + rejects + " " + fifo +
                          " 2>&1";
    std::string output;
    int status = test::run_capturing(command, output);
    INFO(output);
    CHECK(status == 1);
    CHECK(count_rows(conn, "ld_fifo") == 9);
    std::vector<test::Reject> lines = test::read_rejects(rejects);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].source == fifo);
    CHECK(lines[0].line == 7);
    CHECK(lines[0].sqlstate == "23514");
    std::string record = records(7, 7);
    CHECK(lines[0].record == record.substr(0, record.size() - 1));
    CHECK(lines[0].offset == text.find(lines[0].record));
}
