#include "codecs/otlp_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "codecs/detail/hex.hpp"
#include "codecs/detail/otlp_frame.hpp"

namespace pgingest {

namespace {

constexpr std::size_t no_index = static_cast<std::size_t>(-1);

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

const char* const expect_u64 = "expected an unsigned 64-bit integer (number or decimal string)";
const char* const expect_u32 = "expected an unsigned 32-bit integer (number or decimal string)";
const char* const expect_i64 = "expected a 64-bit integer (number or decimal string)";
const char* const expect_enum = "expected an integer enum value";
const char* const expect_double =
    "expected a number, a decimal string, \"NaN\", \"Infinity\" or \"-Infinity\"";
const char* const expect_string = "expected a string";
const char* const expect_bool = "expected true or false";
const char* const expect_object = "expected an object";
const char* const expect_array = "expected an array";

template <typename Integer>
bool parse_decimal(std::string_view text, Integer& out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return !text.empty() && ec == std::errc{} && ptr == end;
}

bool json_u64(element value, std::uint64_t& out) {
    switch (value.type()) {
        case element_type::UINT64: out = value.get_uint64().value_unsafe(); return true;
        case element_type::INT64: {
            std::int64_t signed_value = value.get_int64().value_unsafe();
            out = static_cast<std::uint64_t>(signed_value);
            return signed_value >= 0;
        }
        case element_type::DOUBLE: {
            double number = value.get_double().value_unsafe();
            if (!(number >= 0.0 && number < 18446744073709551616.0) ||
                number != std::floor(number)) {
                return false;
            }
            out = static_cast<std::uint64_t>(number);
            return true;
        }
        case element_type::STRING:
            return parse_decimal(value.get_string().value_unsafe(), out);
        default: return false;
    }
}

bool json_i64(element value, std::int64_t& out) {
    switch (value.type()) {
        case element_type::INT64: out = value.get_int64().value_unsafe(); return true;
        case element_type::UINT64: return false;  // above INT64_MAX
        case element_type::DOUBLE: {
            double number = value.get_double().value_unsafe();
            if (!(number >= -9223372036854775808.0 && number < 9223372036854775808.0) ||
                number != std::floor(number)) {
                return false;
            }
            out = static_cast<std::int64_t>(number);
            return true;
        }
        case element_type::STRING:
            return parse_decimal(value.get_string().value_unsafe(), out);
        default: return false;
    }
}

bool json_u32(element value, std::uint32_t& out) {
    std::uint64_t wide = 0;
    if (!json_u64(value, wide) || wide > std::numeric_limits<std::uint32_t>::max()) {
        return false;
    }
    out = static_cast<std::uint32_t>(wide);
    return true;
}

bool json_enum(element value, std::int32_t& out) {
    if (value.type() != element_type::INT64) {
        return false;
    }
    std::int64_t wide = value.get_int64().value_unsafe();
    if (wide < std::numeric_limits<std::int32_t>::min() ||
        wide > std::numeric_limits<std::int32_t>::max()) {
        return false;
    }
    out = static_cast<std::int32_t>(wide);
    return true;
}

bool json_double(element value, double& out) {
    switch (value.type()) {
        case element_type::DOUBLE: out = value.get_double().value_unsafe(); return true;
        case element_type::INT64:
            out = static_cast<double>(value.get_int64().value_unsafe());
            return true;
        case element_type::UINT64:
            out = static_cast<double>(value.get_uint64().value_unsafe());
            return true;
        case element_type::STRING: {
            std::string_view text = value.get_string().value_unsafe();
            if (text == "NaN") {
                out = std::numeric_limits<double>::quiet_NaN();
            } else if (text == "Infinity") {
                out = std::numeric_limits<double>::infinity();
            } else if (text == "-Infinity") {
                out = -std::numeric_limits<double>::infinity();
            } else {
                // from_chars also reads "nan", "inf" and "infinity", which proto3 JSON does not.
                for (char c : text) {
                    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
                    if (letter && c != 'e' && c != 'E') {
                        return false;
                    }
                }
                return parse_decimal(text, out);
            }
            return true;
        }
        default: return false;
    }
}

bool json_string(element value, std::string_view& out) {
    if (value.type() != element_type::STRING) {
        return false;
    }
    out = value.get_string().value_unsafe();
    return true;
}

int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+' || c == '-') {
        return 62;
    }
    if (c == '/' || c == '_') {
        return 63;
    }
    return -1;
}

