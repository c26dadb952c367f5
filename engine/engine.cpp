#include "engine/engine.hpp"

#include <concurrentqueue/blockingconcurrentqueue.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "codecs/assert.hpp"
#include "codecs/copy_binary.hpp"
#include "engine/detail/transaction.hpp"

namespace pgingest {

namespace detail {

using Clock = std::chrono::steady_clock;

struct Batch {
    ByteBuffer buffer;
    std::vector<std::uint32_t> row_ends;  // offset just past each tuple in `buffer`
    std::vector<RowOrigin> origins;       // the producer's origin of each tuple
    std::vector<std::uint32_t> rejected;  // rows the server refused on their own
    // Free batches held while this one, grown past the pool's batch capacity by large tuples, is
    // in flight: each pool batch stands for its capacity in the memory budget (see take_ballast).
    std::vector<Batch*> ballast;
    std::uint64_t sequence = 0;   // order of hand-over to the writers, from 1
    std::size_t table_index = 0;  // the table its rows go to
    Clock::time_point opened;

    [[nodiscard]] std::uint64_t rows() const noexcept { return row_ends.size(); }
    [[nodiscard]] std::size_t row_begin(std::size_t row) const noexcept {
        return row == 0 ? copy_data_header_size : row_ends[row - 1];
    }
};

// One target table of the engine.
struct TableTarget {
    TableInfo info;
    std::string copy_sql;  // COPY into the table, or into its staging table
    std::uint16_t field_count = 0;
    // How to stage its batches after a duplicate key; none when not safe (staged_key_sql).
    std::optional<StagedInsert> staged;
};

struct EngineState {
    std::string conninfo;
    EngineOptions options;
    std::vector<TableTarget> tables;
    std::string prologue_sql;  // BEGIN ... SAVEPOINT s, sent before the first COPY
    // Run by every writer connection: session settings, then staging tables to create.
    std::vector<std::string> session_statements;
    EngineCallbacks callbacks;
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
    std::atomic<std::uint64_t> copies{0};
    std::atomic<std::uint64_t> producer_waits{0};
    std::atomic<std::uint64_t> ballast_batches{0};
    std::atomic<std::uint64_t> round_trips{0};
    std::atomic<std::uint64_t> copy_rows_sent{0};
    std::atomic<std::uint64_t> staged_inserts{0};

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

// Smallest and largest COPY the adaptive sizing sends after refused rows.
constexpr std::size_t sub_rows_min = 8;
constexpr std::size_t sub_rows_max = 900;
// The refusal rate is measured over about this many recent rows (halved when exceeded).
constexpr std::uint64_t rate_window_rows = 50'000;

// Thrown when a connection was lost during COMMIT, re-established, and the server said the
// transaction did not commit: every row of it must be sent again.
struct AttemptLost {};

// Thrown by `reject` once more rows than `rejects_max` were refused: the rows accepted so far
// are committed, then the load ends with `error`.
struct RejectsOverLimit {
    RejectsExceeded error;
};

// No row left out of a `Segment`.
constexpr std::size_t no_skip = SIZE_MAX;

// Rows [first, end) of one batch but row `skip` (`no_skip`: none). Only an `around` piece leaves
// a row out: the rows of a refused COPY but its hinted row, sent as one COPY (issue 12 point 3).
struct Segment {
    Batch* batch;
    std::size_t first;
    std::size_t end;
    std::size_t skip;
    [[nodiscard]] std::size_t rows() const noexcept {
        return end - first - (skip != no_skip ? 1 : 0);
    }
};

// Calls `run(first, end)` for each run of consecutive rows of `segment` that is not empty: one,
// or two around its skipped row.
template <typename Run>
void for_each_run(const Segment& segment, Run&& run) {
    const std::size_t skip = segment.skip == no_skip ? segment.end : segment.skip;
    if (skip > segment.first) {
        run(segment.first, skip);
    }
    if (skip + 1 < segment.end) {
        run(skip + 1, segment.end);
    }
}

// What a piece of isolation work expects: `before` (the rows before a hinted row: should
// succeed), `lone` (the hinted row on its own: should fail), `around` (every row of a refused
// COPY but the hinted one, which follows alone: should succeed), or nothing known.
enum class Piece : std::uint8_t { plain, before, lone, around };

struct Work {
    Segment segment;
    Piece piece;
};

// A piece sent in a pipeline of COPYs, and whether its Query starts with ROLLBACK TO SAVEPOINT
// (the piece before it was expected to fail) rather than RELEASE SAVEPOINT; SAVEPOINT.
struct SentPiece {
    Work work;
    bool rollback_first;
};

// Most COPYs in one pipeline.
constexpr std::size_t round_pieces_max = 256;

// Refused duplicate keys per 10 000 recent rows (`Writer::note_rows`) from which a writer stages
// a table's batches, and below which it goes back to plain COPYs. Measured on the isobench
// (bench/RESULTS.md, issue 12), 400 000 rows: the staged INSERT costs about twice the COPY it
// replaces on every row of a batch (+4 s here whatever the rate), COPY isolation costs per
// refused row (+3 s at 0.5 %, +15 s at 5 %, where it also leaves 0.48 dead tuples per row
// against 0.06 staged). Break-even about 1 %: decided on the rate, not on clean batches, since
// at 0.05 % every batch holds a duplicate or two.
constexpr std::uint64_t staged_rate_min_per_10k = 100;

// A writer's staging of one table (EngineOptions::stage_duplicate_keys).
struct StagedMode {
    bool on = false;     // batches of the table go through the stage
    bool usable = true;  // false once the stage failed for a reason not about a row
};

// One writer thread: owns a connection; runs one COPY per batch (or smaller pieces of it)
// inside a savepoint of a transaction spanning many batches; commits per size, rows, time or
// flush; takes out the rows the server refuses (issue 12).
//
// Statements per transaction (engine/transaction.hpp): `BEGIN; SELECT txid_current();
// <prologue>; SAVEPOINT s; COPY` (one round trip), then for each further COPY `RELEASE SAVEPOINT
// s; SAVEPOINT s; COPY` after a success or `ROLLBACK TO SAVEPOINT s; COPY` after a refusal (one
// round trip each), each COPY naming its batch's table (or that table's staging table), and the
// epilogue statements with COMMIT as one pipeline.
// While refused rows are isolated on the io_uring path, many such COPYs (Query, CopyData,
// CopyDone) go out in one write and their answers are read together: one round trip for all.
class Writer {
  public:
    Writer(EngineState& state, std::size_t index, Connection conn)
        : _state(state),
          _index(index),
          _conn(std::move(conn)),
          _copy(_conn, state.options.io),
          _staged(state.tables.size()) {
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
                take(batch);
                advance(commit_due());
            } else if (_state.stopping.load() && _pending.empty()) {
                return;  // nothing queued: close() flushed first, so nothing is lost here
            } else if (!_pending.empty() && commit_due()) {
                advance(true);
            }
        }
    }

