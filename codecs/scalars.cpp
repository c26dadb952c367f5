#include "codecs/scalars.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace pgingest {

namespace {

// isspace() in the C locale, which is what boolin, pg_strtoint64 and float8in skip (the server
// calls isspace on unsigned char; these six bytes are the C locale's set).
constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

constexpr char to_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::size_t skip_spaces(std::string_view text, std::size_t at) noexcept {
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    return at;
}

constexpr std::uint32_t offset(std::size_t at) noexcept {
    return at > std::numeric_limits<std::uint32_t>::max()
               ? std::numeric_limits<std::uint32_t>::max()
               : static_cast<std::uint32_t>(at);
}

// True when `word` is a case-insensitive prefix of `full` with at least `length_min` bytes:
// pg_strncasecmp(value, full, len) == 0 in parse_bool_with_len.
bool is_prefix_of(std::string_view word, std::string_view full, std::size_t length_min) noexcept {
    if (word.size() < length_min || word.size() > full.size()) {
        return false;
    }
    for (std::size_t i = 0; i < word.size(); i++) {
        if (to_lower(word[i]) != full[i]) {
            return false;
        }
    }
    return true;
}

// Magnitude limit for a signed type: |min| for negatives, max otherwise.
template <typename Signed>
Status parse_signed(std::string_view text, Signed& value) noexcept {
    std::size_t at = skip_spaces(text, 0);
    const std::size_t start = at;
    bool negative = false;
    if (at < text.size() && (text[at] == '-' || text[at] == '+')) {
        negative = text[at] == '-';
        at++;
    }
    if (at == text.size() || !is_digit(text[at])) {
        return Status{Errc::invalid_integer, offset(at)};
    }
    using Unsigned = std::make_unsigned_t<Signed>;
    const Unsigned limit = negative ? static_cast<Unsigned>(Unsigned{1} << (sizeof(Signed) * 8 - 1))
                                    : static_cast<Unsigned>(std::numeric_limits<Signed>::max());
    std::uint64_t magnitude = 0;
    // Like pg_strtoint64, overflow is reported as soon as it happens, before any trailing junk.
    for (; at < text.size() && is_digit(text[at]); at++) {
        auto digit = static_cast<std::uint64_t>(text[at] - '0');
        if (magnitude > (limit - digit) / 10) {
            return Status{Errc::integer_out_of_range, offset(start)};
        }
        magnitude = magnitude * 10 + digit;
    }
    at = skip_spaces(text, at);
    if (at != text.size()) {
        return Status{Errc::invalid_integer, offset(at)};
    }
    auto bits = static_cast<Unsigned>(magnitude);
    value = static_cast<Signed>(negative ? static_cast<Unsigned>(Unsigned{0} - bits) : bits);
    return Status{};
}

constexpr bool is_hex_digit(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// "0x" followed by a hexadecimal significand (a digit, or a point and a digit), as strtod
// requires. Without that, from_chars(hex) would also take "0xinf", "0xnan" and "0x-1", which
// strtod reads as "0" followed by junk.
bool starts_hex_float(std::string_view text, std::size_t at) noexcept {
    if (at + 2 >= text.size() || text[at] != '0' || (text[at + 1] != 'x' && text[at + 1] != 'X')) {
        return false;
    }
    char first = text[at + 2];
    return is_hex_digit(first) ||
           (first == '.' && at + 3 < text.size() && is_hex_digit(text[at + 3]));
}

// float8in/float4in: skip spaces, strtod/strtof, skip spaces, nothing may follow. std::from_chars
// takes no sign and no "0x", so both are handled here; everything else (digits, exponent,
// inf, infinity, nan, nan(chars), case-insensitive) matches glibc's strtod.
template <typename Float>
Status parse_floating(std::string_view text, Float& value) noexcept {
    std::size_t at = skip_spaces(text, 0);
    const std::size_t start = at;
    bool negative = false;
    if (at < text.size() && (text[at] == '-' || text[at] == '+')) {
        negative = text[at] == '-';
        at++;
    }
    if (at == text.size() || text[at] == '-' || text[at] == '+') {
        return Status{Errc::invalid_float, offset(at)};
    }
    const char* const last = text.data() + text.size();
    Float magnitude{};
    std::from_chars_result result =
        starts_hex_float(text, at)
            ? std::from_chars(text.data() + at + 2, last, magnitude, std::chars_format::hex)
            : std::from_chars(text.data() + at, last, magnitude, std::chars_format::general);
    if (result.ec == std::errc::result_out_of_range) {
        return Status{Errc::float_out_of_range, offset(start)};
    }
    if (result.ec != std::errc{}) {
        return Status{Errc::invalid_float, offset(at)};
    }
    at = skip_spaces(text, static_cast<std::size_t>(result.ptr - text.data()));
    if (at != text.size()) {
        return Status{Errc::invalid_float, offset(at)};
    }
    value = negative ? -magnitude : magnitude;
    return Status{};
}

// Parses with `parse`, then encodes with `encode`; the buffer is only touched on success.
template <typename Value, typename Parse, typename Encode>
Status parse_then_encode(ByteBuffer& out, std::string_view text, Parse parse, Encode encode) {
    Value value{};
    Status status = parse(text, value);
    if (status.ok()) {
        encode(out, value);
    }
    return status;
}

}  // namespace

Status encode_int2_checked(ByteBuffer& out, std::int64_t value) {
    if (value < std::numeric_limits<std::int16_t>::min() ||
        value > std::numeric_limits<std::int16_t>::max()) {
        return Status{Errc::integer_out_of_range, 0};
    }
    encode_int2(out, static_cast<std::int16_t>(value));
    return Status{};
}

Status encode_int4_checked(ByteBuffer& out, std::int64_t value) {
    if (value < std::numeric_limits<std::int32_t>::min() ||
        value > std::numeric_limits<std::int32_t>::max()) {
        return Status{Errc::integer_out_of_range, 0};
    }
    encode_int4(out, static_cast<std::int32_t>(value));
    return Status{};
}

Status encode_int8_checked(ByteBuffer& out, std::uint64_t value) {
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return Status{Errc::integer_out_of_range, 0};
    }
    encode_int8(out, static_cast<std::int64_t>(value));
    return Status{};
}

