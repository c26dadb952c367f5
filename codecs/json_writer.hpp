#pragma once

// Streaming writer of JSON text (RFC 8259) straight into the field being encoded.
//
//   json  field data: [JSON text]                       json.c json_recv
//   jsonb field data: [version:u8=0x01][JSON text]      jsonb.c jsonb_recv (framing: jsonb.hpp)
//
// The text is what PostgreSQL's own parser accepts (common/jsonapi.c, FORMATS.md §2.5 and §3):
// strings are valid UTF-8 with `"`, `\` and control characters escaped as escape_json
// (utils/adt/json.c) does it, never a `\u0000` escape or a NUL byte (jsonb_recv: 22P05, text
// verification: 22021), never a lone surrogate escape (22P02), numbers never NaN or Infinity
// (22P02), nesting bounded by `depth_max` (server: 54001 stack depth), strings at most
// 268435455 bytes (jsonb.c checkStringLen: 54000).

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// write_string is forced inline into its callers (key, string and their *_valid_utf8 forms):
// GCC otherwise keeps one out-of-line copy, and each call then pays for the call, for
// reloading the constants and for testing `flags` at run time. AddressSanitizer refuses to
// inline a no_sanitize_address function into an instrumented one, so there it stays a call.
// Its 16-byte loads may read past the string within the page: ThreadSanitizer, too, looks away.
#if defined(__SANITIZE_ADDRESS__)
#define PGINGEST_WRITE_STRING_ATTRIBUTES __attribute__((no_sanitize_address))
#elif defined(__SANITIZE_THREAD__)
#define PGINGEST_WRITE_STRING_ATTRIBUTES __attribute__((no_sanitize_thread))
#else
#define PGINGEST_WRITE_STRING_ATTRIBUTES __attribute__((no_sanitize_address, always_inline))
#endif
// The key and string forms the DOM walk calls once per value, forced inline into its loop:
// out of line, each call spent about a fifth of its instructions saving and restoring registers.
#define PGINGEST_ALWAYS_INLINE __attribute__((always_inline)) inline

