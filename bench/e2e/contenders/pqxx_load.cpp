// Loads `pgingest generate KIND` NDJSON into PostgreSQL the way a libpqxx user would today:
// contender for the end-to-end benchmark (bench/e2e).
//
//   pgingest_pqxx_load --db CONNINFO --table [SCHEMA.]TABLE --kind KIND FILE
//
// Reads the file line by line (std::getline), parses each record with simdjson On-Demand,
// makes a typed tuple of the kind's columns (integers as integers, NULLs as std::nullopt, the
// rest in PostgreSQL's text forms: jsonb as the value's raw JSON, real[] as a `{...}` literal
// of floats) and sends it with pqxx::stream_to (text COPY), over one connection in one
// transaction. Prints {"rows": N} on success; on any error prints what and where (file and
// line) on stderr, commits nothing and exits 1.

#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace {

namespace ondemand = simdjson::ondemand;

using Text = std::optional<std::string>;
using Int = std::optional<std::int64_t>;

/// A record that cannot become a row: names the key and the reason; the caller adds the line.
class RecordError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The value of `key` in `object`. Throws `RecordError` when the key is missing.
ondemand::value field(ondemand::object& object, std::string_view key) {
    ondemand::value value;
    if (auto error = object[key].get(value)) {
        throw RecordError("key \"" + std::string(key) + "\": " + simdjson::error_message(error));
    }
    return value;
}

[[noreturn]] void fail(std::string_view key, simdjson::error_code error) {
    throw RecordError("key \"" + std::string(key) + "\": " + simdjson::error_message(error));
}

/// True when `value` is JSON null (and then consumed).
bool is_null(ondemand::value& value, std::string_view key) {
    bool null = false;
    if (auto error = value.is_null().get(null)) {
        fail(key, error);
    }
    return null;
}

/// A JSON string's unescaped text (uuid, timestamptz, interval and text columns: the server
/// parses their text forms). Throws `RecordError` for another JSON type.
Text text_or_null(ondemand::object& object, std::string_view key) {
    ondemand::value value = field(object, key);
    if (is_null(value, key)) {
        return std::nullopt;
    }
    std::string_view text;
    if (auto error = value.get_string().get(text)) {
        fail(key, error);
    }
    return std::string(text);
}

std::string text(ondemand::object& object, std::string_view key) {
    Text value = text_or_null(object, key);
    if (!value) {
        throw RecordError("key \"" + std::string(key) + "\": null in a NOT NULL column");
    }
    return *std::move(value);
}

Int integer_or_null(ondemand::object& object, std::string_view key) {
    ondemand::value value = field(object, key);
    if (is_null(value, key)) {
        return std::nullopt;
    }
    std::int64_t integer = 0;
    if (auto error = value.get_int64().get(integer)) {
        fail(key, error);
    }
    return integer;
}

std::int64_t integer(ondemand::object& object, std::string_view key) {
    Int value = integer_or_null(object, key);
    if (!value) {
        throw RecordError("key \"" + std::string(key) + "\": null in a NOT NULL column");
    }
    return *value;
}

/// A JSON number's text as written (numeric keeps every digit the file has).
Text number_or_null(ondemand::object& object, std::string_view key) {
    ondemand::value value = field(object, key);
    if (is_null(value, key)) {
        return std::nullopt;
    }
    ondemand::json_type type;
    if (auto error = value.type().get(type)) {
        fail(key, error);
    }
    if (type != ondemand::json_type::number) {
        fail(key, simdjson::INCORRECT_TYPE);
    }
    std::string_view token = value.raw_json_token();
    return std::string(token.substr(0, token.find_last_not_of(" \t\r\n") + 1));
}

/// Any JSON value's text, for jsonb: objects and arrays as they are in the file.
Text json_or_null(ondemand::object& object, std::string_view key) {
    ondemand::value value = field(object, key);
    ondemand::json_type type;
    if (auto error = value.type().get(type)) {
        fail(key, error);
    }
    std::string_view json;
    simdjson::error_code error = simdjson::SUCCESS;
    switch (type) {
        case ondemand::json_type::null:
            return std::nullopt;
        case ondemand::json_type::object: {
            ondemand::object inner;
            error = value.get_object().get(inner);
            if (!error) {
                error = inner.raw_json().get(json);
            }
            break;
        }
        case ondemand::json_type::array: {
            ondemand::array inner;
            error = value.get_array().get(inner);
            if (!error) {
                error = inner.raw_json().get(json);
            }
            break;
        }
        default:
            json = value.raw_json_token();
            json = json.substr(0, json.find_last_not_of(" \t\r\n") + 1);
    }
    if (error) {
        fail(key, error);
    }
    return std::string(json);
}

/// A JSON array of numbers as a real[] literal `{f,f,...}`, each number rounded to float and
/// written in the shortest form that reads back as the same float.
Text real_array_or_null(ondemand::object& object, std::string_view key) {
    ondemand::value value = field(object, key);
    if (is_null(value, key)) {
        return std::nullopt;
    }
    ondemand::array array;
    if (auto error = value.get_array().get(array)) {
        fail(key, error);
    }
    std::string literal = "{";
    char number[32];
    for (auto element : array) {
        double x = 0;
        if (auto error = element.get_double().get(x)) {
            fail(key, error);
        }
        if (literal.size() > 1) {
            literal += ',';
        }
        literal.append(number,
                       std::to_chars(number, number + sizeof number, static_cast<float>(x)).ptr);
    }
    literal += '}';
    return literal;
}

