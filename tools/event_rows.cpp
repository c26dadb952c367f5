#include "tools/event_rows.hpp"

#include <array>
#include <charconv>

#include "codecs/copy_binary.hpp"
#include "codecs/datetime.hpp"
#include "codecs/jsonb.hpp"
#include "codecs/scalars.hpp"
#include "codecs/text.hpp"
#include "codecs/uuid.hpp"
#include "tools/detail/span_values.hpp"

namespace pgingest::tools {

namespace {

constexpr std::array<std::string_view, 4> flow_names = {"ingest-documents", "answer-question",
                                                        "nightly-report", "triage-ticket"};
constexpr std::array<std::string_view, 6> step_names = {"plan",  "retrieve",     "call_llm",
                                                        "parse", "execute_tool", "summarize"};
constexpr std::array<std::string_view, 3> step_types = {"step_started", "step_completed",
                                                        "step_retried"};
constexpr std::array<std::string_view, 5> workers = {"worker-1", "worker-2", "worker-3", "worker-4",
                                                     "worker-é"};
constexpr std::int64_t first_ts_us = 832'377'600'000'000;  // 2026-05-18 00:00:00 UTC

// SplitMix64, seeded per row so rows are independent (as in span_rows.cpp).
using Random = detail::SplitMix64;

UuidBytes run_id(std::uint64_t seed, std::uint64_t run) {
    Random random{seed ^ (run * 0xD1B54A32D192ED03ULL) ^ 0xA5A5A5A5ULL};
    return detail::random_uuid(random);
}

// The first and last event of a run are the run's own; the ones between are its steps.
std::string_view event_type(std::uint64_t step, Random& random) {
    if (step == 0) {
        return "run_started";
    }
    if (step + 1 == EventRows::events_per_run) {
        return random.below(20) == 0 ? "run_failed" : "run_completed";
    }
    return step_types[(step + random.below(8) / 7) % step_types.size()];
}

void write_payload(JsonWriter& json, Random& random, std::string_view type) {
    json.begin_object();
    json.key("status");
    json.string(type == "run_failed" ? "error" : "ok");
    json.key("duration_ms");
    json.number(random.below(30'000));
    json.key("tokens");
    json.number(random.below(5'000));
    json.key("worker");
    json.string(workers[random.below(workers.size())]);
    json.key("cached");
    json.boolean(random.below(4) == 0);
    json.end_object();
}

}  // namespace

std::string EventRows::create_table_sql(std::string_view table) const {
    const std::string name(table);
    return "CREATE TABLE " + name +
           " (id bigserial PRIMARY KEY, stream text NOT NULL, ts timestamptz NOT NULL,"
           " type text NOT NULL, run_id uuid NOT NULL, flow_name text NOT NULL,"
           " step_name text, step_id int8 NOT NULL, attempt int4 NOT NULL, payload jsonb);"
           " CREATE UNIQUE INDEX " +
           name + "_stream_step ON " + name + " (stream, step_id); CREATE INDEX " + name +
           "_run_ts ON " + name + " (run_id, ts)";
}

std::string EventRows::column_list() {
    return "(stream, ts, type, run_id, flow_name, step_name, step_id, attempt, payload)";
}

Status EventRows::put_fields(ByteBuffer& out, JsonWriter& json, std::uint64_t row) const {
    const std::size_t start = out.size();
    Random random{_options.seed ^ (row * 0x9E3779B97F4A7C15ULL) ^ 0x2545F4914F6CDD1DULL};
    const std::uint64_t run = row / events_per_run;
    const std::uint64_t step = row % events_per_run;
    char stream[32] = "run/";
    auto [stream_end, error] = std::to_chars(stream + 4, stream + sizeof stream, run);
    (void)error;  // 20 digits always fit
    Status status = encode_text(out, std::string_view(stream, stream_end));
    encode_timestamptz(out, first_ts_us + static_cast<std::int64_t>(row) * 250'000);
    const std::string_view type = event_type(step, random);
    if (status.ok()) {
        status = encode_text(out, type);
    }
    encode_uuid(out, run_id(_options.seed, run));
    if (status.ok()) {
        status = encode_text(out, flow_names[run % flow_names.size()]);
    }
    if (status.ok()) {
        status = encode_text(out, step_names[step % step_names.size()]);
    }
    encode_int8(out, static_cast<std::int64_t>(step));
    encode_int4(out, static_cast<std::int32_t>(1 + (random.below(10) == 0 ? 1 : 0)));
    if (status.ok()) {
        FieldStart payload = begin_jsonb(out);
        json.reset(out);
        write_payload(json, random, type);
        status = end_jsonb(out, payload, json);
    }
    if (!status.ok()) {
        out.truncate(start);
    }
    return status;
}

Status EventRows::put_tuple(ByteBuffer& out, JsonWriter& json, std::uint64_t row) const {
    const std::size_t start = out.size();
    put_tuple_header(out, field_count);
    Status status = put_fields(out, json, row);
    if (!status.ok()) {
        out.truncate(start);
    }
    return status;
}

}  // namespace pgingest::tools
