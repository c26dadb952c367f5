// pgingest command line: `load` (the main job), `generate` (sample data), `local` (pgingest's
// own server), `ledger` (the loads a database records), `demo` (the engine alone).

#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "pgingest/version.hpp"

#include "tools/demo.hpp"
#include "tools/generate_command.hpp"
#include "tools/ledger_command.hpp"
#include "tools/load_command.hpp"
#include "tools/local_command.hpp"

namespace {

/// Lists each command of the top-level `--help` by a one-line summary instead of its whole
/// description (which its own `COMMAND --help` prints), so the list stays a few lines.
class CommandListFormatter : public CLI::Formatter {
  public:
    explicit CommandListFormatter(std::map<std::string, std::string> summaries)
        : _summaries(std::move(summaries)) {}

    std::string make_subcommand(const CLI::App* sub) const override {
        auto found = _summaries.find(sub->get_name());
        std::stringstream out;
        CLI::detail::format_help(out, sub->get_display_name(true),
                                 found == _summaries.end() ? sub->get_description() : found->second,
                                 get_column_width());
        return out.str();
    }

  private:
    std::map<std::string, std::string> _summaries;
};

/// Gives `app` (the top level, its commands added) the short command list and a footer.
void use_command_list_help(CLI::App& app) {
    app.formatter(std::make_shared<CommandListFormatter>(std::map<std::string, std::string>{
        {"load", "Load JSON records from files or stdin into a table through binary COPY"},
        {"generate", "Write deterministic sample NDJSON records, or a CREATE TABLE for them"},
        {"local", "Manage pgingest's own local PostgreSQL server"},
        {"ledger", "List, show or forget the loads the ledger of a database records"},
        {"demo", "Load generated trace spans into a throwaway server (the engine alone)"},
    }));
    app.footer("`pgingest COMMAND --help` documents every flag of COMMAND.");
}

}  // namespace

/// Blocks of this size or more are mapped on their own (mmap) and given back at free().
constexpr int mmap_threshold_bytes = 8 << 20;

int main(int argc, char** argv) {
    // A big record's buffer and its tuple go back to the system when freed. Left to itself,
    // glibc raises its mmap threshold to the size of each mapped block freed (up to 32 MiB),
    // so the next big blocks come from its arenas, where freed memory stays resident: records
    // of 24 MiB then peaked 50 MB higher (issue 11, the memory bound). Smaller blocks (the
    // reader's 2 MiB chunks, batches) stay in the arenas, reused without page faults.
    (void)mallopt(M_MMAP_THRESHOLD, mmap_threshold_bytes);
    CLI::App app{
        "pgingest: writes data into PostgreSQL through binary COPY, as fast as the server can "
        "take it, and never loses a row.",
        "pgingest"};
    app.set_version_flag("--version", "pgingest " + std::string(pgingest::version));
    app.require_subcommand(1);

    pgingest::tools::LoadCommand load = pgingest::tools::add_load_command(app);

    pgingest::tools::GenerateCommand generate;
    CLI::App* generate_command = pgingest::tools::add_generate_command(app, generate);

    pgingest::tools::LocalCommandOptions local;
    CLI::App* local_command = pgingest::tools::add_local_command(app, local);

    pgingest::tools::LedgerCommandOptions ledger;
    CLI::App* ledger_command = pgingest::tools::add_ledger_command(app, ledger);

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
    use_command_list_help(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);  // --help, --version
    } catch (const CLI::ParseError& e) {
        (void)app.exit(e);
        return 2;  // usage error, as `pgingest load --help` documents
    }
    if (*load.app) {
        return static_cast<int>(pgingest::tools::run_load(*load.options).exit);
    }
    if (*generate_command) {
        return pgingest::tools::run_generate_command(generate);
    }
    if (*local_command) {
        return pgingest::tools::run_local_command(*local_command, local);
    }
    if (*ledger_command) {
        return pgingest::tools::run_ledger_command(*ledger_command, ledger);
    }
    if (*demo_command) {
        return pgingest::tools::run_demo(demo);
    }
    return 2;
}
