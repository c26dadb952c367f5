#pragma once

// `pgingest local status|start|stop`: manage the local server `pgingest load` uses when no
// database is named (tools/local_server.hpp).

#include <CLI/CLI.hpp>
#include <string>

namespace pgingest::tools {

/// Options of `pgingest local ...`, filled by CLI11.
struct LocalCommandOptions {
    /// --home / $PGINGEST_HOME; empty: `LocalServer::default_home()`.
    std::string home;
    /// `status --json`: one JSON object on stdout instead of text.
    bool json = false;
};

/// Adds `local` with subcommands `status`, `start`, `stop` to `app`; their flags write into
/// `options`, which must outlive parsing. Returns the `local` subcommand. Main thread only.
CLI::App* add_local_command(CLI::App& app, LocalCommandOptions& options);

/// Runs the subcommand of `local_command` that was parsed; prints on stdout, errors on stderr.
/// Returns the exit status: 0 success (status: running), 1 failure, 3 (status only) not running.
int run_local_command(const CLI::App& local_command, const LocalCommandOptions& options);

}  // namespace pgingest::tools
