#include "engine/detail/input_text.hpp"

#include <algorithm>
#include <utility>

namespace pgingest::tools::detail {

namespace od = simdjson::ondemand;

namespace {

std::string pointer_prefix(const std::vector<PointerSegment>& pointer, std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count && i < pointer.size(); ++i) {
        out += '/';
        out += pointer[i].wildcard ? std::string("*") : pointer[i].key;
    }
    return out.empty() ? std::string("/") : out;
}

/// Walks one parsed document to the records at a pointer; calls `on_record` with each record's
/// text and `on_error` with a position inside the document and a reason. Recursion depth is the
/// pointer's segment count, chosen by the user, not by the input.
class PointerWalker {
  public:
    using OnRecord = WalkRecord;
    using OnError = WalkError;

    PointerWalker(const std::vector<PointerSegment>& pointer, OnRecord on_record, OnError on_error)
        : _pointer(pointer), _on_record(std::move(on_record)), _on_error(std::move(on_error)) {}

    /// Returns a fatal simdjson error (malformed JSON) or SUCCESS; pointer misses are reported
    /// through `on_error` and are not fatal.
    simdjson::error_code walk(od::value value, std::size_t index) {
        if (index == _pointer.size()) {
            return emit(value, true);
        }
        const char* at = location(value);
        od::json_type type;
        if (auto error = value.type().get(type)) {
            return error;
        }
        const PointerSegment& segment = _pointer[index];
        if (segment.wildcard) {
            return walk_all(value, type, index, at);
        }
        if (type == od::json_type::object) {
            od::value child;
            auto error = value.find_field_unordered(segment.key).get(child);
            if (error == simdjson::NO_SUCH_FIELD) {
                _on_error(at, "pointer " + pointer_prefix(_pointer, index + 1) + ": key \"" +
                                  segment.key + "\" not found");
                return simdjson::SUCCESS;
            }
            return error != simdjson::SUCCESS ? error : walk(child, index + 1);
        }
        if (type == od::json_type::array) {
            return walk_index(value, index, at);
        }
        _on_error(at, "pointer " + pointer_prefix(_pointer, index + 1) + ": " +
                          pointer_prefix(_pointer, index) + " is a " + type_name(type) +
                          ", not an object or array");
        return simdjson::SUCCESS;
    }

    /// Emits `value` (each element when `expand` and it is an array).
    simdjson::error_code emit(od::value value, bool expand) {
        od::json_type type;
        if (auto error = value.type().get(type)) {
            return error;
        }
        std::string_view text;
        if (type == od::json_type::array) {
            od::array array;
            if (auto error = value.get_array().get(array)) {
                return error;
            }
            if (expand) {
                for (auto element : array) {
                    od::value child;
                    if (auto error = element.get(child)) {
                        return error;
                    }
                    if (auto error2 = emit(child, false)) {
                        return error2;
                    }
                }
                return simdjson::SUCCESS;
            }
            if (auto error = array.raw_json().get(text)) {
                return error;
            }
        } else if (type == od::json_type::object) {
            od::object object;
            if (auto error = value.get_object().get(object)) {
                return error;
            }
            if (auto error = object.raw_json().get(text)) {
                return error;
            }
        } else {
            text = trim_right(value.raw_json_token());
        }
        _on_record(text);
        return simdjson::SUCCESS;
    }

    static const char* location(od::value& value) { return value.raw_json_token().data(); }

  private:
    static const char* type_name(od::json_type type) {
        switch (type) {
            case od::json_type::string:
                return "string";
            case od::json_type::number:
                return "number";
            case od::json_type::boolean:
                return "boolean";
            case od::json_type::null:
                return "null";
            case od::json_type::array:
                return "array";
            case od::json_type::object:
                return "object";
        }
        return "value";
    }

    simdjson::error_code walk_all(od::value value, od::json_type type, std::size_t index,
                                  const char* at) {
        if (type == od::json_type::array) {
            for (auto element : value.get_array()) {
                od::value child;
                if (auto error = element.get(child)) {
                    return error;
                }
                if (auto error2 = walk(child, index + 1)) {
                    return error2;
                }
            }
            return simdjson::SUCCESS;
        }
        if (type == od::json_type::object) {
            for (auto field : value.get_object()) {
                od::value child;
                if (auto error = field.value().get(child)) {
                    return error;
                }
                if (auto error2 = walk(child, index + 1)) {
                    return error2;
                }
            }
            return simdjson::SUCCESS;
        }
        _on_error(at, "pointer " + pointer_prefix(_pointer, index + 1) + ": `*` applied to a " +
                          type_name(type) + " at " + pointer_prefix(_pointer, index));
        return simdjson::SUCCESS;
    }

