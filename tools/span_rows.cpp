#include "tools/span_rows.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <span>

#include "codecs/array.hpp"
#include "codecs/copy_binary.hpp"
#include "codecs/datetime.hpp"
#include "codecs/jsonb.hpp"
#include "codecs/numeric.hpp"
#include "codecs/oids.hpp"
#include "codecs/pgvector.hpp"
#include "codecs/scalars.hpp"
#include "codecs/text.hpp"
#include "codecs/uuid.hpp"

namespace pgingest::tools {

namespace {

constexpr std::array<std::string_view, 6> span_names = {
    "invoke_agent planner", "chat gpt-4o", "execute_tool search",
    "execute_tool sql",     "chat claude", "retrieve documents"};
constexpr std::array<std::string_view, 4> models = {"gpt-4o", "claude-sonnet", "llama-3-70b",
                                                    "mistral-large"};
constexpr std::array<std::string_view, 16> words = {
    "the",  "agent", "résumé", "tool", "東京",   "query", "returned", "rows",
    "with", "café",  "✓",      "plan", "\"ok\"", "step",  "😀",        "tab\there"};
constexpr std::int64_t first_start_us = 832'377'600'000'000;  // 2026-05-18 00:00:00 UTC

// SplitMix64: a tiny, well-mixed generator; seeded per row so rows are independent.
struct Random {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    std::uint64_t below(std::uint64_t bound) { return next() % bound; }
    float unit() { return static_cast<float>(next() >> 40) / 16777216.0f * 2.0f - 1.0f; }
};

UuidBytes trace_id(std::uint64_t seed, std::uint64_t trace) {
    Random random{seed ^ (trace * 0xD1B54A32D192ED03ULL)};
    UuidBytes id{};
    for (std::size_t i = 0; i < 16; i += 8) {
        std::uint64_t bits = random.next();
        for (std::size_t k = 0; k < 8; k++) {
            id[i + k] = static_cast<std::uint8_t>(bits >> (8 * k));
        }
    }
    id[6] = static_cast<std::uint8_t>((id[6] & 0x0F) | 0x40);  // version 4
    id[8] = static_cast<std::uint8_t>((id[8] & 0x3F) | 0x80);  // RFC 4122 variant
    return id;
}

void write_sentence(JsonWriter& json, Random& random, std::size_t word_count) {
    std::string text;
    text.reserve(word_count * 8);
    for (std::size_t w = 0; w < word_count; w++) {
        if (w > 0) {
            text += ' ';
        }
        text += words[random.below(words.size())];
    }
    json.string(text);
}

void write_attributes(JsonWriter& json, Random& random, std::string_view name) {
    json.begin_object();
    json.key("service.name");
    json.string("agent-runtime");
    json.key("span.kind");
    json.string(name);
    json.key("gen_ai");
    json.begin_object();
    json.key("model");
    json.string(models[random.below(models.size())]);
    json.key("usage");
    json.begin_object();
    json.key("input_tokens");
    json.number(100 + random.below(4000));
    json.key("output_tokens");
    json.number(10 + random.below(800));
    json.end_object();
    json.key("temperature");
    json.number(static_cast<double>(random.below(11)) / 10.0);
    json.end_object();
    json.key("messages");
    json.begin_array();
    for (std::uint64_t m = 0, count = 1 + random.below(3); m < count; m++) {
        json.begin_object();
        json.key("role");
        json.string(m % 2 == 0 ? "user" : "assistant");
        json.key("content");
        write_sentence(json, random, 20 + random.below(40));
        json.end_object();
    }
    json.end_array();
    json.key("tool");
    json.begin_object();
    json.key("arguments");
    json.begin_object();
    json.key("query");
    write_sentence(json, random, 6);
    json.key("limit");
    json.number(random.below(100));
    json.key("filters");
    json.begin_array();
    for (std::uint64_t f = 0, count = random.below(4); f < count; f++) {
        json.string(words[random.below(words.size())]);
    }
    json.end_array();
    json.end_object();
    json.end_object();
    json.key("retry");
    json.boolean(random.below(10) == 0);
    json.key("parent");
    json.null();
    json.end_object();
}

Status put_embedding(ByteBuffer& out, Random& random, const SpanRowOptions& options) {
    if (options.embedding == EmbeddingType::vector) {
        std::array<float, 2048> values{};
        std::size_t dims = std::min(options.embedding_dims, values.size());
        for (std::size_t d = 0; d < dims; d++) {
            values[d] = random.unit();
        }
        return encode_vector(out, std::span<const float>(values.data(), dims));
    }
    ArrayWriter embedding(out, oid::float4);
    for (std::size_t d = 0; d < options.embedding_dims; d++) {
        encode_float4(out, random.unit());
    }
    return embedding.finish();
}

}  // namespace

std::string SpanRows::create_table_sql(std::string_view table) const {
    std::string embedding = _options.embedding == EmbeddingType::vector
                                ? "vector(" + std::to_string(_options.embedding_dims) + ")"
                                : std::string("real[]");
    return "CREATE TABLE " + std::string(table) +
           " (trace_id uuid NOT NULL, span_id int8 NOT NULL, parent_id int8, name text NOT NULL,"
           " start_time timestamptz NOT NULL, duration interval, status text,"
           " cost_usd numeric(12,6), attributes jsonb, embedding " +
           embedding + ")";
}

std::string SpanRows::column_list() {
    return "(trace_id, span_id, parent_id, name, start_time, duration, status, cost_usd, "
           "attributes, embedding)";
}

Status SpanRows::put_fields(ByteBuffer& out, JsonWriter& json, std::uint64_t row) const {
    const std::size_t start = out.size();
    Random random{_options.seed ^ (row * 0x9E3779B97F4A7C15ULL) ^ 0x5DEECE66DULL};
    const std::uint64_t trace = row / spans_per_trace;
    const std::string_view name = span_names[random.below(span_names.size())];
    encode_uuid(out, trace_id(_options.seed, trace));
    encode_int8(out, static_cast<std::int64_t>(row));
    if (row % spans_per_trace == 0) {
        put_null(out);
    } else {
        encode_int8(out, static_cast<std::int64_t>(row - 1));
    }
    Status status = encode_text(out, name);
    encode_timestamptz(out, first_start_us + static_cast<std::int64_t>(row) * 1500);
    encode_interval(out, Interval{static_cast<std::int64_t>(random.below(5'000'000)), 0, 0});
    if (status.ok()) {
        status = encode_text(out, random.below(17) == 0 ? "error" : "ok");
    }
    char cost[32];
    int cost_size =
        std::snprintf(cost, sizeof cost, "0.%06u", static_cast<unsigned>(random.below(1'000'000)));
    if (status.ok()) {
        status =
            encode_numeric_text(out, std::string_view(cost, static_cast<std::size_t>(cost_size)));
    }
    if (status.ok()) {
        FieldStart attributes = begin_jsonb(out);
        json.reset(out);
        write_attributes(json, random, name);
        status = end_jsonb(out, attributes, json);
    }
    if (status.ok()) {
        status = put_embedding(out, random, _options);
    }
    if (!status.ok()) {
        out.truncate(start);
    }
    return status;
}

Status SpanRows::put_tuple(ByteBuffer& out, JsonWriter& json, std::uint64_t row) const {
    const std::size_t start = out.size();
    put_tuple_header(out, field_count);
    Status status = put_fields(out, json, row);
    if (!status.ok()) {
        out.truncate(start);
    }
    return status;
}

}  // namespace pgingest::tools
