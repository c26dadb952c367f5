// Proves the inet, cidr, macaddr and macaddr8 codecs (codecs/network.hpp) against a real
// PostgreSQL 15:
// - for each accepted spelling (IPv4 with and without /bits, short forms, IPv6 compressed,
//   mixed with a dotted quad, /0 and /128, classful cidr defaults and the 0x form; the six
//   macaddr formats; 6- and 8-byte macaddr8 with each spacer) our bytes equal network_send /
//   macaddr_send / macaddr8_send for the same text and load back as the server's text;
// - bad text is rejected with Errc, byte position and reason (cidr with host bits set in the
//   server's words), buffer unchanged, and the server refuses it too;
// - mutated spellings: whatever we accept, the server accepts with the same bytes.

#include <catch2/catch.hpp>

#include <random>

#include "codecs/network.hpp"
#include "tests/codecs/scalar_checks.hpp"

using namespace pgingest;
using pgingest::test::Bad;

namespace {

const std::vector<std::string> valid_inet = {
    "10.0.0.1", "10.0.0.1/8", "192.168.0.1/24", "0.0.0.0", "0.0.0.0/0", "255.255.255.255",
    "255.255.255.255/32", "1.2.3.4/31", "010.001.000.001", "10/8", "10.1/16", "10.1.2/24",
    "1.2.3.4.", "1.2.3.4./8", "::", "::1", "::/0", "::1/128", "fe80::1/64", "FE80::ABCD:1",
    "2001:db8::8a2e:370:7334", "2001:0db8:0000:0000:0000:ff00:0042:8329", "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "::ffff:1.2.3.4", "::ffff:1.2.3.4/120",
    "::1.2.3.4", "1::1.2.3.4", "::1.2", "2001:db8::/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};

const std::vector<std::string> valid_cidr = {
    "10.0.0.0/8", "10", "10.1", "10.1.2", "10.1.2.3", "128", "192.168", "224", "224.1",
    "240", "0.0.0.0/0", "192.168.1.0/24", "192.168.1.128/25", "1.2.3.4/32", "0x0a",
    "0x0a0b/16", "0xc0a8", "10.0.0.0/9", "::/0", "::1/128", "2001:db8::/32", "fe80::/10",
    "::ffff:1.2.3.0/120", "1:2:3:4:5:6:7:8", "10.0.0.1"};

const std::vector<std::string> valid_macaddr = {
    "08:00:2b:01:02:03", "08-00-2b-01-02-03", "08002b:010203", "08002b-010203",
    "0800.2b01.0203", "0800-2b01-0203", "08002b010203", "08:00:2B:01:02:03",
    "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "8:0:2b:1:2:3", "  08:00:2b:01:02:03  ",
    "008:00:2b:01:02:03", "AbCdEf:012345"};

const std::vector<std::string> valid_macaddr8 = {
    "08:00:2b:01:02:03:04:05", "08-00-2b-01-02-03-04-05", "08002b:0102030405",
    "08002b0102030405", "0800.2b01.0203.0405", "08:00:2b:01:02:03", "08002b010203",
    "08.00.2b.01.02.03", "  08:00:2b:01:02:03:04:05  ", "08:00:2b:01:02:03 ",
    "08:00:2b:01:02:03:", "08:00:2b:01:02:03:0", "FF:FF:FF:FF:FF:FF:FF:FF", "0800-2b01-0203"};

}  // namespace

TEST_CASE("inet/cidr: bytes equal network_send and round trips give the server's text",
          "[codecs][pg][net]") {
    auto conn = test::connect();
    test::check_against_server(conn, "inet", encode_inet_text, valid_inet);
    test::check_against_server(conn, "cidr", encode_cidr_text, valid_cidr);
}

TEST_CASE("macaddr/macaddr8: bytes equal the send functions and round trips",
          "[codecs][pg][net]") {
    auto conn = test::connect();
    test::check_against_server(conn, "macaddr", encode_macaddr_text, valid_macaddr);
    test::check_against_server(conn, "macaddr8", encode_macaddr8_text, valid_macaddr8);
}

TEST_CASE("inet: the layout of FORMATS.md §2.8", "[codecs][net]") {
    ByteBuffer out;
    REQUIRE(encode_inet_text(out, "192.168.0.1/24").ok());
    CHECK(test::hex(out.view()) == "00 00 00 08 02 18 00 04 c0 a8 00 01");
    out.clear();
    REQUIRE(encode_cidr_text(out, "::/0").ok());
    CHECK(test::hex(out.view().substr(0, 8)) == "00 00 00 14 03 00 01 10");
    InetValue value;
    REQUIRE(parse_cidr("224", value).ok());
    CHECK(value.bits == 4);
    CHECK(out.size() <= inet_encoded_size_max);
}

TEST_CASE("inet/cidr: bad text is rejected with reason and position, buffer unchanged",
          "[codecs][pg][net]") {
    auto conn = test::connect();
    test::check_rejected(conn, "inet", encode_inet_text, {
        {"", Errc::invalid_inet, 0, "22P02"},
        {" 10.0.0.1", Errc::invalid_inet, 0, "22P02"},
        {"10.0.0.1 ", Errc::invalid_inet, 8, "22P02"},
        {"10.0.0", Errc::invalid_inet, 6, "22P02"},
        {"10.0.0.256", Errc::invalid_inet, 9, "22P02"},
        {"1.2.3.4.5", Errc::invalid_inet, 8, "22P02"},
        {"10.0.0.1/33", Errc::invalid_inet, 8, "22P02"},
        {"10.0.0.1/", Errc::invalid_inet, 8, "22P02"},
        {"10.0.0.1/8x", Errc::invalid_inet, 10, "22P02"},
        {"10/16", Errc::invalid_inet, 2, "22P02"},
        {"10..0.1", Errc::invalid_inet, 3, "22P02"},
        {"a.b.c.d", Errc::invalid_inet, 0, "22P02"},
        {":1", Errc::invalid_inet, 1, "22P02"},
        {"1::2::3", Errc::invalid_inet, 5, "22P02"},
        {"12345::1", Errc::invalid_inet, 4, "22P02"},
        {"1:2:3:4:5:6:7:8:9", Errc::invalid_inet, 16, "22P02"},
        {"1::2:3:4:5:6:7:8", Errc::invalid_inet, 16, "22P02"},
        {"::1/129", Errc::invalid_inet, 3, "22P02"},
        {"::1/01", Errc::invalid_inet, 3, "22P02"},
        {"1:", Errc::invalid_inet, 1, "22P02"},
        {"::ffff:1.2.3.04", Errc::invalid_inet, 8, "22P02"},
        {"::g", Errc::invalid_inet, 2, "22P02"},
        {std::string("10.0.0.1\0", 9), Errc::invalid_inet, 8, nullptr},
    });
    test::check_rejected(conn, "cidr", encode_cidr_text, {
        {"10.1.2.3/8", Errc::cidr_host_bits_set, 0, "22P02"},
        {"192.168.1.1/24", Errc::cidr_host_bits_set, 0, "22P02"},
        {"::1/64", Errc::cidr_host_bits_set, 0, "22P02"},
        {"1.2.3.4/24", Errc::cidr_host_bits_set, 0, "22P02"},
        {"", Errc::invalid_cidr, 0, "22P02"},
        {"10.0.0.0/33", Errc::invalid_cidr, 8, "22P02"},
        {"1.2.3.4.", Errc::invalid_cidr, 8, "22P02"},
        {"0xg", Errc::invalid_cidr, 1, "22P02"},
        {"0x0102030405", Errc::invalid_cidr, 11, "22P02"},
        {"x10", Errc::invalid_cidr, 0, "22P02"},
    });
}

TEST_CASE("macaddr/macaddr8: bad text is rejected with reason and position", "[codecs][pg][net]") {
    auto conn = test::connect();
    test::check_rejected(conn, "macaddr", encode_macaddr_text, {
        {"", Errc::invalid_macaddr, 0, "22P02"},
        {"08:00:2b:01:02", Errc::invalid_macaddr, 0, "22P02"},
        {"08:00:2b:01:02:03:04", Errc::invalid_macaddr, 18, "22P02"},
        {"08:00:2b:01:02:xx", Errc::invalid_macaddr, 15, "22P02"},
        {"08:00-2b:01:02:03", Errc::invalid_macaddr, 5, "22P02"},
        {"100:00:2b:01:02:03", Errc::macaddr_octet_out_of_range, 0, "22003"},
        {"08002b01020g", Errc::invalid_macaddr, 11, "22P02"},
        {"08002b:01020", Errc::invalid_macaddr, 0, nullptr},  // %2x takes a lone digit
        {"08.00.2b.01.02.03", Errc::invalid_macaddr, 0, "22P02"},
        {"08:00:2b:01:02:03 x", Errc::invalid_macaddr, 18, "22P02"},
        {"08002b01020", Errc::invalid_macaddr, 0, nullptr},  // sscanf %2x takes a lone last digit
        {"08: 00:2b:01:02:03", Errc::invalid_macaddr, 3, nullptr},  // %x skips the space
    });
    test::check_rejected(conn, "macaddr8", encode_macaddr8_text, {
        {"", Errc::invalid_macaddr8, 0, "22P02"},
        {"08:00:2b:01:02", Errc::invalid_macaddr8, 14, "22P02"},
        {"08002b01020304", Errc::invalid_macaddr8, 14, "22P02"},
        {"08:00:2b:01:02:03:04:05:06", Errc::invalid_macaddr8, 24, "22P02"},
        {"08:00-2b:01:02:03", Errc::invalid_macaddr8, 5, "22P02"},
        {"0g:00:2b:01:02:03", Errc::invalid_macaddr8, 0, "22P02"},
        {"08:00:2b:01:02:03 x", Errc::invalid_macaddr8, 18, "22P02"},
        {"8:00:2b:01:02:03", Errc::invalid_macaddr8, 0, "22P02"},
        {"08:00:2b:01:02:03:04 05", Errc::invalid_macaddr8, 20, "22P02"},
        {std::string("08:00:2b:01:02:03\0", 18), Errc::invalid_macaddr8, 17, nullptr},
    });
}

TEST_CASE("network: mutated spellings we accept are accepted identically by the server",
          "[codecs][pg][net]") {
    std::uint64_t seed = std::random_device{}();
    std::printf("network mutation seed: %llu\n", static_cast<unsigned long long>(seed));
    INFO("seed: " << seed);
    std::mt19937_64 random(seed);
    auto conn = test::connect();
    CHECK(test::check_mutations(conn, "inet", encode_inet_text, valid_inet,
                                "0123456789abcdefABF:./ x", random) > 100);
    CHECK(test::check_mutations(conn, "cidr", encode_cidr_text, valid_cidr,
                                "0123456789abcdefx:./", random) > 100);
    CHECK(test::check_mutations(conn, "macaddr", encode_macaddr_text, valid_macaddr,
                                "0123456789abcdefABF:.- g", random) > 100);
    CHECK(test::check_mutations(conn, "macaddr8", encode_macaddr8_text, valid_macaddr8,
                                "0123456789abcdefABF:.- g", random) > 100);
}