    void take(Batch* batch) {
        if (_pending.empty()) {
            // The flush interval bounds a row's delay from its encoding to its COMMIT, so the
            // transaction's clock starts with its oldest row, not when the writer took it:
            // a batch handed over by `submit_if_due` is committed at once.
            _opened = batch->opened;
            _txn_bytes = 0;
            _txn_rows = 0;
            _txn_batches = 0;
            _min_sequence = UINT64_MAX;
        }
        _opened = std::min(_opened, batch->opened);
        _pending.push_back(batch);
        _txn_batches += 1 + batch->ballast.size();
        _min_sequence = std::min(_min_sequence, batch->sequence);
        _txn_bytes += batch->buffer.size();
        _txn_rows += batch->rows();
    }

    bool commit_due() const {
        const EngineOptions& options = _state.options;
        return _txn_bytes >= options.txn_bytes_max || _txn_batches >= _state.txn_batches_max ||
               (options.txn_rows_max != 0 && _txn_rows >= options.txn_rows_max) ||
               _state.flush_target.load() >= _min_sequence || _state.stopping.load() ||
               Clock::now() - _opened >= _state.flush_interval;
    }

    // Places every pending batch not yet in the transaction and, if `commit_now`, commits.
    // Recovers from what can be recovered (issue 12 point 4): a lost connection, a server in
    // trouble, a deadlock or serialization failure lose the transaction, which is run again
    // from its first batch after a backoff; anything else is thrown.
    void advance(bool commit_now) {
        auto delay = std::chrono::milliseconds(50);
        for (;;) {
            try {
                while (_placed < _pending.size()) {
                    place_batch(*_pending[_placed]);
                    _placed += 1;
                }
                if (commit_now) {
                    commit();
                    finish_transaction();
                }
                _trouble_since.reset();
                return;
            } catch (RejectsOverLimit& over) {
                commit();  // the rows accepted before the last refused one are stored
                throw over.error;
            } catch (const AttemptLost&) {
                // the connection is new and the transaction did not commit
            } catch (const ReconnectFailed&) {
                throw;
            } catch (const CommitInDoubt&) {
                throw;  // re-sending could store the rows twice
            } catch (const Error& error) {
                recover(error, delay);
            }
            lose_transaction();
        }
    }

    // After `error` ended the transaction: reconnects, or rolls back after a backoff, or
    // rethrows the error when it means the load must end.
    void recover(const Error& error, std::chrono::milliseconds& delay) {
        _copy.reset();
        const bool broken = PQstatus(_conn.native()) != CONNECTION_OK ||
                            dynamic_cast<const ConnectionError*>(&error) != nullptr;
        if (broken) {
            reconnect();
            return;
        }
        const auto* server = dynamic_cast<const ServerError*>(&error);
        if (server == nullptr) {
            throw;  // a local failure (io_uring, count mismatch): not something to retry
        }
        ErrorMeaning meaning =
            error_meaning(server->sqlstate(), copy_line_hint(server->context()) > 0);
        if (meaning != ErrorMeaning::transient && meaning != ErrorMeaning::retry_transaction) {
            throw;
        }
        const auto now = Clock::now();
        if (!_trouble_since) {
            _trouble_since = now;
        }
        if (now - *_trouble_since >
            std::chrono::milliseconds(_state.options.reconnect_timeout_ms)) {
            throw;
        }
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(2000));
        try {
            rollback();
        } catch (const ConnectionError&) {
            reconnect();
        }
    }

    // The open transaction is gone (rolled back, or its connection lost): its rows are sent
    // again from the first pending batch. Rows already rejected stay rejected.
    void lose_transaction() {
        _placed = 0;
        _accepted.clear();
        _in_txn = false;
        _savepoint_failed = false;
    }

    // Puts the rows of `batch` that are not rejected yet into the transaction, each either
    // accepted (its COPY succeeded inside the savepoint) or rejected.
    void place_batch(Batch& batch) {
        std::sort(batch.rejected.begin(), batch.rejected.end());
        std::size_t first = 0;
        for (std::uint32_t rejected : batch.rejected) {
            if (rejected > first) {
                isolate(Segment{&batch, first, rejected, no_skip});
            }
            first = std::size_t{rejected} + 1;
        }
        if (first < batch.rows()) {
            isolate(Segment{&batch, first, batch.rows(), no_skip});
        }
    }

    // Sends `whole` in COPYs of at most `sub_rows()` rows; a refused COPY is split at the
    // server's hint (the other rows in one COPY, then the hinted row alone) or, once a hint proved
    // wrong in this batch or when there is none, in halves. A row is rejected only when a COPY
    // of that row alone was refused: the hint never decides. While isolating, the COPYs go out
    // in pipelines (`isolate_round`), one round trip for many.
    // A table in staging mode (`StagedMode`) takes the staged path instead, from the next
    // COPY on (`stage_pieces`).
    void isolate(Segment whole) { run_isolation({Work{whole, Piece::plain}}, true); }

    // Sends the pieces of `todo` (last: first to send) until each row is accepted or rejected;
    // `may_stage`: the rest go through the stage once the table is in staging mode. Without it
    // (the rows a staged INSERT skipped, or a stage that failed) every piece is a COPY, in
    // pipelines on the io_uring path.
    void run_isolation(std::vector<Work> todo, bool may_stage) {
        bool trust_hints = _state.options.isolation_hint != IsolationHint::ignore;
        while (!todo.empty()) {
            if (may_stage && staging_wanted(todo)) {
                stage_pieces(todo);
                return;
            }
            if (pipelining(!may_stage)) {
                isolate_round(todo, trust_hints);
            } else {
                isolate_one(todo, trust_hints);
            }
        }
    }

    // One COPY of the next piece of `todo`, waiting for its outcome.
    void isolate_one(std::vector<Work>& todo, bool& trust_hints) {
        Work work = todo.back();
        todo.pop_back();
        Segment& segment = work.segment;
        std::size_t limit = sub_rows();
        if (work.piece == Piece::plain && segment.rows() > limit) {
            todo.push_back(Work{Segment{segment.batch, segment.first + limit, segment.end, no_skip},
                                Piece::plain});
            segment.end = segment.first + limit;
        }
        std::optional<ServerError> refused = copy_segment(segment);
        if (refused) {
            note_refusal(*segment.batch, *refused);
        }
        if (!refused) {
            _accepted.push_back(segment);
            note_rows(segment.rows(), 0, 0);
            trust_hints = trust_hints && work.piece != Piece::lone;
            return;
        }
        if (work.piece == Piece::around) {
            PGINGEST_ASSERT(todo.back().piece == Piece::lone &&
                            todo.back().segment.first == segment.skip);
            todo.pop_back();
            unmerge(segment, todo);
            return;
        }
        trust_hints = trust_hints && work.piece != Piece::before;
        if (segment.rows() == 1) {
            note_rows(1, 1, leaves_copy_dead(*refused) ? 1 : 0);
            reject(*segment.batch, segment.first, *refused);
            return;
        }
        split(segment, trust_hints ? hinted_row(*refused) : 0, merge_allowed(segment), todo);
    }

