#pragma once

// The writer's side of the transaction protocol (engine/transaction.hpp): building its SQL and
// sorting the failures of its commit pipeline. Private to engine/.

#include <cstddef>
#include <cstdint>
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

}  // namespace pgingest::detail
