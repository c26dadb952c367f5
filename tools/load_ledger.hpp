#pragma once

// The ledger of `pgingest load` (issue 14): what the flags --ledger-schema, --load-id,
// --resume[=append], --reload and --no-ledger do, on top of engine/ledger.hpp.
//
// Every load of regular files records, in the same transaction as its rows, which records of
// which file it settled (stored, or refused by the server), and records the records pgingest
// refused itself in transactions of their own before they are reported. A load is named by
// --load-id, else by its table and the real paths of its files. Before anything is read:
//
//   load unknown                      a new load: recorded, then loaded
//   load finished, files unchanged    "already finished", exit 0, nothing written (--reload:
//                                     forget what it settled and load every record again)
//   load interrupted, nothing settled started again from the start (nothing was stored)
//   load interrupted, some settled    exit 2 naming how far it got, unless --resume: then the
//                                     records not yet settled are loaded
//   a file changed (size, mtime,      exit 2 naming the file and what changed; --resume=append
//   first or last MiB)                accepts a file that only grew at its end (NDJSON)
//   another run holds the load        exit 2 (`LoadBusy`)
//
// stdin, pipes and other files that are not regular keep no ledger (they have no identity a
// later run could check; streams with offsets are issue 14 point 4): such a load runs without
// one, and --load-id, --resume or --reload with them is a usage error. When the ledger cannot
// be created (no CREATE privilege) the load goes on without it after a warning, unless
// --load-id, --resume or --reload asked for it (exit 2).

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/ledger.hpp"
#include "tools/load.hpp"

namespace pgingest::tools {

/// The ledger decided the load does not run: `exit` is ok when it finished before (nothing to
/// do), usage otherwise; `what()` is the message for people (it says nothing was written).
class LoadRefused : public std::runtime_error {
  public:
    LoadRefused(LoadExit exit, const std::string& message)
        : std::runtime_error(message), _exit(exit) {}
    [[nodiscard]] LoadExit exit() const noexcept { return _exit; }

  private:
    LoadExit _exit;
};

/// One run of a load with its ledger: holds the load's run lock from `open` until `end` (or
/// destruction, which leaves the load interrupted). `settled` may be called from any thread;
/// `settle_client` from producer threads; the rest from the load's own thread.
class LoadLedger {
  public:
    /// Opens the ledger of a load of `files` into `target` (the table's qualified name) as
    /// `options` say, and decides as the file comment says. Returns nullptr when the load runs
    /// without a ledger (--no-ledger, stdin or a file that is not regular, or a ledger that
    /// cannot be created: then a warning goes to stderr unless --quiet). Throws `LoadRefused`,
    /// `std::invalid_argument` for flags that do not go together, `ConnectionError`, `Error`.
    static std::unique_ptr<LoadLedger> open(const LoadOptions& options, const std::string& conninfo,
                                            const std::string& target,
                                            std::span<const std::string> files);

    LoadLedger(const LoadLedger&) = delete;
    LoadLedger& operator=(const LoadLedger&) = delete;
    ~LoadLedger();

    /// The load's id in the ledger.
    [[nodiscard]] const std::string& load_id() const noexcept { return _load_id; }

    /// Whether an earlier run settled the record of source `source` starting at `byte_offset`
    /// (it is skipped: neither loaded nor reported again). O(log ranges); thread-safe.
    [[nodiscard]] bool settled(std::uint32_t source, std::uint64_t byte_offset) const noexcept {
        return _settled.contains(source, byte_offset);
    }

    /// Makes the engine built with `callbacks` record what each transaction settles (rows
    /// refused in a transaction that had nothing left to commit are recorded on their own).
    void attach(EngineCallbacks& callbacks);

    /// Records `rejects` (records refused before reaching the server; origin length 1,
    /// sqlstate "") as settled, in a transaction of their own: call before reporting them.
    /// Thread-safe. Throws `ServerError`, `ConnectionError`.
    void settle_client(std::span<const LedgerReject> rejects);

    /// Ends the run: `finished` (every record of every file was read and settled) marks the
    /// load finished; otherwise it stays interrupted for a later --resume. Releases the run
    /// lock. A failure is a warning on stderr (the load's rows are committed either way).
    void end(bool finished, bool quiet);

  private:
    LoadLedger(std::unique_ptr<Ledger> ledger, std::string load_id);

    std::unique_ptr<Ledger> _ledger;
    std::string _load_id;
    OriginRanges _settled;
    bool _ended = false;
};

}  // namespace pgingest::tools
