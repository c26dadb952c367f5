// BM_tuple_encode_span: one agent trace-span tuple (uuid, int8, text, timestamptz, interval,
// numeric, jsonb ~1 KB written through JsonWriter, vector(384)) encoded into a batch buffer.
// The rows come from tools/span_rows, the generator of the demo and the engine benchmark.

#include <benchmark/benchmark.h>

#include "codecs/json_writer.hpp"
#include "tools/span_rows.hpp"

namespace {

void BM_tuple_encode_span(benchmark::State& state) {
    using pgingest::tools::SpanRows;
    const SpanRows rows(pgingest::tools::SpanRowOptions{
        .seed = 7, .embedding_dims = 384, .embedding = pgingest::tools::EmbeddingType::vector});
    pgingest::ByteBuffer buffer(std::size_t{8} << 20);
    pgingest::JsonWriter json(buffer);
    std::uint64_t row = 0;
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        if (buffer.size() > (std::size_t{7} << 20)) {
            buffer.clear();
        }
        std::size_t before = buffer.size();
        if (!rows.put_tuple(buffer, json, row % 4096).ok()) {
            state.SkipWithError("a span row failed to encode");
            return;
        }
        bytes += buffer.size() - before;
        row++;
        benchmark::DoNotOptimize(buffer.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(row));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_tuple_encode_span);

}  // namespace
