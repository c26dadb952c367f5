// Proves the one-dimensional array writer (codecs/array.hpp) against a real PostgreSQL 15
// server: for int4 `{1,NULL,3}` (the FORMATS.md §2.6 example), the empty array, an all-NULL
// array, text[] with multibyte text, float8[] with NaN/±Infinity/-0/subnormal, bool[], uuid[],
// int2[]/int8[] limits, varchar[], bytea[] and a 100 000-element int4[], our field bytes equal
// the server's array_send output and load back as the same value. Also: the header (ndim, flags,
// element OID) follows what the server writes, a wrong element OID is refused by the server
// (42804), and an array is rolled back as a whole (abandon, destructor, failing finish) so the
// buffer is exactly as it was before the array began.

#include <catch2/catch.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "codecs/array.hpp"
#include "codecs/oids.hpp"
#include "codecs/scalars.hpp"
#include "codecs/text.hpp"
#include "codecs/uuid.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

constexpr std::string_view table = "array_rt";
constexpr std::string_view prefix = "prefix";

struct Known {
    std::string expression;  // SQL for the same array
    std::string column_type;
    std::function<void(ByteBuffer&)> encode;
};

// Our array field equals the server's bytes for `expression` and loads back as the value the
// server itself prints for `expression`.
void check_known(Connection& conn, const Known& known) {
    INFO(known.expression);
    ByteBuffer ours;
    known.encode(ours);
    CHECK(hex(test::field_data(ours.view())) == hex(test::server_field(conn, known.expression)));
    std::string expected = conn.query_value("SELECT (" + known.expression + ")::text");
    CHECK(test::round_trip(conn, known.column_type, ours.view(), table) == expected);
}

void int4_array(ByteBuffer& out, const std::vector<std::optional<std::int32_t>>& values) {
    ArrayWriter array(out, oid::int4);
    for (const auto& value : values) {
        if (value) {
            encode_int4(array.out(), *value);
        } else {
            array.null_element();
        }
    }
    REQUIRE(array.finish().ok());
}

}  // namespace

TEST_CASE("array: int4 {1,NULL,3} is the FORMATS.md example byte for byte",
          "[codecs][scalars][array]") {
    ByteBuffer out;
    int4_array(out, {1, std::nullopt, 3});
    CHECK(hex(test::field_data(out.view())) ==
          "00 00 00 01 00 00 00 01 00 00 00 17 00 00 00 03 00 00 00 01 "
          "00 00 00 04 00 00 00 01 ff ff ff ff 00 00 00 04 00 00 00 03");
    CHECK(out.size() <= array_encoded_size_max(3, int4_encoded_size_max()));
}

TEST_CASE("array: an empty array is the 12-byte field the server writes for '{}'",
          "[codecs][scalars][array]") {
    ByteBuffer out;
    out.put_bytes(prefix);
    int4_array(out, {});
    CHECK(hex(out.view().substr(prefix.size())) ==
          "00 00 00 0c 00 00 00 00 00 00 00 00 00 00 00 17");
}

