#include "engine/detail/transaction.hpp"

#include <set>

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

std::string transaction_prologue_sql(const TransactionHooks& hooks) {
    // The transaction id lets a writer that loses its connection during COMMIT ask the server
    // whether it committed.
    std::string sql = "BEGIN; SELECT txid_current(); ";
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