/// Decodes base64 (either alphabet, padding optional) into `out`; false on a bad character or
/// a length that cannot be base64.
bool decode_base64(std::string_view text, std::string& out) {
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
    }
    if (text.size() % 4 == 1) {
        return false;
    }
    out.clear();
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
        int value = base64_value(c);
        if (value < 0) {
            return false;
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out.push_back(static_cast<char>((bits >> count) & 0xFF));
        }
    }
    return true;
}

/// `text` as hex into `out` (`size` bytes): empty → absent; else exactly 2 × size hex digits.
bool json_id(element value, std::uint8_t* out, std::size_t size, bool& present) {
    std::string_view text;
    if (!json_string(value, text)) {
        return false;
    }
    present = !text.empty();
    if (text.empty()) {
        return true;
    }
    if (text.size() != 2 * size) {
        return false;
    }
    for (std::size_t i = 0; i < size; ++i) {
        int high = detail::hex_value(text[2 * i]);
        int low = detail::hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0) {
            return false;
        }
        out[i] = static_cast<std::uint8_t>(high * 16 + low);
    }
    return true;
}

std::string id_expectation(element value, std::size_t size) {
    std::string text = "expected " + std::to_string(2 * size) + " hex digits";
    std::string_view given;
    if (json_string(value, given)) {
        text += ", got \"" + std::string(given.substr(0, 64)) + "\"";
    }
    return text;
}

using Frame = OtlpAttributeWalker::Frame;

/// The JSON pointer of the entry the walker is on, relative to the list's owner.
std::string walk_path(const OtlpAttributes& list, const Frame* frames, std::size_t depth) {
    std::string path = "/" + std::string(list.message_name) + "/" +
                       std::to_string(frames[0].position - 1);
    for (std::size_t k = 1; k <= depth; ++k) {
        if (frames[k - 1].kind != detail::otlp_frame_array) {
            path += "/value";
        }
        path += frames[k].kind == detail::otlp_frame_array ? "/arrayValue/values/"
                                                           : "/kvlistValue/values/";
        path += std::to_string(frames[k].position - 1);
    }
    return path;
}

/// Why an AnyValue object cannot be read: its member name and the expectation; or empty.
struct AnyProblem {
    std::string_view member;
    const char* what = nullptr;
};

/// Hands one AnyValue object to the sink; an array or kvlist opens a frame.
AnyProblem emit_any_value(element value, OtlpValueSink& sink, std::string& bytes) {
    if (value.is_null()) {
        sink.empty_value();
        return {};
    }
    if (!value.is_object()) {
        return {"", expect_object};
    }
    std::string_view pick;
    element chosen;
    object object_1 = value.get_object().value_unsafe();
    for (auto [key, member] : object_1) {
        if (member.is_null()) {
            continue;
        }
        if (key == "stringValue" || key == "boolValue" || key == "intValue" ||
            key == "doubleValue" || key == "arrayValue" || key == "kvlistValue" ||
            key == "bytesValue") {
            pick = key;
            chosen = member;
        }
    }
    std::string_view text;
    std::int64_t integer = 0;
    double number = 0;
    if (pick.empty()) {
        sink.empty_value();
    } else if (pick == "stringValue") {
        if (!json_string(chosen, text)) {
            return {pick, expect_string};
        }
        sink.string_value(text);
    } else if (pick == "boolValue") {
        if (!chosen.is_bool()) {
            return {pick, expect_bool};
        }
        sink.bool_value(chosen.get_bool().value_unsafe());
    } else if (pick == "intValue") {
        if (!json_i64(chosen, integer)) {
            return {pick, expect_i64};
        }
        sink.int_value(integer);
    } else if (pick == "doubleValue") {
        if (!json_double(chosen, number)) {
            return {pick, expect_double};
        }
        sink.double_value(number);
    } else if (pick == "bytesValue") {
        if (!json_string(chosen, text) || !decode_base64(text, bytes)) {
            return {pick, "expected base64 text"};
        }
        sink.bytes_value(bytes);
    } else {
        return {};  // arrays and kvlists: the caller opens the frame
    }
    return {};
}

