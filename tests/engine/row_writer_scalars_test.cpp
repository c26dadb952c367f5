// Proves the typed row API for issue 10's scalar types (codecs/scalar_columns.hpp) against a
// real server: each of time, timetz, inet, cidr, macaddr, macaddr8, money, bit(n), varbit(n),
// "char", oid, xml, jsonpath and pg_lsn, written through RowWriter::json_value (JSON strings,
// and JSON numbers read as their text) and RowWriter::from_text into a real table, is stored as
// the server's own input of the same text (`'<text>'::type::text`); 1-D arrays of them go
// through the array writer; bad values are refused with a message naming the column and type,
// and nothing is written for them.

#include "codecs/row_writer.hpp"

#include <catch2/catch.hpp>

#include "codecs/copy_binary.hpp"
#include "engine/catalog.hpp"
#include "codecs/scalar_columns.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

struct Column {
    const char* name;
    const char* type;
};

const Column columns[] = {
    {"t", "time"},        {"tz", "timetz"},       {"ip", "inet"},      {"net", "cidr"},
    {"mac", "macaddr"},   {"mac8", "macaddr8"},   {"m", "money"},      {"b", "bit(3)"},
    {"vb", "varbit(8)"},  {"ch", "\"char\""},     {"o", "oid"},        {"x", "xml"},
    {"jp", "jsonpath"},   {"lsn", "pg_lsn"},      {"ta", "time[]"},    {"ia", "inet[]"},
    {"ba", "bit(3)[]"},   {"ma", "money[]"},      {"ca", "\"char\"[]"}, {"oa", "oid[]"},
};
constexpr std::size_t column_count = std::size(columns);

// One value: the column's index, the JSON the record holds, and the SQL text the server reads
// for the same value.
struct Case {
    std::size_t column;
    std::string json;
    std::string text;
};

const std::vector<Case> cases = {
    {0, R"j("12:00")j", "12:00"},
    {0, R"j("23:59:59.9999995")j", "23:59:59.9999995"},
    {0, R"j("24:00:00")j", "24:00:00"},
    {1, R"j("12:00:00.5+05:30")j", "12:00:00.5+05:30"},
    {1, R"j("00:00Z")j", "00:00Z"},
    {2, R"j("10.0.0.1")j", "10.0.0.1"},
    {2, R"j("::ffff:1.2.3.4/120")j", "::ffff:1.2.3.4/120"},
    {3, R"j("10.1")j", "10.1"},
    {3, R"j("2001:db8::/32")j", "2001:db8::/32"},
    {4, R"j("0800.2b01.0203")j", "0800.2b01.0203"},
    {5, R"j("08:00:2b:01:02:03")j", "08:00:2b:01:02:03"},
    {6, R"j("$1,234.565")j", "$1,234.565"},
    {6, R"j("(12.34)")j", "(12.34)"},
    {6, "12.5", "12.5"},
    {6, "-92233720368547758", "-92233720368547758"},
    {7, R"j("101")j", "101"},
    {7, "101", "101"},
    {8, R"j("xA5")j", "xA5"},
    {8, R"j("")j", ""},
    {9, R"j("\\101")j", "\\101"},
    {9, "7", "7"},
    {9, R"j("")j", ""},
    {10, "4294967295", "4294967295"},
    {10, "-1", "-1"},
    {10, R"j(" 42 ")j", " 42 "},
    {11, R"j("<a x=\"1\">é</a>")j", "<a x=\"1\">é</a>"},
    {11, "12", "12"},
    {12, R"j("$.a[*] ? (@ > 1)")j", "$.a[*] ? (@ > 1)"},
    {13, R"j("16/B374D848")j", "16/B374D848"},
    {14, R"j(["12:00", null, "24:00"])j", "{12:00,NULL,24:00}"},
    {15, R"j(["10.0.0.1/8", "::1"])j", "{10.0.0.1/8,::1}"},
    {16, R"j(["101", 111, null])j", "{101,111,NULL}"},
    {17, R"j(["$1.50", 2, -0.5])j", "{$1.50,2,-0.5}"},
    {18, R"j(["a", "\\101", ""])j", "{a,\"\\\\101\",\"\"}"},
    {19, R"j([0, 4294967295, "-1"])j", "{0,4294967295,-1}"},
};

