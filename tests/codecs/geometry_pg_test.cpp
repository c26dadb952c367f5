// Proves the geometric codecs (codecs/geometry.hpp) against a real PostgreSQL 15 server:
// - for every spelling each input function takes (parens, brackets, braces, angle brackets,
//   bare numbers, spaces everywhere, hex floats, NaN, ±Infinity, -0, subnormals, the float8
//   extremes, unordered box corners, vertical/horizontal/sloped lines from two points) our bytes
//   equal the server's send bytes for the same text and load back as the server's text;
// - bad text is rejected with Errc, byte position and a describe_error message, leaves the
//   buffer unchanged, and the server refuses it too with the SQLSTATE we name;
// - seeded mutated spellings (one COPY per type): we accept exactly what the server accepts,
//   with the same bytes.

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "codecs/geometry.hpp"
#include "engine/errors.hpp"
#include "tests/support/mutate.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

std::string encode_ok(GeometryType type, std::string_view text) {
    ByteBuffer out;
    Status status = encode_geometry_text(out, type, text);
    INFO(geometry_type_name(type) << " text: [" << text << "] status "
                                  << static_cast<int>(status.code) << " at " << status.position);
    REQUIRE(status.ok());
    CHECK(out.size() <= geometry_encoded_size_max(type, text));
    return std::string(out.view());
}

// Bytes equal the server's send bytes and the round trip reads back as the server's text.
void check_against_server(Connection& conn, GeometryType type,
                          const std::vector<std::string>& texts) {
    const std::string name = geometry_type_name(type);
    for (const std::string& text : texts) {
        INFO(name << " text: [" << text << "]");
        std::string ours = encode_ok(type, text);
        std::string literal = "'" + text + "'::" + name;
        CHECK(hex(test::field_data(ours)) == hex(test::server_field(conn, literal)));
        CHECK(test::round_trip(conn, name, ours, "geometry_rt") ==
              conn.query_value("SELECT (" + literal + ")::text"));
    }
}

struct Bad {
    std::string text;
    Errc code;
    std::uint32_t position;
    const char* sqlstate;  // the server's SQLSTATE for the same text
};

void check_rejected(Connection& conn, GeometryType type, const std::vector<Bad>& cases) {
    const std::string name = geometry_type_name(type);
    for (const Bad& bad : cases) {
        INFO(name << " text: [" << bad.text << "]");
        ByteBuffer out;
        out.put_bytes("keep");
        Status status = encode_geometry_text(out, type, bad.text);
        CHECK(status.code == bad.code);
        CHECK(status.position == bad.position);
        CHECK(out.view() == "keep");
        std::string message = describe_error(status, "shape", bad.text);
        CHECK_THAT(message, Catch::Contains("column \"shape\": value \""));
        CHECK_THAT(message, Catch::Contains(errc_reason(bad.code)));
        if (errc_position_unit(bad.code) != nullptr) {
            CHECK_THAT(message, Catch::Contains(" at byte " + std::to_string(bad.position)));
        }
        try {
            (void)conn.query_value("SELECT '" + bad.text + "'::" + name);
            FAIL("the server accepted it");
        } catch (const ServerError& error) {
            CHECK(error.sqlstate() == bad.sqlstate);
        }
    }
}

// Differential test over mutated spellings: we accept a text exactly when the server does, and
// then with the server's bytes. One COPY; the server's refusals come back as NULL.
void check_mutations(Connection& conn, GeometryType type, const std::vector<std::string>& seeds,
                     std::mt19937_64& random) {
    const std::string name = geometry_type_name(type);
    std::vector<std::string> texts =
        test::mutated_texts(seeds, "0123456789.,-+eE()[]{}<> \tinfINFnaNx", 2000, random);
    conn.exec("DROP FUNCTION IF EXISTS pg_temp.try_cast(text)");
    conn.exec("CREATE FUNCTION pg_temp.try_cast(t text) RETURNS " + name +
              " LANGUAGE plpgsql AS $$ BEGIN RETURN t::" + name +
              "; EXCEPTION WHEN others THEN RETURN NULL; END $$");
    std::string array = "array[";
    for (std::size_t i = 0; i < texts.size(); i++) {
        array += (i == 0 ? "$q$" : ",$q$") + texts[i] + "$q$";
    }
    std::vector<std::optional<std::string>> server = test::stream_fields(conn.copy_out(
        "COPY (SELECT pg_temp.try_cast(x) FROM unnest(" + array + "]" +
        "::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n) TO STDOUT (FORMAT binary)"));
    REQUIRE(server.size() == texts.size());
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < texts.size(); i++) {
        INFO(name << " text: [" << texts[i] << "]");
        ByteBuffer out;
        const bool ours = encode_geometry_text(out, type, texts[i]).ok();
        CHECK(ours == server[i].has_value());
        if (!ours) {
            CHECK(out.empty());
            continue;
        }
        accepted++;
        if (server[i].has_value()) {
            CHECK(hex(test::field_data(out.view())) == hex(*server[i]));
        }
    }
    std::printf("%s mutations: %zu of %zu accepted\n", name.c_str(), accepted, texts.size());
}

