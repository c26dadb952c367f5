#pragma once

// The input layer of `pgingest load`: turns files and stdin (plain, gzip or zstd) into JSON
// records, handed to several consumer threads in chunks that share one padded buffer.
//
// Pipeline: one reader thread opens each source in turn, decompresses it (streaming) and either
//  - NDJSON: cuts the bytes into chunks of about `chunk_bytes` that end at a newline (a longer
//    line grows its chunk); the consumer that takes a chunk splits it into lines in `next()`, and
//    with a pointer also walks each line to the pointer there, so that work runs in parallel;
//  - json_array / document: holds the whole decompressed document once and walks it with
//    simdjson On-Demand to find the records (raw_json() views, no copy, no DOM), handing them out
//    in chunks of up to `records_per_chunk` records that share the document's buffer.
// At most `buffers_in_flight_max` buffers are alive at once (queued or held by consumers), so
// memory stays bounded by that many chunks plus the largest document, whatever the input size.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pgingest::tools {

/// How a source is cut into records (`--format`).
///
/// `automatic` decides per source on the decompressed content: if the first line (up to the
/// first newline) holds exactly one complete object or array and some other non-whitespace byte
/// follows on a later line, the source is `ndjson`; otherwise a source starting with `[` is a
/// `json_array` and anything else a `document`. The rule looks at the first line only, so it is
/// cheap, and it is robust: pretty-printed documents and arrays open with a line that is not a
/// complete value, a one-line document has nothing after it, and NDJSON of arrays is still NDJSON.
enum class InputFormat : std::uint8_t {
    automatic,   ///< decided per source, see above
    ndjson,      ///< one JSON value per line; blank lines are skipped
    json_array,  ///< one top-level array; each element is a record
    document,    ///< the whole source is one record
};

/// The format named `auto`, `ndjson`, `json-array` (or `json_array`), `document`; nullopt for
/// anything else. Pure; any thread.
[[nodiscard]] std::optional<InputFormat> parse_input_format(std::string_view name);

/// The CLI spelling of `format` (`auto`, `ndjson`, `json-array`, `document`).
[[nodiscard]] std::string_view input_format_name(InputFormat format);

/// One step of a `--pointer`: an object key or array index (`key`, RFC 6901 `~0`/`~1`
/// unescaped), or `*`: every element of an array, every member value of an object.
struct PointerSegment {
    std::string key;
    bool wildcard = false;
};

/// Parses an RFC 6901 JSON pointer with `*` segments. Empty means the root. Throws
/// `pgingest::Error` naming the pointer and the offending byte when it does not start with `/`
/// or holds a `~` not followed by `0` or `1`. Pure; any thread.
[[nodiscard]] std::vector<PointerSegment> parse_json_pointer(std::string_view pointer);

/// Options of `InputReader`. Designated initializers, e.g. `{.format = InputFormat::ndjson}`.
struct InputOptions {
    InputFormat format = InputFormat::automatic;
    /// RFC 6901 pointer with `*` segments selecting the records in each document (each JSON
    /// array file, document file or NDJSON line). The value there is the record, or when it is
    /// an array, each element is one. Empty: json_array → each element, document → the whole
    /// source, ndjson → each line. The walk is simdjson On-Demand: values off the pointer's path
    /// are skipped, not validated, so malformed JSON there may go unnoticed by the reader (each
    /// record is validated by the consumer's own parse). A key literally named `*` cannot be
    /// addressed.
    std::string pointer{};
    /// Target size of an NDJSON chunk (bytes); a chunk ends at a newline, a longer line grows it.
    std::size_t chunk_bytes = std::size_t{2} << 20;
    /// Records per chunk handed out of a json_array / document.
    std::size_t records_per_chunk = 2048;
    /// Most buffers alive at once (K): queued chunks plus those consumers still hold.
    std::size_t buffers_in_flight_max = 8;
    /// `InputError::text` is cut to this many bytes.
    std::size_t error_text_bytes_max = 1000;
};

/// Bytes of one chunk or document, followed by at least `simdjson::SIMDJSON_PADDING` readable
/// bytes (zeros) past `size()`, so any record inside can be parsed in place with
/// `parser.iterate(padded_string_view(ptr, len, len + padding))` or `dom parse(ptr, len, false)`.
/// Immutable once handed out; shared by every chunk cut from it.
class InputBuffer {
  public:
    InputBuffer() = default;
    ~InputBuffer();
    InputBuffer(const InputBuffer&) = delete;
    InputBuffer& operator=(const InputBuffer&) = delete;

    [[nodiscard]] const char* data() const noexcept { return _data; }
    [[nodiscard]] std::size_t size() const noexcept { return _size; }
    /// Bytes allocated past `data()`; always >= size() + SIMDJSON_PADDING.
    [[nodiscard]] std::size_t capacity() const noexcept { return _capacity; }

  private:
    friend class InputBufferWriter;
    char* _data = nullptr;
    std::size_t _size = 0;
    std::size_t _capacity = 0;
};

/// Where one record's JSON text lies in its chunk's `data`, and where it came from.
struct RecordRef {
    std::size_t offset = 0;         ///< first byte of the record in `RecordChunk::data`
    std::size_t length = 0;         ///< bytes of JSON text (no trailing whitespace or `\r`)
    std::uint64_t line = 0;         ///< 1-based line of the record's first byte in the source
    std::uint64_t byte_offset = 0;  ///< offset of the first byte in the decompressed source
};

