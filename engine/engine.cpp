#include "engine/engine.hpp"

#include <concurrentqueue/blockingconcurrentqueue.h>

#include <algorithm>
#include <chrono>

#include "codecs/assert.hpp"
#include "codecs/copy_binary.hpp"

namespace pgingest {

namespace detail {

using Clock = std::chrono::steady_clock;

struct Batch {
    ByteBuffer buffer;
    std::uint64_t rows = 0;
    std::uint64_t first_tag = 0;
    std::uint64_t sequence = 0;  // order of hand-over to the writers, from 1
    Clock::time_point opened;
};

struct EngineState {
    EngineOptions options;
    TableInfo table;
    std::string copy_sql;
    CommitCallback on_commit;
    std::uint16_t field_count = 0;
    std::chrono::milliseconds flush_interval{0};
    // Batches are kept until their COMMIT, so a writer commits once it holds its share of the
    // pool; otherwise producers would wait for batches that only a commit can return.
    std::size_t txn_batches_max = 1;

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
    std::atomic<std::uint64_t> batches_committed{0};
    std::atomic<std::uint64_t> transactions_committed{0};
    std::atomic<std::uint64_t> bytes_sent{0};

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

    void release(Batch* batch) { free_batches.enqueue(batch); }
};

namespace {

// How long a writer waits on the queue before looking at its deadlines and flush requests.
constexpr std::int64_t writer_poll_us = 5'000;

// One writer thread: owns a connection and its COPY; commits per size, rows, time or flush.
class Writer {
public:
    Writer(EngineState& state, std::size_t index, Connection conn)
        : _state(state), _index(index), _conn(std::move(conn)), _copy(_conn, state.options.io) {
        begin_copy_data(_header);
        put_copy_header(_header);
        end_copy_data(_header);
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
                commit();
            }
        }
    }

    void send(Batch* batch) {
        if (!_open) {
            _conn.exec("BEGIN");
            _copy.start(_state.copy_sql);
            _open = true;
            _opened = Clock::now();
            _txn_bytes = 0;
            _txn_rows = 0;
            _min_sequence = UINT64_MAX;
            (void)_copy.send(_header);
        }
        _pending.push_back(batch);
        _min_sequence = std::min(_min_sequence, batch->sequence);
        _txn_bytes += batch->buffer.size();
        _txn_rows += batch->rows;
        if (!_copy.send(batch->buffer)) {
            (void)_copy.finish();  // throws the server's error
            throw Error("COPY: the server stopped the COPY without reporting an error");
        }
    }

    bool commit_due() const {
        const EngineOptions& options = _state.options;
        return _txn_bytes >= options.txn_bytes_max || _pending.size() >= _state.txn_batches_max ||
               (options.txn_rows_max != 0 && _txn_rows >= options.txn_rows_max) ||
               _state.flush_target.load() >= _min_sequence || _state.stopping.load() ||
               Clock::now() - _opened >= _state.flush_interval;
    }

    void commit() {
        std::uint64_t stored = _copy.finish();
        if (stored != _txn_rows) {
            throw Error("COPY count mismatch on writer " + std::to_string(_index) +
                        ": the server reported COPY " + std::to_string(stored) + ", " +
                        std::to_string(_txn_rows) + " rows were sent");
        }
        _conn.exec("COMMIT");
        _open = false;
        CommitReport report{.writer_index = _index, .rows = stored, .first_tags = {}};
        if (_state.on_commit) {
            for (const Batch* batch : _pending) {
                report.first_tags.push_back(batch->first_tag);
            }
        }
        _state.rows_committed += stored;
        _state.batches_committed += _pending.size();
        _state.transactions_committed += 1;
        _state.bytes_sent += _copy.bytes_sent();
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
        if (_state.on_commit) {
            _state.on_commit(report);
        }
    }

    // After a failure or on stop: roll back what is open; its batches were never committed.
    void abandon() noexcept {
        if (_open) {
            _copy.abort("pgingest: load stopped");
            try {
                _conn.exec("ROLLBACK");
            } catch (...) {
                // The connection may be gone; nothing was committed either way.
            }
            _open = false;
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
    std::uint64_t _min_sequence = UINT64_MAX;
};

}  // namespace
}  // namespace detail

using detail::Batch;
using detail::Clock;

Producer::Producer(Producer&& other) noexcept
    : _state(other._state), _batch(std::exchange(other._batch, nullptr)),
      _row_start(other._row_start) {}

Producer::~Producer() {
    if (_batch == nullptr) {
        return;
    }
    if (_batch->rows > 0) {
        submit_batch();
    } else {
        _state->release(std::exchange(_batch, nullptr));
    }
}

ByteBuffer* Producer::begin_row() {
    _state->rethrow_if_failed();
    if (_batch == nullptr) {
        Batch* batch = nullptr;
        if (_state->options.when_full == WhenFull::reject) {
            if (!_state->free_batches.try_dequeue(batch)) {
                return nullptr;
            }
        } else {
            while (!_state->free_batches.wait_dequeue_timed(batch, 100'000)) {
                _state->rethrow_if_failed();
            }
        }
        batch->buffer.clear();
        batch->rows = 0;
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
    if (_batch->rows == 0) {
        _batch->first_tag = tag;
    }
    _batch->rows += 1;
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

void Producer::submit_batch() {
    Batch* batch = std::exchange(_batch, nullptr);
    end_copy_data(batch->buffer);
    batch->sequence = _state->next_sequence.fetch_add(1);
    {
        std::lock_guard lock(_state->mutex);
        _state->in_flight.insert(batch->sequence);
    }
    _state->rows_submitted += batch->rows;
    _state->full_batches.enqueue(batch);
}

void Producer::flush() {
    if (_batch != nullptr && _batch->rows > 0) {
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
               CommitCallback on_commit)
    : _state(std::make_unique<detail::EngineState>()) {
    PGINGEST_ASSERT(options.writers >= 1 && options.batch_bytes >= 1);
    PGINGEST_ASSERT(table.columns.size() <= UINT16_MAX);
    detail::EngineState& state = *_state;
    state.options = options;
    state.copy_sql = table.copy_sql();
    state.field_count = static_cast<std::uint16_t>(table.columns.size());
    state.table = std::move(table);
    state.on_commit = std::move(on_commit);
    state.flush_interval = std::chrono::milliseconds(options.flush_interval_ms);
    std::size_t buffers = std::max<std::size_t>(2, options.memory_budget_bytes / options.batch_bytes);
    for (std::size_t i = 0; i < buffers; i++) {
        auto batch = std::make_unique<Batch>();
        // Room for the batch and the tuple that crosses its limit, so growth stays rare.
        batch->buffer.reserve(options.batch_bytes + options.batch_bytes / 8 + 64);
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

Engine::~Engine() { stop_writers(); }

Producer Engine::producer() { return Producer(*_state); }

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
                       .batches_committed = state.batches_committed.load(),
                       .transactions_committed = state.transactions_committed.load(),
                       .bytes_sent = state.bytes_sent.load()};
}

const TableInfo& Engine::table() const noexcept { return _state->table; }

}  // namespace pgingest