namespace pgingest {

#if defined(__SSE2__)
namespace detail {

/// Bit i set when byte i of `bytes` needs a JSON escape (< 0x20, '"', '\\'), or has its high
/// bit set and `high` is all 0x80. `control_max` is all 0x1F. Pure, any thread.
inline unsigned json_special_mask(__m128i bytes, __m128i control_max, __m128i high) noexcept {
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(bytes, control_max), control_max);
    __m128i special = _mm_or_si128(
        _mm_or_si128(control, _mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'))),
        _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\')), _mm_and_si128(bytes, high)));
    return static_cast<unsigned>(_mm_movemask_epi8(special));
}

}  // namespace detail
#endif

/// What to do with a NUL (U+0000) in a string, a key or a raw `\u0000` escape: jsonb_recv
/// refuses `\u0000` (22P05 "unsupported Unicode escape sequence") and text cannot hold NUL.
enum class NulPolicy : std::uint8_t {
    error,    ///< fail with `Errc::json_nul_escape` at the NUL's byte offset
    strip,    ///< drop the NUL
    replace,  ///< write U+FFFD REPLACEMENT CHARACTER instead
};

/// What to do with NaN and ±Infinity passed to `JsonWriter::number(double)`; JSON has no
/// spelling for them (jsonapi.c: `Token "NaN" is invalid.`).
enum class NonFinitePolicy : std::uint8_t {
    error,  ///< fail with `Errc::json_non_finite`
    null,   ///< write `null`
};

/// Longest string (or key) jsonb can store, in bytes after unescaping (jsonb.c checkStringLen,
/// JENTRY_OFFLENMASK).
inline constexpr std::size_t json_string_size_max = 0x0FFFFFFF;

/// Options of a `JsonWriter`; use designated initializers.
struct JsonWriterOptions {
    NulPolicy nul = NulPolicy::error;
    NonFinitePolicy non_finite = NonFinitePolicy::error;
    /// Most containers open at once; `depth_max` is accepted, one more is
    /// `Errc::json_depth_exceeded`. Keeps documents far from the server's stack limit
    /// (about 13 000 nested objects with max_stack_depth = 2MB, FORMATS.md §3).
    std::uint32_t depth_max = 1000;
};

/// Most bytes `JsonWriter::string` or `key` can write for a string of `size_bytes` bytes:
/// quotes plus six bytes (`\u00XX`) per input byte. For callers that reserve up front.
[[nodiscard]] constexpr std::size_t json_string_encoded_size_max(std::size_t size_bytes) {
    return 2 + 6 * size_bytes;
}

/// Appends already validated JSON text verbatim, checking only what valid JSON may contain but
/// jsonb_recv refuses (common/jsonapi.c json_lex_string): a `\u0000` escape (22P05; per `nul`:
/// `Errc::json_nul_escape`, removed, or rewritten as `\ufffd`) and an unpaired surrogate escape
/// `\uD800`–`\uDFFF` (22P02; `Errc::json_lone_surrogate`). Positions are offsets in the text.
///
/// Finds escapes with memchr for `\`, so text with few backslashes is copied at memcpy speed.
/// The caller guarantees `json_text` is valid JSON in valid UTF-8 (e.g. simdjson parsed it):
/// nothing else is checked, string lengths included. On error the buffer is unchanged.
/// Pure, any thread; the buffer may grow.
[[nodiscard]] Status append_raw_json(ByteBuffer& out, std::string_view json_text, NulPolicy nul);

/// Writes one JSON document, token by token, at the end of a `ByteBuffer`.
///
/// Commas, colons and the object/array/key state are tracked with an explicit stack of
/// `depth_max` frames allocated once in the constructor; after that the writer never allocates
/// (the buffer may grow). Misuse by the caller (a key outside an object, a value where a key is
/// expected, `end_array` closing an object, a second top-level value) is reported as
/// `Errc::json_syntax`, not asserted, because the calls are often driven by input data.
///
/// Buffer: for speed the writer keeps its own cursor into `out` and claims spare room at the
/// buffer's end in large steps, so while a document is open `out.size()` also counts that
/// scratch room. `finish()` (and any error) settles the buffer to exactly the bytes written;
/// call it before writing anything else to `out`. The writer starts at the end `out` had at
/// construction or `reset`: after appending anything else (e.g. `begin_jsonb`), call
/// `reset(out)` before the next document.
///
/// Errors are sticky: the first one is kept in `status()`, the bytes written since the
/// construction or the last `reset` are truncated away, and every later call does nothing.
/// `Status::position` is the byte offset within the offending string for string and key
/// errors (invalid UTF-8, NUL), within the text for `raw`, and the number of document bytes
/// written before the failing call for the other errors.
///
/// Not thread-safe; one writer per producer thread, reused with `reset` for every value.
class JsonWriter {
public:
    /// A writer appending to `out` from its current end. Allocates the depth stack
    /// (`options.depth_max` bytes).
    explicit JsonWriter(ByteBuffer& out, JsonWriterOptions options = {});

    /// Starts a new document at the end of `out`, clearing any error and forgetting the previous
    /// document (whose scratch room stays in its buffer unless `finish()` was called). Does not
    /// allocate.
    void reset(ByteBuffer& out) noexcept;

    /// `{`. `Errc::json_depth_exceeded` when `depth_max` containers are already open.
    void begin_object() { begin_container(frame_object, '{'); }
    /// `}`. `Errc::json_syntax` when the innermost container is not an object or a key waits
    /// for its value.
    void end_object() { end_container(frame_object, '}'); }
    /// `[`. `Errc::json_depth_exceeded` when `depth_max` containers are already open.
    void begin_array() { begin_container(frame_array, '['); }
    /// `]`. `Errc::json_syntax` when the innermost container is not an array.
    void end_array() { end_container(frame_array, ']'); }

    /// An object key (UTF-8), escaped; `Errc::json_syntax` outside an object or where a value
    /// is expected; string errors as `string`.
    void key(std::string_view utf8);

    /// A string value (UTF-8), escaped. `Errc::invalid_utf8` (offset of the bad byte),
    /// `Errc::json_nul_escape` (NulPolicy::error; offset of the NUL),
    /// `Errc::json_string_too_long` (over `json_string_size_max` bytes).
    void string(std::string_view utf8);

