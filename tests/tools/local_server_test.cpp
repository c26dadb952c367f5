// pgingest's own persistent local server (tools/local_server) and `pgingest local`: started from
// nothing it accepts queries in database `pgingest`; a second start reuses it; status reports
// the pid, directories, port, conninfo, version and size; stop stops it; a postmaster killed with
// SIGKILL (stale postmaster.pid) or a postmaster.pid naming a live non-postgres process does not
// stop the next start; resolve_database follows --db > PG* > DATABASE_URL > local server; a
// home that cannot be used is an error naming it; the CLI's exit codes and JSON agree with the
// library. Every test uses its own PGINGEST_HOME under a fresh temporary directory and stops its
// server at the end, so the user's real local server is never touched.

#include "tools/local_server.hpp"

#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/connection.hpp"
#include "engine/errors.hpp"

namespace {

namespace fs = std::filesystem;
using pgingest::Connection;
using pgingest::tools::LocalServer;
using pgingest::tools::LocalServerOptions;
using pgingest::tools::LocalServerState;
using pgingest::tools::resolve_database;

// A fresh directory under /tmp, searchable by the `postgres` user (the server runs as it when the
// tests run as root), removed at the end. Short, so the socket path stays far below 107 bytes.
class TempDirectory {
  public:
    TempDirectory() {
        std::string pattern = "/tmp/pgingest-local-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        _path = pattern;
        REQUIRE(::chmod(_path.c_str(), 0755) == 0);
    }
    ~TempDirectory() {
        std::error_code ec;
        fs::permissions(_path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(_path, ec);
    }
    TempDirectory(const TempDirectory&) = delete;
    TempDirectory& operator=(const TempDirectory&) = delete;
    [[nodiscard]] const fs::path& path() const { return _path; }

  private:
    fs::path _path;
};

// Stops the server of `home` when the test ends, passed or failed: the server outlives the
// process otherwise.
class StopAtEnd {
  public:
    explicit StopAtEnd(fs::path home) : _home(std::move(home)) {}
    ~StopAtEnd() {
        try {
            (void)LocalServer(LocalServerOptions{.home = _home}).stop();
        } catch (...) {
            // The test already reports what went wrong.
        }
    }
    StopAtEnd(const StopAtEnd&) = delete;
    StopAtEnd& operator=(const StopAtEnd&) = delete;

  private:
    fs::path _home;
};

// Sets (or with nullopt unsets) an environment variable, and restores it at the end.
class EnvVar {
  public:
    EnvVar(std::string name, const std::optional<std::string>& value) : _name(std::move(name)) {
        if (const char* old = std::getenv(_name.c_str()); old != nullptr) {
            _old = old;
        }
        set(value);
    }
    ~EnvVar() { set(_old); }
    EnvVar(const EnvVar&) = delete;
    EnvVar& operator=(const EnvVar&) = delete;

    void set(const std::optional<std::string>& value) {
        if (value.has_value()) {
            ::setenv(_name.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(_name.c_str());
        }
    }

  private:
    std::string _name;
    std::optional<std::string> _old;
};

pid_t pid_file_pid(const fs::path& data) {
    std::ifstream in(data / "postmaster.pid");
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
}

// True while `pid` runs: a zombie (state Z in /proc/<pid>/stat, waiting for init to reap it)
// has ended.
bool process_exists(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
        return false;
    }
    std::size_t after_name = line.rfind(") ");
    return after_name != std::string::npos && line.substr(after_name + 2, 1) != "Z";
}

// The pgingest binary beside the tests directory of the build (build/tests/<exe> ->
// build/pgingest), unless the build names it.
std::string pgingest_binary() {
#ifdef PGINGEST_BINARY
    return PGINGEST_BINARY;
#else
    return (fs::canonical("/proc/self/exe").parent_path().parent_path() / "pgingest").string();
#endif
}

struct CommandResult {
    int exit_status = -1;
    std::string output;
};

// Runs `pgingest <arguments>` through the shell with PGINGEST_HOME=<home>; captures stdout (and
// stderr with `merge_stderr`).
CommandResult run_pgingest(const fs::path& home, const std::string& arguments,
                           bool merge_stderr = false) {
    const std::string command = "PGINGEST_HOME='" + home.string() + "' '" + pgingest_binary() +
                                "' " + arguments + (merge_stderr ? " 2>&1" : "");
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    CommandResult result;
    char chunk[4096];
    for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;) {
        result.output.append(chunk, n);
    }
    int status = ::pclose(pipe);
    REQUIRE(WIFEXITED(status));
    result.exit_status = WEXITSTATUS(status);
    return result;
}

}  // namespace

