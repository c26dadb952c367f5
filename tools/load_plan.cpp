#include "tools/load_plan.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>
#include <stdexcept>

#include "codecs/copy_binary.hpp"
#include "codecs/jsonb.hpp"

namespace pgingest::tools {

namespace {

bool digit_or_dot(char c) noexcept {
    return (c >= '0' && c <= '9') || c == '.';
}

/// Bit i set: byte `at + i` of `text` is an ASCII digit or '.'; bytes past the end are not.
/// 64 bytes at a time with SSE2 (part of x86-64), byte by byte elsewhere and at the end.
std::uint64_t digit_or_dot_mask(std::string_view text, std::size_t at) noexcept {
    std::size_t count = std::min<std::size_t>(64, text.size() - at);
#if defined(__SSE2__)
    if (count == 64) {
        const __m128i below_zero = _mm_set1_epi8(static_cast<char>('0' - 1));
        const __m128i above_nine = _mm_set1_epi8(static_cast<char>('9' + 1));
        const __m128i dot = _mm_set1_epi8('.');
        std::uint64_t mask = 0;
        for (int lane = 0; lane < 4; ++lane) {
            __m128i bytes;
            std::memcpy(&bytes, text.data() + at + 16 * lane, 16);
            // Signed compares: bytes of 0x80 and above are negative, so never digits.
            __m128i digit =
                _mm_and_si128(_mm_cmpgt_epi8(bytes, below_zero), _mm_cmplt_epi8(bytes, above_nine));
            auto hits = static_cast<std::uint32_t>(
                _mm_movemask_epi8(_mm_or_si128(digit, _mm_cmpeq_epi8(bytes, dot))));
            mask |= std::uint64_t{hits} << (16 * lane);
        }
        return mask;
    }
#endif
    std::uint64_t mask = 0;
    for (std::size_t i = 0; i < count; ++i) {
        mask |= std::uint64_t{digit_or_dot(text[at + i])} << i;
    }
    return mask;
}

/// The digits (dots not counted) of the run of digits and dots around byte `at` of `text`;
/// `end` is set just past the run.
int run_digits(std::string_view text, std::size_t at, std::size_t& end) noexcept {
    std::size_t start = at;
    while (start > 0 && digit_or_dot(text[start - 1])) {
        --start;
    }
    int digits = 0;
    for (end = start; end < text.size() && digit_or_dot(text[end]); ++end) {
        digits += text[end] != '.' ? 1 : 0;
    }
    return digits;
}

/// True when `text` holds a run of 16 or more digits (dots between them allowed): only then
/// can a number have more significant digits than a double keeps. Any decimal of at most 15
/// significant digits survives the trip through a double and its shortest form (DBL_DIG), so
/// records without such a run skip the raw-text pass. Strings with long digit runs only cost
/// the pass, never correctness. Per 64 bytes: a bit mask of digits and dots, in which runs of
/// 16 bytes are found with four shifts (and across chunks from the run ending the previous
/// one); only such a run is counted exactly. The floats of an embedding (runs of 10-12 bytes)
/// never get that far.
bool may_lose_digits(std::string_view text) noexcept {
    int carry = 0;  // bytes of the run that ends the previous chunk
    for (std::size_t at = 0; at < text.size();) {
        std::uint64_t mask = digit_or_dot_mask(text, at);
        std::uint64_t runs = mask & (mask >> 1);  // bit i: bytes i..i+1 are digits or dots
        runs &= runs >> 2;                        // i..i+3
        runs &= runs >> 4;                        // i..i+7
        runs &= runs >> 8;                        // i..i+15
        std::size_t candidate = SIZE_MAX;
        if (carry > 0 && carry + std::countr_one(mask) >= 16) {
            candidate = at - 1;  // a run crossing into this chunk
        } else if (runs != 0) {
            candidate = at + static_cast<std::size_t>(std::countr_zero(runs));
        }
        if (candidate != SIZE_MAX) {
            std::size_t end = 0;
            if (run_digits(text, candidate, end) >= 16) {
                return true;
            }
            at = end;  // 16 bytes or more but fewer digits ("1.2.3.4.5.6.7.8"): go on after it
            carry = 0;
            continue;
        }
        carry = std::countl_one(mask);
        at += 64;
    }
    std::size_t end = 0;
    return carry > 0 && run_digits(text, text.size() - 1, end) >= 16;
}

bool is_json_column(const PlannedColumn& planned) noexcept {
    ColumnKind kind = column_codec(planned.column).kind;
    return kind == ColumnKind::json || kind == ColumnKind::jsonb;
}

const char* source_name(SourceKind kind) noexcept {
    switch (kind) {
        case SourceKind::key:
            return "key";
        case SourceKind::pointer:
            return "pointer";
        case SourceKind::document:
            return "document";
        case SourceKind::rest:
            return "rest";
        case SourceKind::constant:
            return "constant";
    }
    return "?";
}

/// RFC 6901: "" (the whole record) or '/'-separated tokens where '~' is followed by 0 or 1.
bool valid_pointer(std::string_view pointer) noexcept {
    if (!pointer.empty() && pointer.front() != '/') {
        return false;
    }
    for (std::size_t i = 0; i < pointer.size(); ++i) {
        if (pointer[i] == '~' &&
            (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))) {
            return false;
        }
    }
    return true;
}

/// The first token of a pointer, unescaped ("/a~1b/c" → "a/b").
std::string first_token(std::string_view pointer) {
    std::string token;
    for (std::size_t i = 1; i < pointer.size() && pointer[i] != '/'; ++i) {
        if (pointer[i] == '~') {
            token += pointer[i + 1] == '1' ? '/' : '~';
            ++i;
        } else {
            token += pointer[i];
        }
    }
    return token;
}

std::string column_names(const TableInfo& table) {
    std::string names;
    for (const ColumnInfo& column : table.columns) {
        names += (names.empty() ? "" : ", ") + column.name;
    }
    return names;
}

struct Explicit {
    std::string name;
    SourceKind source;
    std::string argument;
    std::string flag;  ///< as given, for messages
};

std::vector<Explicit> explicit_sources(const MappingOptions& mapping) {
    std::vector<Explicit> sources;
    for (const std::string& map : mapping.maps) {
        std::size_t eq = map.find('=');
        if (eq == std::string::npos) {
            sources.push_back({map, SourceKind::key, map, "--map " + map});
            continue;
        }
        std::string pointer = map.substr(eq + 1);
        if (!valid_pointer(pointer)) {
            throw std::invalid_argument("--map " + map + ": \"" + pointer +
                                        "\" is not a JSON pointer (RFC 6901: \"/key/0/key\", "
                                        "'~' only as ~0 or ~1)");
        }
        sources.push_back({map.substr(0, eq), SourceKind::pointer, pointer, "--map " + map});
    }
    for (const std::string& set : mapping.sets) {
        std::size_t eq = set.find('=');
        if (eq == std::string::npos) {
            throw std::invalid_argument("--set " + set + ": expected COLUMN=VALUE");
        }
        sources.push_back(
            {set.substr(0, eq), SourceKind::constant, set.substr(eq + 1), "--set " + set});
    }
    if (!mapping.document_column.empty()) {
        sources.push_back({mapping.document_column, SourceKind::document, "",
                           "--document-column " + mapping.document_column});
    }
    if (!mapping.rest_column.empty()) {
        sources.push_back(
            {mapping.rest_column, SourceKind::rest, "", "--rest-column " + mapping.rest_column});
    }
    return sources;
}

void check_explicit(const Explicit& source, const ColumnInfo& column) {
    ColumnKind kind = column_codec(column).kind;
    bool json = kind == ColumnKind::json || kind == ColumnKind::jsonb;
    if ((source.source == SourceKind::document || source.source == SourceKind::rest) && !json) {
        throw std::invalid_argument(source.flag + ": column \"" + column.name + "\" is " +
                                    column.type_display + ", not json or jsonb");
    }
    if (kind == ColumnKind::unsupported) {
        throw std::invalid_argument(source.flag + ": column \"" + column.name + "\" has type " +
                                    column.type_display + ", which pgingest cannot write");
    }
    if (source.source == SourceKind::constant) {
        TableInfo one;
        one.columns = {column};
        RowWriter writer(one);
        ByteBuffer scratch;
        writer.begin(scratch);
        Status status = writer.from_text(source.argument);
        if (!status.ok()) {
            throw std::invalid_argument(source.flag + ": " +
                                        writer.describe(status, 0, source.argument));
        }
    }
}

}  // namespace

