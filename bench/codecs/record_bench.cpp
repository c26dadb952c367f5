// BM_record_encode_{spans,events,snapshots,vectors}: what a `pgingest load` producer thread does per record —
// parse the NDJSON line with simdjson and encode its tuple through the record plan
// (codecs/load_plan.hpp) — on records from `pgingest generate` (tools/generate.hpp). Bytes are
// the NDJSON input. No server: the columns are those `pgingest generate --schema` creates.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "codecs/copy_binary.hpp"
#include "codecs/oids.hpp"
#include "tools/generate.hpp"
#include "codecs/load_plan.hpp"

namespace {

using pgingest::ColumnInfo;
using pgingest::TableInfo;
namespace oid = pgingest::oid;

ColumnInfo column(std::string name, std::uint32_t type_oid, std::uint32_t element_oid = 0) {
    ColumnInfo info;
    info.name = std::move(name);
    info.type_oid = type_oid;
    info.element_oid = element_oid;
    info.type_display = "t";
    return info;
}

TableInfo spans_table() {
    TableInfo table;
    table.qualified_name = "spans";
    table.columns = {column("trace_id", oid::uuid),
                     column("span_id", oid::int8),
                     column("parent_id", oid::int8),
                     column("name", oid::text),
                     column("start_time", oid::timestamptz),
                     column("duration", oid::interval),
                     column("status", oid::text),
                     column("cost_usd", oid::numeric),
                     column("attributes", oid::jsonb),
                     column("embedding", 1021, oid::float4)};
    return table;
}

TableInfo events_table() {
    TableInfo table;
    table.qualified_name = "events";
    table.columns = {column("id", oid::int8),        column("stream", oid::text),
                     column("ts", oid::timestamptz), column("type", oid::text),
                     column("run_id", oid::uuid),    column("flow_name", oid::text),
                     column("step_name", oid::text), column("step_id", oid::int8),
                     column("attempt", oid::int4),   column("payload", oid::jsonb)};
    return table;
}

TableInfo snapshots_table() {
    TableInfo table;
    table.qualified_name = "snapshots";
    table.columns = {column("id", oid::int8), column("name", oid::text),
                     column("state", oid::jsonb)};
    return table;
}

TableInfo vectors_table() {
    TableInfo table;
    table.qualified_name = "vectors";
    table.columns = {column("id", oid::int8), column("embedding", 1021, oid::float4),
                     column("metadata", oid::jsonb)};
    return table;
}

/// Generated records, one per line, padded for in-place parsing.
struct Records {
    std::string text;
    std::vector<std::pair<std::size_t, std::size_t>> lines;  ///< offset, length
};

Records generate(pgingest::tools::GenerateKind kind, std::uint64_t rows) {
    pgingest::tools::GenerateOptions options;
    options.kind = kind;
    options.rows = rows;
    options.snapshot_bytes_min = 500'000;  // the low end of the default range, to keep it quick
    options.snapshot_bytes_max = 1'000'000;
    options.seed = 3;
    pgingest::tools::RecordGenerator generator(options);
    pgingest::ByteBuffer out;
    Records records;
    for (std::uint64_t row = 0; row < rows; ++row) {
        std::size_t start = out.size();
        if (!generator.append_record(out, row).ok()) {
            return records;
        }
        records.lines.emplace_back(start, out.size() - start - 1);  // without the newline
    }
    records.text.assign(out.data(), out.size());
    records.text.append(simdjson::SIMDJSON_PADDING, ' ');
    return records;
}

void run(benchmark::State& state, pgingest::tools::GenerateKind kind, const TableInfo& table,
         std::uint64_t rows = 2000) {
    const Records records = generate(kind, rows);
    pgingest::tools::LoadPlan plan = pgingest::tools::make_load_plan(table, {});
    pgingest::tools::RecordEncoder encoder(plan, pgingest::JsonWriterOptions{});
    pgingest::tools::RecordError error;
    pgingest::ByteBuffer out(std::size_t{8} << 20);
    std::size_t next = 0;
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        if (out.size() > (std::size_t{6} << 20)) {
            out.clear();
        }
        auto [offset, length] = records.lines[next];
        next = (next + 1) % records.lines.size();
        pgingest::put_tuple_header(out, static_cast<std::uint16_t>(plan.columns.size()));
        if (!encoder.encode(std::string_view(records.text.data() + offset, length), out, error)) {
            state.SkipWithError(error.reason.c_str());
            return;
        }
        bytes += length + 1;
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_record_encode_spans(benchmark::State& state) {
    run(state, pgingest::tools::GenerateKind::spans, spans_table());
}
BENCHMARK(BM_record_encode_spans);

void BM_record_encode_events(benchmark::State& state) {
    run(state, pgingest::tools::GenerateKind::events, events_table());
}
BENCHMARK(BM_record_encode_events);

void BM_record_encode_snapshots(benchmark::State& state) {
    run(state, pgingest::tools::GenerateKind::snapshots, snapshots_table(), 8);
}
BENCHMARK(BM_record_encode_snapshots);

void BM_record_encode_vectors(benchmark::State& state) {
    run(state, pgingest::tools::GenerateKind::vectors, vectors_table(), 200);
}
BENCHMARK(BM_record_encode_vectors);

}  // namespace
