#include "tools/detail/server_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "engine/errors.hpp"

namespace pgingest::detail {

namespace fs = std::filesystem;

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

std::string find_bin_directory(const std::string& configured, int major) {
    if (!configured.empty()) {
        return configured;
    }
    if (const char* env = std::getenv("PGINGEST_PG_BINDIR"); env != nullptr && *env != '\0') {
        return env;
    }
    std::error_code ec;
    const fs::path root = "/usr/lib/postgresql";
    if (major > 0) {
        const fs::path wanted = root / std::to_string(major) / "bin";
        if (fs::exists(wanted / "postgres", ec)) {
            return wanted.string();
        }
    }
    int best_major = -1;
    std::string best;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        int candidate = std::atoi(name.c_str());
        if (candidate > best_major && fs::exists(entry.path() / "bin" / "postgres", ec)) {
            best_major = candidate;
            best = (entry.path() / "bin").string();
        }
    }
    if (best.empty()) {
        throw Error(
            "local server: PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin\n"
            "HINT: install them (apt-get install postgresql-15) or set PGINGEST_PG_BINDIR");
    }
    return best;
}

// PostgreSQL refuses to run as root ("root" execution of the PostgreSQL server is not permitted),
// so as root everything server-side runs as Debian's `postgres` system user.
ServerUser server_user() {
    ServerUser user;
    if (geteuid() != 0) {
        return user;
    }
    const passwd* entry = getpwnam("postgres");
    if (entry == nullptr) {
        throw Error(
            "local server: running as root, but there is no `postgres` system user to run the "
            "server as\nHINT: install postgresql-15 (it creates the user) or run as another user");
    }
    user.switch_user = true;
    user.uid = entry->pw_uid;
    user.gid = entry->pw_gid;
    return user;
}

namespace {

// In a forked child: only async-signal-safe calls. False when the switch failed.
bool switch_to(const ServerUser& user) {
    return !user.switch_user ||
           (::setgroups(0, nullptr) == 0 && ::setgid(user.gid) == 0 && ::setuid(user.uid) == 0);
}

}  // namespace

// PR_SET_PDEATHSIG is set after the user switch, which would clear it. Descriptors above stderr
// are closed so that a long-lived postmaster holds no pipe of whoever started pgingest (a shell's
// `$(...)`, popen, ctest) open.
pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options,
            const ServerUser& user) {
    const fs::path& log_path = options.log_path;
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        throw Error(errno_text("local server: cannot open " + log_path.string()));
    }
    if (user.switch_user && ::fchown(log_fd, user.uid, user.gid) != 0) {
        ::close(log_fd);
        throw Error(errno_text("local server: cannot chown " + log_path.string()));
    }
    std::vector<char*> args;
    for (const auto& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(log_fd);
        throw Error(errno_text("local server: fork"));
    }
    if (pid == 0) {
        if (!switch_to(user)) {
            ::_exit(126);
        }
        if (options.die_with_parent) {
            ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
            if (::getppid() != parent) {
                ::_exit(125);
            }
        }
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) {
            ::dup2(null_fd, STDIN_FILENO);
        }
        ::close_range(3, ~0U, 0);
        if (::chdir(options.workdir.c_str()) != 0) {
            ::_exit(124);
        }
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(log_fd);
    return pid;
}

int run(const std::vector<std::string>& argv, const SpawnOptions& options, const ServerUser& user) {
    pid_t pid = spawn(argv, options, user);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throw Error(errno_text("local server: waitpid for " + argv[0]));
        }
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

bool user_can_access(const ServerUser& user, const fs::path& directory, bool write) {
    const int mode = write ? (W_OK | X_OK) : X_OK;
    if (!user.switch_user) {
        return ::access(directory.c_str(), mode) == 0;
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        throw Error(errno_text("local server: fork"));
    }
    if (pid == 0) {
        if (!switch_to(user)) {
            ::_exit(2);
        }
        ::_exit(::access(directory.c_str(), mode) == 0 ? 0 : 1);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            throw Error(errno_text("local server: waitpid"));
        }
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string read_tail(const fs::path& path, std::size_t lines_max) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    std::string out;
    std::size_t first = lines.size() > lines_max ? lines.size() - lines_max : 0;
    for (std::size_t i = first; i < lines.size(); i++) {
        out += "  | " + lines[i] + "\n";
    }
    return out;
}

}  // namespace pgingest::detail
