#pragma once

// Helpers shared by the two servers pgingest starts itself: the throwaway `LocalCluster` of tests
// and the demo, and the persistent `LocalServer` of `pgingest load` / `pgingest local`. They find
// the installed PostgreSQL binaries and run them, as the `postgres` system user when root.

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace pgingest::detail {

/// `what: strerror(errno)`, for messages after a failed C call. Reads errno; any thread.
[[nodiscard]] std::string errno_text(const std::string& what);

/// The directory of `initdb`/`postgres`/`pg_ctl`: `configured` if not empty, else
/// $PGINGEST_PG_BINDIR, else /usr/lib/postgresql/<major>/bin of `major` when `major` > 0 and it
/// exists, else of the newest installed major. Throws `Error` with an install hint when none is
/// found.
[[nodiscard]] std::string find_bin_directory(const std::string& configured, int major = 0);

/// Who the server processes run as: the calling user, or `postgres` when the process is root.
struct ServerUser {
    /// True when the process is root and children switch to `uid`/`gid` before exec.
    bool switch_user = false;
    uid_t uid = 0;
    gid_t gid = 0;
};

/// The user server processes run as. PostgreSQL refuses to run as root, so as root this is
/// Debian's `postgres` system user; throws `Error` when that user does not exist.
[[nodiscard]] ServerUser server_user();

/// Options of `spawn`.
struct SpawnOptions {
    /// Directory the child starts in.
    std::filesystem::path workdir;
    /// stdout and stderr of the child are appended to this file (created 0644, owned by the
    /// server user).
    std::filesystem::path log_path;
    /// Kill the child with SIGQUIT when the calling thread ends (PR_SET_PDEATHSIG): for
    /// throwaway servers. Off for `pg_ctl`, whose postmaster outlives pgingest anyway.
    bool die_with_parent = true;
};

/// Starts `argv` (argv[0] an absolute path) as `user`, stdin from /dev/null, every other
/// inherited descriptor closed. Returns the child's pid. Throws `Error` when the log cannot be
/// opened or fork fails. Exit statuses of the child before exec: 126 user switch failed,
/// 125 parent already gone, 124 chdir failed, 127 exec failed.
[[nodiscard]] pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options,
                          const ServerUser& user);

/// `spawn`, then waits for the child; returns its exit status, or 128 + signal number when a
/// signal ended it.
[[nodiscard]] int run(const std::vector<std::string>& argv, const SpawnOptions& options,
                      const ServerUser& user);

/// True when `user` may search (and with `write`, also create files in) `directory`, checked by
/// a child that switches to that user: a parent directory the user cannot traverse (e.g. /root)
/// fails the check. True without a child when `user.switch_user` is false and access() agrees.
[[nodiscard]] bool user_can_access(const ServerUser& user, const std::filesystem::path& directory,
                                   bool write);

/// The last `lines_max` lines of a text file, each prefixed with "  | "; "" when unreadable.
[[nodiscard]] std::string read_tail(const std::filesystem::path& path, std::size_t lines_max);

}  // namespace pgingest::detail