LoadPlan make_load_plan(const TableInfo& table, const MappingOptions& mapping) {
    std::vector<Explicit> sources = explicit_sources(mapping);
    for (std::size_t i = 0; i < sources.size(); ++i) {
        const ColumnInfo* column = table.find(sources[i].name);
        if (column == nullptr) {
            throw std::invalid_argument(sources[i].flag + ": table " + table.qualified_name +
                                        " has no column \"" + sources[i].name +
                                        "\" (columns: " + column_names(table) + ")");
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (sources[j].name == sources[i].name) {
                throw std::invalid_argument(sources[i].flag + ": column \"" + sources[i].name +
                                            "\" already has a source (" + sources[j].flag + ")");
            }
        }
        check_explicit(sources[i], *column);
    }
    LoadPlan plan;
    plan.table.qualified_name = table.qualified_name;
    plan.table.oid = table.oid;
    for (const ColumnInfo& column : table.columns) {
        auto named = std::find_if(sources.begin(), sources.end(),
                                  [&](const Explicit& s) { return s.name == column.name; });
        PlannedColumn planned;
        planned.column = column;
        if (named != sources.end()) {
            planned.source = named->source;
            planned.argument = named->argument;
        } else if (column.has_default || column_codec(column).kind == ColumnKind::unsupported) {
            plan.left_out.push_back(column.name);
            continue;
        } else {
            planned.argument = column.name;
        }
        plan.needs_object = plan.needs_object || planned.source == SourceKind::key ||
                            planned.source == SourceKind::rest;
        plan.table.columns.push_back(column);
        plan.columns.push_back(std::move(planned));
    }
    if (plan.columns.empty()) {
        throw std::invalid_argument("table " + table.qualified_name +
                                    ": no column to load (every column has a default or a type "
                                    "pgingest cannot write; name columns with --map)");
    }
    return plan;
}

