#include "tools/input.hpp"

#include <fcntl.h>
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
#include "engine/errors.hpp"

namespace pgingest::tools {

namespace od = simdjson::ondemand;

/// Counts live buffers; the reader waits in `acquire` while `max` are alive.
struct InputReader::Budget {
    std::mutex mutex;
    std::condition_variable released;
    std::size_t live = 0;
    std::size_t max = 1;
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
    void release() {
        {
            std::lock_guard lock(mutex);
            --live;
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
};

namespace {

using Writer = InputBufferWriter;

/// Bad compressed data: ends the source with an InputError, not the load.
struct DecodeError {
    std::string reason;
};

/// A source of bytes; `read` returns 0 at the end and throws `Error` (I/O) or `DecodeError`.
class ByteStream {
  public:
    virtual ~ByteStream() = default;
    virtual std::size_t read(char* out, std::size_t size) = 0;
};

class FileStream final : public ByteStream {
  public:
    FileStream(int fd, std::string name, std::atomic<std::uint64_t>& counter)
        : _fd(fd), _name(std::move(name)), _counter(counter) {}
    ~FileStream() override {
        if (_fd > 0) {
            ::close(_fd);
        }
    }
    FileStream(const FileStream&) = delete;
    FileStream& operator=(const FileStream&) = delete;

    /// Reads up to `size` bytes ahead and keeps them for the next `read` calls.
    std::string_view peek(std::size_t size) {
        while (_prefix.size() < size) {
            char bytes[64];
            std::size_t got = raw_read(bytes, std::min(sizeof bytes, size - _prefix.size()));
            if (got == 0) {
                break;
            }
            _prefix.append(bytes, got);
        }
        return _prefix;
    }

    [[nodiscard]] int fd() const noexcept { return _fd; }

    std::size_t read(char* out, std::size_t size) override {
        if (_prefix_used < _prefix.size()) {
            std::size_t n = std::min(size, _prefix.size() - _prefix_used);
            std::memcpy(out, _prefix.data() + _prefix_used, n);
            _prefix_used += n;
            return n;
        }
        return raw_read(out, size);
    }

  private:
    std::size_t raw_read(char* out, std::size_t size) {
        for (;;) {
            ssize_t got = ::read(_fd, out, size);
            if (got >= 0) {
                _counter.fetch_add(static_cast<std::uint64_t>(got), std::memory_order_relaxed);
                return static_cast<std::size_t>(got);
            }
            if (errno != EINTR) {
                throw Error("cannot read input file '" + _name + "': " + std::strerror(errno));
            }
        }
    }

    int _fd;
    std::string _name;
    std::atomic<std::uint64_t>& _counter;
    std::string _prefix;
    std::size_t _prefix_used = 0;
};

constexpr std::size_t compressed_block_bytes = std::size_t{1} << 17;

/// gzip (RFC 1952), several members in a row as `gzip -c a b` writes them.
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
        _z.next_out = reinterpret_cast<Bytef*>(out);
        _z.avail_out = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
        while (_z.avail_out > 0) {
            if (_z.avail_in == 0 && !fill()) {
                if (!_member_done) {
                    throw DecodeError{"gzip stream truncated (unexpected end of file)"};
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
                throw DecodeError{std::string("gzip data corrupt: ") +
                                  (_z.msg != nullptr ? _z.msg : "inflate failed")};
            }
            if (_z.avail_out < size) {
                break;  // return what we have rather than wait for more input
            }
        }
        return size - _z.avail_out;
    }

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
};

/// zstd frames (RFC 8878), several in a row.
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
        ZSTD_outBuffer output{out, size, 0};
        while (output.pos == 0) {
            if (_input.pos == _input.size) {
                std::size_t got = _in.read(_block.data(), _block.size());
                if (got == 0) {
                    if (_hint != 0) {
                        throw DecodeError{"zstd stream truncated (unexpected end of file)"};
                    }
                    return 0;
                }
                _input = {_block.data(), got, 0};
            }
            _hint = ZSTD_decompressStream(_stream, &output, &_input);
            if (ZSTD_isError(_hint) != 0) {
                throw DecodeError{std::string("zstd data corrupt: ") + ZSTD_getErrorName(_hint)};
            }
        }
        return output.pos;
    }

