#pragma once

// How `pgingest load` turns a JSON record into a tuple: the plan says, for every column it
// writes, where the value comes from; `RecordEncoder` applies it to one record at a time.
//
//   source        flag                       value
//   key           (default)                  the record's member of the column's name
//   pointer       --map COL=/json/pointer    the value at an RFC 6901 pointer in the record
//   document      --document-column COL      the whole record, as json/jsonb
//   rest          --rest-column COL          an object of the members no other column took
//   constant      --set COL=VALUE            VALUE, parsed like the type's input function
//
// Columns left out of the plan are left out of the COPY column list, so the server fills them
// with their defaults (or NULL). A column with a default (bigserial ids, `DEFAULT now()`) is
// mapped by key only when named (`--map COL`); `--skip COL` leaves any column to the server;
// every other column is mapped by key unless another source names it. A missing member is NULL.
// No value is dropped silently:
//   - a column whose type pgingest cannot write, neither named nor skipped, refuses the plan
//     (the user names it with --skip, or gives it an encoder);
//   - a record with a non-null member for a column left to the server is rejected, unless the
//     record is kept whole anyway: with a --document-column, or with a --rest-column, which
//     then takes that member like any other member no column took.
// Duplicate keys: the last occurrence wins, for key and pointer columns and the rest column,
// as PostgreSQL's jsonb and json_populate_record do.

#include <simdjson.h>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/buffer.hpp"
#include "codecs/json_writer.hpp"
#include "codecs/table_shape.hpp"
#include "codecs/row_writer.hpp"
#include "codecs/detail/json_scan.hpp"

namespace pgingest::tools {

/// Where one column's value comes from. `skip` (--skip) appears only while the plan is built:
/// such a column is left out of the plan.
enum class SourceKind : std::uint8_t { key, pointer, document, rest, constant, skip };

/// One column of the plan.
struct PlannedColumn {
    ColumnInfo column;
    SourceKind source = SourceKind::key;
    std::string argument;  ///< key, pointer or constant text; empty for document/rest
};

/// The mapping flags of `pgingest load`, as given.
struct MappingOptions {
    std::vector<std::string> maps{};   ///< "COL=/pointer" or "COL" (by key, also for a default)
    std::vector<std::string> sets{};   ///< "COL=VALUE"
    std::string document_column{};     ///< empty: none
    std::string rest_column{};         ///< empty: none
    std::vector<std::string> skips{};  ///< "COL": left to the server (default or NULL)
};

/// The plan for one table.
struct LoadPlan {
    TableInfo table;  ///< the table, with `columns` cut down to the planned ones, in COPY order
    std::vector<PlannedColumn> columns;  ///< parallel to `table.columns`
    /// Columns with a default not named by any flag, left to the server, in table order.
    std::vector<std::string> left_out;
    /// Columns named by --skip, left to the server (default or NULL), in table order.
    std::vector<std::string> skipped;
    /// Type of each column of `left_out` then `skipped` (format_type), for messages.
    std::vector<std::string> left_types;
    /// True when a document or rest column keeps every member of the record, so a member for a
    /// column left to the server is not lost and the record is not rejected for it.
    bool keeps_members = false;
    /// True when some column takes a key of the record: records must be JSON objects.
    bool needs_object = false;

