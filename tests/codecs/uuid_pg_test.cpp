// Proves the uuid codec (codecs/uuid.hpp) against a real PostgreSQL 15 server:
// - every text form uuid_in accepts (canonical, upper/mixed case, braces, no hyphens, a hyphen
//   after any group of 4 digits) parses to the bytes the server's uuid_send writes, and loads
//   back as the canonical text;
// - every malformed input (too short, too long, bad character, misplaced or doubled hyphen,
//   unbalanced braces, whitespace, trailing garbage) is refused by us with the position of the
//   first bad character, and by the server's uuid_in as well (22P02); the buffer is unchanged.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "codecs/uuid.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

constexpr std::string_view table = "uuid_rt";
constexpr std::string_view prefix = "prefix";
constexpr std::string_view canonical = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";

// SQLSTATE of the server's refusal of '<text>'::uuid, or "" when it accepts it.
std::string server_refusal(Connection& conn, const std::string& text) {
    try {
        (void)test::server_field(conn, "'" + text + "'::uuid");
        return "";
    } catch (const ServerError& error) {
        return error.sqlstate();
    }
}

}  // namespace

TEST_CASE("uuid: encode_uuid writes the 16 bytes in text order", "[codecs][scalars][uuid]") {
    ByteBuffer out;
    REQUIRE(encode_uuid_text(out, canonical).ok());
    CHECK(hex(out.view()) ==
          "00 00 00 10 a0 ee bc 99 9c 0b 4e f8 bb 6d 6b b9 bd 38 0a 11");
    CHECK(out.size() == uuid_encoded_size_max());
    UuidBytes bytes{};
    REQUIRE(parse_uuid(canonical, bytes).ok());
    ByteBuffer direct;
    encode_uuid(direct, bytes);
    CHECK(direct.view() == out.view());
}

TEST_CASE("uuid: every form uuid_in accepts gives the server's bytes and loads back",
          "[codecs][scalars][uuid][pg]") {
    auto conn = test::connect();
    const std::vector<std::string> forms = {
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        "a0EEbc99-9C0b-4Ef8-bB6d-6bb9BD380a11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        "{a0eebc999c0b4ef8bb6d6bb9bd380a11}",
        "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
        "{a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11}",
        "a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11",
        "a0eebc999c0b4ef8bb6d6bb9bd38-0a11",
        "a0ee-bc999c0b4ef8bb6d6bb9bd380a11",
    };
    for (const std::string& form : forms) {
        INFO(form);
        ByteBuffer ours;
        REQUIRE(encode_uuid_text(ours, form).ok());
        CHECK(hex(test::field_data(ours.view())) ==
              hex(test::server_field(conn, "'" + form + "'::uuid")));
        CHECK(test::round_trip(conn, "uuid", ours.view(), table) == canonical);
    }
    const std::vector<std::string> edges = {"00000000-0000-0000-0000-000000000000",
                                            "ffffffff-ffff-ffff-ffff-ffffffffffff"};
    for (const std::string& edge : edges) {
        ByteBuffer ours;
        REQUIRE(encode_uuid_text(ours, edge).ok());
        CHECK(hex(test::field_data(ours.view())) ==
              hex(test::server_field(conn, "'" + edge + "'::uuid")));
        CHECK(test::round_trip(conn, "uuid", ours.view(), table) == edge);
    }
}

TEST_CASE("uuid: malformed text is refused at the first bad character, as uuid_in refuses it",
          "[codecs][scalars][uuid][pg]") {
    auto conn = test::connect();
    struct Bad {
        std::string text;
        std::uint32_t position;
    };
    const std::vector<Bad> bad_inputs = {
        {"", 0},
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", 35},     // 31 digits: too short
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a", 34},
        {"a0eebc99", 8},
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111", 36},   // 33 digits: trailing garbage
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11x", 36},
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ", 36},   // no trailing whitespace
        {" a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0},    // nor leading
        {"g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0},     // not a hex digit
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g", 35},
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd38za11", 32},
        {"a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11", 7},     // hyphen after 7 digits
        {"a0eeb-c999c0b4ef8bb6d6bb9bd380a11", 5},        // hyphen inside a group of 4
        {"a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11", 9},    // two hyphens
        {"-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0},    // leading hyphen
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-", 36},   // trailing hyphen
        {"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 37},   // missing }
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", 36},   // } without {
        {"{{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", 1},
        {"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}}", 38},
        {"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-}", 37},
        {"(a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11)", 0},
        {"a0eebc99_9c0b_4ef8_bb6d_6bb9bd380a11", 8},
        {"urn:uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 0},
        {"0xa0eebc999c0b4ef8bb6d6bb9bd380a11", 1},
        {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a\xc3\xa9", 34},
    };
    for (const Bad& bad : bad_inputs) {
        INFO("\"" << bad.text << "\"");
        ByteBuffer ours;
        ours.put_bytes(prefix);
        Status status = encode_uuid_text(ours, bad.text);
        CHECK(status.code == Errc::invalid_uuid);
        CHECK(status.position == bad.position);
        CHECK(ours.view() == prefix);
        std::string message = describe_error(status, "trace_id", bad.text);
        CHECK_THAT(message, Catch::Contains("column \"trace_id\""));
        CHECK_THAT(message, Catch::Contains("at byte " + std::to_string(bad.position)));
        CHECK_THAT(message, Catch::Contains(errc_reason(Errc::invalid_uuid)));
        CHECK(server_refusal(conn, bad.text) == "22P02");
    }
    UuidBytes untouched{};
    untouched.fill(7);
    CHECK(parse_uuid(std::string_view("a0eebc99\0", 9), untouched).position == 8);
    CHECK(untouched[0] == 7);  // the output is written only on success
}
