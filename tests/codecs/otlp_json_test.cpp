// Proves the OTLP/JSON decoder: the sample request written as OTLP/JSON (hex ids in either case,
// times as strings or numbers, intValue as string or number, "NaN", base64 bytes, unknown keys)
// reaches the visitor exactly as the protobuf form does; each malformed member is refused with
// its JSON pointer and the exact expectation.

#include "codecs/otlp_json.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "codecs/otlp_proto.hpp"
#include "tests/codecs/otlp_fixtures.hpp"

using namespace pgingest;
using namespace pgingest::otlp_test;

namespace {

std::string decode_json(std::string_view json, std::string* record = nullptr) {
    OtlpJsonDecoder decoder;
    RecordingVisitor visitor;
    OtlpError error = decoder.decode(json, visitor);
    if (record != nullptr) {
        *record = visitor.text;
    }
    return error.message;
}

/// A request holding one span whose members are `members` (JSON object body).
std::string one_span(std::string_view members) {
    return R"({"resourceSpans":[{"scopeSpans":[{"spans":[{)" + std::string(members) + "}]}]}]}";
}

/// A request holding one span with one attribute whose AnyValue is `value`.
std::string one_value(std::string_view value) {
    return one_span(R"("attributes":[{"key":"k","value":)" + std::string(value) + "}]");
}

const std::string span_path = "/resourceSpans/0/scopeSpans/0/spans/0";

}  // namespace

TEST_CASE("otlp json: the sample request decodes to what its protobuf form decodes to",
          "[codecs][otlp]") {
    std::string from_json;
    REQUIRE(decode_json(sample_request_json, &from_json).empty());
    OtlpProtoDecoder proto;
    RecordingVisitor from_proto;
    REQUIRE(proto.decode(sample_request(true), from_proto).ok());
    CHECK(from_json == sample_record);
    CHECK(from_json == from_proto.text);
}

TEST_CASE("otlp json: numbers and strings both carry 64-bit integers and doubles",
          "[codecs][otlp]") {
    std::string record;
    REQUIRE(decode_json(one_value(R"({"intValue":"9223372036854775807"})"), &record).empty());
    CHECK(record.find("{k=i:9223372036854775807}") != std::string::npos);
    REQUIRE(decode_json(one_value(R"({"intValue":-5})"), &record).empty());
    CHECK(record.find("{k=i:-5}") != std::string::npos);
    REQUIRE(decode_json(one_value(R"({"intValue":1e3})"), &record).empty());
    CHECK(record.find("{k=i:1000}") != std::string::npos);
    REQUIRE(decode_json(one_value(R"({"doubleValue":"-Infinity"})"), &record).empty());
    CHECK(record.find("{k=d:-inf}") != std::string::npos);
    REQUIRE(decode_json(one_value(R"({"doubleValue":"Infinity"})"), &record).empty());
    CHECK(record.find("{k=d:inf}") != std::string::npos);
    REQUIRE(decode_json(one_value(R"({"doubleValue":3})"), &record).empty());
    CHECK(record.find("{k=d:3}") != std::string::npos);
    REQUIRE(decode_json(one_value(R"({"bytesValue":"_-8"})"), &record).empty());
    CHECK(record.find("{k=b:ffef}") != std::string::npos);
    REQUIRE(decode_json(one_value(R"({})"), &record).empty());
    CHECK(record.find("{k=-}") != std::string::npos);
    REQUIRE(decode_json(one_value(R"(null)"), &record).empty());
    CHECK(record.find("{k=-}") != std::string::npos);
    REQUIRE(decode_json(one_span(R"("startTimeUnixNano":18446744073709551615)"), &record)
                .empty());
    CHECK(record.find("t=18446744073709551615..0") != std::string::npos);
    // snake_case keys are not OTLP/JSON: ignored as unknown fields.
    REQUIRE(decode_json(one_span(R"("trace_id":"00","name":"n")"), &record).empty());
    CHECK(record.find("span none none parent=none state= flags=0 name=n") != std::string::npos);
}

