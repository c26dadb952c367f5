// Proves that `OriginRanges` holds exactly the offsets added to it, per source, as sorted,
// disjoint, non-touching ranges: touching and overlapping ranges merge, sources never merge,
// the order of addition does not change the result (writers commit out of order), and
// `contains` answers for every offset as a plain set of offsets would. No server needed.

#include "engine/origin.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

using namespace pgingest;

namespace {

// The ranges of a bitmap per source: maximal runs of set offsets.
std::vector<OriginRange> runs_of(const std::vector<std::vector<bool>>& bits) {
    std::vector<OriginRange> runs;
    for (std::size_t source = 0; source < bits.size(); ++source) {
        const std::vector<bool>& set = bits[source];
        std::size_t at = 0;
        while (at < set.size()) {
            if (!set[at]) {
                ++at;
                continue;
            }
            std::size_t end = at;
            while (end < set.size() && set[end]) {
                ++end;
            }
            runs.push_back(
                OriginRange{.source = static_cast<std::uint32_t>(source), .first = at, .end = end});
            at = end;
        }
    }
    return runs;
}

std::vector<OriginRange> as_vector(std::span<const OriginRange> ranges) {
    return {ranges.begin(), ranges.end()};
}

}  // namespace

TEST_CASE("origin ranges: touching and overlapping ranges merge, gaps stay", "[origin]") {
    OriginRanges set;
    set.add(OriginRange{.source = 0, .first = 0, .end = 10});
    set.add(OriginRange{.source = 0, .first = 10, .end = 20});  // touches: merged
    set.add(OriginRange{.source = 0, .first = 25, .end = 30});  // a gap of 5: apart
    CHECK(as_vector(set.ranges()) == std::vector<OriginRange>{{0, 0, 20}, {0, 25, 30}});
    set.add(OriginRange{.source = 0, .first = 5, .end = 7});  // inside: nothing changes
    CHECK(as_vector(set.ranges()) == std::vector<OriginRange>{{0, 0, 20}, {0, 25, 30}});
    set.add(OriginRange{.source = 0, .first = 15, .end = 26});  // bridges the gap
    CHECK(as_vector(set.ranges()) == std::vector<OriginRange>{{0, 0, 30}});
    CHECK(set.offsets() == 30);
    set.add(OriginRange{.source = 0, .first = 40, .end = 40});  // empty: nothing added
    CHECK(set.ranges().size() == 1);
}

TEST_CASE("origin ranges: ranges of different sources never merge", "[origin]") {
    OriginRanges set;
    set.add(OriginRange{.source = 2, .first = 10, .end = 20});
    set.add(OriginRange{.source = 1, .first = 0, .end = 10});
    set.add(OriginRange{.source = 1, .first = 20, .end = 30});
    CHECK(as_vector(set.ranges()) ==
          std::vector<OriginRange>{{1, 0, 10}, {1, 20, 30}, {2, 10, 20}});
    CHECK(as_vector(set.ranges(1)) == std::vector<OriginRange>{{1, 0, 10}, {1, 20, 30}});
    CHECK(as_vector(set.ranges(2)) == std::vector<OriginRange>{{2, 10, 20}});
    CHECK(set.ranges(0).empty());
    CHECK(set.ranges(3).empty());
    CHECK(set.contains(1, 9));
    CHECK_FALSE(set.contains(1, 10));  // half-open: 10 is source 2's, not source 1's
    CHECK(set.contains(2, 10));
    CHECK_FALSE(set.contains(2, 20));
    CHECK_FALSE(set.contains(0, 5));
}

