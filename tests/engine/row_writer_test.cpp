// Proves the typed row API against a real server: each call is checked against the column's type
// from the catalog (text into a uuid column is an error naming the column, nothing written); JSON
// values are converted to every supported column type and the server stores what the JSON said;
// every bad value leaves the buffer and the column position as they were; rows built through the
// engine's producers land.

#include "codecs/row_writer.hpp"

#include <catch2/catch.hpp>

#include "codecs/copy_binary.hpp"
#include "engine/engine.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

const char* const all_types_sql =
    "CREATE TABLE rw_all (b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric, "
    "t text, vc varchar(5), c char(3), by bytea, u uuid, d date, ts timestamp, tz timestamptz, "
    "iv interval, j json, jb jsonb, ia int4[], ta text[], fa float4[], ua uuid[])";

/// Loads the tuples `fill` writes (it is called with the writer and the stream buffer, with the
/// COPY header written) into `table`, and returns every row as text, columns joined by '|'.
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

simdjson::dom::element parse(simdjson::dom::parser& parser, std::string_view json) {
    return parser.parse(json.data(), json.size()).value();
}

}  // namespace

TEST_CASE("row writer: JSON values become every column type", "[engine][row][pg]") {
    auto conn = test::connect();
    conn.exec(std::string("DROP TABLE IF EXISTS rw_all; ") + all_types_sql);
    const std::string record =
        R"([true, 7, -2147483648, 9223372036854775807, 1.5, 0.1, 12345.678, "héllo", "ab   ",)"
        R"( "xy", "raw\u0001", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "2024-02-29",)"
        R"( "2024-05-01T12:00:00.5", "2024-05-01T12:00:00+02:00", "P1DT2H", {"a": [1, 2.5]},)"
        R"( {"k": "v", "n": null}, [1, null, 3], ["x", null, "y z"], [0.5, 2], []])";
    simdjson::dom::parser parser;
    auto rows = load(conn, "rw_all", [&](RowWriter& writer, ByteBuffer& out) {
        writer.start_tuple(out);
        for (simdjson::dom::element value : parse(parser, record).get_array()) {
            Status status = writer.json_value(value);
            INFO(writer.describe(status, writer.column(), simdjson::minify(value)));
            REQUIRE(status.ok());
        }
        REQUIRE(writer.finish().ok());
        writer.start_tuple(out);
        for (std::size_t i = 0; i < writer.column_count(); ++i) {
            REQUIRE(writer.null().ok());
        }
        REQUIRE(writer.finish().ok());
    });
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] ==
          "true|7|-2147483648|9223372036854775807|1.5|0.1|12345.678|héllo|ab   |xy|\\x72617701|"
          "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|2024-02-29|2024-05-01 12:00:00.5|"
          "2024-05-01 10:00:00+00|1 day 02:00:00|{\"a\":[1,2.5]}|{\"k\": \"v\", \"n\": null}|"
          "{1,NULL,3}|{x,NULL,\"y z\"}|{0.5,2}|{}");
    std::string nulls = "NULL";
    for (int i = 1; i < 22; ++i) {
        nulls += "|NULL";
    }
    CHECK(rows[1] == nulls);
}

TEST_CASE("row writer: typed calls and from_text store what they were given", "[engine][row][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS rw_typed; CREATE TABLE rw_typed (u uuid, n int8, t text, "
        "ts timestamptz, f real[], i4 int4, j jsonb, nm numeric, txt varchar(10))");
    auto rows = load(conn, "rw_typed", [&](RowWriter& writer, ByteBuffer& out) {
        writer.start_tuple(out);
        UuidBytes uuid{};
        REQUIRE(parse_uuid("00000000-0000-0000-0000-0000000000ff", uuid).ok());
        REQUIRE(writer.uuid(uuid).ok());
        REQUIRE(writer.integer(-5).ok());
        REQUIRE(writer.text("plain").ok());
        REQUIRE(writer.timestamp(0).ok());
        const float floats[] = {1.0F, -0.25F};
        REQUIRE(writer.floats(floats).ok());
        REQUIRE(writer.from_text(" 42 ").ok());
        JsonWriter* json = writer.begin_json();
        REQUIRE(json != nullptr);
        json->begin_object();
        json->key("deep");
        json->begin_array();
        json->number(std::int64_t{1});
        json->end_array();
        json->end_object();
        REQUIRE(writer.end_json().ok());
        REQUIRE(writer.unsigned_integer(18446744073709551615ULL).ok());
        REQUIRE(writer.floating(2.5).ok());
        REQUIRE(writer.finish().ok());
    });
    REQUIRE(rows.size() == 1);
    CHECK(rows[0] ==
          "00000000-0000-0000-0000-0000000000ff|-5|plain|2000-01-01 00:00:00+00|{1,-0.25}|42|"
          "{\"deep\": [1]}|18446744073709551615|2.5");
}

