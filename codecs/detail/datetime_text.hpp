#pragma once

// Private: the text grammar shared by parse_date / parse_timestamp(tz) / parse_interval
// (codecs/datetime.hpp). Fields are range-checked here the way datetime.c DecodeDateTime,
// ValidateDate and time_overflows do; the conversion to days or µs is the caller's.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codecs/datetime.hpp"
#include "codecs/status.hpp"

namespace pgingest::detail {

/// Which grammar `parse_datetime_parts` accepts and which Errc it reports.
enum class DateTimeSyntax : std::uint8_t { date, timestamp };

/// Calendar fields of a parsed date or timestamp.
struct DateTimeParts {
    int special = 0;           ///< +1 'infinity', -1 '-infinity', 0 a finite value
    std::int64_t year = 0;     ///< astronomical (1 BC = 0), after the era is applied
    unsigned month = 1;        ///< 1..12, validated
    unsigned day = 1;          ///< 1..days in month, validated
    std::int64_t time_us = 0;  ///< time of day, 0..86400000000 (24:00:00 allowed)
    std::int64_t offset_s = 0; ///< UTC offset, seconds east (+05:00 → 18000)
    std::size_t start_at = 0;  ///< byte offset of the value after leading whitespace
};

/// Parses `text` per `syntax` (see parse_date / parse_timestamptz in codecs/datetime.hpp).
/// Reports invalid_date / invalid_timestamp for syntax and fields, and date_out_of_range /
/// timestamp_out_of_range when the local date fails IS_VALID_JULIAN. Pure, no allocation.
[[nodiscard]] Status parse_datetime_parts(std::string_view text, DateTimeSyntax syntax,
                                          DateTimeParts& parts);

/// An ISO 8601 duration with designators (`P…`), as DecodeISO8601Interval reads it.
[[nodiscard]] Status parse_iso8601_interval(std::string_view text, Interval& out);

/// PostgreSQL's own interval syntax, as interval_in reads a text that does not start with 'P':
/// ParseDateTime's fields, then DecodeInterval (units, H:M:S, years-months, ago).
[[nodiscard]] Status parse_postgres_interval(std::string_view text, Interval& out);

/// C-locale isspace(), which the server's date/time lexer (ParseDateTime) skips.
[[nodiscard]] inline bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

[[nodiscard]] inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

[[nodiscard]] inline std::size_t skip_spaces(std::string_view text, std::size_t at) {
    while (at < text.size() && is_space(text[at])) {
        at++;
    }
    return at;
}

/// pg_strncasecmp(text + at, word, strlen(word)) == 0.
[[nodiscard]] bool has_word_at(std::string_view text, std::size_t at, std::string_view word);

/// Reads a fraction of a second starting at text[at] == '.', followed by any number of digits
/// (possibly none), into `us` = rint(strtod(".ddd") * 1e6), 0..1000000, as
/// ParseFractionalSecond computes it; `at` ends after the digits. False where strtod would set
/// ERANGE (a non-zero fraction below DBL_MIN), which the server rejects as bad syntax.
[[nodiscard]] bool parse_fraction_us(std::string_view text, std::size_t& at, std::int64_t& us);

/// True for a value strtod reports with ERANGE: non-zero and below DBL_MIN in magnitude.
[[nodiscard]] bool is_strtod_underflow(double value);

}  // namespace pgingest::detail
