// Proves `pgingest generate` (tools/generate.hpp and the CLI): records are deterministic (same
// seed, same bytes, pinned by a hash; disjoint ranges concatenate to the whole), every line is
// valid JSON with the documented keys in order and the documented types, counts are exact and
// snapshots stay within their byte bounds; the --schema tables exist on a real server and the
// records inserted with the server's own JSON functions (jsonb_populate_record) fill them with the
// expected values (the spans equal, value for value, the binary COPY rows of SpanRows); the CLI
// writes the same bytes as the library, and bad flags say which flag, which value and why.

#include "tools/generate.hpp"

#include <libpq-fe.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "codecs/copy_binary.hpp"
#include "tests/support/pg.hpp"
#include "tools/detail/span_values.hpp"
#include "tools/span_rows.hpp"

using namespace pgingest;
using tools::GenerateKind;
using tools::GenerateOptions;

namespace {

std::string generate(const GenerateOptions& options) {
    tools::RecordGenerator generator(options);
    ByteBuffer out(1 << 20);
    for (std::uint64_t row = options.first_row; row < options.first_row + options.rows; row++) {
        REQUIRE(generator.append_record(out, row).ok());
    }
    return std::string(out.view());
}

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        REQUIRE(end != std::string_view::npos);  // every record ends with a newline
        lines.push_back(text.substr(0, end));
        text.remove_prefix(end + 1);
    }
    return lines;
}

std::uint64_t fnv1a(std::string_view bytes) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (char c : bytes) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ULL;
    }
    return hash;
}

// Expected JSON type of a key: s string, i integer, I integer or null, S string or null,
// d number, o object, a array of numbers.
using Shape = std::vector<std::pair<std::string_view, char>>;

Shape shape_of(GenerateKind kind) {
    switch (kind) {
        case GenerateKind::spans:
            return {{"trace_id", 's'},   {"span_id", 'i'},  {"parent_id", 'I'}, {"name", 's'},
                    {"start_time", 's'}, {"duration", 's'}, {"status", 's'},    {"cost_usd", 'd'},
                    {"attributes", 'o'}, {"embedding", 'a'}};
        case GenerateKind::events:
            return {{"id", 'i'},      {"stream", 's'},    {"ts", 's'},        {"type", 's'},
                    {"run_id", 's'},  {"flow_name", 's'}, {"step_name", 'S'}, {"step_id", 'I'},
                    {"attempt", 'I'}, {"payload", 'o'}};
        case GenerateKind::snapshots:
            return {{"id", 'i'}, {"name", 's'}, {"state", 'o'}};
        case GenerateKind::vectors:
            return {{"id", 'i'}, {"embedding", 'a'}, {"metadata", 'o'}};
    }
    return {};
}

bool has_type(simdjson::dom::element value, char expected, std::size_t dims) {
    using simdjson::dom::element_type;
    element_type type = value.type();
    bool integer = type == element_type::INT64 || type == element_type::UINT64;
    switch (expected) {
        case 's':
            return type == element_type::STRING;
        case 'S':
            return type == element_type::STRING || type == element_type::NULL_VALUE;
        case 'i':
            return integer;
        case 'I':
            return integer || type == element_type::NULL_VALUE;
        case 'd':
            return integer || type == element_type::DOUBLE;
        case 'o':
            return type == element_type::OBJECT;
        case 'a': {
            if (type != element_type::ARRAY || value.get_array().size() != dims) {
                return false;
            }
            for (simdjson::dom::element number : value.get_array()) {
                if (!number.is_number()) {
                    return false;
                }
            }
            return true;
        }
    }
    return false;
}