TEST_CASE("origin ranges: source ids and offsets use their full width", "[origin]") {
    OriginRanges set;
    // No 16-bit source limit (the old tag packed the source in 16 bits).
    set.add(RowOrigin{.source = UINT32_MAX, .length = 1, .offset = std::uint64_t{1} << 60});
    set.add(RowOrigin{.source = 70'000, .length = 4, .offset = 0});
    set.add(RowOrigin{.source = 70'000, .length = 10, .offset = UINT64_MAX - 3});
    CHECK(as_vector(set.ranges()) ==
          std::vector<OriginRange>{
              {70'000, 0, 4},
              {70'000, UINT64_MAX - 3, UINT64_MAX},  // saturated
              {UINT32_MAX, std::uint64_t{1} << 60, (std::uint64_t{1} << 60) + 1}});
    CHECK(set.contains(UINT32_MAX, std::uint64_t{1} << 60));
    CHECK(set.contains(70'000, UINT64_MAX - 1));
}

TEST_CASE("origin ranges: a row covers its length, and length 0 counts as 1", "[origin]") {
    CHECK(RowOrigin{.source = 0, .length = 0, .offset = 7}.end() == 8);
    CHECK(RowOrigin{.source = 0, .length = 5, .offset = 7}.end() == 12);
    CHECK(RowOrigin{.source = 0, .length = 5, .offset = UINT64_MAX - 2}.end() == UINT64_MAX);
    CHECK(RowOrigin{}.end() == 1);  // a sequence number covers itself
    // Consecutive records of a file, each covering the bytes up to the next: one range.
    std::vector<RowOrigin> rows{{3, 57, 0}, {3, 60, 57}, {3, 2, 117}, {3, 40, 200}};
    OriginRanges set;
    set.add(std::span<const RowOrigin>(rows));
    CHECK(as_vector(set.ranges()) ==
          std::vector<OriginRange>{{3, 0, 119}, {3, 200, 240}});  // 119..199 not covered
    CHECK(set.contains(3, 118));
    CHECK_FALSE(set.contains(3, 119));
    CHECK_FALSE(set.contains(3, 199));
    CHECK(set.contains(3, 200));
    // Sequence numbers of a channel: consecutive ones merge.
    OriginRanges channel;
    for (std::uint64_t seq = 100; seq < 200; ++seq) {
        channel.add(RowOrigin{.source = 9, .offset = seq});
    }
    CHECK(as_vector(channel.ranges()) == std::vector<OriginRange>{{9, 100, 200}});
    CHECK(channel.offsets() == 100);
}

TEST_CASE("origin ranges: rows out of order give the same set as rows in order", "[origin]") {
    std::vector<RowOrigin> rows;
    for (std::uint64_t seq = 0; seq < 1000; ++seq) {
        if (seq % 100 != 42) {  // gaps at 42, 142, ...
            rows.push_back(RowOrigin{.source = static_cast<std::uint32_t>(seq % 3), .offset = seq});
        }
    }
    OriginRanges in_order;
    in_order.add(std::span<const RowOrigin>(rows));
    std::mt19937_64 random(7);
    std::shuffle(rows.begin(), rows.end(), random);
    OriginRanges shuffled;
    for (std::size_t at = 0; at < rows.size(); at += 37) {  // in runs, as commits report them
        shuffled.add(std::span<const RowOrigin>(rows).subspan(
            at, std::min<std::size_t>(37, rows.size() - at)));
    }
    CHECK(shuffled == in_order);
    // One offset per row, sources interleaved: nothing touches within a source (3 apart).
    CHECK(in_order.ranges().size() == rows.size());
    CHECK(in_order.offsets() == rows.size());
}

TEST_CASE("origin ranges: random adds over many sources match a set of offsets exactly",
          "[origin]") {
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937_64 random(seed);
    for (int round = 0; round < 200; ++round) {
        const std::size_t sources = 1 + random() % 6;
        const std::size_t domain = 1 + random() % 300;
        std::vector<std::vector<bool>> bits(sources, std::vector<bool>(domain, false));
        OriginRanges set;
        OriginRanges merged;  // the same adds split in two sets, then merged
        OriginRanges other;
        const int adds = static_cast<int>(random() % 60);
        for (int i = 0; i < adds; ++i) {
            auto source = static_cast<std::uint32_t>(random() % sources);
            std::uint64_t first = random() % domain;
            std::uint64_t end = std::min<std::uint64_t>(domain, first + random() % 12);
            for (std::uint64_t at = first; at < end; ++at) {
                bits[source][at] = true;
            }
            OriginRange range{.source = source, .first = first, .end = end};
            if (random() % 3 == 0) {
                std::vector<OriginRange> batch{range, range};  // duplicates merge
                set.add(std::span<const OriginRange>(batch));
            } else {
                set.add(range);
            }
            (i % 2 == 0 ? merged : other).add(range);
        }
        merged.add(other);
        std::vector<OriginRange> expected = runs_of(bits);
        REQUIRE(as_vector(set.ranges()) == expected);
        REQUIRE(merged == set);
        for (std::uint32_t source = 0; source < sources; ++source) {
            for (std::uint64_t at = 0; at <= domain; ++at) {
                bool in = at < domain && bits[source][at];
                REQUIRE(set.contains(source, at) == in);
            }
        }
    }
}
