// Proves the text-search codecs (codecs/tsearch.hpp) against a real PostgreSQL 15 server:
// - tsvector: plain, quoted ('' and \ escapes), multibyte, positions with every weight letter,
//   positions over 16383 and atoi's wrap-around, duplicate lexemes merged, lexemes sorted by
//   bytes, more than 256 positions cut: our bytes equal tsvectorsend's for the same text and
//   load back as the server's text;
// - tsquery: every operator, precedence and associativity, parentheses, <N> up to 16384,
//   weights and prefix, quoting, the empty query: bytes equal tsquerysend's;
// - bad text is rejected with Errc, byte position and describe_error's message, the buffer is
//   unchanged, and the server refuses it too with the SQLSTATE named;
// - seeded mutated spellings (one COPY per type): we accept exactly what the server accepts,
//   with the same bytes.

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "codecs/tsearch.hpp"
#include "engine/errors.hpp"
#include "tests/support/mutate.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

using Encoder = Status (*)(ByteBuffer&, std::string_view, TsearchScratch&);

std::string encode_ok(Encoder encoder, std::string_view text) {
    ByteBuffer out;
    TsearchScratch scratch;
    Status status = encoder(out, text, scratch);
    INFO("text: [" << text << "] status " << static_cast<int>(status.code) << " at "
                   << status.position);
    REQUIRE(status.ok());
    const std::size_t size_max = encoder == encode_tsvector_text
                                     ? tsvector_encoded_size_max(text.size())
                                     : tsquery_encoded_size_max(text.size());
    CHECK(out.size() <= size_max);
    return std::string(out.view());
}

// SQL literal for `text`, dollar-quoted so that quotes and backslashes pass as they are.
std::string literal(std::string_view text, std::string_view type) {
    return "$q$" + std::string(text) + "$q$::" + std::string(type);
}

void check_against_server(Connection& conn, const char* type, Encoder encoder,
                          const std::vector<std::string>& texts) {
    for (const std::string& text : texts) {
        INFO(type << " text: [" << text << "]");
        std::string ours = encode_ok(encoder, text);
        CHECK(hex(test::field_data(ours)) == hex(test::server_field(conn, literal(text, type))));
        CHECK(test::round_trip(conn, type, ours, "tsearch_rt") ==
              conn.query_value("SELECT (" + literal(text, type) + ")::text"));
    }
}

struct Bad {
    std::string text;
    Errc code;
    std::uint32_t position;
    const char* sqlstate;
};

void check_rejected(Connection& conn, const char* type, Encoder encoder,
                    const std::vector<Bad>& cases) {
    for (const Bad& bad : cases) {
        INFO(type << " text: [" << bad.text.substr(0, 80) << "]");
        ByteBuffer out;
        out.put_bytes("keep");
        TsearchScratch scratch;
        Status status = encoder(out, bad.text, scratch);
        CHECK(status.code == bad.code);
        CHECK(status.position == bad.position);
        CHECK(out.view() == "keep");
        std::string message = describe_error(status, "doc", bad.text);
        CHECK_THAT(message, Catch::Contains("column \"doc\": value \""));
        CHECK_THAT(message, Catch::Contains(" at byte " + std::to_string(bad.position)));
        CHECK_THAT(message, Catch::Contains(errc_reason(bad.code)));
        try {
            (void)conn.query_value("SELECT " + literal(bad.text, type));
            FAIL("the server accepted it");
        } catch (const ServerError& error) {
            CHECK(error.sqlstate() == bad.sqlstate);
        }
    }
}

void check_mutations(Connection& conn, const char* type, Encoder encoder,
                     const std::vector<std::string>& seeds, std::string_view alphabet,
                     std::mt19937_64& random) {
    std::vector<std::string> texts = test::mutated_texts(seeds, alphabet, 2000, random);
    conn.exec("DROP FUNCTION IF EXISTS pg_temp.try_cast(text)");
    conn.exec(std::string("CREATE FUNCTION pg_temp.try_cast(t text) RETURNS ") + type +
              " LANGUAGE plpgsql AS $$ BEGIN RETURN t::" + type +
              "; EXCEPTION WHEN others THEN RETURN NULL; END $$");
    std::string array = "array[";
    for (std::size_t i = 0; i < texts.size(); i++) {
        array += (i == 0 ? "$q$" : ",$q$") + texts[i] + "$q$";
    }
    std::vector<std::optional<std::string>> server = test::stream_fields(conn.copy_out(
        "COPY (SELECT pg_temp.try_cast(x) FROM unnest(" + array + "]" +
        "::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n) TO STDOUT (FORMAT binary)"));
    REQUIRE(server.size() == texts.size());
    std::size_t accepted = 0;
    TsearchScratch scratch;  // reused across values, as RowWriter does
    for (std::size_t i = 0; i < texts.size(); i++) {
        INFO(type << " text: [" << texts[i] << "]");
        ByteBuffer out;
        const bool ours = encoder(out, texts[i], scratch).ok();
        CHECK(ours == server[i].has_value());
        if (!ours) {
            CHECK(out.empty());
            continue;
        }
        accepted++;
        if (server[i].has_value()) {
            CHECK(hex(test::field_data(out.view())) == hex(*server[i]));
        }
    }
    std::printf("%s mutations: %zu of %zu accepted\n", type, accepted, texts.size());
}

