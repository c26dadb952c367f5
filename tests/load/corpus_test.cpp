// Proves `pgingest load` on real public input (../shared/data, see its README): GitHub events,
// tweets, every JSON corpus document, Amazon reviews NDJSON, OTLP traces flattened to spans,
// Zipkin spans and Google Benchmark reports. Each table also keeps the whole record in a `doc`
// column: the multiset of stored documents must equal the server's own parse of the source
// text (jsonb `=`, EXCEPT ALL both ways), the counts must be exact, and every typed column must
// equal the record's member as the server reads it.

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/load/load_support.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

const std::string data_dir = PGINGEST_SHARED_DATA;

/// Loads `files` into `table` with `flags`; requires exit 0 and `expected` rows loaded.
void load(const std::string& table, const std::vector<std::string>& flags,
          const std::vector<std::string>& files, std::uint64_t expected) {
    std::vector<std::string> args = {"load",    "--db",      test::cluster().conninfo(),
                                     "--table", table,       "--summary",
                                     "json",    "--rejects", "/dev/stderr"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), files.begin(), files.end());
    test::CliResult result = test::run_pgingest(args);
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    test::Summary summary = test::parse_summary(result.output);
    CHECK(summary.rows_read == expected);
    CHECK(summary.rows_loaded == expected);
    CHECK(summary.rows_rejected == 0);
}

/// The server's parse of `file` as a jsonb literal.
std::string source(Connection& conn, const std::string& file) {
    return test::sql_literal(conn, test::read_file(file)) + "::jsonb";
}

/// The stored `doc` column equals the records `records_sql` yields (a query over the server's
/// parse of the source), as multisets.
void check_documents(Connection& conn, const std::string& table, const std::string& records_sql) {
    std::string records = "(" + records_sql + ")";
    CHECK(conn.query_value("SELECT count(*) FROM (SELECT doc FROM " + table + " EXCEPT ALL " +
                           records + ") x") == "0");
    CHECK(conn.query_value("SELECT count(*) FROM (" + records_sql + " EXCEPT ALL SELECT doc FROM " +
                           table + ") x") == "0");
}

std::uint64_t count(Connection& conn, const std::string& sql) {
    return std::stoull(conn.query_value(sql));
}

}  // namespace

TEST_CASE("corpus: GitHub events (json-array) into typed columns and a rest column",
          "[load][corpus][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS c_gh; CREATE TABLE c_gh (id text, type text, public bool, "
        "created_at timestamptz, actor jsonb, repo jsonb, rest jsonb, doc jsonb)");
    std::string file = data_dir + "/json/github_events.json";
    std::string src = source(conn, file);
    std::uint64_t expected = count(conn, "SELECT jsonb_array_length(" + src + ")");
    REQUIRE(expected > 0);
    load("c_gh", {"--rest-column", "rest", "--document-column", "doc"}, {file}, expected);
    check_documents(conn, "c_gh", "SELECT jsonb_array_elements(" + src + ")");
    CHECK(conn.query_value(
              "SELECT count(*) FROM c_gh WHERE id IS DISTINCT FROM doc->>'id' OR type IS DISTINCT "
              "FROM doc->>'type' OR public IS DISTINCT FROM (doc->>'public')::bool OR created_at "
              "IS DISTINCT FROM (doc->>'created_at')::timestamptz OR actor IS DISTINCT FROM "
              "doc->'actor' OR repo IS DISTINCT FROM doc->'repo' OR rest IS DISTINCT FROM doc - "
              "'{id,type,public,created_at,actor,repo}'::text[]") == "0");
}

TEST_CASE("corpus: tweets selected with --pointer /statuses", "[load][corpus][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS c_tw; CREATE TABLE c_tw (id int8, id_str text, text text, "
        "retweet_count int4, favorited bool, \"user\" jsonb, rest jsonb, doc jsonb)");
    std::string file = data_dir + "/json/twitter.json";
    std::string src = source(conn, file);
    std::uint64_t expected = count(conn, "SELECT jsonb_array_length(" + src + "->'statuses')");
    load("c_tw", {"--pointer", "/statuses", "--rest-column", "rest", "--document-column", "doc"},
         {file}, expected);
    check_documents(conn, "c_tw", "SELECT jsonb_array_elements(" + src + "->'statuses')");
    CHECK(conn.query_value(
              "SELECT count(*) FROM c_tw WHERE id::text IS DISTINCT FROM doc->>'id' OR id_str IS "
              "DISTINCT FROM doc->>'id_str' OR text IS DISTINCT FROM doc->>'text' OR "
              "retweet_count IS DISTINCT FROM (doc->>'retweet_count')::int4 OR \"user\" IS "
              "DISTINCT FROM doc->'user' OR rest IS DISTINCT FROM doc - "
              "'{id,id_str,text,retweet_count,favorited,user}'::text[]") == "0");
}

TEST_CASE("corpus: every JSON corpus file as one document", "[load][corpus][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS c_snap; CREATE TABLE c_snap (id bigserial, name text, "
        "doc jsonb)");
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/json")) {
        if (entry.path().extension() == ".json") {
            files.push_back(entry.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() == 7);
    for (const std::string& file : files) {
        std::string name = std::filesystem::path(file).filename().string();
        INFO(file);
        load("c_snap",
             {"--format", "document", "--document-column", "doc", "--set", "name=" + name}, {file},
             1);
    }
    CHECK(count(conn, "SELECT count(*) FROM c_snap") == files.size());
    for (const std::string& file : files) {
        std::string name = std::filesystem::path(file).filename().string();
        INFO(file);
        CHECK(conn.query_value("SELECT doc = " + source(conn, file) + " FROM c_snap WHERE name = " +
                               test::sql_literal(conn, name)) == "t");
    }
}