    /// The plan as a table for `--dry-run`: column, type, source.
    [[nodiscard]] std::string describe() const;
};

/// Builds the plan for `table` (as read by `read_table_info`). Throws `std::invalid_argument`
/// with a message naming the flag and the column when a flag names a column the table does not
/// have, a column twice, a pointer that is not RFC 6901, a document/rest column that is not
/// json/jsonb, or a column whose type pgingest cannot write; when a column without a default
/// has such a type and is not --skip'ed (naming the column, its type and --skip); and when no
/// column is left to load.
/// Pure, any thread.
[[nodiscard]] LoadPlan make_load_plan(const TableInfo& table, const MappingOptions& mapping);

/// Why a record was not turned into a tuple.
struct RecordError {
    std::string reason;  ///< names the column, its type, the value and what is wrong
};

/// Applies a plan to records: parses each record's JSON text with simdjson and writes its tuple
/// with a `RowWriter`. Reuses its parser and buffers: no allocation per record in steady state.
/// Not thread-safe: one per producer thread.
///
/// Memory: a record of `large_record_bytes` or more is not parsed into a DOM (whose index and
/// tape cost up to 12 bytes per byte of input, kept by the parser for the next record): it is
/// validated in place (`detail::JsonValidator`, constant memory), its columns are found as
/// slices of its text and written as for a record the DOM refuses for a number (`encode_raw`:
/// numbers as written, json/jsonb values and the document column copied verbatim, strings into
/// text/varchar/bpchar/name unescaped straight into the tuple: `RowWriter::json_string_raw`;
/// arrays of numbers into int/float[] and pgvector columns scanned once into the tuple:
/// `RowWriter::json_array_raw`; a string into a type parsed from text given to `from_text` as
/// it is: `write_large_string`; an object or array into text written token by token:
/// `RowWriter::json_as_text_raw`), and the tuple is reserved at once at its final size. Its
/// cost is then the tuple, about the record's size (more for arrays of tiny numbers: an int4[]
/// field is 8 bytes per element). Still parsed alone by a DOM (up to 12 bytes per byte of the
/// member): a large member going to another column kind (arrays of other elements such as
/// text[], arrays of arrays, catalog-driven types).
class RecordEncoder {
  public:
    /// Records at least this long take the large-record path (see the class comment). 1 MiB:
    /// the DOM of a smaller record costs at most about 12 MiB per producer thread.
    static constexpr std::size_t large_record_bytes = std::size_t{1} << 20;

    /// `json` sets the rules of json/jsonb values (--nul).
    RecordEncoder(const LoadPlan& plan, JsonWriterOptions json);

    /// Parses `record` (its bytes must be followed by at least `simdjson::SIMDJSON_PADDING`
    /// readable bytes) and appends its fields to `out`, after the tuple header the caller wrote
    /// (`Producer::begin_row`, `put_tuple_header`). On error `out` is as it was and `error` says
    /// what and where (the caller drops the tuple: `Producer::cancel_row`).
    [[nodiscard]] bool encode(std::string_view record, ByteBuffer& out, RecordError& error);

    /// As `encode`, for a record already parsed. A document column is then written from the
    /// DOM, and numbers come out as their double's shortest text (`1.50` as `1.5`).
    [[nodiscard]] bool encode_element(simdjson::dom::element record, ByteBuffer& out,
                                      RecordError& error);

  private:
    /// One pass over the record's members: the value of each key column (the last of duplicate
    /// keys), and a reject when a member has a value for a column left to the server.
    bool gather(simdjson::dom::element record, RecordError& error);
    /// The value of a pointer column: the last of duplicate keys at every step.
    bool at_pointer(std::size_t index, simdjson::dom::element record,
                    simdjson::dom::element& value) const;
    /// True when a column that keeps number text, or the rest column, holds a double.
    bool needs_raw(simdjson::dom::element record);
    bool write_column(std::size_t index, simdjson::dom::element record, RecordError& error);
    /// Writes a key or pointer column from its member's raw text: numbers as written.
    bool write_raw(std::size_t index, std::string_view raw, RecordError& error);
    bool write_rest(simdjson::dom::element record, RecordError& error);
    /// Finds the raw text of the members that columns copy verbatim (see `_raw_columns`).
    bool collect_raw(std::string_view record, bool all_columns = false);
    /// `collect_raw` for this record now, unless done or impossible (no record text).
    bool ensure_raw();
    /// The raw text at a pointer column's pointer in the On-Demand document `_raw_doc`, taking
    /// the last of duplicate keys at every step (On-Demand's own at_pointer takes the first).
    bool raw_at_pointer(const std::vector<std::string>& tokens, std::string_view& text);
    /// `encode` for a record simdjson's DOM refuses for a number (an integer beyond 64 bits,
    /// 1e999), after `collect_raw(record, true)`: every column from its member's raw text.
    bool encode_raw(std::string_view record, ByteBuffer& out, RecordError& error);
    bool write_column_raw(std::size_t index, RecordError& error);
    bool fail(Status status, std::size_t index, std::string_view value, RecordError& error);
    /// `encode` for a record of `large_record_bytes` or more: no DOM (see the class comment).
    bool encode_large(std::string_view record, ByteBuffer& out, RecordError& error);
    /// Fills `_raw` and `_rest` from the validated record `value` (no blanks around it), as
    /// `collect_raw(record, true)` does; false with `error` set when a member has a value for a
    /// column left to the server.
    bool collect_large(std::string_view value, RecordError& error);
    /// The text at `tokens` in the validated `root` (the last of duplicate keys at every step).
    bool large_at_pointer(std::string_view root, const std::vector<std::string>& tokens,
                          std::string_view& text);
    /// A large record's string member (`raw`: between the quotes) into a column whose type
    /// parses text (bytea, numeric, uuid, ...): given to `RowWriter::from_text` from the record
    /// itself, unescaped into `_unescaped` only when it holds escapes. No DOM of the member.
    bool write_large_string(std::size_t index, std::string_view raw, RecordError& error);
    /// A raw key unescaped: `raw` itself when it holds no escape, else a copy in `_key_store`.
    std::string_view unescaped_key(std::string_view raw);

