// Proves the in-place JSON scan of large records (codecs/detail/json_scan): the validator accepts
// exactly what simdjson's DOM accepts on a corpus of valid and invalid texts (numbers of any
// magnitude aside, which JSON allows and the DOM refuses), says where a text goes wrong, and
// the cursors and the unescaping find members, elements and keys as the DOM does.

#include "codecs/detail/json_scan.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using pgingest::detail::JsonElementCursor;
using pgingest::detail::JsonMemberCursor;
using pgingest::detail::JsonScanError;
using pgingest::detail::JsonValidator;

namespace {

bool dom_accepts(const std::string& text) {
    simdjson::dom::parser parser;
    return parser.parse(text).error() == simdjson::SUCCESS;
}

}  // namespace

TEST_CASE("json_scan: the validator accepts what simdjson's DOM accepts", "[json_scan]") {
    std::vector<std::string> valid = {
        "{}",
        "[]",
        " {} ",
        "0",
        "-0",
        "1.5e-3",
        "\"\"",
        "true",
        "false",
        "null",
        R"({"a":[1,2,{"b":null}],"c":"\u00e9\"\\\/\b\f\n\r\t","d":-12.5E+2})",
        "[[[[[]]]]]",
        "{\"a\" : 1 , \"b\" :\n[ ]\t}",
        "\"\xc3\xa9\"",
        "[1,true,false,null]"};
    std::vector<std::string> invalid = {"",
                                        " ",
                                        "{",
                                        "}",
                                        "[1,]",
                                        "[,1]",
                                        "{\"a\"}",
                                        "{\"a\":}",
                                        "{a:1}",
                                        "{\"a\":1,}",
                                        "[1 2]",
                                        "01",
                                        "1.",
                                        ".5",
                                        "1e",
                                        "-",
                                        "+1",
                                        "tru",
                                        "nul",
                                        "truex",
                                        "[1]x",
                                        "{} {}",
                                        "\"a\tb\"",
                                        "\"\\q\"",
                                        "\"\\u12g4\"",
                                        "\"abc",
                                        "\"\xff\"",
                                        "[\"\xc3\"]",
                                        "{\"a\":1 \"b\":2}",
                                        "[1}"};
    JsonValidator validator(1024);
    JsonScanError error;
    for (const std::string& text : valid) {
        INFO(text);
        CHECK(dom_accepts(text));
        CHECK(validator.validate(text, error));
    }
    for (const std::string& text : invalid) {
        INFO(text);
        CHECK_FALSE(dom_accepts(text));
        CHECK_FALSE(validator.validate(text, error));
    }
    // Valid JSON that the DOM refuses for a number: the large-record path writes it as text.
    CHECK(validator.validate("[1e999, 123456789012345678901234567890]", error));
}

TEST_CASE("json_scan: an error names what is wrong and its byte offset", "[json_scan]") {
    JsonValidator validator(3);
    JsonScanError error;
    CHECK_FALSE(validator.validate(R"({"a": [1, tru]})", error));
    CHECK(std::string(error.what) == "invalid value");
    CHECK(error.offset == 10);
    CHECK_FALSE(validator.validate(R"({"a": "x)", error));
    CHECK(std::string(error.what) == "unterminated string");
    CHECK(error.offset == 6);
    CHECK(validator.validate("[[[1]]]", error));
    CHECK_FALSE(validator.validate("[[[[1]]]]", error));
    CHECK(std::string(error.what) == "nesting deeper than the depth limit");
    CHECK(error.offset == 3);
    JsonValidator deeper(4);
    CHECK(deeper.validate("[[[[1]]]]", error));
    CHECK_FALSE(validator.validate(R"({"a":1} x)", error));
    CHECK(std::string(error.what) == "text after the end of the JSON value");
    CHECK(error.offset == 8);
}

TEST_CASE("json_scan: the cursors walk members and elements of validated text", "[json_scan]") {
    std::string text = R"({ "a" : [1, "]}\"", {"x": {}}] , "k\"ey":"v,}" ,"n":-1.5e3,"e":{}})";
    JsonValidator validator(16);
    JsonScanError error;
    REQUIRE(validator.validate(text, error));
    JsonMemberCursor members(text);
    std::string_view key;
    std::string_view value;
    std::vector<std::string> seen;
    while (members.next(key, value)) {
        seen.push_back(std::string(key) + "=" + std::string(value));
    }
    CHECK(seen == std::vector<std::string>{R"(a=[1, "]}\"", {"x": {}}])", R"(k\"ey="v,}")",
                                           "n=-1.5e3", "e={}"});
    std::string_view array = R"([1, "]}\"", {"x": {}}])";
    JsonElementCursor elements(array);
    std::vector<std::string> items;
    while (elements.next(value)) {
        items.emplace_back(value);
    }
    CHECK(items == std::vector<std::string>{"1", R"("]}\"")", R"({"x": {}})"});
    JsonElementCursor empty(std::string_view("[ ]"));
    CHECK_FALSE(empty.next(value));
}

TEST_CASE("json_scan: unescaping gives the bytes the DOM gives", "[json_scan]") {
    std::string out;
    pgingest::detail::unescape_json_string(R"(a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00)", out);
    CHECK(out == "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    out.clear();
    pgingest::detail::unescape_json_string(R"(\ud800x)", out);  // a lone surrogate
    CHECK(out == "\xef\xbf\xbdx");
}