    /// `key` for text the caller knows to be valid UTF-8, skipping that check: strings of a
    /// simdjson DOM are (simdjson validates its input and refuses lone surrogate escapes).
    PGINGEST_ALWAYS_INLINE void key_valid_utf8(std::string_view utf8) {
        if (!_status.ok()) [[unlikely]] {
            return;
        }
        if ((_frame & (frame_kind_mask | frame_after_key)) != frame_object) [[unlikely]] {
            fail(Errc::json_syntax, written());
            return;
        }
        int comma = (_frame & frame_has_element) ? 1 : 0;
        _frame |= frame_has_element | frame_after_key;
        write_string(utf8, comma, string_is_key | string_trusted_utf8);
    }
    /// `string` for text the caller knows to be valid UTF-8, skipping that check.
    PGINGEST_ALWAYS_INLINE void string_valid_utf8(std::string_view utf8) {
        int comma = before_value();
        if (comma >= 0) {
            write_string(utf8, comma, string_trusted_utf8);
        }
    }

    /// An integer, in decimal (std::to_chars). Inline: the DOM walk writes one per integer.
    void number(std::int64_t value) {
        int comma = before_value();
        if (comma < 0) {
            return;
        }
        char* at = room(24);
        at[0] = ',';
        _cursor = std::to_chars(at + comma, at + 24, value).ptr;
    }
    /// An unsigned integer, in decimal (std::to_chars).
    void number(std::uint64_t value);
    /// A double in the shortest form that reads back to the same value (std::to_chars), e.g.
    /// `1.5`, `-0`, `1e+300`, `5e-324`; all valid JSON numbers. NaN and ±Infinity follow
    /// `NonFinitePolicy` (`Errc::json_non_finite`).
    void number(double value);
    /// Any other integer type, widened to 64 bits.
    template <std::integral Integer>
        requires(!std::same_as<Integer, bool>)
    void number(Integer value) {
        if constexpr (std::is_signed_v<Integer>) {
            number(static_cast<std::int64_t>(value));
        } else {
            number(static_cast<std::uint64_t>(value));
        }
    }

    /// `true` or `false`.
    void boolean(bool value) { value ? literal("true", 4) : literal("false", 5); }
    /// `null`.
    void null() { literal("null", 4); }

    /// Copies already validated JSON text verbatim as one value; see `append_raw_json` for
    /// what is checked (`\u0000` per NulPolicy, lone surrogate escapes) and what the caller
    /// guarantees (valid JSON, valid UTF-8). `Errc::json_syntax` for empty text.
    void raw(std::string_view json_text);

    /// The first error, or ok.
    [[nodiscard]] Status status() const noexcept { return _status; }

    /// Checks that exactly one complete value was written (every container closed):
    /// `Errc::json_unbalanced` otherwise, or the sticky error. Settles the buffer to exactly the
    /// bytes of the document (nothing on error).
    [[nodiscard]] Status finish() noexcept;

    /// Containers open now (0 at the top level).
    [[nodiscard]] std::uint32_t depth() const noexcept { return _depth; }

    /// The options given at construction.
    [[nodiscard]] const JsonWriterOptions& options() const noexcept { return _options; }

private:
    // Frame byte: what the innermost open container is and where in it we are.
    static constexpr std::uint8_t frame_top = 0;
    static constexpr std::uint8_t frame_array = 1;
    static constexpr std::uint8_t frame_object = 2;
    static constexpr std::uint8_t frame_kind_mask = 3;
    static constexpr std::uint8_t frame_has_element = 4;  // a comma goes before the next one
    static constexpr std::uint8_t frame_after_key = 8;    // a key waits for its value

    // Checks that a value may come here: -1 on error (now sticky), else how many comma bytes
    // (0 or 1) go before the value.
    int before_value() noexcept {
        if (!_status.ok()) [[unlikely]] {
            return -1;
        }
        std::uint8_t kind = _frame & frame_kind_mask;
        if (kind == frame_array) {
            int comma = (_frame & frame_has_element) ? 1 : 0;
            _frame |= frame_has_element;
            return comma;
        }
        if (kind == frame_object && (_frame & frame_after_key)) {
            _frame &= static_cast<std::uint8_t>(~frame_after_key);
            return 0;
        }
        if (kind == frame_top && !(_frame & frame_has_element)) {
            _frame |= frame_has_element;
            return 0;
        }
        fail(Errc::json_syntax, written());
        return -1;
    }

    // At least `count` writable bytes at the cursor (claims more buffer room if needed).
    char* room(std::size_t count) {
        if (static_cast<std::size_t>(_limit - _cursor) < count) [[unlikely]] {
            grow(count);
        }
        return _cursor;
    }