TEST_CASE("array: integer and float arrays equal the server's bytes and load back",
          "[codecs][scalars][array][pg]") {
    auto conn = test::connect();
    using D = std::numeric_limits<double>;
    std::vector<Known> cases = {
        {"'{1,NULL,3}'::int4[]", "int4[]",
         [](ByteBuffer& b) { int4_array(b, {1, std::nullopt, 3}); }},
        {"'{}'::int4[]", "int4[]", [](ByteBuffer& b) { int4_array(b, {}); }},
        {"'{NULL,NULL}'::int4[]", "int4[]",
         [](ByteBuffer& b) { int4_array(b, {std::nullopt, std::nullopt}); }},
        {"'{-2147483648,2147483647,0,-1}'::int4[]", "int4[]",
         [](ByteBuffer& b) { int4_array(b, {-2147483647 - 1, 2147483647, 0, -1}); }},
        {"'{-32768,32767,0,-1}'::int2[]", "int2[]",
         [](ByteBuffer& b) {
             ArrayWriter array(b, oid::int2);
             for (std::int16_t v : {std::int16_t{-32768}, std::int16_t{32767}, std::int16_t{0},
                                    std::int16_t{-1}}) {
                 encode_int2(array.out(), v);
             }
             REQUIRE(array.finish().ok());
         }},
        {"'{-9223372036854775808,9223372036854775807,0,-1}'::int8[]", "int8[]",
         [](ByteBuffer& b) {
             ArrayWriter array(b, oid::int8);
             for (std::int64_t v : {std::numeric_limits<std::int64_t>::min(),
                                    std::numeric_limits<std::int64_t>::max(), std::int64_t{0},
                                    std::int64_t{-1}}) {
                 encode_int8(array.out(), v);
             }
             REQUIRE(array.finish().ok());
         }},
        {"'{NaN,Infinity,-Infinity,-0,5e-324,1.5,NULL}'::float8[]", "float8[]",
         [](ByteBuffer& b) {
             ArrayWriter array(b, oid::float8);
             for (double v : {D::quiet_NaN(), D::infinity(), -D::infinity(), -0.0,
                              D::denorm_min(), 1.5}) {
                 encode_float8(array.out(), v);
             }
             array.null_element();
             REQUIRE(array.finish().ok());
         }},
        {"'{NaN,1e-45,-Infinity}'::float4[]", "float4[]",
         [](ByteBuffer& b) {
             ArrayWriter array(b, oid::float4);
             encode_float4(array.out(), std::numeric_limits<float>::quiet_NaN());
             encode_float4(array.out(), std::numeric_limits<float>::denorm_min());
             encode_float4(array.out(), -std::numeric_limits<float>::infinity());
             REQUIRE(array.finish().ok());
         }},
    };
    for (const Known& known : cases) {
        check_known(conn, known);
    }
}

