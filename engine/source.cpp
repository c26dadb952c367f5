#include "engine/source.hpp"

#include <fcntl.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#include "codecs/assert.hpp"
#include "codecs/json_split.hpp"
#include "engine/detail/input_text.hpp"
#include "engine/errors.hpp"

namespace pgingest::tools {

namespace od = simdjson::ondemand;
using detail::is_space;
using detail::shorten;
using detail::too_large;
using detail::trim_right;

namespace {

/// Decoded bytes handed to the splitter at a time (and identity pushes are cut to this size),
/// so memory stays the record being cut plus one block whatever a push's size.
constexpr std::size_t block_bytes = std::size_t{1} << 17;

constexpr std::string_view gzip_magic("\x1f\x8b", 2);
constexpr std::string_view zstd_magic("\x28\xb5\x2f\xfd", 4);
constexpr std::string_view bom("\xEF\xBB\xBF", 3);

/// Whether `bytes` may still grow into a gzip or zstd magic number.
bool magic_open(std::string_view bytes) {
    bool maybe_gzip =
        bytes.size() < gzip_magic.size() && gzip_magic.substr(0, bytes.size()) == bytes;
    bool maybe_zstd =
        bytes.size() < zstd_magic.size() && zstd_magic.substr(0, bytes.size()) == bytes;
    return maybe_gzip || maybe_zstd;
}

/// The encoding of a source that starts with `bytes` (as engine/input.cpp `SourceReader::run`).
ContentEncoding by_magic(std::string_view bytes) {
    if (bytes.substr(0, gzip_magic.size()) == gzip_magic) {
        return ContentEncoding::gzip;
    }
    if (bytes.substr(0, zstd_magic.size()) == zstd_magic) {
        return ContentEncoding::zstd;
    }
    return ContentEncoding::identity;
}

/// Bytes held from a source offset on, followed by simdjson's padding; dropping from the front
/// is O(1), the rest moves down only when bytes are appended.
class Held {
  public:
    [[nodiscard]] const char* data() const noexcept { return _bytes.data() + _begin; }
    [[nodiscard]] std::size_t size() const noexcept { return _end - _begin; }
    [[nodiscard]] std::string_view view() const noexcept { return {data(), size()}; }
    /// Source offset of `data()[0]`.
    [[nodiscard]] std::uint64_t offset() const noexcept { return _offset; }

    /// Appends `in`. The bytes move down only when the room at the end runs out, and the
    /// buffer then keeps at least half of it free, so appending is amortized O(1) per byte even
    /// for 1-byte pushes into a big record.
    void append(std::string_view in) {
        if (_end + in.size() + simdjson::SIMDJSON_PADDING > _bytes.size()) {
            std::memmove(_bytes.data(), data(), size());
            _end -= _begin;
            _begin = 0;
            std::size_t needed = _end + in.size() + simdjson::SIMDJSON_PADDING;
            if (needed * 2 > _bytes.size()) {
                _bytes.resize(std::max(needed * 2, std::size_t{4096}));
            }
        }
        if (!in.empty()) {
            std::memcpy(_bytes.data() + _end, in.data(), in.size());
        }
        _end += in.size();
        std::memset(_bytes.data() + _end, 0, simdjson::SIMDJSON_PADDING);
    }
    void drop(std::size_t count) {
        PGINGEST_ASSERT(count <= size());
        _begin += count;
        _offset += count;
    }
    /// Index in `view()` of source offset `at`, if it is held.
    [[nodiscard]] std::optional<std::size_t> index(std::uint64_t at) const noexcept {
        if (at < _offset || at > _offset + size()) {
            return std::nullopt;
        }
        return static_cast<std::size_t>(at - _offset);
    }

  private:
    std::vector<char> _bytes;
    std::size_t _begin = 0;
    std::size_t _end = 0;
    std::uint64_t _offset = 0;
};

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

}  // namespace

std::optional<ContentEncoding> parse_content_encoding(std::string_view name) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    if (lower.empty() || lower == "identity") {
        return ContentEncoding::identity;
    }
    if (lower == "gzip" || lower == "x-gzip") {
        return ContentEncoding::gzip;
    }
    if (lower == "zstd") {
        return ContentEncoding::zstd;
    }
    if (lower == "auto") {
        return ContentEncoding::detect;
    }
    return std::nullopt;
}

