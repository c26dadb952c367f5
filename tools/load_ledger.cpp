#include "tools/load_ledger.hpp"

#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>

namespace pgingest::tools {

namespace {

bool explicit_ledger(const LoadOptions& options) {
    return !options.load_id.empty() || !options.resume.empty() || options.reload;
}

/// Refuses flags that do not go together, before anything is opened.
void check_flags(const LoadOptions& options) {
    if (!options.ledger && explicit_ledger(options)) {
        throw std::invalid_argument(
            "--no-ledger cannot be combined with --load-id, --resume or --reload (they need the "
            "ledger)");
    }
    if (options.reload && !options.resume.empty()) {
        throw std::invalid_argument(
            "--reload and --resume exclude each other: --reload loads every record again, "
            "--resume only those not yet settled");
    }
    if (!options.resume.empty() && options.resume != "strict" && options.resume != "append") {
        throw std::invalid_argument("--resume=" + options.resume + ": expected strict or append");
    }
}

/// The file that keeps a load from having a ledger (stdin, a pipe, a device), or "".
std::string not_regular(std::span<const std::string> files) {
    if (files.empty()) {
        return "-";
    }
    for (const std::string& file : files) {
        struct stat st {};
        if (file == "-" || ::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            return file;
        }
    }
    return "";
}

/// The default load id: the table and the real paths of the files, hashed, so the same command
/// names the same load wherever it is run from.
std::string derived_load_id(const std::string& target, std::span<const std::string> files) {
    std::string key = target;
    for (const std::string& file : files) {
        std::error_code error;
        std::filesystem::path real = std::filesystem::canonical(file, error);
        key += '\0';
        key += error ? file : real.string();
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(XXH3_64bits(key.data(), key.size())));
    return target + ":" + hex;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    char text[16];
    std::snprintf(
        text, sizeof text, "%.0f%%",
        whole == 0 ? 100.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole));
    return text;
}

/// How far an interrupted load got: records settled, and per file the bytes settled.
std::string progress_of(const LoadRecord& record, const OriginRanges& settled) {
    std::string text = std::to_string(record.rows_loaded + record.rows_rejected) +
                       " records settled (" + std::to_string(record.rows_loaded) + " loaded, " +
                       std::to_string(record.rows_rejected) + " rejected)";
    for (std::size_t no = 0; no < record.sources.size(); no++) {
        const SourceIdentity& source = record.sources[no];
        std::uint64_t bytes = 0;
        for (const OriginRange& range : settled.ranges(static_cast<std::uint32_t>(no))) {
            bytes +=
                std::min(range.end, source.size_bytes) - std::min(range.first, source.size_bytes);
        }
        text += "; " + source.path + ": " + std::to_string(bytes) + " of " +
                std::to_string(source.size_bytes) + " bytes settled (" +
                percent(bytes, source.size_bytes) + ")";
    }
    return text;
}

/// The first file whose identity changed since `record` was made, with what changed; nullopt
/// when none did. A different number of files is a change of the first missing one.
std::optional<std::pair<std::string, std::string>> first_change(
    const LoadRecord& record, std::span<const SourceIdentity> now) {
    if (record.sources.size() != now.size()) {
        return std::pair<std::string, std::string>{
            now.empty() ? std::string("-") : now[0].path,
            "the load had " + std::to_string(record.sources.size()) + " files, this run names " +
                std::to_string(now.size())};
    }
    for (std::size_t no = 0; no < now.size(); no++) {
        std::string change = describe_source_change(record.sources[no], now[no]);
        if (!change.empty()) {
            return std::pair<std::string, std::string>{now[no].path, change};
        }
    }
    return std::nullopt;
}

const char* const reload_hint = "--reload loads every record again";

/// Whether every changed file of `record` only grew at its end (what --resume=append
/// accepts); throws `LoadRefused` naming the first that did not.
void check_appended(const LoadRecord& record, std::span<const SourceIdentity> now) {
    if (record.sources.size() != now.size()) {
        throw LoadRefused(LoadExit::usage,
                          "cannot resume load " + record.load_id +
                              " with --resume=append: " + first_change(record, now)->second +
                              "; nothing written. " + reload_hint);
    }
    for (std::size_t no = 0; no < now.size(); no++) {
        std::string change = describe_source_change(record.sources[no], now[no]);
        if (!change.empty() && !source_only_grew(record.sources[no], now[no].path)) {
            throw LoadRefused(LoadExit::usage, "cannot resume load " + record.load_id +
                                                   " with --resume=append: " + now[no].path +
                                                   " did not only grow at its end (" + change +
                                                   "); nothing written. " + reload_hint);
        }
    }
}

}  // namespace

