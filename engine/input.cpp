#include "engine/input.hpp"

#include <fcntl.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <utility>

#include "codecs/assert.hpp"
#include "codecs/json_split.hpp"
#include "engine/detail/input_text.hpp"
#include "engine/errors.hpp"

namespace pgingest::tools {

namespace od = simdjson::ondemand;
using detail::classify;
using detail::detect_window_bytes;
using detail::is_space;
using detail::LineCounter;
using detail::parser_kept_bytes_max;
using detail::shorten;
using detail::too_large;
using detail::trim_right;
using detail::walk_document;

/// Counts live buffers; the reader waits in `acquire` while `max` are alive, and before growing
/// a buffer past the oversize threshold (4 chunks) while another oversize buffer is alive, so
/// at most one big record is held at a time (filled, queued or held by a consumer).
struct InputReader::Budget {
    std::mutex mutex;
    std::condition_variable released;
    std::size_t live = 0;
    std::size_t max = 1;
    std::size_t oversize_live = 0;
    bool stop = false;

    bool acquire() {
        std::unique_lock lock(mutex);
        released.wait(lock, [&] { return stop || live < max; });
        if (stop) {
            return false;
        }
        ++live;
        return true;
    }
    bool acquire_oversize() {
        std::unique_lock lock(mutex);
        released.wait(lock, [&] { return stop || oversize_live == 0; });
        if (stop) {
            return false;
        }
        ++oversize_live;
        return true;
    }
    void release() {
        {
            std::lock_guard lock(mutex);
            PGINGEST_ASSERT(live > 0);
            --live;
        }
        released.notify_all();
    }
    void release_oversize() {
        {
            std::lock_guard lock(mutex);
            PGINGEST_ASSERT(oversize_live > 0);
            --oversize_live;
        }
        released.notify_all();
    }
};

InputBuffer::~InputBuffer() {
    std::free(_data);
}

/// The reader thread's write access to an `InputBuffer` before it is shared.
class InputBufferWriter {
  public:
    static void reserve(InputBuffer& buffer, std::size_t size_bytes) {
        std::size_t capacity = size_bytes + simdjson::SIMDJSON_PADDING;
        if (capacity <= buffer._capacity) {
            return;
        }
        // realloc: glibc moves large blocks with mremap, so growing a document is no copy.
        void* grown = std::realloc(buffer._data, capacity);
        if (grown == nullptr) {
            throw std::bad_alloc();
        }
        buffer._data = static_cast<char*>(grown);
        buffer._capacity = capacity;
    }
    static char* data(InputBuffer& buffer) { return buffer._data; }
    static void set_size(InputBuffer& buffer, std::size_t size) {
        PGINGEST_ASSERT(size + simdjson::SIMDJSON_PADDING <= buffer._capacity);
        buffer._size = size;
        std::memset(buffer._data + size, 0, simdjson::SIMDJSON_PADDING);
    }
    /// Whether the buffer counts against the budget's oversize slot (see `Budget`).
    static bool oversize(const InputBuffer& buffer) { return buffer._oversize; }
    static void set_oversize(InputBuffer& buffer) { buffer._oversize = true; }
};

namespace {

using Writer = InputBufferWriter;

/// Bad compressed data: ends the source with an InputError, not the load.
struct DecodeError {
    std::string reason;
};

/// The reader was cancelled while it waited: unwinds the reader thread quietly.
struct Stopped {};

/// How often a wait on a pipe, FIFO or terminal looks at `cancel()`.
constexpr int stop_poll_ms = 100;

/// A stream with no byte for this long has paused: its complete lines are handed out.
constexpr int pause_ms = 2;

/// Longest a complete line of a stream waits for its chunk to fill.
constexpr int line_wait_ms_max = 50;

/// A source of bytes; `read` returns 0 at the end and throws `Error` (I/O), `DecodeError` or
/// `Stopped`. `would_block`: whether the next `read` would still wait for a writer after
/// `wait_ms` milliseconds (a paused stream).
class ByteStream {
  public:
    virtual ~ByteStream() = default;
    virtual std::size_t read(char* out, std::size_t size) = 0;
    virtual bool would_block(int wait_ms) = 0;
};

class FileStream final : public ByteStream {
  public:
    FileStream(const InputReader::Opened& opened, std::string name,
               std::atomic<std::uint64_t>& counter, const std::atomic<bool>& stopping)
        : _opened(opened), _name(std::move(name)), _counter(counter), _stopping(stopping) {}
    ~FileStream() override {
        if (_opened.owned && _opened.fd >= 0) {
            ::close(_opened.fd);
        }
    }
    FileStream(const FileStream&) = delete;
    FileStream& operator=(const FileStream&) = delete;

    /// Reads ahead the first bytes while they may be the start of a gzip or zstd magic number
    /// (at most 4) and keeps them for the next `read` calls. Stops as soon as they cannot be,
    /// so a stream's short first line is not held back waiting for a fourth byte.
    std::string_view peek_magic() {
        constexpr std::string_view gzip("\x1f\x8b", 2);
        constexpr std::string_view zstd("\x28\xb5\x2f\xfd", 4);
        auto open_question = [&] {
            std::string_view bytes = _prefix;
            bool maybe_gzip = bytes.size() < gzip.size() && gzip.substr(0, bytes.size()) == bytes;
            bool maybe_zstd = bytes.size() < zstd.size() && zstd.substr(0, bytes.size()) == bytes;
            return maybe_gzip || maybe_zstd;
        };
        while (open_question()) {
            char bytes[4];
            std::size_t got = raw_read(bytes, zstd.size() - _prefix.size());
            if (got == 0) {
                break;
            }
            _prefix.append(bytes, got);
        }
        return _prefix;
    }

