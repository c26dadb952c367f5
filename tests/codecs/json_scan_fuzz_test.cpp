// Differential fuzz test of the constant-memory JSON validator (codecs/detail/json_scan) against
// simdjson's DOM on seeded mutations: it accepts exactly what the DOM accepts, apart from
// numbers the DOM refuses and JSON allows (NUMBER_ERROR for integers past 64 bits or `1e999`):
// of the texts the DOM refuses with NUMBER_ERROR, the validator accepts only those holding such
// a number. The 45 hand-written texts of json_scan_test.cpp stay; this covers the near misses
// nobody thought of.

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "codecs/detail/json_scan.hpp"
#include "tests/support/mutate.hpp"

using pgingest::detail::JsonScanError;
using pgingest::detail::JsonValidator;

namespace {

/// Whether `text` holds a run of 20 digits or more (past 64 bits) or an exponent of 3 digits or
/// more: the numbers simdjson refuses and JSON allows. (No std::regex: GCC 12 warns inside it
/// under -fsanitize=address, which fails -Werror builds.)
bool has_big_number(const std::string& text) {
    std::size_t digits = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        digits = (c >= '0' && c <= '9') ? digits + 1 : 0;
        if (digits >= 20) {
            return true;
        }
        if (c == 'e' || c == 'E') {
            std::size_t j = i + 1;
            if (j < text.size() && (text[j] == '+' || text[j] == '-')) {
                ++j;
            }
            std::size_t exponent = 0;
            while (j < text.size() && text[j] >= '0' && text[j] <= '9') {
                ++exponent;
                ++j;
            }
            if (exponent >= 3) {
                return true;
            }
        }
    }
    return false;
}

}  // namespace

TEST_CASE("json_scan: accepts exactly what simdjson's DOM accepts on seeded mutations",
          "[json_scan]") {
    std::vector<std::string> seeds{
        R"({"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "x\u00e9\"\\\/\b\f\n\r\t"}})",
        "[[], {}, [[1]], {\"\": \"\"}, 0, -0.0, 1E+2, 12345678901234567]",
        "{\"s\": \"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\", \"n\": [0.1e-5, 9]}",
        "\"just a string\"", "  [ 1 , { \"k\" : [ null ] } ]  "};
    std::mt19937_64 random(11072026);
    std::vector<std::string> texts = pgingest::test::mutated_texts(
        seeds, "{}[]\",:0123456789eE+-. \t\nturefalsn\\u/\x01\x7f\xC3\xA9\x80\xED\xF4\xFF", 20000,
        random);
    JsonValidator validator(1024);
    std::size_t accepted = 0;
    std::size_t numbers_left_out = 0;
    simdjson::dom::parser parser;
    for (const std::string& text : texts) {
        simdjson::padded_string padded(text);
        simdjson::error_code dom = parser.parse(padded).error();
        JsonScanError error;
        bool ours = validator.validate(text, error);
        INFO(text << " simdjson: " << simdjson::error_message(dom) << " ours: " << error.what
                  << " at " << error.offset);
        if (dom == simdjson::NUMBER_ERROR && ours) {
            ++numbers_left_out;
            CHECK(has_big_number(text));
            continue;
        }
        CHECK(ours == (dom == simdjson::SUCCESS));
        accepted += ours ? 1 : 0;
    }
    CHECK(accepted > 2000);                       // both sides of the border are covered
    CHECK(numbers_left_out < texts.size() / 50);  // the exception stays an exception
}