    const LoadPlan* _plan;
    RowWriter _writer;
    simdjson::dom::parser _parser;
    /// The text of the record being encoded (empty in `encode_element`): a document column
    /// copies it verbatim, numbers digit for digit.
    std::string_view _record_text;
    /// Numbers keep their text as written where the record text is at hand: a numeric, text,
    /// float4, real[] or json/jsonb column taken by key or pointer, and the rest column, are
    /// written from the members' raw text, found by a simdjson On-Demand pass over the record,
    /// when a scan of the record finds a number whose text its double would change (`1.50`,
    /// `1e5`, 17 digits) or a float4 (or real[] element) double would round twice; a json
    /// column's string, object or array (and a json rest column) always: json keeps the text.
    std::vector<bool> _raw_columns;  ///< per planned column
    bool _raw_rest = false;
    bool _raw_any = false;               ///< some column or the rest column takes raw text
    bool _raw_hit = false;               ///< the scan found a number whose text a double may change
    bool _raw_ready = false;             ///< `_raw` and `_rest` hold this record's text
    std::vector<std::string_view> _raw;  ///< per planned column; empty: member absent
    std::vector<std::pair<std::string_view, std::string_view>> _rest;  ///< key (unescaped), value
    simdjson::ondemand::parser _raw_parser;
    simdjson::ondemand::document _raw_doc;
    std::vector<std::size_t> _picks;      ///< member or element index per step, `raw_at_pointer`
    simdjson::dom::parser _token_parser;  ///< one member's raw text, in `encode_raw`
    /// Keys taken by `key` columns and by the first token of `pointer` columns (for --rest).
    std::vector<std::string> _taken;
    /// Per planned column: the pointer's tokens, unescaped (pointer columns only).
    std::vector<std::vector<std::string>> _tokens;
    std::vector<std::size_t> _key_columns;        ///< indexes of the key columns
    std::vector<simdjson::dom::element> _values;  ///< per planned column, from `gather`
    std::vector<char> _found;                     ///< per planned column: `_values` is set
    std::vector<simdjson::dom::element> _stack;   ///< `needs_raw`'s walk
    /// Columns left to the server whose members reject a record (none when `keeps_members`),
    /// with the reason given.
    std::vector<std::pair<std::string, std::string>> _left;
    detail::JsonValidator _validator{simdjson::DEFAULT_MAX_DEPTH};  ///< large records only
    bool _validated = false;  ///< `encode_large` is encoding: `_raw` is validated JSON text
    std::deque<std::string> _key_store;  ///< unescaped keys of a large record (stable addresses)
    std::string _unescaped;  ///< `write_large_string`'s value when it has escapes
};

}  // namespace pgingest::tools