std::string sql_literal(std::string_view text) { return "$q$" + std::string(text) + "$q$"; }

void create_table(Connection& conn) {
    std::string sql = "DROP TABLE IF EXISTS rw_scalars; CREATE TABLE rw_scalars (id int4";
    for (const Column& column : columns) {
        sql += std::string(", ") + column.name + " " + column.type;
    }
    conn.exec(sql + ")");
}

// Writes one row per case (id = index), the case's value through `write`, NULL elsewhere.
template <typename Write>
void load_cases(Connection& conn, Write write) {
    create_table(conn);
    TableInfo info = read_table_info(conn, "rw_scalars");
    REQUIRE(info.columns.size() == column_count + 1);
    RowWriter writer(info);
    simdjson::dom::parser parser;
    ByteBuffer stream;
    put_copy_header(stream);
    for (std::size_t row = 0; row < cases.size(); row++) {
        writer.start_tuple(stream);
        REQUIRE(writer.integer(static_cast<std::int64_t>(row)).ok());
        for (std::size_t k = 0; k < column_count; k++) {
            if (k != cases[row].column) {
                REQUIRE(writer.null().ok());
                continue;
            }
            Status status = write(writer, parser, cases[row]);
            INFO(writer.describe(status, writer.column(), cases[row].json));
            REQUIRE(status.ok());
        }
        REQUIRE(writer.finish().ok());
    }
    put_copy_trailer(stream);
    conn.copy_in(info.copy_sql(), stream.view());
}

void check_stored(Connection& conn) {
    for (std::size_t row = 0; row < cases.size(); row++) {
        const Column& column = columns[cases[row].column];
        INFO(column.type << " value " << cases[row].json);
        CHECK(conn.query_value(std::string("SELECT ") + column.name +
                               "::text FROM rw_scalars WHERE id = " + std::to_string(row)) ==
              conn.query_value("SELECT (" + sql_literal(cases[row].text) + "::" + column.type +
                               ")::text"));
    }
}

}  // namespace

TEST_CASE("row writer: JSON values into issue 10's scalar types are stored as the server's "
          "input of the same text", "[engine][row][pg][scalars]") {
    auto conn = test::connect();
    conn.exec("SET TimeZone = 'UTC'");
    load_cases(conn, [](RowWriter& writer, simdjson::dom::parser& parser, const Case& c) {
        return writer.json_value(parser.parse(c.json.data(), c.json.size()).value());
    });
    check_stored(conn);
}

TEST_CASE("row writer: from_text into issue 10's scalar types is stored as the server's input",
          "[engine][row][pg][scalars]") {
    auto conn = test::connect();
    conn.exec("SET TimeZone = 'UTC'");
    load_cases(conn, [](RowWriter& writer, simdjson::dom::parser&, const Case& c) {
        if (c.column >= 14) {
            return writer.null();  // arrays take JSON arrays, not text (from_text refuses them)
        }
        return writer.from_text(c.text);
    });
    for (std::size_t row = 0; row < cases.size(); row++) {
        if (cases[row].column >= 14) {
            continue;
        }
        const Column& column = columns[cases[row].column];
        INFO(column.type << " text " << cases[row].text);
        CHECK(conn.query_value(std::string("SELECT ") + column.name +
                               "::text FROM rw_scalars WHERE id = " + std::to_string(row)) ==
              conn.query_value("SELECT (" + sql_literal(cases[row].text) + "::" + column.type +
                               ")::text"));
    }
}

