#include "tools/local_command.hpp"

#include <cstdint>
#include <cstdio>
#include <exception>

#include "codecs/buffer.hpp"
#include "codecs/json_writer.hpp"
#include "engine/errors.hpp"
#include "tools/local_server.hpp"

namespace pgingest::tools {

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_not_running = 3;  // as `pg_ctl status`

LocalServer make_server(const LocalCommandOptions& options) {
    return LocalServer(LocalServerOptions{.home = options.home});
}

std::string megabytes(std::int64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
    return text;
}

void print_status_text(const LocalServerStatus& status) {
    std::printf("pgingest local server: %s\n", state_name(status.state));
    std::printf("  home              %s\n", status.home.c_str());
    std::printf("  data directory    %s\n", status.data_directory.c_str());
    std::printf("  socket directory  %s (port %d)\n", status.socket_directory.c_str(), status.port);
    std::printf("  log               %s\n", status.log_file.c_str());
    if (status.pid != 0) {
        std::printf("  pid               %ld\n", static_cast<long>(status.pid));
    }
    if (!status.version.empty()) {
        std::printf("  version           %s\n", status.version.c_str());
    }
    if (status.database_bytes >= 0) {
        std::printf("  database          pgingest, %s\n", megabytes(status.database_bytes).c_str());
    }
    std::printf("  conninfo          %s\n", status.conninfo.c_str());
}

void print_status_json(const LocalServerStatus& status) {
    ByteBuffer out(1024);
    JsonWriter json(out);
    json.begin_object();
    json.key("state");
    json.string(state_name(status.state));
    json.key("running");
    json.boolean(status.running());
    json.key("pid");
    status.pid != 0 ? json.number(static_cast<std::int64_t>(status.pid)) : json.null();
    for (const auto& [name, path] :
         {std::pair{"home", &status.home}, std::pair{"data_directory", &status.data_directory},
          std::pair{"socket_directory", &status.socket_directory},
          std::pair{"log_file", &status.log_file}}) {
        json.key(name);
        json.string(path->string());
    }
    json.key("port");
    json.number(static_cast<std::int64_t>(status.port));
    json.key("conninfo");
    json.string(status.conninfo);
    json.key("version");
    status.version.empty() ? json.null() : json.string(status.version);
    json.key("database");
    json.string("pgingest");
    json.key("database_bytes");
    status.database_bytes >= 0 ? json.number(status.database_bytes) : json.null();
    json.end_object();
    if (Status s = json.finish(); !s.ok()) {
        // Paths that are not UTF-8 cannot be JSON strings.
        throw Error("pgingest local status: cannot write JSON (a path is not valid UTF-8)");
    }
    std::printf("%.*s\n", static_cast<int>(out.size()), out.data());
}

int run_status(const LocalCommandOptions& options) {
    LocalServerStatus status = make_server(options).status();
    if (options.json) {
        print_status_json(status);
    } else {
        print_status_text(status);
    }
    return status.running() ? exit_ok : exit_not_running;
}

int run_start(const LocalCommandOptions& options) {
    LocalServer server = make_server(options);
    bool started = server.ensure_started();
    std::printf("pgingest: %s\n", server.describe(started).c_str());
    std::printf("  conninfo: %s\n", server.conninfo().c_str());
    return exit_ok;
}

int run_stop(const LocalCommandOptions& options) {
    LocalServer server = make_server(options);
    if (server.stop()) {
        std::printf("pgingest: stopped the local server in %s\n", server.data_directory().c_str());
    } else {
        std::printf("pgingest: no local server running in %s\n", server.data_directory().c_str());
    }
    return exit_ok;
}

}  // namespace

CLI::App* add_local_command(CLI::App& app, LocalCommandOptions& options) {
    CLI::App* local = app.add_subcommand(
        "local",
        "Manage pgingest's own PostgreSQL server, the one `pgingest load` starts when no database "
        "is named (no --db, no PG* variables, no DATABASE_URL): a cluster in <home>/cluster, "
        "unix socket only in <home>/run, log <home>/server.log, database `pgingest`. It keeps "
        "running after pgingest exits. Uses the installed PostgreSQL server binaries (Debian "
        "package postgresql-15); as root it runs as the `postgres` user.");
    local->require_subcommand(1);
    local
        ->add_option("--home", options.home,
                     "Directory of the local server. Default: /var/lib/pgingest as root, else "
                     "$XDG_DATA_HOME/pgingest or ~/.local/share/pgingest")
        ->envname("PGINGEST_HOME");
    local->footer(
        "Exit status: 0 success; 1 failure (message on stderr); 3 `status` found no running "
        "server.");
    CLI::App* status = local->add_subcommand(
        "status",
        "Print whether the local server runs, its pid, directories, port, conninfo, version and "
        "the size of database `pgingest`. Exit status 0 running, 3 not running, 1 error.");
    status->add_flag("--json", options.json,
                     "Print one JSON object: state, running, pid, home, data_directory, "
                     "socket_directory, log_file, port, conninfo, version, database, "
                     "database_bytes (null when unknown)");
    local->add_subcommand("start",
                          "Start the local server (initdb first if there is no cluster) or reuse "
                          "the running one, and print where it is. Exit status 0 running, 1 "
                          "error.");
    local->add_subcommand("stop",
                          "Stop the local server (fast shutdown: open transactions are rolled "
                          "back). Exit status 0 stopped or not running, 1 error.");
    return local;
}

int run_local_command(const CLI::App& local_command, const LocalCommandOptions& options) {
    try {
        if (local_command.got_subcommand("status")) {
            return run_status(options);
        }
        if (local_command.got_subcommand("start")) {
            return run_start(options);
        }
        if (local_command.got_subcommand("stop")) {
            return run_stop(options);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pgingest local: %s\n", e.what());
        return exit_failure;
    }
    return exit_failure;
}

}  // namespace pgingest::tools
