// Proves the date/time codecs (codecs/datetime.hpp) against a real PostgreSQL 15 server:
// - for each accepted spelling of date, timestamp, timestamptz and interval (BC years, the
//   2000 and 1970 epochs, the range ends, ±infinity, 0..9 fraction digits, every offset form,
//   leap seconds, 24:00, ISO 8601 durations with fractions and negative parts, H:MM:SS) our
//   bytes equal the server's send bytes for the same text and load back as the server's text;
// - native encoders and the Unix-epoch helpers write the documented bytes and range-check;
// - seeded random timestamptz, date and interval texts match the server, one COPY per type;
// - mutated spellings (one COPY per type): whatever we accept, the server accepts with the
//   same bytes;
// - bad text is rejected with Errc, byte position and a describe_error naming column, value
//   and reason, leaves the buffer unchanged, and the server rejects it too (where it does).
// The session runs with TimeZone UTC and DateStyle ISO: a timestamptz without an offset is
// UTC for us, and for the server only under that setting.

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "codecs/datetime.hpp"
#include "engine/errors.hpp"
#include "tests/support/mutate.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 1, 1) == unix_to_pg_days);
static_assert(days_from_civil(-4713, 11, 24) - unix_to_pg_days == date_min);
static_assert(days_from_civil(5874897, 12, 31) - unix_to_pg_days == date_max);
static_assert(days_from_civil(294277, 1, 1) - unix_to_pg_days ==
              timestamp_end / 86400000000);

Connection connect_utc() {
    Connection conn = test::connect();
    conn.exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'");
    return conn;
}

using Encoder = Status (*)(ByteBuffer&, std::string_view);

std::string encode_ok(Encoder encoder, std::string_view text) {
    ByteBuffer out;
    Status status = encoder(out, text);
    INFO("text: " << text << " status " << static_cast<int>(status.code) << " at "
                  << status.position);
    REQUIRE(status.ok());
    return std::string(out.view());
}

// Bytes equal the server's send bytes and the round trip reads back as the server's text.
void check_against_server(Connection& conn, const char* type, Encoder encoder,
                          const std::vector<std::string>& texts) {
    for (const std::string& text : texts) {
        INFO(type << " text: " << text);
        std::string ours = encode_ok(encoder, text);
        std::string literal = "'" + text + "'::" + type;
        CHECK(hex(test::field_data(ours)) == hex(test::server_field(conn, literal)));
        CHECK(test::round_trip(conn, type, ours, "datetime_rt") ==
              conn.query_value("SELECT (" + literal + ")::text"));
    }
}