    // Whether the next COPYs go out as one pipeline: after refusals or for the rows a staged
    // INSERT skipped (`proofs`; a clean batch is one COPY), inside a transaction (BEGIN and its
    // id go through libpq), and on the io_uring path, where the engine owns the socket.
    bool pipelining(bool proofs) const {
        return _in_txn && (proofs || sub_rows() != SIZE_MAX) && _copy.io() == CopyIo::uring;
    }

    // Rows of plain pieces per pipeline: about the rows between two refusals, so a pipeline
    // meets about one refused row and few rows go out after it in vain (the server skips
    // them: 25P02).
    std::size_t round_rows() const {
        std::uint64_t gap = _rate_rows / std::max<std::uint64_t>(1, _rate_errors);
        return std::max<std::size_t>(sub_rows(), static_cast<std::size_t>(gap));
    }

    // Takes the next pieces of `todo` (plain ones cut at `sub_rows()`), up to `round_rows()`
    // rows of plain and around pieces: the rows before a refused one and the row alone come on
    // top. A piece after one
    // expected to fail (the hinted row alone) starts with ROLLBACK TO SAVEPOINT, the others
    // with RELEASE SAVEPOINT; SAVEPOINT.
    std::vector<SentPiece> plan_round(std::vector<Work>& todo) const {
        std::vector<SentPiece> sent;
        const std::size_t limit = sub_rows();
        const std::size_t window = round_rows();
        // Rejects are reported after the pipeline, and the one past `rejects_max` must leave
        // the rows sent after it uncommitted: a pipeline has no more pieces (each rejects at
        // most one row) than rejects may still come; one when the next reject ends the load.
        const std::uint64_t rejected = _state.rows_rejected.load();
        const std::uint64_t allowed = _state.options.rejects_max > rejected
                                          ? _state.options.rejects_max - rejected
                                          : 1;
        const std::size_t pieces_max =
            static_cast<std::size_t>(std::min<std::uint64_t>(round_pieces_max, allowed));
        std::size_t rows = 0;
        bool rollback_first = _savepoint_failed;
        while (!todo.empty() && rows < window && sent.size() < pieces_max) {
            Work work = todo.back();
            todo.pop_back();
            Segment& segment = work.segment;
            if (work.piece == Piece::plain && segment.rows() > limit) {
                todo.push_back(Work{
                    Segment{segment.batch, segment.first + limit, segment.end, no_skip},
                    Piece::plain});
                segment.end = segment.first + limit;
            }
            sent.push_back(SentPiece{work, rollback_first});
            // An around piece holds the rows after a refused one: count them as plain ones.
            rows += work.piece == Piece::plain || work.piece == Piece::around ? segment.rows() : 0;
            rollback_first = work.piece == Piece::lone;
        }
        return sent;
    }

    // Sends the next pieces of `todo` as one pipeline of COPYs (one round trip), then settles
    // what the server made of each.
    void isolate_round(std::vector<Work>& todo, bool& trust_hints) {
        std::vector<SentPiece> sent = plan_round(todo);
        _pipeline.clear();
        std::uint64_t rows = 0;
        for (const SentPiece& piece : sent) {
            const Segment& segment = piece.work.segment;
            const Batch& batch = *segment.batch;
            put_query(_pipeline, (piece.rollback_first ? "ROLLBACK TO SAVEPOINT s; "
                                                       : "RELEASE SAVEPOINT s; SAVEPOINT s; ") +
                                     _state.tables[batch.table_index].copy_sql);
            _pipeline.put_bytes(_header.data(), _header.size());  // framed in place
            for_each_run(segment, [&](std::size_t first, std::size_t end) {
                std::size_t begin = batch.row_begin(first);
                put_copy_data(_pipeline, batch.buffer.data() + begin,
                              batch.row_ends[end - 1] - begin);
            });
            put_copy_done(_pipeline);
            rows += segment.rows();
        }
        _state.round_trips += 1;
        _state.copy_rows_sent += rows;
        const Batch& first = *sent.front().work.segment.batch;  // todo was not empty
        std::vector<PipelinedQuery> answers =
            _copy.run_pipeline(_pipeline, sent.size(), _state.tables[first.table_index].copy_sql);
        _state.bytes_sent += _copy.bytes_sent();
        settle_round(sent, answers, todo, trust_hints);
    }

    // Reads the outcome of each piece of a pipeline in order, following the savepoint: a piece
    // whose COPY succeeded sits in savepoint s until the next piece's RELEASE keeps it or its
    // ROLLBACK TO undoes it (then it is sent again); a piece sent after a refusal without
    // ROLLBACK TO never ran (25P02) and is sent again. Rejects are reported once the
    // transaction's state is known, since `reject` may end the load and commit.
    void settle_round(const std::vector<SentPiece>& sent, std::vector<PipelinedQuery>& answers,
                      std::vector<Work>& todo, bool& trust_hints) {
        std::vector<Work> again;  // in sending order
        std::vector<std::pair<Segment, ServerError>> refused_rows;
        std::optional<Segment> in_savepoint;
        bool aborted = _savepoint_failed;
        std::size_t dropped_lone = no_skip;  // the row of a refused around piece
        for (std::size_t i = 0; i < sent.size(); i++) {
            const Work& work = sent[i].work;
            PipelinedQuery& answer = answers[i];
            if (work.piece == Piece::lone && work.segment.first == dropped_lone) {
                PGINGEST_ASSERT(!answer.copy_started);  // 25P02 after the refused around piece
                dropped_lone = no_skip;
                continue;
            }
            if (work.piece == Piece::around && answer.copy_started && answer.error) {
                dropped_lone = work.segment.skip;  // unmerge queues it again
            }
            if (!answer.copy_started) {
                if (answer.error && answer.error->sqlstate() == "25P02" && aborted &&
                    !sent[i].rollback_first) {
                    again.push_back(work);  // skipped in the failed transaction
                    continue;
                }
                if (answer.error) {
                    throw *answer.error;
                }
                throw Error("pipeline of COPYs on writer " + std::to_string(_index) +
                            ": a Query ended without CopyInResponse");
            }
            _state.copies += 1;
            if (in_savepoint) {
                if (sent[i].rollback_first) {
                    again.push_back(Work{*in_savepoint, Piece::plain});  // undone
                } else {
                    accept(*in_savepoint);
                }
                in_savepoint.reset();
            }
            aborted = answer.error.has_value();
            settle_piece(work, answer, in_savepoint, again, refused_rows, trust_hints);
        }
        if (in_savepoint) {
            accept(*in_savepoint);
        }
        _savepoint_failed = aborted;
        if (dropped_lone != no_skip) {
            // The around piece ended the round: its hinted row's piece is still queued.
            PGINGEST_ASSERT(todo.back().piece == Piece::lone &&
                            todo.back().segment.first == dropped_lone);
            todo.pop_back();
        }
        for (auto piece = again.rbegin(); piece != again.rend(); ++piece) {
            todo.push_back(*piece);
        }
        for (const auto& [segment, error] : refused_rows) {
            reject(*segment.batch, segment.first, error);
        }
    }

