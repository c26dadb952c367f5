#pragma once

// Test-only helpers for the OTLP decoders: a tiny protobuf writer (hand-built requests, unknown
// fields and malformed bytes included), a sample request in protobuf and in OTLP/JSON that
// carry the same data, and a visitor that renders what a decoder reports as text, so two
// decoders can be compared and a decode checked in one string.

#include <bit>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "codecs/otlp_model.hpp"

namespace pgingest::otlp_test {

/// Protobuf bytes, built field by field (wire format: protobuf encoding, tag = number << 3 |
/// wire type).
class Pb {
public:
    static std::string varint(std::uint64_t value) {
        std::string out;
        while (value >= 0x80) {
            out.push_back(static_cast<char>((value & 0x7F) | 0x80));
            value >>= 7;
        }
        out.push_back(static_cast<char>(value));
        return out;
    }
    static std::string tag(std::uint32_t number, std::uint32_t wire) {
        return varint((std::uint64_t{number} << 3) | wire);
    }
    Pb& u(std::uint32_t number, std::uint64_t value) {
        bytes_ += tag(number, 0) + varint(value);
        return *this;
    }
    Pb& f64(std::uint32_t number, std::uint64_t value) {
        bytes_ += tag(number, 1);
        for (int i = 0; i < 8; ++i) {
            bytes_.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
        }
        return *this;
    }
    Pb& d(std::uint32_t number, double value) {
        return f64(number, std::bit_cast<std::uint64_t>(value));
    }
    Pb& f32(std::uint32_t number, std::uint32_t value) {
        bytes_ += tag(number, 5);
        for (int i = 0; i < 4; ++i) {
            bytes_.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
        }
        return *this;
    }
    Pb& s(std::uint32_t number, std::string_view value) {
        bytes_ += tag(number, 2) + varint(value.size()) + std::string(value);
        return *this;
    }
    Pb& m(std::uint32_t number, const Pb& message) { return s(number, message.bytes_); }
    /// Appends raw bytes (malformed input, groups).
    Pb& raw(std::string_view bytes) {
        bytes_ += bytes;
        return *this;
    }
    /// One unknown field of every wire type, numbered from 900 (a group holding a nested
    /// group and a varint included).
    Pb& unknowns() {
        u(900, 300).f64(901, 7).s(902, "skip me").f32(903, 9);
        raw(tag(904, 3)).u(1, 5).raw(tag(905, 3)).raw(tag(905, 4)).raw(tag(904, 4));
        return *this;
    }
    [[nodiscard]] const std::string& bytes() const { return bytes_; }
    [[nodiscard]] std::size_t size() const { return bytes_.size(); }

private:
    std::string bytes_;
};

/// KeyValue{key, value}.
inline Pb kv(std::string_view key, const Pb& value) {
    return Pb().s(1, key).m(2, value);
}

/// Renders attribute lists as compact text: `{k=v,...}` with `"s"`, `true`, `i:5`, `d:1.5`,
/// `b:0a0b`, `[..]`, `{k=..}`, `-` for an empty value.
class RenderSink final : public OtlpValueSink {
public:
    std::string text;
    bool attribute(std::string_view key) override {
        separate();
        text += std::string(key) + "=";
        first_ = true;
        return true;
    }
    void key(std::string_view key) override {
        separate();
        text += std::string(key) + "=";
        first_ = true;
    }
    void empty_value() override { value("-"); }
    void string_value(std::string_view utf8) override { value("\"" + std::string(utf8) + "\""); }
    void bool_value(bool b) override { value(b ? "true" : "false"); }
    void int_value(std::int64_t i) override { value("i:" + std::to_string(i)); }
    void double_value(double v) override {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "d:%.17g", v);
        value(buffer);
    }
    void bytes_value(std::string_view bytes) override {
        std::string hex = "b:";
        for (char c : bytes) {
            char buffer[4];
            std::snprintf(buffer, sizeof buffer, "%02x", static_cast<unsigned char>(c));
            hex += buffer;
        }
        value(hex);
    }
    void begin_array() override { open("["); }
    void end_array() override { close("]"); }
    void begin_kvlist() override { open("{"); }
    void end_kvlist() override { close("}"); }

private:
    void separate() {
        if (!first_) {
            text += ",";
        }
    }
    void value(const std::string& v) {
        if (in_array_ && !first_) {
            text += ",";
        }
        text += v;
        first_ = false;
    }
    void open(const char* bracket) {
        value(bracket);
        first_ = true;
    }
    void close(const char* bracket) {
        text += bracket;
        first_ = false;
    }
    bool first_ = true;
    bool in_array_ = true;  // values in arrays need commas; keys add their own
};

