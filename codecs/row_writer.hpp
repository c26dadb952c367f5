#pragma once

// The typed row API: one call per column, in COPY column order, each checked against the
// column's type before anything is written. Writing text into a uuid column is an error that
// names the column; a JSON value is converted to the column's type (`json_value`).
//
// A tuple is the field count followed by one field per column (codecs/copy_binary.hpp):
//
//   [field_count:i16] ([length:i32][data])...        copy.c CopyReadBinaryTupleHeader/...Attribute
//
// `RowWriter` writes the fields; `Producer::begin_row` (engine/engine.hpp) or `start_tuple`
// writes the field count. Each call encodes with the codec of the column's type (codecs/*.hpp),
// so the bytes are the ones the type's receive function reads (FORMATS.md §2, §4).
//
// Errors are `Status` values, never exceptions: on an error the buffer is as it was before the
// call and the writer stays on the same column, so the caller can `Producer::cancel_row` (or
// write NULL instead). `describe` turns a Status into a message naming the column, its type,
// the value and the reason.

#include <simdjson.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/array_text.hpp"
#include "codecs/buffer.hpp"
#include "codecs/composite.hpp"
#include "codecs/contrib.hpp"
#include "codecs/datetime.hpp"
#include "codecs/json_writer.hpp"
#include "codecs/range.hpp"
#include "codecs/status.hpp"
#include "codecs/tsearch.hpp"
#include "codecs/uuid.hpp"
#include "codecs/table_shape.hpp"

namespace pgingest {

/// The codec a column's values go through, chosen from its type.
enum class ColumnKind : std::uint8_t {
    boolean,
    int2,
    int4,
    int8,
    float4,
    float8,
    numeric,
    text,     ///< text, and any type without a binary codec here is refused (`unsupported`)
    varchar,  ///< varchar(n): at most n characters (typmod n + 4), trailing spaces clipped
    bpchar,   ///< char(n): as varchar, padded by the server
    name,
    bytea,
    uuid,
    date,
    timestamp,
    timestamptz,
    interval,
    // issue 10: scalar types (codecs/scalar_columns.hpp). Written by from_text and json_value
    // (strings; numbers as their text, like '<number>'::type) and by integer, unsigned_integer
    // and floating (as their text); arrays of them through json_value.
    time,
    timetz,
    inet,
    cidr,
    macaddr,
    macaddr8,
    money,
    bit,     ///< bit(n): exactly n bits (typmod n)
    varbit,  ///< bit varying(n): at most n bits (typmod n, -1 unlimited)
    char_,   ///< "char": one byte
    oid,
    xml,
    jsonpath,
    pg_lsn,
    json,
    jsonb,
    vector,       ///< pgvector vector(n)
    halfvec,      ///< pgvector halfvec(n)
    sparsevec,    ///< pgvector sparsevec(n)
    // issue 10: geometric and text-search types (codecs/geometry.hpp, codecs/tsearch.hpp):
    // text as the type's input function reads it; point also from a JSON array [x, y]
    point,
    line,
    lseg,
    box,
    path,
    polygon,
    circle,
    tsvector,
    tsquery,
    array,        ///< array of any rank of an encodable element kind (`ColumnCodec::element`)
    // issue 10: catalog-driven types (codecs/row_writer_catalog.cpp). Domains take their base
    // type's kind; citext is `text`.
    enumeration,  ///< enum: one of the labels read from pg_enum, sent as text (enum.c enum_recv)
    range,        ///< range over an encodable subtype (codecs/range.hpp)
    multirange,   ///< multirange over an encodable range type (codecs/range.hpp)
    composite,    ///< composite type whose attributes are all encodable (codecs/composite.hpp)
    hstore,       ///< contrib hstore (codecs/contrib.hpp)
    ltree,        ///< contrib ltree (codecs/contrib.hpp)
    unsupported,  ///< only NULL can be written (a type without a codec here)
};

/// "uuid", "array", ...: the kind's name for messages. Static string.
[[nodiscard]] const char* column_kind_name(ColumnKind kind) noexcept;

/// How one column is encoded.
struct ColumnCodec {
    ColumnKind kind = ColumnKind::unsupported;
    ColumnKind element = ColumnKind::unsupported;  ///< element kind when `kind` is `array`
    std::uint32_t element_oid = 0;                 ///< element type OID when `kind` is `array`
    std::int32_t typmod = -1;                      ///< the column's atttypmod
};

/// The codec for `column`, from its type OID (built-in types, codecs/oids.hpp) or its type
/// name (pgvector's types, whose OIDs differ per database: FORMATS.md §4.6); domains are encoded
/// as their base type; enums, ranges, multiranges, composites and the contrib types from the
/// catalog's description (`ColumnInfo::type_class`, `children`). Arrays of json/jsonb/pgvector
/// types are `unsupported`, as are ranges, multiranges, composites and arrays with a part that
/// is. Pure, any thread.
[[nodiscard]] ColumnCodec column_codec(const ColumnInfo& column) noexcept;

/// Writes one tuple's fields into a buffer, column by column, checking each value against its
/// column's type. Holds the column list of the table it was made for (copied) and scratch room
/// reused for every row: no allocation per row in steady state. Not thread-safe: one per
/// producer thread.
class RowWriter {
  public:
    /// A writer for tuples of `table.columns`, in that order. `json` sets the rules of json/jsonb
    /// values (NUL policy, non-finite numbers, depth).
    explicit RowWriter(const TableInfo& table, JsonWriterOptions json = {});

