#pragma once

// The OTLP trace data model shared by the protobuf decoder (codecs/otlp_proto.hpp), the
// OTLP/JSON decoder (codecs/otlp_json.hpp) and the span → tuple mapping (codecs/otlp_rows.hpp).
//
//   ExportTraceServiceRequest
//     └ ResourceSpans*      → OtlpTraceVisitor::resource(OtlpResource)
//         └ ScopeSpans*     → OtlpTraceVisitor::scope(OtlpScope)
//             └ Span*       → OtlpTraceVisitor::span(OtlpSpan)  (events and links included)
//
// No DOM of the request is built: strings are views into the decoded input (protobuf) or into
// the simdjson parser's string buffer (JSON), and attribute lists are handles walked on demand
// by `OtlpAttributeWalker`, as often as the caller needs (the mapping walks a span's list three
// times: attributes, input, output). Message and field names follow the OTLP `.proto` files
// (open-telemetry/opentelemetry-proto @ ac2c4b5, ../shared/notes/OTLP.md §A1.5).

#include <simdjson.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace pgingest {

/// A 16-byte OTLP trace id, as on the wire (protobuf `bytes`, JSON hex text decoded).
using OtlpTraceId = std::array<std::uint8_t, 16>;
/// An 8-byte OTLP span id, as on the wire.
using OtlpSpanId = std::array<std::uint8_t, 8>;

/// Why a request could not be decoded: `message` is empty on success. Protobuf messages name
/// the message and field and end with `at byte N` (`offset` = N, an offset into the request);
/// JSON messages start with the JSON pointer of the offending member (`offset` = 0). Allocates
/// only on error.
struct [[nodiscard]] OtlpError {
    std::string message;
    std::size_t offset = 0;

    /// True when decoding succeeded.
    [[nodiscard]] bool ok() const noexcept { return message.empty(); }
};

/// Deepest nesting of AnyValue arrays and kvlists inside one attribute value that the decoders
/// accept; deeper is an error (values are walked with an explicit stack of this many frames).
inline constexpr std::size_t otlp_value_depth_max = 64;

/// A list of KeyValue attributes, walked on demand by `OtlpAttributeWalker`. Either the
/// protobuf bytes of the enclosing message (whose fields numbered `field_number` are the
/// KeyValues), or a simdjson array of `{"key": ..., "value": {...}}` objects. Valid as long as
/// the decoded input (protobuf) or the decoder's parser (JSON) is.
struct OtlpAttributes {
    std::string_view request;         ///< protobuf: the whole request (offsets are into it)
    std::size_t message_begin = 0;    ///< protobuf: the enclosing message's first byte
    std::size_t message_end = 0;      ///< protobuf: one past its last byte
    std::uint32_t field_number = 0;   ///< protobuf: the repeated KeyValue field
    const char* message_name = "";    ///< protobuf: the enclosing message, for errors
    simdjson::dom::array json{};      ///< JSON: the attributes array
    bool is_json = false;             ///< which of the two representations is set
    std::uint32_t count = 0;          ///< number of KeyValues in the list
};

/// Receives one attribute list from `OtlpAttributeWalker::walk`: `attribute(key)` per
/// KeyValue, then (unless it returned false) exactly one value, which is a scalar call or a
/// begin/end pair holding values (arrays) or `key` + value pairs (kvlists). An unset AnyValue
/// (and a KeyValue without value) is `empty_value`.
class OtlpValueSink {
public:
    virtual ~OtlpValueSink() = default;
    /// A top-level attribute named `key` (UTF-8); false skips its value.
    virtual bool attribute(std::string_view key) = 0;
    /// The key of the next entry inside a kvlist (UTF-8).
    virtual void key(std::string_view key) = 0;
    /// An AnyValue with no member set (or a KeyValue without value).
    virtual void empty_value() = 0;
    /// `string_value` (UTF-8).
    virtual void string_value(std::string_view utf8) = 0;
    /// `bool_value`.
    virtual void bool_value(bool value) = 0;
    /// `int_value` (int64; OTLP/JSON's string or number form already converted).
    virtual void int_value(std::int64_t value) = 0;
    /// `double_value`; NaN and ±Infinity included.
    virtual void double_value(double value) = 0;
    /// `bytes_value`, raw (JSON's base64 already decoded); valid during the call only.
    virtual void bytes_value(std::string_view bytes) = 0;
    /// `array_value` opens: its values follow, then `end_array`.
    virtual void begin_array() = 0;
    /// The array opened last is complete.
    virtual void end_array() = 0;
    /// `kvlist_value` opens: `key` + value pairs follow, then `end_kvlist`.
    virtual void begin_kvlist() = 0;
    /// The kvlist opened last is complete.
    virtual void end_kvlist() = 0;
};

/// A sink that accepts everything and keeps nothing: walking with it validates a list.
class OtlpNullSink : public OtlpValueSink {
public:
    bool attribute(std::string_view) override { return true; }
    void key(std::string_view) override {}
    void empty_value() override {}
    void string_value(std::string_view) override {}
    void bool_value(bool) override {}
    void int_value(std::int64_t) override {}
    void double_value(double) override {}
    void bytes_value(std::string_view) override {}
    void begin_array() override {}
    void end_array() override {}
    void begin_kvlist() override {}
    void end_kvlist() override {}
};

