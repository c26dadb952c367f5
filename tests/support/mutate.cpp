#include "tests/support/mutate.hpp"

namespace pgingest::test {

std::vector<std::string> mutated_texts(const std::vector<std::string>& seeds,
                                       std::string_view alphabet, std::size_t count,
                                       std::mt19937_64& random) {
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(random() % n); };
    std::vector<std::string> texts;
    texts.reserve(count);
    for (std::size_t i = 0; i < count; i++) {
        std::string text = seeds[pick(seeds.size())];
        for (std::size_t edits = 1 + pick(3); edits > 0; edits--) {
            std::size_t at = pick(text.size() + 1);
            char c = alphabet[pick(alphabet.size())];
            switch (pick(3)) {
                case 0: text.insert(at, 1, c); break;
                case 1: text.erase(at, 1); break;
                default: text.replace(at, 1, 1, c); break;
            }
        }
        texts.push_back(std::move(text));
    }
    return texts;
}

}  // namespace pgingest::test