/// For arrayValue/kvlistValue: the `values` array, pushed as a new frame.
AnyProblem open_container(element value, OtlpValueSink& sink, Frame* frames,
                          std::size_t& depth) {
    std::string_view pick;
    element chosen;
    object object_2 = value.get_object().value_unsafe();
    for (auto [key, member] : object_2) {
        if (!member.is_null() && (key == "stringValue" || key == "boolValue" ||
                                  key == "intValue" || key == "doubleValue" ||
                                  key == "arrayValue" || key == "kvlistValue" ||
                                  key == "bytesValue")) {
            pick = key;
            chosen = member;
        }
    }
    if (pick != "arrayValue" && pick != "kvlistValue") {
        return {};
    }
    if (!chosen.is_object()) {
        return {pick, expect_object};
    }
    // A default array::iterator pair is empty; a default array must not be iterated.
    array::iterator next{};
    array::iterator last{};
    element listed;
    if (chosen.get_object().value_unsafe()["values"].get(listed) == simdjson::SUCCESS &&
        !listed.is_null()) {
        if (!listed.is_array()) {
            return {pick, "expected an array in \"values\""};
        }
        next = listed.get_array().value_unsafe().begin();
        last = listed.get_array().value_unsafe().end();
    }
    if (depth + 1 >= otlp_value_depth_max) {
        return {pick, "AnyValue nested deeper than 64"};
    }
    bool is_array = pick == "arrayValue";
    is_array ? sink.begin_array() : sink.begin_kvlist();
    frames[++depth] = Frame{
        .kind = is_array ? detail::otlp_frame_array : detail::otlp_frame_kvlist,
        .next = next,
        .last = last,
    };
    return {};
}

OtlpError walk_error(const OtlpAttributes& list, const Frame* frames, std::size_t depth,
                     std::string_view member, std::string_view what) {
    OtlpError error;
    error.message = walk_path(list, frames, depth);
    if (!member.empty()) {
        error.message += "/" + std::string(member);
    }
    error.message += ": " + std::string(what);
    return error;
}

}  // namespace

namespace detail {

OtlpError walk_json_attributes(const OtlpAttributes& list, OtlpValueSink& sink, Frame* frames,
                               std::string& bytes) {
    if (list.count == 0) {
        return {};  // a default dom::array (no list given) must not be iterated
    }
    std::size_t depth = 0;
    frames[0] = Frame{.kind = otlp_frame_list, .next = list.json.begin(),
                      .last = list.json.end()};
    while (true) {
        Frame& frame = frames[depth];
        if (frame.next == frame.last) {
            if (depth == 0) {
                return {};
            }
            frame.kind == otlp_frame_array ? sink.end_array() : sink.end_kvlist();
            --depth;
            continue;
        }
        element entry = *frame.next;
        ++frame.next;
        frame.position += 1;
        std::uint8_t kind = frame.kind;
        element value;  // null unless given
        if (kind != otlp_frame_array) {
            if (!entry.is_object()) {
                return walk_error(list, frames, depth, "", "expected a KeyValue object");
            }
            object pair = entry.get_object().value_unsafe();
            std::string_view key;
            element key_element;
            if (pair["key"].get(key_element) == simdjson::SUCCESS && !key_element.is_null() &&
                !json_string(key_element, key)) {
                return walk_error(list, frames, depth, "key", expect_string);
            }
            if (kind == otlp_frame_list ? !sink.attribute(key) : (sink.key(key), false)) {
                continue;
            }
            if (pair["value"].get(value) != simdjson::SUCCESS) {
                sink.empty_value();
                continue;
            }
        } else {
            value = entry;
        }
        std::string_view at = kind != otlp_frame_array ? "value" : "";
        AnyProblem problem = emit_any_value(value, sink, bytes);
        if (problem.what == nullptr && value.is_object()) {
            problem = open_container(value, sink, frames, depth);
        }
        if (problem.what != nullptr) {
            std::string member(at);
            if (!problem.member.empty()) {
                member += (member.empty() ? "" : "/") + std::string(problem.member);
            }
            return walk_error(list, frames, depth, member, problem.what);
        }
    }
}

}  // namespace detail

