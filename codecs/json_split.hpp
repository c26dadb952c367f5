#pragma once

// A push-based streaming splitter of one JSON document into records: the elements of the array
// at a JSON pointer (or the value there when it is not an array), found as the bytes arrive, in
// constant memory. `pgingest load --format json-array` and `--pointer` cut their sources with it
// (tools/input.cpp), so a document of any size is never held whole: only the record being cut.
// Pure: no I/O, no threads, no allocation per byte.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgingest {

/// One step of the pointer the splitter follows: an object key or array index (`key`, already
/// unescaped from RFC 6901 `~0`/`~1`), or `wildcard`: every element of an array, every member
/// value of an object. The same meaning as `tools::PointerSegment`.
struct JsonSplitSegment {
    std::string key;
    bool wildcard = false;
};

/// Receives what `JsonSplitter::feed` finds. Offsets count bytes from the first byte ever fed
/// (0-based); lines are 1-based and count `\n` bytes from the first byte fed.
class JsonSplitSink {
  public:
    virtual ~JsonSplitSink() = default;
    /// One record: its JSON text is the fed bytes `[offset, offset + length)`, without blanks
    /// around it; `line` is the line of its first byte. Its bytes were all fed before this call.
    virtual void record(std::uint64_t offset, std::uint64_t length, std::uint64_t line) = 0;
    /// Something outside the records that yields no record: a pointer miss (the splitter goes
    /// on) or malformed JSON (the splitter stops; `JsonSplitter::failed()`). `reason` is as the
    /// simdjson walk of tools/input.cpp words it, e.g. `pointer /a: key "a" not found` or
    /// `malformed JSON: expected ',' or ']' after an array element`. `offset`/`line`: where.
    virtual void error(std::uint64_t offset, std::uint64_t line, std::string reason) = 0;
};

/// Cuts one JSON document, fed in chunks split anywhere (inside strings, escapes, numbers,
/// UTF-8 sequences), into records.
///
/// What is a record: the value at `pointer` (RFC 6901 with `*` segments: every match, in
/// document order); when that value is an array, each of its elements instead. With an empty
/// pointer the root; `require_array` then refuses a root that is not an array (`expected a
/// top-level array (format json-array)`, at offset 0), as `--format json-array` does. A key
/// that occurs twice in an object matches its first occurrence only (as simdjson's
/// `find_field_unordered`).
///
/// Errors, with the offset where they are found:
///  - pointer misses, after which splitting goes on: `pointer /a/b: key "b" not found` and
///    `pointer /a/3: no element "3" in the array` (at the object's or array's first byte, found
///    when it closes), `pointer /a/b: /a is a string, not an object or array` and
///    `pointer /a/*: `*` applied to a number at /a` (at the value);
///  - malformed JSON outside the records (`malformed JSON: ...`): everything outside the records
///    is checked as RFC 8259 says (structure, strings and their escapes, UTF-8, raw control
///    characters, numbers of any magnitude, literals); splitting stops there. Inside a record
///    only what is needed to find its end is checked: strings, and brackets that close what
///    they open. The rest of a record (a missing colon, a bad literal, bad UTF-8) is left to
///    whoever parses the record, so one bad record does not end the document;
///  - `finish()`: a document that ends early (`malformed JSON: the document ends before its
///    value is complete`) or holds nothing (`malformed JSON: the document is empty`);
///  - nesting deeper than `depth_max` (simdjson's default maximum depth is 1024).
///
/// Memory: `depth_max` bytes of bracket stack and a few bytes per pointer segment, allocated
/// by the constructor; a key on the pointer's path is held up to 6 bytes per byte of the wanted
/// key. The caller holds the bytes of the record being cut, from `record_start()`.
///
/// Carrying ancestors' fields down to the records (issue 13: an OTLP resource's attributes onto
/// each span) is meant to be added here: every container on the pointer's path is a `Level`
/// that knows its start offset and, for an object, each member key as it is read. A later
/// change adds a `JsonSplitSink::member(level, key, offset, length)` event for the members of
/// path objects that are not on the path (reported when such a member value ends, like a
/// record), and `record_start()` becomes the lowest offset still needed, so the caller holds
/// those members' bytes until the level closes. Members written before the records array (as
/// OTLP writers put `resource` before `scopeSpans`) then reach each record; members after it
/// arrive after the records and need the caller to hold those records until the level closes.
///
/// Not thread-safe: one splitter per document, on one thread.
class JsonSplitter {
  public:
    /// Throws std::invalid_argument when `depth_max` is 0.
    JsonSplitter(std::vector<JsonSplitSegment> pointer, bool require_array,
                 std::size_t depth_max = 1024);

    /// Feeds the next bytes of the document; calls `sink` for each record and error found.
    /// Returns false once the document is malformed (the error went to `sink`); later calls
    /// then do nothing.
    bool feed(std::string_view bytes, JsonSplitSink& sink);

