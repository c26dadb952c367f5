// Proves issue 10's catalog-driven types end to end against a real server: the catalog read
// describes enums (labels in order), domains (resolved to their base type and typmod), ranges,
// multiranges, composites (nested, by attnum) and arrays over them; RowWriter turns JSON values
// and text into those columns and the server stores what the server's own input of the same
// text stores (empty and infinite ranges, NULL attributes, 2-D and 3-D arrays, hstore, citext,
// ltree); and every bad value is refused with its reason, naming the column: a label not in
// pg_enum, ragged arrays, unknown attributes, malformed ranges, non-string hstore values. A
// domain's CHECK is the server's: the row is refused with SQLSTATE 23514.

#include "codecs/row_writer.hpp"

#include <catch2/catch.hpp>

#include "codecs/copy_binary.hpp"
#include "engine/catalog.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

const char* const types_sql = R"sql(
    DROP TABLE IF EXISTS rwc_all, rwc_dom;
    DROP TYPE IF EXISTS rwc_outer, rwc_inner, rwc_mood CASCADE;
    DROP DOMAIN IF EXISTS rwc_pos, rwc_code CASCADE;
    CREATE EXTENSION IF NOT EXISTS hstore;
    CREATE EXTENSION IF NOT EXISTS citext;
    CREATE EXTENSION IF NOT EXISTS ltree;
    CREATE TYPE rwc_mood AS ENUM ('sad', 'ok', 'happy');
    CREATE DOMAIN rwc_pos AS int4 CHECK (VALUE > 0);
    CREATE DOMAIN rwc_code AS varchar(3);
    CREATE TYPE rwc_inner AS (x int4, label text);
    CREATE TYPE rwc_outer AS (id int8, inner_ rwc_inner, moods rwc_mood[], at timestamptz);
)sql";

const char* const table_sql = R"sql(
    CREATE TABLE rwc_all (e rwc_mood, d rwc_pos, c rwc_code, r4 int4range, rn numrange,
        rt tstzrange, rd daterange, m4 int4multirange, o rwc_outer, a2 int4[], ea rwc_mood[],
        da rwc_pos[], h hstore, ci citext, lt ltree, ra int8range[], ca rwc_code[]))sql";

template <typename Fill>
std::vector<std::string> load(Connection& conn, const std::string& table, Fill fill) {
    TableInfo info = read_table_info(conn, table);
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
    return conn.query_column("SELECT concat(" + select + ") FROM " + table + " ORDER BY ctid");
}

// Writes one row from a JSON array of values, one per column; every value must be accepted.
void write_json_row(RowWriter& writer, ByteBuffer& out, simdjson::dom::parser& parser,
                    std::string_view json) {
    writer.start_tuple(out);
    for (simdjson::dom::element value : parser.parse(json.data(), json.size()).get_array()) {
        std::size_t column = writer.column();
        Status status = writer.json_value(value);
        INFO(writer.describe(status, column, simdjson::minify(value)));
        REQUIRE(status.ok());
    }
    REQUIRE(writer.finish().ok());
}

}  // namespace

