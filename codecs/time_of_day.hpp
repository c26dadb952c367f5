#pragma once

// time and timetz in binary COPY (include/utils/date.h TimeADT / TimeTzADT). Readers:
// backend/utils/adt/date.c time_recv() (0 ≤ µs ≤ 86400000000, "time out of range") and
// timetz_recv() (the same, and |zone| < 16 h, "time zone displacement out of range").
//
//   time   : [µs since midnight:i64]
//   timetz : [µs since midnight:i64][zone:i32]   zone = seconds WEST of UTC (+05:00 → -18000)
//
// Text input follows date.c time_in / timetz_in (datetime.c DecodeTimeOnly, DecodeTimezone)
// for the spellings listed at `parse_time`.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// A timetz as TimeTzADT holds it.
struct TimeTz {
    std::int64_t time_us = 0;  ///< µs since midnight, 0..86400000000
    std::int32_t zone_s = 0;   ///< seconds west of UTC (the opposite sign of "+05:00")

    friend bool operator==(const TimeTz&, const TimeTz&) = default;
};

/// Field bytes (length prefix included) of the encoders below; fixed sizes.
inline constexpr std::size_t time_encoded_size = 4 + 8;
inline constexpr std::size_t timetz_encoded_size = 4 + 12;

/// Parses a time of day as time_in does for these spellings:
/// `[spaces][date spaces]H[H]:M[M][:S[S][.fraction]][spaces][AM|PM][spaces][offset][spaces]`,
/// offset `Z`, `z`, `±HH`, `±HHMM`, `±HH:MM` or `±HH:MM:SS` (checked, then ignored, as time_in
/// ignores it). A date (`YYYY-MM-DD`, as `parse_date`) is checked, then dropped; AM/PM (any
/// case) needs an hour ≤ 12, 12 AM is 0:00, PM adds 12 hours except to 12 (DecodeTimeOnly).
/// Fractions of any length are rounded to µs like the server (rint(strtod(fraction) · 1e6)).
/// Hour ≤ 24, minute ≤ 59, second ≤ 60, and the total may not exceed 24:00:00 (23:59:60 is
/// 24:00:00). Narrower than time_in: AM/PM only right after the time, no time zone names, no
/// 'allballs', no dangling colon ('12:' and '12:00:', which time_in reads as 12:00), at most 2
/// digits a field.
///
/// Errors: `Errc::invalid_time` at the offending byte (server: 22007 invalid input syntax for
/// type time); `Errc::time_field_out_of_range` at the field (server: 22008 date/time field
/// value out of range); `Errc::time_zone_out_of_range` at the sign of an offset of 16 hours or
/// more (server: 22009 time zone displacement out of range). Pure, any thread, no allocation.
[[nodiscard]] Status parse_time(std::string_view text, std::int64_t& us);

/// Parses a timetz: the syntax of `parse_time`, the offset kept. Without an offset the value is
/// taken as UTC (zone 0): the server would use the session TimeZone, which this pure codec
/// cannot know. Errors as for `parse_time`. Pure, any thread, no allocation.
[[nodiscard]] Status parse_timetz(std::string_view text, TimeTz& value);

/// Appends a time field. The value is written as is (time_recv checks 0..86400000000).
void encode_time(ByteBuffer& out, std::int64_t us);
/// Appends a timetz field (time_recv's checks apply to the time; the zone must be within ±16 h).
void encode_timetz(ByteBuffer& out, const TimeTz& value);

/// `parse_time` then `encode_time`; on error appends nothing.
[[nodiscard]] Status encode_time_text(ByteBuffer& out, std::string_view text);
/// `parse_timetz` then `encode_timetz`; on error appends nothing.
[[nodiscard]] Status encode_timetz_text(ByteBuffer& out, std::string_view text);

}  // namespace pgingest