    // The outcome of one piece whose COPY ran: kept in the savepoint, a row refused alone, or
    // pieces of a refused COPY to send again.
    void settle_piece(const Work& work, const PipelinedQuery& answer,
                      std::optional<Segment>& in_savepoint, std::vector<Work>& again,
                      std::vector<std::pair<Segment, ServerError>>& refused_rows,
                      bool& trust_hints) {
        const Segment& segment = work.segment;
        if (!answer.error) {
            if (answer.rows != segment.rows()) {
                throw Error("COPY count mismatch on writer " + std::to_string(_index) +
                            ": the server reported COPY " + std::to_string(answer.rows) + ", " +
                            std::to_string(segment.rows()) + " rows were sent");
            }
            in_savepoint = segment;
            trust_hints = trust_hints && work.piece != Piece::lone;
            return;
        }
        const ServerError& refused = *answer.error;
        if (error_meaning(refused.sqlstate(), copy_line_hint(refused.context()) > 0) !=
            ErrorMeaning::row) {
            throw refused;
        }
        note_refusal(*segment.batch, refused);
        std::vector<Work> pieces;  // last: first to send
        if (work.piece == Piece::around) {
            unmerge(segment, pieces);
            again.insert(again.end(), pieces.rbegin(), pieces.rend());
            return;
        }
        trust_hints = trust_hints && work.piece != Piece::before;
        if (segment.rows() == 1) {
            note_rows(1, 1, leaves_copy_dead(refused) ? 1 : 0);
            refused_rows.emplace_back(segment, refused);
            return;
        }
        split(segment, trust_hints ? hinted_row(refused) : 0, merge_allowed(segment), pieces);
        again.insert(again.end(), pieces.rbegin(), pieces.rend());
    }

    void accept(const Segment& segment) {
        _accepted.push_back(segment);
        note_rows(segment.rows(), 0, 0);
    }

    // Queues the pieces of a refused `segment` (last pushed: sent first). With a hint and
    // `merge`: every row but the hinted one as one COPY (an `around` piece), then that row alone:
    // one statement fewer than the rows before it, the row, the rows after it. The row goes
    // last, so a duplicate key is refused where the server refused it and the row before it
    // kept. Without `merge`: those three. Without a hint: the two halves.
    static void split(const Segment& segment, std::uint64_t hint, bool merge,
                      std::vector<Work>& todo) {
        Batch* batch = segment.batch;
        if (hint >= 1 && hint <= segment.rows()) {
            const std::size_t row = segment.first + static_cast<std::size_t>(hint - 1);
            if (merge) {
                todo.push_back(Work{Segment{batch, row, row + 1, no_skip}, Piece::lone});
                todo.push_back(
                    Work{Segment{batch, segment.first, segment.end, row}, Piece::around});
                return;
            }
            if (row + 1 < segment.end) {
                todo.push_back(Work{Segment{batch, row + 1, segment.end, no_skip}, Piece::plain});
            }
            todo.push_back(Work{Segment{batch, row, row + 1, no_skip}, Piece::lone});
            if (row > segment.first) {
                todo.push_back(Work{Segment{batch, segment.first, row, no_skip}, Piece::before});
            }
            return;
        }
        std::size_t middle = segment.first + segment.rows() / 2;
        todo.push_back(Work{Segment{batch, middle, segment.end, no_skip}, Piece::plain});
        todo.push_back(Work{Segment{batch, segment.first, middle, no_skip}, Piece::plain});
    }

    // An `around` piece was refused too (a second refused row, or a wrong hint): its COPY is
    // queued as if not merged (the rows before the hinted row, the row, the rows after it), so
    // rows are still decided in order. The caller drops the hinted row's own piece, which
    // followed the around piece and did not run.
    static void unmerge(const Segment& around, std::vector<Work>& todo) {
        const Segment whole{around.batch, around.first, around.end, no_skip};
        const std::uint64_t hint = around.skip - around.first + 1;
        std::vector<Work> pieces;
        split(whole, hint, false, pieces);
        todo.insert(todo.end(), pieces.begin(), pieces.end());
    }

    // Whether refused `segment` may be re-sent as an `around` piece and its hinted row: once
    // COPYs are small (`sub_rows`; a large one would likely be refused again, leaving its rows
    // dead), and not when a reject by any writer could end the load (`RejectsOverLimit` commits
    // the rows accepted so far, which must not include rows after the last refused one).
    bool merge_allowed(const Segment& segment) const {
        const std::uint64_t rejected = _state.rows_rejected.load();
        return segment.rows() <= sub_rows() && sub_rows() != SIZE_MAX &&
               rejected < _state.options.rejects_max &&
               _state.options.rejects_max - rejected > _state.options.writers;
    }

    // The row the server's CONTEXT names (1-based within the COPY), 0 for none; shifted by the
    // test-only `isolation_hint` modes.
    std::uint64_t hinted_row(const ServerError& refused) const {
        std::uint64_t line = copy_line_hint(refused.context());
        if (line == 0) {
            return 0;
        }
        switch (_state.options.isolation_hint) {
            case IsolationHint::later_row:
                return line + 1;
            case IsolationHint::earlier_row:
                return line - 1;
            default:
                return line;
        }
    }

