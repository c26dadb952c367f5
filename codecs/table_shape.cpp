#include "codecs/table_shape.hpp"

namespace pgingest {

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

}  // namespace pgingest
