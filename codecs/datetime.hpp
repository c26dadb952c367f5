#pragma once

// PostgreSQL date, timestamp, timestamptz and interval in binary COPY (FORMATS.md §2.4;
// include/datatype/timestamp.h, include/utils/date.h). Readers: backend/utils/adt/date.c
// date_recv(), timestamp.c timestamp_recv(), timestamptz_recv(), interval_recv().
//
//   date        : [days since 2000-01-01:i32]
//   timestamp   : [µs since 2000-01-01 00:00:00:i64]
//   timestamptz : [µs since 2000-01-01 00:00:00 UTC:i64]
//   interval    : [time µs:i64][days:i32][months:i32]
//
// ±infinity: date INT32_MAX / INT32_MIN, timestamp(tz) INT64_MAX / INT64_MIN.
// Calendar: proleptic Gregorian with astronomical years (1 BC = year 0), computed with Howard
// Hinnant's days_from_civil; no libc time zone calls.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// An interval as PostgreSQL stores it: the three fields are independent (a month is not a
/// number of days, a day is not 24 hours across DST), in the order of interval_recv.
struct Interval {
    std::int64_t time_us = 0;  ///< microseconds
    std::int32_t days = 0;
    std::int32_t months = 0;

    friend bool operator==(const Interval&, const Interval&) = default;
};

/// DATEVAL_NOEND / DATEVAL_NOBEGIN: 'infinity' and '-infinity' dates.
inline constexpr std::int32_t date_pos_infinity = std::numeric_limits<std::int32_t>::max();
inline constexpr std::int32_t date_neg_infinity = std::numeric_limits<std::int32_t>::min();
/// DT_NOEND / DT_NOBEGIN: 'infinity' and '-infinity' timestamps.
inline constexpr std::int64_t timestamp_pos_infinity = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t timestamp_neg_infinity = std::numeric_limits<std::int64_t>::min();

/// Smallest and largest finite date, days since 2000-01-01: 4714-11-24 BC and 5874897-12-31.
inline constexpr std::int32_t date_min = -2451545;
inline constexpr std::int32_t date_max = 2145031948;
/// MIN_TIMESTAMP (4714-11-24 00:00 BC) ≤ t < END_TIMESTAMP (294277-01-01 00:00), µs since 2000.
inline constexpr std::int64_t timestamp_min = -211813488000000000;
inline constexpr std::int64_t timestamp_end = 9223371331200000000;

/// Days from 1970-01-01 to 2000-01-01, and the same span in microseconds.
inline constexpr std::int64_t unix_to_pg_days = 10957;
inline constexpr std::int64_t unix_to_pg_us = 946684800000000;

/// Field bytes (length prefix included) each encoder writes; fixed sizes.
inline constexpr std::size_t date_encoded_size = 4 + 4;
inline constexpr std::size_t timestamp_encoded_size = 4 + 8;
inline constexpr std::size_t interval_encoded_size = 4 + 16;