/// The state of one source: decoder, then the format's splitter. Stages run on `push`.
struct PushSource::State {
    /// What the text stage is doing.
    enum class Stage : std::uint8_t { bom, detect, lines, split, document, done };

    State(std::string name_, PushOptions options_, RecordSink& sink_);
    ~State();
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    void push(std::string_view bytes);
    void finish();

    // Decoding.
    void decode(std::string_view bytes);
    void inflate_bytes(std::string_view bytes);
    void zstd_bytes(std::string_view bytes);
    void decode_end();
    void damaged(std::string reason);

    // Text.
    void text(std::string_view decoded);
    void run(bool ending);
    bool skip_bom(bool ending);
    bool detect(bool ending);
    void lines(bool ending);
    bool skip_line(bool ending);
    void one_line(std::size_t end);
    void split(bool ending);
    void split_feed(std::string_view bytes, bool end);
    void document(bool ending);
    void document_end();
    void emit_record(std::string_view text, std::uint64_t line, std::uint64_t offset);
    void emit_error(InputError error);

    std::string name;
    PushOptions options;
    RecordSink& sink;
    std::vector<PointerSegment> pointer;
    bool has_pointer = false;
    PushProgress progress;
    bool finished = false;

    // Decoding.
    ContentEncoding encoding;
    std::string magic;  ///< first bytes while `detect` is undecided
    std::vector<char> block;
    z_stream z{};
    bool z_ready = false;
    bool member_done = false;
    bool member_started = false;
    ZSTD_DStream* zstd = nullptr;
    std::size_t zstd_hint = 0;
    std::string damage;  ///< why decoding stopped (with the offset), empty while it did not

    // Text.
    Stage stage = Stage::bom;
    InputFormat format;
    Held held;
    std::size_t detect_searched = 0;   ///< bytes of held searched for a newline by detect()
    std::size_t detect_evaluated = 0;  ///< bytes of held when the automatic rule last looked
    std::uint64_t line = 1;            ///< NDJSON: line of held's first byte
    std::size_t scanned = 0;           ///< NDJSON: bytes of held searched for a newline
    bool skipping = false;             ///< NDJSON line or document over the limit, read past
    InputError skip_error{};
    std::uint64_t skip_length = 0;
    std::size_t trailing_blanks = 0;  ///< NDJSON: blanks at the end of the line read past
    std::unique_ptr<JsonSplitter> splitter;
    std::uint64_t origin = 0;              ///< source offset of the splitter's offset 0
    std::optional<std::uint64_t> skipped;  ///< splitter offset of a record read past
    std::string skipped_text;
    std::string composed;  ///< a record with its carried members
    od::parser parser;

    /// The pointer as the splitter takes it.
    [[nodiscard]] std::vector<JsonSplitSegment> split_segments() const {
        std::vector<JsonSplitSegment> segments;
        for (const PointerSegment& segment : pointer) {
            segments.push_back({segment.key, segment.wildcard});
        }
        return segments;
    }
};

PushSource::State::State(std::string name_, PushOptions options_, RecordSink& sink_)
    : name(std::move(name_)),
      options(std::move(options_)),
      sink(sink_),
      encoding(options.encoding),
      block(block_bytes),
      format(options.format) {
    pointer = parse_json_pointer(options.pointer);
    has_pointer = !options.pointer.empty();
    if (!options.carry.empty()) {
        if (format == InputFormat::ndjson) {
            throw Error("input source '" + name +
                        "': carried members need a JSON document cut by the pointer, not NDJSON");
        }
        try {
            JsonSplitter check(split_segments(), false, 1, options.carry);
        } catch (const std::invalid_argument& error) {
            throw Error(error.what());
        }
    }
    options.max_record_bytes = std::max<std::size_t>(options.max_record_bytes, 1);
}