    /// The document ended: reports an unfinished or empty document (see the class comment).
    /// Returns false when the document is malformed, now or before.
    bool finish(JsonSplitSink& sink);

    /// The offset of the first byte of the record being cut, if one is: the caller must hold
    /// the fed bytes from there on to cut it.
    [[nodiscard]] std::optional<std::uint64_t> record_start() const noexcept;

    /// Whether a malformed-JSON error was reported (feeding stopped).
    [[nodiscard]] bool failed() const noexcept { return _failed; }

    /// Bytes fed so far.
    [[nodiscard]] std::uint64_t position() const noexcept { return _pos; }

    /// The line of the next byte (1-based).
    [[nodiscard]] std::uint64_t line() const noexcept { return _line; }

  private:
    /// Where the next byte is read outside strings and numbers.
    enum class Expect : std::uint8_t {
        value,           ///< a value (document start, after ':' or after ',' in an array)
        value_or_close,  ///< after '[': a value or ']'
        key_or_close,    ///< after '{': a key or '}'
        key,             ///< after ',' in an object
        colon,           ///< after a key
        comma_or_close,  ///< after a value inside a container
        end,             ///< after the root value: blanks only
    };
    /// What is being read across chunk boundaries.
    enum class Token : std::uint8_t { none, string, key, atom, record };

    /// A container on the pointer's path (stack depth < pointer size + 1).
    struct Level {
        bool active = false;    ///< the container is on the path
        bool object = false;    ///< '{' (else '[')
        bool expand = false;    ///< the pointer's target array: its elements are records
        bool found = false;     ///< the wanted key or index was met
        bool child_on = false;  ///< the value being read is on the path
        std::uint64_t start = 0;
        std::uint64_t start_line = 0;
        std::uint64_t index = 0;  ///< elements begun so far (arrays)
        std::string key;          ///< raw bytes of the key being read (objects), capped
        bool key_over = false;    ///< the key being read is longer than the cap
        bool numeric = false;     ///< the segment is an array index (`wanted`)
        std::uint64_t wanted = 0;
    };

    std::size_t step(const char* data, std::size_t size, std::size_t at, JsonSplitSink& sink);
    std::size_t expect_byte(char c, std::size_t at, JsonSplitSink& sink);
    std::size_t comma_or_close(char c, std::size_t at, JsonSplitSink& sink);
    bool begin_value(char c, JsonSplitSink& sink);
    bool begin_plain_value(char c, JsonSplitSink& sink);
    bool begin_path_value(char c, std::size_t depth, JsonSplitSink& sink);
    bool begin_record(char c, JsonSplitSink& sink);
    bool start_atom(char c);
    bool push(char c, JsonSplitSink& sink);
    void close(JsonSplitSink& sink);
    void value_done();
    void begin_element();
    std::size_t string_bytes(const char* data, std::size_t size, std::size_t at,
                             JsonSplitSink& sink);
    bool string_byte(unsigned char c, JsonSplitSink& sink);
    bool atom_byte(char c);
    bool atom_end(JsonSplitSink& sink);
    std::size_t record_bytes(const char* data, std::size_t size, std::size_t at,
                             JsonSplitSink& sink);
    void record_done(std::uint64_t end, JsonSplitSink& sink);
    void key_done();
    bool fail(JsonSplitSink& sink, const char* what);
    bool fail_at(JsonSplitSink& sink, std::uint64_t offset, std::uint64_t line, std::string reason);
    [[nodiscard]] std::string prefix(std::size_t count) const;

    std::vector<JsonSplitSegment> _pointer;
    std::vector<Level> _levels;        ///< one per pointer segment, plus the target
    std::vector<std::uint8_t> _stack;  ///< open containers: '{' or '['
    std::size_t _depth_max;
    bool _require_array;

    Expect _expect = Expect::value;
    Token _token = Token::none;
    bool _failed = false;
    bool _seen = false;       ///< a non-blank byte was fed
    std::uint64_t _pos = 0;   ///< offset of the byte being looked at
    std::uint64_t _base = 0;  ///< offset of the first byte of the chunk being fed
    std::uint64_t _line = 1;

    // Strings outside records.
    bool _escape = false;
    std::uint8_t _hex_left = 0;   ///< hex digits still due in a \u escape
    std::uint8_t _utf8_left = 0;  ///< continuation bytes still due
    std::uint8_t _utf8_lo = 0x80;
    std::uint8_t _utf8_hi = 0xBF;
    std::uint64_t _token_start = 0;
    std::uint64_t _token_line = 0;

    // Numbers and literals outside records.
    std::uint8_t _atom_state = 0;
    const char* _literal = nullptr;  ///< "true", "false" or "null" while reading one
    std::uint8_t _literal_at = 0;

    // The record being cut.
    std::size_t _record_depth = 0;  ///< stack size when it began
    bool _record_string = false;
    bool _record_escape = false;
    bool _record_atom = false;  ///< a scalar record other than a string
    std::uint64_t _record_start = 0;
    std::uint64_t _record_line = 0;
};

}  // namespace pgingest
