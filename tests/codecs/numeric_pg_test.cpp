// Proves the numeric codec (codecs/numeric.hpp) against a real PostgreSQL 15 server:
// - for every accepted spelling (signs, leading zeros, ".5", "5.", exponents, whitespace, NaN,
//   the infinity words, 1000-digit values, the largest weight and dscale) our field bytes equal
//   the server's numeric_send bytes for the same text, except the one documented difference
//   (±Infinity: the server sends dscale 0x20, we send 0);
// - the fields load through binary COPY and read back as the server's own text for that input;
// - a seeded random corpus of decimal strings matches numeric_send byte for byte (one COPY out)
//   and round-trips (one COPY in);
// - mutated spellings (one COPY): we reject exactly what the server rejects, else same bytes;
// - bad input is rejected with the right Errc and byte position, describe_error names column,
//   value and reason, the buffer is unchanged, and the server rejects the same text too.

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "codecs/numeric.hpp"
#include "engine/errors.hpp"
#include "tests/support/mutate.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

std::string encode_ok(std::string_view text) {
    ByteBuffer out;
    out.reserve(numeric_text_encoded_size_max(text.size()));
    std::size_t capacity = out.capacity();
    Status status = encode_numeric_text(out, text);
    INFO("text: " << text);
    REQUIRE(status.ok());
    CHECK(out.capacity() == capacity);  // encoded_size_max was enough: no growth
    return std::string(out.view());
}

std::string sql_array(const std::vector<std::string>& texts) {
    std::string sql = "array[";
    for (std::size_t i = 0; i < texts.size(); i++) {
        sql += (i == 0 ? "'" : ",'") + texts[i] + "'";
    }
    return sql + "]::text[]";
}

const std::vector<std::string>& valid_texts() {
    static const std::vector<std::string> texts = {
        "0", "-0", "0.00", "-0.00", "00000", "1234.5678", "-12345678.9", "0.0001", "10000",
        "1e20", "1.5e-10", "000123.4500", "+5", ".5", "5.", "-.5", "+.5", "5.e3", "1e+5",
        "1E5", "1e-5", "1e05", "1e 5", "1.23456e2", "12345e-2", "0e100000000", "0e-16383",
        "  42  ", "\t7\n", "9999", "99999999", "100000000", "0.1", "0.12345", "123456789012.5",
        "1e-16383", "-1e-16383", "1e131071", "-9.999e131071", "1.5e-3", "0.000000000001",
        "3.14159265358979323846264338327950288419716939937510", "NaN", "nan", "NAN",
        "9223372036854775807", "-9223372036854775808", "18446744073709551616",
        std::string(1000, '7'), "0." + std::string(999, '0') + "1", "1." + std::string(16383, '0'),
        "0." + std::string(16383, '0'), "-" + std::string(500, '9') + "." + std::string(500, '9'),
    };
    return texts;
}

}  // namespace

TEST_CASE("numeric: bytes equal numeric_send and round trips give the server's text",
          "[codecs][pg][numeric]") {
    auto conn = test::connect();
    for (const std::string& text : valid_texts()) {
        INFO("text: " << text.substr(0, 80));
        std::string ours = encode_ok(text);
        std::string literal = "'" + text + "'::numeric";
        CHECK(hex(test::field_data(ours)) == hex(test::server_field(conn, literal)));
        CHECK(test::round_trip(conn, "numeric", ours, "numeric_rt") ==
              conn.query_value("SELECT (" + literal + ")::text"));
    }
}

