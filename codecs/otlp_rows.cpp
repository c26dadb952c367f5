#include "codecs/otlp_rows.hpp"

#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "codecs/datetime.hpp"

namespace pgingest {

const std::string_view otlp_traces_schema_sql = R"sql(
CREATE SCHEMA IF NOT EXISTS traces;

CREATE TABLE IF NOT EXISTS traces.resources (
    resource_id  uuid PRIMARY KEY,
    service_name text,
    attributes   jsonb NOT NULL,
    schema_url   text,
    first_seen   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS traces.spans (
    trace_id        uuid        NOT NULL,
    span_id         bigint      NOT NULL,
    parent_span_id  bigint,
    start_time      timestamptz NOT NULL,
    end_time        timestamptz NOT NULL,
    duration_ns     bigint      NOT NULL,
    name            text        NOT NULL,
    kind            smallint    NOT NULL,
    status_code     smallint    NOT NULL DEFAULT 0,
    status_message  text,
    service_name    text,
    resource_id     uuid,
    scope_name      text,
    scope_version   text,
    trace_state     text,
    flags           integer,
    attributes      jsonb       NOT NULL DEFAULT '{}',
    events          jsonb,
    links           jsonb,
    input           jsonb,
    output          jsonb,
    dropped_counts  integer[],
    received_at     timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (start_time);

ALTER TABLE traces.spans ALTER COLUMN attributes SET COMPRESSION lz4,
                         ALTER COLUMN input SET COMPRESSION lz4,
                         ALTER COLUMN output SET COMPRESSION lz4;

CREATE TABLE IF NOT EXISTS traces.spans_default PARTITION OF traces.spans DEFAULT;

CREATE INDEX IF NOT EXISTS spans_trace_id_idx ON traces.spans (trace_id);
CREATE INDEX IF NOT EXISTS spans_start_time_brin ON traces.spans USING brin (start_time);
CREATE INDEX IF NOT EXISTS spans_service_name_idx
    ON traces.spans (service_name, name, start_time DESC);
CREATE INDEX IF NOT EXISTS spans_errors_idx ON traces.spans (start_time DESC)
    WHERE status_code = 2;
CREATE INDEX IF NOT EXISTS spans_conversation_idx
    ON traces.spans ((attributes->>'gen_ai.conversation.id'))
    WHERE attributes ? 'gen_ai.conversation.id';
CREATE INDEX IF NOT EXISTS spans_session_idx ON traces.spans ((attributes->>'session.id'))
    WHERE attributes ? 'session.id';
)sql";

std::string otlp_select_columns(TableInfo& table, std::span<const std::string_view> columns) {
    std::vector<ColumnInfo> selected;
    selected.reserve(columns.size());
    for (std::string_view name : columns) {
        const ColumnInfo* column = table.find(name);
        if (column == nullptr) {
            return "table " + table.qualified_name + " has no column \"" + std::string(name) +
                   "\"";
        }
        selected.push_back(*column);
    }
    table.columns = std::move(selected);
    return {};
}

OtlpAttributeDestination otlp_attribute_destination(std::string_view key) noexcept {
    if (key == "input.value" || key == "gen_ai.input.messages" ||
        key == "gen_ai.system_instructions" || key.starts_with("llm.input_messages.")) {
        return OtlpAttributeDestination::input;
    }
    if (key == "output.value" || key == "gen_ai.output.messages" ||
        key.starts_with("llm.output_messages.")) {
        return OtlpAttributeDestination::output;
    }
    return OtlpAttributeDestination::attributes;
}

namespace {

void append_base64(std::string& out, std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.clear();
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        auto chunk = (std::uint32_t{static_cast<std::uint8_t>(bytes[i])} << 16) |
                     (std::uint32_t{static_cast<std::uint8_t>(bytes[i + 1])} << 8) |
                     std::uint32_t{static_cast<std::uint8_t>(bytes[i + 2])};
        out += alphabet[(chunk >> 18) & 63];
        out += alphabet[(chunk >> 12) & 63];
        out += alphabet[(chunk >> 6) & 63];
        out += alphabet[chunk & 63];
    }
    std::size_t left = bytes.size() - i;
    if (left > 0) {
        std::uint32_t chunk = std::uint32_t{static_cast<std::uint8_t>(bytes[i])} << 16;
        if (left == 2) {
            chunk |= std::uint32_t{static_cast<std::uint8_t>(bytes[i + 1])} << 8;
        }
        out += alphabet[(chunk >> 18) & 63];
        out += alphabet[(chunk >> 12) & 63];
        out += left == 2 ? alphabet[(chunk >> 6) & 63] : '=';
        out += '=';
    }
}

/// Writes attribute values as JSON; at the top level only the keys of one destination when
/// `filter` is set. Also keeps the string value of a top-level service.name.
class JsonSink final : public OtlpValueSink {
public:
    JsonSink(JsonWriter& writer, std::string& base64, OtlpAttributeDestination destination,
             bool filter)
        : _writer(writer), _base64(base64), _destination(destination), _filter(filter) {}

    std::string_view service_name;
    bool has_service_name = false;

    bool attribute(std::string_view key) override {
        if (_filter && otlp_attribute_destination(key) != _destination) {
            return false;
        }
        _watch = key == "service.name";
        _writer.key_valid_utf8(key);  // the decoders validated the UTF-8
        return true;
    }
    void key(std::string_view key) override { _writer.key_valid_utf8(key); }
    void empty_value() override {
        scalar();
        _writer.null();
    }
    void string_value(std::string_view utf8) override {
        if (_watch && _depth == 0) {
            service_name = utf8;
            has_service_name = true;
        }
        scalar();
        _writer.string_valid_utf8(utf8);
    }
    void bool_value(bool value) override {
        scalar();
        _writer.boolean(value);
    }
    void int_value(std::int64_t value) override {
        scalar();
        _writer.number(value);
    }
    void double_value(double value) override {
        scalar();
        if (std::isnan(value)) {
            _writer.string("NaN");
        } else if (std::isinf(value)) {
            _writer.string(value > 0 ? "Infinity" : "-Infinity");
        } else {
            _writer.number(value);
        }
    }
    void bytes_value(std::string_view bytes) override {
        scalar();
        append_base64(_base64, bytes);
        _writer.string_valid_utf8(_base64);
    }
    void begin_array() override {
        open();
        _writer.begin_array();
    }
    void end_array() override {
        --_depth;
        _writer.end_array();
    }
    void begin_kvlist() override {
        open();
        _writer.begin_object();
    }
    void end_kvlist() override {
        --_depth;
        _writer.end_object();
    }

private:
    void scalar() {
        if (_depth == 0) {
            _watch = false;
        }
    }
    void open() {
        scalar();
        ++_depth;
    }

    JsonWriter& _writer;
    std::string& _base64;
    OtlpAttributeDestination _destination;
    bool _filter;
    bool _watch = false;
    std::size_t _depth = 0;
};

/// Counts the top-level attributes of one destination without visiting any value.
class CountSink final : public OtlpNullSink {
public:
    explicit CountSink(OtlpAttributeDestination destination) : _destination(destination) {}
    std::size_t count = 0;
    bool attribute(std::string_view key) override {
        count += otlp_attribute_destination(key) == _destination ? 1U : 0U;
        return false;
    }

private:
    OtlpAttributeDestination _destination;
};

UuidBytes fnv1a_128_uuid(std::string_view first, std::string_view second) {
    using u128 = unsigned __int128;
    const u128 prime = (u128{1} << 88) | 0x13B;
    u128 hash = (u128{0x6c62272e07bb0142ULL} << 64) | 0x62b821756295c58dULL;
    auto mix = [&](std::string_view bytes) {
        for (char c : bytes) {
            hash ^= static_cast<std::uint8_t>(c);
            hash *= prime;
        }
    };
    mix(first);
    mix(std::string_view("\0", 1));
    mix(second);
    UuidBytes id{};
    for (std::size_t i = 0; i < 16; ++i) {
        id[i] = static_cast<std::uint8_t>(hash >> (8 * (15 - i)));
    }
    id[6] = static_cast<std::uint8_t>((id[6] & 0x0F) | 0x80);  // version 8
    id[8] = static_cast<std::uint8_t>((id[8] & 0x3F) | 0x80);  // variant 10
    return id;
}

/// Room for a formatted time or hex id plus the 16 bytes JsonWriter's fast path may read past
/// a string's end: the texts are written from a stack buffer, not a heap string per event.
using TextBuffer = std::array<char, 64>;

/// RFC 3339 UTC with nanoseconds: 2026-12-07T21:35:17.123456789Z (Hinnant's civil_from_days).
std::string_view format_time_ns(std::uint64_t ns, TextBuffer& buffer) {
    auto days = static_cast<std::int64_t>(ns / 86400000000000ULL);
    std::uint64_t in_day = ns % 86400000000000ULL;
    std::int64_t z = days + 719468;
    std::int64_t era = z / 146097;
    std::int64_t doe = z - era * 146097;
    std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    std::int64_t mp = (5 * doy + 2) / 153;
    std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
    std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
    std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    int size = std::snprintf(buffer.data(), 48, "%04lld-%02lld-%02lldT%02llu:%02llu:%02llu.%09lluZ",
                  static_cast<long long>(year), static_cast<long long>(month),
                  static_cast<long long>(day),
                  static_cast<unsigned long long>(in_day / 3600000000000ULL),
                  static_cast<unsigned long long>(in_day / 60000000000ULL % 60),
                  static_cast<unsigned long long>(in_day / 1000000000ULL % 60),
                  static_cast<unsigned long long>(in_day % 1000000000ULL));
    return {buffer.data(), static_cast<std::size_t>(size)};
}

/// `size` (≤ 16) bytes as lowercase hex in `buffer`.
std::string_view hex(const std::uint8_t* bytes, std::size_t size, TextBuffer& buffer) {
    static constexpr char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < size; ++i) {
        buffer[2 * i] = digits[bytes[i] >> 4];
        buffer[2 * i + 1] = digits[bytes[i] & 15];
    }
    return {buffer.data(), 2 * size};
}

std::int64_t span_id_value(const OtlpSpanId& id) {
    std::uint64_t value = 0;
    for (std::uint8_t byte : id) {
        value = (value << 8) | byte;
    }
    return std::bit_cast<std::int64_t>(value);
}

/// µs since 2000-01-01 of a time in ns since 1970 (truncated, as OTLP.md §A2.6 says).
std::int64_t pg_microseconds(std::uint64_t unix_ns) {
    return static_cast<std::int64_t>(unix_ns / 1000) - unix_to_pg_us;
}

}  // namespace

