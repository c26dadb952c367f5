#include "engine/catalog.hpp"

#include <simdjson.h>

#include <cstdlib>
#include <cstring>
#include <map>
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

// Every type the table's columns are made of (issue 10), one row each: the closure of the
// column types under "domain → base type", "array → element", "range → subtype",
// "multirange → range" and "composite → attribute types", cut at a depth well past
// type_depth_max. Enum labels and composite attributes come as JSON arrays, so one query
// carries them all.
constexpr const char* types_sql = R"sql(
WITH RECURSIVE closure(oid, depth) AS (
    SELECT a.atttypid, 0 FROM pg_attribute a
    WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
  UNION
    SELECT x.child, c.depth + 1
    FROM closure c JOIN pg_type t ON t.oid = c.oid
    CROSS JOIN LATERAL (
        SELECT t.typbasetype WHERE t.typtype = 'd'
        UNION ALL SELECT t.typelem WHERE t.typtype = 'b' AND t.typcategory = 'A'
        UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid
        UNION ALL SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = t.oid
        UNION ALL SELECT a.atttypid FROM pg_attribute a
                  WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0
                    AND NOT a.attisdropped) x(child)
    WHERE c.depth < 24)
SELECT t.oid, t.typname, t.typtype, t.typbasetype, t.typtypmod,
       CASE WHEN t.typtype = 'b' AND t.typcategory = 'A' THEN t.typelem ELSE 0 END,
       coalesce((SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid), 0),
       coalesce((SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = t.oid), 0),
       coalesce((SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                 WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                   AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'), ''),
       coalesce((SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
                 WHERE e.enumtypid = t.oid), '[]'),
       coalesce((SELECT json_agg(json_build_array(a.attname, a.atttypid::int8, a.atttypmod,
                                                  format_type(a.atttypid, a.atttypmod))
                                 ORDER BY a.attnum)
                 FROM pg_attribute a WHERE t.typtype = 'c' AND a.attrelid = t.typrelid
                   AND a.attnum > 0 AND NOT a.attisdropped), '[]')
FROM (SELECT DISTINCT oid FROM closure) c JOIN pg_type t ON t.oid = c.oid)sql";

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

// One row of types_sql.
struct TypeRow {
    struct Attribute {
        std::string name;
        std::uint32_t oid = 0;
        std::int32_t typmod = -1;
        std::string display;
    };
    std::string name;
    char typtype = 'p';
    std::uint32_t base = 0;
    std::int32_t typtypmod = -1;
    std::uint32_t element = 0;
    std::uint32_t subtype = 0;
    std::uint32_t range = 0;
    std::string extension;
    std::vector<std::string> labels;
    std::vector<Attribute> attributes;
};
using TypeRows = std::map<std::uint32_t, TypeRow>;

// The JSON arrays of types_sql (json_agg output: always valid JSON, so a parse failure is the
// server's bug, reported as an Error rather than asserted).
simdjson::dom::array json_array(simdjson::dom::parser& parser, const char* text) {
    simdjson::dom::array array;
    if (parser.parse(text, std::strlen(text)).get(array) != simdjson::SUCCESS) {
        throw Error(std::string("catalog read: unexpected JSON from the server: ") + text);
    }
    return array;
}

TypeRows read_types(const PGresult* result) {
    TypeRows types;
    simdjson::dom::parser parser;
    for (int row = 0; row < PQntuples(result); row++) {
        TypeRow type;
        type.name = PQgetvalue(result, row, 1);
        type.typtype = PQgetvalue(result, row, 2)[0];
        type.base = oid_at(result, row, 3);
        type.typtypmod = std::atoi(PQgetvalue(result, row, 4));
        type.element = oid_at(result, row, 5);
        type.subtype = oid_at(result, row, 6);
        type.range = oid_at(result, row, 7);
        type.extension = PQgetvalue(result, row, 8);
        for (simdjson::dom::element label : json_array(parser, PQgetvalue(result, row, 9))) {
            type.labels.emplace_back(label.get_string().value());
        }
        for (simdjson::dom::element attribute : json_array(parser, PQgetvalue(result, row, 10))) {
            simdjson::dom::array fields = attribute.get_array().value();
            type.attributes.push_back(TypeRow::Attribute{
                .name = std::string(fields.at(0).get_string().value()),
                .oid = static_cast<std::uint32_t>(fields.at(1).get_uint64().value()),
                .typmod = static_cast<std::int32_t>(fields.at(2).get_int64().value()),
                .display = std::string(fields.at(3).get_string().value())});
        }
        types.emplace(oid_at(result, row, 0), std::move(type));
    }
    return types;
}

ColumnInfo nested(std::string name, std::uint32_t type_oid, std::int32_t typmod,
                  const TypeRows& types) {
    ColumnInfo node;
    node.name = std::move(name);
    node.type_oid = type_oid;
    node.typmod = typmod;
    auto found = types.find(type_oid);
    node.type_name = found != types.end() ? found->second.name : std::string();
    node.type_display = node.type_name;
    return node;
}

void describe_type(ColumnInfo& node, const TypeRows& types, std::size_t depth);

void describe_children(ColumnInfo& node, const TypeRow& row, const TypeRows& types,
                       std::size_t depth) {
    if (row.element != 0) {
        // An array's typmod applies to its elements (arrayfuncs.c array_recv passes it on).
        node.element_oid = row.element;
        node.children.push_back(nested("", row.element, node.base_typmod, types));
        node.element_name = node.children.back().type_name;
    } else if (row.typtype == 'r') {
        node.children.push_back(nested("", row.subtype, -1, types));
    } else if (row.typtype == 'm') {
        node.children.push_back(nested("", row.range, -1, types));
    } else if (row.typtype == 'c') {
        for (const TypeRow::Attribute& attribute : row.attributes) {
            ColumnInfo child = nested(attribute.name, attribute.oid, attribute.typmod, types);
            child.type_display = attribute.display;
            node.children.push_back(std::move(child));
        }
    }
    for (ColumnInfo& child : node.children) {
        describe_type(child, types, depth + 1);
    }
}

// Fills the issue-10 fields of `node` (whose type_oid and typmod are set) from `types`:
// resolves domains, then describes the base type and, one level down, its nested types.
void describe_type(ColumnInfo& node, const TypeRows& types, std::size_t depth) {
    node.base_oid = node.type_oid;
    node.base_typmod = node.typmod;
    node.type_class = TypeClass::pseudo;
    auto found = types.find(node.type_oid);
    // A domain chain is a few links; the bound only guards against a catalog we misread.
    for (std::size_t hops = 0; found != types.end() && found->second.typtype == 'd'; hops++) {
        if (hops > type_depth_max) {
            return;
        }
        node.is_domain = true;
        node.base_oid = found->second.base;
        node.base_typmod = found->second.typtypmod;
        found = types.find(node.base_oid);
    }
    if (found == types.end() || depth > type_depth_max) {
        return;
    }
    const TypeRow& row = found->second;
    node.base_name = row.name;
    node.base_extension = row.extension;
    switch (row.typtype) {
        case 'b':
            node.type_class = TypeClass::base;
            break;
        case 'e':
            node.type_class = TypeClass::enumeration;
            node.enum_labels = row.labels;
            break;
        case 'r':
            node.type_class = TypeClass::range;
            break;
        case 'm':
            node.type_class = TypeClass::multirange;
            break;
        case 'c':
            node.type_class = TypeClass::composite;
            break;
        default:
            return;
    }
    describe_children(node, row, types, depth);
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

TableInfo read_table_info(Connection& conn, std::string_view table, VectorTypeOids* vector_oids) {
    PGconn* native = conn.native();
    if (PQenterPipelineMode(native) != 1) {
        throw_result_error(native, nullptr, "catalog read: enter pipeline mode");
    }
    const std::string name(table);
    const char* params[1] = {name.c_str()};
    if (PQsendQueryParams(native, columns_sql, 1, nullptr, params, nullptr, nullptr, 0) != 1 ||
        PQsendQueryParams(native, types_sql, 1, nullptr, params, nullptr, nullptr, 0) != 1 ||
        PQsendQueryParams(native, vector_types_sql, 0, nullptr, nullptr, nullptr, nullptr, 0) !=
            1 ||
        PQpipelineSync(native) != 1) {
        throw_result_error(native, nullptr, "catalog read: send");
    }
    ResultPtr columns = take_result(native, "catalog read of " + name);
    ResultPtr types = take_result(native, "catalog read of the types of " + name);
    ResultPtr vectors = take_result(native, "catalog read of pgvector types");
    ResultPtr sync(PQgetResult(native));
    if (PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(native) != 1) {
        throw_result_error(native, sync.get(), "catalog read: end of pipeline");
    }
    TableInfo info;
    fill_columns(columns.get(), table, info);
    const TypeRows type_rows = read_types(types.get());
    for (ColumnInfo& column : info.columns) {
        describe_type(column, type_rows, 0);
    }
    if (vector_oids != nullptr) {
        vector_oids->vector = oid_at(vectors.get(), 0, 0);
        vector_oids->halfvec = oid_at(vectors.get(), 0, 1);
        vector_oids->sparsevec = oid_at(vectors.get(), 0, 2);
    }
    return info;
}

}  // namespace pgingest