TEST_CASE("otlp json: malformed members are refused with their JSON pointer",
          "[codecs][otlp]") {
    CHECK(decode_json(one_span(R"("traceId":"abc")")) ==
          span_path + "/traceId: expected 32 hex digits, got \"abc\"");
    CHECK(decode_json(one_span(R"("spanId":"zz00000000000000")")) ==
          span_path + "/spanId: expected 16 hex digits, got \"zz00000000000000\"");
    CHECK(decode_json(one_span(R"("parentSpanId":7)")) ==
          span_path + "/parentSpanId: expected 16 hex digits");
    CHECK(decode_json(one_span(R"("kind":"SPAN_KIND_SERVER")")) ==
          span_path + "/kind: expected an integer enum value");
    CHECK(decode_json(one_span(R"("status":{"code":"STATUS_CODE_ERROR"})")) ==
          span_path + "/status/code: expected an integer enum value");
    CHECK(decode_json(one_span(R"("startTimeUnixNano":"-1")")) ==
          span_path +
              "/startTimeUnixNano: expected an unsigned 64-bit integer (number or decimal string)");
    CHECK(decode_json(one_span(R"("endTimeUnixNano":1.5)")) ==
          span_path +
              "/endTimeUnixNano: expected an unsigned 64-bit integer (number or decimal string)");
    CHECK(decode_json(one_span(R"("droppedLinksCount":4294967296)")) ==
          span_path +
              "/droppedLinksCount: expected an unsigned 32-bit integer (number or decimal string)");
    CHECK(decode_json(one_span(R"("name":5)")) == span_path + "/name: expected a string");
    CHECK(decode_json(one_span(R"("events":{})")) == span_path + "/events: expected an array");
    CHECK(decode_json(one_span(R"("events":[{"timeUnixNano":"x"}])")) ==
          span_path +
              "/events/0/timeUnixNano: expected an unsigned 64-bit integer (number or decimal "
              "string)");
    CHECK(decode_json(one_span(R"("links":[{}, {"traceId":"00"}])")) ==
          span_path + "/links/1/traceId: expected 32 hex digits, got \"00\"");
}

TEST_CASE("otlp json: malformed attribute values are refused with their JSON pointer",
          "[codecs][otlp]") {
    CHECK(decode_json(one_value(R"({"intValue":"12x"})")) ==
          span_path + "/attributes/0/value/intValue: expected a 64-bit integer (number or "
                      "decimal string)");
    CHECK(decode_json(one_value(R"({"intValue":9223372036854775808})")) ==
          span_path + "/attributes/0/value/intValue: expected a 64-bit integer (number or "
                      "decimal string)");
    CHECK(decode_json(one_value(R"({"doubleValue":"nan"})")) ==
          span_path + "/attributes/0/value/doubleValue: expected a number, a decimal string, "
                      "\"NaN\", \"Infinity\" or \"-Infinity\"");
    CHECK(decode_json(one_value(R"({"boolValue":1})")) ==
          span_path + "/attributes/0/value/boolValue: expected true or false");
    CHECK(decode_json(one_value(R"({"bytesValue":"a"})")) ==
          span_path + "/attributes/0/value/bytesValue: expected base64 text");
    CHECK(decode_json(one_value(R"({"stringValue":1})")) ==
          span_path + "/attributes/0/value/stringValue: expected a string");
    CHECK(decode_json(one_value(R"("text")")) ==
          span_path + "/attributes/0/value: expected an object");
    CHECK(decode_json(one_value(
              R"({"arrayValue":{"values":[{"intValue":1},{"kvlistValue":{"values":[)"
              R"({"key":"a","value":{"boolValue":"no"}}]}}]}})")) ==
          span_path + "/attributes/0/value/arrayValue/values/1/kvlistValue/values/0/value/"
                      "boolValue: expected true or false");
    CHECK(decode_json(one_value(R"({"arrayValue":{"values":{}}})")) ==
          span_path + "/attributes/0/value/arrayValue: expected an array in \"values\"");
    CHECK(decode_json(one_span(R"("attributes":[1])")) ==
          span_path + "/attributes/0: expected a KeyValue object");
    CHECK(decode_json(one_span(R"("attributes":[{"key":1}])")) ==
          span_path + "/attributes/0/key: expected a string");
    CHECK(decode_json(R"({"resourceSpans":[{"resource":{"attributes":[{"key":"a","value":)"
                      R"({"intValue":true}}]}}]})") ==
          "/resourceSpans/0/resource/attributes/0/value/intValue: expected a 64-bit integer "
          "(number or decimal string)");
    std::string deep = R"({"intValue":1})";
    for (int i = 0; i < 64; ++i) {
        deep = R"({"arrayValue":{"values":[)" + deep + "]}}";
    }
    CHECK(decode_json(one_value(deep)).find(": AnyValue nested deeper than 64") !=
          std::string::npos);
}

