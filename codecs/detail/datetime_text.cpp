#include "codecs/detail/datetime_text.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace pgingest::detail {

namespace {

constexpr std::int64_t us_per_second = 1000000;
constexpr std::int64_t us_per_day = 86400 * us_per_second;
// Years past this cannot be valid anywhere; larger inputs saturate here.
constexpr std::int64_t year_saturation = 10000000000;
// JULIAN_MAXYEAR (timestamp.h): the first year IS_VALID_JULIAN rejects.
constexpr std::int64_t julian_year_end = 5874898;
// MAX_TZDISP_HOUR (timestamp.h): DecodeTimezone rejects larger offset hours.
constexpr int offset_hours_max = 15;

Status fail(Errc code, std::size_t at) { return Status{code, static_cast<std::uint32_t>(at)}; }

char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_letter(char c) { return to_lower(c) >= 'a' && to_lower(c) <= 'z'; }

bool is_leap(std::int64_t year) {
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

unsigned days_in_month(std::int64_t year, unsigned month) {
    constexpr unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

// Reads exactly two digits at `at`; false when they are not there.
bool two_digits(std::string_view text, std::size_t& at, unsigned& value) {
    if (text.size() - at < 2 || !is_digit(text[at]) || !is_digit(text[at + 1])) {
        return false;
    }
    value = static_cast<unsigned>((text[at] - '0') * 10 + (text[at + 1] - '0'));
    at += 2;
    return true;
}

// Where each date field starts, for error positions.
struct DatePositions {
    std::size_t year_at = 0;
    std::size_t month_at = 0;
    std::size_t day_at = 0;
};

// YYYY[Y...]-MM-DD with a saturating year.
Status parse_ymd(std::string_view text, std::size_t& at, Errc invalid, DateTimeParts& parts,
                 DatePositions& positions) {
    positions.year_at = at;
    std::int64_t year = 0;
    for (; at < text.size() && is_digit(text[at]); at++) {
        year = year >= year_saturation ? year : year * 10 + (text[at] - '0');
    }
    if (at - positions.year_at < 4) {
        return fail(invalid, at);
    }
    if (at >= text.size() || text[at] != '-') {
        return fail(invalid, at);
    }
    positions.month_at = ++at;
    if (!two_digits(text, at, parts.month)) {
        return fail(invalid, at);
    }
    if (at >= text.size() || text[at] != '-') {
        return fail(invalid, at);
    }
    positions.day_at = ++at;
    if (!two_digits(text, at, parts.day)) {
        return fail(invalid, at);
    }
    parts.year = year;
    return Status{};
}

// ValidateDate (no year 0; BC → astronomical; month and day in range), then IS_VALID_JULIAN.
Status validate_date(bool bc, Errc invalid, Errc out_of_range, const DatePositions& positions,
                     DateTimeParts& parts) {
    if (parts.year == 0) {
        return fail(invalid, positions.year_at);
    }
    if (bc) {
        parts.year = 1 - parts.year;
    }
    if (parts.month < 1 || parts.month > 12) {
        return fail(invalid, positions.month_at);
    }
    if (parts.day < 1 || parts.day > days_in_month(parts.year, parts.month)) {
        return fail(invalid, positions.day_at);
    }
    bool julian_ok = parts.year > -4713 ||
                     (parts.year == -4713 &&
                      (parts.month > 11 || (parts.month == 11 && parts.day >= 24)));
    if (!julian_ok || parts.year >= julian_year_end) {
        return fail(out_of_range, positions.year_at);
    }
    return Status{};
}

// HH:MM[:SS[.fraction]], checked like time_overflows (24:00:00 and second 60 allowed, the
// total not above one day).
Status parse_time(std::string_view text, std::size_t& at, DateTimeParts& parts) {
    const std::size_t hour_at = at;
    unsigned hour = 0;
    unsigned minute = 0;
    unsigned second = 0;
    if (!two_digits(text, at, hour)) {
        return fail(Errc::invalid_timestamp, at);
    }
    if (at >= text.size() || text[at] != ':') {
        return fail(Errc::invalid_timestamp, at);
    }
    const std::size_t minute_at = ++at;
    if (!two_digits(text, at, minute)) {
        return fail(Errc::invalid_timestamp, at);
    }
    std::size_t second_at = at;
    std::int64_t fraction_us = 0;
    if (at < text.size() && text[at] == ':') {
        second_at = ++at;
        if (!two_digits(text, at, second)) {
            return fail(Errc::invalid_timestamp, at);
        }
        if (at < text.size() && text[at] == '.' &&
            !parse_fraction_us(text, at, fraction_us)) {
            return fail(Errc::invalid_timestamp, text.find('.', second_at));
        }
    }
    if (hour > 24) {
        return fail(Errc::invalid_timestamp, hour_at);
    }
    if (minute > 59) {
        return fail(Errc::invalid_timestamp, minute_at);
    }
    if (second > 60) {
        return fail(Errc::invalid_timestamp, second_at);
    }
    std::int64_t total = ((std::int64_t{hour} * 60 + minute) * 60 + second) * us_per_second +
                         fraction_us;
    if (total > us_per_day) {
        return fail(Errc::invalid_timestamp, hour_at);
    }
    parts.time_us = total;
    return Status{};
}

// Z | z | ±HH | ±HHMM | ±HH:MM | ±HH:MM:SS, as DecodeTimezone reads them.
Status parse_offset(std::string_view text, std::size_t& at, DateTimeParts& parts) {
    if (text[at] == 'Z' || text[at] == 'z') {
        at++;
        parts.offset_s = 0;
        return Status{};
    }
    const std::size_t sign_at = at;
    const bool negative = text[at++] == '-';
    unsigned fields[3] = {0, 0, 0};
    if (!two_digits(text, at, fields[0])) {
        return fail(Errc::invalid_timestamp, at);
    }
    // DecodeTimezone takes hh, hhmm, hh:mm and hh:mm:ss, but not a run-together hhmmss.
    const bool colons = at < text.size() && text[at] == ':';
    for (int k = 1; k < (colons ? 3 : 2); k++) {
        std::size_t field_at = at + (colons ? 1 : 0);
        if (colons ? (at >= text.size() || text[at] != ':')
                   : (at >= text.size() || !is_digit(text[at]))) {
            break;
        }
        at = field_at;
        if (!two_digits(text, at, fields[k])) {
            return fail(Errc::invalid_timestamp, at);
        }
        if (fields[k] > 59) {
            return fail(Errc::invalid_timestamp, field_at);
        }
    }
    if (fields[0] > offset_hours_max) {
        return fail(Errc::invalid_timestamp, sign_at);
    }
    std::int64_t seconds = (std::int64_t{fields[0]} * 60 + fields[1]) * 60 + fields[2];
    parts.offset_s = negative ? -seconds : seconds;
    return Status{};
}

// After the date: an optional time (after 'T', 't' or spaces) and offset (timestamps only).
Status parse_time_and_offset(std::string_view text, std::size_t& at, DateTimeParts& parts) {
    if (at >= text.size()) {
        return Status{};
    }
    if (text[at] == 'T' || text[at] == 't') {
        at++;
    } else {
        std::size_t next = skip_spaces(text, at);
        if (next == at || next >= text.size() || !is_digit(text[next])) {
            return Status{};  // no time: midnight
        }
        at = next;
    }
    if (Status status = parse_time(text, at, parts); !status.ok()) {
        return status;
    }
    std::size_t next = skip_spaces(text, at);
    if (next < text.size() && (text[next] == 'Z' || text[next] == 'z' || text[next] == '+' ||
                               text[next] == '-')) {
        at = next;
        return parse_offset(text, at, parts);
    }
    return Status{};
}

// 'infinity' or '-infinity' (any case) with nothing but whitespace after it.
bool parse_special(std::string_view text, std::size_t at, int& special) {
    for (int sign : {1, -1}) {
        std::string_view word = sign > 0 ? "infinity" : "-infinity";
        if (has_word_at(text, at, word) && skip_spaces(text, at + word.size()) == text.size()) {
            special = sign;
            return true;
        }
    }
    return false;
}

}  // namespace

bool has_word_at(std::string_view text, std::size_t at, std::string_view word) {
    if (at > text.size() || text.size() - at < word.size()) {
        return false;
    }
    for (std::size_t k = 0; k < word.size(); k++) {
        if (to_lower(text[at + k]) != to_lower(word[k])) {
            return false;
        }
    }
    return true;
}

bool is_strtod_underflow(double value) {
    return value != 0 && std::fabs(value) < std::numeric_limits<double>::min();
}

bool parse_fraction_us(std::string_view text, std::size_t& at, std::int64_t& us) {
    const std::size_t dot_at = at++;
    bool non_zero = false;
    for (; at < text.size() && is_digit(text[at]); at++) {
        non_zero = non_zero || text[at] != '0';
    }
    us = 0;
    if (!non_zero) {
        return true;  // "12:00:00." and ".000" are accepted by the server as whole seconds
    }
    double fraction = 0;
    auto result = std::from_chars(text.data() + dot_at, text.data() + at, fraction);
    if (result.ec != std::errc{} || is_strtod_underflow(fraction)) {
        return false;
    }
    us = static_cast<std::int64_t>(std::rint(fraction * 1000000.0));
    return true;
}

Status parse_datetime_parts(std::string_view text, DateTimeSyntax syntax, DateTimeParts& parts) {
    const bool is_date = syntax == DateTimeSyntax::date;
    const Errc invalid = is_date ? Errc::invalid_date : Errc::invalid_timestamp;
    const Errc out_of_range = is_date ? Errc::date_out_of_range : Errc::timestamp_out_of_range;
    parts = DateTimeParts{};
    std::size_t at = skip_spaces(text, 0);
    parts.start_at = at;
    if (parse_special(text, at, parts.special)) {
        return Status{};
    }
    DatePositions positions;
    if (Status status = parse_ymd(text, at, invalid, parts, positions); !status.ok()) {
        return status;
    }
    if (!is_date) {
        if (Status status = parse_time_and_offset(text, at, parts); !status.ok()) {
            return status;
        }
    }
    bool bc = false;
    std::size_t era_at = skip_spaces(text, at);
    if (era_at > at && (has_word_at(text, era_at, "BC") || has_word_at(text, era_at, "AD")) &&
        (era_at + 2 == text.size() || !is_letter(text[era_at + 2]))) {
        bc = to_lower(text[era_at]) == 'b';
        at = era_at + 2;
    }
    at = skip_spaces(text, at);
    if (at < text.size()) {
        return fail(invalid, at);
    }
    return validate_date(bc, invalid, out_of_range, positions, parts);
}

}  // namespace pgingest::detail
