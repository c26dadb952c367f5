// Interval text, following PostgreSQL 15 datetime.c: DecodeISO8601Interval with
// ParseISO8601Number and the Adjust* helpers (the same double arithmetic, so fractions spill
// and round exactly like the server), and DecodeTimeForInterval for a lone H:MM:SS field.

#include <charconv>
#include <cmath>
#include <limits>

#include "codecs/detail/datetime_text.hpp"

namespace pgingest::detail {

namespace {

constexpr std::int64_t us_per_second = 1000000;
constexpr std::int64_t us_per_minute = 60 * us_per_second;
constexpr std::int64_t us_per_hour = 60 * us_per_minute;
constexpr std::int64_t us_per_day = 24 * us_per_hour;
constexpr std::int32_t days_per_month = 30;
constexpr std::int32_t int32_max = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t int32_min = std::numeric_limits<std::int32_t>::min();

Status fail(Errc code, std::size_t at) { return Status{code, static_cast<std::uint32_t>(at)}; }

// struct pg_itm_in: the fields accumulate separately and meet only in itmin2interval.
struct ItmIn {
    std::int64_t usec = 0;
    std::int32_t mday = 0;
    std::int32_t mon = 0;
    std::int32_t year = 0;
};

bool add_i32(std::int32_t& sum, std::int64_t value) {
    std::int64_t result = std::int64_t{sum} + value;
    if (result < int32_min || result > int32_max) {
        return false;
    }
    sum = static_cast<std::int32_t>(result);
    return true;
}

// int64_multiply_add: *sum += val * multiplier, false on overflow.
bool multiply_add(std::int64_t value, std::int64_t multiplier, std::int64_t& sum) {
    std::int64_t product = 0;
    return !__builtin_mul_overflow(value, multiplier, &product) &&
           !__builtin_add_overflow(sum, product, &sum);
}

bool adjust_fract_microseconds(double frac, std::int64_t scale, ItmIn& itm) {
    if (frac == 0) {
        return true;
    }
    frac *= static_cast<double>(scale);
    auto usec = static_cast<std::int64_t>(frac);
    frac -= static_cast<double>(usec);
    if (frac > 0.5) {
        usec++;
    } else if (frac < -0.5) {
        usec--;
    }
    return !__builtin_add_overflow(itm.usec, usec, &itm.usec);
}

bool adjust_fract_days(double frac, std::int32_t scale, ItmIn& itm) {
    if (frac == 0) {
        return true;
    }
    frac *= scale;
    auto extra_days = static_cast<std::int32_t>(frac);
    if (!add_i32(itm.mday, extra_days)) {
        return false;
    }
    frac -= extra_days;
    return adjust_fract_microseconds(frac, us_per_day, itm);
}

bool adjust_int32_field(std::int64_t value, std::int32_t scale, std::int32_t& field) {
    if (value < int32_min || value > int32_max) {
        return false;
    }
    return add_i32(field, value * scale);
}

// One designator of the date part (before 'T'): Y, M, W or D.
bool apply_date_unit(char unit, std::int64_t value, double frac, ItmIn& itm, bool& known) {
    known = true;
    switch (unit) {
        case 'Y':
            return adjust_int32_field(value, 1, itm.year) &&
                   add_i32(itm.mon, static_cast<std::int64_t>(std::rint(frac * 12)));
        case 'M':
            return adjust_int32_field(value, 1, itm.mon) &&
                   adjust_fract_days(frac, days_per_month, itm);
        case 'W':
            return adjust_int32_field(value, 7, itm.mday) && adjust_fract_days(frac, 7, itm);
        case 'D':
            return adjust_int32_field(value, 1, itm.mday) &&
                   adjust_fract_microseconds(frac, us_per_day, itm);
        default: known = false; return false;
    }
}

// One designator of the time part (after 'T'): H, M or S.
bool apply_time_unit(char unit, std::int64_t value, double frac, ItmIn& itm, bool& known) {
    std::int64_t scale = unit == 'H' ? us_per_hour : unit == 'M' ? us_per_minute : us_per_second;
    known = unit == 'H' || unit == 'M' || unit == 'S';
    return known && multiply_add(value, scale, itm.usec) &&
           adjust_fract_microseconds(frac, scale, itm);
}

// ParseISO8601Number: what strtod takes, starting with a digit, '-' or '.'; |v| ≤ 1e15.
Status parse_number(std::string_view text, std::size_t& at, std::int64_t& value, double& frac) {
    const std::size_t start = at;
    if (!(is_digit(text[at]) || text[at] == '-' || text[at] == '.')) {
        return fail(Errc::invalid_interval, at);
    }
    double number = 0;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + text.size(), number);
    if (ec != std::errc{} || is_strtod_underflow(number)) {
        return fail(Errc::invalid_interval, at);  // no number, or strtod's ERANGE
    }
    at = static_cast<std::size_t>(end - text.data());
    if (std::isnan(number) || number < -1.0e15 || number > 1.0e15) {
        return fail(Errc::interval_out_of_range, start);
    }
    value = static_cast<std::int64_t>(number >= 0 ? std::floor(number) : -std::floor(-number));
    frac = number - static_cast<double>(value);
    return Status{};
}

Status to_interval(const ItmIn& itm, Interval& out) {
    std::int64_t months = std::int64_t{itm.year} * 12 + itm.mon;
    if (months < int32_min || months > int32_max) {
        return fail(Errc::interval_out_of_range, 0);  // server: 22008 interval out of range
    }
    out = Interval{itm.usec, itm.mday, static_cast<std::int32_t>(months)};
    return Status{};
}

// Reads digits as strtoi64 would (at least one), saturating; false when there are none.
bool read_digits(std::string_view text, std::size_t& at, std::int64_t& value, bool& overflow) {
    const std::size_t start = at;
    value = 0;
    overflow = false;
    for (; at < text.size() && is_digit(text[at]); at++) {
        overflow = overflow || __builtin_mul_overflow(value, 10, &value) ||
                   __builtin_add_overflow(value, text[at] - '0', &value);
    }
    return at > start;
}

}  // namespace