TEST_CASE("array: bool, text-like and uuid arrays equal the server's bytes and load back",
          "[codecs][scalars][array][pg]") {
    auto conn = test::connect();
    std::vector<Known> cases = {
        {"'{t,f,NULL,t}'::bool[]", "bool[]",
         [](ByteBuffer& b) {
             ArrayWriter array(b, oid::bool_);
             encode_bool(array.out(), true);
             encode_bool(array.out(), false);
             array.null_element();
             encode_bool(array.out(), true);
             REQUIRE(array.finish().ok());
         }},
        {"convert_from(decode('7b22c3a9222c22f09f9880222c2261206222"
         "2c22222c4e554c4c2c226e756c6c227d', 'hex'), 'UTF8')::text[]",
         "text[]",
         [](ByteBuffer& b) {  // {"é","😀","a b","",NULL,"null"}
             ArrayWriter array(b, oid::text);
             for (const char* v : {"\xc3\xa9", "\xf0\x9f\x98\x80", "a b", ""}) {
                 REQUIRE(encode_text(array.out(), v).ok());
             }
             array.null_element();
             REQUIRE(encode_text(array.out(), "null").ok());
             REQUIRE(array.finish().ok());
         }},
        {"'{ab,\"c d\"}'::varchar(3)[]", "varchar(3)[]",
         [](ByteBuffer& b) {
             ArrayWriter array(b, oid::varchar);
             REQUIRE(encode_varchar(array.out(), "ab", 3).ok());
             REQUIRE(encode_varchar(array.out(), "c d  ", 3).ok());
             REQUIRE(array.finish().ok());
         }},
        {"ARRAY[decode('00ff00', 'hex'), ''::bytea]", "bytea[]",
         [](ByteBuffer& b) {
             ArrayWriter array(b, oid::bytea);
             REQUIRE(encode_bytea(array.out(), std::string_view("\0\xff\0", 3)).ok());
             REQUIRE(encode_bytea(array.out(), "").ok());
             REQUIRE(array.finish().ok());
         }},
        {"'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL,00000000-0000-0000-0000-000000000000}'"
         "::uuid[]",
         "uuid[]",
         [](ByteBuffer& b) {
             ArrayWriter array(b, oid::uuid);
             REQUIRE(encode_uuid_text(array.out(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").ok());
             array.null_element();
             REQUIRE(encode_uuid_text(array.out(), "00000000000000000000000000000000").ok());
             REQUIRE(array.finish().ok());
         }},
    };
    for (const Known& known : cases) {
        check_known(conn, known);
    }
}

TEST_CASE("array: a 100 000-element int4[] equals the server's bytes and loads back",
          "[codecs][scalars][array][pg]") {
    auto conn = test::connect();
    const std::int32_t count = 100000;
    Known known{"ARRAY(SELECT CASE WHEN g % 1000 = 0 THEN NULL ELSE g * 7919 - 400000000 END "
                "FROM generate_series(1, 100000) g)",
                "int4[]", [count](ByteBuffer& b) {
                    b.reserve(array_encoded_size_max(static_cast<std::size_t>(count),
                                                     int4_encoded_size_max()));
                    ArrayWriter array(b, oid::int4);
                    for (std::int32_t g = 1; g <= count; g++) {
                        if (g % 1000 == 0) {
                            array.null_element();
                        } else {
                            encode_int4(array.out(), g * 7919 - 400000000);
                        }
                    }
                    REQUIRE(array.finish().ok());
                }};
    check_known(conn, known);
}

TEST_CASE("array: elements we refuse are refused by the server inside an array too",
          "[codecs][scalars][array][pg]") {
    auto conn = test::connect();
    struct Bad {
        std::string column_type;
        std::uint32_t element_oid;
        std::string element;  // bytes of the one bad element
        std::function<Status(ByteBuffer&, std::string_view)> encode;
        Errc code;
        std::string sqlstate;
    };
    const auto varchar2 = [](ByteBuffer& b, std::string_view t) { return encode_varchar(b, t, 2); };
    const std::vector<Bad> bad_elements = {
        {"text[]", oid::text, "\xc3\x28", encode_text, Errc::invalid_utf8, "22021"},
        {"text[]", oid::text, std::string("a\0b", 3), encode_text, Errc::nul_in_text, "22021"},
        {"text[]", oid::text, "\xed\xa0\x80", encode_text, Errc::invalid_utf8, "22021"},
        {"json[]", oid::json, "\xc0\xaf", encode_json, Errc::invalid_utf8, "22021"},
        {"varchar(2)[]", oid::varchar, "abc", varchar2, Errc::string_too_long, "22001"},
        {"varchar(2)[]", oid::varchar, "\xc3\xa9\xc3\xa9x", varchar2, Errc::string_too_long,
         "22001"},
    };
    for (const Bad& bad : bad_elements) {
        INFO(bad.column_type << " element " << hex(bad.element));
        // Ours: the element is refused, the array abandoned, the buffer as before.
        ByteBuffer ours;
        ours.put_bytes(prefix);
        ArrayWriter array(ours, bad.element_oid);
        REQUIRE(encode_text(array.out(), "1").ok());  // valid for every type here
        Status status = bad.encode(array.out(), bad.element);
        CHECK(status.code == bad.code);
        array.abandon();
        CHECK(ours.view() == prefix);
        // The server: the same element sent raw inside an array is refused.
        ByteBuffer raw;
        ArrayWriter raw_array(raw, bad.element_oid);
        REQUIRE(encode_text(raw_array.out(), "1").ok());
        raw_array.out().put_i32(static_cast<std::int32_t>(bad.element.size()));
        raw_array.out().put_bytes(bad.element);
        REQUIRE(raw_array.finish().ok());
        try {
            (void)test::round_trip(conn, bad.column_type, raw.view(), table);
            FAIL("the server accepted the element");
        } catch (const ServerError& error) {
            CHECK(error.sqlstate() == bad.sqlstate);
        }
    }
}

TEST_CASE("array: element OIDs other than the column's built-in element type are refused",
          "[codecs][scalars][array][pg]") {
    auto conn = test::connect();
    for (std::uint32_t wrong : {oid::int8, oid::text, std::uint32_t{0}, oid::int2}) {
        INFO("element OID " << wrong);
        ByteBuffer out;
        ArrayWriter array(out, wrong);
        encode_int4(array.out(), 1);
        REQUIRE(array.finish().ok());
        try {
            (void)test::round_trip(conn, "int4[]", out.view(), table);
            FAIL("the server accepted the element OID");
        } catch (const ServerError& error) {
            CHECK(error.sqlstate() == "42804");
        }
    }
    ByteBuffer right;
    ArrayWriter array(right, oid::int4);
    encode_int4(array.out(), 1);
    REQUIRE(array.finish().ok());
    CHECK(test::round_trip(conn, "int4[]", right.view(), table) == "{1}");
}

TEST_CASE("array: abandon() puts the buffer back as it was before the array",
          "[codecs][scalars][array]") {
    ByteBuffer out;
    out.put_bytes(prefix);
    ArrayWriter array(out, oid::int2);
    encode_int2(array.out(), 1);
    // An element fails to encode: the encoder leaves the buffer as it was, the caller drops
    // the whole array.
    Status status = encode_int2_text(array.out(), "70000");
    CHECK(status.code == Errc::integer_out_of_range);
    array.abandon();
    CHECK(out.view() == prefix);
}

TEST_CASE("array: a writer destroyed without finish() rolls its array back",
          "[codecs][scalars][array]") {
    ByteBuffer out;
    out.put_bytes(prefix);
    {
        ArrayWriter array(out, oid::text);
        REQUIRE(encode_text(array.out(), "kept only if finished").ok());
        array.null_element();
    }
    CHECK(out.view() == prefix);
}

TEST_CASE("array: a failed element may be replaced by NULL instead",
          "[codecs][scalars][array][pg]") {
    auto conn = test::connect();
    ByteBuffer out;
    ArrayWriter array(out, oid::uuid);
    for (const char* text : {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "not-a-uuid"}) {
        if (!encode_uuid_text(array.out(), text).ok()) {
            array.null_element();
        }
    }
    REQUIRE(array.finish().ok());
    CHECK(test::round_trip(conn, "uuid[]", out.view(), table) ==
          "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}");
}

TEST_CASE("array: arrays follow one another and other fields in the same buffer",
          "[codecs][scalars][array][pg]") {
    auto conn = test::connect();
    ByteBuffer out;
    encode_int4(out, 5);
    int4_array(out, {7, 8});
    int4_array(out, {});
    std::size_t second = int4_encoded_size_max();
    CHECK(test::round_trip(conn, "int4[]", out.view().substr(second, out.size() - second - 16),
                           table) == "{7,8}");
    CHECK(test::round_trip(conn, "int4[]", out.view().substr(out.size() - 16), table) == "{}");
}

TEST_CASE("array: more than 134217727 elements is array_too_large, buffer unchanged",
          "[codecs][scalars][array][.]") {
    ByteBuffer out(array_encoded_size_max(array_elements_max + 1, 4) + prefix.size());
    out.put_bytes(prefix);
    ArrayWriter array(out, oid::int4);
    for (std::size_t i = 0; i <= array_elements_max; i++) {
        array.null_element();
    }
    Status status = array.finish();
    CHECK(status.code == Errc::array_too_large);
    CHECK(status.position == array_elements_max);
    CHECK(out.view() == prefix);
    CHECK_THAT(describe_error(status, "tags", "(array)"),
               Catch::Contains("at element 134217727"));
}
