#pragma once

// The ledger of loads (issue 14, DESIGN.md "Row origins and the ledger"): which records of which
// source a load settled (stored, or refused by the server), written by each writer transaction
// in its epilogue, so it commits atomically with the rows. Writers commit out of order, so the
// ledger keeps sets of offset ranges, never a high-water mark. It lives in the target database,
// in a schema of its own (`pgingest` by default), created on first use:
//
//   <schema>.loads    load_id PK, target, target_oid (the table it began with), shape (how
//                     records became rows), started_at, finished_at (NULL until finished)
//   <schema>.sources  (load_id, source_no) PK, path, size_bytes, mtime_ns, hashed_bytes,
//                     head_xxh3, tail_xxh3: what a source was when the load began
//   <schema>.settled  load_id, source_no, rejected, ranges int8multirange, rows, xid,
//                     committed_at: one row per (transaction, source, loaded|rejected)
//   <schema>.rejects  (load_id, source_no, byte_offset) PK, length, table_index, sqlstate,
//                     message: each row the server refused, once (the key refuses a second)
//
// A record counts as settled when its first offset lies in a settled range of its source; what
// a resume must load is the complement of the settled ranges in the source's extent
// (`unsettled`). The exact table definitions are `ledger_schema_sql`.
//
// Concurrency: writer transactions take a shared transaction-level advisory lock (the load's
// "fence", in the prologue); `Ledger::begin_load` takes the fence exclusively once, so it reads
// the ledger only after every writer transaction of an earlier run of the load (a killed
// process's backend may still be committing) has ended. One run of a load at a time: `begin_load`
// holds a session advisory lock on the load until `finish_load` or the ledger's destruction.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/connection.hpp"
#include "engine/engine.hpp"
#include "engine/errors.hpp"
#include "engine/origin.hpp"

namespace pgingest {

/// The ledger could not be created or used because the role lacks a privilege (SQLSTATE 42501,
/// e.g. no CREATE on the database for `CREATE SCHEMA`, or no USAGE on an existing ledger
/// schema). The load can go on without a ledger: `what()` says which schema and why and names
/// the fix (`--ledger-schema` with a schema the role may write, or a GRANT).
class LedgerUnavailable : public Error {
  public:
    using Error::Error;
};

/// Another session runs the load (it holds the load's run lock): a second run of the same load
/// refuses. `what()` names the load and the backend pid holding it.
class LoadBusy : public Error {
  public:
    using Error::Error;
};

/// Ledger options; use designated initializers.
struct LedgerOptions {
    /// The schema holding the ledger's tables, as a name (quoted by the ledger, not by you).
    std::string schema = "pgingest";
};

/// What identifies a source file across runs (issue 14 point 3): its path, size, modification
/// time and the xxHash (XXH3-128, hex) of its first and last `hashed_bytes` bytes.
struct SourceIdentity {
    std::string path = {};
    std::uint64_t size_bytes = 0;
    /// st_mtim in nanoseconds since the epoch.
    std::int64_t mtime_ns = 0;
    /// min(size, 1 MiB): how many bytes each of the two hashes covers.
    std::uint64_t hashed_bytes = 0;
    /// XXH3-128 of bytes [0, hashed_bytes), 32 lowercase hex digits.
    std::string head_xxh3 = {};
    /// XXH3-128 of bytes [size - hashed_bytes, size), 32 lowercase hex digits.
    std::string tail_xxh3 = {};