TEST_CASE("catalog: enums, domains, ranges, composites and arrays over them are described",
          "[engine][pg][catalog_types]") {
    auto conn = test::connect();
    conn.exec(types_sql);
    conn.exec(table_sql);
    TableInfo info = read_table_info(conn, "rwc_all");
    const ColumnInfo& e = *info.find("e");
    CHECK(e.type_class == TypeClass::enumeration);
    CHECK(e.enum_labels == std::vector<std::string>{"sad", "ok", "happy"});
    const ColumnInfo& d = *info.find("d");
    CHECK(d.is_domain);
    CHECK(d.base_oid == 23);
    CHECK(d.base_name == "int4");
    const ColumnInfo& c = *info.find("c");
    CHECK(c.base_oid == 1043);
    CHECK(c.base_typmod == 7);
    const ColumnInfo& rn = *info.find("rn");
    CHECK(rn.type_class == TypeClass::range);
    REQUIRE(rn.children.size() == 1);
    CHECK(rn.children[0].type_oid == 1700);
    const ColumnInfo& m4 = *info.find("m4");
    CHECK(m4.type_class == TypeClass::multirange);
    REQUIRE(m4.children.size() == 1);
    CHECK(m4.children[0].type_name == "int4range");
    CHECK(m4.children[0].children.at(0).type_oid == 23);
    const ColumnInfo& o = *info.find("o");
    CHECK(o.type_class == TypeClass::composite);
    REQUIRE(o.children.size() == 4);
    CHECK(o.children[1].name == "inner_");
    CHECK(o.children[1].type_class == TypeClass::composite);
    CHECK(o.children[1].children.at(1).name == "label");
    CHECK(o.children[2].element_oid == e.type_oid);
    CHECK(o.children[2].children.at(0).enum_labels.size() == 3);
    const ColumnInfo& da = *info.find("da");
    CHECK(da.element_oid == d.type_oid);
    CHECK(da.children.at(0).base_oid == 23);
    CHECK(info.find("h")->base_extension == "hstore");
    CHECK(info.find("ci")->base_extension == "citext");
    CHECK(column_codec(*info.find("h")).kind == ColumnKind::hstore);
    CHECK(column_codec(*info.find("ci")).kind == ColumnKind::text);
    CHECK(column_codec(*info.find("lt")).kind == ColumnKind::ltree);
    CHECK(column_codec(d).kind == ColumnKind::int4);
    CHECK(column_codec(da).kind == ColumnKind::array);
    CHECK(column_codec(da).element == ColumnKind::int4);
    CHECK(column_codec(o).kind == ColumnKind::composite);
}

TEST_CASE("row writer: catalog-driven types store what the server's input stores",
          "[engine][row][pg][catalog_types]") {
    auto conn = test::connect();
    conn.exec(types_sql);
    conn.exec(table_sql);
    simdjson::dom::parser parser;
    const std::vector<std::string> rows = {
        R"j(["ok", 5, "abc", "[1,5]", "(1.50,)", "[2024-01-01T00:00:00Z,infinity)",)j"
        R"j( "[2024-01-01,2024-01-31]", "{[1,3), [2,7), empty}",)j"
        R"j( {"id": 7, "inner_": {"x": 1, "label": "a b"}, "moods": ["sad", null],)j"
        R"j(  "at": "2024-05-01T12:00:00Z"},)j"
        R"j( [[1,2],[3,null]], [["ok"],["happy"]], [1, 2], {"b": "2", "a": null, "b": "3"},)j"
        R"j( "MiXed", "Top.Science", ["[1,2)", "empty", "(,)"], ["ab", null]])j",
        R"j(["happy", null, null, "empty", "(,)", null, null, ["[1,2)", "[5,6)"],)j"
        R"j( [8, [2, null], null], [[[1],[2]],[[3],[4]]], [], [], {}, null, null, [], "{x}"])j",
        R"j([null, null, null, null, null, null, null, "{}", {"inner_": null}, [[], []], null,)j"
        R"j( null, null, null, null, null, null])j",
    };
    auto stored = load(conn, "rwc_all", [&](RowWriter& writer, ByteBuffer& out) {
        for (const std::string& row : rows) {
            write_json_row(writer, out, parser, row);
        }
    });
    REQUIRE(stored.size() == 3);
    CHECK(stored[0] ==
          std::string("ok|5|abc|[1,6)|(1.50,)|[\"2024-01-01 00:00:00+00\",infinity)|"
                      "[2024-01-01,2024-02-01)|{[1,7)}|"
                      "(7,\"(1,\"\"a b\"\")\",\"{sad,NULL}\",\"2024-05-01 12:00:00+00\")|"
                      "{{1,2},{3,NULL}}|{{ok},{happy}}|{1,2}|\"a\"=>NULL, \"b\"=>\"3\"|"
                      "MiXed|Top.Science|{\"[1,2)\",empty,\"(,)\"}|{ab,NULL}"));
    CHECK(stored[1] == "happy|NULL|NULL|empty|(,)|NULL|NULL|{[1,2),[5,6)}|"
                       "(8,\"(2,)\",,)|{{{1},{2}},{{3},{4}}}|{}|{}||NULL|NULL|{}|{x}");
    CHECK(stored[2] ==
          "NULL|NULL|NULL|NULL|NULL|NULL|NULL|{}|(,,,)|{}|NULL|NULL|NULL|NULL|NULL|NULL|NULL");
}

