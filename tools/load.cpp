#include "tools/load.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <thread>

#include "codecs/assert.hpp"
#include "codecs/json_writer.hpp"
#include "engine/engine.hpp"
#include "engine/errors.hpp"
#include "tools/input.hpp"
#include "tools/local_server.hpp"

namespace pgingest::tools {

namespace {

using Clock = std::chrono::steady_clock;

/// Row tags: the source's index in the high 16 bits, the record's byte offset in the
/// decompressed source in the low 48 (what a server reject is traced back with).
constexpr int tag_source_shift = 48;
constexpr std::uint64_t tag_offset_mask = (std::uint64_t{1} << tag_source_shift) - 1;

std::uint64_t make_tag(std::size_t source, std::uint64_t byte_offset) noexcept {
    return (static_cast<std::uint64_t>(source) << tag_source_shift) |
           (byte_offset & tag_offset_mask);
}

/// Where rejected records go: one NDJSON line each, to a file or stderr. Thread-safe.
class RejectSink {
  public:
    RejectSink(const std::string& path, std::vector<std::string> sources)
        : _sources(std::move(sources)) {
        if (path.empty()) {
            _file = stderr;
            return;
        }
        _file = std::fopen(path.c_str(), "w");
        if (_file == nullptr) {
            throw std::invalid_argument("--rejects " + path +
                                        ": cannot open for writing: " + std::strerror(errno));
        }
        _owned = true;
    }
    ~RejectSink() {
        if (_owned) {
            std::fclose(_file);
        }
    }
    RejectSink(const RejectSink&) = delete;
    RejectSink& operator=(const RejectSink&) = delete;

    /// A record refused before it reached the server; `record` is its original text.
    void client(std::string_view source, std::uint64_t line, std::uint64_t byte_offset,
                std::string_view reason, std::string_view record) {
        write(Entry{source, line, byte_offset, reason, "", &record});
    }

    /// A row the server refused, traced back through its tag. Kept until `finish`, which
    /// finds the record's line and text in its source.
    void server(const RejectReport& report) {
        std::lock_guard lock(_mutex);
        _server.push_back(ServerReject{static_cast<std::size_t>(report.tag >> tag_source_shift),
                                       report.tag & tag_offset_mask, report.message,
                                       report.sqlstate});
        _count.fetch_add(1);
    }

    /// A row the server refused whose record is known (stdin: `HeldRecords`); written at once.
    void server_found(const RejectReport& report, std::uint64_t line, std::string_view record) {
        std::string_view name =
            source_name(static_cast<std::size_t>(report.tag >> tag_source_shift));
        write(Entry{name, line, report.tag & tag_offset_mask, report.message, report.sqlstate,
                    &record});
    }

    /// Writes the rows the server refused, each with its line and original text: the sources
    /// that have any are read once more with `input` (the format and pointer of the load), so
    /// the record texts of files need not be held while their rows are in flight (stdin's are,
    /// and its rejects were written by `server_found`). Call once the load is over.
    void finish(const InputOptions& input) {
        std::sort(_server.begin(), _server.end(), [](const ServerReject& a, const ServerReject& b) {
            return a.source != b.source ? a.source < b.source : a.byte_offset < b.byte_offset;
        });
        for (std::size_t first = 0; first < _server.size();) {
            std::size_t last = first;
            while (last < _server.size() && _server[last].source == _server[first].source) {
                ++last;
            }
            write_source(input, first, last);
            first = last;
        }
        _server.clear();
    }

    [[nodiscard]] std::uint64_t count() const noexcept { return _count.load(); }
    /// Flushes the file; false (and errno set) when writing failed.
    [[nodiscard]] bool close() { return std::fflush(_file) == 0 && !std::ferror(_file); }

  private:
    /// The source as given on the command line ("-" for stdin), "?" for a tag of no source.
    [[nodiscard]] std::string_view source_name(std::size_t index) const noexcept {
        return index < _sources.size() ? std::string_view(_sources[index]) : std::string_view("?");
    }

    struct Entry {
        std::string_view source;
        std::uint64_t line;  ///< 0: unknown
        std::uint64_t byte_offset;
        std::string_view reason;
        std::string_view sqlstate;
        const std::string_view* record;  ///< nullptr: not known (server rejects)
    };

