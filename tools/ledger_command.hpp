#pragma once

// `pgingest ledger list|show ID|forget ID`: what the ledger of loads (tools/load_ledger.hpp)
// holds in a database, and forgetting a load so that its files can be loaded as new.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace pgingest::tools {

/// Options of `pgingest ledger ...`, filled by CLI11.
struct LedgerCommandOptions {
    std::optional<std::string> db;           ///< --db; empty: as `pgingest load` resolves it
    std::string ledger_schema = "pgingest";  ///< --ledger-schema
    std::string load_id;                     ///< show / forget: the load
};

/// Adds `ledger` with subcommands `list`, `show`, `forget` to `app`; their flags write into
/// `options`, which must outlive parsing. Returns the `ledger` subcommand. Main thread only.
CLI::App* add_ledger_command(CLI::App& app, LedgerCommandOptions& options);

/// Runs the subcommand of `ledger_command` that was parsed: prints on stdout, errors on stderr.
/// Returns the exit status: 0 success, 1 no such load (show, forget), 2 the ledger cannot be
/// used by this role, 3 cannot connect.
int run_ledger_command(const CLI::App& ledger_command, const LedgerCommandOptions& options);

}  // namespace pgingest::tools
