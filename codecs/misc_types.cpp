#include "codecs/misc_types.hpp"

#include <limits>

#include "codecs/copy_binary.hpp"
#include "codecs/utf8.hpp"

namespace pgingest {

namespace {

Status fail(Errc code, std::size_t at) {
    return Status{code, static_cast<std::uint32_t>(at)};
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

unsigned hex_value(char c) {
    if (is_digit(c)) {
        return static_cast<unsigned>(c - '0');
    }
    return static_cast<unsigned>((c | 0x20) - 'a' + 10);
}

std::size_t skip_spaces(std::string_view text, std::size_t at) {
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    return at;
}

bool is_octal(char c) {
    return c >= '0' && c <= '7';
}

// cash_in's symbols under the C locale: currency "$", thousands ",", decimal ".", signs.
std::size_t skip_currency(std::string_view text, std::size_t at) {
    at = skip_spaces(text, at);
    if (at < text.size() && text[at] == '$') {
        at++;
    }
    return skip_spaces(text, at);
}

// The digits of cash_in, accumulated in the negative (the wider side of int8) as cash.c does.
Status money_digits(std::string_view text, std::size_t& at, std::int64_t& value) {
    constexpr int fraction_digits = 2;
    constexpr std::int64_t low = std::numeric_limits<std::int64_t>::min();
    int decimals = 0;
    bool seen_dot = false;
    for (; at < text.size(); at++) {
        const char c = text[at];
        if (is_digit(c) && (!seen_dot || decimals < fraction_digits)) {
            const int digit = c - '0';
            if (value < low / 10 || value * 10 < low + digit) {
                return fail(Errc::money_out_of_range, 0);
            }
            value = value * 10 - digit;
            decimals += seen_dot ? 1 : 0;
        } else if (c == '.' && !seen_dot) {
            seen_dot = true;
        } else if (c != ',') {
            break;
        }
    }
    if (at < text.size() && is_digit(text[at]) && text[at] >= '5') {
        if (value == low) {
            return fail(Errc::money_out_of_range, 0);
        }
        value -= 1;
    }
    for (; decimals < fraction_digits; decimals++) {
        if (value < low / 10) {
            return fail(Errc::money_out_of_range, 0);
        }
        value *= 10;
    }
    while (at < text.size() && is_digit(text[at])) {
        at++;
    }
    return Status{};
}

}  // namespace

Status parse_char(std::string_view text, std::uint8_t& byte) {
    if (std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
        return fail(Errc::nul_in_text, nul);
    }
    if (text.size() == 4 && text[0] == '\\' && is_octal(text[1]) && is_octal(text[2]) &&
        is_octal(text[3])) {
        byte = static_cast<std::uint8_t>(((text[1] - '0') << 6) + ((text[2] - '0') << 3) +
                                         (text[3] - '0'));
        return Status{};
    }
    if (text.size() > 1) {
        return fail(Errc::char_not_one_byte, 1);
    }
    byte = text.empty() ? 0 : static_cast<std::uint8_t>(text[0]);
    return Status{};
}

Status parse_oid(std::string_view text, std::uint32_t& value) {
    std::size_t at = skip_spaces(text, 0);
    bool negative = false;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        negative = text[at++] == '-';
    }
    const std::size_t digits_at = at;
    std::uint64_t magnitude = 0;
    bool overflow = false;
    for (; at < text.size() && is_digit(text[at]); at++) {
        auto digit = static_cast<std::uint64_t>(text[at] - '0');
        overflow = overflow || magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / 10;
        magnitude = magnitude * 10 + digit;
    }
    if (at == digits_at) {
        return fail(Errc::invalid_oid, at);
    }
    if (std::size_t end = skip_spaces(text, at); end != text.size()) {
        return fail(Errc::invalid_oid, end);
    }
    // strtoul negates in unsigned long; oidin then takes values that fit in 32 bits either as
    // an unsigned or as a sign-extended int.
    const std::uint64_t converted = negative ? 0 - magnitude : magnitude;
    const auto result = static_cast<std::uint32_t>(converted);
    const auto as_int =
        static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(result)));
    if (overflow || (converted != result && converted != as_int)) {
        return fail(Errc::oid_out_of_range, digits_at);
    }
    value = result;
    return Status{};
}

Status parse_money(std::string_view text, std::int64_t& cents) {
    std::size_t at = skip_currency(text, 0);
    int sign = 1;
    if (at < text.size() && (text[at] == '-' || text[at] == '(')) {
        sign = -1;
        at++;
    } else if (at < text.size() && text[at] == '+') {
        at++;
    }
    at = skip_currency(text, at);
    std::int64_t value = 0;
    if (Status status = money_digits(text, at, value); !status.ok()) {
        return status;
    }
    for (; at < text.size(); at++) {
        const char c = text[at];
        if (c == '-') {
            sign = -1;
        } else if (!is_space(c) && c != ')' && c != '+' && c != '$') {
            return fail(Errc::invalid_money, at);
        }
    }
    if (sign > 0) {
        if (value == std::numeric_limits<std::int64_t>::min()) {
            return fail(Errc::money_out_of_range, 0);
        }
        value = -value;
    }
    cents = value;
    return Status{};
}

