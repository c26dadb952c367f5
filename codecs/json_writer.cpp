#include "codecs/json_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "codecs/utf8.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pgingest {

namespace {

// Strings are escaped in chunks so that the room reserved for the worst case (6 output bytes
// per input byte) stays bounded for long strings.
constexpr std::size_t escape_chunk_bytes = 1 << 16;

// Room `escape_chunk` may use beyond six bytes per input byte: it stores 16 bytes at a time.
constexpr std::size_t escape_slack_bytes = 16;

constexpr char hex_digits[] = "0123456789abcdef";

// The letter of the two-byte escape for a byte, 0 for the \u00XX form, as escape_json
// (utils/adt/json.c) writes them. Only bytes < 0x20, '"' and '\\' are looked up.
constexpr char short_escape(unsigned char byte) {
    switch (byte) {
        case '\b': return 'b';
        case '\f': return 'f';
        case '\n': return 'n';
        case '\r': return 'r';
        case '\t': return 't';
        case '"': return '"';
        case '\\': return '\\';
        default: return 0;
    }
}

struct EscapeTables {
    char letter[256] = {};
    bool special[256] = {};  // needs an escape: < 0x20, '"', '\\'
    constexpr EscapeTables() {
        for (int byte = 0; byte < 256; byte++) {
            auto b = static_cast<unsigned char>(byte);
            letter[byte] = short_escape(b);
            special[byte] = b < 0x20 || b == '"' || b == '\\';
        }
    }
};

constexpr EscapeTables escape_tables;

// What escaping one string found besides the bytes it wrote.
struct EscapeScan {
    std::size_t nul_count = 0;
    std::size_t nul_error_at = SIZE_MAX;  // offset of a NUL under NulPolicy::error
    bool non_ascii = false;
};

// Writes the escape for `byte` (a special byte, not NUL) at `dst`; returns the end.
inline char* write_escape(char* dst, unsigned char byte) noexcept {
    dst[0] = '\\';
    if (char letter = escape_tables.letter[byte]) {
        dst[1] = letter;
        return dst + 2;
    }
    dst[1] = 'u';
    dst[2] = '0';
    dst[3] = '0';
    dst[4] = hex_digits[byte >> 4];
    dst[5] = hex_digits[byte & 15];
    return dst + 6;
}

// Handles the special byte at `src`: an escape, or a NUL per policy. Returns the output end, or
// nullptr when a NUL is an error.
inline char* handle_special(char* dst, unsigned char byte, NulPolicy nul, EscapeScan& scan) {
    if (byte != 0) [[likely]] {
        return write_escape(dst, byte);
    }
    if (nul == NulPolicy::error) {
        return nullptr;
    }
    scan.nul_count += 1;
    if (nul == NulPolicy::replace) {
        std::memcpy(dst, "\xEF\xBF\xBD", 3);  // U+FFFD
        return dst + 3;
    }
    return dst;
}

// True when 16 bytes can be read at `at` without touching another page, so reading past the
// end of a short string cannot fault (the same reasoning as glibc's SIMD strlen).
inline bool load16_safe(const char* at) noexcept {
    return (reinterpret_cast<std::uintptr_t>(at) & 4095) <= 4096 - 16;
}

// Where the escaping loops are: the next input byte and the next output byte.
struct EscapeCursor {
    const char* src;
    char* dst;
};

// Handles the special byte at the cursor and steps past it; false (and scan.nul_error_at set)
// when it is a NUL under NulPolicy::error.
inline bool step_special(EscapeCursor& cursor, const char* begin, NulPolicy nul,
                         EscapeScan& scan) noexcept {
    char* next = handle_special(cursor.dst, static_cast<unsigned char>(*cursor.src), nul, scan);
    if (next == nullptr) {
        scan.nul_error_at = static_cast<std::size_t>(cursor.src - begin);
        return false;
    }
    cursor.dst = next;
    cursor.src += 1;
    return true;
}

#if defined(__SSE2__)
// 16 bytes at a time: they are copied unconditionally, then the first one needing an escape (if
// any) is found with a compare mask. A tail shorter than 16 bytes is loaded whole when that
// cannot cross a page, and the bytes past the end are masked off; the read past the end is why
// AddressSanitizer and ThreadSanitizer (which reports it as a use after free when the bytes past
// the end belong to a freed block) are told to look away. Leaves a tail at the end of a page to
// the byte loop.
__attribute__((no_sanitize_address, no_sanitize_thread)) bool escape_blocks(
    EscapeCursor& cursor, const char* begin, const char* end, NulPolicy nul,
    EscapeScan& scan) noexcept {
    const __m128i control_max = _mm_set1_epi8(0x1F);
    const __m128i no_high = _mm_setzero_si128();
    __m128i high = _mm_setzero_si128();
    unsigned high_bits = 0;
    for (;;) {
        unsigned mask = 0;
        auto left = static_cast<std::size_t>(end - cursor.src);
        if (left >= 16) {
            __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(cursor.src));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(cursor.dst), bytes);
            high = _mm_or_si128(high, bytes);
            mask = detail::json_special_mask(bytes, control_max, no_high);
            if (mask == 0) {
                cursor.src += 16;
                cursor.dst += 16;
                continue;
            }
        } else {
            if (left == 0 || !load16_safe(cursor.src)) {
                break;
            }
            __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(cursor.src));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(cursor.dst), bytes);
            unsigned valid = (1u << left) - 1;
            high_bits |= static_cast<unsigned>(_mm_movemask_epi8(bytes)) & valid;
            mask = detail::json_special_mask(bytes, control_max, no_high) & valid;
            if (mask == 0) {
                cursor.src += left;
                cursor.dst += left;
                break;
            }
        }
        auto at = static_cast<unsigned>(__builtin_ctz(mask));
        cursor.src += at;
        cursor.dst += at;
        if (!step_special(cursor, begin, nul, scan)) {
            return false;
        }
    }
    high_bits |= static_cast<unsigned>(_mm_movemask_epi8(high));
    scan.non_ascii = scan.non_ascii || high_bits != 0;
    return true;
}
#endif

