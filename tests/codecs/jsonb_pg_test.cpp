// Proves the json/jsonb fields (codecs/jsonb.hpp) against a real server: every document of the
// shared corpus (and every line of the NDJSON file), written from a simdjson DOM through
// JsonWriter or passed through verbatim after validation, into jsonb and json columns, equals the
// server's own parse of the original text, loaded in the same COPY tuple. It also shows that the
// inputs we refuse are exactly those the server refuses (22P05, 22P02, 22021) when the bytes are
// sent without our checks, and that refused input leaves the buffer as it was.

#include <catch2/catch.hpp>

#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "codecs/jsonb.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// One corpus document: a name for messages and its text.
struct Document {
    std::string name;
    std::string text;
};

// Every *.json file of the shared corpus, and every line of every *.ndjson file. Fails loudly
// when the corpus is missing.
std::vector<Document> corpus() {
    const std::filesystem::path dir = PGINGEST_SHARED_DATA "/json";
    REQUIRE(std::filesystem::is_directory(dir));
    std::vector<Document> documents;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::filesystem::path& path = entry.path();
        std::string text = read_file(path);
        if (path.extension() == ".json") {
            documents.push_back({path.filename().string(), std::move(text)});
        } else if (path.extension() == ".ndjson") {
            std::istringstream lines(text);
            std::string line;
            for (int number = 1; std::getline(lines, line); number++) {
                if (!line.empty()) {
                    documents.push_back(
                        {path.filename().string() + ":" + std::to_string(number), line});
                }
            }
        }
    }
    REQUIRE(documents.size() >= 8);
    return documents;
}

void put_text_field(ByteBuffer& stream, std::string_view text) {
    FieldStart start = begin_field(stream);
    stream.put_bytes(text);
    REQUIRE(end_field(stream, start).ok());
}

// A jsonb (or json) field of raw bytes, without any of our checks.
std::string unchecked_field(std::string_view text, bool jsonb = true) {
    ByteBuffer out;
    FieldStart start = jsonb ? begin_jsonb(out) : begin_json(out);
    out.put_bytes(text);
    REQUIRE(end_field(out, start).ok());
    return std::string(out.view());
}

// The SQLSTATE the server answers when `encoded_field` is loaded into a `column_type` column.
std::string server_refusal(Connection& conn, std::string_view column_type,
                           std::string_view encoded_field) {
    try {
        (void)test::round_trip(conn, column_type, encoded_field, "jsonw_refused");
    } catch (const ServerError& error) {
        return error.sqlstate();
    }
    return "accepted";
}

constexpr std::string_view prefix = "before";

}  // namespace

