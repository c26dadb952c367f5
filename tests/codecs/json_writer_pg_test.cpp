// Proves JsonWriter (codecs/json_writer.hpp): the exact bytes it writes (escaping equals the
// server's escape_json byte for byte, numbers in shortest round-trip form), that those bytes load
// into json and jsonb through binary COPY with the expected value, and that every bad input or
// misuse (NUL, invalid UTF-8, NaN/Inf, depth, structure, raw text with \u0000 or lone surrogates)
// is a sticky error with the right code and position that leaves the buffer as it was, where the
// server would have refused the bytes too.

#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <functional>
#include <limits>
#include <string>

#include "codecs/jsonb.hpp"
#include "codecs/utf8.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

using Build = std::function<void(JsonWriter&)>;

// Bytes already in the buffer before the document: errors must leave exactly these.
constexpr std::string_view prefix = "prefix";

// The document `build` writes, checked to finish cleanly.
std::string written(const Build& build, JsonWriterOptions options = {}) {
    ByteBuffer out;
    out.put_bytes(prefix);
    JsonWriter writer(out, options);
    build(writer);
    Status status = writer.finish();
    INFO("error " << errc_reason(status.code) << " at " << status.position);
    REQUIRE(status.ok());
    REQUIRE(out.view().substr(0, prefix.size()) == prefix);
    return std::string(out.view().substr(prefix.size()));
}

// The error `build` (then finish) ends with; checks that nothing was left in the buffer and
// that later calls change nothing.
Status failure(const Build& build, JsonWriterOptions options = {}) {
    ByteBuffer out;
    out.put_bytes(prefix);
    JsonWriter writer(out, options);
    build(writer);
    Status status = writer.finish();
    REQUIRE_FALSE(status.ok());
    CHECK(out.view() == prefix);
    // Sticky: nothing more is written and the first error stays.
    writer.string("more");
    writer.number(std::int64_t{1});
    writer.end_object();
    writer.raw("[1]");
    Status again = writer.finish();
    CHECK(again.code == status.code);
    CHECK(again.position == status.position);
    CHECK(out.view() == prefix);
    return status;
}

// A whole jsonb (or json) field holding the document `build` writes.
std::string field(const Build& build, bool jsonb = true, JsonWriterOptions options = {}) {
    ByteBuffer out;
    JsonWriter writer(out, options);
    FieldStart start = jsonb ? begin_jsonb(out) : begin_json(out);
    writer.reset(out);
    build(writer);
    Status status = end_json_field(out, start, writer);
    REQUIRE(status.ok());
    return std::string(out.view());
}

std::string server_text(Connection& conn, const std::string& sql) {
    return conn.query_value(sql);
}

}  // namespace

TEST_CASE("json writer: compact document bytes, commas and colons", "[codecs][json]") {
    std::string text = written([](JsonWriter& w) {
        w.begin_object();
        w.key("a");
        w.begin_array();
        w.number(1);
        w.boolean(true);
        w.boolean(false);
        w.null();
        w.string("x");
        w.begin_array();
        w.end_array();
        w.begin_object();
        w.end_object();
        w.end_array();
        w.key("b");
        w.begin_object();
        w.key("");
        w.string("");
        w.end_object();
        w.end_object();
    });
    CHECK(text == R"({"a":[1,true,false,null,"x",[],{}],"b":{"":""}})");
    CHECK(written([](JsonWriter& w) { w.string("top"); }) == "\"top\"");
    CHECK(written([](JsonWriter& w) { w.null(); }) == "null");
    CHECK(written([](JsonWriter& w) { w.number(std::uint8_t{7}); }) == "7");
    CHECK(written([](JsonWriter& w) { w.number(short{-7}); }) == "-7");
}

