// Proves the OTLP protobuf decoder on hand-built bytes: every AnyValue kind (nested arrays and
// kvlists included), events, links and status reach the visitor exactly; unknown fields of every
// wire type are skipped at every message level; every malformed input (truncated varint, length
// past the end, wrong wire type, invalid UTF-8, bad id lengths, bad tags, groups, nesting) stops
// decoding with the exact message and byte offset.

#include "codecs/otlp_proto.hpp"

#include <catch2/catch.hpp>

#include "tests/codecs/otlp_fixtures.hpp"

using namespace pgingest;
using namespace pgingest::otlp_test;

namespace {

/// Decodes `request`; returns the error message ("" on success) and fills `record`.
std::string decode(const std::string& request, std::string* record = nullptr) {
    OtlpProtoDecoder decoder;
    RecordingVisitor visitor;
    OtlpError error = decoder.decode(request, visitor);
    if (record != nullptr) {
        *record = visitor.text;
    }
    return error.message;
}

/// A request holding one span made of `span_fields`.
std::string one_span(const Pb& span_fields) {
    return Pb().m(1, Pb().m(2, Pb().m(2, span_fields))).bytes();
}

/// Byte offset of the span's first byte in `one_span(...)`: the request, resource_spans and
/// scope_spans tags and lengths (one byte each while the span is under 128 bytes).
constexpr std::size_t span_at = 6;

}  // namespace

TEST_CASE("otlp proto: a request with every AnyValue kind, events and links decodes exactly",
          "[codecs][otlp]") {
    std::string record;
    REQUIRE(decode(sample_request(), &record).empty());
    CHECK(record == sample_record);
}

TEST_CASE("otlp proto: unknown fields of every wire type at every level are skipped",
          "[codecs][otlp]") {
    std::string plain;
    std::string with_unknowns;
    REQUIRE(decode(sample_request(false), &plain).empty());
    REQUIRE(decode(sample_request(true), &with_unknowns).empty());
    CHECK(sample_request(true).size() > sample_request(false).size() + 200);
    CHECK(with_unknowns == plain);
    // Profiles-only fields (KeyValue.key_strindex = 3, AnyValue.string_value_strindex = 8).
    std::string record;
    Pb attribute = Pb().s(1, "k").u(3, 7).m(2, Pb().u(8, 4).s(1, "v"));
    REQUIRE(decode(one_span(Pb().m(9, attribute)), &record).empty());
    CHECK(record.find("{k=\"v\"}#1") != std::string::npos);
}

TEST_CASE("otlp proto: empty input, absent ids and a oneof set twice", "[codecs][otlp]") {
    std::string record;
    REQUIRE(decode("", &record).empty());
    CHECK(record.empty());
    REQUIRE(decode(one_span(Pb().s(1, "").s(5, "n")), &record).empty());
    CHECK(record == "resource {}#0 dropped=0 schema=\nscope   {}#0 dropped=0 schema=\n"
                    "span none none parent=none state= flags=0 name=n kind=0 t=0..0 {}#0 "
                    "dropped=0/0/0 status=0:\n");
    // The last member of a oneof wins, as in libprotobuf.
    Pb value = Pb().s(1, "first").u(3, 42);
    REQUIRE(decode(one_span(Pb().m(9, kv("k", value))), &record).empty());
    CHECK(record.find("{k=i:42}#1") != std::string::npos);
    // Negative int64 is a 10-byte varint.
    REQUIRE(decode(one_span(Pb().m(9, kv("k", any_int(-1)))), &record).empty());
    CHECK(record.find("{k=i:-1}#1") != std::string::npos);
}

TEST_CASE("otlp proto: truncated varints name the field and the varint's first byte",
          "[codecs][otlp]") {
    CHECK(decode("\x0a") == "ExportTraceServiceRequest.resource_spans: truncated varint at byte 1");
    CHECK(decode("\x80") == "ExportTraceServiceRequest: truncated varint at byte 0");
    // Span.kind = 0x80 with nothing after it, inside a span of 2 bytes.
    CHECK(decode(one_span(Pb().raw(Pb::tag(6, 0)).raw("\x80"))) ==
          "Span.kind: truncated varint at byte " + std::to_string(span_at + 1));
    CHECK(decode(one_span(Pb().raw(Pb::tag(6, 0)).raw(std::string(11, '\xff')))) ==
          "Span.kind: varint longer than 10 bytes at byte " + std::to_string(span_at + 1));
    // A truncated varint in an unknown field.
    CHECK(decode(one_span(Pb().raw(Pb::tag(99, 0)).raw("\x81"))) ==
          "Span field 99: truncated varint at byte " + std::to_string(span_at + 2));
}

