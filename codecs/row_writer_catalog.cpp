// issue 10: RowWriter for the types whose encoding depends on the catalog: enums (labels from
// pg_enum), domains (their base type's codec; the server runs the domain's constraints),
// ranges and multiranges, composites, arrays of any rank, and the contrib types hstore, ltree
// and citext. Nested values recurse along the type, whose depth the catalog read bounds
// (type_depth_max), never along the input.

#include <algorithm>

#include "codecs/array.hpp"
#include "codecs/composite.hpp"
#include "codecs/contrib.hpp"
#include "codecs/copy_binary.hpp"
#include "codecs/jsonb.hpp"
#include "codecs/range.hpp"
#include "codecs/text.hpp"
#include "codecs/detail/row_writer_catalog.hpp"
#include "codecs/row_writer.hpp"

namespace pgingest {

namespace detail {

ColumnKind catalog_kind(const ColumnInfo& type) noexcept {
    switch (type.type_class) {
        case TypeClass::enumeration:
            return ColumnKind::enumeration;
        case TypeClass::range:
            return !type.children.empty() &&
                           column_codec(type.children[0]).kind != ColumnKind::unsupported
                       ? ColumnKind::range
                       : ColumnKind::unsupported;
        case TypeClass::multirange:
            return !type.children.empty() &&
                           column_codec(type.children[0]).kind == ColumnKind::range
                       ? ColumnKind::multirange
                       : ColumnKind::unsupported;
        case TypeClass::composite:
            for (const ColumnInfo& attribute : type.children) {
                if (column_codec(attribute).kind == ColumnKind::unsupported) {
                    return ColumnKind::unsupported;
                }
            }
            return ColumnKind::composite;
        case TypeClass::pseudo:
            return ColumnKind::unsupported;
        case TypeClass::base:
            break;
    }
    // Extension types: by the extension that owns them and their name (FORMATS.md §4.6).
    if (type.base_extension == "hstore" && type.base_name == "hstore") {
        return ColumnKind::hstore;
    }
    if (type.base_extension == "ltree" && type.base_name == "ltree") {
        return ColumnKind::ltree;
    }
    if (type.base_extension == "citext" && type.base_name == "citext") {
        return ColumnKind::text;  // citext.c citextrecv is textrecv
    }
    return ColumnKind::unsupported;
}

bool is_catalog_kind(ColumnKind kind) noexcept {
    switch (kind) {
        case ColumnKind::enumeration:
        case ColumnKind::range:
        case ColumnKind::multirange:
        case ColumnKind::composite:
        case ColumnKind::hstore:
        case ColumnKind::ltree:
            return true;
        default:
            return false;
    }
}

bool is_array_element_kind(ColumnKind kind) noexcept {
    switch (kind) {
        case ColumnKind::unsupported:
        case ColumnKind::vector:
        case ColumnKind::halfvec:
        case ColumnKind::sparsevec:
        case ColumnKind::array:
            return false;
        default:
            return true;
    }
}

}  // namespace detail

namespace {

bool is_text_like(ColumnKind kind) noexcept {
    return kind == ColumnKind::text || kind == ColumnKind::varchar || kind == ColumnKind::bpchar ||
           kind == ColumnKind::name || kind == ColumnKind::enumeration ||
           kind == ColumnKind::ltree;
}

// The subtype input functions of the built-in ranges skip surrounding whitespace; text-like
// subtypes keep it, as range_in hands the bound to them as it is.
std::string_view bound_text(ColumnKind subtype, std::string_view bound) noexcept {
    if (is_text_like(subtype)) {
        return bound;
    }
    auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    };
    while (!bound.empty() && space(bound.front())) {
        bound.remove_prefix(1);
    }
    while (!bound.empty() && space(bound.back())) {
        bound.remove_suffix(1);
    }
    return bound;
}

constexpr Status mismatch_status{Errc::type_mismatch, 0};

}  // namespace