TEST_CASE("local server: started from nothing it serves database pgingest, is reused, stops",
          "[local][pg]") {
    TempDirectory temp;
    const fs::path home = temp.path() / "home";
    StopAtEnd stop_at_end(home);
    LocalServer server(LocalServerOptions{.home = home});

    auto before = server.status();
    CHECK(before.state == LocalServerState::not_initialized);
    CHECK_FALSE(before.running());
    CHECK(before.pid == 0);
    CHECK_FALSE(fs::exists(home));  // status creates nothing

    REQUIRE(server.ensure_started());
    {
        Connection conn(server.conninfo());
        CHECK(conn.query_value("SELECT current_database()") == "pgingest");
        CHECK(conn.query_value("SHOW server_encoding") == "UTF8");
        CHECK(conn.query_value("SHOW fsync") == "on");
        CHECK(conn.query_value("SHOW listen_addresses").empty());
        CHECK(conn.query_value("SHOW unix_socket_directories") == (home / "run").string());
        conn.exec(
            "CREATE TABLE local_server_kept (v int); INSERT INTO local_server_kept VALUES (7)");
    }

    auto running = server.status();
    CHECK(running.state == LocalServerState::running);
    CHECK(running.pid == pid_file_pid(home / "cluster"));
    CHECK(process_exists(running.pid));
    CHECK(running.home == home);
    CHECK(running.data_directory == home / "cluster");
    CHECK(running.socket_directory == home / "run");
    CHECK(running.log_file == home / "server.log");
    CHECK(running.port == 5432);
    CHECK(running.conninfo ==
          "host='" + (home / "run").string() + "' port=5432 user=postgres dbname='pgingest'");
    CHECK(running.version.rfind("15.", 0) == 0);
    CHECK(running.database_bytes > 1'000'000);
    CHECK(server.describe(true) == "started local PostgreSQL 15 in " + (home / "cluster").string() +
                                       " (socket " + (home / "run").string() +
                                       ", database pgingest)");

    // Another object, as another pgingest process would have: same server, not started again.
    LocalServer again(LocalServerOptions{.home = home});
    CHECK_FALSE(again.ensure_started());
    CHECK(again.status().pid == running.pid);

    REQUIRE(server.stop());
    auto stopped = server.status();
    CHECK(stopped.state == LocalServerState::stopped);
    CHECK_FALSE(stopped.running());
    CHECK(stopped.pid == 0);
    CHECK(stopped.version == "15");
    CHECK(stopped.database_bytes == -1);
    CHECK_FALSE(process_exists(running.pid));
    CHECK_FALSE(server.stop());  // nothing to stop

    // Persistent: the data is there after a restart.
    REQUIRE(server.ensure_started());
    Connection conn(server.conninfo());
    CHECK(conn.query_value("SELECT sum(v) FROM local_server_kept") == "7");
}