TEST_CASE("otlp proto: a length past the end of its message is refused", "[codecs][otlp]") {
    // Top level: resource_spans claims 5 bytes, 2 follow.
    CHECK(decode("\x0a\x05\x01\x02") ==
          "ExportTraceServiceRequest.resource_spans: length 5 runs past the end of "
          "ExportTraceServiceRequest (byte 4) at byte 1");
    // Span.name claims 10 bytes inside a 4-byte span.
    std::string span = Pb::tag(5, 2) + "\x0a" + "ab";
    CHECK(decode(one_span(Pb().raw(span))) ==
          "Span.name: length 10 runs past the end of Span (byte " + std::to_string(span_at + 4) +
              ") at byte " + std::to_string(span_at + 1));
    // A KeyValue whose key runs past the KeyValue.
    Pb attribute = Pb().raw(Pb::tag(1, 2) + "\x09" + "k");
    CHECK(decode(one_span(Pb().m(9, attribute))) ==
          "KeyValue.key: length 9 runs past the end of KeyValue (byte " +
              std::to_string(span_at + 5) + ") at byte " + std::to_string(span_at + 3));
}

TEST_CASE("otlp proto: a known field with the wrong wire type is refused", "[codecs][otlp]") {
    CHECK(decode(one_span(Pb().u(5, 1))) ==
          "Span.name: wire type 0 (varint), expected 2 (length-delimited), at byte " +
              std::to_string(span_at));
    CHECK(decode(one_span(Pb().u(7, 1))) ==
          "Span.start_time_unix_nano: wire type 0 (varint), expected 1 (fixed64), at byte " +
              std::to_string(span_at));
    CHECK(decode(one_span(Pb().u(16, 1))) ==
          "Span.flags: wire type 0 (varint), expected 5 (fixed32), at byte " +
              std::to_string(span_at));
    CHECK(decode(one_span(Pb().s(6, "x"))) ==
          "Span.kind: wire type 2 (length-delimited), expected 0 (varint), at byte " +
              std::to_string(span_at));
    CHECK(decode(one_span(Pb().m(9, kv("k", Pb().u(4, 1))))) ==
          "AnyValue.double_value: wire type 0 (varint), expected 1 (fixed64), at byte " +
              std::to_string(span_at + 7));
    CHECK(decode(Pb().u(1, 1).bytes()) ==
          "ExportTraceServiceRequest.resource_spans: wire type 0 (varint), expected 2 "
          "(length-delimited), at byte 0");
}

TEST_CASE("otlp proto: invalid UTF-8 in a string field is refused at the bad byte",
          "[codecs][otlp]") {
    CHECK(decode(one_span(Pb().s(5, "ab\xc3("))) ==
          "Span.name: invalid UTF-8 at byte " + std::to_string(span_at + 4));
    CHECK(decode(one_span(Pb().m(9, kv("k\xff", any_string("v"))))) ==
          "KeyValue.key: invalid UTF-8 at byte " + std::to_string(span_at + 5));
    CHECK(decode(one_span(Pb().m(9, kv("k", any_string("\xed\xa0\x80"))))) ==
          "AnyValue.string_value: invalid UTF-8 at byte " + std::to_string(span_at + 9));
    CHECK(decode(one_span(Pb().m(15, Pb().s(2, "\xc0\xaf")))) ==
          "Status.message: invalid UTF-8 at byte " + std::to_string(span_at + 4));
    // bytes_value is not text: any bytes pass.
    CHECK(decode(one_span(Pb().m(9, kv("k", any_bytes("\xff\x00"))))).empty());
}

TEST_CASE("otlp proto: ids of the wrong length, truncated fixed fields", "[codecs][otlp]") {
    CHECK(decode(one_span(Pb().s(1, std::string(15, 'x')))) ==
          "Span.trace_id: 15 bytes, expected 16, at byte " + std::to_string(span_at + 2));
    CHECK(decode(one_span(Pb().s(4, std::string(9, 'x')))) ==
          "Span.parent_span_id: 9 bytes, expected 8, at byte " + std::to_string(span_at + 2));
    CHECK(decode(one_span(Pb().m(13, Pb().s(2, "abc")))) ==
          "Span.Link.span_id: 3 bytes, expected 8, at byte " + std::to_string(span_at + 4));
    CHECK(decode(one_span(Pb().raw(Pb::tag(7, 1) + "1234567"))) ==
          "Span.start_time_unix_nano: truncated fixed64 at byte " + std::to_string(span_at + 1));
    CHECK(decode(one_span(Pb().raw(Pb::tag(16, 5) + "12"))) ==
          "Span.flags: truncated fixed32 at byte " + std::to_string(span_at + 2));
    CHECK(decode(one_span(Pb().raw(Pb::tag(98, 1) + "12"))) ==
          "Span field 98: truncated fixed64 at byte " + std::to_string(span_at + 2));
}

