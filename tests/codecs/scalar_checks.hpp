#pragma once

// Shared checks of the issue 10 scalar codec tests (time_of_day, network, bits, misc_types):
// our bytes against the server's send function for the same text, the reject path (Errc,
// position, message, buffer unchanged, the server's SQLSTATE), and a differential run over
// mutated spellings. Text is quoted with $q$ so that quotes and backslashes pass unchanged.

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"
#include "engine/errors.hpp"
#include "tests/support/mutate.hpp"
#include "tests/support/pg.hpp"

namespace pgingest::test {

using TextEncoder = std::function<Status(ByteBuffer&, std::string_view)>;

inline std::string dollar_quoted(std::string_view text) {
    return "$q$" + std::string(text) + "$q$";
}

/// Our field bytes for `text`; fails the test when the encoder refuses it.
inline std::string encode_ok(const TextEncoder& encoder, std::string_view text) {
    ByteBuffer out;
    Status status = encoder(out, text);
    INFO("text: [" << text << "] status " << errc_reason(status.code) << " at "
                   << status.position);
    REQUIRE(status.ok());
    return std::string(out.view());
}

/// For each text: our bytes equal the server's send bytes of `'<text>'::<type>`, and the field
/// loaded into a `<type>` column reads back as the server's own text of the value.
inline void check_against_server(Connection& conn, const std::string& type,
                                 const TextEncoder& encoder,
                                 const std::vector<std::string>& texts) {
    for (const std::string& text : texts) {
        INFO(type << " text: [" << text << "]");
        std::string ours = encode_ok(encoder, text);
        std::string literal = dollar_quoted(text) + "::" + type;
        CHECK(hex(field_data(ours)) == hex(server_field(conn, literal)));
        CHECK(round_trip(conn, type, ours, "scalar_rt") ==
              conn.query_value("SELECT (" + literal + ")::text"));
    }
}

/// For types whose send function writes a normalised form (xml drops its declaration, jsonpath
/// prints the parsed path): the field loaded into a `<type>` column reads back as the server's
/// own text of `'<text>'::<type>`.
inline void check_round_trips(Connection& conn, const std::string& type,
                              const TextEncoder& encoder, const std::vector<std::string>& texts) {
    for (const std::string& text : texts) {
        INFO(type << " text: [" << text << "]");
        std::string ours = encode_ok(encoder, text);
        CHECK(round_trip(conn, type, ours, "scalar_rt") ==
              conn.query_value("SELECT (" + dollar_quoted(text) + "::" + type + ")::text"));
    }
}

/// A text we refuse: the Errc, the byte position (ignored for codes without a position) and
/// the server's SQLSTATE for the same text (nullptr: the server accepts it, our grammar is
/// narrower, or keeps less than was written).
struct Bad {
    std::string text;
    Errc code;
    std::uint32_t position;
    const char* sqlstate;
};

inline void check_rejected(Connection& conn, const std::string& type, const TextEncoder& encoder,
                           const std::vector<Bad>& cases) {
    // The server's verdict is asked of COPY (text format) into a column of the type: its input
    // function gets the column's typmod, as in a binary COPY. An explicit cast would be laxer
    // (CAST('10' AS bit(3)) pads) and an INSERT parses before it checks the length.
    conn.exec("DROP TABLE IF EXISTS pg_temp.scalar_check");
    conn.exec("CREATE TEMP TABLE scalar_check (v " + type + ")");
    for (const Bad& bad : cases) {
        INFO(type << " text: [" << bad.text << "]");
        ByteBuffer out;
        out.put_bytes("keep");
        Status status = encoder(out, bad.text);
        CHECK(status.code == bad.code);
        if (errc_position_unit(bad.code) != nullptr) {
            CHECK(status.position == bad.position);
        }
        CHECK(out.view() == "keep");
        std::string message = describe_error(status, "c", bad.text);
        CHECK_THAT(message, Catch::Contains("column \"c\""));
        CHECK_THAT(message, Catch::Contains(errc_reason(bad.code)));
        if (bad.text.find('\0') != std::string::npos) {
            continue;  // SQL text cannot carry a NUL: nothing to ask the server
        }
        std::string line;
        for (char c : bad.text) {
            const char* escaped = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n"
                                  : c == '\r' ? "\\r" : nullptr;
            line += escaped != nullptr ? std::string(escaped) : std::string(1, c);
        }
        line += '\n';
        const std::string copy = "COPY scalar_check FROM STDIN";
        if (bad.sqlstate == nullptr) {
            CHECK_NOTHROW((void)conn.copy_in(copy, line));
            continue;
        }
        try {
            (void)conn.copy_in(copy, line);
            FAIL("the server accepted it");
        } catch (const ServerError& error) {
            CHECK(error.sqlstate() == bad.sqlstate);
        }
    }
}

/// Differential test over mutated spellings of `seeds`: every text we accept, the server
/// accepts with the same bytes (it may accept more: our grammars can be narrower, unless
/// `exact`, where every text the server accepts we must accept too). One COPY; the server's
/// rejections come back as NULL from an exception-catching cast.
inline std::size_t check_mutations(Connection& conn, const std::string& type,
                                   const TextEncoder& encoder,
                                   const std::vector<std::string>& seeds,
                                   std::string_view alphabet, std::mt19937_64& random,
                                   bool exact = false) {
    std::vector<std::string> texts = mutated_texts(seeds, alphabet, 3000, random);
    conn.exec("DROP FUNCTION IF EXISTS pg_temp.try_cast(text)");
    conn.exec("CREATE FUNCTION pg_temp.try_cast(t text) RETURNS " + type +
              " LANGUAGE plpgsql AS $$ BEGIN RETURN t::" + type +
              "; EXCEPTION WHEN others THEN RETURN NULL; END $$");
    std::string array = "array[";
    for (std::size_t i = 0; i < texts.size(); i++) {
        array += (i == 0 ? "" : ",") + dollar_quoted(texts[i]);
    }
    std::vector<std::optional<std::string>> server = stream_fields(conn.copy_out(
        "COPY (SELECT pg_temp.try_cast(x) FROM unnest(" + array + "]" +
        "::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n) TO STDOUT (FORMAT binary)"));
    REQUIRE(server.size() == texts.size());
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < texts.size(); i++) {
        ByteBuffer out;
        if (!encoder(out, texts[i]).ok()) {
            CHECK(out.empty());
            if (exact) {
                INFO(type << " text the server accepts: [" << texts[i] << "]");
                CHECK_FALSE(server[i].has_value());
            }
            continue;
        }
        accepted++;
        INFO(type << " text: [" << texts[i] << "]");
        CHECK(server[i].has_value());
        if (server[i].has_value()) {
            CHECK(hex(field_data(out.view())) == hex(*server[i]));
        }
    }
    std::printf("%s mutations: %zu of %zu accepted by us\n", type.c_str(), accepted,
                texts.size());
    return accepted;
}

}  // namespace pgingest::test