    // Rows per COPY: a whole batch while the server refuses nothing; after refusals, small
    // enough that the rows a refused COPY leaves dead stay near 0.14 per row stored (the bound
    // is 0.2), and no larger than one group of rows the server writes to the heap at once
    // (copyfrom.c CopyMultiInsertInfoIsFull: 1000 tuples; binary COPY fills no line_buf, so
    // its 64 kB limit does not apply). A refusal found when a group is written (unique 23505,
    // exclusion 23P01, foreign key 23503) leaves every row of its COPY dead, hence 0.14 / rate
    // rows. One found before the row is buffered (CHECK, NOT NULL, a value) leaves none in a
    // COPY of one group, but the rows before it are parsed twice and those after it sent
    // twice: 0.33 / rate measured faster than 0.67 / rate (bench/RESULTS.md, issue 12).
    std::size_t sub_rows() const {
        std::uint64_t weight = 14 * _rate_costly + 6 * (_rate_errors - _rate_costly);
        if (weight == 0) {
            return SIZE_MAX;
        }
        return std::clamp<std::size_t>(2 * _rate_rows / weight, sub_rows_min, sub_rows_max);
    }

    // `refused` of `rows` were refused, `costly` of them by errors found after the rows were
    // written to the heap (see `sub_rows`).
    void note_rows(std::uint64_t rows, std::uint64_t refused, std::uint64_t costly) {
        _rate_rows += rows;
        _rate_errors += refused;
        _rate_costly += costly;
        if (_rate_rows > rate_window_rows) {
            _rate_rows /= 2;
            _rate_errors /= 2;
            _rate_costly /= 2;
        }
    }

    static bool leaves_copy_dead(const ServerError& error) {
        const std::string& state = error.sqlstate();
        return state == "23505" || state == "23P01" || state == "23503";
    }

    // One COPY of `segment` inside the savepoint, into its table or with `copy_sql` (the
    // statements that end with the COPY into the stage). Returns the server's refusal when it is
    // about a row (the savepoint is then rolled back before the next statement), nothing on
    // success. Throws every other error.
    std::optional<ServerError> copy_segment(const Segment& segment,
                                            const std::string* copy_sql = nullptr) {
        std::string sql;
        if (!_in_txn) {
            sql = _state.prologue_sql;  // BEGIN; SELECT txid_current(); ... SAVEPOINT s;
        } else if (_savepoint_failed) {
            sql = "ROLLBACK TO SAVEPOINT s; ";
        } else {
            sql = "RELEASE SAVEPOINT s; SAVEPOINT s; ";
        }
        sql += copy_sql != nullptr ? *copy_sql : _state.tables[segment.batch->table_index].copy_sql;
        std::string marks;
        _copy.start(sql, _in_txn ? nullptr : &marks);
        _state.copy_rows_sent += segment.rows();
        if (!_in_txn) {
            _marks = detail::parse_xid_marks(marks);
            _in_txn = true;
        }
        _savepoint_failed = false;
        _state.copies += 1;
        _state.round_trips += 2;  // CopyInResponse, then CommandComplete
        if (_copy.send(_header)) {
            (void)send_segment(segment);  // false: the server refused; finish() says why
        }
        std::uint64_t stored = 0;
        try {
            stored = _copy.finish();
        } catch (const ServerError& error) {
            _state.bytes_sent += _copy.bytes_sent();
            if (PQstatus(_conn.native()) != CONNECTION_OK ||
                error_meaning(error.sqlstate(), copy_line_hint(error.context()) > 0) !=
                    ErrorMeaning::row) {
                throw;
            }
            _savepoint_failed = true;
            return error;
        }
        _state.bytes_sent += _copy.bytes_sent();
        if (stored != segment.rows()) {
            throw Error("COPY count mismatch on writer " + std::to_string(_index) +
                        ": the server reported COPY " + std::to_string(stored) + ", " +
                        std::to_string(segment.rows()) + " rows were sent");
        }
        return std::nullopt;
    }

    // Turns staging on for the table of `batch` when a COPY into it was refused for a duplicate
    // key, the table can be staged, and duplicates come often enough (`staged_rate_high`).
    void note_refusal(const Batch& batch, const ServerError& error) {
        StagedMode& mode = _staged[batch.table_index];
        if (error.sqlstate() == "23505" && !mode.on && mode.usable &&
            _state.tables[batch.table_index].staged && staged_rate_high()) {
            mode.on = true;
        }
    }

    // Whether recent refusals that leave their COPY dead (duplicate keys, mostly) reach
    // `staged_rate_min_per_10k`; true before any row was placed (the first refusal stages, and
    // the rate decides after the first staged batch).
    bool staged_rate_high() const {
        return _rate_costly * 10'000 >= staged_rate_min_per_10k * _rate_rows;
    }

    // Whether the rows of `todo` (one batch) go through the stage: its table is in staging
    // mode, and no reject of any writer can end the load meanwhile (`RejectsOverLimit` commits
    // the rows accepted so far, which must not include rows after the last refused one, while
    // a staged INSERT stores the rows after a duplicate before the duplicate is rejected).
    bool staging_wanted(const std::vector<Work>& todo) const {
        if (!_staged[todo.back().segment.batch->table_index].on) {
            return false;
        }
        std::uint64_t rows = 0;
        for (const Work& work : todo) {
            rows += work.segment.rows();
        }
        const std::uint64_t rejected = _state.rows_rejected.load();
        const std::uint64_t max = _state.options.rejects_max;
        return rejected < max && (max - rejected) / _state.options.writers > rows;
    }

    // Stages the rows of `todo`, which are disjoint rows of one batch, in batch order: each run
    // of consecutive rows as one stage, so a key's first copy is the one stored.
    void stage_pieces(std::vector<Work>& todo) {
        std::vector<Segment> runs;
        for (const Work& work : todo) {
            for_each_run(work.segment, [&](std::size_t first, std::size_t end) {
                runs.push_back(Segment{work.segment.batch, first, end, no_skip});
            });
        }
        todo.clear();
        std::sort(runs.begin(), runs.end(),
                  [](const Segment& a, const Segment& b) { return a.first < b.first; });
        std::size_t merged = 0;
        for (std::size_t i = 1; i < runs.size(); i++) {
            if (runs[i].first == runs[merged].end) {
                runs[merged].end = runs[i].end;
            } else {
                runs[++merged] = runs[i];
            }
        }
        runs.resize(runs.empty() ? 0 : merged + 1);
        for (const Segment& run : runs) {
            stage_segment(run);
        }
    }

