// Proves isolation of refused rows (issue 12): whatever the server's CONTEXT says (used,
// ignored, naming the row after or before the refused one, or translated into German on a
// server a non-superuser cannot switch to English), every good row is stored, every refused row
// is rejected once with its own tag and SQLSTATE; with 0.5 % refused rows the dead tuples left
// stay below 0.2 per stored row; serialization failures and transient errors are retried.

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "codecs/assert.hpp"
#include "engine/engine.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

// (producer int4, seq int8, payload text): payload = "p<producer>-<seq>".
void put_row(Producer& producer, std::int32_t producer_id, std::int64_t seq) {
    ByteBuffer* out = producer.begin_row();
    PGINGEST_ASSERT(out != nullptr);
    out->put_i32(4);
    out->put_i32(producer_id);
    out->put_i32(8);
    out->put_i64(seq);
    std::string payload = "p" + std::to_string(producer_id) + "-" + std::to_string(seq);
    out->put_i32(static_cast<std::int32_t>(payload.size()));
    out->put_bytes(payload);
    producer.end_row(RowOrigin{.offset = static_cast<std::uint64_t>(seq)});
}

// Rows with seq 0 .. rows - 1 from producer 1; returns the seqs `refused` says the table
// refuses, in order.
template <typename Refused>
std::vector<std::uint64_t> produce_rows(Engine& engine, std::int64_t rows, Refused refused) {
    std::vector<std::uint64_t> refused_seqs;
    Producer producer = engine.producer();
    for (std::int64_t seq = 0; seq < rows; seq++) {
        put_row(producer, 1, seq);
        if (refused(seq)) {
            refused_seqs.push_back(static_cast<std::uint64_t>(seq));
        }
    }
    return refused_seqs;
}

struct Outcome {
    std::mutex mutex;
    std::vector<std::uint64_t> committed;
    std::vector<RejectReport> rejects;

    EngineCallbacks callbacks() {
        return EngineCallbacks{.on_commit =
                                   [this](const CommitReport& report) {
                                       std::lock_guard lock(mutex);
                                       for (std::span<const RowOrigin> run : report.origins) {
                                           for (const RowOrigin& origin : run) {
                                               committed.push_back(origin.offset);
                                           }
                                       }
                                   },
                               .on_reject =
                                   [this](const RejectReport& report) {
                                       std::lock_guard lock(mutex);
                                       rejects.push_back(report);
                                   }};
    }

    std::vector<std::uint64_t> rejected_tags() const {
        std::vector<std::uint64_t> tags;
        for (const auto& reject : rejects) {
            tags.push_back(reject.origin.offset);
        }
        std::sort(tags.begin(), tags.end());
        return tags;
    }
};

const char* hint_name(IsolationHint hint) {
    switch (hint) {
        case IsolationHint::use:
            return "use";
        case IsolationHint::ignore:
            return "ignore";
        case IsolationHint::later_row:
            return "later_row";
        case IsolationHint::earlier_row:
            return "earlier_row";
    }
    return "?";
}

