#include "tools/ledger_command.hpp"

#include <cstdio>

#include "engine/errors.hpp"
#include "engine/ledger.hpp"
#include "tools/local_server.hpp"

namespace pgingest::tools {

namespace {

const char* state_name(LoadState state) {
    switch (state) {
        case LoadState::finished:
            return "finished";
        case LoadState::running:
            return "running";
        case LoadState::interrupted:
            return "interrupted";
    }
    return "?";
}

/// Bytes of `source` (number `no`) that `record` settled.
std::uint64_t settled_bytes(const LoadRecord& record, std::size_t no) {
    OriginRanges settled = record.loaded;
    settled.add(record.rejected);
    std::uint64_t size = record.sources[no].size_bytes;
    std::uint64_t bytes = 0;
    for (const OriginRange& range : settled.ranges(static_cast<std::uint32_t>(no))) {
        bytes += std::min(range.end, size) - std::min(range.first, size);
    }
    return bytes;
}

void print_line(const LoadRecord& record) {
    std::printf("%s\t%s\t%s\t%llu loaded\t%llu rejected\n", record.load_id.c_str(),
                state_name(record.state), record.target.c_str(),
                static_cast<unsigned long long>(record.rows_loaded),
                static_cast<unsigned long long>(record.rows_rejected));
}

int show(Ledger& ledger, const std::string& load_id) {
    std::optional<LoadRecord> record = ledger.read_load(load_id);
    if (!record) {
        std::fprintf(stderr, "pgingest ledger: no load %s in the ledger\n", load_id.c_str());
        return 1;
    }
    std::printf("load %s\n  table %s\n  state %s\n  rows loaded %llu, rejected %llu\n",
                record->load_id.c_str(), record->target.c_str(), state_name(record->state),
                static_cast<unsigned long long>(record->rows_loaded),
                static_cast<unsigned long long>(record->rows_rejected));
    for (std::size_t no = 0; no < record->sources.size(); ++no) {
        const SourceIdentity& source = record->sources[no];
        std::printf("  file %zu: %s, %llu bytes, %llu bytes settled\n", no, source.path.c_str(),
                    static_cast<unsigned long long>(source.size_bytes),
                    static_cast<unsigned long long>(settled_bytes(*record, no)));
    }
    return 0;
}

int run(const CLI::App& command, const LedgerCommandOptions& options) {
    Ledger ledger(resolve_database(options.db).conninfo,
                  LedgerOptions{.schema = options.ledger_schema});
    if (command.got_subcommand("list")) {
        for (const std::string& id : ledger.load_ids()) {
            if (std::optional<LoadRecord> record = ledger.read_load(id)) {
                print_line(*record);
            }
        }
        return 0;
    }
    if (command.got_subcommand("show")) {
        return show(ledger, options.load_id);
    }
    std::optional<LoadRecord> record = ledger.read_load(options.load_id);
    if (record && record->state == LoadState::running) {
        std::fprintf(stderr, "pgingest ledger: load %s is running; forget it once it ended\n",
                     options.load_id.c_str());
        return 1;
    }
    if (!ledger.forget(options.load_id)) {
        std::fprintf(stderr, "pgingest ledger: no load %s in the ledger\n",
                     options.load_id.c_str());
        return 1;
    }
    std::printf("forgot load %s: a load of its files starts anew\n", options.load_id.c_str());
    return 0;
}

}  // namespace

CLI::App* add_ledger_command(CLI::App& app, LedgerCommandOptions& options) {
    CLI::App* ledger = app.add_subcommand(
        "ledger",
        "What the ledger of loads holds (see `pgingest load --help`, \"Resume and reload\"): "
        "list the loads, show one (its files and how much of each is settled), or forget one "
        "so that a load of its files starts anew. Exit status: 0 success; 1 no such load (or it "
        "is running); 2 the ledger cannot be used by this role; 3 cannot connect.");
    ledger->require_subcommand(1);
    ledger->add_option("--db", options.db, "conninfo string or postgresql:// URI")
        ->envname("PGINGEST_DB");
    ledger->add_option("--ledger-schema", options.ledger_schema, "Schema of the ledger")
        ->capture_default_str()
        ->envname("PGINGEST_LEDGER_SCHEMA");
    // fallthrough: `ledger list --db X` as well as `ledger --db X list`.
    ledger->add_subcommand("list", "One line per load: id, state, table, rows loaded, rejected")
        ->fallthrough();
    CLI::App* show = ledger->add_subcommand("show", "A load's table, state, rows and files");
    show->fallthrough();
    show->add_option("id", options.load_id, "The load's id (see list)")->required();
    CLI::App* forget = ledger->add_subcommand("forget", "Delete what the ledger holds of a load");
    forget->fallthrough();
    forget->add_option("id", options.load_id, "The load's id (see list)")->required();
    return ledger;
}

int run_ledger_command(const CLI::App& ledger_command, const LedgerCommandOptions& options) {
    try {
        return run(ledger_command, options);
    } catch (const LedgerUnavailable& e) {
        std::fprintf(stderr, "pgingest ledger: error: %s\n", e.what());
        return 2;
    } catch (const ConnectionError& e) {
        std::fprintf(stderr, "pgingest ledger: error: %s\n", e.what());
        return 3;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pgingest ledger: error: %s\n", e.what());
        return 1;
    }
}

}  // namespace pgingest::tools
