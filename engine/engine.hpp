#pragma once

// The engine's data path (DESIGN.md "Data flow"): producer threads encode tuples into batch
// buffers taken from a fixed pool; full batches go through a lock-free queue (moodycamel) to
// writer threads, one connection each, that stream them into `COPY ... FROM STDIN (FORMAT
// binary)` inside transactions spanning many batches. A batch goes back to the pool only after
// the COMMIT that holds it succeeded.
//
// Batch buffer layout: the CopyData header is reserved in front, so a batch is sent as it is.
//
//   ['d':u8][length:i32][tuple]...[tuple]          tuples: codecs/copy_binary.hpp
//
// Each batch is one COPY inside a savepoint of a transaction spanning many batches. Rows the
// server refuses (class 22/23, or an error naming a row: constraint, trigger, a value it
// rejects) are isolated after the fact, at a cost proportional to the batch: the savepoint is
// rolled back and the batch split, at the row the server's CONTEXT names (`COPY t, line N`, in
// any language: only a hint) or in halves; a row is rejected only once a COPY of that row alone
// was refused, and reported to the rejects callback with SQLSTATE and message. After refusals,
// COPYs shrink (about 0.2 / refusal rate rows) so few dead tuples are left. Errors are sorted by
// SQLSTATE class, never by text (`ErrorMeaning`): a lost connection or a server in trouble
// (57P01-57P03, 53300, 58030, XX000 naming no row) is retried with backoff, a deadlock or
// serialization failure runs the transaction again, anything else ends the load: rows of the
// failed transaction are not stored, and `flush`/`close` throw the error.
//
// Each transaction follows the protocol of engine/transaction.hpp (DESIGN.md "A writer
// transaction"): BEGIN and the caller's prologue go with the first COPY; each batch is COPYed
// into its table, or into a per-connection staging table (`StagingTarget`); the caller's epilogue
// statements (`TransactionHooks::epilogue`, with text parameters) are sent with COMMIT as one
// libpq pipeline, one round trip, and commit atomically with the rows. 40001 / 40P01 in the
// epilogue run the whole transaction again; a data error there ends the load (`EpilogueError`).
//
// One engine, one writer pool, several target tables (issue 12 point 6): each table has its own
// catalog info (`Engine::table(i)`), a producer is bound to one table (`Engine::producer(i)`), a
// batch holds rows of one table, and a transaction may hold batches of several tables, each in
// its own COPY naming its table. Reports name the table of each row.
//
// A lost connection (server crash or restart, pg_terminate_backend, network) is re-established
// with bounded exponential backoff and every row not yet committed is sent again; past
// `reconnect_timeout_ms` the load fails with `ReconnectFailed` (a `ConnectionError`). When the
// connection is lost during COMMIT, the writer asks the server (`txid_status`) whether that
// transaction committed before re-sending, so no row is stored twice, but only when no crash
// restart can have handed its transaction id out again (the latest checkpoint tells, see
// engine/transaction.cpp lost_commit_verdict); `CommitInDoubt` when the server cannot tell.
//
// Fields are written with the typed row API (codecs/row_writer.hpp: one checked call per column)
// or straight with the codecs (codecs/*.hpp) in COPY column order.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "codecs/buffer.hpp"
#include "engine/catalog.hpp"
#include "engine/copy_stream.hpp"
#include "engine/origin.hpp"
#include "engine/transaction.hpp"

