// Proves the OTLP span → tuple mapping against a real server: the schema of `pgingest init
// traces` is created from `otlp_traces_schema_sql`; the sample request, decoded from protobuf
// and from OTLP/JSON, is mapped to traces.spans and traces.resources tuples, loaded by binary
// COPY and read back field by field (ids, µs times and the exact duration, flat attributes with
// every AnyValue kind, input split out, events, links, dropped counts); both encodings store
// identical rows; spans the mapping or a column refuses come back with the exact reason.

#include "codecs/otlp_rows.hpp"

#include <catch2/catch.hpp>

#include <limits>

#include "codecs/copy_binary.hpp"
#include "codecs/otlp_json.hpp"
#include "codecs/otlp_proto.hpp"
#include "engine/catalog.hpp"
#include "tests/codecs/otlp_fixtures.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

/// Maps every span and resource a decoder reports into two COPY streams.
class LoadVisitor final : public OtlpTraceVisitor {
public:
    LoadVisitor(const TableInfo& spans, const TableInfo& resources)
        : span_rows(spans), resource_rows(resources) {
        put_copy_header(span_stream);
        put_copy_header(resource_stream);
    }
    void resource(const OtlpResource& resource) override {
        OtlpRowError error = mapper.prepare_resource(resource, current);
        REQUIRE(error.message == "");
        resource_rows.start_tuple(resource_stream);
        error = mapper.write_resource(resource_rows, current);
        REQUIRE(error.message == "");
        REQUIRE(resource_rows.finish().ok());
    }
    void scope(const OtlpScope& scope) override { current_scope = scope; }
    void span(const OtlpSpan& span) override {
        std::size_t mark = span_stream.size();
        span_rows.start_tuple(span_stream);
        OtlpRowError error = mapper.write_span(span_rows, current, current_scope, span);
        if (!error.ok()) {
            errors.push_back(error.message);
            span_stream.truncate(mark);  // as Producer::cancel_row drops the tuple
            return;
        }
        REQUIRE(span_rows.finish().ok());
    }
    void finish() {
        put_copy_trailer(span_stream);
        put_copy_trailer(resource_stream);
    }

    OtlpRowMapper mapper;
    RowWriter span_rows;
    RowWriter resource_rows;
    OtlpResourceRow current;
    OtlpScope current_scope;
    ByteBuffer span_stream;
    ByteBuffer resource_stream;
    std::vector<std::string> errors;
};

struct Tables {
    TableInfo spans;
    TableInfo resources;
};

Tables create_schema(Connection& conn) {
    conn.exec("DROP SCHEMA IF EXISTS traces CASCADE");
    conn.exec(std::string(otlp_traces_schema_sql));
    conn.exec(std::string(otlp_traces_schema_sql));  // idempotent
    Tables tables{read_table_info(conn, "traces.spans"),
                  read_table_info(conn, "traces.resources")};
    REQUIRE(otlp_select_columns(tables.spans, otlp_span_columns) == "");
    REQUIRE(otlp_select_columns(tables.resources, otlp_resource_columns) == "");
    return tables;
}

/// Loads what `decode` reports; returns the mapping errors.
template <typename Decode>
std::vector<std::string> load(Connection& conn, const Tables& tables, Decode decode) {
    LoadVisitor visitor(tables.spans, tables.resources);
    REQUIRE(decode(visitor) == "");
    visitor.finish();
    conn.copy_in(tables.spans.copy_sql(), visitor.span_stream.view());
    conn.exec("CREATE TEMP TABLE IF NOT EXISTS resources_in "
              "(LIKE traces.resources INCLUDING DEFAULTS)");
    conn.exec("TRUNCATE resources_in");
    TableInfo staging = tables.resources;
    staging.qualified_name = "pg_temp.resources_in";
    conn.copy_in(staging.copy_sql(), visitor.resource_stream.view());
    conn.exec("INSERT INTO traces.resources SELECT * FROM resources_in "
              "ON CONFLICT (resource_id) DO NOTHING");
    return visitor.errors;
}

const char* const select_spans =
    "SELECT concat_ws(' | ', trace_id, span_id, coalesce(parent_span_id::text, 'NULL'), "
    "start_time AT TIME ZONE 'UTC', end_time AT TIME ZONE 'UTC', duration_ns, name, kind, "
    "status_code, coalesce(status_message, 'NULL'), service_name, "
    "resource_id = (SELECT resource_id FROM traces.resources), "
    "scope_name, scope_version, coalesce(trace_state, 'NULL'), flags, attributes, "
    "coalesce(events::text, 'NULL'), coalesce(links::text, 'NULL'), "
    "coalesce(input::text, 'NULL'), coalesce(output::text, 'NULL'), "
    "coalesce(dropped_counts::text, 'NULL')) FROM traces.spans ORDER BY start_time DESC";