inline std::string hex_of(const std::uint8_t* bytes, std::size_t size) {
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        char buffer[4];
        std::snprintf(buffer, sizeof buffer, "%02x", bytes[i]);
        out += buffer;
    }
    return out;
}

/// Records everything a decoder reports, one line per resource, scope, span, event and link.
class RecordingVisitor final : public OtlpTraceVisitor {
public:
    std::string text;
    std::size_t spans = 0;

    std::string attributes(const OtlpAttributes& list) {
        RenderSink sink;
        OtlpError error = walker_.walk(list, sink);
        return "{" + sink.text + "}" + (error.ok() ? "" : "!" + error.message) + "#" +
               std::to_string(list.count);
    }
    void resource(const OtlpResource& r) override {
        text += "resource " + attributes(r.attributes) + " dropped=" +
                std::to_string(r.dropped_attributes_count) + " schema=" +
                std::string(r.schema_url) + "\n";
    }
    void scope(const OtlpScope& s) override {
        text += "scope " + std::string(s.name) + " " + std::string(s.version) + " " +
                attributes(s.attributes) + " dropped=" +
                std::to_string(s.dropped_attributes_count) + " schema=" +
                std::string(s.schema_url) + "\n";
    }
    void span(const OtlpSpan& s) override {
        ++spans;
        text += "span " + id(s.has_trace_id, s.trace_id.data(), 16) + " " +
                id(s.has_span_id, s.span_id.data(), 8) + " parent=" +
                id(s.has_parent_span_id, s.parent_span_id.data(), 8) + " state=" +
                std::string(s.trace_state) + " flags=" + std::to_string(s.flags) + " name=" +
                std::string(s.name) + " kind=" + std::to_string(s.kind) + " t=" +
                std::to_string(s.start_time_unix_nano) + ".." +
                std::to_string(s.end_time_unix_nano) + " " + attributes(s.attributes) +
                " dropped=" + std::to_string(s.dropped_attributes_count) + "/" +
                std::to_string(s.dropped_events_count) + "/" +
                std::to_string(s.dropped_links_count) + " status=" +
                std::to_string(s.status_code) + ":" + std::string(s.status_message) + "\n";
        for (const OtlpEvent& e : s.events) {
            text += "  event " + std::to_string(e.time_unix_nano) + " " + std::string(e.name) +
                    " " + attributes(e.attributes) + " dropped=" +
                    std::to_string(e.dropped_attributes_count) + "\n";
        }
        for (const OtlpLink& l : s.links) {
            text += "  link " + id(l.has_trace_id, l.trace_id.data(), 16) + " " +
                    id(l.has_span_id, l.span_id.data(), 8) + " state=" +
                    std::string(l.trace_state) + " " + attributes(l.attributes) + " dropped=" +
                    std::to_string(l.dropped_attributes_count) + " flags=" +
                    std::to_string(l.flags) + "\n";
        }
    }

private:
    static std::string id(bool present, const std::uint8_t* bytes, std::size_t size) {
        return present ? hex_of(bytes, size) : "none";
    }
    OtlpAttributeWalker walker_;
};

inline const std::string trace_id_bytes =
    "\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c";
inline const std::string span_id_bytes = "\xee\xe1\x9b\x7e\xc3\xc1\xb1\x74";
inline const std::string parent_id_bytes("\x00\x00\x00\x00\x00\x00\x00\x01", 8);

/// AnyValue builders.
inline Pb any_string(std::string_view v) { return Pb().s(1, v); }
inline Pb any_bool(bool v) { return Pb().u(2, v ? 1 : 0); }
inline Pb any_int(std::int64_t v) { return Pb().u(3, static_cast<std::uint64_t>(v)); }
inline Pb any_double(double v) { return Pb().d(4, v); }
inline Pb any_bytes(std::string_view v) { return Pb().s(7, v); }

