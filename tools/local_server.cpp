#include "tools/local_server.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

#include "engine/connection.hpp"
#include "engine/errors.hpp"
#include "tools/detail/server_process.hpp"

namespace pgingest::tools {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using detail::errno_text;

// The socket file is `.s.PGSQL.<port>` in the socket directory; as there is no TCP listener the
// port only names that file, so every home can use PostgreSQL's usual number.
constexpr int local_port = 5432;
constexpr const char* local_database = "pgingest";

std::string env_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
}

// A conninfo value in single quotes, with `\` and `'` escaped (libpq's conninfo grammar), so a
// home with spaces still works.
std::string quote_conninfo_value(const std::string& value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\\' || c == '\'') {
            out += '\\';
        }
        out += c;
    }
    return out + "'";
}

// A value for postgresql.conf in single quotes ('' for a quote).
std::string quote_config_value(const std::string& value) {
    std::string out = "'";
    for (char c : value) {
        out += c;
        if (c == '\'') {
            out += '\'';
        }
    }
    return out + "'";
}

std::string read_first_line(const fs::path& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// True when `pid` is a live process whose command line is a `postgres` executable: a pid in a
// stale postmaster.pid may have been reused by an unrelated process.
bool is_live_postgres(pid_t pid) {
    if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) {
        return false;
    }
    std::string argv0 = read_first_line("/proc/" + std::to_string(pid) + "/cmdline");
    argv0 = argv0.substr(0, argv0.find('\0'));
    return fs::path(argv0).filename() == "postgres";
}

// Whether process `pid` exists and has not exited: a process on its way out has already lost
// its command line (so `is_live_postgres` says no) but is still there until it is a zombie.
bool process_running(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
        return false;
    }
    std::size_t after_name = line.rfind(") ");
    return after_name != std::string::npos && line.compare(after_name + 2, 1, "Z") != 0;
}

// Number of `postgres` processes whose working directory is `data`: every PostgreSQL process
// chdirs to its data directory, so this counts the backends a killed postmaster left behind. They
// still hold its shared memory, and a new postmaster refuses to start while they do. (A shell
// sitting in the directory is not a postgres and does not count.)
std::size_t processes_in(const fs::path& data) {
    std::size_t count = 0;
    std::error_code ec;
    const fs::path wanted = fs::canonical(data, ec);
    if (ec) {
        return 0;
    }
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        std::error_code link_ec;
        fs::path cwd = fs::read_symlink(entry.path() / "cwd", link_ec);
        if (!link_ec && cwd == wanted && read_first_line(entry.path() / "comm") == "postgres") {
            count++;
        }
    }
    return count;
}

// An exclusive flock on `<home>/lock`, held while a process starts or stops the server.
class HomeLock {
  public:
    explicit HomeLock(const fs::path& home) {
        const fs::path path = home / "lock";
        _fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (_fd < 0) {
            throw Error(errno_text("local server: cannot open " + path.string()));
        }
        while (::flock(_fd, LOCK_EX) != 0) {
            if (errno != EINTR) {
                ::close(_fd);
                throw Error(errno_text("local server: cannot lock " + path.string()));
            }
        }
    }
    ~HomeLock() { ::close(_fd); }
    HomeLock(const HomeLock&) = delete;
    HomeLock& operator=(const HomeLock&) = delete;

  private:
    int _fd = -1;
};

// Creates `directory` (mode 0700) if missing and gives it to the server user.
void make_server_directory(const fs::path& directory, const detail::ServerUser& user) {
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
        throw Error(errno_text("local server: cannot create " + directory.string()));
    }
    if (user.switch_user && ::chown(directory.c_str(), user.uid, user.gid) != 0) {
        throw Error(errno_text("local server: cannot chown " + directory.string()));
    }
}

}  // namespace

const char* state_name(LocalServerState state) noexcept {
    switch (state) {
        case LocalServerState::not_initialized:
            return "not initialized";
        case LocalServerState::stopped:
            return "stopped";
        case LocalServerState::not_ready:
            return "not ready";
        case LocalServerState::running:
            return "running";
    }
    return "unknown";
}

LocalServer::LocalServer(LocalServerOptions options) : _options(std::move(options)) {
    if (!_options.home.empty()) {
        _home = _options.home;
    } else if (std::string env = env_or_empty("PGINGEST_HOME"); !env.empty()) {
        _home = env;
    } else {
        _home = default_home();
    }
    _home = fs::absolute(_home).lexically_normal();
    if (!_home.has_filename()) {
        _home = _home.parent_path();  // "/a/b/" -> "/a/b"
    }
}

fs::path LocalServer::default_home() {
    if (::geteuid() == 0) {
        return "/var/lib/pgingest";
    }
    if (std::string xdg = env_or_empty("XDG_DATA_HOME"); !xdg.empty() && xdg[0] == '/') {
        return fs::path(xdg) / "pgingest";
    }
    std::string home = env_or_empty("HOME");
    if (home.empty()) {
        if (const passwd* entry = ::getpwuid(::geteuid()); entry != nullptr) {
            home = entry->pw_dir;
        }
    }
    if (home.empty()) {
        throw Error(
            "local server: no home directory (HOME is not set)\n"
            "HINT: set PGINGEST_HOME to the directory for pgingest's local server");
    }
    return fs::path(home) / ".local" / "share" / "pgingest";
}

