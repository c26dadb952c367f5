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

/// A member of an object on the pointer's path, carried down to every record below that object
/// (an OTLP resource's `resource` onto each of its spans). E.g. with the pointer
/// `/resourceSpans/*/scopeSpans/*/spans`, `{.level = 2, .key = "resource"}` names the member
/// `resource` of each `/resourceSpans/*` object and `{.level = 4, .key = "scope"}` the member
/// `scope` of each `/resourceSpans/*/scopeSpans/*` object.
struct JsonCarry {
    /// The object's depth on the path: the number of pointer segments that lead to it (0: the
    /// root). The pointer's segment at `level` must be a key (not `*`) other than `key`.
    std::size_t level = 0;
    /// The member's key as written in the document (escapes not decoded), as pointer keys.
    std::string key;
    /// Its name in the records handed on (any text; escaped when written).
    std::string as;
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
/// Carried members (`JsonCarry`, issue 13): the splitter copies the value of each carried
/// member as it streams by (raw JSON text, whitespace inside kept) and holds it until its object
/// closes; during a `JsonSplitSink::record` call, `carried()` and `compose()` give what applies
/// to that record. Only members written BEFORE the object's member on the path are carried (as
/// OTLP writers put `resource` before `scopeSpans`): records are handed out as they end, and
/// holding them for members that may follow would cost memory without bound. A carried member
/// met after its object's path member is an error (splitting goes on; the records already
/// handed out went without it): `pointer /resourceSpans/*/scopeSpans: member "resource" of
/// /resourceSpans/* comes after scopeSpans; only members before it are carried` (at its key).
/// A key twice in one object: its first occurrence is carried, the others are ignored. A member
/// absent from its object is absent from the records. A record below an object with carried
/// members present must be an object itself, else it is an error in its place (`pointer
/// /a/items: a record with carried members must be an object, not a number`). Memory: the
/// carried values of the objects currently open on the path, beyond the constant state.
///
/// Not thread-safe: one splitter per document, on one thread.
class JsonSplitter {
  public:
    /// Throws std::invalid_argument when `depth_max` is 0, or a carry's level is not a key
    /// segment of the pointer or its key is that segment's key.
    JsonSplitter(std::vector<JsonSplitSegment> pointer, bool require_array,
                 std::size_t depth_max = 1024, std::vector<JsonCarry> carry = {});

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

    /// The carried values in force for the record being handed out (call it from
    /// `JsonSplitSink::record`): one per `JsonCarry`, in the constructor's order, the member's
    /// raw JSON text, or nullopt when its object has no such member (before the path). Views
    /// valid until the next `feed`/`finish`.
    [[nodiscard]] std::vector<std::optional<std::string_view>> carried() const;

    /// Writes to `out` (replacing it) the record `text` with the carried members in force added
    /// before its own: `{"<as>":<value>,...,<the record's members>}`, in the order of the
    /// constructor's carries, absent ones left out; `text` unchanged when none is in force.
    /// `text` must be the record's JSON object text (as handed out). Call from `record`.
    void compose(std::string_view text, std::string& out) const;

    /// Whether a carry is configured.
    [[nodiscard]] bool carries() const noexcept { return !_carry.empty(); }

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
        std::size_t key_cap = 0;  ///< longest key compared at this level (pointer, carries)
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
    void key_done(JsonSplitSink& sink);
    void carry_key(std::size_t depth, bool path_met, JsonSplitSink& sink);
    void carry_end(std::uint64_t end);
    void carry_reset(std::size_t depth);
    [[nodiscard]] bool carry_present() const noexcept;
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
    char _record_first = 0;  ///< the first byte of the record being cut

    /// A carried member's value for the object open at its level.
    struct CarryValue {
        std::string text;
        bool present = false;
        bool seen = false;  ///< its key was met in this object (first occurrence wins)
    };
    std::vector<JsonCarry> _carry;
    std::vector<CarryValue> _carry_values;
    static constexpr std::size_t no_carry = static_cast<std::size_t>(-1);
    std::size_t _carry_next = no_carry;  ///< carry whose value is the next value read
    std::size_t _carry_now = no_carry;   ///< carry whose value is being copied
    std::size_t _carry_depth = 0;        ///< stack size while that value is read
    std::uint64_t _carry_from = 0;       ///< next offset of it to copy
    const char* _data = nullptr;         ///< the chunk being fed
};

}  // namespace pgingest