/// The span of the sample request, with `extra` appended to each message (for unknown fields).
inline Pb sample_span(bool unknowns) {
    Pb array_value;  // [1, "two", [true], {}]
    array_value.m(1, any_int(1)).m(1, any_string("two")).m(1, Pb().m(5, Pb().m(1, any_bool(true))))
        .m(1, Pb());
    Pb kvlist_value;  // {inner: {deep: 2.5}, none: -}
    kvlist_value.m(1, kv("inner", Pb().m(6, Pb().m(1, kv("deep", any_double(2.5))))))
        .m(1, Pb().s(1, "none"));
    Pb attributes_span;
    Pb span;
    span.s(1, trace_id_bytes).s(2, span_id_bytes).s(3, "rojo=00f067aa0ba902b7")
        .s(4, parent_id_bytes).f32(16, 0x301).s(5, "chat gpt-4o").u(6, 3)
        .f64(7, 1796627234994000123ULL).f64(8, 1796627235994500456ULL)
        .m(9, kv("gen_ai.request.model", any_string("gpt-4o")))
        .m(9, kv("gen_ai.usage.input_tokens", any_int(-9007199254740993LL)))
        .m(9, kv("ok", any_bool(true)))
        .m(9, kv("temperature", any_double(0.25)))
        .m(9, kv("blob", any_bytes(std::string("\x00\xff\x10", 3))))
        .m(9, kv("list", Pb().m(5, array_value)))
        .m(9, kv("map", Pb().m(6, kvlist_value)))
        .m(9, kv("input.value", any_string("héllo")))
        .m(9, kv("nan", any_double(std::bit_cast<double>(0x7FF8000000000000ULL))))
        .m(9, Pb().s(1, "no value"))
        .u(10, 1);
    Pb event;
    event.f64(1, 1796627235000000789ULL).s(2, "exception")
        .m(3, kv("exception.type", any_string("ValueError"))).u(4, 2);
    Pb link;
    link.s(1, trace_id_bytes).s(2, parent_id_bytes).s(3, "k=v")
        .m(4, kv("link.kind", any_string("follows"))).u(5, 4).f32(6, 0x100);
    Pb status;
    status.s(2, "boom").u(3, 2);
    if (unknowns) {
        event.unknowns();
        link.unknowns();
        status.unknowns();
        span.unknowns();
    }
    span.m(11, event).u(12, 3).m(13, link).u(14, 5).m(15, status);
    return span;
}

/// A request of one resource, one scope and two spans (the sample and a minimal root span).
inline std::string sample_request(bool unknowns = false) {
    Pb resource;
    resource.m(1, kv("service.name", any_string("triage-agent")))
        .m(1, kv("host.cores", any_int(8))).u(2, 0);
    Pb scope;
    scope.s(1, "agent.tracer").s(2, "1.2.3").m(3, kv("scope.attr", any_bool(false))).u(4, 1);
    Pb root_span;
    root_span.s(1, trace_id_bytes).s(2, parent_id_bytes).s(5, "root").u(6, 1)
        .f64(7, 1796627234000000000ULL).f64(8, 1796627236000000000ULL);
    Pb scope_spans;
    scope_spans.m(1, scope).m(2, sample_span(unknowns)).m(2, root_span).s(3, "https://scope");
    Pb resource_spans;
    resource_spans.m(2, scope_spans).m(1, resource).s(3, "https://opentelemetry.io/schemas/1.26");
    if (unknowns) {
        resource.unknowns();
        scope.unknowns();
        scope_spans.unknowns();
        resource_spans = Pb();
        Pb scope_spans_u;
        scope_spans_u.m(1, scope).m(2, sample_span(true)).m(2, root_span)
            .s(3, "https://scope").unknowns();
        resource_spans.m(2, scope_spans_u).m(1, resource)
            .s(3, "https://opentelemetry.io/schemas/1.26").unknowns();
    }
    Pb request;
    request.m(1, resource_spans);
    if (unknowns) {
        request.unknowns();
    }
    return request.bytes();
}

