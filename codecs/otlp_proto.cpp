#include "codecs/otlp_proto.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "codecs/detail/otlp_frame.hpp"
#include "codecs/utf8.hpp"

namespace pgingest {

namespace {

constexpr std::uint32_t wire_varint = 0;
constexpr std::uint32_t wire_fixed64 = 1;
constexpr std::uint32_t wire_length = 2;
constexpr std::uint32_t wire_start_group = 3;
constexpr std::uint32_t wire_end_group = 4;
constexpr std::uint32_t wire_fixed32 = 5;

const char* wire_name(std::uint32_t wire) noexcept {
    static constexpr std::array<const char*, 8> names = {
        "varint", "fixed64", "length-delimited", "start group", "end group", "fixed32", "?", "?"};
    return names[wire & 7];
}

/// One field's tag: its number, wire type and where the tag starts.
struct Field {
    std::uint32_t number = 0;
    std::uint32_t wire = 0;
    std::size_t offset = 0;
};

/// Reads the fields of one message, [position, end) of `in`, reporting errors into `error`
/// with the message's name. Each read advances `position` past what it read.
class Reader {
public:
    Reader(std::string_view in, std::size_t begin, std::size_t end, const char* message,
           OtlpError& error) noexcept
        : _in(in), _position(begin), _end(end), _message(message), _error(error) {}

    [[nodiscard]] bool more() const noexcept { return _position < _end; }
    [[nodiscard]] std::size_t position() const noexcept { return _position; }

    bool tag(Field& field) {
        field.offset = _position;
        std::uint64_t value = 0;
        if (!varint(Where{}, value)) {
            return false;
        }
        field.wire = static_cast<std::uint32_t>(value & 7);
        if ((value >> 3) == 0) {
            return fail(Where{}, "field number 0", field.offset);
        }
        if ((value >> 3) > 0x1FFFFFFF) {
            return fail(Where{}, "field number above 536870911", field.offset);
        }
        field.number = static_cast<std::uint32_t>(value >> 3);
        if (field.wire > wire_fixed32) {
            return fail(Where{}, "invalid wire type " + std::to_string(field.wire),
                        field.offset);
        }
        return true;
    }

    bool u64(const Field& field, const char* name, std::uint64_t& value) {
        return expect(field, name, wire_varint) && varint(Where{name}, value);
    }

    bool u32(const Field& field, const char* name, std::uint32_t& value) {
        std::uint64_t wide = 0;
        if (!u64(field, name, wide)) {
            return false;
        }
        value = static_cast<std::uint32_t>(wide);  // protobuf truncates a uint32 varint
        return true;
    }

    bool i32(const Field& field, const char* name, std::int32_t& value) {
        std::uint32_t bits = 0;
        if (!u32(field, name, bits)) {
            return false;
        }
        value = static_cast<std::int32_t>(bits);
        return true;
    }

    bool fixed64(const Field& field, const char* name, std::uint64_t& value) {
        return expect(field, name, wire_fixed64) && little_endian(Where{name}, 8, value);
    }

    bool fixed32(const Field& field, const char* name, std::uint32_t& value) {
        std::uint64_t wide = 0;
        if (!expect(field, name, wire_fixed32) || !little_endian(Where{name}, 4, wide)) {
            return false;
        }
        value = static_cast<std::uint32_t>(wide);
        return true;
    }

    bool bytes(const Field& field, const char* name, std::size_t& begin, std::size_t& end) {
        return expect(field, name, wire_length) && length(Where{name}, begin, end);
    }

    bool string(const Field& field, const char* name, std::string_view& value) {
        std::size_t begin = 0;
        std::size_t end = 0;
        if (!bytes(field, name, begin, end)) {
            return false;
        }
        value = _in.substr(begin, end - begin);
        Status status = validate_utf8(value);
        if (!status.ok()) {
            return fail(Where{name}, "invalid UTF-8", begin + status.position);
        }
        return true;
    }

    /// An id field: empty (`present` false) or exactly `size` bytes.
    bool id(const Field& field, const char* name, std::uint8_t* out, std::size_t size,
            bool& present) {
        std::size_t begin = 0;
        std::size_t end = 0;
        if (!bytes(field, name, begin, end)) {
            return false;
        }
        if (end - begin != 0 && end - begin != size) {
            return fail(Where{name},
                        std::to_string(end - begin) + " bytes, expected " + std::to_string(size) +
                            ",",
                        begin);
        }
        present = end != begin;
        std::memcpy(out, _in.data() + begin, end - begin);
        return true;
    }