// Waits (bounded) until the writers' backends have exited, so their statistics are flushed,
// and returns n_dead_tup of `table`.
std::uint64_t dead_tuples(Connection& conn, const std::string& table, const std::string& app) {
    for (int i = 0; i < 1000; i++) {
        if (conn.query_value("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" +
                             app + "'") == "0") {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    conn.exec("SELECT pg_stat_clear_snapshot()");
    return std::stoull(conn.query_value(
        "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = '" + table + "'"));
}

}  // namespace

TEST_CASE("engine isolation: every good row stored, every refused row rejected, any CONTEXT",
          "[engine][pg][isolation]") {
    auto hint = GENERATE(IsolationHint::use, IsolationHint::ignore, IsolationHint::later_row,
                         IsolationHint::earlier_row);
    INFO("isolation_hint " << hint_name(hint));
    auto conn = test::connect();
    // CHECK refuses seq % 97 = 13, the first and last rows and three adjacent ones; UNIQUE
    // refuses the second copy of a payload (seq % 500 = 7 is sent twice in a row).
    conn.exec(
        "DROP TABLE IF EXISTS iso_rows; CREATE TABLE iso_rows (producer int4, seq int8 "
        "CHECK (seq % 97 <> 13 AND seq NOT IN (0, 4000, 4001, 4002, 9999)), payload text UNIQUE)");
    Outcome outcome;
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "iso_rows"),
                  EngineOptions{.writers = 2,
                                .batch_bytes = 16 * 1024,
                                .memory_budget_bytes = 1 << 20,
                                .isolation_hint = hint},
                  outcome.callbacks());
    std::vector<std::uint64_t> expected_rejects;
    std::vector<std::uint64_t> expected_stored;
    {
        Producer producer = engine.producer();
        for (std::int64_t seq = 0; seq < 10'000; seq++) {
            bool check_fails = seq % 97 == 13 || seq == 0 || seq == 9999 ||
                               (seq >= 4000 && seq <= 4002);
            put_row(producer, 1, seq);
            (check_fails ? expected_rejects : expected_stored)
                .push_back(static_cast<std::uint64_t>(seq));
            if (seq % 500 == 7) {
                put_row(producer, 1, seq);  // the duplicate: refused by CHECK or UNIQUE
                expected_rejects.push_back(static_cast<std::uint64_t>(seq));
            }
        }
    }
    engine.close();
    std::sort(expected_rejects.begin(), expected_rejects.end());
    EngineStats stats = engine.stats();
    CHECK(stats.rows_submitted == 10'020);
    CHECK(stats.rows_rejected == expected_rejects.size());
    CHECK(stats.rows_committed == expected_stored.size());
    CHECK(outcome.rejected_tags() == expected_rejects);
    std::sort(outcome.committed.begin(), outcome.committed.end());
    CHECK(outcome.committed == expected_stored);
    for (const auto& reject : outcome.rejects) {
        std::uint64_t seq = reject.origin.offset;
        bool check_fails =
            seq % 97 == 13 || seq == 0 || seq == 9999 || (seq >= 4000 && seq <= 4002);
        CHECK(reject.sqlstate == (check_fails ? "23514" : "23505"));
        // Rejected only after the row alone was refused: the CONTEXT names line 1.
        CHECK_THAT(reject.message, Catch::Contains("COPY iso_rows, line 1"));
    }
    CHECK(conn.query_value("SELECT count(*) FROM iso_rows") ==
          std::to_string(expected_stored.size()));
    CHECK(conn.query_value("SELECT count(DISTINCT seq) FROM iso_rows") ==
          std::to_string(expected_stored.size()));
}

TEST_CASE("engine isolation: two refused rows side by side are rejected in order, on both paths",
          "[engine][pg][isolation]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    // Pairs of adjacent refused rows: once COPYs are small, the rows of a refused one but the
    // hinted row (sent as one COPY before that row alone) hold the second row of the pair and
    // are refused too; the COPY is then re-sent as the rows before, the row, the rows after.
    conn.exec(
        "DROP TABLE IF EXISTS iso_pairs; CREATE TABLE iso_pairs (producer int4, seq int8 "
        "CHECK (seq % 40 NOT IN (11, 12)), payload text)");
    Outcome outcome;
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "iso_pairs"),
                  EngineOptions{.writers = 1, .batch_bytes = 16 * 1024, .io = io},
                  outcome.callbacks());
    std::vector<std::uint64_t> expected_rejects = produce_rows(
        engine, 4000, [](std::int64_t seq) { return seq % 40 == 11 || seq % 40 == 12; });
    engine.close();
    CHECK(engine.stats().rows_rejected == 200);
    CHECK(engine.stats().rows_committed == 3800);
    std::vector<std::uint64_t> in_report_order;  // one writer: rows are decided in order
    for (const auto& reject : outcome.rejects) {
        in_report_order.push_back(reject.origin.offset);
        CHECK(reject.sqlstate == "23514");
        CHECK_THAT(reject.message, Catch::Contains("COPY iso_pairs, line 1"));
    }
    CHECK(in_report_order == expected_rejects);
    CHECK(conn.query_value("SELECT count(*) FROM iso_pairs") == "3800");
    CHECK(conn.query_value("SELECT count(DISTINCT seq) FROM iso_pairs WHERE seq % 40 NOT IN "
                           "(11, 12)") == "3800");
}