PushSource::State::~State() {
    if (z_ready) {
        inflateEnd(&z);
    }
    ZSTD_freeDStream(zstd);
}

void PushSource::State::push(std::string_view bytes) {
    if (finished) {
        throw Error("input source '" + name + "': bytes pushed after its end");
    }
    progress.compressed_bytes += bytes.size();
    if (encoding == ContentEncoding::detect) {
        std::size_t taken = 0;
        while (magic_open(magic) && taken < bytes.size()) {
            magic += bytes[taken++];
        }
        if (magic_open(magic)) {
            return;
        }
        encoding = by_magic(magic);
        decode(std::exchange(magic, {}));
        bytes.remove_prefix(taken);
    }
    decode(bytes);
}

void PushSource::State::finish() {
    if (finished) {
        return;
    }
    finished = true;
    if (encoding == ContentEncoding::detect) {
        encoding = by_magic(magic);
        decode(std::exchange(magic, {}));
    }
    decode_end();
    if (stage != Stage::done) {
        run(true);
        stage = Stage::done;
    }
}

void PushSource::State::decode(std::string_view bytes) {
    if (!damage.empty() || bytes.empty()) {
        return;
    }
    if (encoding == ContentEncoding::gzip) {
        inflate_bytes(bytes);
        return;
    }
    if (encoding == ContentEncoding::zstd) {
        zstd_bytes(bytes);
        return;
    }
    while (!bytes.empty()) {
        std::size_t size = std::min(bytes.size(), block_bytes);
        text(bytes.substr(0, size));
        bytes.remove_prefix(size);
    }
}

// As engine/input.cpp `GzipStream`: members in a row, damage after the bytes inflated before it.
void PushSource::State::inflate_bytes(std::string_view bytes) {
    if (!z_ready) {
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
            throw std::bad_alloc();
        }
        z_ready = true;
    }
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(bytes.size());
    bool output_full = false;
    while (z.avail_in > 0 || output_full) {
        if (member_done) {  // another member follows
            inflateReset(&z);
            member_done = false;
        }
        member_started = true;
        z.next_out = reinterpret_cast<Bytef*>(block.data());
        z.avail_out = static_cast<uInt>(block.size());
        int rc = inflate(&z, Z_NO_FLUSH);
        std::size_t produced = block.size() - z.avail_out;
        output_full = z.avail_out == 0;
        text({block.data(), produced});
        if (rc == Z_STREAM_END) {
            member_done = true;
            output_full = false;
        } else if (rc == Z_BUF_ERROR && produced == 0) {
            break;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            damaged(std::string("gzip: corrupt data (") +
                    (z.msg != nullptr ? z.msg : "inflate failed") + ")");
            return;
        }
    }
}

// As engine/input.cpp `ZstdStream`: frames in a row.
void PushSource::State::zstd_bytes(std::string_view bytes) {
    if (zstd == nullptr) {
        zstd = ZSTD_createDStream();
        if (zstd == nullptr) {
            throw std::bad_alloc();
        }
    }
    ZSTD_inBuffer input{bytes.data(), bytes.size(), 0};
    bool output_full = false;
    while (input.pos < input.size || output_full) {
        ZSTD_outBuffer output{block.data(), block.size(), 0};
        zstd_hint = ZSTD_decompressStream(zstd, &output, &input);
        if (ZSTD_isError(zstd_hint) != 0) {
            damaged(std::string("zstd: corrupt data (") + ZSTD_getErrorName(zstd_hint) + ")");
            return;
        }
        output_full = output.pos == output.size;
        text({block.data(), output.pos});
    }
}

/// The compressed stream ended: a member or frame still open is a truncation.
void PushSource::State::decode_end() {
    if (!damage.empty()) {
        return;
    }
    if (encoding == ContentEncoding::gzip && !member_done) {
        damaged("gzip: unexpected end of compressed data");
    } else if (encoding == ContentEncoding::zstd && zstd_hint != 0) {
        damaged("zstd: unexpected end of compressed data");
    }
}