    /// Appends the tuple header (field count) to `out`, then `begin(out)`.
    void start_tuple(ByteBuffer& out);
    /// Starts a row at column 0 on `out`, whose tuple header is already written (as
    /// `Producer::begin_row` does). `out` must outlive the row.
    void begin(ByteBuffer& out) noexcept;
    /// Ends the row: `Errc::row_field_count` (position = the next column's index) unless every
    /// column was written.
    [[nodiscard]] Status finish() const noexcept;

    /// Index of the column the next call writes; equals `column_count()` when the row is full.
    [[nodiscard]] std::size_t column() const noexcept { return _column; }
    [[nodiscard]] std::size_t column_count() const noexcept { return _columns.size(); }
    [[nodiscard]] const ColumnInfo& column_info(std::size_t index) const { return _columns[index]; }

    // Each call below writes the next column. Errors (buffer unchanged, column not advanced):
    // `Errc::type_mismatch` when the column's type cannot take that kind of value,
    // `Errc::row_field_count` past the last column, else the codec's own error.

    /// NULL: any column (NOT NULL is the server's check: SQLSTATE 23502 at COPY).
    Status null();
    /// bool columns; text columns get "true"/"false".
    Status boolean(bool value);
    /// int2/int4/int8 (range-checked), numeric, float4/float8 (nearest value), text kinds
    /// (decimal text).
    Status integer(std::int64_t value);
    /// As `integer`, for values above INT64_MAX (JSON numbers up to 2^64 - 1).
    Status unsigned_integer(std::uint64_t value);
    /// float4 (range-checked)/float8, numeric (shortest round-trip decimal), integer columns when
    /// the value is integral and in range, text kinds (shortest round-trip decimal).
    Status floating(double value);
    /// text/varchar/bpchar/name columns, UTF-8 checked (and varchar/char lengths).
    Status text(std::string_view value);
    /// `json_value` of a JSON string, given as the raw text between its quotes (escapes kept) of
    /// JSON already validated (detail::JsonValidator), into a text/varchar/bpchar/name column:
    /// unescaped straight into the tuple, no copy of the value (a huge member of a large record,
    /// codecs/load_plan.cpp). The same field and Status as `json_value` of the parsed string;
    /// a lone surrogate escape is `Errc::json_syntax` (simdjson's DOM refuses the record). On
    /// failure nothing is written and `failed_text` is the unescaped value (for `describe`)
    /// until the next write. Another column kind: `type_mismatch`.
    Status json_string_raw(std::string_view raw);
    /// The unescaped value of the last failed `json_string_raw`, valid until the next write.
    [[nodiscard]] std::string_view failed_text() const noexcept { return _failed_text; }
    /// Any scalar column from the text a user would write in SQL, parsed like the type's input
    /// function: "42" into int4, an RFC 3339 string into timestamptz, a uuid string, "t" into
    /// bool, JSON text into json/jsonb, "[1,2,3]" into vector/halfvec, "(1,2)" into point,
    /// "a:1 b" into tsvector, an enum label, a range
    /// ("[1,5)", "empty") or multirange ("{[1,2),[5,6)}") literal, an array literal of any
    /// rank ("{{1,2},{3,NULL}}", codecs/array_text.hpp), a record literal ("(1,\"a b\",)",
    /// codecs/composite.hpp), hstore text ("a=>1, b=>NULL"), ltree text, bytea as byteain reads
    /// it ("\\x0102" hex or the escape format, codecs/bytea.hpp; `bytes` takes raw bytes).
    Status from_text(std::string_view value);
    /// bytea columns: the bytes as they are (no byteain decoding: see `from_text`).
    Status bytes(std::string_view value);
    /// uuid columns.
    Status uuid(const UuidBytes& value);
    /// date columns: days since 2000-01-01.
    Status date(std::int32_t days_since_2000);
    /// timestamp and timestamptz columns (UTC for timestamptz): microseconds since
    /// 2000-01-01 00:00:00, range-checked.
    Status timestamp(std::int64_t us_since_2000);
    /// interval columns.
    Status interval(const Interval& value);
    /// vector/halfvec/sparsevec (dimension checked against the typmod), real[] and float8[].
    Status floats(std::span<const float> values);
    /// json/jsonb columns: `text` is JSON text, validated (and checked for what jsonb refuses).
    Status json_text(std::string_view text);
    /// json/jsonb columns: JSON text already validated (by a simdjson parse: valid JSON, valid
    /// UTF-8), copied verbatim at memcpy speed, numbers digit for digit. Only what jsonb refuses
    /// is checked: `\u0000` (per the NulPolicy) and lone surrogate escapes (`append_raw_json`).
    Status json_parsed(std::string_view text);
    /// json/jsonb columns: writes `element` as JSON.
    Status json_dom(simdjson::dom::element element);
    /// json[]/jsonb[] columns: `array_json` is the text of a JSON array already validated (by a
    /// simdjson parse). Its elements' texts are copied verbatim, numbers digit for digit, as
    /// `json_parsed` copies a document; a JSON null element is an SQL NULL element (as
    /// json_populate_record reads a json[] field); nested arrays are dimensions by the rule of
    /// `json_value` (rectangular, at most 6 levels; else `array_ragged` / `array_too_many_dims`
    /// at the flat element index). Other columns: `type_mismatch`.
    Status json_array_parsed(std::string_view array_json);

