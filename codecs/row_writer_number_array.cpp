// Arrays of numbers (int2/int4/int8/float4/float8/numeric[]) and pgvector's vector, halfvec and
// sparsevec from the text of a JSON array (RowWriter::json_array_raw): a large record's member
// is scanned once and its elements written straight into the field, with no simdjson DOM (up to
// 12 bytes per input byte: 4 of structural index per character, 16 of tape per number). Each
// element is read as simdjson's DOM reads it (the same number types, the same numbers refused)
// and written as `json_value` writes the DOM's element, so the field and every Status are those
// of the small path (codecs/load_plan.cpp). The one difference is on purpose: a float4 element
// whose double lies exactly halfway between two floats is rounded from its text (float4in:
// strtof), not from the double (which would round twice).
//
// Also an object or array into a text column (RowWriter::json_as_text_raw): its JSON text as
// the DOM walk writes it (minified, strings re-escaped, numbers as the DOM reads them), token
// by token from the member's text.

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "codecs/array.hpp"
#include "codecs/copy_binary.hpp"
#include "codecs/detail/json_scan.hpp"
#include "codecs/pgvector.hpp"
#include "codecs/row_writer.hpp"
#include "codecs/scalars.hpp"

namespace pgingest {

namespace {

enum class NumberType : std::uint8_t { int64, uint64, real, refused };

struct DomNumber {
    NumberType type = NumberType::refused;
    std::int64_t int64 = 0;
    std::uint64_t uint64 = 0;
    double real = 0;
};

// `token`, a valid JSON number, as simdjson's DOM reads it: an integer that fits int64 is INT64
// ("-0" too: 0), a larger positive one up to 2^64 - 1 is UINT64, any other integer is refused
// (NUMBER_ERROR); a number with a fraction or an exponent is the correctly rounded double, ±0
// when it underflows, refused when it overflows (`1e999`).
DomNumber read_number(std::string_view token) noexcept {
    DomNumber number;
    const char* first = token.data();
    const char* last = first + token.size();
    if (token.find_first_of(".eE") == std::string_view::npos) {
        if (std::from_chars(first, last, number.int64).ec == std::errc{}) {
            number.type = NumberType::int64;
        } else if (token.front() != '-' &&
                   std::from_chars(first, last, number.uint64).ec == std::errc{}) {
            number.type = NumberType::uint64;
        }
        return number;
    }
    std::errc ec = std::from_chars(first, last, number.real).ec;
    if (ec == std::errc{}) {
        number.type = NumberType::real;
    } else if (ec == std::errc::result_out_of_range) {
        // Rare: strtod tells an overflow (HUGE_VAL) from an underflow (±0), from_chars does not.
        std::string copy(token);
        double value = std::strtod(copy.c_str(), nullptr);
        if (!std::isinf(value)) {
            number.real = value;
            number.type = NumberType::real;
        }
    }
    return number;
}

bool is_number_start(char c) noexcept {
    return c == '-' || (c >= '0' && c <= '9');
}

// What simdjson's DOM refuses in the validated JSON text `text`, first in the text: a number
// (`json_syntax`, as the small path's member parse reports it) or a lone surrogate escape
// (`json_lone_surrogate`: the DOM refuses the record); ok when nothing.
Status first_dom_refusal(std::string_view text) {
    std::string unescaped;
    std::size_t at = 0;
    while (at < text.size()) {
        char c = text[at];
        if (c != '"' && !is_number_start(c)) {
            ++at;
            continue;
        }
        std::size_t end = detail::skip_json_value(text, at);
        std::string_view token = text.substr(at, end - at);
        at = end;
        if (c != '"') {
            if (read_number(token).type == NumberType::refused) {
                return Status{Errc::json_syntax, 0};
            }
            continue;
        }
        std::string_view raw = token.substr(1, token.size() - 2);
        unescaped.resize(raw.size());
        if (raw.find("\\u") != std::string_view::npos &&
            detail::decode_json_escapes(raw, unescaped.data(), detail::LoneSurrogate::refuse) ==
                std::string_view::npos) {
            return Status{Errc::json_lone_surrogate, 0};
        }
    }
    return Status{};
}

// The Status of an array whose element `index`, whose text starts `rest` (the array's text from
// there on), failed with `status`: what the DOM would have refused first wins, as the small path
// never gets to the elements then.
Status element_failure(Status status, std::uint32_t index, std::string_view rest) {
    if (status.code == Errc::json_syntax || status.code == Errc::json_lone_surrogate) {
        return Status{status.code, 0};
    }
    Status refused = first_dom_refusal(rest);
    return refused.ok() ? Status{status.code, index} : refused;
}

bool is_vector_kind(ColumnKind kind) noexcept {
    return kind == ColumnKind::vector || kind == ColumnKind::halfvec ||
           kind == ColumnKind::sparsevec;
}

bool is_number_element_kind(ColumnKind kind) noexcept {
    return kind == ColumnKind::int2 || kind == ColumnKind::int4 || kind == ColumnKind::int8 ||
           kind == ColumnKind::float4 || kind == ColumnKind::float8 || kind == ColumnKind::numeric;
}

// The text of `array` from `element`, a slice of it, on.
std::string_view from(std::string_view array, std::string_view element) noexcept {
    return array.substr(static_cast<std::size_t>(element.data() - array.data()));
}

// Bytes of one element field of `kind` (length included; a NULL takes less), 0 when it varies.
std::size_t fixed_element_size(ColumnKind kind) noexcept {
    switch (kind) {
        case ColumnKind::int2:
            return int2_encoded_size_max();
        case ColumnKind::int4:
            return int4_encoded_size_max();
        case ColumnKind::int8:
            return int8_encoded_size_max();
        case ColumnKind::float4:
            return float4_encoded_size_max();
        case ColumnKind::float8:
            return float8_encoded_size_max();
        default:
            return 0;
    }
}

std::size_t element_count(std::string_view array) noexcept {
    detail::JsonElementCursor cursor(array);
    std::string_view element;
    std::size_t count = 0;
    while (cursor.next(element)) {
        ++count;
    }
    return count;
}

bool is_text_column_kind(ColumnKind kind) noexcept {
    return kind == ColumnKind::text || kind == ColumnKind::varchar || kind == ColumnKind::bpchar ||
           kind == ColumnKind::name;
}

// One scalar token of validated JSON text written as write_dom writes the DOM's element: a
// string unescaped (as a key when `key`), a number as the DOM reads it. Errors as
// `json_as_text_raw`'s.
Status write_scalar_token(JsonWriter& writer, std::string_view token, bool key,
                          std::string& unescaped) {
    char c = token.front();
    if (c == '"') {
        std::string_view raw = token.substr(1, token.size() - 2);
        unescaped.resize(raw.size());
        std::size_t length =
            detail::decode_json_escapes(raw, unescaped.data(), detail::LoneSurrogate::refuse);
        if (length == std::string_view::npos) {
            return Status{Errc::json_lone_surrogate, 0};
        }
        std::string_view text(unescaped.data(), length);
        key ? writer.key_valid_utf8(text) : writer.string_valid_utf8(text);
    } else if (is_number_start(c)) {
        DomNumber number = read_number(token);
        switch (number.type) {
            case NumberType::int64:
                writer.number(number.int64);
                break;
            case NumberType::uint64:
                writer.number(number.uint64);
                break;
            case NumberType::real:
                writer.number(number.real);
                break;
            case NumberType::refused:
                return Status{Errc::json_syntax, 0};
        }
    } else if (c == 'n') {
        writer.null();
    } else {
        writer.boolean(c == 't');
    }
    return Status{};
}

// The validated JSON value `text` written token by token as write_dom writes its DOM.
Status write_json_tokens(JsonWriter& writer, std::string_view text, std::string& unescaped,
                         std::string& open) {
    open.clear();
    char before = 0;  // the structural character before the token: '{', '[', ',' or ':'
    std::size_t at = 0;
    while (at < text.size()) {
        char c = text[at];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ++at;
            continue;
        }
        if (c == '{' || c == '[' || c == '}' || c == ']' || c == ',' || c == ':') {
            if (c == '{' || c == '[') {
                c == '{' ? writer.begin_object() : writer.begin_array();
                open.push_back(c);
            } else if (c == '}' || c == ']') {
                c == '}' ? writer.end_object() : writer.end_array();
                open.pop_back();
            }
            before = c;
            ++at;
            continue;
        }
        std::size_t end = detail::skip_json_value(text, at);
        bool key = !open.empty() && open.back() == '{' && (before == '{' || before == ',');
        Status status = write_scalar_token(writer, text.substr(at, end - at), key, unescaped);
        if (!status.ok()) {
            return status;
        }
        before = 0;
        at = end;
    }
    return Status{};
}

}  // namespace