TEST_CASE("json writer: a document loads into jsonb and json with the expected value",
          "[codecs][json][pg]") {
    auto conn = test::connect();
    Build build = [](JsonWriter& w) {
        w.begin_object();
        w.key("b");
        w.number(1);
        w.key("a");
        w.begin_array();
        w.string("é😀");
        w.number(-1.5);
        w.null();
        w.end_array();
        w.end_object();
    };
    CHECK(test::round_trip(conn, "jsonb", field(build), "jsonw_rt") ==
          R"({"a": ["é😀", -1.5, null], "b": 1})");
    CHECK(test::round_trip(conn, "json", field(build, false), "jsonw_rt") ==
          R"({"b":1,"a":["é😀",-1.5,null]})");
}

TEST_CASE("json writer: escaping equals the server's escape_json for every control char, "
          "quote and backslash", "[codecs][json][pg]") {
    auto conn = test::connect();
    std::string value;
    std::string literal = "E'";
    for (int byte = 1; byte < 0x20; byte++) {
        value += static_cast<char>(byte);
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
        literal += escaped;
    }
    value += "\"\\/ é€😀 end";
    literal += "\"\\\\/ é€😀 end'::text";
    std::string ours_json = field([&](JsonWriter& w) { w.string(value); }, false);
    std::string ours_jsonb = field([&](JsonWriter& w) { w.string(value); });
    CHECK(hex(test::field_data(ours_json)) ==
          hex(test::server_field(conn, "to_json(" + literal + ")")));
    CHECK(hex(test::field_data(ours_jsonb)) ==
          hex(test::server_field(conn, "to_jsonb(" + literal + ")")));
    CHECK(test::field_data(ours_json) ==
          "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e"
          "\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a"
          "\\u001b\\u001c\\u001d\\u001e\\u001f\\\"\\\\/ é€😀 end\"");
    // The same string as a key, and long enough (> 16 bytes) to take the chunked path.
    std::string long_value = value + value + value;
    std::string ours_key = field([&](JsonWriter& w) {
        w.begin_object();
        w.key(long_value);
        w.string(long_value);
        w.end_object();
    });
    CHECK(test::round_trip(conn, "jsonb", ours_key, "jsonw_esc") ==
          server_text(conn, "SELECT jsonb_build_object(" + literal + "||" + literal + "||" +
                                literal + ", " + literal + "||" + literal + "||" + literal +
                                ")::text"));
}

TEST_CASE("json writer: escaping at every position of short and long strings",
          "[codecs][json]") {
    // A special byte at each offset of strings of length 1..40 (the 16-byte fast path, the
    // block loop and the tail), compared with a byte-by-byte reference.
    for (std::size_t size = 1; size <= 40; size++) {
        for (std::size_t at = 0; at < size; at++) {
            for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
                std::string value(size, 'a');
                value[at] = special;
                std::string expected = "\"" + value.substr(0, at);
                expected += special == '"'    ? "\\\""
                            : special == '\\' ? "\\\\"
                            : special == '\n' ? "\\n"
                            : special == 1    ? "\\u0001"
                                              : "\\u001f";
                expected += value.substr(at + 1) + "\"";
                REQUIRE(written([&](JsonWriter& w) { w.string(value); }) == expected);
            }
        }
    }
}