/// The same request in OTLP/JSON, written as the JS exporter does (times as strings, intValue
/// as a number where it fits a double... here a string, since it is beyond 2^53).
inline const char* const sample_request_json = R"({
 "resourceSpans": [{
  "resource": {"attributes": [
    {"key": "service.name", "value": {"stringValue": "triage-agent"}},
    {"key": "host.cores", "value": {"intValue": 8}}], "droppedAttributesCount": 0},
  "scopeSpans": [{
   "scope": {"name": "agent.tracer", "version": "1.2.3",
             "attributes": [{"key": "scope.attr", "value": {"boolValue": false}}],
             "droppedAttributesCount": 1},
   "spans": [{
     "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "eee19b7ec3c1b174",
     "traceState": "rojo=00f067aa0ba902b7", "parentSpanId": "0000000000000001",
     "flags": 769, "name": "chat gpt-4o", "kind": 3,
     "startTimeUnixNano": "1796627234994000123", "endTimeUnixNano": 1796627235994500456,
     "attributes": [
       {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
       {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "-9007199254740993"}},
       {"key": "ok", "value": {"boolValue": true}},
       {"key": "temperature", "value": {"doubleValue": 0.25}},
       {"key": "blob", "value": {"bytesValue": "AP8Q"}},
       {"key": "list", "value": {"arrayValue": {"values": [{"intValue": "1"},
          {"stringValue": "two"}, {"arrayValue": {"values": [{"boolValue": true}]}}, {}]}}},
       {"key": "map", "value": {"kvlistValue": {"values": [
          {"key": "inner", "value": {"kvlistValue": {"values": [
             {"key": "deep", "value": {"doubleValue": "2.5"}}]}}},
          {"key": "none"}]}}},
       {"key": "input.value", "value": {"stringValue": "h\u00e9llo"}},
       {"key": "nan", "value": {"doubleValue": "NaN"}},
       {"key": "no value"}],
     "droppedAttributesCount": 1,
     "events": [{"timeUnixNano": "1796627235000000789", "name": "exception",
       "attributes": [{"key": "exception.type", "value": {"stringValue": "ValueError"}}],
       "droppedAttributesCount": 2, "unknownField": [1, 2]}],
     "droppedEventsCount": 3,
     "links": [{"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "0000000000000001",
       "traceState": "k=v",
       "attributes": [{"key": "link.kind", "value": {"stringValue": "follows"}}],
       "droppedAttributesCount": 4, "flags": 256}],
     "droppedLinksCount": "5",
     "status": {"message": "boom", "code": 2}
    }, {
     "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "0000000000000001",
     "name": "root", "kind": 1, "startTimeUnixNano": "1796627234000000000",
     "endTimeUnixNano": "1796627236000000000", "parentSpanId": ""
    }],
   "schemaUrl": "https://scope"}],
  "schemaUrl": "https://opentelemetry.io/schemas/1.26",
  "somethingNew": {"ignored": true}
 }]
})";

/// What `RecordingVisitor` writes for the sample request.
inline const char* const sample_record =
    "resource {service.name=\"triage-agent\",host.cores=i:8}#2 dropped=0 "
    "schema=https://opentelemetry.io/schemas/1.26\n"
    "scope agent.tracer 1.2.3 {scope.attr=false}#1 dropped=1 schema=https://scope\n"
    "span 5b8efff798038103d269b633813fc60c eee19b7ec3c1b174 parent=0000000000000001 "
    "state=rojo=00f067aa0ba902b7 flags=769 name=chat gpt-4o kind=3 "
    "t=1796627234994000123..1796627235994500456 "
    "{gen_ai.request.model=\"gpt-4o\",gen_ai.usage.input_tokens=i:-9007199254740993,ok=true,"
    "temperature=d:0.25,blob=b:00ff10,list=[i:1,\"two\",[true],-],"
    "map={inner={deep=d:2.5},none=-},input.value=\"héllo\",nan=d:nan,no value=-}#10 "
    "dropped=1/3/5 status=2:boom\n"
    "  event 1796627235000000789 exception {exception.type=\"ValueError\"}#1 dropped=2\n"
    "  link 5b8efff798038103d269b633813fc60c 0000000000000001 state=k=v "
    "{link.kind=\"follows\"}#1 dropped=4 flags=256\n"
    "span 5b8efff798038103d269b633813fc60c 0000000000000001 parent=none state= flags=0 "
    "name=root kind=1 t=1796627234000000000..1796627236000000000 {}#0 dropped=0/0/0 "
    "status=0:\n";

}  // namespace pgingest::otlp_test
