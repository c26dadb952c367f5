// Record splitting by tools::InputReader: bytes of input per second from a file in the page
// cache to RecordChunks drained by one consumer (which only counts records), so the figure is
// read + split, not parse. Real time: the reader thread does most of the work.
//
// BM_input_split_document: a ~32 MB `{"statuses": [...]}` made of twitter.json's statuses
// (../shared/data/json/twitter.json) repeated, with --pointer /statuses (simdjson On-Demand
// walk over the held document). BM_input_split_ndjson: amazon_cellphones.ndjson repeated to
// ~32 MB, no pointer (newline-ended chunks, lines split in next()). BM_input_split_ndjson_pointer:
// the same lines as `{"row": <line>}` objects with --pointer /row (each line walked in next()).
// Without ../shared/data, generated statuses and lines of similar shape are used instead.
#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/input.hpp"

namespace {

constexpr std::size_t target_bytes = std::size_t{32} << 20;

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return in ? out.str() : std::string();
}

/// Status objects (minified, comma-separated) from twitter.json, or generated ones.
std::string statuses() {
    std::string text = read_text(PGINGEST_SHARED_DATA "/json/twitter.json");
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::string out;
    if (!text.empty() && parser.parse(text).get(root) == simdjson::SUCCESS) {
        for (auto status : root["statuses"].get_array()) {
            out += out.empty() ? "" : ",\n";
            out += simdjson::minify(status);
        }
        return out;
    }
    for (int i = 0; i < 100; ++i) {
        out += out.empty() ? "" : ",\n";
        out += R"({"id":)" + std::to_string(i) +
               R"(,"text":"こんにちは generated status \u00e9","user":{"id":7,"name":"n",)"
               R"("entities":{"urls":[],"tags":["a","b"]}},"retweet_count":3,"lang":"ja"})";
    }
    return out;
}

/// NDJSON lines (each ending in '\n'), from amazon_cellphones.ndjson or generated.
std::string lines() {
    std::string text = read_text(PGINGEST_SHARED_DATA "/json/amazon_cellphones.ndjson");
    if (!text.empty()) {
        return text.back() == '\n' ? text : text + '\n';
    }
    std::string out;
    for (int i = 0; i < 800; ++i) {
        out += R"(["B0)" + std::to_string(i) +
               R"(","Nokia","Dual-Band Phone w/ Voice Dialing","https://example.com/dp/x",4.1,)" +
               std::to_string(i % 97) + "]\n";
    }
    return out;
}

std::string write_temp(const std::string& name, const std::string& text) {
    auto path = std::filesystem::temp_directory_path() /
                ("pgingest_input_bench_" + std::to_string(::getpid()) + "_" + name);
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
}

void split(benchmark::State& state, const std::string& text, const std::string& pointer) {
    std::string path = write_temp(pointer.empty() ? "lines" : "doc", text);
    std::size_t records = 0;
    for (auto _ : state) {
        // The file four times over, as in a load of several files: what is allocated once per
        // reader (the parser's index, first buffers) is not the whole cost.
        pgingest::tools::InputReader reader({path, path, path, path}, {.pointer = pointer});
        pgingest::tools::RecordChunk chunk;
        records = 0;
        while (reader.next(chunk)) {
            records += chunk.records.size();
        }
        benchmark::DoNotOptimize(records);
    }
    std::filesystem::remove(path);
    state.SetBytesProcessed(state.iterations() * 4 * static_cast<std::int64_t>(text.size()));
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(records));
}

void BM_input_split_document(benchmark::State& state) {
    std::string one = statuses();
    std::string text = "{\"statuses\": [\n";
    while (text.size() < target_bytes) {
        text += one;
        text += ",\n";
    }
    text += one + "]}\n";
    split(state, text, "/statuses");
}
BENCHMARK(BM_input_split_document)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_input_split_ndjson(benchmark::State& state) {
    std::string one = lines();
    std::string text;
    while (text.size() < target_bytes) {
        text += one;
    }
    split(state, text, "");
}
BENCHMARK(BM_input_split_ndjson)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_input_split_ndjson_pointer(benchmark::State& state) {
    std::string one;
    std::istringstream in(lines());
    for (std::string line; std::getline(in, line);) {
        one += "{\"row\": " + line + "}\n";
    }
    std::string text;
    while (text.size() < target_bytes) {
        text += one;
    }
    split(state, text, "/row");
}
BENCHMARK(BM_input_split_ndjson_pointer)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