OtlpRowMapper::OtlpRowMapper(JsonWriterOptions json)
    : _json_options(json), _json(_scratch, json) {}

OtlpRowError OtlpRowMapper::prepare_resource(const OtlpResource& resource,
                                             OtlpResourceRow& out) {
    _scratch.clear();
    _json.reset(_scratch);
    JsonSink sink(_json, _base64, OtlpAttributeDestination::attributes, false);
    _json.begin_object();
    OtlpError walk = _walker.walk(resource.attributes, sink);
    _json.end_object();
    Status status = _json.finish();
    if (!walk.ok()) {
        return {"resource: " + walk.message};
    }
    if (!status.ok()) {
        return {"resource attributes: " + describe_error(status, "", "")};
    }
    out.attributes_json.assign(_scratch.view());
    out.has_service_name = sink.has_service_name;
    out.service_name.assign(sink.service_name);
    out.schema_url = resource.schema_url;
    out.resource_id = fnv1a_128_uuid(out.attributes_json, out.schema_url);
    return {};
}

OtlpRowError OtlpRowMapper::row_error(const RowWriter& row, Status status, const OtlpSpan* span,
                                      std::string_view value) const {
    std::string prefix = span != nullptr ? "span " + std::to_string(span->offset) + ": "
                                         : std::string("resource: ");
    return {prefix + row.describe(status, row.column(), value)};
}