namespace pgingest {

/// What a producer gets when every batch buffer of the pool is in use.
enum class WhenFull : std::uint8_t {
    block,   ///< wait for a writer to return one
    reject,  ///< `Producer::begin_row` returns nullptr ("would block") at once
};

/// How isolation uses the row the server's CONTEXT names (`COPY t, line N`). Only `use` is
/// for production; the others exist for tests, to prove that isolation never trusts the hint.
enum class IsolationHint : std::uint8_t {
    use,          ///< start from the named row; verify it alone; bisect once a hint was wrong
    ignore,       ///< bisect only (as for an error without CONTEXT)
    later_row,    ///< test only: take the row after the named one (as Citus names the line read)
    earlier_row,  ///< test only: take the row before the named one
};

/// Engine options; use designated initializers. Sizes in bytes, times in milliseconds.
struct EngineOptions {
    /// Writer connections (and threads), each running its own COPY.
    std::size_t writers = 2;
    /// A batch is handed to the writers once its tuples reach this size. A single tuple larger
    /// than this grows its batch to fit.
    std::size_t batch_bytes = std::size_t{1} << 20;
    /// Memory for batch buffers: the pool holds max(2, memory_budget_bytes / batch_bytes) of them.
    /// Batches stay in memory until their COMMIT, so a writer also commits once it holds
    /// 1 / (writers + 1) of the pool: the budget bounds the transaction size too. A batch grown
    /// past `batch_bytes` by large tuples holds as many free batches as its size is worth (up to
    /// half the pool) until its COMMIT, and is shrunk back after: whatever the tuple sizes, the
    /// batches hold at most about twice the budget (`EngineStats::ballast_batches`).
    std::size_t memory_budget_bytes = std::size_t{64} << 20;
    /// A writer commits once its transaction holds this many bytes of tuples...
    std::uint64_t txn_bytes_max = std::uint64_t{64} << 20;
    /// ...or this many rows (0: no row limit)...
    std::uint64_t txn_rows_max = 0;
    /// ...or once its oldest row was encoded this long ago; also how long a producer keeps a
    /// partly filled batch before handing it over (checked at `end_row` and `submit_if_due`).
    /// The bound on delay for streaming use: a row is committed about this long after it was
    /// encoded, plus one COMMIT.
    std::uint32_t flush_interval_ms = 1000;
    WhenFull when_full = WhenFull::block;
    CopyIo io = CopyIo::uring;
    /// The load fails once more rows than this were rejected by the server.
    std::uint64_t rejects_max = UINT64_MAX;
    /// `SET lock_timeout` on every writer connection (ms, 0: wait forever, the server's
    /// default): a COPY that waits longer for a lock on the table fails with SQLSTATE 55P03,
    /// which ends the load.
    std::uint32_t lock_timeout_ms = 0;
    /// How long a writer keeps trying to reconnect (backoff 50 ms doubling to 2 s) before the
    /// load fails; also how long it re-runs a transaction after transient errors, 40001, 40P01.
    std::uint32_t reconnect_timeout_ms = 60'000;
    /// Once a COPY into a table is refused for a duplicate key (SQLSTATE 23505) and duplicates
    /// come at 1 % of the rows or more, the writer copies its next batches for that table
    /// into a temp table of its connection and moves them with `INSERT ... ON CONFLICT
    /// (<primary key>) DO NOTHING`, then sends each row that INSERT skipped alone, so the server
    /// refuses it with its own message; back to plain COPYs when duplicates become rarer. Only
    /// for a plain or partitioned table with a primary key among the loaded columns, no rule,
    /// no user trigger (detail::staged_key_sql); other tables are isolated by COPYs alone.
    /// At 5 % duplicates: about 4 statements per batch and one per duplicate instead of COPYs of
    /// 8 rows, 2.5x faster, 8x fewer dead tuples (bench/RESULTS.md).
    bool stage_duplicate_keys = true;
    /// For tests: how isolation uses the server's CONTEXT hint (see `IsolationHint`).
    IsolationHint isolation_hint = IsolationHint::use;
};

/// Counters, all monotonic; read with `Engine::stats` from any thread.
struct EngineStats {
    std::uint64_t rows_submitted = 0;  ///< rows in batches handed to the writers
    std::uint64_t rows_committed = 0;  ///< rows whose COMMIT succeeded (checked against `COPY n`)
    std::uint64_t rows_rejected = 0;   ///< rows the server refused, reported to the callback
    std::uint64_t batches_committed = 0;
    std::uint64_t transactions_committed = 0;
    std::uint64_t bytes_sent = 0;  ///< CopyData bytes sent, headers included
    std::uint64_t reconnects = 0;  ///< connections re-established after a loss
    /// COPY statements run: one per batch, more while refused rows are isolated
    std::uint64_t copies = 0;
    /// times a producer found no free batch buffer (and waited, or got "would block")
    std::uint64_t producer_waits = 0;
    /// pool batches held as ballast by batches grown past the pool's batch size (tuples larger
    /// than `batch_bytes`), so that such batches count for their size in the memory budget
    std::uint64_t ballast_batches = 0;
    /// times a writer waited for the server's answer: connection setup statements, each COPY
    /// (its start with the statements before it, its end), a pipeline of COPYs while refused
    /// rows are isolated, each commit pipeline (epilogue and COMMIT together), each ROLLBACK and
    /// txid_status query: what refused rows and transactions cost on a network
    std::uint64_t round_trips = 0;
    /// rows sent in COPY data, re-sends included: beyond `rows_submitted`, what isolation of
    /// refused rows and retried transactions sent again
    std::uint64_t copy_rows_sent = 0;
    /// batches (or pieces) moved from a writer's stage by `INSERT ... ON CONFLICT DO NOTHING`
    /// after duplicate keys (`EngineOptions::stage_duplicate_keys`); each also counts one COPY
    std::uint64_t staged_inserts = 0;
};

/// Reported after each COMMIT that settled rows, on the writer thread that committed it: the
/// rows it stored, and the rows of its batches the server refused (each reported before with
/// `on_reject`, on this same thread). Every row stored or refused is settled by exactly one
/// report: what a ledger records for this transaction (issue 14) is `loaded` and `rejected`.
/// (A row refused in a transaction that never commits, because the load failed, is reported by
/// `on_reject` only.)
/// Ranges are exact: an offset lies in `loaded` when a stored row's origin
/// [offset, offset + length) holds it, and in no other case; `loaded` and `rejected` are
/// disjoint when the rows' origins do not overlap. The spans are valid during the callback only.
struct CommitReport {
    std::size_t writer_index = 0;
    std::uint64_t rows = 0;           ///< rows this COMMIT made durable
    std::uint64_t rows_rejected = 0;  ///< rows of this transaction's batches the server refused
    /// The origins of the `rows` stored rows as ranges per source, sorted by (source, first),
    /// disjoint, touching ones merged (`OriginRanges::ranges`).
    std::span<const OriginRange> loaded;
    /// The origins of the `rows_rejected` refused rows, as `loaded`.
    std::span<const OriginRange> rejected;
    /// Each stored row's origin (given to `end_row`), as runs in the batches: `rows` origins in
    /// all, in no particular order across runs.
    std::span<const std::span<const RowOrigin>> origins;
    /// The table index (`Engine::table(i)`) of each run of `origins`: same size as `origins`.
    std::span<const std::size_t> tables = {};
};

/// A row the server refused; reported on the writer thread, before the COMMIT of its neighbours.
struct RejectReport {
    std::size_t writer_index = 0;
    RowOrigin origin;             ///< the producer's origin of the row, given to `end_row`
    std::size_t table_index = 0;  ///< the row's table (`Engine::table(i)`)
    std::string sqlstate;         ///< e.g. "23505"
    std::string message;          ///< the server's message with DETAIL and CONTEXT
};

/// Callbacks of an engine; each may be empty. Called on writer threads, so they must be
/// thread-safe; they must not call back into the engine.
struct EngineCallbacks {
    std::function<void(const CommitReport&)> on_commit;
    std::function<void(const RejectReport&)> on_reject;
    /// Prologue, staging targets and epilogue of every writer transaction (transaction.hpp).
    TransactionHooks transaction = {};
};

/// The statements each writer connection runs once connected (and again after a reconnect):
/// `SET lock_timeout` when `options.lock_timeout_ms` is set; when the database has the citus
/// extension (`has_citus`: pg_extension lists it, read once when the engine opens)
/// `SET citus.max_adaptive_executor_pool_size = 1`, without which every COMMIT makes Citus
/// open about 16 connections per worker (issue 12, measured on Citus 13.2). Pure function.
[[nodiscard]] std::vector<std::string> writer_session_statements(const EngineOptions& options,
                                                                 bool has_citus);

namespace detail {
struct Batch;
struct EngineState;
}  // namespace detail

class Engine;

/// One producer's handle: encodes tuples into its own batch buffer. Use from one thread at a
/// time; each producer thread takes its own from `Engine::producer`. Must not outlive its engine.
class Producer {
  public:
    Producer(Producer&&) noexcept;
    Producer& operator=(Producer&&) = delete;
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;
    /// Hands over a partly filled batch (without waiting for its commit).
    ~Producer();

