#pragma once

// `pgingest generate`: the command-line face of tools/generate.hpp.

#include <string>

#include "tools/generate.hpp"

namespace CLI {
class App;
}

namespace pgingest::tools {

/// What the `generate` flags hold once parsed.
struct GenerateCommand {
    std::string kind;
    GenerateOptions options;
    std::string output;  ///< file to write; empty: stdout
    std::string table;   ///< table name for --schema; empty: the kind's name
    bool schema = false;
    bool vector = false;
};

/// Adds the `generate` subcommand, its positional KIND and every flag (documented in --help with
/// its default) to `app`, parsing into `command`, which must outlive the parse. Main thread.
CLI::App* add_generate_command(CLI::App& app, GenerateCommand& command);

/// Runs a parsed `generate`: prints the CREATE TABLE statement (--schema) or writes the records
/// to --output or stdout. Returns the exit status: 0 done; 1 the output could not be opened or
/// written (message on stderr names the file and the reason); 2 the options do not fit together
/// (message names the flag, the value and the allowed range). Main thread.
int run_generate_command(const GenerateCommand& command);

}  // namespace pgingest::tools