    /// Skips a field this decoder does not read, whatever its wire type.
    bool skip(const Field& field) {
        Where name{nullptr, field.number};
        std::uint64_t ignored = 0;
        std::size_t begin = 0;
        std::size_t end = 0;
        switch (field.wire) {
            case wire_varint:
                return varint(name, ignored);
            case wire_fixed64:
                return little_endian(name, 8, ignored);
            case wire_length:
                return length(name, begin, end);
            case wire_fixed32:
                return little_endian(name, 4, ignored);
            case wire_start_group:
                return skip_group(name, field);
            default:
                return fail(Where{}, "unmatched end group", field.offset);
        }
    }

private:
    /// What an error is about: a known field by name, an unknown one by number, or the
    /// message itself; turned into text only when an error is reported.
    struct Where {
        const char* field = nullptr;
        std::uint32_t number = 0;
    };

    bool fail(Where where, const std::string& what, std::size_t at) {
        std::string context = _message;
        if (where.field != nullptr) {
            context += std::string(".") + where.field;
        } else if (where.number != 0) {
            context += " field " + std::to_string(where.number);
        }
        _error.offset = at;
        _error.message = context + ": " + what + " at byte " + std::to_string(at);
        return false;
    }

    bool expect(const Field& field, const char* name, std::uint32_t wire) {
        if (field.wire == wire) {
            return true;
        }
        return fail(Where{name},
                    "wire type " + std::to_string(field.wire) + " (" + wire_name(field.wire) +
                        "), expected " + std::to_string(wire) + " (" + wire_name(wire) + "),",
                    field.offset);
    }

    bool varint(Where context, std::uint64_t& value) {
        // Tags and most lengths are one byte: skip the loop for them.
        if (_position < _end && static_cast<std::uint8_t>(_in[_position]) < 0x80) [[likely]] {
            value = static_cast<std::uint8_t>(_in[_position++]);
            return true;
        }
        std::size_t start = _position;
        value = 0;
        for (unsigned shift = 0; shift < 70; shift += 7) {
            if (_position >= _end) {
                return fail(context, "truncated varint", start);
            }
            auto byte = static_cast<std::uint8_t>(_in[_position++]);
            value |= static_cast<std::uint64_t>(byte & 0x7F) << (shift < 64 ? shift : 63);
            if ((byte & 0x80) == 0) {
                return true;
            }
        }
        return fail(context, "varint longer than 10 bytes", start);
    }

    bool little_endian(Where context, std::size_t size, std::uint64_t& value) {
        if (_end - _position < size) {
            return fail(context, size == 8 ? "truncated fixed64" : "truncated fixed32",
                        _position);
        }
        value = 0;
        for (std::size_t i = 0; i < size; ++i) {
            value |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(_in[_position + i]))
                     << (8 * i);
        }
        _position += size;
        return true;
    }

    bool length(Where context, std::size_t& begin, std::size_t& end) {
        std::size_t at = _position;
        std::uint64_t size = 0;
        if (!varint(context, size)) {
            return false;
        }
        if (size > _end - _position) {
            return fail(context,
                        "length " + std::to_string(size) + " runs past the end of " + _message +
                            " (byte " + std::to_string(_end) + ")",
                        at);
        }
        begin = _position;
        end = _position + static_cast<std::size_t>(size);
        _position = end;
        return true;
    }

    // Groups nest; only the field numbers of the open ones are kept (bounded like values).
    bool skip_group(Where context, const Field& start) {
        std::array<std::uint32_t, otlp_value_depth_max> open{};
        std::size_t depth = 0;
        open[depth++] = start.number;
        while (depth > 0) {
            if (!more()) {
                return fail(context, "group not closed before the end of " +
                                         std::string(_message) + ",",
                            start.offset);
            }
            Field field;
            if (!tag(field)) {
                return false;
            }
            if (field.wire == wire_end_group) {
                if (field.number != open[depth - 1]) {
                    return fail(context, "unmatched end group", field.offset);
                }
                --depth;
            } else if (field.wire == wire_start_group) {
                if (depth == open.size()) {
                    return fail(context, "groups nested deeper than 64", field.offset);
                }
                open[depth++] = field.number;
            } else if (!skip(field)) {
                return false;
            }
        }
        return true;
    }

