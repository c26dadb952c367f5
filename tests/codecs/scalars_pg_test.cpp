// Proves the fixed-width scalar codecs (codecs/scalars.hpp) against a real PostgreSQL 15 server:
// - for bool, int2/4/8 (min, max, 0, -1) and float4/8 (-0, subnormals, NaN, ±Infinity, max
//   finite) our field bytes equal the server's send output, and they load back as the same value;
// - the text parsers accept exactly what the server's input functions accept (boolin, int2in,
//   int4in, int8in, float4in, float8in), with the same resulting bytes, and refuse what they
//   refuse: every input below is also run through `'<input>'::type` on the server;
// - each refusal carries the right Errc, byte position and message, and leaves the buffer as it
//   was; the checked encoders refuse exactly what the server's casts refuse.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "codecs/scalars.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

constexpr std::string_view table = "scalars_rt";
constexpr std::string_view prefix = "prefix";  // bytes already in the buffer before a value

std::string sql_literal(std::string_view text) {
    std::string literal = "'";
    for (char c : text) {
        literal += c;
        if (c == '\'') {
            literal += '\'';
        }
    }
    return literal + "'";
}

struct ServerInput {
    bool accepted = false;
    std::string bytes;     // the server's send output when accepted
    std::string sqlstate;  // when refused
};

// What the server makes of `'<input>'::<type>`.
ServerInput server_input(Connection& conn, std::string_view input, std::string_view type) {
    try {
        return {true, test::server_field(conn, sql_literal(input) + "::" + std::string(type)), {}};
    } catch (const ServerError& error) {
        return {false, {}, error.sqlstate()};
    }
}

using EncodeText = std::function<Status(ByteBuffer&, std::string_view)>;

// Our text encoder and the server's input function agree on `input`: both accept it with the
// same bytes, or both refuse it.
void check_input_like_server(Connection& conn, std::string_view type, std::string_view input,
                             const EncodeText& encode) {
    INFO("input \"" << input << "\" as " << type);
    ByteBuffer ours;
    ours.put_bytes(prefix);
    Status status = encode(ours, input);
    ServerInput server = server_input(conn, input, type);
    CHECK(status.ok() == server.accepted);
    if (status.ok() && server.accepted) {
        CHECK(hex(test::field_data(ours.view().substr(prefix.size()))) == hex(server.bytes));
    }
    if (!status.ok()) {
        CHECK(ours.view() == prefix);
    }
}

struct Invalid {
    std::string input;
    Errc code;
    std::uint32_t position;
    std::string sqlstate;  // what the server says to '<input>'::type
};

// The refusal of `bad.input` has the expected code and position, a message naming column,
// value and reason, leaves the buffer unchanged, and the server refuses the same input.
void check_invalid(Connection& conn, std::string_view type, const Invalid& bad,
                   const EncodeText& encode) {
    INFO("input \"" << bad.input << "\" as " << type);
    ByteBuffer ours;
    ours.put_bytes(prefix);
    Status status = encode(ours, bad.input);
    CHECK(status.code == bad.code);
    CHECK(status.position == bad.position);
    CHECK(ours.view() == prefix);
    std::string message = describe_error(status, "reading", bad.input);
    CHECK_THAT(message, Catch::Contains("column \"reading\""));
    CHECK_THAT(message, Catch::Contains(errc_reason(bad.code)));
    CHECK_THAT(message, Catch::Contains("at byte " + std::to_string(bad.position)));
    ServerInput server = server_input(conn, bad.input, type);
    CHECK_FALSE(server.accepted);
    CHECK(server.sqlstate == bad.sqlstate);
}

struct Known {
    std::string expression;  // SQL for the same value
    std::string column_type;
    std::function<void(ByteBuffer&)> encode;
    std::string text;  // v::text after loading our field
};

void check_known(Connection& conn, const Known& known) {
    INFO(known.expression);
    ByteBuffer ours;
    known.encode(ours);
    CHECK(hex(test::field_data(ours.view())) == hex(test::server_field(conn, known.expression)));
    CHECK(test::round_trip(conn, known.column_type, ours.view(), table) == known.text);
}

