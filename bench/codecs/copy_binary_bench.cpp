// Placeholder until the codec benchmarks land: framing cost of a narrow tuple.
#include <benchmark/benchmark.h>

#include "codecs/copy_binary.hpp"

static void BM_tuple_frame_int4(benchmark::State& state) {
    pgingest::ByteBuffer buffer(1 << 20);
    for (auto _ : state) {
        buffer.clear();
        for (int i = 0; i < 1000; i++) {
            pgingest::put_tuple_header(buffer, 1);
            buffer.put_i32(4);
            buffer.put_i32(i);
        }
        benchmark::DoNotOptimize(buffer.data());
    }
    state.SetItemsProcessed(state.iterations() * 1000);
    state.SetBytesProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_tuple_frame_int4);