Status RowWriter::json_as_text_raw(std::string_view json) {
    if (full() || !is_text_column_kind(_codecs[_column].kind) || json.empty() ||
        (json.front() != '{' && json.front() != '[')) {
        return mismatch();
    }
    _scratch.clear();
    _json.reset(_scratch);
    std::string unescaped;
    std::string open;
    Status status = write_json_tokens(_json, json, unescaped, open);
    if (status.ok()) {
        status = _json.finish();
    }
    if (status.ok()) {
        status = text_field(_codecs[_column], _scratch.view());
    }
    if (_scratch.capacity() >= (std::size_t{1} << 20)) {
        _scratch = ByteBuffer{};  // a huge member's text is not kept
        _json.reset(_scratch);
    }
    return done(status);
}

bool RowWriter::streams_json_array(std::string_view array_json) const noexcept {
    if (full() || array_json.empty() || array_json.front() != '[') {
        return false;
    }
    const ColumnCodec& codec = _codecs[_column];
    if (is_vector_kind(codec.kind)) {
        return true;
    }
    if (codec.kind != ColumnKind::array || !is_number_element_kind(codec.element)) {
        return false;
    }
    // A first element that is an array makes a multi-dimensional array (write_nd_array).
    detail::JsonElementCursor cursor(array_json);
    std::string_view first;
    return !cursor.next(first) || first.front() != '[';
}