LoadLedger::LoadLedger(std::unique_ptr<Ledger> ledger, std::string load_id)
    : _ledger(std::move(ledger)), _load_id(std::move(load_id)) {}

LoadLedger::~LoadLedger() {
    if (!_ended) {
        try {
            _ledger->end_run(_load_id);
        } catch (const std::exception&) {
            // The run lock goes with the connection, closed next.
        }
    }
}

namespace {

/// How this run makes records into rows: the flags that decide which rows a record gives (its
/// format, pointer and mapping), one `flag=value` per line. A run with another shape would
/// settle other rows under the same load: `decide` refuses it.
std::string load_shape(const LoadOptions& options) {
    std::string shape = "--format=" + options.format + "\n--pointer=" + options.pointer;
    auto add = [&shape](const char* flag, const std::vector<std::string>& values) {
        for (const std::string& value : values) {
            if (!value.empty()) {
                shape += std::string("\n") + flag + "=" + value;
            }
        }
    };
    add("--map", options.mapping.maps);
    add("--set", options.mapping.sets);
    add("--skip", options.mapping.skips);
    add("--document-column", {options.mapping.document_column});
    add("--rest-column", {options.mapping.rest_column});
    add("--nul", {options.nul});
    return shape;
}

/// `shape` for a message: its lines joined by spaces.
std::string one_line(std::string shape) {
    std::replace(shape.begin(), shape.end(), '\n', ' ');
    return shape;
}

/// What the ledger knew of the load decides whether and how this run goes on (the table of the
/// header's comment). Returns the records to skip; throws `LoadRefused`.
OriginRanges decide(Ledger& ledger, const LoadOptions& options, const LoadRecord& record,
                    const std::string& target, std::span<const SourceIdentity> now) {
    const std::string shape = load_shape(options);
    if (!record.shape.empty() && record.shape != shape && !options.reload) {
        throw LoadRefused(LoadExit::usage,
                          "load " + record.load_id + " ran with other flags (" +
                              one_line(record.shape) + "; now " + one_line(shape) +
                              "); nothing written. Run it with the same flags, or " +
                              reload_hint);
    }
    if (record.table_recreated && !options.reload) {
        // Another OID: dropped and created again (its rows are gone), or restored from a dump
        // or swapped in by a rename (its rows may all be there). Only the user knows which.
        throw LoadRefused(LoadExit::usage,
                          "table " + target + " is not the table load " + record.load_id +
                              " ran into (its OID changed: dropped and created again, or "
                              "restored from a dump); nothing written. If the rows it loaded "
                              "are gone, " + reload_hint);
    }
    OriginRanges settled = record.loaded;
    settled.add(record.rejected);
    std::optional<std::pair<std::string, std::string>> change = first_change(record, now);
    if (options.reload || (settled.empty() && options.resume.empty())) {
        ledger.reset_load(record.load_id, target, now, false, shape);  // none stored, --reload
        return {};
    }
    const std::string& id = record.load_id;
    const std::string changed =
        change ? change->first + " changed since (" + change->second + ")" : "";
    const std::string append_hint =
        "--resume=append loads what was appended to an NDJSON file that only grew; ";
    if (options.resume.empty()) {
        if (change) {
            throw LoadRefused(LoadExit::usage, "load " + id + " ran before, but " + changed +
                                                   "; nothing written. " + append_hint +
                                                   reload_hint);
        }
        if (record.state == LoadState::finished) {
            throw LoadRefused(LoadExit::ok, "load " + id + " already finished (" +
                                                std::to_string(record.rows_loaded) +
                                                " rows loaded, " +
                                                std::to_string(record.rows_rejected) +
                                                " rejected): nothing to do; " + reload_hint);
        }
        throw LoadRefused(LoadExit::usage,
                          "load " + id + " was interrupted: " + progress_of(record, settled) +
                              ". Nothing written: run again with --resume to load the records "
                              "not yet settled, or --reload to load every record again");
    }
    if (change && options.resume == "strict") {
        throw LoadRefused(LoadExit::usage, "cannot resume load " + id + ": " + changed +
                                               "; nothing written. " + append_hint + reload_hint);
    }
    if (change) {
        check_appended(record, now);
        ledger.reset_load(id, target, now, true, shape);  // the appended records are next
    } else if (record.state == LoadState::finished) {
        throw LoadRefused(LoadExit::ok, "load " + id + " already finished (" +
                                            std::to_string(record.rows_loaded) + " rows loaded, " +
                                            std::to_string(record.rows_rejected) +
                                            " rejected): nothing to resume; " + reload_hint);
    }
    return settled;
}

/// Connects to the ledger; nullptr (after a warning) when it cannot be created and nothing
/// asked for it.
std::unique_ptr<Ledger> connect_ledger(const LoadOptions& options, const std::string& conninfo) {
    try {
        return std::make_unique<Ledger>(conninfo, LedgerOptions{.schema = options.ledger_schema});
    } catch (const LedgerUnavailable& e) {
        if (explicit_ledger(options)) {
            throw LoadRefused(LoadExit::usage,
                              std::string(e.what()) +
                                  "; --load-id, --resume and --reload need the ledger: nothing "
                                  "written");
        }
        if (!options.quiet) {
            std::fprintf(stderr,
                         "pgingest load: warning: %s; loading without a ledger: a re-run cannot "
                         "tell what this run loaded\n",
                         e.what());
        }
        return nullptr;
    }
}

}  // namespace

