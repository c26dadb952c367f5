// Proves the time and timetz codecs (codecs/time_of_day.hpp) against a real PostgreSQL 15:
// - for each accepted spelling (1- and 2-digit fields, 0..9 fraction digits rounded like the
//   server, 24:00:00, second 60, every offset form, whitespace) our bytes equal time_send /
//   timetz_send for the same text and load back as the server's text;
// - bad text is rejected with Errc, byte position and reason, buffer unchanged, and the server
//   refuses it too (or, where our grammar is narrower, accepts it: marked);
// - mutated spellings: whatever we accept, the server accepts with the same bytes.
// The session runs with TimeZone UTC: a timetz without an offset is UTC for us and the server.

#include <catch2/catch.hpp>

#include <random>

#include "codecs/time_of_day.hpp"
#include "tests/codecs/scalar_checks.hpp"

using namespace pgingest;
using pgingest::test::Bad;

namespace {

Connection connect_utc() {
    Connection conn = test::connect();
    conn.exec("SET TimeZone = 'UTC'");
    return conn;
}

const std::vector<std::string> valid_times = {
    "00:00", "00:00:00", "12:00", "12:00:00", "1:2", "1:02:3", "23:59:59", "24:00", "24:00:00",
    "24:00:00.0000004", "23:59:60", "23:59:59.9999995", "23:59:59.9999994", "12:00:00.",
    "12:00:00.1", "12:00:00.12", "12:00:00.123", "12:00:00.1234", "12:00:00.12345",
    "12:00:00.123456", "12:00:00.1234565", "12:00:00.1234575", "12:00:00.123456499",
    "00:00:00.000001", "  08:30  ", "\t08:30:15\n", "12:00:00.000000000", "07:05:03.5",
    // AM/PM and a date before the time, as DecodeTimeOnly reads them
    "11:00 PM", "11:00 pm", "11:00PM", "12:00 AM", "12:30:00 am", "0:30 PM", "12:00 PM",
    "12:01 PM", "11:00:00.5 am", "12:00:00.5 AM", "2024-01-02 03:04:05", "2024-01-02  03:04",
    "2024-01-02 11:00 PM", "  2024-01-02 03:04  "};

const std::vector<std::string> valid_timetz = {
    "12:00+05", "12:00:00-05", "12:00+0530", "12:00+05:30", "12:00-05:30:15", "12:00+15:59",
    "12:00-15:59:59", "12:00Z", "12:00z", "12:00 +01", "12:00:00.5 -03:30", "00:00+00",
    "11:00 PM +02", "2024-01-02 03:04:05+00", "2024-01-02 03:04:05 -05:30",
    "24:00:00+00", "24:00:00-15", "23:59:60+01", "12:00", " 12:00:00.123456+14 ",
    "12:00:00.1234565+00"};

}  // namespace

TEST_CASE("time: bytes equal time_send and round trips give the server's text",
          "[codecs][pg][time]") {
    auto conn = connect_utc();
    test::check_against_server(conn, "time", encode_time_text, valid_times);
    // An offset is checked and ignored, as time_in does.
    test::check_against_server(conn, "time", encode_time_text, valid_timetz);
}

TEST_CASE("timetz: bytes equal timetz_send (zone west of UTC) and round trips",
          "[codecs][pg][time]") {
    auto conn = connect_utc();
    test::check_against_server(conn, "timetz", encode_timetz_text, valid_timetz);
    test::check_against_server(conn, "timetz", encode_timetz_text, valid_times);
}

TEST_CASE("time/timetz: parsers yield the documented native values", "[codecs][time]") {
    std::int64_t us = 0;
    REQUIRE(parse_time("24:00:00", us).ok());
    CHECK(us == 86400000000);
    REQUIRE(parse_time("01:02:03.25", us).ok());
    CHECK(us == 3723250000);
    TimeTz value;
    REQUIRE(parse_timetz("12:00+05:30", value).ok());
    CHECK(value == TimeTz{43200000000, -19800});
    REQUIRE(parse_timetz("12:00-01", value).ok());
    CHECK(value.zone_s == 3600);
    ByteBuffer out;
    encode_timetz(out, TimeTz{1, -1});
    CHECK(test::hex(out.view()) ==
          "00 00 00 0c 00 00 00 00 00 00 00 01 ff ff ff ff");
    CHECK(out.size() == timetz_encoded_size);
}