const char* const syntax = "22P02";
const char* const range = "22003";

}  // namespace

TEST_CASE("point: bytes equal point_send for every spelling and float8 edge",
          "[codecs][pg][geometry]") {
    auto conn = test::connect();
    check_against_server(
        conn, GeometryType::point,
        {"(1,2)", "1,2", " ( 1 , 2 ) ", "(-0,-0)", "(0,0)", "(1.5e300,-2.5e-300)",
         "(NaN,nan)", "(Infinity,-Infinity)", "(inf,-INF)", "(+inf,+1)", "(0x1.8p1,-0X10)",
         "(1.7976931348623157e308,-1.7976931348623157e308)", "(4.9e-324,2.2250738585072014e-308)",
         "(.5,5.)", "(1e5,1E-5)", "\t3,4\n", "(0.1,0.2)", "(123456789012345678901234567890,1)",
         "(3.141592653589793238462643383279,2.718281828459045)", "(-1.0e-5,1)"});
}

TEST_CASE("point: bad text is refused with position and message, as point_in refuses it",
          "[codecs][pg][geometry]") {
    auto conn = test::connect();
    check_rejected(conn, GeometryType::point,
                   {{"", Errc::geometry_syntax, 0, syntax},
                    {"   ", Errc::geometry_syntax, 3, syntax},
                    {"(1,2", Errc::geometry_syntax, 4, syntax},
                    {"1,2)", Errc::geometry_syntax, 3, syntax},
                    {"(1 2)", Errc::geometry_syntax, 3, syntax},
                    {"(1,)", Errc::geometry_syntax, 3, syntax},
                    {"(,2)", Errc::geometry_syntax, 1, syntax},
                    {"(1,2) x", Errc::geometry_syntax, 6, syntax},
                    {"[1,2]", Errc::geometry_syntax, 0, syntax},
                    {"((1,2))", Errc::geometry_syntax, 1, syntax},
                    {"(1,2,3)", Errc::geometry_syntax, 4, syntax},
                    {"(--1,2)", Errc::geometry_syntax, 1, syntax},
                    {"(1e999,2)", Errc::float_out_of_range, 1, range},
                    {"(1,-1e-999)", Errc::float_out_of_range, 3, range},
                    {"(abc,2)", Errc::geometry_syntax, 1, syntax},
                    {"(1;2)", Errc::geometry_syntax, 2, syntax},
                    {"(1,2)(3,4)", Errc::geometry_syntax, 5, syntax},
                    {"(- 1,2)", Errc::geometry_syntax, 1, syntax},
                    {"(1,2", Errc::geometry_syntax, 4, syntax},
                    {"(0x,1)", Errc::geometry_syntax, 2, syntax}});
}

TEST_CASE("point: a NUL byte is refused where it stands", "[codecs][geometry]") {
    ByteBuffer out;
    Status status = encode_geometry_text(out, GeometryType::point, std::string_view("(1,\0 2)", 7));
    CHECK(status.code == Errc::geometry_syntax);
    CHECK(status.position == 3);
    CHECK(out.empty());
}