    std::string_view _in;
    std::size_t _position;
    std::size_t _end;
    const char* _message;
    OtlpError& _error;
};

/// The member of an AnyValue's oneof that was set last.
struct AnyPick {
    std::uint32_t kind = 0;  // field number, 0 = unset
    std::uint64_t bits = 0;  // bool, int64, double
    std::size_t begin = 0;   // string, bytes, array, kvlist
    std::size_t end = 0;
};

bool read_any_value(std::string_view in, std::size_t begin, std::size_t end, AnyPick& pick,
                    OtlpError& error) {
    Reader reader(in, begin, end, "AnyValue", error);
    while (reader.more()) {
        Field field;
        if (!reader.tag(field)) {
            return false;
        }
        bool ok = true;
        std::string_view text;
        switch (field.number) {
            case 1:
                ok = reader.string(field, "string_value", text);
                pick.begin = static_cast<std::size_t>(text.data() - in.data());
                pick.end = pick.begin + text.size();
                break;
            case 2: ok = reader.u64(field, "bool_value", pick.bits); break;
            case 3: ok = reader.u64(field, "int_value", pick.bits); break;
            case 4: ok = reader.fixed64(field, "double_value", pick.bits); break;
            case 5: ok = reader.bytes(field, "array_value", pick.begin, pick.end); break;
            case 6: ok = reader.bytes(field, "kvlist_value", pick.begin, pick.end); break;
            case 7: ok = reader.bytes(field, "bytes_value", pick.begin, pick.end); break;
            default:
                if (!reader.skip(field)) {
                    return false;
                }
                continue;
        }
        if (!ok) {
            return false;
        }
        pick.kind = field.number;
    }
    return true;
}

/// A KeyValue: its key and the bounds of its value (`has_value` false when absent).
bool read_key_value(std::string_view in, std::size_t begin, std::size_t end,
                    std::string_view& key, bool& has_value, std::size_t& value_begin,
                    std::size_t& value_end, OtlpError& error) {
    Reader reader(in, begin, end, "KeyValue", error);
    key = {};
    has_value = false;
    while (reader.more()) {
        Field field;
        if (!reader.tag(field)) {
            return false;
        }
        if (field.number == 1) {
            if (!reader.string(field, "key", key)) {
                return false;
            }
        } else if (field.number == 2) {
            if (!reader.bytes(field, "value", value_begin, value_end)) {
                return false;
            }
            has_value = true;
        } else if (!reader.skip(field)) {
            return false;
        }
    }
    return true;
}

/// Hands one AnyValue to the sink; an array or kvlist opens a frame (false on error).
bool emit_any_value(std::string_view in, const AnyPick& pick, OtlpValueSink& sink,
                    OtlpAttributeWalker::Frame* frames, std::size_t& depth, OtlpError& error) {
    switch (pick.kind) {
        case 0: sink.empty_value(); return true;
        case 1: sink.string_value(in.substr(pick.begin, pick.end - pick.begin)); return true;
        case 2: sink.bool_value(pick.bits != 0); return true;
        case 3: sink.int_value(static_cast<std::int64_t>(pick.bits)); return true;
        case 4: sink.double_value(std::bit_cast<double>(pick.bits)); return true;
        case 7: sink.bytes_value(in.substr(pick.begin, pick.end - pick.begin)); return true;
        default: break;
    }
    if (depth + 1 >= otlp_value_depth_max) {
        error.offset = pick.begin;
        error.message = "AnyValue: nested deeper than " + std::to_string(otlp_value_depth_max) +
                        " at byte " + std::to_string(pick.begin);
        return false;
    }
    bool array = pick.kind == 5;
    array ? sink.begin_array() : sink.begin_kvlist();
    frames[++depth] = OtlpAttributeWalker::Frame{
        .position = pick.begin,
        .end = pick.end,
        .field_number = 1,
        .kind = array ? detail::otlp_frame_array : detail::otlp_frame_kvlist,
    };
    return true;
}

const char* frame_message(const OtlpAttributes& list, std::uint8_t kind) noexcept {
    if (kind == detail::otlp_frame_list) {
        return list.message_name;
    }
    return kind == detail::otlp_frame_array ? "ArrayValue" : "KeyValueList";
}

}  // namespace

