// Interval text, following PostgreSQL 15 interval_in (timestamp.c) and datetime.c: the lexer
// ParseDateTime, DecodeInterval with DecodeUnits over deltatktbl and DecodeTimeForInterval /
// DecodeTimeCommon, and DecodeISO8601Interval with ParseISO8601Number, both with the Adjust*
// helpers (the same int64 and double arithmetic, so fractions spill and round exactly like the
// server's). IntervalStyle is taken to be `postgres` (the default): only sql_standard reads a
// leading '-' differently.

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
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

Status fail(Errc code, std::size_t at) {
    return Status{code, static_cast<std::uint32_t>(at)};
}
Status bad(std::size_t at) {
    return fail(Errc::invalid_interval, at);
}
Status overflow(std::size_t at) {
    return fail(Errc::interval_out_of_range, at);
}

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

bool adjust_microseconds(std::int64_t value, double frac, std::int64_t scale, ItmIn& itm) {
    return multiply_add(value, scale, itm.usec) && adjust_fract_microseconds(frac, scale, itm);
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

bool adjust_fract_years(double frac, std::int32_t scale, ItmIn& itm) {
    return add_i32(itm.mon, static_cast<std::int64_t>(std::rint(frac * scale * 12)));
}

// AdjustDays / AdjustYears: val must fit int32, val * scale too, and the sum.
bool adjust_int32_field(std::int64_t value, std::int32_t scale, std::int32_t& field) {
    if (value < int32_min || value > int32_max) {
        return false;
    }
    return add_i32(field, value * scale);
}

// ParseISO8601Number: what strtod takes, starting with a digit, '-' or '.'; |v| ≤ 1e15.
Status parse_iso_number(std::string_view text, std::size_t& at, std::int64_t& value, double& frac) {
    const std::size_t start = at;
    if (at >= text.size() || !(is_digit(text[at]) || text[at] == '-' || text[at] == '.')) {
        return bad(at);
    }
    double number = 0;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + text.size(), number);
    if (ec != std::errc{} || is_strtod_underflow(number)) {
        return bad(at);  // no number, or strtod's ERANGE
    }
    at = static_cast<std::size_t>(end - text.data());
    if (std::isnan(number) || number < -1.0e15 || number > 1.0e15) {
        return overflow(start);
    }
    value = static_cast<std::int64_t>(number >= 0 ? std::floor(number) : -std::floor(-number));
    frac = number - static_cast<double>(value);
    return Status{};
}

Status to_interval(const ItmIn& itm, Interval& out) {
    std::int64_t months = std::int64_t{itm.year} * 12 + itm.mon;
    if (months < int32_min || months > int32_max) {
        return overflow(0);  // itmin2interval; server: 22008 interval out of range
    }
    out = Interval{itm.usec, itm.mday, static_cast<std::int32_t>(months)};
    return Status{};
}

// ISO8601IntegerWidth: digits after an optional '-'.
std::size_t iso_integer_width(std::string_view text, std::size_t at) {
    if (at < text.size() && text[at] == '-') {
        at++;
    }
    std::size_t width = 0;
    while (at + width < text.size() && is_digit(text[at + width])) {
        width++;
    }
    return width;
}

// A designator of the date part (before 'T'): Y, M, W or D; false for another byte.
bool iso_date_unit(char unit, std::int64_t value, double frac, ItmIn& itm, bool& fits) {
    switch (unit) {
        case 'Y':
            fits = adjust_int32_field(value, 1, itm.year) && adjust_fract_years(frac, 1, itm);
            return true;
        case 'M':
            fits = adjust_int32_field(value, 1, itm.mon) &&
                   adjust_fract_days(frac, days_per_month, itm);
            return true;
        case 'W':
            fits = adjust_int32_field(value, 7, itm.mday) && adjust_fract_days(frac, 7, itm);
            return true;
        case 'D':
            fits = adjust_int32_field(value, 1, itm.mday) &&
                   adjust_fract_microseconds(frac, us_per_day, itm);
            return true;
        default:
            return false;
    }
}

