// Proves that RowWriter::json_array_raw (a large record's array member scanned once, no DOM)
// writes the bytes and returns the Status that json_value writes from simdjson's DOM of the
// same array, for arrays of every number element kind and pgvector's types, good and bad
// elements alike, except the one difference on purpose: a float4 element whose double lies
// halfway between two floats is rounded once from its text (strtof). Pure: the stored values
// are checked against the server in tests/load/member_array_test.cpp.

#include <bit>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "codecs/oids.hpp"
#include "codecs/row_writer.hpp"

using namespace pgingest;

namespace {

ColumnInfo array_column(std::string name, std::uint32_t element_oid, std::int32_t typmod = -1) {
    ColumnInfo column;
    column.name = std::move(name);
    column.type_name = "_array";
    column.element_oid = element_oid;
    column.typmod = typmod;
    return column;
}

ColumnInfo vector_column(std::string name, std::string type, std::int32_t typmod) {
    ColumnInfo column;
    column.name = std::move(name);
    column.type_oid = 90000;  // an extension type's OID: any
    column.type_name = std::move(type);
    column.typmod = typmod;
    return column;
}

struct Written {
    Status status;
    std::string bytes;
    std::string message;
};

// What json_value writes for `json` from simdjson's DOM, as the small path does; a text the DOM
// refuses as the small path sees it (a number: its member parse fails, json_syntax at 0; a lone
// surrogate: the record is refused).
Written by_dom(const ColumnInfo& column, const std::string& json) {
    TableInfo table{.qualified_name = "t", .columns = {column}};
    RowWriter writer(table);
    ByteBuffer out;
    writer.begin(out);
    simdjson::dom::parser parser;
    simdjson::dom::element value;
    simdjson::error_code code = parser.parse(json).get(value);
    Written written;
    if (code == simdjson::STRING_ERROR) {
        written.status = Status{Errc::json_lone_surrogate, 0};
    } else if (code != simdjson::SUCCESS) {
        written.status = Status{Errc::json_syntax, 0};
    } else {
        written.status = writer.json_value(value);
    }
    written.bytes = std::string(out.view());
    written.message = writer.describe(written.status, 0, json);
    return written;
}

Written by_scan(const ColumnInfo& column, const std::string& json) {
    TableInfo table{.qualified_name = "t", .columns = {column}};
    RowWriter writer(table);
    ByteBuffer out;
    writer.begin(out);
    REQUIRE(writer.streams_json_array(json));
    Written written;
    written.status = writer.json_array_raw(json);
    CHECK(writer.column() == (written.status.ok() ? 1U : 0U));
    written.bytes = std::string(out.view());
    written.message = writer.describe(written.status, 0, json);
    return written;
}

const std::vector<ColumnInfo>& number_columns() {
    static const std::vector<ColumnInfo> columns = {
        array_column("r", oid::float4),
        array_column("d", oid::float8),
        array_column("s", oid::int2),
        array_column("i", oid::int4),
        array_column("l", oid::int8),
        array_column("n", oid::numeric),
        array_column("n62", oid::numeric, ((6 << 16) | 2) + 4),
        vector_column("v", "vector", -1),
        vector_column("v3", "vector", 3),
        vector_column("h", "halfvec", -1),
        vector_column("sv", "sparsevec", -1),
    };
    return columns;
}

}  // namespace

TEST_CASE("json_array_raw: the same field and status as json_value of the DOM",
          "[row_writer][number_array]") {
    const std::vector<std::string> arrays = {
        "[]",
        "[ ]",
        "[0]",
        "[1, 2 ,3]",
        "[0.5,-2.25e-3,1,null,\"NaN\",0.1,\"-Infinity\",\"12\"]",
        "[-0, -0.0, 0.0, 1E2, 1e+2, 1.0, 2.50, 1e-5]",
        "[32767, -32768, 32768]",
        "[2147483647, -2147483648, 2147483648]",
        "[9223372036854775807, -9223372036854775808, 9223372036854775808]",
        "[18446744073709551615]",
        "[1.5, 2.5]",
        "[3.4028234663852886e38, 3.5e38, -3.5e38]",
        "[1e-40, 1e-46, 1e-400, -1e-400, 5e-324]",
        "[1.7976931348623157e308]",
        "[0.1234567890123456789, 123456789012345678.5]",
        "[1, true]",
        "[false]",
        "[1, [2]]",
        "[1, {\"a\":1}]",
        "[1, \"x\"]",
        "[\"1.5\", \"\\u0031\", \" 7 \"]",
        "[1, 2, 1e999]",
        "[1, true, 1e999]",
        "[1, [1e999]]",
        "[123456789012345678901234567890]",
        "[1, -9223372036854775809]",
        "[1, \"a\\ud800\"]",
        "[true, \"a\\udc00b\"]",
        "[65504, 65520, 1e5]",
        "[1,2,3,4]",
        "[1,2,3]",
        "[0,0,1.5,0,-2]",
    };
    for (const ColumnInfo& column : number_columns()) {
        for (const std::string& json : arrays) {
            INFO(column.name << " " << json);
            Written dom = by_dom(column, json);
            Written scan = by_scan(column, json);
            INFO(dom.message << " / " << scan.message);
            CHECK(scan.status.code == dom.status.code);
            CHECK(scan.status.position == dom.status.position);
            CHECK(scan.message == dom.message);
            CHECK(scan.bytes == dom.bytes);
        }
    }
}