const std::vector<std::string> expected_spans = {
    "5b8efff7-9803-8103-d269-b633813fc60c | -1233533854170369676 | 1 | "
    "2026-12-07 07:07:14.994 | 2026-12-07 07:07:15.9945 | 1000500333 | chat gpt-4o | 3 | 2 | "
    "boom | triage-agent | t | agent.tracer | 1.2.3 | rojo=00f067aa0ba902b7 | 769 | "
    "{\"ok\": true, \"map\": {\"none\": null, \"inner\": {\"deep\": 2.5}}, \"nan\": \"NaN\", "
    "\"blob\": \"AP8Q\", \"list\": [1, \"two\", [true], null], \"no value\": null, "
    "\"temperature\": 0.25, \"gen_ai.request.model\": \"gpt-4o\", "
    "\"gen_ai.usage.input_tokens\": -9007199254740993} | "
    "[{\"name\": \"exception\", \"time\": \"2026-12-07T07:07:15.000000789Z\", \"attributes\": "
    "{\"exception.type\": \"ValueError\"}, \"dropped_attributes_count\": 2}] | "
    "[{\"flags\": 256, \"span_id\": \"0000000000000001\", \"trace_id\": "
    "\"5b8efff798038103d269b633813fc60c\", \"attributes\": {\"link.kind\": \"follows\"}, "
    "\"trace_state\": \"k=v\", \"dropped_attributes_count\": 4}] | "
    "{\"input.value\": \"héllo\"} | NULL | {1,3,5}",
    "5b8efff7-9803-8103-d269-b633813fc60c | 1 | NULL | 2026-12-07 07:07:14 | "
    "2026-12-07 07:07:16 | 2000000000 | root | 1 | 0 | NULL | triage-agent | t | agent.tracer | "
    "1.2.3 | NULL | 0 | {} | NULL | NULL | NULL | NULL | NULL",
};

}  // namespace

TEST_CASE("otlp rows: the sample request from protobuf is stored field by field",
          "[engine][otlp][pg]") {
    auto conn = test::connect();
    Tables tables = create_schema(conn);
    OtlpProtoDecoder decoder;
    std::string request = otlp_test::sample_request();
    auto errors = load(conn, tables, [&](OtlpTraceVisitor& visitor) {
        return decoder.decode(request, visitor).message;
    });
    CHECK(errors.empty());
    CHECK(conn.query_column(select_spans) == expected_spans);
    CHECK(conn.query_column("SELECT concat_ws(' | ', service_name, attributes, schema_url, "
                            "substr(resource_id::text, 15, 1), "
                            "substr(resource_id::text, 20, 1) IN ('8','9','a','b')) "
                            "FROM traces.resources") ==
          std::vector<std::string>{
              "triage-agent | {\"host.cores\": 8, \"service.name\": \"triage-agent\"} | "
              "https://opentelemetry.io/schemas/1.26 | 8 | t"});
    // The day partitions of the design are ordinary range partitions; rows of other days wait
    // in the default partition.
    CHECK(conn.query_value("SELECT count(*) FROM traces.spans_default") == "2");
}

TEST_CASE("otlp rows: protobuf and OTLP/JSON of one request store identical rows",
          "[engine][otlp][pg]") {
    auto conn = test::connect();
    Tables tables = create_schema(conn);
    OtlpJsonDecoder json;
    auto errors = load(conn, tables, [&](OtlpTraceVisitor& visitor) {
        return json.decode(otlp_test::sample_request_json, visitor).message;
    });
    CHECK(errors.empty());
    CHECK(conn.query_column(select_spans) == expected_spans);
    OtlpProtoDecoder proto;
    std::string request = otlp_test::sample_request(true);
    errors = load(conn, tables, [&](OtlpTraceVisitor& visitor) {
        return proto.decode(request, visitor).message;
    });
    CHECK(errors.empty());
    // Same resource id from both encodings: one resource row; every span twice, identical.
    CHECK(conn.query_value("SELECT count(*) FROM traces.resources") == "1");
    CHECK(conn.query_value("SELECT count(*) FROM (SELECT DISTINCT trace_id, span_id, "
                           "parent_span_id, start_time, end_time, duration_ns, name, kind, "
                           "status_code, status_message, service_name, resource_id, "
                           "scope_name, scope_version, trace_state, flags, attributes, events, "
                           "links, input, output, dropped_counts FROM traces.spans) d") == "2");
    CHECK(conn.query_value("SELECT count(*) FROM traces.spans") == "4");
}