/// Decoding stopped: the text stage ends now, the damage its last error.
void PushSource::State::damaged(std::string reason) {
    damage = std::move(reason) + " at decompressed offset " +
             std::to_string(progress.decompressed_bytes);
    if (stage != Stage::done) {
        run(true);
        stage = Stage::done;
    }
}

void PushSource::State::text(std::string_view decoded) {
    if (decoded.empty() || stage == Stage::done) {
        return;
    }
    progress.decompressed_bytes += decoded.size();
    held.append(decoded);
    run(false);
}

/// Runs the stages on what is held; `ending`: nothing more will come.
void PushSource::State::run(bool ending) {
    if (stage == Stage::bom && !skip_bom(ending)) {
        return;
    }
    if (stage == Stage::detect && !detect(ending)) {
        return;
    }
    if (stage == Stage::lines) {
        lines(ending);
    } else if (stage == Stage::split) {
        split(ending);
    } else if (stage == Stage::document) {
        document(ending);
    }
}

/// Skips a leading UTF-8 byte order mark (offsets still count it); false while undecided.
bool PushSource::State::skip_bom(bool ending) {
    std::string_view bytes = held.view();
    if (!ending && bytes.size() < bom.size() && bom.substr(0, bytes.size()) == bytes) {
        return false;
    }
    if (bytes.substr(0, bom.size()) == bom) {
        held.drop(bom.size());
    }
    stage = Stage::detect;
    return true;
}

/// Decides the format (`InputFormat::automatic`: engine/input.cpp `SourceReader::detect`, never
/// paused); false while the bytes do not decide.
bool PushSource::State::detect(bool ending) {
    if (format == InputFormat::automatic) {
        std::string_view bytes = held.view();
        // A decision, once the rule makes it, stays whatever follows; so looking again only
        // after a newline or another 4 KiB changes when it is made, never what it is, and keeps
        // detection linear for 1-byte pushes.
        bool newline = bytes.find('\n', detect_searched) != std::string_view::npos;
        detect_searched = bytes.size();
        if (!ending && !newline && bytes.size() < detect_evaluated + 4096) {
            return false;
        }
        detect_evaluated = bytes.size();
        std::size_t first = bytes.find_first_not_of(" \t\r\n");
        std::size_t line1_end = first == std::string_view::npos ? first : bytes.find('\n', first);
        bool final = ending || (line1_end != std::string_view::npos &&
                                bytes.size() - line1_end > detail::detect_window_bytes);
        std::optional<InputFormat> found;
        if (final || line1_end != std::string_view::npos) {
            found = detail::classify(bytes, final, false);
        }
        if (!found && first != std::string_view::npos && line1_end == std::string_view::npos &&
            bytes.size() > options.max_record_bytes) {
            found = bytes[first] == '[' ? InputFormat::json_array : InputFormat::ndjson;
        }
        if (!found) {
            return false;
        }
        format = *found;
    }
    if (format == InputFormat::ndjson && !options.carry.empty()) {
        emit_error({name,
                    1,
                    held.offset(),
                    "carried members need a JSON document cut by the pointer, not NDJSON",
                    {}});
        held.drop(held.size());
        stage = Stage::done;
        return false;
    } else if (format == InputFormat::ndjson) {
        stage = Stage::lines;
    } else if (format == InputFormat::document && !has_pointer) {
        stage = Stage::document;
    } else {
        stage = Stage::split;
        origin = held.offset();
        splitter = std::make_unique<JsonSplitter>(split_segments(),
                                                  format == InputFormat::json_array && !has_pointer,
                                                  1024, options.carry);
    }
    return true;
}

void PushSource::State::emit_record(std::string_view text, std::uint64_t line_,
                                    std::uint64_t offset) {
    ++progress.records;
    sink.record({.text = text, .line = line_, .byte_offset = offset});
}

void PushSource::State::emit_error(InputError error) {
    ++progress.errors;
    sink.error(std::move(error));
}