TEST_CASE("engine isolation: 0.5 % duplicate keys leave under 0.2 dead tuples per row stored",
          "[engine][pg][isolation]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS iso_dead; CREATE TABLE iso_dead (producer int4, seq int8 "
        "PRIMARY KEY, payload text) WITH (autovacuum_enabled = off)");
    Outcome outcome;
    Engine engine(test::cluster().conninfo() + " application_name=pgingest_iso_dead",
                  read_table_info(conn, "iso_dead"),
                  EngineOptions{.writers = 1, .batch_bytes = 256 * 1024},
                  outcome.callbacks());
    const std::int64_t rows = 40'000;
    {
        Producer producer = engine.producer();
        for (std::int64_t i = 0; i < rows; i++) {
            // Every 200th row repeats the key 100 rows back: 0.5 % refused.
            put_row(producer, 1, i % 200 == 199 ? i - 100 : i);
        }
    }
    engine.close();
    const std::uint64_t stored = static_cast<std::uint64_t>(rows - rows / 200);
    CHECK(engine.stats().rows_rejected == static_cast<std::uint64_t>(rows / 200));
    CHECK(engine.stats().rows_committed == stored);
    CHECK(conn.query_value("SELECT count(*) FROM iso_dead") == std::to_string(stored));
    for (const auto& reject : outcome.rejects) {
        CHECK(reject.sqlstate == "23505");
        CHECK(reject.origin.offset % 200 == 99);
    }
    std::uint64_t dead = dead_tuples(conn, "iso_dead", "pgingest_iso_dead");
    INFO("n_dead_tup " << dead << " for " << stored << " rows, " << engine.stats().copies
                       << " COPYs");
    CHECK(dead * 5 <= stored);
}

TEST_CASE("engine isolation: a German server and a non-superuser, duplicate keys isolated",
          "[engine][pg][isolation]") {
    LocalClusterOptions options;
    options.settings = {"lc_messages=de_DE.UTF-8"};  // needs the locale (tools/quickstart.sh)
    LocalCluster server(options);
    Connection admin(server.conninfo());
    admin.exec(R"sql(
        CREATE ROLE loader LOGIN;
        CREATE TABLE iso_de (producer int4, seq int8 PRIMARY KEY, payload text);
        GRANT SELECT, INSERT ON iso_de TO loader;)sql");
    std::string conninfo = server.conninfo();
    conninfo.replace(conninfo.find("user=postgres"), 13, "user=loader");
    Connection loader(conninfo);
    CHECK_THROWS_AS(loader.exec("SET lc_messages = 'C'"), ServerError);  // superuser only
    Outcome outcome;
    Engine engine(conninfo, "iso_de", EngineOptions{.writers = 2, .batch_bytes = 8 * 1024},
                  outcome.callbacks());
    {
        Producer producer = engine.producer();
        for (std::int64_t seq = 0; seq < 5000; seq++) {
            put_row(producer, 1, seq);
            if (seq % 250 == 3) {
                put_row(producer, 2, seq);  // the same key again
            }
        }
    }
    engine.close();
    CHECK(engine.stats().rows_committed == 5000);
    CHECK(engine.stats().rows_rejected == 20);
    std::vector<std::uint64_t> expected;
    for (std::uint64_t seq = 3; seq < 5000; seq += 250) {
        expected.push_back(seq);
    }
    CHECK(outcome.rejected_tags() == expected);
    for (const auto& reject : outcome.rejects) {
        CHECK(reject.sqlstate == "23505");
        CHECK_THAT(reject.message, Catch::Contains("Zeile 1"));  // the server speaks German
    }
    // Which copy of a key is stored depends on which writer commits first when the two land
    // in different batches; the tag is the same either way.
    CHECK(admin.query_value("SELECT count(*) FROM iso_de") == "5000");
}