// Differential test over mutated spellings: every text we accept, the server accepts with the
// same bytes (it may accept more: our grammar is narrower). One COPY; the server's rejections
// come back as NULL through an exception-catching cast.
void check_mutations(Connection& conn, const char* type, Encoder encoder,
                     const std::vector<std::string>& seeds, std::string_view alphabet,
                     std::mt19937_64& random) {
    std::vector<std::string> texts = test::mutated_texts(seeds, alphabet, 3000, random);
    conn.exec("DROP FUNCTION IF EXISTS pg_temp.try_cast(text)");
    conn.exec(std::string("CREATE FUNCTION pg_temp.try_cast(t text) RETURNS ") + type +
              " LANGUAGE plpgsql AS $$ BEGIN RETURN t::" + type +
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
    std::size_t narrower = 0;
    for (std::size_t i = 0; i < texts.size(); i++) {
        ByteBuffer out;
        if (!encoder(out, texts[i]).ok()) {
            CHECK(out.empty());
            if (server[i].has_value() && narrower++ < 5) {
                std::printf("%s: the server accepts [%s], we do not\n", type, texts[i].c_str());
            }
            continue;
        }
        accepted++;
        INFO(type << " text: [" << texts[i] << "]");
        CHECK(server[i].has_value());  // we accepted it: the server must too
        if (server[i].has_value()) {
            CHECK(hex(test::field_data(out.view())) == hex(*server[i]));
        }
    }
    std::printf("%s mutations: %zu of %zu accepted by us, %zu more by the server\n", type,
                accepted, texts.size(), narrower);
}

// Our bytes for every text equal the server's for `x::type` over the same texts, in one COPY.
void check_corpus(Connection& conn, const char* type, Encoder encoder,
                  const std::vector<std::string>& texts) {
    std::string array = "array[";
    for (std::size_t i = 0; i < texts.size(); i++) {
        array += (i == 0 ? "'" : ",'") + texts[i] + "'";
    }
    array += "]::text[]";
    std::vector<std::optional<std::string>> server = test::stream_fields(conn.copy_out(
        "COPY (SELECT x::" + std::string(type) + " FROM unnest(" + array +
        ") WITH ORDINALITY AS t(x, n) ORDER BY n) TO STDOUT (FORMAT binary)"));
    REQUIRE(server.size() == texts.size());
    for (std::size_t i = 0; i < texts.size(); i++) {
        INFO(type << " text: " << texts[i]);
        REQUIRE(server[i].has_value());
        REQUIRE(hex(test::field_data(encode_ok(encoder, texts[i]))) == hex(*server[i]));
    }
}

struct Bad {
    std::string text;
    Errc code;
    std::uint32_t position;
    const char* sqlstate;  // nullptr: the server accepts it, only our narrower grammar rejects
};

void check_rejected(Connection& conn, const char* type, Encoder encoder,
                    const std::vector<Bad>& cases) {
    for (const Bad& bad : cases) {
        INFO(type << " text: " << bad.text);
        ByteBuffer out;
        out.put_bytes("keep");
        Status status = encoder(out, bad.text);
        CHECK(status.code == bad.code);
        CHECK(status.position == bad.position);
        CHECK(out.view() == "keep");
        std::string message = describe_error(status, "created_at", bad.text);
        CHECK_THAT(message, Catch::Contains("column \"created_at\""));
        CHECK_THAT(message, Catch::Contains("value \"" + bad.text.substr(0, 40)));
        CHECK_THAT(message, Catch::Contains(errc_reason(bad.code)));
        if (bad.sqlstate == nullptr) {
            CHECK_NOTHROW(conn.query_value("SELECT '" + bad.text + "'::" + type));
            continue;
        }
        try {
            (void)conn.query_value("SELECT '" + bad.text + "'::" + type);
            FAIL("the server accepted it");
        } catch (const ServerError& error) {
            CHECK(error.sqlstate() == bad.sqlstate);
        }
    }
}

}  // namespace

TEST_CASE("date: bytes equal date_send and round trips give the server's text",
          "[codecs][pg][datetime]") {
    auto conn = connect_utc();
    check_against_server(conn, "date", encode_date_text,
                         {"2000-01-01", "1970-01-01", "1999-12-31", "2024-02-29", "1600-02-29",
                          "1900-03-01", "0001-01-01", "0001-12-31 BC", "0001-01-01 BC",
                          "0005-02-29 BC", "4714-11-24 BC", "5874897-12-31", "10000-01-01",
                          "infinity", "-infinity", "INFINITY", "  2024-01-01  ",
                          "2024-01-01 AD", "2024-01-01 bc", "\t2024-06-15\n",
                          // a timestamp's date, as date_in keeps it
                          "2024-01-02 03:04:05", "2024-01-02T23:30:00-05:00",
                          "2024-01-02 24:00:00", "2024-01-02 23:59:60", "2024-01-02 12:00 BC",
                          "2024-01-02T03:04:05.5Z", "2024-01-02 03:04:05+00",
                          "200000-01-02 00:00"});
}

TEST_CASE("timestamptz: bytes equal timestamptz_send and round trips give the server's text",
          "[codecs][pg][datetime]") {
    auto conn = connect_utc();
    check_against_server(
        conn, "timestamptz", encode_timestamptz_text,
        {"2000-01-01 00:00:00Z", "1970-01-01T00:00:00Z", "2024-05-01T12:00:00.5Z",
         "2024-05-01T12:00:00.1+00", "2024-05-01T12:00:00.12Z", "2024-05-01T12:00:00.123Z",
         "2024-05-01T12:00:00.1234Z", "2024-05-01T12:00:00.12345Z",
         "2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00.1234565Z",
         "2024-05-01T12:00:00.1234575Z", "2024-05-01T12:00:00.1234564999Z",
         "2024-05-01T23:59:59.9999999Z", "2024-05-01 12:00:00.", "2024-05-01t12:00:00z",
         "2024-05-01 12:00:00+05", "2024-05-01 12:00:00-05", "2024-05-01 12:00:00+0530",
         "2024-05-01 12:00:00+05:30", "2024-05-01 12:00:00-05:30:15",
         "2024-05-01 12:00:00+15:59", "2024-05-01 12:00:00 +05", "2024-05-01 12:00:00 Z",
         "2024-05-01 12:00", "2024-05-01T12:00+01", "2024-05-01", "2024-05-01   08:00:00",
         "2024-12-31 23:59:60Z", "2024-06-30 12:59:60", "2024-05-01 24:00:00",
         "1999-12-31 24:00:00", "1969-07-20 20:17:40Z", "1900-01-01 00:00:00",
         "0001-01-01 00:00:00 BC", "0044-03-15 12:00:00+01 BC", "2024-05-01 12:00:00Z BC",
         "4714-11-24 00:00:00+00 BC", "294276-12-31 23:59:59.999999+00", "12024-01-01 00:00:00",
         "infinity", "-infinity", " Infinity ", " 2024-05-01 12:00:00Z "});
}