TEST_CASE("line: {A,B,C} and two points give line_send's bytes", "[codecs][pg][geometry]") {
    auto conn = test::connect();
    check_against_server(
        conn, GeometryType::line,
        {"{1,2,3}", " { 1 , -1 , 0 } ", "{0,1,0}", "{1,0,-5}", "{-0,1,-0}", "{NaN,1,2}",
         "{1e-5,0,1}", "{Infinity,1,-Infinity}", "[(0,0),(1,1)]", "((0,0),(1,2))",
         "(1,1),(1,5)", "1,1,5,1", "[(1,2),(3,4)]", "[(-1,3),(2,-7)]", "[(0,0),(3,1)]",
         "[(1e-7,0),(0,5)]", "[(0,1e-7),(5,0)]", "[(NaN,1),(2,3)]", "[(1,2),(1,NaN)]",
         "[(1e300,1e300),(-1e300,-1e300)]", "[(0.1,0.2),(0.3,0.7)]", "[(2,2),(4,2.5)]"});
}

TEST_CASE("line: A = B = 0, equal points and bad syntax are refused like line_in",
          "[codecs][pg][geometry]") {
    auto conn = test::connect();
    check_rejected(conn, GeometryType::line,
                   {{"{0,0,1}", Errc::line_invalid, 0, syntax},
                    {"{1e-7,-1e-7,1}", Errc::line_invalid, 0, syntax},
                    {"[(1,1),(1,1)]", Errc::line_invalid, 0, syntax},
                    {"[(1,1),(1.0000001,1)]", Errc::line_invalid, 0, syntax},
                    {"[(NaN,1),(NaN,1)]", Errc::line_invalid, 0, syntax},
                    {"{1,2}", Errc::geometry_syntax, 4, syntax},
                    {"{1,2,3", Errc::geometry_syntax, 6, syntax},
                    {"{1,2,3} x", Errc::geometry_syntax, 8, syntax},
                    {"{1,2,3,4}", Errc::geometry_syntax, 6, syntax},
                    {"(1,2)", Errc::geometry_syntax, 4, syntax},
                    {"[(1,2),(3,4)", Errc::geometry_syntax, 12, syntax},
                    {"{1,2,1e400}", Errc::float_out_of_range, 5, range},
                    {"[(1e308,0),(-1e308,1)]", Errc::geometry_out_of_range, 0, range},
                    {"[(1,1e308),(2,-1e308)]", Errc::geometry_out_of_range, 0, range},
                    {"[(1,2),(3,4)]]", Errc::geometry_syntax, 13, syntax},
                    {"{a,b,c}", Errc::geometry_syntax, 1, syntax},
                    {"", Errc::geometry_syntax, 0, syntax},
                    {"1,2,3", Errc::geometry_syntax, 5, syntax},
                    {"{1;2;3}", Errc::geometry_syntax, 2, syntax},
                    {"<(1,2),(3,4)>", Errc::geometry_syntax, 0, syntax},
                    {"[(1,2),(3,4)", Errc::geometry_syntax, 12, syntax},
                    {"{1,2,3}}", Errc::geometry_syntax, 7, syntax}});
}

TEST_CASE("lseg and box: bytes equal lseg_send / box_send, box corners reordered",
          "[codecs][pg][geometry]") {
    auto conn = test::connect();
    check_against_server(conn, GeometryType::lseg,
                         {"[(1,2),(3,4)]", "((1,2),(3,4))", "(1,2),(3,4)", "1,2,3,4",
                          " [ ( 1 , 2 ) , ( 3 , 4 ) ] ", "[(0,0),(0,0)]", "[(NaN,-0),(inf,1)]",
                          "(1,2,3,4)", "[1,2,3,4]", "[(1,2)(3,4)]",
                          "[(1,2),(3,4)) "});
    check_against_server(conn, GeometryType::box,
                         {"(3,4),(1,2)", "(1,2),(3,4)", "((1,4),(3,2))", "1,2,3,4",
                          "(1,2,3,4)", "((0,0),(0,0))", "(NaN,1),(2,NaN)", "(1,NaN),(NaN,2)",
                          "(-inf,inf),(inf,-inf)", "(-0,0),(0,-0)", " ( 5 , 6 ) , ( -7 , 8 ) "});
}