bool RowWriter::takes_catalog_path(const ColumnCodec& codec, simdjson::dom::element value) const {
    if (detail::is_catalog_kind(codec.kind)) {
        return true;
    }
    if (codec.kind != ColumnKind::array || !(value.is_array() || value.is_string())) {
        return false;
    }
    if (value.is_string()) {
        return true;  // an array literal
    }
    if (detail::is_catalog_kind(codec.element) || codec.element == ColumnKind::json ||
        codec.element == ColumnKind::jsonb) {
        return true;  // json[] elements are any JSON value: write_nd_array, not json_scalar
    }
    if (codec.element == ColumnKind::point) {
        return false;  // [[x, y], ...] is a point[] of pairs; N-d point arrays take array text
    }
    simdjson::dom::array values = value.get_array().value_unsafe();
    auto first = values.begin();
    return first != values.end() && (*first).is_array();
}

Status RowWriter::catalog_json(const ColumnInfo& type, simdjson::dom::element value,
                               std::size_t depth) {
    if (depth > type_depth_max + 1) {
        return mismatch_status;
    }
    if (value.is_null()) {
        put_null(*_out);
        return Status{};
    }
    const ColumnCodec codec = column_codec(type);
    switch (codec.kind) {
        case ColumnKind::array:
            if (value.is_string()) {
                return write_array_text(type, value.get_string().value_unsafe(), depth);
            }
            return value.is_array() ? write_nd_array(type, value.get_array().value_unsafe(), depth)
                                    : mismatch_status;
        case ColumnKind::multirange:
            if (value.is_array()) {
                return write_multirange_json(type, value.get_array().value_unsafe(), depth);
            }
            break;
        case ColumnKind::composite:
            if (value.is_string()) {
                return write_composite_text(type, value.get_string().value_unsafe(), depth);
            }
            return value.is_array() || value.is_object()
                       ? write_composite_json(type, value, depth)
                       : mismatch_status;
        case ColumnKind::hstore:
            if (value.is_string()) {
                return write_hstore_text(value.get_string().value_unsafe());
            }
            return value.is_object() ? write_hstore_json(value.get_object().value_unsafe())
                                     : mismatch_status;
        case ColumnKind::json:
            return encode_json_dom(*_out, value, _json);
        case ColumnKind::jsonb:
            return encode_jsonb_dom(*_out, value, _json);
        case ColumnKind::vector:
        case ColumnKind::halfvec:
        case ColumnKind::sparsevec:
            return value.is_array() ? write_vector(codec, value.get_array().value_unsafe())
                                    : mismatch_status;
        case ColumnKind::unsupported:
            return mismatch_status;
        default:
            break;
    }
    if (detail::is_catalog_kind(codec.kind)) {
        return value.is_string() ? catalog_text(type, value.get_string().value_unsafe(), depth)
                                 : mismatch_status;
    }
    return json_scalar(codec, value);
}

Status RowWriter::catalog_text(const ColumnInfo& type, std::string_view text, std::size_t depth) {
    if (depth > type_depth_max + 1) {
        return mismatch_status;
    }
    const ColumnCodec codec = column_codec(type);
    switch (codec.kind) {
        case ColumnKind::enumeration:
            // enum.c enum_recv looks the label up in pg_enum (22P02 when absent): same check.
            if (std::find(type.enum_labels.begin(), type.enum_labels.end(), text) ==
                type.enum_labels.end()) {
                return Status{Errc::invalid_enum_label, 0};
            }
            return encode_text(*_out, text);
        case ColumnKind::range:
            return write_range_text(type, text, depth);
        case ColumnKind::multirange:
            return write_multirange_text(type, text, depth);
        case ColumnKind::ltree:
            return encode_ltree(*_out, text);
        case ColumnKind::array:
            return write_array_text(type, text, depth);
        case ColumnKind::composite:
            return write_composite_text(type, text, depth);
        case ColumnKind::hstore:
            return write_hstore_text(text);
        case ColumnKind::vector:
        case ColumnKind::halfvec:
        case ColumnKind::sparsevec:
        case ColumnKind::unsupported:
            return mismatch_status;
        default:
            return from_text_field(codec.kind, codec, text);
    }
}