OtlpError OtlpJsonDecoder::decode(std::string_view json, OtlpTraceVisitor& visitor) {
    _visitor = &visitor;
    _error = OtlpError{};
    _resource_index = -1;
    _scope_index = -1;
    _span_index = -1;
    _spans_seen = 0;
    element root;
    simdjson::error_code code = _parser.parse(json.data(), json.size(), true).get(root);
    if (code != simdjson::SUCCESS) {
        _error.message = std::string("invalid JSON: ") + simdjson::error_message(code);
        return std::move(_error);
    }
    if (!root.is_object()) {
        fail("", expect_object);
        return std::move(_error);
    }
    element list;
    if (root.get_object().value_unsafe()["resourceSpans"].get(list) == simdjson::SUCCESS &&
        !list.is_null()) {
        if (!list.is_array()) {
            fail("/resourceSpans", expect_array);
            return std::move(_error);
        }
        array array_3 = list.get_array().value_unsafe();
        for (element item : array_3) {
            _resource_index += 1;
            _scope_index = -1;
            _span_index = -1;
            if (!item.is_object()) {
                fail("", expect_object);
                break;
            }
            if (!resource_spans(item.get_object().value_unsafe())) {
                break;
            }
        }
    }
    _visitor = nullptr;
    return std::move(_error);
}

std::string OtlpJsonDecoder::path() const {
    std::string text;
    if (_resource_index >= 0) {
        text += "/resourceSpans/" + std::to_string(_resource_index);
    }
    if (_scope_index >= 0) {
        text += "/scopeSpans/" + std::to_string(_scope_index);
    }
    if (_span_index >= 0) {
        text += "/spans/" + std::to_string(_span_index);
    }
    return text;
}

bool OtlpJsonDecoder::fail(std::string_view member, std::string_view what) {
    std::string where = path() + std::string(member);
    _error.message = (where.empty() ? std::string("/") : where) + ": " + std::string(what);
    return false;
}

bool OtlpJsonDecoder::attributes(element element_value, std::string_view prefix,
                                 std::size_t index, OtlpAttributes& out) {
    // The member's path is built only on error.
    auto member = [prefix, index] {
        return std::string(prefix) + (index == no_index ? "" : std::to_string(index));
    };
    out = OtlpAttributes{};
    out.message_name = "attributes";
    out.is_json = true;
    if (element_value.is_null()) {
        return true;
    }
    if (!element_value.is_array()) {
        return fail(member() + "/attributes", expect_array);
    }
    out.json = element_value.get_array().value_unsafe();
    out.count = static_cast<std::uint32_t>(out.json.size());
    OtlpNullSink sink;
    OtlpError error = _walker.walk(out, sink);
    if (!error.ok()) {
        _error.message = path() + member() + error.message;
        return false;
    }
    return true;
}

bool OtlpJsonDecoder::resource_spans(object object_value) {
    OtlpResource resource;
    element scope_list;
    bool has_scopes = false;
    for (auto [key, value] : object_value) {
        if (value.is_null()) {
            continue;
        }
        if (key == "resource") {
            if (!value.is_object()) {
                return fail("/resource", expect_object);
            }
            object object_4 = value.get_object().value_unsafe();
            for (auto [inner_key, inner] : object_4) {
                if (inner_key == "attributes" &&
                    !attributes(inner, "/resource", no_index, resource.attributes)) {
                    return false;
                }
                if (inner_key == "droppedAttributesCount" && !inner.is_null() &&
                    !json_u32(inner, resource.dropped_attributes_count)) {
                    return fail("/resource/droppedAttributesCount", expect_u32);
                }
            }
        } else if (key == "schemaUrl") {
            if (!json_string(value, resource.schema_url)) {
                return fail("/schemaUrl", expect_string);
            }
        } else if (key == "scopeSpans") {
            if (!value.is_array()) {
                return fail("/scopeSpans", expect_array);
            }
            scope_list = value;
            has_scopes = true;
        }
    }
    _visitor->resource(resource);
    if (!has_scopes) {
        return true;
    }
    array array_5 = scope_list.get_array().value_unsafe();
    for (element item : array_5) {
        _scope_index += 1;
        _span_index = -1;
        if (!item.is_object()) {
            return fail("", expect_object);
        }
        if (!scope_spans(item.get_object().value_unsafe())) {
            return false;
        }
    }
    return true;
}

