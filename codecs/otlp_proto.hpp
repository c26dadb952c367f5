#pragma once

// Decoder of OTLP `ExportTraceServiceRequest` protobuf bytes (the body of an OTLP/HTTP
// `application/x-protobuf` POST /v1/traces), written from the wire format alone.
//
// Field numbers: open-telemetry/opentelemetry-proto @ ac2c4b5, in opentelemetry/proto/:
// collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto,
// resource/v1/resource.proto (restated in ../shared/notes/OTLP.md §A1.5; nothing copied):
//
//   ExportTraceServiceRequest  1 resource_spans*
//   ResourceSpans              1 resource, 2 scope_spans*, 3 schema_url
//   Resource                   1 attributes*, 2 dropped_attributes_count, (3 entity_refs: skipped)
//   ScopeSpans                 1 scope, 2 spans*, 3 schema_url
//   InstrumentationScope       1 name, 2 version, 3 attributes*, 4 dropped_attributes_count
//   Span                       1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id, 5 name,
//                              6 kind, 7 start_time_unix_nano:fixed64,
//                              8 end_time_unix_nano:fixed64,
//                              9 attributes*, 10 dropped_attributes_count, 11 events*,
//                              12 dropped_events_count, 13 links*, 14 dropped_links_count,
//                              15 status, 16 flags:fixed32
//   Span.Event                 1 time_unix_nano:fixed64, 2 name, 3 attributes*, 4 dropped_...
//   Span.Link                  1 trace_id, 2 span_id, 3 trace_state, 4 attributes*,
//                              5 dropped_attributes_count, 6 flags:fixed32
//   Status                     2 message, 3 code
//   KeyValue                   1 key, 2 value, (3 key_strindex: profiles only, skipped)
//   AnyValue (oneof)           1 string, 2 bool, 3 int64, 4 double:fixed64,
//                              5 ArrayValue{1 values*}, 6 KeyValueList{1 values*}, 7 bytes,
//                              (8 string_value_strindex: profiles only, skipped)
//
// Wire format (protobuf encoding): each field is [tag:varint = number << 3 | wire type][payload]
// with wire type 0 varint, 1 fixed64 (8 bytes little-endian), 2 [length:varint][bytes],
// 3/4 start/end group (deprecated; skipped with their contents), 5 fixed32. Unknown fields of
// every wire type are skipped; for a repeated singular field (or several members of a oneof)
// the last one wins, and a singular message given twice is taken from its last occurrence (not
// merged as libprotobuf would). Strings must be valid UTF-8 (proto3 `string`); ids are empty or
// exactly 16 (trace) / 8 (span) bytes.
//
// Errors (`OtlpError::message`, exact forms; `<ctx>` is `Message.field`, `Message` for a tag,
// `Message field N` for an unknown field; N/offsets are byte offsets into the request):
//   <ctx>: truncated varint at byte B                  (B: the varint's first byte)
//   <ctx>: varint longer than 10 bytes at byte B
//   <ctx>: truncated fixed64 at byte B / truncated fixed32 at byte B   (B: the payload)
//   <ctx>: length L runs past the end of <Message> (byte E) at byte B  (B: the length varint)
//   <ctx>: wire type W (<name>), expected X (<name>), at byte B         (B: the tag)
//   <Message>: field number 0 at byte B / invalid wire type W at byte B / unmatched end group ...
//   <ctx>: invalid UTF-8 at byte B                     (B: the first bad byte)
//   <ctx>: L bytes, expected 16 (or 8), at byte B      (B: the id's first byte)
//   <ctx>: AnyValue nested deeper than 64 at byte B
// Decoding stops at the first error.

#include <cstddef>
#include <string_view>
#include <vector>

#include "codecs/otlp_model.hpp"

namespace pgingest {

/// Streaming decoder of `ExportTraceServiceRequest` bytes into an `OtlpTraceVisitor`.
/// Each attribute list is validated (walked once) before the span, scope or resource holding it
/// is visited, so the visitor's lists walk without error. Keeps its event and link vectors
/// between requests: no allocation per span once they have grown. Not thread-safe.
class OtlpProtoDecoder {
public:
    OtlpProtoDecoder() = default;

    /// Decodes `request` (which must outlive every view handed to `visitor`), calling the
    /// visitor in document order. On error the visitor has already seen the spans before the
    /// error: a caller that must be all-or-nothing discards them (or validates first with an
    /// `OtlpTraceVisitor` that does nothing). Errors: see the header comment.
    OtlpError decode(std::string_view request, OtlpTraceVisitor& visitor);

private:
    bool resource_spans(std::size_t begin, std::size_t end);
    bool resource(std::size_t begin, std::size_t end, OtlpResource& out);
    bool scope_spans(std::size_t begin, std::size_t end);
    bool scope(std::size_t begin, std::size_t end, OtlpScope& out);
    bool span(std::size_t begin, std::size_t end);
    bool event(std::size_t begin, std::size_t end);
    bool link(std::size_t begin, std::size_t end);
    bool status(std::size_t begin, std::size_t end, OtlpSpan& out);
    bool validate(const OtlpAttributes& list);

    std::string_view _in;
    OtlpTraceVisitor* _visitor = nullptr;
    OtlpError _error;
    OtlpAttributeWalker _walker;
    std::vector<OtlpEvent> _events;
    std::vector<OtlpLink> _links;
};

}  // namespace pgingest