    [[nodiscard]] int fd() const noexcept { return _opened.fd; }
    [[nodiscard]] bool regular() const noexcept { return _opened.regular; }

    std::size_t read(char* out, std::size_t size) override {
        if (_prefix_used < _prefix.size()) {
            std::size_t n = std::min(size, _prefix.size() - _prefix_used);
            std::memcpy(out, _prefix.data() + _prefix_used, n);
            _prefix_used += n;
            return n;
        }
        return raw_read(out, size);
    }

    bool would_block(int wait_ms) override {
        if (_opened.regular || _prefix_used < _prefix.size()) {
            return false;
        }
        pollfd waiting{_opened.fd, POLLIN, 0};
        return ::poll(&waiting, 1, wait_ms) == 0;
    }

  private:
    std::size_t raw_read(char* out, std::size_t size) {
        for (;;) {
            if (!_opened.regular) {
                wait_readable();
            }
            ssize_t got = ::read(_opened.fd, out, size);
            if (got >= 0) {
                _counter.fetch_add(static_cast<std::uint64_t>(got), std::memory_order_relaxed);
                return static_cast<std::size_t>(got);
            }
            // EAGAIN: a FIFO is opened O_NONBLOCK (so that opening never waits for its writer).
            if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                throw Error("cannot read input file '" + _name + "': " + std::strerror(errno));
            }
        }
    }

    /// Waits until a read would not block. For a FIFO whose writer has not opened it yet,
    /// poll(2) reports neither POLLIN nor POLLHUP (Linux fs/pipe.c `pipe_poll`), so this waits
    /// for the writer instead of reading a premature end of file.
    void wait_readable() {
        for (;;) {
            pollfd waiting{_opened.fd, POLLIN, 0};
            int ready = ::poll(&waiting, 1, stop_poll_ms);
            if (ready > 0) {
                return;
            }
            if (ready < 0 && errno != EINTR) {
                throw Error("cannot wait for input file '" + _name + "': " + std::strerror(errno));
            }
            if (_stopping.load(std::memory_order_relaxed)) {
                throw Stopped{};
            }
        }
    }

    InputReader::Opened _opened;
    std::string _name;
    std::atomic<std::uint64_t>& _counter;
    const std::atomic<bool>& _stopping;
    std::string _prefix;
    std::size_t _prefix_used = 0;
};

constexpr std::size_t compressed_block_bytes = std::size_t{1} << 17;

/// gzip (RFC 1952), several members in a row as `gzip -c a b` writes them. Damage: the bytes
/// inflated before it are returned first, the next `read` throws `DecodeError`.
class GzipStream final : public ByteStream {
  public:
    explicit GzipStream(FileStream& in) : _in(in), _block(compressed_block_bytes) {
        if (inflateInit2(&_z, 16 + MAX_WBITS) != Z_OK) {
            throw std::bad_alloc();
        }
    }
    ~GzipStream() override { inflateEnd(&_z); }
    GzipStream(const GzipStream&) = delete;
    GzipStream& operator=(const GzipStream&) = delete;

    std::size_t read(char* out, std::size_t size) override {
        if (!_failure.empty()) {
            throw DecodeError{_failure};
        }
        _z.next_out = reinterpret_cast<Bytef*>(out);
        _z.avail_out = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
        std::size_t asked = _z.avail_out;
        while (_z.avail_out > 0) {
            if (_z.avail_in == 0 && !fill()) {
                if (!_member_done) {
                    _failure = "gzip: unexpected end of compressed data";
                }
                break;
            }
            if (_member_done) {  // another member follows
                inflateReset(&_z);
                _member_done = false;
            }
            int rc = inflate(&_z, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) {
                _member_done = true;
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                _failure = std::string("gzip: corrupt data (") +
                           (_z.msg != nullptr ? _z.msg : "inflate failed") + ")";
                break;
            }
            if (_z.avail_out < asked) {
                break;  // return what we have rather than wait for more input
            }
        }
        std::size_t produced = asked - _z.avail_out;
        if (produced == 0 && !_failure.empty()) {
            throw DecodeError{_failure};
        }
        return produced;
    }

    bool would_block(int wait_ms) override { return _z.avail_in == 0 && _in.would_block(wait_ms); }

  private:
    bool fill() {
        std::size_t got = _in.read(_block.data(), _block.size());
        _z.next_in = reinterpret_cast<Bytef*>(_block.data());
        _z.avail_in = static_cast<uInt>(got);
        return got > 0;
    }

    FileStream& _in;
    std::vector<char> _block;
    z_stream _z{};
    bool _member_done = false;
    std::string _failure;
};

/// zstd frames (RFC 8878), several in a row. Damage: as `GzipStream`.
class ZstdStream final : public ByteStream {
  public:
    explicit ZstdStream(FileStream& in)
        : _in(in), _block(compressed_block_bytes), _stream(ZSTD_createDStream()) {
        if (_stream == nullptr) {
            throw std::bad_alloc();
        }
    }
    ~ZstdStream() override { ZSTD_freeDStream(_stream); }
    ZstdStream(const ZstdStream&) = delete;
    ZstdStream& operator=(const ZstdStream&) = delete;

