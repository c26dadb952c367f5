#include "tools/local_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/errors.hpp"

namespace pgingest {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

std::string find_bin_directory(const std::string& configured) {
    if (!configured.empty()) {
        return configured;
    }
    if (const char* env = std::getenv("PGINGEST_PG_BINDIR"); env != nullptr && *env != '\0') {
        return env;
    }
    int best_major = -1;
    std::string best;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        const std::string name = entry.path().filename().string();
        int major = std::atoi(name.c_str());
        if (major > best_major && fs::exists(entry.path() / "bin" / "postgres", ec)) {
            best_major = major;
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

struct ServerUser {
    bool switch_user = false;
    uid_t uid = 0;
    gid_t gid = 0;
};

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

// Starts argv[0] as the server user with stdout and stderr appended to `log_path`. The child dies
// with SIGQUIT when the calling thread ends (PR_SET_PDEATHSIG is set after the user switch, which
// would clear it).
pid_t spawn(const std::vector<std::string>& argv, const fs::path& workdir, const fs::path& log_path,
            const ServerUser& user) {
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
        // Child: only async-signal-safe calls from here to exec.
        if (user.switch_user &&
            (::setgroups(0, nullptr) != 0 || ::setgid(user.gid) != 0 || ::setuid(user.uid) != 0)) {
            ::_exit(126);
        }
        ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
        if (::getppid() != parent) {
            ::_exit(125);
        }
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        int null_fd = ::open("/dev/null", O_RDONLY);
        if (null_fd >= 0) {
            ::dup2(null_fd, STDIN_FILENO);
        }
        if (::chdir(workdir.c_str()) != 0) {
            ::_exit(124);
        }
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(log_fd);
    return pid;
}

int free_tcp_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw Error(errno_text("local server: socket"));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        throw Error(errno_text("local server: cannot find a free port on 127.0.0.1"));
    }
    ::close(fd);
    return ntohs(address.sin_port);
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

}  // namespace

LocalCluster::LocalCluster(LocalClusterOptions options) : _options(std::move(options)) {
    _bin_directory = find_bin_directory(_options.bin_directory);
    ServerUser user = server_user();
    std::string pattern = (fs::temp_directory_path() / "pgingest-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw Error(errno_text("local server: cannot create a directory under " +
                               fs::temp_directory_path().string()));
    }
    _directory = pattern;
    try {
        if (user.switch_user && ::chown(_directory.c_str(), user.uid, user.gid) != 0) {
            throw Error(errno_text("local server: cannot chown " + _directory.string()));
        }
        const fs::path log = _directory / "initdb.log";
        pid_t pid =
            spawn({_bin_directory + "/initdb", "-D", (_directory / "data").string(), "-U",
                   "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"},
                  _directory, log, user);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            throw Error("local server: initdb failed in " + _directory.string() + ":\n" +
                        read_tail(log, 20));
        }
        start_server(false);
    } catch (...) {
        stop();
        std::error_code ec;
        fs::remove_all(_directory, ec);
        throw;
    }
}

LocalCluster::~LocalCluster() {
    stop();
    std::error_code ec;
    fs::remove_all(_directory, ec);
}

void LocalCluster::start_server(bool keep_port) {
    ServerUser user = server_user();
    const bool pick_port = _options.port == 0 && !keep_port;
    const int attempts = pick_port ? 3 : 1;
    for (int attempt = 1; attempt <= attempts; attempt++) {
        if (pick_port) {
            _port = free_tcp_port();
        } else if (!keep_port) {
            _port = _options.port;
        }
        std::vector<std::string> argv = {_bin_directory + "/postgres",
                                         "-D",
                                         (_directory / "data").string(),
                                         "-p",
                                         std::to_string(_port),
                                         "-k",
                                         _directory.string(),
                                         "-c",
                                         "listen_addresses=127.0.0.1"};
        if (!_options.fsync) {
            for (const char* setting :
                 {"fsync=off", "full_page_writes=off", "synchronous_commit=off"}) {
                argv.insert(argv.end(), {"-c", setting});
            }
        }
        for (const auto& setting : _options.settings) {
            argv.insert(argv.end(), {"-c", setting});
        }
        _server_pid = spawn(argv, _directory, _directory / "server.log", user);
        const auto deadline = Clock::now() + std::chrono::seconds(60);
        const std::string ping = socket_conninfo() + " connect_timeout=2";
        while (Clock::now() < deadline) {
            if (PQping(ping.c_str()) == PQPING_OK) {
                return;
            }
            int status = 0;
            if (::waitpid(_server_pid, &status, WNOHANG) == _server_pid) {
                _server_pid = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        stop();
        if (attempt == attempts) {
            throw Error("local server: postgres did not start on port " + std::to_string(_port) +
                        " (data in " + _directory.string() + "); last lines of its log:\n" +
                        log_tail());
        }
    }
}

void LocalCluster::restart() {
    stop();
    start_server(true);
}

void LocalCluster::stop() noexcept {
    if (_server_pid <= 0) {
        return;
    }
    ::kill(_server_pid, SIGINT);  // fast shutdown: aborts transactions, disconnects clients
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (::waitpid(_server_pid, &status, WNOHANG) == 0) {
        if (Clock::now() > deadline) {
            ::kill(_server_pid, SIGKILL);
            ::waitpid(_server_pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    _server_pid = -1;
}

std::string LocalCluster::conninfo(const std::string& dbname) const {
    return "host=127.0.0.1 port=" + std::to_string(_port) + " user=postgres dbname=" + dbname +
           " sslmode=disable gssencmode=disable";
}

std::string LocalCluster::socket_conninfo(const std::string& dbname) const {
    return "host=" + _directory.string() + " port=" + std::to_string(_port) +
           " user=postgres dbname=" + dbname;
}

std::string LocalCluster::log_tail() const {
    return read_tail(_directory / "server.log", 30);
}

}  // namespace pgingest