// One byte at a time through the table: without SSE2, or for a tail at the end of a page.
bool escape_bytes(EscapeCursor& cursor, const char* begin, const char* end, NulPolicy nul,
                  EscapeScan& scan) noexcept {
    unsigned high_bits = 0;
    while (cursor.src < end) {
        auto byte = static_cast<unsigned char>(*cursor.src);
        high_bits |= byte & 0x80u;
        if (!escape_tables.special[byte]) [[likely]] {
            *cursor.dst++ = static_cast<char>(byte);
            cursor.src += 1;
        } else if (!step_special(cursor, begin, nul, scan)) {
            return false;
        }
    }
    scan.non_ascii = scan.non_ascii || high_bits != 0;
    return true;
}

// Escapes src[0, size) into dst, which has room for 6 * size + escape_slack_bytes. Returns the
// output end; on a NUL error sets scan.nul_error_at (offset in this chunk).
char* escape_chunk(char* dst, const char* src, std::size_t size, NulPolicy nul,
                   EscapeScan& scan) noexcept {
    EscapeCursor cursor{src, dst};
    const char* const end = src + size;
#if defined(__SSE2__)
    if (!escape_blocks(cursor, src, end, nul, scan)) {
        return cursor.dst;
    }
#endif
    (void)escape_bytes(cursor, src, end, nul, scan);
    return cursor.dst;
}

// The value of four hex digits at `at`, or -1.
long hex4(const char* at) noexcept {
    long value = 0;
    for (int i = 0; i < 4; i++) {
        auto c = static_cast<unsigned char>(at[i]);
        int digit = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
        if (digit < 0) {
            return -1;
        }
        value = value * 16 + digit;
    }
    return value;
}

// Result of scanning raw JSON text for what jsonb_recv refuses.
struct RawScan {
    Status status{};
    bool has_nul_escape = false;  // a \u0000 to strip or replace
};

