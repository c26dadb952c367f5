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

std::string staged_key_sql(std::uint32_t table_oid) {
    const std::string oid = std::to_string(table_oid);
    return "SELECT CASE WHEN c.relkind IN ('r', 'p') "
           "AND NOT EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid) "
           "AND NOT EXISTS (SELECT 1 FROM pg_partition_tree(c.oid) p "
           "JOIN pg_class k ON k.oid = p.relid WHERE k.relkind NOT IN ('r', 'p') "
           "OR EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = p.relid "
           "AND NOT g.tgisinternal)) "
           "THEN (SELECT CASE WHEN bool_and(a.attcollation IN (0, 100) "
           "AND has_column_privilege(c.oid, a.attnum, 'SELECT')) "
           "THEN string_agg(octet_length(a.attname) || ':' || a.attname, '' ORDER BY k.n) END "
           "FROM pg_constraint o, unnest(o.conkey) WITH ORDINALITY AS k(attnum, n), "
           "pg_attribute a WHERE o.conrelid = c.oid AND o.contype = 'p' "
           "AND a.attrelid = c.oid AND a.attnum = k.attnum) END "
           "FROM pg_class c WHERE c.oid = " +
           oid;
}

std::vector<std::string> parse_staged_key(std::string_view value) {
    std::vector<std::string> names;
    while (!value.empty()) {
        std::size_t colon = value.find(':');
        if (colon == std::string_view::npos) {
            throw Error("unexpected primary key from the server: '" + std::string(value) + "'");
        }
        std::uint64_t length = to_u64(std::string(value.substr(0, colon)), "key column length");
        value.remove_prefix(colon + 1);
        if (length == 0 || length > value.size()) {
            throw Error("unexpected primary key from the server: '" + std::string(value) + "'");
        }
        names.emplace_back(value.substr(0, length));
        value.remove_prefix(length);
    }
    return names;
}

namespace {

// `<prefix><name>, ...` for every name, each quoted.
std::string column_list(std::span<const std::string> names, std::string_view prefix) {
    std::string out;
    for (const std::string& name : names) {
        if (!out.empty()) {
            out += ", ";
        }
        out += prefix;
        out += quoted(name);
    }
    return out;
}

}  // namespace

std::optional<StagedInsert> staged_insert(const TableInfo& table, std::span<const std::string> key,
                                          std::size_t table_index) {
    std::vector<std::string> columns;
    for (const ColumnInfo& column : table.columns) {
        if (column.name == "pgingest_ord" || column.name == "pgingest_rn") {
            return std::nullopt;
        }
        columns.push_back(column.name);
    }
    if (key.empty()) {
        return std::nullopt;
    }
    for (const std::string& name : key) {
        if (table.find(name) == nullptr) {
            return std::nullopt;  // a key from a default: RETURNING could not be matched
        }
    }
    const std::string name = "pgingest_unique_" + std::to_string(table_index);
    const std::string stage = "pg_temp." + name;
    std::string create = staging_table_sql(table, name);
    // staging_table_sql ends with ") ON COMMIT DELETE ROWS": add the ordinal before it.
    create.erase(create.rfind(") ON COMMIT DELETE ROWS"));
    create += ", pgingest_ord int8 GENERATED ALWAYS AS IDENTITY)";
    TableInfo target = table;
    target.qualified_name = stage;
    StagedInsert staged;
    staged.stage_sql = create + "; TRUNCATE " + stage + " RESTART IDENTITY; " + target.copy_sql();
    const std::string cols = column_list(columns, "");
    const std::string keys = column_list(key, "");
    // A left join, not NOT EXISTS under an OR: the planner turns that into a subplan run per row
    // once the hashed one would not fit work_mem (quadratic on a large batch).
    staged.insert_sql =
        "WITH ins AS (INSERT INTO " + table.qualified_name + " (" + cols + ") SELECT " + cols +
        " FROM " + stage + " ORDER BY pgingest_ord ON CONFLICT (" + keys +
        ") DO NOTHING RETURNING " + keys +
        ") SELECT (SELECT count(*) FROM ins) || ':' || "
        "coalesce(string_agg(x.pgingest_ord::text, ',' ORDER BY x.pgingest_ord), '') FROM "
        "(SELECT pgingest_ord, " +
        keys + ", row_number() OVER (PARTITION BY " + keys +
        " ORDER BY pgingest_ord) AS pgingest_rn FROM " + stage + ") x LEFT JOIN ins ON (" +
        column_list(key, "ins.") + ") = (" + column_list(key, "x.") +
        ") AND x.pgingest_rn = 1 WHERE ins." + quoted(key.front()) + " IS NULL";
    return staged;
}

std::vector<std::size_t> parse_staged_answer(std::string_view value, std::size_t rows) {
    const std::string shown(value.substr(0, 80));
    std::size_t colon = value.find(':');
    if (colon == std::string_view::npos) {
        throw Error("unexpected answer of a staged INSERT: '" + shown + "'");
    }
    const std::uint64_t inserted = to_u64(std::string(value.substr(0, colon)), "rows inserted");
    value.remove_prefix(colon + 1);
    std::vector<std::size_t> skipped;
    while (!value.empty()) {
        std::size_t comma = value.find(',');
        std::uint64_t ordinal = to_u64(std::string(value.substr(0, comma)), "staged ordinal");
        if (ordinal == 0 || ordinal > rows || (!skipped.empty() && ordinal <= skipped.back())) {
            throw Error("staged INSERT returned ordinal " + std::to_string(ordinal) +
                        " for a stage of " + std::to_string(rows) + " rows");
        }
        skipped.push_back(static_cast<std::size_t>(ordinal));
        value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    }
    if (inserted + skipped.size() != rows) {
        throw Error("staged INSERT count mismatch: " + std::to_string(inserted) +
                    " rows inserted and " + std::to_string(skipped.size()) + " skipped of " +
                    std::to_string(rows) + " staged");
    }
    return skipped;
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