    simdjson::error_code walk_index(od::value value, std::size_t index, const char* at) {
        const std::string& key = _pointer[index].key;
        std::size_t wanted = 0;
        bool numeric = !key.empty() && key.size() < 19 && (key == "0" || key[0] != '0');
        for (char c : key) {
            numeric = numeric && c >= '0' && c <= '9';
            wanted = wanted * 10 + static_cast<std::size_t>(c - '0');
        }
        if (numeric) {
            od::value child;
            auto error = value.get_array().at(wanted).get(child);
            if (error == simdjson::SUCCESS) {
                return walk(child, index + 1);
            }
            if (error != simdjson::INDEX_OUT_OF_BOUNDS) {
                return error;
            }
        }
        _on_error(at, "pointer " + pointer_prefix(_pointer, index + 1) + ": no element \"" + key +
                          "\" in the array");
        return simdjson::SUCCESS;
    }

    const std::vector<PointerSegment>& _pointer;
    OnRecord _on_record;
    OnError _on_error;
};

/// Whether `line` (line 1 from its first non-blank byte, no newline) is exactly one complete
/// object or array followed by blanks only.
bool one_value_on_line(std::string_view line) {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (std::size_t at = 0; at < line.size(); ++at) {
        char c = line[at];
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return trim_right(line.substr(at + 1)).empty();
        } else if (depth == 0) {
            return false;
        }
    }
    return false;
}

/// How many lines of `text` (what follows line 1) look like one-line NDJSON values: column 0
/// `{` or `[`, last non-blank byte `}` or `]`. Stops at 2. The last line counts only when
/// `final` (it may be incomplete).
std::size_t value_lines(std::string_view text, bool final) {
    std::size_t count = 0;
    std::size_t start = 0;
    while (start < text.size() && count < 2) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos && !final) {
            break;
        }
        end = std::min(end, text.size());
        std::string_view line = trim_right(text.substr(start, end - start));
        if (!line.empty() && (line.front() == '{' || line.front() == '[') &&
            (line.back() == '}' || line.back() == ']')) {
            ++count;
        }
        start = end + 1;
    }
    return count;
}

}  // namespace

/// Walks `data[0, size)` (padded) to the records at `pointer`. `expand_root`: without a pointer,
/// whether the root array's elements are the records (json_array) or the root is (document).
/// Returns false after a fatal JSON error, which went to `on_error`.
bool walk_document(od::parser& parser, const char* data, std::size_t size, std::size_t capacity,
                   const std::vector<PointerSegment>& pointer, bool require_array,
                   const WalkRecord& on_record, const WalkError& on_error) {
    PointerWalker walker(pointer, on_record, on_error);
    od::document doc;
    auto error = parser.iterate(simdjson::padded_string_view(data, size, capacity)).get(doc);
    const char* at = data;
    if (error == simdjson::SUCCESS) {
        od::json_type type{};
        error = doc.type().get(type);
        if (error == simdjson::SUCCESS && require_array && type != od::json_type::array) {
            on_error(data, "expected a top-level array (format json-array)");
            return false;
        }
        od::value root;
        if (error == simdjson::SUCCESS) {
            error = doc.get_value().get(root);
        }
        if (error == simdjson::SUCCESS) {
            error = walker.walk(root, 0);
        }
        const char* location = nullptr;
        if (error != simdjson::SUCCESS &&
            doc.current_location().get(location) == simdjson::SUCCESS) {
            at = location;
        } else if (error != simdjson::SUCCESS) {
            at = data + size;
        }
    }
    if (error == simdjson::SUCCESS) {
        return true;
    }
    on_error(at, std::string("malformed JSON: ") + simdjson::error_message(error));
    return false;
}

/// The `automatic` rule of `InputFormat` on the bytes read so far; nullopt while they do not
/// decide. `final`: nothing more will be looked at (end of source or window full). `paused`:
/// the source is a stream whose writer paused.
std::optional<InputFormat> classify(std::string_view bytes, bool final, bool paused) {
    std::size_t first = bytes.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return final ? std::optional(InputFormat::document) : std::nullopt;
    }
    char opener = bytes[first];
    InputFormat single = opener == '[' ? InputFormat::json_array : InputFormat::document;
    std::size_t line1_end = bytes.find('\n', first);
    if (line1_end == std::string_view::npos) {
        return final ? std::optional(single) : std::nullopt;
    }
    std::string_view rest = bytes.substr(line1_end + 1);
    if (value_lines(rest.substr(0, std::min(rest.size(), detect_window_bytes)), final) >= 2) {
        return InputFormat::ndjson;
    }
    if ((opener == '{' || opener == '[') &&
        one_value_on_line(bytes.substr(first, line1_end - first))) {
        if (rest.find_first_not_of(" \t\r\n") != std::string_view::npos) {
            return InputFormat::ndjson;
        }
        if (final) {
            return single;
        }
        return paused && opener == '{' ? std::optional(InputFormat::ndjson) : std::nullopt;
    }
    return final ? std::optional(single) : std::nullopt;
}

/// "record of N bytes exceeds max_record_bytes (M)".
std::string too_large(std::uint64_t size, std::size_t max) {
    return "record of " + std::to_string(size) + " bytes exceeds max_record_bytes (" +
           std::to_string(max) + ")";
}

}  // namespace pgingest::tools::detail