TEST_CASE("timestamp: an offset is checked and then ignored, like timestamp_in",
          "[codecs][pg][datetime]") {
    auto conn = connect_utc();
    check_against_server(
        conn, "timestamp", encode_timestamp_text,
        {"2000-01-01 00:00:00", "1970-01-01T00:00:00", "2024-05-01 12:00:00+05",
         "2024-05-01T12:00:00Z", "2024-05-01T12:00:00-15:00", "2024-05-01T12:00:00.654321",
         "2024-05-01 12:00:00.9999995", "2024-05-01", "0001-01-01 BC", "4714-11-24 00:00:00 BC",
         "294276-12-31 23:59:59.999999", "294276-12-31 23:59:59.999999-01", "infinity",
         "-infinity", "2024-02-29 23:59:60"});
    std::int64_t with_offset = 0;
    std::int64_t without = 0;
    REQUIRE(parse_timestamp("2024-05-01 12:00:00+05", with_offset).ok());
    REQUIRE(parse_timestamp("2024-05-01 12:00:00", without).ok());
    CHECK(with_offset == without);
}

TEST_CASE("interval: bytes equal interval_send and round trips give the server's text",
          "[codecs][pg][datetime]") {
    auto conn = connect_utc();
    check_against_server(
        conn, "interval", encode_interval_text,
        {"P1Y2M3DT4H5M6.5S", "P-1Y-2M", "PT", "P1DT", "PT1.5H", "P1.5Y", "P0.5M", "P1.5W",
         "P1.5D", "PT6.1234567S", "PT-0.0000005S", "PT0.0000015S", "P1W2D", "PT1M", "P1M",
         "PT1e3S", "P.5D", "P2147483647M", "P178956970Y", "PT2562047788H", "P1D1D", "P-1.25Y",
         "PT-1.5M", "P-.5W", "P0.3333333Y", "P1Y-13M", "PT36H", "PT0.000001S",
         "01:02:03", "-01:02:03", "100:00:00", "12:34.5", "01:02", "01:02:60",
         "01:02:03.1234567", " 01:02:03 ", "-1:02:03", "+01:02:03", "01:02:03.", "1:2:3",
         "2562047788:00:00", "-00:00:00.5", "00:00:00"});
}