    /// One NDJSON line. A record that is not valid UTF-8 cannot be a JSON string: it is left
    /// out and `record_invalid_utf8` says so.
    static void format(ByteBuffer& line, const Entry& entry, bool with_record) {
        JsonWriter json(line, JsonWriterOptions{.nul = NulPolicy::replace});
        json.begin_object();
        json.key("source");
        json.string(entry.source);
        if (entry.line != 0) {
            json.key("line");
            json.number(entry.line);
        }
        json.key("byte_offset");
        json.number(entry.byte_offset);
        json.key("reason");
        json.string(entry.reason);
        if (!entry.sqlstate.empty()) {
            json.key("sqlstate");
            json.string(entry.sqlstate);
        }
        if (entry.record != nullptr) {
            json.key(with_record ? "record" : "record_invalid_utf8");
            if (with_record) {
                json.string(*entry.record);  // the original text: it may not be valid JSON
            } else {
                json.boolean(true);
            }
        }
        json.end_object();
        (void)json.finish();  // on error (invalid UTF-8) the buffer is left empty
    }

    void write(const Entry& entry, bool count = true) {
        ByteBuffer line;
        format(line, entry, true);
        if (line.empty()) {
            format(line, entry, false);
        }
        line.put_u8('\n');
        std::lock_guard lock(_mutex);
        std::fwrite(line.data(), 1, line.size(), _file);
        if (count) {
            _count.fetch_add(1);
        }
    }

    struct ServerReject {
        std::size_t source;
        std::uint64_t byte_offset;
        std::string message;
        std::string sqlstate;
    };

    /// `finish` for the rejects `_server[first, last)`, all of one source.
    void write_source(const InputOptions& input, std::size_t first, std::size_t last) {
        std::size_t index = _server[first].source;
        std::string_view name = source_name(index);
        std::size_t next = first;
        if (name != "-" && index < _sources.size()) {
            try {
                InputReader again({_sources[index]}, input);
                RecordChunk chunk;
                while (next < last && again.next(chunk)) {
                    for (const RecordRef& record : chunk.records) {
                        while (next < last && _server[next].byte_offset < record.byte_offset) {
                            write_server(name, _server[next], 0, nullptr);  // not found again
                            ++next;
                        }
                        if (next < last && _server[next].byte_offset == record.byte_offset) {
                            std::string_view text = chunk.text(record);
                            write_server(name, _server[next], record.line, &text);
                            ++next;
                        }
                    }
                }
            } catch (const std::exception&) {
                // The source changed or vanished since: the rejects keep their byte offsets.
            }
        }
        for (; next < last; ++next) {
            write_server(name, _server[next], 0, nullptr);
        }
    }

    void write_server(std::string_view name, const ServerReject& reject, std::uint64_t line,
                      const std::string_view* record) {
        write(Entry{name, line, reject.byte_offset, reject.message, reject.sqlstate, record},
              false);
    }

    std::vector<ServerReject> _server;
    std::vector<std::string> _sources;
    std::FILE* _file = nullptr;
    bool _owned = false;
    std::mutex _mutex;
    std::atomic<std::uint64_t> _count{0};
};

/// The texts of records read from stdin while their rows are in flight. Stdin cannot be read
/// again after the load (as files are, see `RejectSink::finish`), so a row the server refuses is
/// traced to its line and text here. Each chunk of stdin records is copied, so its buffer goes
/// back to the reader at once, and dropped when the last of its rows is committed or refused:
/// memory is bounded by the source text of the rows in flight, which the engine's memory budget
/// bounds. Does nothing for other sources. Thread-safe.
class HeldRecords {
  public:
    /// One chunk's records; `pending` counts its rows not yet committed or refused, plus one for
    /// the producer until it has submitted them all.
    struct Held {
        std::string text;
        std::vector<RecordRef> records;  ///< offsets into `text`
        std::size_t pending = 0;
    };

    /// `stdin_source`: the index of "-" among the sources (its tags' high bits), or none.
    explicit HeldRecords(std::optional<std::size_t> stdin_source) : _stdin(stdin_source) {}

    [[nodiscard]] bool active() const noexcept { return _stdin.has_value(); }

    /// Chunks still held: 0 once every row was committed or refused.
    [[nodiscard]] std::size_t size() {
        std::lock_guard lock(_mutex);
        return _held.size();
    }