const char* const syntax = "42601";
const char* const limit = "54000";

}  // namespace

TEST_CASE("tsvector: bytes equal tsvectorsend, lexemes sorted and merged like tsvectorin",
          "[codecs][pg][tsearch]") {
    auto conn = test::connect();
    check_against_server(
        conn, "tsvector", encode_tsvector_text,
        {"", "   ", "a", "a b c", "c b a", "b a b a", "a:1 b:2,3", "a:1A b:2B c:3C d:4D",
         "a:1a,2b,3c,4d", "a:1* b:2*", "a:3,1,2", "a:1,1,1", "a:1A a:1B a:2", "a:1 a", "a a:2",
         "a:2C a:2A a:1", "a:16383 b:16384 c:99999", "a:99999999999", "a:2147483647",
         "a:1DA", "a:1,2,16383,5", "'a b' 'c''d' 'e\\'f'", "a\\ b c\\:d",  ":1", "::1", "a :1", "'a'x",
         "'quoted':1A plain:2", "ab abc a b", "B a A b", "ä é z a", "日本 語:3 😀:1",
         "\ta\nb\r\fc\vd", "'a':1 'a':2 a:3", "x:5,4,3,2,1", "a:1 b:1 c:1",
         "'it''s' don\\'t", "a:1B,1A"});
}

TEST_CASE("tsvector: more than 256 positions of a lexeme are cut like uniquePos",
          "[codecs][pg][tsearch]") {
    auto conn = test::connect();
    std::string many = "w:";
    for (int i = 300; i >= 1; i--) {
        many += std::to_string(i) + (i > 1 ? "," : "");
    }
    std::string split = "w:1,2";
    for (int i = 3; i <= 400; i++) {
        split += " w:" + std::to_string(i);
    }
    check_against_server(conn, "tsvector", encode_tsvector_text, {many, split});
}

TEST_CASE("tsvector: bad text is refused with position and message, as tsvectorin refuses it",
          "[codecs][pg][tsearch]") {
    auto conn = test::connect();
    std::string long_lexeme(2048, 'x');
    check_rejected(conn, "tsvector", encode_tsvector_text,
                   {{"''", Errc::tsvector_syntax, 2, syntax},
                    {"a ''", Errc::tsvector_syntax, 4, syntax},
                    {"'abc", Errc::tsvector_syntax, 4, syntax},
                    {"a\\", Errc::tsvector_syntax, 2, syntax},
                    {"a:", Errc::tsvector_syntax, 2, syntax},
                    {"a:x", Errc::tsvector_syntax, 2, syntax},
                    {"a:0", Errc::tsvector_syntax, 2, syntax},
                    {"a:1,0", Errc::tsvector_syntax, 4, syntax},
                    {"a:4294967296", Errc::tsvector_syntax, 2, syntax},
                    {"a:1AB", Errc::tsvector_syntax, 4, syntax},
                    {"a:1AA", Errc::tsvector_syntax, 4, syntax},
                    {"a:1E", Errc::tsvector_syntax, 3, syntax},
                    {"a:1,", Errc::tsvector_syntax, 4, syntax},
                    {"a:1:2", Errc::tsvector_syntax, 3, syntax},
                    {"a::1", Errc::tsvector_syntax, 2, syntax},
                    {"a:1 b::", Errc::tsvector_syntax, 6, syntax},
                    {"'a':", Errc::tsvector_syntax, 4, syntax},
                    {"'a':x", Errc::tsvector_syntax, 4, syntax},
                    {"b " + long_lexeme, Errc::tsvector_too_long, 2, limit},
                    {"a:-1", Errc::tsvector_syntax, 2, syntax}});
}

TEST_CASE("tsvector: invalid UTF-8 and NUL are refused where they stand", "[codecs][tsearch]") {
    TsearchScratch scratch;
    ByteBuffer out;
    Status status = encode_tsvector_text(out, "ab \xC3(", scratch);
    CHECK(status.code == Errc::invalid_utf8);
    CHECK(status.position == 3);
    status = encode_tsvector_text(out, std::string_view("a\0b", 3), scratch);
    CHECK(status.code == Errc::nul_in_text);
    CHECK(status.position == 1);
    status = encode_tsquery_text(out, "a & \xFF", scratch);
    CHECK(status.code == Errc::invalid_utf8);
    CHECK(status.position == 4);
    CHECK(out.empty());
}

