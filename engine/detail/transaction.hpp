#pragma once

// The writer's side of the transaction protocol (engine/transaction.hpp): building its SQL and
// sorting the failures of its commit pipeline. Private to engine/.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/transaction.hpp"

namespace pgingest::detail {

/// The SQL sent before the first COPY of a transaction: `BEGIN; <xid_marks_sql>;`, the
/// hooks' prologue, `SAVEPOINT s; ` (the COPY statement is appended by the caller).
[[nodiscard]] std::string transaction_prologue_sql(const TransactionHooks& hooks);

/// One text value "<txid_current()> <latest checkpoint LSN> <bgwriter stats reset time or ->",
/// read in the prologue (parse_xid_marks). pg_control_checkpoint() is EXECUTE to PUBLIC on
/// PG15 (src/backend/utils/misc/pg_controldata.c), the reset time is pg_stat_bgwriter's.
inline constexpr std::string_view xid_marks_sql =
    "SELECT txid_current() || ' ' || checkpoint_lsn || ' ' || "
    "coalesce(pg_stat_get_bgwriter_stat_reset_time()::text, '-') FROM pg_control_checkpoint()";

/// One text value "<checkpoint LSN> <next_xid epoch:xid> <oldest_active_xid> <wal_level>
/// <bgwriter stats reset time or ->" of the latest checkpoint (parse_checkpoint_now).
inline constexpr std::string_view checkpoint_now_sql =
    "SELECT checkpoint_lsn || ' ' || next_xid || ' ' || oldest_active_xid || ' ' || "
    "current_setting('wal_level') || ' ' || "
    "coalesce(pg_stat_get_bgwriter_stat_reset_time()::text, '-') FROM pg_control_checkpoint()";

/// What a writer learnt when its transaction began (xid_marks_sql).
struct XidMarks {
    std::uint64_t xid = 0;       ///< txid_current(): 64-bit, epoch included
    std::string checkpoint_lsn;  ///< the latest checkpoint then, e.g. "0/1500A10"
    std::string stats_reset;     ///< pg_stat_bgwriter.stats_reset then, as text ("-": NULL)
};

/// The latest checkpoint after a reconnection (checkpoint_now_sql).
struct CheckpointNow {
    std::string checkpoint_lsn;
    std::uint64_t next_xid = 0;           ///< its nextXid, 64-bit (epoch << 32 | xid)
    std::uint64_t oldest_active_xid = 0;  ///< 0 (InvalidTransactionId): a shutdown checkpoint
    std::string wal_level;
    std::string stats_reset;
};

/// Parses the value of xid_marks_sql. Throws `Error` when it is not of that shape.
[[nodiscard]] XidMarks parse_xid_marks(std::string_view value);

/// Parses the value of checkpoint_now_sql. Throws `Error` when it is not of that shape.
[[nodiscard]] CheckpointNow parse_checkpoint_now(std::string_view value);

/// Whether txid_status can be asked about a transaction whose COMMIT was cut off.
enum class LostCommitVerdict : std::uint8_t {
    ask_txid_status,  ///< its id was not given out again: txid_status answers about it
    not_committed,    ///< a crash lost it before any of its WAL was written: re-send
    unknown,          ///< its id may have been given out again: the outcome is unknown
};

/// Decides, from the marks taken when the transaction began and the latest checkpoint now,
/// whether its id `begin.xid` may have been reissued by a crash restart (engine.cpp,
/// Writer::committed_before_loss, explains why and cites PostgreSQL).
[[nodiscard]] LostCommitVerdict lost_commit_verdict(const XidMarks& begin,
                                                    const CheckpointNow& now);

/// The `COPY ... FROM STDIN (FORMAT binary)` of a batch of `table`: into the staging table when
/// `staging` is given, else into the table.
[[nodiscard]] std::string copy_target_sql(const TableInfo& table, const StagingTarget* staging);

/// Checks the hooks against `table_count` tables; throws `Error` naming the problem (a staging
/// target for a table index out of range, two for one table, an empty name or create_sql).
void validate_hooks(const TransactionHooks& hooks, std::size_t table_count);

/// The pipeline sent at commit: `ROLLBACK TO SAVEPOINT s` when `rollback_savepoint`, then
/// `epilogue`, then COMMIT. `*epilogue_at` is the index of the first epilogue statement in it.
[[nodiscard]] std::vector<Statement> commit_pipeline(bool rollback_savepoint,
                                                     std::vector<Statement> epilogue,
                                                     std::size_t* epilogue_at);

/// Rethrows `error` of the commit pipeline: as `EpilogueError` when it is a server's refusal of
/// epilogue statement `epilogue_index` (`SIZE_MAX`: not an epilogue statement), whatever its
/// SQLSTATE, else as it is (e.g. `ConnectionError`: a lost COMMIT). The writer still retries
/// an `EpilogueError` whose SQLSTATE means 40001 / 40P01 or a transient error, and ends the load
/// with it once `reconnect_timeout_ms` is spent. `statements`: the epilogue's.
[[noreturn]] void rethrow_commit_failure(const Error& error, std::size_t epilogue_index,
                                         std::span<const Statement> statements);

/// How a writer stages the batches of one table once a COPY into it was refused for a duplicate
/// key (23505; issue 12 point 3): each batch is copied into a per-connection temp table with
/// an ordinal column, then moved by one `INSERT ... ON CONFLICT (<primary key>) DO NOTHING`
/// that says which ordinals it skipped. Speculative insertion leaves no dead tuple for a
/// skipped row (nodeModifyTable.c ExecInsert: ExecCheckIndexConstraints before the heap insert).
struct StagedInsert {
    /// Ends the Query that starts the staging COPY: `CREATE TEMP TABLE IF NOT EXISTS` the stage
    /// (the COPY columns with their catalog types, then `pgingest_ord int8 GENERATED ALWAYS AS
    /// IDENTITY`), `TRUNCATE` it `RESTART IDENTITY`, then the COPY into it of the table's
    /// columns: the rows get ordinals 1, 2, ... in the order sent.
    std::string stage_sql;
    /// One text value `<rows inserted>:<ordinal>,...`: the ordinals (ascending) of the staged
    /// rows the INSERT skipped, those whose key was stored already or came earlier in the stage
    /// (the first copy is kept, as a COPY keeps it).
    std::string insert_sql;
};

/// A catalog query on table `table_oid` with one text value: NULL or empty when its batches
/// must not be staged, else its primary key columns as `<octet length>:<name>` each, in key
/// order. Staged only if the table is plain or partitioned with plain partitions, has no rule
/// (COPY ignores rules, INSERT does not), no trigger of a user on it or a partition (one could
/// change the key RETURNING gives back), the key columns use the default collation (the stage's
/// comparisons must be the key's) and the user may read them (RETURNING).
[[nodiscard]] std::string staged_key_sql(std::uint32_t table_oid);

/// Parses the value of `staged_key_sql` into column names. Throws `Error` when malformed.
[[nodiscard]] std::vector<std::string> parse_staged_key(std::string_view value);

/// The statements staging `table` (engine table index `table_index`, which names the stage
/// `pgingest_unique_<index>`) with primary key columns `key`. Nothing when `key` is empty,
/// names a column the batches do not carry, or a column is named like the stage's own
/// (`pgingest_ord`, `pgingest_rn`). Pure function.
[[nodiscard]] std::optional<StagedInsert> staged_insert(const TableInfo& table,
                                                        std::span<const std::string> key,
                                                        std::size_t table_index);

/// Parses the value of `StagedInsert::insert_sql` for a stage of `rows` rows into the skipped
/// ordinals (1-based, ascending). Throws `Error` when it is malformed, an ordinal is out of
/// range or not ascending, or the rows inserted and skipped do not add up to `rows`.
[[nodiscard]] std::vector<std::size_t> parse_staged_answer(std::string_view value,
                                                           std::size_t rows);

}  // namespace pgingest::detail