// NDJSON (engine/input.cpp `SourceReader::read_lines` and `InputReader::finish_lines`): each
// complete line is a record, or with a pointer the records a simdjson walk finds in it; the
// last line needs no newline. A line over the limit is read past once it is over, so memory
// stays the limit plus a block.
void PushSource::State::lines(bool ending) {
    for (;;) {
        if (skipping && !skip_line(ending)) {
            return;
        }
        std::string_view bytes = held.view();
        const void* found = std::memchr(bytes.data() + scanned, '\n', bytes.size() - scanned);
        if (found == nullptr) {
            scanned = bytes.size();
            std::size_t first = std::min(bytes.find_first_not_of(" \t\r\n"), bytes.size());
            if (trim_right(bytes.substr(first)).size() > options.max_record_bytes) {
                skipping = true;
                skip_error = {name, line, held.offset() + first, {}, {}};  // text: skip_line
                skip_length = 0;
                held.drop(first);
                continue;
            }
            if (ending && !bytes.empty() && damage.empty()) {
                one_line(bytes.size());
                held.drop(bytes.size());
            } else if (ending && !damage.empty()) {
                // The partial line the damage cut is part of the one error, not a record.
                emit_error({name, line, held.offset(), damage,
                            shorten(trim_right(bytes), options.error_text_bytes_max)});
            }
            return;
        }
        auto end = static_cast<std::size_t>(static_cast<const char*>(found) - bytes.data());
        one_line(end);
        held.drop(end + 1);
        ++line;
        scanned = 0;
    }
}

/// Reads past a line over the limit; true once its newline was met (the error then went out).
bool PushSource::State::skip_line(bool ending) {
    std::string_view bytes = held.view();
    std::size_t end = std::min(bytes.find('\n'), bytes.size());
    std::string_view part = bytes.substr(0, end);
    std::size_t kept = trim_right(part).size();
    // The error quotes the line's first bytes, as a line read whole would be quoted.
    std::size_t room = options.error_text_bytes_max -
                       std::min(options.error_text_bytes_max, skip_error.text.size());
    skip_error.text.append(part.substr(0, room));
    if (kept > 0) {
        skip_length += trailing_blanks + kept;
        trailing_blanks = part.size() - kept;
    } else {
        trailing_blanks += part.size();
    }
    bool line_end = end < bytes.size();
    held.drop(line_end ? end + 1 : end);
    if (!line_end && !ending) {
        return false;
    }
    skip_error.reason = too_large(skip_length, options.max_record_bytes);
    if (skip_length < skip_error.text.size()) {  // the whole line is quoted: no blanks after
        skip_error.text.resize(static_cast<std::size_t>(skip_length));
    }
    emit_error(std::exchange(skip_error, InputError{}));
    skipping = false;
    trailing_blanks = 0;
    scanned = 0;
    if (line_end) {
        ++line;
        return true;
    }
    if (!damage.empty()) {
        emit_error({name, line, held.offset(), damage, {}});
    }
    return false;
}

/// One NDJSON line: `held.view()[0, end)`.
void PushSource::State::one_line(std::size_t end) {
    std::string_view bytes = held.view();
    std::size_t first = 0;
    while (first < end && is_space(bytes[first])) {
        ++first;
    }
    std::string_view text = trim_right(bytes.substr(first, end - first));
    std::uint64_t offset = held.offset() + first;
    if (text.size() > options.max_record_bytes) {
        emit_error({name, line, offset, too_large(text.size(), options.max_record_bytes),
                    shorten(text, options.error_text_bytes_max)});
        return;
    }
    if (text.empty()) {
        return;
    }
    if (!has_pointer) {
        emit_record(text, line, offset);
        return;
    }
    auto on_record = [&](std::string_view found) {
        emit_record(found, line,
                    held.offset() + static_cast<std::size_t>(found.data() - bytes.data()));
    };
    auto on_error = [&](const char* at, std::string reason) {
        // The line's start, so that the error points at the line the rejects file quotes.
        reason += " (column " + std::to_string(at - text.data() + 1) + ")";
        emit_error(
            {name, line, offset, std::move(reason), shorten(text, options.error_text_bytes_max)});
    };
    std::size_t capacity = text.size() + simdjson::SIMDJSON_PADDING;
    detail::walk_document(parser, text.data(), text.size(), capacity, pointer, false, on_record,
                          on_error);
    if (text.size() >= detail::parser_kept_bytes_max) {
        parser = od::parser{};  // a big line's index is not kept
    }
}

