#include "engine/engine.hpp"

#include <concurrentqueue/blockingconcurrentqueue.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string_view>

#include "codecs/assert.hpp"
#include "codecs/copy_binary.hpp"

namespace pgingest {

namespace detail {

using Clock = std::chrono::steady_clock;

struct Batch {
    ByteBuffer buffer;
    std::vector<std::uint32_t> row_ends;  // offset just past each tuple in `buffer`
    std::vector<std::uint64_t> tags;      // the producer's tag of each tuple
    // Free batches held while this one, grown past the pool's batch capacity by large tuples, is
    // in flight: each pool batch stands for its capacity in the memory budget (see take_ballast).
    std::vector<Batch*> ballast;
    std::uint64_t sequence = 0;  // order of hand-over to the writers, from 1
    Clock::time_point opened;

    [[nodiscard]] std::uint64_t rows() const noexcept { return row_ends.size(); }
    [[nodiscard]] std::size_t row_begin(std::size_t row) const noexcept {
        return row == 0 ? copy_data_header_size : row_ends[row - 1];
    }
};

struct EngineState {
    std::string conninfo;
    EngineOptions options;
    TableInfo table;
    std::string copy_sql;
    EngineCallbacks callbacks;
    std::uint16_t field_count = 0;
    std::chrono::milliseconds flush_interval{0};
    // Batches are kept until their COMMIT, so a writer commits once it holds its share of the
    // pool; otherwise producers would wait for batches that only a commit can return.
    std::size_t txn_batches_max = 1;
    std::size_t batch_capacity = 0;  // bytes reserved for each batch of the pool
    std::size_t ballast_max = 0;     // most pool batches one grown batch holds as ballast
    std::mutex ballast_mutex;        // one producer gathers ballast at a time

    std::vector<std::unique_ptr<Batch>> pool;
    moodycamel::BlockingConcurrentQueue<Batch*> free_batches;
    moodycamel::BlockingConcurrentQueue<Batch*> full_batches;

    std::atomic<bool> stopping{false};
    std::atomic<bool> failed{false};
    std::atomic<std::uint64_t> next_sequence{1};
    std::atomic<std::uint64_t> flush_target{0};

    std::mutex mutex;  // guards in_flight and error
    std::condition_variable committed;
    std::set<std::uint64_t> in_flight;  // sequences handed over and not yet committed
    std::exception_ptr error;

    std::atomic<std::uint64_t> rows_submitted{0};
    std::atomic<std::uint64_t> rows_committed{0};
    std::atomic<std::uint64_t> rows_rejected{0};
    std::atomic<std::uint64_t> batches_committed{0};
    std::atomic<std::uint64_t> transactions_committed{0};
    std::atomic<std::uint64_t> bytes_sent{0};
    std::atomic<std::uint64_t> reconnects{0};
    std::atomic<std::uint64_t> producer_waits{0};
    std::atomic<std::uint64_t> ballast_batches{0};

    void fail(std::exception_ptr cause) {
        {
            std::lock_guard lock(mutex);
            if (!error) {
                error = std::move(cause);
            }
        }
        failed.store(true);
        committed.notify_all();
    }

    void rethrow_if_failed() {
        if (failed.load()) {
            std::lock_guard lock(mutex);
            std::rethrow_exception(error);
        }
    }

    // Back to the pool, with its ballast; a grown buffer is given back to the allocator, so
    // memory does not keep the size of the largest tuples seen.
    void release(Batch* batch) {
        for (Batch* extra : batch->ballast) {
            free_batches.enqueue(extra);
        }
        batch->ballast.clear();
        if (batch->buffer.capacity() > batch_capacity) {
            batch->buffer = ByteBuffer(batch_capacity);
        }
        free_batches.enqueue(batch);
    }

