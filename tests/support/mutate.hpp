#pragma once

// Near-misses of valid spellings, for differential tests of our text parsers against the
// server's input functions.

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace pgingest::test {

/// `count` texts, each a random one of `seeds` with 1 to 3 random edits: insert, delete or
/// replace one byte, the new bytes drawn from `alphabet`. Deterministic for a given `random`.
std::vector<std::string> mutated_texts(const std::vector<std::string>& seeds,
                                       std::string_view alphabet, std::size_t count,
                                       std::mt19937_64& random);

}  // namespace pgingest::test
