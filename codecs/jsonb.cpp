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

// Writes a scalar; false for a container (the caller opens it).
inline bool write_scalar(JsonWriter& writer, simdjson::dom::element element) {
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

void DomWriter::write(JsonWriter& writer, simdjson::dom::element element) {
    PGINGEST_ASSERT(writer.options().depth_max <= _depth_max);
    Frame* const frames = _frames.get();
    std::uint32_t depth = 0;
    for (;;) {
        // Write `element`; a container is opened and becomes the innermost frame.
        if (!write_scalar(writer, element)) {
            bool is_object = element.type() == simdjson::dom::element_type::OBJECT;
            is_object ? writer.begin_object() : writer.begin_array();
            // The writer refuses to open more than depth_max containers, so frames suffice.
            // Errors are sticky and turn later calls into no-ops, so this is the only check
            // the walk needs.
            if (!writer.status().ok()) {
                return;
            }
            Frame& frame = frames[depth];
            frame.is_object = is_object;
            if (is_object) {
                auto object = element.get_object().value_unsafe();
                frame.object_next = object.begin();
                frame.object_end = object.end();
            } else {
                auto array = element.get_array().value_unsafe();
                frame.array_next = array.begin();
                frame.array_end = array.end();
            }
            depth += 1;
        }
        // Find the next value: the next child of the innermost open container, closing the
        // containers that are done.
        for (;;) {
            if (depth == 0) {
                return;
            }
            Frame& frame = frames[depth - 1];
            if (frame.is_object) {
                if (frame.object_next != frame.object_end) {
                    writer.key_valid_utf8(frame.object_next.key());
                    element = frame.object_next.value();
                    ++frame.object_next;
                    break;
                }
                writer.end_object();
            } else {
                if (frame.array_next != frame.array_end) {
                    element = *frame.array_next;
                    ++frame.array_next;
                    break;
                }
                writer.end_array();
            }
            depth -= 1;
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
