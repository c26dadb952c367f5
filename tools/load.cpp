#include "tools/load.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
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
#include "engine/input.hpp"
#include "tools/load_ledger.hpp"
#include "tools/local_server.hpp"

namespace pgingest::tools {

namespace {

using Clock = std::chrono::steady_clock;

/// The origin of record `index` of `chunk`, from source `source` (its index in the load's
/// files): the record's byte offset in the decompressed source, covering the bytes up to the
/// next record of the chunk (its line end, blank lines and lines refused before the engine), so
/// the origins of a chunk's rows touch and merge into one range (engine/origin.hpp); the last
/// record of a chunk covers its own text only. What the ledger (issue 14) settles with.
RowOrigin record_origin(const RecordChunk& chunk, std::size_t index, std::uint32_t source) {
    const RecordRef& record = chunk.records[index];
    std::uint64_t end = record.byte_offset + std::max<std::size_t>(record.length, 1);
    if (index + 1 < chunk.records.size() &&
        chunk.records[index + 1].byte_offset > record.byte_offset) {
        end = chunk.records[index + 1].byte_offset;
    }
    return RowOrigin{.source = source,
                     .length = static_cast<std::uint32_t>(
                         std::min<std::uint64_t>(end - record.byte_offset, UINT32_MAX)),
                     .offset = record.byte_offset};
}

/// Where rejected records go: one NDJSON line each, to a file or stderr, written and flushed as
/// each is found, so no exit (a failure, a signal, a crash) loses one. At most `limit` are
/// written: past it (--max-errors N: N + 1) a reject is dropped, counted by `dropped`, and its
/// record is accounted for as not loaded. Thread-safe.
class RejectSink {
  public:
    /// `append` (--resume): the file keeps the rejects of earlier runs.
    RejectSink(const std::string& path, std::vector<std::string> sources, std::uint64_t limit,
               bool append)
        : _sources(std::move(sources)), _limit(limit) {
        if (path.empty()) {
            _file = stderr;
            return;
        }
        _file = std::fopen(path.c_str(), append ? "a" : "w");
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
    /// `admitted`: its place under the limit was taken by `admit` (it is written whatever the
    /// limit).
    void client(std::string_view source, std::uint64_t line, std::uint64_t byte_offset,
                std::string_view reason, std::string_view record, bool admitted = false) {
        write(Entry{source, line, byte_offset, reason, "", &record}, admitted);
    }

    /// Takes places under the limit for `rejects` rejects about to be written, before the
    /// ledger settles them (a reject the ledger settles is never dropped): returns how many
    /// got one; the others count as dropped.
    std::uint64_t admit(std::uint64_t rejects) {
        std::lock_guard lock(_mutex);
        std::uint64_t allowed = std::min(rejects, _limit - std::min(_limit, _taken));
        _taken += allowed;
        _dropped.fetch_add(rejects - allowed);
        return allowed;
    }

    /// A row the server refused; `record` is its original text (from `HeldRecords`), nullptr
    /// when it was not found (a bug: every row in flight is held).
    void server(const RejectReport& report, std::uint64_t line, const std::string_view* record) {
        write(Entry{source_name(report.origin.source), line, report.origin.offset, report.message,
                    report.sqlstate, record});
    }

    /// Rejects written so far.
    [[nodiscard]] std::uint64_t count() const noexcept { return _count.load(); }
    /// Rejects dropped past the limit (their records were not loaded).
    [[nodiscard]] std::uint64_t dropped() const noexcept { return _dropped.load(); }
    /// Flushes the file; false (and errno set) when writing failed.
    [[nodiscard]] bool close() { return std::fflush(_file) == 0 && !std::ferror(_file); }

  private:
    /// The source as given on the command line ("-" for stdin), "?" for an origin of no source.
    [[nodiscard]] std::string_view source_name(std::size_t index) const noexcept {
        return index < _sources.size() ? std::string_view(_sources[index]) : std::string_view("?");
    }

    struct Entry {
        std::string_view source;
        std::uint64_t line;  ///< 0: unknown
        std::uint64_t byte_offset;
        std::string_view reason;
        std::string_view sqlstate;
        const std::string_view* record;  ///< nullptr: not known
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

    void write(const Entry& entry, bool admitted = false) {
        ByteBuffer line;
        format(line, entry, true);
        if (line.empty()) {
            format(line, entry, false);
        }
        line.put_u8('\n');
        std::lock_guard lock(_mutex);
        if (!admitted && _taken >= _limit) {
            _dropped.fetch_add(1);
            return;
        }
        _taken += admitted ? 0 : 1;
        std::fwrite(line.data(), 1, line.size(), _file);
        std::fflush(_file);
        _count.fetch_add(1);
    }

    std::vector<std::string> _sources;
    std::FILE* _file = nullptr;
    bool _owned = false;
    std::uint64_t _limit;
    std::mutex _mutex;
    std::atomic<std::uint64_t> _count{0};
    std::uint64_t _taken = 0;  ///< places under the limit taken (written or admitted)
    std::atomic<std::uint64_t> _dropped{0};
};

/// With a ledger, the rows the server refused are reported once their transaction committed
/// (with their ledger rows), so a run killed before its COMMIT never reports a reject that its
/// --resume reports again. One list per writer, touched by that writer's thread only.
class ServerRejects {
  public:
    explicit ServerRejects(std::size_t writers) : _held(writers) {}

    void hold(const RejectReport& report,
              std::optional<std::pair<std::uint64_t, std::string>> found) {
        PGINGEST_ASSERT(report.writer_index < _held.size());
        _held[report.writer_index].push_back(Held{report, std::move(found)});
        _waiting.fetch_add(1);
    }

    /// Rejects held now, every writer's (for --max-errors: the load stops at once).
    [[nodiscard]] std::uint64_t waiting() const noexcept { return _waiting.load(); }

    /// Writes the rejects of `writer`'s committed transaction to `sink`.
    void report(std::size_t writer, RejectSink& sink) {
        PGINGEST_ASSERT(writer < _held.size());
        for (const Held& held : _held[writer]) {
            std::string_view text = held.found ? std::string_view(held.found->second) : "";
            sink.server(held.report, held.found ? held.found->first : 0,
                        held.found ? &text : nullptr);
        }
        _waiting.fetch_sub(_held[writer].size());
        _held[writer].clear();
    }

    /// Rejects of transactions that never committed; exact once every writer stopped.
    [[nodiscard]] std::uint64_t unreported() const noexcept {
        std::uint64_t rows = 0;
        for (const auto& list : _held) {
            rows += list.size();
        }
        return rows;
    }

  private:
    struct Held {
        RejectReport report;
        std::optional<std::pair<std::uint64_t, std::string>> found;
    };
    std::vector<std::vector<Held>> _held;
    std::atomic<std::uint64_t> _waiting{0};
};

/// The texts of records while their rows are in flight, for every source: a row the server
/// refuses is traced to its line and text here, so no input is ever opened twice (FIFOs, pipes
/// and stdin cannot be). Each chunk's buffer is kept, not copied (`InputBuffer::keep`: immutable,
/// and no longer counted in the reader's budget, so the reader reads on), and dropped when the
/// last of its rows is committed or refused: memory is bounded by the source text of the rows in
/// flight, which the engine's memory budget bounds. A big record's buffer keeps the reader's one
/// oversize slot until then, so the next big record is read once this one is committed (within
/// `flush_interval_ms`, even when no other row comes): one big record's text and tuple in
/// memory, not also the next one's. Also counts the rows not settled: after the writers
/// stopped, the rows read that were neither committed nor refused. Thread-safe.
class HeldRecords {
  public:
    /// One chunk's records; `pending` counts its rows not yet committed or refused, plus one for
    /// the producer until it has submitted them all.
    struct Held {
        std::shared_ptr<const InputBuffer> data;  ///< the chunk's bytes, kept
        std::vector<RecordRef> records;           ///< offsets into `data`
        std::size_t pending = 0;
    };

    /// Chunks still held: 0 once every row was committed or refused.
    [[nodiscard]] std::size_t size() {
        std::lock_guard lock(_mutex);
        return _held.size();
    }

    /// Rows submitted to the engine and neither committed nor refused (the producers' own counts
    /// left out). Exact once the producers released their chunks and the writers stopped.
    [[nodiscard]] std::uint64_t rows_unsettled() {
        std::lock_guard lock(_mutex);
        std::uint64_t rows = 0;
        for (const auto& [key, held] : _held) {
            rows += held->pending;
        }
        return rows - _producers;
    }

    /// Keeps the records of `chunk` (of source `source`) and their buffer; nullptr when it has
    /// none. Release it with `release(held, rows not submitted)` once its rows are submitted.
    Held* hold(const RecordChunk& chunk, std::uint32_t source) {
        if (chunk.records.empty()) {
            return nullptr;
        }
        auto held = std::make_unique<Held>();
        held->data = chunk.data->keep();
        held->records = chunk.records;
        held->pending = chunk.records.size() + 1;
        Held* result = held.get();
        std::lock_guard lock(_mutex);
        _held.emplace(Key{source, chunk.records.front().byte_offset}, std::move(held));
        ++_producers;
        return result;
    }

    /// Counts `rows` rows of `held` (of source `source`) as never submitted, and the producer's
    /// own count as done.
    void release(Held* held, std::uint32_t source, std::size_t rows) {
        std::lock_guard lock(_mutex);
        --_producers;
        settle(find(source, held->records.front().byte_offset), rows + 1);
    }

    /// Counts the rows a COMMIT made durable as done.
    void committed(const CommitReport& report) {
        std::lock_guard lock(_mutex);
        for (std::span<const RowOrigin> run : report.origins) {
            std::size_t row = 0;
            while (row < run.size()) {
                // One lookup for the rows of the run that come from the same chunk.
                const RowOrigin& origin = run[row];
                auto it = find(origin.source, origin.offset);
                std::size_t rows = 1;
                if (it != _held.end()) {
                    std::uint64_t first = it->first.second;
                    std::uint64_t last = it->second->records.back().byte_offset;
                    while (row + rows < run.size() && run[row + rows].source == origin.source &&
                           run[row + rows].offset >= first && run[row + rows].offset <= last) {
                        ++rows;
                    }
                }
                settle(it, rows);
                row += rows;
            }
        }
    }

    /// The line and text of the record of `origin`, counting its row as done (the server
    /// refused it); nullopt when it is not held (a bug).
    std::optional<std::pair<std::uint64_t, std::string>> take(const RowOrigin& origin) {
        std::lock_guard lock(_mutex);
        auto it = find(origin.source, origin.offset);
        if (it == _held.end()) {
            return std::nullopt;
        }
        std::optional<std::pair<std::uint64_t, std::string>> found;
        for (const RecordRef& record : it->second->records) {
            if (record.byte_offset == origin.offset) {
                found.emplace(record.line,
                              std::string(it->second->data->data() + record.offset, record.length));
                break;
            }
        }
        settle(it, 1);
        return found;
    }

  private:
    /// A held chunk's source and the byte offset of its first record.
    using Key = std::pair<std::uint32_t, std::uint64_t>;
    using Map = std::map<Key, std::unique_ptr<Held>>;

    /// The chunk holding the record of `source` at `byte_offset`: the last chunk of `source`
    /// whose first record does not start after it.
    Map::iterator find(std::uint32_t source, std::uint64_t byte_offset) {
        auto it = _held.upper_bound(Key{source, byte_offset});
        if (it == _held.begin()) {
            return _held.end();
        }
        --it;
        return it->first.first == source && byte_offset <= it->second->records.back().byte_offset
                   ? it
                   : _held.end();
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

    std::mutex _mutex;
    Map _held;
    std::uint64_t _producers = 0;  ///< chunks a producer has not released yet
};

/// Hands the reader's chunks to the producers with a bounded wait, so a producer whose input
/// went quiet wakes up (to hand over its partly filled batch) and a stopped load (a signal,
/// --max-errors, a failure) stops at once even when the reader is blocked on a pipe. Fetcher
/// threads call `InputReader::next` and queue at most `capacity` chunks.
///
/// A fetcher (and the reader's thread) may stay blocked in a read of a pipe or FIFO that never
/// ends: when the feed is destroyed before the input ended, its fetchers are detached and the
/// reader is left alive (the process is about to exit), never joined.
class ChunkFeed {
  public:
    /// What `next` got.
    enum class Got : std::uint8_t { chunk, idle, end };

    ChunkFeed(std::unique_ptr<InputReader> reader, std::size_t fetchers)
        : _state(std::make_shared<State>()) {
        _state->reader = std::move(reader);
        _state->capacity = fetchers;
        _state->running = fetchers;
        for (std::size_t i = 0; i < fetchers; ++i) {
            _threads.emplace_back([state = _state] { fetch(*state); });
        }
    }
    ~ChunkFeed() {
        stop();
        std::unique_lock lock(_state->mutex);
        bool ended = _state->ended;
        lock.unlock();
        for (std::thread& thread : _threads) {
            if (ended) {
                thread.join();
            } else {
                thread.detach();  // blocked in a read that may never return
            }
        }
        if (!ended) {
            static_cast<void>(new std::shared_ptr<State>(_state));  // never joined: see above
        }
    }
    ChunkFeed(const ChunkFeed&) = delete;
    ChunkFeed& operator=(const ChunkFeed&) = delete;

    /// The next chunk, waiting at most `wait`: `idle` when none came, `end` at the end of the
    /// input or once stopped. Rethrows the reader's failure (after the chunks read before it).
    Got next(RecordChunk& chunk, Clock::duration wait) {
        std::unique_lock lock(_state->mutex);
        _state->not_empty.wait_for(lock, wait, [this] {
            return _state->stop || !_state->queue.empty() || _state->running == 0;
        });
        if (_state->stop) {
            return Got::end;
        }
        if (!_state->queue.empty()) {
            chunk = std::move(_state->queue.front());
            _state->queue.pop_front();
            _state->not_full.notify_one();
            return Got::chunk;
        }
        if (_state->running == 0) {
            if (_state->failure) {
                std::rethrow_exception(_state->failure);
            }
            return Got::end;
        }
        return Got::idle;
    }

    /// Stops the feed: `next` returns `end` from now on; chunks read but not taken are dropped.
    void stop() {
        {
            std::lock_guard lock(_state->mutex);
            _state->stop = true;
        }
        _state->not_empty.notify_all();
        _state->not_full.notify_all();
    }

    [[nodiscard]] const InputReader& reader() const noexcept { return *_state->reader; }

  private:
    struct State {
        std::unique_ptr<InputReader> reader;
        std::mutex mutex;
        std::condition_variable not_empty;
        std::condition_variable not_full;
        std::deque<RecordChunk> queue;
        std::size_t capacity = 1;
        std::size_t running = 0;  ///< fetchers not yet returned
        bool stop = false;
        bool ended = false;  ///< the input ended (or failed): no read is blocked
        std::exception_ptr failure;
    };

    static void fetch(State& state) {
        for (;;) {
            RecordChunk chunk;
            bool got = false;
            std::exception_ptr failure;
            try {
                got = state.reader->next(chunk);
            } catch (...) {
                failure = std::current_exception();
            }
            std::unique_lock lock(state.mutex);
            if (got && !failure) {
                state.not_full.wait(
                    lock, [&state] { return state.stop || state.queue.size() < state.capacity; });
            }
            if (!got || failure || state.stop) {
                if (failure && !state.failure) {
                    state.failure = failure;
                }
                state.ended = state.ended || !got || failure;
                --state.running;
                lock.unlock();
                state.not_empty.notify_all();
                return;
            }
            state.queue.push_back(std::move(chunk));
            lock.unlock();
            state.not_empty.notify_one();
        }
    }

    std::shared_ptr<State> _state;
    std::vector<std::thread> _threads;
};

/// SIGINT and SIGTERM during a load, taken by a thread of its own with `sigtimedwait` (no
/// signal handler runs). The constructor blocks both signals in the calling thread, so every
/// thread started after it (the reader, the writers, the producers) inherits the mask. The
/// first signal calls `on_first` (stop reading, finish what is in flight); a second one rolls
/// back what is open and ends the process at once with status 128 + the signal's number: the
/// connections close, so the server rolls back their open transactions; rejects are already on
/// disk. Signals stay blocked after the watcher is gone (the process is about to exit).
class SignalWatcher {
  public:
    SignalWatcher() {
        sigemptyset(&_signals);
        sigaddset(&_signals, SIGINT);
        sigaddset(&_signals, SIGTERM);
        ::pthread_sigmask(SIG_BLOCK, &_signals, nullptr);
        _thread = std::thread([this] { run(); });
    }
    ~SignalWatcher() {
        _done.store(true);
        _thread.join();
    }
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

    /// Sets what the first signal does (called on the watcher's thread); at once when a signal
    /// already came.
    void on_first(std::function<void()> action) {
        std::lock_guard lock(_mutex);
        _action = std::move(action);
        if (_first != 0 && _action) {
            _action();
        }
    }

    /// The first signal's number, 0 when none came.
    [[nodiscard]] int first() const noexcept { return _first.load(); }

  private:
    void run() {
        const timespec tick{.tv_sec = 0, .tv_nsec = 100'000'000};
        while (!_done.load()) {
            int signal = ::sigtimedwait(&_signals, nullptr, &tick);
            if (signal <= 0) {
                continue;
            }
            if (_first.load() != 0) {
                std::fprintf(stderr,
                             "\npgingest load: %s again: rolling back what is open, exiting at "
                             "once (status %d)\n",
                             signal == SIGINT ? "SIGINT" : "SIGTERM", 128 + signal);
                std::fflush(stderr);
                ::_exit(128 + signal);
            }
            std::fprintf(stderr,
                         "\npgingest load: %s: stopped reading, finishing the transactions in "
                         "flight (a second signal aborts them)\n",
                         signal == SIGINT ? "SIGINT" : "SIGTERM");
            std::lock_guard lock(_mutex);
            _first.store(signal);
            if (_action) {
                _action();
            }
        }
    }

    sigset_t _signals{};
    std::atomic<bool> _done{false};
    std::atomic<int> _first{0};
    std::mutex _mutex;
    std::function<void()> _action;
    std::thread _thread;
};

/// While the writers wait for a lock on the table for more than a few seconds: which lock,
/// held by which session. Polls pg_locks every second from a connection of its own, finding
/// the writers by application_name (pgingest) and the table's OID. `note()` is read by the
/// progress line; with no progress line (and not --quiet) each new holder is named once on
/// stderr. Monitoring only: a failure to connect or query leaves the note empty.
class LockWatch {
  public:
    LockWatch(const std::string& conninfo, const TableInfo& table, bool print)
        : _conninfo(conninfo), _table(table.qualified_name), _oid(table.oid), _print(print) {
        _thread = std::thread([this] { run(); });
    }
    ~LockWatch() {
        {
            std::lock_guard lock(_mutex);
            _done = true;
        }
        _wake.notify_all();
        _thread.join();
    }
    LockWatch(const LockWatch&) = delete;
    LockWatch& operator=(const LockWatch&) = delete;

    /// e.g. "waiting 4 s for a lock on public.t: AccessExclusiveLock held by pid 1234 (psql)";
    /// empty when no writer waits that long.
    [[nodiscard]] std::string note() {
        std::lock_guard lock(_mutex);
        return _note;
    }

  private:
    /// Seconds a writer waits before the note names the lock.
    static constexpr int wait_noted_s = 3;

    [[nodiscard]] std::string query() const {
        return "SELECT coalesce((SELECT format('waiting %s s for a lock on ' || " +
               std::string("'") + escape(_table) +
               "' || ': %s held by pid %s (%s)', "
               "extract(epoch FROM now() - w.waitstart)::int8, coalesce(h.mode, 'a lock'), b.pid, "
               "coalesce(nullif(ha.application_name, ''), ha.usename::text, '?')) "
               "FROM pg_locks w JOIN pg_stat_activity wa ON wa.pid = w.pid "
               "CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid) "
               "LEFT JOIN pg_locks h ON h.pid = b.pid AND h.relation = w.relation AND h.granted "
               "LEFT JOIN pg_stat_activity ha ON ha.pid = b.pid "
               "WHERE NOT w.granted AND w.relation = " +
               std::to_string(_oid) +
               " AND wa.application_name = 'pgingest' AND w.waitstart < now() - interval '" +
               std::to_string(wait_noted_s) + " s' ORDER BY w.waitstart, h.mode DESC LIMIT 1), '')";
    }

    static std::string escape(const std::string& text) {
        std::string out;
        for (char c : text) {
            out += c == '\'' ? std::string("''") : std::string(1, c);
        }
        return out;
    }

    void run() {
        std::optional<Connection> conn;
        std::string printed;
        std::unique_lock lock(_mutex);
        while (!_wake.wait_for(lock, std::chrono::seconds(1), [this] { return _done; })) {
            lock.unlock();
            std::string note;
            try {
                if (!conn) {
                    conn.emplace(_conninfo);
                }
                note = conn->query_value(query());
            } catch (const std::exception&) {
                conn.reset();  // monitoring only: try again next time
            }
            std::string holder = note.substr(std::min(note.find(':'), note.size()));
            if (_print && !note.empty() && holder != printed) {
                std::fprintf(stderr, "pgingest load: %s\n", note.c_str());
                printed = holder;
            }
            lock.lock();
            _note = std::move(note);
        }
    }

    std::string _conninfo;
    std::string _table;
    std::uint32_t _oid;
    bool _print;
    std::mutex _mutex;
    std::condition_variable _wake;
    bool _done = false;
    std::string _note;
    std::thread _thread;
};

/// What the producer threads share.
struct Shared {
    const LoadOptions& options;
    const LoadPlan& plan;
    JsonWriterOptions json;
    ChunkFeed& feed;
    RejectSink& rejects;
    HeldRecords& held;
    Engine& engine;
    std::vector<std::string> sources;
    LoadLedger* ledger = nullptr;             ///< nullptr: no ledger
    const ServerRejects* deferred = nullptr;  ///< rejects waiting for their COMMIT (ledger)
    std::atomic<std::uint64_t> rows_read{0};
    std::atomic<std::uint64_t> rows_skipped{0};  ///< settled by an earlier run of the load
    std::atomic<bool> stop{false};
    std::mutex error_mutex{};
    std::exception_ptr error{};
};

/// The index of `source` in the load's files (checked to fit an origin's source id when the
/// load starts), or their count when it is none of them.
std::uint32_t source_index(const Shared& shared, std::string_view source) {
    for (std::size_t i = 0; i < shared.sources.size(); ++i) {
        if (shared.sources[i] == source) {
            return static_cast<std::uint32_t>(i);
        }
    }
    return static_cast<std::uint32_t>(shared.sources.size());
}

bool over_max_errors(const Shared& shared) {
    std::uint64_t waiting = shared.deferred != nullptr ? shared.deferred->waiting() : 0;
    return shared.rejects.count() + waiting > shared.options.max_errors;
}

/// Stops reading: the producers end after the record they are encoding.
void stop_load(Shared& shared) {
    shared.stop.store(true);
    shared.feed.stop();
}

/// Whether an earlier run of the load settled the record at `byte_offset` (counted as skipped).
bool skip_settled(Shared& shared, std::uint32_t source, std::uint64_t byte_offset) {
    if (shared.ledger == nullptr || !shared.ledger->settled(source, byte_offset)) {
        return false;
    }
    shared.rows_skipped.fetch_add(1, std::memory_order_relaxed);
    return true;
}

/// Records refused before the engine, reported once the ledger (if any) settled them, so a
/// resume neither reports them again nor loses one: with a ledger they wait for `flush`.
class ClientRejects {
  public:
    ClientRejects(Shared& shared, std::string_view source_name, std::uint32_t source)
        : _shared(shared), _name(source_name), _source(source) {}

    void add(std::uint64_t line, std::uint64_t byte_offset, std::string_view reason,
             std::string_view text) {
        if (_shared.ledger == nullptr) {
            _shared.rejects.client(_name, line, byte_offset, reason, text);
            return;
        }
        _ledger.push_back(
            LedgerReject{.origin = RowOrigin{.source = _source, .offset = byte_offset},
                         .message = std::string(reason)});
        _lines.push_back(line);
        _texts.emplace_back(text);
        if (_shared.options.max_errors != UINT64_MAX) {
            flush();  // at once: --max-errors stops at the record past the limit
        }
    }

    void flush() {
        if (_ledger.empty()) {
            return;
        }
        // Past --max-errors a reject is dropped: it is not settled either, so a resume
        // reports it.
        _ledger.resize(static_cast<std::size_t>(_shared.rejects.admit(_ledger.size())));
        _shared.ledger->settle_client(_ledger);
        for (std::size_t i = 0; i < _ledger.size(); ++i) {
            _shared.rejects.client(_name, _lines[i], _ledger[i].origin.offset, _ledger[i].message,
                                   _texts[i], true);
        }
        _ledger.clear();
        _lines.clear();
        _texts.clear();
    }

  private:
    Shared& _shared;
    std::string_view _name;
    std::uint32_t _source;
    std::vector<LedgerReject> _ledger;
    std::vector<std::uint64_t> _lines;
    std::vector<std::string> _texts;
};

/// Encodes the records of `chunk`, until the load stops (--max-errors, a signal, a failure).
/// Records an earlier run settled are skipped. The chunk's errors are settled before any of its
/// rows is handed over: a row's origin covers the refused lines after it.
void encode_chunk(Shared& shared, Producer& producer, RecordEncoder& encoder,
                  const RecordChunk& chunk) {
    std::uint32_t source = source_index(shared, chunk.source);
    ClientRejects refused(shared, chunk.source, source);
    for (const InputError& bad : chunk.errors) {
        if (!skip_settled(shared, source, bad.byte_offset)) {
            shared.rows_read.fetch_add(1, std::memory_order_relaxed);
            refused.add(bad.line, bad.byte_offset, bad.reason, bad.text);
        }
    }
    refused.flush();
    HeldRecords::Held* held = shared.held.hold(chunk, source);
    std::size_t not_submitted = 0;
    RecordError error;
    for (std::size_t i = 0; i < chunk.records.size(); ++i) {
        if (shared.stop.load(std::memory_order_relaxed) || over_max_errors(shared)) {
            not_submitted += chunk.records.size() - i;  // not read: the load stopped before
            break;
        }
        const RecordRef& record = chunk.records[i];
        if (skip_settled(shared, source, record.byte_offset)) {
            ++not_submitted;
            continue;
        }
        std::string_view text = chunk.text(record);
        shared.rows_read.fetch_add(1, std::memory_order_relaxed);
        ByteBuffer* out = producer.begin_row();
        if (encoder.encode(text, *out, error)) {
            producer.end_row(record_origin(chunk, i, source));
        } else {
            producer.cancel_row();
            refused.add(record.line, record.byte_offset, error.reason, text);
            ++not_submitted;
        }
    }
    refused.flush();
    if (held != nullptr) {
        shared.held.release(held, source, not_submitted);
    }
}

/// How long a producer waits for a chunk before it checks its partly filled batch.
constexpr auto idle_wait = std::chrono::milliseconds(100);

/// One producer thread: parse and encode records until the input ends or the load stops.
void produce(Shared& shared) {
    Producer producer = shared.engine.producer();
    RecordEncoder encoder(shared.plan, shared.json);
    RecordChunk chunk;
    for (;;) {
        ChunkFeed::Got got = shared.feed.next(chunk, idle_wait);
        if (got == ChunkFeed::Got::end) {
            break;
        }
        if (got == ChunkFeed::Got::idle) {
            producer.submit_if_due();  // no record came: hand over what waited flush_interval
            continue;
        }
        encode_chunk(shared, producer, encoder, chunk);
        // Its buffer goes back to the reader now, not when the next chunk comes: a buffer
        // holding a big record takes the reader's one oversize slot, so the next big record
        // could not be read while this producer waits for it (a deadlock).
        chunk = RecordChunk{};
        if (over_max_errors(shared)) {
            stop_load(shared);
        }
    }
}

void produce_guarded(Shared& shared) {
    try {
        produce(shared);
    } catch (...) {
        {
            std::lock_guard lock(shared.error_mutex);
            if (!shared.error) {
                shared.error = std::current_exception();
            }
        }
        stop_load(shared);
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
    Progress(bool enabled, const Shared& shared, LockWatch& locks)
        : _shared(shared), _locks(locks) {
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

    void print(double seconds) {
        InputProgress input = _shared.feed.reader().progress();
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
        std::string locked = _locks.note();
        if (!locked.empty()) {
            line += "; " + locked;
        }
        std::fputs(line.c_str(), stderr);
    }

    const Shared& _shared;
    LockWatch& _locks;
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

/// A duration flag: a number and a unit (ms, s, min; none: seconds), e.g. 500ms, 2s, 1.5min.
std::uint32_t parse_duration_ms(const std::string& flag, const std::string& text) {
    std::size_t end = 0;
    double value = -1;
    try {
        value = std::stod(text, &end);
    } catch (const std::exception&) {
        end = 0;
    }
    std::string unit = text.substr(end);
    double scale = unit.empty() || unit == "s" ? 1e3 : unit == "ms" ? 1 : unit == "min" ? 6e4 : -1;
    if (end == 0 || scale < 0 || !(value >= 0) || value * scale > 4e9) {
        throw std::invalid_argument(flag + " " + text +
                                    ": expected a duration such as 500ms, 2s or 1min");
    }
    return static_cast<std::uint32_t>(value * scale);
}

EngineOptions engine_options(const LoadOptions& options) {
    if (options.io != "uring" && options.io != "libpq") {
        throw std::invalid_argument("--io " + options.io + ": expected uring or libpq");
    }
    if (options.workers == 0 || options.batch_bytes < 4096) {
        throw std::invalid_argument(options.workers == 0 ? "--workers must be at least 1"
                                                         : "--batch-bytes must be at least 4096");
    }
    return EngineOptions{
        .writers = options.workers,
        .batch_bytes = options.batch_bytes,
        .memory_budget_bytes = options.memory_bytes,
        .txn_bytes_max = options.txn_bytes,
        .io = options.io == "libpq" ? CopyIo::libpq : CopyIo::uring,
        .rejects_max = options.max_errors,
        .lock_timeout_ms = parse_duration_ms("--lock-timeout", options.lock_timeout),
        .reconnect_timeout_ms =
            parse_duration_ms("--reconnect-timeout", options.reconnect_timeout)};
}

bool progress_wanted(const LoadOptions& options) {
    if (options.quiet || options.progress == "never") {
        return false;
    }
    return options.progress == "always" || ::isatty(STDERR_FILENO) == 1;
}

/// Runs the producer threads until the input ends or the load stops, then closes the engine
/// (commits what is in flight) unless a producer failed; the progress line and the lock watch
/// run meanwhile. Returns the first failure, if any.
std::exception_ptr produce_and_close(Shared& shared, const std::string& conninfo,
                                     std::size_t threads) {
    bool progress_on = progress_wanted(shared.options);
    LockWatch locks(conninfo, shared.engine.table(), !progress_on && !shared.options.quiet);
    Progress progress(progress_on, shared, locks);
    std::vector<std::thread> producers;
    for (std::size_t i = 0; i < threads; ++i) {
        producers.emplace_back([&shared] { produce_guarded(shared); });
    }
    for (std::thread& producer : producers) {
        producer.join();
    }
    std::exception_ptr failure = shared.error;
    if (!failure) {
        try {
            shared.engine.close();
        } catch (...) {
            failure = std::current_exception();
        }
    }
    progress.stop();
    return failure;
}

/// The summary's verdict once the counts are in (no failure): checks the accounting.
void conclude(const LoadOptions& options, const RejectSink& rejects, LoadSummary& summary) {
    if (summary.rows_read !=
        summary.rows_loaded + summary.rows_rejected + summary.rows_not_loaded) {
        throw Error("accounting mismatch: " + std::to_string(summary.rows_read) +
                    " records read, " + std::to_string(summary.rows_loaded) + " loaded, " +
                    std::to_string(summary.rows_rejected) + " rejected, " +
                    std::to_string(summary.rows_not_loaded) + " not loaded (a bug: please report)");
    }
    if (rejects.count() > options.max_errors) {
        summary.exit = LoadExit::max_errors;
        summary.error = "stopped: more than " + std::to_string(options.max_errors) +
                        " records rejected (--max-errors); rows committed before stay";
    } else if (summary.interrupted) {
        summary.exit = LoadExit::interrupted;
        summary.error =
            "interrupted: stopped reading; every record read before was loaded or "
            "rejected";
    } else if (summary.rows_not_loaded != 0) {
        throw Error("accounting mismatch: " + std::to_string(summary.rows_not_loaded) +
                    " records read were neither loaded nor rejected (a bug: please report)");
    } else if (summary.rows_rejected > 0) {
        summary.exit = LoadExit::rejects;
    }
}

/// The load proper, once the plan is made: reader, engine, producers, accounting. The counts
/// of `summary` are filled in on every exit, failures included, once every writer stopped.
/// The load's files ("-" for stdin when none), opened; throws `std::invalid_argument` for a
/// file that cannot be opened, a bad pointer or too many files.
std::unique_ptr<InputReader> open_reader(const LoadOptions& options,
                                         const std::vector<std::string>& files) {
    if (files.size() >= UINT32_MAX) {  // a row's origin names its source in 32 bits
        throw std::invalid_argument("too many input files: " + std::to_string(files.size()) +
                                    " (at most " + std::to_string(UINT32_MAX - 1) + ")");
    }
    InputOptions input{.format = parse_format(options.format), .pointer = options.pointer};
    input.max_record_bytes = options.max_record_bytes;
    try {
        return std::make_unique<InputReader>(files, input);
    } catch (const Error& e) {
        throw std::invalid_argument(e.what());  // a file that cannot be opened, a bad pointer
    }
}

/// What the load does with each COMMIT and each row the server refused. With a ledger, the
/// refused rows are reported once their transaction committed (`ServerRejects`).
struct LoadHooks {
    const LoadOptions& options;
    HeldRecords& held;
    RejectSink& rejects;
    ChunkFeed& feed;
    std::atomic<std::uint64_t>& committed;
    LoadLedger* ledger;
    ServerRejects& deferred;

    EngineCallbacks callbacks() const {
        EngineCallbacks callbacks;
        callbacks.on_reject = [hooks = *this](const RejectReport& report) {
            auto found = hooks.held.take(report.origin);
            if (hooks.ledger != nullptr) {
                hooks.deferred.hold(report, std::move(found));  // reported with its COMMIT
                if (hooks.rejects.count() + hooks.deferred.waiting() > hooks.options.max_errors) {
                    hooks.feed.stop();  // start no new batch, as without a ledger
                }
                return;
            }
            std::string_view text = found ? std::string_view(found->second) : std::string_view();
            hooks.rejects.server(report, found ? found->first : 0, found ? &text : nullptr);
            hooks.stop_past_max_errors();
        };
        callbacks.on_commit = [hooks = *this](const CommitReport& report) {
            hooks.held.committed(report);
            hooks.committed.fetch_add(report.rows);
            if (hooks.ledger != nullptr) {
                hooks.deferred.report(report.writer_index, hooks.rejects);
                hooks.stop_past_max_errors();
            }
        };
        if (ledger != nullptr) {
            ledger->attach(callbacks);
        }
        return callbacks;
    }

    void stop_past_max_errors() const {
        if (rejects.count() > options.max_errors) {
            feed.stop();  // start no new batch
        }
    }
};

/// The load proper, once the plan is made: reader, ledger, engine, producers, accounting. The
/// counts of `summary` are filled in on every exit, failures included, once every writer
/// stopped.
void load_records(const LoadOptions& options, const std::string& conninfo, const LoadPlan& plan,
                  SignalWatcher& signals, LoadSummary& summary) {
    EngineOptions engine_settings = engine_options(options);  // bad flags: before any output
    std::vector<std::string> files =
        options.files.empty() ? std::vector<std::string>{"-"} : options.files;
    std::unique_ptr<InputReader> opened = open_reader(options, files);
    // Before the rejects file is opened: a load the ledger refuses writes nothing.
    std::unique_ptr<LoadLedger> ledger =
        LoadLedger::open(options, conninfo, plan.table.qualified_name, files);
    summary.load_id = ledger ? ledger->load_id() : "";
    std::uint64_t limit = options.max_errors == UINT64_MAX ? UINT64_MAX : options.max_errors + 1;
    RejectSink rejects(options.rejects, files, limit, !options.resume.empty());
    HeldRecords held;
    std::atomic<std::uint64_t> committed{0};
    std::size_t threads =
        options.threads != 0 ? options.threads : std::max(1U, std::thread::hardware_concurrency());
    ChunkFeed feed(std::move(opened), threads);
    ServerRejects deferred(options.workers);
    LoadHooks hooks{options, held, rejects, feed, committed, ledger.get(), deferred};
    std::optional<Engine> engine;
    engine.emplace(conninfo, plan.table, engine_settings, hooks.callbacks());
    Shared shared{.options = options,
                  .plan = plan,
                  .json = JsonWriterOptions{.nul = parse_nul(options.nul)},
                  .feed = feed,
                  .rejects = rejects,
                  .held = held,
                  .engine = *engine,
                  .sources = files,
                  .ledger = ledger.get(),
                  .deferred = &deferred};
    signals.on_first([&shared] { stop_load(shared); });
    std::exception_ptr failure = produce_and_close(shared, conninfo, threads);
    signals.on_first({});
    engine.reset();  // every writer stopped: what was not committed is rolled back
    summary.rows_read = shared.rows_read.load();
    summary.rows_loaded = committed.load();
    summary.rows_rejected = rejects.count();
    summary.rows_not_loaded = held.rows_unsettled() + rejects.dropped() + deferred.unreported();
    summary.rows_skipped_settled = shared.rows_skipped.load();
    summary.bytes_read = feed.reader().progress().decompressed_bytes;
    summary.interrupted = signals.first() != 0;
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (!rejects.close()) {
        throw Error("--rejects " + options.rejects + ": write failed: " + std::strerror(errno));
    }
    conclude(options, rejects, summary);
    if (ledger) {
        ledger->end(summary.exit == LoadExit::ok || summary.exit == LoadExit::rejects,
                    options.quiet);
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
    SignalWatcher signals;  // from here on (threads started after it inherit its mask)
    try {
        load_records(options, conninfo, plan, signals, summary);
    } catch (const LoadRefused& e) {
        if (e.exit() != LoadExit::ok) {
            fail(summary, e.exit(), e.what());
        } else if (!options.quiet) {
            std::fprintf(stderr, "pgingest load: %s\n", e.what());
        }
    } catch (const std::invalid_argument& e) {
        fail(summary, LoadExit::usage, e.what());
    } catch (const ConnectionError& e) {
        fail(summary, LoadExit::connection, e.what());
    } catch (const RejectsExceeded& e) {
        fail(summary, LoadExit::max_errors, e.what());
    } catch (const Error& e) {
        fail(summary, LoadExit::failed,
             e.sqlstate() == "55P03"
                 ? "--lock-timeout " + options.lock_timeout + ": gave up waiting for a lock on " +
                       plan.table.qualified_name +
                       " held by another session (see pg_locks): " + e.what()
                 : std::string(e.what()));
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
    json.key("rows_not_loaded");
    json.number(rows_not_loaded);
    json.key("rows_skipped_settled");
    json.number(rows_skipped_settled);
    json.key("load_id");
    if (load_id.empty()) {
        json.null();
    } else {
        json.string(load_id);
    }
    json.key("bytes_read");
    json.number(bytes_read);
    json.key("seconds");
    json.number(seconds);
    json.key("rows_per_s");
    json.number(seconds > 0 ? static_cast<double>(rows_loaded) / seconds : 0.0);
    json.key("mb_per_s");
    json.number(seconds > 0 ? mb / seconds : 0.0);
    json.key("interrupted");
    json.boolean(interrupted);
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
    char text[256];
    double mb = static_cast<double>(bytes_read) / 1e6;
    std::string out = "pgingest load: " + std::to_string(rows_read) + " records read, " +
                      std::to_string(rows_loaded) + " loaded into " + table + ", " +
                      std::to_string(rows_rejected) + " rejected, " +
                      std::to_string(rows_not_loaded) + " not loaded\n";
    std::snprintf(text, sizeof text, "  %.1f MB in %.2f s: %.0f rows/s, %.1f MB/s\n", mb, seconds,
                  seconds > 0 ? static_cast<double>(rows_loaded) / seconds : 0.0,
                  seconds > 0 ? mb / seconds : 0.0);
    out += text;
    if (rows_skipped_settled != 0) {
        out += "  resumed load " + load_id + ": " + std::to_string(rows_skipped_settled) +
               " records settled by earlier runs skipped\n";
    }
    if (interrupted) {
        out +=
            "  interrupted: stopped reading at the signal; the records read before were "
            "loaded or rejected\n";
    }
    return out;
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
        std::fprintf(stderr, "pgingest load: %s%s\n",
                     summary.exit == LoadExit::interrupted ? "" : "error: ", summary.error.c_str());
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