/// Walks attribute lists of either encoding into an `OtlpValueSink`, with an explicit stack of
/// `otlp_value_depth_max` frames (no recursion on input-controlled depth). Errors are the
/// decoders' (a list handed out by a decoder was already walked once, so it does not fail).
/// Allocates its stack once; the JSON base64 scratch grows to the largest bytes value. Not
/// thread-safe: one per thread.
class OtlpAttributeWalker {
public:
    /// Allocates the frame stack (`otlp_value_depth_max` frames).
    OtlpAttributeWalker();
    ~OtlpAttributeWalker();
    OtlpAttributeWalker(OtlpAttributeWalker&&) noexcept;
    OtlpAttributeWalker& operator=(OtlpAttributeWalker&&) noexcept;

    /// Walks `list` into `sink`. Errors: see otlp_proto.hpp and otlp_json.hpp.
    OtlpError walk(const OtlpAttributes& list, OtlpValueSink& sink);

    struct Frame;  ///< one open array or kvlist (defined in the .cpp files)

private:
    std::unique_ptr<Frame[]> _frames;
    std::string _bytes;  ///< JSON: a base64 value decoded
};

/// One `Span.Event`.
struct OtlpEvent {
    std::uint64_t time_unix_nano = 0;
    std::string_view name;  ///< UTF-8
    OtlpAttributes attributes;
    std::uint32_t dropped_attributes_count = 0;
};

/// One `Span.Link`.
struct OtlpLink {
    OtlpTraceId trace_id{};
    OtlpSpanId span_id{};
    bool has_trace_id = false;  ///< false when absent or empty
    bool has_span_id = false;   ///< false when absent or empty
    std::string_view trace_state;  ///< W3C tracestate, UTF-8
    OtlpAttributes attributes;
    std::uint32_t dropped_attributes_count = 0;
    std::uint32_t flags = 0;  ///< bits 0-7 W3C trace flags, 0x100 HAS_IS_REMOTE, 0x200 IS_REMOTE
};

/// A decoded `Span`. `events` and `links` point into the decoder and are valid during the
/// `OtlpTraceVisitor::span` call only; everything else as long as the input (and the JSON
/// decoder's parser) lives.
struct OtlpSpan {
    OtlpTraceId trace_id{};
    OtlpSpanId span_id{};
    OtlpSpanId parent_span_id{};
    bool has_trace_id = false;        ///< false when absent or empty
    bool has_span_id = false;         ///< false when absent or empty
    bool has_parent_span_id = false;  ///< false for a root span (absent or empty)
    std::string_view trace_state;     ///< UTF-8
    std::uint32_t flags = 0;          ///< as `OtlpLink::flags`
    std::string_view name;            ///< UTF-8
    std::int32_t kind = 0;            ///< SpanKind: 0 unspecified .. 5 consumer (open enum)
    std::uint64_t start_time_unix_nano = 0;
    std::uint64_t end_time_unix_nano = 0;
    OtlpAttributes attributes;
    std::uint32_t dropped_attributes_count = 0;
    std::span<const OtlpEvent> events;
    std::uint32_t dropped_events_count = 0;
    std::span<const OtlpLink> links;
    std::uint32_t dropped_links_count = 0;
    std::int32_t status_code = 0;      ///< 0 unset, 1 ok, 2 error (open enum)
    std::string_view status_message;   ///< UTF-8
    std::size_t offset = 0;  ///< protobuf: byte offset of the Span message; JSON: span index
};

/// A decoded `Resource` with its `ResourceSpans.schema_url`. `entity_refs` are skipped.
struct OtlpResource {
    OtlpAttributes attributes;
    std::uint32_t dropped_attributes_count = 0;
    std::string_view schema_url;  ///< UTF-8
};

/// A decoded `InstrumentationScope` with its `ScopeSpans.schema_url`.
struct OtlpScope {
    std::string_view name;     ///< UTF-8
    std::string_view version;  ///< UTF-8
    OtlpAttributes attributes;
    std::uint32_t dropped_attributes_count = 0;
    std::string_view schema_url;  ///< UTF-8
};

/// Receives a request in document order: `resource` once per ResourceSpans, then `scope` once
/// per ScopeSpans in it, then `span` per Span in that. Called on the decoding thread.
class OtlpTraceVisitor {
public:
    virtual ~OtlpTraceVisitor() = default;
    /// A ResourceSpans begins; its scopes and spans follow.
    virtual void resource(const OtlpResource& resource) = 0;
    /// A ScopeSpans of the current resource begins; its spans follow.
    virtual void scope(const OtlpScope& scope) = 0;
    /// One span of the current scope, its attribute lists already validated.
    virtual void span(const OtlpSpan& span) = 0;
};

namespace detail {
/// Protobuf half of `OtlpAttributeWalker::walk` (codecs/otlp_proto.cpp).
OtlpError walk_proto_attributes(const OtlpAttributes& list, OtlpValueSink& sink,
                                OtlpAttributeWalker::Frame* frames);
/// JSON half of `OtlpAttributeWalker::walk` (codecs/otlp_json.cpp).
OtlpError walk_json_attributes(const OtlpAttributes& list, OtlpValueSink& sink,
                               OtlpAttributeWalker::Frame* frames, std::string& bytes);
}  // namespace detail

}  // namespace pgingest