/// Days since 1970-01-01 of a proleptic Gregorian date (astronomical `year`: 0 = 1 BC;
/// `month` 1..12, `day` 1..31, not validated). Howard Hinnant's days_from_civil. Pure.
[[nodiscard]] constexpr std::int64_t days_from_civil(std::int64_t year, unsigned month,
                                                     unsigned day) noexcept {
    year -= month <= 2 ? 1 : 0;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto year_of_era = static_cast<unsigned>(year - era * 400);
    const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 +
                                day_of_year;
    return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

/// Appends a date field; `days_since_2000` is used as is (infinities included). Does not fail.
void encode_date(ByteBuffer& out, std::int32_t days_since_2000);
/// Appends a timestamp field (no time zone). Does not fail.
void encode_timestamp(ByteBuffer& out, std::int64_t us_since_2000);
/// Appends a timestamptz field; the value is an instant in UTC. Does not fail.
void encode_timestamptz(ByteBuffer& out, std::int64_t us_since_2000_utc);
/// Appends an interval field. PG17+ reads all-max / all-min fields as ±infinity, PG15 as a
/// huge finite interval (FORMATS.md §2.4). Does not fail.
void encode_interval(ByteBuffer& out, const Interval& value);

/// Appends a date given in days since 2000-01-01 after checking the server's range
/// (`date_min`..`date_max`, or exactly an infinity); else `Errc::date_out_of_range`
/// (server: 22008 date out of range) and nothing is appended.
[[nodiscard]] Status encode_date_checked(ByteBuffer& out, std::int64_t days_since_2000);
/// Same for days since 1970-01-01 (Unix); infinities cannot be expressed this way.
[[nodiscard]] Status encode_date_unix(ByteBuffer& out, std::int64_t days_since_1970);
/// Appends a timestamp after checking `timestamp_min` ≤ t < `timestamp_end` or an infinity;
/// else `Errc::timestamp_out_of_range` (server: 22008 timestamp out of range).
[[nodiscard]] Status encode_timestamp_checked(ByteBuffer& out, std::int64_t us_since_2000);
/// Same for a timestamptz.
[[nodiscard]] Status encode_timestamptz_checked(ByteBuffer& out, std::int64_t us_since_2000);
/// Range-checked timestamp from microseconds since 1970-01-01 00:00:00 (Unix).
[[nodiscard]] Status encode_timestamp_unix(ByteBuffer& out, std::int64_t us_since_1970);
/// Range-checked timestamptz from microseconds since 1970-01-01 00:00:00 UTC (Unix).
[[nodiscard]] Status encode_timestamptz_unix(ByteBuffer& out, std::int64_t us_since_1970);

/// Parses an ISO 8601 date into days since 2000-01-01, as date_in (date.c) would:
/// `YYYY-MM-DD` (four or more year digits, two-digit month and day), optionally followed by
/// whitespace and `BC` or `AD` (any case); `infinity` / `-infinity` (any case); leading and
/// trailing whitespace; or any timestamp `parse_timestamptz` reads, whose date is kept as
/// written (time and offset checked, then dropped, as date_in does). Narrower than date_in,
/// which also takes other orders and month names.
///
/// Errors: `Errc::invalid_date` at the offending byte for bad syntax, month, day (2024-02-30) or
/// year 0 (server: 22007 / 22008 date/time field value out of range); `Errc::date_out_of_range`
/// at the year outside 4714-11-24 BC .. 5874897-12-31 (server: 22008 date out of range).
/// Pure, any thread, no allocation.
[[nodiscard]] Status parse_date(std::string_view text, std::int32_t& days_since_2000);

/// Parses an RFC 3339 / ISO 8601 timestamp into µs since 2000-01-01 00:00:00 UTC, as
/// timestamptz_in (timestamp.c) would for these spellings:
/// `YYYY-MM-DD[(T|t|spaces)HH:MM[:SS[.fraction]]][spaces][offset][spaces (BC|AD)]`, offset
/// `Z`, `z`, `±HH`, `±HHMM`, `±HH:MM` or `±HH:MM:SS` (hours ≤ 15 as in PostgreSQL);
/// `infinity` / `-infinity`; leading and trailing whitespace. A date alone means midnight.
/// Fractions of any length are rounded to µs like the server (rint(strtod(fraction) · 1e6)).
/// `24:00:00` and second 60 are accepted and roll over (23:59:60 is the next day's midnight);
/// the time of day may not exceed 24:00:00.
/// Without an offset the value is taken as UTC: the server would use the session TimeZone,
/// which this pure codec cannot know.
///
/// Errors: `Errc::invalid_timestamp` at the offending byte (syntax, field out of range, offset
/// hour > 15); `Errc::timestamp_out_of_range` at the start when the result leaves
/// 4714-11-24 00:00 BC ≤ t < 294277-01-01 UTC (the date before the offset is applied must also
/// be valid, as in tm2timestamp). Pure, any thread, no allocation.
[[nodiscard]] Status parse_timestamptz(std::string_view text, std::int64_t& us_since_2000_utc);

/// Parses a timestamp without time zone: the syntax of `parse_timestamptz`, and an offset, if
/// present, is validated and then ignored, as timestamp_in does ('2024-01-01 12:00+05' is
/// 12:00). Errors as for `parse_timestamptz`. Pure, any thread, no allocation.
[[nodiscard]] Status parse_timestamp(std::string_view text, std::int64_t& us_since_2000);

/// Parses an interval as interval_in (timestamp.c, datetime.c) reads it with IntervalStyle
/// `postgres` and a column without a typmod:
/// - PostgreSQL's own style, ParseDateTime then DecodeInterval: numbers with units (`1 day`,
///   `3 hours`, `1.5 days`, `-2 mons`, every unit and abbreviation of deltatktbl: `y`, `yr`,
///   `years`, `mon`, `w`, `d`, `h`, `hr`, `m`, `min`, `s`, `sec`, `ms`, `us`, `decades`,
///   `centuries`, `millennia`...; case-insensitive, the unit may follow the number directly as
///   in `1d2h`), a bare number as seconds, `H:MM[:SS[.frac]]` and `MM:SS.frac` time fields,
///   signed (`-1 day +02:00`), SQL years-months (`1-2`), `@` and punctuation as separators,
///   `ago` negating everything. Fractions spill into smaller units as the server's Adjust*
///   helpers do (`1.5 years` = 1 year 6 mons, `1.5 days` = 1 day 12:00:00); a unit given twice
///   is refused as there.
/// - ISO 8601, DecodeISO8601Interval: `P[nY][nM][nW][nD][T[nH][nM][nS]]` (uppercase, no
///   spaces, n as strtod reads it, fractions spill likewise), and the alternative formats
///   `P0001-02-03T04:05:06` and `P00010203T040506`.
/// `infinity` is no interval in PostgreSQL 15. Narrower than the server in two corners: the
/// lexer is told only which unit words the core date token table holds, and strtod's hex and
/// `inf` spellings are not read.
///
/// Errors: `Errc::invalid_interval` at the offending field or byte (server: 22007 invalid input
/// syntax for type interval); `Errc::interval_out_of_range` at the field whose value overflows
/// (server: 22015 interval field value out of range, 22008 interval out of range). Pure, any
/// thread, no allocation.
[[nodiscard]] Status parse_interval(std::string_view text, Interval& out);

/// `parse_date` then `encode_date`; on error appends nothing.
[[nodiscard]] Status encode_date_text(ByteBuffer& out, std::string_view text);
/// `parse_timestamp` then `encode_timestamp`; on error appends nothing.
[[nodiscard]] Status encode_timestamp_text(ByteBuffer& out, std::string_view text);
/// `parse_timestamptz` then `encode_timestamptz`; on error appends nothing.
[[nodiscard]] Status encode_timestamptz_text(ByteBuffer& out, std::string_view text);
/// `parse_interval` then `encode_interval`; on error appends nothing.
[[nodiscard]] Status encode_interval_text(ByteBuffer& out, std::string_view text);

}  // namespace pgingest
