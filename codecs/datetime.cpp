#include "codecs/datetime.hpp"

#include "codecs/detail/datetime_text.hpp"

namespace pgingest {

using detail::DateTimeParts;

namespace {

constexpr std::int64_t us_per_day = 86400000000;
// Largest day count whose midnight is still below END_TIMESTAMP, plus one for the offset.
constexpr std::int64_t timestamp_days_max = timestamp_end / us_per_day + 1;

bool date_finite_in_range(std::int64_t days) { return days >= date_min && days <= date_max; }

bool timestamp_finite_in_range(std::int64_t us) {
    return us >= timestamp_min && us < timestamp_end;
}

Status fail(Errc code, std::size_t at) { return Status{code, static_cast<std::uint32_t>(at)}; }

// Days since 2000-01-01 of validated parts.
std::int64_t pg_days(const DateTimeParts& parts) {
    return days_from_civil(parts.year, parts.month, parts.day) - unix_to_pg_days;
}

// Turns parsed parts into µs since 2000-01-01, applying the offset when `use_offset`; the
// order of checks is tm2timestamp's: the local date first, then the instant.
Status to_timestamp(const DateTimeParts& parts, bool use_offset, std::int64_t& out) {
    if (parts.special != 0) {
        out = parts.special > 0 ? timestamp_pos_infinity : timestamp_neg_infinity;
        return Status{};
    }
    std::int64_t days = pg_days(parts);
    if (days < date_min - 1 || days > timestamp_days_max) {
        return fail(Errc::timestamp_out_of_range, parts.start_at);
    }
    std::int64_t us = days * us_per_day + parts.time_us;
    if (use_offset) {
        us -= parts.offset_s * 1000000;
    }
    if (!timestamp_finite_in_range(us)) {
        return fail(Errc::timestamp_out_of_range, parts.start_at);
    }
    out = us;
    return Status{};
}

Status parse_timestamp_common(std::string_view text, bool use_offset, std::int64_t& out) {
    DateTimeParts parts;
    if (Status status = detail::parse_datetime_parts(text, detail::DateTimeSyntax::timestamp,
                                                     parts);
        !status.ok()) {
        return status;
    }
    return to_timestamp(parts, use_offset, out);
}

}  // namespace

void encode_date(ByteBuffer& out, std::int32_t days_since_2000) {
    out.put_i32(4);
    out.put_i32(days_since_2000);
}

void encode_timestamp(ByteBuffer& out, std::int64_t us_since_2000) {
    out.put_i32(8);
    out.put_i64(us_since_2000);
}

void encode_timestamptz(ByteBuffer& out, std::int64_t us_since_2000_utc) {
    out.put_i32(8);
    out.put_i64(us_since_2000_utc);
}

void encode_interval(ByteBuffer& out, const Interval& value) {
    out.put_i32(16);
    out.put_i64(value.time_us);
    out.put_i32(value.days);
    out.put_i32(value.months);
}

Status encode_date_checked(ByteBuffer& out, std::int64_t days_since_2000) {
    if (!date_finite_in_range(days_since_2000) && days_since_2000 != date_pos_infinity &&
        days_since_2000 != date_neg_infinity) {
        return fail(Errc::date_out_of_range, 0);
    }
    encode_date(out, static_cast<std::int32_t>(days_since_2000));
    return Status{};
}

Status encode_date_unix(ByteBuffer& out, std::int64_t days_since_1970) {
    if (days_since_1970 < date_min + unix_to_pg_days ||
        days_since_1970 > date_max + unix_to_pg_days) {
        return fail(Errc::date_out_of_range, 0);
    }
    encode_date(out, static_cast<std::int32_t>(days_since_1970 - unix_to_pg_days));
    return Status{};
}

Status encode_timestamp_checked(ByteBuffer& out, std::int64_t us_since_2000) {
    if (!timestamp_finite_in_range(us_since_2000) && us_since_2000 != timestamp_pos_infinity &&
        us_since_2000 != timestamp_neg_infinity) {
        return fail(Errc::timestamp_out_of_range, 0);
    }
    encode_timestamp(out, us_since_2000);
    return Status{};
}

Status encode_timestamptz_checked(ByteBuffer& out, std::int64_t us_since_2000) {
    return encode_timestamp_checked(out, us_since_2000);
}

Status encode_timestamp_unix(ByteBuffer& out, std::int64_t us_since_1970) {
    // Any int64 above the lower bound survives the shift: INT64_MAX − 2000's offset is below
    // END_TIMESTAMP, so the upper check comes after subtracting.
    if (us_since_1970 < timestamp_min + unix_to_pg_us) {
        return fail(Errc::timestamp_out_of_range, 0);
    }
    std::int64_t us_since_2000 = us_since_1970 - unix_to_pg_us;
    if (us_since_2000 >= timestamp_end) {
        return fail(Errc::timestamp_out_of_range, 0);
    }
    encode_timestamp(out, us_since_2000);
    return Status{};
}

Status encode_timestamptz_unix(ByteBuffer& out, std::int64_t us_since_1970) {
    return encode_timestamp_unix(out, us_since_1970);
}

Status parse_date(std::string_view text, std::int32_t& days_since_2000) {
    DateTimeParts parts;
    if (Status status =
            detail::parse_datetime_parts(text, detail::DateTimeSyntax::date, parts);
        !status.ok()) {
        // date_in reads a whole timestamp too and keeps its date as written: the time and
        // the offset are checked, then dropped ('2024-01-02T23:30:00-05:00' is 2024-01-02).
        DateTimeParts stamp;
        if (!detail::parse_datetime_parts(text, detail::DateTimeSyntax::timestamp, stamp)
                 .ok()) {
            return status;
        }
        parts = stamp;
    }
    if (parts.special != 0) {
        days_since_2000 = parts.special > 0 ? date_pos_infinity : date_neg_infinity;
        return Status{};
    }
    std::int64_t days = pg_days(parts);
    if (!date_finite_in_range(days)) {
        return fail(Errc::date_out_of_range, parts.start_at);
    }
    days_since_2000 = static_cast<std::int32_t>(days);
    return Status{};
}

Status parse_timestamptz(std::string_view text, std::int64_t& us_since_2000_utc) {
    return parse_timestamp_common(text, true, us_since_2000_utc);
}

Status parse_timestamp(std::string_view text, std::int64_t& us_since_2000) {
    return parse_timestamp_common(text, false, us_since_2000);
}

Status parse_interval(std::string_view text, Interval& out) {
    if (!text.empty() && text[0] == 'P') {
        return detail::parse_iso8601_interval(text, out);
    }
    return detail::parse_postgres_interval(text, out);
}

Status encode_date_text(ByteBuffer& out, std::string_view text) {
    std::int32_t days = 0;
    Status status = parse_date(text, days);
    if (status.ok()) {
        encode_date(out, days);
    }
    return status;
}

Status encode_timestamp_text(ByteBuffer& out, std::string_view text) {
    std::int64_t us = 0;
    Status status = parse_timestamp(text, us);
    if (status.ok()) {
        encode_timestamp(out, us);
    }
    return status;
}

Status encode_timestamptz_text(ByteBuffer& out, std::string_view text) {
    std::int64_t us = 0;
    Status status = parse_timestamptz(text, us);
    if (status.ok()) {
        encode_timestamptz(out, us);
    }
    return status;
}

Status encode_interval_text(ByteBuffer& out, std::string_view text) {
    Interval value;
    Status status = parse_interval(text, value);
    if (status.ok()) {
        encode_interval(out, value);
    }
    return status;
}

}  // namespace pgingest
