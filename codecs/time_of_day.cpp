#include "codecs/time_of_day.hpp"

#include "codecs/datetime.hpp"
#include "codecs/detail/datetime_text.hpp"

namespace pgingest {

namespace {

using detail::is_digit;
using detail::skip_spaces;

constexpr std::int64_t us_per_second = 1000000;
constexpr std::int64_t us_per_day = 86400 * us_per_second;
// MAX_TZDISP_HOUR (include/datatype/timestamp.h): offsets of 16 hours or more are refused.
constexpr unsigned offset_hours_max = 15;

Status fail(Errc code, std::size_t at) {
    return Status{code, static_cast<std::uint32_t>(at)};
}

// One or two digits (DecodeTime reads any number; we stop at two).
bool short_number(std::string_view text, std::size_t& at, unsigned& value) {
    if (at >= text.size() || !is_digit(text[at])) {
        return false;
    }
    value = static_cast<unsigned>(text[at++] - '0');
    if (at < text.size() && is_digit(text[at])) {
        value = value * 10 + static_cast<unsigned>(text[at++] - '0');
    }
    return true;
}

bool two_digits(std::string_view text, std::size_t& at, unsigned& value) {
    if (at + 1 >= text.size() || !is_digit(text[at]) || !is_digit(text[at + 1])) {
        return false;
    }
    value = static_cast<unsigned>((text[at] - '0') * 10 + (text[at + 1] - '0'));
    at += 2;
    return true;
}

// H[H]:M[M][:S[S][.fraction]] checked as DecodeTimeOnly does (the total not above a day).
Status parse_clock(std::string_view text, std::size_t& at, std::int64_t& us) {
    const std::size_t hour_at = at;
    unsigned fields[3] = {0, 0, 0};
    if (!short_number(text, at, fields[0])) {
        return fail(Errc::invalid_time, at);
    }
    if (at >= text.size() || text[at] != ':') {
        return fail(Errc::invalid_time, at);
    }
    std::size_t field_at[3] = {hour_at, ++at, 0};
    if (!short_number(text, at, fields[1])) {
        return fail(Errc::invalid_time, at);
    }
    std::int64_t fraction_us = 0;
    if (at < text.size() && text[at] == ':') {
        field_at[2] = ++at;
        if (!short_number(text, at, fields[2])) {
            return fail(Errc::invalid_time, at);
        }
        const std::size_t dot_at = at;
        if (at < text.size() && text[at] == '.' &&
            !detail::parse_fraction_us(text, at, fraction_us)) {
            return fail(Errc::invalid_time, dot_at);
        }
    }
    const unsigned limits[3] = {24, 59, 60};
    for (int k = 0; k < 3; k++) {
        if (fields[k] > limits[k]) {
            return fail(Errc::time_field_out_of_range, field_at[k]);
        }
    }
    std::int64_t total =
        ((std::int64_t{fields[0]} * 60 + fields[1]) * 60 + fields[2]) * us_per_second + fraction_us;
    if (total > us_per_day) {
        return fail(Errc::time_field_out_of_range, hour_at);
    }
    us = total;
    return Status{};
}

// Z | z | ±HH | ±HHMM | ±HH:MM | ±HH:MM:SS (DecodeTimezone); seconds east of UTC.
Status parse_offset(std::string_view text, std::size_t& at, std::int64_t& east_s) {
    if (text[at] == 'Z' || text[at] == 'z') {
        at++;
        east_s = 0;
        return Status{};
    }
    const std::size_t sign_at = at;
    const bool negative = text[at++] == '-';
    unsigned fields[3] = {0, 0, 0};
    if (!two_digits(text, at, fields[0])) {
        return fail(Errc::invalid_time, at);
    }
    const bool colons = at < text.size() && text[at] == ':';
    for (int k = 1; k < (colons ? 3 : 2); k++) {
        bool more = colons ? (at < text.size() && text[at] == ':')
                           : (at < text.size() && is_digit(text[at]));
        if (!more) {
            break;
        }
        const std::size_t field_at = at + (colons ? 1 : 0);
        at = field_at;
        if (!two_digits(text, at, fields[k])) {
            return fail(Errc::invalid_time, at);
        }
        if (fields[k] > 59) {
            return fail(Errc::time_zone_out_of_range, sign_at);
        }
    }
    if (fields[0] > offset_hours_max) {
        return fail(Errc::time_zone_out_of_range, sign_at);
    }
    std::int64_t seconds = (std::int64_t{fields[0]} * 60 + fields[1]) * 60 + fields[2];
    east_s = negative ? -seconds : seconds;
    return Status{};
}

// time_in (DecodeTimeOnly) reads a date before the time, checks it and drops it: a first
// word with a '-' and no ':' is taken as an ISO date (`parse_date`); `at` moves past it.
Status skip_date(std::string_view text, std::size_t& at) {
    std::size_t end = at;
    while (end < text.size() && !detail::is_space(text[end])) {
        end++;
    }
    std::string_view word = text.substr(at, end - at);
    if (end == text.size() || word.find('-') == std::string_view::npos ||
        word.find(':') != std::string_view::npos || word.front() == '-' ||
        word.front() == '+') {
        return Status{};
    }
    std::int32_t days = 0;
    if (!parse_date(word, days).ok()) {
        return fail(Errc::invalid_time, at);
    }
    at = skip_spaces(text, end);
    return Status{};
}

// "am"/"pm" in any case, not followed by a letter: DecodeTimeOnly's AMPM tokens. The hour
// must then be at most 12 (else 22008); 12 AM is 0, PM adds 12 hours except to 12.
Status apply_meridiem(std::string_view text, std::size_t& at, std::int64_t& us) {
    if (at + 2 > text.size() || (!detail::has_word_at(text, at, "am") &&
                                 !detail::has_word_at(text, at, "pm")) ||
        (at + 2 < text.size() && ((text[at + 2] >= 'a' && text[at + 2] <= 'z') ||
                                  (text[at + 2] >= 'A' && text[at + 2] <= 'Z')))) {
        return Status{};
    }
    const bool pm = text[at] == 'p' || text[at] == 'P';
    const std::int64_t hour = us / (3600 * us_per_second);
    if (hour > 12) {
        return fail(Errc::time_field_out_of_range, at);
    }
    if (!pm && hour == 12) {
        us -= 12 * 3600 * us_per_second;
    } else if (pm && hour != 12) {
        us += 12 * 3600 * us_per_second;
    }
    at = skip_spaces(text, at + 2);
    return Status{};
}

// The whole text: spaces, an optional date (dropped), clock, optional AM/PM, optional offset
// (seconds east, 0 without one), spaces.
Status parse_time_common(std::string_view text, std::int64_t& us, std::int64_t& east_s) {
    std::size_t at = skip_spaces(text, 0);
    if (Status status = skip_date(text, at); !status.ok()) {
        return status;
    }
    if (Status status = parse_clock(text, at, us); !status.ok()) {
        return status;
    }
    at = skip_spaces(text, at);
    if (Status status = apply_meridiem(text, at, us); !status.ok()) {
        return status;
    }
    east_s = 0;
    if (at < text.size() &&
        (text[at] == 'Z' || text[at] == 'z' || text[at] == '+' || text[at] == '-')) {
        if (Status status = parse_offset(text, at, east_s); !status.ok()) {
            return status;
        }
        at = skip_spaces(text, at);
    }
    if (at != text.size()) {
        return fail(Errc::invalid_time, at);
    }
    return Status{};
}

}  // namespace

Status parse_time(std::string_view text, std::int64_t& us) {
    std::int64_t east_s = 0;
    return parse_time_common(text, us, east_s);
}

Status parse_timetz(std::string_view text, TimeTz& value) {
    std::int64_t us = 0;
    std::int64_t east_s = 0;
    Status status = parse_time_common(text, us, east_s);
    if (status.ok()) {
        value.time_us = us;
        value.zone_s = static_cast<std::int32_t>(-east_s);
    }
    return status;
}

void encode_time(ByteBuffer& out, std::int64_t us) {
    out.put_i32(8);
    out.put_i64(us);
}

void encode_timetz(ByteBuffer& out, const TimeTz& value) {
    out.put_i32(12);
    out.put_i64(value.time_us);
    out.put_i32(value.zone_s);
}

Status encode_time_text(ByteBuffer& out, std::string_view text) {
    std::int64_t us = 0;
    Status status = parse_time(text, us);
    if (status.ok()) {
        encode_time(out, us);
    }
    return status;
}

Status encode_timetz_text(ByteBuffer& out, std::string_view text) {
    TimeTz value;
    Status status = parse_timetz(text, value);
    if (status.ok()) {
        encode_timetz(out, value);
    }
    return status;
}

}  // namespace pgingest
