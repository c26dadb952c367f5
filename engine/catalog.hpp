#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/table_shape.hpp"
#include "engine/connection.hpp"

namespace pgingest {

/// OIDs of pgvector's types in this database, 0 where the extension type does not exist.
/// Extension types have no fixed OIDs (FORMATS.md §4.6): they are looked up by name.
struct VectorTypeOids {
    std::uint32_t vector = 0;
    std::uint32_t halfvec = 0;
    std::uint32_t sparsevec = 0;
};

/// Reads the table's columns, the types they are made of (domains, enums, ranges, composites,
/// arrays, to `type_depth_max` levels) and pgvector's type OIDs in one round trip: the queries
/// are sent as one libpq pipeline (FORMATS.md §5.5). `table` is a name as a user writes it
/// (`events`, `audit.events`, `"Mixed Case"`), resolved with the connection's search_path by
/// `to_regclass`. Throws `Error` naming the table when it does not exist or has no columns
/// COPY can write, `ServerError` / `ConnectionError` when the server fails. The connection must
/// be idle and is left idle, out of pipeline mode. One thread.
[[nodiscard]] TableInfo read_table_info(Connection& conn, std::string_view table,
                                        VectorTypeOids* vector_oids = nullptr);

}  // namespace pgingest