std::string LoadPlan::describe() const {
    std::string text = "COPY " + table.qualified_name + ":\n";
    for (const PlannedColumn& planned : columns) {
        text += "  " + planned.column.name + "  " + planned.column.type_display + "  <- " +
                source_name(planned.source);
        if (!planned.argument.empty()) {
            text += " " + planned.argument;
        }
        text += "\n";
    }
    for (const std::string& name : left_out) {
        text += "  " + name + "  (not sent: the server's default)\n";
    }
    return text;
}

RecordEncoder::RecordEncoder(const LoadPlan& plan, JsonWriterOptions json)
    : _plan(&plan), _writer(plan.table, json) {
    for (const PlannedColumn& planned : plan.columns) {
        ColumnKind kind = column_codec(planned.column).kind;
        bool exact =
            kind == ColumnKind::numeric || kind == ColumnKind::json || kind == ColumnKind::jsonb;
        bool by_pointer = planned.source == SourceKind::pointer && !planned.argument.empty();
        _raw_columns.push_back((planned.source == SourceKind::key || by_pointer) && exact);
        _raw_rest = _raw_rest || planned.source == SourceKind::rest;
        _raw_any = _raw_any || _raw_rest || _raw_columns.back();
        if (planned.source == SourceKind::key) {
            _taken.push_back(planned.argument);
        } else if (planned.source == SourceKind::pointer && !planned.argument.empty()) {
            _taken.push_back(first_token(planned.argument));
        }
    }
}

bool RecordEncoder::encode(std::string_view record, ByteBuffer& out, RecordError& error) {
    simdjson::dom::element element;
    simdjson::error_code code = _parser.parse(record.data(), record.size(), false).get(element);
    if (code == simdjson::NUMBER_ERROR && collect_raw(record, true)) {
        return encode_raw(record, out, error);  // the raw texts hold what the DOM refused
    }
    if (code != simdjson::SUCCESS) {
        error.reason = std::string("invalid JSON: ") + simdjson::error_message(code);
        return false;
    }
    _record_text = record;
    _raw_ready = _raw_any && element.is_object() && may_lose_digits(record) && collect_raw(record);
    bool ok = encode_element(element, out, error);
    _record_text = {};
    _raw_ready = false;
    return ok;
}