    /// True when `json_array_raw` takes `array_json` (a JSON array's text, from '[') into the
    /// next column: an int2/int4/int8/float4/float8/numeric array column whose first element
    /// is not an array (nested arrays take `json_value`'s multi-dimensional path), or a
    /// vector/halfvec/sparsevec column.
    [[nodiscard]] bool streams_json_array(std::string_view array_json) const noexcept;
    /// `json_value` of the JSON array whose validated text (detail::JsonValidator) is
    /// `array_json`, scanned once with its elements written straight into the field: no DOM
    /// (a huge member of a large record, codecs/load_plan.cpp; codecs/row_writer_number_array.cpp).
    /// The same field and Status as `json_value` of simdjson's DOM of the text, element index
    /// as position, except that a float4 element whose double lies halfway between two floats
    /// is rounded once from its text (float4in: strtof). What the DOM would refuse: a number
    /// (`1e999`, an integer beyond 64 bits) is `Errc::json_syntax` at 0, a lone surrogate escape
    /// `Errc::json_lone_surrogate` at 0 (the DOM refuses the whole record). A column or text
    /// `streams_json_array` refuses: `type_mismatch`.
    Status json_array_raw(std::string_view array_json);

    /// `json_value` of the JSON object or array whose validated text (detail::JsonValidator)
    /// is `json` into a text/varchar/bpchar/name column: its JSON text as the DOM walk writes
    /// it (minified, strings re-escaped, numbers as simdjson's DOM reads them), written token
    /// by token: no DOM (a huge member of a large record). The same field and Status as
    /// `json_value`; what the DOM would refuse as in `json_array_raw`. Another column or a
    /// scalar: `type_mismatch`.
    Status json_as_text_raw(std::string_view json);

    /// json/jsonb columns: starts the field and returns the writer to build the document with;
    /// `end_json` completes it. Returns nullptr (and `last_status()` is `type_mismatch` or
    /// `row_field_count`) when the column cannot take JSON.
    [[nodiscard]] JsonWriter* begin_json();
    /// Completes the document begun by `begin_json`; the writer's first error, if any, comes
    /// back here and the field is dropped.
    Status end_json();

    /// A JSON value converted to the column's type: null → NULL; a string into text kinds as it
    /// is, into other scalars through `from_text`; numbers, booleans through `integer`,
    /// `unsigned_integer`, `floating`, `boolean`; any value into json/jsonb as JSON; arrays into
    /// array columns element by element and into vector/halfvec/sparsevec; a two-number array
    /// [x, y] into point (and as an element of point[]); numbers, booleans,
    /// objects and arrays into text kinds as their JSON text. Catalog-driven types (issue 10):
    /// a string into an enum (a label), range, multirange, array, composite, hstore or ltree
    /// column through `from_text`;
    /// nested arrays into array columns as a multi-dimensional array (rectangular, at most 6
    /// levels, row-major; else `array_ragged` / `array_too_many_dims` at the flat element
    /// index); an array of range strings into a multirange; an object (by attribute name,
    /// missing attributes NULL, an unknown key `unknown_attribute` at its index) or an array (by
    /// position, missing trailing attributes NULL) into a composite, whose attributes recurse
    /// (inside an array a composite must be an object: nested arrays are dimensions); an object
    /// of string/null values into hstore (a repeated key: the last wins). Anything else is
    /// `type_mismatch`. Element errors carry the element index as position. json[]/jsonb[]
    /// take a JSON array whose elements are stored as JSON (null: an SQL NULL element), nested
    /// arrays being dimensions, as json_populate_record reads such a field.
    Status json_value(simdjson::dom::element value);