    // COPYs `segment` into the stage, moves it into the table with the staged INSERT, accepts
    // the rows it inserted and sends each row it skipped alone: the server refuses it with its
    // own message (issue 12 point 2) or, if it does not, the row is stored. When the stage or
    // the INSERT is refused (a CHECK, NOT NULL, a foreign key, another unique index, a domain),
    // the segment is isolated by COPYs as without a stage.
    void stage_segment(const Segment& segment) {
        const std::size_t table_index = segment.batch->table_index;
        const StagedInsert& staged = *_state.tables[table_index].staged;
        std::optional<ServerError> refused;
        std::string answer;
        try {
            refused = copy_segment(segment, &staged.stage_sql);
            if (!refused) {
                _state.round_trips += 1;
                answer = _conn.query_value(staged.insert_sql);
            }
        } catch (const ServerError& error) {
            refused = error;
            stage_refused(table_index, error);
        }
        if (refused) {
            run_isolation({Work{segment, Piece::plain}}, false);
            return;
        }
        _state.staged_inserts += 1;
        const std::vector<std::size_t> skipped =
            detail::parse_staged_answer(answer, segment.rows());
        std::vector<Work> proofs;  // last: first to send
        std::size_t first = segment.first;
        for (std::size_t ordinal : skipped) {
            const std::size_t row = segment.first + ordinal - 1;
            if (row > first) {
                accept(Segment{segment.batch, first, row, no_skip});
            }
            first = row + 1;
            proofs.insert(proofs.begin(),
                          Work{Segment{segment.batch, row, row + 1, no_skip}, Piece::lone});
        }
        if (first < segment.end) {
            accept(Segment{segment.batch, first, segment.end, no_skip});
        }
        run_isolation(std::move(proofs), false);
        if (!staged_rate_high()) {
            _staged[table_index].on = false;  // duplicates became rare: back to plain COPYs
        }
    }

    // The stage's COPY or INSERT failed with `error` (a ServerError thrown, not a row refused
    // by the stage's COPY). Rethrows what the writer must recover from (a broken connection,
    // 40001 / 40P01, a server in trouble); else undoes the statement so the rows can be sent
    // by COPY, and stops staging the table when the error is not about a row (e.g. no right to
    // create temp tables): the stage cannot work there.
    void stage_refused(std::size_t table_index, const ServerError& error) {
        const ErrorMeaning meaning = error_meaning(error.sqlstate(), false);
        if (PQstatus(_conn.native()) != CONNECTION_OK || meaning == ErrorMeaning::transient ||
            meaning == ErrorMeaning::retry_transaction) {
            throw error;
        }
        if (meaning != ErrorMeaning::row) {
            _staged[table_index].usable = false;
            _staged[table_index].on = false;
        }
        if (_in_txn) {
            _savepoint_failed = true;
        } else if (PQtransactionStatus(_conn.native()) != PQTRANS_IDLE) {
            rollback();  // the prologue began a transaction the stage's statements then failed
        }
    }

    bool send_segment(const Segment& segment) {
        const Batch& batch = *segment.batch;
        PGINGEST_ASSERT(segment.first < segment.end && segment.end <= batch.rows());
        if (segment.first == 0 && segment.end == batch.rows() && segment.skip == no_skip) {
            return _copy.send(batch.buffer);  // the whole batch, framed in place
        }
        bool sent = true;
        for_each_run(segment, [&](std::size_t first, std::size_t end) {
            std::size_t begin = batch.row_begin(first);
            sent = sent && _copy.send_slice(batch.buffer.data() + begin,
                                            batch.row_ends[end - 1] - begin);
        });
        return sent;
    }

    // Commits the accepted rows with the epilogue as one pipeline (`ROLLBACK TO SAVEPOINT s`
    // when the last COPY was refused, the hooks' epilogue, COMMIT: one round trip) and reports
    // them. A connection lost on the way is asked about with txid_status, never guessed.
    void commit() {
        std::uint64_t rows = gather_settled();
        if (_in_txn) {
            try {
                send_commit_pipeline(rows);
            } catch (const ConnectionError&) {
                // Lost during COMMIT: it may or may not have committed. Ask, never guess: a
                // connection lost while asking is asked again on a new one (an error escaping
                // here would make the caller re-send a transaction that may have committed).
                for (;;) {
                    reconnect();
                    try {
                        if (!committed_before_loss(_marks)) {
                            throw AttemptLost{};
                        }
                        break;
                    } catch (const ConnectionError&) {
                        continue;
                    }
                }
            }
            _in_txn = false;
            _savepoint_failed = false;
            _state.transactions_committed += 1;
        }
        _state.rows_committed += rows;
        _txn_committed += rows;
        if (_state.callbacks.on_commit && (rows > 0 || _rejected_rows > 0)) {
            _state.callbacks.on_commit(CommitReport{.writer_index = _index,
                                                    .rows = rows,
                                                    .rows_rejected = _rejected_rows,
                                                    .loaded = _loaded.ranges(),
                                                    .rejected = _rejected.ranges(),
                                                    .origins = _committed_origins,
                                                    .tables = _committed_tables});
        }
        _accepted.clear();
    }

    // Gathers what this transaction settles, for the epilogue and the commit report: the
    // accepted segments' origins (and tables), and the rows of the pending batches refused on
    // their own (each batch is in exactly one committed transaction). Returns the rows stored.
    std::uint64_t gather_settled() {
        _committed_origins.clear();
        _committed_tables.clear();
        _loaded.clear();
        _rejected.clear();
        _rejected_rows = 0;
        std::uint64_t rows = 0;
        for (const Segment& segment : _accepted) {
            rows += segment.rows();
            for_each_run(segment, [&](std::size_t first, std::size_t end) {
                std::span<const RowOrigin> run(segment.batch->origins.data() + first,
                                               end - first);
                _committed_origins.push_back(run);
                _committed_tables.push_back(segment.batch->table_index);
                _loaded.add(run);
            });
        }
        for (const Batch* batch : _pending) {
            for (std::uint32_t row : batch->rejected) {
                _rejected.add(batch->origins[row]);
            }
            _rejected_rows += batch->rejected.size();
        }
        return rows;
    }

    // The epilogue statements of the hooks and COMMIT, in one pipeline. Throws `EpilogueError`
    // when an epilogue statement fails for good; other errors as they are (transaction.hpp).
    void send_commit_pipeline(std::uint64_t rows) {
        PGINGEST_ASSERT(_in_txn && _committed_tables.size() == _committed_origins.size());
        std::vector<Statement> epilogue;
        if (_state.callbacks.transaction.epilogue) {
            epilogue = _state.callbacks.transaction.epilogue(TransactionView{
                .writer_index = _index,
                .rows = rows,
                .rows_rejected = _rejected_rows,
                .loaded = _loaded.ranges(),
                .rejected = _rejected.ranges(),
                .origins = _committed_origins,
                .tables = _committed_tables,
            });
        }
        std::size_t epilogue_at = 0;
        std::vector<Statement> pipeline =
            commit_pipeline(_savepoint_failed, epilogue, &epilogue_at);
        std::size_t failed = SIZE_MAX;
        _state.round_trips += 1;
        try {
            _conn.exec_pipeline(pipeline, &failed);
        } catch (const Error& error) {
            bool in_epilogue = failed != SIZE_MAX && failed >= epilogue_at &&
                               failed - epilogue_at < epilogue.size();
            rethrow_commit_failure(error, in_epilogue ? failed - epilogue_at : SIZE_MAX, epilogue);
        }
    }