namespace {

/// The raw JSON text of an On-Demand value: objects and arrays whole, scalars as their token
/// without the whitespace after it.
bool raw_text(simdjson::ondemand::value value, std::string_view& text) {
    simdjson::ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) {
        return false;
    }
    if (type == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object object;
        return value.get_object().get(object) == simdjson::SUCCESS &&
               object.raw_json().get(text) == simdjson::SUCCESS;
    }
    if (type == simdjson::ondemand::json_type::array) {
        simdjson::ondemand::array array;
        return value.get_array().get(array) == simdjson::SUCCESS &&
               array.raw_json().get(text) == simdjson::SUCCESS;
    }
    text = value.raw_json_token();
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                             text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return true;
}

}  // namespace

bool RecordEncoder::encode_raw(std::string_view record, ByteBuffer& out, RecordError& error) {
    std::size_t start = out.size();
    _record_text = record;
    _raw_ready = true;
    _writer.begin(out);
    bool ok = true;
    for (std::size_t i = 0; ok && i < _plan->columns.size(); ++i) {
        ok = write_column_raw(i, error);
    }
    _record_text = {};
    _raw_ready = false;
    if (!ok) {
        out.truncate(start);
    }
    return ok;
}

bool RecordEncoder::write_column_raw(std::size_t index, RecordError& error) {
    const PlannedColumn& planned = _plan->columns[index];
    Status status{};
    switch (planned.source) {
        case SourceKind::document:
            status = _writer.json_parsed(_record_text);
            break;
        case SourceKind::rest:
            return write_rest(simdjson::dom::element{}, error);
        case SourceKind::constant:
            status = _writer.from_text(planned.argument);
            break;
        case SourceKind::key:
        case SourceKind::pointer: {
            std::string_view raw = _raw[index];
            bool is_number =
                !raw.empty() && (raw.front() == '-' || (raw.front() >= '0' && raw.front() <= '9'));
            ColumnKind kind = column_codec(planned.column).kind;
            if (raw.empty()) {
                status = _writer.null();
            } else if (is_json_column(planned)) {
                status = _writer.json_parsed(raw);
            } else if (is_number && kind == ColumnKind::numeric) {
                status = _writer.from_text(raw);
            } else if (is_number && (kind == ColumnKind::text || kind == ColumnKind::varchar ||
                                     kind == ColumnKind::bpchar || kind == ColumnKind::name)) {
                status = _writer.text(raw);  // the number's own text
            } else {
                simdjson::padded_string token(raw);
                simdjson::dom::element value;
                if (_token_parser.parse(token).get(value) != simdjson::SUCCESS) {
                    status = Status{is_number ? Errc::integer_out_of_range : Errc::json_syntax, 0};
                } else {
                    status = _writer.json_value(value);
                }
            }
            return status.ok() || fail(status, index, raw, error);
        }
    }
    return status.ok() || fail(status, index, planned.argument, error);
}

bool RecordEncoder::collect_raw(std::string_view record, bool all_columns) {
    if (!all_columns && !_raw_any) {
        return false;
    }
    _raw.assign(_plan->columns.size(), std::string_view{});
    _rest.clear();
    simdjson::ondemand::document doc;
    simdjson::ondemand::object object;
    if (_raw_parser
                .iterate(simdjson::padded_string_view(record.data(), record.size(),
                                                      record.size() + simdjson::SIMDJSON_PADDING))
                .get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(object) != simdjson::SUCCESS) {
        return false;
    }
    for (auto field_result : object) {
        simdjson::ondemand::field field;
        std::string_view key;
        std::string_view text;
        if (std::move(field_result).get(field) != simdjson::SUCCESS ||
            field.unescaped_key().get(key) != simdjson::SUCCESS || !raw_text(field.value(), text)) {
            return false;
        }
        bool taken = false;
        for (std::size_t i = 0; i < _plan->columns.size(); ++i) {
            const PlannedColumn& planned = _plan->columns[i];
            if (planned.source == SourceKind::key && planned.argument == key) {
                _raw[i] = _raw[i].empty() ? text : _raw[i];  // the first of duplicate keys
                taken = true;
            }
        }
        taken = taken || std::find(_taken.begin(), _taken.end(), key) != _taken.end();
        if (!taken && _raw_rest) {
            _rest.emplace_back(key, text);
        }
    }
    for (std::size_t i = 0; i < _plan->columns.size(); ++i) {
        const PlannedColumn& planned = _plan->columns[i];
        if (!(all_columns || _raw_columns[i]) || planned.source != SourceKind::pointer) {
            continue;
        }
        doc.rewind();  // a pointer is looked up from the root (keys compared unescaped)
        simdjson::ondemand::value value;
        if (doc.at_pointer(planned.argument).get(value) != simdjson::SUCCESS ||
            !raw_text(value, _raw[i])) {
            _raw[i] = {};  // the DOM value is used
        }
    }
    return true;
}

