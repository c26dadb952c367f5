#include "engine/detail/transaction.hpp"

#include <exception>
#include <set>
#include <string>

#include "codecs/assert.hpp"

namespace pgingest {

namespace {

// A name for SQL: every quote doubled inside double quotes (quote_ident's rule, applied locally).
std::string quoted(std::string_view name) {
    std::string out = "\"";
    for (char c : name) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    out += '"';
    return out;
}

}  // namespace

std::string staging_table_sql(const TableInfo& table, std::string_view name) {
    std::string sql = "CREATE TEMP TABLE IF NOT EXISTS ";
    sql += name;
    sql += " (";
    for (std::size_t i = 0; i < table.columns.size(); i++) {
        if (i > 0) {
            sql += ", ";
        }
        sql += quoted(table.columns[i].name);
        sql += ' ';
        sql += table.columns[i].type_display;
    }
    sql += ") ON COMMIT DELETE ROWS";
    return sql;
}

namespace detail {

namespace {

// Splits `value` at its first `count` spaces: `count` words, then the rest (which may hold
// spaces: a timestamp). Throws `Error` naming `what` when there are fewer.
std::vector<std::string> split_words(std::string_view value, std::size_t count,
                                     std::string_view what) {
    std::vector<std::string> words;
    for (std::size_t i = 0; i < count; i++) {
        std::size_t space = value.find(' ');
        if (space == std::string_view::npos || space == 0) {
            throw Error("unexpected " + std::string(what) + " from the server: '" +
                        std::string(value) + "'");
        }
        words.emplace_back(value.substr(0, space));
        value.remove_prefix(space + 1);
    }
    words.emplace_back(value);
    return words;
}

std::uint64_t to_u64(const std::string& text, std::string_view what) {
    std::size_t used = 0;
    std::uint64_t number = 0;
    try {
        number = std::stoull(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size()) {
        throw Error("unexpected " + std::string(what) + " from the server: '" + text + "'");
    }
    return number;
}

}  // namespace

XidMarks parse_xid_marks(std::string_view value) {
    std::vector<std::string> words = split_words(value, 2, "transaction id and checkpoint");
    return XidMarks{.xid = to_u64(words[0], "transaction id"),
                    .checkpoint_lsn = words[1],
                    .stats_reset = words[2]};
}

CheckpointNow parse_checkpoint_now(std::string_view value) {
    std::vector<std::string> words = split_words(value, 4, "checkpoint");
    // next_xid is "epoch:xid" (pg_controldata.c pg_control_checkpoint, EpochFromFull...).
    std::size_t colon = words[1].find(':');
    if (colon == std::string::npos) {
        throw Error("unexpected next_xid from the server: '" + words[1] + "'");
    }
    std::uint64_t epoch = to_u64(words[1].substr(0, colon), "next_xid epoch");
    std::uint64_t xid = to_u64(words[1].substr(colon + 1), "next_xid");
    return CheckpointNow{.checkpoint_lsn = words[0],
                         .next_xid = epoch << 32 | xid,
                         .oldest_active_xid = to_u64(words[2], "oldest_active_xid"),
                         .wal_level = words[3],
                         .stats_reset = words[4]};
}

// Why (PostgreSQL 15 sources): a transaction id is handed out from the shared nextXid
// (varsup.c GetNewTransactionId) and written to WAL only with the records of that transaction;
// assigning it writes none. After a crash, recovery rebuilds nextXid from the checkpoint it
// starts at and advances it only past the ids of the records it replays (xlogrecovery.c
// ApplyWalRecord, AdvanceNextFullTransactionIdPastXid). A transaction none of whose WAL reached
// the kernel before the crash is forgotten, and its id is handed out again to the next
// transaction that asks: txid_status would then describe someone else's transaction.
// Every crash restart ends its recovery with a checkpoint before it accepts connections
// (xlog.c StartupXLOG, PerformRecoveryXLogAction: RequestCheckpoint(CHECKPOINT_END_OF_RECOVERY
// | CHECKPOINT_IMMEDIATE | CHECKPOINT_WAIT)) and it resets the statistics (pgstat.c
// pgstat_discard_stats, pgstat_reset_after_failure), pg_stat_bgwriter.stats_reset included; that
// checkpoint is a shutdown one (xlog.c CreateCheckPoint: `shutdown` for END_OF_RECOVERY), whose
// oldestActiveXid is InvalidTransactionId (0), while an online checkpoint under wal_level
// replica or logical stores GetOldestActiveTransactionId(), never 0. Its nextXid is the end of
// recovery's: ids below it are never handed out again, ids at or above it had no WAL replayed,
// so no commit record: their transactions did not commit. Hence:
// - the same latest checkpoint, or the same stats reset time, as when the transaction began:
//   no crash restart since (a restart checkpoints and resets), the id is ours: ask txid_status;
// - else, if the latest checkpoint is a shutdown one (the one ending the restart, no online one
//   since): an id at or above its nextXid did not commit; below it, it is ours: ask;
// - else (an online checkpoint since the restart, or wal_level minimal): unknown.
// Left open: two crash restarts before the writer reconnects, the id given out again and
// committed between them; the checkpoint of the second restart then hides the first.
LostCommitVerdict lost_commit_verdict(const XidMarks& begin, const CheckpointNow& now) {
    if (now.checkpoint_lsn == begin.checkpoint_lsn || now.stats_reset == begin.stats_reset) {
        return LostCommitVerdict::ask_txid_status;
    }
    if (now.oldest_active_xid != 0 || now.wal_level == "minimal") {
        return LostCommitVerdict::unknown;
    }
    return begin.xid >= now.next_xid ? LostCommitVerdict::not_committed
                                     : LostCommitVerdict::ask_txid_status;
}

std::string transaction_prologue_sql(const TransactionHooks& hooks) {
    // The transaction id lets a writer that loses its connection during COMMIT ask the server
    // whether it committed; the latest checkpoint and the statistics' reset time tell it then
    // whether the server restarted since, i.e. whether that id may have been given out again
    // (lost_commit_verdict).
    std::string sql = "BEGIN; " + std::string(xid_marks_sql) + "; ";
    for (const std::string& statement : hooks.prologue) {
        sql += statement;
        sql += "; ";
    }
    sql += "SAVEPOINT s; ";
    return sql;
}

std::string copy_target_sql(const TableInfo& table, const StagingTarget* staging) {
    if (staging == nullptr) {
        return table.copy_sql();
    }
    TableInfo target = table;
    target.qualified_name = staging->name;
    return target.copy_sql();
}

void validate_hooks(const TransactionHooks& hooks, std::size_t table_count) {
    std::set<std::size_t> staged;
    for (const StagingTarget& staging : hooks.staging) {
        if (staging.table_index >= table_count) {
            throw Error("staging target " + staging.name + " is for table index " +
                        std::to_string(staging.table_index) + ", but the engine has " +
                        std::to_string(table_count) + " table(s)");
        }
        if (!staged.insert(staging.table_index).second) {
            throw Error("two staging targets for table index " +
                        std::to_string(staging.table_index) + "; give at most one per table");
        }
        if (staging.name.empty() || staging.create_sql.empty()) {
            throw Error("staging target for table index " + std::to_string(staging.table_index) +
                        " needs both a name and the SQL that creates it");
        }
    }
}

std::vector<Statement> commit_pipeline(bool rollback_savepoint, std::vector<Statement> epilogue,
                                       std::size_t* epilogue_at) {
    std::vector<Statement> pipeline;
    pipeline.reserve(epilogue.size() + 2);
    if (rollback_savepoint) {
        // The last COPY was refused: its savepoint is in error until rolled back.
        pipeline.push_back(Statement{.sql = "ROLLBACK TO SAVEPOINT s", .params = {}});
    }
    *epilogue_at = pipeline.size();
    for (Statement& statement : epilogue) {
        pipeline.push_back(std::move(statement));
    }
    pipeline.push_back(Statement{.sql = "COMMIT", .params = {}});
    return pipeline;
}

void rethrow_commit_failure(const Error& error, std::size_t epilogue_index,
                            std::span<const Statement> statements) {
    const auto* server = dynamic_cast<const ServerError*>(&error);
    if (server == nullptr || epilogue_index >= statements.size()) {
        throw;
    }
    // Typed even when the writer retries it (40001 / 40P01, a transient error: the SQLSTATE
    // decides, engine.cpp Writer::recover): once the retries run out, the error that ends the
    // load still names the statement.
    const std::string& sql = statements[epilogue_index].sql;
    throw EpilogueError("epilogue statement " + std::to_string(epilogue_index + 1) + " of " +
                            std::to_string(statements.size()) + " failed, transaction rolled " +
                            "back: " + error.what(),
                        server->sqlstate(), sql, epilogue_index);
}

}  // namespace detail

}  // namespace pgingest