/// Input that yields no record but must be accounted for (the load writes it to its rejects
/// file): a malformed document, an NDJSON line or document that does not match the pointer, a
/// truncated or corrupt compressed stream.
struct InputError {
    std::string source;             ///< file name as given, or "-" for stdin
    std::uint64_t line = 0;         ///< 1-based line in the decompressed source
    std::uint64_t byte_offset = 0;  ///< offset in the decompressed source
    std::string reason;             ///< e.g. `pointer /statuses: key "statuses" not found`
    std::string text;               ///< the offending text from there, cut to error_text_bytes_max
};

/// Records handed to one consumer. `records` point into `data`; `source` names the file ("-"
/// for stdin) and lives as long as the reader. An NDJSON line that is not valid JSON is still a
/// record when there is no pointer (the consumer's parse reports it); with a pointer it is an
/// `errors` entry. A chunk holds records, errors or both, never neither.
struct RecordChunk {
    std::shared_ptr<const InputBuffer> data;
    std::string_view source;
    std::vector<RecordRef> records;
    std::vector<InputError> errors;

    /// The JSON text of `record`; valid while `data` is held.
    [[nodiscard]] std::string_view text(const RecordRef& record) const noexcept {
        return {data->data() + record.offset, record.length};
    }
};

/// Progress counters, read from any thread while loading.
struct InputProgress {
    std::uint64_t compressed_bytes_read = 0;  ///< bytes read from files and stdin
    std::uint64_t decompressed_bytes = 0;     ///< bytes after decompression
    std::uint64_t total_bytes = 0;            ///< sum of the sources' file sizes, if total_known
    bool total_known = false;                 ///< false when a source is stdin, a pipe or a device
    std::uint64_t records = 0;                ///< records handed to consumers so far
    std::uint64_t errors = 0;                 ///< InputErrors handed to consumers so far
};

/// Reads the sources in order on its own thread and hands records out through `next()`.
///
/// The constructor opens and fstat()s every file first and throws `pgingest::Error` ("cannot
/// open input file 'x': No such file or directory") before anything is read, so a load can
/// refuse to start; it also throws for an invalid pointer. Then it starts the reader thread.
/// Bad content is never an exception: it becomes `InputError`s and reading goes on with the next
/// line or source. An I/O failure while reading (read(2) error, a file gone between the check
/// and the read) ends the input: `next()` rethrows it as `pgingest::Error` in every consumer.
class InputReader {
  public:
    /// `sources`: file paths, `-` for stdin. Throws as described above.
    InputReader(std::vector<std::string> sources, InputOptions options = {});
    /// Stops and joins the reader thread; chunks consumers still hold stay valid.
    ~InputReader();
    InputReader(const InputReader&) = delete;
    InputReader& operator=(const InputReader&) = delete;

    /// Replaces `chunk` by the next chunk of records; blocks until one is ready. Returns false at
    /// the end of all sources. Thread-safe: call from any number of consumer threads. Releases
    /// the chunk's previous buffer first: the reader waits while `buffers_in_flight_max` buffers
    /// are held, so do not keep chunks beyond parsing them. Throws `pgingest::Error` on an I/O
    /// failure (see the class comment).
    bool next(RecordChunk& chunk);

    /// A snapshot of the counters; any thread.
    [[nodiscard]] InputProgress progress() const noexcept;

    /// The sources as given.
    [[nodiscard]] const std::vector<std::string>& sources() const noexcept { return _sources; }

    struct Budget;  ///< live-buffer count shared with the buffers' deleters

    /// A chunk as the reader thread queues it: NDJSON bytes still to be split into lines
    /// (`lines`), or records already found in a document.
    struct Pending {
        std::shared_ptr<const InputBuffer> data;
        std::size_t source_index = 0;
        bool lines = false;
        std::size_t lines_end = 0;  ///< NDJSON: lines are data[0, lines_end)
        std::uint64_t first_line = 1;
        std::uint64_t first_byte_offset = 0;
        std::vector<RecordRef> records{};
        std::vector<InputError> errors{};
    };

  private:
    friend class SourceReader;

    void run() noexcept;
    void read_source(std::size_t index);
    bool push(Pending pending);
    bool pop(Pending& pending);
    void finish_lines(Pending& pending, RecordChunk& chunk);

    std::vector<std::string> _sources;
    InputOptions _options;
    std::vector<PointerSegment> _pointer;
    bool _has_pointer = false;
    std::uint64_t _total_bytes = 0;
    bool _total_known = true;

    std::shared_ptr<Budget> _budget;
    mutable std::mutex _mutex;
    std::condition_variable _not_empty;
    std::condition_variable _not_full;
    std::deque<Pending> _queue;
    bool _done = false;
    bool _stop = false;
    std::exception_ptr _failure;

    std::atomic<std::uint64_t> _compressed_bytes{0};
    std::atomic<std::uint64_t> _decompressed_bytes{0};
    std::atomic<std::uint64_t> _records{0};
    std::atomic<std::uint64_t> _errors{0};
    std::thread _thread;
};

}  // namespace pgingest::tools
