// Proves the "char", oid, money, pg_lsn, xml and jsonpath codecs (codecs/misc_types.hpp)
// against a real PostgreSQL 15:
// - for each accepted spelling our bytes equal the send function's for the same text and load
//   back as the server's text: "char" bytes and octal escapes, oid signs / whitespace / the
//   int4 forms of negative values / both ends, money in every cash_in form with rounding of a
//   third fraction digit and the int8 ends (the cluster's lc_monetary is checked to be C),
//   pg_lsn ends and cases, xml documents and content (with a UTF-8 declaration), jsonpath;
// - bad text is rejected with Errc, byte position and reason, buffer unchanged, and the server
//   refuses the same text (or keeps less than was written: "char" 'ab' is 'a', marked).

#include <catch2/catch.hpp>

#include "codecs/misc_types.hpp"
#include "tests/codecs/scalar_checks.hpp"

using namespace pgingest;
using pgingest::test::Bad;

TEST_CASE("\"char\": bytes equal charsend and round trips", "[codecs][pg][misc]") {
    auto conn = test::connect();
    test::check_against_server(conn, "\"char\"", encode_char_text,
                               {"a", "Z", "0", " ", "\\", "'", "\\101", "\\000", "\\177",
                                "\\200", "\\377", "\\777", ""});
}

TEST_CASE("oid: bytes equal oidsend and round trips", "[codecs][pg][misc]") {
    auto conn = test::connect();
    test::check_against_server(conn, "oid", encode_oid_text,
                               {"0", "1", "26", "4294967295", "-1", "-2147483648", "+7", " 42",
                                "42 ", "\t42\n", "-0", "00000000000000000000012",
                                "-18446744073709551615", "-18446744069414584321", "2147483648"});
}

TEST_CASE("money: bytes equal cash_send under lc_monetary C and round trips",
          "[codecs][pg][misc]") {
    auto conn = test::connect();
    REQUIRE(conn.query_value("SHOW lc_monetary").rfind("C", 0) == 0);
    test::check_against_server(
        conn, "money", encode_money_text,
        {"0", "12.34", "12.3", "12", ".5", "12.345", "12.3449", "12.355", "-12.345", "$1,234.56",
         "-$1,234.56", "$-1,234.56", "(12.34)", "( $ 12.34 )", "12.34-", "12.34 -", "+12.34",
         "$ + 12", "1,2,3.4,5", "  7  ", "", "$", "-", "92233720368547758.07",
         "-92233720368547758.08", "-92233720368547758.075", "12.34$", "1.999", "0.005",
         "-0.005", "12.00000000000000000001"});
}

TEST_CASE("pg_lsn: bytes equal pg_lsn_send and round trips", "[codecs][pg][misc]") {
    auto conn = test::connect();
    test::check_against_server(conn, "pg_lsn", encode_pg_lsn_text,
                               {"0/0", "0/1", "16/B374D848", "FFFFFFFF/FFFFFFFF", "ffffffff/0",
                                "00000001/00000002", "a/b"});
}

TEST_CASE("xml/jsonpath: bytes equal xml_send / jsonpath_send and round trips",
          "[codecs][pg][misc]") {
    auto conn = test::connect();
    // xml_send writes the document without its XML declaration and jsonpath_send the parsed
    // path: bytes are equal for texts already in that form, the rest must round-trip.
    test::check_against_server(conn, "xml", encode_xml_text,
                               {"<a/>", "<a x=\"1\">text &amp; more</a>", "plain content",
                                "<a>1</a><b>2</b>", "", "<a>\u00e9\u4e2d\U0001F600</a>"});
    test::check_round_trips(conn, "xml", encode_xml_text,
                            {"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>é</a>",
                             "<?xml version=\"1.0\" encoding='utf8'?><b>ü</b>",
                             "<?xml version=\"1.0\"?><c/>"});
    test::check_against_server(conn, "jsonpath", encode_jsonpath_text,
                               {"$", "$.\"a\"", "strict $.\"x\"", "$.\"é\"",
                                "$.\"a\".\"b\"[0 to 2]", "$?(@ like_regex \"^a\")",
                                "(1 + 2)"});
    test::check_round_trips(conn, "jsonpath", encode_jsonpath_text,
                            {"$.a", "$.a[*] ? (@ > 1)", "lax $.x", "  $ . a  ", "1 + 2"});
}

TEST_CASE("misc types: native encoders write the documented bytes", "[codecs][misc]") {
    ByteBuffer out;
    encode_oid(out, 0xfffffffe);
    encode_money(out, -1);
    encode_pg_lsn(out, 0x16B374D848);
    encode_char(out, 'A');
    CHECK(test::hex(out.view()) ==
          "00 00 00 04 ff ff ff fe 00 00 00 08 ff ff ff ff ff ff ff ff "
          "00 00 00 08 00 00 00 16 b3 74 d8 48 00 00 00 01 41");
    CHECK(out.size() == oid_encoded_size + money_encoded_size + pg_lsn_encoded_size +
                            char_encoded_size);
    out.clear();
    REQUIRE(encode_jsonpath_text(out, "$").ok());
    CHECK(test::hex(out.view()) == "00 00 00 02 01 24");
    CHECK(out.size() == jsonpath_encoded_size_max(1));
    std::int64_t cents = 0;
    REQUIRE(parse_money("(1,234.565)", cents).ok());
    CHECK(cents == -123457);
}

