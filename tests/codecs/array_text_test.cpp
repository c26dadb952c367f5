// Proves parse_array_text (codecs/array_text.hpp) takes array literals apart as array_in does:
// nested braces give the dimensions, quoted elements keep commas, braces and spaces, backslash
// escapes any character, unquoted NULL is a NULL element and "NULL" is text; and every
// malformed or ragged literal (more of them than valid ones) is refused at the offending byte.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "codecs/array_text.hpp"

using namespace pgingest;

namespace {

// The elements as text, NULL as "<NULL>".
std::vector<std::string> elements(const ArrayText& parsed) {
    std::vector<std::string> result;
    for (std::size_t i = 0; i < parsed.elements.size(); i++) {
        result.push_back(parsed.elements[i].length < 0 ? "<NULL>"
                                                       : std::string(parsed.text(i)));
    }
    return result;
}

std::vector<std::uint32_t> dims(const ArrayText& parsed) {
    return {parsed.dims, parsed.dims + parsed.rank};
}

}  // namespace

TEST_CASE("array text: literals are taken apart as array_in does", "[codecs][array_text]") {
    ArrayText parsed;
    REQUIRE(parse_array_text("{{1,2},{3,4}}", parsed).ok());
    CHECK(dims(parsed) == std::vector<std::uint32_t>{2, 2});
    CHECK(elements(parsed) == std::vector<std::string>{"1", "2", "3", "4"});

    REQUIRE(parse_array_text("  { a b , \"c,}\" , NULL, \"NULL\", nUlL , \\ x\\  }  ", parsed)
                .ok());
    CHECK(dims(parsed) == std::vector<std::uint32_t>{6});
    CHECK(elements(parsed) ==
          std::vector<std::string>{"a b", "c,}", "<NULL>", "NULL", "<NULL>", " x "});

    REQUIRE(parse_array_text("{}", parsed).ok());
    CHECK(parsed.rank == 0);
    CHECK(parsed.elements.empty());

    REQUIRE(parse_array_text("{ }", parsed).ok());
    CHECK(parsed.rank == 0);

    REQUIRE(parse_array_text("{{{1},{2}},{{3},{4}}}", parsed).ok());
    CHECK(dims(parsed) == std::vector<std::uint32_t>{2, 2, 1});

    REQUIRE(parse_array_text(R"({"",\"q\\})", parsed).ok());
    CHECK(elements(parsed) == std::vector<std::string>{"", "\"q\\"});

    REQUIRE(parse_array_text("{{{{{{1}}}}}}", parsed).ok());
    CHECK(parsed.rank == 6);
}

TEST_CASE("array text: malformed and ragged literals are refused at the offending byte",
          "[codecs][array_text]") {
    struct Bad {
        std::string text;
        Errc code;
        std::uint32_t at;
    };
    const std::vector<Bad> cases = {
        {"", Errc::invalid_array_text, 0},
        {"1,2", Errc::invalid_array_text, 0},
        {"[1:2]={1,2}", Errc::invalid_array_text, 0},
        {"{", Errc::invalid_array_text, 1},
        {"{1,2", Errc::invalid_array_text, 4},
        {"{1,,2}", Errc::invalid_array_text, 3},
        {"{1,}", Errc::invalid_array_text, 3},
        {"{1} x", Errc::invalid_array_text, 4},
        {"{\"a\"b}", Errc::invalid_array_text, 4},
        {"{a\"b\"}", Errc::invalid_array_text, 2},
        {"{\"abc}", Errc::invalid_array_text, 6},
        {"{a\\", Errc::invalid_array_text, 3},
        {"{{},{}}", Errc::invalid_array_text, 2},
        {"{{1,2},{3}}", Errc::array_ragged, 9},
        {"{{1},2}", Errc::array_ragged, 5},
        {"{1,{2}}", Errc::array_ragged, 3},
        {"{{{{{{{1}}}}}}}", Errc::array_too_many_dims, 6},
        {"{a{b}", Errc::invalid_array_text, 2},
    };
    for (const Bad& bad : cases) {
        INFO(bad.text);
        ArrayText parsed;
        Status status = parse_array_text(bad.text, parsed);
        CHECK(status.code == bad.code);
        CHECK(status.position == bad.at);
    }
}