TEST_CASE("json writer: numbers in exact bytes and through the server", "[codecs][json][pg]") {
    auto conn = test::connect();
    struct Case {
        Build build;
        std::string_view text;
        std::string_view jsonb_literal;  // what the server makes of the same number
    };
    const Case cases[] = {
        {[](JsonWriter& w) { w.number(-0.0); }, "-0", "-0"},
        {[](JsonWriter& w) { w.number(0.0); }, "0", "0"},
        {[](JsonWriter& w) { w.number(1.5); }, "1.5", "1.5"},
        {[](JsonWriter& w) { w.number(0.1); }, "0.1", "0.1"},
        {[](JsonWriter& w) { w.number(1e20); }, "1e+20", "1e20"},
        {[](JsonWriter& w) { w.number(1e300); }, "1e+300", "1e300"},
        {[](JsonWriter& w) { w.number(-1.7976931348623157e308); }, "-1.7976931348623157e+308",
         "-1.7976931348623157e308"},
        {[](JsonWriter& w) { w.number(5e-324); }, "5e-324", "5e-324"},
        {[](JsonWriter& w) { w.number(2.2250738585072014e-308); }, "2.2250738585072014e-308",
         "2.2250738585072014e-308"},
        {[](JsonWriter& w) { w.number(std::numeric_limits<std::int64_t>::min()); },
         "-9223372036854775808", "-9223372036854775808"},
        {[](JsonWriter& w) { w.number(std::numeric_limits<std::int64_t>::max()); },
         "9223372036854775807", "9223372036854775807"},
        {[](JsonWriter& w) { w.number(std::numeric_limits<std::uint64_t>::max()); },
         "18446744073709551615", "18446744073709551615"},
        {[](JsonWriter& w) { w.number(std::int64_t{0}); }, "0", "0"},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        CHECK(written(c.build) == c.text);
        // json keeps our text verbatim; jsonb parses it as numeric, exactly like the literal.
        CHECK(test::round_trip(conn, "json", field(c.build, false), "jsonw_num") == c.text);
        CHECK(test::round_trip(conn, "jsonb", field(c.build), "jsonw_num") ==
              server_text(conn, "SELECT '" + std::string(c.jsonb_literal) + "'::jsonb::text"));
        // And the double the server reads back is the one we wrote.
        CHECK(server_text(conn, "SELECT (v #>> '{}')::float8 = '" + std::string(c.text) +
                                    "'::float8 FROM jsonw_num") == "t");
    }
}

TEST_CASE("json writer: NaN and infinities fail or become null per policy", "[codecs][json]") {
    const double values[] = {std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity()};
    for (double value : values) {
        Status status = failure([&](JsonWriter& w) {
            w.begin_array();
            w.number(1);
            w.number(value);
            w.end_array();
        });
        CHECK(status.code == Errc::json_non_finite);
        CHECK(status.position == 2);  // "[1" written before
        CHECK(written(
                  [&](JsonWriter& w) {
                      w.begin_array();
                      w.number(value);
                      w.number(value);
                      w.end_array();
                  },
                  {.non_finite = NonFinitePolicy::null}) == "[null,null]");
    }
}

TEST_CASE("json writer: NUL in a string or key fails, is stripped or replaced per policy",
          "[codecs][json][pg]") {
    using namespace std::string_view_literals;
    auto conn = test::connect();
    for (std::string_view value : {"a\0b"sv, "\0"sv, "0123456789abcdefghij\0tail"sv}) {
        auto pos = static_cast<std::uint32_t>(value.find('\0'));
        Status in_string = failure([&](JsonWriter& w) { w.string(value); });
        CHECK(in_string.code == Errc::json_nul_escape);
        CHECK(in_string.position == pos);
        Status in_key = failure([&](JsonWriter& w) {
            w.begin_object();
            w.key(value);
            w.null();
            w.end_object();
        });
        CHECK(in_key.code == Errc::json_nul_escape);
        CHECK(in_key.position == pos);
    }
    Build build = [](JsonWriter& w) {
        w.begin_object();
        w.key("k\0ey"sv);
        w.string("\0va\0lue\0"sv);
        w.end_object();
    };
    CHECK(test::round_trip(conn, "jsonb", field(build, true, {.nul = NulPolicy::strip}),
                           "jsonw_nul") == R"({"key": "value"})");
    CHECK(test::round_trip(conn, "jsonb", field(build, true, {.nul = NulPolicy::replace}),
                           "jsonw_nul") == "{\"k\uFFFDey\": \"\uFFFDva\uFFFDlue\uFFFD\"}");
    CHECK(written(build, {.nul = NulPolicy::replace}) ==
          "{\"k\xEF\xBF\xBD" "ey\":\"\xEF\xBF\xBDva\xEF\xBF\xBDlue\xEF\xBF\xBD\"}");
}