    /// Starts a tuple: writes its field count and returns the buffer to encode every field into,
    /// in COPY column order: with a `RowWriter` (`writer.begin(*out)`, one checked call per
    /// column), or with the codecs directly. Returns nullptr when the engine was opened with
    /// `WhenFull::reject` and no batch buffer is free. Throws the engine's error once a writer
    /// failed. No allocation in steady state.
    [[nodiscard]] ByteBuffer* begin_row();

    /// Ends the tuple begun by `begin_row`; `origin` is where the row came from (a source and
    /// the record's byte offset, or a channel and a sequence number: engine/origin.hpp), reported
    /// back with commits (`CommitReport`) and rejects. May hand the batch to the writers.
    void end_row(RowOrigin origin);

    /// Drops the tuple begun by `begin_row` (after an encoder reported a bad value).
    void cancel_row() noexcept;

    /// Hands over the partly filled batch if `flush_interval_ms` has passed since its first
    /// row, without waiting for its commit. `end_row` checks this only when a row comes: a
    /// producer whose input went quiet calls this while it waits, so rows already encoded are
    /// committed within the flush interval. Returns whether a batch was handed over. Throws the
    /// engine's error once a writer failed. Not between `begin_row` and `end_row`.
    bool submit_if_due();

    /// Hands over the partly filled batch and waits until every row this producer (and any
    /// other) submitted before the call is committed. Throws the writers' first error.
    void flush();