Status RowWriter::write_array_text(const ColumnInfo& type, std::string_view text,
                                   std::size_t depth) {
    ArrayText& parsed = _array_texts[depth];
    Status status = parse_array_text(text, parsed);
    if (!status.ok()) {
        return status;
    }
    ColumnInfo hand_made;  // a ColumnInfo not read from the catalog has no element node
    if (type.children.empty()) {
        hand_made.type_oid = type.element_oid;
        hand_made.typmod = type.base_oid != 0 ? type.base_typmod : type.typmod;
    }
    const ColumnInfo& element = type.children.empty() ? hand_made : type.children[0];
    const std::size_t rank = parsed.rank == 0 ? 1 : parsed.rank;
    ArrayWriter array(*_out, type.element_oid, rank);
    for (std::size_t index = 0; index < parsed.elements.size(); index++) {
        if (parsed.elements[index].length < 0) {
            array.null_element();
            continue;
        }
        status = catalog_text(element, parsed.text(index), depth + 1);
        if (!status.ok()) {
            return Status{status.code, static_cast<std::uint32_t>(index)};  // ~ArrayWriter
        }
    }
    const std::uint32_t no_elements[1] = {0};
    return array.finish(parsed.rank == 0 ? std::span<const std::uint32_t>(no_elements)
                                         : std::span<const std::uint32_t>(parsed.dims, rank));
}

Status RowWriter::write_range_text(const ColumnInfo& type, std::string_view text,
                                   std::size_t depth) {
    RangeText& parsed = _range_texts[depth];
    Status status = parse_range_text(text, parsed);
    if (!status.ok()) {
        return status;
    }
    const bool empty = (parsed.flags & range_flag::empty) != 0;
    const bool lower_inf = (parsed.flags & range_flag::lower_inf) != 0;
    const bool upper_inf = (parsed.flags & range_flag::upper_inf) != 0;
    const std::uint8_t flags =
        range_flags(empty, lower_inf, (parsed.flags & range_flag::lower_inc) != 0, upper_inf,
                    (parsed.flags & range_flag::upper_inc) != 0);
    const ColumnInfo& subtype = type.children[0];
    const ColumnKind subtype_kind = column_codec(subtype).kind;
    FieldStart start = begin_range(*_out, flags);
    if (!empty && !lower_inf) {
        status = catalog_text(subtype, bound_text(subtype_kind, parsed.lower), depth + 1);
    }
    if (status.ok() && !empty && !upper_inf) {
        status = catalog_text(subtype, bound_text(subtype_kind, parsed.upper), depth + 1);
    }
    if (status.ok()) {
        status = end_range(*_out, start);
    }
    if (!status.ok()) {
        _out->truncate(start.length_offset);
    }
    return status;
}

Status RowWriter::write_multirange_text(const ColumnInfo& type, std::string_view text,
                                        std::size_t depth) {
    std::vector<std::string_view>& parts = _range_parts[depth];
    Status status = split_multirange_text(text, parts);
    if (!status.ok()) {
        return status;
    }
    FieldStart start = begin_multirange(*_out);
    for (std::string_view part : parts) {
        status = write_range_text(type.children[0], part, depth + 1);
        if (!status.ok()) {
            _out->truncate(start.length_offset);
            return status;
        }
    }
    status = end_multirange(*_out, start, static_cast<std::uint32_t>(parts.size()));
    if (!status.ok()) {
        _out->truncate(start.length_offset);
    }
    return status;
}

Status RowWriter::write_multirange_json(const ColumnInfo& type, simdjson::dom::array ranges,
                                        std::size_t depth) {
    FieldStart start = begin_multirange(*_out);
    std::uint32_t index = 0;
    for (simdjson::dom::element range : ranges) {
        // multirange_recv has no NULL ranges; ranges come as their text literals.
        Status status = range.is_string()
                            ? write_range_text(type.children[0], range.get_string().value_unsafe(),
                                               depth + 1)
                            : Status{Errc::type_mismatch, index};
        if (!status.ok()) {
            _out->truncate(start.length_offset);
            return status;
        }
        ++index;
    }
    Status status = end_multirange(*_out, start, index);
    if (!status.ok()) {
        _out->truncate(start.length_offset);
    }
    return status;
}