std::string LocalServer::conninfo(const std::string& dbname) const {
    return "host=" + quote_conninfo_value(socket_directory().string()) +
           " port=" + std::to_string(local_port) +
           " user=postgres dbname=" + quote_conninfo_value(dbname);
}

std::string LocalServer::bin_directory() const {
    int major = std::atoi(read_first_line(data_directory() / "PG_VERSION").c_str());
    return detail::find_bin_directory(_options.bin_directory, major);
}

void LocalServer::prepare_home() const {
    std::error_code ec;
    fs::create_directories(_home, ec);
    if (ec) {
        throw Error("local server: cannot create " + _home.string() + ": " + ec.message() +
                    "\nHINT: set PGINGEST_HOME to a directory you can write");
    }
    const detail::ServerUser user = detail::server_user();
    if (!detail::user_can_access(detail::ServerUser{}, _home, true)) {
        throw Error(errno_text("local server: cannot write in " + _home.string()) +
                    "\nHINT: set PGINGEST_HOME to a directory you can write");
    }
    if (user.switch_user && !detail::user_can_access(user, _home, false)) {
        throw Error("local server: the `postgres` user the server runs as cannot reach " +
                    _home.string() +
                    " (a directory on the way is not searchable by it)\nHINT: set PGINGEST_HOME "
                    "to a directory it can reach, e.g. /var/lib/pgingest (the default as root)");
    }
    const std::string socket_path =
        (socket_directory() / (".s.PGSQL." + std::to_string(local_port))).string();
    if (socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
        throw Error("local server: the socket path " + socket_path + " is longer than " +
                    std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                    " bytes, the limit of a unix socket\nHINT: set PGINGEST_HOME to a shorter "
                    "directory");
    }
    make_server_directory(data_directory(), user);
    make_server_directory(socket_directory(), user);
}

void LocalServer::initialize_cluster() const {
    std::error_code ec;
    if (fs::exists(data_directory() / "PG_VERSION", ec)) {
        return;
    }
    const fs::path log = _home / "initdb.log";
    fs::remove(log, ec);
    int status = detail::run({bin_directory() + "/initdb", "-D", data_directory().string(), "-U",
                              "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"},
                             {.workdir = _home, .log_path = log, .die_with_parent = false},
                             detail::server_user());
    if (status != 0) {
        throw Error("local server: initdb failed (exit status " + std::to_string(status) +
                    ") for " + data_directory().string() + "; last lines of " + log.string() +
                    ":\n" + detail::read_tail(log, 20));
    }
    // Settings in the cluster's own file, so `pg_ctl -D <data> start` by hand gives the same
    // server: unix socket only, reachable by its owner (and root) alone.
    const fs::path config = data_directory() / "postgresql.conf";
    std::ofstream out(config, std::ios::app);
    out << "\n# pgingest local server (tools/local_server.cpp)\n"
        << "listen_addresses = ''\n"
        << "port = " << local_port << "\n"
        << "unix_socket_directories = " << quote_config_value(socket_directory().string())
        << "\nunix_socket_permissions = 0700\n";
    out.close();
    if (!out) {
        throw Error("local server: cannot append the pgingest settings to " + config.string());
    }
}

pid_t LocalServer::live_postmaster_pid() const {
    std::string line = read_first_line(data_directory() / "postmaster.pid");
    pid_t pid = static_cast<pid_t>(std::atol(line.c_str()));
    return is_live_postgres(pid) ? pid : 0;
}

bool LocalServer::accepts_connections() const {
    const std::string ping = conninfo("postgres") + " connect_timeout=2";
    return PQping(ping.c_str()) == PQPING_OK;
}