Status parse_pg_lsn(std::string_view text, std::uint64_t& lsn) {
    std::uint64_t parts[2] = {0, 0};
    std::size_t at = 0;
    for (int k = 0; k < 2; k++) {
        const std::size_t start = at;
        for (; at < text.size() && is_hex(text[at]); at++) {
            if (at - start == 8) {
                return fail(Errc::invalid_pg_lsn, at);
            }
            parts[k] = parts[k] * 16 + hex_value(text[at]);
        }
        const bool end_ok = k == 0 ? at < text.size() && text[at] == '/' : at == text.size();
        if (at == start || !end_ok) {
            return fail(Errc::invalid_pg_lsn, at);
        }
        at++;
    }
    lsn = parts[0] << 32 | parts[1];
    return Status{};
}

void encode_char(ByteBuffer& out, std::uint8_t byte) {
    out.put_i32(1);
    out.put_u8(byte);
}

void encode_oid(ByteBuffer& out, std::uint32_t value) {
    out.put_i32(4);
    out.put_u32(value);
}

void encode_money(ByteBuffer& out, std::int64_t cents) {
    out.put_i32(8);
    out.put_i64(cents);
}

void encode_pg_lsn(ByteBuffer& out, std::uint64_t lsn) {
    out.put_i32(8);
    out.put_u64(lsn);
}

Status encode_char_text(ByteBuffer& out, std::string_view text) {
    std::uint8_t byte = 0;
    Status status = parse_char(text, byte);
    if (status.ok()) {
        encode_char(out, byte);
    }
    return status;
}

Status encode_oid_text(ByteBuffer& out, std::string_view text) {
    std::uint32_t value = 0;
    Status status = parse_oid(text, value);
    if (status.ok()) {
        encode_oid(out, value);
    }
    return status;
}

Status encode_money_text(ByteBuffer& out, std::string_view text) {
    std::int64_t cents = 0;
    Status status = parse_money(text, cents);
    if (status.ok()) {
        encode_money(out, cents);
    }
    return status;
}

Status encode_pg_lsn_text(ByteBuffer& out, std::string_view text) {
    std::uint64_t lsn = 0;
    Status status = parse_pg_lsn(text, lsn);
    if (status.ok()) {
        encode_pg_lsn(out, lsn);
    }
    return status;
}

}  // namespace pgingest

namespace pgingest {

namespace {

// pg_char_to_encoding's name cleaning (lower case, only letters and digits) equals "utf8" or
// its alias "unicode".
bool names_utf8(std::string_view name) {
    char cleaned[8];
    std::size_t length = 0;
    for (char c : name) {
        if ((c >= 'a' && c <= 'z') || is_digit(c) || (c >= 'A' && c <= 'Z')) {
            if (length == sizeof cleaned) {
                return false;
            }
            cleaned[length++] = static_cast<char>(c | 0x20);
        }
    }
    std::string_view clean(cleaned, length);
    return clean == "utf8" || clean == "unicode";
}

// The `encoding` of a leading XML declaration (xml.c parse_xml_decl): its offset and length, or
// npos when there is none.
std::size_t xml_declared_encoding(std::string_view text, std::size_t& length) {
    if (text.substr(0, 5) != "<?xml" || text.size() < 6 || !is_space(text[5])) {
        return std::string_view::npos;
    }
    const std::size_t end = text.find("?>");
    const std::string_view declaration = text.substr(0, end);
    std::size_t at = declaration.find("encoding");
    if (at == std::string_view::npos) {
        return std::string_view::npos;
    }
    at = skip_spaces(declaration, at + 8);
    if (at >= declaration.size() || declaration[at] != '=') {
        return std::string_view::npos;
    }
    at = skip_spaces(declaration, at + 1);
    if (at >= declaration.size() || (declaration[at] != '"' && declaration[at] != '\'')) {
        return std::string_view::npos;
    }
    const std::size_t close = declaration.find(declaration[at], at + 1);
    if (close == std::string_view::npos) {
        return std::string_view::npos;
    }
    length = close - at - 1;
    return at + 1;
}

}  // namespace

Status encode_xml_text(ByteBuffer& out, std::string_view text) {
    if (text.size() > copy_field_size_max) {
        return fail(Errc::field_too_large, 0);
    }
    if (Status status = validate_text(text); !status.ok()) {
        return status;
    }
    std::size_t length = 0;
    if (std::size_t at = xml_declared_encoding(text, length);
        at != std::string_view::npos && !names_utf8(text.substr(at, length))) {
        return fail(Errc::xml_encoding_not_utf8, at);
    }
    out.put_i32(static_cast<std::int32_t>(text.size()));
    out.put_bytes(text);
    return Status{};
}

Status encode_jsonpath_text(ByteBuffer& out, std::string_view text) {
    if (text.size() >= copy_field_size_max) {
        return fail(Errc::field_too_large, 0);
    }
    if (Status status = validate_text(text); !status.ok()) {
        return status;
    }
    out.put_i32(static_cast<std::int32_t>(text.size() + 1));
    out.put_u8(1);
    out.put_bytes(text);
    return Status{};
}

}  // namespace pgingest