TEST_CASE("numeric: infinities differ from numeric_send only in the documented dscale",
          "[codecs][pg][numeric]") {
    auto conn = test::connect();
    const std::pair<std::string, std::string> cases[] = {
        {"Infinity", "Infinity"}, {"+Infinity", "Infinity"}, {"-Infinity", "-Infinity"},
        {"inf", "Infinity"},      {"+INF", "Infinity"},      {"-inf", "-Infinity"},
        {" infinity ", "Infinity"},
    };
    for (const auto& [text, expected] : cases) {
        INFO("text: " << text);
        std::string ours = encode_ok(text);
        std::string server = test::server_field(conn, "'" + text + "'::numeric");
        // numeric_send writes dscale 0x0020 for ±Infinity; we write 0 (FORMATS.md §2.2).
        REQUIRE(server.size() == 8);
        CHECK(server.substr(6) == std::string("\x00\x20", 2));
        server[7] = '\0';
        CHECK(hex(test::field_data(ours)) == hex(server));
        CHECK(test::round_trip(conn, "numeric", ours, "numeric_rt") == expected);
    }
}

TEST_CASE("numeric: worked examples of FORMATS.md §2.2", "[codecs][numeric]") {
    CHECK(hex(encode_ok("1234.5678")) == "00 00 00 0c 00 02 00 00 00 00 00 04 04 d2 16 2e");
    CHECK(hex(encode_ok("-12345678.9")) ==
          "00 00 00 0e 00 03 00 01 40 00 00 01 04 d2 16 2e 23 28");
    CHECK(hex(encode_ok("0.0001")) == "00 00 00 0a 00 01 ff ff 00 00 00 04 00 01");
    CHECK(hex(encode_ok("NaN")) == "00 00 00 08 00 00 00 00 c0 00 00 00");
    CHECK(hex(encode_ok("-inf")) == "00 00 00 08 00 00 00 00 f0 00 00 00");
}

