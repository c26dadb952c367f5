#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/json_writer.hpp"
#include "codecs/status.hpp"

namespace pgingest::tools {

/// How the span embedding is stored.
enum class EmbeddingType : std::uint8_t {
    real_array,  ///< `real[]`: works on any server
    vector,      ///< pgvector `vector(dims)`
};

/// Options of `SpanRows`.
struct SpanRowOptions {
    std::uint64_t seed = 42;
    std::size_t embedding_dims = 384;
    EmbeddingType embedding = EmbeddingType::real_array;
};

/// Deterministic agent trace spans, encoded straight into binary COPY tuples: the rows of the
/// demo, the tuple benchmark and the engine benchmark.
///
/// Columns: trace_id uuid, span_id int8, parent_id int8 (NULL for a trace's root span), name
/// text, start_time timestamptz, duration interval, status text, cost_usd numeric(12,6),
/// attributes jsonb (nested: gen_ai model and usage, 1–3 messages with multibyte text, tool
/// arguments and result rows; 1–3 KB), embedding real[] or vector. Row `n` depends only on the seed
/// and `n`, so producers can encode disjoint ranges in parallel. Pure: any thread, one writer each.
class SpanRows {
  public:
    static constexpr std::uint16_t field_count = 10;
    static constexpr std::uint64_t spans_per_trace = 8;

    explicit SpanRows(SpanRowOptions options = {}) : _options(options) {}

    /// `CREATE TABLE <table> (...)` for these columns; `table` is used as given (quote it).
    [[nodiscard]] std::string create_table_sql(std::string_view table) const;

    /// The COPY column list: `(trace_id, span_id, ..., embedding)`.
    [[nodiscard]] static std::string column_list();

    /// Appends the fields of row `row` (not the tuple header) to `out`, the jsonb document
    /// through `json`. Errors only if an encoder refuses a value (a bug here); the buffer is
    /// then as it was.
    [[nodiscard]] Status put_fields(ByteBuffer& out, JsonWriter& json, std::uint64_t row) const;

    /// Appends a whole tuple: header and fields.
    [[nodiscard]] Status put_tuple(ByteBuffer& out, JsonWriter& json, std::uint64_t row) const;

    [[nodiscard]] const SpanRowOptions& options() const noexcept { return _options; }

  private:
    SpanRowOptions _options;
};

}  // namespace pgingest::tools