TEST_CASE("otlp json: not JSON, not an object, wrong container types", "[codecs][otlp]") {
    CHECK(decode_json("{\"resourceSpans\": [") == "invalid JSON: The JSON document has an "
                                                  "improper structure: missing or superfluous "
                                                  "commas, braces, missing keys, etc.");
    CHECK(decode_json("[]") == "/: expected an object");
    CHECK(decode_json(R"({"resourceSpans":{}})") == "/resourceSpans: expected an array");
    CHECK(decode_json(R"({"resourceSpans":[1]})") == "/resourceSpans/0: expected an object");
    CHECK(decode_json(R"({"resourceSpans":[{"scopeSpans":[{"scope":[]}]}]})") ==
          "/resourceSpans/0/scopeSpans/0/scope: expected an object");
    CHECK(decode_json(R"({"resourceSpans":[{"schemaUrl":1}]})") ==
          "/resourceSpans/0/schemaUrl: expected a string");
    std::string record;
    CHECK(decode_json(R"({"resourceSpans":null,"partialSuccess":{}})", &record).empty());
    CHECK(record.empty());
    CHECK(decode_json("{}", &record).empty());
}

TEST_CASE("otlp json: invalid UTF-8 and malformed resource and scope members",
          "[codecs][otlp]") {
    CHECK(decode_json(one_span("\"name\":\"\xff\"")) ==
          "invalid JSON: The input is not valid UTF-8");
    CHECK(decode_json(R"({"resourceSpans":[{"resource":{"droppedAttributesCount":-1}}]})") ==
          "/resourceSpans/0/resource/droppedAttributesCount: expected an unsigned 32-bit "
          "integer (number or decimal string)");
    CHECK(decode_json(R"({"resourceSpans":[{"scopeSpans":[{"scope":{"version":2}}]}]})") ==
          "/resourceSpans/0/scopeSpans/0/scope/version: expected a string");
    CHECK(decode_json(R"({"resourceSpans":[{"scopeSpans":[{"scope":{"attributes":[)"
                      R"({"key":"a","value":{"kvlistValue":[]}}]}}]}]})") ==
          "/resourceSpans/0/scopeSpans/0/scope/attributes/0/value/kvlistValue: expected an "
          "object");
    CHECK(decode_json(one_span(R"("events":[{"attributes":[{"key":"a","value":)"
                               R"({"intValue":[]}}]}])")) ==
          span_path + "/events/0/attributes/0/value/intValue: expected a 64-bit integer "
                      "(number or decimal string)");
}

TEST_CASE("otlp json: the OTLP/JSON files of the shared corpus decode", "[codecs][otlp]") {
    // Real exporter output collected from upstream projects (../shared/data/traces/otlp); the
    // logs and metrics files hold no resourceSpans: zero spans, no error.
    const std::pair<const char*, std::size_t> files[] = {
        {"jaeger-ui_otlp2jaeger-multi-in-combined.json", 4},
        {"jaeger_integration_example_trace.json", 5},
        {"jaeger_integration_link_attributes_trace.json", 1},
        {"jaeger_integration_log_tags_trace.json", 1},
        {"jaeger_memory_otel_traces_01.json", 4},
        {"otel-proto_trace.json", 1},
        {"otel-proto_logs.json", 0},
        {"otel-proto_metrics.json", 0},
    };
    OtlpJsonDecoder decoder;
    for (auto [name, spans] : files) {
        std::ifstream file(std::string(PGINGEST_SHARED_DATA "/traces/otlp/") + name);
        REQUIRE(file.good());
        std::stringstream text;
        text << file.rdbuf();
        RecordingVisitor visitor;
        OtlpError error = decoder.decode(text.str(), visitor);
        INFO(name);
        CHECK(error.message == "");
        CHECK(visitor.spans == spans);
        CHECK(visitor.text.find("!") == std::string::npos);  // every attribute list walks
    }
}