namespace detail {

OtlpError walk_proto_attributes(const OtlpAttributes& list, OtlpValueSink& sink,
                                OtlpAttributeWalker::Frame* frames) {
    OtlpError error;
    std::string_view in = list.request;
    std::size_t depth = 0;
    frames[0] = OtlpAttributeWalker::Frame{.position = list.message_begin,
                                           .end = list.message_end,
                                           .field_number = list.field_number,
                                           .kind = otlp_frame_list};
    while (true) {
        OtlpAttributeWalker::Frame& frame = frames[depth];
        if (frame.position >= frame.end) {
            if (depth == 0) {
                return error;
            }
            frame.kind == otlp_frame_array ? sink.end_array() : sink.end_kvlist();
            --depth;
            continue;
        }
        Reader reader(in, frame.position, frame.end, frame_message(list, frame.kind), error);
        Field field;
        if (!reader.tag(field)) {
            return error;
        }
        if (field.number != frame.field_number) {
            if (!reader.skip(field)) {
                return error;
            }
            frame.position = reader.position();
            continue;
        }
        const char* name = frame.kind == otlp_frame_list ? "attributes" : "values";
        std::size_t begin = 0;
        std::size_t end = 0;
        if (!reader.bytes(field, name, begin, end)) {
            return error;
        }
        frame.position = reader.position();
        std::uint8_t kind = frame.kind;  // `frame` may be overwritten below
        if (kind != otlp_frame_array) {
            std::string_view key;
            bool has_value = false;
            if (!read_key_value(in, begin, end, key, has_value, begin, end, error)) {
                return error;
            }
            if (kind == otlp_frame_list) {
                if (!sink.attribute(key)) {
                    continue;
                }
            } else {
                sink.key(key);
            }
            if (!has_value) {
                sink.empty_value();
                continue;
            }
        }
        AnyPick pick;
        if (!read_any_value(in, begin, end, pick, error) ||
            !emit_any_value(in, pick, sink, frames, depth, error)) {
            return error;
        }
    }
}

}  // namespace detail

OtlpError OtlpProtoDecoder::decode(std::string_view request, OtlpTraceVisitor& visitor) {
    _in = request;
    _visitor = &visitor;
    _error = OtlpError{};
    Reader reader(_in, 0, _in.size(), "ExportTraceServiceRequest", _error);
    while (reader.more()) {
        Field field;
        std::size_t begin = 0;
        std::size_t end = 0;
        if (!reader.tag(field)) {
            break;
        }
        if (field.number == 1) {
            if (!reader.bytes(field, "resource_spans", begin, end) ||
                !resource_spans(begin, end)) {
                break;
            }
        } else if (!reader.skip(field)) {
            break;
        }
    }
    _visitor = nullptr;
    return std::move(_error);
}

bool OtlpProtoDecoder::validate(const OtlpAttributes& list) {
    OtlpNullSink sink;
    OtlpError error = _walker.walk(list, sink);
    if (!error.ok()) {
        _error = std::move(error);
        return false;
    }
    return true;
}

bool OtlpProtoDecoder::resource_spans(std::size_t begin, std::size_t end) {
    // First pass: the resource and schema_url, which may follow the scope_spans on the wire.
    OtlpResource resource;
    std::size_t resource_begin = 0;
    std::size_t resource_end = 0;
    Reader reader(_in, begin, end, "ResourceSpans", _error);
    while (reader.more()) {
        Field field;
        std::size_t ignored = 0;
        if (!reader.tag(field)) {
            return false;
        }
        bool ok = field.number == 1   ? reader.bytes(field, "resource", resource_begin,
                                                     resource_end)
                  : field.number == 2 ? reader.bytes(field, "scope_spans", ignored, ignored)
                  : field.number == 3 ? reader.string(field, "schema_url", resource.schema_url)
                                      : reader.skip(field);
        if (!ok) {
            return false;
        }
    }
    if (!this->resource(resource_begin, resource_end, resource)) {
        return false;
    }
    _visitor->resource(resource);
    // Second pass: the scope_spans, whose framing the first pass checked.
    Reader again(_in, begin, end, "ResourceSpans", _error);
    while (again.more()) {
        Field field;
        std::size_t scope_begin = 0;
        std::size_t scope_end = 0;
        if (!again.tag(field)) {
            return false;
        }
        if (field.number != 2) {
            if (!again.skip(field)) {
                return false;
            }
        } else if (!again.bytes(field, "scope_spans", scope_begin, scope_end) ||
                   !scope_spans(scope_begin, scope_end)) {
            return false;
        }
    }
    return true;
}

