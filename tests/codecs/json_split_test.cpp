// Proves the streaming JSON splitter (codecs/json_split.hpp): the records and errors of a
// document do not depend on where its chunks are cut (every split point, and byte by byte),
// offsets and lines are exact, errors outside the records name what and where, and on seeded
// mutations of documents it agrees with simdjson's DOM: a document simdjson accepts yields
// exactly its elements and no error; one simdjson refuses yields a malformed-JSON error or a
// record that simdjson refuses on its own (a bad record is left to its consumer).

#include "codecs/json_split.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/support/mutate.hpp"

using namespace pgingest;

namespace {

struct Event {
    bool record = false;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::uint64_t line = 0;
    std::string reason;

    bool operator==(const Event&) const = default;
};

class Collect final : public JsonSplitSink {
  public:
    std::vector<Event> events;
    void record(std::uint64_t offset, std::uint64_t length, std::uint64_t line) override {
        events.push_back({true, offset, length, line, {}});
    }
    void error(std::uint64_t offset, std::uint64_t line, std::string reason) override {
        events.push_back({false, offset, 0, line, std::move(reason)});
    }
};

std::vector<JsonSplitSegment> segments(const std::string& pointer) {
    std::vector<JsonSplitSegment> out;
    std::size_t at = 0;
    while (at < pointer.size()) {
        std::size_t next = pointer.find('/', at + 1);
        std::string key = pointer.substr(at + 1, next == std::string::npos ? next : next - at - 1);
        out.push_back({key, key == "*"});
        at = next == std::string::npos ? pointer.size() : next;
    }
    return out;
}

/// The events of `doc` fed in pieces cut at `cuts` (ascending offsets).
std::vector<Event> split(const std::string& doc, const std::string& pointer,
                         const std::vector<std::size_t>& cuts = {}, bool require_array = false) {
    JsonSplitter splitter(segments(pointer), require_array);
    Collect sink;
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        splitter.feed(std::string_view(doc).substr(from, cut - from), sink);
        from = cut;
    }
    splitter.feed(std::string_view(doc).substr(from), sink);
    splitter.finish(sink);
    return sink.events;
}

std::vector<std::string> texts(const std::string& doc, const std::vector<Event>& events) {
    std::vector<std::string> out;
    for (const Event& event : events) {
        out.push_back(event.record ? doc.substr(event.offset, event.length) : "!" + event.reason);
    }
    return out;
}

const std::vector<std::pair<std::string, std::string>> documents{
    {"[1, -2.5e+3 ,\"a\\\"]\", {\"k\": [1,{}]}, [], true, null,\n\"\\u00e9\\n\", \"\xC3\xA9\"]",
     ""},
    {"{\"meta\": {\"x\": [1,2]}, \"items\": [{\"a\":\"}\"},\n {\"b\":[[]]}], \"after\": 0e1}",
     "/items"},
    {"{\"r\":[{\"s\":[{\"sp\":[1,2]},{\"sp\":{\"o\":1}}]},{\"s\":[{\"sp\":3}]}]}", "/r/*/s/*/sp"},
    {"  {\"a\": [10, [20, 21], 30]}  \n", "/a/1"},
    {"{\"a\": {\"b\": \"x\"}, \"b\": 1}", "/a/b"},
    {"{\"items\": [1,2], \"items\": [3]}", "/items"},
    {"[{\"a\":1},\n{\"a\":2},\n{\"a\":[1, ", ""},
    {"{\"a\": 1 2}", "/a"},
    {"{\"a\": [1]} x", "/a"},
};

}  // namespace