void LocalServer::start_server() const {
    const fs::path pid_file = data_directory() / "postmaster.pid";
    std::error_code ec;
    if (fs::exists(pid_file, ec)) {
        // Stale: its postmaster is gone (killed, or the machine rebooted). Wait for the backends
        // it left behind, then remove the lock files a reused pid could make PostgreSQL trust.
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        while (processes_in(data_directory()) > 0 && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        fs::remove(pid_file, ec);
        fs::remove(socket_directory() / (".s.PGSQL." + std::to_string(local_port) + ".lock"), ec);
    }
    const fs::path log = log_file();
    int status = detail::run({bin_directory() + "/pg_ctl", "start", "-D", data_directory().string(),
                              "-l", log.string(), "-w", "-t", "60"},
                             {.workdir = _home, .log_path = log, .die_with_parent = false},
                             detail::server_user());
    if (status != 0) {
        throw Error("local server: pg_ctl start failed (exit status " + std::to_string(status) +
                    ") for " + data_directory().string() + "; last lines of " + log.string() +
                    ":\n" + detail::read_tail(log, 20));
    }
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (!accepts_connections()) {
        if (Clock::now() > deadline || live_postmaster_pid() == 0) {
            throw Error("local server: started in " + data_directory().string() +
                        " but it does not accept connections on " + socket_directory().string() +
                        "; last lines of " + log.string() + ":\n" + detail::read_tail(log, 20));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void LocalServer::ensure_database() const {
    Connection conn(conninfo("postgres"));
    if (conn.query_value("SELECT count(*) FROM pg_database WHERE datname = 'pgingest'") == "0") {
        conn.exec("CREATE DATABASE pgingest");
    }
}

bool LocalServer::ensure_started() {
    prepare_home();
    HomeLock lock(_home);
    initialize_cluster();
    bool started = false;
    if (live_postmaster_pid() == 0) {
        start_server();
        started = true;
    } else {
        // A postmaster that is starting up (or recovering) gets the same 60 s as a new one.
        const auto deadline = Clock::now() + std::chrono::seconds(60);
        while (!accepts_connections()) {
            if (live_postmaster_pid() == 0) {
                start_server();
                started = true;
                break;
            }
            if (Clock::now() > deadline) {
                throw Error("local server: the postmaster of " + data_directory().string() +
                            " runs but does not accept connections on " +
                            socket_directory().string() + "; last lines of " + log_file().string() +
                            ":\n" + detail::read_tail(log_file(), 20));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    ensure_database();
    return started;
}

LocalServerStatus LocalServer::status() const {
    LocalServerStatus status{.home = _home,
                             .data_directory = data_directory(),
                             .socket_directory = socket_directory(),
                             .log_file = log_file(),
                             .port = local_port,
                             .conninfo = conninfo()};
    status.version = read_first_line(data_directory() / "PG_VERSION");
    if (status.version.empty()) {
        return status;
    }
    status.state = LocalServerState::stopped;
    status.pid = live_postmaster_pid();
    if (status.pid == 0) {
        return status;
    }
    status.state = LocalServerState::not_ready;
    if (!accepts_connections()) {
        return status;
    }
    status.state = LocalServerState::running;
    try {
        Connection conn(conninfo("postgres"));
        status.version = conn.query_value("SHOW server_version");
        std::vector<std::string> size = conn.query_column(
            "SELECT pg_database_size(oid) FROM pg_database WHERE datname = 'pgingest'");
        if (!size.empty()) {
            status.database_bytes = std::stoll(size[0]);
        }
    } catch (const Error&) {
        // Shutting down between the ping and the query: report what is known.
    }
    return status;
}

bool LocalServer::stop() {
    std::error_code ec;
    if (!fs::exists(data_directory() / "PG_VERSION", ec)) {
        return false;
    }
    HomeLock lock(_home);
    const pid_t pid = live_postmaster_pid();
    if (pid == 0) {
        return false;
    }
    const fs::path log = log_file();
    int status = detail::run({bin_directory() + "/pg_ctl", "stop", "-D", data_directory().string(),
                              "-m", "fast", "-w", "-t", "60"},
                             {.workdir = _home, .log_path = log, .die_with_parent = false},
                             detail::server_user());
    if (status != 0) {
        throw Error("local server: pg_ctl stop failed (exit status " + std::to_string(status) +
                    ") for " + data_directory().string() + "; last lines of " + log.string() +
                    ":\n" + detail::read_tail(log, 20));
    }
    // pg_ctl returns once postmaster.pid is gone, which the postmaster removes just before it
    // exits; wait for the exit itself so that the caller sees no postgres left.
    for (int i = 0; i < 1000 && process_running(pid); i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

std::string LocalServer::describe(bool started) const {
    std::string major = read_first_line(data_directory() / "PG_VERSION");
    return std::string(started ? "started" : "using") + " local PostgreSQL " + major + " in " +
           data_directory().string() + " (socket " + socket_directory().string() + ", database " +
           local_database + ")";
}

std::string libpq_connection_variables() {
    std::string names;
    for (const char* name :
         {"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSERVICE"}) {
        if (!env_or_empty(name).empty()) {
            names += (names.empty() ? "" : ", ") + std::string(name);
        }
    }
    return names;
}

ResolvedDatabase resolve_database(const std::optional<std::string>& db_flag) {
    if (db_flag.has_value()) {
        return {.conninfo = *db_flag, .origin = "--db"};
    }
    if (std::string names = libpq_connection_variables(); !names.empty()) {
        return {.conninfo = "", .origin = "PG* variables (" + names + ")"};
    }
    if (std::string url = env_or_empty("DATABASE_URL"); !url.empty()) {
        return {.conninfo = url, .origin = "DATABASE_URL"};
    }
    LocalServer server;
    bool started = server.ensure_started();
    return {.conninfo = server.conninfo(),
            .origin = "local server at " + server.data_directory().string(),
            .local = true,
            .notice = server.describe(started)};
}

}  // namespace pgingest::tools
