#pragma once

// OTLP spans → tuples of `traces.spans`, resources → tuples of `traces.resources`: the one
// mapping `pgingest serve` and `pgingest load --format otlp` share (issue 16; table design of
// ../shared/notes/OTLP.md §A2.6, DDL in `otlp_traces_schema_sql`).
//
//   traces.spans (COPY column order of `otlp_span_columns`; received_at is left to its default)
//     trace_id uuid          the 16 bytes as they are            (uuid.c uuid_recv)
//     span_id int8           the 8 bytes read big-endian          (int8.c int8recv)
//     parent_span_id int8    NULL for a root span
//     start_time, end_time   timestamptz: ns / 1000 (µs, truncated) (timestamp.c timestamptz_recv)
//     duration_ns int8       end - start, exact
//     name text, kind int2, status_code int2, status_message text (NULL when empty)
//     service_name text      resource attribute service.name (a string), else NULL
//     resource_id uuid       `OtlpResourceRow::resource_id`
//     scope_name, scope_version, trace_state text (NULL when empty); flags int4 (bit pattern)
//     attributes jsonb       flat object keyed by the OTel names, without the input/output keys
//     events jsonb           [{"time", "name", "attributes", "dropped_attributes_count"?}] or NULL
//     links jsonb            [{"trace_id", "span_id", "trace_state"?, "flags"?, "attributes",
//                              "dropped_attributes_count"?}] or NULL (ids as lowercase hex)
//     input, output jsonb    object of the input/output attributes (`otlp_attribute_destination`)
//                            keyed by their names, or NULL when the span has none
//     dropped_counts int4[]  {attributes, events, links} when any is non-zero, else NULL
//
// AnyValue → JSON: string → string, bool → bool, int → number (all 64 bits: jsonb numeric),
// double → number (NaN, Infinity, -Infinity → those strings), bytes → base64 string (standard
// alphabet, padded), array → array, kvlist → object, unset → null.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/json_writer.hpp"
#include "codecs/otlp_model.hpp"
#include "codecs/row_writer.hpp"
#include "codecs/table_shape.hpp"
#include "codecs/uuid.hpp"

namespace pgingest {

/// The schema `pgingest init traces` creates: schema `traces`, tables `traces.resources` and
/// `traces.spans` (partitioned by day on start_time, lz4 for the large jsonb columns) with the
/// indexes of OTLP.md §A2.6 and a default partition so that rows of any day are stored until
/// daily partitions are made. Idempotent (IF NOT EXISTS throughout). Several statements: run it
/// with a simple-query exec, not a prepared statement. span_embeddings (pgvector) is not part
/// of it.
extern const std::string_view otlp_traces_schema_sql;

/// The columns of traces.spans that `OtlpRowMapper::write_span` writes, in order.
inline constexpr std::array<std::string_view, 22> otlp_span_columns = {
    "trace_id",      "span_id",        "parent_span_id", "start_time",    "end_time",
    "duration_ns",   "name",           "kind",           "status_code",   "status_message",
    "service_name",  "resource_id",    "scope_name",     "scope_version", "trace_state",
    "flags",         "attributes",     "events",         "links",         "input",
    "output",        "dropped_counts"};

/// The columns of traces.resources that `OtlpRowMapper::write_resource` writes, in order.
inline constexpr std::array<std::string_view, 4> otlp_resource_columns = {
    "resource_id", "service_name", "attributes", "schema_url"};

/// Reduces `table` (as read from the catalog) to `columns`, in that order, so that its
/// `copy_sql()` names exactly the columns the mapper writes. Returns "" or the error
/// `table traces.spans has no column "flags"`. Allocates.
[[nodiscard]] std::string otlp_select_columns(TableInfo& table,
                                              std::span<const std::string_view> columns);

/// Which column an attribute goes to.
enum class OtlpAttributeDestination : std::uint8_t { attributes, input, output };

/// `input` for input.value, gen_ai.input.messages, gen_ai.system_instructions and
/// llm.input_messages.*; `output` for output.value, gen_ai.output.messages and
/// llm.output_messages.*; `attributes` for every other key. Pure.
[[nodiscard]] OtlpAttributeDestination otlp_attribute_destination(std::string_view key) noexcept;

/// What a resource contributes to the rows of its spans; computed once per resource by
/// `OtlpRowMapper::prepare_resource` and valid as long as the decoded request.
struct OtlpResourceRow {
    /// FNV-1a 128 of `attributes_json`, a 0x00 byte and the schema URL, made a version-8
    /// (custom) RFC 9562 uuid. Equal resources (same attributes in the same order, same schema
    /// URL) get equal ids; not collision-resistant against crafted input.
    UuidBytes resource_id{};
    std::string service_name;        ///< the string value of service.name
    bool has_service_name = false;   ///< false: service.name absent or not a string
    std::string attributes_json;     ///< the flat attributes object as JSON text
    std::string_view schema_url;     ///< ResourceSpans.schema_url
};

/// Why a span or resource could not become a tuple: `message` is empty on success. A failed
/// RowWriter call leaves the tuple incomplete: the caller cancels the row
/// (`Producer::cancel_row`) and counts the span as rejected (OTLP partial success).
struct [[nodiscard]] OtlpRowError {
    std::string message;  ///< e.g. `span 3: column "name" (text): value "a\x00" at byte 1: ...`

