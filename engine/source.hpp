#pragma once

// A push-based, transport-neutral record source: the caller pushes the bytes of one source (a
// file, stdin, a FIFO, a memory buffer, an HTTP request body) in chunks cut anywhere, and the
// source decompresses them, splits them into JSON records and hands each record, with its line
// and byte offset, to a sink, on the pushing thread. No thread, no queue, no descriptor of its
// own: `push_descriptor` and `push_file` are optional drivers that read a descriptor and push.
//
//   push(bytes) ─► decode (identity | gzip | zstd: declared, or by magic bytes)
//               ─► skip a leading BOM ─► detect the format (InputFormat::automatic)
//               ─► split: NDJSON lines | json-array / pointer document (codecs/json_split)
//                         | whole document
//               ─► RecordSink::record(text, line, byte_offset) / RecordSink::error(InputError)
//
// The records, their lines and byte offsets, and the error reasons are those `pgingest load`
// finds in the same bytes (engine/input.hpp, whose rules and wording it shares:
// engine/detail/input_text.hpp), whatever the chunk sizes. Memory: the record being cut (a
// record over `max_record_bytes` is read past, not held) plus one decoded block (128 KiB).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/json_split.hpp"
#include "engine/input.hpp"

namespace pgingest::tools {

/// How the pushed bytes are encoded, as an HTTP `Content-Encoding` declares it.
enum class ContentEncoding : std::uint8_t {
    detect,    ///< by magic bytes, as `pgingest load` does: gzip `1f 8b`, zstd `28 b5 2f fd`
    identity,  ///< not compressed, whatever the bytes look like
    gzip,      ///< gzip (RFC 1952), one or more members in a row
    zstd,      ///< zstd frames (RFC 8878), one or more in a row
};

/// The encoding an HTTP `Content-Encoding` value names, case-insensitive: `identity` (or
/// empty), `gzip` (or `x-gzip`), `zstd`; `auto` is `detect`. nullopt for anything else (e.g.
/// `br`, `deflate`, a list). Pure; any thread.
[[nodiscard]] std::optional<ContentEncoding> parse_content_encoding(std::string_view name);

/// One record found in a source. `text` points into the source's buffer: valid only during the
/// `RecordSink::record` call, and followed by at least `simdjson::SIMDJSON_PADDING` readable
/// bytes, so it can be parsed in place (`padded_string_view(text.data(), text.size(),
/// text.size() + SIMDJSON_PADDING)`).
struct SourceRecord {
    std::string_view text;          ///< JSON text, no blanks or `\r` around it
    std::uint64_t line = 0;         ///< 1-based line of its first byte (decompressed source)
    std::uint64_t byte_offset = 0;  ///< offset of its first byte in the decompressed source,
                                    ///< counting a leading BOM (as `RecordRef::byte_offset`)
};

/// Receives what a `PushSource` finds, in source order, on the thread that pushes. An exception
/// thrown by the sink leaves `push`/`finish` and the source unusable (destroy it).
class RecordSink {
  public:
    virtual ~RecordSink() = default;
    /// One record; copy what you keep (see `SourceRecord::text`).
    virtual void record(const SourceRecord& record) = 0;
    /// Input that yields no record, with what and where: `InputError` (source name, line,
    /// decompressed byte offset, reason, the text from there); the same cases and wording as
    /// `pgingest load` (see `InputError`).
    virtual void error(InputError error) = 0;
};

/// Options of `PushSource`. Designated initializers, e.g. `{.format = InputFormat::ndjson}`.
struct PushOptions {
    /// How the decompressed bytes are cut into records; as `InputOptions::format`. `automatic`
    /// holds the bytes until they decide (line 1 and at most 64 KiB after it, or the end); a
    /// pause between pushes decides nothing (unlike a paused pipe in `InputReader`), so a body
    /// of one NDJSON line is decided at `finish()`.
    InputFormat format = InputFormat::automatic;
    /// As `InputOptions::pointer` (RFC 6901 with `*` segments); empty: none.
    std::string pointer{};
    /// Members of objects on the pointer's path carried onto each record below them
    /// (codecs/json_split.hpp `JsonCarry`: the output shape, which members, errors): the record
    /// handed out is then `{"<as>":<value>,...,<the record's own members>}`, its line and byte
    /// offset still those of the record in the source. Needs a pointer and a source cut by the
    /// streaming splitter (json-array or document, or `automatic` finding one); an NDJSON source
    /// is one error `carried members need a JSON document cut by the pointer, not NDJSON`.
    std::vector<JsonCarry> carry{};
    /// Declared encoding; `detect` looks at the first bytes.
    ContentEncoding encoding = ContentEncoding::detect;
    /// Largest record in bytes; a longer one is an error `record of N bytes exceeds
    /// max_record_bytes (M)` and is read past without being held whole.
    std::size_t max_record_bytes = std::size_t{256} << 20;
    /// `InputError::text` is cut to this many bytes.
    std::size_t error_text_bytes_max = 1000;
};

/// Counters of one `PushSource`.
struct PushProgress {
    std::uint64_t compressed_bytes = 0;    ///< bytes pushed
    std::uint64_t decompressed_bytes = 0;  ///< bytes after decoding
    std::uint64_t records = 0;             ///< records handed to the sink
    std::uint64_t errors = 0;              ///< errors handed to the sink
};

/// One source's bytes in, records out (see the file comment). Not thread-safe: one thread
/// pushes (it may change between calls if the caller orders them).
///
/// Damaged compressed input (corrupt, or truncated: `finish()` before the compressed stream
/// ended) is one error whose reason names the decompressed offset where decoding stopped, e.g.
/// `gzip: unexpected end of compressed data at decompressed offset 123456`; every record decoded
/// before it is handed out first, and bytes pushed after it are counted but not decoded. An
/// error's `text` is what the source still holds from its offset: for a pointer miss in a
/// json-array or pointer document that may depend on how the bytes were cut into pushes (as in
/// `pgingest load` on how they were read); records, lines, offsets and reasons never do.
class PushSource {
  public:
    /// `name` names the source in every error (a file name, "-" for stdin, a request id).
    /// Throws `pgingest::Error` for an invalid pointer (as `parse_json_pointer`), a carry that is
    /// not beside a key segment of the pointer (`JsonSplitter: carried member "x" at level 1 is
    /// not beside a key segment of the pointer`) or a carry with format ndjson. Allocates a
    /// decode block; no I/O.
    PushSource(std::string name, PushOptions options, RecordSink& sink);
    ~PushSource();
    PushSource(const PushSource&) = delete;
    PushSource& operator=(const PushSource&) = delete;