    std::size_t read(char* out, std::size_t size) override {
        if (!_failure.empty()) {
            throw DecodeError{_failure};
        }
        ZSTD_outBuffer output{out, size, 0};
        while (output.pos == 0) {
            if (_input.pos == _input.size) {
                std::size_t got = _in.read(_block.data(), _block.size());
                if (got == 0) {
                    if (_hint != 0) {
                        _failure = "zstd: unexpected end of compressed data";
                    }
                    break;
                }
                _input = {_block.data(), got, 0};
            }
            _hint = ZSTD_decompressStream(_stream, &output, &_input);
            if (ZSTD_isError(_hint) != 0) {
                _failure = std::string("zstd: corrupt data (") + ZSTD_getErrorName(_hint) + ")";
                break;
            }
        }
        if (output.pos == 0 && !_failure.empty()) {
            throw DecodeError{_failure};
        }
        _output_full = output.pos == size;
        return output.pos;
    }

    // A full output may leave decoded bytes inside the decoder: those need no writer.
    bool would_block(int wait_ms) override {
        return !_output_full && _input.pos == _input.size && _in.would_block(wait_ms);
    }

  private:
    FileStream& _in;
    std::vector<char> _block;
    ZSTD_DStream* _stream;
    ZSTD_inBuffer _input{nullptr, 0, 0};
    std::size_t _hint = 0;
    bool _output_full = false;
    std::string _failure;
};

}  // namespace

std::optional<InputFormat> parse_input_format(std::string_view name) {
    if (name == "auto") {
        return InputFormat::automatic;
    }
    if (name == "ndjson") {
        return InputFormat::ndjson;
    }
    if (name == "json-array" || name == "json_array") {
        return InputFormat::json_array;
    }
    if (name == "document") {
        return InputFormat::document;
    }
    return std::nullopt;
}

std::string_view input_format_name(InputFormat format) {
    switch (format) {
        case InputFormat::automatic:
            return "auto";
        case InputFormat::ndjson:
            return "ndjson";
        case InputFormat::json_array:
            return "json-array";
        case InputFormat::document:
            return "document";
    }
    return "auto";
}

std::vector<PointerSegment> parse_json_pointer(std::string_view pointer) {
    std::vector<PointerSegment> segments;
    if (pointer.empty()) {
        return segments;
    }
    if (pointer[0] != '/') {
        throw Error("invalid JSON pointer '" + std::string(pointer) +
                    "': it must be empty or start with '/' (RFC 6901)");
    }
    for (std::size_t i = 1; i <= pointer.size(); ++i) {
        if (i == 1 || pointer[i - 1] == '/') {
            segments.emplace_back();
        }
        if (i == pointer.size()) {
            break;
        }
        char c = pointer[i];
        if (c == '/') {
            continue;
        }
        if (c == '~') {
            char next = i + 1 < pointer.size() ? pointer[i + 1] : '\0';
            if (next != '0' && next != '1') {
                throw Error("invalid JSON pointer '" + std::string(pointer) + "': '~' at byte " +
                            std::to_string(i) + " must be followed by 0 or 1 (RFC 6901)");
            }
            segments.back().key += next == '0' ? '~' : '/';
            ++i;
            continue;
        }
        segments.back().key += c;
    }
    for (auto& segment : segments) {
        segment.wildcard = segment.key == "*";
    }
    return segments;
}

/// Reads one source on the reader thread. Throws `Stopped` when the reader is cancelled.
class SourceReader {
  public:
    SourceReader(InputReader& reader, std::size_t index, const InputReader::Opened& opened)
        : _reader(reader),
          _index(index),
          _name(reader._sources[index]),
          _options(reader._options),
          _file(opened, _name, reader._compressed_bytes, reader._stopping) {}

    void run() {
        std::string_view magic = _file.peek_magic();
        if (magic.size() >= 2 && magic[0] == '\x1f' && magic[1] == '\x8b') {
            _decoder = std::make_unique<GzipStream>(_file);
        } else if (magic.size() >= 4 && magic == std::string_view("\x28\xb5\x2f\xfd", 4)) {
            _decoder = std::make_unique<ZstdStream>(_file);
        }
        _stream = _decoder ? _decoder.get() : static_cast<ByteStream*>(&_file);
        new_buffer();
        skip_bom();
        InputFormat format = _options.format;
        if (format == InputFormat::automatic) {
            format = detect();
        }
        if (format == InputFormat::ndjson) {
            read_lines();
        } else {
            read_document(format);
        }
    }

  private:
    using Pending = InputReader::Pending;

    [[nodiscard]] std::string_view view() const { return {_buffer->data(), _size}; }

    /// A fresh buffer with room for `bytes` (at least a chunk). It does not take the oversize
    /// slot even past 4 chunks: `bytes` is the rest of a buffer after its last newline, at most
    /// 2 chunks, or after detection's 64 KiB window, while the buffer it comes from may hold the
    /// slot (taking it here would wait for ourselves). Growing it later takes the slot.
    void new_buffer(std::size_t bytes = 0) {
        if (!_reader._budget->acquire()) {
            throw Stopped{};
        }
        auto budget = _reader._budget;
        // Two owners: `_buffer` (and the chunks cut from it) count against the budget; `owner`,
        // held by the budget's deleter, is what `InputBuffer::keep` shares, so bytes a consumer
        // keeps outlive the count. The reader never writes to a buffer once it is queued. The
        // oversize slot goes with the bytes: a kept big record (the load holds it until its
        // COMMIT) still stops the reader from growing another buffer past 4 chunks, or a big
        // record's buffer, its tuple and the next big record would be in memory at once.
        std::shared_ptr<InputBuffer> owner(new InputBuffer(), [budget](InputBuffer* freed) {
            bool oversize = Writer::oversize(*freed);
            delete freed;
            if (oversize) {
                budget->release_oversize();
            }
        });
        InputBuffer* buffer = owner.get();
        _buffer =
            std::shared_ptr<InputBuffer>(buffer, [budget, owner](InputBuffer*) mutable {
                owner.reset();  // frees the bytes unless a consumer kept them
                budget->release();
            });
        Writer::reserve(*_buffer, std::max(bytes, _options.chunk_bytes));
        _size = 0;
    }

