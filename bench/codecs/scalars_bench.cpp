// Throughput of the scalar, text, uuid and array codecs: native encoders, text parsers (the
// NDJSON path) and the array writer. Inputs are generated with a fixed seed outside the timed
// loop; each iteration encodes a batch of 4096 values into a buffer reserved once.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "codecs/array.hpp"
#include "codecs/oids.hpp"
#include "codecs/scalars.hpp"
#include "codecs/text.hpp"
#include "codecs/uuid.hpp"

namespace {

using namespace pgingest;

constexpr std::size_t batch = 4096;
constexpr std::uint64_t seed = 20261121;

std::vector<std::int64_t> random_int64s() {
    std::mt19937_64 random(seed);
    std::vector<std::int64_t> values(batch);
    for (auto& value : values) {
        value = static_cast<std::int64_t>(random());
    }
    return values;
}

std::vector<std::string> texts_of(const char* format, auto make) {
    std::mt19937_64 random(seed);
    std::vector<std::string> texts(batch);
    char text[64];
    for (auto& out : texts) {
        std::snprintf(text, sizeof text, format, make(random));
        out = text;
    }
    return texts;
}

std::size_t total_size(const std::vector<std::string>& texts) {
    std::size_t size = 0;
    for (const auto& text : texts) {
        size += text.size();
    }
    return size;
}

void set_counters(benchmark::State& state, std::size_t bytes_per_batch) {
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes_per_batch));
}

void BM_int8_encode(benchmark::State& state) {
    auto values = random_int64s();
    ByteBuffer out(batch * int8_encoded_size_max());
    for (auto _ : state) {
        out.clear();
        for (std::int64_t value : values) {
            encode_int8(out, value);
        }
        benchmark::DoNotOptimize(out.data());
    }
    set_counters(state, batch * int8_encoded_size_max());
}
BENCHMARK(BM_int8_encode);

void BM_int8_parse_text(benchmark::State& state) {
    auto texts = texts_of("%lld", [](auto& random) {
        return static_cast<long long>(random()) >> (random() % 63);
    });
    ByteBuffer out(batch * int8_encoded_size_max());
    for (auto _ : state) {
        out.clear();
        for (const auto& text : texts) {
            benchmark::DoNotOptimize(encode_int8_text(out, text));
        }
    }
    set_counters(state, total_size(texts));
}
BENCHMARK(BM_int8_parse_text);

void BM_float8_parse_text(benchmark::State& state) {
    auto texts = texts_of("%.17g", [](auto& random) {
        return std::uniform_real_distribution<double>(-1e6, 1e6)(random);
    });
    ByteBuffer out(batch * float8_encoded_size_max());
    for (auto _ : state) {
        out.clear();
        for (const auto& text : texts) {
            benchmark::DoNotOptimize(encode_float8_text(out, text));
        }
    }
    set_counters(state, total_size(texts));
}
BENCHMARK(BM_float8_parse_text);

void BM_uuid_parse_text(benchmark::State& state) {
    auto texts = texts_of("%s", [](auto& random) {
        static char text[40];
        std::snprintf(text, sizeof text, "%08llx-%04llx-%04llx-%04llx-%012llx",
                      static_cast<unsigned long long>(random() & 0xffffffff),
                      static_cast<unsigned long long>(random() & 0xffff),
                      static_cast<unsigned long long>(random() & 0xffff),
                      static_cast<unsigned long long>(random() & 0xffff),
                      static_cast<unsigned long long>(random() & 0xffffffffffff));
        return text;
    });
    ByteBuffer out(batch * uuid_encoded_size_max());
    for (auto _ : state) {
        out.clear();
        for (const auto& text : texts) {
            benchmark::DoNotOptimize(encode_uuid_text(out, text));
        }
    }
    set_counters(state, total_size(texts));
}
BENCHMARK(BM_uuid_parse_text);

// Text of `state.range(0)` bytes, mixed ASCII and multibyte: UTF-8 validation dominates.
void BM_text_encode(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    std::string value;
    const std::string piece = "trace span \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ";
    while (value.size() < size) {
        value += piece;
    }
    value.resize(size - size % piece.size());
    ByteBuffer out(batch * text_encoded_size_max(value.size()));
    for (auto _ : state) {
        out.clear();
        for (std::size_t i = 0; i < batch; i++) {
            benchmark::DoNotOptimize(encode_text(out, value));
        }
    }
    set_counters(state, batch * value.size());
}
BENCHMARK(BM_text_encode)->Arg(32)->Arg(1024)->Arg(65536);

void BM_array_int4_encode(benchmark::State& state) {
    auto values = random_int64s();
    ByteBuffer out(array_encoded_size_max(batch, int4_encoded_size_max()));
    for (auto _ : state) {
        out.clear();
        ArrayWriter array(out, oid::int4);
        for (std::int64_t value : values) {
            encode_int4(array.out(), static_cast<std::int32_t>(value));
        }
        benchmark::DoNotOptimize(array.finish());
    }
    set_counters(state, array_encoded_size_max(batch, int4_encoded_size_max()));
}
BENCHMARK(BM_array_int4_encode);

}  // namespace