bool OtlpJsonDecoder::scope_spans(object object_value) {
    OtlpScope scope;
    scope.attributes.is_json = true;
    element span_list;
    bool has_spans = false;
    for (auto [key, value] : object_value) {
        if (value.is_null()) {
            continue;
        }
        if (key == "scope") {
            if (!value.is_object()) {
                return fail("/scope", expect_object);
            }
            object object_6 = value.get_object().value_unsafe();
            for (auto [inner_key, inner] : object_6) {
                bool ok = inner.is_null() ? true
                          : inner_key == "name" ? json_string(inner, scope.name)
                          : inner_key == "version" ? json_string(inner, scope.version)
                          : inner_key == "droppedAttributesCount"
                              ? json_u32(inner, scope.dropped_attributes_count)
                              : true;
                if (!ok) {
                    return fail("/scope/" + std::string(inner_key),
                                inner_key == "droppedAttributesCount" ? expect_u32
                                                                      : expect_string);
                }
                if (inner_key == "attributes" &&
                    !attributes(inner, "/scope", no_index, scope.attributes)) {
                    return false;
                }
            }
        } else if (key == "schemaUrl") {
            if (!json_string(value, scope.schema_url)) {
                return fail("/schemaUrl", expect_string);
            }
        } else if (key == "spans") {
            if (!value.is_array()) {
                return fail("/spans", expect_array);
            }
            span_list = value;
            has_spans = true;
        }
    }
    _visitor->scope(scope);
    if (!has_spans) {
        return true;
    }
    array array_7 = span_list.get_array().value_unsafe();
    for (element item : array_7) {
        _span_index += 1;
        if (!item.is_object()) {
            return fail("", expect_object);
        }
        if (!span(item.get_object().value_unsafe())) {
            return false;
        }
    }
    return true;
}

namespace {

/// One scalar member of a span; the expectation when it is malformed, nullptr when fine.
const char* span_scalar(std::string_view key, element value, OtlpSpan& span,
                        std::string& id_problem) {
    if (key == "traceId") {
        if (!json_id(value, span.trace_id.data(), 16, span.has_trace_id)) {
            id_problem = id_expectation(value, 16);
            return id_problem.c_str();
        }
    } else if (key == "spanId" || key == "parentSpanId") {
        bool parent = key == "parentSpanId";
        std::uint8_t* out = parent ? span.parent_span_id.data() : span.span_id.data();
        if (!json_id(value, out, 8, parent ? span.has_parent_span_id : span.has_span_id)) {
            id_problem = id_expectation(value, 8);
            return id_problem.c_str();
        }
    } else if (key == "traceState" || key == "name") {
        if (!json_string(value, key == "name" ? span.name : span.trace_state)) {
            return expect_string;
        }
    } else if (key == "flags" || key == "droppedAttributesCount" ||
               key == "droppedEventsCount" || key == "droppedLinksCount") {
        std::uint32_t& out = key == "flags"                    ? span.flags
                             : key == "droppedAttributesCount" ? span.dropped_attributes_count
                             : key == "droppedEventsCount"     ? span.dropped_events_count
                                                               : span.dropped_links_count;
        if (!json_u32(value, out)) {
            return expect_u32;
        }
    } else if (key == "kind") {
        if (!json_enum(value, span.kind)) {
            return expect_enum;
        }
    } else if (key == "startTimeUnixNano" || key == "endTimeUnixNano") {
        if (!json_u64(value, key == "startTimeUnixNano" ? span.start_time_unix_nano
                                                        : span.end_time_unix_nano)) {
            return expect_u64;
        }
    }
    return nullptr;
}

}  // namespace

