#pragma once

// Text rules shared by the input layer's drivers (engine/input.cpp, engine/source.cpp): how a
// source's format is detected, how one parsed document is walked to the records at a pointer,
// and the wording of their errors. Private to engine/.

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/input.hpp"

namespace pgingest::tools::detail {

/// Bytes looked at after line 1 by the `automatic` rule.
constexpr std::size_t detect_window_bytes = std::size_t{64} << 10;

/// Largest document whose On-Demand parser (4 bytes of structural index per input byte, at
/// most) a thread keeps for the next one; a larger one's is freed after its walk.
constexpr std::size_t parser_kept_bytes_max = std::size_t{16} << 20;

/// JSON whitespace.
inline bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// The first `max` bytes of `text`, copied.
inline std::string shorten(std::string_view text, std::size_t max) {
    return std::string(text.substr(0, max));
}

/// `text` without trailing JSON whitespace.
inline std::string_view trim_right(std::string_view text) {
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

/// Counts lines forward through one source's bytes; asks for a position before the last one
/// count again from the start (errors are rare).
class LineCounter {
  public:
    explicit LineCounter(const char* base, std::uint64_t first_line = 1)
        : _base(base), _first_line(first_line), _line(first_line) {}
    std::uint64_t line_at(std::size_t offset) {
        if (offset < _offset) {
            _offset = 0;
            _line = _first_line;
        }
        const char* at = _base + _offset;
        const char* end = _base + offset;
        while (at < end) {
            const void* found = std::memchr(at, '\n', static_cast<std::size_t>(end - at));
            if (found == nullptr) {
                break;
            }
            ++_line;
            at = static_cast<const char*>(found) + 1;
        }
        _offset = offset;
        return _line;
    }

  private:
    const char* _base;
    std::uint64_t _first_line;
    std::uint64_t _line;
    std::size_t _offset = 0;
};

/// Called with each record's text (inside the walked document).
using WalkRecord = std::function<void(std::string_view)>;
/// Called with a position inside the walked document and a reason.
using WalkError = std::function<void(const char*, std::string)>;

/// Walks `data[0, size)` (readable up to `capacity`, simdjson's padding) to the records at
/// `pointer`: a pointer miss goes to `on_error` and the walk goes on. `require_array`: refuse a
/// root that is not an array ("expected a top-level array (format json-array)"). Returns false
/// after a fatal JSON error ("malformed JSON: <simdjson's message>"), which went to `on_error`.
bool walk_document(simdjson::ondemand::parser& parser, const char* data, std::size_t size,
                   std::size_t capacity, const std::vector<PointerSegment>& pointer,
                   bool require_array, const WalkRecord& on_record, const WalkError& on_error);

/// The `automatic` rule of `InputFormat` on the bytes read so far; nullopt while they do not
/// decide. `final`: nothing more will be looked at (end of source or window full). `paused`:
/// the source is a stream whose writer paused.
std::optional<InputFormat> classify(std::string_view bytes, bool final, bool paused);

/// "record of N bytes exceeds max_record_bytes (M)".
std::string too_large(std::uint64_t size, std::size_t max);

}  // namespace pgingest::tools::detail