TEST_CASE("row writer: bad values for issue 10's scalar types are refused, naming the column",
          "[engine][row][pg][scalars]") {
    auto conn = test::connect();
    create_table(conn);
    TableInfo info = read_table_info(conn, "rw_scalars");
    for (std::size_t k = 1; k <= column_count; k++) {
        CHECK(is_scalar_column_kind(column_codec(info.columns[k]).kind) ==
              (k <= 14));
    }
    CHECK(column_codec(info.columns[15]).element == ColumnKind::time);
    CHECK(std::string(column_kind_name(ColumnKind::char_)) == "\"char\"");
    struct Bad {
        std::size_t column;
        std::string json;
        Errc code;
        const char* message;
    };
    const std::vector<Bad> bad = {
        {0, R"j("25:00")j", Errc::time_field_out_of_range,
         "column \"t\" (time without time zone): value"},
        {0, "12", Errc::invalid_time, "column \"t\" (time without time zone)"},
        {2, R"j("10.0.0.1/33")j", Errc::invalid_inet, "column \"ip\" (inet)"},
        {2, "10", Errc::invalid_inet, "column \"ip\" (inet)"},
        {3, R"j("10.1.2.3/8")j", Errc::cidr_host_bits_set,
         "invalid cidr value: Value has bits set to right of mask."},
        {4, R"j("08:00:2b")j", Errc::invalid_macaddr, "column \"mac\" (macaddr)"},
        {6, R"j("12,34 EUR")j", Errc::invalid_money, "column \"m\" (money)"},
        {6, "1e300", Errc::invalid_money, "column \"m\" (money)"},
        {7, R"j("1010")j", Errc::bit_length_mismatch, "column \"b\" (bit(3))"},
        {8, R"j("x123")j", Errc::varbit_too_long, "column \"vb\" (bit varying(8))"},
        {9, R"j("ab")j", Errc::char_not_one_byte, "column \"ch\" (\"char\")"},
        {9, "12", Errc::char_not_one_byte, "column \"ch\" (\"char\")"},
        {10, "4294967296", Errc::oid_out_of_range, "column \"o\" (oid)"},
        {10, "1.5", Errc::invalid_oid, "column \"o\" (oid)"},
        {11, R"j("<?xml version=\"1.0\" encoding=\"latin1\"?><a/>")j",
         Errc::xml_encoding_not_utf8, "column \"x\" (xml)"},
        {13, R"j("0/0 ")j", Errc::invalid_pg_lsn, "column \"lsn\" (pg_lsn)"},
        {14, R"j(["12:00", "25:00"])j", Errc::time_field_out_of_range, "column \"ta\""},
        {16, R"j(["101", "11"])j", Errc::bit_length_mismatch, "column \"ba\""},
        {0, R"j({"a": 1})j", Errc::type_mismatch, "column \"t\""},
        {2, "true", Errc::type_mismatch, "column \"ip\""},
    };
    RowWriter writer(info);
    simdjson::dom::parser parser;
    ByteBuffer out;
    for (const Bad& b : bad) {
        INFO(columns[b.column].type << " value " << b.json);
        writer.start_tuple(out);
        REQUIRE(writer.integer(0).ok());
        for (std::size_t k = 0; k < b.column; k++) {
            REQUIRE(writer.null().ok());
        }
        const std::size_t size_before = out.size();
        Status status = writer.json_value(parser.parse(b.json.data(), b.json.size()).value());
        CHECK(status.code == b.code);
        CHECK(out.size() == size_before);
        CHECK(writer.column() == b.column + 1);
        std::string message = writer.describe(status, writer.column(), b.json);
        CHECK_THAT(message, Catch::Contains(b.message));
        CHECK_THAT(message, Catch::Contains(errc_reason(b.code)));
        out.clear();
    }
}

TEST_CASE("row writer: integer, unsigned_integer and floating into issue 10's scalar types",
          "[engine][row][pg][scalars]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS rw_scalar_numbers; CREATE TABLE rw_scalar_numbers "
              "(o oid, m money, ch \"char\", b bit(3), t time)");
    TableInfo info = read_table_info(conn, "rw_scalar_numbers");
    RowWriter writer(info);
    ByteBuffer stream;
    put_copy_header(stream);
    writer.start_tuple(stream);
    REQUIRE(writer.unsigned_integer(4294967295u).ok());
    REQUIRE(writer.floating(12.345).ok());
    REQUIRE(writer.integer(7).ok());
    REQUIRE(writer.integer(101).ok());
    const std::size_t size_before = stream.size();
    CHECK(writer.integer(12).code == Errc::invalid_time);  // '12'::time is refused too
    CHECK(stream.size() == size_before);
    CHECK(writer.unsigned_integer(18446744073709551615u).code == Errc::invalid_time);
    REQUIRE(writer.null().ok());
    REQUIRE(writer.finish().ok());
    put_copy_trailer(stream);
    conn.copy_in(info.copy_sql(), stream.view());
    CHECK(conn.query_value("SELECT concat_ws('|', o, m, ch, b, coalesce(t::text, 'NULL')) "
                           "FROM rw_scalar_numbers") == "4294967295|$12.35|7|101|NULL");
}
