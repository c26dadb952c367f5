// OTLP trace decoding and span → tuple mapping throughput (issue 16), on one generated
// ExportTraceServiceRequest of 1000 spans with 10 attributes each (strings, ints, a double, a
// bool, a 2 KB input.value), one event per span; fixed content, no randomness.
//
// BM_otlp_proto_decode: OtlpProtoDecoder over the protobuf bytes (every attribute list walked
// once, as the decoder validates it). BM_otlp_json_decode: OtlpJsonDecoder over the same request
// as OTLP/JSON (simdjson parse included). BM_otlp_proto_to_tuples: decode plus
// OtlpRowMapper::write_span of every span into traces.spans tuples (what `serve` does per
// request). Bytes processed = request bytes; items = spans.
#include <benchmark/benchmark.h>

#include <string>

#include "codecs/oids.hpp"
#include "codecs/otlp_json.hpp"
#include "codecs/otlp_proto.hpp"
#include "codecs/otlp_rows.hpp"
#include "tests/codecs/otlp_fixtures.hpp"

namespace {

using pgingest::otlp_test::any_double;
using pgingest::otlp_test::any_int;
using pgingest::otlp_test::any_string;
using pgingest::otlp_test::kv;
using pgingest::otlp_test::Pb;

constexpr int span_count = 1000;

std::string input_text() { return std::string(2048, 'x'); }

std::string proto_request() {
    Pb scope;
    for (int i = 0; i < span_count; ++i) {
        Pb span;
        span.s(1, pgingest::otlp_test::trace_id_bytes).s(2, pgingest::otlp_test::span_id_bytes)
            .s(4, pgingest::otlp_test::parent_id_bytes).s(5, "chat gpt-4o").u(6, 3)
            .f64(7, 1796627234994000123ULL + static_cast<unsigned>(i))
            .f64(8, 1796627235994000123ULL + static_cast<unsigned>(i))
            .m(9, kv("gen_ai.operation.name", any_string("chat")))
            .m(9, kv("gen_ai.provider.name", any_string("openai")))
            .m(9, kv("gen_ai.request.model", any_string("gpt-4o")))
            .m(9, kv("gen_ai.response.id", any_string("chatcmpl-8a7b6c5d4e3f")))
            .m(9, kv("gen_ai.usage.input_tokens", any_int(1200 + i)))
            .m(9, kv("gen_ai.usage.output_tokens", any_int(300)))
            .m(9, kv("gen_ai.request.temperature", any_double(0.7)))
            .m(9, kv("session.id", any_string("session-0001")))
            .m(9, kv("stream", Pb().u(2, 1)))
            .m(9, kv("input.value", any_string(input_text())))
            .m(11, Pb().f64(1, 1796627235000000000ULL).s(2, "gen_ai.choice")
                       .m(3, kv("index", any_int(0))))
            .m(15, Pb().u(3, 1));
        scope.m(2, span);
    }
    scope.m(1, Pb().s(1, "agent.tracer").s(2, "1.0.0"));
    Pb resource = Pb().m(1, kv("service.name", any_string("triage-agent")));
    return Pb().m(1, Pb().m(1, resource).m(2, scope)).bytes();
}

std::string json_request() {
    std::string spans;
    for (int i = 0; i < span_count; ++i) {
        std::string n = std::to_string(i);
        spans += std::string(i == 0 ? "" : ",") +
                 R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",)"
                 R"("parentSpanId":"0000000000000001","name":"chat gpt-4o","kind":3,)"
                 R"("startTimeUnixNano":"17966272349940)" + std::to_string(100000 + i) +
                 R"(","endTimeUnixNano":"1796627235994000123","attributes":[)"
                 R"({"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},)"
                 R"({"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},)"
                 R"({"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},)"
                 R"({"key":"gen_ai.response.id","value":{"stringValue":"chatcmpl-8a7b6c5d4e3f"}},)"
                 R"({"key":"gen_ai.usage.input_tokens","value":{"intValue":)" + n + "}}," +
                 R"({"key":"gen_ai.usage.output_tokens","value":{"intValue":300}},)"
                 R"({"key":"gen_ai.request.temperature","value":{"doubleValue":0.7}},)"
                 R"({"key":"session.id","value":{"stringValue":"session-0001"}},)"
                 R"({"key":"stream","value":{"boolValue":true}},)"
                 R"({"key":"input.value","value":{"stringValue":")" + input_text() + R"("}}],)"
                 R"("events":[{"timeUnixNano":"1796627235000000000","name":"gen_ai.choice",)"
                 R"("attributes":[{"key":"index","value":{"intValue":0}}]}],)"
                 R"("status":{"code":1}})";
    }
    return R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":)"
           R"({"stringValue":"triage-agent"}}]},"scopeSpans":[{"scope":{"name":"agent.tracer",)"
           R"("version":"1.0.0"},"spans":[)" + spans + "]}]}]}";
}

