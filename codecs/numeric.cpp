#include "codecs/numeric.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace pgingest {

namespace {

constexpr std::uint16_t sign_positive = 0x0000;
constexpr std::uint16_t sign_negative = 0x4000;
constexpr std::uint16_t sign_nan = 0xC000;
constexpr std::uint16_t sign_pos_infinity = 0xD000;
constexpr std::uint16_t sign_neg_infinity = 0xF000;

// set_var_from_str rejects |exponent| >= INT_MAX / 2 before doing any arithmetic with it.
constexpr std::int64_t exponent_limit = std::numeric_limits<std::int32_t>::max() / 2;
// Exponent digits beyond this magnitude cannot change the outcome (already over the limit).
constexpr std::int64_t exponent_saturation = std::int64_t{1} << 40;

constexpr std::int32_t pow10_in_group[4] = {1, 10, 100, 1000};

// C-locale isspace(), which numeric_in uses for leading and trailing whitespace.
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// pg_strncasecmp(text + at, word, strlen(word)) == 0.
bool has_word_at(std::string_view text, std::size_t at, std::string_view word) {
    if (text.size() - at < word.size()) {
        return false;
    }
    for (std::size_t k = 0; k < word.size(); k++) {
        if (to_lower(text[at + k]) != to_lower(word[k])) {
            return false;
        }
    }
    return true;
}

std::int64_t floor_div4(std::int64_t value) { return value >= 0 ? value / 4 : -((3 - value) / 4); }

Status fail(Errc code, std::size_t at) { return Status{code, static_cast<std::uint32_t>(at)}; }

std::size_t skip_spaces(std::string_view text, std::size_t at) {
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    return at;
}

// The special spellings numeric_in accepts, in the order it tries them (float8in's words).
struct SpecialWord {
    std::string_view word;
    NumericKind kind;
};
constexpr SpecialWord special_words[] = {
    {"NaN", NumericKind::nan},
    {"Infinity", NumericKind::pos_infinity},
    {"+Infinity", NumericKind::pos_infinity},
    {"-Infinity", NumericKind::neg_infinity},
    {"inf", NumericKind::pos_infinity},
    {"+inf", NumericKind::pos_infinity},
    {"-inf", NumericKind::neg_infinity},
};

// Where the significant digits are: ordinal (count of digits before it) and byte offset of the
// first and last non-zero digit.
struct DigitScan {
    std::int64_t int_digits = 0;
    std::int64_t frac_digits = 0;
    std::int64_t first_ordinal = -1;
    std::int64_t last_ordinal = -1;
    std::size_t first_at = 0;
    std::size_t last_at = 0;
};

// Scans digits with at most one '.', as set_var_from_str does; `at` ends on the first byte
// that is neither.
Status scan_digits(std::string_view text, std::size_t& at, DigitScan& scan) {
    bool have_point = false;
    if (at < text.size() && text[at] == '.') {
        have_point = true;
        at++;
    }
    if (at >= text.size() || !is_digit(text[at])) {
        return fail(Errc::invalid_numeric, at);
    }
    for (; at < text.size(); at++) {
        char c = text[at];
        if (c == '.') {
            if (have_point) {
                return fail(Errc::invalid_numeric, at);
            }
            have_point = true;
            continue;
        }
        if (!is_digit(c)) {
            break;
        }
        if (c != '0') {
            std::int64_t ordinal = scan.int_digits + scan.frac_digits;
            if (scan.first_ordinal < 0) {
                scan.first_ordinal = ordinal;
                scan.first_at = at;
            }
            scan.last_ordinal = ordinal;
            scan.last_at = at;
        }
        (have_point ? scan.frac_digits : scan.int_digits) += 1;
    }
    return Status{};
}

// Reads the exponent after 'e'/'E' like strtol: optional whitespace, optional sign, digits.
Status scan_exponent(std::string_view text, std::size_t& at, std::int64_t& exponent) {
    std::size_t e_at = at;
    at = skip_spaces(text, at + 1);
    bool negative = false;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        negative = text[at] == '-';
        at++;
    }
    if (at >= text.size() || !is_digit(text[at])) {
        return fail(Errc::invalid_numeric, at);
    }
    std::int64_t magnitude = 0;
    for (; at < text.size() && is_digit(text[at]); at++) {
        if (magnitude < exponent_saturation) {
            magnitude = magnitude * 10 + (text[at] - '0');
        }
    }
    if (magnitude >= exponent_limit) {
        return fail(Errc::numeric_out_of_range, e_at);
    }
    exponent = negative ? -magnitude : magnitude;
    return Status{};
}