TEST_CASE("json writer: invalid UTF-8 in strings and keys fails at the bad byte's offset",
          "[codecs][json]") {
    using namespace std::string_view_literals;
    struct Case {
        std::string_view bytes;
        std::uint32_t position;
    };
    const Case cases[] = {
        {"ab\xC3\x28"sv, 2},                      // lead byte without continuation
        {"\xED\xA0\x80"sv, 0},                    // UTF-8 encoded surrogate U+D800
        {"x\xC0\xAF"sv, 1},                       // overlong '/'
        {"\xF4\x90\x80\x80"sv, 0},                // above U+10FFFF
        {"abc\xE2\x82"sv, 3},                     // truncated at the end
        {"\x80"sv, 0},                            // stray continuation byte
        {"é€😀 0123456789abcdef\xFF tail"sv, 26},  // long: chunked path, after valid multibyte
    };
    for (const Case& c : cases) {
        INFO(hex(c.bytes));
        Status in_string = failure([&](JsonWriter& w) { w.string(c.bytes); });
        CHECK(in_string.code == Errc::invalid_utf8);
        CHECK(in_string.position == c.position);
        Status in_key = failure([&](JsonWriter& w) {
            w.begin_object();
            w.key(c.bytes);
            w.number(1);
            w.end_object();
        });
        CHECK(in_key.code == Errc::invalid_utf8);
        CHECK(in_key.position == c.position);
    }
    // Invalid UTF-8 before a NUL is reported first, at its own offset.
    Status both = failure([](JsonWriter& w) { w.string("a\xFF\0"sv); });
    CHECK(both.code == Errc::invalid_utf8);
    CHECK(both.position == 1);
}

TEST_CASE("json writer: depth_max containers are accepted, one more is refused",
          "[codecs][json][pg]") {
    for (std::uint32_t depth_max : {1u, 5u, 1000u}) {
        JsonWriterOptions options{.depth_max = depth_max};
        auto nest = [depth_max](JsonWriter& w, std::uint32_t depth, bool objects) {
            for (std::uint32_t i = 0; i < depth; i++) {
                if (objects) {
                    w.begin_object();
                    w.key("k");
                } else {
                    w.begin_array();
                }
            }
            w.number(1);
            for (std::uint32_t i = 0; i < depth; i++) {
                objects ? w.end_object() : w.end_array();
            }
            (void)depth_max;
        };
        for (bool objects : {false, true}) {
            std::string ok = written([&](JsonWriter& w) { nest(w, depth_max, objects); }, options);
            CHECK(ok.size() > depth_max);
            Status too_deep =
                failure([&](JsonWriter& w) { nest(w, depth_max + 1, objects); }, options);
            CHECK(too_deep.code == Errc::json_depth_exceeded);
            CHECK(too_deep.position == (objects ? 5 : 1) * depth_max);
        }
    }
    auto conn = test::connect();
    std::string deep = field([](JsonWriter& w) {
        for (int i = 0; i < 1000; i++) {
            w.begin_array();
        }
        for (int i = 0; i < 1000; i++) {
            w.end_array();
        }
    });
    CHECK(test::round_trip(conn, "jsonb", deep, "jsonw_deep").size() == 2000);
}

