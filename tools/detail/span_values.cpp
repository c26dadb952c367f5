#include "tools/detail/span_values.hpp"

#include <cstring>

#include "codecs/assert.hpp"

namespace pgingest::detail {

namespace {

constexpr std::array<std::string_view, 6> span_names = {
    "invoke_agent planner", "chat gpt-4o", "execute_tool search",
    "execute_tool sql",     "chat claude", "retrieve documents"};
constexpr std::array<std::string_view, 4> models = {"gpt-4o", "claude-sonnet", "llama-3-70b",
                                                    "mistral-large"};

void put_digits(char* out, std::uint64_t value, std::size_t count) {
    for (std::size_t i = count; i > 0; i--) {
        out[i - 1] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

}  // namespace

void write_sentence(JsonWriter& json, SplitMix64& random, std::size_t word_count) {
    // Up to 60 words of at most 9 bytes and a space each: fits without allocating.
    char text[1024];
    std::size_t size = 0;
    for (std::size_t w = 0; w < word_count && size + 16 < sizeof text; w++) {
        if (w > 0) {
            text[size++] = ' ';
        }
        std::string_view word = span_words[random.below(span_words.size())];
        word.copy(text + size, word.size());
        size += word.size();
    }
    json.string(std::string_view(text, size));
}

void write_messages(JsonWriter& json, SplitMix64& random, std::size_t words_min,
                    std::uint64_t words_range) {
    json.begin_array();
    for (std::uint64_t m = 0, count = 1 + random.below(3); m < count; m++) {
        json.begin_object();
        json.key("role");
        json.string(m % 2 == 0 ? "user" : "assistant");
        json.key("content");
        write_sentence(json, random, words_min + random.below(words_range));
        json.end_object();
    }
    json.end_array();
}

std::size_t format_unit_float(float value, char* out) {
    // value = m / 2^23 exactly; z zeros follow the point before the first significant digit,
    // and q = round(|m| * 10^(9+z) / 2^23) < 2^23 * 10^9 fits in 64 bits.
    const auto m = static_cast<std::int64_t>(value * 8388608.0f);
    std::size_t size = 0;
    if (m < 0) {
        out[size++] = '-';
    }
    const std::uint64_t magnitude = static_cast<std::uint64_t>(m < 0 ? -m : m);
    if (magnitude == 0 || magnitude >= 8'388'608) {
        out[size++] = magnitude == 0 ? '0' : '1';
        return size;
    }
    std::uint64_t z = 0;
    std::uint64_t scaled = magnitude;
    while (scaled * 10 < 8'388'608) {
        scaled *= 10;
        z++;
    }
    std::uint64_t q = (scaled * 1'000'000'000 + 4'194'304) >> 23;
    // No carry to 10^9: 2^23 / 10^z (z = 0..6) is at least 0.08 from an integer, so no grid
    // value lies within a relative 5e-10 below a power of ten.
    PGINGEST_ASSERT(q < 1'000'000'000);
    out[size++] = '0';
    out[size++] = '.';
    for (std::uint64_t i = 0; i < z; i++) {
        out[size++] = '0';
    }
    put_digits(out + size, q, 9);
    size += 9;
    while (out[size - 1] == '0') {
        size--;
    }
    return size;
}

UuidBytes random_uuid(SplitMix64& random) {
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

void format_uuid(const UuidBytes& uuid, char* out) {
    constexpr char hex[] = "0123456789abcdef";
    std::size_t at = 0;
    for (std::size_t i = 0; i < uuid.size(); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[at++] = '-';
        }
        out[at++] = hex[uuid[i] >> 4];
        out[at++] = hex[uuid[i] & 15];
    }
}

std::size_t format_timestamptz(std::int64_t us_since_2000, char* out) {
    constexpr std::int64_t us_per_day = 86'400'000'000;
    const std::int64_t days = us_since_2000 / us_per_day;
    const auto day_us = static_cast<std::uint64_t>(us_since_2000 % us_per_day);
    // civil_from_days (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"), from the
    // epoch 0000-03-01; 2000-01-01 is day 730 425 of it.
    const std::int64_t z = days + 730'425;
    const std::int64_t era = z / 146'097;
    const std::int64_t doe = z - era * 146'097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    std::memcpy(out, "0000-00-00T00:00:00.000000Z", timestamptz_text_size_max);
    put_digits(out, static_cast<std::uint64_t>(year), 4);
    put_digits(out + 5, static_cast<std::uint64_t>(month), 2);
    put_digits(out + 8, static_cast<std::uint64_t>(day), 2);
    put_digits(out + 11, day_us / 3'600'000'000, 2);
    put_digits(out + 14, day_us / 60'000'000 % 60, 2);
    put_digits(out + 17, day_us / 1'000'000 % 60, 2);
    put_digits(out + 20, day_us % 1'000'000, 6);
    return timestamptz_text_size_max;
}

SpanValues span_values(std::uint64_t seed, std::uint64_t row) {
    SpanValues span{};
    span.random = SplitMix64{seed ^ (row * 0x9E3779B97F4A7C15ULL) ^ 0x5DEECE66DULL};
    const std::uint64_t trace = row / spans_per_trace;
    span.name = span_names[span.random.below(span_names.size())];
    SplitMix64 trace_random{seed ^ (trace * 0xD1B54A32D192ED03ULL)};
    span.trace_id = random_uuid(trace_random);
    span.span_id = row;
    span.has_parent = row % spans_per_trace != 0;
    span.parent_id = span.has_parent ? row - 1 : 0;
    span.start_us = span_first_start_us + static_cast<std::int64_t>(row) * 1500;
    span.duration_us = static_cast<std::int64_t>(span.random.below(5'000'000));
    span.status = span.random.below(17) == 0 ? "error" : "ok";
    span.cost_micro_usd = static_cast<std::uint32_t>(span.random.below(1'000'000));
    return span;
}

void write_span_attributes(JsonWriter& json, SplitMix64& random, std::string_view name) {
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
    write_messages(json, random, 30, 30);
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
        json.string(span_words[random.below(span_words.size())]);
    }
    json.end_array();
    json.end_object();
    // What the tool returned: 8-12 rows, which brings the attributes to 1-3 KB.
    json.key("result");
    json.begin_array();
    for (std::uint64_t r = 0, count = 8 + random.below(5); r < count; r++) {
        json.begin_object();
        json.key("id");
        json.number(random.below(1'000'000));
        json.key("title");
        write_sentence(json, random, 4 + random.below(8));
        json.key("score");
        json.number(static_cast<double>(random.below(1000)) / 1000.0);
        json.end_object();
    }
    json.end_array();
    json.end_object();
    json.key("retry");
    json.boolean(random.below(10) == 0);
    json.key("parent");
    json.null();
    json.end_object();
}

}  // namespace pgingest::detail
