// JsonWriter and jsonb field throughput on the simdjson corpus (/work/shared/data/json).
//
// BM_jsonb_write_*: the document is parsed once with simdjson DOM outside the timed loop; the
// loop walks the DOM and writes it through JsonWriter into a jsonb COPY field. Bytes processed
// = JSON text bytes written (the field minus length and version byte).
// BM_jsonb_passthrough_twitter: validated raw JSON text copied into a jsonb field with
// JsonWriter::raw (the \u0000 / surrogate scan plus memcpy), without re-parsing.
// BM_jsonb_text_twitter: encode_jsonb_text, i.e. simdjson DOM validation plus the pass-through.
// Without ../shared/data (a fresh clone), each runs on a generated state snapshot of 0.5-0.7 MB
// (`pgingest generate snapshots`, seed 42) instead, and its label says so.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "codecs/jsonb.hpp"
#include "tools/generate.hpp"

namespace {

std::string corpus_path(const char* name) {
    return std::string(PGINGEST_SHARED_DATA "/json/") + name;
}

// A benchmark's input: the corpus document, or a generated one when the corpus is missing
// (`label` then says which file was missing).
struct Corpus {
    simdjson::padded_string text;
    std::string label;
};

Corpus corpus(const char* name) {
    Corpus corpus;
    if (simdjson::padded_string::load(corpus_path(name)).get(corpus.text) == simdjson::SUCCESS) {
        return corpus;
    }
    pgingest::tools::RecordGenerator generator(
        pgingest::tools::GenerateOptions{.kind = pgingest::tools::GenerateKind::snapshots,
                                         .snapshot_bytes_min = 500'000,
                                         .snapshot_bytes_max = 700'000});
    pgingest::ByteBuffer record(1 << 20);
    if (!generator.append_record(record, 0).ok()) {
        std::fprintf(stderr, "cannot generate a snapshot document\n");
        std::abort();
    }
    corpus.text = simdjson::padded_string(record.data(), record.size() - 1);  // without '\n'
    corpus.label = "generated snapshot (" + corpus_path(name) + " missing)";
    return corpus;
}

std::int64_t times(benchmark::State& state, std::size_t bytes) {
    return state.iterations() * static_cast<std::int64_t>(bytes);
}

void write_corpus(benchmark::State& state, const char* name) {
    Corpus input = corpus(name);
    state.SetLabel(input.label);
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(input.text).value();
    pgingest::ByteBuffer out(16 << 20);
    pgingest::JsonWriter writer(out);
    std::size_t text_bytes = 0;
    for (auto _ : state) {
        out.clear();
        pgingest::FieldStart field = pgingest::begin_jsonb(out);
        writer.reset(out);
        pgingest::write_dom(writer, root);
        pgingest::Status status = pgingest::end_jsonb(out, field, writer);
        if (!status.ok()) {
            state.SkipWithError("JsonWriter failed");
            return;
        }
        text_bytes = out.size() - 5;
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(times(state, text_bytes));
    state.SetItemsProcessed(state.iterations());
}

void BM_jsonb_write_twitter(benchmark::State& state) {
    write_corpus(state, "twitter.json");
}
void BM_jsonb_write_citm(benchmark::State& state) {
    write_corpus(state, "citm_catalog.json");
}
void BM_jsonb_write_canada(benchmark::State& state) {
    write_corpus(state, "canada.json");
}

void BM_jsonb_passthrough_twitter(benchmark::State& state) {
    Corpus input = corpus("twitter.json");
    state.SetLabel(input.label);
    std::string_view view(input.text.data(), input.text.size());
    simdjson::dom::parser parser;
    if (parser.parse(input.text).error()) {  // validated once, as a producer would have
        state.SkipWithError("twitter.json does not parse");
        return;
    }
    pgingest::ByteBuffer out(16 << 20);
    pgingest::JsonWriter writer(out);
    for (auto _ : state) {
        out.clear();
        pgingest::FieldStart field = pgingest::begin_jsonb(out);
        writer.reset(out);
        writer.raw(view);
        pgingest::Status status = pgingest::end_jsonb(out, field, writer);
        if (!status.ok()) {
            state.SkipWithError("pass-through failed");
            return;
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(times(state, view.size()));
    state.SetItemsProcessed(state.iterations());
}

// Validation included: simdjson DOM parse + pass-through (encode_jsonb_text).
void BM_jsonb_text_twitter(benchmark::State& state) {
    Corpus input = corpus("twitter.json");
    state.SetLabel(input.label);
    std::string_view view(input.text.data(), input.text.size());
    simdjson::dom::parser parser;
    pgingest::ByteBuffer out(16 << 20);
    for (auto _ : state) {
        out.clear();
        pgingest::Status status = pgingest::encode_jsonb_text(out, view, {}, parser);
        if (!status.ok()) {
            state.SkipWithError("encode_jsonb_text failed");
            return;
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(times(state, view.size()));
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_jsonb_write_twitter);
BENCHMARK(BM_jsonb_write_citm);
BENCHMARK(BM_jsonb_write_canada);
BENCHMARK(BM_jsonb_passthrough_twitter);
BENCHMARK(BM_jsonb_text_twitter);