TEST_CASE("json_split: records and offsets are exact", "[json_split]") {
    const std::string& doc = documents[0].first;
    std::vector<Event> events = split(doc, "", {}, true);
    std::vector<std::string> expected{"1",    "-2.5e+3", "\"a\\\"]\"",     "{\"k\": [1,{}]}", "[]",
                                      "true", "null",    "\"\\u00e9\\n\"", "\"\xC3\xA9\""};
    CHECK(texts(doc, events) == expected);
    CHECK(events[0] == Event{true, 1, 1, 1, {}});
    CHECK(events[7].line == 2);

    const std::string& items = documents[1].first;
    CHECK(texts(items, split(items, "/items")) ==
          std::vector<std::string>{"{\"a\":\"}\"}", "{\"b\":[[]]}"});
    CHECK(split(items, "/items")[1] == Event{true, 45, 10, 2, {}});
    const std::string& otlp = documents[2].first;
    CHECK(texts(otlp, split(otlp, "/r/*/s/*/sp")) ==
          std::vector<std::string>{"1", "2", "{\"o\":1}", "3"});
    CHECK(texts(documents[3].first, split(documents[3].first, "/a/1")) ==
          std::vector<std::string>{"20", "21"});
    // A duplicate key matches its first occurrence only (as simdjson's find_field_unordered).
    CHECK(texts(documents[5].first, split(documents[5].first, "/items")) ==
          std::vector<std::string>{"1", "2"});
}

TEST_CASE("json_split: errors name what and where", "[json_split]") {
    using Events = std::vector<Event>;
    CHECK(split("{\"a\": [1, {\"b\": 2}],\n \"s\": \"x\"}", "/s/*") ==
          Events{{false, 27, 0, 2, "pointer /s/*: `*` applied to a string at /s"}});
    CHECK(split("{\"a\": [1, {\"b\": 2}],\n \"s\": \"x\"}", "/a/*/b") ==
          Events{{false, 7, 0, 1, "pointer /a/*/b: /a/* is a number, not an object or array"},
                 {true, 16, 1, 1, {}}});
    CHECK(split(" {\"a\": 1}", "/nope") ==
          Events{{false, 1, 0, 1, "pointer /nope: key \"nope\" not found"}});
    CHECK(split("{\"a\": [0]}", "/a/1") ==
          Events{{false, 6, 0, 1, "pointer /a/1: no element \"1\" in the array"}});
    CHECK(split(documents[4].first, "/a/b") == Events{{true, 12, 3, 1, {}}});
    CHECK(split(" {\"a\":1}", "", {}, true) ==
          Events{{false, 0, 0, 1, "expected a top-level array (format json-array)"}});
    CHECK(split(documents[6].first, "") ==
          Events{
              {true, 1, 7, 1, {}},
              {true, 10, 7, 2, {}},
              {false, 28, 0, 3, "malformed JSON: the document ends before its value is complete"}});
    CHECK(split(documents[7].first, "/a") ==
          Events{{true, 6, 1, 1, {}},
                 {false, 8, 0, 1, "malformed JSON: expected ',' or '}' after an object member"}});
    CHECK(split(documents[8].first, "/a") ==
          Events{{true, 7, 1, 1, {}},
                 {false, 11, 0, 1, "malformed JSON: more text after the JSON document"}});
    CHECK(split(" \n ", "/a") == Events{{false, 0, 0, 1, "malformed JSON: the document is empty"}});
    CHECK(split("[1,]", "") ==
          Events{{true, 1, 1, 1, {}}, {false, 3, 0, 1, "malformed JSON: expected a value"}});
    CHECK(split("[{\"a\":[1}]", "") ==
          Events{{false, 8, 0, 1, "malformed JSON: '}' closes an array"}});
    CHECK(split("{\"x\": \"a\xC0\xAF\", \"a\": [1]}", "/a") ==
          Events{{false, 8, 0, 1, "malformed JSON: invalid UTF-8 in a string"}});
    CHECK(split("{\"x\": 01, \"a\": [1]}", "/a") ==
          Events{{false, 7, 0, 1, "malformed JSON: expected ',' or '}' after an object member"}});
    CHECK(split("{\"x\": -, \"a\": [1]}", "/a") ==
          Events{{false, 6, 0, 1, "malformed JSON: invalid number"}});
    CHECK(
        split("{\"x\": nul, \"a\": [1]}", "/a") ==
        Events{{false, 6, 0, 1, "malformed JSON: invalid literal (expected true, false or null)"}});
    CHECK(split("{\"x\": \"\\q\"}", "/a") ==
          Events{{false, 8, 0, 1, "malformed JSON: invalid escape in a string"}});
    CHECK(split("{\"x\" 1}", "/a") ==
          Events{{false, 5, 0, 1, "malformed JSON: expected ':' after an object key"}});
    CHECK(split(std::string(3, '[') + "1]]]", "", {}, false).size() == 1);
    JsonSplitter shallow({}, true, 2);
    Collect sink;
    CHECK_FALSE(shallow.feed("[[[1]]]", sink));
    CHECK(sink.events == Events{{false, 2, 0, 1, "malformed JSON: nesting too deep"}});
}

