// Proves the text-like codecs (codecs/text.hpp) against a real PostgreSQL 15 server:
// - text, json, name and bytea fields equal the server's send output and load back unchanged:
//   empty text, multibyte UTF-8, 4-byte emoji, noncharacters, a string over 1 MB, NUL bytes and
//   all 256 byte values in bytea;
// - varchar(n)/char(n) count characters, not bytes, and clip excess spaces exactly as the
//   server does: our clipped field and the unclipped raw bytes load as the same value;
// - every byte sequence we refuse (invalid UTF-8: c3 28, overlong c0 af, surrogate ed a0 80,
//   f4 90 80 80, truncated and stray bytes; NUL; over-long varchar/char/name) is refused by the
//   server too when sent raw (22021, 22001, 42622), with our Errc, byte position and message,
//   and the buffer unchanged.

#include <catch2/catch.hpp>

#include <sys/mman.h>

#include <cstdio>
#include <string>
#include <vector>

#include "codecs/copy_binary.hpp"
#include "codecs/text.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

constexpr std::string_view table = "text_rt";
constexpr std::string_view prefix = "prefix";

// A field holding `bytes` exactly as given, unchecked: what the server gets if we skip our checks.
std::string raw_field(std::string_view bytes) {
    ByteBuffer field;
    field.put_i32(static_cast<std::int32_t>(bytes.size()));
    field.put_bytes(bytes);
    return std::string(field.view());
}

// The SQLSTATE the server answers when `field` is loaded into a `column_type` column, or "" when
// it accepts it.
std::string server_refusal(Connection& conn, std::string_view column_type,
                           std::string_view field) {
    try {
        (void)test::round_trip(conn, column_type, field, table);
        return "";
    } catch (const ServerError& error) {
        return error.sqlstate();
    }
}

// `expression` (SQL) has the value `text`; our field for `text` equals the server's bytes for
// it and loads back as `expected` into a `column_type` column.
void check_against_server(Connection& conn, std::string_view expression,
                          std::string_view column_type, std::string_view field,
                          std::string_view expected) {
    INFO(expression << " as " << column_type);
    CHECK(test::field_data(field) == test::server_field(conn, expression));
    CHECK(test::round_trip(conn, column_type, field, table) == expected);
}

std::string hex_literal(std::string_view bytes) {
    return "decode('" + hex(bytes) + "', 'hex')";
}

}  // namespace

TEST_CASE("text: valid UTF-8 equals the server's bytes and loads back unchanged",
          "[codecs][scalars][text][pg]") {
    auto conn = test::connect();
    const std::vector<std::string> values = {
        "",
        "plain ASCII, with 'quotes' and \\backslashes\\",
        "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac",  // héllo wörld €
        "\xf0\x9f\x98\x80",                          // 😀, 4 bytes
        "\xef\xbf\xbf \xf4\x8f\xbf\xbf",             // noncharacters U+FFFF and U+10FFFF
        "tab\tnewline\ncr\r",
    };
    for (const std::string& value : values) {
        ByteBuffer ours;
        REQUIRE(encode_text(ours, value).ok());
        CHECK(ours.size() == text_encoded_size_max(value.size()));
        std::string expression = "convert_from(" + hex_literal(value) + ", 'UTF8')";
        check_against_server(conn, expression, "text", ours.view(), value);
    }
}

TEST_CASE("text: a string over 1 MB equals the server's bytes and loads back",
          "[codecs][scalars][text][pg]") {
    auto conn = test::connect();
    std::string value;
    const std::string piece = "x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ";  // 1+2+3+4+1 bytes
    while (value.size() <= (1u << 20)) {
        value += piece;
    }
    ByteBuffer ours;
    REQUIRE(encode_text(ours, value).ok());
    std::string expression =
        "repeat(convert_from(" + hex_literal(piece) + ", 'UTF8'), " +
        std::to_string(value.size() / piece.size()) + ")";
    check_against_server(conn, expression, "text", ours.view(), value);
}

TEST_CASE("text: json is plain UTF-8 text without a version byte, stored verbatim",
          "[codecs][scalars][text][pg]") {
    auto conn = test::connect();
    const std::string json = "{ \"b\": [1, 2.50, \"\xc3\xa9\\u0000\"],  \"a\": null, \"b\": 3 }";
    ByteBuffer ours;
    REQUIRE(encode_json(ours, json).ok());
    CHECK(ours.view().substr(4, 1) == "{");
    std::string expression = "convert_from(" + hex_literal(json) + ", 'UTF8')::json";
    check_against_server(conn, expression, "json", ours.view(), json);
}