TEST_CASE("json writer: structural misuse is a json_syntax error, never an abort",
          "[codecs][json]") {
    const std::pair<const char*, Build> misuses[] = {
        {"key at the top level", [](JsonWriter& w) { w.key("k"); }},
        {"key in an array",
         [](JsonWriter& w) {
             w.begin_array();
             w.key("k");
         }},
        {"value where a key is expected",
         [](JsonWriter& w) {
             w.begin_object();
             w.number(1);
         }},
        {"two keys in a row",
         [](JsonWriter& w) {
             w.begin_object();
             w.key("a");
             w.key("b");
         }},
        {"end_array closing an object",
         [](JsonWriter& w) {
             w.begin_object();
             w.end_array();
         }},
        {"end_object closing an array",
         [](JsonWriter& w) {
             w.begin_array();
             w.end_object();
         }},
        {"end_object after a key without value",
         [](JsonWriter& w) {
             w.begin_object();
             w.key("a");
             w.end_object();
         }},
        {"end_array with nothing open", [](JsonWriter& w) { w.end_array(); }},
        {"end_object after the document", [](JsonWriter& w) {
             w.begin_object();
             w.end_object();
             w.end_object();
         }},
        {"two top-level values",
         [](JsonWriter& w) {
             w.number(1);
             w.number(2);
         }},
        {"a container after a top-level value",
         [](JsonWriter& w) {
             w.string("a");
             w.begin_array();
         }},
        {"raw after a top-level value",
         [](JsonWriter& w) {
             w.null();
             w.raw("1");
         }},
        {"empty raw text", [](JsonWriter& w) { w.raw(""); }},
    };
    for (const auto& [what, build] : misuses) {
        INFO(what);
        CHECK(failure(build).code == Errc::json_syntax);
    }
    Status late = failure([](JsonWriter& w) {
        w.begin_array();
        w.number(12);
        w.end_array();
        w.number(3);
    });
    CHECK(late.position == 4);  // "[12]" written before the second value
}

TEST_CASE("json writer: an incomplete document fails finish with json_unbalanced",
          "[codecs][json]") {
    const std::pair<const char*, Build> incomplete[] = {
        {"nothing written", [](JsonWriter&) {}},
        {"open array",
         [](JsonWriter& w) {
             w.begin_array();
             w.number(1);
         }},
        {"open object", [](JsonWriter& w) { w.begin_object(); }},
        {"key waiting for its value",
         [](JsonWriter& w) {
             w.begin_object();
             w.key("k");
         }},
        {"inner container open",
         [](JsonWriter& w) {
             w.begin_array();
             w.begin_object();
             w.end_object();
             w.begin_array();
             w.end_array();
         }},
    };
    for (const auto& [what, build] : incomplete) {
        INFO(what);
        CHECK(failure(build).code == Errc::json_unbalanced);
    }
}

TEST_CASE("json writer: strings over 268435455 bytes are refused", "[codecs][json][.]") {
    std::string huge(json_string_size_max + 1, 'a');
    Status status = failure([&](JsonWriter& w) { w.string(huge); });
    CHECK(status.code == Errc::json_string_too_long);
    huge.pop_back();
    std::string ok = written([&](JsonWriter& w) { w.string(huge); });
    CHECK(ok.size() == json_string_size_max + 2);
    // Replacing a NUL with the 3-byte U+FFFD pushes the same size over the limit.
    huge[0] = '\0';
    CHECK(failure([&](JsonWriter& w) { w.string(huge); }, {.nul = NulPolicy::replace}).code ==
          Errc::json_string_too_long);
}

TEST_CASE("json writer: raw text is copied verbatim as one value", "[codecs][json][pg]") {
    std::string text = written([](JsonWriter& w) {
        w.begin_array();
        w.raw(R"({"a": [1, 2.50, "\"\\\/\n\ud83d\ude00\uD83D\uDE00 \\u0000"]})");
        w.raw("  7  ");
        w.end_array();
    });
    CHECK(text == R"([{"a": [1, 2.50, "\"\\\/\n\ud83d\ude00\uD83D\uDE00 \\u0000"]},  7  ])");
    auto conn = test::connect();
    std::string jsonb = field([](JsonWriter& w) { w.raw(R"({"b": "\ud83d\ude00\\u0000"})"); });
    CHECK(test::round_trip(conn, "jsonb", jsonb, "jsonw_raw") == R"({"b": "😀\\u0000"})");
}

