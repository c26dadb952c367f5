#pragma once

// Deterministic NDJSON records for demos and benchmarks: `pgingest generate`.
//
// Four kinds, one JSON object per line (keys in this order; the types are those of
// `create_table_sql`, and the JSON spelling is one PostgreSQL's own input functions accept):
//   spans      trace_id "uuid", span_id int, parent_id int|null (null for a trace's root),
//              name "text", start_time "RFC 3339 timestamptz", duration "ISO 8601 interval"
//              (PT1.234567S), status "ok"|"error", cost_usd number (6 decimals),
//              attributes {nested, 1-3 KB: gen_ai model/usage, messages of multibyte text,
//              tool arguments}, embedding [dims floats in [-1, 1)]. The same spans, value for
//              value, as the binary COPY rows of `SpanRows` with the same seed.
//   events     id int, stream "text", ts "timestamptz", type "text", run_id "uuid",
//              flow_name "text", step_name "text"|null, step_id int|null, attempt int|null,
//              payload {small object}: the narrow rows of a flow-run event store, 16 per run.
//   snapshots  id int, name "text", state {deeply nested state document: run, plan, agents with
//              memory, queues, arrays of records; numbers and multibyte text}, each record line
//              between snapshot_bytes_min and snapshot_bytes_max bytes.
//   vectors    id int, embedding [dims floats in [-1, 1)], metadata {small object}.
// Record n depends only on (seed, n): disjoint ranges can be generated in parallel and
// concatenated.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/buffer.hpp"
#include "codecs/json_writer.hpp"
#include "codecs/status.hpp"
#include "tools/span_rows.hpp"

namespace pgingest::tools {

/// What `pgingest generate` writes.
enum class GenerateKind : std::uint8_t { spans, events, snapshots, vectors };

/// The kind named `name` ("spans", "events", "snapshots", "vectors"), else nullopt.
[[nodiscard]] std::optional<GenerateKind> parse_generate_kind(std::string_view name);

/// The name of `kind`, as `parse_generate_kind` takes it; also the default table name.
[[nodiscard]] std::string_view generate_kind_name(GenerateKind kind);

/// Longest embedding `GenerateOptions::dims` allows: pgvector's limit for `vector`.
inline constexpr std::size_t generate_dims_max = 16'000;
/// Smallest `snapshot_bytes_min`, and the least gap between min and max: room for the fixed part
/// of a snapshot plus one array element over the target.
inline constexpr std::size_t snapshot_bytes_floor = 20'000;
inline constexpr std::size_t snapshot_bytes_gap_min = 20'000;

/// Options of the generator; use designated initializers.
struct GenerateOptions {
    GenerateKind kind = GenerateKind::spans;
    std::uint64_t rows = 1000;    ///< records to write (>= 1)
    std::uint64_t first_row = 0;  ///< number of the first record, for parallel ranges
    std::uint64_t seed = 42;
    std::size_t dims = 0;  ///< embedding length (spans, vectors); 0: 384 spans, 1536 vectors
    std::size_t snapshot_bytes_min = 500'000;    ///< least bytes of a snapshot line
    std::size_t snapshot_bytes_max = 5'000'000;  ///< most bytes of a snapshot line
    /// Column type of the embedding in `create_table_sql` (spans, vectors); the JSON is the same.
    EmbeddingType embedding = EmbeddingType::real_array;
};

/// Empty when `options` are usable, else what is wrong: the option (named as its CLI flag), the
/// value given and the allowed range. Pure, any thread.
[[nodiscard]] std::string check_generate_options(const GenerateOptions& options);

/// The embedding length `options` mean: `dims`, or the kind's default when 0.
[[nodiscard]] std::size_t generate_dims(const GenerateOptions& options);

/// `CREATE TABLE <table> (...)` whose columns are the kind's JSON keys, in order, with the types
/// listed at the top of this file: spans as `SpanRows::create_table_sql`; events with `id int8
/// PRIMARY KEY`; snapshots `(id int8 PRIMARY KEY, name text, state jsonb)`; vectors
/// `(id int8 PRIMARY KEY, embedding real[] | vector(dims), metadata jsonb)`. `table` is
/// `[schema.]name`; each part not a plain lowercase identifier is double-quoted. Pure.
[[nodiscard]] std::string create_table_sql(const GenerateOptions& options, std::string_view table);

/// Writes records of one kind as NDJSON lines into a `ByteBuffer`.
///
/// Holds scratch space sized at construction (the embedding's text, a snapshot's array
/// element), so the hot path does not allocate beyond the growth of `out`. Not thread-safe: one
/// generator per thread; the records are the same whichever generator writes them.
class RecordGenerator {
  public:
    /// A generator for `options` (rows and first_row are not used). Throws
    /// `std::invalid_argument` with `check_generate_options`'s message when they are unusable.
    explicit RecordGenerator(const GenerateOptions& options);

    /// Appends record `row` and a `\n` to `out`. Errors only if JsonWriter refuses a value (a
    /// bug here); `out` is then as it was.
    [[nodiscard]] Status append_record(ByteBuffer& out, std::uint64_t row);

    [[nodiscard]] const GenerateOptions& options() const noexcept { return _options; }

  private:
    void write_span(std::uint64_t row);
    void write_event(std::uint64_t row);
    void write_snapshot(std::uint64_t row);
    void write_vector(std::uint64_t row);

    GenerateOptions _options;
    std::size_t _dims;
    ByteBuffer _scratch;      // one snapshot array element at a time
    JsonWriter _json;         // the record, on the caller's buffer
    JsonWriter _item_json;    // snapshot elements, on _scratch
    std::vector<char> _text;  // embedding text
};

/// Writes records `first_row` .. `first_row + rows - 1` of `options` to `file` as NDJSON, in
/// chunks of about 1 MiB, and returns the bytes written. Throws `std::invalid_argument` for
/// unusable options and `pgingest::Error` when writing fails, naming `file_name` and errno's
/// reason. Any thread; `file` is used by this call alone.
std::uint64_t write_records(const GenerateOptions& options, std::FILE* file,
                            std::string_view file_name);

}  // namespace pgingest::tools
