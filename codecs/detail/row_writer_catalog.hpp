#pragma once

// issue 10: how RowWriter picks the codec of a catalog-driven type (enum, range, multirange,
// composite, contrib types). Private to codecs/row_writer*.cpp.

#include "codecs/table_shape.hpp"
#include "codecs/row_writer.hpp"

namespace pgingest::detail {

/// The kind of an enum, range, multirange, composite, hstore, ltree or citext (`text`) type,
/// when every part of it is encodable; `unsupported` otherwise (including every other type:
/// the caller then tries the built-in and pgvector kinds). Pure.
[[nodiscard]] ColumnKind catalog_kind(const ColumnInfo& type) noexcept;

/// True for the kinds `catalog_kind` returns besides `text` and `unsupported`.
[[nodiscard]] bool is_catalog_kind(ColumnKind kind) noexcept;

/// True when arrays of `kind` are encoded: any kind but unsupported, json/jsonb and pgvector's.
[[nodiscard]] bool is_array_element_kind(ColumnKind kind) noexcept;

}  // namespace pgingest::detail