TEST_CASE("row writer: a value the column's type cannot take is refused, naming the column",
          "[engine][row][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS rw_bad; CREATE TABLE rw_bad (id uuid, n int4, v varchar(3), "
        "a int2[], ts timestamptz, j jsonb, b bool)");
    TableInfo info = read_table_info(conn, "rw_bad");
    RowWriter writer(info);
    ByteBuffer out;
    writer.start_tuple(out);
    const std::size_t size_before = out.size();
    simdjson::dom::parser parser;

    // Each case is tried on column 0 (uuid) after writing the columns before its target.
    SECTION("text into a uuid column") {
        Status status = writer.text("abc");
        CHECK(status.code == Errc::type_mismatch);
        CHECK(writer.describe(status, writer.column(), "abc") ==
              "column \"id\" (uuid): value \"abc\": value of this kind cannot be stored in this "
              "column");
    }
    SECTION("a malformed uuid string") {
        Status status = writer.json_value(parse(parser, R"("a0eebc99-zz")"));
        CHECK(status.code == Errc::invalid_uuid);
        CHECK(status.position == 9);
        CHECK(writer.describe(status, writer.column(), "a0eebc99-zz")
                  .starts_with(
                      "column \"id\" (uuid): value \"a0eebc99-zz\" at byte 9: invalid uuid"));
    }
    SECTION("a number into a uuid column") {
        CHECK(writer.json_value(parse(parser, "12")).code == Errc::type_mismatch);
        CHECK(writer.integer(12).code == Errc::type_mismatch);
        CHECK(writer.begin_json() == nullptr);
        CHECK(writer.last_status().code == Errc::type_mismatch);
    }
    SECTION("values later in the row") {
        REQUIRE(writer.null().ok());
        CHECK(writer.json_value(parse(parser, "2147483648")).code == Errc::integer_out_of_range);
        CHECK(writer.json_value(parse(parser, "1.5")).code == Errc::invalid_integer);
        CHECK(writer.json_value(parse(parser, "\"12x\"")).code == Errc::invalid_integer);
        CHECK(writer.json_value(parse(parser, "{\"a\":1}")).code == Errc::type_mismatch);
        CHECK(out.size() == size_before + 4);
        REQUIRE(writer.json_value(parse(parser, "3.0")).ok());
        CHECK(writer.json_value(parse(parser, "\"abcd\"")).code == Errc::string_too_long);
        REQUIRE(writer.json_value(parse(parser, "\"abc\"")).ok());
        Status element = writer.json_value(parse(parser, "[1, 40000]"));
        CHECK(element.code == Errc::integer_out_of_range);
        CHECK(element.position == 1);
        Status nested = writer.json_value(parse(parser, "[1, [2]]"));
        CHECK(nested.code == Errc::type_mismatch);
        CHECK(writer.describe(nested, writer.column(), "[1,[2]]") ==
              "column \"a\" (smallint[]): value \"[1,[2]]\": value of this kind cannot be stored "
              "in this column (element 1)");
        REQUIRE(writer.json_value(parse(parser, "[1, -2]")).ok());
        CHECK(writer.json_value(parse(parser, "\"yesterday\"")).code == Errc::invalid_timestamp);
        CHECK(writer.json_value(parse(parser, "true")).code == Errc::type_mismatch);
        REQUIRE(writer.null().ok());
        REQUIRE(writer.json_value(parse(parser, "\"a\\u0000b\"")).code == Errc::json_nul_escape);
        REQUIRE(writer.json_value(parse(parser, "\"a\"")).ok());
        CHECK(writer.finish().code == Errc::row_field_count);
        CHECK(writer.json_value(parse(parser, "\"maybe\"")).code == Errc::invalid_bool);
        REQUIRE(writer.json_value(parse(parser, "\"yes\"")).ok());
        CHECK(writer.finish().ok());
        Status past = writer.null();
        CHECK(past.code == Errc::row_field_count);
        CHECK(writer.describe(past, writer.column(), "") ==
              "row does not have one value per column");
        // The tuple is complete and loads: the refused values left nothing behind.
        ByteBuffer stream;
        put_copy_header(stream);
        stream.put_bytes(out.view());
        put_copy_trailer(stream);
        REQUIRE(conn.copy_in(info.copy_sql(), stream.view()) == 1);
        CHECK(conn.query_value("SELECT concat_ws('|', id, n, v, a, ts, j, b) FROM rw_bad") ==
              "3|abc|{1,-2}|\"a\"|t");
    }
    if (writer.column() == 0) {
        CHECK(out.size() == size_before);
    }
}