// A json-array or pointer document (engine/input.cpp `SourceReader::split_document`): cut by
// the streaming splitter as the bytes come; `held` keeps the record being cut, or nothing.
void PushSource::State::split(bool ending) {
    std::optional<std::size_t> from = held.index(origin + splitter->position());
    if (!splitter->failed() && from) {
        split_feed(held.view().substr(*from), false);
    }
    if (ending) {
        if (damage.empty()) {
            split_feed({}, true);
        } else {
            emit_error({name, splitter->line(), origin + splitter->position(), damage, {}});
        }
        held.drop(held.size());
        return;
    }
    std::optional<std::uint64_t> start = splitter->record_start();
    if (start && !skipped &&
        held.offset() + held.size() - (origin + *start) > options.max_record_bytes) {
        skipped = *start;
        std::optional<std::size_t> at = held.index(origin + *start);
        skipped_text = at ? shorten(held.view().substr(*at), options.error_text_bytes_max) : "";
    }
    std::optional<std::size_t> keep =
        start && !skipped ? held.index(origin + *start) : std::nullopt;
    held.drop(keep ? *keep : held.size());
}

/// Feeds `bytes` (the end of `held`) to the splitter, or tells it the document ended, and
/// hands out what it finds.
void PushSource::State::split_feed(std::string_view bytes, bool end) {
    auto on_error = [&](std::uint64_t offset, std::uint64_t at_line, std::string reason) {
        std::optional<std::size_t> at = held.index(origin + offset);
        bool was_skipped = skipped == offset;
        skipped = was_skipped ? std::nullopt : skipped;
        std::string text = was_skipped ? skipped_text
                           : at ? shorten(held.view().substr(*at), options.error_text_bytes_max)
                                : std::string();
        emit_error({name, at_line, origin + offset, std::move(reason), std::move(text)});
    };
    auto on_record = [&](std::uint64_t offset, std::uint64_t length, std::uint64_t at_line) {
        if (skipped == offset || length > options.max_record_bytes) {
            on_error(offset, at_line, too_large(length, options.max_record_bytes));
            skipped.reset();
            return;
        }
        std::optional<std::size_t> at = held.index(origin + offset);
        PGINGEST_ASSERT(at.has_value());
        std::string_view text = held.view().substr(*at, static_cast<std::size_t>(length));
        if (splitter->carries()) {
            splitter->compose(text, composed);
            // The promised padding after the text (SourceRecord::text).
            composed.reserve(composed.size() + simdjson::SIMDJSON_PADDING);
            text = composed;
        }
        emit_record(text, at_line, origin + offset);
    };
    CallbackSink callbacks(on_record, on_error);
    if (end) {
        splitter->finish(callbacks);
    } else {
        splitter->feed(bytes, callbacks);
    }
}

// A document without pointer (engine/input.cpp `SourceReader::read_document`): the source is
// the one record, held whole up to the limit, read past beyond it.
void PushSource::State::document(bool ending) {
    std::string_view bytes = held.view();
    if (!skipping && bytes.size() > options.max_record_bytes) {
        std::size_t first = std::min(bytes.find_first_not_of(" \t\r\n"), bytes.size());
        skipping = true;
        skip_error = {name,
                      detail::LineCounter(bytes.data()).line_at(first),
                      held.offset() + first,
                      {},
                      shorten(bytes.substr(first), options.error_text_bytes_max)};
        skip_length = 0;
        held.drop(first);
        bytes = held.view();
    }
    if (skipping) {
        skip_length += bytes.size();
        held.drop(bytes.size());
        if (ending) {
            skip_error.reason = too_large(skip_length, options.max_record_bytes);
            std::uint64_t at_line = skip_error.line;
            emit_error(std::exchange(skip_error, InputError{}));
            if (!damage.empty()) {
                emit_error({name, at_line, held.offset(), damage, {}});
            }
        }
        return;
    }
    if (ending) {
        document_end();
    }
}