TEST_CASE("json_split: every chunk split point gives the same events", "[json_split]") {
    for (const auto& [doc, pointer] : documents) {
        INFO(doc);
        bool array = pointer.empty();
        std::vector<Event> whole = split(doc, pointer, {}, array);
        for (std::size_t cut = 0; cut <= doc.size(); ++cut) {
            INFO("cut at " << cut);
            CHECK(split(doc, pointer, {cut}, array) == whole);
        }
        std::vector<std::size_t> every;
        for (std::size_t cut = 1; cut < doc.size(); ++cut) {
            every.push_back(cut);
        }
        CHECK(split(doc, pointer, every, array) == whole);
    }
}

namespace {

/// The minified texts of the records simdjson's DOM finds in `doc`: the root array's elements
/// (`pointer` empty) or those of the array at `/items` of a root object. Nothing when the DOM
/// refuses the document or the pointer does not lead to an array.
bool dom_records(const std::string& doc, const std::string& pointer,
                 std::vector<std::string>& out) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    auto error = parser.parse(doc).get(root);
    // simdjson refuses integers past 64 bits (NUMBER_ERROR), JSON (RFC 8259 §6) does not: nor
    // does the splitter outside records (a record is refused by its consumer's parse).
    if (error == simdjson::NUMBER_ERROR) {
        out.push_back("(number)");
        return true;
    }
    if (error != simdjson::SUCCESS) {
        return false;
    }
    simdjson::dom::array array;
    simdjson::dom::element at = root;
    if (!pointer.empty() && (!root.is_object() || root.at_key("items").get(at) != 0)) {
        return true;
    }
    if (at.get_array().get(array) != simdjson::SUCCESS) {
        return true;
    }
    for (simdjson::dom::element element : array) {
        out.push_back(simdjson::minify(element));
    }
    return true;
}

std::string minified(std::string_view text, bool& valid) {
    simdjson::dom::parser parser;
    simdjson::dom::element element;
    valid = parser.parse(std::string(text)).get(element) == simdjson::SUCCESS;
    return valid ? simdjson::minify(element) : std::string();
}

}  // namespace