// A designator of the time part (after 'T'): H, M or S; false for another byte.
bool iso_time_unit(char unit, std::int64_t value, double frac, ItmIn& itm, bool& fits) {
    if (unit != 'H' && unit != 'M' && unit != 'S') {
        return false;
    }
    std::int64_t scale = unit == 'H' ? us_per_hour : unit == 'M' ? us_per_minute : us_per_second;
    fits = adjust_microseconds(value, frac, scale, itm);
    return true;
}

// Where an alternative-format field ends: done (end of text), on to the time part ('T'), or
// more of the same part.
enum class IsoNext : std::uint8_t { done, time_part, more };

IsoNext iso_next(std::string_view text, std::size_t at) {
    return at >= text.size() ? IsoNext::done : text[at] == 'T' ? IsoNext::time_part : IsoNext::more;
}

// The extended alternative date format after its year: "-MM[-DD]", "T" or the end
// (DecodeISO8601Interval case '-').
Status iso_alternative_date(std::string_view text, std::size_t& at, ItmIn& itm, IsoNext& next) {
    std::int64_t value = 0;
    double frac = 0;
    const std::size_t month_at = at;
    if (Status status = parse_iso_number(text, at, value, frac); !status.ok()) {
        return status;
    }
    if (!adjust_int32_field(value, 1, itm.mon) || !adjust_fract_days(frac, days_per_month, itm)) {
        return overflow(month_at);
    }
    next = iso_next(text, at);
    if (next != IsoNext::more) {
        return Status{};
    }
    if (text[at] != '-') {
        return bad(at);
    }
    const std::size_t day_at = ++at;
    if (Status status = parse_iso_number(text, at, value, frac); !status.ok()) {
        return status;
    }
    if (!adjust_int32_field(value, 1, itm.mday) ||
        !adjust_fract_microseconds(frac, us_per_day, itm)) {
        return overflow(day_at);
    }
    next = iso_next(text, at);
    return next == IsoNext::more ? bad(at) : Status{};
}

// The extended alternative time format after its hours: ":MM[:SS]" or the end.
Status iso_alternative_time(std::string_view text, std::size_t& at, ItmIn& itm) {
    std::int64_t value = 0;
    double frac = 0;
    const std::size_t minute_at = at;
    if (Status status = parse_iso_number(text, at, value, frac); !status.ok()) {
        return status;
    }
    if (!adjust_microseconds(value, frac, us_per_minute, itm)) {
        return overflow(minute_at);
    }
    if (at >= text.size()) {
        return Status{};
    }
    if (text[at] != ':') {
        return bad(at);
    }
    const std::size_t second_at = ++at;
    if (Status status = parse_iso_number(text, at, value, frac); !status.ok()) {
        return status;
    }
    if (!adjust_microseconds(value, frac, us_per_second, itm)) {
        return overflow(second_at);
    }
    return at >= text.size() ? Status{} : bad(at);
}

// The alternative format's date field (unit 'T', '\0' or '-' in the date part): basic
// YYYYMMDD, or the extended YYYY-MM-DD read by `iso_alternative_date`.
Status iso_alternative_date_field(std::string_view text, std::size_t field_at, std::size_t& at,
                                  char unit, std::int64_t value, double frac, ItmIn& itm,
                                  IsoNext& next) {
    if (unit != '-' && iso_integer_width(text, field_at) == 8) {
        if (!adjust_int32_field(value / 10000, 1, itm.year) ||
            !adjust_int32_field((value / 100) % 100, 1, itm.mon) ||
            !adjust_int32_field(value % 100, 1, itm.mday) ||
            !adjust_fract_microseconds(frac, us_per_day, itm)) {
            return overflow(field_at);
        }
        next = unit == '\0' ? IsoNext::done : IsoNext::time_part;
        return Status{};
    }
    if (!adjust_int32_field(value, 1, itm.year) || !adjust_fract_years(frac, 1, itm)) {
        return overflow(field_at);
    }
    next = unit == '\0' ? IsoNext::done : unit == 'T' ? IsoNext::time_part : IsoNext::more;
    if (next != IsoNext::more) {
        return Status{};
    }
    return iso_alternative_date(text, at, itm, next);
}

