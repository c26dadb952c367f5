#include "codecs/load_plan.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "codecs/copy_binary.hpp"
#include "codecs/jsonb.hpp"
#include "codecs/scalar_columns.hpp"
#include "codecs/scalars.hpp"

namespace pgingest::tools {

namespace {

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

bool digit_or_dot(char c) noexcept {
    return is_digit(c) || c == '.';
}

/// A byte that may end a JSON number: ',', ']', '}' or whitespace.
bool number_end(char c) noexcept {
    return c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// Per 64 bytes of the record, bit i for byte `at + i` (bytes past the end: no bit).
struct ByteMasks {
    std::uint64_t digit = 0;  ///< '0'..'9'
    std::uint64_t dot = 0;    ///< '.'
    std::uint64_t zero = 0;   ///< '0'
    std::uint64_t end = 0;    ///< `number_end`
    std::uint64_t exp = 0;    ///< 'e' or 'E'
};

ByteMasks byte_masks_scalar(std::string_view text, std::size_t at, std::size_t count) noexcept {
    ByteMasks m;
    for (std::size_t i = 0; i < count; ++i) {
        char c = text[at + i];
        m.digit |= std::uint64_t{is_digit(c)} << i;
        m.dot |= std::uint64_t{c == '.'} << i;
        m.zero |= std::uint64_t{c == '0'} << i;
        m.end |= std::uint64_t{number_end(c)} << i;
        m.exp |= std::uint64_t{c == 'e' || c == 'E'} << i;
    }
    return m;
}

/// `ByteMasks` of `text` from byte `at`: 64 bytes at a time with SSE2 (part of x86-64), byte by
/// byte elsewhere and at the end.
ByteMasks byte_masks(std::string_view text, std::size_t at) noexcept {
    std::size_t count = at < text.size() ? std::min<std::size_t>(64, text.size() - at) : 0;
#if defined(__SSE2__)
    if (count == 64) {
        auto set = [](char c) { return _mm_set1_epi8(c); };
        auto bits = [](__m128i v) {
            return std::uint64_t{static_cast<std::uint32_t>(_mm_movemask_epi8(v))};
        };
        ByteMasks m;
        for (int lane = 0; lane < 4; ++lane) {
            __m128i b;
            std::memcpy(&b, text.data() + at + 16 * lane, 16);
            // Signed compares: bytes of 0x80 and above are negative, so never digits. "End"
            // here is any byte below '-' but '"', or ']' / '}' (0x5D | 0x20 = 0x7D): a superset
            // of `number_end` whose extra bytes only cost a check.
            __m128i digit =
                _mm_and_si128(_mm_cmpgt_epi8(b, set('0' - 1)), _mm_cmplt_epi8(b, set('9' + 1)));
            __m128i dot = _mm_cmpeq_epi8(b, set('.'));
            __m128i low = _mm_or_si128(b, set(0x20));
            __m128i end = _mm_or_si128(
                _mm_andnot_si128(_mm_cmpeq_epi8(b, set('"')), _mm_cmplt_epi8(b, set('-'))),
                _mm_cmpeq_epi8(low, set('}')));
            int shift = 16 * lane;
            m.digit |= bits(digit) << shift;
            m.dot |= bits(dot) << shift;
            m.zero |= bits(_mm_cmpeq_epi8(b, set('0'))) << shift;
            m.end |= bits(end) << shift;
            m.exp |= bits(_mm_cmpeq_epi8(low, set('e'))) << shift;
        }
        return m;
    }
#endif
    return byte_masks_scalar(text, at, count);
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

/// A '0' at `at` followed by the end of a number: true for a fraction ending in 0 ("1.50")
/// and for "-0", whose text a double changes.
bool changed_zero(std::string_view text, std::size_t at) noexcept {
    if (at + 1 < text.size() && !number_end(text[at + 1])) {
        return false;
    }
    std::size_t start = at;
    while (start > 0 && is_digit(text[start - 1])) {
        --start;
    }
    if (start > 0 && text[start - 1] == '.') {
        return true;
    }
    return start == at && start > 0 && text[start - 1] == '-' &&
           (start == 1 || !digit_or_dot(text[start - 2]));
}

/// An 'e' at `at` after a digit: true when it is the exponent of a number ("1e5", "2.5E-3"),
/// that is the run of digits before it starts a value, not a hex string ("3e4f").
bool changed_exponent(std::string_view text, std::size_t at) noexcept {
    if (at + 1 >= text.size() ||
        !(is_digit(text[at + 1]) || text[at + 1] == '-' || text[at + 1] == '+')) {
        return false;
    }
    std::size_t start = at;
    while (start > 0 && digit_or_dot(text[start - 1])) {
        --start;
    }
    if (start > 0 && text[start - 1] == '-') {
        --start;
    }
    char before = start > 0 ? text[start - 1] : ' ';
    return before == ':' || before == ',' || before == '[' || before == ' ' || before == '\t' ||
           before == '\n' || before == '\r';
}

/// "0.000" at `at`, not after a digit: true when the double's shortest text of this number
/// switches to an exponent, which it does when that is shorter: after 4 or more zeros
/// ("0.00001" → "1e-05"), or 3 and one digit ("0.0001" → "1e-04"; "0.00012" stays).
bool changed_small(std::string_view text, std::size_t at) noexcept {
    if (text.substr(at, 5) != "0.000" || (at > 0 && is_digit(text[at - 1]))) {
        return false;
    }
    std::size_t i = at + 2;
    std::size_t zeros = 0;
    for (; i < text.size() && text[i] == '0'; ++i) {
        ++zeros;
    }
    std::size_t digits = 0;
    for (; i < text.size() && is_digit(text[i]); ++i) {
        ++digits;
    }
    return zeros >= 4 || digits <= 1;
}

/// True when `text` may hold a JSON number whose text the trip through a double changes, so
/// that columns keeping numbers as written need the raw-text pass:
///   - a run of 16 or more digits (dots between them allowed): more significant digits than a
///     double keeps (any decimal of at most 15 survives it, DBL_DIG);
///   - a fraction ending in 0 (`1.50`, `100.0`) or `-0`: the shortest text drops it;
///   - an exponent (`1e5`, `1.0e-5`): the shortest text writes it its own way, or not at all;
///   - `0.0001`, `0.00001…`: the shortest text switches to an exponent.
/// Strings that look like that only cost the pass, never correctness. Per 64 bytes: bit masks
/// of digits, dots, zeros, number ends and 'e's (the next chunk's masks at hand for patterns
/// that cross), in which the patterns are found with a few shifts; only a hit is checked byte
/// by byte. The common floats of an embedding (`0.12345678,`) hit nothing.
bool may_change_number(std::string_view text) noexcept {
    ByteMasks next = byte_masks(text, 0);
    std::uint64_t digit_before = 0;  // bit 63 of the previous chunk's digits
    constexpr std::uint64_t all = ~std::uint64_t{0};
    for (std::size_t at = 0; at < text.size(); at += 64) {
        ByteMasks m = next;
        next = byte_masks(text, at + 64);
        auto ahead = [](std::uint64_t here, std::uint64_t there, int by) {
            return (here >> by) | (there << (64 - by));
        };
        // Bit i: bytes i..i+15 are digits or dots (bits near the end may say so wrongly: the
        // count below is exact).
        std::uint64_t run = m.digit | m.dot;
        std::uint64_t runs = run & ahead(run, next.digit | next.dot, 1);
        runs &= ahead(runs, all, 2);
        runs &= ahead(runs, all, 4);
        runs &= ahead(runs, all, 8);
        while (runs != 0) {
            std::size_t end = 0;
            if (run_digits(text, at + static_cast<std::size_t>(std::countr_zero(runs)), end) >=
                16) {
                return true;
            }
            // 16 bytes or more but fewer digits ("1.2.3.4.5.6.7.8"): go on after the run.
            std::size_t past = end - at;
            runs = past >= 64 ? 0 : runs & (all << past);
        }
        std::uint64_t zeros = m.zero & ahead(m.end, next.end, 1);
        std::uint64_t exps = m.exp & ((m.digit << 1) | digit_before);
        std::uint64_t smalls = m.zero & ahead(m.dot, next.dot, 1) & ahead(m.zero, next.zero, 2);
        digit_before = m.digit >> 63;
        for (; zeros != 0; zeros &= zeros - 1) {
            if (changed_zero(text, at + static_cast<std::size_t>(std::countr_zero(zeros)))) {
                return true;
            }
        }
        for (; exps != 0; exps &= exps - 1) {
            if (changed_exponent(text, at + static_cast<std::size_t>(std::countr_zero(exps)))) {
                return true;
            }
        }
        for (; smalls != 0; smalls &= smalls - 1) {
            if (changed_small(text, at + static_cast<std::size_t>(std::countr_zero(smalls)))) {
                return true;
            }
        }
    }
    return false;
}

bool is_json_column(const PlannedColumn& planned) noexcept {
    ColumnKind kind = column_codec(planned.column).kind;
    return kind == ColumnKind::json || kind == ColumnKind::jsonb;
}

/// real[]: an element whose double lies halfway between two floats is rounded from its text
/// (RowWriter::json_array_raw), as float4in rounds it, not twice through the double.
bool is_float4_array_column(const ColumnInfo& column) noexcept {
    ColumnCodec codec = column_codec(column);
    return codec.kind == ColumnKind::array && codec.element == ColumnKind::float4;
}

/// True when the array `value` holds a double halfway between two floats (`float_halfway`).
bool has_halfway_float(simdjson::dom::element value) noexcept {
    simdjson::dom::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) {
        return false;
    }
    for (simdjson::dom::element element : array) {
        if (element.type() == simdjson::dom::element_type::DOUBLE &&
            float_halfway(element.get_double().value_unsafe())) {
            return true;
        }
    }
    return false;
}

/// json[] and jsonb[]: their elements keep the record's text too (RowWriter::json_array_parsed).
bool is_json_array_column(const ColumnInfo& column) noexcept {
    ColumnCodec codec = column_codec(column);
    return codec.kind == ColumnKind::array &&
           (codec.element == ColumnKind::json || codec.element == ColumnKind::jsonb);
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
        case SourceKind::skip:
            return "skip";
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
    for (const std::string& skip : mapping.skips) {
        sources.push_back({skip, SourceKind::skip, "", "--skip " + skip});
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

namespace {

void check_sources(const TableInfo& table, const std::vector<Explicit>& sources) {
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
        if (sources[i].source != SourceKind::skip) {
            check_explicit(sources[i], *column);
        }
    }
}

[[noreturn]] void refuse_unsupported(const TableInfo& table, const ColumnInfo& column) {
    throw std::invalid_argument(
        "table " + table.qualified_name + ": column \"" + column.name + "\" has type " +
        column.type_display +
        ", which pgingest cannot write yet; nothing was loaded. Leave it to the server (its "
        "default or NULL) with --skip " +
        column.name +
        " (records with a value for it are then rejected, or kept in a "
        "--rest-column), or load into a table without it");
}

}  // namespace

LoadPlan make_load_plan(const TableInfo& table, const MappingOptions& mapping) {
    std::vector<Explicit> sources = explicit_sources(mapping);
    check_sources(table, sources);
    LoadPlan plan;
    plan.table.qualified_name = table.qualified_name;
    plan.table.oid = table.oid;
    plan.keeps_members = !mapping.document_column.empty() || !mapping.rest_column.empty();
    std::vector<std::string> left_types;
    std::vector<std::string> skipped_types;
    for (const ColumnInfo& column : table.columns) {
        auto named = std::find_if(sources.begin(), sources.end(),
                                  [&](const Explicit& s) { return s.name == column.name; });
        PlannedColumn planned;
        planned.column = column;
        if (named != sources.end() && named->source == SourceKind::skip) {
            plan.skipped.push_back(column.name);
            skipped_types.push_back(column.type_display);
            continue;
        }
        if (named != sources.end()) {
            planned.source = named->source;
            planned.argument = named->argument;
        } else if (column.has_default) {
            plan.left_out.push_back(column.name);
            left_types.push_back(column.type_display);
            continue;
        } else if (column_codec(column).kind == ColumnKind::unsupported) {
            refuse_unsupported(table, column);
        } else {
            planned.argument = column.name;
        }
        plan.needs_object = plan.needs_object || planned.source == SourceKind::key ||
                            planned.source == SourceKind::rest;
        plan.table.columns.push_back(column);
        plan.columns.push_back(std::move(planned));
    }
    plan.left_types = std::move(left_types);
    plan.left_types.insert(plan.left_types.end(), skipped_types.begin(), skipped_types.end());
    if (plan.columns.empty()) {
        throw std::invalid_argument("table " + table.qualified_name +
                                    ": no column to load (every column has a default or is "
                                    "skipped; name columns with --map)");
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
    std::string fate = keeps_members ? "a record's value for it is kept in the document/rest "
                                       "column"
                                     : "a record with a value for it is rejected";
    for (std::size_t i = 0; i < left_out.size() + skipped.size(); ++i) {
        bool skip = i >= left_out.size();
        const std::string& name = skip ? skipped[i - left_out.size()] : left_out[i];
        text += "  " + name + "  (not sent: " +
                (skip ? "--skip, the server's default or NULL)  " : "the server's default)  ") +
                left_types[i] + "; " + fate + "\n";
    }
    return text;
}

namespace {

/// The tokens of an RFC 6901 pointer, unescaped ("/a~1b/0" → {"a/b", "0"}).
std::vector<std::string> pointer_tokens(std::string_view pointer) {
    std::vector<std::string> tokens;
    for (std::size_t i = 0; i < pointer.size(); ++i) {
        if (pointer[i] == '/') {
            tokens.emplace_back();
        } else if (pointer[i] == '~') {
            tokens.back() += pointer[i + 1] == '1' ? '/' : '~';
            ++i;
        } else {
            tokens.back() += pointer[i];
        }
    }
    return tokens;
}

/// An RFC 6901 array index: "0" or digits without a leading zero; false for anything else.
bool array_index(std::string_view token, std::size_t& index) noexcept {
    if (token.empty() || (token.size() > 1 && token.front() == '0') || token.size() > 18) {
        return false;
    }
    index = 0;
    for (char c : token) {
        if (!is_digit(c)) {
            return false;
        }
        index = index * 10 + static_cast<std::size_t>(c - '0');
    }
    return true;
}

// Issue 10's scalar types (xml, cidr, jsonpath, "char", money, oid...) read a JSON number by
// their text input, as `'<number>'::type` does: they get the number's text as written too.
bool keeps_number_text(ColumnKind kind) noexcept {
    return kind == ColumnKind::numeric || kind == ColumnKind::json || kind == ColumnKind::jsonb ||
           kind == ColumnKind::text || kind == ColumnKind::varchar || kind == ColumnKind::bpchar ||
           kind == ColumnKind::name || kind == ColumnKind::float4 || kind == ColumnKind::float8 ||
           is_scalar_column_kind(kind);
}

bool is_text_kind(ColumnKind kind) noexcept {
    return kind == ColumnKind::text || kind == ColumnKind::varchar || kind == ColumnKind::bpchar ||
           kind == ColumnKind::name;
}

std::string left_reason(const LoadPlan& plan, std::size_t i) {
    bool skip = i >= plan.left_out.size();
    const std::string& name = skip ? plan.skipped[i - plan.left_out.size()] : plan.left_out[i];
    std::string head = "column \"" + name + "\" (" + plan.left_types[i] + ") ";
    if (!skip) {
        return head +
               "has a default and is not loaded, but the record has a value for it: load it "
               "with --map " +
               name + ", or keep it with --rest-column";
    }
    return head + "is skipped (--skip " + name +
           "), but the record has a value for it: keep it with --rest-column, or drop --skip " +
           name + " to load it";
}

}  // namespace

RecordEncoder::RecordEncoder(const LoadPlan& plan, JsonWriterOptions json)
    : _plan(&plan), _writer(plan.table, json) {
    for (std::size_t i = 0; i < plan.columns.size(); ++i) {
        const PlannedColumn& planned = plan.columns[i];
        bool by_pointer = planned.source == SourceKind::pointer && !planned.argument.empty();
        bool exact = keeps_number_text(column_codec(planned.column).kind) ||
                     is_json_array_column(planned.column) ||
                     is_float4_array_column(planned.column);
        _raw_columns.push_back((planned.source == SourceKind::key || by_pointer) && exact);
        _raw_rest = _raw_rest || planned.source == SourceKind::rest;
        _raw_any = _raw_any || _raw_rest || _raw_columns.back();
        _tokens.push_back(by_pointer ? pointer_tokens(planned.argument)
                                     : std::vector<std::string>{});
        if (planned.source == SourceKind::key) {
            _taken.push_back(planned.argument);
            _key_columns.push_back(i);
        } else if (by_pointer) {
            _taken.push_back(first_token(planned.argument));
        }
    }
    if (!plan.keeps_members) {
        for (std::size_t i = 0; i < plan.left_out.size() + plan.skipped.size(); ++i) {
            const std::string& name = i < plan.left_out.size()
                                          ? plan.left_out[i]
                                          : plan.skipped[i - plan.left_out.size()];
            if (std::find(_taken.begin(), _taken.end(), name) == _taken.end()) {
                _left.emplace_back(name, left_reason(plan, i));  // else a pointer takes it
            }
        }
    }
    _values.resize(plan.columns.size());
    _found.resize(plan.columns.size());
}

bool RecordEncoder::encode(std::string_view record, ByteBuffer& out, RecordError& error) {
    if (record.size() >= large_record_bytes) {
        return encode_large(record, out, error);
    }
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
    _raw_hit = _raw_any && element.is_object() && may_change_number(record);
    bool ok = encode_element(element, out, error);
    _record_text = {};
    _raw_ready = false;
    _raw_hit = false;
    return ok;
}

namespace {

/// True when `root` is or holds a number simdjson parsed as a double, or a 0 (which may have
/// been "-0"): the only numbers whose text the DOM may have changed (other integers keep
/// theirs). An explicit stack, no recursion.
bool has_double(simdjson::dom::element root, std::vector<simdjson::dom::element>& stack) {
    stack.clear();
    stack.push_back(root);
    while (!stack.empty()) {
        simdjson::dom::element element = stack.back();
        stack.pop_back();
        // DOUBLE by type: is_double() is true of every number. An integer 0 may be "-0".
        simdjson::dom::element_type type = element.type();
        if (type == simdjson::dom::element_type::DOUBLE ||
            (type == simdjson::dom::element_type::INT64 &&
             element.get_int64().value_unsafe() == 0)) {
            return true;
        }
        if (element.is_array()) {
            simdjson::dom::array array = element.get_array().value_unsafe();
            for (simdjson::dom::element child : array) {
                stack.push_back(child);
            }
        } else if (element.is_object()) {
            simdjson::dom::object object = element.get_object().value_unsafe();
            for (simdjson::dom::key_value_pair field : object) {
                stack.push_back(field.value);
            }
        }
    }
    return false;
}

}  // namespace

bool RecordEncoder::needs_raw(simdjson::dom::element record) {
    for (std::size_t i = 0; i < _plan->columns.size(); ++i) {
        if (!_raw_columns[i] || _found[i] == 0) {
            continue;
        }
        if (is_float4_array_column(_plan->columns[i].column)) {
            if (has_halfway_float(_values[i])) {
                return true;
            }
            continue;
        }
        // float8 takes a double as it is; only "-0", which simdjson reads as the integer 0,
        // needs the text.
        if (column_codec(_plan->columns[i].column).kind == ColumnKind::float8
                ? _values[i].type() == simdjson::dom::element_type::INT64 &&
                      _values[i].get_int64().value_unsafe() == 0
                : has_double(_values[i], _stack)) {
            return true;
        }
    }
    if (!_raw_rest) {
        return false;
    }
    simdjson::dom::object object = record.get_object().value_unsafe();
    for (simdjson::dom::key_value_pair field : object) {
        if (std::find(_taken.begin(), _taken.end(), field.key) == _taken.end() &&
            has_double(field.value, _stack)) {
            return true;
        }
    }
    return false;
}

bool RecordEncoder::ensure_raw() {
    if (!_raw_ready && !_record_text.empty()) {
        _raw_ready = collect_raw(_record_text);
    }
    return _raw_ready;
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

/// Moves `value` to member or element `pick` of itself (an object or an array).
bool descend(simdjson::ondemand::value& value, std::size_t pick) {
    simdjson::ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) {
        return false;
    }
    std::size_t index = 0;
    if (type == simdjson::ondemand::json_type::object) {
        for (auto field : value.get_object()) {
            if (index++ == pick) {
                return field.value().get(value) == simdjson::SUCCESS;
            }
        }
    } else if (type == simdjson::ondemand::json_type::array) {
        for (auto element : value.get_array()) {
            if (index++ == pick) {
                return element.get(value) == simdjson::SUCCESS;
            }
        }
    }
    return false;
}

/// The member index of the last member named `key` of `value`, or the element index `key`
/// names in an array; false when there is none.
bool find_pick(simdjson::ondemand::value& value, const std::string& key, std::size_t& pick) {
    simdjson::ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) {
        return false;
    }
    if (type == simdjson::ondemand::json_type::array) {
        return array_index(key, pick);
    }
    if (type != simdjson::ondemand::json_type::object) {
        return false;
    }
    bool found = false;
    std::size_t index = 0;
    for (auto field_result : value.get_object()) {
        simdjson::ondemand::field field;
        std::string_view name;
        if (std::move(field_result).get(field) != simdjson::SUCCESS ||
            field.unescaped_key().get(name) != simdjson::SUCCESS) {
            return false;
        }
        if (name == key) {
            pick = index;
            found = true;
        }
        ++index;
    }
    return found;
}

}  // namespace

bool RecordEncoder::raw_at_pointer(const std::vector<std::string>& tokens, std::string_view& text) {
    // On-Demand reads forward only: each step walks again from the root to the member picked
    // at the steps before, then finds the last member of its token.
    _picks.clear();
    for (std::size_t level = 0; level <= tokens.size(); ++level) {
        _raw_doc.rewind();
        simdjson::ondemand::value value;
        if (_raw_doc.get_value().get(value) != simdjson::SUCCESS) {
            return false;
        }
        for (std::size_t step = 0; step < level; ++step) {
            if (!descend(value, _picks[step])) {
                return false;
            }
        }
        if (level == tokens.size()) {
            return raw_text(value, text);
        }
        std::size_t pick = 0;
        if (!find_pick(value, tokens[level], pick)) {
            return false;
        }
        _picks.push_back(pick);
    }
    return false;
}

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

namespace {

/// True when `text` is a JSON number (RFC 8259 §6): -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool json_number(std::string_view text) noexcept {
    std::size_t i = text.starts_with('-') ? 1 : 0;
    auto digits = [&] {
        std::size_t from = i;
        while (i < text.size() && is_digit(text[i])) {
            ++i;
        }
        return i - from;
    };
    std::size_t first = i;
    std::size_t whole = digits();
    if (whole == 0 || (whole > 1 && text[first] == '0')) {
        return false;
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (digits() == 0) {
            return false;
        }
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
            ++i;
        }
        if (digits() == 0) {
            return false;
        }
    }
    return i == text.size();
}

/// True when `json_value` of a string into a `kind` column is `from_text` of the string: the
/// scalar types that parse text (not text kinds, json, arrays, vectors or catalog-driven types,
/// which take other paths).
bool string_from_text(ColumnKind kind) noexcept {
    switch (kind) {
        case ColumnKind::text:
        case ColumnKind::varchar:
        case ColumnKind::bpchar:
        case ColumnKind::name:
        case ColumnKind::json:
        case ColumnKind::jsonb:
        case ColumnKind::vector:
        case ColumnKind::halfvec:
        case ColumnKind::sparsevec:
        case ColumnKind::array:
        case ColumnKind::enumeration:
        case ColumnKind::range:
        case ColumnKind::multirange:
        case ColumnKind::composite:
        case ColumnKind::hstore:
        case ColumnKind::ltree:
        case ColumnKind::unsupported:
            return false;
        default:
            return true;
    }
}

bool is_integer_kind(ColumnKind kind) noexcept {
    return kind == ColumnKind::int2 || kind == ColumnKind::int4 || kind == ColumnKind::int8;
}

bool is_float_kind(ColumnKind kind) noexcept {
    return kind == ColumnKind::float4 || kind == ColumnKind::float8;
}

/// The error for a number token simdjson's DOM refused: `1e999` (valid JSON, beyond a double)
/// or `-Infinity` (not JSON, but what some writers emit for a double).
Status refused_number(ColumnKind kind, std::string_view raw) noexcept {
    if (!json_number(raw)) {
        bool infinity = raw == "-Infinity" || raw == "Infinity";
        return Status{
            infinity && is_float_kind(kind) ? Errc::float_out_of_range : Errc::json_syntax, 0};
    }
    return Status{is_integer_kind(kind) ? Errc::integer_out_of_range : Errc::type_mismatch, 0};
}

}  // namespace

bool RecordEncoder::write_raw(std::size_t index, std::string_view raw, RecordError& error) {
    const PlannedColumn& planned = _plan->columns[index];
    bool is_number = raw.front() == '-' || is_digit(raw.front());
    ColumnKind kind = column_codec(planned.column).kind;
    bool valid = is_number && json_number(raw);
    Status status{};
    if (is_json_column(planned)) {
        status = _writer.json_parsed(raw);
    } else if (raw.front() == '[' && is_json_array_column(planned.column)) {
        status = _writer.json_array_parsed(raw);
    } else if (valid && is_text_kind(kind)) {
        status = _writer.text(raw);  // the number's own text
    } else if (_validated && raw.front() == '"' && is_text_kind(kind)) {
        // A large record's string, unescaped straight into the tuple: no DOM of the member.
        status = _writer.json_string_raw(raw.substr(1, raw.size() - 2));
        if (status.code == Errc::json_syntax) {  // a lone surrogate: as the DOM refuses it
            error.reason =
                std::string("invalid JSON: ") + simdjson::error_message(simdjson::STRING_ERROR);
            return false;
        }
        return status.ok() || fail(status, index, _writer.failed_text(), error);
    } else if (_validated && raw.front() == '"' && string_from_text(kind)) {
        return write_large_string(index, raw.substr(1, raw.size() - 2), error);
    } else if (_validated && (raw.front() == '{' || raw.front() == '[') && is_text_kind(kind)) {
        // A large record's object or array into text: its JSON text, no DOM of the member.
        status = _writer.json_as_text_raw(raw);
    } else if (_validated && raw.front() == '[' && _writer.streams_json_array(raw)) {
        // A large record's array of numbers, scanned once into the tuple: no DOM of the member.
        status = _writer.json_array_raw(raw);
    } else if (valid && (kind == ColumnKind::numeric || is_float_kind(kind) ||
                         is_scalar_column_kind(kind))) {
        // numeric keeps its scale, float4/float8 round the text once (out of range: 22003), as
        // `'<text>'::numeric` and float4in/float8in do.
        status = _writer.from_text(raw);
    } else {
        simdjson::padded_string token(raw);
        simdjson::dom::element value;
        if (_token_parser.parse(token).get(value) != simdjson::SUCCESS) {
            status = is_number ? refused_number(kind, raw) : Status{Errc::json_syntax, 0};
        } else {
            status = _writer.json_value(value);
        }
        if (raw.size() >= large_record_bytes) {
            _token_parser = simdjson::dom::parser{};  // a large member's DOM is not kept
        }
    }
    if (status.code == Errc::json_lone_surrogate) {  // as the DOM refuses the record
        error.reason =
            std::string("invalid JSON: ") + simdjson::error_message(simdjson::STRING_ERROR);
        return false;
    }
    return status.ok() || fail(status, index, raw, error);
}

bool RecordEncoder::write_large_string(std::size_t index, std::string_view raw,
                                       RecordError& error) {
    std::string_view text = raw;
    if (raw.find('\\') != std::string_view::npos) {
        _unescaped.resize(raw.size());
        std::size_t length = detail::decode_json_escapes(raw, _unescaped.data(),
                                                         detail::LoneSurrogate::refuse);
        if (length == std::string_view::npos) {  // as the DOM refuses the record
            error.reason =
                std::string("invalid JSON: ") + simdjson::error_message(simdjson::STRING_ERROR);
            return false;
        }
        _unescaped.resize(length);
        text = _unescaped;
    }
    Status status = _writer.from_text(text);
    bool ok = status.ok() || fail(status, index, text, error);
    if (_unescaped.capacity() >= large_record_bytes) {
        _unescaped = std::string{};  // a huge member's copy is not kept
    }
    return ok;
}

std::string_view RecordEncoder::unescaped_key(std::string_view raw) {
    if (raw.find('\\') == std::string_view::npos) {
        return raw;
    }
    std::string& key = _key_store.emplace_back();
    detail::unescape_json_string(raw, key);
    return key;
}

bool RecordEncoder::large_at_pointer(std::string_view root, const std::vector<std::string>& tokens,
                                     std::string_view& text) {
    std::string_view value = root;
    for (const std::string& token : tokens) {
        bool found = false;
        if (value.front() == '{') {
            detail::JsonMemberCursor members(value);
            std::string_view key;
            std::string_view member;
            while (members.next(key, member)) {
                if (unescaped_key(key) == token) {
                    value = member;  // the last of duplicate keys wins
                    found = true;
                }
            }
        } else if (std::size_t at = 0; value.front() == '[' && array_index(token, at)) {
            detail::JsonElementCursor elements(value);
            std::string_view element;
            for (std::size_t i = 0; !found && elements.next(element); ++i) {
                found = i == at;
            }
            value = found ? element : value;
        }
        if (!found) {
            return false;
        }
    }
    text = value;
    return true;
}

bool RecordEncoder::collect_large(std::string_view value, RecordError& error) {
    _raw.assign(_plan->columns.size(), std::string_view{});
    _rest.clear();
    _key_store.clear();
    for (std::size_t i = 0; i < _plan->columns.size(); ++i) {
        if (_plan->columns[i].source == SourceKind::pointer &&
            !large_at_pointer(value, _tokens[i], _raw[i])) {
            _raw[i] = {};  // absent: NULL
        }
    }
    if (value.front() != '{') {
        return true;
    }
    detail::JsonMemberCursor members(value);
    std::string_view raw_key;
    std::string_view member;
    while (members.next(raw_key, member)) {
        std::string_view key = unescaped_key(raw_key);
        bool taken = false;
        for (std::size_t i : _key_columns) {
            if (_plan->columns[i].argument == key) {
                _raw[i] = member;  // the last of duplicate keys wins
                taken = true;
            }
        }
        for (const auto& [name, reason] : _left) {
            if (!taken && name == key && member != "null") {
                error.reason = reason;
                return false;
            }
        }
        taken = taken || std::find(_taken.begin(), _taken.end(), key) != _taken.end();
        if (!taken && _raw_rest) {
            _rest.emplace_back(key, member);
        }
    }
    return true;
}

bool RecordEncoder::encode_large(std::string_view record, ByteBuffer& out, RecordError& error) {
    detail::JsonScanError bad;
    if (!_validator.validate(record, bad)) {
        error.reason =
            std::string("invalid JSON: ") + bad.what + " at byte " + std::to_string(bad.offset + 1);
        return false;
    }
    std::size_t first = record.find_first_not_of(" \t\r\n");
    std::size_t last = record.find_last_not_of(" \t\r\n");
    std::string_view value = record.substr(first, last + 1 - first);
    if (_plan->needs_object && value.front() != '{') {
        error.reason = "record is not a JSON object";
        return false;
    }
    if (!collect_large(value, error)) {
        return false;
    }
    // The tuple holds at most about the record's text: one allocation of its final size, not
    // doublings that may leave up to twice the record allocated (and copy it on the way).
    out.reserve(out.size() + record.size() + 64 * _plan->columns.size() + 64);
    _validated = true;
    bool ok = encode_raw(value, out, error);
    _validated = false;
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
        case SourceKind::skip:
            status = _writer.from_text(planned.argument);
            break;
        case SourceKind::key:
        case SourceKind::pointer: {
            std::string_view raw = _raw[index];
            if (raw.empty() || raw == "null") {
                return _writer.null().ok();
            }
            return write_raw(index, raw, error);
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
    simdjson::ondemand::object object;
    if (_raw_parser
                .iterate(simdjson::padded_string_view(record.data(), record.size(),
                                                      record.size() + simdjson::SIMDJSON_PADDING))
                .get(_raw_doc) != simdjson::SUCCESS ||
        _raw_doc.get_object().get(object) != simdjson::SUCCESS) {
        return false;
    }
    // Pointers first: each walk rewinds the document, which reuses the buffer the unescaped
    // keys of `_rest` point into, so the member loop comes last.
    for (std::size_t i = 0; i < _plan->columns.size(); ++i) {
        const PlannedColumn& planned = _plan->columns[i];
        if (!(all_columns || _raw_columns[i]) || planned.source != SourceKind::pointer) {
            continue;
        }
        if (!raw_at_pointer(_tokens[i], _raw[i])) {
            _raw[i] = {};  // absent (or an empty pointer: the DOM value is used)
        }
    }
    _raw_doc.rewind();
    if (_raw_doc.get_object().get(object) != simdjson::SUCCESS) {
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
        for (std::size_t i : _key_columns) {
            if (_plan->columns[i].argument == key) {
                _raw[i] = text;  // the last of duplicate keys wins
                taken = true;
            }
        }
        taken = taken || std::find(_taken.begin(), _taken.end(), key) != _taken.end();
        if (!taken && _raw_rest) {
            _rest.emplace_back(key, text);
        }
    }
    return true;
}

bool RecordEncoder::gather(simdjson::dom::element record, RecordError& error) {
    std::fill(_found.begin(), _found.end(), char{0});
    if (_key_columns.empty() && _left.empty()) {
        return true;
    }
    // Members mostly come in column order: each is first compared with the key column after
    // the one the previous member took, so a record costs one compare per member.
    std::size_t next = 0;
    simdjson::dom::object object = record.get_object().value_unsafe();
    for (simdjson::dom::key_value_pair field : object) {
        std::size_t match = SIZE_MAX;
        for (std::size_t tried = 0; tried < _key_columns.size(); ++tried) {
            std::size_t k = next + tried < _key_columns.size() ? next + tried
                                                               : next + tried - _key_columns.size();
            if (_plan->columns[_key_columns[k]].argument == field.key) {
                match = k;
                break;
            }
        }
        if (match != SIZE_MAX) {
            _values[_key_columns[match]] = field.value;  // the last of duplicate keys wins
            _found[_key_columns[match]] = 1;
            next = match + 1 == _key_columns.size() ? 0 : match + 1;
            continue;
        }
        for (const auto& [name, reason] : _left) {
            if (name == field.key && !field.value.is_null()) {
                error.reason = reason;
                return false;
            }
        }
    }
    return true;
}

bool RecordEncoder::at_pointer(std::size_t index, simdjson::dom::element record,
                               simdjson::dom::element& value) const {
    value = record;
    for (const std::string& token : _tokens[index]) {
        if (value.is_object()) {
            bool found = false;
            simdjson::dom::object object = value.get_object().value_unsafe();
            for (simdjson::dom::key_value_pair field : object) {
                if (field.key == token) {
                    value = field.value;  // the last of duplicate keys wins
                    found = true;
                }
            }
            if (!found) {
                return false;
            }
        } else if (std::size_t at = 0; value.is_array() && array_index(token, at)) {
            simdjson::dom::array array = value.get_array().value_unsafe();
            if (array.at(at).get(value) != simdjson::SUCCESS) {
                return false;
            }
        } else {
            return false;
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
    if (record.is_object() && !gather(record, error)) {
        return false;
    }
    for (std::size_t i = 0; i < _plan->columns.size(); ++i) {
        if (_plan->columns[i].source == SourceKind::pointer) {
            _found[i] = at_pointer(i, record, _values[i]) ? 1 : 0;
        }
    }
    // The scan found a number the DOM may have changed; the raw pass runs when it can matter:
    // a double in a column that keeps number text (not in an embedding of real[]).
    if (_raw_hit && needs_raw(record)) {
        _raw_ready = collect_raw(_record_text);
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
    switch (planned.source) {
        case SourceKind::key:
        case SourceKind::pointer: {
            value = _values[index];
            if (_found[index] == 0 || value.is_null()) {
                return _writer.null().ok();
            }
            // A float4 column rounds the number's text, not its double, when they differ.
            if (_raw_columns[index] && value.is_double() &&
                column_codec(planned.column).kind == ColumnKind::float4 &&
                float_halfway(value.get_double().value_unsafe())) {
                (void)ensure_raw();
            }
            // A json column stores the member's own text, as the large path and the raw pass
            // copy it: the DOM would write its strings re-escaped and drop its blanks.
            if (_raw_columns[index] && column_codec(planned.column).kind == ColumnKind::json &&
                (value.is_string() || value.is_array() || value.is_object())) {
                (void)ensure_raw();
            }
            if (_raw_ready && _raw_columns[index] && !_raw[index].empty() &&
                (value.is_number() || is_json_column(planned) ||
                 (value.is_array() && is_json_array_column(planned.column)))) {
                return write_raw(index, _raw[index], error);
            }
            if (_raw_ready && _raw_columns[index] && !_raw[index].empty() && value.is_array() &&
                is_float4_array_column(planned.column)) {
                _validated = true;  // the DOM parsed the record: its text is valid JSON
                bool ok = write_raw(index, _raw[index], error);
                _validated = false;
                return ok;
            }
            status = _writer.json_value(value);
            break;
        }
        case SourceKind::document:
            value = record;
            status =
                _record_text.empty() ? _writer.json_dom(record) : _writer.json_parsed(_record_text);
            break;
        case SourceKind::rest:
            return write_rest(record, error);
        case SourceKind::constant:
        case SourceKind::skip:
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
    if (_writer.column() < _writer.column_count() &&
        column_codec(_writer.column_info(_writer.column())).kind == ColumnKind::json) {
        (void)ensure_raw();  // the members' own text, as for a json column by key
    }
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
