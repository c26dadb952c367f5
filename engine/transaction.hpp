#pragma once

// The protocol of a writer transaction (DESIGN.md "A writer transaction", issue 12 point 1):
//
//   prologue   BEGIN; SELECT txid_current(); <TransactionHooks::prologue>; SAVEPOINT s; COPY ...
//              one Query message with the first COPY: no round trip of its own
//   COPY       one per batch, each in the savepoint, into the batch's table or into the
//              connection's staging table for it (`StagingTarget`, created once per connection)
//   epilogue   [ROLLBACK TO SAVEPOINT s]; <TransactionHooks::epilogue statements>; COMMIT
//              one libpq pipeline (PQsendQueryParams each, one PQpipelineSync): one round trip
//
// The epilogue statements commit atomically with the rows. When one fails: 40001 / 40P01 run the
// whole transaction again (prologue, every COPY, epilogue); a lost connection is handled as a
// lost COMMIT (txid_status says whether it committed); a server in trouble is retried with
// backoff. Anything else, and a retried error that persists past `reconnect_timeout_ms`, ends
// the load with `EpilogueError` naming the statement, and nothing of that transaction is stored.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/catalog.hpp"
#include "engine/connection.hpp"
#include "engine/origin.hpp"

namespace pgingest {

/// What a transaction about to commit holds, given to `TransactionHooks::epilogue`. The spans
/// point into the writer's batches: valid during the callback only.
struct TransactionView {
    std::size_t writer_index = 0;
    /// Rows the COMMIT will make durable (rows the server refused are not counted).
    std::uint64_t rows = 0;
    /// Rows of this transaction's batches the server refused (each reported with `on_reject`).
    std::uint64_t rows_rejected = 0;
    /// What this transaction settles, as `CommitReport::loaded` and `CommitReport::rejected`:
    /// origin ranges per source, sorted, disjoint (what a ledger row records, issue 14).
    std::span<const OriginRange> loaded = {};
    std::span<const OriginRange> rejected = {};
    /// Each stored row's origin (given to `end_row`), as runs in the batches, laid out as
    /// `CommitReport::origins`: `rows` origins in all.
    std::span<const std::span<const RowOrigin>> origins = {};
    /// The table index (`Engine::table(i)`) of each run of `origins`: same size as `origins`.
    std::span<const std::size_t> tables = {};
};

/// A per-connection staging table that receives the COPYs of one target table instead of the
/// table itself; an epilogue statement moves its rows (`INSERT INTO t SELECT * FROM staging`,
/// a merge, an upsert). Rolled back with the transaction like any other write.
struct StagingTarget {
    /// The target table (index into the engine's tables) whose batches go to the staging table.
    std::size_t table_index = 0;
    /// The staging table's name as written in SQL (quoted where needed), e.g. `pgingest_stage`:
    /// the COPY names it with the target table's column list.
    std::string name = {};
    /// Run on every writer connection once connected (and again after a reconnect), outside a
    /// transaction, e.g. `staging_table_sql(table, name)`. Must create `name` with the COPY
    /// columns of the target table, in their order and of their types.
    std::string create_sql = {};
};

/// How each writer transaction is framed (see the file comment). Every member may be empty.
struct TransactionHooks {
    /// Statements run right after BEGIN in every transaction (e.g. `SET LOCAL ...`), sent in the
    /// Query message of the first COPY. Plain SQL, no parameters, no COPY.
    std::vector<std::string> prologue = {};
    /// At most one staging table per target table.
    std::vector<StagingTarget> staging = {};
    /// Called on the writer thread just before each COMMIT (again if the transaction is run
    /// again after 40001 / 40P01 or a lost connection), even when the server refused every row
    /// of it (`rows` = 0). Returns the statements to pipeline before COMMIT, in order. Must be
    /// thread-safe (writers call it concurrently) and must not call back into the engine; an
    /// exception it throws ends the load.
    std::function<std::vector<Statement>(const TransactionView&)> epilogue = {};
};

/// `CREATE TEMP TABLE IF NOT EXISTS <name> (<column> <type>, ...) ON COMMIT DELETE ROWS`, the
/// columns being the COPY columns of `table` with the types the catalog gave them
/// (`ColumnInfo::type_display`: format_type of atttypid and atttypmod, domains kept), without
/// their constraints, defaults or indexes: a staging table that accepts what the COPY sends.
/// `name` is written as given (quote it if needed). Pure function.
[[nodiscard]] std::string staging_table_sql(const TableInfo& table, std::string_view name);

}  // namespace pgingest
