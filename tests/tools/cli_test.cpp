// The pgingest binary's top level: `--version` prints the version CMake generated, and `--help`
// lists the commands in a few lines, leaving each command's flags to `COMMAND --help`.

#include <catch2/catch.hpp>
#include <string>

#include "pgingest/version.hpp"
#include "tests/support/process.hpp"

namespace {

/// Runs `pgingest ARGS` (ARGS already shell-quoted); returns its exit status and puts what it
/// wrote to stdout and stderr in `output`.
int run_pgingest(const std::string& args, std::string& output) {
    std::string command = std::string("'") + PGINGEST_BINARY + "' " + args + " 2>&1";
    return pgingest::test::run_capturing(command, output);
}

}  // namespace

TEST_CASE("cli: --version prints the version from project(VERSION)", "[tools][cli]") {
    std::string output;
    CHECK(run_pgingest("--version", output) == 0);
    CHECK(output == "pgingest " + std::string(pgingest::version) + "\n");
    CHECK(std::string(pgingest::version) == std::to_string(PGINGEST_VERSION_MAJOR) + "." +
                                                std::to_string(PGINGEST_VERSION_MINOR) + "." +
                                                std::to_string(PGINGEST_VERSION_PATCH));
}

TEST_CASE("cli: the top-level --help lists the commands in one line each", "[tools][cli]") {
    std::string output;
    CHECK(run_pgingest("--help", output) == 0);
    CHECK(output ==
          "pgingest: writes data into PostgreSQL through binary COPY, as fast as the server can "
          "take it, and never loses a row.\n"
          "Usage: pgingest [OPTIONS] SUBCOMMAND\n"
          "\n"
          "Options:\n"
          "  -h,--help                   Print this help message and exit\n"
          "  --version                   Display program version information and exit\n"
          "\n"
          "Subcommands:\n"
          "  load                        Load JSON records from files or stdin into a table "
          "through binary COPY\n"
          "  generate                    Write deterministic sample NDJSON records, or a CREATE "
          "TABLE for them\n"
          "  local                       Manage pgingest's own local PostgreSQL server\n"
          "  ledger                      List, show or forget the loads the ledger of a database "
          "records\n"
          "  demo                        Load generated trace spans into a throwaway server (the "
          "engine alone)\n"
          "\n"
          "`pgingest COMMAND --help` documents every flag of COMMAND.\n");
}

TEST_CASE("cli: a command's --help still documents its flags in full", "[tools][cli]") {
    std::string output;
    CHECK(run_pgingest("load --help", output) == 0);
    CHECK(output.rfind("Load JSON records from FILEs (or stdin) into TABLE through binary COPY.\n",
                       0) == 0);
    CHECK(output.find("Usage: pgingest load [OPTIONS] [files...]\n") != std::string::npos);
    CHECK(output.find("`pgingest COMMAND --help`") == std::string::npos);
    output.clear();
    CHECK(run_pgingest("generate --help", output) == 0);
    CHECK(output.find("Usage: pgingest generate [OPTIONS] kind\n") != std::string::npos);
    CHECK(output.find("--seed") != std::string::npos);
}

TEST_CASE("cli: no command is a usage error (exit 2) pointing to --help", "[tools][cli]") {
    std::string output;
    CHECK(run_pgingest("", output) == 2);
    CHECK(output == "A subcommand is required\nRun with --help for more information.\n");
}