    // Before a batch grown past `batch_capacity` is handed over, takes as many free batches as
    // its extra capacity is worth (at most `ballast_max`), so batches in flight never hold more
    // than the pool's bytes beyond the pool itself, whatever the tuple sizes. Blocks like
    // `begin_row` (WhenFull::reject: takes only what is free). One producer gathers at a time,
    // and ballast_max leaves batches for the others, so gatherers cannot starve each other.
    void take_ballast(Batch& batch) {
        std::size_t units = std::min((batch.buffer.capacity() - 1) / batch_capacity, ballast_max);
        if (units == 0) {
            return;
        }
        std::lock_guard lock(ballast_mutex);
        while (batch.ballast.size() < units) {
            Batch* extra = nullptr;
            if (options.when_full == WhenFull::reject) {
                if (!free_batches.try_dequeue(extra)) {
                    return;
                }
            } else if (!free_batches.wait_dequeue_timed(extra, 100'000)) {
                rethrow_if_failed();
                continue;
            }
            batch.ballast.push_back(extra);
            ballast_batches += 1;
        }
    }
};

namespace {

// How long a writer waits on the queue before looking at its deadlines and flush requests.
constexpr std::int64_t writer_poll_us = 5'000;

// Thrown when a connection was lost during COMMIT, re-established, and the server said the
// transaction did not commit: the attempt must be sent again.
struct AttemptLost {};

// Rows [first, end) of one batch: what a COPY attempt sends after rows were taken out.
struct Segment {
    Batch* batch;
    std::size_t first;
    std::size_t end;
};

// The 1-based tuple ordinal of `COPY t, line N` in the last COPY line of a CONTEXT (a trigger's
// own context lines come first), or 0 when there is none.
std::uint64_t failing_tuple(const std::string& context) {
    std::size_t copy_at = context.rfind("COPY ");
    if (copy_at == std::string::npos) {
        return 0;
    }
    std::size_t line_at = context.find(", line ", copy_at);
    if (line_at == std::string::npos) {
        return 0;
    }
    return std::strtoull(context.c_str() + line_at + 7, nullptr, 10);
}

// A refused row, not a broken connection or a server in trouble: the rest of its transaction
// can be re-sent. Needs a CONTEXT naming the tuple. Not row errors: class 08 (connection) except
// 08P01 (a short field), 40 (deadlock, serialization: ends the load today), 53 (resources),
// 57 (operator intervention), 58 (system). Class XX stays a row error: recv functions raise
// XX000 for one bad field (e.g. "unsupported jsonb version number", FORMATS.md §2.5).
bool is_row_error(const ServerError& error) {
    const std::string& state = error.sqlstate();
    if (state.size() != 5 || failing_tuple(error.context()) == 0) {
        return false;
    }
    std::string_view class_code(state.data(), 2);
    if (class_code == "08") {
        return state == "08P01";
    }
    return class_code != "40" && class_code != "53" && class_code != "57" && class_code != "58";
}

// One writer thread: owns a connection and its COPY; commits per size, rows, time or flush, and
// takes out the rows the server refuses.
class Writer {
  public:
    Writer(EngineState& state, std::size_t index, Connection conn)
        : _state(state), _index(index), _conn(std::move(conn)), _copy(_conn, state.options.io) {
        begin_copy_data(_header);
        put_copy_header(_header);
        end_copy_data(_header);
        set_up_session();
    }

    void run() noexcept {
        try {
            loop();
        } catch (...) {
            _state.fail(std::current_exception());
        }
        abandon();
    }

  private:
    void loop() {
        while (!_state.failed.load()) {
            Batch* batch = nullptr;
            if (_state.full_batches.wait_dequeue_timed(batch, writer_poll_us)) {
                send(batch);
            } else if (_state.stopping.load()) {
                return;  // nothing queued: close() flushed first, so nothing is lost here
            }
            if (_open && commit_due()) {
                settle(true);
            }
        }
    }

    void open_transaction() {
        // The transaction id lets a writer that loses its connection during COMMIT ask the
        // server whether it committed; BEGIN and the query are one round trip.
        _xid = std::stoull(_conn.query_value("BEGIN; SELECT txid_current()"));
        _copy.start(_state.copy_sql);
        _open = true;
        (void)_copy.send(_header);
    }

    void send(Batch* batch) {
        if (_pending.empty()) {
            _opened = Clock::now();
            _txn_bytes = 0;
            _txn_rows = 0;
            _txn_batches = 0;
            _min_sequence = UINT64_MAX;
        }
        _pending.push_back(batch);
        _txn_batches += 1 + batch->ballast.size();
        _min_sequence = std::min(_min_sequence, batch->sequence);
        _txn_bytes += batch->buffer.size();
        _txn_rows += batch->rows();
        try {
            if (!_open) {
                open_transaction();
            }
            if (!_copy.send(batch->buffer)) {
                settle(true);  // the server refused something, or the connection broke
            }
        } catch (const ConnectionError&) {
            reconnect();
            settle(false);  // send every pending row again, in a fresh transaction
        }
    }

