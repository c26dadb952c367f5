#include "engine/catalog.hpp"

#include <cstdlib>
#include <memory>

namespace pgingest {

namespace {

struct ResultDeleter {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Columns COPY can write, in attnum order; a LEFT JOIN keeps one row (attname NULL) for a table
// without any, so "no such table" (no row) and "nothing to write" are told apart.
constexpr const char* columns_sql = R"sql(
SELECT c.oid, c.relkind, quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       a.attname, a.atttypid, a.atttypmod, t.typname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE 0 END, coalesce(et.typname, ''),
       a.attnotnull, a.atthasdef
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a
       ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
WHERE c.oid = to_regclass($1)
ORDER BY a.attnum)sql";

// pgvector's types live in the schema its extension was created in (FORMATS.md §4.6).
constexpr const char* vector_types_sql = R"sql(
SELECT coalesce(max(t.oid) FILTER (WHERE t.typname = 'vector'), 0),
       coalesce(max(t.oid) FILTER (WHERE t.typname = 'halfvec'), 0),
       coalesce(max(t.oid) FILTER (WHERE t.typname = 'sparsevec'), 0)
FROM pg_extension e JOIN pg_type t ON t.typnamespace = e.extnamespace
WHERE e.extname = 'vector' AND t.typname IN ('vector', 'halfvec', 'sparsevec'))sql";

std::uint32_t oid_at(const PGresult* result, int row, int column) {
    return static_cast<std::uint32_t>(std::strtoul(PQgetvalue(result, row, column), nullptr, 10));
}

// Collects the results of one pipelined query: the result, then the NULL that ends it.
ResultPtr take_result(PGconn* conn, std::string_view doing) {
    ResultPtr result(PQgetResult(conn));
    ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK) {
        ResultPtr rest;
        // Leave the pipeline in a known state before throwing: read up to the sync point.
        while (PQpipelineStatus(conn) != PQ_PIPELINE_OFF) {
            rest.reset(PQgetResult(conn));
            if (rest != nullptr && PQresultStatus(rest.get()) == PGRES_PIPELINE_SYNC) {
                (void)PQexitPipelineMode(conn);
                break;
            }
            if (rest == nullptr && PQstatus(conn) == CONNECTION_BAD) {
                break;
            }
        }
        throw_result_error(conn, result.get(), doing);
    }
    ResultPtr end(PQgetResult(conn));  // NULL after each query's results in pipeline mode
    return result;
}

void fill_columns(const PGresult* result, std::string_view table, TableInfo& info) {
    int rows = PQntuples(result);
    if (rows == 0) {
        throw Error("table " + std::string(table) +
                    " does not exist (or is not visible with the current search_path)\n"
                    "HINT: create it first, or qualify it with its schema: schema.table");
    }
    char relkind = PQgetvalue(result, 0, 1)[0];
    info.oid = oid_at(result, 0, 0);
    info.qualified_name = PQgetvalue(result, 0, 2);
    if (relkind != 'r' && relkind != 'p' && relkind != 'f') {
        throw Error(info.qualified_name + " is not a table (relkind '" + std::string(1, relkind) +
                    "'); COPY FROM writes into tables, partitioned tables and foreign tables");
    }
    for (int row = 0; row < rows; row++) {
        if (PQgetisnull(result, row, 3) != 0) {
            continue;
        }
        ColumnInfo column;
        column.name = PQgetvalue(result, row, 3);
        column.type_oid = oid_at(result, row, 4);
        column.typmod = std::atoi(PQgetvalue(result, row, 5));
        column.type_name = PQgetvalue(result, row, 6);
        column.type_display = PQgetvalue(result, row, 7);
        column.element_oid = oid_at(result, row, 8);
        column.element_name = PQgetvalue(result, row, 9);
        column.not_null = PQgetvalue(result, row, 10)[0] == 't';
        column.has_default = PQgetvalue(result, row, 11)[0] == 't';
        info.columns.push_back(std::move(column));
    }
    if (info.columns.empty()) {
        throw Error(info.qualified_name +
                    " has no column COPY can write (all are dropped or generated)");
    }
}

}  // namespace

std::string TableInfo::copy_sql() const {
    std::string sql = "COPY " + qualified_name + " (";
    for (std::size_t i = 0; i < columns.size(); i++) {
        if (i > 0) {
            sql += ", ";
        }
        // Double every quote: the rule of quote_ident, applied locally so that building the
        // statement needs no round trip.
        sql += '"';
        for (char c : columns[i].name) {
            sql += c;
            if (c == '"') {
                sql += '"';
            }
        }
        sql += '"';
    }
    sql += ") FROM STDIN (FORMAT binary)";
    return sql;
}

const ColumnInfo* TableInfo::find(std::string_view name) const noexcept {
    for (const auto& column : columns) {
        if (column.name == name) {
            return &column;
        }
    }
    return nullptr;
}

TableInfo read_table_info(Connection& conn, std::string_view table, VectorTypeOids* vector_oids) {
    PGconn* native = conn.native();
    if (PQenterPipelineMode(native) != 1) {
        throw_result_error(native, nullptr, "catalog read: enter pipeline mode");
    }
    const std::string name(table);
    const char* params[1] = {name.c_str()};
    if (PQsendQueryParams(native, columns_sql, 1, nullptr, params, nullptr, nullptr, 0) != 1 ||
        PQsendQueryParams(native, vector_types_sql, 0, nullptr, nullptr, nullptr, nullptr, 0) !=
            1 ||
        PQpipelineSync(native) != 1) {
        throw_result_error(native, nullptr, "catalog read: send");
    }
    ResultPtr columns = take_result(native, "catalog read of " + name);
    ResultPtr vectors = take_result(native, "catalog read of pgvector types");
    ResultPtr sync(PQgetResult(native));
    if (PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(native) != 1) {
        throw_result_error(native, sync.get(), "catalog read: end of pipeline");
    }
    TableInfo info;
    fill_columns(columns.get(), table, info);
    if (vector_oids != nullptr) {
        vector_oids->vector = oid_at(vectors.get(), 0, 0);
        vector_oids->halfvec = oid_at(vectors.get(), 0, 1);
        vector_oids->sparsevec = oid_at(vectors.get(), 0, 2);
    }
    return info;
}

}  // namespace pgingest
