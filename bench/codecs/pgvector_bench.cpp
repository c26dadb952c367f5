// pgvector encoders on OpenAI-sized embeddings (1536 dims): bytes are the float32 input
// (1536 × 4), items are vectors. Target for vector: ≥ 8 GB/s.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "codecs/detail/pgvector_kernels.hpp"
#include "codecs/pgvector.hpp"

namespace {

constexpr std::int64_t bench_dim = 1536;

std::vector<float> random_embedding() {
    std::mt19937 random(1536);  // fixed seed: every run encodes the same values
    std::uniform_real_distribution<float> distribution(-1.0f, 1.0f);
    std::vector<float> values(static_cast<std::size_t>(bench_dim));
    for (auto& value : values) {
        value = distribution(random);
    }
    return values;
}

void BM_vector_encode_1536(benchmark::State& state) {
    std::vector<float> values = random_embedding();
    pgingest::ByteBuffer out(pgingest::vector_encoded_size_max(1536));
    for (auto _ : state) {
        out.clear();
        pgingest::Status status = pgingest::encode_vector(out, values, bench_dim);
        benchmark::DoNotOptimize(status);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(state.iterations() * bench_dim * 4);
}
BENCHMARK(BM_vector_encode_1536);

void BM_halfvec_encode_1536(benchmark::State& state) {
    std::vector<float> values = random_embedding();
    pgingest::ByteBuffer out(pgingest::halfvec_encoded_size_max(1536));
    for (auto _ : state) {
        out.clear();
        pgingest::Status status = pgingest::encode_halfvec(out, values, bench_dim);
        benchmark::DoNotOptimize(status);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(state.iterations() * bench_dim * 4);
}
BENCHMARK(BM_halfvec_encode_1536);

// The kernels one by one, to show what each SIMD variant buys over the portable loop.
template <std::uint32_t (*kernel)(char*, const float*, std::size_t) noexcept>
void kernel_1536(benchmark::State& state, std::size_t width_bytes) {
    std::vector<float> values = random_embedding();
    std::vector<char> out(values.size() * width_bytes);
    for (auto _ : state) {
        std::uint32_t bad = kernel(out.data(), values.data(), values.size());
        benchmark::DoNotOptimize(bad);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(state.iterations() * bench_dim * 4);
}

void BM_vector_kernel_scalar_1536(benchmark::State& state) {
    kernel_1536<pgingest::detail::store_be_f32_scalar>(state, 4);
}
BENCHMARK(BM_vector_kernel_scalar_1536);

void BM_halfvec_kernel_scalar_1536(benchmark::State& state) {
    kernel_1536<pgingest::detail::store_be_f16_scalar>(state, 2);
}
BENCHMARK(BM_halfvec_kernel_scalar_1536);

#if defined(__x86_64__)
void BM_vector_kernel_sse2_1536(benchmark::State& state) {
    kernel_1536<pgingest::detail::store_be_f32_sse2>(state, 4);
}
BENCHMARK(BM_vector_kernel_sse2_1536);
#endif

}  // namespace