// The alternative format's time field (unit '\0' or ':' in the time part): basic hhmmss, or
// the extended hh:mm:ss read by `iso_alternative_time`.
Status iso_alternative_time_field(std::string_view text, std::size_t field_at, std::size_t& at,
                                  char unit, std::int64_t value, double frac, ItmIn& itm) {
    if (unit == '\0' && iso_integer_width(text, field_at) == 6) {
        if (!adjust_microseconds(value / 10000, 0, us_per_hour, itm) ||
            !adjust_microseconds((value / 100) % 100, 0, us_per_minute, itm) ||
            !adjust_microseconds(value % 100, 0, us_per_second, itm) ||
            !adjust_fract_microseconds(frac, 1, itm)) {
            return overflow(field_at);
        }
        return Status{};
    }
    if (!adjust_microseconds(value, frac, us_per_hour, itm)) {
        return overflow(field_at);
    }
    return unit == '\0' ? Status{} : iso_alternative_time(text, at, itm);
}

}  // namespace

Status parse_iso8601_interval(std::string_view text, Interval& out) {
    if (text.size() < 2 || text[0] != 'P') {
        return bad(0);
    }
    ItmIn itm;
    bool date_part = true;
    bool have_field = false;
    std::size_t at = 1;
    while (at < text.size()) {
        if (text[at] == 'T') {
            date_part = false;
            have_field = false;
            at++;
            continue;
        }
        const std::size_t field_at = at;
        std::int64_t value = 0;
        double frac = 0;
        if (Status status = parse_iso_number(text, at, value, frac); !status.ok()) {
            return status;
        }
        const char unit = at < text.size() ? text[at] : '\0';
        if (at < text.size()) {
            at++;
        }
        bool fits = true;
        if (date_part ? iso_date_unit(unit, value, frac, itm, fits)
                      : iso_time_unit(unit, value, frac, itm, fits)) {
            if (!fits) {
                return overflow(field_at);
            }
            have_field = true;
            continue;
        }
        const bool alternative =
            date_part ? unit == 'T' || unit == '\0' || unit == '-' : unit == '\0' || unit == ':';
        if (!alternative || have_field) {
            return bad(unit == '\0' ? at : at - 1);
        }
        if (!date_part) {
            Status status = iso_alternative_time_field(text, field_at, at, unit, value, frac, itm);
            return status.ok() ? to_interval(itm, out) : status;
        }
        IsoNext next = IsoNext::done;
        Status status =
            iso_alternative_date_field(text, field_at, at, unit, value, frac, itm, next);
        if (!status.ok() || next == IsoNext::done) {
            return status.ok() ? to_interval(itm, out) : status;
        }
        if (unit != 'T' && at < text.size() && text[at] == 'T') {
            at++;  // the 'T' the date stopped at
        }
        date_part = false;
        have_field = false;
    }
    return to_interval(itm, out);
}

namespace {

// ---- ParseDateTime: the string into at most 25 fields (MAXDATEFIELDS), lowercased into a
// 256-byte work buffer (interval_in's workbuf) whose overflow is bad syntax.

enum class FieldType : std::uint8_t { number, string, date, time, tz, special };

struct Fields {
    static constexpr std::size_t count_max = 25;
    static constexpr std::size_t work_size = 256;
    char work[work_size];
    std::uint16_t start[count_max];
    std::uint16_t size[count_max];
    std::uint32_t at[count_max];  // byte offset of the field in the input
    FieldType type[count_max];
    std::size_t count = 0;