    bool commit_due() const {
        const EngineOptions& options = _state.options;
        return _txn_bytes >= options.txn_bytes_max || _txn_batches >= _state.txn_batches_max ||
               (options.txn_rows_max != 0 && _txn_rows >= options.txn_rows_max) ||
               _state.flush_target.load() >= _min_sequence || _state.stopping.load() ||
               Clock::now() - _opened >= _state.flush_interval;
    }

    // Ends the open transaction with every pending row either committed or rejected. The
    // first attempt is the COPY already sent; each refused row splits the remaining rows into
    // the part before it (re-sent and committed first) and the part after it.
    void settle(bool already_sent) {
        std::vector<std::vector<Segment>> work;
        work.emplace_back();
        for (Batch* batch : _pending) {
            if (batch->rows() > 0) {
                work.back().push_back(Segment{batch, 0, batch->rows()});
            }
        }
        while (!work.empty()) {
            std::vector<Segment> attempt = std::move(work.back());
            work.pop_back();
            try {
                commit_attempt(attempt, already_sent);
            } catch (const AttemptLost&) {
                work.push_back(std::move(attempt));
            } catch (const ConnectionError&) {
                reconnect();
                work.push_back(std::move(attempt));
            } catch (const ServerError& error) {
                _open = false;
                if (!is_row_error(error)) {
                    throw;
                }
                rollback();
                split_at_refused_row(attempt, error, work);
                if (_state.rows_rejected.load() > _state.options.rejects_max) {
                    // Store the rows before the refused one, then end the load.
                    commit_attempt(work.back(), false);
                    throw RejectsExceeded(
                        "more than " + std::to_string(_state.options.rejects_max) +
                            " rows rejected by the server; the last: " + error.what(),
                        error.sqlstate());
                }
            }
            already_sent = false;
        }
        _open = false;
        finish_transaction();
    }

    void commit_attempt(const std::vector<Segment>& attempt, bool already_sent) {
        std::uint64_t rows = 0;
        for (const Segment& segment : attempt) {
            rows += segment.end - segment.first;
        }
        if (rows == 0) {
            if (already_sent) {
                _copy.abort("pgingest: empty transaction");
                rollback();
            }
            return;
        }
        if (!already_sent) {
            open_transaction();
            for (const Segment& segment : attempt) {
                if (!send_segment(segment)) {
                    break;  // the server refused a row: finish() below says which
                }
            }
        }
        std::uint64_t stored = _copy.finish();
        _open = false;
        _state.bytes_sent += _copy.bytes_sent();
        if (stored != rows) {
            throw Error("COPY count mismatch on writer " + std::to_string(_index) +
                        ": the server reported COPY " + std::to_string(stored) + ", " +
                        std::to_string(rows) + " rows were sent");
        }
        try {
            // The epilogue goes out as one pipeline; later issues add the ledger row here.
            _conn.exec_pipeline({"COMMIT"});
        } catch (const ConnectionError&) {
            // Lost during COMMIT: it may or may not have committed. Ask, never guess.
            reconnect();
            if (!committed_before_loss(_xid)) {
                throw AttemptLost{};
            }
        }
        _state.rows_committed += stored;
        _state.transactions_committed += 1;
        if (_state.callbacks.on_commit) {
            _committed_tags.clear();
            for (const Segment& segment : attempt) {
                _committed_tags.emplace_back(segment.batch->tags.data() + segment.first,
                                             segment.end - segment.first);
            }
            _state.callbacks.on_commit(
                CommitReport{.writer_index = _index, .rows = stored, .tags = _committed_tags});
        }
    }

    bool send_segment(const Segment& segment) {
        const Batch& batch = *segment.batch;
        PGINGEST_ASSERT(segment.first < segment.end && segment.end <= batch.rows());
        if (segment.first == 0 && segment.end == batch.rows()) {
            return _copy.send(batch.buffer);  // the whole batch, framed in place
        }
        std::size_t begin = batch.row_begin(segment.first);
        std::size_t end = batch.row_ends[segment.end - 1];
        return _copy.send_slice(batch.buffer.data() + begin, end - begin);
    }