// PostgreSQL's own style and ISO 8601's alternative format, as interval_in reads them
// (DecodeInterval): each spelling's bytes equal the server's for the same text.
TEST_CASE("interval: PostgreSQL's own style is read as interval_in reads it",
          "[codecs][pg][datetime]") {
    auto conn = connect_utc();
    check_against_server(
        conn, "interval", encode_interval_text,
        {"1 day", "3 hours", "1 day 02:03:04", "-1 day +02:00", "1 year 2 mons",
         "@ 1 minute ago", "P1Y2M3DT4H5M6S", "P0001-02-03T04:05:06", "P00010203T040506",
         "02:03", "1.5 days", "1.5 years", "1 mon 2.5 days", "0.5 weeks", "1.5 mons",
         "1 y", "1 yr", "2 years", "1 mon", "3 mons", "1 w", "2 week", "1 d", "1 h", "1 hr",
         "2 hrs", "1 m", "1 min", "2 mins", "1 minute", "1 s", "1 sec", "2 secs", "1 second",
         "5 ms", "5 msec", "5 milliseconds", "7 us", "7 usec", "7 microseconds", "1 decade",
         "2 centuries", "1 millennium", "1 DAY", "1 Day 2 Hours", "1d2h3m", "1dec2 s",
         "1d 2", "1 day 2", "-1-2", "1-11", "1-", "+1 day", "- 1 day", "1 day ago",
         "1 day ago ago", "ago 1 day", "1 day ago 2 hours", "1 hour ago 1 day", ".5", "1.",
         "1. day", "@1day", "1 day, 2 hours", "1 day quarter", "1 millisecondsxyz",
         "02:00 1.5 days", "1.5 days 02:00", "1:", "1::2", "-1 days -02:03:04.5",
         "1 year -1 mons", "-2147483648 days", "2147483647 mons", "-178956970 years",
         "10000000000000 us", "P1T", "P1Y2Y", "P1", "P0001-02", "P0001-02-03", "PT01:02",
         "PT010203", "PT0102", "P1-2T3", "P20010203.5", "1 hour 30 minutes", "90 min",
         "1 week 2 days", "-0.5 days", "1.25 hours", "0.001 s", "1.0000005 s", "12:00.5",
         "+02:03:04.5", "-02:03", "1 +02:03", "1 -02:03", "3 4:05:06", "1 y 2 mon 3 d",
         "1 day\t2 hours", " 1 day ", "1 days 1 hours 1 minutes 1 seconds"});
}

TEST_CASE("date/time: native encoders and Unix-epoch helpers", "[codecs][pg][datetime]") {
    auto conn = connect_utc();
    ByteBuffer out;
    encode_date(out, 0);
    CHECK(hex(test::field_data(out.view())) == hex(test::server_field(conn, "'2000-01-01'::date")));
    out.clear();
    REQUIRE(encode_date_unix(out, 0).ok());
    CHECK(hex(test::field_data(out.view())) == hex(test::server_field(conn, "'1970-01-01'::date")));
    out.clear();
    REQUIRE(encode_timestamptz_unix(out, 0).ok());
    CHECK(hex(out.view()) == "00 00 00 08 ff fc a2 fe c4 c8 20 00");
    out.clear();
    REQUIRE(encode_timestamp_unix(out, 1714564800123456).ok());
    CHECK(hex(test::field_data(out.view())) ==
          hex(test::server_field(conn, "'2024-05-01 12:00:00.123456'::timestamp")));
    out.clear();
    encode_interval(out, Interval{3000000, 2, 1});
    CHECK(hex(out.view()) == "00 00 00 10 00 00 00 00 00 2d c6 c0 00 00 00 02 00 00 00 01");
    CHECK(out.size() == interval_encoded_size);
    out.clear();
    REQUIRE(encode_date_checked(out, date_pos_infinity).ok());
    REQUIRE(encode_timestamp_checked(out, timestamp_neg_infinity).ok());
    REQUIRE(encode_timestamptz_checked(out, timestamp_end - 1).ok());
    REQUIRE(encode_date_checked(out, date_min).ok());
    CHECK(out.size() == 2 * date_encoded_size + 2 * timestamp_encoded_size);
    out.clear();
    out.put_bytes("keep");
    CHECK(encode_date_checked(out, date_max + 1).code == Errc::date_out_of_range);
    CHECK(encode_date_checked(out, date_min - 1).code == Errc::date_out_of_range);
    CHECK(encode_date_unix(out, date_pos_infinity + unix_to_pg_days).code ==
          Errc::date_out_of_range);
    CHECK(encode_timestamp_checked(out, timestamp_end).code == Errc::timestamp_out_of_range);
    CHECK(encode_timestamptz_checked(out, timestamp_min - 1).code ==
          Errc::timestamp_out_of_range);
    CHECK(encode_timestamp_unix(out, INT64_MIN).code == Errc::timestamp_out_of_range);
    CHECK(encode_timestamptz_unix(out, timestamp_min + unix_to_pg_us - 1).code ==
          Errc::timestamp_out_of_range);
    CHECK(out.view() == "keep");
}