Status parse_finite(std::string_view text, std::size_t start, NumericText& out) {
    std::size_t at = start;
    bool negative = false;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        negative = text[at] == '-';
        at++;
    }
    DigitScan scan;
    if (Status status = scan_digits(text, at, scan); !status.ok()) {
        return status;
    }
    std::int64_t exponent = 0;
    if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
        if (Status status = scan_exponent(text, at, exponent); !status.ok()) {
            return status;
        }
    }
    at = skip_spaces(text, at);
    if (at < text.size()) {
        return fail(Errc::invalid_numeric, at);
    }
    std::int64_t dscale = scan.frac_digits - exponent;
    if (dscale > numeric_dscale_max) {
        return fail(Errc::numeric_out_of_range, start);
    }
    out.dscale = static_cast<std::uint16_t>(dscale < 0 ? 0 : dscale);
    if (scan.first_ordinal < 0) {
        return Status{};  // zero: ndigits 0, weight 0, positive, as make_result() forces
    }
    std::int64_t first_exponent = scan.int_digits - 1 - scan.first_ordinal + exponent;
    std::int64_t last_exponent = scan.int_digits - 1 - scan.last_ordinal + exponent;
    std::int64_t weight = floor_div4(first_exponent);
    if (weight > std::numeric_limits<std::int16_t>::max() ||
        weight < std::numeric_limits<std::int16_t>::min()) {
        return fail(Errc::numeric_out_of_range, start);
    }
    std::int64_t ndigits = weight - floor_div4(last_exponent) + 1;
    // weight ≤ 32767 and dscale ≤ 16383 bound ndigits to about 36865.
    PGINGEST_ASSERT(ndigits > 0 && ndigits <= std::numeric_limits<std::uint16_t>::max());
    out.negative = negative;
    out.digits = text.substr(scan.first_at, scan.last_at - scan.first_at + 1);
    out.first_exponent = first_exponent;
    out.weight = static_cast<std::int16_t>(weight);
    out.ndigits = static_cast<std::uint16_t>(ndigits);
    return Status{};
}

void put_header(ByteBuffer& out, std::uint16_t ndigits, std::int16_t weight, std::uint16_t sign,
                std::uint16_t dscale) {
    out.put_i32(8 + 2 * static_cast<std::int32_t>(ndigits));
    out.put_u16(ndigits);
    out.put_i16(weight);
    out.put_u16(sign);
    out.put_u16(dscale);
}

}  // namespace

Status parse_numeric(std::string_view text, NumericText& out) {
    out = NumericText{};
    std::size_t at = skip_spaces(text, 0);
    for (const SpecialWord& special : special_words) {
        if (has_word_at(text, at, special.word)) {
            std::size_t end = skip_spaces(text, at + special.word.size());
            if (end < text.size()) {
                return fail(Errc::invalid_numeric, end);
            }
            out.kind = special.kind;
            return Status{};
        }
    }
    return parse_finite(text, at, out);
}

void encode_numeric(ByteBuffer& out, const NumericText& value) {
    switch (value.kind) {
        case NumericKind::nan: put_header(out, 0, 0, sign_nan, 0); return;
        case NumericKind::pos_infinity: put_header(out, 0, 0, sign_pos_infinity, 0); return;
        case NumericKind::neg_infinity: put_header(out, 0, 0, sign_neg_infinity, 0); return;
        case NumericKind::finite: break;
    }
    put_header(out, value.ndigits, value.weight,
               value.negative ? sign_negative : sign_positive, value.dscale);
    if (value.ndigits == 0) {
        return;
    }
    char* at = out.extend(2 * std::size_t{value.ndigits});
    char* const end = at + 2 * std::size_t{value.ndigits};
    std::int64_t exponent = value.first_exponent;
    std::int64_t group = value.weight;
    std::int32_t accumulator = 0;
    for (char c : value.digits) {
        if (c == '.') {
            continue;
        }
        std::int64_t digit_group = floor_div4(exponent);
        if (digit_group != group) {
            ByteBuffer::store_be(at, static_cast<std::uint16_t>(accumulator));
            at += 2;
            group = digit_group;
            accumulator = 0;
        }
        accumulator += (c - '0') * pow10_in_group[exponent - 4 * digit_group];
        exponent--;
    }
    PGINGEST_ASSERT(at + 2 == end);
    ByteBuffer::store_be(at, static_cast<std::uint16_t>(accumulator));
}

Status encode_numeric_text(ByteBuffer& out, std::string_view text) {
    NumericText value;
    Status status = parse_numeric(text, value);
    if (status.ok()) {
        encode_numeric(out, value);
    }
    return status;
}

void encode_numeric(ByteBuffer& out, std::int64_t value) {
    std::uint64_t magnitude = value < 0 ? 0 - static_cast<std::uint64_t>(value)
                                        : static_cast<std::uint64_t>(value);
    std::uint16_t groups[5] = {};  // least significant first; 2^64 < 10000^5
    std::uint16_t count = 0;
    while (magnitude > 0) {
        groups[count++] = static_cast<std::uint16_t>(magnitude % 10000);
        magnitude /= 10000;
    }
    std::uint16_t lowest = 0;
    while (lowest < count && groups[lowest] == 0) {
        lowest++;
    }
    auto ndigits = static_cast<std::uint16_t>(count - lowest);
    auto weight = static_cast<std::int16_t>(count == 0 ? 0 : count - 1);
    put_header(out, ndigits, weight, value < 0 ? sign_negative : sign_positive, 0);
    for (std::uint16_t k = count; k > lowest; k--) {
        out.put_u16(groups[k - 1]);
    }
}

void encode_numeric(ByteBuffer& out, double value) {
    if (std::isnan(value)) {
        put_header(out, 0, 0, sign_nan, 0);
        return;
    }
    if (std::isinf(value)) {
        put_header(out, 0, 0, value > 0 ? sign_pos_infinity : sign_neg_infinity, 0);
        return;
    }
    char text[32];
    std::to_chars_result written = std::to_chars(text, text + sizeof text, value);
    PGINGEST_ASSERT(written.ec == std::errc{});
    NumericText parsed;
    Status status = parse_numeric(std::string_view(text, static_cast<std::size_t>(
                                                             written.ptr - text)),
                                  parsed);
    PGINGEST_ASSERT(status.ok());  // shortest text of a finite double: ≤ 17 digits, |exp| ≤ 324
    encode_numeric(out, parsed);
}

}  // namespace pgingest