TEST_CASE("otlp rows: spans a column or the mapping refuses are reported, others stored",
          "[engine][otlp][pg]") {
    using otlp_test::Pb;
    auto conn = test::connect();
    Tables tables = create_schema(conn);
    const std::string& trace = otlp_test::trace_id_bytes;
    const std::string& span_id = otlp_test::span_id_bytes;
    Pb no_trace = Pb().s(2, span_id).s(5, "no trace");
    Pb no_span = Pb().s(1, trace).s(5, "no span");
    Pb nul_name = Pb().s(1, trace).s(2, span_id).s(5, std::string("a\0b", 3));
    Pb nul_attribute = Pb().s(1, trace).s(2, span_id).s(5, "nul attr")
        .m(9, otlp_test::kv("k", otlp_test::any_string(std::string("x\0", 2))));
    Pb big_kind = Pb().s(1, trace).s(2, span_id).s(5, "kind").u(6, 40000);
    Pb backwards = Pb().s(1, trace).s(2, span_id).s(5, "backwards").f64(7, 2000).f64(8, 1000);
    Pb huge = Pb().s(1, trace).s(2, span_id).s(5, "huge").f64(7, 0).f64(8, ~0ULL);
    Pb good = Pb().s(1, trace).s(2, span_id).s(5, "good");
    Pb scope;
    for (const Pb* span : {&no_trace, &no_span, &nul_name, &nul_attribute, &big_kind,
                           &backwards, &huge, &good}) {
        scope.m(2, *span);
    }
    std::string request = Pb().m(1, Pb().m(2, scope)).bytes();
    OtlpProtoDecoder decoder;
    auto errors = load(conn, tables, [&](OtlpTraceVisitor& visitor) {
        return decoder.decode(request, visitor).message;
    });
    REQUIRE(errors.size() == 6);
    CHECK(errors[0] == "span 8: no trace_id");
    CHECK(errors[1] == "span 30: no span_id");
    CHECK(errors[2] == "span 59: column \"name\" (text): value \"a\\x00b\" at byte 1: NUL byte "
                       "(0x00) is not allowed in text");
    CHECK(errors[3] == "span 94: column \"attributes\" (jsonb): value \"JSON object\" at byte 1: "
                       "\\u0000 is not allowed in jsonb");
    CHECK(errors[4] == "span 145: column \"kind\" (smallint): value \"40000\" at byte 0: integer "
                       "out of range for the column's type");
    CHECK(errors[5] == "span 244: duration from 0 to 18446744073709551615 ns does not fit int8");
    CHECK(conn.query_column("SELECT name || ' ' || duration_ns || ' ' || start_time "
                            "AT TIME ZONE 'UTC' FROM traces.spans ORDER BY name") ==
          std::vector<std::string>{"backwards -1000 1970-01-01 00:00:00.000002",
                                   "good 0 1970-01-01 00:00:00"});
}

TEST_CASE("otlp rows: output split out, base64 padding, infinities, a root span's NULLs",
          "[engine][otlp][pg]") {
    using otlp_test::any_bytes;
    using otlp_test::any_double;
    using otlp_test::any_string;
    using otlp_test::kv;
    using otlp_test::Pb;
    auto conn = test::connect();
    Tables tables = create_schema(conn);
    Pb span = Pb().s(1, otlp_test::trace_id_bytes).s(2, otlp_test::span_id_bytes).s(5, "llm")
        .m(9, kv("output.value", any_string("answer")))
        .m(9, kv("llm.output_messages.0.message.role", any_string("assistant")))
        .m(9, kv("llm.input_messages.0.message.role", any_string("user")))
        .m(9, kv("gen_ai.system_instructions", any_string("be brief")))
        .m(9, kv("one", any_bytes("a")))
        .m(9, kv("two", any_bytes("ab")))
        .m(9, kv("three", any_bytes("abc")))
        .m(9, kv("up", any_double(std::numeric_limits<double>::infinity())))
        .m(9, kv("down", any_double(-std::numeric_limits<double>::infinity())))
        .m(9, kv("big", any_double(12.5)))
        .u(12, 1);
    std::string request = Pb().m(1, Pb().m(2, Pb().m(2, span))).bytes();
    OtlpProtoDecoder decoder;
    auto errors = load(conn, tables, [&](OtlpTraceVisitor& visitor) {
        return decoder.decode(request, visitor).message;
    });
    CHECK(errors.empty());
    CHECK(conn.query_column(
              "SELECT concat_ws(' | ', attributes, input, output, dropped_counts, "
              "coalesce(service_name, 'NULL'), coalesce(scope_name, 'NULL'), "
              "coalesce(parent_span_id::text, 'NULL')) FROM traces.spans") ==
          std::vector<std::string>{
              "{\"up\": \"Infinity\", \"big\": 12.5, \"one\": \"YQ==\", \"two\": \"YWI=\", "
              "\"down\": \"-Infinity\", \"three\": \"YWJj\"} | "
              "{\"gen_ai.system_instructions\": \"be brief\", "
              "\"llm.input_messages.0.message.role\": \"user\"} | "
              "{\"output.value\": \"answer\", \"llm.output_messages.0.message.role\": "
              "\"assistant\"} | {0,1,0} | NULL | NULL | NULL"});
    CHECK(conn.query_value("SELECT (attributes->>'big')::float8 = 12.5 FROM traces.spans") ==
          "t");
}