    /// Copies the records of `chunk` (of source `source`) when it is stdin; nullptr otherwise.
    /// Release it with `release(held, rows not submitted + 1)` once its rows are submitted.
    Held* hold(const RecordChunk& chunk, std::size_t source) {
        if (source != _stdin || chunk.records.empty()) {
            return nullptr;
        }
        auto held = std::make_unique<Held>();
        std::size_t begin = chunk.records.front().offset;
        std::size_t end = 0;
        for (const RecordRef& record : chunk.records) {
            begin = std::min(begin, record.offset);
            end = std::max(end, record.offset + record.length);
        }
        held->text.assign(chunk.data->data() + begin, end - begin);
        held->records = chunk.records;
        for (RecordRef& record : held->records) {
            record.offset -= begin;
        }
        held->pending = chunk.records.size() + 1;
        Held* result = held.get();
        std::lock_guard lock(_mutex);
        _held.emplace(make_tag(source, chunk.records.front().byte_offset), std::move(held));
        return result;
    }

    /// Counts `rows` rows of `held` as done (never submitted, or the producer's own count).
    void release(Held* held, std::size_t rows) {
        std::lock_guard lock(_mutex);
        settle(find(make_tag(*_stdin, held->records.front().byte_offset)), rows);
    }

    /// Counts the rows a COMMIT made durable as done.
    void committed(const CommitReport& report) {
        std::lock_guard lock(_mutex);
        for (std::span<const std::uint64_t> run : report.tags) {
            for (std::uint64_t tag : run) {
                if ((tag >> tag_source_shift) == *_stdin) {
                    settle(find(tag), 1);
                }
            }
        }
    }

    /// The line and text of the stdin record tagged `tag`, counting its row as done (the server
    /// refused it); nullopt for other sources.
    std::optional<std::pair<std::uint64_t, std::string>> take(std::uint64_t tag) {
        if (!_stdin || (tag >> tag_source_shift) != *_stdin) {
            return std::nullopt;
        }
        std::lock_guard lock(_mutex);
        auto it = find(tag);
        if (it == _held.end()) {
            return std::nullopt;
        }
        std::optional<std::pair<std::uint64_t, std::string>> found;
        for (const RecordRef& record : it->second->records) {
            if (record.byte_offset == (tag & tag_offset_mask)) {
                found.emplace(record.line, it->second->text.substr(record.offset, record.length));
                break;
            }
        }
        settle(it, 1);
        return found;
    }

  private:
    using Map = std::map<std::uint64_t, std::unique_ptr<Held>>;

    /// The chunk holding the record tagged `tag`: the last whose first tag is not above it.
    Map::iterator find(std::uint64_t tag) {
        auto it = _held.upper_bound(tag);
        if (it == _held.begin()) {
            return _held.end();
        }
        --it;
        std::uint64_t last = make_tag(*_stdin, it->second->records.back().byte_offset);
        return tag <= last ? it : _held.end();
    }

    void settle(Map::iterator it, std::size_t rows) {
        if (it == _held.end()) {
            return;
        }
        PGINGEST_ASSERT(it->second->pending >= rows);
        it->second->pending -= rows;
        if (it->second->pending == 0) {
            _held.erase(it);
        }
    }

