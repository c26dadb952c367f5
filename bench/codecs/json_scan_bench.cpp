// The constant-memory JSON validator of large records (codecs/detail/json_scan `JsonValidator`)
// against simdjson on the same text: On-Demand (iterate and walk every value: what validates
// a record whole) and the DOM (parse). Inputs: a 16 MiB nested record and a 16 MiB dense array
// of one-digit numbers (the shapes of tests/load/memory_test.cpp), and the streaming splitter
// of json-array documents (codecs/json_split) on a 16 MiB array of small records. Bytes per
// second in the `bytes_per_second` counter.

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <string>

#include "codecs/json_split.hpp"
#include "codecs/detail/json_scan.hpp"

namespace {

constexpr std::size_t target_bytes = std::size_t{16} << 20;

std::string nested_text() {
    std::string text = "{\"id\":1,\"obj\":{";
    for (std::size_t i = 0; text.size() < target_bytes; ++i) {
        text += (i == 0 ? "\"k" : ",\"k") + std::to_string(i) +
                R"(":{"name":"v\u00e9\"q","vals":[1,2.50,-3e2,null,true],"sub":{"a":[{}]}})";
    }
    return text + "}}";
}

std::string dense_text() {
    std::string text = "{\"id\":1,\"arr\":[0";
    for (std::size_t i = 1; text.size() < target_bytes; ++i) {
        text += ',';
        text += static_cast<char>('0' + i % 10);
    }
    return text + "]}";
}

std::string small_records_text() {
    std::string text = "[\n";
    for (std::size_t id = 1; text.size() < target_bytes; ++id) {
        text += "{\"id\":" + std::to_string(id) + ",\"name\":\"r\\u00e9cord\",\"tags\":[\"a\"," +
                "\"b\"],\"pad\":\"" + std::string(100, 'x') + "\"},\n";
    }
    return text + "{}]";
}

const std::string& input(std::int64_t which) {
    static const std::string nested = nested_text();
    static const std::string dense = dense_text();
    static const std::string records = small_records_text();
    return which == 0 ? nested : which == 1 ? dense : records;
}

void BM_json_scan_validator(benchmark::State& state) {
    const std::string& text = input(state.range(0));
    pgingest::detail::JsonValidator validator(1024);
    for (auto _ : state) {
        pgingest::detail::JsonScanError error;
        bool ok = validator.validate(text, error);
        benchmark::DoNotOptimize(ok);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

/// Walks every value, so that On-Demand checks the whole text.
simdjson::error_code walk(simdjson::ondemand::value value) {
    simdjson::ondemand::json_type type;
    if (auto error = value.type().get(type)) {
        return error;
    }
    if (type == simdjson::ondemand::json_type::object) {
        for (auto field : value.get_object()) {
            simdjson::ondemand::value child;
            if (auto error = field.value().get(child)) {
                return error;
            }
            if (auto error = walk(child)) {
                return error;
            }
        }
        return simdjson::SUCCESS;
    }
    if (type == simdjson::ondemand::json_type::array) {
        for (auto element : value.get_array()) {
            simdjson::ondemand::value child;
            if (auto error = element.get(child)) {
                return error;
            }
            if (auto error = walk(child)) {
                return error;
            }
        }
        return simdjson::SUCCESS;
    }
    std::string_view raw = value.raw_json_token();
    benchmark::DoNotOptimize(raw);
    return simdjson::SUCCESS;
}

void BM_json_scan_simdjson_ondemand(benchmark::State& state) {
    simdjson::padded_string text(input(state.range(0)));
    simdjson::ondemand::parser parser;
    for (auto _ : state) {
        simdjson::ondemand::document doc;
        simdjson::ondemand::value root;
        auto error = parser.iterate(text).get(doc);
        if (!error) {
            error = doc.get_value().get(root);
        }
        if (!error) {
            error = walk(root);
        }
        benchmark::DoNotOptimize(error);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

void BM_json_scan_simdjson_dom(benchmark::State& state) {
    simdjson::padded_string text(input(state.range(0)));
    simdjson::dom::parser parser;
    for (auto _ : state) {
        auto error = parser.parse(text).error();
        benchmark::DoNotOptimize(error);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

class Count final : public pgingest::JsonSplitSink {
  public:
    std::size_t records = 0;
    void record(std::uint64_t, std::uint64_t, std::uint64_t) override { ++records; }
    void error(std::uint64_t, std::uint64_t, std::string) override {}
};

/// The streaming splitter fed in 2 MiB chunks, as the reader feeds it.
void BM_json_split(benchmark::State& state) {
    const std::string& text = input(state.range(0));
    for (auto _ : state) {
        pgingest::JsonSplitter splitter({}, true);
        Count sink;
        for (std::size_t at = 0; at < text.size(); at += std::size_t{2} << 20) {
            splitter.feed(std::string_view(text).substr(at, std::size_t{2} << 20), sink);
        }
        splitter.finish(sink);
        benchmark::DoNotOptimize(sink.records);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

}  // namespace

BENCHMARK(BM_json_scan_validator)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_json_scan_simdjson_ondemand)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_json_scan_simdjson_dom)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_json_split)->Arg(2)->Unit(benchmark::kMillisecond);