/// The whole source is the record; damage makes it the error.
void PushSource::State::document_end() {
    std::string_view bytes = held.view();
    std::size_t first = std::min(bytes.find_first_not_of(" \t\r\n"), bytes.size());
    std::uint64_t at_line = detail::LineCounter(bytes.data()).line_at(first);
    std::string_view text = trim_right(bytes.substr(first));
    if (!damage.empty()) {
        emit_error({name, at_line, held.offset() + first, damage,
                    shorten(text, options.error_text_bytes_max)});
    } else if (!text.empty()) {
        emit_record(text, at_line, held.offset() + first);
    } else if (options.format == InputFormat::document) {
        emit_error({name, 1, held.offset(),
                    "the file holds no JSON document (it is empty or only whitespace)",
                    shorten(bytes, options.error_text_bytes_max)});
    }
    held.drop(bytes.size());
}

PushSource::PushSource(std::string name, PushOptions options, RecordSink& sink)
    : _state(std::make_unique<State>(std::move(name), std::move(options), sink)) {}

PushSource::~PushSource() = default;

void PushSource::push(std::span<const char> bytes) {
    _state->push({bytes.data(), bytes.size()});
}

void PushSource::finish() {
    _state->finish();
}

bool PushSource::finished() const noexcept {
    return _state->finished;
}

const std::string& PushSource::name() const noexcept {
    return _state->name;
}

PushProgress PushSource::progress() const noexcept {
    return _state->progress;
}

namespace {

/// Waits until `fd` is readable (for a FIFO whose writer has not come, until it comes and
/// writes or closes: Linux fs/pipe.c `pipe_poll` reports nothing before).
void wait_readable(int fd, const std::string& name) {
    for (;;) {
        pollfd waiting{fd, POLLIN, 0};
        int ready = ::poll(&waiting, 1, -1);
        if (ready > 0) {
            return;
        }
        if (ready < 0 && errno != EINTR) {
            throw Error("cannot wait for input file '" + name + "': " + std::strerror(errno));
        }
    }
}

}  // namespace

void push_descriptor(int fd, PushSource& source, std::size_t block_bytes_) {
    struct stat status {};
    bool regular = ::fstat(fd, &status) == 0 && S_ISREG(status.st_mode);
    std::vector<char> buffer(std::max<std::size_t>(block_bytes_, 1));
    for (;;) {
        if (!regular) {
            wait_readable(fd, source.name());
        }
        ssize_t got = ::read(fd, buffer.data(), buffer.size());
        if (got > 0) {
            source.push(std::span<const char>(buffer.data(), static_cast<std::size_t>(got)));
            continue;
        }
        if (got == 0) {
            break;
        }
        // EAGAIN: a FIFO opened O_NONBLOCK (so that opening never waits for its writer).
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            throw Error("cannot read input file '" + source.name() + "': " + std::strerror(errno));
        }
    }
    source.finish();
}

void push_file(const std::string& path, PushSource& source) {
    if (path == "-") {
        push_descriptor(0, source);
        return;
    }
    // O_NONBLOCK: opening a FIFO must not wait for its writer (as engine/input.cpp).
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat status {};
    if (fd < 0 || ::fstat(fd, &status) != 0) {
        int code = errno;
        if (fd >= 0) {
            ::close(fd);
        }
        throw Error("cannot open input file '" + path + "': " + std::strerror(code));
    }
    if (S_ISDIR(status.st_mode)) {
        ::close(fd);
        throw Error("cannot read input file '" + path + "': it is a directory");
    }
    try {
        push_descriptor(fd, source);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}

}  // namespace pgingest::tools
