#pragma once

// The embedded default database of `pgingest load` (issue 4): with no database named anywhere,
// pgingest starts (or reuses) a PostgreSQL server of its own, which outlives the process and is
// managed with `pgingest local status|start|stop`.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace pgingest::tools {

/// Options of `LocalServer`. Designated initializers, e.g. `{.home = "/tmp/x"}`.
struct LocalServerOptions {
    /// Directory that holds everything of the server; empty: `LocalServer::default_home()`.
    std::filesystem::path home{};
    /// Directory of `initdb`/`pg_ctl`/`postgres`; empty: $PGINGEST_PG_BINDIR, else
    /// /usr/lib/postgresql/<major>/bin of the cluster's major version, else the newest installed.
    std::string bin_directory{};
};

/// Where a local server stands.
enum class LocalServerState {
    /// No cluster in the data directory yet (`ensure_started` runs initdb).
    not_initialized,
    /// A cluster, no live postmaster (no postmaster.pid, or a stale one).
    stopped,
    /// A live postmaster that does not accept connections yet (starting, or shutting down).
    not_ready,
    /// A live postmaster that accepts connections on its socket.
    running,
};

/// "not initialized", "stopped", "not ready" or "running".
[[nodiscard]] const char* state_name(LocalServerState state) noexcept;

/// What `LocalServer::status()` found.
struct LocalServerStatus {
    LocalServerState state = LocalServerState::not_initialized;
    /// The postmaster's pid when it is live, else 0.
    pid_t pid = 0;
    std::filesystem::path home{};
    std::filesystem::path data_directory{};
    std::filesystem::path socket_directory{};
    std::filesystem::path log_file{};
    /// Port number of the unix socket (`.s.PGSQL.<port>`); no TCP port is opened.
    int port = 0;
    /// conninfo of database `pgingest` over the unix socket.
    std::string conninfo{};
    /// `server_version` when running (e.g. "15.20 (Debian 15.20-0+deb12u1)"), else the major
    /// version of the cluster on disk ("15"), else empty.
    std::string version{};
    /// pg_database_size('pgingest') in bytes when running, else -1.
    std::int64_t database_bytes = -1;

    [[nodiscard]] bool running() const noexcept { return state == LocalServerState::running; }
};

/// pgingest's own PostgreSQL server: a cluster in `<home>/cluster`, listening only on a unix
/// socket in `<home>/run` (`listen_addresses = ''`, socket mode 0700, so only its owner and root
/// can connect; trust authentication, superuser `postgres`), log in `<home>/server.log`,
/// UTF8 with locale C.UTF-8, durable defaults (fsync on), and a database `pgingest`.
///
/// Home: `options.home`, else $PGINGEST_HOME, else — when root — /var/lib/pgingest (the server
/// runs as the `postgres` system user, which cannot traverse /root), else
/// $XDG_DATA_HOME/pgingest, else ~/.local/share/pgingest. As root, `cluster/`, `run/` and the
/// log are owned by `postgres`; the home itself needs only be searchable by it.
///
/// Unlike `LocalCluster` the server is started with `pg_ctl` in its own session and is not tied
/// to this process: it keeps running after pgingest exits until `stop()`. Concurrent
/// `ensure_started`/`stop` calls from several processes are serialized by an flock on
/// `<home>/lock`. Errors throw `pgingest::Error` naming the directory or step that failed and,
/// for server failures, the tail of the log. One thread at a time per object.
class LocalServer {
  public:
    /// Resolves the directories; touches nothing on disk.
    explicit LocalServer(LocalServerOptions options = {});

    /// The home used when neither options nor $PGINGEST_HOME name one (see the class comment).
    /// Throws `Error` when no home directory can be found for a non-root user.
    [[nodiscard]] static std::filesystem::path default_home();

    [[nodiscard]] const std::filesystem::path& home() const noexcept { return _home; }
    [[nodiscard]] std::filesystem::path data_directory() const { return _home / "cluster"; }
    [[nodiscard]] std::filesystem::path socket_directory() const { return _home / "run"; }
    [[nodiscard]] std::filesystem::path log_file() const { return _home / "server.log"; }

    /// conninfo over the unix socket: `host=<home>/run port=5432 user=postgres dbname=<dbname>`.
    [[nodiscard]] std::string conninfo(const std::string& dbname = "pgingest") const;

    /// Makes the server run and accept connections, and database `pgingest` exist: creates the
    /// home, runs initdb when there is no cluster, removes a stale postmaster.pid (its process
    /// gone or not a postgres), `pg_ctl start`s the server and waits until it accepts connections
    /// (60 s at most). Returns true when this call started it, false when it was already running
    /// (then it only checks the database). Throws `Error` when the home cannot be created or the
    /// server user cannot reach it (message names the directory), initdb or pg_ctl fail (with
    /// the log's tail), or the socket path is too long for a unix socket.
    bool ensure_started();

    /// What is on disk and running now; never starts or creates anything. Connects to read
    /// version and size when the server is running. An unreadable data directory reads as not
    /// initialized; a server that stops meanwhile leaves version and size unknown.
    [[nodiscard]] LocalServerStatus status() const;

    /// `pg_ctl stop -m fast` (open transactions abort, clients are disconnected) and waits until
    /// the server is gone. Returns true when a server was running, false when there was none
    /// (a stale postmaster.pid is left for the next start to clear). Throws `Error` with the
    /// log's tail when pg_ctl fails.
    bool stop();

    /// One line for users: "started local PostgreSQL 15 in <data> (socket <run>, database
    /// pgingest)", or "using ..." when `started` is false.
    [[nodiscard]] std::string describe(bool started) const;

  private:
    void prepare_home() const;
    void initialize_cluster() const;
    void start_server() const;
    void ensure_database() const;
    [[nodiscard]] pid_t live_postmaster_pid() const;
    [[nodiscard]] bool accepts_connections() const;
    [[nodiscard]] std::string bin_directory() const;

    LocalServerOptions _options;
    std::filesystem::path _home;
};

/// Where `pgingest load` connects, and why there.
struct ResolvedDatabase {
    /// Passed to libpq as is; "" when libpq takes everything from PG* variables.
    std::string conninfo{};
    /// "--db", "PG* variables (PGHOST, PGDATABASE)", "DATABASE_URL", or
    /// "local server at <data directory>".
    std::string origin{};
    /// True for pgingest's own local server.
    bool local = false;
    /// For the local server: `LocalServer::describe` (started or reused), for the CLI to print
    /// on stderr; else empty.
    std::string notice{};
};

/// The libpq variables that name a database or how to reach one (PGHOST, PGHOSTADDR, PGPORT,
/// PGDATABASE, PGUSER, PGPASSWORD, PGSERVICE) that are set and not empty, comma separated.
[[nodiscard]] std::string libpq_connection_variables();

/// Resolves the database as libpq users expect: `db_flag` (conninfo or URI) when given, else
/// the PG* variables of `libpq_connection_variables` when any is set (conninfo "" so libpq reads
/// them), else $DATABASE_URL when set and not empty, else the local server (`ensure_started` on
/// `LocalServer{}`, honouring $PGINGEST_HOME). Throws what `ensure_started` throws.
[[nodiscard]] ResolvedDatabase resolve_database(const std::optional<std::string>& db_flag);

}  // namespace pgingest::tools