TEST_CASE("json_split: agrees with simdjson on seeded mutations", "[json_split]") {
    std::vector<std::string> seeds{
        "[{\"a\": 1, \"b\": [true, false, null]}, {\"c\": \"x\\u00e9\\\"y\"}, -0.5e-3, \"s\"]",
        "{\"head\": {\"k\": [1, 2.0]}, \"items\": [{\"i\": 1}, [2, {\"j\": \"\xC3\xA9\"}], 3],"
        " \"tail\": \"t\"}",
        "[[], {}, [[1]], {\"\": \"\"}, 12345678901234567890, 1E+2]"};
    std::mt19937_64 random(20261207);
    std::vector<std::string> texts = test::mutated_texts(
        seeds, "{}[]\",:0123456789eE+-. \ntrufalsn\\u\xC3\xA9\x80\x01x", 4000, random);
    std::size_t valid_count = 0;
    const std::vector<std::string> bignum{"(number)"};
    for (const std::string& doc : texts) {
        for (const std::string pointer : {"", "/items"}) {
            INFO(doc << " pointer " << pointer);
            std::vector<std::string> expected;
            bool valid = dom_records(doc, pointer, expected);
            if (expected == bignum) {
                continue;  // a number simdjson refuses and JSON allows (see dom_records)
            }
            std::vector<Event> events = split(doc, pointer, {doc.size() / 2}, pointer.empty());
            bool malformed = false;
            bool bad_record = false;
            bool not_array = false;
            std::vector<std::string> got;
            for (const Event& event : events) {
                if (!event.record) {  // the errors that end the splitting
                    malformed = malformed || event.reason.rfind("malformed JSON", 0) == 0;
                    not_array = event.reason.rfind("expected a top-level array", 0) == 0;
                    continue;
                }
                bool record_valid = false;
                got.push_back(minified(doc.substr(event.offset, event.length), record_valid));
                bad_record = bad_record || !record_valid;
            }
            if (valid) {
                ++valid_count;
                CHECK_FALSE(malformed);
                CHECK_FALSE(bad_record);
                if (!expected.empty() || got.empty()) {
                    CHECK(got == expected);
                }
            } else {
                CHECK((malformed || not_array || bad_record));
            }
        }
    }
    CHECK(valid_count > 500);
}

// Carried members (issue 13): fields of a record's ancestors copied onto it as it streams by.

namespace {

/// Composes each record with its carried members as the splitter hands it out.
class Composed final : public JsonSplitSink {
  public:
    Composed(const JsonSplitter& splitter, const std::string& doc)
        : _splitter(splitter), _doc(doc) {}
    std::vector<std::string> out;
    void record(std::uint64_t offset, std::uint64_t length, std::uint64_t) override {
        std::string text;
        _splitter.compose(std::string_view(_doc).substr(offset, length), text);
        out.push_back(text);
    }
    void error(std::uint64_t offset, std::uint64_t line, std::string reason) override {
        out.push_back("!" + std::to_string(line) + ":" + std::to_string(offset) + " " + reason);
    }

  private:
    const JsonSplitter& _splitter;
    const std::string& _doc;
};

/// The composed records and errors of `doc` fed in two pieces cut at `cut`.
std::vector<std::string> carry_split(const std::string& doc, const std::string& pointer,
                                     const std::vector<JsonCarry>& carry, std::size_t cut) {
    JsonSplitter splitter(segments(pointer), false, 1024, carry);
    Composed sink(splitter, doc);
    splitter.feed(std::string_view(doc).substr(0, cut), sink);
    splitter.feed(std::string_view(doc).substr(cut), sink);
    splitter.finish(sink);
    return sink.out;
}

/// The same, byte by byte.
std::vector<std::string> carry_bytewise(const std::string& doc, const std::string& pointer,
                                        const std::vector<JsonCarry>& carry) {
    JsonSplitter splitter(segments(pointer), false, 1024, carry);
    Composed sink(splitter, doc);
    for (std::size_t at = 0; at < doc.size(); ++at) {
        splitter.feed(std::string_view(doc).substr(at, 1), sink);
    }
    splitter.finish(sink);
    return sink.out;
}

/// Checks that every cut point and byte-by-byte feeding give `expected`.
void check_carry(const std::string& doc, const std::string& pointer,
                 const std::vector<JsonCarry>& carry, const std::vector<std::string>& expected) {
    for (std::size_t cut = 0; cut <= doc.size(); ++cut) {
        INFO("cut at " << cut);
        REQUIRE(carry_split(doc, pointer, carry, cut) == expected);
    }
    CHECK(carry_bytewise(doc, pointer, carry) == expected);
}

const std::string otlp_pointer = "/resourceSpans/*/scopeSpans/*/spans";
const std::vector<JsonCarry> otlp_carry{{.level = 2, .key = "resource", .as = "resource"},
                                        {.level = 4, .key = "scope", .as = "scope"}};

}  // namespace