TEST_CASE("time/timetz: bad text is rejected with reason and position, buffer unchanged",
          "[codecs][pg][time]") {
    auto conn = connect_utc();
    const std::vector<Bad> bad = {
        {"", Errc::invalid_time, 0, "22007"},
        {"   ", Errc::invalid_time, 3, "22007"},
        {"12", Errc::invalid_time, 2, "22007"},
        {"12:", Errc::invalid_time, 3, nullptr},  // the server reads 12:00,
        {"12:00:", Errc::invalid_time, 6, nullptr},  // the server reads 12:00:00,
        {"ab:cd", Errc::invalid_time, 0, "22007"},
        {"25:00", Errc::time_field_out_of_range, 0, "22008"},
        {"12:60", Errc::time_field_out_of_range, 3, "22008"},
        {"12:00:61", Errc::time_field_out_of_range, 6, "22008"},
        {"24:00:01", Errc::time_field_out_of_range, 0, "22008"},
        {"24:01", Errc::time_field_out_of_range, 0, "22008"},
        {"23:59:60.5", Errc::time_field_out_of_range, 0, "22008"},
        {"24:00:00.000001", Errc::time_field_out_of_range, 0, "22008"},
        {"12:00+16", Errc::time_zone_out_of_range, 5, "22009"},
        {"12:00-99:00", Errc::time_zone_out_of_range, 5, "22009"},
        {"12:00+05:60", Errc::time_zone_out_of_range, 5, "22009"},
        {"12:00+5x", Errc::invalid_time, 6, "22007"},
        {"12:00:00 junk", Errc::invalid_time, 9, "22007"},
        {"12:00:00+05 x", Errc::invalid_time, 12, "22007"},
        {"12:00:00.1.2", Errc::invalid_time, 10, "22007"},
        {"13:00 PM", Errc::time_field_out_of_range, 6, "22008"},
        {"24:00 pm", Errc::time_field_out_of_range, 6, "22008"},
        {"11:00 p", Errc::invalid_time, 6, "22007"},
        {"11:00 PMx", Errc::invalid_time, 6, "22007"},
        {"11:00 +02 PM", Errc::invalid_time, 10, nullptr},   // narrower: AM/PM before offset
        {"PM 11:00", Errc::invalid_time, 0, nullptr},        // narrower: AM/PM after the time
        {"2024-02-30 03:04", Errc::invalid_time, 0, "22008"},
        {"2024-01-02", Errc::invalid_time, 2, "22007"},
        {"2024-01-02 x", Errc::invalid_time, 11, "22007"},
        {"2024-1-2 03:04", Errc::invalid_time, 0, nullptr},  // narrower: a 2-digit month
        {"allballs", Errc::invalid_time, 0, nullptr},        // narrower: no special words
        {"12:30.5", Errc::invalid_time, 5, nullptr},         // MM:SS.frac is not taken
        {"123:00", Errc::invalid_time, 2, "22008"},
        {"12:00 EST", Errc::invalid_time, 6, nullptr},       // narrower: no zone names
        {std::string("12:00\0", 6), Errc::invalid_time, 5, nullptr},
    };
    test::check_rejected(conn, "time", encode_time_text, bad);
    test::check_rejected(conn, "timetz", encode_timetz_text,
                         {{"12:00+16", Errc::time_zone_out_of_range, 5, "22009"},
                          {"25:00+01", Errc::time_field_out_of_range, 0, "22008"},
                          {"12:00+", Errc::invalid_time, 6, "22007"}});
}

TEST_CASE("time/timetz: mutated spellings we accept are accepted identically by the server",
          "[codecs][pg][time]") {
    std::uint64_t seed = std::random_device{}();
    std::printf("time mutation seed: %llu\n", static_cast<unsigned long long>(seed));
    INFO("seed: " << seed);
    std::mt19937_64 random(seed);
    auto conn = connect_utc();
    std::vector<std::string> seeds = valid_times;
    seeds.insert(seeds.end(), valid_timetz.begin(), valid_timetz.end());
    std::string_view alphabet = "0123456789:.+- Zz\t59apmAPM";
    CHECK(test::check_mutations(conn, "time", encode_time_text, seeds, alphabet, random) > 100);
    CHECK(test::check_mutations(conn, "timetz", encode_timetz_text, seeds, alphabet, random) >
          100);
}