using SpanRow = std::tuple<std::string, std::int64_t, Int, std::string, std::string, Text, Text,
                           Text, Text, Text>;
using EventRow = std::tuple<std::int64_t, std::string, std::string, std::string, std::string,
                            std::string, Text, Int, Int, Text>;
using SnapshotRow = std::tuple<std::int64_t, std::string, Text>;
using VectorRow = std::tuple<std::int64_t, Text, Text>;

SpanRow span_row(ondemand::object& o) {
    return {text(o, "trace_id"),
            integer(o, "span_id"),
            integer_or_null(o, "parent_id"),
            text(o, "name"),
            text(o, "start_time"),
            text_or_null(o, "duration"),
            text_or_null(o, "status"),
            number_or_null(o, "cost_usd"),
            json_or_null(o, "attributes"),
            real_array_or_null(o, "embedding")};
}

EventRow event_row(ondemand::object& o) {
    return {integer(o, "id"),
            text(o, "stream"),
            text(o, "ts"),
            text(o, "type"),
            text(o, "run_id"),
            text(o, "flow_name"),
            text_or_null(o, "step_name"),
            integer_or_null(o, "step_id"),
            integer_or_null(o, "attempt"),
            json_or_null(o, "payload")};
}

SnapshotRow snapshot_row(ondemand::object& o) {
    return {integer(o, "id"), text(o, "name"), json_or_null(o, "state")};
}

VectorRow vector_row(ondemand::object& o) {
    return {integer(o, "id"), real_array_or_null(o, "embedding"), json_or_null(o, "metadata")};
}

/// Columns of `pgingest generate KIND --schema`, in order.
std::vector<std::string> columns_of(std::string_view kind) {
    if (kind == "spans") {
        return {"trace_id", "span_id", "parent_id", "name",       "start_time",
                "duration", "status",  "cost_usd",  "attributes", "embedding"};
    }
    if (kind == "events") {
        return {"id",        "stream",    "ts",      "type",    "run_id",
                "flow_name", "step_name", "step_id", "attempt", "payload"};
    }
    if (kind == "snapshots") {
        return {"id", "name", "state"};
    }
    return {"id", "embedding", "metadata"};
}

/// Parses `line` and writes its row to `stream`. Throws `RecordError` for a bad record.
void put_row(ondemand::parser& parser, std::string& line, std::string_view kind,
             pqxx::stream_to& stream) {
    // On-Demand reads up to SIMDJSON_PADDING bytes past the end: give the string that room.
    line.reserve(line.size() + simdjson::SIMDJSON_PADDING);
    ondemand::document document;
    ondemand::object object;
    if (auto error = parser.iterate(line.data(), line.size(), line.capacity()).get(document)) {
        throw RecordError(std::string("invalid JSON: ") + simdjson::error_message(error));
    }
    if (auto error = document.get_object().get(object)) {
        throw RecordError(std::string("invalid JSON: ") + simdjson::error_message(error));
    }
    if (kind == "spans") {
        stream << span_row(object);
    } else if (kind == "events") {
        stream << event_row(object);
    } else if (kind == "snapshots") {
        stream << snapshot_row(object);
    } else {
        stream << vector_row(object);
    }
}

/// Loads every line of `path` into `table`; returns the number of rows. Throws
/// `std::runtime_error` naming the line, or what libpqxx / the server reported (the server's
/// CONTEXT names the COPY line, which is the file's line).
std::uint64_t load(const std::string& conninfo, const std::string& table, std::string_view kind,
                   const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        throw std::runtime_error("cannot open");
    }
    pqxx::connection conn(conninfo);
    pqxx::work tx(conn);
    pqxx::stream_to stream(tx, table, columns_of(kind));
    ondemand::parser parser;
    std::string line;
    std::uint64_t rows = 0;
    while (std::getline(file, line)) {
        try {
            put_row(parser, line, kind, stream);
        } catch (const RecordError& error) {
            throw std::runtime_error("line " + std::to_string(rows + 1) + ": " + error.what());
        }
        rows++;
    }
    if (file.bad()) {
        throw std::runtime_error("read failed after line " + std::to_string(rows));
    }
    stream.complete();
    tx.commit();
    return rows;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Load pgingest generate's NDJSON with libpqxx stream_to (a benchmark contender)"};
    std::string conninfo;
    std::string table;
    std::string kind;
    std::string path;
    app.add_option("--db", conninfo, "libpq conninfo")->required();
    app.add_option("--table", table, "[SCHEMA.]TABLE")->required();
    app.add_option("--kind", kind, "Kind of records")
        ->required()
        ->check(CLI::IsMember({"spans", "events", "snapshots", "vectors"}));
    app.add_option("file", path, "NDJSON written by pgingest generate KIND")->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == 0 ? 0 : 1;
    }
    try {
        std::uint64_t rows = load(conninfo, table, kind, path);
        std::printf("{\"rows\": %llu}\n", static_cast<unsigned long long>(rows));
    } catch (const std::exception& error) {
        std::fprintf(stderr, "pgingest_pqxx_load: %s: %s\n", path.c_str(), error.what());
        return 1;
    }
    return 0;
}