OtlpRowError OtlpRowMapper::write_resource(RowWriter& row, const OtlpResourceRow& resource) {
    Status status = row.uuid(resource.resource_id);
    if (status.ok()) {
        status = resource.has_service_name ? row.text(resource.service_name) : row.null();
    }
    if (status.ok()) {
        status = row.json_parsed(resource.attributes_json);
    }
    if (status.ok()) {
        status = resource.schema_url.empty() ? row.null() : row.text(resource.schema_url);
    }
    return status.ok() ? OtlpRowError{} : row_error(row, status, nullptr, "");
}

OtlpRowError OtlpRowMapper::write_span(RowWriter& row, const OtlpResourceRow& resource,
                                       const OtlpScope& scope, const OtlpSpan& span) {
    if (!span.has_trace_id || !span.has_span_id) {
        return {"span " + std::to_string(span.offset) + ": no " +
                (span.has_trace_id ? "span_id" : "trace_id")};
    }
    Status status = row.uuid(span.trace_id);
    if (status.ok()) {
        status = row.integer(span_id_value(span.span_id));
    }
    if (status.ok()) {
        status = span.has_parent_span_id ? row.integer(span_id_value(span.parent_span_id))
                                         : row.null();
    }
    if (!status.ok()) {
        return row_error(row, status, &span, "");
    }
    OtlpRowError error = write_times(row, span);
    if (!error.ok()) {
        return error;
    }
    std::string_view value = span.name;
    auto optional_text = [&row, &value](std::string_view text) {
        value = text;
        return text.empty() ? row.null() : row.text(text);
    };
    status = row.text(span.name);
    status = status.ok() ? row.integer(span.kind) : status;
    status = status.ok() ? row.integer(span.status_code) : status;
    status = status.ok() ? optional_text(span.status_message) : status;
    status = status.ok() ? optional_text(resource.service_name) : status;
    status = status.ok() ? row.uuid(resource.resource_id) : status;
    status = status.ok() ? optional_text(scope.name) : status;
    status = status.ok() ? optional_text(scope.version) : status;
    status = status.ok() ? optional_text(span.trace_state) : status;
    status = status.ok() ? row.integer(std::bit_cast<std::int32_t>(span.flags)) : status;
    if (!status.ok()) {
        std::size_t column = row.column();  // kind, status_code, flags: name the number
        std::string number = column == 7   ? std::to_string(span.kind)
                             : column == 8 ? std::to_string(span.status_code)
                                           : std::to_string(span.flags);
        bool integer = column == 7 || column == 8 || column == 15;
        return row_error(row, status, &span, integer ? std::string_view(number) : value);
    }
    return write_json_columns(row, span);
}