std::unique_ptr<LoadLedger> LoadLedger::open(const LoadOptions& options,
                                             const std::string& conninfo, const std::string& target,
                                             std::span<const std::string> files) {
    check_flags(options);
    if (!options.ledger) {
        return nullptr;
    }
    std::string stream = not_regular(files);
    if (!stream.empty()) {
        if (explicit_ledger(options)) {
            throw std::invalid_argument(
                "--load-id, --resume and --reload need regular files: " +
                (stream == "-" ? std::string("stdin") : stream) +
                " has no identity a later run could check (loads from it keep no ledger)");
        }
        return nullptr;
    }
    std::vector<SourceIdentity> now;
    for (const std::string& file : files) {
        now.push_back(read_source_identity(file));
    }
    std::unique_ptr<Ledger> ledger = connect_ledger(options, conninfo);
    if (!ledger) {
        return nullptr;
    }
    std::string load_id =
        options.load_id.empty() ? derived_load_id(target, files) : options.load_id;
    std::optional<LoadRecord> before;
    try {
        before = ledger->begin_load(load_id, target, now, load_shape(options));
    } catch (const LoadBusy& e) {
        throw LoadRefused(LoadExit::usage, std::string(e.what()) + "; nothing written");
    }
    std::unique_ptr<LoadLedger> run(new LoadLedger(std::move(ledger), load_id));
    if (!before && !options.resume.empty()) {
        run->_ledger->forget(load_id);
        throw LoadRefused(LoadExit::usage, "cannot resume load " + load_id +
                                               ": the ledger (schema " + options.ledger_schema +
                                               ") has no such load; nothing written. Run without "
                                               "--resume to start it");
    }
    if (before) {
        run->_settled = decide(*run->_ledger, options, *before, target, now);
    }
    return run;
}

void LoadLedger::attach(EngineCallbacks& callbacks) {
    _ledger->attach(_load_id, callbacks, [this](std::span<const LedgerReject> rejects) {
        _ledger->settle_alone(_load_id, rejects);
    });
    // Nothing commits once the run lock is lost (its connection dropped): another run may
    // have taken the load and read the ledger already.
    auto ledger_epilogue = std::move(callbacks.transaction.epilogue);
    callbacks.transaction.epilogue = [check = _ledger->run_lock_check(_load_id),
                                      ledger_epilogue](const TransactionView& view) {
        std::vector<Statement> statements = ledger_epilogue(view);
        statements.push_back(check);
        return statements;
    };
}

void LoadLedger::settle_client(std::span<const LedgerReject> rejects) {
    _ledger->settle_alone(_load_id, rejects);
}

void LoadLedger::end(bool finished, bool quiet) {
    _ended = true;
    try {
        if (finished) {
            _ledger->finish_load(_load_id);
        } else {
            _ledger->end_run(_load_id);
        }
    } catch (const std::exception& e) {
        if (!quiet) {
            std::fprintf(stderr,
                         "pgingest load: warning: the ledger could not record the end of load "
                         "%s (%s); its rows are committed, a --resume finds nothing left to "
                         "load\n",
                         _load_id.c_str(), e.what());
        }
    }
}

}  // namespace pgingest::tools