    /// Room for `bytes` in the buffer; past 4 chunks it waits for the oversize slot (`Budget`).
    void reserve(std::size_t bytes) {
        if (bytes > 4 * _options.chunk_bytes && !Writer::oversize(*_buffer)) {
            if (!_reader._budget->acquire_oversize()) {
                throw Stopped{};
            }
            Writer::set_oversize(*_buffer);
        }
        Writer::reserve(*_buffer, bytes);
    }

    void push(Pending pending) {
        if (!_reader.push(std::move(pending))) {
            throw Stopped{};
        }
    }

    void push_error(InputError error) {
        Pending pending{.data = nullptr, .source_index = _index};
        pending.errors.push_back(std::move(error));
        push(std::move(pending));
    }

    /// Reads at most a chunk more into the buffer, growing it when full; false at the end of the
    /// source or at damage (then `_damage` holds the reason with the decompressed offset).
    bool fill() {
        if (!_damage.empty()) {
            return false;
        }
        std::size_t room = _buffer->capacity() - simdjson::SIMDJSON_PADDING - _size;
        if (room == 0) {
            std::size_t limit = _options.max_record_bytes;
            std::size_t grown = _size < limit ? std::min(_size * 2, limit + _options.chunk_bytes)
                                              : _size + _size / 2;
            reserve(std::max(grown, _size + _options.chunk_bytes));
            room = _buffer->capacity() - simdjson::SIMDJSON_PADDING - _size;
        }
        std::size_t got = 0;
        try {
            got =
                _stream->read(Writer::data(*_buffer) + _size, std::min(room, _options.chunk_bytes));
        } catch (const DecodeError& error) {
            _damage = error.reason + " at decompressed offset " + std::to_string(_decoded);
            return false;
        }
        _size += got;
        _decoded += got;
        _reader._decompressed_bytes.fetch_add(got, std::memory_order_relaxed);
        return got > 0;
    }

    /// Drops the first `count` bytes of the buffer (they were handed out or skipped).
    void drop(std::size_t count) {
        std::memmove(Writer::data(*_buffer), _buffer->data() + count, _size - count);
        _size -= count;
        _offset += count;
    }

    /// Skips a leading UTF-8 byte order mark; `_offset` then starts at 3, so byte offsets
    /// count it. Reads no further than the mark needs (a stream's first line is not delayed).
    void skip_bom() {
        constexpr std::string_view bom("\xEF\xBB\xBF", 3);
        while (_size < bom.size() && bom.substr(0, _size) == view() && fill()) {
        }
        if (view().substr(0, bom.size()) == bom) {
            drop(bom.size());
        }
    }

    /// The automatic rule of `InputFormat`; reads as much as it needs.
    InputFormat detect() {
        bool end = false;
        std::size_t searched = 0;
        std::size_t line1_end = std::string_view::npos;
        for (;;) {
            std::string_view bytes = view();
            std::size_t first = bytes.find_first_not_of(" \t\r\n");
            if (first != std::string_view::npos && line1_end == std::string_view::npos) {
                line1_end = bytes.find('\n', std::max(first, searched));
                searched = bytes.size();
            }
            bool final = end || (line1_end != std::string_view::npos &&
                                 bytes.size() - line1_end > detect_window_bytes);
            if (final || line1_end != std::string_view::npos) {
                bool paused = !final && _stream->would_block(pause_ms);
                if (auto format = classify(bytes, final, paused)) {
                    return *format;
                }
            }
            if (first != std::string_view::npos && line1_end == std::string_view::npos &&
                bytes.size() > _options.max_record_bytes) {
                return bytes[first] == '[' ? InputFormat::json_array : InputFormat::ndjson;
            }
            end = !fill();
        }
    }

    /// One past the last newline in `_buffer[from, _size)`, or 0.
    [[nodiscard]] std::size_t last_newline(std::size_t from) const {
        const void* found = memrchr(_buffer->data() + from, '\n', _size - from);
        return found == nullptr
                   ? 0
                   : static_cast<std::size_t>(static_cast<const char*>(found) - _buffer->data()) +
                         1;
    }

    /// Whether the complete lines `_buffer[0, lines_end)` go to the queue now: the chunk is
    /// full, the line after them is too long to wait for, or (a stream) the writer paused or
    /// the oldest line, complete since `since`, waited long enough.
    bool lines_due(std::size_t lines_end, std::chrono::steady_clock::time_point since) {
        if (_size >= _options.chunk_bytes || _size - lines_end > _options.max_record_bytes) {
            return true;
        }
        if (_file.regular()) {
            return false;
        }
        return _stream->would_block(pause_ms) || std::chrono::steady_clock::now() - since >
                                                     std::chrono::milliseconds(line_wait_ms_max);
    }