TEST_CASE("jsonb: every corpus document, from the DOM or passed through, equals the server's "
          "parse of the original text", "[codecs][json][pg]") {
    std::vector<Document> documents = corpus();
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS jsonw_corpus; CREATE TABLE jsonw_corpus (name text, "
              "dom jsonb, raw jsonb, dom_json json, raw_json json, orig text)");
    ByteBuffer stream;
    put_copy_header(stream);
    simdjson::dom::parser parser;
    JsonWriter writer(stream);
    for (const Document& document : documents) {
        INFO(document.name);
        simdjson::dom::element root;
        REQUIRE(parser.parse(document.text).get(root) == simdjson::SUCCESS);
        put_tuple_header(stream, 6);
        put_text_field(stream, document.name);
        REQUIRE(encode_jsonb_dom(stream, root, writer).ok());
        // encode_*_text parse with their own parser; `root` stays valid.
        REQUIRE(encode_jsonb_text(stream, document.text).ok());
        REQUIRE(encode_json_dom(stream, root, writer).ok());
        simdjson::dom::parser text_parser;
        REQUIRE(encode_json_text(stream, document.text, {}, text_parser).ok());
        put_text_field(stream, document.text);
    }
    put_copy_trailer(stream);
    CHECK(conn.copy_in("COPY jsonw_corpus FROM STDIN (FORMAT binary)", stream.view()) ==
          documents.size());

    // The pass-through is verbatim: equal as jsonb, and identical text as json.
    CHECK(conn.query_value("SELECT count(*) FROM jsonw_corpus WHERE raw IS DISTINCT FROM "
                           "orig::jsonb OR raw_json::text IS DISTINCT FROM orig") == "0");
    // From the DOM: equal as jsonb wherever the numbers survive double precision; the json column
    // holds the same value.
    CHECK(conn.query_value("SELECT count(*) FROM jsonw_corpus WHERE dom_json::jsonb IS DISTINCT "
                           "FROM dom") == "0");
    std::vector<std::string> different = conn.query_column(
        "SELECT name FROM jsonw_corpus WHERE dom IS DISTINCT FROM orig::jsonb ORDER BY name");
    // Numbers in these files have more digits than a double holds (e.g. canada.json
    // "-65.613616999999977"), which the DOM keeps as the nearest double: compare them with every
    // number read as float8, as the DOM did.
    conn.exec(R"(CREATE OR REPLACE FUNCTION jsonw_float8(j jsonb) RETURNS jsonb
        LANGUAGE plpgsql IMMUTABLE AS $$
        BEGIN
            CASE jsonb_typeof(j)
            WHEN 'object' THEN
                RETURN coalesce((SELECT jsonb_object_agg(k, jsonw_float8(v))
                                 FROM jsonb_each(j) AS e(k, v)), '{}'::jsonb);
            WHEN 'array' THEN
                RETURN coalesce((SELECT jsonb_agg(jsonw_float8(v) ORDER BY i)
                                 FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, i)),
                                '[]'::jsonb);
            WHEN 'number' THEN
                RETURN to_jsonb((j #>> '{}')::float8);
            ELSE
                RETURN j;
            END CASE;
        END $$)");
    for (const std::string& name : different) {
        INFO(name << ": equal to the server's parse only after reading numbers as float8");
        CHECK(conn.query_value("SELECT jsonw_float8(dom) = jsonw_float8(orig::jsonb) FROM "
                               "jsonw_corpus WHERE name = " + std::string("'") + name + "'") ==
              "t");
    }
    UNSCOPED_INFO("documents equal only up to double rounding: " << different.size());
    CHECK(different.size() < documents.size() / 2);
}

TEST_CASE("jsonb: field layout is length, version 0x01, text; json has no version byte",
          "[codecs][json][pg]") {
    auto conn = test::connect();
    ByteBuffer out;
    REQUIRE(encode_jsonb_text(out, R"( "str" )").ok());
    CHECK(hex(out.view()) == "00 00 00 08 01 20 22 73 74 72 22 20");
    CHECK(jsonb_text_encoded_size_max(7) == 12);
    out.clear();
    simdjson::dom::parser parser;
    REQUIRE(encode_json_text(out, "[1]", {}, parser).ok());
    CHECK(hex(out.view()) == "00 00 00 03 5b 31 5d");
    // jsonb_send writes the same version byte before its text.
    CHECK(hex(test::server_field(conn, "'\"str\"'::jsonb")) == "01 22 73 74 72 22");
    for (std::string_view scalar : {"1", "null", "true", " [ ] ", "{}", "-0.0", "1E2"}) {
        out.clear();
        REQUIRE(encode_jsonb_text(out, scalar).ok());
        CHECK(test::round_trip(conn, "jsonb", out.view(), "jsonw_layout") ==
              conn.query_value("SELECT '" + std::string(scalar) + "'::jsonb::text"));
    }
}

TEST_CASE("jsonb: the server refuses what our checks refuse (22P05, 22P02, 22021)",
          "[codecs][json][pg]") {
    using namespace std::string_view_literals;
    auto conn = test::connect();
    struct Case {
        std::string_view text;
        std::string_view sqlstate;  // the server, without our checks
        Errc ours;                  // encode_jsonb_text
    };
    const Case cases[] = {
        {R"({"a":"\u0000"})", "22P05", Errc::json_nul_escape},
        {R"(["\ud800"])", "22P02", Errc::json_syntax},
        {R"("\udc00")", "22P02", Errc::json_syntax},
        {R"("\ud800\ud800")", "22P02", Errc::json_syntax},
        {"\"\xC3\x28\"", "22021", Errc::json_syntax},
        {"\"a\0b\""sv, "22021", Errc::json_syntax},
        {"\"\xED\xA0\x80\"", "22021", Errc::json_syntax},
        {"\"a\tb\"", "22P02", Errc::json_syntax},
        {"NaN", "22P02", Errc::json_syntax},
        {"[Infinity]", "22P02", Errc::json_syntax},
        {"\xEF\xBB\xBF{}", "22P02", Errc::json_syntax},
        {"{", "22P02", Errc::json_syntax},
        {"[1,]", "22P02", Errc::json_syntax},
        {"[1] x", "22P02", Errc::json_syntax},
        {"'a'", "22P02", Errc::json_syntax},
        {"01", "22P02", Errc::json_syntax},
        {"", "22P02", Errc::json_syntax},
    };
    for (const Case& c : cases) {
        INFO(hex(c.text));
        CHECK(server_refusal(conn, "jsonb", unchecked_field(c.text)) == c.sqlstate);
        ByteBuffer out;
        out.put_bytes(prefix);
        Status status = encode_jsonb_text(out, c.text);
        CHECK(status.code == c.ours);
        CHECK(out.view() == prefix);
    }
    // json accepts \u0000 and lone surrogates verbatim; we refuse them there too so that every
    // json value we write can be cast to jsonb.
    CHECK(server_refusal(conn, "json", unchecked_field(R"(["\u0000","\ud800"])", false)) ==
          "accepted");
    ByteBuffer out;
    simdjson::dom::parser parser;
    CHECK(encode_json_text(out, R"(["\u0000"])", {}, parser).code == Errc::json_nul_escape);
    CHECK(out.empty());
}

TEST_CASE("jsonb: the writer's checks match the server's for the DOM and raw paths",
          "[codecs][json][pg]") {
    using namespace std::string_view_literals;
    auto conn = test::connect();
    // A NUL byte in a string written by JsonWriter would become \u0000: 22P05.
    CHECK(server_refusal(conn, "jsonb", unchecked_field(R"(["x\u0000"])")) == "22P05");
    ByteBuffer out;
    JsonWriter writer(out);
    writer.begin_array();
    writer.string("x\0"sv);
    CHECK(writer.finish().code == Errc::json_nul_escape);
    // Raw lone surrogates: the raw path's own check (simdjson is not involved).
    for (std::string_view text : {R"("\ud800")"sv, R"("\udc00")"sv, R"("\ud800\ud800")"sv}) {
        CHECK(server_refusal(conn, "jsonb", unchecked_field(text)) == "22P02");
        CHECK(append_raw_json(out, text, NulPolicy::replace).code == Errc::json_lone_surrogate);
        CHECK(out.empty());
    }
    // Invalid UTF-8 in a string: 22021 from the server, invalid_utf8 from us.
    CHECK(server_refusal(conn, "jsonb", unchecked_field("[\"\xF4\x90\x80\x80\"]")) == "22021");
    writer.reset(out);
    writer.string("\xF4\x90\x80\x80");
    CHECK(writer.finish().code == Errc::invalid_utf8);
    CHECK(out.empty());
}

TEST_CASE("jsonb: encode_jsonb_text applies NulPolicy to \\u0000 and keeps the rest verbatim",
          "[codecs][json][pg]") {
    auto conn = test::connect();
    std::string_view text = R"({"a\u0000": "\u0000\ud83d\ude00 \\u0000"})";
    ByteBuffer out;
    CHECK(encode_jsonb_text(out, text).code == Errc::json_nul_escape);
    CHECK(out.empty());
    REQUIRE(encode_jsonb_text(out, text, {.nul = NulPolicy::strip}).ok());
    CHECK(test::field_data(out.view()) == "\x01" R"({"a": "\ud83d\ude00 \\u0000"})");
    CHECK(test::round_trip(conn, "jsonb", out.view(), "jsonw_text") ==
          R"({"a": "😀 \\u0000"})");
    out.clear();
    REQUIRE(encode_jsonb_text(out, text, {.nul = NulPolicy::replace}).ok());
    CHECK(test::round_trip(conn, "jsonb", out.view(), "jsonw_text") ==
          "{\"a\uFFFD\": \"\uFFFD😀 \\\\u0000\"}");
}

TEST_CASE("jsonb: the DOM path meets NulPolicy for \\u0000, which simdjson unescapes to NUL",
          "[codecs][json][pg]") {
    auto conn = test::connect();
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    REQUIRE(parser.parse(std::string_view(R"({"k":"x\u0000y","\u0000":1})")).get(root) ==
            simdjson::SUCCESS);
    ByteBuffer out;
    out.put_bytes(prefix);
    JsonWriter strict(out);
    Status status = encode_jsonb_dom(out, root, strict);
    CHECK(status.code == Errc::json_nul_escape);
    CHECK(status.position == 1);  // within "x\0y"
    CHECK(out.view() == prefix);
    out.clear();
    JsonWriter stripping(out, {.nul = NulPolicy::strip});
    REQUIRE(encode_jsonb_dom(out, root, stripping).ok());
    CHECK(test::round_trip(conn, "jsonb", out.view(), "jsonw_dom") == R"({"": 1, "k": "xy"})");
    out.clear();
    JsonWriter replacing(out, {.nul = NulPolicy::replace});
    REQUIRE(encode_json_dom(out, root, replacing).ok());
    CHECK(test::round_trip(conn, "json", out.view(), "jsonw_dom") ==
          "{\"k\":\"x\uFFFDy\",\"\uFFFD\":1}");
}

TEST_CASE("jsonb: simdjson refuses lone surrogate escapes, so DOM strings never carry them",
          "[codecs][json]") {
    simdjson::dom::parser parser;
    for (std::string_view text : {R"("\ud800")", R"("\udc00")", R"("\ud800\ud800")",
                                  R"("\ud800x")", R"("\udfff\ud800")"}) {
        INFO(text);
        CHECK(parser.parse(text).error() == simdjson::STRING_ERROR);
    }
    simdjson::dom::element pair;
    REQUIRE(parser.parse(std::string_view(R"("\ud83d\ude00")")).get(pair) == simdjson::SUCCESS);
    CHECK(std::string(pair.get_string().value()) == "😀");
}

TEST_CASE("jsonb: DOM nesting is bounded by the writer's depth_max without recursion",
          "[codecs][json][pg]") {
    auto nested = [](int depth) {
        return std::string(static_cast<std::size_t>(depth), '[') + "1" +
               std::string(static_cast<std::size_t>(depth), ']');
    };
    simdjson::dom::parser parser;
    REQUIRE(parser.allocate(1 << 16, 4000) == simdjson::SUCCESS);
    ByteBuffer out;
    JsonWriter writer(out);  // depth_max 1000
    simdjson::dom::element root;
    REQUIRE(parser.parse(nested(1000)).get(root) == simdjson::SUCCESS);
    REQUIRE(encode_jsonb_dom(out, root, writer).ok());
    out.clear();
    REQUIRE(parser.parse(nested(1001)).get(root) == simdjson::SUCCESS);
    Status status = encode_jsonb_dom(out, root, writer);
    CHECK(status.code == Errc::json_depth_exceeded);
    CHECK(status.position == 1000);
    CHECK(out.empty());
    // A larger limit: the per-thread walker grows once for it.
    JsonWriter deep_writer(out, {.depth_max = 3000});
    REQUIRE(parser.parse(nested(3000)).get(root) == simdjson::SUCCESS);
    REQUIRE(encode_jsonb_dom(out, root, deep_writer).ok());
    auto conn = test::connect();
    CHECK(test::round_trip(conn, "jsonb", out.view(), "jsonw_depth").size() == 6001);
    // The same walk with an explicit DomWriter.
    DomWriter walker(3000);
    out.clear();
    deep_writer.reset(out);
    walker.write(deep_writer, root);
    CHECK(deep_writer.finish().ok());
    CHECK(out.view() == nested(3000));
}

TEST_CASE("jsonb: a document that fails leaves no partial field behind", "[codecs][json]") {
    ByteBuffer out;
    out.put_bytes(prefix);
    JsonWriter writer(out);
    FieldStart start = begin_jsonb(out);
    writer.reset(out);
    writer.begin_object();
    writer.key("a");
    CHECK(end_jsonb(out, start, writer).code == Errc::json_unbalanced);
    CHECK(out.view() == prefix);
    start = begin_json(out);
    writer.reset(out);
    writer.number(std::numeric_limits<double>::quiet_NaN());
    CHECK(end_json(out, start, writer).code == Errc::json_non_finite);
    CHECK(out.view() == prefix);
}

TEST_CASE("jsonb: numbers beyond double/int64 range are refused by encode_jsonb_text although "
          "jsonb accepts them (known limitation of simdjson validation)", "[codecs][json][pg]") {
    auto conn = test::connect();
    for (std::string_view text : {"1e400", "123456789012345678901234567890", "-9223372036854775809",
                                  "18446744073709551616"}) {
        INFO(text);
        CHECK(server_refusal(conn, "jsonb", unchecked_field(text)) == "accepted");
        ByteBuffer out;
        CHECK(encode_jsonb_text(out, text).code == Errc::json_syntax);
        CHECK(out.empty());
    }
    // The largest integers simdjson holds pass through verbatim.
    ByteBuffer out;
    REQUIRE(encode_jsonb_text(out, "[18446744073709551615, -9223372036854775808]").ok());
    CHECK(test::round_trip(conn, "jsonb", out.view(), "jsonw_big") ==
          "[18446744073709551615, -9223372036854775808]");
}