TEST_CASE("json_split: OTLP resource and scope are carried onto each span", "[json_split]") {
    std::string doc = R"({"resourceSpans": [
 {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "a\"}"}}]},
  "scopeSpans": [{"scope": {"name": "lib", "version": 1.5e3},
                  "spans": [{"name": "s1"}, { }, {"name": "s3", "n": [1, {"x": "]"}]}]},
                 {"spans": [{"name": "s4"}]}]},
 {"scopeSpans": [{"scope": null, "spans": [{"name": "s5"}]}]}]})";
    std::string resource =
        R"({"attributes": [{"key": "service.name", "value": {"stringValue": "a\"}"}}]})";
    std::string scope = R"({"name": "lib", "version": 1.5e3})";
    check_carry(doc, otlp_pointer, otlp_carry,
                {R"({"resource":)" + resource + R"(,"scope":)" + scope + R"(,"name": "s1"})",
                 R"({"resource":)" + resource + R"(,"scope":)" + scope + R"( })",
                 R"({"resource":)" + resource + R"(,"scope":)" + scope +
                     R"(,"name": "s3", "n": [1, {"x": "]"}]})",
                 // The second scope has no `scope`: only the resource is carried.
                 R"({"resource":)" + resource + R"(,"name": "s4"})",
                 // The second resource has no `resource` (the first one's is not carried on).
                 R"({"scope":null,"name": "s5"})"});
}

TEST_CASE("json_split: carried members: duplicates, members after the records, non-objects",
          "[json_split]") {
    std::vector<JsonCarry> carry{{.level = 0, .key = "r", .as = "from \"r\""}};
    // A key twice: its first occurrence is carried. Numbers and literals end where they end.
    check_carry(R"({"r": 12, "r": 13, "items": [{"a": 1}, {}]})", "/items", carry,
                {R"({"from \"r\"":12,"a": 1})", R"({"from \"r\"":12})"});
    check_carry(R"({"r": true,"items": [{"a": 1}]})", "/items", carry,
                {R"({"from \"r\"":true,"a": 1})"});
    // After the records: an error at its key; the records went without it.
    check_carry(R"({"items": [{"a": 1}], "r": "late"})", "/items", carry,
                {R"({"a": 1})",
                 "!1:22 pointer /items: member \"r\" of / comes after items; only "
                 "members before it are carried"});
    // A record that is not an object cannot take members: an error in its place.
    check_carry(R"({"r": [1], "items": [{"a": 1}, 2, [3], "s"]})", "/items", carry,
                {R"({"from \"r\"":[1],"a": 1})",
                 "!1:31 pointer /items: a record with carried members must be an object, not a "
                 "number",
                 "!1:34 pointer /items: a record with carried members must be an object, not an "
                 "array",
                 "!1:39 pointer /items: a record with carried members must be an object, not a "
                 "string"});
    // Without the member, non-object records are handed out as they are.
    check_carry(R"({"items": [2, "s"]})", "/items", carry, {"2", "\"s\""});
}

TEST_CASE("json_split: carried members must sit beside a key segment", "[json_split]") {
    auto make = [](const std::string& pointer, JsonCarry carry) {
        JsonSplitter splitter(segments(pointer), false, 1024, {std::move(carry)});
    };
    CHECK_THROWS_WITH(make("/a/*/b", {.level = 1, .key = "x", .as = "x"}),
                      "JsonSplitter: carried member \"x\" at level 1 is not beside a key segment "
                      "of the pointer");
    CHECK_THROWS_WITH(make("/a", {.level = 1, .key = "x", .as = "x"}),
                      "JsonSplitter: carried member \"x\" at level 1 is not beside a key segment "
                      "of the pointer");
    CHECK_THROWS_WITH(make("/a", {.level = 0, .key = "a", .as = "x"}),
                      "JsonSplitter: carried member \"a\" at level 0 is not beside a key segment "
                      "of the pointer");
    CHECK_NOTHROW(make("/a", {.level = 0, .key = "b", .as = "b"}));
}