std::string g17(double value) {
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

}  // namespace

TEST_CASE("scalars: native encoders write the layout of the recv functions", "[codecs][scalars]") {
    ByteBuffer out;
    encode_bool(out, true);
    encode_int2(out, -2);
    encode_int4(out, 1);
    encode_int8(out, -1);
    encode_float4(out, 1.5f);
    encode_float8(out, -std::numeric_limits<double>::infinity());
    CHECK(hex(out.view()) ==
          "00 00 00 01 01 "
          "00 00 00 02 ff fe "
          "00 00 00 04 00 00 00 01 "
          "00 00 00 08 ff ff ff ff ff ff ff ff "
          "00 00 00 04 3f c0 00 00 "
          "00 00 00 08 ff f0 00 00 00 00 00 00");
    CHECK(out.size() == bool_encoded_size_max() + int2_encoded_size_max() +
                            int4_encoded_size_max() + int8_encoded_size_max() +
                            float4_encoded_size_max() + float8_encoded_size_max());
}

TEST_CASE("scalars: bool and integer limits equal the server's bytes and load back",
          "[codecs][scalars][pg]") {
    auto conn = test::connect();
    using I16 = std::numeric_limits<std::int16_t>;
    using I32 = std::numeric_limits<std::int32_t>;
    using I64 = std::numeric_limits<std::int64_t>;
    std::vector<Known> cases = {
        {"true", "bool", [](ByteBuffer& b) { encode_bool(b, true); }, "true"},
        {"false", "bool", [](ByteBuffer& b) { encode_bool(b, false); }, "false"},
        {"'-32768'::int2", "int2", [](ByteBuffer& b) { encode_int2(b, I16::min()); }, "-32768"},
        {"'32767'::int2", "int2", [](ByteBuffer& b) { encode_int2(b, I16::max()); }, "32767"},
        {"'0'::int2", "int2", [](ByteBuffer& b) { encode_int2(b, 0); }, "0"},
        {"'-1'::int2", "int2", [](ByteBuffer& b) { encode_int2(b, -1); }, "-1"},
        {"'-2147483648'::int4", "int4", [](ByteBuffer& b) { encode_int4(b, I32::min()); },
         "-2147483648"},
        {"'2147483647'::int4", "int4", [](ByteBuffer& b) { encode_int4(b, I32::max()); },
         "2147483647"},
        {"'0'::int4", "int4", [](ByteBuffer& b) { encode_int4(b, 0); }, "0"},
        {"'-1'::int4", "int4", [](ByteBuffer& b) { encode_int4(b, -1); }, "-1"},
        {"'-9223372036854775808'::int8", "int8",
         [](ByteBuffer& b) { encode_int8(b, I64::min()); }, "-9223372036854775808"},
        {"'9223372036854775807'::int8", "int8",
         [](ByteBuffer& b) { encode_int8(b, I64::max()); }, "9223372036854775807"},
        {"'0'::int8", "int8", [](ByteBuffer& b) { encode_int8(b, 0); }, "0"},
        {"'-1'::int8", "int8", [](ByteBuffer& b) { encode_int8(b, -1); }, "-1"},
    };
    for (const Known& known : cases) {
        check_known(conn, known);
    }
}

