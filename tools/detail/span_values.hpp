#pragma once

// The values of one generated agent trace span, shared by the binary COPY rows of `SpanRows`
// (tools/span_rows.hpp) and the NDJSON of `pgingest generate spans` (tools/generate.hpp), so that
// both carry the same spans for the same seed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codecs/json_writer.hpp"
#include "codecs/uuid.hpp"

namespace pgingest::detail {

/// SplitMix64: a tiny, well-mixed generator, seeded per row so that rows are independent.
/// Pure value type; one per thread.
struct SplitMix64 {
    std::uint64_t state;

    /// The next 64 random bits.
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /// Uniform-ish in [0, bound); `bound` > 0.
    std::uint64_t below(std::uint64_t bound) { return next() % bound; }
    /// Uniform in [-1, 1), a multiple of 2^-23 (exact in a float).
    float unit() { return static_cast<float>(next() >> 40) / 16777216.0f * 2.0f - 1.0f; }
};

/// Words of the generated text: ASCII, Latin-1 accents, CJK, a 4-byte emoji, a quote and a tab,
/// so that every document exercises multibyte UTF-8 and JSON escapes.
inline constexpr std::array<std::string_view, 16> span_words = {
    "the",  "agent", "résumé", "tool", "東京",   "query", "returned", "rows",
    "with", "café",  "✓",      "plan", "\"ok\"", "step",  "😀",        "tab\there"};

/// Most bytes `format_unit_float` writes: `-0.` and 9 digits after up to 6 zeros.
inline constexpr std::size_t unit_float_text_size_max = 18;

/// `value`, a multiple of 2^-23 in [-1, 1] as `SplitMix64::unit` draws, as a JSON number with 9
/// significant digits (trailing zeros dropped) at `out`; returns the bytes written. Nine digits
/// read back to the same float (9 > 24·log10(2) + 1), so `real` columns store `value` exactly;
/// about 6 times faster than std::to_chars' shortest form. Pure, any thread.
std::size_t format_unit_float(float value, char* out);

/// 2026-05-18 00:00:00 UTC in µs since 2000-01-01 UTC: the start of span 0.
inline constexpr std::int64_t span_first_start_us = 832'377'600'000'000;

/// A random version-4 UUID drawn from `random` (16 bytes, RFC 4122 variant).
UuidBytes random_uuid(SplitMix64& random);

/// `uuid` as 36 characters of lowercase hex with dashes (8-4-4-4-12) at `out`.
void format_uuid(const UuidBytes& uuid, char* out);

/// Most bytes `format_timestamptz` writes: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
inline constexpr std::size_t timestamptz_text_size_max = 27;

/// `us_since_2000` (UTC, years 2000..9999) as RFC 3339 with microseconds and `Z` at `out`;
/// returns the bytes written (27).
std::size_t format_timestamptz(std::int64_t us_since_2000, char* out);

/// A string value of `word_count` words drawn from `span_words` (at most 60 words).
void write_sentence(JsonWriter& json, SplitMix64& random, std::size_t word_count);

/// A chat transcript value: an array of 1-3 `{"role": "user"|"assistant", "content": <sentence
/// of words_min + [0, words_range) words>}` objects, roles alternating from "user".
void write_messages(JsonWriter& json, SplitMix64& random, std::size_t words_min,
                    std::uint64_t words_range);

/// The scalar values of span `row` and the generator positioned for its attributes (then its
/// embedding): the same draws, in the same order, for every writer of spans.
struct SpanValues {
    UuidBytes trace_id;
    std::uint64_t span_id;
    bool has_parent;  ///< false for the root span of a trace
    std::uint64_t parent_id;
    std::string_view name;  ///< static storage
    std::int64_t start_us;  ///< µs since 2000-01-01 UTC
    std::int64_t duration_us;
    std::string_view status;       ///< "ok" or "error"; static storage
    std::uint32_t cost_micro_usd;  ///< cost in millionths of a dollar, < 1 000 000
    SplitMix64 random;
};

/// Spans per trace: row n belongs to trace n / 8; its first span is the root.
inline constexpr std::uint64_t spans_per_trace = 8;

/// The values of span `row` for `seed`. Pure, any thread.
SpanValues span_values(std::uint64_t seed, std::uint64_t row);

/// Writes the span's attributes object (1–3 KB: service, gen_ai model and usage, 1–3
/// messages of multibyte text, tool arguments) through `json`, drawing from `random`.
/// Errors stay in `json.status()` (none for these values unless the writer was already failed).
void write_span_attributes(JsonWriter& json, SplitMix64& random, std::string_view name);

}  // namespace pgingest::detail
