#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/json_writer.hpp"
#include "codecs/status.hpp"

namespace pgingest::tools {

/// Options of `EventRows`.
struct EventRowOptions {
    std::uint64_t seed = 42;
};

/// Deterministic narrow event-store rows (the events of agent workflow runs), encoded straight
/// into binary COPY tuples: the second workload of the engine benchmark.
///
/// Columns written: stream text (`run/<run number>`), ts timestamptz, type text, run_id uuid,
/// flow_name text, step_name text, step_id int8 (the event's position in its stream, from 0),
/// attempt int4, payload jsonb (a flat object of about 100 bytes). The table made by
/// `create_table_sql` adds `id bigserial PRIMARY KEY` (filled by the server), a unique index on
/// (stream, step_id) and an index on (run_id, ts). Each run has `events_per_run` consecutive
/// rows. Row `n` depends only on the seed and `n`, so producers can encode disjoint rows in
/// parallel. Pure: any thread, one writer each.
class EventRows {
  public:
    static constexpr std::uint16_t field_count = 9;
    static constexpr std::uint64_t events_per_run = 16;

    explicit EventRows(EventRowOptions options = {}) : _options(options) {}

    /// `CREATE TABLE <table> (...)` and its indexes, as one string of statements; `table` is
    /// used as given (quote it) and names the indexes `<table>_stream_step`, `<table>_run_ts`.
    [[nodiscard]] std::string create_table_sql(std::string_view table) const;

    /// The COPY column list: `(stream, ts, type, ..., payload)` (without `id`).
    [[nodiscard]] static std::string column_list();

    /// Appends the fields of row `row` (not the tuple header) to `out`, the jsonb document
    /// through `json`. Errors only if an encoder refuses a value (a bug here); the buffer is
    /// then as it was.
    [[nodiscard]] Status put_fields(ByteBuffer& out, JsonWriter& json, std::uint64_t row) const;

    /// Appends a whole tuple: header and fields.
    [[nodiscard]] Status put_tuple(ByteBuffer& out, JsonWriter& json, std::uint64_t row) const;

    [[nodiscard]] const EventRowOptions& options() const noexcept { return _options; }

  private:
    EventRowOptions _options;
};

}  // namespace pgingest::tools