TEST_CASE("local server: after a SIGKILLed postmaster the stale postmaster.pid is cleared",
          "[local][pg]") {
    TempDirectory temp;
    const fs::path home = temp.path() / "home";
    StopAtEnd stop_at_end(home);
    LocalServer server(LocalServerOptions{.home = home});
    REQUIRE(server.ensure_started());
    const pid_t killed = server.status().pid;
    REQUIRE(killed > 0);
    {
        // A backend that outlives its postmaster for a moment, holding the shared memory.
        Connection conn(server.conninfo());
        conn.exec(
            "CREATE TABLE local_server_stale (v int); INSERT INTO local_server_stale "
            "VALUES (1), (2)");
        REQUIRE(::kill(killed, SIGKILL) == 0);
        for (int i = 0; i < 5000 && process_exists(killed); i++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        REQUIRE_FALSE(process_exists(killed));
    }
    REQUIRE(fs::exists(home / "cluster" / "postmaster.pid"));
    CHECK(server.status().state == LocalServerState::stopped);

    REQUIRE(server.ensure_started());
    auto restarted = server.status();
    CHECK(restarted.running());
    CHECK(restarted.pid != killed);
    {
        Connection conn(server.conninfo());
        CHECK(conn.query_value("SELECT count(*) FROM local_server_stale") == "2");
    }

    // A postmaster.pid naming a live process that is not a postgres (a reused pid): this test
    // process. The server is stopped first so that its pid file can be replaced.
    REQUIRE(server.stop());
    {
        std::ofstream pid_file(home / "cluster" / "postmaster.pid");
        pid_file << ::getpid() << "\n" << (home / "cluster").string() << "\n";
    }
    CHECK(server.status().state == LocalServerState::stopped);
    REQUIRE(server.ensure_started());
    CHECK(server.status().pid != ::getpid());
    CHECK(Connection(server.conninfo()).query_value("SELECT 1") == "1");
}

TEST_CASE("resolve_database: --db, then PG* variables, then DATABASE_URL, then the local server",
          "[local][pg]") {
    TempDirectory temp;
    const fs::path home = temp.path() / "home";
    StopAtEnd stop_at_end(home);
    EnvVar pgingest_home("PGINGEST_HOME", home.string());
    std::vector<std::unique_ptr<EnvVar>> cleared;
    for (const char* name : {"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD",
                             "PGSERVICE", "DATABASE_URL"}) {
        cleared.push_back(std::make_unique<EnvVar>(name, std::nullopt));
    }
    EnvVar pghost("PGHOST", "/nonexistent/pghost");
    EnvVar pgdatabase("PGDATABASE", "from_pgdatabase");
    EnvVar url("DATABASE_URL", "postgresql://example.invalid/from_url");

    auto flag = resolve_database("host=/tmp dbname=from_flag");
    CHECK(flag.conninfo == "host=/tmp dbname=from_flag");
    CHECK(flag.origin == "--db");
    CHECK_FALSE(flag.local);
    CHECK(flag.notice.empty());
    CHECK(resolve_database("").origin == "--db");  // given, even empty: libpq defaults

    auto pg = resolve_database(std::nullopt);
    CHECK(pg.conninfo.empty());
    CHECK(pg.origin == "PG* variables (PGHOST, PGDATABASE)");
    CHECK_FALSE(pg.local);

    pghost.set("");  // set but empty counts as unset, as for libpq
    CHECK(resolve_database(std::nullopt).origin == "PG* variables (PGDATABASE)");
    pgdatabase.set(std::nullopt);
    auto from_url = resolve_database(std::nullopt);
    CHECK(from_url.conninfo == "postgresql://example.invalid/from_url");
    CHECK(from_url.origin == "DATABASE_URL");
    CHECK_FALSE(from_url.local);
    CHECK_FALSE(fs::exists(home));  // nothing started so far

    url.set(std::nullopt);
    auto local = resolve_database(std::nullopt);
    CHECK(local.local);
    CHECK(local.origin == "local server at " + (home / "cluster").string());
    CHECK(local.conninfo == LocalServer(LocalServerOptions{.home = home}).conninfo());
    CHECK(local.notice == "started local PostgreSQL 15 in " + (home / "cluster").string() +
                              " (socket " + (home / "run").string() + ", database pgingest)");
    CHECK(Connection(local.conninfo).query_value("SELECT current_database()") == "pgingest");
    CHECK(resolve_database(std::nullopt).notice.rfind("using local PostgreSQL 15 in ", 0) == 0);
}

TEST_CASE("local server: a home that cannot be used is an error naming the directory", "[local]") {
    TempDirectory temp;
    {
        // A regular file where a parent directory should be.
        std::ofstream(temp.path() / "file") << "x";
        const fs::path home = temp.path() / "file" / "home";
        LocalServer server(LocalServerOptions{.home = home});
        CHECK(server.status().state == LocalServerState::not_initialized);
        CHECK_FALSE(server.stop());
        CHECK_THROWS_WITH(server.ensure_started(),
                          Catch::Contains("cannot create " + home.string() + ": Not a directory"));
    }
    {
        // Read-only for its owner and closed to others: a non-root user cannot write in it,
        // and as root the `postgres` user the server runs as cannot reach it.
        const fs::path home = temp.path() / "closed";
        REQUIRE(::mkdir(home.c_str(), 0500) == 0);
        LocalServer server(LocalServerOptions{.home = home});
        const std::string expected =
            ::geteuid() == 0
                ? "the `postgres` user the server runs as cannot reach " + home.string()
                : "cannot write in " + home.string();
        CHECK_THROWS_WITH(server.ensure_started(), Catch::Contains(expected));
    }
    {
        const fs::path home = temp.path() / std::string(90, 'h');
        LocalServer server(LocalServerOptions{.home = home});
        CHECK_THROWS_WITH(server.ensure_started(),
                          Catch::Contains("the socket path " + (home / "run").string() +
                                          "/.s.PGSQL.5432 is longer than 107 bytes"));
    }
}

TEST_CASE("pgingest local: status --json, start, stop and their exit codes", "[local][pg]") {
    TempDirectory temp;
    const fs::path home = temp.path() / "home";
    StopAtEnd stop_at_end(home);
    simdjson::dom::parser parser;

    auto before = run_pgingest(home, "local status --json");
    CHECK(before.exit_status == 3);
    simdjson::dom::element json;
    REQUIRE(parser.parse(before.output).get(json) == simdjson::SUCCESS);
    CHECK(std::string_view(json["state"]) == "not initialized");
    CHECK_FALSE(bool(json["running"]));
    CHECK(json["pid"].is_null());
    CHECK(json["version"].is_null());

    auto start = run_pgingest(home, "local start");
    CHECK(start.exit_status == 0);
    CHECK_THAT(start.output, Catch::StartsWith("pgingest: started local PostgreSQL 15 in " +
                                               (home / "cluster").string() + " (socket " +
                                               (home / "run").string() + ", database pgingest)"));
    CHECK_THAT(run_pgingest(home, "local start").output,
               Catch::StartsWith("pgingest: using local PostgreSQL 15 in "));

    auto status = run_pgingest(home, "local status --json");
    CHECK(status.exit_status == 0);
    REQUIRE(parser.parse(status.output).get(json) == simdjson::SUCCESS);
    auto library = LocalServer(LocalServerOptions{.home = home}).status();
    CHECK(std::string_view(json["state"]) == "running");
    CHECK(bool(json["running"]));
    CHECK(int64_t(json["pid"]) == library.pid);
    CHECK(std::string_view(json["home"]) == home.string());
    CHECK(std::string_view(json["data_directory"]) == (home / "cluster").string());
    CHECK(std::string_view(json["socket_directory"]) == (home / "run").string());
    CHECK(std::string_view(json["log_file"]) == (home / "server.log").string());
    CHECK(int64_t(json["port"]) == 5432);
    CHECK(std::string_view(json["conninfo"]) == library.conninfo);
    CHECK(std::string_view(json["version"]) == library.version);
    CHECK(std::string_view(json["database"]) == "pgingest");
    CHECK(int64_t(json["database_bytes"]) > 1'000'000);

    auto text = run_pgingest(home, "local status");
    CHECK(text.exit_status == 0);
    CHECK_THAT(text.output, Catch::StartsWith("pgingest local server: running\n"));
    CHECK_THAT(text.output, Catch::Contains("pid               " + std::to_string(library.pid)));

    auto stop = run_pgingest(home, "local stop");
    CHECK(stop.exit_status == 0);
    CHECK(stop.output ==
          "pgingest: stopped the local server in " + (home / "cluster").string() + "\n");
    CHECK(run_pgingest(home, "local status").exit_status == 3);
    CHECK(run_pgingest(home, "local stop").output ==
          "pgingest: no local server running in " + (home / "cluster").string() + "\n");

    // --home wins over PGINGEST_HOME; a failure exits 1 and names the directory on stderr.
    std::ofstream(temp.path() / "file") << "x";
    const fs::path bad = temp.path() / "file" / "home";
    auto failed = run_pgingest(home, "local --home '" + bad.string() + "' start", true);
    CHECK(failed.exit_status == 1);
    CHECK_THAT(failed.output, Catch::Contains("pgingest local: local server: cannot create " +
                                              bad.string() + ": Not a directory"));

    auto help = run_pgingest(home, "local status --help");
    CHECK(help.exit_status == 0);
    CHECK_THAT(help.output, Catch::Contains("--json"));
    CHECK_THAT(help.output, Catch::Contains("Exit status 0 running, 3 not running, 1 error"));
    CHECK_THAT(run_pgingest(home, "local --help").output, Catch::Contains("PGINGEST_HOME"));
}