TEST_CASE("scalars: float edge values equal the server's bytes and load back",
          "[codecs][scalars][pg]") {
    auto conn = test::connect();
    using F = std::numeric_limits<float>;
    using D = std::numeric_limits<double>;
    std::vector<Known> cases = {
        {"'-0'::float4", "float4", [](ByteBuffer& b) { encode_float4(b, -0.0f); }, "-0"},
        {"'1e-45'::float4", "float4", [](ByteBuffer& b) { encode_float4(b, F::denorm_min()); },
         "1e-45"},
        {"'NaN'::float4", "float4", [](ByteBuffer& b) { encode_float4(b, F::quiet_NaN()); },
         "NaN"},
        {"'Infinity'::float4", "float4", [](ByteBuffer& b) { encode_float4(b, F::infinity()); },
         "Infinity"},
        {"'-Infinity'::float4", "float4",
         [](ByteBuffer& b) { encode_float4(b, -F::infinity()); }, "-Infinity"},
        {"'3.4028235e38'::float4", "float4", [](ByteBuffer& b) { encode_float4(b, F::max()); },
         "3.4028235e+38"},
        {"'-0'::float8", "float8", [](ByteBuffer& b) { encode_float8(b, -0.0); }, "-0"},
        {"'5e-324'::float8", "float8", [](ByteBuffer& b) { encode_float8(b, D::denorm_min()); },
         "5e-324"},
        {"'NaN'::float8", "float8", [](ByteBuffer& b) { encode_float8(b, D::quiet_NaN()); },
         "NaN"},
        {"'Infinity'::float8", "float8", [](ByteBuffer& b) { encode_float8(b, D::infinity()); },
         "Infinity"},
        {"'-Infinity'::float8", "float8",
         [](ByteBuffer& b) { encode_float8(b, -D::infinity()); }, "-Infinity"},
        {"'1.7976931348623157e308'::float8", "float8",
         [](ByteBuffer& b) { encode_float8(b, D::max()); }, "1.7976931348623157e+308"},
        {"'0.1'::float8", "float8", [](ByteBuffer& b) { encode_float8(b, 0.1); }, "0.1"},
    };
    for (const Known& known : cases) {
        check_known(conn, known);
    }
}

TEST_CASE("scalars: any non-zero bool byte loads as true, as boolrecv reads it",
          "[codecs][scalars][pg]") {
    auto conn = test::connect();
    ByteBuffer raw;
    raw.put_i32(1);
    raw.put_u8(2);
    CHECK(test::round_trip(conn, "bool", raw.view(), table) == "true");
}

TEST_CASE("scalars: parse_bool accepts exactly boolin's spellings", "[codecs][scalars][pg]") {
    auto conn = test::connect();
    const std::vector<std::string> accepted = {
        "t", "tr", "tru", "true", "TRUE", "True", "y", "ye", "yes", "YES", "on", "ON", "1",
        "f", "fa", "fal", "fals", "false", "FALSE", "n", "no", "NO", "of", "off", "OFF", "0",
        " true", "false ", "\t on \n", "  1  "};
    for (const std::string& input : accepted) {
        check_input_like_server(conn, "bool", input, encode_bool_text);
    }
    bool value = false;
    REQUIRE(parse_bool(" Ye ", value).ok());
    CHECK(value);
    REQUIRE(parse_bool("of", value).ok());
    CHECK_FALSE(value);

    const std::vector<Invalid> refused = {
        {"", Errc::invalid_bool, 0, "22P02"},
        {"   ", Errc::invalid_bool, 3, "22P02"},
        {"o", Errc::invalid_bool, 0, "22P02"},
        {"truex", Errc::invalid_bool, 0, "22P02"},
        {"yess", Errc::invalid_bool, 0, "22P02"},
        {"onn", Errc::invalid_bool, 0, "22P02"},
        {"offf", Errc::invalid_bool, 0, "22P02"},
        {"2", Errc::invalid_bool, 0, "22P02"},
        {"01", Errc::invalid_bool, 0, "22P02"},
        {"-1", Errc::invalid_bool, 0, "22P02"},
        {"  maybe", Errc::invalid_bool, 2, "22P02"},
        {"t rue", Errc::invalid_bool, 0, "22P02"},
        {"nope", Errc::invalid_bool, 0, "22P02"},
        {"0.0", Errc::invalid_bool, 0, "22P02"},
        {"yes!", Errc::invalid_bool, 0, "22P02"},
        {"enabled", Errc::invalid_bool, 0, "22P02"},
        {"truee", Errc::invalid_bool, 0, "22P02"},
        {"falsee", Errc::invalid_bool, 0, "22P02"},
        {"noo", Errc::invalid_bool, 0, "22P02"},
        {"offline", Errc::invalid_bool, 0, "22P02"},
        {"yes no", Errc::invalid_bool, 0, "22P02"},
        {"t1", Errc::invalid_bool, 0, "22P02"},
        {"10", Errc::invalid_bool, 0, "22P02"},
        {"00", Errc::invalid_bool, 0, "22P02"},
        {"+1", Errc::invalid_bool, 0, "22P02"},
        {"of f", Errc::invalid_bool, 0, "22P02"},
        {"t\x01", Errc::invalid_bool, 0, "22P02"},  // a control byte is not whitespace
        {"ja", Errc::invalid_bool, 0, "22P02"},
        {"\xc3\xa9", Errc::invalid_bool, 0, "22P02"},
        {"T R U E", Errc::invalid_bool, 0, "22P02"},
        {"'t'", Errc::invalid_bool, 0, "22P02"},
        {" \n x", Errc::invalid_bool, 3, "22P02"},
    };
    for (const Invalid& bad : refused) {
        check_invalid(conn, "bool", bad, encode_bool_text);
    }
}