    // Finds the refused row in `attempt`, reports it, and queues the rows after it and then the
    // rows before it (so the rows before are committed first).
    void split_at_refused_row(const std::vector<Segment>& attempt, const ServerError& error,
                              std::vector<std::vector<Segment>>& work) {
        std::uint64_t tuple = failing_tuple(error.context());  // 1-based, within this attempt
        std::vector<Segment> before;
        std::vector<Segment> after;
        std::uint64_t seen = 0;
        bool found = false;
        for (const Segment& segment : attempt) {
            std::uint64_t count = segment.end - segment.first;
            if (found) {
                after.push_back(segment);
            } else if (tuple > seen + count) {
                before.push_back(segment);
            } else {
                std::size_t row = segment.first + static_cast<std::size_t>(tuple - seen - 1);
                if (row > segment.first) {
                    before.push_back(Segment{segment.batch, segment.first, row});
                }
                if (row + 1 < segment.end) {
                    after.push_back(Segment{segment.batch, row + 1, segment.end});
                }
                reject(segment.batch->tags[row], error);
                found = true;
            }
            seen += count;
        }
        if (!found) {
            throw Error("the server refused tuple " + std::to_string(tuple) + " of a COPY of " +
                        std::to_string(seen) + " rows: " + error.what());
        }
        work.push_back(std::move(after));
        work.push_back(std::move(before));
    }

    void reject(std::uint64_t tag, const ServerError& error) {
        _state.rows_rejected += 1;
        if (_state.callbacks.on_reject) {
            _state.callbacks.on_reject(RejectReport{.writer_index = _index,
                                                    .tag = tag,
                                                    .sqlstate = error.sqlstate(),
                                                    .message = error.what()});
        }
    }

    void rollback() { _conn.exec("ROLLBACK"); }

    // Session settings of every writer connection, new or re-established.
    void set_up_session() {
        if (_state.options.lock_timeout_ms != 0) {
            _conn.exec("SET lock_timeout = " + std::to_string(_state.options.lock_timeout_ms));
        }
    }

    // Replaces a lost connection, retrying with exponential backoff (50 ms doubling to 2 s)
    // until reconnect_timeout_ms. Throws `Error` (not a ConnectionError, so no caller retries
    // again) when the server stays away.
    void reconnect() {
        _copy.reset();
        _open = false;
        auto delay = std::chrono::milliseconds(50);
        const auto deadline =
            Clock::now() + std::chrono::milliseconds(_state.options.reconnect_timeout_ms);
        for (;;) {
            try {
                _conn = Connection(_state.conninfo);
                set_up_session();
                _state.reconnects += 1;
                return;
            } catch (const ConnectionError& error) {
                if (_state.failed.load() || Clock::now() + delay > deadline) {
                    throw Error("writer " + std::to_string(_index) +
                                " lost its connection and could not reconnect within " +
                                std::to_string(_state.options.reconnect_timeout_ms) +
                                " ms: " + error.what());
                }
            }
            std::this_thread::sleep_for(delay);
            delay = std::min(delay * 2, std::chrono::milliseconds(2000));
        }
    }