TEST_CASE("date/time: parsers yield the documented native values", "[codecs][datetime]") {
    std::int32_t days = 0;
    REQUIRE(parse_date("2000-01-01", days).ok());
    CHECK(days == 0);
    REQUIRE(parse_date("1970-01-01", days).ok());
    CHECK(days == -unix_to_pg_days);
    REQUIRE(parse_date("4714-11-24 BC", days).ok());
    CHECK(days == date_min);
    REQUIRE(parse_date("5874897-12-31", days).ok());
    CHECK(days == date_max);
    REQUIRE(parse_date("-infinity", days).ok());
    CHECK(days == date_neg_infinity);
    std::int64_t us = 0;
    REQUIRE(parse_timestamptz("1970-01-01T00:00:00Z", us).ok());
    CHECK(us == -unix_to_pg_us);
    REQUIRE(parse_timestamptz("2000-01-01T01:00:00+01:00", us).ok());
    CHECK(us == 0);
    REQUIRE(parse_timestamptz("2000-01-01", us).ok());  // no offset: UTC
    CHECK(us == 0);
    REQUIRE(parse_timestamp("4714-11-24 00:00:00 BC", us).ok());
    CHECK(us == timestamp_min);
    REQUIRE(parse_timestamp("294276-12-31 23:59:59.999999", us).ok());
    CHECK(us == timestamp_end - 1);
    REQUIRE(parse_timestamptz("infinity", us).ok());
    CHECK(us == timestamp_pos_infinity);
    Interval interval;
    REQUIRE(parse_interval("P1Y2M3DT4H5M6.5S", interval).ok());
    CHECK(interval == Interval{14706500000, 3, 14});
    REQUIRE(parse_interval("-01:00:00", interval).ok());
    CHECK(interval == Interval{-3600000000, 0, 0});
}

TEST_CASE("date/time: seeded random texts equal the server's bytes, one COPY per type",
          "[codecs][pg][datetime]") {
    std::uint64_t seed = std::random_device{}();
    std::printf("datetime random test seed: %llu\n", static_cast<unsigned long long>(seed));
    INFO("seed: " << seed);
    std::mt19937_64 random(seed);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    auto two = [](int v) {
        char text[8];
        std::snprintf(text, sizeof text, "%02d", v);
        return std::string(text);
    };
    std::vector<std::string> dates;
    std::vector<std::string> stamps;
    std::vector<std::string> intervals;
    for (int i = 0; i < 2000; i++) {
        int year = pick(10) == 0 ? 1 + pick(294275) : 1 + pick(9999);
        char year_text[16];
        std::snprintf(year_text, sizeof year_text, "%04d", year);
        std::string date = std::string(year_text) + "-" + two(1 + pick(12)) + "-" +
                           two(1 + pick(28));
        std::string era = pick(10) == 0 && year <= 4713 ? " BC" : "";
        dates.push_back(date + era);
        std::string stamp = date + " T"[pick(2)] + two(pick(24)) + ":" + two(pick(60)) + ":" +
                            two(pick(61));
        if (int digits = pick(10); digits > 0) {
            stamp += '.';
            for (int k = 0; k < digits; k++) {
                stamp += static_cast<char>('0' + pick(10));
            }
        }
        const char* offsets[] = {"", "Z", "+", "-"};
        std::string offset = offsets[pick(4)];
        if (offset == "+" || offset == "-") {
            offset += two(pick(16));
            int form = pick(4);
            offset += form == 1 ? two(pick(60)) : form == 2 ? ":" + two(pick(60)) : "";
            offset += form == 3 ? ":" + two(pick(60)) + ":" + two(pick(60)) : "";
        }
        stamps.push_back(stamp + offset + era);
        std::string interval = "P";
        bool time_part = false;
        const char units[] = "YMWDHMS";
        for (int u = 0; u < 7; u++) {
            if (pick(2) == 0) {
                continue;
            }
            if (u >= 4 && !time_part) {
                interval += 'T';
                time_part = true;
            }
            interval += (pick(4) == 0 ? "-" : "") + std::to_string(pick(1000));
            interval += pick(4) == 0 ? "." + std::to_string(pick(1000000)) : "";
            interval += units[u];
        }
        intervals.push_back(interval.size() == 1 ? "PT" : interval);
    }
    auto conn = connect_utc();
    check_corpus(conn, "date", encode_date_text, dates);
    check_corpus(conn, "timestamptz", encode_timestamptz_text, stamps);
    check_corpus(conn, "timestamp", encode_timestamp_text, stamps);
    check_corpus(conn, "interval", encode_interval_text, intervals);
}