TEST_CASE("scalars: integer parsers accept what int2in/int4in/int8in accept",
          "[codecs][scalars][pg]") {
    auto conn = test::connect();
    const std::vector<std::string> common = {"0", "-0", "+0", "1", "-1", "+42", " 7", "7 ",
                                             "\t\n 12 \r", "000123", "-000123"};
    const std::vector<std::string> int2 = {"32767", "-32768", "+32767", "0032767"};
    const std::vector<std::string> int4 = {"2147483647", "-2147483648", "  -2147483648  "};
    const std::vector<std::string> int8 = {"9223372036854775807", "-9223372036854775808",
                                           "00000000000000000000009223372036854775807"};
    for (const std::string& input : common) {
        check_input_like_server(conn, "int2", input, encode_int2_text);
        check_input_like_server(conn, "int4", input, encode_int4_text);
        check_input_like_server(conn, "int8", input, encode_int8_text);
    }
    for (const std::string& input : int2) {
        check_input_like_server(conn, "int2", input, encode_int2_text);
    }
    for (const std::string& input : int4) {
        check_input_like_server(conn, "int4", input, encode_int4_text);
    }
    for (const std::string& input : int8) {
        check_input_like_server(conn, "int8", input, encode_int8_text);
    }
    std::int64_t value = 0;
    REQUIRE(parse_int64("-9223372036854775808", value).ok());
    CHECK(value == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("scalars: bad integers are refused where and as the server refuses them",
          "[codecs][scalars][pg]") {
    auto conn = test::connect();
    const std::vector<Invalid> syntax = {
        {"", Errc::invalid_integer, 0, "22P02"},
        {"   ", Errc::invalid_integer, 3, "22P02"},
        {"12a", Errc::invalid_integer, 2, "22P02"},
        {"--1", Errc::invalid_integer, 1, "22P02"},
        {"+-1", Errc::invalid_integer, 1, "22P02"},
        {"-", Errc::invalid_integer, 1, "22P02"},
        {"+", Errc::invalid_integer, 1, "22P02"},
        {"1e3", Errc::invalid_integer, 1, "22P02"},
        {"1.0", Errc::invalid_integer, 1, "22P02"},
        {"1 2", Errc::invalid_integer, 2, "22P02"},
        {"0x10", Errc::invalid_integer, 1, "22P02"},
        {"1_000", Errc::invalid_integer, 1, "22P02"},
        {"- 1", Errc::invalid_integer, 1, "22P02"},
        {"abc", Errc::invalid_integer, 0, "22P02"},
        {"١٢", Errc::invalid_integer, 0, "22P02"},  // Arabic-Indic digits are not ASCII digits
    };
    for (const Invalid& bad : syntax) {
        check_invalid(conn, "int2", bad, encode_int2_text);
        check_invalid(conn, "int4", bad, encode_int4_text);
        check_invalid(conn, "int8", bad, encode_int8_text);
    }
    const std::vector<std::pair<std::string, std::vector<Invalid>>> ranges = {
        {"int2",
         {{"32768", Errc::integer_out_of_range, 0, "22003"},
          {"-32769", Errc::integer_out_of_range, 0, "22003"},
          {"  +40000 ", Errc::integer_out_of_range, 2, "22003"},
          {"99999x", Errc::integer_out_of_range, 0, "22003"}}},
        {"int4",
         {{"2147483648", Errc::integer_out_of_range, 0, "22003"},
          {"-2147483649", Errc::integer_out_of_range, 0, "22003"}}},
        {"int8",
         {{"9223372036854775808", Errc::integer_out_of_range, 0, "22003"},
          {"-9223372036854775809", Errc::integer_out_of_range, 0, "22003"},
          {" 99999999999999999999999", Errc::integer_out_of_range, 1, "22003"}}},
    };
    for (const auto& [type, refused] : ranges) {
        for (const Invalid& bad : refused) {
            if (type == "int2") {
                check_invalid(conn, type, bad, encode_int2_text);
            } else if (type == "int4") {
                check_invalid(conn, type, bad, encode_int4_text);
            } else {
                check_invalid(conn, type, bad, encode_int8_text);
            }
        }
    }
}

TEST_CASE("scalars: float parsers accept what float4in/float8in accept, with the same bits",
          "[codecs][scalars][pg]") {
    auto conn = test::connect();
    const std::vector<std::string> inputs = {
        "0", "-0", "+0", "1.5", "-1.5", ".5", "5.", "1e5", "1E+5", "1e-5", "  2.5  ",
        "NaN", "nan", "NAN", "-NaN", "+nan", "Infinity", "-Infinity", "+Infinity", "infinity",
        "inf", "-inf", "+INF", "0.1", "0.30000000000000004", "3.4028235e38", "1e-45",
        "1.401298464324817e-45", "7.1e-46", "1e-40", "5e-324", "3e-324", "2.2250738585072014e-308",
        "1.7976931348623157e308", "123456789012345678901234567890", "0x10", "0x1.8p1",
        "-0x1p-2", "0X1P3", "1.00000000000000000000000000000000000000001",
        "16777217", "9007199254740993", "nan()", "4e-324", "0x1.fffffep127", "0x.8p1"};
    for (const std::string& input : inputs) {
        check_input_like_server(conn, "float8", input, encode_float8_text);
        check_input_like_server(conn, "float4", input, encode_float4_text);
    }
    double value = 0;
    REQUIRE(parse_double(" -Infinity ", value).ok());
    CHECK(value == -std::numeric_limits<double>::infinity());
}

TEST_CASE("scalars: malformed floats are refused where and as the server refuses them",
          "[codecs][scalars][pg]") {
    auto conn = test::connect();
    const std::vector<Invalid> syntax = {
        {"", Errc::invalid_float, 0, "22P02"},
        {"  ", Errc::invalid_float, 2, "22P02"},
        {"12a", Errc::invalid_float, 2, "22P02"},
        {"1e", Errc::invalid_float, 1, "22P02"},
        {"1e+", Errc::invalid_float, 1, "22P02"},
        {"--1", Errc::invalid_float, 1, "22P02"},
        {"+-1", Errc::invalid_float, 1, "22P02"},
        {"-", Errc::invalid_float, 1, "22P02"},
        {".", Errc::invalid_float, 0, "22P02"},
        {"e5", Errc::invalid_float, 0, "22P02"},
        {"1.5.", Errc::invalid_float, 3, "22P02"},
        {"1,5", Errc::invalid_float, 1, "22P02"},
        {"Infinit", Errc::invalid_float, 3, "22P02"},
        {"infx", Errc::invalid_float, 3, "22P02"},
        {"nanx", Errc::invalid_float, 3, "22P02"},
        {"0x", Errc::invalid_float, 1, "22P02"},
        {"1 2", Errc::invalid_float, 2, "22P02"},
        {"abc", Errc::invalid_float, 0, "22P02"},
        {"- 1", Errc::invalid_float, 1, "22P02"},
        {"1e5e5", Errc::invalid_float, 3, "22P02"},
        {"1.2.3", Errc::invalid_float, 3, "22P02"},
        {"0x1p", Errc::invalid_float, 3, "22P02"},
        {"++1", Errc::invalid_float, 1, "22P02"},
        {"1e--5", Errc::invalid_float, 1, "22P02"},
        {"1d5", Errc::invalid_float, 1, "22P02"},
        {"1.5f", Errc::invalid_float, 3, "22P02"},
        {"NaNa", Errc::invalid_float, 3, "22P02"},
        {"nan(abc", Errc::invalid_float, 3, "22P02"},
        {"Infinityy", Errc::invalid_float, 8, "22P02"},
        {"-Infinityx", Errc::invalid_float, 9, "22P02"},
        {"in", Errc::invalid_float, 0, "22P02"},
        {"na", Errc::invalid_float, 0, "22P02"},
        {"\xe2\x88\x9e", Errc::invalid_float, 0, "22P02"},  // ∞
        {"1 .5", Errc::invalid_float, 2, "22P02"},
        {"1e 5", Errc::invalid_float, 1, "22P02"},
        {".e1", Errc::invalid_float, 0, "22P02"},
        {"+.", Errc::invalid_float, 1, "22P02"},
        {"1..", Errc::invalid_float, 2, "22P02"},
        {"0b101", Errc::invalid_float, 1, "22P02"},
        {"1e5.5", Errc::invalid_float, 3, "22P02"},
        {"$1", Errc::invalid_float, 0, "22P02"},
        {"1%", Errc::invalid_float, 1, "22P02"},
        {"1-", Errc::invalid_float, 1, "22P02"},
        {"inf inity", Errc::invalid_float, 4, "22P02"},
        {"0xinf", Errc::invalid_float, 1, "22P02"},
        {"0xnan", Errc::invalid_float, 1, "22P02"},
        {"-0xInfinity", Errc::invalid_float, 2, "22P02"},
        {"0x-1", Errc::invalid_float, 1, "22P02"},
        {"0x+1", Errc::invalid_float, 1, "22P02"},
        {"0x.p1", Errc::invalid_float, 1, "22P02"},
        {"0xg", Errc::invalid_float, 1, "22P02"},
    };
    for (const Invalid& bad : syntax) {
        check_invalid(conn, "float8", bad, encode_float8_text);
        check_invalid(conn, "float4", bad, encode_float4_text);
    }
}

TEST_CASE("scalars: floats out of range are refused as the server refuses them",
          "[codecs][scalars][pg]") {
    auto conn = test::connect();
    const std::vector<Invalid> float8_range = {
        {"1e400", Errc::float_out_of_range, 0, "22003"},
        {"-1e400", Errc::float_out_of_range, 0, "22003"},
        {"1e-400", Errc::float_out_of_range, 0, "22003"},
        {" 2e-324", Errc::float_out_of_range, 1, "22003"},
        {"1e-324", Errc::float_out_of_range, 0, "22003"},
        {"1e309", Errc::float_out_of_range, 0, "22003"},
        {"-1e500000000000000000000", Errc::float_out_of_range, 0, "22003"},
        {"0x1p1024", Errc::float_out_of_range, 0, "22003"},
        {"-0x1p-99999", Errc::float_out_of_range, 0, "22003"},
    };
    for (const Invalid& bad : float8_range) {
        check_invalid(conn, "float8", bad, encode_float8_text);
    }
    const std::vector<Invalid> float4_range = {
        {"3.5e38", Errc::float_out_of_range, 0, "22003"},
        {"-1e39", Errc::float_out_of_range, 0, "22003"},
        {"1e-46", Errc::float_out_of_range, 0, "22003"},
        {"1e400", Errc::float_out_of_range, 0, "22003"},
        {"3.4028236e38", Errc::float_out_of_range, 0, "22003"},
        {"7e-46", Errc::float_out_of_range, 0, "22003"},
        {"0x1p128", Errc::float_out_of_range, 0, "22003"},
    };
    for (const Invalid& bad : float4_range) {
        check_invalid(conn, "float4", bad, encode_float4_text);
    }
}

TEST_CASE("scalars: checked integer encoders refuse what does not fit, buffer unchanged",
          "[codecs][scalars]") {
    ByteBuffer out;
    out.put_bytes(prefix);
    CHECK(encode_int2_checked(out, 32768).code == Errc::integer_out_of_range);
    CHECK(encode_int2_checked(out, -32769).code == Errc::integer_out_of_range);
    CHECK(encode_int4_checked(out, 2147483648LL).code == Errc::integer_out_of_range);
    CHECK(encode_int4_checked(out, -2147483649LL).code == Errc::integer_out_of_range);
    CHECK(encode_int8_checked(out, std::uint64_t{1} << 63).code == Errc::integer_out_of_range);
    CHECK(encode_int8_checked(out, std::numeric_limits<std::uint64_t>::max()).code ==
          Errc::integer_out_of_range);
    CHECK(out.view() == prefix);

    Status status = encode_int2_checked(out, 40000);
    CHECK(status.position == 0);
    CHECK_THAT(describe_error(status, "qty", "40000"),
               Catch::Equals("column \"qty\": value \"40000\" at byte 0: "
                             "integer out of range for the column's type"));

    REQUIRE(encode_int2_checked(out, -32768).ok());
    REQUIRE(encode_int4_checked(out, 2147483647).ok());
    REQUIRE(encode_int8_checked(out, (std::uint64_t{1} << 63) - 1).ok());
    CHECK(hex(out.view().substr(prefix.size())) ==
          "00 00 00 02 80 00 00 00 00 04 7f ff ff ff 00 00 00 08 7f ff ff ff ff ff ff ff");
}

TEST_CASE("scalars: encode_float4_checked refuses what the server's float8::float4 refuses",
          "[codecs][scalars][pg]") {
    auto conn = test::connect();
    const double threshold = 0x1.ffffffp+127;  // halfway between FLT_MAX and 2^128
    const std::vector<double> values = {
        0.0, -0.0, 1.5, 0.1, static_cast<double>(std::numeric_limits<float>::max()),
        std::nextafter(threshold, 0.0), threshold, -threshold, 1e39, -1e300,
        static_cast<double>(std::numeric_limits<float>::denorm_min()),
        0x1.0000000000001p-150,  // just above half of the smallest subnormal: rounds up
        0x1p-150,                // exactly half: ties to even, i.e. to zero
        1e-50, -1e-300, std::numeric_limits<double>::denorm_min()};
    for (double value : values) {
        INFO("value " << g17(value));
        ByteBuffer ours;
        ours.put_bytes(prefix);
        Status status = encode_float4_checked(ours, value);
        ServerInput server = server_input(conn, g17(value), "float8::float4");
        CHECK(status.ok() == server.accepted);
        if (status.ok() && server.accepted) {
            CHECK(hex(test::field_data(ours.view().substr(prefix.size()))) == hex(server.bytes));
        } else {
            CHECK(status.code == Errc::float_out_of_range);
            CHECK(server.sqlstate == "22003");
            CHECK(ours.view() == prefix);
        }
    }
    // NaN and ±Infinity are stored by float4 as they are (the cast would keep them too).
    for (double special : {std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()}) {
        ByteBuffer ours;
        REQUIRE(encode_float4_checked(ours, special).ok());
        std::string expected = std::isnan(special) ? "NaN" : special > 0 ? "Infinity" : "-Infinity";
        CHECK(test::round_trip(conn, "float4", ours.view(), table) == expected);
    }
}