    std::optional<std::size_t> _stdin;
    std::mutex _mutex;
    Map _held;
};

/// What the producer threads share.
struct Shared {
    const LoadOptions& options;
    const LoadPlan& plan;
    JsonWriterOptions json;
    InputReader& reader;
    RejectSink& rejects;
    HeldRecords& held;
    Engine& engine;
    std::vector<std::string> sources;
    std::atomic<std::uint64_t> rows_read{0};
    std::atomic<bool> stop{false};
    std::mutex error_mutex{};
    std::exception_ptr error{};
};

std::size_t source_index(const Shared& shared, std::string_view source) {
    for (std::size_t i = 0; i < shared.sources.size(); ++i) {
        if (shared.sources[i] == source) {
            return i;
        }
    }
    return shared.sources.size();
}

bool over_max_errors(const Shared& shared) {
    return shared.rejects.count() > shared.options.max_errors;
}

/// One producer thread: parse and encode records until the input ends or the load stops.
void produce(Shared& shared) {
    Producer producer = shared.engine.producer();
    RecordEncoder encoder(shared.plan, shared.json);
    RecordChunk chunk;
    RecordError error;
    while (!shared.stop.load(std::memory_order_relaxed) && shared.reader.next(chunk)) {
        std::size_t source = source_index(shared, chunk.source);
        for (const InputError& bad : chunk.errors) {
            shared.rejects.client(chunk.source, bad.line, bad.byte_offset, bad.reason, bad.text);
            shared.rows_read.fetch_add(1, std::memory_order_relaxed);
        }
        HeldRecords::Held* held = shared.held.hold(chunk, source);
        std::size_t not_submitted = 0;
        for (const RecordRef& record : chunk.records) {
            std::string_view text = chunk.text(record);
            ByteBuffer* out = producer.begin_row();
            if (encoder.encode(text, *out, error)) {
                producer.end_row(make_tag(source, record.byte_offset));
            } else {
                producer.cancel_row();
                shared.rejects.client(chunk.source, record.line, record.byte_offset, error.reason,
                                      text);
                ++not_submitted;
            }
            shared.rows_read.fetch_add(1, std::memory_order_relaxed);
        }
        if (held != nullptr) {
            shared.held.release(held, not_submitted + 1);
        }
        if (over_max_errors(shared)) {
            shared.stop.store(true);
        }
    }
}

void produce_guarded(Shared& shared) {
    try {
        produce(shared);
    } catch (...) {
        std::lock_guard lock(shared.error_mutex);
        if (!shared.error) {
            shared.error = std::current_exception();
        }
        shared.stop.store(true);
    }
}

std::string megabytes(std::uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
    return text;
}

/// The live progress line on stderr, every half second until `done` is set.
class Progress {
  public:
    Progress(bool enabled, const Shared& shared) : _shared(shared) {
        if (enabled) {
            _thread = std::thread([this] { run(); });
        }
    }
    ~Progress() { stop(); }
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    void stop() {
        {
            std::lock_guard lock(_mutex);
            _done = true;
        }
        _wake.notify_all();
        if (_thread.joinable()) {
            _thread.join();
            std::fputs("\n", stderr);  // the last line stays: the state when reading ended
        }
    }

  private:
    void run() {
        Clock::time_point start = Clock::now();
        std::unique_lock lock(_mutex);
        bool done = false;
        while (!done) {
            done = _wake.wait_for(lock, std::chrono::milliseconds(500), [this] { return _done; });
            print(std::chrono::duration<double>(Clock::now() - start).count());
        }
    }

    void print(double seconds) const {
        InputProgress input = _shared.reader.progress();
        std::uint64_t read = input.compressed_bytes_read;
        double rate = seconds > 0 ? static_cast<double>(read) / seconds : 0;
        std::string line = "\r\033[Kpgingest: " + std::to_string(_shared.rows_read.load()) +
                           " records, " + megabytes(read);
        if (input.total_known && input.total_bytes > 0) {
            double done = static_cast<double>(read) / static_cast<double>(input.total_bytes);
            double left = rate > 0 && input.total_bytes > read
                              ? static_cast<double>(input.total_bytes - read) / rate
                              : 0.0;
            char text[96];
            std::snprintf(text, sizeof text, " of %s (%.0f%%), ETA %.0f s",
                          megabytes(input.total_bytes).c_str(), 100 * done, left);
            line += text;
        }
        line += ", " + megabytes(static_cast<std::uint64_t>(rate)) + "/s, " +
                std::to_string(_shared.rejects.count()) + " rejected";
        std::fputs(line.c_str(), stderr);
    }

