#pragma once

// The input layer of `pgingest load`: turns files and stdin (plain, gzip or zstd) into JSON
// records, handed to several consumer threads in chunks that share one padded buffer.
//
// Pipeline: one reader thread reads each source in turn from the descriptor the constructor
// opened (never reopened), decompresses it (streaming), skips a leading BOM and either
//  - NDJSON: cuts the bytes into chunks of about `chunk_bytes` that end at a newline (a longer
//    line grows its chunk, up to `max_record_bytes`); on a pipe, FIFO or stdin whose writer
//    paused, the complete lines read so far are queued at once. The consumer that takes a chunk
//    splits it into lines in `next()`, and with a pointer also walks each line to the pointer
//    there, so that work runs in parallel;
//  - json_array, or a document with a pointer: cuts the bytes into records as they arrive with
//    the streaming splitter (codecs/json_split.hpp), holding only the record being cut, and hands
//    them out in chunks of up to `records_per_chunk` records (or about `chunk_bytes`) that share
//    one buffer;
//  - document without a pointer: holds the source whole (it is the one record).
// At most `buffers_in_flight_max` buffers are alive at once (queued or held by consumers), and
// at most one of them larger than 4 chunks, so memory stays bounded by that many chunks plus
// the largest record, whatever the input.

#include <atomic>
#include <chrono>
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
/// Every format skips a leading UTF-8 byte order mark (EF BB BF); byte offsets still count it
/// (see `RecordRef::byte_offset`).
///
/// `automatic` decides per source from the structure of the decompressed content, looking at
/// line 1 and at most 64 KiB after it (all of it for a shorter source):
///  1. NDJSON when at least two lines after line 1 look like one-line values: they start in
///     column 0 with `{` or `[` and end (before blanks and `\r`) with `}` or `]`. Line 1 itself
///     is not looked at, so a bad first record or trailing text after it (`{"a":1} x`) never
///     turns an NDJSON source into one record;
///  2. else NDJSON when line 1 holds exactly one complete object or array and some
///     non-whitespace byte follows on a later line (a two-line NDJSON source);
///  3. else a source starting with `[` is a `json_array`, anything else a `document`.
/// Pretty-printed documents and arrays do not match 1 or 2: their line 1 is an opening bracket
/// and their inner lines are indented or end with `,`. A source that streams (a pipe or FIFO
/// whose writer paused) is decided as soon as it can be: rule 1, or line 1 a complete object
/// followed by a newline (NDJSON and document then yield the same record); otherwise the reader
/// waits for 64 KiB after line 1 or the end. When line 1 alone grows past `max_record_bytes`,
/// a source starting with `[` is a `json_array`, anything else NDJSON (its line 1 is then
/// refused as too large and the lines after it are read).
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
    /// source, ndjson → each line. In a json-array or document source the splitter checks all
    /// JSON outside the records and, inside a record, only its strings and brackets (the
    /// consumer's parse checks the rest); an NDJSON line is walked with simdjson On-Demand,
    /// which skips values off the pointer's path unvalidated. Keys are compared as written
    /// (escapes not decoded). A key literally named `*` cannot be addressed.
    std::string pointer{};
    /// Target size of an NDJSON chunk (bytes); a chunk ends at a newline, a longer line grows it.
    std::size_t chunk_bytes = std::size_t{2} << 20;
    /// Records per chunk handed out of a json_array / document.
    std::size_t records_per_chunk = 2048;
    /// Most buffers alive at once (K): queued chunks plus those consumers still hold.
    std::size_t buffers_in_flight_max = 8;
    /// `InputError::text` is cut to this many bytes.
    std::size_t error_text_bytes_max = 1000;
    /// Largest record (bytes of an NDJSON line, of a `document` source without pointer, or of a
    /// record found in a document). A longer one is an `InputError` ("record of N bytes exceeds
    /// max_record_bytes (M)"); an NDJSON line is read past without being held whole, and the
    /// next line is read. Default 256 MiB: well below PostgreSQL's 1 GB limit of one field
    /// (MaxAllocSize, src/include/utils/memutils.h), with room for a jsonb bigger than its text.
    /// A json-array or pointer document is never held whole: a record of it over the limit is
    /// read past, its first bytes kept for the error. Memory of the reader: about
    /// `buffers_in_flight_max` × `chunk_bytes` plus the
    /// largest record: a buffer grows past 4 chunks only while no other such buffer is alive
    /// (queued or held by a consumer), so big records are read one at a time.
    std::size_t max_record_bytes = std::size_t{256} << 20;
};