TEST_CASE("engine isolation: serialization failures and transient errors are retried",
          "[engine][pg][isolation]") {
    auto state = GENERATE(as<std::string>{}, "40001", "40P01", "58030", "53300");
    INFO("SQLSTATE " << state);
    auto conn = test::connect();
    // Row 700 fails once with `state` (the sequence is not transactional, so the retry
    // passes); the transaction is rolled back and sent again.
    conn.exec("DROP TABLE IF EXISTS iso_retry; DROP SEQUENCE IF EXISTS iso_retry_once;"
              "CREATE SEQUENCE iso_retry_once;"
              "CREATE TABLE iso_retry (producer int4, seq int8, payload text);"
              "CREATE OR REPLACE FUNCTION iso_retry_fail() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN IF NEW.seq = 700 AND nextval('iso_retry_once') = 1 THEN "
              "RAISE EXCEPTION 'injected' USING ERRCODE = '" +
              state +
              "'; END IF; RETURN NEW; END $$;"
              "CREATE TRIGGER iso_retry_fail BEFORE INSERT ON iso_retry "
              "FOR EACH ROW EXECUTE FUNCTION iso_retry_fail();");
    Outcome outcome;
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "iso_retry"),
                  EngineOptions{.writers = 1, .batch_bytes = 4 * 1024}, outcome.callbacks());
    {
        Producer producer = engine.producer();
        for (std::int64_t seq = 0; seq < 2000; seq++) {
            put_row(producer, 1, seq);
        }
    }
    engine.close();
    CHECK(engine.stats().rows_committed == 2000);
    CHECK(engine.stats().rows_rejected == 0);
    CHECK(conn.query_value("SELECT last_value FROM iso_retry_once") == "2");  // one retry
    CHECK(conn.query_value("SELECT count(*) || '/' || count(DISTINCT seq) FROM iso_retry") ==
          "2000/2000");
}

