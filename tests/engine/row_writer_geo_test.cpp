// Proves that the typed row API writes the geometric types (point, line, lseg, box, path,
// polygon, circle) and the text-search types (tsvector, tsquery), and 1-D arrays of them, into a
// real table: through json_value (JSON strings, and [x, y] for point) and from_text, the stored
// `col::text` equals the server's own `'<text>'::type::text`; bad values are errors naming the
// column and its type, and leave buffer and column as they were.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "codecs/copy_binary.hpp"
#include "engine/catalog.hpp"
#include "codecs/row_writer.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

const char* const geo_table_sql =
    "CREATE TABLE rw_geo (p point, l line, s lseg, b box, pa path, pg polygon, c circle, "
    "tv tsvector, tq tsquery, pts point[], boxes box[], tvs tsvector[])";

// One record per row: the text of each column as the server's input function would take it.
const std::vector<std::vector<std::string>> geo_texts = {
    {"(1,2)", "{1,2,3}", "[(1,2),(3,4)]", "(3,4),(1,2)", "[(0,0),(1,1),(2,0)]",
     "((0,0),(0,1),(1,1))", "<(1,2),3>", "b:2 a:1A 'c d'", "a & !b <-> c:*"},
    {" -0 , NaN ", "[(0,0),(2,1)]", "1,2,3,4", "((-inf,1),(2,nan))", "(1,2,3,4)", "1,2",
     "1,2,0", "a a:3,1 a:2B", "(x | y) <3> z:AB"},
};

// Loads `fill`'s tuples into rw_geo and returns each row's columns as text joined by '|'.
template <typename Fill>
std::vector<std::string> load(Connection& conn, Fill fill) {
    conn.exec(std::string("DROP TABLE IF EXISTS rw_geo; ") + geo_table_sql);
    TableInfo info = read_table_info(conn, "rw_geo");
    RowWriter writer(info);
    ByteBuffer stream;
    put_copy_header(stream);
    fill(writer, stream);
    put_copy_trailer(stream);
    conn.copy_in(info.copy_sql(), stream.view());
    std::string select;
    for (const ColumnInfo& column : info.columns) {
        select +=
            (select.empty() ? "" : ", '|', ") + ("coalesce(" + column.name + "::text, 'NULL')");
    }
    return conn.query_column("SELECT concat(" + select + ") FROM rw_geo ORDER BY ctid");
}

const char* const scalar_types[] = {"point",   "line",   "lseg",     "box",    "path",
                                    "polygon", "circle", "tsvector", "tsquery"};

// The server's text for `texts` read by the scalar columns' input functions, then the arrays.
std::string expected_row(Connection& conn, const std::vector<std::string>& texts,
                         const std::string& arrays) {
    std::string row;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        row += (i == 0 ? "" : "|") +
               conn.query_value("SELECT $q$" + texts[i] + "$q$::" + scalar_types[i] + "::text");
    }
    return row + arrays;
}

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& json) {
    return parser.parse(json.data(), json.size()).value();
}

// `text` as a JSON string.
std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

}  // namespace

TEST_CASE("row writer: geometric and text-search columns from JSON strings, [x, y] and arrays",
          "[engine][row][pg][geometry][tsearch]") {
    auto conn = test::connect();
    simdjson::dom::parser parser;
    auto rows = load(conn, [&](RowWriter& writer, ByteBuffer& out) {
        for (std::size_t row = 0; row < geo_texts.size(); ++row) {
            std::string record = "[";
            for (const std::string& text : geo_texts[row]) {
                record += json_string(text) + ",";
            }
            record += row == 0 ? R"j([[1.5, -2], "(3,4)", null], ["(1,1),(0,0)"], ["a:1 b"]])j"
                               : R"j([], null, ["", "x:2,1"]])j";
            writer.start_tuple(out);
            for (simdjson::dom::element value : parse(parser, record).get_array()) {
                Status status = writer.json_value(value);
                INFO(writer.describe(status, writer.column(), simdjson::minify(value)));
                REQUIRE(status.ok());
            }
            REQUIRE(writer.finish().ok());
        }
    });
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == expected_row(conn, geo_texts[0],
                                  "|{\"(1.5,-2)\",\"(3,4)\",NULL}|{(1,1),(0,0)}|{\"'a':1 'b'\"}"));
    CHECK(rows[1] == expected_row(conn, geo_texts[1], "|{}|NULL|{\"\",\"'x':1,2\"}"));
}