    void read_lines();
    void push_lines(std::size_t end);
    void end_lines(std::size_t lines_end);
    void skip_long_line();
    void read_document(InputFormat format);
    void emit_document();
    void split_document(bool require_array);
    void skip_document();
    void push_split(Pending& pending, std::size_t keep);
    void end_split(JsonSplitter& splitter, JsonSplitSink& sink, Pending& pending,
                   std::uint64_t origin);

    InputReader& _reader;
    std::size_t _index;
    std::string _name;
    const InputOptions& _options;
    FileStream _file;
    std::unique_ptr<ByteStream> _decoder;
    ByteStream* _stream = nullptr;
    std::shared_ptr<InputBuffer> _buffer;
    std::size_t _size = 0;       // bytes of _buffer filled
    std::uint64_t _line = 1;     // line of _buffer's first byte
    std::uint64_t _offset = 0;   // source offset of _buffer's first byte
    std::uint64_t _decoded = 0;  // bytes decompressed from this source so far
    std::string _damage;         // why decoding stopped, empty while it did not
};

/// Queues `_buffer[0, end)` as NDJSON lines and starts a new buffer with the rest.
void SourceReader::push_lines(std::size_t end) {
    std::shared_ptr<InputBuffer> full = std::move(_buffer);
    std::size_t full_size = _size;
    // The new buffer first, while the rest is still readable in `full` (set_size zeroes it,
    // and a consumer may free `full` as soon as it is queued).
    std::size_t tail = full_size - end;
    new_buffer(tail * 2);  // one allocation of a steady size: glibc reuses it
    std::memcpy(Writer::data(*_buffer), full->data() + end, tail);
    _size = tail;
    Writer::set_size(*full, end);
    Pending pending{.data = full,
                    .source_index = _index,
                    .lines = true,
                    .lines_end = end,
                    .first_line = _line,
                    .first_byte_offset = _offset};
    _line = LineCounter(full->data(), _line).line_at(end);
    _offset += end;
    push(std::move(pending));
}

// Complete lines are queued when a chunk is full, or early when the stream paused (nothing
// came for `pause_ms`) or its oldest complete line has waited `line_wait_ms_max`, so a line on a
// quiet or trickling pipe never waits for a full chunk. A writer that keeps the pipe busy still
// fills whole chunks: a pipe read returns at most 64 KiB, and a chunk per read would cost the
// consumers a queue round trip per 64 KiB.
void SourceReader::read_lines() {
    using Clock = std::chrono::steady_clock;
    const std::size_t limit = _options.max_record_bytes;
    std::size_t lines_end = last_newline(0);
    Clock::time_point lines_since = Clock::now();  // when lines_end last left 0
    for (;;) {
        if (lines_end > 0 && lines_due(lines_end, lines_since)) {
            push_lines(lines_end);
            lines_end = 0;
        }
        if (lines_end == 0 && _size > limit) {
            skip_long_line();
            lines_end = last_newline(0);
            lines_since = Clock::now();
            continue;
        }
        std::size_t before = _size;
        if (!fill()) {
            end_lines(lines_end);
            return;
        }
        if (lines_end == 0) {
            lines_since = Clock::now();
        }
        lines_end = std::max(lines_end, last_newline(before));
    }
}

void SourceReader::end_lines(std::size_t lines_end) {
    if (_damage.empty()) {
        if (_size > 0) {
            push_lines(_size);
        }
        return;
    }
    if (lines_end > 0) {
        push_lines(lines_end);
    }
    // The partial line the damage cut is part of the one error, not a record.
    push_error({_name, _line, _offset, _damage,
                shorten(trim_right(view()), _options.error_text_bytes_max)});
}

/// The buffer holds one line without its newline, longer than the limit: reports it and reads
/// past its end without holding more of it.
void SourceReader::skip_long_line() {
    InputError error{_name, _line, _offset, {}, shorten(view(), _options.error_text_bytes_max)};
    std::uint64_t length = 0;
    for (;;) {
        const void* found = std::memchr(_buffer->data(), '\n', _size);
        if (found != nullptr) {
            auto used = static_cast<std::size_t>(static_cast<const char*>(found) - _buffer->data());
            length += used;
            drop(used + 1);
            ++_line;
            break;
        }
        length += _size;
        drop(_size);
        if (!fill()) {
            break;
        }
    }
    error.reason = too_large(length, _options.max_record_bytes);
    push_error(std::move(error));
    if (Writer::oversize(*_buffer)) {  // give the big allocation back
        std::shared_ptr<InputBuffer> big = std::move(_buffer);
        std::size_t size = _size;
        new_buffer(size * 2);
        std::memcpy(Writer::data(*_buffer), big->data(), size);
        _size = size;
    }
}

void SourceReader::read_document(InputFormat format) {
    bool whole = format == InputFormat::document && !_reader._has_pointer;
    if (!whole) {
        split_document(format == InputFormat::json_array);
        return;
    }
    struct stat status {};
    if (!_decoder && _file.regular() && ::fstat(_file.fd(), &status) == 0) {
        // Room for the whole file at once: no growth.
        auto size = static_cast<std::size_t>(status.st_size) + 1;
        reserve(std::min(size, _options.max_record_bytes + _options.chunk_bytes));
    }
    while (fill()) {
        if (_size > _options.max_record_bytes) {
            skip_document();
            return;
        }
    }
    Writer::set_size(*_buffer, _size);
    emit_document();
}