    /// Pushes the next bytes (any size, 0 included); calls the sink for each record and error
    /// they complete. Throws `pgingest::Error` when called after `finish()`; rethrows the sink's
    /// exceptions; `std::bad_alloc`.
    void push(std::span<const char> bytes);
    /// `push` for text.
    void push(std::string_view bytes) { push(std::span<const char>(bytes.data(), bytes.size())); }

    /// The source ended: hands out the last record and reports an unfinished one, a truncated
    /// compressed stream or an unfinished document. Idempotent.
    void finish();

    /// Whether `finish()` was called.
    [[nodiscard]] bool finished() const noexcept;

    /// The name given to the constructor.
    [[nodiscard]] const std::string& name() const noexcept;

    /// The counters so far.
    [[nodiscard]] PushProgress progress() const noexcept;

    struct State;  ///< the decoder and splitter state (engine/source.cpp)

  private:
    std::unique_ptr<State> _state;
};

/// A driver: reads `fd` to its end in blocks of `block_bytes`, pushing each, then calls
/// `finish()`. On a descriptor that is not a regular file it waits in poll(2) for data (a FIFO
/// whose writer has not come yet included). Does not close `fd`. Throws `pgingest::Error`
/// ("cannot read input file 'NAME': <strerror>") on a read failure, and what `push` throws.
void push_descriptor(int fd, PushSource& source, std::size_t block_bytes = std::size_t{1} << 17);

/// A driver: opens `path` (`-`: stdin, never closed) as `pgingest load` does (a FIFO without
/// waiting for its writer) and pushes it whole with `push_descriptor`. Throws `pgingest::Error`
/// ("cannot open input file 'PATH': No such file or directory", "cannot read input file 'PATH':
/// it is a directory") before pushing anything.
void push_file(const std::string& path, PushSource& source);

}  // namespace pgingest::tools
