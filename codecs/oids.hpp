#pragma once

// Type OIDs of PostgreSQL's built-in types (FORMATS.md §2.0; include/catalog/pg_type.dat).
//
// Built-in OIDs are below 10000 (FirstGenbkiObjectId) and fixed across releases, so they can be
// constants. The server compares an array's element OID with the column's element type only when
// both are below 10000 (arrayfuncs.c array_recv): for built-ins it must be exact. Extension types
// (pgvector's `vector`, ...) have no fixed OID: the engine reads those from the catalog.

#include <cstdint>

namespace pgingest::oid {

inline constexpr std::uint32_t bool_ = 16;  ///< `bool`; trailing underscore: `bool` is a keyword
inline constexpr std::uint32_t bytea = 17;
inline constexpr std::uint32_t name = 19;
inline constexpr std::uint32_t int8 = 20;
inline constexpr std::uint32_t int2 = 21;
inline constexpr std::uint32_t int4 = 23;
inline constexpr std::uint32_t text = 25;
inline constexpr std::uint32_t json = 114;
inline constexpr std::uint32_t float4 = 700;
inline constexpr std::uint32_t float8 = 701;
inline constexpr std::uint32_t bpchar = 1042;
inline constexpr std::uint32_t varchar = 1043;
inline constexpr std::uint32_t date = 1082;
inline constexpr std::uint32_t timestamp = 1114;
inline constexpr std::uint32_t timestamptz = 1184;
inline constexpr std::uint32_t interval = 1186;
inline constexpr std::uint32_t numeric = 1700;
inline constexpr std::uint32_t uuid = 2950;
inline constexpr std::uint32_t jsonb = 3802;
// issue 10: scalar types
inline constexpr std::uint32_t char_ = 18;  ///< `"char"`; trailing underscore: `char` is a keyword
inline constexpr std::uint32_t oid = 26;
inline constexpr std::uint32_t xml = 142;
inline constexpr std::uint32_t cidr = 650;
inline constexpr std::uint32_t macaddr8 = 774;
inline constexpr std::uint32_t money = 790;
inline constexpr std::uint32_t macaddr = 829;
inline constexpr std::uint32_t inet = 869;
inline constexpr std::uint32_t time = 1083;
inline constexpr std::uint32_t timetz = 1266;
inline constexpr std::uint32_t bit = 1560;
inline constexpr std::uint32_t varbit = 1562;
inline constexpr std::uint32_t pg_lsn = 3220;
inline constexpr std::uint32_t jsonpath = 4072;

// issue 10: geometric and text-search types (codecs/geometry.hpp, codecs/tsearch.hpp)
inline constexpr std::uint32_t point = 600;
inline constexpr std::uint32_t lseg = 601;
inline constexpr std::uint32_t path = 602;
inline constexpr std::uint32_t box = 603;
inline constexpr std::uint32_t polygon = 604;
inline constexpr std::uint32_t line = 628;
inline constexpr std::uint32_t circle = 718;
inline constexpr std::uint32_t tsvector = 3614;
inline constexpr std::uint32_t tsquery = 3615;

}  // namespace pgingest::oid
