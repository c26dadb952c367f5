#pragma once

// Types of the contrib extensions a stock server ships, when created in the database
// (their OIDs differ per database: the catalog finds them by extension and name).
//
//   hstore : [length:i32][pair count:i32] ([key length:i32][key] ([value length:i32][value]
//            | [-1:i32]))) × count                       contrib/hstore/hstore_io.c hstore_recv
//   ltree  : [length:i32][version:u8=1][label text]      contrib/ltree/ltree_io.c ltree_recv
//   citext : as text (citext.c citextrecv is textrecv)  codecs/text.hpp encode_text
//
// hstore_recv reads keys and values with pq_getmsgtext (UTF-8 verified), refuses a NULL key
// (22004 "null value not allowed for hstore key"), then sorts the pairs and drops duplicate
// keys (hstoreUniquePairs: which duplicate survives is not defined), so callers that have a
// rule for duplicates apply it before encoding. ltree_recv checks the version byte and parses
// the text with parse_ltree, whose label rule (alphanumerics by the server's locale, '_') we do
// not repeat: a bad label is the server's reject (42601 / 22023), the only exact judge.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/buffer.hpp"
#include "codecs/copy_binary.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Begins an hstore field: appends the length and pair-count placeholders. Append each pair
/// with `put_hstore_pair`, then `end_hstore` with their count.
[[nodiscard]] FieldStart begin_hstore(ByteBuffer& out);

/// Appends one pair; `value` nullptr for a NULL value. Errors, buffer unchanged: as
/// `encode_text` for the key or the value (position = byte in that string).
[[nodiscard]] Status put_hstore_pair(ByteBuffer& out, std::string_view key,
                                     const std::string_view* value);

/// Completes an hstore field of `pair_count` pairs. `Errc::field_too_large` (bytes left for the
/// caller to truncate) over `copy_field_size_max`.
[[nodiscard]] Status end_hstore(ByteBuffer& out, FieldStart start, std::uint32_t pair_count);

/// An hstore literal taken apart by `parse_hstore_text`.
struct HstoreText {
    /// One pair: key and value as (offset, length) into `chars`; value length -1 for NULL.
    struct Pair {
        std::uint32_t key_offset = 0;
        std::uint32_t key_length = 0;
        std::uint32_t value_offset = 0;
        std::int32_t value_length = -1;
    };
    std::string chars;        ///< keys and values back to back, quotes and escapes removed
    std::vector<Pair> pairs;  ///< in input order, duplicates kept (the server drops them)

    [[nodiscard]] std::string_view key(std::size_t index) const noexcept {
        return std::string_view(chars).substr(pairs[index].key_offset, pairs[index].key_length);
    }
    [[nodiscard]] std::string_view value(std::size_t index) const noexcept {
        return std::string_view(chars).substr(
            pairs[index].value_offset, static_cast<std::size_t>(pairs[index].value_length));
    }
};

/// Parses hstore text as hstore_in does (hstore_io.c parse_hstore, get_val): pairs
/// `key => value` separated by ','; keys and values are "..." (backslash escapes) or unquoted
/// words ending at whitespace, '=' (keys) or ',' (values), with backslash escapes; an unquoted
/// NULL (any case) value is NULL; whitespace around the parts is skipped; "" is empty.
/// Errors: `Errc::invalid_hstore` at the offending byte. Allocates only when `out` grows.
[[nodiscard]] Status parse_hstore_text(std::string_view text, HstoreText& out);

/// Bytes `encode_ltree` appends for `text_size_bytes` bytes of text. Pure.
constexpr std::size_t ltree_encoded_size_max(std::size_t text_size_bytes) noexcept {
    return 4 + 1 + text_size_bytes;
}

/// Appends an ltree field: version 1, then the path text. Errors, buffer unchanged: as
/// `encode_text` (UTF-8, NUL, size). Labels are checked by the server (see above).
[[nodiscard]] Status encode_ltree(ByteBuffer& out, std::string_view text);

}  // namespace pgingest