// Finds every escape in valid JSON text (backslashes only occur inside strings there, and each
// starts an escape unless the previous escape consumed it) and checks the \u ones.
RawScan scan_raw(std::string_view text, NulPolicy nul) noexcept {
    RawScan result;
    const char* const begin = text.data();
    const char* const end = begin + text.size();
    const char* at = begin;
    auto fail = [&](Errc code) {
        result.status = Status{code, static_cast<std::uint32_t>(at - begin)};
        return result;
    };
    while (at < end) {
        at = static_cast<const char*>(std::memchr(at, '\\', static_cast<std::size_t>(end - at)));
        if (at == nullptr) {
            break;
        }
        if (end - at < 2) {
            return fail(Errc::json_syntax);
        }
        if (at[1] != 'u') {
            at += 2;
            continue;
        }
        long code = end - at >= 6 ? hex4(at + 2) : -1;
        if (code < 0) {
            return fail(Errc::json_syntax);
        }
        if (code == 0) {
            if (nul == NulPolicy::error) {
                return fail(Errc::json_nul_escape);
            }
            result.has_nul_escape = true;
        } else if (code >= 0xD800 && code <= 0xDBFF) {
            long low = end - at >= 12 && at[6] == '\\' && at[7] == 'u' ? hex4(at + 8) : -1;
            if (low < 0xDC00 || low > 0xDFFF) {
                return fail(Errc::json_lone_surrogate);
            }
            at += 6;
        } else if (code >= 0xDC00 && code <= 0xDFFF) {
            return fail(Errc::json_lone_surrogate);
        }
        at += 6;
    }
    return result;
}

// Copies `json_text` with each \u0000 escape removed or replaced by \ufffd (scan_raw has
// checked the text and found at least one).
void raw_rewrite(ByteBuffer& out, std::string_view json_text, NulPolicy nul) {
    const char* const end = json_text.data() + json_text.size();
    const char* copied = json_text.data();
    const char* at = copied;
    while (at < end) {
        at = static_cast<const char*>(std::memchr(at, '\\', static_cast<std::size_t>(end - at)));
        if (at == nullptr) {
            break;
        }
        if (at[1] != 'u' || hex4(at + 2) != 0) {
            at += at[1] == 'u' ? 6 : 2;
            continue;
        }
        out.put_bytes(copied, static_cast<std::size_t>(at - copied));
        if (nul == NulPolicy::replace) {
            out.put_bytes("\\ufffd", 6);
        }
        at += 6;
        copied = at;
    }
    out.put_bytes(copied, static_cast<std::size_t>(end - copied));
}

}  // namespace

Status append_raw_json(ByteBuffer& out, std::string_view json_text, NulPolicy nul) {
    RawScan scan = scan_raw(json_text, nul);
    if (!scan.status.ok()) {
        return scan.status;
    }
    if (!scan.has_nul_escape) [[likely]] {
        out.put_bytes(json_text);
        return Status{};
    }
    raw_rewrite(out, json_text, nul);
    return Status{};
}

JsonWriter::JsonWriter(ByteBuffer& out, JsonWriterOptions options)
    : _options(options),
      _stack(new std::uint8_t[options.depth_max == 0 ? 1 : options.depth_max]) {
    reset(out);
}

void JsonWriter::reset(ByteBuffer& out) noexcept {
    _out = &out;
    _start = out.size();
    _cursor = out.data() + out.size();
    _limit = _cursor;
    _depth = 0;
    _frame = frame_top;
    _status = Status{};
}

void JsonWriter::grow(std::size_t count) {
    ByteBuffer& out = *_out;
    auto used = static_cast<std::size_t>(_cursor - out.data());
    out.truncate(used);
    // Claim all spare capacity (at least 4 KiB): the buffer then doubles, so growth stays
    // amortised O(1) however the document is cut into calls.
    std::size_t claim = std::max({count, out.capacity() - used, std::size_t{4096}});
    _cursor = out.extend(claim);
    _limit = _cursor + claim;
}

void JsonWriter::settle() noexcept {
    if (_cursor != _limit) {
        _out->truncate(static_cast<std::size_t>(_cursor - _out->data()));
        _limit = _cursor;
    }
}

std::uint32_t JsonWriter::written() const noexcept {
    auto size = static_cast<std::size_t>(_cursor - (_out->data() + _start));
    return static_cast<std::uint32_t>(std::min<std::size_t>(size, UINT32_MAX));
}

void JsonWriter::fail(Errc code, std::size_t position) noexcept {
    if (!_status.ok()) {
        return;
    }
    _status = Status{code, static_cast<std::uint32_t>(std::min<std::size_t>(position, UINT32_MAX))};
    _out->truncate(_start);
    _cursor = _out->data() + _start;
    _limit = _cursor;
}