    /// True when the tuple was written.
    [[nodiscard]] bool ok() const noexcept { return message.empty(); }
};

/// Writes OTLP spans and resources as tuples through a `RowWriter` whose columns are
/// `otlp_span_columns` (or `otlp_resource_columns`), in that order. Holds an attribute walker,
/// a JSON writer and scratch buffers reused for every row: no allocation per span once they
/// have grown (errors allocate their message). Not thread-safe: one per producer thread.
class OtlpRowMapper {
public:
    /// `json` sets the rules of the jsonb columns (NUL policy, depth); non-finite doubles are
    /// always written as strings.
    explicit OtlpRowMapper(JsonWriterOptions json = {});

    /// Computes `out` from `resource` (walks its attributes once). Errors: a string the JSON
    /// writer refuses (e.g. a NUL with NulPolicy::error).
    OtlpRowError prepare_resource(const OtlpResource& resource, OtlpResourceRow& out);

    /// Writes the fields of one traces.resources tuple (`row` begun on the tuple).
    OtlpRowError write_resource(RowWriter& row, const OtlpResourceRow& resource);

    /// Writes the fields of one traces.spans tuple for `span` (`row` begun on the tuple).
    /// Errors: a span without trace_id or span_id (`span N: no trace_id`), a duration outside
    /// int8, and every RowWriter error (the column, its type, the value and the reason).
    OtlpRowError write_span(RowWriter& row, const OtlpResourceRow& resource,
                            const OtlpScope& scope, const OtlpSpan& span);

private:
    OtlpRowError write_times(RowWriter& row, const OtlpSpan& span);
    OtlpRowError write_json_columns(RowWriter& row, const OtlpSpan& span);
    bool write_attributes(JsonWriter& writer, const OtlpAttributes& list,
                          OtlpAttributeDestination destination, bool filter);
    void write_events(JsonWriter& writer, const OtlpSpan& span);
    void write_links(JsonWriter& writer, const OtlpSpan& span);
    OtlpRowError row_error(const RowWriter& row, Status status, const OtlpSpan* span,
                           std::string_view value) const;

    JsonWriterOptions _json_options;
    OtlpAttributeWalker _walker;
    ByteBuffer _scratch;  ///< resource JSON, and JSON written outside a RowWriter
    JsonWriter _json;
    std::string _base64;  ///< one bytes value as base64
    std::string _text;    ///< small texts (dropped_counts)
};

}  // namespace pgingest