    // Whether transaction `xid`, whose COMMIT was cut off, committed (txid_status, PG10+).
    // While the old backend is still ending, the status is "in progress": wait for it.
    bool committed_before_loss(std::uint64_t xid) {
        const std::string sql = "SELECT coalesce(txid_status(" + std::to_string(xid) + "), '')";
        for (int attempt = 0; attempt < 200; attempt++) {
            std::string status = _conn.query_value(sql);
            if (status == "committed") {
                return true;
            }
            if (status != "in progress") {
                return false;  // aborted, or unknown: it did not commit
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        throw Error("transaction " + std::to_string(xid) +
                    " was still in progress 10 s after its connection was lost");
    }

    // Every pending row is now committed or rejected: return the batches to the pool.
    void finish_transaction() {
        _state.batches_committed += _pending.size();
        {
            std::lock_guard lock(_state.mutex);
            for (const Batch* batch : _pending) {
                _state.in_flight.erase(batch->sequence);
            }
        }
        _state.committed.notify_all();
        for (Batch* batch : _pending) {
            _state.release(batch);
        }
        _pending.clear();
    }

    // After a failure or on stop: roll back what is open; its batches were never committed.
    void abandon() noexcept {
        if (_open) {
            _copy.abort("pgingest: load stopped");
            _open = false;
        }
        try {
            if (PQtransactionStatus(_conn.native()) != PQTRANS_IDLE) {
                rollback();
            }
        } catch (...) {
            // The connection may be gone; nothing was committed either way.
        }
        for (Batch* batch : _pending) {
            _state.release(batch);
        }
        _pending.clear();
        Batch* queued = nullptr;
        while (_state.failed.load() && _state.full_batches.try_dequeue(queued)) {
            _state.release(queued);
        }
    }

    EngineState& _state;
    std::size_t _index;
    Connection _conn;
    CopyStream _copy;
    ByteBuffer _header;
    std::vector<Batch*> _pending;
    bool _open = false;
    Clock::time_point _opened;
    std::uint64_t _txn_bytes = 0;
    std::uint64_t _txn_rows = 0;
    std::size_t _txn_batches = 0;  // pool batches the transaction holds, ballast included
    std::uint64_t _min_sequence = UINT64_MAX;
    std::uint64_t _xid = 0;
    std::vector<std::span<const std::uint64_t>> _committed_tags;  // scratch for CommitReport
};

}  // namespace
}  // namespace detail

using detail::Batch;
using detail::Clock;

Producer::Producer(Producer&& other) noexcept
    : _state(other._state),
      _batch(std::exchange(other._batch, nullptr)),
      _row_start(other._row_start) {}

Producer::~Producer() {
    if (_batch == nullptr) {
        return;
    }
    if (_batch->rows() > 0) {
        try {
            submit_batch();
        } catch (...) {
            // The engine failed while this batch waited for ballast; flush and close report it.
        }
    } else {
        _state->release(std::exchange(_batch, nullptr));
    }
}

ByteBuffer* Producer::begin_row() {
    _state->rethrow_if_failed();
    if (_batch == nullptr) {
        Batch* batch = nullptr;
        if (!_state->free_batches.try_dequeue(batch)) {
            _state->producer_waits += 1;  // the pool is used up: backpressure
            if (_state->options.when_full == WhenFull::reject) {
                return nullptr;
            }
            while (!_state->free_batches.wait_dequeue_timed(batch, 100'000)) {
                _state->rethrow_if_failed();
            }
        }
        batch->buffer.clear();
        batch->row_ends.clear();
        batch->tags.clear();
        batch->opened = Clock::now();
        begin_copy_data(batch->buffer);
        _batch = batch;
    }
    _row_start = _batch->buffer.size();
    _batch->buffer.put_u16(_state->field_count);
    return &_batch->buffer;
}

void Producer::end_row(std::uint64_t tag) {
    PGINGEST_ASSERT(_batch != nullptr);
    PGINGEST_ASSERT(_batch->buffer.size() <= UINT32_MAX);
    _batch->row_ends.push_back(static_cast<std::uint32_t>(_batch->buffer.size()));
    _batch->tags.push_back(tag);
    if (_batch->buffer.size() - copy_data_header_size >= _state->options.batch_bytes ||
        Clock::now() - _batch->opened >= _state->flush_interval) {
        submit_batch();
    }
}

void Producer::cancel_row() noexcept {
    if (_batch != nullptr) {
        _batch->buffer.truncate(_row_start);
    }
}

bool Producer::submit_if_due() {
    _state->rethrow_if_failed();
    if (_batch == nullptr || _batch->rows() == 0 ||
        Clock::now() - _batch->opened < _state->flush_interval) {
        return false;
    }
    submit_batch();
    return true;
}

void Producer::submit_batch() {
    Batch* batch = std::exchange(_batch, nullptr);
    end_copy_data(batch->buffer);
    try {
        _state->take_ballast(*batch);
    } catch (...) {
        _state->release(batch);  // the engine failed: nothing more is sent
        throw;
    }
    batch->sequence = _state->next_sequence.fetch_add(1);
    {
        std::lock_guard lock(_state->mutex);
        _state->in_flight.insert(batch->sequence);
    }
    _state->rows_submitted += batch->rows();
    _state->full_batches.enqueue(batch);
}

void Producer::flush() {
    if (_batch != nullptr && _batch->rows() > 0) {
        submit_batch();
    }
    std::uint64_t target = _state->next_sequence.load() - 1;
    std::uint64_t seen = _state->flush_target.load();
    while (seen < target && !_state->flush_target.compare_exchange_weak(seen, target)) {
    }
    std::unique_lock lock(_state->mutex);
    _state->committed.wait(lock, [&] {
        return _state->failed.load() || _state->in_flight.empty() ||
               *_state->in_flight.begin() > target;
    });
    lock.unlock();
    _state->rethrow_if_failed();
}

Engine::Engine(const std::string& conninfo, TableInfo table, EngineOptions options,
               EngineCallbacks callbacks)
    : _state(std::make_unique<detail::EngineState>()) {
    PGINGEST_ASSERT(options.writers >= 1 && options.batch_bytes >= 1);
    PGINGEST_ASSERT(table.columns.size() <= UINT16_MAX);
    detail::EngineState& state = *_state;
    state.conninfo = conninfo;
    state.options = options;
    state.copy_sql = table.copy_sql();
    state.field_count = static_cast<std::uint16_t>(table.columns.size());
    state.table = std::move(table);
    state.callbacks = std::move(callbacks);
    state.flush_interval = std::chrono::milliseconds(options.flush_interval_ms);
    std::size_t buffers =
        std::max<std::size_t>(2, options.memory_budget_bytes / options.batch_bytes);
    state.batch_capacity = options.batch_bytes + options.batch_bytes / 8 + 64;
    state.ballast_max = buffers / 2 - 1;
    for (std::size_t i = 0; i < buffers; i++) {
        auto batch = std::make_unique<Batch>();
        // Room for the batch and the tuple that crosses its limit, so growth stays rare.
        batch->buffer.reserve(state.batch_capacity);
        // Row bookkeeping sized for 64-byte tuples; vectors keep their capacity after clear(),
        // so narrower rows allocate only while the pool warms up.
        batch->row_ends.reserve(options.batch_bytes / 64 + 1);
        batch->tags.reserve(options.batch_bytes / 64 + 1);
        state.free_batches.enqueue(batch.get());
        state.pool.push_back(std::move(batch));
    }
    state.txn_batches_max = std::max<std::size_t>(1, buffers / (options.writers + 1));
    std::vector<Connection> connections;
    for (std::size_t i = 0; i < options.writers; i++) {
        connections.emplace_back(conninfo);  // throws ConnectionError before any thread starts
    }
    for (std::size_t i = 0; i < options.writers; i++) {
        auto writer = std::make_shared<detail::Writer>(state, i, std::move(connections[i]));
        _threads.emplace_back([writer] { writer->run(); });
    }
}

namespace {

TableInfo read_table_over_new_connection(const std::string& conninfo, std::string_view table) {
    Connection conn(conninfo);
    return read_table_info(conn, table);
}

}  // namespace

Engine::Engine(const std::string& conninfo, std::string_view table, EngineOptions options,
               EngineCallbacks callbacks)
    : Engine(conninfo, read_table_over_new_connection(conninfo, table), options,
             std::move(callbacks)) {}

Engine::~Engine() {
    stop_writers();
}

Producer Engine::producer() {
    return Producer(*_state);
}

void Engine::flush() {
    Producer flusher(*_state);  // holds no batch: flush() only waits for what is in flight
    flusher.flush();
}

void Engine::close() {
    flush();
    stop_writers();
    _state->rethrow_if_failed();
}

void Engine::stop_writers() noexcept {
    _state->stopping.store(true);
    for (auto& thread : _threads) {
        if (thread.joinable()) {
            thread.join();
        }
    }
    _threads.clear();
}

EngineStats Engine::stats() const noexcept {
    const detail::EngineState& state = *_state;
    return EngineStats{.rows_submitted = state.rows_submitted.load(),
                       .rows_committed = state.rows_committed.load(),
                       .rows_rejected = state.rows_rejected.load(),
                       .batches_committed = state.batches_committed.load(),
                       .transactions_committed = state.transactions_committed.load(),
                       .bytes_sent = state.bytes_sent.load(),
                       .reconnects = state.reconnects.load(),
                       .producer_waits = state.producer_waits.load(),
                       .ballast_batches = state.ballast_batches.load()};
}

const TableInfo& Engine::table() const noexcept {
    return _state->table;
}

}  // namespace pgingest