TEST_CASE("date: bad text is rejected with reason and position, buffer unchanged",
          "[codecs][pg][datetime]") {
    auto conn = connect_utc();
    check_rejected(conn, "date", encode_date_text,
                   {{"", Errc::invalid_date, 0, "22007"},
                    {"   ", Errc::invalid_date, 3, "22007"},
                    {"abc", Errc::invalid_date, 0, "22007"},
                    {"2024-13-01", Errc::invalid_date, 5, "22008"},
                    {"2024-00-10", Errc::invalid_date, 5, "22008"},
                    {"2024-02-30", Errc::invalid_date, 8, "22008"},
                    {"2023-02-29", Errc::invalid_date, 8, "22008"},
                    {"2024-04-31", Errc::invalid_date, 8, "22008"},
                    {"2024-01-00", Errc::invalid_date, 8, "22008"},
                    {"0000-01-01", Errc::invalid_date, 0, "22008"},
                    {"0000-01-01 BC", Errc::invalid_date, 0, "22008"},
                    {"2024-01-01x", Errc::invalid_date, 10, "22007"},
                    {"2024-01-01 BCE", Errc::invalid_date, 11, "22007"},
                    {"2024-01-01BC", Errc::invalid_date, 10, nullptr},
                    {"2024/01/01", Errc::invalid_date, 4, nullptr},
                    {"+infinity", Errc::invalid_date, 0, "22007"},
                    {"infinityx", Errc::invalid_date, 0, "22007"},
                    {"5874898-01-01", Errc::date_out_of_range, 0, "22008"},
                    {"4714-11-23 BC", Errc::date_out_of_range, 0, "22008"},
                    {"99999999999-01-01", Errc::date_out_of_range, 0, "22008"},
                    {"2024-1-1", Errc::invalid_date, 5, nullptr},
                    {"24-01-01", Errc::invalid_date, 2, nullptr},
                    {"2024-01-02 25:00", Errc::invalid_date, 11, "22008"},
                    {"2024-01-02 12:00x", Errc::invalid_date, 11, "22007"},
                    {"2024-01-02T", Errc::invalid_date, 10, "22007"}});
}

TEST_CASE("timestamp(tz): bad text is rejected with reason and position, buffer unchanged",
          "[codecs][pg][datetime]") {
    auto conn = connect_utc();
    const std::vector<Bad> cases = {
        {"", Errc::invalid_timestamp, 0, "22007"},
        {"2024-13-01 00:00:00", Errc::invalid_timestamp, 5, "22008"},
        {"2024-02-30T00:00:00Z", Errc::invalid_timestamp, 8, "22008"},
        {"2024-01-01T25:00:00Z", Errc::invalid_timestamp, 11, "22008"},
        {"2024-01-01T12:60:00Z", Errc::invalid_timestamp, 14, "22008"},
        {"2024-01-01T12:00:61Z", Errc::invalid_timestamp, 17, "22008"},
        {"2024-01-01 23:59:60.5", Errc::invalid_timestamp, 11, "22008"},
        {"2024-01-01 24:00:00.000001", Errc::invalid_timestamp, 11, "22008"},
        {"2024-01-01T12:00:00+16:00", Errc::invalid_timestamp, 19, "22009"},
        {"2024-01-01T12:00:00+25:00", Errc::invalid_timestamp, 19, "22009"},
        {"2024-01-01T12:00:00+05:60", Errc::invalid_timestamp, 23, "22009"},
        {"2024-01-01T12:00:00+", Errc::invalid_timestamp, 20, "22007"},
        {"2024-01-01T12:00:00ZBC", Errc::invalid_timestamp, 20, "22007"},
        {"2024-01-01T12:00:00Z junk", Errc::invalid_timestamp, 21, "22007"},
        {"2024-01-01T12", Errc::invalid_timestamp, 13, "22007"},
        {"2024-01-01T", Errc::invalid_timestamp, 11, "22007"},
        {"2024-01-01 12:00:00,5", Errc::invalid_timestamp, 19, "22007"},
        {"0000-01-01 00:00:00", Errc::invalid_timestamp, 0, "22008"},
        {"+infinity", Errc::invalid_timestamp, 0, "22007"},
        {"294277-01-01 00:00:00Z", Errc::timestamp_out_of_range, 0, "22008"},
        {"4714-11-23 23:59:59.999999 BC", Errc::timestamp_out_of_range, 0, "22008"},
        {"5874898-01-01 00:00:00", Errc::timestamp_out_of_range, 0, "22008"},
        {"99999999999-01-01", Errc::timestamp_out_of_range, 0, "22008"},
        {"2024-01-01 1:02:03", Errc::invalid_timestamp, 11, nullptr},
        {"2024-01-01T12:00:00+5", Errc::invalid_timestamp, 20, nullptr},
        {"2024-01-01 12:00:00 UTC", Errc::invalid_timestamp, 20, nullptr},
        {"2024-01-01T12:00:00+053015", Errc::invalid_timestamp, 24, "22009"},
        {"2024-01-01T12:00:00." + std::string(310, '0') + "1", Errc::invalid_timestamp, 19,
         "22007"},
    };
    check_rejected(conn, "timestamptz", encode_timestamptz_text, cases);
    check_rejected(conn, "timestamp", encode_timestamp_text, cases);
    check_rejected(conn, "timestamptz", encode_timestamptz_text,
                   {{"4714-11-24 00:00:00+01 BC", Errc::timestamp_out_of_range, 0, "22008"},
                    {"294276-12-31 23:59:59.999999-01", Errc::timestamp_out_of_range, 0,
                     "22008"}});
}

