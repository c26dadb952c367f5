// pgingest command line. Subcommands grow with the issues: `demo` now; `load`, `generate` and
// `local` come with issue "pgingest load".

#include <CLI/CLI.hpp>
#include <cstdio>

#include "tools/demo.hpp"
#include "tools/generate_command.hpp"
#include "tools/local_command.hpp"

int main(int argc, char** argv) {
    CLI::App app{
        "pgingest: writes data into PostgreSQL through binary COPY, as fast as the server can "
        "take it, and never loses a row."};
    app.set_version_flag("--version", "pgingest 0.1.0");
    app.require_subcommand(1);

    pgingest::tools::LocalCommandOptions local;
    CLI::App* local_command = pgingest::tools::add_local_command(app, local);

    pgingest::tools::DemoOptions demo;
    CLI::App* demo_command = app.add_subcommand(
        "demo",
        "Start a throwaway local PostgreSQL, encode generated agent trace spans into binary COPY "
        "and load them; prints what the server stored. Needs the PostgreSQL 15 server binaries "
        "(Debian package postgresql-15); as root the server runs as the `postgres` user.");
    demo_command->add_option("--rows", demo.rows, "Number of trace-span rows to load")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
    demo_command->add_option("--seed", demo.seed, "Seed of the deterministic row generator")
        ->capture_default_str();

    pgingest::tools::GenerateCommand generate;
    CLI::App* generate_command = pgingest::tools::add_generate_command(app, generate);

    CLI11_PARSE(app, argc, argv);
    if (*local_command) {
        return pgingest::tools::run_local_command(*local_command, local);
    }
    if (*demo_command) {
        return pgingest::tools::run_demo(demo);
    }
    if (*generate_command) {
        return pgingest::tools::run_generate_command(generate);
    }
    return 2;
}
