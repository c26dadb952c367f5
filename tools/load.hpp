#pragma once

// `pgingest load`: JSON records from files or stdin into one table through the engine.
//
// Threads: one reader (engine/input.hpp: reads, decompresses, splits into records) and as many
// fetchers as producers (they take its chunks, so a producer waits for input at most 100 ms
// and then hands over its partly filled batch once the flush interval passed), N producer
// threads (parse each record with simdjson, encode its tuple with the plan of
// codecs/load_plan.hpp into the engine's batch buffers), the engine's writers (COPY over
// io_uring), a progress printer, a lock watch (names the lock the writers wait for) and a
// signal watcher (SIGINT/SIGTERM). Every record read ends up loaded, in the rejects sink, or
// (when the load stopped early) not loaded: `rows_read = rows_loaded + rows_rejected +
// rows_not_loaded` on every exit, `rows_loaded` counted from the COMMITs once every writer
// stopped. The text of every record in flight is held until its row is committed or refused,
// so a row the server refuses is rejected with its line and text without reading any input
// twice.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codecs/load_plan.hpp"

namespace pgingest::tools {

/// Exit statuses of `pgingest load` (documented in `--help`).
enum class LoadExit : int {
    ok = 0,          ///< every record read was stored
    rejects = 1,     ///< the load finished; some records were rejected (see the rejects sink)
    usage = 2,       ///< bad flags, unknown table or column, unreadable file: nothing written
    connection = 3,  ///< the server could not be reached, or was lost for too long
    max_errors = 4,  ///< more rejects than --max-errors: stopped; rows committed before stay
    failed = 5,      ///< any other failure (a server error that ends the load, an I/O error)
    /// a first SIGINT/SIGTERM: reading stopped, the rows in flight were committed or rejected.
    /// (A second signal ends the process at once with 128 + the signal's number: 130, 143.)
    interrupted = 6,
};

/// Options of `pgingest load`, as the command line gives them.
struct LoadOptions {
    std::optional<std::string> db;  ///< --db conninfo or URI; empty: PG*, DATABASE_URL, local
    std::string table;
    std::vector<std::string> files;  ///< "-" for stdin; none means stdin
    std::string format = "auto";     ///< auto | ndjson | json-array | document
    std::string pointer;             ///< --pointer; "" = default records of the format
    MappingOptions mapping;
    std::size_t workers = 2;  ///< writer connections
    std::size_t threads = 0;  ///< producer (parse + encode) threads; 0 = one per core
    std::size_t batch_bytes = std::size_t{1} << 20;
    std::uint64_t txn_bytes = std::uint64_t{64} << 20;
    std::size_t memory_bytes = std::size_t{64} << 20;  ///< the engine's batch budget
    /// --max-record-bytes: longer records are rejects (InputOptions::max_record_bytes)
    std::size_t max_record_bytes = std::size_t{256} << 20;
    std::string io = "uring";                          ///< uring | libpq
    std::string rejects;  ///< rejects file (NDJSON); empty: rejects go to stderr
    std::uint64_t max_errors = UINT64_MAX;
    /// --lock-timeout: how long a writer waits for a lock on the table ("0": forever); a
    /// duration such as 500ms, 2s, 1min (no unit: seconds)
    std::string lock_timeout = "0";
    /// --reconnect-timeout: how long a lost connection is retried before exit 3 (a duration)
    std::string reconnect_timeout = "60s";
    std::string summary = "text";   ///< text | json
    std::string nul = "error";      ///< error | strip | replace: \u0000 in json/jsonb
    std::string progress = "auto";  ///< auto (on a terminal) | always | never
    bool quiet = false;
    bool dry_run = false;
    /// --no-ledger turns it off: the load records nothing and skips nothing (tools/load_ledger)
    bool ledger = true;
    std::string ledger_schema = "pgingest";  ///< --ledger-schema
    std::string load_id;                     ///< --load-id; "": derived from table and files
    std::string resume;                      ///< --resume: "" (not given) | strict | append
    bool reload = false;                     ///< --reload: load a known load's sources again
};

/// What a load did; also the fields of `--summary json`.
struct LoadSummary {
    std::uint64_t rows_read = 0;      ///< records read (malformed ones included)
    std::uint64_t rows_loaded = 0;    ///< rows committed (the server's COPY counts)
    std::uint64_t rows_rejected = 0;  ///< records in the rejects sink
    /// records read whose row was not committed when the load stopped (a failure, a signal,
    /// --max-errors): rolled back, or never sent
    std::uint64_t rows_not_loaded = 0;
    /// records not read again because an earlier run of the load settled them (--resume)
    std::uint64_t rows_skipped_settled = 0;
    std::string load_id;           ///< the ledger's id of the load; "" without a ledger
    std::uint64_t bytes_read = 0;  ///< input bytes after decompression
    double seconds = 0;
    bool interrupted = false;  ///< a SIGINT/SIGTERM stopped the load
    LoadExit exit = LoadExit::ok;
    /// the message when `exit` is usage, connection, max_errors, failed or interrupted
    std::string error;

    /// `--summary json`: one JSON object (rows_read, rows_loaded, rows_rejected,
    /// rows_not_loaded, rows_skipped_settled, load_id (null without a ledger), bytes_read,
    /// seconds, rows_per_s, mb_per_s, interrupted, exit_code, error).
    [[nodiscard]] std::string to_json() const;
    /// `--summary text`: a few lines for people.
    [[nodiscard]] std::string to_text(const std::string& table) const;
};

/// Runs a load. Never throws: failures are in the summary (exit and error), and messages for
/// people go to stderr (unless `quiet`). Prints the summary to stdout as `options.summary`
/// says (with `quiet`, only a JSON summary). One thread; starts its own.
LoadSummary run_load(const LoadOptions& options);

}  // namespace pgingest::tools
