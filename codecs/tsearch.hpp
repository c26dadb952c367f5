#pragma once

// Text-search types tsvector and tsquery in binary COPY (FORMATS.md §2.9), parsed from the text a
// user writes by the rules of their input functions (PG15 backend/utils/adt/tsvector.c
// tsvectorin with tsvector_parser.c gettoken_tsvector; tsquery.c tsqueryin / parse_tsquery)
// and written as tsvectorsend / tsquerysend write them:
//
//   tsvector : [nlexemes:i32] ([lexeme:UTF-8 bytes][0:u8][npos:u16][pos:u16 × npos]) × nlexemes
//              pos = [weight:2 bits (3=A 2=B 1=C 0=D)][position:14 bits, 1..16383]
//              lexemes sorted by bytes (shorter first on a common prefix), each once;
//              positions ascending, each once              tsvector.c tsvectorrecv
//   tsquery  : [nitems:i32] item × nitems, in prefix (Polish) order, right operand first:
//              operand  [type:u8=1][weight:u8 bits A=8 B=4 C=2 D=1][prefix:u8 0|1][UTF-8][0:u8]
//              operator [type:u8=2][oper:u8 1=NOT 2=AND 3=OR 4=PHRASE]([distance:i16] PHRASE)
//                                                           tsquery.c tsqueryrecv
//
// tsvectorin sorts the lexemes and merges duplicates (their positions joined, sorted, one entry
// per position with the highest weight, at most 256 positions and none after 16383:
// tsvector.c uniqueentry / uniquePos); tsvectorrecv would sort but not merge, so merging is
// ours to do. tsqueryin keeps operands as written (no normalisation, no stop words).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

namespace detail {

/// One lexeme or operand while parsing: bytes [chars_begin, +length) of the scratch text and
/// positions [positions_begin, +positions_count) of the scratch positions.
struct TsToken {
    std::uint32_t chars_begin = 0;
    std::uint32_t length = 0;
    std::uint32_t positions_begin = 0;
    std::uint32_t positions_count = 0;
    std::uint8_t weight = 0;  ///< tsquery: weight bits
    bool prefix = false;      ///< tsquery: `:*`
};

/// One tsquery item in the order parse_tsquery pushes it (operand index, or an operator).
struct TsItem {
    std::uint8_t oper = 0;  ///< 0 for an operand, else OP_NOT/OP_AND/OP_OR/OP_PHRASE
    std::int16_t distance = 0;
    std::uint32_t token = 0;  ///< operand: index into the tokens
};

}  // namespace detail

/// Room the text-search parsers reuse from value to value, so that after warm-up the row path
/// does not allocate. One per thread (per RowWriter); its contents mean nothing between calls.
struct TsearchScratch {
    std::vector<char> chars;
    std::vector<std::uint16_t> positions;
    std::vector<detail::TsToken> tokens;
    std::vector<detail::TsItem> items;
    std::vector<detail::TsItem> operators;
    std::vector<std::uint32_t> levels;
};

/// Bytes `encode_tsvector_text` appends at most for `text_size_bytes` bytes of text (length
/// prefix included): each lexeme costs its bytes + 3 and takes at least 2 bytes of text with
/// its separator, each position 2 bytes and at least 2 bytes of text. Pure.
constexpr std::size_t tsvector_encoded_size_max(std::size_t text_size_bytes) noexcept {
    return 4 + 4 + 4 * text_size_bytes;
}

/// Bytes `encode_tsquery_text` appends at most for `text_size_bytes` bytes of text (length
/// prefix included): an operand costs its bytes + 4, an operator at most 4 from 3 bytes. Pure.
constexpr std::size_t tsquery_encoded_size_max(std::size_t text_size_bytes) noexcept {
    return 4 + 4 + 5 * text_size_bytes;
}

/// Deepest parenthesis nesting `encode_tsquery_text` accepts; the server's own limit is its
/// stack depth (54001), some thousands of levels.
inline constexpr std::size_t tsquery_depth_max = 1000;

/// Encodes tsvector text as tsvectorin reads it: lexemes separated by spaces; a lexeme quoted
/// with `'` (inside, `''` is a quote) and/or with `\` escaping the next character; optional
/// `:positions`, comma-separated integers 1.. (over 16383 become 16383), each followed by
/// weight letters `A`-`D` (or `*` = A) in any case. Errors, buffer unchanged:
/// - `Errc::invalid_utf8` / `Errc::nul_in_text` at the bad byte (server: 22021);
/// - `Errc::tsvector_syntax` at the byte where the syntax breaks: empty lexeme `''`, `:` with
///   no digit, position 0, two weights on one position, an unterminated quote, a `\` at the
///   end (server: 42601 syntax error in tsvector / wrong position info / no escaped character);
/// - `Errc::tsvector_too_long` at the lexeme of 2048 bytes or more, or (position 0) when the
///   lexemes and positions exceed 1 MiB (server: 54000).
/// Pure, any thread; allocates only while `scratch` or `out` grow.
[[nodiscard]] Status encode_tsvector_text(ByteBuffer& out, std::string_view text,
                                          TsearchScratch& scratch);

/// Encodes tsquery text as tsqueryin reads it: operands as tsvector lexemes (but ending at any
/// of `! & | ( ) <`), each optionally followed by `:` and modifiers `A`-`D` (weights) and `*`
/// (prefix); operators `!` (NOT, binds tightest), `<->` / `<N>` (FOLLOWED BY, N 0..16384), `&`,
/// `|` (loosest), parentheses. Errors, buffer unchanged:
/// - `Errc::invalid_utf8` / `Errc::nul_in_text` at the bad byte (server: 22021);
/// - `Errc::tsquery_syntax` at the byte where the syntax breaks (server: 42601);
/// - `Errc::tsquery_empty` for empty or blank text: tsqueryin takes
///   it as the empty tsquery, but tsqueryrecv refuses a query without items (XX000 malformed
///   tsquery: operand not found), so binary COPY cannot store it;
/// - `Errc::tsquery_out_of_range` at the operator or operand: distance over 16384 (22023), an
///   operand of 2048 bytes or more, operands over 1 MiB in all (54000), more than 32 operators
///   waiting at one nesting level (XX000 tsquery stack too small), or parentheses nested deeper
///   than `tsquery_depth_max`.
/// Pure, any thread; allocates only while `scratch` or `out` grow.
[[nodiscard]] Status encode_tsquery_text(ByteBuffer& out, std::string_view text,
                                         TsearchScratch& scratch);

}  // namespace pgingest