TEST_CASE("numeric: int64 and double encoders equal numeric_send", "[codecs][pg][numeric]") {
    auto conn = test::connect();
    const std::int64_t integers[] = {0, 1, -1, 9999, 10000, -10000, 123456789, 100000000,
                                     std::numeric_limits<std::int64_t>::max(),
                                     std::numeric_limits<std::int64_t>::min()};
    for (std::int64_t value : integers) {
        INFO("value: " << value);
        ByteBuffer out;
        encode_numeric(out, value);
        CHECK(out.size() <= numeric_int64_encoded_size_max);
        CHECK(hex(test::field_data(out.view())) ==
              hex(test::server_field(conn, std::to_string(value) + "::numeric")));
    }
    const std::pair<double, std::string> doubles[] = {
        {0.0, "0"}, {-0.0, "0"}, {0.1, "0.1"}, {-2.5, "-2.5"}, {1e20, "1e20"},
        {1.5e-10, "1.5e-10"}, {123456.789, "123456.789"}, {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e308"},
        {std::numeric_limits<double>::quiet_NaN(), "NaN"},
    };
    for (const auto& [value, text] : doubles) {
        INFO("value: " << text);
        ByteBuffer out;
        encode_numeric(out, value);
        CHECK(out.size() <= numeric_double_encoded_size_max);
        CHECK(hex(test::field_data(out.view())) ==
              hex(test::server_field(conn, "'" + text + "'::numeric")));
    }
}

TEST_CASE("numeric: seeded random decimal strings equal numeric_send in one COPY",
          "[codecs][pg][numeric]") {
    std::uint64_t seed = std::random_device{}();
    std::printf("numeric random test seed: %llu\n", static_cast<unsigned long long>(seed));
    INFO("seed: " << seed);
    std::mt19937_64 random(seed);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    std::vector<std::string> texts;
    for (int i = 0; i < 3000; i++) {
        std::string text;
        if (char sign = "  +-"[pick(4)]; sign != ' ') {
            text += sign;
        }
        int int_digits = pick(4) == 0 ? 0 : pick(30);
        for (int k = 0; k < int_digits; k++) {
            text += static_cast<char>('0' + (pick(3) == 0 ? 0 : pick(10)));
        }
        int frac_digits = pick(30);
        if (int_digits == 0 || pick(2) == 0) {
            text += '.';
            frac_digits = int_digits == 0 ? 1 + frac_digits : frac_digits;
        } else {
            frac_digits = 0;
        }
        for (int k = 0; k < frac_digits; k++) {
            text += static_cast<char>('0' + (pick(3) == 0 ? 0 : pick(10)));
        }
        if (pick(3) == 0) {
            text += "eE"[pick(2)] + std::to_string(pick(81) - 40);
        }
        texts.push_back(text);
    }
    auto conn = test::connect();
    std::string stream = conn.copy_out(
        "COPY (SELECT x::numeric FROM unnest(" + sql_array(texts) +
        ") WITH ORDINALITY AS t(x, n) ORDER BY n) TO STDOUT (FORMAT binary)");
    std::vector<std::optional<std::string>> server = test::stream_fields(stream);
    REQUIRE(server.size() == texts.size());
    ByteBuffer copy;
    copy.put_bytes("PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0", 19);
    for (std::size_t i = 0; i < texts.size(); i++) {
        INFO("text: " << texts[i]);
        std::string ours = encode_ok(texts[i]);
        REQUIRE(server[i].has_value());
        REQUIRE(hex(test::field_data(ours)) == hex(*server[i]));
        copy.put_u16(2);
        copy.put_i32(4);
        copy.put_i32(static_cast<std::int32_t>(i));
        copy.put_bytes(ours);
    }
    conn.exec("DROP TABLE IF EXISTS numeric_random; "
              "CREATE TABLE numeric_random (n int4, v numeric)");
    REQUIRE(conn.copy_in("COPY numeric_random FROM STDIN (FORMAT binary)", copy.view()) ==
            texts.size());
    CHECK(conn.query_value("SELECT count(*) FROM numeric_random r JOIN unnest(" +
                           sql_array(texts) + ") WITH ORDINALITY AS t(x, n) ON r.n + 1 = t.n "
                           "WHERE r.v::text <> x::numeric::text") == "0");
}

TEST_CASE("numeric: bad text is rejected with reason and position, buffer unchanged",
          "[codecs][pg][numeric]") {
    struct Bad {
        std::string text;
        Errc code;
        std::uint32_t position;
        const char* sqlstate;
    };
    const Bad cases[] = {
        {"1.2.3", Errc::invalid_numeric, 3, "22P02"},
        {"", Errc::invalid_numeric, 0, "22P02"},
        {"   ", Errc::invalid_numeric, 3, "22P02"},
        {"--1", Errc::invalid_numeric, 1, "22P02"},
        {"+-1", Errc::invalid_numeric, 1, "22P02"},
        {"1e", Errc::invalid_numeric, 2, "22P02"},
        {"1e+", Errc::invalid_numeric, 3, "22P02"},
        {"1.e", Errc::invalid_numeric, 3, "22P02"},
        {"abc", Errc::invalid_numeric, 0, "22P02"},
        {".", Errc::invalid_numeric, 1, "22P02"},
        {"-", Errc::invalid_numeric, 1, "22P02"},
        {"+.e5", Errc::invalid_numeric, 2, "22P02"},
        {"1e5x", Errc::invalid_numeric, 3, "22P02"},
        {"1 e5", Errc::invalid_numeric, 2, "22P02"},
        {"1 2", Errc::invalid_numeric, 2, "22P02"},
        {"1_000", Errc::invalid_numeric, 1, "22P02"},
        {"0x10", Errc::invalid_numeric, 1, "22P02"},
        {"1,5", Errc::invalid_numeric, 1, "22P02"},
        {"+NaN", Errc::invalid_numeric, 1, "22P02"},
        {"NaNa", Errc::invalid_numeric, 3, "22P02"},
        {"infin", Errc::invalid_numeric, 3, "22P02"},
        {"Infinity x", Errc::invalid_numeric, 9, "22P02"},
        {"1e131072", Errc::numeric_out_of_range, 0, "22003"},
        {"-1e131072", Errc::numeric_out_of_range, 0, "22003"},
        {"99999e131068", Errc::numeric_out_of_range, 0, "22003"},
        {"1e-16384", Errc::numeric_out_of_range, 0, "22003"},
        {"0e-16384", Errc::numeric_out_of_range, 0, "22003"},
        {" 0." + std::string(16384, '0'), Errc::numeric_out_of_range, 1, "22003"},
        {"1e1073741823", Errc::numeric_out_of_range, 1, "22003"},
        {"0e-1073741823", Errc::numeric_out_of_range, 1, "22003"},
        {"1e99999999999999999999999", Errc::numeric_out_of_range, 1, "22003"},
    };
    auto conn = test::connect();
    for (const Bad& bad : cases) {
        INFO("text: " << bad.text.substr(0, 40));
        ByteBuffer out;
        out.put_bytes("keep");
        Status status = encode_numeric_text(out, bad.text);
        CHECK(status.code == bad.code);
        CHECK(status.position == bad.position);
        CHECK(out.view() == "keep");
        std::string message = describe_error(status, "amount", bad.text);
        CHECK_THAT(message, Catch::Contains("column \"amount\""));
        CHECK_THAT(message, Catch::Contains(errc_reason(bad.code)));
        CHECK_THAT(message, Catch::Contains(bad.text.substr(0, 20)));
        try {
            (void)conn.query_value("SELECT '" + bad.text + "'::numeric");
            FAIL("the server accepted it");
        } catch (const ServerError& error) {
            CHECK(error.sqlstate() == bad.sqlstate);
        }
    }
}

TEST_CASE("numeric: mutated spellings give our error exactly when the server errs",
          "[codecs][pg][numeric]") {
    std::uint64_t seed = std::random_device{}();
    std::printf("numeric mutation test seed: %llu\n", static_cast<unsigned long long>(seed));
    INFO("seed: " << seed);
    std::mt19937_64 random(seed);
    const std::vector<std::string> seeds = {"-1234.5678e-3", "+.5", "5.", " 1e+5 ", "NaN",
                                            "-Infinity", "inf", "000123.4500", "1e131071",
                                            "1e-16383", "0e-16383"};
    const std::string_view alphabet = "0123456789+-.eE \tnaNifIty";
    std::vector<std::string> texts = test::mutated_texts(seeds, alphabet, 3000, random);
    auto conn = test::connect();
    conn.exec("CREATE OR REPLACE FUNCTION pg_temp.try_numeric(t text) RETURNS numeric "
              "LANGUAGE plpgsql AS $$ BEGIN RETURN t::numeric; "
              "EXCEPTION WHEN others THEN RETURN NULL; END $$");
    std::string array = "array[";
    for (std::size_t i = 0; i < texts.size(); i++) {
        array += (i == 0 ? "$q$" : ",$q$") + texts[i] + "$q$";
    }
    std::string stream = conn.copy_out("COPY (SELECT pg_temp.try_numeric(x) FROM unnest(" +
                                       array + "]::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n)"
                                       " TO STDOUT (FORMAT binary)");
    std::size_t at = 19;
    std::size_t accepted = 0;
    for (const std::string& text : texts) {
        INFO("text: [" << text.substr(0, 60) << "]");
        REQUIRE(test::read_i32(stream, at + 2) >= -1);
        auto length = test::read_i32(stream, at + 2);
        at += 6;
        ByteBuffer ours;
        Status status = encode_numeric_text(ours, text);
        REQUIRE(status.ok() == (length >= 0));
        if (length < 0) {
            continue;
        }
        accepted++;
        std::string server(stream.substr(at, static_cast<std::size_t>(length)));
        at += static_cast<std::size_t>(length);
        if (server.size() == 8 && server.substr(6) == std::string("\x00\x20", 2)) {
            server[7] = '\0';  // ±Infinity: the documented dscale difference
        }
        CHECK(hex(test::field_data(ours.view())) == hex(server));
    }
    std::printf("numeric mutations: %zu of %zu accepted\n", accepted, texts.size());
}