TEST_CASE("row writer: from_text takes enum labels, range, multirange and ltree literals",
          "[engine][row][pg][catalog_types]") {
    auto conn = test::connect();
    conn.exec(types_sql);
    conn.exec("CREATE TABLE rwc_dom (e rwc_mood, r int8range, m datemultirange, l ltree, "
              "d rwc_pos, ci citext, a int4[], ta text[], ea rwc_mood[], o rwc_outer, "
              "ia rwc_inner[], h hstore)");
    auto stored = load(conn, "rwc_dom", [&](RowWriter& writer, ByteBuffer& out) {
        writer.start_tuple(out);
        for (std::string_view text :
             {"sad", " [ 10 , 20 ] ", "{[2024-01-01,2024-01-05)}", "a.b", "3", "CaSe",
              "{{1,2},{3,NULL}}", R"j({"a,b",NULL,"NULL"})j", "{{ok},{happy}}",
              R"j((7,"(1,""a b"")","{sad,NULL}",))j", R"j({"(1,x)",NULL,"(,)"})j",
              "b=>NULL, a=>1"}) {
            REQUIRE(writer.from_text(text).ok());
        }
        REQUIRE(writer.finish().ok());
    });
    CHECK(stored == std::vector<std::string>{"sad|[10,21)|{[2024-01-01,2024-01-05)}|a.b|3|CaSe|"
                                             "{{1,2},{3,NULL}}|{\"a,b\",NULL,\"NULL\"}|"
                                             "{{ok},{happy}}|"
                                             "(7,\"(1,\"\"a b\"\")\",\"{sad,NULL}\",)|"
                                             "{\"(1,x)\",NULL,\"(,)\"}|"
                                             "\"a\"=>\"1\", \"b\"=>NULL"});
    CHECK(conn.query_value("SELECT count(*) FROM rwc_dom WHERE ci = 'case'") == "1");
}