    const Shared& _shared;
    std::mutex _mutex;
    std::condition_variable _wake;
    bool _done = false;
    std::thread _thread;
};

InputFormat parse_format(const std::string& format) {
    std::optional<InputFormat> parsed = parse_input_format(format);
    if (!parsed) {
        throw std::invalid_argument("--format " + format +
                                    ": expected auto, ndjson, json-array or document");
    }
    return *parsed;
}

NulPolicy parse_nul(const std::string& nul) {
    if (nul == "error") {
        return NulPolicy::error;
    }
    if (nul == "strip") {
        return NulPolicy::strip;
    }
    if (nul == "replace") {
        return NulPolicy::replace;
    }
    throw std::invalid_argument("--nul " + nul + ": expected error, strip or replace");
}

EngineOptions engine_options(const LoadOptions& options) {
    if (options.io != "uring" && options.io != "libpq") {
        throw std::invalid_argument("--io " + options.io + ": expected uring or libpq");
    }
    if (options.workers == 0 || options.batch_bytes < 4096) {
        throw std::invalid_argument(options.workers == 0 ? "--workers must be at least 1"
                                                         : "--batch-bytes must be at least 4096");
    }
    return EngineOptions{.writers = options.workers,
                         .batch_bytes = options.batch_bytes,
                         .memory_budget_bytes = options.memory_bytes,
                         .txn_bytes_max = options.txn_bytes,
                         .io = options.io == "libpq" ? CopyIo::libpq : CopyIo::uring,
                         .rejects_max = options.max_errors};
}

bool progress_wanted(const LoadOptions& options) {
    if (options.quiet || options.progress == "never") {
        return false;
    }
    return options.progress == "always" || ::isatty(STDERR_FILENO) == 1;
}

/// The load proper, once the plan is made: reader, engine, producers, accounting.
void load_records(const LoadOptions& options, const std::string& conninfo, const LoadPlan& plan,
                  LoadSummary& summary) {
    std::vector<std::string> files =
        options.files.empty() ? std::vector<std::string>{"-"} : options.files;
    InputOptions input{.format = parse_format(options.format), .pointer = options.pointer};
    std::unique_ptr<InputReader> opened;
    try {
        opened = std::make_unique<InputReader>(files, input);
    } catch (const Error& e) {
        throw std::invalid_argument(e.what());  // a file that cannot be opened, a bad pointer
    }
    InputReader& reader = *opened;
    RejectSink rejects(options.rejects, files);
    JsonWriterOptions json{.nul = parse_nul(options.nul)};
    auto stdin_at = std::find(files.begin(), files.end(), "-");
    HeldRecords held(stdin_at == files.end() ? std::nullopt
                                             : std::optional<std::size_t>(static_cast<std::size_t>(
                                                   stdin_at - files.begin())));
    EngineCallbacks callbacks;
    callbacks.on_reject = [&rejects, &held](const RejectReport& report) {
        if (auto found = held.take(report.tag)) {
            rejects.server_found(report, found->first, found->second);
        } else {
            rejects.server(report);
        }
    };
    if (held.active()) {
        callbacks.on_commit = [&held](const CommitReport& report) { held.committed(report); };
    }
    Engine engine(conninfo, plan.table, engine_options(options), std::move(callbacks));
    Shared shared{.options = options,
                  .plan = plan,
                  .json = json,
                  .reader = reader,
                  .rejects = rejects,
                  .held = held,
                  .engine = engine,
                  .sources = files};
    std::size_t threads =
        options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
    Progress progress(progress_wanted(options), shared);
    std::vector<std::thread> producers;
    for (std::size_t i = 0; i < threads; ++i) {
        producers.emplace_back([&shared] { produce_guarded(shared); });
    }
    for (std::thread& producer : producers) {
        producer.join();
    }
    progress.stop();
    summary.rows_read = shared.rows_read.load();
    summary.rows_rejected = rejects.count();
    if (shared.error) {
        summary.rows_loaded = engine.stats().rows_committed;
        rejects.finish(input);
        std::rethrow_exception(shared.error);
    }
    try {
        engine.close();
    } catch (...) {
        summary.rows_loaded = engine.stats().rows_committed;
        summary.rows_rejected = rejects.count();
        rejects.finish(input);
        throw;
    }
    summary.rows_loaded = engine.stats().rows_committed;
    summary.rows_rejected = rejects.count();
    summary.bytes_read = reader.progress().decompressed_bytes;
    rejects.finish(input);
    if (!rejects.close()) {
        throw Error("--rejects " + options.rejects + ": write failed: " + std::strerror(errno));
    }
    if (summary.rows_read != summary.rows_loaded + summary.rows_rejected) {
        throw Error("accounting mismatch: " + std::to_string(summary.rows_read) +
                    " records read, " + std::to_string(summary.rows_loaded) + " loaded, " +
                    std::to_string(summary.rows_rejected) + " rejected (a bug: please report)");
    }
    if (held.size() != 0) {
        throw Error("accounting mismatch: " + std::to_string(held.size()) +
                    " chunks of stdin records not settled after the load (a bug: please report)");
    }
    if (over_max_errors(shared)) {
        summary.exit = LoadExit::max_errors;
        summary.error = "stopped: more than " + std::to_string(options.max_errors) +
                        " records rejected (--max-errors); rows committed before stay";
    } else if (summary.rows_rejected > 0) {
        summary.exit = LoadExit::rejects;
    }
}

void fail(LoadSummary& summary, LoadExit exit, const std::string& message) {
    summary.exit = exit;
    summary.error = message;
}

void run_guarded(const LoadOptions& options, LoadSummary& summary) {
    std::string conninfo;
    LoadPlan plan;
    try {
        ResolvedDatabase database = resolve_database(options.db);
        if (!database.notice.empty() && !options.quiet) {
            std::fprintf(stderr, "pgingest: %s\n", database.notice.c_str());
        }
        conninfo = database.conninfo;
    } catch (const std::exception& e) {  // the local server could not be started
        return fail(summary, LoadExit::connection, e.what());
    }
    try {
        Connection conn(conninfo);
        plan = make_load_plan(read_table_info(conn, options.table), options.mapping);
    } catch (const ConnectionError& e) {
        return fail(summary, LoadExit::connection, e.what());
    } catch (const std::exception& e) {
        return fail(summary, LoadExit::usage, e.what());
    }
    if (options.dry_run) {
        std::fputs(plan.describe().c_str(), stdout);
        return;
    }
    try {
        load_records(options, conninfo, plan, summary);
    } catch (const std::invalid_argument& e) {
        fail(summary, LoadExit::usage, e.what());
    } catch (const ConnectionError& e) {
        fail(summary, LoadExit::connection, e.what());
    } catch (const RejectsExceeded& e) {
        fail(summary, LoadExit::max_errors, e.what());
    } catch (const std::exception& e) {
        fail(summary, LoadExit::failed, e.what());
    }
}

}  // namespace

std::string LoadSummary::to_json() const {
    ByteBuffer out;
    JsonWriter json(out, JsonWriterOptions{.nul = NulPolicy::replace});
    double mb = static_cast<double>(bytes_read) / 1e6;
    json.begin_object();
    json.key("rows_read");
    json.number(rows_read);
    json.key("rows_loaded");
    json.number(rows_loaded);
    json.key("rows_rejected");
    json.number(rows_rejected);
    json.key("bytes_read");
    json.number(bytes_read);
    json.key("seconds");
    json.number(seconds);
    json.key("rows_per_s");
    json.number(seconds > 0 ? static_cast<double>(rows_loaded) / seconds : 0.0);
    json.key("mb_per_s");
    json.number(seconds > 0 ? mb / seconds : 0.0);
    json.key("exit_code");
    json.number(static_cast<std::int64_t>(exit));
    json.key("error");
    if (error.empty()) {
        json.null();
    } else {
        json.string(error);
    }
    json.end_object();
    (void)json.finish();
    return std::string(out.view());
}

std::string LoadSummary::to_text(const std::string& table) const {
    char text[512];
    double mb = static_cast<double>(bytes_read) / 1e6;
    std::snprintf(text, sizeof text,
                  "pgingest load: %llu records read, %llu loaded into %s, %llu rejected\n"
                  "  %.1f MB in %.2f s: %.0f rows/s, %.1f MB/s\n",
                  static_cast<unsigned long long>(rows_read),
                  static_cast<unsigned long long>(rows_loaded), table.c_str(),
                  static_cast<unsigned long long>(rows_rejected), mb, seconds,
                  seconds > 0 ? static_cast<double>(rows_loaded) / seconds : 0.0,
                  seconds > 0 ? mb / seconds : 0.0);
    return text;
}

LoadSummary run_load(const LoadOptions& options) {
    LoadSummary summary;
    Clock::time_point start = Clock::now();
    run_guarded(options, summary);
    summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (options.dry_run && summary.exit == LoadExit::ok) {
        return summary;
    }
    if (!summary.error.empty()) {
        std::fprintf(stderr, "pgingest load: error: %s\n", summary.error.c_str());
    }
    if (options.summary == "json") {
        std::printf("%s\n", summary.to_json().c_str());
    } else if (!options.quiet && summary.exit != LoadExit::usage &&
               summary.exit != LoadExit::connection) {
        std::fputs(summary.to_text(options.table).c_str(), stdout);
    }
    std::fflush(stdout);
    return summary;
}

}  // namespace pgingest::tools
