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
#include "tools/detail/span_values.hpp"

namespace pgingest::tools {

namespace {

using detail::SplitMix64;

static_assert(SpanRows::spans_per_trace == detail::spans_per_trace);

Status put_embedding(ByteBuffer& out, SplitMix64& random, const SpanRowOptions& options) {
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
    detail::SpanValues span = detail::span_values(_options.seed, row);
    encode_uuid(out, span.trace_id);
    encode_int8(out, static_cast<std::int64_t>(span.span_id));
    if (span.has_parent) {
        encode_int8(out, static_cast<std::int64_t>(span.parent_id));
    } else {
        put_null(out);
    }
    Status status = encode_text(out, span.name);
    encode_timestamptz(out, span.start_us);
    encode_interval(out, Interval{span.duration_us, 0, 0});
    if (status.ok()) {
        status = encode_text(out, span.status);
    }
    char cost[32];
    int cost_size = std::snprintf(cost, sizeof cost, "0.%06u", span.cost_micro_usd);
    if (status.ok()) {
        status =
            encode_numeric_text(out, std::string_view(cost, static_cast<std::size_t>(cost_size)));
    }
    if (status.ok()) {
        FieldStart attributes = begin_jsonb(out);
        json.reset(out);
        detail::write_span_attributes(json, span.random, span.name);
        status = end_jsonb(out, attributes, json);
    }
    if (status.ok()) {
        status = put_embedding(out, span.random, _options);
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