/// The whole source is the record (format document, no pointer); damage makes it the error.
void SourceReader::emit_document() {
    std::string_view bytes = view();
    std::size_t first = bytes.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        first = bytes.size();
    }
    std::uint64_t line = LineCounter(bytes.data()).line_at(first);
    std::string_view text = trim_right(bytes.substr(first));
    if (!_damage.empty()) {
        push_error(
            {_name, line, _offset + first, _damage, shorten(text, _options.error_text_bytes_max)});
        return;
    }
    if (!text.empty()) {
        Pending pending{.data = _buffer, .source_index = _index};
        pending.records.push_back({first, text.size(), line, _offset + first});
        push(std::move(pending));
    } else if (_options.format == InputFormat::document) {
        // Asked for one document per file, a file without one is a reject, so that
        // rows_read = rows_loaded + rows_rejected holds per file. (Found by --format auto, an
        // empty file is an empty NDJSON file: no records.)
        push_error({_name, 1, _offset,
                    "the file holds no JSON document (it is empty or only whitespace)",
                    shorten(bytes, _options.error_text_bytes_max)});
    }
}

/// A `JsonSplitSink` that hands what it gets to two functions.
template <class OnRecord, class OnError>
class CallbackSink final : public JsonSplitSink {
  public:
    CallbackSink(OnRecord on_record, OnError on_error)
        : _on_record(std::move(on_record)), _on_error(std::move(on_error)) {}
    void record(std::uint64_t offset, std::uint64_t length, std::uint64_t line) override {
        _on_record(offset, length, line);
    }
    void error(std::uint64_t offset, std::uint64_t line, std::string reason) override {
        _on_error(offset, line, std::move(reason));
    }

  private:
    OnRecord _on_record;
    OnError _on_error;
};

/// Queues `pending` (records in `_buffer[0, keep)`, errors) and starts a new buffer with
/// `_buffer[keep, _size)`, the record being cut.
void SourceReader::push_split(Pending& pending, std::size_t keep) {
    if (pending.records.empty()) {
        if (!pending.errors.empty()) {
            push(std::exchange(pending, Pending{.data = nullptr, .source_index = _index}));
        }
        drop(keep);
        return;
    }
    std::shared_ptr<InputBuffer> full = std::move(_buffer);
    std::size_t tail = _size - keep;
    new_buffer(tail * 2);
    std::memcpy(Writer::data(*_buffer), full->data() + keep, tail);
    _size = tail;
    Writer::set_size(*full, keep);
    _offset += keep;
    pending.data = std::move(full);
    push(std::exchange(pending, Pending{.data = nullptr, .source_index = _index}));
}

// A json-array or pointer document is cut into records as its bytes arrive (codecs/json_split):
// `_buffer` holds the bytes from the record being cut (or from what was fed last) on, so memory
// is the chunks in flight plus the largest record, whatever the document's size. A record over
// max_record_bytes is read past without being held (its first bytes kept for the error).
void SourceReader::split_document(bool require_array) {
    std::vector<JsonSplitSegment> pointer;
    for (const PointerSegment& segment : _reader._pointer) {
        pointer.push_back({segment.key, segment.wildcard});
    }
    JsonSplitter splitter(std::move(pointer), require_array && !_reader._has_pointer);
    const std::uint64_t origin = _offset;  // source offset of the splitter's offset 0
    Pending pending{.data = nullptr, .source_index = _index};
    std::optional<std::uint64_t> skipped;  // splitter offset of an oversize record read past
    std::string skipped_text;
    auto held = [&](std::uint64_t offset) {  // `offset` in `_buffer`, if still held
        std::uint64_t at = origin + offset;
        return at >= _offset && at <= _offset + _size ? std::optional(at - _offset) : std::nullopt;
    };
    auto on_error = [&](std::uint64_t offset, std::uint64_t line, std::string reason) {
        std::optional<std::uint64_t> at = held(offset);
        std::string text = at ? shorten(view().substr(*at), _options.error_text_bytes_max) : "";
        pending.errors.push_back({_name, line, origin + offset, std::move(reason),
                                  skipped == offset ? skipped_text : std::move(text)});
    };
    auto on_record = [&](std::uint64_t offset, std::uint64_t length, std::uint64_t line) {
        if (skipped == offset || length > _options.max_record_bytes) {
            on_error(offset, line, too_large(length, _options.max_record_bytes));
            skipped.reset();
            return;
        }
        auto at = static_cast<std::size_t>(*held(offset));
        pending.records.push_back({at, static_cast<std::size_t>(length), line, origin + offset});
    };
    CallbackSink sink(on_record, on_error);
    std::size_t fed = 0;  // bytes of `_buffer` fed to the splitter
    for (;;) {
        if (!splitter.failed() && fed < _size) {
            splitter.feed(view().substr(fed), sink);
        }
        std::optional<std::uint64_t> start = splitter.record_start();
        std::size_t keep = start && held(*start) ? static_cast<std::size_t>(*held(*start)) : _size;
        bool due = pending.records.size() >= _options.records_per_chunk ||
                   pending.errors.size() >= _options.records_per_chunk ||
                   (_size >= _options.chunk_bytes && keep > 0) ||
                   (!pending.records.empty() && !_file.regular() && _stream->would_block(0));
        if (due || pending.records.empty()) {
            push_split(pending, keep);
        }
        if (start && !skipped && _offset + _size - (origin + *start) > _options.max_record_bytes) {
            skipped = *start;
            skipped_text = shorten(view().substr(*held(*start)), _options.error_text_bytes_max);
        }
        if (skipped || splitter.failed()) {
            push_split(pending, _size);  // nothing more is held: read on to the end
        } else if (!start && Writer::oversize(*_buffer)) {
            push_split(pending, _size);  // the records it holds go with it
            if (Writer::oversize(*_buffer)) {
                new_buffer();  // give the big allocation back
            }
        }
        fed = _size;
        if (!fill()) {
            break;
        }
    }
    end_split(splitter, sink, pending, origin);
}