bool OtlpProtoDecoder::resource(std::size_t begin, std::size_t end, OtlpResource& out) {
    out.attributes = OtlpAttributes{.request = _in,
                                    .message_begin = begin,
                                    .message_end = end,
                                    .field_number = 1,
                                    .message_name = "Resource"};
    Reader reader(_in, begin, end, "Resource", _error);
    while (reader.more()) {
        Field field;
        std::size_t ignored = 0;
        if (!reader.tag(field)) {
            return false;
        }
        bool ok = field.number == 1   ? reader.bytes(field, "attributes", ignored, ignored)
                  : field.number == 2 ? reader.u32(field, "dropped_attributes_count",
                                                   out.dropped_attributes_count)
                                      : reader.skip(field);
        if (!ok) {
            return false;
        }
        out.attributes.count += field.number == 1 ? 1 : 0;
    }
    return validate(out.attributes);
}

bool OtlpProtoDecoder::scope_spans(std::size_t begin, std::size_t end) {
    OtlpScope scope;
    std::size_t scope_begin = 0;
    std::size_t scope_end = 0;
    Reader reader(_in, begin, end, "ScopeSpans", _error);
    while (reader.more()) {
        Field field;
        std::size_t ignored = 0;
        if (!reader.tag(field)) {
            return false;
        }
        bool ok = field.number == 1   ? reader.bytes(field, "scope", scope_begin, scope_end)
                  : field.number == 2 ? reader.bytes(field, "spans", ignored, ignored)
                  : field.number == 3 ? reader.string(field, "schema_url", scope.schema_url)
                                      : reader.skip(field);
        if (!ok) {
            return false;
        }
    }
    if (!this->scope(scope_begin, scope_end, scope)) {
        return false;
    }
    _visitor->scope(scope);
    Reader again(_in, begin, end, "ScopeSpans", _error);
    while (again.more()) {
        Field field;
        std::size_t span_begin = 0;
        std::size_t span_end = 0;
        if (!again.tag(field)) {
            return false;
        }
        if (field.number != 2) {
            if (!again.skip(field)) {
                return false;
            }
        } else if (!again.bytes(field, "spans", span_begin, span_end) ||
                   !span(span_begin, span_end)) {
            return false;
        }
    }
    return true;
}

bool OtlpProtoDecoder::scope(std::size_t begin, std::size_t end, OtlpScope& out) {
    out.attributes = OtlpAttributes{.request = _in,
                                    .message_begin = begin,
                                    .message_end = end,
                                    .field_number = 3,
                                    .message_name = "InstrumentationScope"};
    Reader reader(_in, begin, end, "InstrumentationScope", _error);
    while (reader.more()) {
        Field field;
        std::size_t ignored = 0;
        if (!reader.tag(field)) {
            return false;
        }
        bool ok = field.number == 1   ? reader.string(field, "name", out.name)
                  : field.number == 2 ? reader.string(field, "version", out.version)
                  : field.number == 3 ? reader.bytes(field, "attributes", ignored, ignored)
                  : field.number == 4 ? reader.u32(field, "dropped_attributes_count",
                                                   out.dropped_attributes_count)
                                      : reader.skip(field);
        if (!ok) {
            return false;
        }
        out.attributes.count += field.number == 3 ? 1 : 0;
    }
    return validate(out.attributes);
}

namespace {

/// One field of a Span other than events, links and status.
bool span_field(Reader& reader, const Field& field, OtlpSpan& span) {
    std::size_t ignored = 0;
    switch (field.number) {
        case 1:
            return reader.id(field, "trace_id", span.trace_id.data(), 16, span.has_trace_id);
        case 2: return reader.id(field, "span_id", span.span_id.data(), 8, span.has_span_id);
        case 3: return reader.string(field, "trace_state", span.trace_state);
        case 4:
            return reader.id(field, "parent_span_id", span.parent_span_id.data(), 8,
                             span.has_parent_span_id);
        case 5: return reader.string(field, "name", span.name);
        case 6: return reader.i32(field, "kind", span.kind);
        case 7: return reader.fixed64(field, "start_time_unix_nano", span.start_time_unix_nano);
        case 8: return reader.fixed64(field, "end_time_unix_nano", span.end_time_unix_nano);
        case 9:
            span.attributes.count += 1;
            return reader.bytes(field, "attributes", ignored, ignored);
        case 10:
            return reader.u32(field, "dropped_attributes_count", span.dropped_attributes_count);
        case 12: return reader.u32(field, "dropped_events_count", span.dropped_events_count);
        case 14: return reader.u32(field, "dropped_links_count", span.dropped_links_count);
        case 16: return reader.fixed32(field, "flags", span.flags);
        default: return reader.skip(field);
    }
}

}  // namespace