void JsonWriter::write_key(std::string_view utf8, unsigned flags) {
    if (!_status.ok()) {
        return;
    }
    if ((_frame & frame_kind_mask) != frame_object || (_frame & frame_after_key)) {
        fail(Errc::json_syntax, written());
        return;
    }
    int comma = (_frame & frame_has_element) ? 1 : 0;
    _frame |= frame_has_element | frame_after_key;
    write_string(utf8, comma, flags | string_is_key);
}

void JsonWriter::key(std::string_view utf8) { write_key(utf8, 0); }

void JsonWriter::string(std::string_view utf8) {
    int comma = before_value();
    if (comma >= 0) {
        write_string(utf8, comma, 0);
    }
}

void JsonWriter::write_string_chunks(std::string_view utf8, int comma, unsigned flags) {
    if (utf8.size() > json_string_size_max) [[unlikely]] {
        fail(Errc::json_string_too_long, json_string_size_max);
        return;
    }
    char* at = room(2);
    at[0] = ',';
    at[comma] = '"';
    _cursor = at + comma + 1;
    write_string_rest(utf8, 0, flags);
}

// The general case, from byte `done` on (the bytes before it are already at the cursor, with
// nothing escaped and, unless trusted, all ASCII). Escaped in chunks so that the room claimed
// for the worst case (6 output bytes per input byte) stays bounded.
void JsonWriter::write_string_rest(std::string_view utf8, std::size_t done, unsigned flags) {
    EscapeScan scan;
    while (done < utf8.size()) {
        std::size_t size = std::min(utf8.size() - done, escape_chunk_bytes);
        char* at = room(6 * size + escape_slack_bytes + 2);
        _cursor = escape_chunk(at, utf8.data() + done, size, _options.nul, scan);
        if (scan.nul_error_at != SIZE_MAX) [[unlikely]] {
            std::size_t nul_at = done + scan.nul_error_at;
            Status before = validate_utf8(utf8.substr(0, nul_at));
            before.ok() ? fail(Errc::json_nul_escape, nul_at) : fail(before.code, before.position);
            return;
        }
        done += size;
    }
    char* at = room(2);
    at[0] = '"';
    at[1] = ':';
    _cursor = at + 1 + (flags & string_is_key);
    if (scan.non_ascii && !(flags & string_trusted_utf8)) {
        if (Status valid = validate_utf8(utf8); !valid.ok()) {
            fail(valid.code, valid.position);
            return;
        }
    }
    // U+FFFD is 3 bytes where the NUL was 1: the stored string may cross the limit.
    if (scan.nul_count > 0 && _options.nul == NulPolicy::replace &&
        utf8.size() + 2 * scan.nul_count > json_string_size_max) {
        fail(Errc::json_string_too_long, json_string_size_max);
    }
}

void JsonWriter::number(std::uint64_t value) {
    int comma = before_value();
    if (comma < 0) {
        return;
    }
    char* at = room(24);
    at[0] = ',';
    _cursor = std::to_chars(at + comma, at + 24, value).ptr;
}

void JsonWriter::number(double value) {
    if (!std::isfinite(value)) [[unlikely]] {
        if (_options.non_finite == NonFinitePolicy::null) {
            null();
        } else if (_status.ok()) {
            fail(Errc::json_non_finite, written());
        }
        return;
    }
    int comma = before_value();
    if (comma < 0) {
        return;
    }
    // Shortest round-trip form: digits, optional '-', '.', and 'e' with a sign and exponent
    // ("1e+300", "5e-324"): all inside the JSON number grammar. At most 24 characters.
    char* at = room(32);
    at[0] = ',';
    _cursor = std::to_chars(at + comma, at + 32, value).ptr;
}

void JsonWriter::raw(std::string_view json_text) {
    int comma = before_value();
    if (comma < 0) {
        return;
    }
    if (json_text.empty()) {
        fail(Errc::json_syntax, 0);
        return;
    }
    if (comma) {
        *room(1) = ',';
        _cursor += 1;
    }
    settle();
    Status appended = append_raw_json(*_out, json_text, _options.nul);
    _cursor = _out->data() + _out->size();
    _limit = _cursor;
    if (!appended.ok()) {
        fail(appended.code, appended.position);
    }
}

Status JsonWriter::finish() noexcept {
    if (_status.ok() && (_depth != 0 || !(_frame & frame_has_element))) {
        fail(Errc::json_unbalanced, written());
    }
    settle();
    return _status;
}

}  // namespace pgingest