    friend bool operator==(const SourceIdentity&, const SourceIdentity&) = default;
};

/// Reads the identity of the file at `path` (two reads of at most 1 MiB). With `as_size`, the
/// hashes are those of the file's first `as_size` bytes (`size_bytes` stays the file's), for
/// checking that a file only grew since `as_size`. Throws `Error` naming the path and errno's
/// text when it cannot be opened, stat'ed or read, or is shorter than `as_size`.
[[nodiscard]] SourceIdentity read_source_identity(const std::string& path,
                                                  std::optional<std::uint64_t> as_size = {});

/// How `now` differs from `before` as one sentence naming the first field that changed
/// ("size 120 bytes -> 130 bytes", "modification time ...", "content of the first 1048576
/// bytes"), or "" when they are equal. The path is not compared (a moved file is the same file).
[[nodiscard]] std::string describe_source_change(const SourceIdentity& before,
                                                 const SourceIdentity& now);

/// Whether the file at `path` only grew at its end since `before` was read: its
/// size is not smaller and its first `before.size_bytes` bytes hash as before (re-read from
/// `path`). What `--resume=append` accepts. Throws like `read_source_identity`.
[[nodiscard]] bool source_only_grew(const SourceIdentity& before, const std::string& path);

/// Where a load stands.
enum class LoadState : std::uint8_t {
    /// `finish_load` was called: every source was settled.
    finished,
    /// Not finished, and another session holds its run lock: a run is going on.
    running,
    /// Not finished and no session runs it: the run stopped (killed, failed); `--resume` it.
    interrupted,
};

/// A load as the ledger has it.
struct LoadRecord {
    std::string load_id = {};
    std::string target = {};
    LoadState state = LoadState::interrupted;
    /// The identities given to `begin_load`, by source number.
    std::vector<SourceIdentity> sources = {};
    /// Offsets of rows stored, and of rows the server refused, per source (disjoint when the
    /// rows' origins are).
    OriginRanges loaded = {};
    OriginRanges rejected = {};
    std::uint64_t rows_loaded = 0;
    std::uint64_t rows_rejected = 0;
    /// The table `target` names is not the one the load began with (its OID differs: dropped
    /// and created again, or gone): the rows the ledger says were stored are not in it.
    bool table_recreated = false;
    /// What `begin_load` or `reset_load` was given as `shape` ("" when none).
    std::string shape = {};
};

/// The offsets of `extent` (per source: what the source holds, e.g. [0, size)) that no range of
/// `settled` holds: what a resume must still load. Sorted, disjoint. Pure function.
[[nodiscard]] OriginRanges unsettled(std::span<const OriginRange> extent,
                                     const OriginRanges& settled);

/// `CREATE SCHEMA IF NOT EXISTS ...; CREATE TABLE IF NOT EXISTS ...` of the ledger in
/// `quoted_schema` (an identifier already quoted). Pure function.
[[nodiscard]] std::string ledger_schema_sql(std::string_view quoted_schema);

/// One rejected row waiting for its transaction's epilogue (what `RejectReport` said).
struct LedgerReject {
    RowOrigin origin = {};
    /// The row's table (`Engine::table(i)`).
    std::size_t table_index = 0;
    std::string sqlstate = {};
    std::string message = {};
};

/// At most this many ranges, and this many rejects, per epilogue statement: a transaction that
/// settles more sends several statements, each with parameters of bounded size.
inline constexpr std::size_t ledger_ranges_per_statement = 4096;
inline constexpr std::size_t ledger_rejects_per_statement = 512;

/// The epilogue statements recording what `view` settles for load `load_id` in the ledger in
/// `quoted_schema`: INSERTs into `settled` (one row per source and outcome, ranges as arrays)
/// and into `rejects` (`rejects`: the rows the view's `rejected` ranges stand for). None when
/// the view settles nothing. Throws `Error` when an offset exceeds INT64_MAX. Pure function.
[[nodiscard]] std::vector<Statement> ledger_statements(std::string_view quoted_schema,
                                                       std::string_view load_id,
                                                       const TransactionView& view,
                                                       std::span<const LedgerReject> rejects);

/// A connection to the ledger of one database, and the hooks that make an engine write to it.
/// Not thread-safe (one control connection); the hooks `attach` installs are.
class Ledger {
  public:
    /// Connects with `conninfo` and creates the ledger's schema and tables when missing (under a
    /// transaction-level advisory lock, so loads starting at once create them once). Throws
    /// `LedgerUnavailable` when the role may not create or use them, `ConnectionError` when the
    /// server cannot be reached, `ServerError` for other failures.
    Ledger(const std::string& conninfo, LedgerOptions options = {});
    ~Ledger();
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    /// Starts (or restarts) a run of load `load_id` into `target` with `sources` (source number
    /// = index): takes the load's run lock (throws `LoadBusy` when another session holds it),
    /// waits until every writer transaction of earlier runs has ended (the fence), then returns
    /// the load as it was before this run (nullopt for a new load, whose row and sources it
    /// inserts). The caller compares `sources` with the record's (`describe_source_change`).
    /// `shape`: the caller's text for what makes records into rows (format, pointer, mapping),
    /// kept with a new load and returned in `LoadRecord::shape`. Throws `ServerError`.
    std::optional<LoadRecord> begin_load(const std::string& load_id, const std::string& target,
                                         std::span<const SourceIdentity> sources,
                                         const std::string& shape = {});