TEST_CASE("text: varchar(n) counts characters and clips excess spaces like the server",
          "[codecs][scalars][text][pg]") {
    auto conn = test::connect();
    struct Case {
        std::string input;
        std::size_t chars;
        std::string stored;
    };
    const std::vector<Case> cases = {
        {"abc", 3, "abc"},
        {"\xc3\xa9\xc3\xa9\xc3\xa9", 3, "\xc3\xa9\xc3\xa9\xc3\xa9"},  // ééé: 6 bytes, 3 chars
        {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 2, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80"},
        {"abc   ", 3, "abc"},
        {"ab   ", 3, "ab "},
        {"\xc3\xa9  ", 1, "\xc3\xa9"},
        {"", 1, ""},
        {"a b", 3, "a b"},
        {"  ", 1, " "},
    };
    for (const Case& c : cases) {
        INFO("\"" << c.input << "\" into varchar(" << c.chars << ")");
        std::string column_type = "varchar(" + std::to_string(c.chars) + ")";
        ByteBuffer ours;
        REQUIRE(encode_varchar(ours, c.input, c.chars).ok());
        CHECK(test::field_data(ours.view()) == c.stored);
        CHECK(test::round_trip(conn, column_type, ours.view(), table) == c.stored);
        // The server, given the unclipped bytes, stores the same.
        CHECK(test::round_trip(conn, column_type, raw_field(c.input), table) == c.stored);
        // And its own cast agrees.
        std::string cast = "convert_from(" + hex_literal(c.input) + ", 'UTF8')::" + column_type;
        CHECK(test::server_field(conn, cast) == c.stored);
    }
}

TEST_CASE("text: char(n) has the varchar rule; the server pads what we send unpadded",
          "[codecs][scalars][text][pg]") {
    auto conn = test::connect();
    ByteBuffer ours;
    REQUIRE(encode_bpchar(ours, "ab", 5).ok());
    CHECK(test::round_trip(conn, "char(5)", ours.view(), table) == "ab");  // ::text trims
    CHECK(conn.query_value("SELECT octet_length(v) FROM text_rt") == "5");
    ours.clear();
    REQUIRE(encode_bpchar(ours, "\xc3\xa9\xc3\xa9\xc3\xa9   ", 3).ok());
    CHECK(test::field_data(ours.view()) == "\xc3\xa9\xc3\xa9\xc3\xa9");
    CHECK(test::round_trip(conn, "char(3)", ours.view(), table) == "\xc3\xa9\xc3\xa9\xc3\xa9");
}

TEST_CASE("text: name takes up to 63 bytes", "[codecs][scalars][text][pg]") {
    auto conn = test::connect();
    std::string longest(63, 'n');
    ByteBuffer ours;
    REQUIRE(encode_name(ours, longest).ok());
    check_against_server(conn, "'" + longest + "'::name", "name", ours.view(), longest);
}

TEST_CASE("text: bytea carries NUL and all 256 byte values unchanged",
          "[codecs][scalars][text][pg]") {
    auto conn = test::connect();
    std::string all;
    for (int byte = 0; byte < 256; byte++) {
        all += static_cast<char>(byte);
    }
    const std::vector<std::string> values = {"", std::string("\0\0\0", 3),
                                             std::string("a\0b", 3), all, all + all};
    for (const std::string& value : values) {
        ByteBuffer ours;
        REQUIRE(encode_bytea(ours, value).ok());
        std::string hex_text;
        for (char c : value) {
            char pair[3];
            std::snprintf(pair, sizeof pair, "%02x", static_cast<unsigned char>(c));
            hex_text += pair;
        }
        check_against_server(conn, hex_literal(value), "bytea", ours.view(), "\\x" + hex_text);
    }
}

TEST_CASE("text: invalid UTF-8 and NUL are refused by us and by the server alike",
          "[codecs][scalars][text][pg]") {
    auto conn = test::connect();
    struct Bad {
        std::string bytes;
        Errc code;
        std::uint32_t position;
    };
    const std::vector<Bad> bad_inputs = {
        {"\xc3\x28", Errc::invalid_utf8, 0},                // lead byte, no continuation
        {"ok \xc3\x28", Errc::invalid_utf8, 3},
        {"\xc0\xaf", Errc::invalid_utf8, 0},                // overlong '/'
        {"\xe0\x80\xaf", Errc::invalid_utf8, 0},            // overlong, 3 bytes
        {"a\xed\xa0\x80", Errc::invalid_utf8, 1},           // UTF-16 surrogate U+D800
        {"\xf4\x90\x80\x80", Errc::invalid_utf8, 0},        // above U+10FFFF
        {"\xf5\x80\x80\x80", Errc::invalid_utf8, 0},
        {"\xff", Errc::invalid_utf8, 0},
        {"\x80", Errc::invalid_utf8, 0},                    // stray continuation byte
        {"abc\xc3", Errc::invalid_utf8, 3},                 // truncated at the end
        {"\xe2\x82", Errc::invalid_utf8, 0},
        {"\xf0\x9f\x98", Errc::invalid_utf8, 0},            // truncated emoji
        {std::string("\0", 1), Errc::nul_in_text, 0},
        {std::string("a\0b", 3), Errc::nul_in_text, 1},
        {std::string("\xc3\xa9\0", 3), Errc::nul_in_text, 2},
        {std::string("\xc3\x28\0", 3), Errc::invalid_utf8, 0},  // the first problem wins
    };
    for (const Bad& bad : bad_inputs) {
        INFO("bytes " << hex(bad.bytes));
        for (const char* type : {"text", "json", "varchar(10)"}) {
            INFO("as " << type);
            ByteBuffer ours;
            ours.put_bytes(prefix);
            Status status = std::string_view(type) == "json" ? encode_json(ours, bad.bytes)
                            : std::string_view(type) == "text"
                                ? encode_text(ours, bad.bytes)
                                : encode_varchar(ours, bad.bytes, 10);
            CHECK(status.code == bad.code);
            CHECK(status.position == bad.position);
            CHECK(ours.view() == prefix);
            CHECK(server_refusal(conn, type, raw_field(bad.bytes)) == "22021");
        }
        ByteBuffer ours;
        Status status = encode_name(ours, bad.bytes);
        CHECK(status.code == bad.code);
        std::string message = describe_error(status, "body", bad.bytes);
        CHECK_THAT(message, Catch::Contains("column \"body\""));
        CHECK_THAT(message, Catch::Contains("at byte " + std::to_string(bad.position)));
        CHECK_THAT(message, Catch::Contains(errc_reason(bad.code)));
        CHECK_THAT(message, Catch::Contains("\\x"));  // the bad byte is shown escaped
    }
}

TEST_CASE("text: over-long varchar, char and name values are refused by us and by the server",
          "[codecs][scalars][text][pg]") {
    auto conn = test::connect();
    struct Bad {
        std::string bytes;
        std::size_t chars;
        std::uint32_t position;
    };
    const std::vector<Bad> bad_inputs = {
        {"abcd", 3, 3},
        {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3, 6},  // éééé: 4 chars into 3
        {"abc  x", 3, 3},                             // excess not all spaces
        {"abc \t", 3, 3},                             // tab is not a space
        {"abc\xc2\xa0", 3, 3},                        // nor is U+00A0
        {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80!", 2, 8},
    };
    for (const Bad& bad : bad_inputs) {
        INFO("\"" << bad.bytes << "\" into " << bad.chars << " characters");
        for (bool bpchar : {false, true}) {
            ByteBuffer ours;
            ours.put_bytes(prefix);
            Status status = bpchar ? encode_bpchar(ours, bad.bytes, bad.chars)
                                   : encode_varchar(ours, bad.bytes, bad.chars);
            std::string type = (bpchar ? "char(" : "varchar(") + std::to_string(bad.chars) + ")";
            CHECK(status.code == Errc::string_too_long);
            CHECK(status.position == bad.position);
            CHECK(ours.view() == prefix);
            CHECK_THAT(describe_error(status, "label", bad.bytes),
                       Catch::Contains(errc_reason(Errc::string_too_long)));
            CHECK(server_refusal(conn, type, raw_field(bad.bytes)) == "22001");
        }
    }
    std::string too_long(64, 'n');
    ByteBuffer ours;
    Status status = encode_name(ours, too_long);
    CHECK(status.code == Errc::string_too_long);
    CHECK(status.position == 63);
    CHECK(ours.empty());
    CHECK(server_refusal(conn, "name", raw_field(too_long)) == "42622");
}

TEST_CASE("text: values over the 1 GiB field limit are refused before they are read",
          "[codecs][scalars][text]") {
    // Address space only: MAP_NORESERVE pages that the encoders never touch.
    const std::size_t size = copy_field_size_max + 1;
    void* pages = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
    REQUIRE(pages != MAP_FAILED);
    std::string_view huge(static_cast<const char*>(pages), size);
    ByteBuffer ours;
    ours.put_bytes(prefix);
    CHECK(encode_text(ours, huge).code == Errc::field_too_large);
    CHECK(encode_bytea(ours, huge).code == Errc::field_too_large);
    CHECK(encode_json(ours, huge).code == Errc::field_too_large);
    CHECK(encode_varchar(ours, huge, 10).code == Errc::field_too_large);
    CHECK(ours.view() == prefix);
    munmap(pages, size);
}