TEST_CASE("json_array_raw: a float4 element halfway between two floats is rounded from its text",
          "[row_writer][number_array]") {
    // 1 + 2^-24 is halfway between 1 and 1 + 2^-23; the text is just above it, so float4in
    // (strtof) gives 1 + 2^-23 where rounding the double (exactly 1 + 2^-24) gives 1.
    const std::string json = "[1.0000000596046447753906250001, 0.5]";
    Written scan = by_scan(array_column("r", oid::float4), json);
    REQUIRE(scan.status.ok());
    float expected = 1.0f + 0x1p-23f;
    std::uint32_t bits = std::bit_cast<std::uint32_t>(expected);
    // The field: length, header (ndim, flags, oid, dim, lbound: 20 bytes), then (length, bits).
    std::string element = scan.bytes.substr(4 + 20 + 4, 4);
    std::uint32_t stored = 0;
    for (char c : element) {
        stored = (stored << 8) | static_cast<unsigned char>(c);
    }
    CHECK(stored == bits);
}

TEST_CASE("json_array_raw: nested arrays and other columns are not streamed",
          "[row_writer][number_array]") {
    TableInfo table{.qualified_name = "t",
                    .columns = {array_column("r", oid::float4), array_column("t", oid::text)}};
    RowWriter writer(table);
    ByteBuffer out;
    writer.begin(out);
    CHECK_FALSE(writer.streams_json_array("[[1,2],[3,4]]"));
    CHECK_FALSE(writer.streams_json_array("1"));
    CHECK(writer.streams_json_array("[1,[2]]"));
    Status status = writer.json_array_raw("[[1]]");
    CHECK(status.code == Errc::type_mismatch);
    CHECK(out.size() == 0);
    REQUIRE(writer.null().ok());
    CHECK_FALSE(writer.streams_json_array("[\"a\"]"));  // text[]: json_value's path
}

TEST_CASE("json_as_text_raw: an object or array into text as json_value writes it from the DOM",
          "[row_writer][number_array]") {
    const std::vector<std::string> values = {
        "{}",
        "[]",
        R"({ "a" : [ 1 , 2.50, -0, -0.0, 1e5, 1E-7, 18446744073709551615 ], "b": {"c": null}})",
        R"([true, false, null, "x\"y\\z\/\b\f\n\r\t\u0001\u00e9\ud83d\ude00", {"k\u0041": "v"}])",
        R"({"dup": 1, "dup": 2, "": ""})",
        R"([[[[[]]]], {"a": {"b": {"c": [1, {"d": []}]}}}])",
        R"([1, 1e999])",
        R"([123456789012345678901234567890])",
        R"({"s": "a\ud800"})",
        R"([0.1, 0.30000000000000004, 5e-324, 1.7976931348623157e308, 1e-400])",
    };
    const std::vector<ColumnInfo> columns = {
        [] {
            ColumnInfo column;
            column.name = "t";
            column.type_oid = oid::text;
            column.type_name = "text";
            return column;
        }(),
        [] {
            ColumnInfo column;
            column.name = "v";
            column.type_oid = oid::varchar;
            column.type_name = "varchar";
            column.typmod = 20 + 4;
            return column;
        }(),
    };
    for (const ColumnInfo& column : columns) {
        for (const std::string& json : values) {
            INFO(column.name << " " << json);
            Written dom = by_dom(column, json);
            TableInfo table{.qualified_name = "t", .columns = {column}};
            RowWriter writer(table);
            ByteBuffer out;
            writer.begin(out);
            Status status = writer.json_as_text_raw(json);
            CHECK(status.code == dom.status.code);
            CHECK(status.position == dom.status.position);
            CHECK(std::string(out.view()) == dom.bytes);
        }
    }
}