TEST_CASE("row writer: from_text writes geometric and text-search columns",
          "[engine][row][pg][geometry][tsearch]") {
    auto conn = test::connect();
    auto rows = load(conn, [&](RowWriter& writer, ByteBuffer& out) {
        for (const std::vector<std::string>& texts : geo_texts) {
            writer.start_tuple(out);
            for (const std::string& text : texts) {
                Status status = writer.from_text(text);
                INFO(writer.describe(status, writer.column(), text));
                REQUIRE(status.ok());
            }
            for (int i = 0; i < 3; ++i) {
                REQUIRE(writer.null().ok());
            }
            REQUIRE(writer.finish().ok());
        }
    });
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == expected_row(conn, geo_texts[0], "|NULL|NULL|NULL"));
    CHECK(rows[1] == expected_row(conn, geo_texts[1], "|NULL|NULL|NULL"));
}

TEST_CASE("row writer: bad geometric and text-search values name the column and change nothing",
          "[engine][row][pg][geometry][tsearch]") {
    auto conn = test::connect();
    conn.exec(std::string("DROP TABLE IF EXISTS rw_geo; ") + geo_table_sql);
    TableInfo info = read_table_info(conn, "rw_geo");
    RowWriter writer(info);
    simdjson::dom::parser parser;
    ByteBuffer out;
    writer.start_tuple(out);
    const std::size_t before = out.size();
    struct Case {
        std::string json;
        Errc code;
        std::string message;
    };
    const std::vector<Case> point_cases = {
        {R"j("(1,2")j", Errc::geometry_syntax,
         "column \"p\" (point): value \"\\x22(1,2\\x22\" at byte 4: invalid geometric value"},
        {R"j([1])j", Errc::type_mismatch, "column \"p\" (point): value \"[1]\""},
        {R"j([1, 2, 3])j", Errc::type_mismatch, "column \"p\" (point): value \"[1,2,3]\""},
        {R"j(["1", 2])j", Errc::type_mismatch, "column \"p\" (point): value \"["},
        {R"j(12)j", Errc::type_mismatch, "column \"p\" (point): value \"12\""},
        {R"j({"x": 1})j", Errc::type_mismatch, "column \"p\" (point): value"},
        {R"j("(1e999,0)")j", Errc::float_out_of_range, "at byte 1: number out of range"},
    };
    for (const Case& bad : point_cases) {
        INFO(bad.json);
        Status status = writer.json_value(parse(parser, bad.json));
        CHECK(status.code == bad.code);
        CHECK_THAT(writer.describe(status, 0, simdjson::minify(parse(parser, bad.json))),
                   Catch::Contains(bad.message));
        CHECK(out.size() == before);
        CHECK(writer.column() == 0);
    }
    REQUIRE(writer.from_text("(0,0)").ok());
    Status line = writer.from_text("{0,0,1}");
    CHECK(line.code == Errc::line_invalid);
    CHECK(writer.describe(line, 1, "{0,0,1}") ==
          "column \"l\" (line): value \"{0,0,1}\": invalid line: A and B cannot both be zero, or "
          "the two points are equal");
    for (const char* good : {"{1,0,0}", "[(0,0),(1,1)]", "(0,0),(1,1)", "(0,0),(1,1)"}) {
        REQUIRE(writer.from_text(good).ok());
    }
    REQUIRE(writer.from_text("(0,0)").ok());
    Status circle = writer.json_value(parse(parser, R"j("<(0,0),-1>")j"));
    CHECK(circle.code == Errc::geometry_syntax);
    CHECK(circle.position == 7);
    REQUIRE(writer.from_text("<(0,0),1>").ok());
    Status tsvector = writer.json_value(parse(parser, R"j("a:0")j"));
    CHECK(writer.describe(tsvector, 7, "a:0") ==
          "column \"tv\" (tsvector): value \"a:0\" at byte 2: syntax error in tsvector");
    REQUIRE(writer.from_text("a").ok());
    Status tsquery = writer.json_value(parse(parser, R"j("a & ")j"));
    CHECK(writer.describe(tsquery, 8, "a & ") ==
          "column \"tq\" (tsquery): value \"a & \" at byte 4: syntax error in tsquery");
    Status empty = writer.json_value(parse(parser, R"j("")j"));
    CHECK(empty.code == Errc::tsquery_empty);
    REQUIRE(writer.from_text("a").ok());
    Status element = writer.json_value(parse(parser, R"j([[1, 2], "(1,", null])j"));
    CHECK(element.code == Errc::geometry_syntax);
    CHECK(element.position == 1);  // the element index
    CHECK(writer.column() == 9);
    Status nested = writer.json_value(parse(parser, R"j([[1, 2], [[1, 2]]])j"));
    CHECK(nested.code == Errc::type_mismatch);
    CHECK(nested.position == 1);
}