    [[nodiscard]] std::string_view text(std::size_t i) const { return {work + start[i], size[i]}; }
};

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}
// C-locale ispunct: printable ASCII that is neither alphanumeric nor a space.
bool is_punct(char c) {
    return c > ' ' && c < 127 && !is_alnum(c);
}
char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// The units of deltatktbl that datetktbl (the core token table) also holds: ParseDateTime
// keeps these a field of their own before a digit or '+' ("1d2h"), others swallow what follows.
bool in_core_tokens(std::string_view token) {
    for (std::string_view core : {"d", "dec", "h", "m", "mon", "s", "y"}) {
        if (token == core) {
            return true;
        }
    }
    return false;
}

class Lexer {
  public:
    Lexer(std::string_view text, Fields& fields) : _text(text), _fields(fields) {}

    Status run() {
        _fields.count = 0;
        while (_at < _text.size()) {
            const char c = _text[_at];
            if (is_space(c)) {
                _at++;
                continue;
            }
            if (is_punct(c) && c != '.' && c != '+' && c != '-') {
                _at++;  // other punctuation only delimits
                continue;
            }
            if (_fields.count == Fields::count_max) {
                return bad(_at);
            }
            const std::size_t n = _fields.count;
            _fields.start[n] = static_cast<std::uint16_t>(_used);
            _fields.at[n] = static_cast<std::uint32_t>(_at);
            bool ok = is_digit(c)            ? digits_field(n)
                      : c == '.'             ? fraction_field(n)
                      : is_alpha(c)          ? word_field(n)
                      : c == '+' || c == '-' ? signed_field(n)
                                             : false;  // NUL, non-ASCII, control bytes
            if (!ok) {
                return bad(_at);
            }
            _fields.size[n] = static_cast<std::uint16_t>(_used - _fields.start[n]);
            _fields.work[_used++] = '\0';  // unchecked in the server too: room is left for it
            _fields.count++;
        }
        return Status{};
    }

  private:
    [[nodiscard]] char peek() const { return _at < _text.size() ? _text[_at] : '\0'; }

    // APPEND_CHAR: fails when the work buffer would leave no room for a terminator.
    bool append(char c) {
        if (_used + 1 >= Fields::work_size) {
            return false;
        }
        _fields.work[_used++] = c;
        _at++;
        return true;
    }

    bool append_while(bool (*take)(char)) {
        while (take(peek())) {
            if (!append(peek())) {
                return false;
            }
        }
        return true;
    }

    bool digits_field(std::size_t n);
    bool fraction_field(std::size_t n);
    bool word_field(std::size_t n);
    bool signed_field(std::size_t n);

    std::string_view _text;
    Fields& _fields;
    std::size_t _at = 0;
    std::size_t _used = 0;
};

bool time_char(char c) {
    return is_digit(c) || c == ':' || c == '.';
}
bool tz_char(char c) {
    return is_digit(c) || c == ':' || c == '.' || c == '-';
}

bool Lexer::digits_field(std::size_t n) {
    if (!append_while([](char c) { return is_digit(c); })) {
        return false;
    }
    const char next = peek();
    if (next == ':') {
        _fields.type[n] = FieldType::time;
        return append(next) && append_while(time_char);
    }
    if (next != '-' && next != '/' && next != '.') {
        _fields.type[n] = FieldType::number;
        return true;
    }
    const char delim = next;
    if (!append(delim)) {
        return false;
    }
    if (!is_digit(peek())) {
        // A date with a text month: alphanumerics and the delimiter, lowercased.
        _fields.type[n] = FieldType::date;
        while (is_alnum(peek()) || peek() == delim) {
            if (!append(lower(peek()))) {
                return false;
            }
        }
        return true;
    }
    _fields.type[n] = delim == '.' ? FieldType::number : FieldType::date;
    if (!append_while([](char c) { return is_digit(c); })) {
        return false;
    }
    if (peek() != delim) {
        return true;
    }
    _fields.type[n] = FieldType::date;  // a three-field date: the delimiters must match
    while (is_digit(peek()) || peek() == delim) {
        if (!append(peek())) {
            return false;
        }
    }
    return true;
}