TEST_CASE("interval: bad text is rejected with reason and position, buffer unchanged",
          "[codecs][pg][datetime]") {
    auto conn = connect_utc();
    check_rejected(conn, "interval", encode_interval_text,
                   {{"", Errc::invalid_interval, 0, "22007"},
                    {"P", Errc::invalid_interval, 0, "22007"},
                    {"P+1D", Errc::invalid_interval, 1, "22007"},
                    {"P1D ", Errc::invalid_interval, 3, "22007"},
                    {" P1D", Errc::invalid_interval, 1, "22007"},
                    {"p1d", Errc::invalid_interval, 0, "22007"},
                    {"P1H", Errc::invalid_interval, 2, "22007"},
                    {"PT1D", Errc::invalid_interval, 3, "22007"},
                    {"P1X", Errc::invalid_interval, 2, "22007"},
                    {"-P1D", Errc::invalid_interval, 0, "22007"},
                    {"P2147483648M", Errc::interval_out_of_range, 1, "22015"},
                    {"P178956971Y", Errc::interval_out_of_range, 0, "22008"},
                    {"PT2562047789H", Errc::interval_out_of_range, 2, "22015"},
                    {"P1e16D", Errc::interval_out_of_range, 1, "22015"},
                    {"01:60:00", Errc::interval_out_of_range, 0, "22015"},
                    {"01:02:61", Errc::interval_out_of_range, 0, "22015"},
                    {"2562047789:00:00", Errc::interval_out_of_range, 0, "22015"},
                    {"01:02:03x", Errc::invalid_interval, 8, "22007"},
                    {"abc", Errc::invalid_interval, 0, "22007"},
                    {"PT1e-320S", Errc::invalid_interval, 2, "22007"},
                    {"PT1e400S", Errc::invalid_interval, 2, "22007"},
                    // Over interval_in's 256-byte work buffer.
                    {"00:00:00." + std::string(310, '0') + "1", Errc::invalid_interval, 255,
                     "22007"},
                    {"00:00.5e3", Errc::invalid_interval, 7, "22007"},
                    {"P0x10D", Errc::invalid_interval, 2, nullptr},
                    {"1 2 day", Errc::invalid_interval, 0, "22007"},
                    {"1 day 1 day", Errc::invalid_interval, 0, "22007"},
                    {"1 hours 1 hours", Errc::invalid_interval, 0, "22007"},
                    // Fields are read from the right: the conflict shows at the left one.
                    {"1 hour 02:00", Errc::invalid_interval, 0, "22007"},
                    {"5 ms 02:00", Errc::invalid_interval, 0, "22007"},
                    {"1:30 2", Errc::invalid_interval, 0, "22007"},
                    {"1 quarter", Errc::invalid_interval, 0, "22007"},
                    {"1 timezone", Errc::invalid_interval, 0, "22007"},
                    {"1 invalid", Errc::invalid_interval, 2, "22007"},
                    {"1 ago", Errc::invalid_interval, 0, "22007"},
                    {"ago", Errc::invalid_interval, 0, "22007"},
                    {" ", Errc::invalid_interval, 1, "22007"},
                    {"1 e", Errc::invalid_interval, 2, "22007"},
                    {"1e3 s", Errc::invalid_interval, 1, "22007"},
                    {"1,2 days", Errc::invalid_interval, 0, "22007"},
                    {"1.5.3", Errc::invalid_interval, 0, "22007"},
                    {"1day2 s", Errc::invalid_interval, 1, "22007"},
                    {"1 day.", Errc::invalid_interval, 2, "22007"},
                    {"1 day é", Errc::invalid_interval, 6, "22007"},
                    {"1 days +infinity", Errc::invalid_interval, 7, "22007"},
                    {"infinity", Errc::invalid_interval, 0, "22007"},
                    {"11:00 PM", Errc::invalid_interval, 6, "22007"},
                    {"1/2 days", Errc::invalid_interval, 0, "22007"},
                    {"1-12", Errc::interval_out_of_range, 0, "22015"},
                    {"1-x", Errc::invalid_interval, 0, "22007"},
                    {"1 day 99999999999999999999 s", Errc::interval_out_of_range, 6, "22015"},
                    {"2147483648 days", Errc::interval_out_of_range, 0, "22015"},
                    {"-2147483648 days ago", Errc::interval_out_of_range, 0, "22015"},
                    {"178956971 years", Errc::interval_out_of_range, 0, "22008"},
                    {"+1:99", Errc::invalid_interval, 0, "22007"},
                    {"P1D1", Errc::invalid_interval, 4, "22007"},
                    {"PT1H30", Errc::invalid_interval, 6, "22007"},
                    {"P0001-02-03T04:05:06x", Errc::invalid_interval, 20, "22007"},
                    {"1 day " + std::string(250, 'x'), Errc::invalid_interval, 255, "22007"}});
    // A NUL cannot reach interval_in (its input is a C string): refused where it stands.
    ByteBuffer out;
    Status nul = encode_interval_text(out, std::string_view("1 day\0", 6));
    CHECK(nul.code == Errc::invalid_interval);
    CHECK(nul.position == 5);
    CHECK(out.empty());
}