TEST_CASE("row writer: rows built through an engine producer land", "[engine][row][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS rw_engine; CREATE TABLE rw_engine (id int8 PRIMARY KEY, "
        "doc jsonb NOT NULL, tag text)");
    std::uint64_t rows = 5000;
    {
        Engine engine(test::cluster().conninfo(), "rw_engine",
                      EngineOptions{.writers = 2, .batch_bytes = 16 * 1024});
        RowWriter writer(engine.table());
        Producer producer = engine.producer();
        for (std::uint64_t i = 0; i < rows; ++i) {
            ByteBuffer* out = producer.begin_row();
            REQUIRE(out != nullptr);
            writer.begin(*out);
            REQUIRE(writer.integer(static_cast<std::int64_t>(i)).ok());
            JsonWriter* json = writer.begin_json();
            REQUIRE(json != nullptr);
            json->begin_object();
            json->key("i");
            json->number(i);
            json->end_object();
            REQUIRE(writer.end_json().ok());
            if (i % 2 == 0) {
                REQUIRE(writer.text("even").ok());
            } else {
                REQUIRE(writer.null().ok());
            }
            REQUIRE(writer.finish().ok());
            producer.end_row(RowOrigin{.offset = i});
        }
        producer.flush();
        engine.close();
    }
    CHECK(conn.query_value("SELECT count(*) FROM rw_engine") == "5000");
    CHECK(conn.query_value("SELECT count(*) FROM rw_engine WHERE (doc->>'i')::int8 = id") ==
          "5000");
    CHECK(conn.query_value("SELECT count(tag) FROM rw_engine") == "2500");
}

TEST_CASE("row writer: JSON arrays into real[] and float8[] take every element kind alike",
          "[engine][row][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS rw_floats; CREATE TABLE rw_floats (f real[], d float8[])");
    simdjson::dom::parser parser;
    // Doubles take the embedding path; an integer, NULL or a string switches to element by
    // element for the rest of the array.
    const std::vector<std::string> arrays = {R"([0.5, -2.25e-3, 1, null, "NaN", 0.1, "-Infinity"])",
                                             R"([0.75, 3])", R"([])", R"([1.5, 2.5, 1e-3])"};
    auto rows = load(conn, "rw_floats", [&](RowWriter& writer, ByteBuffer& out) {
        for (const std::string& array : arrays) {
            writer.start_tuple(out);
            REQUIRE(writer.json_value(parse(parser, array)).ok());
            REQUIRE(writer.json_value(parse(parser, array)).ok());
            REQUIRE(writer.finish().ok());
        }
    });
    REQUIRE(rows.size() == 4);
    CHECK(rows[0] ==
          "{0.5,-0.00225,1,NULL,NaN,0.1,-Infinity}|"
          "{0.5,-0.00225,1,NULL,NaN,0.1,-Infinity}");
    CHECK(rows[1] == "{0.75,3}|{0.75,3}");
    CHECK(rows[2] == "{}|{}");
    CHECK(rows[3] == "{1.5,2.5,0.001}|{1.5,2.5,0.001}");

    TableInfo info = read_table_info(conn, "rw_floats");
    RowWriter writer(info);
    ByteBuffer out;
    writer.start_tuple(out);
    const std::size_t size_before = out.size();
    // Out of float4's range, in the fast part and after the switch; the buffer is unchanged.
    for (auto [array, position] : {std::pair{"[1e39]", 0U}, std::pair{"[0.5, 1e-50]", 1U},
                                   std::pair{"[0.5, 2, -1e39]", 2U}}) {
        INFO(array);
        Status status = writer.json_value(parse(parser, array));
        CHECK(status.code == Errc::float_out_of_range);
        CHECK(status.position == position);
        CHECK(out.size() == size_before);
    }
    CHECK(writer.json_value(parse(parser, R"([0.5, "x"])")).code == Errc::invalid_float);
    CHECK(out.size() == size_before);
}
