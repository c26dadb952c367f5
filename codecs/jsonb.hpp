#pragma once

// json and jsonb COPY fields (FORMATS.md §2.5, §3).
//
//   jsonb: [length:i32][version:u8=0x01][JSON text:length-1]   jsonb.c jsonb_recv
//   json : [length:i32][JSON text:length]                      json.c json_recv
//
// jsonb_recv reads the version with pq_getmsgint(buf, 1); anything but 1 is XX000 "unsupported
// jsonb version number". The text goes through the client-encoding check (22021 for invalid
// UTF-8) and then jsonb_from_cstring → pg_parse_json (common/jsonapi.c), which refuses
// `\u0000` (22P05) and lone surrogate escapes (22P02). json_recv parses too but stores the text
// verbatim and accepts `\u0000` and lone surrogates; we apply the jsonb rules to both, so that a
// json value can always be cast to jsonb.
//
// The text is written by `JsonWriter` (codecs/json_writer.hpp), from a simdjson DOM by
// `write_dom`, or copied from validated text by `encode_jsonb_text`.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/copy_binary.hpp"
#include "codecs/json_writer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// The only jsonb binary format version (jsonb.c jsonb_recv, jsonb_send).
inline constexpr std::uint8_t jsonb_version = 1;

/// Most bytes `encode_jsonb_text` appends for `text_size` bytes of JSON text: field length,
/// version byte and the text (stripping or replacing `\u0000` never makes it longer).
[[nodiscard]] constexpr std::size_t jsonb_text_encoded_size_max(std::size_t text_size) {
    return 4 + 1 + text_size;
}

/// Starts a jsonb field: a placeholder length and the version byte 0x01. Write the document
/// with a `JsonWriter` reset to `out`, then call `end_jsonb`.
[[nodiscard]] inline FieldStart begin_jsonb(ByteBuffer& out) {
    FieldStart start = begin_field(out);
    out.put_u8(jsonb_version);
    return start;
}

/// Starts a json field: a placeholder length, no version byte (json.c json_recv).
[[nodiscard]] inline FieldStart begin_json(ByteBuffer& out) { return begin_field(out); }

/// Ends a json or jsonb field begun with `begin_jsonb`/`begin_json`: `writer.finish()`, then
/// the field length is patched. On any error (the writer's, or `Errc::field_too_large`) the
/// buffer is truncated back to `start`, as if the field had never been begun.
[[nodiscard]] Status end_json_field(ByteBuffer& out, FieldStart start, JsonWriter& writer);

/// `end_json_field` for a jsonb field.
[[nodiscard]] inline Status end_jsonb(ByteBuffer& out, FieldStart start, JsonWriter& writer) {
    return end_json_field(out, start, writer);
}

/// `end_json_field` for a json field.
[[nodiscard]] inline Status end_json(ByteBuffer& out, FieldStart start, JsonWriter& writer) {
    return end_json_field(out, start, writer);
}

/// Writes a simdjson DOM value through a `JsonWriter`, walking it with an explicit stack (no
/// recursion on input-controlled depth). The stack of `depth_max` frames is allocated once at
/// construction; `write` does not allocate.
///
/// simdjson has unescaped the strings: a `\u0000` in the source is a NUL byte in the DOM, so it
/// meets the writer's NulPolicy, and simdjson 3.0 already refuses lone surrogate escapes at parse
/// time (STRING_ERROR). Numbers come out as simdjson parsed them: int64, uint64 or double
/// (shortest round-trip form), so `1.0` becomes `1` and digits beyond double precision are lost.
/// Not thread-safe; one per producer thread.
class DomWriter {
public:
    /// A walker for documents nested at most `depth_max` deep. Allocates.
    explicit DomWriter(std::uint32_t depth_max = JsonWriterOptions{}.depth_max);
    ~DomWriter();
    DomWriter(DomWriter&&) noexcept;
    DomWriter& operator=(DomWriter&&) noexcept;

    /// Writes `element` as one value through `writer`; errors land in `writer.status()` (e.g.
    /// `Errc::json_depth_exceeded`, `Errc::json_nul_escape`). `writer.options().depth_max` must
    /// not exceed this walker's `depth_max` (asserted).
    void write(JsonWriter& writer, simdjson::dom::element element);

    /// The deepest nesting `write` can walk.
    [[nodiscard]] std::uint32_t depth_max() const noexcept { return _depth_max; }

private:
    struct Frame;
    std::unique_ptr<Frame[]> _frames;
    std::uint32_t _depth_max;
};

/// `DomWriter::write` with a walker kept per thread (allocated on the first call, and again
/// only when a writer with a larger `depth_max` comes along).
void write_dom(JsonWriter& writer, simdjson::dom::element element);

/// Appends a whole jsonb field holding `element`, written by `writer` (which is reset to `out`).
/// Errors as `JsonWriter` and `end_json_field`; on error the buffer is unchanged.
[[nodiscard]] Status encode_jsonb_dom(ByteBuffer& out, simdjson::dom::element element,
                                      JsonWriter& writer);

/// `encode_jsonb_dom` for a json field.
[[nodiscard]] Status encode_json_dom(ByteBuffer& out, simdjson::dom::element element,
                                     JsonWriter& writer);

/// Appends a whole jsonb field holding arbitrary JSON `text`, copied verbatim after validation:
/// simdjson (DOM) checks the syntax and the UTF-8, then `JsonWriter::raw` checks `\u0000` (per
/// `options.nul`) and surrogate escapes. `parser` keeps its capacity between calls (it
/// allocates only when a document is larger than any before).
///
/// Errors: `Errc::json_syntax` (position 0: simdjson does not say where) for anything simdjson
/// refuses, including a UTF-8 BOM, `NaN`, a trailing comma, invalid UTF-8 and lone surrogate
/// escapes (simdjson 3.0 refuses those itself); also numbers outside int64/uint64/double range
/// (e.g. `1e400`, 30-digit integers), which jsonb would accept as numeric: a known limitation.
/// `Errc::json_nul_escape` (per `options.nul`), `Errc::field_too_large`. On error the buffer is
/// unchanged.
[[nodiscard]] Status encode_jsonb_text(ByteBuffer& out, std::string_view text,
                                       const JsonWriterOptions& options,
                                       simdjson::dom::parser& parser);

/// `encode_jsonb_text` with a parser kept per thread.
[[nodiscard]] Status encode_jsonb_text(ByteBuffer& out, std::string_view text,
                                       const JsonWriterOptions& options = {});

/// `encode_jsonb_text` for a json field (no version byte), same checks.
[[nodiscard]] Status encode_json_text(ByteBuffer& out, std::string_view text,
                                      const JsonWriterOptions& options,
                                      simdjson::dom::parser& parser);

}  // namespace pgingest