TEST_CASE("engine isolation: pipelined COPYs recover from errors that end the transaction",
          "[engine][pg][isolation]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto state = GENERATE(as<std::string>{}, "40001", "57P01", "23505");
    INFO("io " << (io == CopyIo::uring ? "uring" : "libpq") << ", SQLSTATE " << state);
    auto conn = test::connect();
    // The CHECK refuses 2 % of the rows, so isolation sends small COPYs (pipelined on the
    // io_uring path); row 3000 fails once with `state` in the middle of that: a serialization
    // failure (the transaction runs again), a server going away (reconnect, all sent again),
    // or a unique violation raised once (a good row: its COPY alone succeeds, so it is stored).
    conn.exec("DROP TABLE IF EXISTS iso_pipe; DROP SEQUENCE IF EXISTS iso_pipe_once;"
              "CREATE SEQUENCE iso_pipe_once;"
              "CREATE TABLE iso_pipe (producer int4, seq int8 CHECK (seq % 50 <> 7), "
              "payload text);"
              "CREATE OR REPLACE FUNCTION iso_pipe_fail() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN IF NEW.seq = 3000 AND nextval('iso_pipe_once') = 1 THEN "
              "RAISE EXCEPTION 'injected' USING ERRCODE = '" +
              state +
              "'; END IF; RETURN NEW; END $$;"
              "CREATE TRIGGER iso_pipe_fail BEFORE INSERT ON iso_pipe "
              "FOR EACH ROW EXECUTE FUNCTION iso_pipe_fail();");
    Outcome outcome;
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "iso_pipe"),
                  EngineOptions{.writers = 1, .batch_bytes = 32 * 1024, .io = io},
                  outcome.callbacks());
    std::vector<std::uint64_t> expected_rejects =
        produce_rows(engine, 6000, [](std::int64_t seq) { return seq % 50 == 7; });
    engine.close();
    EngineStats stats = engine.stats();
    CHECK(stats.rows_committed == 6000 - 120);
    CHECK(stats.rows_rejected == 120);
    CHECK(outcome.rejected_tags() == expected_rejects);
    for (const auto& reject : outcome.rejects) {
        CHECK(reject.sqlstate == "23514");
        CHECK_THAT(reject.message, Catch::Contains("COPY iso_pipe, line 1"));
    }
    CHECK(stats.reconnects == (state == "57P01" ? 1U : 0U));
    CHECK(std::stoull(conn.query_value("SELECT last_value FROM iso_pipe_once")) >= 2);
    CHECK(conn.query_value("SELECT count(*) || '/' || count(DISTINCT seq) FROM iso_pipe") ==
          "5880/5880");
    // Rows are re-sent while isolating; on the io_uring path many COPYs share a round trip.
    CHECK(stats.copy_rows_sent > stats.rows_submitted);
    INFO(stats.copies << " COPYs, " << stats.round_trips << " round trips");
    if (io == CopyIo::uring) {
        CHECK(stats.round_trips * 2 < stats.copies);
    } else {
        CHECK(stats.round_trips >= 2 * stats.copies);
    }
}

namespace {

struct BenchRun {
    double seconds = 0;
    double dead_per_row = 0;
    std::uint64_t copies = 0;
    EngineStats stats;
};

// One load of `rows` event-like rows (about 120 bytes each) into `iso_bench`, a table with a
// primary key and a CHECK; every `refuse_every`-th row (0: none) repeats an earlier key
// (`duplicate`) or fails the CHECK.
BenchRun bench_load(LocalCluster& server, std::int64_t rows, std::int64_t refuse_every,
                    bool duplicate, CopyIo io, bool staged) {
    Connection conn(server.conninfo());
    conn.exec(
        "DROP TABLE IF EXISTS iso_bench; CREATE TABLE iso_bench (producer int4, seq int8 "
        "PRIMARY KEY, payload text CHECK (payload NOT LIKE 'bad%')) "
        "WITH (autovacuum_enabled = off)");
    Engine engine(server.conninfo() + " application_name=pgingest_iso_bench",
                  read_table_info(conn, "iso_bench"),
                  EngineOptions{.writers = 2, .io = io, .stage_duplicate_keys = staged});
    const std::string filler(100, 'x');
    auto start = std::chrono::steady_clock::now();
    {
        Producer producer = engine.producer();
        for (std::int64_t i = 0; i < rows; i++) {
            bool refused = refuse_every != 0 && i % refuse_every == refuse_every - 1;
            std::int64_t seq = refused && duplicate ? i - refuse_every / 2 : i;
            ByteBuffer* out = producer.begin_row();
            out->put_i32(4);
            out->put_i32(1);
            out->put_i32(8);
            out->put_i64(seq);
            std::string payload = (refused && !duplicate ? "bad" : "ok") + filler;
            out->put_i32(static_cast<std::int32_t>(payload.size()));
            out->put_bytes(payload);
            producer.end_row(RowOrigin{.offset = static_cast<std::uint64_t>(i)});
        }
    }
    engine.close();
    BenchRun run;
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::uint64_t stored = engine.stats().rows_committed;
    run.dead_per_row = static_cast<double>(dead_tuples(conn, "iso_bench", "pgingest_iso_bench")) /
                       static_cast<double>(stored);
    run.copies = engine.stats().copies;
    run.stats = engine.stats();
    return run;
}

}  // namespace