  private:
    FileStream& _in;
    std::vector<char> _block;
    ZSTD_DStream* _stream;
    ZSTD_inBuffer _input{nullptr, 0, 0};
    std::size_t _hint = 0;
};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// Counts lines forward through one source's bytes; asks for a position before the last one
/// count again from the start (errors are rare).
class LineCounter {
  public:
    explicit LineCounter(const char* base, std::uint64_t first_line = 1)
        : _base(base), _first_line(first_line), _line(first_line) {}
    std::uint64_t line_at(std::size_t offset) {
        if (offset < _offset) {
            _offset = 0;
            _line = _first_line;
        }
        const char* at = _base + _offset;
        const char* end = _base + offset;
        while (at < end) {
            const void* found = std::memchr(at, '\n', static_cast<std::size_t>(end - at));
            if (found == nullptr) {
                break;
            }
            ++_line;
            at = static_cast<const char*>(found) + 1;
        }
        _offset = offset;
        return _line;
    }

  private:
    const char* _base;
    std::uint64_t _first_line;
    std::uint64_t _line;
    std::size_t _offset = 0;
};

std::string shorten(std::string_view text, std::size_t max) {
    return std::string(text.substr(0, max));
}

std::string_view trim_right(std::string_view text) {
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

std::string pointer_prefix(const std::vector<PointerSegment>& pointer, std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count && i < pointer.size(); ++i) {
        out += '/';
        out += pointer[i].wildcard ? std::string("*") : pointer[i].key;
    }
    return out.empty() ? std::string("/") : out;
}

/// Walks one parsed document to the records at a pointer; calls `on_record` with each record's
/// text and `on_error` with a position inside the document and a reason. Recursion depth is the
/// pointer's segment count, chosen by the user, not by the input.
class PointerWalker {
  public:
    using OnRecord = std::function<void(std::string_view)>;
    using OnError = std::function<void(const char*, std::string)>;

    PointerWalker(const std::vector<PointerSegment>& pointer, OnRecord on_record, OnError on_error)
        : _pointer(pointer), _on_record(std::move(on_record)), _on_error(std::move(on_error)) {}

    /// Returns a fatal simdjson error (malformed JSON) or SUCCESS; pointer misses are reported
    /// through `on_error` and are not fatal.
    simdjson::error_code walk(od::value value, std::size_t index) {
        if (index == _pointer.size()) {
            return emit(value, true);
        }
        const char* at = location(value);
        od::json_type type;
        if (auto error = value.type().get(type)) {
            return error;
        }
        const PointerSegment& segment = _pointer[index];
        if (segment.wildcard) {
            return walk_all(value, type, index, at);
        }
        if (type == od::json_type::object) {
            od::value child;
            auto error = value.find_field_unordered(segment.key).get(child);
            if (error == simdjson::NO_SUCH_FIELD) {
                _on_error(at, "pointer " + pointer_prefix(_pointer, index + 1) + ": key \"" +
                                  segment.key + "\" not found");
                return simdjson::SUCCESS;
            }
            return error != simdjson::SUCCESS ? error : walk(child, index + 1);
        }
        if (type == od::json_type::array) {
            return walk_index(value, index, at);
        }
        _on_error(at, "pointer " + pointer_prefix(_pointer, index + 1) + ": " +
                          pointer_prefix(_pointer, index) + " is a " + type_name(type) +
                          ", not an object or array");
        return simdjson::SUCCESS;
    }

    /// Emits `value` (each element when `expand` and it is an array).
    simdjson::error_code emit(od::value value, bool expand) {
        od::json_type type;
        if (auto error = value.type().get(type)) {
            return error;
        }
        std::string_view text;
        if (type == od::json_type::array) {
            od::array array;
            if (auto error = value.get_array().get(array)) {
                return error;
            }
            if (expand) {
                for (auto element : array) {
                    od::value child;
                    if (auto error = element.get(child)) {
                        return error;
                    }
                    if (auto error2 = emit(child, false)) {
                        return error2;
                    }
                }
                return simdjson::SUCCESS;
            }
            if (auto error = array.raw_json().get(text)) {
                return error;
            }
        } else if (type == od::json_type::object) {
            od::object object;
            if (auto error = value.get_object().get(object)) {
                return error;
            }
            if (auto error = object.raw_json().get(text)) {
                return error;
            }
        } else {
            text = trim_right(value.raw_json_token());
        }
        _on_record(text);
        return simdjson::SUCCESS;
    }