bool OtlpProtoDecoder::span(std::size_t begin, std::size_t end) {
    OtlpSpan out;
    out.offset = begin;
    out.attributes = OtlpAttributes{.request = _in,
                                    .message_begin = begin,
                                    .message_end = end,
                                    .field_number = 9,
                                    .message_name = "Span"};
    _events.clear();
    _links.clear();
    Reader reader(_in, begin, end, "Span", _error);
    while (reader.more()) {
        Field field;
        std::size_t part_begin = 0;
        std::size_t part_end = 0;
        if (!reader.tag(field)) {
            return false;
        }
        bool ok = true;
        if (field.number == 11) {
            ok = reader.bytes(field, "events", part_begin, part_end) &&
                 event(part_begin, part_end);
        } else if (field.number == 13) {
            ok = reader.bytes(field, "links", part_begin, part_end) &&
                 link(part_begin, part_end);
        } else if (field.number == 15) {
            ok = reader.bytes(field, "status", part_begin, part_end) &&
                 status(part_begin, part_end, out);
        } else {
            ok = span_field(reader, field, out);
        }
        if (!ok) {
            return false;
        }
    }
    if (!validate(out.attributes)) {
        return false;
    }
    out.events = _events;
    out.links = _links;
    _visitor->span(out);
    return true;
}

bool OtlpProtoDecoder::event(std::size_t begin, std::size_t end) {
    OtlpEvent out;
    out.attributes = OtlpAttributes{.request = _in,
                                    .message_begin = begin,
                                    .message_end = end,
                                    .field_number = 3,
                                    .message_name = "Span.Event"};
    Reader reader(_in, begin, end, "Span.Event", _error);
    while (reader.more()) {
        Field field;
        std::size_t ignored = 0;
        if (!reader.tag(field)) {
            return false;
        }
        bool ok = field.number == 1   ? reader.fixed64(field, "time_unix_nano",
                                                       out.time_unix_nano)
                  : field.number == 2 ? reader.string(field, "name", out.name)
                  : field.number == 3 ? reader.bytes(field, "attributes", ignored, ignored)
                  : field.number == 4 ? reader.u32(field, "dropped_attributes_count",
                                                   out.dropped_attributes_count)
                                      : reader.skip(field);
        if (!ok) {
            return false;
        }
        out.attributes.count += field.number == 3 ? 1 : 0;
    }
    if (!validate(out.attributes)) {
        return false;
    }
    _events.push_back(out);
    return true;
}

bool OtlpProtoDecoder::link(std::size_t begin, std::size_t end) {
    OtlpLink out;
    out.attributes = OtlpAttributes{.request = _in,
                                    .message_begin = begin,
                                    .message_end = end,
                                    .field_number = 4,
                                    .message_name = "Span.Link"};
    Reader reader(_in, begin, end, "Span.Link", _error);
    while (reader.more()) {
        Field field;
        std::size_t ignored = 0;
        if (!reader.tag(field)) {
            return false;
        }
        bool ok = true;
        switch (field.number) {
            case 1:
                ok = reader.id(field, "trace_id", out.trace_id.data(), 16, out.has_trace_id);
                break;
            case 2:
                ok = reader.id(field, "span_id", out.span_id.data(), 8, out.has_span_id);
                break;
            case 3: ok = reader.string(field, "trace_state", out.trace_state); break;
            case 4:
                ok = reader.bytes(field, "attributes", ignored, ignored);
                out.attributes.count += 1;
                break;
            case 5:
                ok = reader.u32(field, "dropped_attributes_count", out.dropped_attributes_count);
                break;
            case 6: ok = reader.fixed32(field, "flags", out.flags); break;
            default: ok = reader.skip(field); break;
        }
        if (!ok) {
            return false;
        }
    }
    if (!validate(out.attributes)) {
        return false;
    }
    _links.push_back(out);
    return true;
}

bool OtlpProtoDecoder::status(std::size_t begin, std::size_t end, OtlpSpan& out) {
    // A status given twice replaces the first as a whole (see the header).
    out.status_code = 0;
    out.status_message = {};
    Reader reader(_in, begin, end, "Status", _error);
    while (reader.more()) {
        Field field;
        if (!reader.tag(field)) {
            return false;
        }
        bool ok = field.number == 2   ? reader.string(field, "message", out.status_message)
                  : field.number == 3 ? reader.i32(field, "code", out.status_code)
                                      : reader.skip(field);
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace pgingest