TEST_CASE("tsquery: bytes equal tsquerysend for operators, precedence, modifiers and quoting",
          "[codecs][pg][tsearch]") {
    auto conn = test::connect();
    check_against_server(
        conn, "tsquery", encode_tsquery_text,
        {"a", "a & b", "a | b", "!a", "a <-> b", "a <2> b", "a <0> b", "a <16384> b",
         "a & b | c", "a | b & c", "a & b <-> c", "a <-> b & c", "!a & b", "!!a", "! ! a",
         "!(a | b)", "(a | b) & c", "((a))", "a & (b | (c <-> !d))", "a <-> b <-> c",
         "a <-> (b <-> c)", "a | b | c", "a:*", "a:A", "a:AB", "a:*AbCd", "a:dcba*", "a:",
         "'a b'", "'a b':*B", "'it''s' & x", "a\\&b", "a\\ b", "日本:* & 語", " a  &  b ",
         "a&b|c", "a&!b", "a<->b", "a<3>b", "(a)&(b)", "x:A | y:B <1> !z:C*",
         "a & b & c & d & e & f & g & h", "'&' | '|'"});
}

TEST_CASE("tsquery: bad text is refused with position and message, as tsqueryin refuses it",
          "[codecs][pg][tsearch]") {
    auto conn = test::connect();
    std::string long_operand(2048, 'x');
    std::string nots(33, '!');
    check_rejected(conn, "tsquery", encode_tsquery_text,
                   {{"a &", Errc::tsquery_syntax, 3, syntax},
                    {"& a", Errc::tsquery_syntax, 0, syntax},
                    {"a b", Errc::tsquery_syntax, 2, syntax},
                    {"(a", Errc::tsquery_syntax, 2, syntax},
                    {"a)", Errc::tsquery_syntax, 1, syntax},
                    {"()", Errc::tsquery_syntax, 1, syntax},
                    {"!", Errc::tsquery_syntax, 1, syntax},
                    {":a", Errc::tsquery_syntax, 0, syntax},
                    {"a:x", Errc::tsquery_syntax, 2, syntax},
                    {"a <> b", Errc::tsquery_syntax, 2, syntax},
                    {"a <-1> b", Errc::tsquery_syntax, 2, syntax},
                    {"a < 1> b", Errc::tsquery_syntax, 2, syntax},
                    {"a <->", Errc::tsquery_syntax, 2, syntax},
                    {"a <16385> b", Errc::tsquery_out_of_range, 2, "22023"},
                    {"a <99999999999999999999> b", Errc::tsquery_out_of_range, 2, "22023"},
                    {"''", Errc::tsquery_syntax, 2, syntax},
                    {"'a", Errc::tsquery_syntax, 2, syntax},
                    {"a\\", Errc::tsquery_syntax, 2, syntax},
                    {"a & " + long_operand, Errc::tsquery_out_of_range, 4, limit},
                    {nots + "a", Errc::tsquery_out_of_range, 32, "XX000"},
                    {"a | | b", Errc::tsquery_syntax, 4, syntax},
                    {"a & (b", Errc::tsquery_syntax, 6, syntax}});
}

TEST_CASE("tsquery: the empty query is refused: tsqueryrecv cannot read its own send bytes",
          "[codecs][pg][tsearch]") {
    auto conn = test::connect();
    for (const char* text : {"", "   ", "\t\n"}) {
        INFO("text: [" << text << "]");
        TsearchScratch scratch;
        ByteBuffer out;
        Status status = encode_tsquery_text(out, text, scratch);
        CHECK(status.code == Errc::tsquery_empty);
        CHECK(out.empty());
        CHECK(describe_error(status, "q", text) ==
              std::string("column \"q\": value \"") + (text[0] == '\t' ? "\\x09\\x0a" : text) +
                  "\": empty tsquery: binary COPY cannot carry it (tsqueryrecv refuses it)");
    }
    // The server's own bytes for '' (size 0) do not load back: XX000 malformed tsquery.
    std::string sent = test::server_field(conn, "''::tsquery");
    CHECK(hex(sent) == "00 00 00 00");
    ByteBuffer field;
    field.put_u32(4);
    field.put_bytes(sent);
    try {
        (void)test::round_trip(conn, "tsquery", field.view(), "tsearch_rt");
        FAIL("the server loaded an empty tsquery");
    } catch (const ServerError& error) {
        CHECK(error.sqlstate() == "XX000");
    }
}

TEST_CASE("tsvector/tsquery: mutated spellings are accepted exactly when the server accepts",
          "[codecs][pg][tsearch]") {
    auto conn = test::connect();
    std::uint64_t seed = std::random_device{}();
    std::printf("tsearch mutation test seed: %llu\n", static_cast<unsigned long long>(seed));
    INFO("seed: " << seed);
    std::mt19937_64 random(seed);
    check_mutations(conn, "tsvector", encode_tsvector_text,
                    {"a:1A b:2,3 'c d':4", "x\\ y:16383B z", "'it''s':1,2 a:3* a"},
                    "ab:,12AaBbCcDd*' \\09x", random);
    check_mutations(conn, "tsquery", encode_tsquery_text,
                    {"a & b | !c", "(a <-> b) <2> c:*A", "'x y':B & !(z | w)"},
                    "ab:&|!()<>-12*AB' \\9", random);
}
