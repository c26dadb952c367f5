#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pgingest {

/// Options for `LocalCluster`. Designated initializers, e.g. `{.fsync = false}`.
struct LocalClusterOptions {
    /// Directory of `initdb`/`postgres`; empty: $PGINGEST_PG_BINDIR, else the newest
    /// /usr/lib/postgresql/<major>/bin, else the directory of `pg_config --bindir` on PATH.
    std::string bin_directory;
    /// TCP port on 127.0.0.1; 0 picks a free one.
    int port = 0;
    /// fsync and full_page_writes; off for throwaway test clusters (data is lost on a crash).
    bool fsync = false;
    /// Extra `name=value` server settings, passed as `-c name=value`.
    std::vector<std::string> settings;
};

/// How `LocalCluster::restart` stops the server (pg_ctl's -m modes).
enum class Shutdown : std::uint8_t {
    fast,       ///< SIGINT: transactions aborted, clients told (FATAL 57P01), clean checkpoint
    immediate,  ///< SIGQUIT: processes quit at once (a WARNING to clients), crash recovery next
};

/// A throwaway PostgreSQL cluster for tests and the demo: `initdb` into a fresh temporary
/// directory, the server on 127.0.0.1 and a unix socket in that directory, superuser
/// `postgres` with trust authentication, UTF8 and locale C.UTF-8.
///
/// PostgreSQL refuses to run as root, so when the process is root the server runs as the
/// `postgres` system user that Debian's package creates. The server is a child process of the
/// constructing thread, and is sent SIGQUIT (immediate shutdown) by the kernel if that thread
/// dies (PR_SET_PDEATHSIG), so a crashed test leaves no server behind. The destructor stops it and
/// removes the directory. Throws `pgingest::Error` naming the step that failed and the tail of the
/// server log. Construct, use and destroy from one thread.
class LocalCluster {
  public:
    explicit LocalCluster(LocalClusterOptions options = {});
    ~LocalCluster();
    LocalCluster(const LocalCluster&) = delete;
    LocalCluster& operator=(const LocalCluster&) = delete;

    /// conninfo over TCP: `host=127.0.0.1 port=N user=postgres dbname=postgres sslmode=disable`.
    [[nodiscard]] std::string conninfo(const std::string& dbname = "postgres") const;
    /// conninfo over the unix socket in the cluster directory.
    [[nodiscard]] std::string socket_conninfo(const std::string& dbname = "postgres") const;
    [[nodiscard]] int port() const noexcept { return _port; }
    [[nodiscard]] const std::filesystem::path& directory() const noexcept { return _directory; }

    /// Stops the server (`mode`), waits `down`, and starts it again on the same port and data;
    /// every client connection is broken. Throws `Error` if it does not come back.
    void restart(Shutdown mode = Shutdown::fast, std::chrono::milliseconds down = {});

    /// Stops the server (fast shutdown, then SIGKILL after 30 s). Idempotent.
    void stop() noexcept;

  private:
    void start_server(bool keep_port);
    void stop_with(int signal) noexcept;
    [[nodiscard]] std::string log_tail() const;

    LocalClusterOptions _options;
    std::filesystem::path _directory;  // owns data/, the socket and server.log
    std::string _bin_directory;
    int _port = 0;
    pid_t _server_pid = -1;
};

}  // namespace pgingest
