#pragma once

// Row origins (DESIGN.md "Row origins and the ledger"): where each row came from, and the sets
// of origins a transaction settled, as ranges per source.
//
// A row's origin is a source id and an offset: for a file or stream the source's index and the
// byte offset of the record's first byte in the decompressed source; for a caller's channel
// (issue 14: Kafka partitions, agent runs) the channel's id and the caller's sequence number.
// A row also stands for `length` offsets from there: for a file, the bytes from its record's
// first byte up to where the next record of its chunk begins (its text, its line end and any
// blank or refused lines after it), so the origins of consecutive records touch and merge into
// one range; for sequence numbers, 1. The ledger (issue 14) keeps these ranges: a record counts
// as settled when its first byte lies in a settled range, so the ranges of consecutive rows
// also settle the lines between them that were refused before reaching the engine.
//
//   RowOrigin     {source, offset, length}      one row: offsets [offset, offset + length)
//   OriginRange   {source, first, end}          offsets [first, end) of one source
//   OriginRanges  [range]...                    sorted by (source, first), disjoint, and
//                                               never touching (touching ranges are merged)
//
// Writers commit out of order, so what a load settled is a set of ranges, never a high-water
// mark: `OriginRanges` is that set.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pgingest {

/// Where one row came from. A value type; `source` and `offset` are the caller's own numbers.
struct RowOrigin {
    /// The source's index (a file of a load, stdin) or a caller's channel id.
    std::uint32_t source = 0;
    /// How many offsets the row stands for, from `offset` (bytes up to the next record for a
    /// file; 1 for sequence numbers). 0 is taken as 1: every row covers its own offset.
    std::uint32_t length = 1;
    /// Byte offset of the record's first byte in the decompressed source, or the caller's
    /// sequence number on a channel.
    std::uint64_t offset = 0;

    /// One past the last offset the row stands for (saturates at UINT64_MAX).
    [[nodiscard]] std::uint64_t end() const noexcept;

    friend bool operator==(const RowOrigin&, const RowOrigin&) = default;
};

/// Offsets [first, end) of one source; `first < end`.
struct OriginRange {
    std::uint32_t source = 0;
    std::uint64_t first = 0;
    std::uint64_t end = 0;

    friend bool operator==(const OriginRange&, const OriginRange&) = default;
};

/// A set of offsets per source, kept as sorted, disjoint ranges; touching or overlapping ranges
/// of a source are merged, so two sets holding the same offsets compare equal whatever order
/// they were built in. A value type: not thread-safe, use from one thread at a time (or copy).
/// `add` allocates as the set grows; the set keeps its capacity after `clear`.
class OriginRanges {
  public:
    OriginRanges() = default;

    /// Adds the offsets of `origin`: [offset, offset + max(length, 1)).
    void add(const RowOrigin& origin);
    /// Adds offsets [range.first, range.end) of `range.source`; an empty range adds nothing.
    void add(const OriginRange& range);
    /// Adds every range of `ranges` (in any order, overlapping or not). O((n + m) log(n + m))
    /// when the new ranges are not all past the set's last one, O(m) when they are.
    void add(std::span<const OriginRange> ranges);
    /// Adds the origins of `rows`, as `add(RowOrigin)` each; rows in order of source and offset
    /// (a run of a batch) are merged as they come, O(m); otherwise as `add(span<OriginRange>)`.
    void add(std::span<const RowOrigin> rows);
    /// Adds every range of `other`.
    void add(const OriginRanges& other) { add(other.ranges()); }

    /// Whether `offset` of `source` lies in one of the ranges (the ledger's test for "this
    /// record, starting at `offset`, is settled"). O(log n).
    [[nodiscard]] bool contains(std::uint32_t source, std::uint64_t offset) const noexcept;

    /// The ranges, sorted by (source, first), disjoint and not touching. Valid until the next
    /// change of the set.
    [[nodiscard]] std::span<const OriginRange> ranges() const noexcept { return _ranges; }
    /// The ranges of `source` only, sorted; valid until the next change of the set.
    [[nodiscard]] std::span<const OriginRange> ranges(std::uint32_t source) const noexcept;
    /// Number of offsets in the set, summed over every source (saturates at UINT64_MAX).
    [[nodiscard]] std::uint64_t offsets() const noexcept;
    [[nodiscard]] bool empty() const noexcept { return _ranges.empty(); }
    void clear() noexcept { _ranges.clear(); }

    friend bool operator==(const OriginRanges&, const OriginRanges&) = default;

  private:
    /// Appends `range` (merged into the last range when in order and touching); returns whether
    /// every range appended so far came in order.
    bool append(const OriginRange& range, bool in_order);
    /// Sorts `_ranges` and merges overlapping and touching ranges in place.
    void normalize();

    std::vector<OriginRange> _ranges;
};

}  // namespace pgingest