bool OtlpJsonDecoder::span(object object_value) {
    OtlpSpan out;
    out.offset = _spans_seen++;
    out.attributes.is_json = true;
    _events.clear();
    _links.clear();
    std::string id_problem;
    for (auto [key, value] : object_value) {
        if (value.is_null()) {
            continue;
        }
        if (key == "attributes") {
            if (!attributes(value, "", no_index, out.attributes)) {
                return false;
            }
        } else if (key == "events" || key == "links") {
            if (!value.is_array()) {
                return fail("/" + std::string(key), expect_array);
            }
            std::size_t index = 0;
            array array_8 = value.get_array().value_unsafe();
            for (element item : array_8) {
                if (!(key == "events" ? event(item, index) : link(item, index))) {
                    return false;
                }
                ++index;
            }
        } else if (key == "status") {
            if (!value.is_object()) {
                return fail("/status", expect_object);
            }
            object object_9 = value.get_object().value_unsafe();
            for (auto [inner_key, inner] : object_9) {
                if (inner_key == "message" && !inner.is_null() &&
                    !json_string(inner, out.status_message)) {
                    return fail("/status/message", expect_string);
                }
                if (inner_key == "code" && !inner.is_null() &&
                    !json_enum(inner, out.status_code)) {
                    return fail("/status/code", expect_enum);
                }
            }
        } else if (const char* what = span_scalar(key, value, out, id_problem)) {
            return fail("/" + std::string(key), what);
        }
    }
    out.events = _events;
    out.links = _links;
    _visitor->span(out);
    return true;
}

bool OtlpJsonDecoder::event(element element_value, std::size_t index) {
    // Built only on error: an event or link must not cost an allocation.
    auto at = [index] { return std::string("/events/") + std::to_string(index); };
    if (!element_value.is_object()) {
        return fail(at(), expect_object);
    }
    OtlpEvent out;
    out.attributes.is_json = true;
    object object_10 = element_value.get_object().value_unsafe();
    for (auto [key, value] : object_10) {
        if (value.is_null()) {
            continue;
        }
        if (key == "timeUnixNano" && !json_u64(value, out.time_unix_nano)) {
            return fail(at() + "/timeUnixNano", expect_u64);
        }
        if (key == "name" && !json_string(value, out.name)) {
            return fail(at() + "/name", expect_string);
        }
        if (key == "droppedAttributesCount" && !json_u32(value, out.dropped_attributes_count)) {
            return fail(at() + "/droppedAttributesCount", expect_u32);
        }
        if (key == "attributes" && !attributes(value, "/events/", index, out.attributes)) {
            return false;
        }
    }
    _events.push_back(out);
    return true;
}

bool OtlpJsonDecoder::link(element element_value, std::size_t index) {
    // Built only on error: an event or link must not cost an allocation.
    auto at = [index] { return std::string("/links/") + std::to_string(index); };
    if (!element_value.is_object()) {
        return fail(at(), expect_object);
    }
    OtlpLink out;
    out.attributes.is_json = true;
    object object_11 = element_value.get_object().value_unsafe();
    for (auto [key, value] : object_11) {
        if (value.is_null()) {
            continue;
        }
        if (key == "traceId" && !json_id(value, out.trace_id.data(), 16, out.has_trace_id)) {
            return fail(at() + "/traceId", id_expectation(value, 16));
        }
        if (key == "spanId" && !json_id(value, out.span_id.data(), 8, out.has_span_id)) {
            return fail(at() + "/spanId", id_expectation(value, 8));
        }
        if (key == "traceState" && !json_string(value, out.trace_state)) {
            return fail(at() + "/traceState", expect_string);
        }
        bool count = key == "droppedAttributesCount" || key == "flags";
        if (count && !json_u32(value, key == "flags" ? out.flags
                                                     : out.dropped_attributes_count)) {
            return fail(at() + "/" + std::string(key), expect_u32);
        }
        if (key == "attributes" && !attributes(value, "/links/", index, out.attributes)) {
            return false;
        }
    }
    _links.push_back(out);
    return true;
}

}  // namespace pgingest