    /// The Status of the last call (for `begin_json`, whose result is a pointer).
    [[nodiscard]] Status last_status() const noexcept { return _last; }

    /// The message for an error of the call on column `column`: names the column, its type,
    /// what was given (a kind such as "JSON object", or the value, shortened) and the reason:
    /// `column "trace_id" (uuid): value "12-zz" at byte 3: invalid uuid (...)`. Allocates.
    [[nodiscard]] std::string describe(Status status, std::size_t column,
                                       std::string_view value) const;

  private:
    Status write_array(const ColumnCodec& codec, simdjson::dom::array values);
    Status write_float_array(const ColumnCodec& element, std::uint32_t element_oid,
                             simdjson::dom::array values);
    Status write_vector(const ColumnCodec& codec, simdjson::dom::array values);
    Status write_number_array(const ColumnCodec& codec, std::string_view array_json);
    Status number_element(const ColumnCodec& element, std::string_view token);
    Status write_vector_raw(const ColumnCodec& codec, std::string_view array_json);
    Status write_json_as_text(const ColumnCodec& codec, simdjson::dom::element value);
    Status json_scalar(const ColumnCodec& codec, simdjson::dom::element value);
    Status unsigned_field(const ColumnCodec& codec, std::uint64_t value);
    Status text_field(const ColumnCodec& codec, std::string_view value);
    Status integer_field(ColumnKind kind, const ColumnCodec& codec, std::int64_t value);
    Status floating_field(ColumnKind kind, const ColumnCodec& codec, double value);
    Status from_text_field(ColumnKind kind, const ColumnCodec& codec, std::string_view value);
    // issue 10: catalog-driven types (codecs/row_writer_catalog.cpp). `type` is the column or a
    // nested type of it; `depth` counts nesting levels, bounded by the catalog's type_depth_max.
    [[nodiscard]] bool takes_catalog_path(const ColumnCodec& codec,
                                          simdjson::dom::element value) const;
    Status catalog_json(const ColumnInfo& type, simdjson::dom::element value, std::size_t depth);
    Status catalog_text(const ColumnInfo& type, std::string_view text, std::size_t depth);
    Status write_nd_array(const ColumnInfo& type, simdjson::dom::array values, std::size_t depth);
    Status write_array_level(const ColumnInfo& element, simdjson::dom::array values,
                             std::span<const std::uint32_t> dims, std::uint32_t& index,
                             std::size_t depth);
    Status write_array_text(const ColumnInfo& type, std::string_view text, std::size_t depth);
    Status write_composite_text(const ColumnInfo& type, std::string_view text,
                                std::size_t depth);
    Status write_range_text(const ColumnInfo& type, std::string_view text, std::size_t depth);
    Status write_multirange_text(const ColumnInfo& type, std::string_view text,
                                 std::size_t depth);
    Status write_multirange_json(const ColumnInfo& type, simdjson::dom::array ranges,
                                 std::size_t depth);
    Status write_composite_json(const ColumnInfo& type, simdjson::dom::element value,
                                std::size_t depth);
    Status write_json_array_level(const ColumnCodec& codec, std::string_view level,
                                  std::span<const std::uint32_t> dims, std::uint32_t& index);
    Status write_hstore_json(simdjson::dom::object pairs);
    Status write_hstore_text(std::string_view text);
    Status done(Status status) noexcept;
    Status mismatch() noexcept;
    [[nodiscard]] bool full() const noexcept { return _column >= _columns.size(); }

    std::vector<ColumnInfo> _columns;
    std::vector<ColumnCodec> _codecs;
    JsonWriterOptions _json_options;
    ByteBuffer _scratch;  ///< JsonWriter's idle target, and room for JSON written as text
    JsonWriter _json;
    std::vector<float> _floats;
    simdjson::dom::parser _parser;  ///< for `from_text` of vectors
    TsearchScratch _tsearch;        ///< for tsvector and tsquery values
    ByteBuffer* _out = nullptr;
    std::size_t _column = 0;
    std::size_t _json_start = 0;
    std::size_t _json_length_offset = 0;
    Status _last{};
    std::string_view _failed_text;  ///< `failed_text`
    // issue 10: scratch per nesting depth (a range may nest in a range), sized once.
    std::vector<RangeText> _range_texts;
    std::vector<ArrayText> _array_texts;
    std::vector<RecordText> _record_texts;
    HstoreText _hstore_text;
    std::vector<std::vector<std::string_view>> _range_parts;
    std::vector<std::pair<std::string_view, simdjson::dom::element>> _pairs;  ///< hstore
};

}  // namespace pgingest