bool Lexer::fraction_field(std::size_t n) {
    _fields.type[n] = FieldType::number;
    return append('.') && append_while([](char c) { return is_digit(c); });
}

bool Lexer::word_field(std::size_t n) {
    _fields.type[n] = FieldType::string;
    while (is_alpha(peek())) {
        if (!append(lower(peek()))) {
            return false;
        }
    }
    const char next = peek();
    bool is_date = next == '-' || next == '/' || next == '.';
    if (!is_date && (next == '+' || is_digit(next))) {
        std::string_view word(_fields.work + _fields.start[n], _used - _fields.start[n]);
        is_date = !in_core_tokens(word);
    }
    if (!is_date) {
        return true;
    }
    _fields.type[n] = FieldType::date;
    do {
        if (!append(lower(peek()))) {
            return false;
        }
    } while (peek() == '+' || peek() == '-' || peek() == '/' || peek() == '_' || peek() == '.' ||
             peek() == ':' || is_alnum(peek()));
    return true;
}

bool Lexer::signed_field(std::size_t n) {
    if (!append(peek())) {
        return false;
    }
    while (is_space(peek())) {
        _at++;
    }
    if (is_digit(peek())) {
        _fields.type[n] = FieldType::tz;
        return append(peek()) && append_while(tz_char);
    }
    if (!is_alpha(peek())) {
        return false;
    }
    _fields.type[n] = FieldType::special;
    while (is_alpha(peek())) {
        if (!append(lower(peek()))) {
            return false;
        }
    }
    return true;
}

// ---- DecodeInterval.

// The units of deltatktbl (DecodeUnits), plus the states DecodeInterval's `type` takes.
enum class Unit : std::uint8_t {
    none,       // IGNORE_DTF: no unit yet, a bare number is seconds
    after_ago,  // "ago" leaves `type` at 0, which no number can take
    unusable,   // quarter, timezone, timezone_h/m: a unit no number can take
    microsecond,
    millisecond,
    second,
    minute,
    hour,
    day,
    week,
    month,
    year,
    decade,
    century,
    millennium,
};

// DTK_M bits of the fields a value sets, to refuse the same field twice.
enum Mask : std::uint32_t {
    mask_year = 1U << 0,
    mask_month = 1U << 1,
    mask_day = 1U << 2,
    mask_hour = 1U << 3,
    mask_minute = 1U << 4,
    mask_second = 1U << 5,
    mask_millisecond = 1U << 6,
    mask_microsecond = 1U << 7,
    mask_week = 1U << 8,
    mask_decade = 1U << 9,
    mask_century = 1U << 10,
    mask_millennium = 1U << 11,
};
constexpr std::uint32_t mask_all_seconds = mask_second | mask_millisecond | mask_microsecond;
constexpr std::uint32_t mask_time = mask_hour | mask_minute | mask_all_seconds;

struct UnitToken {
    std::string_view token;
    Unit unit;
};

// deltatktbl as PostgreSQL 15 has it, tokens cut at TOKMAXLEN (10) bytes as there.
constexpr UnitToken unit_tokens[] = {
    {"c", Unit::century},
    {"cent", Unit::century},
    {"centuries", Unit::century},
    {"century", Unit::century},
    {"d", Unit::day},
    {"day", Unit::day},
    {"days", Unit::day},
    {"dec", Unit::decade},
    {"decade", Unit::decade},
    {"decades", Unit::decade},
    {"decs", Unit::decade},
    {"h", Unit::hour},
    {"hour", Unit::hour},
    {"hours", Unit::hour},
    {"hr", Unit::hour},
    {"hrs", Unit::hour},
    {"m", Unit::minute},
    {"microsecon", Unit::microsecond},
    {"mil", Unit::millennium},
    {"millennia", Unit::millennium},
    {"millennium", Unit::millennium},
    {"millisecon", Unit::millisecond},
    {"mils", Unit::millennium},
    {"min", Unit::minute},
    {"mins", Unit::minute},
    {"minute", Unit::minute},
    {"minutes", Unit::minute},
    {"mon", Unit::month},
    {"mons", Unit::month},
    {"month", Unit::month},
    {"months", Unit::month},
    {"ms", Unit::millisecond},
    {"msec", Unit::millisecond},
    {"mseconds", Unit::millisecond},
    {"msecs", Unit::millisecond},
    {"qtr", Unit::unusable},
    {"quarter", Unit::unusable},
    {"s", Unit::second},
    {"sec", Unit::second},
    {"second", Unit::second},
    {"seconds", Unit::second},
    {"secs", Unit::second},
    {"timezone", Unit::unusable},
    {"timezone_h", Unit::unusable},
    {"timezone_m", Unit::unusable},
    {"us", Unit::microsecond},
    {"usec", Unit::microsecond},
    {"useconds", Unit::microsecond},
    {"usecs", Unit::microsecond},
    {"w", Unit::week},
    {"week", Unit::week},
    {"weeks", Unit::week},
    {"y", Unit::year},
    {"year", Unit::year},
    {"years", Unit::year},
    {"yr", Unit::year},
    {"yrs", Unit::year},
};