Status parse_bool(std::string_view text, bool& value) noexcept {
    std::size_t begin = skip_spaces(text, 0);
    std::size_t end = text.size();
    while (end > begin && is_space(text[end - 1])) {
        end--;
    }
    std::string_view word = text.substr(begin, end - begin);
    if (is_prefix_of(word, "true", 1) || is_prefix_of(word, "yes", 1) ||
        is_prefix_of(word, "on", 2) || word == "1") {
        value = true;
        return Status{};
    }
    if (is_prefix_of(word, "false", 1) || is_prefix_of(word, "no", 1) ||
        is_prefix_of(word, "off", 2) || word == "0") {
        value = false;
        return Status{};
    }
    return Status{Errc::invalid_bool, offset(begin)};
}

Status parse_int64(std::string_view text, std::int64_t& value) noexcept {
    return parse_signed(text, value);
}

Status parse_int32(std::string_view text, std::int32_t& value) noexcept {
    return parse_signed(text, value);
}

Status parse_int16(std::string_view text, std::int16_t& value) noexcept {
    return parse_signed(text, value);
}

Status parse_double(std::string_view text, double& value) noexcept {
    return parse_floating(text, value);
}

Status parse_float(std::string_view text, float& value) noexcept {
    return parse_floating(text, value);
}

Status encode_bool_text(ByteBuffer& out, std::string_view text) {
    return parse_then_encode<bool>(out, text, parse_bool, encode_bool);
}

Status encode_int2_text(ByteBuffer& out, std::string_view text) {
    return parse_then_encode<std::int16_t>(out, text, parse_int16, encode_int2);
}

Status encode_int4_text(ByteBuffer& out, std::string_view text) {
    return parse_then_encode<std::int32_t>(out, text, parse_int32, encode_int4);
}

Status encode_int8_text(ByteBuffer& out, std::string_view text) {
    return parse_then_encode<std::int64_t>(out, text, parse_int64, encode_int8);
}

Status encode_float4_text(ByteBuffer& out, std::string_view text) {
    return parse_then_encode<float>(out, text, parse_float, encode_float4);
}

Status encode_float8_text(ByteBuffer& out, std::string_view text) {
    return parse_then_encode<double>(out, text, parse_double, encode_float8);
}

}  // namespace pgingest