/// Bytes of one chunk or document, followed by at least `simdjson::SIMDJSON_PADDING` readable
/// bytes (zeros) past `size()`, so any record inside can be parsed in place with
/// `parser.iterate(padded_string_view(ptr, len, len + padding))` or `dom parse(ptr, len, false)`.
/// Immutable once handed out; shared by every chunk cut from it.
///
/// `RecordChunk::data` counts against the reader's `buffers_in_flight_max` while any chunk holds
/// it. A consumer that needs the bytes after it moved on to its next chunk (the load keeps the
/// text of rows in flight to quote a row the server refuses) takes `keep()`: it keeps the bytes,
/// unchanged, but not the reader's count, so the reader goes on reading. A buffer larger than 4
/// chunks (a big record) keeps the reader's one oversize slot while anyone holds it, kept or
/// not: the reader reads the next big record only once the bytes of this one are freed.
class InputBuffer : public std::enable_shared_from_this<InputBuffer> {
  public:
    InputBuffer() = default;
    ~InputBuffer();
    InputBuffer(const InputBuffer&) = delete;
    InputBuffer& operator=(const InputBuffer&) = delete;

    [[nodiscard]] const char* data() const noexcept { return _data; }
    [[nodiscard]] std::size_t size() const noexcept { return _size; }
    /// Bytes allocated past `data()`; always >= size() + SIMDJSON_PADDING.
    [[nodiscard]] std::size_t capacity() const noexcept { return _capacity; }
    /// This buffer, kept alive and unchanged for as long as the caller holds the pointer, and
    /// not counted in the reader's buffers in flight (a big one keeps its oversize slot: see the
    /// class comment); no allocation. Any thread.
    [[nodiscard]] std::shared_ptr<const InputBuffer> keep() const { return shared_from_this(); }

  private:
    friend class InputBufferWriter;
    char* _data = nullptr;
    std::size_t _size = 0;
    std::size_t _capacity = 0;
    bool _oversize = false;  ///< counted in the reader's oversize slot (a big record)
};

/// Where one record's JSON text lies in its chunk's `data`, and where it came from.
struct RecordRef {
    std::size_t offset = 0;  ///< first byte of the record in `RecordChunk::data`
    std::size_t length = 0;  ///< bytes of JSON text (no trailing whitespace or `\r`)
    std::uint64_t line = 0;  ///< 1-based line of the record's first byte in the source
    /// Offset of the first byte in the decompressed source, counting a leading byte order mark
    /// (so `tail -c +$((byte_offset + 1))` of the decompressed source starts with the record).
    std::uint64_t byte_offset = 0;
};

/// Input that yields no record but must be accounted for (the load writes it to its rejects
/// file): a malformed document, an NDJSON line or document that does not match the pointer, a
/// record over `max_record_bytes`, a truncated or corrupt compressed stream.
///
/// Damaged compressed input: every record decoded before the damage is handed out on its own;
/// the damage is one error whose reason names the decompressed offset where decoding failed,
/// e.g. `gzip: unexpected end of compressed data at decompressed offset 123456` or
/// `zstd: corrupt data (Data corruption detected) at decompressed offset 65536`. A partial last
/// line cut by the damage is part of that error: `line`/`byte_offset` are its start and `text`
/// its bytes (empty when the damage fell just after a newline). In a json-array or pointer
/// document, the records before the damage are handed out and the damage is one error at the
/// end of what was decoded (text empty), in place of the unfinished-document error; a
/// `document` source is the one error (its text is the document's start). The text of an
/// error in a json-array or pointer document is what the reader still holds from its offset:
/// empty for a pointer miss found when a container that began chunks earlier closes.
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
/// `errors` entry. A chunk holds records, errors or both, never neither. `data` is null when a
/// chunk holds errors only (their text is copied into the error).
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