// DecodeUnits: strncmp(token, entry, TOKMAXLEN), so only the first 10 bytes count.
bool find_unit(std::string_view word, Unit& unit) {
    if (word.size() > 10) {
        word = word.substr(0, 10);
    }
    for (const UnitToken& entry : unit_tokens) {
        if (entry.token == word) {
            unit = entry.unit;
            return true;
        }
    }
    return false;
}

// strtol on digits with an optional sign, no whitespace; `end` after the digits (at `at` when
// there are none, as strtol leaves endptr). False on ERANGE.
bool parse_long(std::string_view text, std::size_t at, std::int64_t& value, std::size_t& end) {
    std::size_t i = at;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        negative = text[i++] == '-';
    }
    const std::size_t digits_at = i;
    std::int64_t magnitude = 0;  // accumulated negative, to reach INT64_MIN
    bool range = true;
    for (; i < text.size() && is_digit(text[i]); i++) {
        range = range && !__builtin_mul_overflow(magnitude, 10, &magnitude) &&
                !__builtin_sub_overflow(magnitude, text[i] - '0', &magnitude);
    }
    if (i == digits_at) {
        value = 0;
        end = at;
        return true;
    }
    end = i;
    if (!range || (!negative && magnitude == int64_min)) {
        return false;
    }
    value = negative ? magnitude : -magnitude;
    return true;
}

// ParseFraction: "." alone is 0, else strtod must read the whole rest without ERANGE.
bool parse_fraction(std::string_view rest, double& frac) {
    if (rest.size() == 1) {
        frac = 0;
        return true;
    }
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), frac);
    bool digits = false;
    for (char c : rest) {
        digits = digits || (c >= '1' && c <= '9');
    }
    return ec == std::errc{} && end == rest.data() + rest.size() && !is_strtod_underflow(frac) &&
           !(digits && frac == 0);
}