/// The end of a split document: an unfinished document is an error, or the damage that cut it
/// is (at the end of what was decoded); then everything left is queued.
void SourceReader::end_split(JsonSplitter& splitter, JsonSplitSink& sink, Pending& pending,
                             std::uint64_t origin) {
    if (_damage.empty()) {
        splitter.finish(sink);
    } else {
        pending.errors.push_back(
            {_name, splitter.line(), origin + splitter.position(), _damage, {}});
    }
    push_split(pending, _size);
}
/// A `document` source longer than the limit: reports it and reads past its end.
void SourceReader::skip_document() {
    std::string_view bytes = view();
    std::size_t first = std::min(bytes.find_first_not_of(" \t\r\n"), bytes.size());
    InputError error{_name,
                     LineCounter(bytes.data()).line_at(first),
                     _offset + first,
                     {},
                     shorten(bytes.substr(first), _options.error_text_bytes_max)};
    std::uint64_t length = 0;
    do {
        length += _size;
        drop(_size);
    } while (fill());
    error.reason = too_large(length - first, _options.max_record_bytes);
    push_error(std::move(error));
    if (!_damage.empty()) {
        push_error({_name, error.line, _offset, _damage, {}});
    }
}

constexpr std::size_t held_files_max = 256;

InputReader::InputReader(std::vector<std::string> sources, InputOptions options)
    : _sources(std::move(sources)), _options(options), _budget(std::make_shared<Budget>()) {
    _pointer = parse_json_pointer(_options.pointer);
    _has_pointer = !_options.pointer.empty();
    _options.chunk_bytes = std::max<std::size_t>(_options.chunk_bytes, 64);
    _options.records_per_chunk = std::max<std::size_t>(_options.records_per_chunk, 1);
    _options.max_record_bytes = std::max<std::size_t>(_options.max_record_bytes, 1);
    _budget->max = std::max<std::size_t>(_options.buffers_in_flight_max, 2);
    open_sources();
    _thread = std::thread([this] { run(); });
}

void InputReader::open_sources() {
    _opened.resize(_sources.size());
    try {
        for (std::size_t i = 0; i < _sources.size(); ++i) {
            const std::string& source = _sources[i];
            Opened& opened = _opened[i];
            struct stat status {};
            if (source == "-") {
                opened.fd = 0;
                opened.owned = false;
            } else {
                // O_NONBLOCK: opening a FIFO must not wait for its writer (see the class doc).
                opened.fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            }
            if (opened.fd < 0 || ::fstat(opened.fd, &status) != 0) {
                throw Error("cannot open input file '" + source + "': " + std::strerror(errno));
            }
            if (S_ISDIR(status.st_mode)) {
                throw Error("cannot read input file '" + source + "': it is a directory");
            }
            opened.regular = S_ISREG(status.st_mode);
            opened.device = static_cast<std::uint64_t>(status.st_dev);
            opened.inode = static_cast<std::uint64_t>(status.st_ino);
            if (opened.regular) {
                _total_bytes += static_cast<std::uint64_t>(status.st_size);
            } else {
                _total_known = false;
            }
            if (opened.regular && opened.owned && i >= held_files_max) {
                ::close(opened.fd);
                opened.fd = -1;
            }
        }
    } catch (...) {
        close_sources();
        throw;
    }
}

void InputReader::close_sources() noexcept {
    for (Opened& opened : _opened) {
        if (opened.owned && opened.fd >= 0) {
            ::close(opened.fd);
        }
        opened.fd = -1;
    }
}

InputReader::~InputReader() {
    cancel();
    _thread.join();
    close_sources();
}

void InputReader::cancel() noexcept {
    _stopping.store(true, std::memory_order_relaxed);
    {
        std::lock_guard lock(_mutex);
        _stop = true;
    }
    {
        std::lock_guard lock(_budget->mutex);
        _budget->stop = true;
    }
    _budget->released.notify_all();
    _not_full.notify_all();
}

void InputReader::run() noexcept {
    try {
        for (std::size_t i = 0; i < _sources.size(); ++i) {
            read_source(i);
            std::lock_guard lock(_mutex);
            if (_stop) {
                break;
            }
        }
    } catch (const Stopped&) {
        // cancel(): what was queued is still handed out.
    } catch (...) {
        std::lock_guard lock(_mutex);
        _failure = std::current_exception();
    }
    {
        std::lock_guard lock(_mutex);
        _done = true;
    }
    _not_empty.notify_all();
}