OtlpRowError OtlpRowMapper::write_times(RowWriter& row, const OtlpSpan& span) {
    std::uint64_t start = span.start_time_unix_nano;
    std::uint64_t end = span.end_time_unix_nano;
    std::uint64_t magnitude = end >= start ? end - start : start - end;
    if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return {"span " + std::to_string(span.offset) + ": duration from " +
                std::to_string(start) + " to " + std::to_string(end) +
                " ns does not fit int8"};
    }
    auto duration = static_cast<std::int64_t>(magnitude);
    Status status = row.timestamp(pg_microseconds(start));
    status = status.ok() ? row.timestamp(pg_microseconds(end)) : status;
    status = status.ok() ? row.integer(end >= start ? duration : -duration) : status;
    return status.ok() ? OtlpRowError{} : row_error(row, status, &span, "");
}

bool OtlpRowMapper::write_attributes(JsonWriter& writer, const OtlpAttributes& list,
                                     OtlpAttributeDestination destination, bool filter) {
    JsonSink sink(writer, _base64, destination, filter);
    writer.begin_object();
    bool walked = _walker.walk(list, sink).ok();  // decoders validated every list
    writer.end_object();
    return walked;
}

void OtlpRowMapper::write_events(JsonWriter& writer, const OtlpSpan& span) {
    writer.begin_array();
    for (const OtlpEvent& event : span.events) {
        writer.begin_object();
        writer.key("time");
        TextBuffer buffer{};
        writer.string_valid_utf8(format_time_ns(event.time_unix_nano, buffer));
        writer.key("name");
        writer.string_valid_utf8(event.name);
        writer.key("attributes");
        write_attributes(writer, event.attributes, OtlpAttributeDestination::attributes, false);
        if (event.dropped_attributes_count != 0) {
            writer.key("dropped_attributes_count");
            writer.number(event.dropped_attributes_count);
        }
        writer.end_object();
    }
    writer.end_array();
}