// DecodeTimeCommon then DecodeTimeForInterval: "h:m[:s][.frac]" or "m:s.frac" into µs.
// Overflow of a field is interval_out_of_range, anything else invalid_interval.
Status decode_time(std::string_view field, std::size_t at, std::int64_t& usec) {
    std::int64_t hour = 0;
    std::int64_t minute = 0;
    std::int64_t second = 0;
    std::int64_t fraction_us = 0;
    std::size_t end = 0;
    if (!parse_long(field, 0, hour, end)) {
        return overflow(at);
    }
    if (end >= field.size() || field[end] != ':') {
        return bad(at);
    }
    if (!parse_long(field, end + 1, minute, end) || minute != static_cast<std::int32_t>(minute)) {
        return overflow(at);
    }
    auto fraction = [&](std::size_t from) {
        double frac = 0;
        if (!parse_fraction(field.substr(from), frac)) {
            return false;
        }
        fraction_us = static_cast<std::int64_t>(std::rint(frac * 1000000.0));
        return true;
    };
    if (end < field.size() && field[end] == '.') {
        if (!fraction(end)) {
            return bad(at);
        }
        if (hour > int32_max) {
            return overflow(at);
        }
        second = minute;  // "mm:ss.fraction" is always MINUTE TO SECOND
        minute = hour;
        hour = 0;
    } else if (end < field.size() && field[end] == ':') {
        if (!parse_long(field, end + 1, second, end) ||
            second != static_cast<std::int32_t>(second)) {
            return overflow(at);
        }
        if (end < field.size() && field[end] == '.' && !fraction(end)) {
            return bad(at);
        }
        if (end < field.size() && field[end] != '.') {
            return bad(at);
        }
    } else if (end < field.size()) {
        return bad(at);
    }
    if (hour < 0 || minute < 0 || minute > 59 || second < 0 || second > 60 || fraction_us < 0 ||
        fraction_us > us_per_second) {
        return overflow(at);
    }
    usec = fraction_us;
    if (!multiply_add(hour, us_per_hour, usec) || !multiply_add(minute, us_per_minute, usec) ||
        !multiply_add(second, us_per_second, usec)) {
        return overflow(at);
    }
    return Status{};
}

struct Decoder {
    ItmIn itm;
    Unit type = Unit::none;
    std::uint32_t fmask = 0;
    bool is_before = false;

    Status time_field(std::string_view field, std::size_t at, bool sign);
    Status number_field(std::string_view field, std::size_t at);
    Status apply(std::int64_t value, double frac, std::size_t at, std::uint32_t& tmask);
    Status field(const Fields& fields, std::size_t i);
};

Status Decoder::time_field(std::string_view field, std::size_t at, bool sign) {
    std::int64_t usec = 0;
    Status status = decode_time(sign ? field.substr(1) : field, at, usec);
    if (!status.ok()) {
        return status;
    }
    if (sign && field[0] == '-') {
        if (usec == int64_min) {
            return overflow(at);
        }
        usec = -usec;
    }
    itm.usec = usec;  // DecodeTimeForInterval sets tm_usec: what came before it is replaced
    type = Unit::day;
    return Status{};
}

Status Decoder::apply(std::int64_t value, double frac, std::size_t at, std::uint32_t& tmask) {
    bool fits = true;
    switch (type) {
        case Unit::microsecond:
            fits = adjust_microseconds(value, frac, 1, itm);
            tmask = mask_microsecond;
            break;
        case Unit::millisecond:
            fits = adjust_microseconds(value, frac, 1000, itm);
            tmask = mask_millisecond;
            break;
        case Unit::second:
            fits = adjust_microseconds(value, frac, us_per_second, itm);
            tmask = frac == 0 ? mask_second : mask_all_seconds;
            break;
        case Unit::minute:
            fits = adjust_microseconds(value, frac, us_per_minute, itm);
            tmask = mask_minute;
            break;
        case Unit::hour:
            fits = adjust_microseconds(value, frac, us_per_hour, itm);
            tmask = mask_hour;
            type = Unit::day;  // set for the next field
            break;
        case Unit::day:
            fits = adjust_int32_field(value, 1, itm.mday) &&
                   adjust_fract_microseconds(frac, us_per_day, itm);
            tmask = mask_day;
            break;
        case Unit::week:
            fits = adjust_int32_field(value, 7, itm.mday) && adjust_fract_days(frac, 7, itm);
            tmask = mask_week;
            break;
        case Unit::month:
            fits = adjust_int32_field(value, 1, itm.mon) &&
                   adjust_fract_days(frac, days_per_month, itm);
            tmask = mask_month;
            break;
        case Unit::year:
        case Unit::decade:
        case Unit::century:
        case Unit::millennium: {
            const std::int32_t scale = type == Unit::year      ? 1
                                       : type == Unit::decade  ? 10
                                       : type == Unit::century ? 100
                                                               : 1000;
            fits =
                adjust_int32_field(value, scale, itm.year) && adjust_fract_years(frac, scale, itm);
            tmask = type == Unit::year      ? mask_year
                    : type == Unit::decade  ? mask_decade
                    : type == Unit::century ? mask_century
                                            : mask_millennium;
            break;
        }
        default:
            return bad(at);
    }
    return fits ? Status{} : overflow(at);
}