    void reject(Batch& batch, std::size_t row, const ServerError& error) {
        batch.rejected.push_back(static_cast<std::uint32_t>(row));
        std::uint64_t rejected = _state.rows_rejected.fetch_add(1) + 1;
        if (_state.callbacks.on_reject) {
            _state.callbacks.on_reject(RejectReport{.writer_index = _index,
                                                    .origin = batch.origins[row],
                                                    .table_index = batch.table_index,
                                                    .sqlstate = error.sqlstate(),
                                                    .message = error.what()});
        }
        if (rejected > _state.options.rejects_max) {
            throw RejectsOverLimit{RejectsExceeded(
                "more than " + std::to_string(_state.options.rejects_max) +
                    " rows rejected by the server; the last: " + error.what(),
                error.sqlstate())};
        }
    }

    void rollback() {
        _state.round_trips += 1;
        _conn.exec("ROLLBACK");
        _in_txn = false;
    }

    // Session settings of every writer connection, new or re-established.
    void set_up_session() {
        for (const std::string& statement : _state.session_statements) {
            _state.round_trips += 1;
            _conn.exec(statement);
        }
    }

    // Replaces a lost connection, retrying with exponential backoff (50 ms doubling to 2 s)
    // until reconnect_timeout_ms. Throws `ReconnectFailed` when the server stays away.
    void reconnect() {
        _copy.reset();
        _in_txn = false;
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
                    throw ReconnectFailed("writer " + std::to_string(_index) +
                                              " lost its connection and could not reconnect "
                                              "within " +
                                              std::to_string(_state.options.reconnect_timeout_ms) +
                                              " ms: " + error.what(),
                                          error.sqlstate());
                }
            }
            std::this_thread::sleep_for(delay);
            delay = std::min(delay * 2, std::chrono::milliseconds(2000));
        }
    }

    // Whether the transaction of `marks`, whose COMMIT was cut off, committed. Its id is
    // trusted only if no crash restart may have handed it out again (detail::lost_commit_verdict
    // in transaction.cpp says why, from PostgreSQL's sources); then txid_status (PG10+) says.
    // While the old backend is still ending, the status is "in progress": wait for it. An id
    // the server calls "in the future" did not commit.
    // Throws `CommitInDoubt` when the server cannot say.
    bool committed_before_loss(const detail::XidMarks& marks) {
        const std::uint64_t xid = marks.xid;
        _state.round_trips += 1;
        switch (detail::lost_commit_verdict(
            marks, detail::parse_checkpoint_now(
                       _conn.query_value(std::string(detail::checkpoint_now_sql))))) {
            case detail::LostCommitVerdict::not_committed:
                return false;
            case detail::LostCommitVerdict::unknown:
                throw CommitInDoubt("writer " + std::to_string(_index) +
                                        " lost its connection during COMMIT of transaction " +
                                        std::to_string(xid) +
                                        " and the server restarted since: that id may belong "
                                        "to another transaction now, its outcome is unknown",
                                    xid);
            case detail::LostCommitVerdict::ask_txid_status:
                break;
        }
        const std::string sql = "SELECT coalesce(txid_status(" + std::to_string(xid) + "), '')";
        for (int attempt = 0; attempt < 200; attempt++) {
            _state.round_trips += 1;
            std::string status;
            try {
                status = _conn.query_value(sql);
            } catch (const ServerError& error) {
                // txid_status raises 22023 only for an id past the server's next one
                // (xid8funcs.c TransactionIdInRecentPast): crash recovery replayed no WAL of
                // that transaction, so no commit record either.
                if (error.sqlstate() == "22023") {
                    return false;
                }
                throw;
            }
            if (status == "committed") {
                return true;
            }
            if (status == "aborted") {
                return false;
            }
            if (status != "in progress") {
                throw CommitInDoubt("writer " + std::to_string(_index) +
                                        " lost its connection during COMMIT of transaction " +
                                        std::to_string(xid) +
                                        " and the server no longer knows its outcome",
                                    xid);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        throw CommitInDoubt("transaction " + std::to_string(xid) +
                                " was still in progress 10 s after its connection was lost",
                            xid);
    }

    // Every pending row is now committed or rejected: return the batches to the pool.
    void finish_transaction() {
        std::uint64_t rows = 0;
        std::uint64_t rejected = 0;
        for (const Batch* batch : _pending) {
            rows += batch->rows();
            rejected += batch->rejected.size();
        }
        // The accounting of the transaction: rows sent = committed + rejected (none pending).
        PGINGEST_ASSERT(rows == _txn_committed + rejected);
        _txn_committed = 0;
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
        _placed = 0;
    }

    // After a failure or on stop: roll back what is open; its batches were never committed.
    void abandon() noexcept {
        _copy.abort("pgingest: load stopped");
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
    std::vector<Batch*> _pending;  // batches of the open transaction, in order
    std::size_t _placed = 0;       // how many of them are in the transaction
    std::vector<Segment> _accepted;  // rows in the transaction, not yet committed
    bool _in_txn = false;            // BEGIN sent, no COMMIT or ROLLBACK since
    bool _savepoint_failed = false;  // the last COPY was refused: roll back to the savepoint
    std::uint64_t _txn_committed = 0;  // rows of the pending batches committed (by a RejectsOver)
    Clock::time_point _opened;
    std::uint64_t _txn_bytes = 0;
    std::uint64_t _txn_rows = 0;
    std::size_t _txn_batches = 0;  // pool batches the transaction holds, ballast included
    std::uint64_t _min_sequence = UINT64_MAX;
    detail::XidMarks _marks;  // the transaction's id, and the server's state when it began
    std::uint64_t _rate_rows = 0;    // rows placed lately...
    std::uint64_t _rate_errors = 0;  // ...how many of them were refused...
    std::uint64_t _rate_costly = 0;  // ...of which by errors that leave their COPY dead
    std::optional<Clock::time_point> _trouble_since;  // first of the recent transient errors
    // Scratch for TransactionView and CommitReport, kept so their capacity is reused.
    std::vector<std::span<const RowOrigin>> _committed_origins;
    std::vector<std::size_t> _committed_tables;  // the table of each run of _committed_origins
    OriginRanges _loaded;
    OriginRanges _rejected;
    std::uint64_t _rejected_rows = 0;
    ByteBuffer _pipeline;  // the messages of a pipeline of COPYs (`isolate_round`)
    std::vector<StagedMode> _staged;  // per table: whether its batches go through the stage
};

}  // namespace
}  // namespace detail

