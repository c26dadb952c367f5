#include "engine/origin.hpp"

#include <algorithm>

namespace pgingest {

namespace {

bool key_less(const OriginRange& a, const OriginRange& b) noexcept {
    return a.source != b.source ? a.source < b.source : a.first < b.first;
}

}  // namespace

std::uint64_t RowOrigin::end() const noexcept {
    std::uint64_t covered = length == 0 ? 1 : length;
    return offset > UINT64_MAX - covered ? UINT64_MAX : offset + covered;
}

void OriginRanges::add(const RowOrigin& origin) {
    add(OriginRange{.source = origin.source, .first = origin.offset, .end = origin.end()});
}

void OriginRanges::add(const OriginRange& range) {
    add(std::span<const OriginRange>(&range, 1));
}

void OriginRanges::add(std::span<const OriginRange> ranges) {
    bool in_order = true;
    for (const OriginRange& range : ranges) {
        in_order = append(range, in_order);
    }
    if (!in_order) {
        normalize();
    }
}

void OriginRanges::add(std::span<const RowOrigin> rows) {
    bool in_order = true;
    for (const RowOrigin& row : rows) {
        in_order = append(OriginRange{.source = row.source, .first = row.offset, .end = row.end()},
                          in_order);
    }
    if (!in_order) {
        normalize();
    }
}

bool OriginRanges::append(const OriginRange& range, bool in_order) {
    // Ranges that come in order (the rows of a batch, one source after the other) are appended
    // or merged into the last range; once one came out of order, the rest are only appended
    // and the caller normalizes.
    if (range.first >= range.end) {
        return in_order;
    }
    if (!in_order || _ranges.empty()) {
        _ranges.push_back(range);
        return in_order;
    }
    OriginRange& last = _ranges.back();
    if (key_less(range, last)) {
        _ranges.push_back(range);
        return false;
    }
    if (range.source == last.source && range.first <= last.end) {
        last.end = std::max(last.end, range.end);
    } else {
        _ranges.push_back(range);
    }
    return true;
}

void OriginRanges::normalize() {
    std::sort(_ranges.begin(), _ranges.end(), key_less);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < _ranges.size(); ++i) {
        const OriginRange& range = _ranges[i];
        if (kept > 0 && _ranges[kept - 1].source == range.source &&
            range.first <= _ranges[kept - 1].end) {
            _ranges[kept - 1].end = std::max(_ranges[kept - 1].end, range.end);
        } else {
            _ranges[kept++] = range;
        }
    }
    _ranges.resize(kept);
}

bool OriginRanges::contains(std::uint32_t source, std::uint64_t offset) const noexcept {
    // The last range that starts at or before `offset` in `source`.
    auto after =
        std::upper_bound(_ranges.begin(), _ranges.end(),
                         OriginRange{.source = source, .first = offset, .end = 0}, key_less);
    if (after == _ranges.begin()) {
        return false;
    }
    const OriginRange& range = *(after - 1);
    return range.source == source && offset < range.end;
}

std::span<const OriginRange> OriginRanges::ranges(std::uint32_t source) const noexcept {
    auto first = std::lower_bound(
        _ranges.begin(), _ranges.end(), source,
        [](const OriginRange& range, std::uint32_t id) { return range.source < id; });
    auto last = std::upper_bound(
        first, _ranges.end(), source,
        [](std::uint32_t id, const OriginRange& range) { return id < range.source; });
    return {first, last};
}

std::uint64_t OriginRanges::offsets() const noexcept {
    std::uint64_t total = 0;
    for (const OriginRange& range : _ranges) {
        std::uint64_t size = range.end - range.first;
        total = total > UINT64_MAX - size ? UINT64_MAX : total + size;
    }
    return total;
}

}  // namespace pgingest
