#include "tools/local_cluster.hpp"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "engine/errors.hpp"
#include "tools/detail/server_process.hpp"

namespace pgingest {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using detail::errno_text;
using detail::read_tail;
using detail::server_user;
using detail::ServerUser;

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

}  // namespace

LocalCluster::LocalCluster(LocalClusterOptions options) : _options(std::move(options)) {
    _bin_directory = detail::find_bin_directory(_options.bin_directory);
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
        int status = detail::run(
            {_bin_directory + "/initdb", "-D", (_directory / "data").string(), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"},
            {.workdir = _directory, .log_path = log}, user);
        if (status != 0) {
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
        _server_pid = detail::spawn(
            argv, {.workdir = _directory, .log_path = _directory / "server.log"}, user);
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

void LocalCluster::restart(Shutdown mode, std::chrono::milliseconds down) {
    stop_with(mode == Shutdown::immediate ? SIGQUIT : SIGINT);
    std::this_thread::sleep_for(down);
    start_server(true);
}

void LocalCluster::stop() noexcept {
    stop_with(SIGINT);  // fast shutdown: aborts transactions, disconnects clients
}

void LocalCluster::stop_with(int signal) noexcept {
    if (_server_pid <= 0) {
        return;
    }
    ::kill(_server_pid, signal);
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