TEST_CASE("corpus: Amazon reviews NDJSON", "[load][corpus][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS c_amz; CREATE TABLE c_amz (doc jsonb)");
    std::string file = data_dir + "/json/amazon_cellphones.ndjson";
    load("c_amz", {"--document-column", "doc"}, {file}, 793);
    check_documents(conn, "c_amz",
                    "SELECT l::jsonb FROM unnest(string_to_array(" +
                        test::sql_literal(conn, test::read_file(file)) +
                        ", E'\\n')) l WHERE btrim(l) <> ''");
}

TEST_CASE("corpus: OTLP traces flattened to one row per span", "[load][corpus][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS c_otlp; CREATE TABLE c_otlp (\"traceId\" text, \"spanId\" text, "
        "\"parentSpanId\" text, name text, kind text, \"startTimeUnixNano\" numeric, "
        "attributes jsonb, rest jsonb, doc jsonb)");
    std::vector<std::string> files;
    std::string records;
    for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/traces/otlp")) {
        std::string text = test::read_file(entry.path().string());
        if (text.find("\"resourceSpans\"") != std::string::npos) {
            files.push_back(entry.path().string());
            records += std::string(records.empty() ? "" : " UNION ALL ") +
                       "SELECT jsonb_path_query(" + source(conn, entry.path().string()) +
                       ", '$.resourceSpans[*].scopeSpans[*].spans[*]')";
        }
    }
    REQUIRE(files.size() >= 5);
    std::uint64_t expected = count(conn, "SELECT count(*) FROM (" + records + ") x");
    REQUIRE(expected > 10);
    load("c_otlp",
         {"--pointer", "/resourceSpans/*/scopeSpans/*/spans", "--rest-column", "rest",
          "--document-column", "doc"},
         files, expected);
    check_documents(conn, "c_otlp", records);
    CHECK(conn.query_value("SELECT count(*) FROM c_otlp WHERE \"spanId\" IS DISTINCT FROM "
                           "doc->>'spanId' OR kind IS DISTINCT FROM doc->>'kind' OR "
                           "\"startTimeUnixNano\" IS DISTINCT FROM "
                           "(doc->>'startTimeUnixNano')::numeric OR attributes IS DISTINCT FROM "
                           "doc->'attributes'") == "0");
}

TEST_CASE("corpus: Zipkin span arrays", "[load][corpus][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS c_zip; CREATE TABLE c_zip (\"traceId\" text, id text, "
        "\"parentId\" text, name text, \"timestamp\" int8, duration int8, tags jsonb, "
        "rest jsonb, doc jsonb)");
    std::vector<std::string> files;
    std::string records;
    for (const auto& entry : std::filesystem::directory_iterator(data_dir + "/traces/zipkin")) {
        files.push_back(entry.path().string());
        records += std::string(records.empty() ? "" : " UNION ALL ") +
                   "SELECT jsonb_array_elements(" + source(conn, entry.path().string()) + ")";
    }
    std::uint64_t expected = count(conn, "SELECT count(*) FROM (" + records + ") x");
    REQUIRE(expected >= 1216);
    load("c_zip", {"--rest-column", "rest", "--document-column", "doc"}, files, expected);
    check_documents(conn, "c_zip", records);
    CHECK(conn.query_value("SELECT count(*) FROM c_zip WHERE id IS DISTINCT FROM doc->>'id' OR "
                           "\"timestamp\" IS DISTINCT FROM (doc->>'timestamp')::int8 OR duration "
                           "IS DISTINCT FROM (doc->>'duration')::int8 OR tags IS DISTINCT FROM "
                           "doc->'tags'") == "0");
}

TEST_CASE("corpus: Google Benchmark reports, one row per benchmark entry", "[load][corpus][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS c_gb; CREATE TABLE c_gb (name text, iterations int8, "
        "real_time float8, cpu_time numeric, cpu_time_ptr numeric, time_unit text, rest jsonb, "
        "doc jsonb)");
    std::vector<std::string> files;
    std::string records;
    for (const auto& entry :
         std::filesystem::directory_iterator(data_dir + "/benchmarks/google-benchmark")) {
        files.push_back(entry.path().string());
        records += std::string(records.empty() ? "" : " UNION ALL ") +
                   "SELECT jsonb_array_elements(" + source(conn, entry.path().string()) +
                   "->'benchmarks')";
    }
    std::uint64_t expected = count(conn, "SELECT count(*) FROM (" + records + ") x");
    REQUIRE(expected > 0);
    load("c_gb",
         {"--pointer", "/benchmarks", "--rest-column", "rest", "--document-column", "doc", "--map",
          "cpu_time_ptr=/cpu_time"},
         files, expected);
    check_documents(conn, "c_gb", records);
    CHECK(conn.query_value("SELECT count(*) FROM c_gb WHERE name IS DISTINCT FROM doc->>'name' OR "
                           "real_time IS DISTINCT FROM (doc->>'real_time')::float8 OR iterations "
                           "IS DISTINCT FROM (doc->>'iterations')::int8") == "0");
    // Every digit kept: a numeric column and the rest column take the members' own text
    // (Google Benchmark writes 17 significant digits, more than a double's shortest form).
    CHECK(
        conn.query_value("SELECT count(*) FROM c_gb WHERE cpu_time IS DISTINCT FROM "
                         "(doc->>'cpu_time')::numeric OR cpu_time_ptr IS DISTINCT FROM cpu_time OR "
                         "rest IS DISTINCT FROM doc - "
                         "'{name,iterations,real_time,cpu_time,time_unit}'::text[]") == "0");
    CHECK(conn.query_value("SELECT count(*) FROM c_gb WHERE cpu_time::text ~ '[0-9]{17}'") != "0");
}