    void begin_container(std::uint8_t kind, char open) {
        int comma = before_value();
        if (comma < 0) {
            return;
        }
        if (_depth >= _options.depth_max) [[unlikely]] {
            fail(Errc::json_depth_exceeded, written());
            return;
        }
        _stack[_depth++] = _frame;
        _frame = kind;
        char* at = room(2);
        at[0] = ',';
        at[comma] = open;
        _cursor = at + comma + 1;
    }

    void end_container(std::uint8_t kind, char close) {
        if (!_status.ok()) [[unlikely]] {
            return;
        }
        if ((_frame & (frame_kind_mask | frame_after_key)) != kind) [[unlikely]] {
            fail(Errc::json_syntax, written());
            return;
        }
        *room(1) = close;
        _cursor += 1;
        _frame = _stack[--_depth];
    }

    // `size` is 4 or 5; "true", "null" and "false" are stored with one 5-byte move.
    void literal(const char* text, std::size_t size) {
        int comma = before_value();
        if (comma < 0) {
            return;
        }
        char* at = room(8);
        at[0] = ',';
        std::memcpy(at + comma, text, 5);  // a spare byte past the text is overwritten later
        _cursor = at + comma + size;
    }
    static constexpr unsigned string_is_key = 1;      // write_string flags
    static constexpr unsigned string_trusted_utf8 = 2;
    void write_key(std::string_view utf8, unsigned flags);

    // Writes [comma] "escaped" [:] at the cursor. Inline fast path for strings with nothing
    // to escape (and only ASCII unless the UTF-8 is trusted), which is most keys and values:
    // 16-byte blocks copied and tested; at the first block needing more, `write_string_rest`
    // takes over where this stopped. The last block may read past the string's end but never
    // into another page (like glibc's SIMD strlen), hence the AddressSanitizer exemption; those
    // bytes are masked off and overwritten.
    PGINGEST_WRITE_STRING_ATTRIBUTES void write_string(std::string_view utf8, int comma,
                                                       unsigned flags) {
#if defined(__SSE2__)
        std::size_t size = utf8.size();
        if (size > json_string_size_max) [[unlikely]] {
            write_string_chunks(utf8, comma, flags);  // fails
            return;
        }
        char* at = room(size + 20);  // comma, quote, text, 16 bytes of store slack
        at[0] = ',';
        at[comma] = '"';
        at += comma + 1;
        const char* src = utf8.data();
        const char* const end = src + size;
        const __m128i control_max = _mm_set1_epi8(0x1F);
        const __m128i high = (flags & string_trusted_utf8) ? _mm_setzero_si128()
                                                            : _mm_set1_epi8(-128);
        unsigned mask = 0;
        while (end - src >= 16) {
            __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(at), bytes);
            mask = detail::json_special_mask(bytes, control_max, high);
            if (mask != 0) {
                break;
            }
            src += 16;
            at += 16;
        }
        if (mask == 0 && src != end) {
            auto left = static_cast<std::size_t>(end - src);
            if ((reinterpret_cast<std::uintptr_t>(src) & 4095) <= 4096 - 16) {
                __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(at), bytes);
                mask = detail::json_special_mask(bytes, control_max, high) & ((1u << left) - 1);
                if (mask == 0) {
                    src += left;
                    at += left;
                }
            } else {
                mask = 1;  // at the end of a page: the careful path finishes
            }
        }
        if (mask == 0) [[likely]] {
            at[0] = '"';
            at[1] = ':';
            _cursor = at + 1 + (flags & string_is_key);
            return;
        }
        _cursor = at;
        write_string_rest(utf8, static_cast<std::size_t>(src - utf8.data()), flags);
#else
        write_string_chunks(utf8, comma, flags);
#endif
    }

    void write_string_rest(std::string_view utf8, std::size_t done, unsigned flags);
    void write_string_chunks(std::string_view utf8, int comma, unsigned flags);
    void grow(std::size_t count);
    void settle() noexcept;
    std::uint32_t written() const noexcept;
    void fail(Errc code, std::size_t position) noexcept;

    ByteBuffer* _out;
    char* _cursor = nullptr;  // next byte of the document, inside *_out
    char* _limit = nullptr;   // end of the room claimed in *_out
    std::size_t _start = 0;   // where this document starts in *_out
    JsonWriterOptions _options;
    std::unique_ptr<std::uint8_t[]> _stack;  // frames of the enclosing containers
    std::uint32_t _depth = 0;
    std::uint8_t _frame = frame_top;
    Status _status{};
};

}  // namespace pgingest