TEST_CASE("json writer: raw \\u0000 fails, is stripped or replaced per policy",
          "[codecs][json][pg]") {
    std::string_view text = R"({"k\u0000":"a\u0000b\u0000"})";
    Status status = failure([&](JsonWriter& w) { w.raw(text); });
    CHECK(status.code == Errc::json_nul_escape);
    CHECK(status.position == 3);
    CHECK(written([&](JsonWriter& w) { w.raw(text); }, {.nul = NulPolicy::strip}) ==
          R"({"k":"ab"})");
    CHECK(written([&](JsonWriter& w) { w.raw(text); }, {.nul = NulPolicy::replace}) ==
          R"({"k\ufffd":"a\ufffdb\ufffd"})");
    auto conn = test::connect();
    std::string replaced =
        field([&](JsonWriter& w) { w.raw(text); }, true, {.nul = NulPolicy::replace});
    CHECK(test::round_trip(conn, "jsonb", replaced, "jsonw_rawnul") ==
          "{\"k\uFFFD\": \"a\uFFFDb\uFFFD\"}");
}

TEST_CASE("json writer: raw lone surrogate escapes are refused at their offset",
          "[codecs][json]") {
    struct Case {
        std::string_view text;
        std::uint32_t position;
    };
    const Case cases[] = {
        {R"("\ud800")", 1},               // lone high
        {R"("\udc00")", 1},               // lone low
        {R"("\uDFFF")", 1},               // lone low, upper case
        {R"(["x","\ud800\ud800"])", 6},   // high followed by high
        {R"("ab\ud83dx")", 3},            // high followed by a plain character
        {R"("\ud83d\n")", 1},             // high followed by another escape
        {R"("\ud83d")", 1},               // high at the end of the string
        {R"("\ude00\ud83d")", 1},         // pair in the wrong order
        {R"("\\\udc00")", 3},             // after an escaped backslash
    };
    for (const Case& c : cases) {
        INFO(c.text);
        Status status = failure([&](JsonWriter& w) { w.raw(c.text); });
        CHECK(status.code == Errc::json_lone_surrogate);
        CHECK(status.position == c.position);
        CHECK(failure([&](JsonWriter& w) { w.raw(c.text); }, {.nul = NulPolicy::strip}).code ==
              Errc::json_lone_surrogate);
    }
}

TEST_CASE("json writer: errors are sticky and describe_error names column, value and reason",
          "[codecs][json]") {
    ByteBuffer out;
    out.put_bytes("row");
    JsonWriter writer(out);
    writer.begin_object();
    writer.key("name");
    writer.string("bad \xC3\x28 byte");
    CHECK(writer.status().code == Errc::invalid_utf8);
    CHECK(writer.status().position == 4);
    CHECK(out.view() == "row");
    writer.key("next");
    writer.number(1.0);
    writer.end_object();
    CHECK(out.view() == "row");
    CHECK(writer.finish().code == Errc::invalid_utf8);
    std::string message = describe_error(writer.status(), "attributes", "bad \xC3\x28 byte");
    CHECK_THAT(message, Catch::Contains("column \"attributes\""));
    CHECK_THAT(message, Catch::Contains("bad \\xc3( byte"));
    CHECK_THAT(message, Catch::Contains("at byte 4"));
    CHECK_THAT(message, Catch::Contains("invalid UTF-8"));

    // reset clears the error and starts a new document at the end of the buffer.
    writer.reset(out);
    writer.string("ok");
    CHECK(writer.finish().ok());
    CHECK(out.view() == "row\"ok\"");

    Status nul = failure([](JsonWriter& w) { w.string(std::string_view("a\0", 2)); });
    CHECK_THAT(describe_error(nul, "payload", std::string_view("a\0", 2)),
               Catch::Contains("column \"payload\": value \"a\\x00\" at byte 1: \\u0000 is not "
                               "allowed in jsonb"));
}

TEST_CASE("json writer: a document much larger than the buffer grows it and stays exact",
          "[codecs][json]") {
    ByteBuffer out(1);
    JsonWriter writer(out);
    writer.begin_array();
    std::string expected = "[";
    for (int i = 0; i < 20000; i++) {
        std::string value = "value " + std::to_string(i) + (i % 7 == 0 ? "\t\"" : "");
        writer.string(value);
        expected += (i ? "," : "") + std::string("\"value ") + std::to_string(i) +
                    (i % 7 == 0 ? "\\t\\\"" : "") + "\"";
    }
    writer.end_array();
    expected += "]";
    REQUIRE(writer.finish().ok());
    CHECK(out.view() == expected);
}

