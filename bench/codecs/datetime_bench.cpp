// Cost of parsing and encoding date/time text: RFC 3339 timestamps with offsets, dates and
// ISO 8601 durations.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "codecs/datetime.hpp"

namespace {

using Encoder = pgingest::Status (*)(pgingest::ByteBuffer&, std::string_view);

std::vector<std::string> make_texts(const char* format, std::size_t count) {
    std::mt19937_64 random(42);
    std::vector<std::string> texts;
    char text[64];
    for (std::size_t i = 0; i < count; i++) {
        auto pick = [&](unsigned n) { return static_cast<unsigned>(random() % n); };
        std::snprintf(text, sizeof text, format, 1970 + pick(80), 1 + pick(12), 1 + pick(28),
                      pick(24), pick(60), pick(60), pick(1000000), pick(15));
        texts.emplace_back(text);
    }
    return texts;
}

void run_texts(benchmark::State& state, Encoder encoder, const std::vector<std::string>& texts) {
    std::size_t bytes = 0;
    for (const std::string& text : texts) {
        bytes += text.size();
    }
    pgingest::ByteBuffer buffer(texts.size() * pgingest::interval_encoded_size);
    for (auto _ : state) {
        buffer.clear();
        for (const std::string& text : texts) {
            benchmark::DoNotOptimize(encoder(buffer, text));
        }
        benchmark::DoNotOptimize(buffer.data());
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(texts.size()));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}

}  // namespace

static void BM_timestamptz_text_rfc3339(benchmark::State& state) {
    static const std::vector<std::string> texts =
        make_texts("%04u-%02u-%02uT%02u:%02u:%02u.%06u+%02u:00", 1000);
    run_texts(state, pgingest::encode_timestamptz_text, texts);
}
BENCHMARK(BM_timestamptz_text_rfc3339);

static void BM_date_text(benchmark::State& state) {
    static const std::vector<std::string> texts = make_texts("%04u-%02u-%02u", 1000);
    run_texts(state, pgingest::encode_date_text, texts);
}
BENCHMARK(BM_date_text);

static void BM_interval_text_iso8601(benchmark::State& state) {
    static const std::vector<std::string> texts =
        make_texts("P%uY%uM%uDT%uH%uM%u.%uS", 1000);
    run_texts(state, pgingest::encode_interval_text, texts);
}
BENCHMARK(BM_interval_text_iso8601);