TEST_CASE("row writer: bad catalog-driven values are refused, naming the column",
          "[engine][row][pg][catalog_types]") {
    auto conn = test::connect();
    conn.exec(types_sql);
    conn.exec(table_sql);
    TableInfo info = read_table_info(conn, "rwc_all");
    RowWriter writer(info);
    simdjson::dom::parser parser;
    struct Bad {
        std::string column;
        std::string json;
        Errc code;
        std::uint32_t position;
        std::string message;  // a part of describe()'s message
    };
    const std::vector<Bad> cases = {
        {"e", R"j("angry")j", Errc::invalid_enum_label, 0,
         "column \"e\" (rwc_mood): value \"angry\": not a label of the enum type"},
        {"e", "1", Errc::type_mismatch, 0, "column \"e\" (rwc_mood)"},
        {"d", R"j("x")j", Errc::invalid_integer, 0, "column \"d\" (rwc_pos)"},
        {"c", R"j("abcd")j", Errc::string_too_long, 3, "column \"c\" (rwc_code)"},
        {"r4", R"j("[1,2")j", Errc::invalid_range, 4, "malformed range literal"},
        {"r4", R"j("[a,2)")j", Errc::invalid_integer, 0, "column \"r4\" (int4range)"},
        {"r4", "[1, 2]", Errc::type_mismatch, 0, "column \"r4\""},
        {"m4", R"j("{[1,2)")j", Errc::invalid_multirange, 6, "malformed multirange literal"},
        {"m4", R"j(["[1,2)", 5])j", Errc::type_mismatch, 1, "column \"m4\""},
        {"o", R"j({"id": 1, "nope": 2})j", Errc::unknown_attribute, 1,
         "no attribute of the composite type has this name"},
        {"o", "[1, null, null, null, 5]", Errc::composite_field_count, 4, "column \"o\""},
        {"o", R"j({"moods": ["meh"]})j", Errc::invalid_enum_label, 0, "column \"o\""},
        {"o", R"j({"inner_": {"x": "y"}})j", Errc::invalid_integer, 0, "column \"o\""},
        {"a2", "[[1,2],[3]]", Errc::array_ragged, 2, "matching dimensions"},
        {"a2", "[[1,2],3]", Errc::array_ragged, 2, "column \"a2\""},
        {"a2", "[[[[[[[1]]]]]]]", Errc::array_too_many_dims, 0, "more than 6 dimensions"},
        {"a2", R"j([["x"]])j", Errc::invalid_integer, 0, "column \"a2\""},
        {"ea", R"j(["ok", "nope"])j", Errc::invalid_enum_label, 1, "column \"ea\""},
        {"h", R"j({"a": 1})j", Errc::invalid_hstore, 0, "malformed hstore"},
        {"h", R"j("a=>")j", Errc::invalid_hstore, 3, "column \"h\" (hstore)"},
        {"h", "[1]", Errc::type_mismatch, 0, "column \"h\" (hstore)"},
        {"lt", R"j("a.\u0000")j", Errc::nul_in_text, 2, "column \"lt\" (ltree)"},
        {"ra", R"j(["[1,2)", "(3"])j", Errc::invalid_range, 1, "column \"ra\""},
        {"a2", R"j("{{1,2},{3}}")j", Errc::array_ragged, 9, "matching dimensions"},
        {"a2", R"j("{1,x}")j", Errc::invalid_integer, 1, "column \"a2\" (integer[])"},
        {"ea", R"j("{ok,meh}")j", Errc::invalid_enum_label, 1, "column \"ea\""},
        {"ca", R"j(["ab", "abcd"])j", Errc::string_too_long, 1, "column \"ca\" (rwc_code[])"},
        {"ca", R"j("{abcd}")j", Errc::string_too_long, 0, "column \"ca\""},
        {"o", R"j("(1,,)")j", Errc::invalid_composite_text, 4, "malformed record literal"},
        {"o", R"j("(x,,,)")j", Errc::invalid_integer, 0, "column \"o\" (rwc_outer)"},
    };
    for (const Bad& bad : cases) {
        INFO(bad.column << " " << bad.json);
        ByteBuffer out;
        writer.start_tuple(out);
        const ColumnInfo* target = info.find(bad.column);
        REQUIRE(target != nullptr);
        while (writer.column_info(writer.column()).name != bad.column) {
            REQUIRE(writer.null().ok());
        }
        const std::size_t column = writer.column();
        const std::size_t size = out.size();
        Status status = writer.json_value(parser.parse(bad.json).value());
        CHECK(status.code == bad.code);
        CHECK(status.position == bad.position);
        // A JSON string is described by its text, as the load path does.
        std::string_view shown = bad.json;
        if (shown.size() >= 2 && shown.front() == '"') {
            shown = shown.substr(1, shown.size() - 2);
        }
        CHECK_THAT(writer.describe(status, column, shown), Catch::Contains(bad.message));
        CHECK(out.size() == size);
        CHECK(writer.column() == column);
    }
}

TEST_CASE("row writer: a domain's CHECK is the server's: the row is refused with 23514",
          "[engine][row][pg][catalog_types]") {
    auto conn = test::connect();
    conn.exec(types_sql);
    conn.exec("CREATE TABLE rwc_dom (id int4, d rwc_pos)");
    TableInfo info = read_table_info(conn, "rwc_dom");
    RowWriter writer(info);
    ByteBuffer stream;
    put_copy_header(stream);
    writer.start_tuple(stream);
    REQUIRE(writer.integer(1).ok());
    REQUIRE(writer.integer(-5).ok());  // encoded as int4; the CHECK runs in domain_recv
    REQUIRE(writer.finish().ok());
    put_copy_trailer(stream);
    try {
        conn.copy_in(info.copy_sql(), stream.view());
        FAIL("the server accepted -5 for a domain with CHECK (VALUE > 0)");
    } catch (const ServerError& error) {
        CHECK(error.sqlstate() == "23514");
        CHECK_THAT(error.what(), Catch::Contains("rwc_pos"));
    }
    CHECK(conn.query_value("SELECT count(*) FROM rwc_dom") == "0");
}
