#pragma once

// The writer's side of the transaction protocol (engine/transaction.hpp): building its SQL and
// sorting the failures of its commit pipeline. Private to engine/.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "engine/transaction.hpp"

namespace pgingest::detail {

/// The SQL sent before the first COPY of a transaction: `BEGIN; SELECT txid_current();`, the
/// hooks' prologue, `SAVEPOINT s; ` (the COPY statement is appended by the caller).
[[nodiscard]] std::string transaction_prologue_sql(const TransactionHooks& hooks);

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