using detail::Batch;
using detail::Clock;

Producer::Producer(Producer&& other) noexcept
    : _state(other._state),
      _table_index(other._table_index),
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
        batch->origins.clear();
        batch->rejected.clear();
        batch->table_index = _table_index;
        batch->opened = Clock::now();
        begin_copy_data(batch->buffer);
        _batch = batch;
    }
    _row_start = _batch->buffer.size();
    _batch->buffer.put_u16(_state->tables[_table_index].field_count);
    return &_batch->buffer;
}

void Producer::end_row(RowOrigin origin) {
    PGINGEST_ASSERT(_batch != nullptr);
    PGINGEST_ASSERT(_batch->buffer.size() <= UINT32_MAX);
    _batch->row_ends.push_back(static_cast<std::uint32_t>(_batch->buffer.size()));
    _batch->origins.push_back(origin);
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
    : Engine(conninfo, std::vector<TableInfo>{std::move(table)}, options, std::move(callbacks)) {}

namespace {

// The tables of an engine, each with the COPY its batches run (into the table, or into its
// staging table).
std::vector<detail::TableTarget> table_targets(std::vector<TableInfo> tables,
                                               const TransactionHooks& hooks) {
    std::vector<detail::TableTarget> targets;
    for (std::size_t i = 0; i < tables.size(); i++) {
        PGINGEST_ASSERT(tables[i].columns.size() <= UINT16_MAX);
        const StagingTarget* staging = nullptr;
        for (const StagingTarget& candidate : hooks.staging) {
            if (candidate.table_index == i) {
                staging = &candidate;
            }
        }
        detail::TableTarget target;
        target.copy_sql = detail::copy_target_sql(tables[i], staging);
        target.field_count = static_cast<std::uint16_t>(tables[i].columns.size());
        target.info = std::move(tables[i]);
        targets.push_back(std::move(target));
    }
    return targets;
}

// How the batches of table `index` can be staged after a duplicate key: nothing when the table
// has a staging target of the hooks (its COPYs go there already) or cannot be staged safely
// (detail::staged_key_sql says when), or a hand-made TableInfo has no OID to look it up by.
std::optional<detail::StagedInsert> read_staged_insert(Connection& conn,
                                                       const detail::EngineState& state,
                                                       std::size_t index) {
    const TableInfo& info = state.tables[index].info;
    for (const StagingTarget& staging : state.callbacks.transaction.staging) {
        if (staging.table_index == index) {
            return std::nullopt;
        }
    }
    if (info.oid == 0) {
        return std::nullopt;
    }
    std::vector<std::string> key =
        detail::parse_staged_key(conn.query_value(detail::staged_key_sql(info.oid)));
    return detail::staged_insert(info, key, index);
}

}  // namespace

Engine::Engine(const std::string& conninfo, std::vector<TableInfo> tables, EngineOptions options,
               EngineCallbacks callbacks)
    : _state(std::make_unique<detail::EngineState>()) {
    PGINGEST_ASSERT(options.writers >= 1 && options.batch_bytes >= 1);
    if (tables.empty()) {
        throw Error("an engine needs at least one target table");
    }
    detail::validate_hooks(callbacks.transaction, tables.size());
    detail::EngineState& state = *_state;
    state.conninfo = conninfo;
    state.options = options;
    state.tables = table_targets(std::move(tables), callbacks.transaction);
    state.prologue_sql = detail::transaction_prologue_sql(callbacks.transaction);
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
        batch->origins.reserve(options.batch_bytes / 64 + 1);
        state.free_batches.enqueue(batch.get());
        state.pool.push_back(std::move(batch));
    }
    state.txn_batches_max = std::max<std::size_t>(1, buffers / (options.writers + 1));
    std::vector<Connection> connections;
    for (std::size_t i = 0; i < options.writers; i++) {
        connections.emplace_back(conninfo);  // throws ConnectionError before any thread starts
    }
    const bool has_citus = connections[0].query_value(
                               "SELECT count(*) FROM pg_extension WHERE extname = 'citus'") != "0";
    state.session_statements = writer_session_statements(options, has_citus);
    if (options.stage_duplicate_keys) {
        for (std::size_t i = 0; i < state.tables.size(); i++) {
            state.tables[i].staged = read_staged_insert(connections[0], state, i);
        }
    }
    for (const StagingTarget& staging : state.callbacks.transaction.staging) {
        state.session_statements.push_back(staging.create_sql);
    }
    // Every writer sets its session up (staging tables included) before any thread starts, so
    // a statement the server refuses throws from here with no thread to stop.
    std::vector<std::shared_ptr<detail::Writer>> writers;
    for (std::size_t i = 0; i < options.writers; i++) {
        writers.push_back(std::make_shared<detail::Writer>(state, i, std::move(connections[i])));
    }
    for (auto& writer : writers) {
        _threads.emplace_back([writer] { writer->run(); });
    }
}

std::vector<std::string> writer_session_statements(const EngineOptions& options,
                                                   bool has_citus) {
    std::vector<std::string> statements;
    if (options.lock_timeout_ms != 0) {
        statements.push_back("SET lock_timeout = " + std::to_string(options.lock_timeout_ms));
    }
    if (has_citus) {
        // Each COMMIT otherwise makes Citus open ~16 connections per worker (issue 12: 2.4-3.6x
        // the server's own COPY with the default, 0.86-1.11x with 1).
        statements.emplace_back("SET citus.max_adaptive_executor_pool_size = 1");
    }
    return statements;
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
    return Producer(*_state, 0);
}

Producer Engine::producer(std::size_t table_index) {
    if (table_index >= _state->tables.size()) {
        throw Error("no table " + std::to_string(table_index) + ": the engine has " +
                    std::to_string(_state->tables.size()) + " table(s), numbered from 0");
    }
    return Producer(*_state, table_index);
}

void Engine::flush() {
    Producer flusher(*_state, 0);  // holds no batch: flush() only waits for what is in flight
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
                       .copies = state.copies.load(),
                       .producer_waits = state.producer_waits.load(),
                       .ballast_batches = state.ballast_batches.load(),
                       .round_trips = state.round_trips.load(),
                       .copy_rows_sent = state.copy_rows_sent.load(),
                       .staged_inserts = state.staged_inserts.load()};
}

const TableInfo& Engine::table() const noexcept {
    return _state->tables[0].info;
}

const TableInfo& Engine::table(std::size_t table_index) const noexcept {
    PGINGEST_ASSERT(table_index < _state->tables.size());
    return _state->tables[table_index].info;
}

std::size_t Engine::table_count() const noexcept {
    return _state->tables.size();
}

}  // namespace pgingest