void InputReader::read_source(std::size_t index) {
    Opened opened = _opened[index];
    _opened[index].fd = -1;  // the SourceReader's FileStream closes it
    const std::string& name = _sources[index];
    if (opened.fd < 0) {  // a regular file past held_files_max: open it again, the same one
        opened.fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat status {};
        if (opened.fd < 0 || ::fstat(opened.fd, &status) != 0) {
            throw Error("cannot open input file '" + name + "': " + std::strerror(errno));
        }
        if (static_cast<std::uint64_t>(status.st_dev) != opened.device ||
            static_cast<std::uint64_t>(status.st_ino) != opened.inode) {
            ::close(opened.fd);
            throw Error("input file '" + name + "' was replaced by another file during the load");
        }
    }
    SourceReader(*this, index, opened).run();
}

bool InputReader::push(Pending pending) {
    std::unique_lock lock(_mutex);
    _not_full.wait(lock, [&] { return _stop || _queue.size() < _budget->max; });
    if (_stop) {
        return false;
    }
    _queue.push_back(std::move(pending));
    lock.unlock();
    _not_empty.notify_one();
    return true;
}

NextStatus InputReader::pop(Pending& pending,
                            const std::chrono::steady_clock::time_point* deadline) {
    std::unique_lock lock(_mutex);
    auto ready = [&] { return !_queue.empty() || _done || _failure; };
    if (deadline == nullptr) {
        _not_empty.wait(lock, ready);
    } else if (!_not_empty.wait_until(lock, *deadline, ready)) {
        return NextStatus::timeout;
    }
    if (_failure) {
        std::rethrow_exception(_failure);
    }
    if (_queue.empty()) {
        return NextStatus::end;
    }
    pending = std::move(_queue.front());
    _queue.pop_front();
    lock.unlock();
    _not_full.notify_one();
    return NextStatus::chunk;
}

bool InputReader::next(RecordChunk& chunk) {
    return next_until(chunk, nullptr) == NextStatus::chunk;
}

NextStatus InputReader::next_for(RecordChunk& chunk, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    return next_until(chunk, &deadline);
}

NextStatus InputReader::next_until(RecordChunk& chunk,
                                   const std::chrono::steady_clock::time_point* deadline) {
    chunk.data.reset();
    for (;;) {
        Pending pending;
        NextStatus status = pop(pending, deadline);
        if (status != NextStatus::chunk) {
            chunk = RecordChunk{};
            return status;
        }
        chunk.source = _sources[pending.source_index];
        chunk.records = std::move(pending.records);
        chunk.errors = std::move(pending.errors);
        if (pending.lines) {
            finish_lines(pending, chunk);
        }
        chunk.data = std::move(pending.data);
        _records.fetch_add(chunk.records.size(), std::memory_order_relaxed);
        _errors.fetch_add(chunk.errors.size(), std::memory_order_relaxed);
        if (!chunk.records.empty() || !chunk.errors.empty()) {
            return NextStatus::chunk;
        }
    }
}

void InputReader::finish_lines(Pending& pending, RecordChunk& chunk) {
    const InputBuffer& buffer = *pending.data;
    const char* base = buffer.data();
    std::uint64_t line = pending.first_line;
    thread_local od::parser parser;
    std::string_view source = chunk.source;
    std::size_t start = 0;
    std::size_t record_start = 0;
    std::uint64_t record_line = 0;
    auto on_record = [&](std::string_view text) {
        auto offset = static_cast<std::size_t>(text.data() - base);
        chunk.records.push_back(
            {offset, text.size(), record_line, pending.first_byte_offset + offset});
    };
    auto on_error = [&](const char* at, std::string reason) {
        std::string_view text(base + record_start, buffer.size() - record_start);
        text = text.substr(0, text.find('\n'));
        // The line's start, so that the error points at the line the rejects file quotes.
        reason += " (column " + std::to_string(at - (base + record_start) + 1) + ")";
        chunk.errors.push_back({std::string(source), record_line,
                                pending.first_byte_offset + record_start, std::move(reason),
                                shorten(trim_right(text), _options.error_text_bytes_max)});
    };
    while (start < pending.lines_end) {
        const void* newline = std::memchr(base + start, '\n', pending.lines_end - start);
        std::size_t end = newline != nullptr
                              ? static_cast<std::size_t>(static_cast<const char*>(newline) - base)
                              : pending.lines_end;
        std::size_t first = start;
        while (first < end && is_space(base[first])) {
            ++first;
        }
        std::string_view text = trim_right(std::string_view(base + first, end - first));
        record_start = first;
        record_line = line;
        if (text.size() > _options.max_record_bytes) {
            chunk.errors.push_back({std::string(source), record_line,
                                    pending.first_byte_offset + record_start,
                                    too_large(text.size(), _options.max_record_bytes),
                                    shorten(text, _options.error_text_bytes_max)});
        } else if (!text.empty() && !_has_pointer) {
            on_record(text);
        } else if (!text.empty()) {
            walk_document(parser, text.data(), text.size(),
                          buffer.capacity() - static_cast<std::size_t>(text.data() - base),
                          _pointer, false, on_record, on_error);
            if (text.size() >= parser_kept_bytes_max) {
                parser = od::parser{};  // a big line's index is not kept for the next chunk
            }
        }
        start = end + 1;
        ++line;
    }
}

InputProgress InputReader::progress() const noexcept {
    return {.compressed_bytes_read = _compressed_bytes.load(std::memory_order_relaxed),
            .decompressed_bytes = _decompressed_bytes.load(std::memory_order_relaxed),
            .total_bytes = _total_bytes,
            .total_known = _total_known,
            .records = _records.load(std::memory_order_relaxed),
            .errors = _errors.load(std::memory_order_relaxed)};
}

}  // namespace pgingest::tools