  private:
    friend class Engine;
    Producer(detail::EngineState& state, std::size_t table_index)
        : _state(&state), _table_index(table_index) {}
    void submit_batch();

    detail::EngineState* _state;
    std::size_t _table_index;
    detail::Batch* _batch = nullptr;
    std::size_t _row_start = 0;
};

/// The engine for one or more target tables: a pool of batch buffers, a queue, and `writers`
/// writer threads with a connection each, shared by every table. Connections are opened in the
/// constructor, which throws `ConnectionError` when the server cannot be reached (and, for a
/// staging table whose `create_sql` fails, `ServerError`). `producer`, `flush`, `stats` may be
/// called from any thread; `close` from one.
class Engine {
  public:
    /// One target table: `table(0)`.
    Engine(const std::string& conninfo, TableInfo table, EngineOptions options = {},
           EngineCallbacks callbacks = {});

    /// Several target tables, `table(i)` = `tables[i]`, each with its own columns; at least
    /// one. Throws `Error` for hooks that do not fit them (see `TransactionHooks::staging`).
    Engine(const std::string& conninfo, std::vector<TableInfo> tables, EngineOptions options = {},
           EngineCallbacks callbacks = {});

    /// Opens the engine for the table named `table` (as a user writes it: `events`,
    /// `audit.events`, `"Mixed Case"`), read from the catalog with `read_table_info` over a
    /// connection of its own. Throws `Error` naming the table when it does not exist or has no
    /// column COPY can write, before any writer starts.
    Engine(const std::string& conninfo, std::string_view table, EngineOptions options = {},
           EngineCallbacks callbacks = {});
    /// Stops the writers. Rows not yet committed are rolled back and not stored: call `close`
    /// to commit them.
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// A producer for table 0.
    [[nodiscard]] Producer producer();
    /// A producer whose rows go to table `table_index`. Throws `Error` when it is not below
    /// `table_count()`.
    [[nodiscard]] Producer producer(std::size_t table_index);

    /// Returns when every batch handed to the writers before the call is committed. Throws the
    /// writers' first error (with the server's SQLSTATE) if any writer failed.
    void flush();

    /// Flushes, then stops the writers and closes their connections. Throws like `flush`.
    /// Producers must have been destroyed (or flushed) first.
    void close();

    [[nodiscard]] EngineStats stats() const noexcept;
    /// Table 0.
    [[nodiscard]] const TableInfo& table() const noexcept;
    /// Table `table_index` (< `table_count()`).
    [[nodiscard]] const TableInfo& table(std::size_t table_index) const noexcept;
    [[nodiscard]] std::size_t table_count() const noexcept;

  private:
    void stop_writers() noexcept;

    std::unique_ptr<detail::EngineState> _state;
    std::vector<std::thread> _threads;
};

}  // namespace pgingest