    static const char* location(od::value& value) { return value.raw_json_token().data(); }

  private:
    static const char* type_name(od::json_type type) {
        switch (type) {
            case od::json_type::string:
                return "string";
            case od::json_type::number:
                return "number";
            case od::json_type::boolean:
                return "boolean";
            case od::json_type::null:
                return "null";
            case od::json_type::array:
                return "array";
            case od::json_type::object:
                return "object";
        }
        return "value";
    }

    simdjson::error_code walk_all(od::value value, od::json_type type, std::size_t index,
                                  const char* at) {
        if (type == od::json_type::array) {
            for (auto element : value.get_array()) {
                od::value child;
                if (auto error = element.get(child)) {
                    return error;
                }
                if (auto error2 = walk(child, index + 1)) {
                    return error2;
                }
            }
            return simdjson::SUCCESS;
        }
        if (type == od::json_type::object) {
            for (auto field : value.get_object()) {
                od::value child;
                if (auto error = field.value().get(child)) {
                    return error;
                }
                if (auto error2 = walk(child, index + 1)) {
                    return error2;
                }
            }
            return simdjson::SUCCESS;
        }
        _on_error(at, "pointer " + pointer_prefix(_pointer, index + 1) + ": `*` applied to a " +
                          type_name(type) + " at " + pointer_prefix(_pointer, index));
        return simdjson::SUCCESS;
    }

    simdjson::error_code walk_index(od::value value, std::size_t index, const char* at) {
        const std::string& key = _pointer[index].key;
        std::size_t wanted = 0;
        bool numeric = !key.empty() && key.size() < 19 && (key == "0" || key[0] != '0');
        for (char c : key) {
            numeric = numeric && c >= '0' && c <= '9';
            wanted = wanted * 10 + static_cast<std::size_t>(c - '0');
        }
        if (numeric) {
            od::value child;
            auto error = value.get_array().at(wanted).get(child);
            if (error == simdjson::SUCCESS) {
                return walk(child, index + 1);
            }
            if (error != simdjson::INDEX_OUT_OF_BOUNDS) {
                return error;
            }
        }
        _on_error(at, "pointer " + pointer_prefix(_pointer, index + 1) + ": no element \"" + key +
                          "\" in the array");
        return simdjson::SUCCESS;
    }

    const std::vector<PointerSegment>& _pointer;
    OnRecord _on_record;
    OnError _on_error;
};

/// Walks `data[0, size)` (padded) to the records at `pointer`. `expand_root`: without a pointer,
/// whether the root array's elements are the records (json_array) or the root is (document).
/// Returns false after a fatal JSON error, which went to `on_error`.
bool walk_document(od::parser& parser, const char* data, std::size_t size, std::size_t capacity,
                   const std::vector<PointerSegment>& pointer, bool require_array,
                   const PointerWalker::OnRecord& on_record,
                   const PointerWalker::OnError& on_error) {
    PointerWalker walker(pointer, on_record, on_error);
    od::document doc;
    auto error = parser.iterate(simdjson::padded_string_view(data, size, capacity)).get(doc);
    const char* at = data;
    if (error == simdjson::SUCCESS) {
        od::json_type type{};
        error = doc.type().get(type);
        if (error == simdjson::SUCCESS && require_array && type != od::json_type::array) {
            on_error(data, "expected a top-level array (format json-array)");
            return false;
        }
        od::value root;
        if (error == simdjson::SUCCESS) {
            error = doc.get_value().get(root);
        }
        if (error == simdjson::SUCCESS) {
            error = walker.walk(root, 0);
        }
        const char* location = nullptr;
        if (error != simdjson::SUCCESS &&
            doc.current_location().get(location) == simdjson::SUCCESS) {
            at = location;
        } else if (error != simdjson::SUCCESS) {
            at = data + size;
        }
    }
    if (error == simdjson::SUCCESS) {
        return true;
    }
    on_error(at, std::string("malformed JSON: ") + simdjson::error_message(error));
    return false;
}

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

/// Reads one source on the reader thread.
class SourceReader {
  public:
    SourceReader(InputReader& reader, std::size_t index, int fd)
        : _reader(reader),
          _index(index),
          _name(reader._sources[index]),
          _file(fd, _name, reader._compressed_bytes) {}

