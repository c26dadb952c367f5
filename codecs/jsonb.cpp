#include "codecs/jsonb.hpp"

#include "codecs/assert.hpp"

namespace pgingest {

Status end_json_field(ByteBuffer& out, FieldStart start, JsonWriter& writer) {
    Status status = writer.finish();
    if (status.ok()) {
        status = end_field(out, start);
    }
    if (!status.ok()) {
        out.truncate(start.length_offset);
    }
    return status;
}

// One open container of the DOM walk: where its next child is and where it ends.
struct DomWriter::Frame {
    bool is_object = false;
    simdjson::dom::array::iterator array_next;
    simdjson::dom::array::iterator array_end;
    simdjson::dom::object::iterator object_next;
    simdjson::dom::object::iterator object_end;
};

DomWriter::DomWriter(std::uint32_t depth_max)
    : _frames(new Frame[depth_max == 0 ? 1 : depth_max]), _depth_max(depth_max) {}

DomWriter::~DomWriter() = default;
DomWriter::DomWriter(DomWriter&&) noexcept = default;
DomWriter& DomWriter::operator=(DomWriter&&) noexcept = default;

namespace {

// Writes a scalar; false for a container (the caller opens it). Inline into each loop that
// calls it, so that the string paths inline with it.
PGINGEST_ALWAYS_INLINE bool write_scalar(JsonWriter& writer, simdjson::dom::element element) {
    using simdjson::dom::element_type;
    switch (element.type()) {
        case element_type::STRING:
            writer.string_valid_utf8(element.get_string().value_unsafe());
            return true;
        case element_type::INT64: writer.number(element.get_int64().value_unsafe()); return true;
        case element_type::UINT64: writer.number(element.get_uint64().value_unsafe()); return true;
        case element_type::DOUBLE: writer.number(element.get_double().value_unsafe()); return true;
        case element_type::BOOL: writer.boolean(element.get_bool().value_unsafe()); return true;
        case element_type::NULL_VALUE: writer.null(); return true;
        case element_type::ARRAY:
        case element_type::OBJECT: return false;
    }
    return true;
}

}  // namespace

namespace {

// Writes the scalar members of an object from `at` on until it ends (true: closed) or a member
// is a container (false: it is in `child`, its key written, `at` past it). The iterator stays
// in a local while scalars go by: the writer's stores through char* could alias the frame.
inline bool write_members(JsonWriter& writer, simdjson::dom::object::iterator& at,
                          simdjson::dom::object::iterator end, simdjson::dom::element& child) {
    simdjson::dom::object::iterator next = at;
    while (next != end) {
        writer.key_valid_utf8(next.key());
        child = next.value();
        ++next;
        if (!write_scalar(writer, child)) {
            at = next;
            return false;
        }
    }
    writer.end_object();
    return true;
}

// `write_members` for the elements of an array.
inline bool write_elements(JsonWriter& writer, simdjson::dom::array::iterator& at,
                           simdjson::dom::array::iterator end, simdjson::dom::element& child) {
    simdjson::dom::array::iterator next = at;
    while (next != end) {
        child = *next;
        ++next;
        if (!write_scalar(writer, child)) {
            at = next;
            return false;
        }
    }
    writer.end_array();
    return true;
}

}  // namespace

void DomWriter::write(JsonWriter& writer, simdjson::dom::element element) {
    PGINGEST_ASSERT(writer.options().depth_max <= _depth_max);
    Frame* const frames = _frames.get();
    if (write_scalar(writer, element)) {
        return;
    }
    // `element` is a container to open; the scalars inside each container are written by
    // the tight loops of write_members / write_elements, which stop at the next container.
    std::uint32_t depth = 0;
    for (;;) {
        // The writer refuses to open more than depth_max containers, so the frames suffice.
        // Errors are sticky and turn later calls into no-ops, so this is the only check the
        // walk needs.
        bool is_object = element.type() == simdjson::dom::element_type::OBJECT;
        is_object ? writer.begin_object() : writer.begin_array();
        if (!writer.status().ok()) {
            return;
        }
        Frame& opened = frames[depth];
        opened.is_object = is_object;
        if (is_object) {
            auto object = element.get_object().value_unsafe();
            opened.object_next = object.begin();
            opened.object_end = object.end();
        } else {
            auto array = element.get_array().value_unsafe();
            opened.array_next = array.begin();
            opened.array_end = array.end();
        }
        depth += 1;
        for (;;) {
            Frame& frame = frames[depth - 1];
            bool closed = frame.is_object
                              ? write_members(writer, frame.object_next, frame.object_end, element)
                              : write_elements(writer, frame.array_next, frame.array_end, element);
            if (!closed) {
                break;  // `element` is the next container
            }
            depth -= 1;
            if (depth == 0) {
                return;
            }
        }
    }
}

void write_dom(JsonWriter& writer, simdjson::dom::element element) {
    thread_local DomWriter walker;
    if (walker.depth_max() < writer.options().depth_max) {
        walker = DomWriter(writer.options().depth_max);
    }
    walker.write(writer, element);
}

namespace {

Status encode_dom(ByteBuffer& out, FieldStart start, simdjson::dom::element element,
                  JsonWriter& writer) {
    writer.reset(out);
    write_dom(writer, element);
    return end_json_field(out, start, writer);
}

Status encode_text(ByteBuffer& out, FieldStart start, std::string_view text,
                   const JsonWriterOptions& options, simdjson::dom::parser& parser) {
    // simdjson checks syntax and UTF-8 (it copies the text to its padded buffer, which it
    // keeps); the copy into the field is then verbatim.
    if (parser.parse(text.data(), text.size()).error() != simdjson::SUCCESS) {
        out.truncate(start.length_offset);
        return Status{Errc::json_syntax, 0};
    }
    Status status = append_raw_json(out, text, options.nul);
    if (status.ok()) {
        status = end_field(out, start);
    }
    if (!status.ok()) {
        out.truncate(start.length_offset);
    }
    return status;
}

}  // namespace

Status encode_jsonb_dom(ByteBuffer& out, simdjson::dom::element element, JsonWriter& writer) {
    return encode_dom(out, begin_jsonb(out), element, writer);
}

Status encode_json_dom(ByteBuffer& out, simdjson::dom::element element, JsonWriter& writer) {
    return encode_dom(out, begin_json(out), element, writer);
}

Status encode_jsonb_text(ByteBuffer& out, std::string_view text, const JsonWriterOptions& options,
                         simdjson::dom::parser& parser) {
    return encode_text(out, begin_jsonb(out), text, options, parser);
}

Status encode_jsonb_text(ByteBuffer& out, std::string_view text,
                         const JsonWriterOptions& options) {
    thread_local simdjson::dom::parser parser;
    return encode_jsonb_text(out, text, options, parser);
}

Status encode_json_text(ByteBuffer& out, std::string_view text, const JsonWriterOptions& options,
                        simdjson::dom::parser& parser) {
    return encode_text(out, begin_json(out), text, options, parser);
}

}  // namespace pgingest
