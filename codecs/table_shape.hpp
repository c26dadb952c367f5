#pragma once

// The shape of a COPY target as plain data: columns, their types and typmods, as the catalog
// describes them (engine/catalog.hpp reads them from a server; a hand-made TableInfo needs none).
// No libpq: RowWriter and the record plan depend on this, not on a connection.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgingest {

/// What a type is once domains are resolved: pg_type.typtype of `ColumnInfo::base_oid`
/// (issue 10: the types whose encoding depends on the catalog).
enum class TypeClass : std::uint8_t {
    base,         ///< 'b': built-in or extension base type; arrays are base types with an element
    enumeration,  ///< 'e': the labels are in `ColumnInfo::enum_labels`
    range,        ///< 'r': `ColumnInfo::children[0]` is the subtype (pg_range.rngsubtype)
    multirange,   ///< 'm': `ColumnInfo::children[0]` is the range type (pg_range.rngtypid)
    composite,    ///< 'c': `ColumnInfo::children` are the attributes, by attnum
    pseudo,       ///< 'p', or a type nested deeper than `type_depth_max`: nothing to encode
};

/// Deepest nesting of types the catalog read describes (a composite in a range in an array ...
/// counts one level each; a domain chain counts one). Deeper types are `TypeClass::pseudo`.
inline constexpr std::size_t type_depth_max = 8;

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

    // issue 10: catalog-driven types. The `base_*` fields describe the type with every domain
    // resolved (lsyscache.c getBaseTypeAndTypmod: the typmod is the innermost domain's
    // typtypmod); they equal type_oid/type_name/typmod when the type is not a domain. A
    // hand-made ColumnInfo may leave base_oid 0: type_oid is then the base type.
    TypeClass type_class = TypeClass::base;  ///< typtype of the base type
    std::uint32_t base_oid = 0;              ///< the type with domains resolved
    std::string base_name;                   ///< typname of base_oid
    std::int32_t base_typmod = -1;           ///< the typmod the base type's recv gets
    bool is_domain = false;                  ///< type_oid is a domain (the server runs its CHECKs)
    std::string base_extension;  ///< extension owning base_oid (pg_depend 'e'), e.g. "hstore"
    std::vector<std::string> enum_labels;  ///< enums: pg_enum.enumlabel in enumsortorder
    /// Nested types, each described like a column: an array's element (children[0], named
    /// ""), a range's subtype, a multirange's range type, a composite's attributes (named by
    /// attname, type_oid = atttypid: the OID record_recv expects). Empty otherwise.
    std::vector<ColumnInfo> children;

    /// base_oid, or type_oid when base_oid is not set.
    [[nodiscard]] std::uint32_t resolved_oid() const noexcept {
        return base_oid != 0 ? base_oid : type_oid;
    }
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

}  // namespace pgingest
