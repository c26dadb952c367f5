#include "tools/generate.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "codecs/assert.hpp"
#include "engine/errors.hpp"
#include "tools/detail/span_values.hpp"

namespace pgingest::tools {

namespace {

using detail::SplitMix64;

constexpr std::array<std::string_view, 4> kind_names = {"spans", "events", "snapshots", "vectors"};
constexpr std::array<std::string_view, 6> flow_names = {"ingest_invoices",  "summarize_tickets",
                                                        "nightly_backfill", "rag_refresh",
                                                        "onboard_customer", "score_leads"};
constexpr std::array<std::string_view, 8> step_names = {"fetch",  "extract", "validate", "embed",
                                                        "enrich", "write",   "notify",   "cleanup"};
constexpr std::array<std::string_view, 6> cities = {"Zürich", "東京",   "São Paulo",
                                                    "Kraków", "Москва", "Reykjavík"};
constexpr std::array<std::string_view, 5> languages = {"en", "fr", "ja", "de", "pt"};

// A snapshot's line is the target plus the fixed part (header, plan) plus at most one element
// over budget in each of its four arrays: well under this many bytes (checked after writing).
constexpr std::size_t snapshot_overshoot_max = 20'000;

// Odd constants that decorrelate the per-record generators of the kinds.
constexpr std::uint64_t events_mix = 0xA0761D6478BD642FULL;
constexpr std::uint64_t runs_mix = 0xE7037ED1A0B428DBULL;
constexpr std::uint64_t snapshots_mix = 0x8EBC6AF09C88C6E3ULL;
constexpr std::uint64_t vectors_mix = 0x589965CC75374CC3ULL;

SplitMix64 record_random(std::uint64_t seed, std::uint64_t row, std::uint64_t mix) {
    return SplitMix64{seed ^ (row * 0x9E3779B97F4A7C15ULL) ^ mix};
}

bool plain_identifier(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
        return false;
    }
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

// `[schema.]name` with each part double-quoted unless it is a plain lowercase identifier.
std::string table_sql(std::string_view table) {
    std::string sql;
    while (true) {
        std::size_t dot = table.find('.');
        std::string_view part = table.substr(0, dot);
        if (plain_identifier(part)) {
            sql += part;
        } else {
            sql += '"';
            for (char c : part) {
                sql += c;
                if (c == '"') {
                    sql += '"';
                }
            }
            sql += '"';
        }
        if (dot == std::string_view::npos) {
            return sql;
        }
        sql += '.';
        table.remove_prefix(dot + 1);
    }
}

void string_uuid(JsonWriter& json, const UuidBytes& uuid) {
    char text[36];
    detail::format_uuid(uuid, text);
    json.string(std::string_view(text, sizeof text));
}

void string_timestamptz(JsonWriter& json, std::int64_t us_since_2000) {
    char text[detail::timestamptz_text_size_max];
    json.string(std::string_view(text, detail::format_timestamptz(us_since_2000, text)));
}

// A JSON number with exactly `decimals` digits after the point: `units` / 10^decimals.
void number_fixed(JsonWriter& json, std::uint64_t units, unsigned decimals) {
    char text[48];
    std::uint64_t scale = 1;
    for (unsigned i = 0; i < decimals; i++) {
        scale *= 10;
    }
    char* at = std::to_chars(text, text + 24, units / scale).ptr;
    *at++ = '.';
    std::uint64_t fraction = units % scale;
    for (unsigned i = decimals; i > 0; i--) {
        at[i - 1] = static_cast<char>('0' + fraction % 10);
        fraction /= 10;
    }
    json.raw(std::string_view(text, static_cast<std::size_t>(at + decimals - text)));
}

// `[f,f,...]`: `dims` floats of `random.unit()` with 9 significant digits (exact), built in
// `text` (room for 19 bytes a value) and copied as one raw value.
void write_embedding(JsonWriter& json, std::vector<char>& text, SplitMix64& random,
                     std::size_t dims) {
    char* at = text.data();
    *at++ = '[';
    for (std::size_t d = 0; d < dims; d++) {
        if (d > 0) {
            *at++ = ',';
        }
        at += detail::format_unit_float(random.unit(), at);
    }
    *at++ = ']';
    json.raw(std::string_view(text.data(), static_cast<std::size_t>(at - text.data())));
}

}  // namespace

std::optional<GenerateKind> parse_generate_kind(std::string_view name) {
    for (std::size_t i = 0; i < kind_names.size(); i++) {
        if (kind_names[i] == name) {
            return static_cast<GenerateKind>(i);
        }
    }
    return std::nullopt;
}

std::string_view generate_kind_name(GenerateKind kind) {
    return kind_names[static_cast<std::size_t>(kind)];
}

std::size_t generate_dims(const GenerateOptions& options) {
    if (options.dims != 0) {
        return options.dims;
    }
    return options.kind == GenerateKind::vectors ? 1536 : 384;
}

std::string check_generate_options(const GenerateOptions& options) {
    if (static_cast<std::size_t>(options.kind) >= kind_names.size()) {
        return "kind: not one of spans, events, snapshots, vectors";
    }
    if (options.rows == 0) {
        return "--rows: must be at least 1, got 0";
    }
    if (options.first_row > UINT64_MAX / 2 || options.rows > UINT64_MAX / 2 - options.first_row) {
        return "--first-row + --rows: must stay below 2^63, got " +
               std::to_string(options.first_row) + " + " + std::to_string(options.rows);
    }
    if (options.dims > generate_dims_max) {
        return "--dims: must be 1.." + std::to_string(generate_dims_max) +
               " (pgvector's limit), got " + std::to_string(options.dims);
    }
    if (options.snapshot_bytes_min < snapshot_bytes_floor) {
        return "--snapshot-bytes-min: must be at least " + std::to_string(snapshot_bytes_floor) +
               ", got " + std::to_string(options.snapshot_bytes_min);
    }
    if (options.snapshot_bytes_max < options.snapshot_bytes_min + snapshot_bytes_gap_min) {
        return "--snapshot-bytes-max: must be at least --snapshot-bytes-min + " +
               std::to_string(snapshot_bytes_gap_min) + " = " +
               std::to_string(options.snapshot_bytes_min + snapshot_bytes_gap_min) + ", got " +
               std::to_string(options.snapshot_bytes_max);
    }
    return {};
}

std::string create_table_sql(const GenerateOptions& options, std::string_view table) {
    const std::size_t dims = generate_dims(options);
    const std::string name = table_sql(table);
    const std::string embedding = options.embedding == EmbeddingType::vector
                                      ? "vector(" + std::to_string(dims) + ")"
                                      : std::string("real[]");
    switch (options.kind) {
        case GenerateKind::spans:
            return SpanRows(SpanRowOptions{.embedding_dims = dims, .embedding = options.embedding})
                .create_table_sql(name);
        case GenerateKind::events:
            return "CREATE TABLE " + name +
                   " (id int8 PRIMARY KEY, stream text NOT NULL, ts timestamptz NOT NULL,"
                   " type text NOT NULL, run_id uuid NOT NULL, flow_name text NOT NULL,"
                   " step_name text, step_id int4, attempt int4, payload jsonb)";
        case GenerateKind::snapshots:
            return "CREATE TABLE " + name +
                   " (id int8 PRIMARY KEY, name text NOT NULL, state jsonb NOT NULL)";
        case GenerateKind::vectors:
            return "CREATE TABLE " + name + " (id int8 PRIMARY KEY, embedding " + embedding +
                   " NOT NULL, metadata jsonb)";
    }
    PGINGEST_ASSERT(false);
    return {};
}

namespace {

// `options` when they are usable; checked before any member sizes its memory from them.
const GenerateOptions& checked(const GenerateOptions& options) {
    std::string problem = check_generate_options(options);
    if (!problem.empty()) {
        throw std::invalid_argument(problem);
    }
    return options;
}

}  // namespace

RecordGenerator::RecordGenerator(const GenerateOptions& options)
    : _options(checked(options)),
      _dims(generate_dims(options)),
      _scratch(64 << 10),
      _json(_scratch),
      _item_json(_scratch),
      _text(_dims * (detail::unit_float_text_size_max + 1) + 2) {}

Status RecordGenerator::append_record(ByteBuffer& out, std::uint64_t row) {
    const std::size_t start = out.size();
    _json.reset(out);
    switch (_options.kind) {
        case GenerateKind::spans:
            write_span(row);
            break;
        case GenerateKind::events:
            write_event(row);
            break;
        case GenerateKind::snapshots:
            write_snapshot(row);
            break;
        case GenerateKind::vectors:
            write_vector(row);
            break;
    }
    Status status = _json.finish();
    if (!status.ok()) {
        out.truncate(start);
        return status;
    }
    if (_options.kind == GenerateKind::snapshots) {
        const std::size_t size = out.size() - start;
        PGINGEST_ASSERT(size >= _options.snapshot_bytes_min && size <= _options.snapshot_bytes_max);
    }
    out.put_u8('\n');
    return status;
}

void RecordGenerator::write_span(std::uint64_t row) {
    JsonWriter& json = _json;
    detail::SpanValues span = detail::span_values(_options.seed, row);
    json.begin_object();
    json.key("trace_id");
    string_uuid(json, span.trace_id);
    json.key("span_id");
    json.number(span.span_id);
    json.key("parent_id");
    if (span.has_parent) {
        json.number(span.parent_id);
    } else {
        json.null();
    }
    json.key("name");
    json.string(span.name);
    json.key("start_time");
    string_timestamptz(json, span.start_us);
    json.key("duration");
    char duration[48] = "PT";
    char* at = std::to_chars(duration + 2, duration + 24, span.duration_us / 1'000'000).ptr;
    *at++ = '.';
    for (std::int64_t i = 5, us = span.duration_us % 1'000'000; i >= 0; i--, us /= 10) {
        at[i] = static_cast<char>('0' + us % 10);
    }
    at[6] = 'S';
    json.string(std::string_view(duration, static_cast<std::size_t>(at + 7 - duration)));
    json.key("status");
    json.string(span.status);
    json.key("cost_usd");
    number_fixed(json, span.cost_micro_usd, 6);
    json.key("attributes");
    detail::write_span_attributes(json, span.random, span.name);
    json.key("embedding");
    write_embedding(json, _text, span.random, _dims);
    json.end_object();
}

namespace {

constexpr std::uint64_t events_per_run = 16;
// Events 1..14 of a run are 7 pairs (step started, step ended); event 0 starts the run and
// event 15 ends it.
constexpr std::uint64_t step_pairs = 7;

// Pair `pair` retries the step of the pair before it (which therefore failed): 1 in 4.
bool pair_retries(std::uint64_t retry_bits, std::uint64_t pair) {
    return pair > 0 && ((retry_bits >> (2 * pair)) & 3) == 0;
}

struct EventStep {
    std::uint64_t step_id;
    std::uint64_t attempt;
    bool failed;
};

EventStep event_step(std::uint64_t retry_bits, std::uint64_t pair) {
    EventStep step{0, 0, false};
    for (std::uint64_t p = 0; p <= pair; p++) {
        if (pair_retries(retry_bits, p)) {
            step.attempt++;
        } else {
            step.step_id++;
            step.attempt = 1;
        }
    }
    step.failed = pair_retries(retry_bits, pair + 1);
    return step;
}

void write_event_payload(JsonWriter& json, SplitMix64& random, std::string_view type) {
    json.begin_object();
    if (type == "run_started") {
        json.key("trigger");
        json.string(random.below(3) == 0 ? "schedule" : "api");
        json.key("input");
        json.begin_object();
        json.key("tenant");
        json.string(cities[random.below(cities.size())]);
        json.key("items");
        json.number(random.below(5000));
        json.end_object();
    } else if (type == "step_started") {
        json.key("worker");
        json.string(step_names[random.below(step_names.size())]);
        json.key("slot");
        json.number(random.below(64));
    } else {
        json.key("duration_ms");
        json.number(random.below(120'000));
        if (type == "step_failed" || type == "run_failed") {
            json.key("error");
            json.string(random.below(2) == 0 ? "upstream timed out — retrying"
                                             : "rate limited (429) ✗");
        } else {
            json.key("output");
            json.begin_object();
            json.key("rows");
            json.number(random.below(100'000));
            json.key("ok");
            json.boolean(true);
            json.end_object();
        }
    }
    json.end_object();
}

}  // namespace

void RecordGenerator::write_event(std::uint64_t row) {
    JsonWriter& json = _json;
    const std::uint64_t run = row / events_per_run;
    const std::uint64_t position = row % events_per_run;
    SplitMix64 run_random = record_random(_options.seed, run, runs_mix);
    const UuidBytes run_id = detail::random_uuid(run_random);
    const std::size_t flow = run_random.below(flow_names.size());
    const std::uint64_t retry_bits = run_random.next();
    SplitMix64 random = record_random(_options.seed, row, events_mix);

    std::string_view type;
    std::optional<EventStep> step;
    if (position == 0) {
        type = "run_started";
    } else if (position == events_per_run - 1) {
        type = event_step(retry_bits, step_pairs - 1).failed ? "run_failed" : "run_completed";
    } else {
        step = event_step(retry_bits, (position - 1) / 2);
        type = (position - 1) % 2 == 0 ? "step_started"
               : step->failed          ? "step_failed"
                                       : "step_completed";
    }
    char stream[64];
    std::size_t stream_size = flow_names[flow].copy(stream, 32);
    stream[stream_size++] = '-';
    stream_size = static_cast<std::size_t>(
        std::to_chars(stream + stream_size, stream + sizeof stream, run).ptr - stream);

    json.begin_object();
    json.key("id");
    json.number(row + 1);
    json.key("stream");
    json.string(std::string_view(stream, stream_size));
    json.key("ts");
    string_timestamptz(json, detail::span_first_start_us + static_cast<std::int64_t>(row) * 1000 +
                                 static_cast<std::int64_t>(random.below(1000)));
    json.key("type");
    json.string(type);
    json.key("run_id");
    string_uuid(json, run_id);
    json.key("flow_name");
    json.string(flow_names[flow]);
    json.key("step_name");
    if (step) {
        json.string(step_names[(flow + step->step_id - 1) % step_names.size()]);
    } else {
        json.null();
    }
    json.key("step_id");
    step ? json.number(step->step_id) : json.null();
    json.key("attempt");
    step ? json.number(step->attempt) : json.null();
    json.key("payload");
    write_event_payload(json, random, type);
    json.end_object();
}

namespace {

// Array elements made by `item` (each a complete JSON value written through `item_json` into
// `scratch`, then copied raw) until `budget_bytes` of element text are written; returns those
// bytes. Knowing each element's exact size is what keeps a snapshot within its bounds.
template <typename Item>
std::size_t write_items(JsonWriter& json, JsonWriter& item_json, ByteBuffer& scratch,
                        std::size_t budget_bytes, Item&& item) {
    std::size_t written = 0;
    json.begin_array();
    for (std::uint64_t i = 0; written < budget_bytes; i++) {
        scratch.clear();
        item_json.reset(scratch);
        item(item_json, i);
        PGINGEST_ASSERT(item_json.finish().ok());
        json.raw(scratch.view());
        written += scratch.size() + 1;
    }
    json.end_array();
    return written;
}

void write_agent(JsonWriter& json, SplitMix64& random, std::uint64_t index) {
    json.begin_object();
    json.key("id");
    json.number(index);
    json.key("role");
    json.string(step_names[random.below(step_names.size())]);
    json.key("memory");
    json.begin_object();
    json.key("short_term");
    detail::write_messages(json, random, 10, 40);
    json.key("long_term");
    json.begin_array();
    for (std::uint64_t f = 0, count = random.below(3); f < count; f++) {
        json.begin_object();
        json.key("fact");
        detail::write_sentence(json, random, 5 + random.below(10));
        json.key("score");
        json.number(static_cast<double>(random.below(1000)) / 1000.0);
        json.key("vector");
        json.begin_array();
        for (int d = 0; d < 8; d++) {
            json.number(static_cast<double>(random.unit()));
        }
        json.end_array();
        json.end_object();
    }
    json.end_array();
    json.end_object();
    json.key("stats");
    json.begin_object();
    json.key("calls");
    json.number(random.below(10'000));
    json.key("tokens");
    json.number(random.below(10'000'000));
    json.key("busy");
    json.boolean(random.below(2) == 0);
    json.end_object();
    json.end_object();
}

void write_task(JsonWriter& json, SplitMix64& random, std::uint64_t index) {
    json.begin_object();
    json.key("id");
    json.number(index);
    json.key("kind");
    json.string(step_names[random.below(step_names.size())]);
    json.key("priority");
    json.number(static_cast<std::int64_t>(random.below(10)) - 5);
    json.key("args");
    json.begin_object();
    json.key("query");
    detail::write_sentence(json, random, 3 + random.below(6));
    json.key("attempts");
    json.number(random.below(4));
    json.end_object();
    json.key("enqueued_at");
    string_timestamptz(json, detail::span_first_start_us +
                                 static_cast<std::int64_t>(random.below(1'000'000'000'000)));
    json.end_object();
}

void write_business_record(JsonWriter& json, SplitMix64& random, std::uint64_t index) {
    json.begin_object();
    json.key("id");
    json.number(index);
    json.key("type");
    json.string(random.below(2) == 0 ? "invoice" : "order");
    json.key("amount");
    number_fixed(json, random.below(10'000'000), 2);
    json.key("customer");
    json.begin_object();
    json.key("name");
    detail::write_sentence(json, random, 2);
    json.key("city");
    json.string(cities[random.below(cities.size())]);
    json.end_object();
    json.key("lines");
    json.begin_array();
    for (std::uint64_t l = 0, count = 1 + random.below(4); l < count; l++) {
        json.begin_object();
        json.key("sku");
        json.number(random.below(100'000));
        json.key("qty");
        json.number(1 + random.below(20));
        json.key("price");
        number_fixed(json, random.below(100'000), 2);
        json.end_object();
    }
    json.end_array();
    json.key("note");
    detail::write_sentence(json, random, 4 + random.below(12));
    json.key("valid");
    json.boolean(random.below(20) != 0);
    json.end_object();
}

// The plan: `depth` steps, each the only child of the one before, so every snapshot has a
// deep path (state.plan.children[0].children[0]...).
void write_plan(JsonWriter& json, SplitMix64& random, int depth) {
    for (int d = 0; d < depth; d++) {
        json.begin_object();
        json.key("step");
        json.number(d + 1);
        json.key("title");
        detail::write_sentence(json, random, 3 + random.below(5));
        json.key("children");
        json.begin_array();
    }
    for (int d = 0; d < depth; d++) {
        json.end_array();
        json.end_object();
    }
}

void write_state_header(JsonWriter& json, SplitMix64& random, std::uint64_t row) {
    json.key("version");
    json.number(3);
    json.key("snapshot_id");
    string_uuid(json, detail::random_uuid(random));
    json.key("taken_at");
    string_timestamptz(json,
                       detail::span_first_start_us + static_cast<std::int64_t>(row) * 60'000'000);
    json.key("run");
    json.begin_object();
    json.key("id");
    string_uuid(json, detail::random_uuid(random));
    json.key("status");
    json.string(random.below(4) == 0 ? "paused" : "running");
    json.key("labels");
    json.begin_object();
    json.key("team");
    json.string("ingest");
    json.key("région");
    json.string(cities[random.below(cities.size())]);
    json.end_object();
    json.end_object();
    json.key("counters");
    json.begin_object();
    for (std::string_view counter : {"events", "tokens", "errors", "retries"}) {
        json.key(counter);
        json.number(random.below(1'000'000'000));
    }
    json.key("ratio");
    json.number(static_cast<double>(random.below(1'000'000)) / 1e6);
    json.end_object();
    json.key("plan");
    write_plan(json, random, 12);
}

}  // namespace

void RecordGenerator::write_snapshot(std::uint64_t row) {
    JsonWriter& json = _json;
    SplitMix64 random = record_random(_options.seed, row, snapshots_mix);
    // The line is the target plus less than snapshot_overshoot_max bytes.
    const std::size_t target =
        _options.snapshot_bytes_min +
        random.below(_options.snapshot_bytes_max - _options.snapshot_bytes_min -
                     snapshot_overshoot_max + 1);
    const std::size_t flow = random.below(flow_names.size());
    char name[64];
    int name_size = std::snprintf(name, sizeof name, "%s #%llu", flow_names[flow].data(),
                                  static_cast<unsigned long long>(row));
    json.begin_object();
    json.key("id");
    json.number(row + 1);
    json.key("name");
    json.string(std::string_view(name, static_cast<std::size_t>(name_size)));
    json.key("state");
    json.begin_object();
    write_state_header(json, random, row);
    auto agent = [&random](JsonWriter& item, std::uint64_t i) { write_agent(item, random, i); };
    auto task = [&random](JsonWriter& item, std::uint64_t i) { write_task(item, random, i); };
    auto record = [&random](JsonWriter& item, std::uint64_t i) {
        write_business_record(item, random, i);
    };
    std::size_t written = 0;
    json.key("agents");
    written += write_items(json, _item_json, _scratch, target * 3 / 10, agent);
    json.key("queues");
    json.begin_object();
    json.key("pending");
    written += write_items(json, _item_json, _scratch, target / 10, task);
    json.key("done");
    written += write_items(json, _item_json, _scratch, target / 10, task);
    json.end_object();
    json.key("records");
    written += write_items(json, _item_json, _scratch, target - std::min(target, written), record);
    json.key("finished");
    json.boolean(false);
    json.end_object();
    json.end_object();
}

void RecordGenerator::write_vector(std::uint64_t row) {
    JsonWriter& json = _json;
    SplitMix64 random = record_random(_options.seed, row, vectors_mix);
    json.begin_object();
    json.key("id");
    json.number(row + 1);
    json.key("embedding");
    write_embedding(json, _text, random, _dims);
    json.key("metadata");
    json.begin_object();
    json.key("source");
    char source[64];
    int source_size = std::snprintf(source, sizeof source, "docs/handbook-%03llu.md",
                                    static_cast<unsigned long long>(random.below(500)));
    json.string(std::string_view(source, static_cast<std::size_t>(source_size)));
    json.key("chunk");
    json.number(random.below(200));
    json.key("lang");
    json.string(languages[random.below(languages.size())]);
    json.key("title");
    detail::write_sentence(json, random, 2 + random.below(5));
    json.key("tags");
    json.begin_array();
    for (std::uint64_t t = 0, count = random.below(4); t < count; t++) {
        json.string(step_names[random.below(step_names.size())]);
    }
    json.end_array();
    json.end_object();
    json.end_object();
}

std::uint64_t write_records(const GenerateOptions& options, std::FILE* file,
                            std::string_view file_name) {
    RecordGenerator generator(options);
    constexpr std::size_t chunk_bytes = 1 << 20;
    ByteBuffer out(chunk_bytes + (options.kind == GenerateKind::snapshots
                                      ? options.snapshot_bytes_max + 64
                                      : std::size_t{1} << 20));
    std::uint64_t bytes = 0;
    const std::uint64_t end = options.first_row + options.rows;
    for (std::uint64_t row = options.first_row; row < end; row++) {
        Status status = generator.append_record(out, row);
        PGINGEST_ASSERT(status.ok());
        if (out.size() >= chunk_bytes || row + 1 == end) {
            if (std::fwrite(out.data(), 1, out.size(), file) != out.size()) {
                throw Error("writing records to " + std::string(file_name) + ": " +
                            std::strerror(errno));
            }
            bytes += out.size();
            out.clear();
        }
    }
    if (std::fflush(file) != 0) {
        throw Error("writing records to " + std::string(file_name) + ": " + std::strerror(errno));
    }
    return bytes;
}

}  // namespace pgingest::tools