class CountingVisitor final : public pgingest::OtlpTraceVisitor {
public:
    std::size_t spans = 0;
    void resource(const pgingest::OtlpResource&) override {}
    void scope(const pgingest::OtlpScope&) override {}
    void span(const pgingest::OtlpSpan&) override { ++spans; }
};

template <typename Decoder>
void decode_loop(benchmark::State& state, const std::string& request) {
    Decoder decoder;
    std::size_t spans = 0;
    for (auto _ : state) {
        CountingVisitor visitor;
        pgingest::OtlpError error = decoder.decode(request, visitor);
        if (!error.ok() || visitor.spans != span_count) {
            state.SkipWithError(error.message.c_str());
            return;
        }
        spans += visitor.spans;
        benchmark::DoNotOptimize(visitor.spans);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(request.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(spans));
}

void BM_otlp_proto_decode(benchmark::State& state) {
    decode_loop<pgingest::OtlpProtoDecoder>(state, proto_request());
}
BENCHMARK(BM_otlp_proto_decode)->Unit(benchmark::kMillisecond);

void BM_otlp_json_decode(benchmark::State& state) {
    decode_loop<pgingest::OtlpJsonDecoder>(state, json_request());
}
BENCHMARK(BM_otlp_json_decode)->Unit(benchmark::kMillisecond);

pgingest::ColumnInfo column(std::string_view name, std::uint32_t type_oid) {
    pgingest::ColumnInfo info;
    info.name = std::string(name);
    info.type_oid = type_oid;
    if (type_oid == 1007) {  // int4[]
        info.type_name = "_int4";
        info.element_oid = pgingest::oid::int4;
        info.element_name = "int4";
    }
    return info;
}

/// traces.spans as the catalog describes it (otlp_span_columns, types of OTLP.md §A2.6).
pgingest::TableInfo spans_table() {
    namespace oid = pgingest::oid;
    const std::uint32_t types[] = {
        oid::uuid, oid::int8, oid::int8, oid::timestamptz, oid::timestamptz, oid::int8,
        oid::text, oid::int2, oid::int2, oid::text, oid::text, oid::uuid, oid::text, oid::text,
        oid::text, oid::int4, oid::jsonb, oid::jsonb, oid::jsonb, oid::jsonb, oid::jsonb, 1007};
    pgingest::TableInfo table;
    table.qualified_name = "traces.spans";
    for (std::size_t i = 0; i < pgingest::otlp_span_columns.size(); ++i) {
        table.columns.push_back(column(pgingest::otlp_span_columns[i], types[i]));
    }
    return table;
}

class TupleVisitor final : public pgingest::OtlpTraceVisitor {
public:
    explicit TupleVisitor(const pgingest::TableInfo& table) : rows(table) {}
    void resource(const pgingest::OtlpResource& r) override {
        ok = ok && mapper.prepare_resource(r, current).ok();
    }
    void scope(const pgingest::OtlpScope& s) override { current_scope = s; }
    void span(const pgingest::OtlpSpan& s) override {
        rows.start_tuple(out);
        ok = ok && mapper.write_span(rows, current, current_scope, s).ok() && rows.finish().ok();
    }
    pgingest::OtlpRowMapper mapper;
    pgingest::RowWriter rows;
    pgingest::OtlpResourceRow current;
    pgingest::OtlpScope current_scope;
    pgingest::ByteBuffer out;
    bool ok = true;
};

void BM_otlp_proto_to_tuples(benchmark::State& state) {
    std::string request = proto_request();
    pgingest::TableInfo table = spans_table();
    pgingest::OtlpProtoDecoder decoder;
    TupleVisitor visitor(table);
    for (auto _ : state) {
        visitor.out.clear();
        if (!decoder.decode(request, visitor).ok() || !visitor.ok) {
            state.SkipWithError("decode or mapping failed");
            return;
        }
        benchmark::DoNotOptimize(visitor.out.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(request.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * span_count));
    state.counters["tuple_bytes"] = static_cast<double>(visitor.out.size());
}
BENCHMARK(BM_otlp_proto_to_tuples)->Unit(benchmark::kMillisecond);

}  // namespace
