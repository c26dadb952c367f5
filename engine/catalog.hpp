#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/connection.hpp"

namespace pgingest {

/// One column of a COPY target, as the catalog describes it (pg_attribute, pg_type).
struct ColumnInfo {
    std::string name;            ///< attname, unquoted
    std::uint32_t type_oid = 0;  ///< atttypid
    std::int32_t typmod = -1;    ///< atttypmod: varchar(n) → n+4, numeric(p,s) → ((p<<16)|s)+4,
                                 ///< vector(n) → n, -1 when none (FORMATS.md §2.0)
    std::string type_name;       ///< pg_type.typname of the column type, e.g. "int4", "_text"
    std::string type_display;    ///< format_type(atttypid, atttypmod), e.g. "character varying(5)"
    std::uint32_t element_oid = 0;  ///< element type for arrays (typelem when typcategory = 'A'),
                                    ///< else 0
    std::string element_name;       ///< typname of the element type for arrays, else empty
    bool not_null = false;          ///< attnotnull
    bool has_default = false;       ///< atthasdef
};

/// What the engine needs to know of a target table before the first COPY.
struct TableInfo {
    std::string qualified_name;  ///< schema.table, each part quoted for SQL
    std::uint32_t oid = 0;       ///< pg_class OID
    /// The COPY column list: every column that is not dropped and not generated
    /// (generated columns cannot be named in COPY: copy.c CopyGetAttnums, 42P10), by attnum.
    std::vector<ColumnInfo> columns;

    /// `COPY <qualified_name> (<quoted columns>) FROM STDIN (FORMAT binary)`.
    [[nodiscard]] std::string copy_sql() const;
    /// The column named `name` (exact match), or nullptr.
    [[nodiscard]] const ColumnInfo* find(std::string_view name) const noexcept;
};

/// OIDs of pgvector's types in this database, 0 where the extension type does not exist.
/// Extension types have no fixed OIDs (FORMATS.md §4.6): they are looked up by name.
struct VectorTypeOids {
    std::uint32_t vector = 0;
    std::uint32_t halfvec = 0;
    std::uint32_t sparsevec = 0;
};

/// Reads the table's columns and pgvector's type OIDs in one round trip: both queries are sent
/// as one libpq pipeline (FORMATS.md §5.5). `table` is a name as a user writes it
/// (`events`, `audit.events`, `"Mixed Case"`), resolved with the connection's search_path by
/// `to_regclass`. Throws `Error` naming the table when it does not exist or has no columns
/// COPY can write, `ServerError` / `ConnectionError` when the server fails. The connection must
/// be idle and is left idle, out of pipeline mode. One thread.
[[nodiscard]] TableInfo read_table_info(Connection& conn, std::string_view table,
                                        VectorTypeOids* vector_oids = nullptr);

}  // namespace pgingest