TEST_CASE("lseg and box: bad text is refused like lseg_in / box_in", "[codecs][pg][geometry]") {
    auto conn = test::connect();
    check_rejected(conn, GeometryType::lseg,
                   {{"[(1,2),(3,4)", Errc::geometry_syntax, 12, syntax},
                    {"[(1,2)]", Errc::geometry_syntax, 6, syntax},
                    {"(1,2)", Errc::geometry_syntax, 4, syntax},
                    {"((1,2),(3,4)]", Errc::geometry_syntax, 12, syntax},
                    {"[(1,2),(3,4),(5,6)]", Errc::geometry_syntax, 13, syntax},
                    {"[(1,2),(3,1e999)]", Errc::float_out_of_range, 10, range},
                    {"<(1,2),(3,4)>", Errc::geometry_syntax, 0, syntax}});
    check_rejected(conn, GeometryType::box,
                   {{"[(1,2),(3,4)]", Errc::geometry_syntax, 0, syntax},
                    {"(1,2)", Errc::geometry_syntax, 4, syntax},
                    {"(1,2),(3,4),(5,6)", Errc::geometry_syntax, 12, syntax},
                    {"((1,2),(3,4)", Errc::geometry_syntax, 12, syntax},
                    {"(1,2),(3,4))", Errc::geometry_syntax, 11, syntax},
                    {"1,2,3", Errc::geometry_syntax, 5, syntax},
                    {"(1,2),(x,4)", Errc::geometry_syntax, 7, syntax},
                    {"", Errc::geometry_syntax, 0, syntax}});
}

TEST_CASE("path and polygon: bytes equal path_send / poly_send for open, closed and bare forms",
          "[codecs][pg][geometry]") {
    auto conn = test::connect();
    check_against_server(
        conn, GeometryType::path,
        {"[(1,2),(3,4)]", "((1,2),(3,4))", "(1,2),(3,4)", "[(1,2)]", "((1,2))", "(1,2)",
         "1,2", "1,2,3,4,5,6", "(1,2,3,4)", "[1,2,3,4]", " [ (1 ,2) , (3, 4) , (5,6) ] ",
         "[(0,0),(1,1),(2,0),(NaN,inf)]", "((-0,-0),(1e-300,1e300),(0x10,-0x1p-3))",
         "( [1,2] )"});
    check_against_server(conn, GeometryType::polygon,
                         {"((1,2),(3,4))", "(1,2),(3,4)", "((0,0),(1,1),(2,0))", "(1,2)", "1,2",
                          "(1,2,3,4,5,6)", "((0,0),(0,1),(1,1),(1,0))", "((NaN,1),(2,inf))",
                          " ( ( -0 , 0 ) , ( 4 , 5 ) ) ", "((1,2))"});
}

TEST_CASE("path and polygon: bad text is refused like path_in / poly_in",
          "[codecs][pg][geometry]") {
    auto conn = test::connect();
    check_rejected(conn, GeometryType::path,
                   {{"", Errc::geometry_syntax, 0, syntax},
                    {"[]", Errc::geometry_syntax, 0, syntax},
                    {"(1,2),(3,4", Errc::geometry_syntax, 10, syntax},
                    {"[(1,2),(3,4)", Errc::geometry_syntax, 12, syntax},
                    {"[(1,2),(3,4)))", Errc::geometry_syntax, 13, syntax},
                    {"[(1,2)(3,4)]", Errc::geometry_syntax, 0, syntax},
                    {"[(1,2),(3,4)] x", Errc::geometry_syntax, 14, syntax},
                    {"(1,2),(3,4),", Errc::geometry_syntax, 0, syntax},
                    {"(1,2,3)", Errc::geometry_syntax, 0, syntax},
                    {"[(1,2),(x,4)]", Errc::geometry_syntax, 8, syntax},
                    {"[(1,2),(3,1e400)]", Errc::float_out_of_range, 10, range}});
    check_rejected(conn, GeometryType::polygon,
                   {{"[(1,2),(3,4)]", Errc::geometry_syntax, 0, syntax},
                    {"", Errc::geometry_syntax, 0, syntax},
                    {"((1,2),(3,4)", Errc::geometry_syntax, 12, syntax},
                    {"((1,2),(3,4)) x", Errc::geometry_syntax, 14, syntax},
                    {"(1,2,3)", Errc::geometry_syntax, 0, syntax},
                    {"((1,2),(3,4)", Errc::geometry_syntax, 12, syntax},
                    {"((1,2),(3,y))", Errc::geometry_syntax, 10, syntax},
                    {"((1,2),(3,-1e999))", Errc::float_out_of_range, 10, range}});
}

