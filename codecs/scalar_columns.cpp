#include "codecs/scalar_columns.hpp"

#include <charconv>

#include "codecs/bits.hpp"
#include "codecs/misc_types.hpp"
#include "codecs/network.hpp"
#include "codecs/oids.hpp"
#include "codecs/time_of_day.hpp"

namespace pgingest {

namespace {

struct ScalarType {
    std::uint32_t type_oid;
    ColumnKind kind;
    const char* name;
};

constexpr ScalarType scalar_types[] = {
    {oid::time, ColumnKind::time, "time"},
    {oid::timetz, ColumnKind::timetz, "timetz"},
    {oid::inet, ColumnKind::inet, "inet"},
    {oid::cidr, ColumnKind::cidr, "cidr"},
    {oid::macaddr, ColumnKind::macaddr, "macaddr"},
    {oid::macaddr8, ColumnKind::macaddr8, "macaddr8"},
    {oid::money, ColumnKind::money, "money"},
    {oid::bit, ColumnKind::bit, "bit"},
    {oid::varbit, ColumnKind::varbit, "varbit"},
    {oid::char_, ColumnKind::char_, "\"char\""},
    {oid::oid, ColumnKind::oid, "oid"},
    {oid::xml, ColumnKind::xml, "xml"},
    {oid::jsonpath, ColumnKind::jsonpath, "jsonpath"},
    {oid::pg_lsn, ColumnKind::pg_lsn, "pg_lsn"},
};

template <typename Number>
Status encode_number(ByteBuffer& out, ColumnKind kind, std::int32_t typmod, Number value) {
    char digits[32];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    (void)ec;  // 32 bytes hold any int64, uint64 or shortest double
    return encode_scalar_column_text(
        out, kind, typmod, std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

}  // namespace

ColumnKind scalar_column_kind(std::uint32_t type_oid) noexcept {
    for (const ScalarType& type : scalar_types) {
        if (type.type_oid == type_oid) {
            return type.kind;
        }
    }
    return ColumnKind::unsupported;
}

bool is_scalar_column_kind(ColumnKind kind) noexcept {
    return scalar_column_kind_name(kind) != nullptr;
}

const char* scalar_column_kind_name(ColumnKind kind) noexcept {
    for (const ScalarType& type : scalar_types) {
        if (type.kind == kind) {
            return type.name;
        }
    }
    return nullptr;
}

Status encode_scalar_column_text(ByteBuffer& out, ColumnKind kind, std::int32_t typmod,
                                 std::string_view text) {
    switch (kind) {
        case ColumnKind::time:
            return encode_time_text(out, text);
        case ColumnKind::timetz:
            return encode_timetz_text(out, text);
        case ColumnKind::inet:
            return encode_inet_text(out, text);
        case ColumnKind::cidr:
            return encode_cidr_text(out, text);
        case ColumnKind::macaddr:
            return encode_macaddr_text(out, text);
        case ColumnKind::macaddr8:
            return encode_macaddr8_text(out, text);
        case ColumnKind::money:
            return encode_money_text(out, text);
        case ColumnKind::bit:
            return encode_bit_text(out, text, typmod);
        case ColumnKind::varbit:
            return encode_varbit_text(out, text, typmod);
        case ColumnKind::char_:
            return encode_char_text(out, text);
        case ColumnKind::oid:
            return encode_oid_text(out, text);
        case ColumnKind::xml:
            return encode_xml_text(out, text);
        case ColumnKind::jsonpath:
            return encode_jsonpath_text(out, text);
        case ColumnKind::pg_lsn:
            return encode_pg_lsn_text(out, text);
        default:
            return Status{Errc::type_mismatch, 0};
    }
}

Status encode_scalar_column_number(ByteBuffer& out, ColumnKind kind, std::int32_t typmod,
                                   std::int64_t value) {
    return encode_number(out, kind, typmod, value);
}

Status encode_scalar_column_number(ByteBuffer& out, ColumnKind kind, std::int32_t typmod,
                                   std::uint64_t value) {
    return encode_number(out, kind, typmod, value);
}

Status encode_scalar_column_number(ByteBuffer& out, ColumnKind kind, std::int32_t typmod,
                                   double value) {
    return encode_number(out, kind, typmod, value);
}

}  // namespace pgingest