bool RecordEncoder::encode_element(simdjson::dom::element record, ByteBuffer& out,
                                   RecordError& error) {
    if (_plan->needs_object && !record.is_object()) {
        error.reason = "record is not a JSON object";
        return false;
    }
    std::size_t start = out.size();
    _writer.begin(out);
    for (std::size_t i = 0; i < _plan->columns.size(); ++i) {
        if (!write_column(i, record, error)) {
            out.truncate(start);
            return false;
        }
    }
    return true;
}

bool RecordEncoder::fail(Status status, std::size_t index, std::string_view value,
                         RecordError& error) {
    error.reason = _writer.describe(status, index, value);
    return false;
}

bool RecordEncoder::write_column(std::size_t index, simdjson::dom::element record,
                                 RecordError& error) {
    const PlannedColumn& planned = _plan->columns[index];
    simdjson::dom::element value;
    Status status{};
    if (_raw_ready && _raw_columns[index] && !_raw[index].empty() && _raw[index] != "null") {
        std::string_view raw = _raw[index];
        bool is_number = raw.front() == '-' || (raw.front() >= '0' && raw.front() <= '9');
        if (is_json_column(planned) || is_number) {
            status = is_json_column(planned) ? _writer.json_parsed(raw) : _writer.from_text(raw);
            return status.ok() || fail(status, index, raw, error);
        }
    }
    switch (planned.source) {
        case SourceKind::key:
            if (simdjson::dom::object object = record.get_object().value_unsafe();
                object.at_key(planned.argument).get(value) != simdjson::SUCCESS) {
                return _writer.null().ok();
            }
            status = _writer.json_value(value);
            break;
        case SourceKind::pointer:
            if (record.at_pointer(planned.argument).get(value) != simdjson::SUCCESS) {
                return _writer.null().ok();
            }
            status = _writer.json_value(value);
            break;
        case SourceKind::document:
            value = record;
            status =
                _record_text.empty() ? _writer.json_dom(record) : _writer.json_parsed(_record_text);
            break;
        case SourceKind::rest:
            return write_rest(record, error);
        case SourceKind::constant:
            status = _writer.from_text(planned.argument);
            if (!status.ok()) {
                return fail(status, index, planned.argument, error);
            }
            return true;
    }
    if (!status.ok()) {
        // A string is shown as its text, so that byte positions point into it.
        std::string_view text;
        return value.get_string().get(text) == simdjson::SUCCESS
                   ? fail(status, index, text, error)
                   : fail(status, index, simdjson::minify(value), error);
    }
    return true;
}

bool RecordEncoder::write_rest(simdjson::dom::element record, RecordError& error) {
    JsonWriter* json = _writer.begin_json();
    if (json == nullptr) {
        return fail(_writer.last_status(), _writer.column(), "", error);
    }
    json->begin_object();
    if (_raw_ready) {  // the members' own text, every digit kept
        for (const auto& [key, text] : _rest) {
            json->key_valid_utf8(key);
            json->raw(text);
        }
    } else {
        simdjson::dom::object object = record.get_object().value_unsafe();
        for (simdjson::dom::key_value_pair field : object) {
            if (std::find(_taken.begin(), _taken.end(), field.key) == _taken.end()) {
                json->key_valid_utf8(field.key);
                write_dom(*json, field.value);
            }
        }
    }
    json->end_object();
    std::size_t column = _writer.column();
    Status status = _writer.end_json();
    if (!status.ok()) {
        return fail(status, column, "(the record's other members)", error);
    }
    return true;
}

}  // namespace pgingest::tools
