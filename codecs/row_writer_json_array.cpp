// json[] and jsonb[] from the text of a JSON array (RowWriter::json_array_parsed): each element's
// JSON text is copied verbatim into its element field, so numbers keep every digit as in a json
// or jsonb column. The text was validated by simdjson before it gets here, so the scanner below
// only has to find where each value ends; nesting is followed only as deep as the array's
// dimensions (at most 6), never along the input.

#include "codecs/array.hpp"
#include "codecs/copy_binary.hpp"
#include "codecs/jsonb.hpp"
#include "codecs/row_writer.hpp"

namespace pgingest {

namespace {

bool json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_json_space(std::string_view text, std::size_t at) noexcept {
    while (at < text.size() && json_space(text[at])) {
        at++;
    }
    return at;
}

// Where the valid JSON value starting at `at` ends.
std::size_t json_value_end(std::string_view text, std::size_t at) noexcept {
    std::size_t depth = 0;
    bool in_string = false;
    for (; at < text.size(); at++) {
        const char c = text[at];
        if (in_string) {
            if (c == '\\') {
                at++;
            } else if (c == '"') {
                in_string = false;
                if (depth == 0) {
                    return at + 1;
                }
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            if (depth == 0) {
                return at;  // the end of a scalar that closes its container
            }
            if (--depth == 0) {
                return at + 1;
            }
        } else if (depth == 0 && (c == ',' || json_space(c))) {
            return at;
        }
    }
    return at;
}

// The elements of the JSON array `array` ('[' ... ']'), one by one.
class ElementCursor {
  public:
    explicit ElementCursor(std::string_view array) noexcept
        : _text(array), _at(skip_json_space(array, 1)) {}

    // The next element's text; false after the last.
    bool next(std::string_view& element) noexcept {
        if (_at >= _text.size() || _text[_at] == ']') {
            return false;
        }
        const std::size_t end = json_value_end(_text, _at);
        element = _text.substr(_at, end - _at);
        _at = skip_json_space(_text, end);
        if (_at < _text.size() && _text[_at] == ',') {
            _at = skip_json_space(_text, _at + 1);
        }
        return true;
    }

  private:
    std::string_view _text;
    std::size_t _at;
};

std::uint32_t element_count(std::string_view array) noexcept {
    ElementCursor cursor(array);
    std::string_view element;
    std::uint32_t count = 0;
    while (cursor.next(element)) {
        count++;
    }
    return count;
}

}  // namespace

Status RowWriter::json_array_parsed(std::string_view array_json) {
    if (full()) {
        return mismatch();
    }
    const ColumnCodec& codec = _codecs[_column];
    std::size_t start = skip_json_space(array_json, 0);
    if (codec.kind != ColumnKind::array ||
        (codec.element != ColumnKind::json && codec.element != ColumnKind::jsonb) ||
        start >= array_json.size() || array_json[start] != '[') {
        return mismatch();
    }
    std::string_view level = array_json.substr(start, json_value_end(array_json, start) - start);
    // arrayfuncs.c array_recv: the rank is how deep the first elements nest.
    std::uint32_t dims[array_dimensions_max] = {};
    std::size_t rank = 0;
    const std::string_view whole = level;
    for (;;) {
        dims[rank++] = element_count(level);
        ElementCursor cursor(level);
        std::string_view first;
        if (!cursor.next(first) || first.front() != '[') {
            break;
        }
        if (rank == array_dimensions_max) {
            return done(Status{Errc::array_too_many_dims, 0});
        }
        level = first;
    }
    ArrayWriter array(*_out, codec.element_oid, rank);
    std::uint32_t index = 0;
    Status status = write_json_array_level(codec, whole, std::span(dims, rank), index);
    if (!status.ok()) {
        return done(status);  // ~ArrayWriter truncates
    }
    return done(array.finish(std::span<const std::uint32_t>(dims, rank)));
}

Status RowWriter::write_json_array_level(const ColumnCodec& codec, std::string_view level,
                                         std::span<const std::uint32_t> dims,
                                         std::uint32_t& index) {
    if (element_count(level) != dims[0]) {
        return Status{Errc::array_ragged, index};
    }
    ElementCursor cursor(level);
    std::string_view element;
    while (cursor.next(element)) {
        if (dims.size() > 1) {
            if (element.front() != '[') {
                return Status{Errc::array_ragged, index};
            }
            Status status = write_json_array_level(codec, element, dims.subspan(1), index);
            if (!status.ok()) {
                return status;
            }
            continue;
        }
        if (element.front() == '[') {
            return Status{Errc::array_ragged, index};
        }
        if (element == "null") {
            put_null(*_out);  // json_populate_record: a JSON null element is an SQL NULL
        } else {
            FieldStart start = codec.element == ColumnKind::jsonb ? begin_jsonb(*_out)
                                                                  : pgingest::begin_json(*_out);
            _json.reset(*_out);
            _json.raw(element);
            Status status = end_json_field(*_out, start, _json);
            if (!status.ok()) {
                return Status{status.code, index};
            }
        }
        ++index;
    }
    return Status{};
}

}  // namespace pgingest