Status parse_iso8601_interval(std::string_view text, Interval& out) {
    if (text.size() < 2 || text[0] != 'P') {
        return fail(Errc::invalid_interval, 0);
    }
    ItmIn itm;
    bool date_part = true;
    std::size_t at = 1;
    while (at < text.size()) {
        if (text[at] == 'T') {
            date_part = false;
            at++;
            continue;
        }
        const std::size_t field_at = at;
        std::int64_t value = 0;
        double frac = 0;
        if (Status status = parse_number(text, at, value, frac); !status.ok()) {
            return status;
        }
        if (at >= text.size()) {
            return fail(Errc::invalid_interval, at);  // the alternative format is not supported
        }
        bool known = false;
        char unit = text[at++];
        bool fits = date_part ? apply_date_unit(unit, value, frac, itm, known)
                              : apply_time_unit(unit, value, frac, itm, known);
        if (!known) {
            return fail(Errc::invalid_interval, at - 1);
        }
        if (!fits) {
            return fail(Errc::interval_out_of_range, field_at);
        }
    }
    return to_interval(itm, out);
}

Status parse_time_interval(std::string_view text, Interval& out) {
    std::size_t at = skip_spaces(text, 0);
    const std::size_t start = at;
    bool negative = false;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        negative = text[at++] == '-';
    }
    std::int64_t fields[3] = {0, 0, 0};  // hours, minutes, seconds
    std::size_t field_at[3] = {at, 0, 0};
    bool overflow[3] = {false, false, false};
    std::int64_t fraction_us = 0;
    if (!read_digits(text, at, fields[0], overflow[0])) {
        return fail(Errc::invalid_interval, at);
    }
    if (at >= text.size() || text[at] != ':') {
        return fail(Errc::invalid_interval, at);
    }
    field_at[1] = ++at;
    if (!read_digits(text, at, fields[1], overflow[1])) {
        return fail(Errc::invalid_interval, at);
    }
    if (at < text.size() && text[at] == '.') {
        // "MM:SS.fraction": DecodeTimeCommon always reads two fields and a fraction this way.
        if (!parse_fraction_us(text, at, fraction_us)) {
            return fail(Errc::invalid_interval, text.find('.', field_at[1]));
        }
        fields[2] = fields[1];
        fields[1] = fields[0];
        fields[0] = 0;
        field_at[2] = field_at[1];
        field_at[1] = field_at[0];
        overflow[2] = overflow[1];
        overflow[1] = overflow[0];
        overflow[0] = false;
    } else if (at < text.size() && text[at] == ':') {
        field_at[2] = ++at;
        if (!read_digits(text, at, fields[2], overflow[2])) {
            return fail(Errc::invalid_interval, at);
        }
        if (at < text.size() && text[at] == '.' &&
            !parse_fraction_us(text, at, fraction_us)) {
            return fail(Errc::invalid_interval, text.find('.', field_at[2]));
        }
    }
    at = skip_spaces(text, at);
    if (at < text.size()) {
        return fail(Errc::invalid_interval, at);
    }
    const std::int64_t limits[3] = {std::numeric_limits<std::int64_t>::max(), 59, 60};
    const std::int64_t scales[3] = {us_per_hour, us_per_minute, us_per_second};
    std::int64_t usec = fraction_us;
    for (int k = 0; k < 3; k++) {
        if (overflow[k] || fields[k] > limits[k] || !multiply_add(fields[k], scales[k], usec)) {
            return fail(Errc::interval_out_of_range, k == 0 ? start : field_at[k]);
        }
    }
    out = Interval{negative ? -usec : usec, 0, 0};
    return Status{};
}

}  // namespace pgingest::detail
