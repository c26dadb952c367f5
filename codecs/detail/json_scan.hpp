#pragma once

// JSON text walked in place, byte by byte, with no index and no DOM: for records too large for
// simdjson's DOM, whose structural index and tape cost up to 12 bytes per input byte (a dense
// array of small numbers: 4 bytes of index per structural character, 16 bytes of tape per
// number). `JsonValidator` checks a whole text in constant memory; the cursors then walk the
// members of an object or the elements of an array of text already validated, so a record's
// columns are found as slices of its own text (RecordEncoder's large-record path,
// codecs/load_plan.cpp).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgingest::detail {

/// Why `JsonValidator::validate` refused a text.
struct JsonScanError {
    const char* what = "";   ///< e.g. "expected ':' after an object key"; static storage
    std::size_t offset = 0;  ///< byte offset in the text where it was found
};

/// Checks that a text is exactly one JSON value (RFC 8259), blanks around it allowed: structure,
/// string escapes, no raw control character in a string, valid UTF-8 (simdjson's
/// `validate_utf8`), the grammar of numbers (any magnitude: `1e999` and 30-digit integers are
/// valid JSON), the literals, and nesting at most `depth_max` deep. Lone surrogate escapes and
/// `\u0000` are left to the json/jsonb writer, which checks them (`append_raw_json`). Memory:
/// `depth_max` bytes, allocated by the constructor. Not thread-safe: one per thread.
class JsonValidator {
  public:
    explicit JsonValidator(std::size_t depth_max);

    /// True when `text` is valid (see the class comment); else false and `error` says why.
    [[nodiscard]] bool validate(std::string_view text, JsonScanError& error);

  private:
    std::vector<std::uint8_t> _stack;  ///< open containers: '{' or '['
    std::size_t _depth_max;
};

/// One past the last byte of the value starting at `at` (its first byte) in validated JSON text.
[[nodiscard]] std::size_t skip_json_value(std::string_view text, std::size_t at) noexcept;

/// The members of an object, in order, in validated JSON text. `object` starts with `{` and
/// holds the object (what follows its `}` is not looked at). Keys come as their raw text
/// between the quotes (escapes kept: `unescape_json_string`), values as their whole text.
class JsonMemberCursor {
  public:
    explicit JsonMemberCursor(std::string_view object) noexcept;
    /// The next member; false after the last.
    bool next(std::string_view& raw_key, std::string_view& value) noexcept;

  private:
    std::string_view _text;
    std::size_t _at;
};

/// The elements of an array, in order, in validated JSON text (as `JsonMemberCursor`).
class JsonElementCursor {
  public:
    explicit JsonElementCursor(std::string_view array) noexcept;
    /// The next element's whole text; false after the last.
    bool next(std::string_view& value) noexcept;

  private:
    std::string_view _text;
    std::size_t _at;
};

/// What a lone surrogate escape (`\uD800` not followed by a low one, or a lone low one)
/// becomes when a JSON string is unescaped.
enum class LoneSurrogate : std::uint8_t {
    replace,  ///< U+FFFD, as simdjson's On-Demand `unescaped_key` does
    refuse,   ///< an error, as simdjson's DOM refuses the record (STRING_ERROR)
};

/// The one JSON escape decoder: writes the unescaped bytes of a validated JSON string's raw
/// text (between the quotes) to `out`, which has room for `raw.size()` bytes (unescaping never
/// lengthens a string: an escape is at least as long as the UTF-8 it stands for, U+FFFD's 3
/// bytes included). `\uD83D\uDE00` pairs become one UTF-8 sequence; a lone surrogate as `lone`
/// says. Returns the bytes written, or `npos` at a lone surrogate under `refuse` (what was
/// written before it is left in `out`). Pure.
[[nodiscard]] std::size_t decode_json_escapes(std::string_view raw, char* out,
                                              LoneSurrogate lone) noexcept;

/// Appends the unescaped bytes of a validated JSON string's raw text (between the quotes) to
/// `out`; a lone surrogate becomes U+FFFD (`decode_json_escapes`, `LoneSurrogate::replace`).
void unescape_json_string(std::string_view raw, std::string& out);

/// `decode_json_escapes` with `LoneSurrogate::refuse`, for a huge member written straight into
/// a tuple: a large record's string is refused as the same record small is by the DOM.
[[nodiscard]] std::size_t unescape_json_string_into(std::string_view raw, char* out) noexcept;

}  // namespace pgingest::detail