// rowtypes.c record_recv: every attribute, in attnum order, preceded by its atttypid.
Status RowWriter::write_composite_json(const ColumnInfo& type, simdjson::dom::element value,
                                       std::size_t depth) {
    const std::vector<ColumnInfo>& attributes = type.children;
    FieldStart start = begin_record(*_out, static_cast<std::uint32_t>(attributes.size()));
    auto fail = [&](Status status) {
        _out->truncate(start.length_offset);
        return status;
    };
    Status status{};
    if (value.is_array()) {
        simdjson::dom::array values = value.get_array().value_unsafe();
        if (values.size() > attributes.size()) {
            return fail(Status{Errc::composite_field_count,
                               static_cast<std::uint32_t>(attributes.size())});
        }
        std::size_t index = 0;
        for (simdjson::dom::element field : values) {
            put_record_field_oid(*_out, attributes[index].type_oid);
            status = catalog_json(attributes[index], field, depth + 1);
            if (!status.ok()) {
                return fail(status);
            }
            ++index;
        }
        for (; index < attributes.size(); index++) {
            put_record_field_oid(*_out, attributes[index].type_oid);
            put_null(*_out);
        }
        status = end_record(*_out, start);
        return status.ok() ? status : fail(status);
    }
    simdjson::dom::object fields = value.get_object().value_unsafe();
    std::uint32_t key_index = 0;
    for (simdjson::dom::key_value_pair field : fields) {
        auto named = [&](const ColumnInfo& attribute) { return attribute.name == field.key; };
        if (std::none_of(attributes.begin(), attributes.end(), named)) {
            return fail(Status{Errc::unknown_attribute, key_index});
        }
        ++key_index;
    }
    for (const ColumnInfo& attribute : attributes) {
        put_record_field_oid(*_out, attribute.type_oid);
        // The last occurrence of a repeated key wins, as in PostgreSQL's JSON functions.
        simdjson::dom::element found;
        bool present = false;
        for (simdjson::dom::key_value_pair field : fields) {
            if (field.key == attribute.name) {
                found = field.value;
                present = true;
            }
        }
        if (!present) {
            put_null(*_out);
            continue;
        }
        status = catalog_json(attribute, found, depth + 1);
        if (!status.ok()) {
            return fail(status);
        }
    }
    status = end_record(*_out, start);
    return status.ok() ? status : fail(status);
}

// rowtypes.c record_in splits the literal; each field is its attribute type's text input.
Status RowWriter::write_composite_text(const ColumnInfo& type, std::string_view text,
                                       std::size_t depth) {
    RecordText& parsed = _record_texts[depth];
    const std::vector<ColumnInfo>& attributes = type.children;
    Status status = parse_record_text(text, attributes.size(), parsed);
    if (!status.ok()) {
        return status;
    }
    FieldStart start = begin_record(*_out, static_cast<std::uint32_t>(attributes.size()));
    for (std::size_t index = 0; index < attributes.size(); index++) {
        put_record_field_oid(*_out, attributes[index].type_oid);
        if (parsed.fields[index].length < 0) {
            put_null(*_out);
            continue;
        }
        status = catalog_text(attributes[index], parsed.text(index), depth + 1);
        if (!status.ok()) {
            _out->truncate(start.length_offset);
            return status;
        }
    }
    status = end_record(*_out, start);
    if (!status.ok()) {
        _out->truncate(start.length_offset);
    }
    return status;
}

// hstore_io.c hstore_recv keeps one pair per key without saying which; a JSON object's last
// occurrence wins, so duplicates are dropped here. Pairs go out in the order hstore stores them
// (comparePairs: by key length, then bytes), so the field equals what hstore_send writes.
Status RowWriter::write_hstore_json(simdjson::dom::object pairs) {
    _pairs.clear();
    std::uint32_t index = 0;
    for (simdjson::dom::key_value_pair pair : pairs) {
        if (!pair.value.is_string() && !pair.value.is_null()) {
            return Status{Errc::invalid_hstore, index};
        }
        _pairs.emplace_back(pair.key, pair.value);
        ++index;
    }
    std::stable_sort(_pairs.begin(), _pairs.end(), [](const auto& a, const auto& b) {
        return a.first.size() != b.first.size() ? a.first.size() < b.first.size()
                                                : a.first < b.first;
    });
    FieldStart start = begin_hstore(*_out);
    std::uint32_t count = 0;
    for (std::size_t i = 0; i < _pairs.size(); i++) {
        if (i + 1 < _pairs.size() && _pairs[i + 1].first == _pairs[i].first) {
            continue;
        }
        std::string_view text;
        const bool null = _pairs[i].second.is_null();
        if (!null) {
            text = _pairs[i].second.get_string().value_unsafe();
        }
        Status status = put_hstore_pair(*_out, _pairs[i].first, null ? nullptr : &text);
        if (!status.ok()) {
            _out->truncate(start.length_offset);
            return status;
        }
        ++count;
    }
    Status status = end_hstore(*_out, start, count);
    if (!status.ok()) {
        _out->truncate(start.length_offset);
    }
    return status;
}