    /// The load as the ledger has it now, nullopt when unknown. Throws `ServerError`.
    [[nodiscard]] std::optional<LoadRecord> read_load(const std::string& load_id);

    /// Marks the load finished, compacts its `settled` rows to one per source and outcome (the
    /// union of the ranges, the sum of the rows), and releases its run lock, in one
    /// transaction. Call once every writer stopped. Throws `ServerError`.
    void finish_load(const std::string& load_id);

    /// Releases the run lock of `load_id` without finishing it (the load stays interrupted).
    void end_run(const std::string& load_id);

    /// Starts load `load_id` over while this session holds its run lock (after `begin_load`
    /// returned a record): marks it unfinished, replaces its sources with `sources`, and, unless
    /// `keep_settled`, deletes what it settled and its rejects (`--reload`; `keep_settled`:
    /// `--resume=append` of a source that grew). One transaction. Throws `ServerError`.
    void reset_load(const std::string& load_id, const std::string& target,
                    std::span<const SourceIdentity> sources, bool keep_settled,
                    const std::string& shape = {});

    /// Records, in a transaction of its own on the control connection, that the rows or
    /// records of `rejects` of load `load_id` are settled as rejected (a `settled` row per
    /// source and a `rejects` row each): records refused before reaching the server, and rows
    /// the server refused whose transaction had nothing left to commit (no epilogue ran).
    /// Thread-safe: the one method that may be called from several threads at once (not
    /// concurrently with the others). Throws `ServerError` (23505 when a reject is already
    /// recorded), `ConnectionError`.
    void settle_alone(const std::string& load_id, std::span<const LedgerReject> rejects);

    /// The ids of every load the ledger holds, oldest first. Throws `ServerError`.
    [[nodiscard]] std::vector<std::string> load_ids();

    /// Deletes everything the ledger holds of `load_id`; returns whether it knew the load.
    bool forget(const std::string& load_id);

    /// Makes every writer transaction of an engine built with `callbacks` record what it settles
    /// for `load_id` in its epilogue, after any epilogue `callbacks` already had, and take the
    /// load's fence in its prologue. Wraps `on_reject` and `on_commit` (still calling the
    /// previous ones) to carry each refused row to its transaction's `rejects` row. Call before
    /// the engine is built; the hooks keep what they need alive without this object.
    ///
    /// When a writer reports refused rows with no epilogue since its last COMMIT (every pending
    /// row of a transaction was refused after a reconnect: the engine then commits without a
    /// transaction), the hooks hand them to `unrecorded` on that writer's thread, before the
    /// previous `on_commit` runs (e.g. `settle_alone`, which needs this object alive until the
    /// engine is closed); without `unrecorded` they are not recorded.
    void attach(const std::string& load_id, EngineCallbacks& callbacks,
                std::function<void(std::span<const LedgerReject>)> unrecorded = {}) const;

    /// A statement for a writer transaction's epilogue that fails (P0001, "load ID lost its run
    /// lock ...") unless this ledger's control session still holds the run lock of `load_id`:
    /// when the control connection dropped, the lock went with it and another run may have
    /// started, so nothing more may commit. Sent in the epilogue pipeline: no round trip of its
    /// own. Pure function of the load and the control connection's backend pid.
    [[nodiscard]] Statement run_lock_check(const std::string& load_id) const;

    /// The ledger's schema, quoted for SQL.
    [[nodiscard]] const std::string& quoted_schema() const noexcept { return _quoted_schema; }

  private:
    void create_schema();
    std::vector<SourceIdentity> read_sources(const std::string& load_id);
    void read_settled(LoadRecord& record);

    Connection _conn;
    std::mutex _settle_mutex;  ///< serializes `settle_alone`
    int _backend_pid = 0;      ///< of `_conn`
    std::string _schema;
    std::string _quoted_schema;
};

}  // namespace pgingest