/// What `InputReader::next_for` found.
enum class NextStatus : std::uint8_t {
    chunk,    ///< the chunk holds the next records and/or errors
    timeout,  ///< nothing ready within the timeout; the chunk is empty (its buffer released)
    end,      ///< all sources are read; the chunk is empty
};

/// Reads the sources in order on its own thread and hands records out through `next()`.
///
/// The constructor opens and fstat()s every file first and throws `pgingest::Error` ("cannot
/// open input file 'x': No such file or directory") before anything is read, so a load can
/// refuse to start; it also throws for an invalid pointer. Then it starts the reader thread.
/// Each source is opened exactly once and read from that descriptor: stdin, pipes, FIFOs and
/// process substitution (/dev/fd/N) are never reopened. A FIFO is opened without waiting for
/// its writer (O_NONBLOCK); the reader then waits in poll(2) until the writer comes and writes,
/// however late. (Regular files past the 256th are the exception: to stay under the process's
/// descriptor limit they are closed after the check and opened again when their turn comes,
/// refused if it is no longer the same file.)
///
/// Streaming: a complete line of a pipe, FIFO, terminal or stdin is handed out as soon as the
/// writer pauses (the next read would wait), not when a chunk fills; while data keeps coming,
/// chunks stay about `chunk_bytes` so throughput does not drop. Regular files always fill chunks.
///
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

    /// As `next()`, but waits at most `timeout` for a chunk: returns `NextStatus::timeout` with
    /// an empty `chunk` (its previous buffer released) when none came, so a consumer can do
    /// periodic work while the input is quiet (the load's producers hand over a partly filled
    /// batch whose flush interval passed: `Producer::submit_if_due()`) and call again.
    /// `NextStatus::end` at the end of all sources. Thread-safe, throws as `next()`.
    NextStatus next_for(RecordChunk& chunk, std::chrono::milliseconds timeout);

    /// Stops reading (e.g. on SIGINT): the reader thread ends at its next read or wait, within
    /// about 100 ms when it waits on a pipe, FIFO or terminal; chunks already queued are still
    /// handed out, then `next()` returns false. Lines read but not yet queued are dropped.
    /// Any thread; idempotent; does not join (the destructor does).
    void cancel() noexcept;

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

    /// One source opened by the constructor: the descriptor the reader thread reads.
    struct Opened {
        int fd = -1;           ///< -1 once handed to the reader thread (or closed, see class doc)
        bool owned = true;     ///< false for stdin, which is never closed
        bool regular = false;  ///< a regular file: read without poll(2), never "paused"
        std::uint64_t device = 0;
        std::uint64_t inode = 0;
    };

  private:
    friend class SourceReader;

    void open_sources();
    void close_sources() noexcept;
    void run() noexcept;
    void read_source(std::size_t index);
    bool push(Pending pending);
    NextStatus pop(Pending& pending, const std::chrono::steady_clock::time_point* deadline);
    NextStatus next_until(RecordChunk& chunk,
                          const std::chrono::steady_clock::time_point* deadline);
    void finish_lines(Pending& pending, RecordChunk& chunk);

    std::vector<std::string> _sources;
    std::vector<Opened> _opened;
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
    std::atomic<bool> _stopping{false};  ///< `_stop` for the reader's poll(2) waits, lock-free
    std::exception_ptr _failure;

    std::atomic<std::uint64_t> _compressed_bytes{0};
    std::atomic<std::uint64_t> _decompressed_bytes{0};
    std::atomic<std::uint64_t> _records{0};
    std::atomic<std::uint64_t> _errors{0};
    std::thread _thread;
};

}  // namespace pgingest::tools
