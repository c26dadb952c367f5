// Proves bytea from text (codecs/bytea.hpp, varlena.c byteain) against a real PostgreSQL 15:
// - for each accepted spelling, hex (either case, whitespace between pairs, empty) and escape
//   (literal bytes, \\, \ooo up to \377, UTF-8), our bytes equal byteasend's for the same text
//   and load back as the server's text;
// - bad text (odd digits, a non-hex byte, whitespace inside a pair, \X, a lone or stray
//   backslash, octal above \377, NUL) is rejected with Errc, byte position and reason, buffer
//   unchanged, and the server refuses the same text with the same SQLSTATE;
// - on seeded mutations of both formats we accept exactly what the server accepts, byte for
//   byte.

#include <catch2/catch.hpp>

#include <algorithm>

#include "codecs/bytea.hpp"
#include "tests/codecs/scalar_checks.hpp"

using namespace pgingest;
using pgingest::test::Bad;

namespace {

const std::vector<std::string> valid_bytea = {
    "",        "abc",       "\\x",           "\\x0102",        "\\xDEADbeef", "\\x 01 02\t03\n04\r",
    "\\x01 ",  "\\\\",      "a\\\\b",        "\\000",          "\\377",       "\\001\\002x",
    "é",       "\\\\x01",   "\\0000",        "\\3771",         "x\\101y",     "\\x  ",
    "'\"{}",   "\\x00ff",   "\\101\\\\\\102"};

}  // namespace

TEST_CASE("bytea text: bytes equal byteasend and round trips", "[codecs][pg][bytea]") {
    auto conn = test::connect();
    test::check_against_server(conn, "bytea", encode_bytea_text, valid_bytea);
}

TEST_CASE("bytea text: bad text is rejected with reason and position, buffer unchanged",
          "[codecs][pg][bytea]") {
    auto conn = test::connect();
    test::check_rejected(conn, "bytea", encode_bytea_text, {
        {"\\", Errc::invalid_bytea, 0, "22P02"},
        {"a\\", Errc::invalid_bytea, 1, "22P02"},
        {"\\X01", Errc::invalid_bytea, 0, "22P02"},
        {"x\\x01", Errc::invalid_bytea, 1, "22P02"},
        {"\\400", Errc::invalid_bytea, 0, "22P02"},
        {"\\08", Errc::invalid_bytea, 0, "22P02"},
        {"\\12", Errc::invalid_bytea, 0, "22P02"},
        {"ab\\c", Errc::invalid_bytea, 2, "22P02"},
        {"\\\\\\", Errc::invalid_bytea, 2, "22P02"},
        {"\\x0", Errc::bytea_odd_hex_digits, 2, "22023"},
        {"\\x012", Errc::bytea_odd_hex_digits, 4, "22023"},
        {"\\x01 2 ", Errc::bytea_invalid_hex_digit, 6, "22023"},
        {"\\x 0 1", Errc::bytea_invalid_hex_digit, 4, "22023"},
        {"\\xzz", Errc::bytea_invalid_hex_digit, 2, "22023"},
        {"\\x0g", Errc::bytea_invalid_hex_digit, 3, "22023"},
        {"\\x01\\n", Errc::bytea_invalid_hex_digit, 4, "22023"},
        {"\\x0é", Errc::bytea_invalid_hex_digit, 3, "22023"},
        {"\\xé0", Errc::bytea_invalid_hex_digit, 2, "22023"},
        {"\\x01\v02", Errc::bytea_invalid_hex_digit, 4, "22023"},
        {"\\x01\f", Errc::bytea_invalid_hex_digit, 4, "22023"},
        {"\\x0x", Errc::bytea_invalid_hex_digit, 3, "22023"},
        {std::string("a\0b", 3), Errc::nul_in_text, 1, nullptr},
        {std::string("\\x0\0", 4), Errc::nul_in_text, 3, nullptr},
        {std::string("\\x\0", 3), Errc::nul_in_text, 2, nullptr},
    });
}

TEST_CASE("bytea text: mutated spellings are accepted exactly when the server accepts them",
          "[codecs][pg][bytea]") {
    std::uint64_t seed = std::random_device{}();
    std::printf("bytea mutation seed: %llu\n", static_cast<unsigned long long>(seed));
    INFO("seed: " << seed);
    std::mt19937_64 random(seed);
    auto conn = test::connect();
    std::vector<std::string> seeds;  // ASCII only: a mutation must not split a UTF-8 sequence
    for (const std::string& text : valid_bytea) {
        if (std::all_of(text.begin(), text.end(), [](char c) { return c > 0; })) {
            seeds.push_back(text);
        }
    }
    CHECK(test::check_mutations(conn, "bytea", encode_bytea_text, seeds,
                                "\\\\\\x01234789abcfABFXg \t\n\r\v", random, true) > 300);
}
