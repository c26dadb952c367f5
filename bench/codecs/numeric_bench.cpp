// Cost of numeric encoding: decimal text (typical money-like values and long values) and int64.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "codecs/numeric.hpp"

namespace {

std::vector<std::string> decimal_texts(int digits_max, std::size_t count) {
    std::mt19937_64 random(42);
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < count; i++) {
        int int_digits = 1 + static_cast<int>(random() % static_cast<unsigned>(digits_max));
        std::string text = random() % 4 == 0 ? "-" : "";
        for (int k = 0; k < int_digits; k++) {
            text += static_cast<char>('0' + random() % 10);
        }
        text += '.';
        text += std::to_string(random() % 100);
        texts.push_back(text);
    }
    return texts;
}

void run_texts(benchmark::State& state, const std::vector<std::string>& texts) {
    std::size_t bytes = 0;
    std::size_t size_max = 0;
    for (const std::string& text : texts) {
        bytes += text.size();
        size_max += pgingest::numeric_text_encoded_size_max(text.size());
    }
    pgingest::ByteBuffer buffer(size_max);
    for (auto _ : state) {
        buffer.clear();
        for (const std::string& text : texts) {
            benchmark::DoNotOptimize(pgingest::encode_numeric_text(buffer, text));
        }
        benchmark::DoNotOptimize(buffer.data());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(texts.size()));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}

}  // namespace

static void BM_numeric_text_short(benchmark::State& state) {
    static const std::vector<std::string> texts = decimal_texts(8, 1000);
    run_texts(state, texts);
}
BENCHMARK(BM_numeric_text_short);

static void BM_numeric_text_long(benchmark::State& state) {
    static const std::vector<std::string> texts = decimal_texts(60, 1000);
    run_texts(state, texts);
}
BENCHMARK(BM_numeric_text_long);

static void BM_numeric_int64(benchmark::State& state) {
    std::mt19937_64 random(42);
    std::vector<std::int64_t> values(1000);
    for (std::int64_t& value : values) {
        value = static_cast<std::int64_t>(random()) >> (random() % 60);
    }
    pgingest::ByteBuffer buffer(values.size() * pgingest::numeric_int64_encoded_size_max);
    for (auto _ : state) {
        buffer.clear();
        for (std::int64_t value : values) {
            pgingest::encode_numeric(buffer, value);
        }
        benchmark::DoNotOptimize(buffer.data());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(values.size()));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(buffer.size()));
}
BENCHMARK(BM_numeric_int64);