TEST_CASE("otlp proto: bad tags, groups and nesting depth", "[codecs][otlp]") {
    CHECK(decode(std::string("\x00\x00", 2)) ==
          "ExportTraceServiceRequest: field number 0 at byte 0");
    CHECK(decode("\x0f") == "ExportTraceServiceRequest: invalid wire type 7 at byte 0");
    CHECK(decode("\x0e") == "ExportTraceServiceRequest: invalid wire type 6 at byte 0");
    CHECK(decode(one_span(Pb().raw(Pb::tag(50, 4)))) ==
          "Span: unmatched end group at byte " + std::to_string(span_at));
    CHECK(decode(one_span(Pb().raw(Pb::tag(50, 3) + Pb::tag(51, 4)))) ==
          "Span field 50: unmatched end group at byte " + std::to_string(span_at + 2));
    CHECK(decode(one_span(Pb().raw(Pb::tag(50, 3)).u(1, 1))) ==
          "Span field 50: group not closed before the end of Span, at byte " +
              std::to_string(span_at));
    // 64 nested arrays: the 64th level is refused.
    Pb value = any_int(1);
    for (int i = 0; i < 64; ++i) {
        value = Pb().m(5, Pb().m(1, value));
    }
    std::string message = decode(Pb().m(1, Pb().m(1, Pb().m(1, kv("deep", value)))).bytes());
    CHECK(message.rfind("AnyValue: nested deeper than 64 at byte ", 0) == 0);
    Pb shallower = any_int(1);
    for (int i = 0; i < 62; ++i) {
        shallower = Pb().m(5, Pb().m(1, shallower));
    }
    CHECK(decode(Pb().m(1, Pb().m(1, Pb().m(1, kv("deep", shallower)))).bytes()).empty());
}

TEST_CASE("otlp proto: the visitor sees the spans before an error, none after",
          "[codecs][otlp]") {
    Pb good = Pb().s(5, "good");
    Pb bad = Pb().s(5, "\xff");
    std::string request =
        Pb().m(1, Pb().m(2, Pb().m(2, good).m(2, bad).m(2, good))).bytes();
    OtlpProtoDecoder decoder;
    RecordingVisitor visitor;
    OtlpError error = decoder.decode(request, visitor);
    CHECK(error.message == "Span.name: invalid UTF-8 at byte 16");
    CHECK(error.offset == 16);
    CHECK(visitor.spans == 1);
    // The decoder is reusable after an error.
    RecordingVisitor again;
    CHECK(decoder.decode(sample_request(), again).ok());
    CHECK(again.text == sample_record);
}

TEST_CASE("otlp proto: errors inside resources, scopes, events and links name their message",
          "[codecs][otlp]") {
    // Request: 0a LEN, ResourceSpans: 0a LEN (resource), Resource: 0a LEN (attributes) ...
    Pb bad_attribute = kv("k", Pb().raw(Pb::tag(2, 0)).raw("\x80"));
    CHECK(decode(Pb().m(1, Pb().m(1, Pb().m(1, bad_attribute))).bytes()) ==
          "AnyValue.bool_value: truncated varint at byte 12");
    CHECK(decode(Pb().m(1, Pb().m(1, Pb().u(2, 1).s(2, "x"))).bytes()) ==
          "Resource.dropped_attributes_count: wire type 2 (length-delimited), expected 0 "
          "(varint), at byte 6");
    CHECK(decode(Pb().m(1, Pb().m(2, Pb().m(1, Pb().s(2, "v\xff")))).bytes()) ==
          "InstrumentationScope.version: invalid UTF-8 at byte 9");
    CHECK(decode(one_span(Pb().m(11, Pb().s(2, "\xff")))) ==
          "Span.Event.name: invalid UTF-8 at byte " + std::to_string(span_at + 4));
    CHECK(decode(one_span(Pb().m(11, Pb().u(1, 5)))) ==
          "Span.Event.time_unix_nano: wire type 0 (varint), expected 1 (fixed64), at byte " +
              std::to_string(span_at + 2));
    CHECK(decode(one_span(Pb().m(13, Pb().raw(Pb::tag(6, 5) + "\x01")))) ==
          "Span.Link.flags: truncated fixed32 at byte " + std::to_string(span_at + 3));
    CHECK(decode(one_span(Pb().m(15, Pb().s(3, "x")))) ==
          "Status.code: wire type 2 (length-delimited), expected 0 (varint), at byte " +
              std::to_string(span_at + 2));
    CHECK(decode(Pb().m(1, Pb().s(3, "\xc3")).bytes()) ==
          "ResourceSpans.schema_url: invalid UTF-8 at byte 4");
}