void OtlpRowMapper::write_links(JsonWriter& writer, const OtlpSpan& span) {
    writer.begin_array();
    for (const OtlpLink& link : span.links) {
        TextBuffer buffer{};
        writer.begin_object();
        writer.key("trace_id");
        link.has_trace_id ? writer.string_valid_utf8(hex(link.trace_id.data(), 16, buffer))
                          : writer.null();
        writer.key("span_id");
        link.has_span_id ? writer.string_valid_utf8(hex(link.span_id.data(), 8, buffer))
                         : writer.null();
        if (!link.trace_state.empty()) {
            writer.key("trace_state");
            writer.string_valid_utf8(link.trace_state);
        }
        if (link.flags != 0) {
            writer.key("flags");
            writer.number(link.flags);
        }
        writer.key("attributes");
        write_attributes(writer, link.attributes, OtlpAttributeDestination::attributes, false);
        if (link.dropped_attributes_count != 0) {
            writer.key("dropped_attributes_count");
            writer.number(link.dropped_attributes_count);
        }
        writer.end_object();
    }
    writer.end_array();
}

OtlpRowError OtlpRowMapper::write_json_columns(RowWriter& row, const OtlpSpan& span) {
    // attributes, events, links, input, output: one jsonb field each (NULL when empty).
    for (int part = 0; part < 5; ++part) {
        bool empty = (part == 1 && span.events.empty()) || (part == 2 && span.links.empty());
        auto destination = part == 3 ? OtlpAttributeDestination::input
                                     : OtlpAttributeDestination::output;
        if (part >= 3) {
            CountSink counter(destination);
            empty = !_walker.walk(span.attributes, counter).ok() || counter.count == 0;
        }
        if (empty) {
            Status status = row.null();
            if (!status.ok()) {
                return row_error(row, status, &span, "");
            }
            continue;
        }
        JsonWriter* writer = row.begin_json();
        if (writer == nullptr) {
            return row_error(row, row.last_status(), &span, "");
        }
        if (part == 0 || part >= 3) {
            write_attributes(*writer,
                             span.attributes,
                             part == 0 ? OtlpAttributeDestination::attributes : destination,
                             true);
        } else {
            part == 1 ? write_events(*writer, span) : write_links(*writer, span);
        }
        Status status = row.end_json();
        if (!status.ok()) {
            return row_error(row, status, &span, part == 1 || part == 2 ? "JSON array"
                                                                        : "JSON object");
        }
    }
    Status status;
    if (span.dropped_attributes_count != 0 || span.dropped_events_count != 0 ||
        span.dropped_links_count != 0) {
        _text = "{" + std::to_string(span.dropped_attributes_count) + "," +
                std::to_string(span.dropped_events_count) + "," +
                std::to_string(span.dropped_links_count) + "}";
        status = row.from_text(_text);
    } else {
        status = row.null();
    }
    return status.ok() ? OtlpRowError{} : row_error(row, status, &span, _text);
}

}  // namespace pgingest