// hstore text keeps its pairs as written, duplicates included: the server drops them as it
// does for the same text given to hstore_in.
Status RowWriter::write_hstore_text(std::string_view text) {
    Status status = parse_hstore_text(text, _hstore_text);
    if (!status.ok()) {
        return status;
    }
    FieldStart start = begin_hstore(*_out);
    for (std::size_t i = 0; i < _hstore_text.pairs.size(); i++) {
        std::string_view value;
        const bool null = _hstore_text.pairs[i].value_length < 0;
        if (!null) {
            value = _hstore_text.value(i);
        }
        status = put_hstore_pair(*_out, _hstore_text.key(i), null ? nullptr : &value);
        if (!status.ok()) {
            _out->truncate(start.length_offset);
            return status;
        }
    }
    status = end_hstore(*_out, start, static_cast<std::uint32_t>(_hstore_text.pairs.size()));
    if (!status.ok()) {
        _out->truncate(start.length_offset);
    }
    return status;
}

// arrayfuncs.c array_recv: the rank is how deep the first elements nest; every sub-array of a
// level must have that level's length (array_in's rule for '{{1,2},{3}}': 22P02).
Status RowWriter::write_nd_array(const ColumnInfo& type, simdjson::dom::array values,
                                 std::size_t depth) {
    std::uint32_t dims[array_dimensions_max] = {};
    std::size_t rank = 0;
    simdjson::dom::array level = values;
    for (;;) {
        dims[rank++] = static_cast<std::uint32_t>(level.size());
        auto first = level.begin();
        if (first == level.end() || !(*first).is_array()) {
            break;
        }
        if (rank == array_dimensions_max) {
            return Status{Errc::array_too_many_dims, 0};
        }
        level = (*first).get_array().value_unsafe();
    }
    ColumnInfo hand_made;  // a ColumnInfo not read from the catalog has no element node
    if (type.children.empty()) {
        hand_made.type_oid = type.element_oid;
        hand_made.typmod = type.base_oid != 0 ? type.base_typmod : type.typmod;
    }
    const ColumnInfo& element = type.children.empty() ? hand_made : type.children[0];
    ArrayWriter array(*_out, type.element_oid, rank);
    std::uint32_t index = 0;
    Status status = write_array_level(element, values, std::span(dims, rank), index, depth + 1);
    if (!status.ok()) {
        return status;  // ~ArrayWriter truncates
    }
    return array.finish(std::span<const std::uint32_t>(dims, rank));
}

Status RowWriter::write_array_level(const ColumnInfo& element, simdjson::dom::array values,
                                    std::span<const std::uint32_t> dims, std::uint32_t& index,
                                    std::size_t depth) {
    if (values.size() != dims[0]) {
        return Status{Errc::array_ragged, index};
    }
    for (simdjson::dom::element value : values) {
        if (dims.size() > 1) {
            if (!value.is_array()) {
                return Status{Errc::array_ragged, index};
            }
            Status status = write_array_level(element, value.get_array().value_unsafe(),
                                              dims.subspan(1), index, depth);
            if (!status.ok()) {
                return status;
            }
            continue;
        }
        if (value.is_array()) {
            return Status{Errc::array_ragged, index};
        }
        Status status = catalog_json(element, value, depth);
        if (!status.ok()) {
            return Status{status.code, index};
        }
        ++index;
    }
    return Status{};
}

}  // namespace pgingest