namespace {

// The escaping of JsonWriter::string, one byte at a time, for comparison with the SIMD paths.
std::string reference_string(std::string_view value, NulPolicy nul) {
    std::string out = "\"";
    for (char raw : value) {
        auto byte = static_cast<unsigned char>(raw);
        switch (byte) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case 0: out += nul == NulPolicy::replace ? "\xEF\xBF\xBD" : ""; break;
            default:
                if (byte < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
                    out += escaped;
                } else {
                    out += static_cast<char>(byte);
                }
        }
    }
    return out + "\"";
}

}  // namespace

TEST_CASE("json writer: random strings match a byte-by-byte reference", "[codecs][json]") {
    // Seeded: a failure names its seed and case. Bytes are drawn so that specials, NUL,
    // multibyte sequences and invalid bytes all occur, at every position and length.
    const std::uint64_t seed = 20261121;
    std::mt19937_64 random(seed);
    const std::string_view pieces[] = {"a", "Z", " ", "\"", "\\", "\n", "\x01", "\x1f",
                                       "é", "€", "😀", "\x7f", std::string_view("\0", 1),
                                       "\xC3", "\x80", "\xED\xA0\x80"};
    for (int round = 0; round < 20000; round++) {
        std::string value;
        std::size_t count = random() % 48;
        for (std::size_t i = 0; i < count; i++) {
            // Mostly plain letters, as real text is.
            std::size_t pick = random() % 64;
            value += pick < 48 ? pieces[pick % 3] : pieces[pick % 16];
        }
        auto nul = static_cast<NulPolicy>(random() % 3);
        INFO("seed " << seed << " round " << round << " bytes " << hex(value));
        ByteBuffer out;
        JsonWriter writer(out, {.nul = nul});
        writer.string(value);
        Status status = writer.finish();
        Status utf8 = validate_utf8(value);
        std::size_t nul_at = value.find('\0');
        if (!utf8.ok() && (nul == NulPolicy::error ? utf8.position < nul_at : true)) {
            CHECK(status.code == Errc::invalid_utf8);
            CHECK(status.position == utf8.position);
        } else if (nul == NulPolicy::error && nul_at != std::string::npos) {
            CHECK(status.code == Errc::json_nul_escape);
            CHECK(status.position == nul_at);
        } else {
            REQUIRE(status.ok());
            CHECK(out.view() == reference_string(value, nul));
        }
    }
}

TEST_CASE("json writer: strings ending at the end of a readable page are read safely",
          "[codecs][json]") {
    // The last 16 bytes of a page, followed by a page that may not be read: every short-string
    // load must stay within the string's page.
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* mapped = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    REQUIRE(mapped != MAP_FAILED);
    char* base = static_cast<char*>(mapped);
    REQUIRE(mprotect(base + page, page, PROT_NONE) == 0);
    for (std::size_t size = 0; size <= 40; size++) {
        for (const char* fill : {"a", "\n", "é"}) {
            char* text = base + page - size;
            for (std::size_t i = 0; i < size; i++) {
                text[i] = fill[0] == '\xC3' ? (i % 2 ? '\xA9' : '\xC3') : fill[0];
            }
            std::string_view value(text, size);
            bool valid = validate_utf8(value).ok();
            ByteBuffer out;
            JsonWriter writer(out);
            writer.begin_object();
            writer.key(value);
            writer.string(value);
            writer.end_object();
            Status status = writer.finish();
            if (valid) {
                REQUIRE(status.ok());
                std::string quoted = reference_string(value, NulPolicy::error);
                CHECK(out.view() == "{" + quoted + ":" + quoted + "}");
            } else {
                CHECK(status.code == Errc::invalid_utf8);
            }
        }
    }
    munmap(mapped, 2 * page);
}