Status RowWriter::json_array_raw(std::string_view array_json) {
    if (!streams_json_array(array_json)) {
        return mismatch();
    }
    const ColumnCodec& codec = _codecs[_column];
    return done(codec.kind == ColumnKind::array ? write_number_array(codec, array_json)
                                                : write_vector_raw(codec, array_json));
}

Status RowWriter::write_number_array(const ColumnCodec& codec, std::string_view array_json) {
    ColumnCodec element{.kind = codec.element, .typmod = codec.typmod};
    if (std::size_t width = fixed_element_size(element.kind);
        width != 0 && array_json.size() >= (std::size_t{1} << 20)) {
        // A huge member: room for the whole field at once, not doublings that would hold the
        // old and the new buffer (up to 3 x the field) while the copy runs. None for a field
        // the server cannot take (ArrayWriter::finish refuses it: field_too_large).
        std::size_t field = array_encoded_size_max(element_count(array_json), width);
        if (field <= copy_field_size_max) {
            _out->reserve(_out->size() + field);
        }
    }
    ArrayWriter array(*_out, codec.element_oid);
    detail::JsonElementCursor cursor(array_json);
    std::string_view value;
    std::uint32_t index = 0;
    while (cursor.next(value)) {
        Status status = number_element(element, value);
        if (!status.ok()) [[unlikely]] {
            return element_failure(status, index, from(array_json, value));  // ~ArrayWriter
        }
        ++index;
    }
    return array.finish();
}

Status RowWriter::number_element(const ColumnCodec& element, std::string_view token) {
    char c = token.front();
    if (is_number_start(c)) {
        DomNumber number = read_number(token);
        switch (number.type) {
            case NumberType::int64:
                return integer_field(element.kind, element, number.int64);
            case NumberType::uint64:
                return unsigned_field(element, number.uint64);
            case NumberType::refused:
                return Status{Errc::json_syntax, 0};
            case NumberType::real:
                break;
        }
        float narrowed = 0;
        if (element.kind == ColumnKind::float4 && narrow_to_float4(number.real, narrowed) &&
            float_halfway(number.real)) {
            // Rounding the double to float would round twice: the text's own float (strtof).
            float single = 0;
            const char* last = token.data() + token.size();
            bool ok = std::from_chars(token.data(), last, single).ec == std::errc{};
            encode_float4(*_out, ok ? single : narrowed);
            return Status{};
        }
        return floating_field(element.kind, element, number.real);
    }
    if (c == 'n') {
        put_null(*_out);
        return Status{};
    }
    if (c == '"') {
        std::string_view raw = token.substr(1, token.size() - 2);
        std::string text(raw.size(), '\0');
        std::size_t length =
            detail::decode_json_escapes(raw, text.data(), detail::LoneSurrogate::refuse);
        if (length == std::string_view::npos) {
            return Status{Errc::json_lone_surrogate, 0};
        }
        text.resize(length);
        return from_text_field(element.kind, element, text);
    }
    if (c == 't' || c == 'f') {
        return text_field(element, token);  // type_mismatch: no text kind takes this path
    }
    return Status{Errc::type_mismatch, 0};  // an array or an object
}

Status RowWriter::write_vector_raw(const ColumnCodec& codec, std::string_view array_json) {
    _floats.clear();
    detail::JsonElementCursor cursor(array_json);
    std::string_view value;
    std::uint32_t index = 0;
    while (cursor.next(value)) {
        // As write_vector: any number, as its double, narrowed without a range check.
        Status status{Errc::type_mismatch, 0};
        DomNumber number = is_number_start(value.front()) ? read_number(value) : DomNumber{};
        if (number.type == NumberType::refused && is_number_start(value.front())) {
            status = Status{Errc::json_syntax, 0};
        } else if (number.type != NumberType::refused) {
            double real = number.type == NumberType::int64    ? static_cast<double>(number.int64)
                          : number.type == NumberType::uint64 ? static_cast<double>(number.uint64)
                                                              : number.real;
            _floats.push_back(static_cast<float>(real));
            ++index;
            continue;
        }
        return element_failure(status, index, from(array_json, value));
    }
    std::int32_t dims = codec.typmod > 0 ? codec.typmod : -1;  // vector_dims
    Status status = codec.kind == ColumnKind::vector ? encode_vector(*_out, _floats, dims)
                    : codec.kind == ColumnKind::halfvec
                        ? encode_halfvec(*_out, _floats, dims)
                        : encode_sparsevec_dense(*_out, _floats, dims);
    if (_floats.capacity() > (std::size_t{1} << 20)) {
        _floats = std::vector<float>{};  // a huge array's room is not kept
    }
    return status;
}

}  // namespace pgingest