    void run() {
        std::string_view magic = _file.peek(4);
        if (magic.size() >= 2 && magic[0] == '\x1f' && magic[1] == '\x8b') {
            _decoder = std::make_unique<GzipStream>(_file);
        } else if (magic.size() >= 4 && magic == std::string_view("\x28\xb5\x2f\xfd", 4)) {
            _decoder = std::make_unique<ZstdStream>(_file);
        }
        _stream = _decoder ? _decoder.get() : static_cast<ByteStream*>(&_file);
        if (!new_buffer()) {
            return;
        }
        InputFormat format = _reader._options.format;
        try {
            if (format == InputFormat::automatic) {
                format = detect();
            }
            if (format == InputFormat::ndjson) {
                read_lines();
            } else {
                read_document(format);
            }
        } catch (const DecodeError& error) {
            decode_failed(error.reason);
        }
    }

  private:
    using Pending = InputReader::Pending;

    bool new_buffer() {
        if (!_reader._budget->acquire()) {
            return false;
        }
        auto budget = _reader._budget;
        _buffer = std::shared_ptr<InputBuffer>(new InputBuffer(), [budget](InputBuffer* buffer) {
            delete buffer;
            budget->release();
        });
        Writer::reserve(*_buffer, _reader._options.chunk_bytes);
        _size = 0;
        return true;
    }

    /// Reads more into the buffer, growing it when full; false at the end of the source.
    bool fill() {
        if (_size + 1 > _buffer->capacity() - simdjson::SIMDJSON_PADDING) {
            Writer::reserve(*_buffer, _size * 2);
        }
        std::size_t room = _buffer->capacity() - simdjson::SIMDJSON_PADDING - _size;
        std::size_t got = _stream->read(Writer::data(*_buffer) + _size, room);
        _size += got;
        _reader._decompressed_bytes.fetch_add(got, std::memory_order_relaxed);
        return got > 0;
    }

    /// The automatic rule of `InputFormat`, on the first line; reads as much as it needs.
    InputFormat detect() {
        std::size_t first = 0;
        for (;;) {
            while (first < _size && is_space(_buffer->data()[first])) {
                ++first;
            }
            if (first < _size) {
                break;
            }
            if (!fill()) {
                return InputFormat::document;
            }
        }
        char opener = _buffer->data()[first];
        if (opener != '{' && opener != '[') {
            return InputFormat::document;
        }
        InputFormat single = opener == '[' ? InputFormat::json_array : InputFormat::document;
        std::size_t end = first_value_end(first);
        if (end == 0) {
            return single;
        }
        for (;;) {  // the rest of the first line must be blank
            for (; end < _size; ++end) {
                char c = _buffer->data()[end];
                if (c == '\n') {
                    return later_value(end + 1, single);
                }
                if (!is_space(c)) {
                    return single;
                }
            }
            if (!fill()) {
                return single;
            }
        }
    }

    /// The offset just past the value opening at `first` if it closes on its line, else 0.
    std::size_t first_value_end(std::size_t first) {
        int depth = 0;
        bool in_string = false;
        bool escaped = false;
        std::size_t at = first;
        for (;;) {
            for (; at < _size; ++at) {
                char c = _buffer->data()[at];
                if (in_string) {
                    if (escaped) {
                        escaped = false;
                    } else if (c == '\\') {
                        escaped = true;
                    } else if (c == '"') {
                        in_string = false;
                    }
                    continue;
                }
                if (c == '\n') {
                    return 0;
                }
                if (c == '"') {
                    in_string = true;
                } else if (c == '{' || c == '[') {
                    ++depth;
                } else if ((c == '}' || c == ']') && --depth == 0) {
                    return at + 1;
                }
            }
            if (!fill()) {
                return 0;
            }
        }
    }