// Parses every line with simdjson and checks the keys, their order and their types.
void check_lines(std::string_view text, const GenerateOptions& options) {
    std::vector<std::string_view> lines = lines_of(text);
    REQUIRE(lines.size() == options.rows);
    const Shape shape = shape_of(options.kind);
    simdjson::dom::parser parser;
    for (std::size_t n = 0; n < lines.size(); n++) {
        INFO("line " << n + 1 << ": " << lines[n].substr(0, 200));
        simdjson::dom::element doc;
        REQUIRE(parser.parse(lines[n].data(), lines[n].size()).get(doc) == simdjson::SUCCESS);
        simdjson::dom::object object;
        REQUIRE(doc.get_object().get(object) == simdjson::SUCCESS);
        REQUIRE(object.size() == shape.size());
        std::size_t k = 0;
        for (simdjson::dom::key_value_pair field : object) {
            INFO("key " << field.key);
            REQUIRE(field.key == shape[k].first);
            REQUIRE(has_type(field.value, shape[k].second, tools::generate_dims(options)));
            k++;
        }
    }
}

// Runs the CLI binary with `arguments`; returns the exit status and stdout + stderr.
std::pair<int, std::string> run_cli(const std::string& arguments) {
    std::string command = std::string(PGINGEST_CLI) + " " + arguments + " 2>&1";
    std::FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    char chunk[65536];
    std::size_t got = 0;
    while ((got = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) {
        output.append(chunk, got);
    }
    int status = pclose(pipe);
    REQUIRE(WIFEXITED(status));
    return {WEXITSTATUS(status), output};
}

// Creates `table` from --schema and inserts every line of `text` through the server's JSON
// functions: the lines go to `<table>_lines(n, doc jsonb)`, then
// `INSERT INTO table SELECT r.* FROM lines, jsonb_populate_record(NULL::table, doc) r`.
void load_through_server(Connection& conn, const GenerateOptions& options, const std::string& table,
                         std::string_view text) {
    conn.exec("DROP TABLE IF EXISTS " + table + ", " + table + "_lines");
    conn.exec(tools::create_table_sql(options, table));
    conn.exec("CREATE TABLE " + table + "_lines (n int8, doc jsonb)");
    std::string lines(text.substr(0, text.size() - 1));  // without the last newline
    const char* values[] = {lines.c_str()};
    PGresult* result =
        PQexecParams(conn.native(),
                     ("INSERT INTO " + table +
                      "_lines SELECT n, line::jsonb FROM unnest(string_to_array($1, E'\\n')) "
                      "WITH ORDINALITY AS l(line, n)")
                         .c_str(),
                     1, nullptr, values, nullptr, nullptr, 0);
    INFO(PQresultErrorMessage(result));
    bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    REQUIRE(ok);
    conn.exec("INSERT INTO " + table + " SELECT r.* FROM " + table + "_lines, " +
              "jsonb_populate_record(NULL::" + table + ", doc) r ORDER BY n");
}

std::string count(Connection& conn, const std::string& sql) {
    return conn.query_value(sql);
}

}  // namespace