// The cost of refused rows (issue 12 point 3), by hand; figures in bench/RESULTS.md:
//   pgingest_engine_test "[.isobench]" -s   (PGINGEST_ISOBENCH_ROWS, default 400000;
//   PGINGEST_ISOBENCH_ONLY: one case; PGINGEST_ISOBENCH_IO=libpq; PGINGEST_ISOBENCH_STAGE=0:
//   without staging duplicate keys, as before it existed)
TEST_CASE("engine isolation bench: refused rows against a clean load", "[.isobench]") {
    const char* rows_text = std::getenv("PGINGEST_ISOBENCH_ROWS");
    const std::int64_t rows = rows_text != nullptr ? std::atoll(rows_text) : 400'000;
    LocalClusterOptions options;
    options.settings = {"autovacuum=off"};
    LocalCluster server(options);
    struct Case {
        const char* name;
        std::int64_t refuse_every;
        bool duplicate;
    };
    const Case cases[] = {{"clean", 0, false},
                          {"0.05% duplicate keys", 2000, true},
                          {"0.5% duplicate keys", 200, true},
                          {"0.05% CHECK failures", 2000, false},
                          {"0.5% CHECK failures", 200, false},
                          {"5% duplicate keys", 20, true}};
    // PGINGEST_ISOBENCH_ONLY=<part of a case name>: that case (and the clean load) only.
    const char* only = std::getenv("PGINGEST_ISOBENCH_ONLY");
    // PGINGEST_ISOBENCH_IO=libpq: the libpq I/O path (default: io_uring).
    const char* io_text = std::getenv("PGINGEST_ISOBENCH_IO");
    const CopyIo io =
        io_text != nullptr && std::string(io_text) == "libpq" ? CopyIo::libpq : CopyIo::uring;
    const char* stage_text = std::getenv("PGINGEST_ISOBENCH_STAGE");
    const bool staged = stage_text == nullptr || std::string(stage_text) != "0";
    double clean = 0;
    for (const Case& c : cases) {
        if (only != nullptr && c.refuse_every != 0 &&
            std::string(c.name).find(only) == std::string::npos) {
            continue;
        }
        std::vector<BenchRun> runs;
        for (int repetition = 0; repetition < 3; repetition++) {
            runs.push_back(bench_load(server, rows, c.refuse_every, c.duplicate, io, staged));
        }
        std::sort(runs.begin(), runs.end(),
                  [](const BenchRun& a, const BenchRun& b) { return a.seconds < b.seconds; });
        const BenchRun& median = runs[1];
        if (c.refuse_every == 0) {
            clean = median.seconds;
        }
        WARN(c.name << ": " << median.seconds << " s (" << median.seconds / clean
                    << "x clean), n_dead_tup/row " << median.dead_per_row << ", " << median.copies
                    << " COPYs, " << median.stats.round_trips << " round trips, "
                    << median.stats.copy_rows_sent << " rows sent, " << median.stats.rows_rejected
                    << " rejected, " << median.stats.staged_inserts << " staged INSERTs");
    }
}

TEST_CASE("engine: writer sessions set what Citus needs only when the extension exists",
          "[engine]") {
    CHECK(writer_session_statements(EngineOptions{}, false).empty());
    CHECK(writer_session_statements(EngineOptions{}, true) ==
          std::vector<std::string>{"SET citus.max_adaptive_executor_pool_size = 1"});
    CHECK(writer_session_statements(EngineOptions{.lock_timeout_ms = 250}, true) ==
          std::vector<std::string>{"SET lock_timeout = 250",
                                   "SET citus.max_adaptive_executor_pool_size = 1"});
    CHECK(writer_session_statements(EngineOptions{.lock_timeout_ms = 250}, false) ==
          std::vector<std::string>{"SET lock_timeout = 250"});
}
