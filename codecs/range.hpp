#pragma once

// Range and multirange types (utils/adt/rangetypes.c range_recv/range_send,
// multirangetypes.c multirange_recv/multirange_send).
//
//   range      : [length:i32][flags:u8] ([bound length:i32][subtype bytes])?lower ([...])?upper
//                a bound is present unless RANGE_EMPTY or its RANGE_xB_INF flag is set; each
//                bound is exactly a field of the subtype (what its encoder writes)
//   multirange : [length:i32][range count:i32] ([range length:i32][range bytes]) × count
//
// range_recv hands the bounds to range_serialize, which checks lower <= upper (22000 "range
// lower bound must be less than or equal to range upper bound") and, for discrete subtypes,
// canonicalizes: int4range '[1,5]' is stored as '[1,6)' and '[5,5)' as 'empty'. We send the
// bounds as written and leave both to the server (the comparison needs the subtype's ordering,
// which the server has). multirange_recv sorts and merges the ranges the same way.
//
// Text input follows range_in (range_parse, range_parse_bound): optional whitespace, then
// "empty" (any case) or '[' / '(' lower ',' upper ']' / ')'. A bound is empty (infinite), or
// characters up to ',' ')' ']' where "..." quotes (a doubled "" inside is one '"') and a
// backslash takes the next character literally. Unquoted whitespace belongs to the bound (the
// subtype's input function usually skips it).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/buffer.hpp"
#include "codecs/copy_binary.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Range flag bits (include/utils/rangetypes.h).
namespace range_flag {
inline constexpr std::uint8_t empty = 0x01;     ///< RANGE_EMPTY
inline constexpr std::uint8_t lower_inc = 0x02; ///< RANGE_LB_INC
inline constexpr std::uint8_t upper_inc = 0x04; ///< RANGE_UB_INC
inline constexpr std::uint8_t lower_inf = 0x08; ///< RANGE_LB_INF
inline constexpr std::uint8_t upper_inf = 0x10; ///< RANGE_UB_INF
}  // namespace range_flag

/// The flags byte as range_send writes it: an empty range is `empty` alone; an infinite bound is
/// never inclusive (range_serialize drops the INC bit, so '[,]' is stored as '(,)'). Pure.
[[nodiscard]] std::uint8_t range_flags(bool empty, bool lower_infinite, bool lower_inclusive,
                                       bool upper_infinite, bool upper_inclusive) noexcept;

/// Begins a range field: appends the length placeholder and the flags byte. Then append the
/// lower bound (unless empty or lower_inf) and the upper bound (unless empty or upper_inf),
/// each with the subtype's ordinary encoder, and `end_range`.
[[nodiscard]] FieldStart begin_range(ByteBuffer& out, std::uint8_t flags);

/// Completes a range field begun with `begin_range`. `Errc::field_too_large` (bytes left for
/// the caller to truncate) over `copy_field_size_max`.
[[nodiscard]] Status end_range(ByteBuffer& out, FieldStart start);

/// Begins a multirange field: appends the length and range-count placeholders. Append each
/// range as a field (`begin_range` ... `end_range`), then `end_multirange` with their count.
[[nodiscard]] FieldStart begin_multirange(ByteBuffer& out);

/// Completes a multirange field of `range_count` ranges. `Errc::field_too_large` as
/// `end_range`.
[[nodiscard]] Status end_multirange(ByteBuffer& out, FieldStart start, std::uint32_t range_count);

/// A range literal taken apart by `parse_range_text`.
struct RangeText {
    std::uint8_t flags = 0;  ///< `range_flag` bits as written ('[,]' keeps its INC bits)
    std::string lower;       ///< the lower bound's text, quotes and escapes removed
    std::string upper;       ///< the upper bound's text, quotes and escapes removed
};

/// Parses a range literal as range_in does (rangetypes.c range_parse). The bounds' text is not
/// checked: that is the subtype's business. Errors: `Errc::invalid_range` at the byte where the
/// literal stops making sense. Allocates only when the bound strings grow; any thread.
[[nodiscard]] Status parse_range_text(std::string_view text, RangeText& out);

/// Splits a multirange literal (multirangetypes.c multirange_in: '{' [range (',' range)*] '}',
/// whitespace around each part) into the range literals it holds, as views into `text`.
/// Errors: `Errc::invalid_multirange` at the offending byte. Allocates only if `ranges` grows.
[[nodiscard]] Status split_multirange_text(std::string_view text,
                                           std::vector<std::string_view>& ranges);

}  // namespace pgingest
