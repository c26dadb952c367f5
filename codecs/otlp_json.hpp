#pragma once

// Decoder of OTLP/JSON `ExportTraceServiceRequest` documents (the body of an OTLP/HTTP
// `application/json` POST /v1/traces, and the files OTLP file exporters write) into the same
// model as the protobuf decoder (codecs/otlp_model.hpp), through simdjson's DOM.
//
// Rules (open-telemetry/opentelemetry-proto @ ac2c4b5 docs/specification.md "JSON Protobuf
// Encoding", ../shared/notes/OTLP.md §A1.3):
//   - keys are the lowerCamelCase field names (`resourceSpans`, `startTimeUnixNano`, ...);
//     "Original field names are not valid", so snake_case keys are unknown fields;
//   - unknown keys are ignored; a member whose value is `null` is treated as absent;
//   - `traceId`/`spanId`/`parentSpanId` are case-insensitive hex (32 / 16 digits, or empty);
//   - enums (`kind`, `status.code`) are integers; names are refused;
//   - 64-bit integers (`startTimeUnixNano`, `intValue`, ...) are numbers or decimal strings,
//     and so are the 32-bit counts and `flags`;
//   - `doubleValue` is a number or the strings "NaN", "Infinity", "-Infinity" (or a decimal);
//   - `bytesValue` is base64 (standard or URL-safe alphabet, padding optional);
//   - AnyValue: `{"stringValue": ...}`, `boolValue`, `intValue`, `doubleValue`,
//     `arrayValue: {"values": [AnyValue...]}`, `kvlistValue: {"values": [KeyValue...]}`,
//     `bytesValue`; `{}` is an empty value.
//
// Errors (`OtlpError::message`, `offset` 0) start with the JSON pointer of the member, e.g.
//   /resourceSpans/0/scopeSpans/1/spans/3/traceId: expected 32 hex digits, got "abc"
//   /resourceSpans/0/scopeSpans/0/spans/0/attributes/2/value/intValue: expected a 64-bit
//       integer (number or decimal string)
//   invalid JSON: <simdjson's message>
// Decoding stops at the first error.

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/otlp_model.hpp"

namespace pgingest {

/// Decodes OTLP/JSON `ExportTraceServiceRequest` text into an `OtlpTraceVisitor`. The views it
/// hands out (strings, attribute lists) point into its parser and stay valid until the next
/// `decode`. Each attribute list is validated before its owner is visited. Keeps its parser and
/// vectors between requests. Not thread-safe.
class OtlpJsonDecoder {
public:
    OtlpJsonDecoder() = default;

    /// Parses `json` (copied into the parser's padded buffer) and visits it in document order.
    /// On error the visitor has already seen the spans before it (see OtlpProtoDecoder).
    OtlpError decode(std::string_view json, OtlpTraceVisitor& visitor);

private:
    bool resource_spans(simdjson::dom::object object);
    bool scope_spans(simdjson::dom::object object);
    bool span(simdjson::dom::object object);
    bool event(simdjson::dom::element element, std::size_t index);
    bool link(simdjson::dom::element element, std::size_t index);
    bool attributes(simdjson::dom::element element, std::string_view prefix, std::size_t index,
                    OtlpAttributes& out);
    bool fail(std::string_view member, std::string_view what);
    [[nodiscard]] std::string path() const;

    simdjson::dom::parser _parser;
    OtlpTraceVisitor* _visitor = nullptr;
    OtlpError _error;
    OtlpAttributeWalker _walker;
    std::vector<OtlpEvent> _events;
    std::vector<OtlpLink> _links;
    // Where the decoder is, for error paths: -1 when not inside that level.
    long _resource_index = -1;
    long _scope_index = -1;
    long _span_index = -1;
    std::size_t _spans_seen = 0;
};

}  // namespace pgingest