TEST_CASE("circle: bytes equal circle_send; a negative radius is refused",
          "[codecs][pg][geometry]") {
    auto conn = test::connect();
    check_against_server(conn, GeometryType::circle,
                         {"<(1,2),3>", "((1,2),3)", "(1,2),3", "1,2,3", " < ( 1 , 2 ) , 3 > ",
                          "<(1,2) 3>", "1,2 3", "<(0,0),0>", "<(0,0),-0>", "<(1,2),NaN>",
                          "<(-inf,inf),Infinity>", "<(1e300,-1e-300),4.9e-324>",
                          "((1,2),3>", "<(1,2),3)"});
    check_rejected(conn, GeometryType::circle,
                   {{"<(1,2),-1>", Errc::geometry_syntax, 7, syntax},
                    {"<(1,2),-inf>", Errc::geometry_syntax, 7, syntax},
                    {"<(1,2),3", Errc::geometry_syntax, 8, syntax},
                    {"<(1,2),3>>", Errc::geometry_syntax, 9, syntax},
                    {"((1,2),3>)", Errc::geometry_syntax, 9, syntax},
                    {"(1,2),3)", Errc::geometry_syntax, 7, syntax},
                    {"<(1,2)>", Errc::geometry_syntax, 6, syntax},
                    {"<1,2>", Errc::geometry_syntax, 4, syntax},
                    {"<(1,2),3,4>", Errc::geometry_syntax, 8, syntax},
                    {"", Errc::geometry_syntax, 0, syntax},
                    {"<(1,2),1e999>", Errc::float_out_of_range, 7, range},
                    {"[(1,2),3]", Errc::geometry_syntax, 0, syntax},
                    {"<(1,2),x>", Errc::geometry_syntax, 7, syntax},
                    {"{1,2,3}", Errc::geometry_syntax, 0, syntax}});
}

TEST_CASE("circle: encode_circle writes circle_send's layout and refuses a negative radius",
          "[codecs][pg][geometry]") {
    auto conn = test::connect();
    ByteBuffer out;
    REQUIRE(encode_circle(out, GeoPoint{1, 2}, 3).ok());
    CHECK(hex(test::field_data(out.view())) ==
          hex(test::server_field(conn, "'<(1,2),3>'::circle")));
    ByteBuffer bad;
    Status status = encode_circle(bad, GeoPoint{0, 0}, -0.5);
    CHECK(status.code == Errc::geometry_syntax);
    CHECK(bad.empty());
    ByteBuffer point;
    encode_point(point, GeoPoint{-0.0, 5e-324});
    CHECK(test::round_trip(conn, "point", point.view(), "geometry_rt") == "(-0,5e-324)");
}

TEST_CASE("geometry: mutated spellings are accepted exactly when the server accepts them",
          "[codecs][pg][geometry]") {
    auto conn = test::connect();
    std::uint64_t seed = std::random_device{}();
    std::printf("geometry mutation test seed: %llu\n", static_cast<unsigned long long>(seed));
    INFO("seed: " << seed);
    std::mt19937_64 random(seed);
    check_mutations(conn, GeometryType::point, {"(1,2)", "1.5,-2e3", "(inf,nan)"}, random);
    check_mutations(conn, GeometryType::line, {"{1,2,3}", "[(0,0),(1,1)]", "(1,2),(3,4)"},
                    random);
    check_mutations(conn, GeometryType::lseg, {"[(1,2),(3,4)]", "1,2,3,4"}, random);
    check_mutations(conn, GeometryType::box, {"(1,2),(3,4)", "((1,2),(3,4))"}, random);
    check_mutations(conn, GeometryType::path,
                    {"[(1,2),(3,4)]", "((1,2),(3,4),(5,6))", "(1,2,3,4)"}, random);
    check_mutations(conn, GeometryType::polygon, {"((1,2),(3,4))", "1,2,3,4,5,6"}, random);
    check_mutations(conn, GeometryType::circle, {"<(1,2),3>", "((1,2),3)", "1,2,3"}, random);
}