Status Decoder::number_field(std::string_view field, std::size_t at) {
    if (type == Unit::none) {
        type = Unit::second;  // the rightmost field of a full-range interval
    }
    std::int64_t value = 0;
    std::size_t end = 0;
    if (!parse_long(field, 0, value, end)) {
        return overflow(at);
    }
    double frac = 0;
    if (end < field.size() && field[end] == '-') {
        // SQL "years-months"
        std::int64_t months = 0;
        std::size_t months_end = 0;
        if (!parse_long(field, end + 1, months, months_end) ||
            months != static_cast<std::int32_t>(months) || months < 0 || months >= 12) {
            return overflow(at);
        }
        if (months_end < field.size()) {
            return bad(at);
        }
        type = Unit::month;
        if (field[0] == '-') {
            months = -months;
        }
        if (__builtin_mul_overflow(value, 12, &value) ||
            __builtin_add_overflow(value, months, &value)) {
            return overflow(at);
        }
    } else if (end < field.size() && field[end] == '.') {
        if (!parse_fraction(field.substr(end), frac)) {
            return bad(at);
        }
        frac = field[0] == '-' ? -frac : frac;
    } else if (end < field.size()) {
        return bad(at);
    }
    std::uint32_t tmask = 0;
    if (Status status = apply(value, frac, at, tmask); !status.ok()) {
        return status;
    }
    if ((tmask & fmask) != 0) {
        return bad(at);
    }
    fmask |= tmask;
    return Status{};
}

Status Decoder::field(const Fields& fields, std::size_t i) {
    const std::string_view text = fields.text(i);
    const std::size_t at = fields.at[i];
    switch (fields.type[i]) {
        case FieldType::time:
        case FieldType::tz: {
            const bool sign = fields.type[i] == FieldType::tz;
            if (!sign || text.find(':') != std::string_view::npos) {
                ItmIn saved = itm;
                Status status = time_field(text, at, sign);
                if (status.ok() || !sign) {
                    if (status.ok() && (fmask & mask_time) != 0) {
                        return bad(at);
                    }
                    fmask |= mask_time;
                    return status;
                }
                itm = saved;  // a signed field that is no time is read as a number
            }
            return number_field(text, at);
        }
        case FieldType::date:
        case FieldType::number:
            return number_field(text, at);
        case FieldType::string:
        case FieldType::special: {
            if (text == "ago") {
                is_before = true;
                type = Unit::after_ago;
                return Status{};
            }
            Unit unit = Unit::none;
            if (!find_unit(text, unit)) {
                return bad(at);
            }
            type = unit;
            return Status{};
        }
    }
    return bad(at);
}

bool negate(std::int64_t& value) {
    if (value == int64_min) {
        return false;
    }
    value = -value;
    return true;
}

bool negate(std::int32_t& value) {
    if (value == int32_min) {
        return false;
    }
    value = -value;
    return true;
}

}  // namespace

Status parse_postgres_interval(std::string_view text, Interval& out) {
    Fields fields;
    if (Status status = Lexer(text, fields).run(); !status.ok()) {
        return status;
    }
    Decoder decoder;
    for (std::size_t i = fields.count; i-- > 0;) {  // backwards: units before their values
        if (Status status = decoder.field(fields, i); !status.ok()) {
            return status;
        }
    }
    if (decoder.fmask == 0) {
        return bad(fields.count == 0 ? text.size() : 0);
    }
    ItmIn& itm = decoder.itm;
    if (decoder.is_before &&
        (!negate(itm.usec) || !negate(itm.mday) || !negate(itm.mon) || !negate(itm.year))) {
        return overflow(0);
    }
    return to_interval(itm, out);
}

}  // namespace pgingest::detail
