// Proves the bit(n) and bit varying(n) codecs (codecs/bits.hpp) against a real PostgreSQL 15:
// - binary and hex spellings, with and without the B/X prefix, lengths 0..70 around byte
//   boundaries: our bytes equal bit_send / varbit_send for the same text and value, and load
//   back into bit(n) / varbit(n) columns as the server's text;
// - the length rules: bit(n) takes exactly n bits, varbit(n) at most n, checked before the
//   digits like bit_in; bad digits are rejected at their byte with the server's wording, and
//   the server refuses the same text for the same column type.

#include <catch2/catch.hpp>

#include "codecs/bits.hpp"
#include "tests/codecs/scalar_checks.hpp"

using namespace pgingest;
using pgingest::test::Bad;

namespace {

// The number of bits a valid text spells.
std::int32_t bit_count(const std::string& text) {
    if (!text.empty() && (text[0] == 'x' || text[0] == 'X')) {
        return static_cast<std::int32_t>((text.size() - 1) * 4);
    }
    bool prefixed = !text.empty() && (text[0] == 'b' || text[0] == 'B');
    return static_cast<std::int32_t>(text.size() - (prefixed ? 1 : 0));
}

const std::vector<std::string> valid_bits = {
    "0", "1", "101", "B101", "b1", "10100000", "101000001", "1010000001", "1111111111111111",
    "11111111111111111", "X", "B", "", "x0", "XF", "xdeadBEEF", "X0123456789abcdef",
    "0000000000000000000000000000000000000000000000000000000000000000000001", "x1f", "B0"};

}  // namespace

TEST_CASE("bit(n)/varbit(n): bytes equal the send functions and round trips",
          "[codecs][pg][bits]") {
    auto conn = test::connect();
    for (const std::string& text : valid_bits) {
        const std::int32_t n = bit_count(text);
        if (n > 0) {
            const std::string type = "bit(" + std::to_string(n) + ")";
            test::check_against_server(conn, type, [n](ByteBuffer& out, std::string_view t) {
                return encode_bit_text(out, t, n);
            }, {text});
        }
        for (std::int32_t typmod : {-1, n, n + 5}) {
            const std::string type =
                typmod > 0 ? "varbit(" + std::to_string(typmod) + ")" : std::string("varbit");
            test::check_against_server(conn, type, [typmod](ByteBuffer& out, std::string_view t) {
                return encode_varbit_text(out, t, typmod);
            }, {text});
        }
    }
}

TEST_CASE("bit: the layout of FORMATS.md §2.10", "[codecs][bits]") {
    ByteBuffer out;
    REQUIRE(encode_bit_text(out, "1010000001", 10).ok());
    CHECK(test::hex(out.view()) == "00 00 00 06 00 00 00 0a a0 40");
    CHECK(out.size() <= bit_encoded_size_max(10));
    out.clear();
    REQUIRE(encode_varbit_text(out, "", -1).ok());
    CHECK(test::hex(out.view()) == "00 00 00 04 00 00 00 00");
}

TEST_CASE("bit/varbit: bad text is rejected with reason and position, buffer unchanged",
          "[codecs][pg][bits]") {
    auto conn = test::connect();
    auto bit = [](std::int32_t n) {
        return [n](ByteBuffer& out, std::string_view t) { return encode_bit_text(out, t, n); };
    };
    auto varbit = [](std::int32_t n) {
        return [n](ByteBuffer& out, std::string_view t) { return encode_varbit_text(out, t, n); };
    };
    test::check_rejected(conn, "bit(3)", bit(3), {
        {"10", Errc::bit_length_mismatch, 0, "22026"},
        {"1010", Errc::bit_length_mismatch, 0, "22026"},
        {"x1", Errc::bit_length_mismatch, 0, "22026"},
        {"", Errc::bit_length_mismatch, 0, "22026"},
        {"1a1", Errc::bit_invalid_binary_digit, 1, "22P02"},
        {"B12", Errc::bit_length_mismatch, 0, "22026"},
        {"B121", Errc::bit_invalid_binary_digit, 2, "22P02"},
        {" 10", Errc::bit_invalid_binary_digit, 0, "22P02"},
        {"10 ", Errc::bit_invalid_binary_digit, 2, "22P02"},
        {std::string("1\0" "1", 3), Errc::bit_invalid_binary_digit, 1, nullptr},
    });
    test::check_rejected(conn, "bit(8)", bit(8), {
        {"xg0", Errc::bit_invalid_hex_digit, 1, "22P02"},
        {"X0G", Errc::bit_invalid_hex_digit, 2, "22P02"},
        {"x 1", Errc::bit_invalid_hex_digit, 1, "22P02"},
        {"1111111", Errc::bit_length_mismatch, 0, "22026"},
        {"x123", Errc::bit_length_mismatch, 0, "22026"},
        {"b111111112", Errc::bit_length_mismatch, 0, "22026"},  // the length is checked first
    });
    test::check_rejected(conn, "varbit(4)", varbit(4), {
        {"10101", Errc::varbit_too_long, 0, "22001"},
        {"x12", Errc::varbit_too_long, 0, "22001"},
        {"12", Errc::bit_invalid_binary_digit, 1, "22P02"},
        {"xz", Errc::bit_invalid_hex_digit, 1, "22P02"},
        {"B2", Errc::bit_invalid_binary_digit, 1, "22P02"},
        {"b1 ", Errc::bit_invalid_binary_digit, 2, "22P02"},
    });
}
