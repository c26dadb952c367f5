#include "codecs/row_writer.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

#include "codecs/array.hpp"
#include "codecs/copy_binary.hpp"
#include "codecs/geometry.hpp"
#include "codecs/bytea.hpp"
#include "codecs/jsonb.hpp"
#include "codecs/numeric.hpp"
#include "codecs/oids.hpp"
#include "codecs/pgvector.hpp"
#include "codecs/scalars.hpp"
#include "codecs/text.hpp"
#include "codecs/scalar_columns.hpp"
#include "codecs/tsearch.hpp"
#include "codecs/detail/json_scan.hpp"
#include "codecs/detail/row_writer_catalog.hpp"

namespace pgingest {

namespace {

// issue 10: geometric and text-search types.
ColumnKind text_search_or_geometry_kind(std::uint32_t type_oid) noexcept {
    switch (type_oid) {
        case oid::point: return ColumnKind::point;
        case oid::line: return ColumnKind::line;
        case oid::lseg: return ColumnKind::lseg;
        case oid::box: return ColumnKind::box;
        case oid::path: return ColumnKind::path;
        case oid::polygon: return ColumnKind::polygon;
        case oid::circle: return ColumnKind::circle;
        case oid::tsvector: return ColumnKind::tsvector;
        case oid::tsquery: return ColumnKind::tsquery;
        default: return ColumnKind::unsupported;
    }
}

// The geometric type of a geometric kind (point .. circle).
GeometryType geometry_of(ColumnKind kind) noexcept {
    switch (kind) {
        case ColumnKind::line: return GeometryType::line;
        case ColumnKind::lseg: return GeometryType::lseg;
        case ColumnKind::box: return GeometryType::box;
        case ColumnKind::path: return GeometryType::path;
        case ColumnKind::polygon: return GeometryType::polygon;
        case ColumnKind::circle: return GeometryType::circle;
        default: return GeometryType::point;
    }
}

// A point from a JSON array of two numbers [x, y]; anything else is a type mismatch.
Status write_point_pair(ByteBuffer& out, simdjson::dom::array pair) {
    double xy[2] = {0, 0};
    std::size_t count = 0;
    for (simdjson::dom::element number : pair) {
        if (count == 2 || number.get_double().get(xy[count]) != simdjson::SUCCESS) {
            return Status{Errc::type_mismatch, 0};
        }
        ++count;
    }
    if (count != 2) {
        return Status{Errc::type_mismatch, 0};
    }
    encode_point(out, GeoPoint{xy[0], xy[1]});
    return Status{};
}

// `a` unless it is unsupported, else `b`: the kind tables of issue 10's type groups.
ColumnKind first_supported(ColumnKind a, ColumnKind b) noexcept {
    return a != ColumnKind::unsupported ? a : b;
}

ColumnKind builtin_kind(std::uint32_t type_oid) noexcept {
    switch (type_oid) {
        case oid::bool_:
            return ColumnKind::boolean;
        case oid::int2:
            return ColumnKind::int2;
        case oid::int4:
            return ColumnKind::int4;
        case oid::int8:
            return ColumnKind::int8;
        case oid::float4:
            return ColumnKind::float4;
        case oid::float8:
            return ColumnKind::float8;
        case oid::numeric:
            return ColumnKind::numeric;
        case oid::text:
            return ColumnKind::text;
        case oid::varchar:
            return ColumnKind::varchar;
        case oid::bpchar:
            return ColumnKind::bpchar;
        case oid::name:
            return ColumnKind::name;
        case oid::bytea:
            return ColumnKind::bytea;
        case oid::uuid:
            return ColumnKind::uuid;
        case oid::date:
            return ColumnKind::date;
        case oid::timestamp:
            return ColumnKind::timestamp;
        case oid::timestamptz:
            return ColumnKind::timestamptz;
        case oid::interval:
            return ColumnKind::interval;
        case oid::json:
            return ColumnKind::json;
        case oid::jsonb:
            return ColumnKind::jsonb;
        default:
            return first_supported(scalar_column_kind(type_oid),  // issue 10: scalar types
                                   text_search_or_geometry_kind(type_oid));
    }
}

ColumnKind vector_kind(std::string_view type_name) noexcept {
    if (type_name == "vector") {
        return ColumnKind::vector;
    }
    if (type_name == "halfvec") {
        return ColumnKind::halfvec;
    }
    if (type_name == "sparsevec") {
        return ColumnKind::sparsevec;
    }
    return ColumnKind::unsupported;
}

bool is_text_kind(ColumnKind kind) noexcept {
    return kind == ColumnKind::text || kind == ColumnKind::varchar || kind == ColumnKind::bpchar ||
           kind == ColumnKind::name;
}

bool is_integer_kind(ColumnKind kind) noexcept {
    return kind == ColumnKind::int2 || kind == ColumnKind::int4 || kind == ColumnKind::int8;
}

bool is_json_kind(ColumnKind kind) noexcept {
    return kind == ColumnKind::json || kind == ColumnKind::jsonb;
}

/// Characters allowed by varchar(n)/char(n): typmod n + 4 (FORMATS.md §2.0); none when -1.
std::size_t length_max_chars(std::int32_t typmod) noexcept {
    return typmod >= 4 ? static_cast<std::size_t>(typmod - 4)
                       : std::numeric_limits<std::size_t>::max();
}

/// vector(n) typmod is n itself; -1 when undeclared (pgvector vector.c vector_typmod_in).
std::int32_t vector_dims(std::int32_t typmod) noexcept {
    return typmod > 0 ? typmod : -1;
}

}  // namespace

const char* column_kind_name(ColumnKind kind) noexcept {
    switch (kind) {
        case ColumnKind::boolean:
            return "boolean";
        case ColumnKind::int2:
            return "smallint";
        case ColumnKind::int4:
            return "integer";
        case ColumnKind::int8:
            return "bigint";
        case ColumnKind::float4:
            return "real";
        case ColumnKind::float8:
            return "double precision";
        case ColumnKind::numeric:
            return "numeric";
        case ColumnKind::text:
            return "text";
        case ColumnKind::varchar:
            return "varchar";
        case ColumnKind::bpchar:
            return "char";
        case ColumnKind::name:
            return "name";
        case ColumnKind::bytea:
            return "bytea";
        case ColumnKind::uuid:
            return "uuid";
        case ColumnKind::date:
            return "date";
        case ColumnKind::timestamp:
            return "timestamp";
        case ColumnKind::timestamptz:
            return "timestamptz";
        case ColumnKind::interval:
            return "interval";
        case ColumnKind::json:
            return "json";
        case ColumnKind::jsonb:
            return "jsonb";
        case ColumnKind::vector:
            return "vector";
        case ColumnKind::halfvec:
            return "halfvec";
        case ColumnKind::sparsevec:
            return "sparsevec";
        // issue 10: geometric and text-search types
        case ColumnKind::point: return "point";
        case ColumnKind::line: return "line";
        case ColumnKind::lseg: return "lseg";
        case ColumnKind::box: return "box";
        case ColumnKind::path: return "path";
        case ColumnKind::polygon: return "polygon";
        case ColumnKind::circle: return "circle";
        case ColumnKind::tsvector: return "tsvector";
        case ColumnKind::tsquery: return "tsquery";
        case ColumnKind::array:
            return "array";
        // issue 10: catalog-driven types
        case ColumnKind::enumeration:
            return "enum";
        case ColumnKind::range:
            return "range";
        case ColumnKind::multirange:
            return "multirange";
        case ColumnKind::composite:
            return "composite";
        case ColumnKind::hstore:
            return "hstore";
        case ColumnKind::ltree:
            return "ltree";
        case ColumnKind::unsupported:
            return "unsupported type";
        default:
            return scalar_column_kind_name(kind);  // issue 10: scalar types
    }
    return "unknown";
}

ColumnCodec column_codec(const ColumnInfo& column) noexcept {
    ColumnCodec codec;
    codec.typmod = column.base_oid != 0 ? column.base_typmod : column.typmod;
    // int2vector (OID 22) and oidvector (30) look like arrays, but int2vectorrecv and
    // oidvectorrecv want lower bound 0 (22P03 "invalid int2vector data" for what ArrayWriter
    // writes) and their text is space-separated: no encoder yet, so refused up front.
    if (column.resolved_oid() == 22 || column.resolved_oid() == 30) {
        return codec;
    }
    if (column.element_oid != 0) {
        // issue 10: the element as the catalog describes it (domain, enum, composite ...).
        ColumnKind element = column.children.empty() ? builtin_kind(column.element_oid)
                                                     : column_codec(column.children[0]).kind;
        if (detail::is_array_element_kind(element)) {
            if (!column.children.empty()) {
                // An element that is a domain has its own typmod (varchar(3) under the domain).
                codec.typmod = column_codec(column.children[0]).typmod;
            }
            codec.kind = ColumnKind::array;
            codec.element = element;
            codec.element_oid = column.element_oid;
        }
        return codec;
    }
    codec.kind = detail::catalog_kind(column);
    if (codec.kind == ColumnKind::unsupported) {
        codec.kind = builtin_kind(column.resolved_oid());
    }
    if (codec.kind == ColumnKind::unsupported) {
        codec.kind = vector_kind(column.base_name.empty() ? column.type_name : column.base_name);
    }
    return codec;
}

RowWriter::RowWriter(const TableInfo& table, JsonWriterOptions json)
    : _columns(table.columns), _json_options(json), _json(_scratch, json) {
    _codecs.reserve(_columns.size());
    for (const ColumnInfo& column : _columns) {
        _codecs.push_back(column_codec(column));
    }
    _range_texts.resize(type_depth_max + 3);
    _range_parts.resize(type_depth_max + 3);
    _array_texts.resize(type_depth_max + 3);
    _record_texts.resize(type_depth_max + 3);
}

void RowWriter::start_tuple(ByteBuffer& out) {
    put_tuple_header(out, static_cast<std::uint16_t>(_columns.size()));
    begin(out);
}

void RowWriter::begin(ByteBuffer& out) noexcept {
    _out = &out;
    _column = 0;
    _last = Status{};
}

Status RowWriter::finish() const noexcept {
    if (_column != _columns.size()) {
        return Status{Errc::row_field_count, static_cast<std::uint32_t>(_column)};
    }
    return Status{};
}

Status RowWriter::done(Status status) noexcept {
    _last = status;
    if (status.ok()) {
        ++_column;
    }
    return status;
}

Status RowWriter::mismatch() noexcept {
    _last = full() ? Status{Errc::row_field_count, static_cast<std::uint32_t>(_column)}
                   : Status{Errc::type_mismatch, 0};
    return _last;
}

Status RowWriter::null() {
    if (full()) {
        return mismatch();
    }
    put_null(*_out);
    return done(Status{});
}

Status RowWriter::boolean(bool value) {
    if (full()) {
        return mismatch();
    }
    const ColumnCodec& codec = _codecs[_column];
    if (codec.kind == ColumnKind::boolean) {
        encode_bool(*_out, value);
        return done(Status{});
    }
    if (is_text_kind(codec.kind)) {
        return done(text_field(codec, value ? "true" : "false"));
    }
    return mismatch();
}

Status RowWriter::integer_field(ColumnKind kind, const ColumnCodec& codec, std::int64_t value) {
    switch (kind) {
        case ColumnKind::int2:
            return encode_int2_checked(*_out, value);
        case ColumnKind::int4:
            return encode_int4_checked(*_out, value);
        case ColumnKind::int8:
            encode_int8(*_out, value);
            return Status{};
        case ColumnKind::numeric:
            encode_numeric(*_out, value);
            return Status{};
        case ColumnKind::float4:
            return encode_float4_checked(*_out, static_cast<double>(value));
        case ColumnKind::float8:
            encode_float8(*_out, static_cast<double>(value));
            return Status{};
        default:
            break;
    }
    if (is_scalar_column_kind(kind)) {  // issue 10: scalar types
        return encode_scalar_column_number(*_out, kind, codec.typmod, value);
    }
    if (is_text_kind(kind)) {
        char digits[24];
        auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
        (void)ec;
        return text_field(codec, std::string_view(digits, static_cast<std::size_t>(end - digits)));
    }
    return Status{Errc::type_mismatch, 0};
}

Status RowWriter::integer(std::int64_t value) {
    if (full()) {
        return mismatch();
    }
    const ColumnCodec& codec = _codecs[_column];
    Status status = integer_field(codec.kind, codec, value);
    return status.code == Errc::type_mismatch ? mismatch() : done(status);
}

Status RowWriter::unsigned_field(const ColumnCodec& codec, std::uint64_t value) {
    if (value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return integer_field(codec.kind, codec, static_cast<std::int64_t>(value));
    }
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    (void)ec;
    std::string_view text(digits, static_cast<std::size_t>(end - digits));
    if (is_integer_kind(codec.kind)) {
        return Status{Errc::integer_out_of_range, 0};
    }
    if (is_scalar_column_kind(codec.kind)) {  // issue 10: scalar types
        return encode_scalar_column_number(*_out, codec.kind, codec.typmod, value);
    }
    if (codec.kind == ColumnKind::numeric) {
        return encode_numeric_text(*_out, text);
    }
    if (is_text_kind(codec.kind)) {
        return text_field(codec, text);
    }
    return floating_field(codec.kind, codec, static_cast<double>(value));
}

Status RowWriter::unsigned_integer(std::uint64_t value) {
    if (full()) {
        return mismatch();
    }
    Status status = unsigned_field(_codecs[_column], value);
    return status.code == Errc::type_mismatch ? mismatch() : done(status);
}

Status RowWriter::floating_field(ColumnKind kind, const ColumnCodec& codec, double value) {
    switch (kind) {
        case ColumnKind::float4:
            return encode_float4_checked(*_out, value);
        case ColumnKind::float8:
            encode_float8(*_out, value);
            return Status{};
        case ColumnKind::numeric:
            encode_numeric(*_out, value);
            return Status{};
        default:
            break;
    }
    if (is_scalar_column_kind(kind)) {  // issue 10: scalar types
        return encode_scalar_column_number(*_out, kind, codec.typmod, value);
    }
    if (is_integer_kind(kind)) {
        // 2^63 is exactly representable; anything below it and integral converts exactly.
        constexpr double limit = 9223372036854775808.0;
        if (value != std::trunc(value) || !(value >= -limit && value < limit)) {
            return Status{std::isfinite(value) && value == std::trunc(value)
                              ? Errc::integer_out_of_range
                              : Errc::invalid_integer,
                          0};
        }
        return integer_field(kind, codec, static_cast<std::int64_t>(value));
    }
    if (is_text_kind(kind)) {
        char digits[32];
        auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
        (void)ec;
        return text_field(codec, std::string_view(digits, static_cast<std::size_t>(end - digits)));
    }
    return Status{Errc::type_mismatch, 0};
}

Status RowWriter::floating(double value) {
    if (full()) {
        return mismatch();
    }
    const ColumnCodec& codec = _codecs[_column];
    Status status = floating_field(codec.kind, codec, value);
    return status.code == Errc::type_mismatch ? mismatch() : done(status);
}

Status RowWriter::text_field(const ColumnCodec& codec, std::string_view value) {
    switch (codec.kind) {
        case ColumnKind::text:
            return encode_text(*_out, value);
        case ColumnKind::varchar:
            return encode_varchar(*_out, value, length_max_chars(codec.typmod));
        case ColumnKind::bpchar:
            return encode_bpchar(*_out, value, length_max_chars(codec.typmod));
        case ColumnKind::name:
            return encode_name(*_out, value);
        default:
            return Status{Errc::type_mismatch, 0};
    }
}

Status RowWriter::text(std::string_view value) {
    if (full() || !is_text_kind(_codecs[_column].kind)) {
        return mismatch();
    }
    return done(text_field(_codecs[_column], value));
}

Status RowWriter::json_string_raw(std::string_view raw) {
    if (full() || !is_text_kind(_codecs[_column].kind)) {
        return mismatch();
    }
    const ColumnCodec& codec = _codecs[_column];
    std::size_t field_at = _out->size();
    _out->reserve(field_at + 4 + raw.size());  // one allocation; none when the record's is made
    (void)_out->put_placeholder_i32();
    std::size_t written = detail::unescape_json_string_into(raw, _out->extend(raw.size()));
    if (written == std::string_view::npos) {
        _out->truncate(field_at);
        _failed_text = {};
        return done(Status{Errc::json_syntax, 0});
    }
    _out->truncate(field_at + 4 + written);
    std::size_t limit = codec.kind == ColumnKind::varchar || codec.kind == ColumnKind::bpchar
                            ? length_max_chars(codec.typmod)
                            : 0;
    Status status = finish_text_in_place(*_out, field_at, limit, codec.kind == ColumnKind::name);
    _failed_text = status.ok() ? std::string_view{}
                               : std::string_view(_out->data() + field_at + 4, written);
    return done(status);
}

Status RowWriter::from_text_field(ColumnKind kind, const ColumnCodec& codec,
                                  std::string_view value) {
    switch (kind) {
        case ColumnKind::boolean:
            return encode_bool_text(*_out, value);
        case ColumnKind::int2:
        case ColumnKind::int4:
        case ColumnKind::int8: {
            std::int64_t parsed = 0;
            Status status = parse_int64(value, parsed);
            return status.ok() ? integer_field(kind, codec, parsed) : status;
        }
        case ColumnKind::float4:  // rounded once, from the text (float4in: strtof)
            return encode_float4_text(*_out, value);
        case ColumnKind::float8: {
            double parsed = 0;
            Status status = parse_double(value, parsed);
            return status.ok() ? floating_field(kind, codec, parsed) : status;
        }
        case ColumnKind::numeric:
            return encode_numeric_text(*_out, value);
        case ColumnKind::bytea:  // varlena.c byteain: "\x0102" or the escape format
            return encode_bytea_text(*_out, value);
        case ColumnKind::uuid:
            return encode_uuid_text(*_out, value);
        case ColumnKind::date:
            return encode_date_text(*_out, value);
        case ColumnKind::timestamp:
            return encode_timestamp_text(*_out, value);
        case ColumnKind::timestamptz:
            return encode_timestamptz_text(*_out, value);
        case ColumnKind::interval:
            return encode_interval_text(*_out, value);
        case ColumnKind::jsonb:
            return encode_jsonb_text(*_out, value, _json_options, _parser);
        case ColumnKind::json:
            return encode_json_text(*_out, value, _json_options, _parser);
        // issue 10: geometric and text-search types
        case ColumnKind::point:
        case ColumnKind::line:
        case ColumnKind::lseg:
        case ColumnKind::box:
        case ColumnKind::path:
        case ColumnKind::polygon:
        case ColumnKind::circle:
            return encode_geometry_text(*_out, geometry_of(kind), value);
        case ColumnKind::tsvector:
            return encode_tsvector_text(*_out, value, _tsearch);
        case ColumnKind::tsquery:
            return encode_tsquery_text(*_out, value, _tsearch);
        default:
            if (is_scalar_column_kind(kind)) {  // issue 10: scalar types
                return encode_scalar_column_text(*_out, kind, codec.typmod, value);
            }
            return text_field(codec, value);
    }
}

Status RowWriter::from_text(std::string_view value) {
    if (full()) {
        return mismatch();
    }
    const ColumnCodec& codec = _codecs[_column];
    ColumnKind kind = codec.kind;
    if (detail::is_catalog_kind(kind) || kind == ColumnKind::array) {  // issue 10
        Status status = catalog_text(_columns[_column], value, 0);
        return status.code == Errc::type_mismatch ? mismatch() : done(status);
    }
    if (kind == ColumnKind::vector || kind == ColumnKind::halfvec ||
        kind == ColumnKind::sparsevec) {
        simdjson::dom::element parsed;
        if (_parser.parse(value.data(), value.size()).get(parsed) != simdjson::SUCCESS ||
            !parsed.is_array()) {
            return mismatch();
        }
        return done(write_vector(codec, parsed.get_array().value_unsafe()));
    }
    Status status = from_text_field(kind, codec, value);
    return status.code == Errc::type_mismatch ? mismatch() : done(status);
}

Status RowWriter::bytes(std::string_view value) {
    if (full() || _codecs[_column].kind != ColumnKind::bytea) {
        return mismatch();
    }
    return done(encode_bytea(*_out, value));
}

Status RowWriter::uuid(const UuidBytes& value) {
    if (full() || _codecs[_column].kind != ColumnKind::uuid) {
        return mismatch();
    }
    encode_uuid(*_out, value);
    return done(Status{});
}

Status RowWriter::date(std::int32_t days_since_2000) {
    if (full() || _codecs[_column].kind != ColumnKind::date) {
        return mismatch();
    }
    return done(encode_date_checked(*_out, days_since_2000));
}

Status RowWriter::timestamp(std::int64_t us_since_2000) {
    if (full()) {
        return mismatch();
    }
    ColumnKind kind = _codecs[_column].kind;
    if (kind == ColumnKind::timestamp) {
        return done(encode_timestamp_checked(*_out, us_since_2000));
    }
    if (kind == ColumnKind::timestamptz) {
        return done(encode_timestamptz_checked(*_out, us_since_2000));
    }
    return mismatch();
}

Status RowWriter::interval(const Interval& value) {
    if (full() || _codecs[_column].kind != ColumnKind::interval) {
        return mismatch();
    }
    encode_interval(*_out, value);
    return done(Status{});
}

Status RowWriter::floats(std::span<const float> values) {
    if (full()) {
        return mismatch();
    }
    const ColumnCodec& codec = _codecs[_column];
    switch (codec.kind) {
        case ColumnKind::vector:
            return done(encode_vector(*_out, values, vector_dims(codec.typmod)));
        case ColumnKind::halfvec:
            return done(encode_halfvec(*_out, values, vector_dims(codec.typmod)));
        case ColumnKind::sparsevec:
            return done(encode_sparsevec_dense(*_out, values, vector_dims(codec.typmod)));
        case ColumnKind::array:
            break;
        default:
            return mismatch();
    }
    if (codec.element != ColumnKind::float4 && codec.element != ColumnKind::float8) {
        return mismatch();
    }
    ArrayWriter array(*_out, codec.element_oid);
    for (float value : values) {
        if (codec.element == ColumnKind::float4) {
            encode_float4(*_out, value);
        } else {
            encode_float8(*_out, static_cast<double>(value));
        }
    }
    return done(array.finish());
}

Status RowWriter::json_text(std::string_view text) {
    if (full()) {
        return mismatch();
    }
    ColumnKind kind = _codecs[_column].kind;
    if (kind == ColumnKind::jsonb) {
        return done(encode_jsonb_text(*_out, text, _json_options, _parser));
    }
    if (kind == ColumnKind::json) {
        return done(encode_json_text(*_out, text, _json_options, _parser));
    }
    return mismatch();
}

Status RowWriter::json_dom(simdjson::dom::element element) {
    if (full()) {
        return mismatch();
    }
    ColumnKind kind = _codecs[_column].kind;
    if (kind == ColumnKind::jsonb) {
        return done(encode_jsonb_dom(*_out, element, _json));
    }
    if (kind == ColumnKind::json) {
        return done(encode_json_dom(*_out, element, _json));
    }
    return mismatch();
}

Status RowWriter::json_parsed(std::string_view text) {
    JsonWriter* json = begin_json();
    if (json == nullptr) {
        return _last;
    }
    json->raw(text);
    return end_json();
}

JsonWriter* RowWriter::begin_json() {
    if (full() || !is_json_kind(_codecs[_column].kind)) {
        (void)mismatch();
        return nullptr;
    }
    FieldStart start = _codecs[_column].kind == ColumnKind::jsonb ? begin_jsonb(*_out)
                                                                  : pgingest::begin_json(*_out);
    _json_length_offset = start.length_offset;
    _json.reset(*_out);
    return &_json;
}

Status RowWriter::end_json() {
    PGINGEST_ASSERT(!full() && is_json_kind(_codecs[_column].kind));
    return done(end_json_field(*_out, FieldStart{_json_length_offset}, _json));
}

Status RowWriter::write_json_as_text(const ColumnCodec& codec, simdjson::dom::element value) {
    _scratch.clear();
    _json.reset(_scratch);
    write_dom(_json, value);
    Status status = _json.finish();
    if (!status.ok()) {
        return status;
    }
    return text_field(codec, _scratch.view());
}

Status RowWriter::json_scalar(const ColumnCodec& codec, simdjson::dom::element value) {
    using simdjson::dom::element_type;
    switch (value.type()) {
        case element_type::NULL_VALUE:
            put_null(*_out);
            return Status{};
        case element_type::STRING: {
            std::string_view text = value.get_string().value_unsafe();
            return is_text_kind(codec.kind) ? text_field(codec, text)
                                            : from_text_field(codec.kind, codec, text);
        }
        case element_type::INT64:
            return integer_field(codec.kind, codec, value.get_int64().value_unsafe());
        case element_type::UINT64:
            return unsigned_field(codec, value.get_uint64().value_unsafe());
        case element_type::DOUBLE:
            return floating_field(codec.kind, codec, value.get_double().value_unsafe());
        case element_type::BOOL:
            if (codec.kind == ColumnKind::boolean) {
                encode_bool(*_out, value.get_bool().value_unsafe());
                return Status{};
            }
            return text_field(codec, value.get_bool().value_unsafe() ? "true" : "false");
        case element_type::ARRAY:
            if (codec.kind == ColumnKind::point) {  // issue 10: [x, y]
                return write_point_pair(*_out, value.get_array().value_unsafe());
            }
            [[fallthrough]];
        case element_type::OBJECT:
            return is_text_kind(codec.kind) ? write_json_as_text(codec, value)
                                            : Status{Errc::type_mismatch, 0};
    }
    return Status{Errc::type_mismatch, 0};
}

Status RowWriter::write_array(const ColumnCodec& codec, simdjson::dom::array values) {
    ColumnCodec element{.kind = codec.element, .typmod = codec.typmod};
    if (element.kind == ColumnKind::float4 || element.kind == ColumnKind::float8) {
        return write_float_array(element, codec.element_oid, values);
    }
    ArrayWriter array(*_out, codec.element_oid);
    std::uint32_t index = 0;
    for (simdjson::dom::element value : values) {
        if ((value.is_array() && element.kind != ColumnKind::point) || value.is_object()) {
            if (!is_text_kind(element.kind)) {
                return Status{Errc::type_mismatch, index};
            }
        }
        Status status = json_scalar(element, value);
        if (!status.ok()) {
            return Status{status.code, index};
        }
        ++index;
    }
    return array.finish();
}

// The embedding path (real[], float8[]): JSON doubles are written straight into room reserved
// for the whole array, a length and a value each; from the first other element (an integer,
// NULL, "NaN") on, elements take json_scalar, so the result is the same as element by element.
Status RowWriter::write_float_array(const ColumnCodec& element, std::uint32_t element_oid,
                                    simdjson::dom::array values) {
    const bool single = element.kind == ColumnKind::float4;
    const std::size_t width = single ? float4_encoded_size_max() : float8_encoded_size_max();
    ArrayWriter array(*_out, element_oid);
    const std::size_t start = _out->size();
    char* at = _out->extend(values.size() * width);
    std::uint32_t index = 0;
    auto value = values.begin();
    for (; value != values.end(); ++value, ++index, at += width) {
        if ((*value).type() != simdjson::dom::element_type::DOUBLE) {
            break;
        }
        double number = (*value).get_double().value_unsafe();
        if (single) {
            float narrowed = 0;
            if (!narrow_to_float4(number, narrowed)) [[unlikely]] {
                return Status{Errc::float_out_of_range, index};  // ~ArrayWriter truncates
            }
            ByteBuffer::store_be(at, std::uint32_t{4});
            ByteBuffer::store_be(at + 4, std::bit_cast<std::uint32_t>(narrowed));
        } else {
            ByteBuffer::store_be(at, std::uint32_t{8});
            ByteBuffer::store_be(at + 4, std::bit_cast<std::uint64_t>(number));
        }
    }
    _out->truncate(start + index * width);
    for (; value != values.end(); ++value, ++index) {
        Status status = json_scalar(element, *value);
        if (!status.ok()) [[unlikely]] {
            return Status{status.code, index};
        }
    }
    return array.finish();
}

Status RowWriter::write_vector(const ColumnCodec& codec, simdjson::dom::array values) {
    _floats.clear();
    std::uint32_t index = 0;
    for (simdjson::dom::element value : values) {
        double number = 0;
        if (value.get_double().get(number) != simdjson::SUCCESS) {
            return Status{Errc::type_mismatch, index};
        }
        _floats.push_back(static_cast<float>(number));
        ++index;
    }
    std::int32_t dims = vector_dims(codec.typmod);
    switch (codec.kind) {
        case ColumnKind::vector:
            return encode_vector(*_out, _floats, dims);
        case ColumnKind::halfvec:
            return encode_halfvec(*_out, _floats, dims);
        default:
            return encode_sparsevec_dense(*_out, _floats, dims);
    }
}

Status RowWriter::json_value(simdjson::dom::element value) {
    if (full()) {
        return mismatch();
    }
    const ColumnCodec& codec = _codecs[_column];
    if (is_json_kind(codec.kind)) {
        return json_dom(value);
    }
    if (value.is_null()) {
        return null();
    }
    if (takes_catalog_path(codec, value)) {  // issue 10: catalog-driven types
        Status status = catalog_json(_columns[_column], value, 0);
        if (status.code == Errc::type_mismatch) {
            _last = status;
            return _last;
        }
        return done(status);
    }
    if (value.is_array()) {
        simdjson::dom::array values = value.get_array().value_unsafe();
        switch (codec.kind) {
            case ColumnKind::array:
                return done(write_array(codec, values));
            case ColumnKind::vector:
            case ColumnKind::halfvec:
            case ColumnKind::sparsevec:
                return done(write_vector(codec, values));
            default:
                break;
        }
    }
    Status status = codec.kind == ColumnKind::array || codec.kind == ColumnKind::unsupported
                        ? Status{Errc::type_mismatch, 0}
                        : json_scalar(codec, value);
    if (status.code == Errc::type_mismatch) {
        _last = Status{Errc::type_mismatch, status.position};
        return _last;
    }
    return done(status);
}

std::string RowWriter::describe(Status status, std::size_t column, std::string_view value) const {
    std::string message;
    if (column < _columns.size()) {
        const ColumnInfo& info = _columns[column];
        message += "column \"";
        message += info.name;
        message += "\" (";
        message += info.type_display.empty() ? info.type_name : info.type_display;
        message += "): ";
    }
    if (status.code == Errc::row_field_count) {
        message += errc_reason(status.code);
        return message;
    }
    message += describe_error(status, "", value);
    if (status.code != Errc::type_mismatch && status.code != Errc::invalid_array_text &&
        _codecs.size() > column &&
        _codecs[column].kind == ColumnKind::array &&
        std::string_view(errc_position_unit(status.code) == nullptr
                             ? ""
                             : errc_position_unit(status.code)) == "byte") {
        // An array element's codec error carries the element's index (write_array,
        // write_nd_array, write_array_text), not a byte offset into the value; only a
        // malformed array literal has a byte offset.
        const std::string byte = " at byte " + std::to_string(status.position) + ": ";
        if (std::size_t at = message.find(byte); at != std::string::npos) {
            message.replace(at, byte.size(),
                            " at element " + std::to_string(status.position) + ": ");
        }
    }
    if (status.code == Errc::float_out_of_range && column < _codecs.size()) {
        // The server's words for it (float.c float_overflow_error: "value out of range:
        // overflow"; float8in: "is out of range for type double precision"), with the type.
        const ColumnCodec& codec = _codecs[column];
        ColumnKind kind = codec.kind == ColumnKind::array ? codec.element : codec.kind;
        if (kind == ColumnKind::float4 || kind == ColumnKind::float8) {
            message.resize(message.size() - std::string_view(errc_reason(status.code)).size());
            message += "out of range for type ";
            message += column_kind_name(kind);
        }
    }
    if (status.code == Errc::type_mismatch && _codecs.size() > column &&
        _codecs[column].kind == ColumnKind::array) {
        message += " (element ";
        message += std::to_string(status.position);
        message += ")";
    }
    return message;
}

}  // namespace pgingest