TEST_CASE("misc types: bad text is rejected with reason and position, buffer unchanged",
          "[codecs][pg][misc]") {
    auto conn = test::connect();
    test::check_rejected(conn, "\"char\"", encode_char_text, {
        {"ab", Errc::char_not_one_byte, 1, nullptr},    // charin keeps 'a' only
        {"é", Errc::char_not_one_byte, 1, nullptr},     // charin keeps the first UTF-8 byte
        {"\\8", Errc::char_not_one_byte, 1, nullptr},
        {"\\1011", Errc::char_not_one_byte, 1, nullptr},
        {std::string("\0", 1), Errc::nul_in_text, 0, nullptr},
    });
    test::check_rejected(conn, "oid", encode_oid_text, {
        {"", Errc::invalid_oid, 0, "22P02"},
        {"  ", Errc::invalid_oid, 2, "22P02"},
        {"-", Errc::invalid_oid, 1, "22P02"},
        {"12a", Errc::invalid_oid, 2, "22P02"},
        {"1 2", Errc::invalid_oid, 2, "22P02"},
        {"0x10", Errc::invalid_oid, 1, "22P02"},
        {"1.5", Errc::invalid_oid, 1, "22P02"},
        {"1e3", Errc::invalid_oid, 1, "22P02"},
        {"4294967296", Errc::oid_out_of_range, 0, "22003"},
        {"-2147483649", Errc::oid_out_of_range, 1, "22003"},
        {"-4294967295", Errc::oid_out_of_range, 1, "22003"},
        {"18446744073709551616", Errc::oid_out_of_range, 0, "22003"},
        {" -99999999999999999999", Errc::oid_out_of_range, 2, "22003"},
    });
    test::check_rejected(conn, "money", encode_money_text, {
        {"abc", Errc::invalid_money, 0, "22P02"},
        {"1..5", Errc::invalid_money, 2, "22P02"},
        {"12.34 x", Errc::invalid_money, 6, "22P02"},
        {"1e3", Errc::invalid_money, 1, "22P02"},
        {"12.34.56", Errc::invalid_money, 5, "22P02"},
        {"1.2.", Errc::invalid_money, 3, "22P02"},
        {"€12", Errc::invalid_money, 0, "22P02"},
        {"--1", Errc::invalid_money, 2, "22P02"},
        {"92233720368547758.08", Errc::money_out_of_range, 0, "22003"},
        {"92233720368547758.075", Errc::money_out_of_range, 0, "22003"},
        {"-92233720368547758.09", Errc::money_out_of_range, 0, "22003"},
        {"100000000000000000000", Errc::money_out_of_range, 0, "22003"},
    });
    test::check_rejected(conn, "pg_lsn", encode_pg_lsn_text, {
        {"", Errc::invalid_pg_lsn, 0, "22P02"},
        {"0", Errc::invalid_pg_lsn, 1, "22P02"},
        {"/0", Errc::invalid_pg_lsn, 0, "22P02"},
        {"0/", Errc::invalid_pg_lsn, 2, "22P02"},
        {"123456789/0", Errc::invalid_pg_lsn, 8, "22P02"},
        {"0/123456789", Errc::invalid_pg_lsn, 10, "22P02"},
        {" 0/0", Errc::invalid_pg_lsn, 0, "22P02"},
        {"0/0 ", Errc::invalid_pg_lsn, 3, "22P02"},
        {"g/0", Errc::invalid_pg_lsn, 0, "22P02"},
        {"0/0/0", Errc::invalid_pg_lsn, 3, "22P02"},
    });
    test::check_rejected(conn, "xml", encode_xml_text, {
        {"<?xml version=\"1.0\" encoding=\"LATIN1\"?><a/>", Errc::xml_encoding_not_utf8, 30,
         nullptr},
        {"<a>\xff</a>", Errc::invalid_utf8, 3, "22021"},
        {std::string("<a>\0</a>", 8), Errc::nul_in_text, 3, nullptr},
    });
    test::check_rejected(conn, "jsonpath", encode_jsonpath_text, {
        {"$.\xc3(", Errc::invalid_utf8, 2, "22021"},
        {std::string("$\0", 2), Errc::nul_in_text, 1, nullptr},
    });
}

TEST_CASE("xml/jsonpath: what the server parses is refused by the server at COPY",
          "[codecs][pg][misc]") {
    auto conn = test::connect();
    struct ServerCheck {
        const char* type;
        Status (*encoder)(ByteBuffer&, std::string_view);
        const char* text;
        const char* sqlstate;
    };
    const ServerCheck checks[] = {
        {"xml", encode_xml_text, "<a>", "2200N"},
        {"xml", encode_xml_text, "<a></b>", "2200N"},
        {"jsonpath", encode_jsonpath_text, "$.[", "42601"},
        {"jsonpath", encode_jsonpath_text, "", "22P02"},  // invalid input syntax for type jsonpath
    };
    for (const ServerCheck& check : checks) {
        INFO(check.type << " text: [" << check.text << "]");
        ByteBuffer out;
        REQUIRE(check.encoder(out, check.text).ok());
        try {
            (void)test::round_trip(conn, check.type, out.view(), "scalar_rt");
            FAIL("the server accepted it");
        } catch (const ServerError& error) {
            CHECK(error.sqlstate() == check.sqlstate);
        }
    }
}