TEST_CASE("generate: the same seed gives the same bytes, another seed others", "[generate]") {
    for (GenerateKind kind : {GenerateKind::spans, GenerateKind::events, GenerateKind::snapshots,
                              GenerateKind::vectors}) {
        INFO(tools::generate_kind_name(kind));
        GenerateOptions options{.kind = kind,
                                .rows = 40,
                                .seed = 7,
                                .snapshot_bytes_min = 20'000,
                                .snapshot_bytes_max = 60'000};
        std::string first = generate(options);
        CHECK(generate(options) == first);
        options.seed = 8;
        CHECK(generate(options) != first);
    }
}

TEST_CASE("generate: the first 100 spans of seed 42 hash to a pinned value", "[generate]") {
    // Changes only when the span generator changes on purpose: then update the value and say so.
    std::string spans = generate(GenerateOptions{.kind = GenerateKind::spans, .rows = 100});
    CHECK(spans.size() == 683582);
    CHECK(fnv1a(spans) == 0x8de2dd582a2070dfULL);
}

TEST_CASE("generate: disjoint ranges concatenate to the whole run", "[generate]") {
    for (GenerateKind kind : {GenerateKind::spans, GenerateKind::events, GenerateKind::vectors}) {
        INFO(tools::generate_kind_name(kind));
        GenerateOptions whole{.kind = kind, .rows = 50, .seed = 3, .dims = 16};
        GenerateOptions head = whole;
        head.rows = 17;
        GenerateOptions tail = whole;
        tail.first_row = 17;
        tail.rows = 33;
        CHECK(generate(head) + generate(tail) == generate(whole));
    }
}

TEST_CASE("generate: every line is a JSON object with the documented keys and types",
          "[generate]") {
    check_lines(generate({.kind = GenerateKind::spans, .rows = 300}),
                {.kind = GenerateKind::spans, .rows = 300});
    check_lines(generate({.kind = GenerateKind::spans, .rows = 20, .dims = 7}),
                {.kind = GenerateKind::spans, .rows = 20, .dims = 7});
    check_lines(generate({.kind = GenerateKind::events, .rows = 1000}),
                {.kind = GenerateKind::events, .rows = 1000});
    const GenerateOptions small{.kind = GenerateKind::snapshots,
                                .rows = 30,
                                .snapshot_bytes_min = 20'000,
                                .snapshot_bytes_max = 40'000};
    check_lines(generate(small), small);
    check_lines(generate({.kind = GenerateKind::vectors, .rows = 100}),
                {.kind = GenerateKind::vectors, .rows = 100});
}

TEST_CASE("generate: span attributes are 1-3 KB and messages carry multibyte text", "[generate]") {
    std::string spans = generate({.kind = GenerateKind::spans, .rows = 2000, .dims = 1});
    simdjson::dom::parser parser;
    std::size_t smallest = SIZE_MAX;
    std::size_t largest = 0;
    for (std::string_view line : lines_of(spans)) {
        simdjson::dom::element doc = parser.parse(line.data(), line.size()).value();
        std::string attributes = simdjson::minify(doc["attributes"]);
        smallest = std::min(smallest, attributes.size());
        largest = std::max(largest, attributes.size());
    }
    CHECK(smallest >= 1000);
    CHECK(largest <= 3000);
    CHECK(spans.find("東京") != std::string::npos);
    CHECK(spans.find("😀") != std::string::npos);
}

TEST_CASE("generate: snapshots stay within their byte bounds, 0.5-5 MB by default", "[generate]") {
    GenerateOptions defaults{.kind = GenerateKind::snapshots, .rows = 3};
    std::string text = generate(defaults);
    check_lines(text, defaults);
    for (std::string_view line : lines_of(text)) {
        CHECK(line.size() >= 500'000);
        CHECK(line.size() <= 5'000'000);
    }
    GenerateOptions small{.kind = GenerateKind::snapshots,
                          .rows = 200,
                          .seed = 11,
                          .snapshot_bytes_min = 20'000,
                          .snapshot_bytes_max = 40'000};
    std::size_t smallest = SIZE_MAX;
    std::size_t largest = 0;
    for (std::string_view line : lines_of(generate(small))) {
        smallest = std::min(smallest, line.size());
        largest = std::max(largest, line.size());
    }
    CHECK(smallest >= 20'000);
    CHECK(largest <= 40'000);
}

TEST_CASE("generate: bad options say which option, which value and why", "[generate]") {
    using tools::check_generate_options;
    CHECK(check_generate_options({}) == "");
    CHECK(check_generate_options({.rows = 0}) == "--rows: must be at least 1, got 0");
    CHECK(check_generate_options({.dims = 16'001}) ==
          "--dims: must be 1..16000 (pgvector's limit), got 16001");
    CHECK(check_generate_options({.snapshot_bytes_min = 100}) ==
          "--snapshot-bytes-min: must be at least 20000, got 100");
    CHECK(check_generate_options({.snapshot_bytes_min = 30'000, .snapshot_bytes_max = 40'000}) ==
          "--snapshot-bytes-max: must be at least --snapshot-bytes-min + 20000 = 50000, got "
          "40000");
    CHECK(check_generate_options({.rows = 10, .first_row = std::uint64_t{1} << 63})
              .find("--first-row + --rows: must stay below 2^63") == 0);
    CHECK_THROWS_WITH(tools::RecordGenerator(GenerateOptions{.rows = 0}),
                      "--rows: must be at least 1, got 0");
    CHECK(tools::parse_generate_kind("vectors") == GenerateKind::vectors);
    CHECK_FALSE(tools::parse_generate_kind("widgets").has_value());
}

TEST_CASE("generate: --schema quotes table names that need it", "[generate]") {
    CHECK(tools::create_table_sql({.kind = GenerateKind::snapshots}, "s1.snap_2") ==
          "CREATE TABLE s1.snap_2 (id int8 PRIMARY KEY, name text NOT NULL, state jsonb NOT NULL)");
    CHECK(tools::create_table_sql({.kind = GenerateKind::snapshots}, "My \"T\"")
              .find("CREATE TABLE \"My \"\"T\"\"\" (") == 0);
    CHECK(tools::create_table_sql(
              {.kind = GenerateKind::vectors, .dims = 3, .embedding = tools::EmbeddingType::vector},
              "v") ==
          "CREATE TABLE v (id int8 PRIMARY KEY, embedding vector(3) NOT NULL, "
          "metadata jsonb)");
}

TEST_CASE("generate: spans through jsonb_populate_record equal SpanRows' binary COPY rows",
          "[generate][pg]") {
    Connection conn = test::connect();
    const GenerateOptions options{.kind = GenerateKind::spans, .rows = 300, .seed = 5};
    load_through_server(conn, options, "gen_spans_json", generate(options));

    const tools::SpanRows rows(tools::SpanRowOptions{.seed = 5, .embedding_dims = 384});
    conn.exec("DROP TABLE IF EXISTS gen_spans_copy");
    conn.exec(rows.create_table_sql("gen_spans_copy"));
    ByteBuffer stream;
    JsonWriter json(stream);
    put_copy_header(stream);
    for (std::uint64_t row = 0; row < 300; row++) {
        REQUIRE(rows.put_tuple(stream, json, row).ok());
    }
    put_copy_trailer(stream);
    CHECK(conn.copy_in("COPY gen_spans_copy FROM STDIN (FORMAT binary)", stream.view()) == 300);

    CHECK(count(conn, "SELECT count(*) FROM gen_spans_json") == "300");
    CHECK(count(conn,
                "SELECT count(*) FROM (SELECT * FROM gen_spans_json EXCEPT ALL "
                "SELECT * FROM gen_spans_copy) d") == "0");
    CHECK(count(conn,
                "SELECT count(*) FROM gen_spans_json s JOIN gen_spans_json_lines l ON "
                "s.span_id = (l.doc->>'span_id')::int8 WHERE s.attributes = l.doc->'attributes' "
                "AND s.trace_id::text = l.doc->>'trace_id' AND array_length(s.embedding, 1) = 384 "
                "AND s.start_time = (l.doc->>'start_time')::timestamptz") == "300");
    CHECK(count(conn, "SELECT count(*) FROM gen_spans_json WHERE parent_id IS NULL") == "38");
}

TEST_CASE("generate: events fit their --schema table with the expected values", "[generate][pg]") {
    Connection conn = test::connect();
    const GenerateOptions options{.kind = GenerateKind::events, .rows = 480, .seed = 9};
    load_through_server(conn, options, "gen_events", generate(options));
    CHECK(count(conn, "SELECT count(*) FROM gen_events") == "480");
    CHECK(count(conn,
                "SELECT count(*) FROM gen_events e JOIN gen_events_lines l ON "
                "e.id = (l.doc->>'id')::int8 WHERE e.payload = l.doc->'payload' AND "
                "e.run_id::text = l.doc->>'run_id' AND e.ts = (l.doc->>'ts')::timestamptz AND "
                "e.type = l.doc->>'type' AND e.stream = l.doc->>'stream' AND "
                "e.step_id IS NOT DISTINCT FROM (l.doc->>'step_id')::int4 AND "
                "e.attempt IS NOT DISTINCT FROM (l.doc->>'attempt')::int4") == "480");
    // 16 events a run: started, 7 step pairs, ended; run-level events have no step.
    CHECK(count(conn, "SELECT count(DISTINCT run_id) FROM gen_events") == "30");
    CHECK(count(conn, "SELECT count(*) FROM gen_events WHERE type = 'run_started'") == "30");
    CHECK(count(conn, "SELECT count(*) FROM gen_events WHERE type LIKE 'run_%'") == "60");
    CHECK(count(conn,
                "SELECT count(*) FROM gen_events WHERE (type LIKE 'run_%') <> "
                "(step_id IS NULL AND attempt IS NULL AND step_name IS NULL)") == "0");
    CHECK(count(conn,
                "SELECT bool_and(ts > lag) FROM (SELECT ts, lag(ts) OVER (ORDER BY id) "
                "FROM gen_events) t WHERE lag IS NOT NULL") == "t");
    CHECK(count(conn, "SELECT count(*) > 0 FROM gen_events WHERE attempt > 1") == "t");
}

TEST_CASE("generate: snapshots and vectors fit their --schema tables", "[generate][pg]") {
    Connection conn = test::connect();
    const GenerateOptions snapshots{.kind = GenerateKind::snapshots,
                                    .rows = 40,
                                    .seed = 4,
                                    .snapshot_bytes_min = 20'000,
                                    .snapshot_bytes_max = 80'000};
    load_through_server(conn, snapshots, "gen_snapshots", generate(snapshots));
    CHECK(count(conn, "SELECT count(*) FROM gen_snapshots") == "40");
    CHECK(count(conn,
                "SELECT count(*) FROM gen_snapshots s JOIN gen_snapshots_lines l ON "
                "s.id = (l.doc->>'id')::int8 WHERE s.state = l.doc->'state' AND "
                "s.name = l.doc->>'name' AND jsonb_array_length(s.state->'agents') > 0 AND "
                "s.state #>> '{plan,children,0,children,0,step}' = '3'") == "40");

    const GenerateOptions vectors{.kind = GenerateKind::vectors, .rows = 200, .seed = 4};
    load_through_server(conn, vectors, "gen_vectors", generate(vectors));
    CHECK(count(conn, "SELECT count(*) FROM gen_vectors") == "200");
    CHECK(count(conn,
                "SELECT count(*) FROM gen_vectors v JOIN gen_vectors_lines l ON "
                "v.id = (l.doc->>'id')::int8 WHERE v.metadata = l.doc->'metadata' AND "
                "array_length(v.embedding, 1) = 1536 AND v.embedding[1536] = "
                "(l.doc->'embedding'->>1535)::real") == "200");
}

TEST_CASE("generate: the CLI writes the library's bytes for every kind", "[generate]") {
    for (GenerateKind kind : {GenerateKind::spans, GenerateKind::events, GenerateKind::snapshots,
                              GenerateKind::vectors}) {
        const std::string name(tools::generate_kind_name(kind));
        INFO(name);
        GenerateOptions options{.kind = kind,
                                .rows = 5,
                                .seed = 12,
                                .snapshot_bytes_min = 20'000,
                                .snapshot_bytes_max = 50'000};
        auto [status, output] =
            run_cli("generate " + name +
                    " --rows 5 --seed 12 --snapshot-bytes-min 20000 --snapshot-bytes-max 50000");
        CHECK(status == 0);
        CHECK(output == generate(options));
        check_lines(output, options);
    }
    std::string path = (std::filesystem::temp_directory_path() /
                        ("pgingest_generate_test_" + std::to_string(getpid()) + ".ndjson"))
                           .string();
    auto [status, output] = run_cli("generate vectors --rows 3 --dims 8 -o " + path);
    CHECK(status == 0);
    CHECK(output.empty());
    simdjson::padded_string written = simdjson::padded_string::load(path).value();
    CHECK(std::string_view(written) ==
          generate({.kind = GenerateKind::vectors, .rows = 3, .dims = 8}));
}

TEST_CASE("generate: the CLI's --schema runs on the server", "[generate][pg]") {
    Connection conn = test::connect();
    for (GenerateKind kind : {GenerateKind::spans, GenerateKind::events, GenerateKind::snapshots,
                              GenerateKind::vectors}) {
        const std::string table = "gen_cli_" + std::string(tools::generate_kind_name(kind));
        INFO(table);
        auto [status, sql] = run_cli("generate " + std::string(tools::generate_kind_name(kind)) +
                                     " --schema --table " + table);
        CHECK(status == 0);
        CHECK(sql == tools::create_table_sql({.kind = kind}, table) + ";\n");
        conn.exec("DROP TABLE IF EXISTS " + table);
        conn.exec(sql);
        CHECK(count(conn, "SELECT count(*) FROM " + table) == "0");
    }
    auto [status, sql] = run_cli("generate vectors --schema --vector --dims 64");
    CHECK(status == 0);
    CHECK(sql ==
          "CREATE TABLE vectors (id int8 PRIMARY KEY, embedding vector(64) NOT NULL, "
          "metadata jsonb);\n");
}

TEST_CASE("generate: bad CLI flags fail with a message naming the flag and value", "[generate]") {
    auto [kind_status, kind_output] = run_cli("generate widgets");
    CHECK(kind_status != 0);
    CHECK_THAT(kind_output, Catch::Contains("widgets") && Catch::Contains("spans"));
    auto [rows_status, rows_output] = run_cli("generate spans --rows 0");
    CHECK(rows_status != 0);
    CHECK_THAT(rows_output, Catch::Contains("--rows") && Catch::Contains("0 not in range"));
    auto [dims_status, dims_output] = run_cli("generate vectors --dims 20000");
    CHECK(dims_status != 0);
    CHECK_THAT(dims_output, Catch::Contains("--dims") && Catch::Contains("20000"));
    auto [max_status, max_output] = run_cli("generate snapshots --snapshot-bytes-max 30000");
    CHECK(max_status == 2);
    CHECK(max_output ==
          "pgingest generate: --snapshot-bytes-max: must be at least --snapshot-bytes-min + 20000 "
          "= 520000, got 30000\n");
    auto [open_status, open_output] = run_cli("generate spans -o /nonexistent/dir/spans.ndjson");
    CHECK(open_status == 1);
    CHECK(open_output ==
          "pgingest generate: cannot open --output /nonexistent/dir/spans.ndjson: "
          "No such file or directory\n");
    auto [missing_status, missing_output] = run_cli("generate");
    CHECK(missing_status != 0);
    CHECK_THAT(missing_output, Catch::Contains("kind is required"));
}

TEST_CASE("generate: every embedding value's text reads back to the same float", "[generate]") {
    // All 2^24 + 1 multiples of 2^-23 in [-1, 1], the values SplitMix64::unit draws.
    char text[detail::unit_float_text_size_max + 1];
    std::size_t wrong = 0;
    for (std::int64_t m = -8'388'608; m <= 8'388'608; m++) {
        const float value = static_cast<float>(m) / 8388608.0f;
        std::size_t size = detail::format_unit_float(value, text);
        REQUIRE(size <= detail::unit_float_text_size_max);
        text[size] = '\0';
        if (std::strtof(text, nullptr) != value) {
            wrong++;
        }
    }
    CHECK(wrong == 0);
    CHECK(detail::format_unit_float(-1.0f, text) == 2);
    CHECK(std::string_view(text, 2) == "-1");
}