TEST_CASE("date/time: mutated spellings we accept are accepted identically by the server",
          "[codecs][pg][datetime]") {
    std::uint64_t seed = std::random_device{}();
    std::printf("datetime mutation test seed: %llu\n", static_cast<unsigned long long>(seed));
    INFO("seed: " << seed);
    std::mt19937_64 random(seed);
    auto conn = connect_utc();
    check_mutations(conn, "date", encode_date_text,
                    {"2024-05-01", "0001-12-31 BC", "5874897-12-31", "infinity", "2000-02-29"},
                    "0123456789- BCADinfty", random);
    const std::vector<std::string> stamps = {
        "2024-05-01T12:34:56.789Z", "2024-05-01 23:59:60+05:30", "0001-01-01 00:00:00 BC",
        "294276-12-31 23:59:59.999999-00:00:01", "2024-05-01 24:00:00+1530", "-infinity",
        "4714-11-24 00:00:00+00 BC", "2024-05-01T12:00"};
    check_mutations(conn, "timestamptz", encode_timestamptz_text, stamps,
                    "0123456789-:.+ TtZzBCAD", random);
    check_mutations(conn, "timestamp", encode_timestamp_text, stamps, "0123456789-:.+ TtZzBCAD",
                    random);
    check_mutations(conn, "interval", encode_interval_text,
                    {"P1Y2M3W4DT5H6M7.5S", "PT-1.5H", "P.5D", "01:02:03.5", "-12:34.5",
                     "2562047788:00:00", "P178956970Y7M", "PT2562047788H"},
                    "0123456789-:.+ PYMWDTHSe", random);
    // PostgreSQL's own style: units, signs, time fields, years-months, ago.
    check_mutations(conn, "interval", encode_interval_text,
                    {"1 day 02:03:04", "-1 day +02:00", "1 year 2 mons", "@ 1 minute ago",
                     "1.5 days", "3 hours 4 mins 5.5 secs", "1d2h3m", "1-2", "P0001-02-03T04:05:06",
                     "2 weeks ago", "7 ms 8 us", "1 decade 2 centuries", "-1 mon 2 days"},
                    "0123456789-:.+ @,dayhoursminecwlkgtPTYMDHS", random);
}
