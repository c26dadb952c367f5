#pragma once

// The `pgingest load` subcommand: its flags (each with a PGINGEST_* environment twin) and the
// call into tools/load.hpp.

#include <CLI/CLI.hpp>
#include <memory>

#include "tools/load.hpp"

namespace pgingest::tools {

/// The subcommand and the options its flags fill in when the command line is parsed.
struct LoadCommand {
    CLI::App* app = nullptr;
    std::shared_ptr<LoadOptions> options;
};

/// Adds `load` to `app`; every flag is documented in `pgingest load --help`. Main thread.
[[nodiscard]] LoadCommand add_load_command(CLI::App& app);

}  // namespace pgingest::tools