    /// After a complete first line: NDJSON if any non-whitespace byte follows.
    InputFormat later_value(std::size_t from, InputFormat single) {
        for (;;) {
            for (; from < _size; ++from) {
                if (!is_space(_buffer->data()[from])) {
                    return InputFormat::ndjson;
                }
            }
            if (!fill()) {
                return single;
            }
        }
    }

    void read_lines();
    void read_document(InputFormat format);
    void decode_failed(const std::string& reason);
    bool push_lines(std::size_t end);

    InputReader& _reader;
    std::size_t _index;
    std::string _name;
    FileStream _file;
    std::unique_ptr<ByteStream> _decoder;
    ByteStream* _stream = nullptr;
    std::shared_ptr<InputBuffer> _buffer;
    std::size_t _size = 0;      // bytes of _buffer filled
    std::uint64_t _line = 1;    // line of _buffer's first byte
    std::uint64_t _offset = 0;  // source offset of _buffer's first byte
};

/// Queues `_buffer[0, end)` as NDJSON lines and starts a new buffer with the rest.
bool SourceReader::push_lines(std::size_t end) {
    std::shared_ptr<InputBuffer> full = std::move(_buffer);
    std::size_t full_size = _size;
    std::string tail(full->data() + end, full_size - end);  // set_size zeroes it
    Writer::set_size(*full, end);
    Pending pending{.data = full,
                    .source_index = _index,
                    .lines = true,
                    .lines_end = end,
                    .first_line = _line,
                    .first_byte_offset = _offset};
    _line = LineCounter(full->data(), _line).line_at(end);
    _offset += end;
    if (!_reader.push(std::move(pending)) || !new_buffer()) {
        return false;
    }
    Writer::reserve(*_buffer, std::max(tail.size() * 2, _reader._options.chunk_bytes));
    std::memcpy(Writer::data(*_buffer), tail.data(), tail.size());
    _size = tail.size();
    return true;
}

void SourceReader::read_lines() {
    for (;;) {
        bool more = fill();
        if (!more) {
            if (_size > 0) {
                push_lines(_size);
            }
            return;
        }
        if (_size < _reader._options.chunk_bytes) {
            continue;
        }
        const void* last = memrchr(_buffer->data(), '\n', _size);
        if (last == nullptr) {
            continue;  // one long line: fill() grows the buffer
        }
        std::size_t end =
            static_cast<std::size_t>(static_cast<const char*>(last) - _buffer->data());
        if (!push_lines(end + 1)) {
            return;
        }
    }
}

void SourceReader::read_document(InputFormat format) {
    struct stat status {};
    if (!_decoder && ::fstat(_file.fd(), &status) == 0 && S_ISREG(status.st_mode)) {
        // Room for the whole file at once: no growth, and fill() sees the end at once.
        Writer::reserve(*_buffer, static_cast<std::size_t>(status.st_size) + 1);
    }
    while (fill()) {
    }
    Writer::set_size(*_buffer, _size);
    std::shared_ptr<const InputBuffer> data = _buffer;
    const char* base = data->data();
    LineCounter lines(base);
    const InputOptions& options = _reader._options;
    Pending pending{.data = data, .source_index = _index};
    auto flush = [&] {
        if (!pending.records.empty() || !pending.errors.empty()) {
            _reader.push(std::exchange(pending, Pending{.data = data, .source_index = _index}));
        }
    };
    auto on_record = [&](std::string_view text) {
        auto offset = static_cast<std::size_t>(text.data() - base);
        pending.records.push_back({offset, text.size(), lines.line_at(offset), offset});
        if (pending.records.size() >= options.records_per_chunk) {
            flush();
        }
    };
    auto on_error = [&](const char* at, std::string reason) {
        auto offset = static_cast<std::size_t>(at - base);
        pending.errors.push_back(
            {_name, lines.line_at(offset), offset, std::move(reason),
             shorten(std::string_view(at, _size - offset), options.error_text_bytes_max)});
    };
    if (format == InputFormat::document && !_reader._has_pointer) {
        std::size_t first = 0;
        while (first < _size && is_space(base[first])) {
            ++first;
        }
        if (first < _size) {
            on_record(trim_right(std::string_view(base + first, _size - first)));
        } else if (options.format == InputFormat::document) {
            // Asked for one document per file, a file without one is a reject, so that
            // rows_read = rows_loaded + rows_rejected holds per file. (Found by --format auto,
            // an empty file is an empty NDJSON file: no records.)
            on_error(base, "the file holds no JSON document (it is empty or only whitespace)");
        }
    } else {
        // One parser per reader thread: its structural index (4 bytes per input byte) is
        // allocated and faulted in once, not per document.
        thread_local od::parser parser;
        walk_document(parser, base, _size, data->capacity(), _reader._pointer,
                      format == InputFormat::json_array && !_reader._has_pointer, on_record,
                      on_error);
    }
    flush();
}

void SourceReader::decode_failed(const std::string& reason) {
    // Whole lines read so far were queued; what is left is the start of a cut line or the
    // document read so far: report it with the error rather than as a record.
    std::string_view rest(_buffer->data(), _size);
    InputError error{_name, _line, _offset, reason,
                     shorten(rest, _reader._options.error_text_bytes_max)};
    if (_size > 0 && _offset == 0 && _line == 1) {
        error.reason += " after " + std::to_string(_size) + " decompressed bytes";
    }
    Pending pending{.data = _buffer, .source_index = _index};
    pending.errors.push_back(std::move(error));
    _reader.push(std::move(pending));
}

InputReader::InputReader(std::vector<std::string> sources, InputOptions options)
    : _sources(std::move(sources)), _options(options), _budget(std::make_shared<Budget>()) {
    _pointer = parse_json_pointer(_options.pointer);
    _has_pointer = !_options.pointer.empty();
    _options.chunk_bytes = std::max<std::size_t>(_options.chunk_bytes, 64);
    _options.records_per_chunk = std::max<std::size_t>(_options.records_per_chunk, 1);
    _budget->max = std::max<std::size_t>(_options.buffers_in_flight_max, 2);
    for (const std::string& source : _sources) {
        if (source == "-") {
            _total_known = false;
            continue;
        }
        int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat status {};
        if (fd < 0 || ::fstat(fd, &status) != 0) {
            std::string reason = std::strerror(errno);
            if (fd >= 0) {
                ::close(fd);
            }
            throw Error("cannot open input file '" + source + "': " + reason);
        }
        ::close(fd);
        if (S_ISDIR(status.st_mode)) {
            throw Error("cannot read input file '" + source + "': it is a directory");
        }
        if (S_ISREG(status.st_mode)) {
            _total_bytes += static_cast<std::uint64_t>(status.st_size);
        } else {
            _total_known = false;
        }
    }
    _thread = std::thread([this] { run(); });
}

InputReader::~InputReader() {
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
    _thread.join();
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
    const std::string& name = _sources[index];
    int fd = 0;
    if (name != "-") {
        fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            throw Error("cannot open input file '" + name + "': " + std::strerror(errno));
        }
    }
    SourceReader(*this, index, fd).run();
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

bool InputReader::pop(Pending& pending) {
    std::unique_lock lock(_mutex);
    _not_empty.wait(lock, [&] { return !_queue.empty() || _done || _failure; });
    if (_failure) {
        std::rethrow_exception(_failure);
    }
    if (_queue.empty()) {
        return false;
    }
    pending = std::move(_queue.front());
    _queue.pop_front();
    lock.unlock();
    _not_full.notify_one();
    return true;
}

bool InputReader::next(RecordChunk& chunk) {
    chunk.data.reset();
    for (;;) {
        Pending pending;
        if (!pop(pending)) {
            chunk = RecordChunk{};
            return false;
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
            return true;
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
        if (!text.empty() && !_has_pointer) {
            on_record(text);
        } else if (!text.empty()) {
            walk_document(parser, text.data(), text.size(),
                          buffer.capacity() - static_cast<std::size_t>(text.data() - base),
                          _pointer, false, on_record, on_error);
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
