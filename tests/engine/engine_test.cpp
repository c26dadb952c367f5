// Proves the engine's data path against a real server: several producer threads and writers
// store every submitted row exactly once (count and content checksum), on both I/O paths;
// flush() returns only when the rows are committed; partly filled batches are handed over after
// the flush interval; WhenFull::reject answers "would block" when the pool is exhausted; a row
// the server refuses ends the load with the server's error and stores none of its transaction.

#include "engine/engine.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <mutex>
#include <span>
#include <thread>

#include "codecs/assert.hpp"
#include "codecs/copy_binary.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

// (producer int4, seq int8, payload text): payload = "p<producer>-<seq>".
void put_event(Producer& producer, std::int32_t producer_id, std::int64_t seq) {
    ByteBuffer* out = nullptr;
    while ((out = producer.begin_row()) == nullptr) {
        std::this_thread::yield();  // WhenFull::reject: retry
    }
    out->put_i32(4);
    out->put_i32(producer_id);
    out->put_i32(8);
    out->put_i64(seq);
    std::string payload = "p" + std::to_string(producer_id) + "-" + std::to_string(seq);
    FieldStart field = begin_field(*out);
    out->put_bytes(payload);
    // Catch2 v2 assertions are not thread-safe: producer threads check without them.
    PGINGEST_ASSERT(end_field(*out, field).ok());
    producer.end_row(RowOrigin{.offset = static_cast<std::uint64_t>(seq)});
}

void create_events(Connection& conn, const std::string& table) {
    conn.exec("DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table +
              " (producer int4, seq int8, payload text)");
}

}  // namespace

TEST_CASE("engine: 4 producers and 2 writers store every row exactly once", "[engine][pg][uring]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    create_events(conn, "eng_events");
    const std::int64_t rows_per_producer = 100'000;
    std::atomic<std::uint64_t> rows_reported{0};
    Engine engine(
        test::cluster().conninfo(), read_table_info(conn, "eng_events"),
        EngineOptions{.writers = 2,
                      .batch_bytes = 64 * 1024,
                      .memory_budget_bytes = 1 << 20,
                      .txn_bytes_max = 2 << 20,
                      .io = io},
        EngineCallbacks{
            .on_commit = [&](const CommitReport& report) { rows_reported += report.rows; },
            .on_reject = {}});
    std::vector<std::thread> threads;
    for (std::int32_t p = 0; p < 4; p++) {
        threads.emplace_back([&engine, p, rows_per_producer] {
            Producer producer = engine.producer();
            for (std::int64_t seq = 0; seq < rows_per_producer; seq++) {
                put_event(producer, p, seq);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    engine.close();
    EngineStats stats = engine.stats();
    CHECK(stats.rows_submitted == 400'000);
    CHECK(stats.rows_committed == 400'000);
    CHECK(rows_reported.load() == 400'000);
    CHECK(stats.transactions_committed > 2);  // txn_bytes_max made it commit along the way
    CHECK(conn.query_value("SELECT count(*) FROM eng_events") == "400000");
    CHECK(conn.query_value("SELECT count(DISTINCT (producer, seq)) FROM eng_events") == "400000");
    CHECK(conn.query_value("SELECT sum(seq) FROM eng_events") == "19999800000");
    CHECK(conn.query_value("SELECT count(*) FROM eng_events "
                           "WHERE payload <> 'p' || producer || '-' || seq") == "0");
}

TEST_CASE("engine: opened by table name, it reads the catalog itself", "[engine][pg]") {
    auto conn = test::connect();
    create_events(conn, "eng_by_name");
    Engine engine(test::cluster().conninfo(), std::string_view("eng_by_name"),
                  EngineOptions{.writers = 1});
    CHECK(engine.table().qualified_name == "public.eng_by_name");
    CHECK(engine.table().columns.size() == 3);
    Producer producer = engine.producer();
    put_event(producer, 7, 1);
    producer.flush();
    CHECK(conn.query_value("SELECT payload FROM eng_by_name") == "p7-1");
    CHECK_THROWS_WITH(Engine(test::cluster().conninfo(), std::string_view("eng_missing")),
                      Catch::StartsWith("table eng_missing does not exist"));
}

TEST_CASE("engine: flush returns when the rows are committed and visible", "[engine][pg]") {
    auto conn = test::connect();
    create_events(conn, "eng_flush");
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "eng_flush"),
                  EngineOptions{.writers = 2, .flush_interval_ms = 60'000});
    Producer producer = engine.producer();
    for (std::int64_t seq = 0; seq < 10; seq++) {
        put_event(producer, 1, seq);
    }
    CHECK(conn.query_value("SELECT count(*) FROM eng_flush") == "0");
    producer.flush();
    CHECK(conn.query_value("SELECT count(*) FROM eng_flush") == "10");
    put_event(producer, 1, 10);
    producer.flush();
    CHECK(conn.query_value("SELECT count(*) FROM eng_flush") == "11");
    CHECK(engine.stats().rows_committed == 11);
}

TEST_CASE("engine: a partly filled batch is committed after the flush interval", "[engine][pg]") {
    auto conn = test::connect();
    create_events(conn, "eng_interval");
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "eng_interval"),
                  EngineOptions{.writers = 1, .flush_interval_ms = 50});
    Producer producer = engine.producer();
    put_event(producer, 1, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    put_event(producer, 1, 1);  // end_row sees the batch is older than the interval
    // The writer commits within its own interval; poll the table, bounded by 10 s.
    std::string count;
    for (int i = 0; i < 1000 && count != "2"; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        count = conn.query_value("SELECT count(*) FROM eng_interval");
    }
    CHECK(count == "2");
}

TEST_CASE("engine: WhenFull::reject says would-block when every buffer is in use", "[engine][pg]") {
    auto conn = test::connect();
    create_events(conn, "eng_full");
    // A trigger that sleeps makes the server the slow consumer.
    conn.exec(R"sql(
        CREATE OR REPLACE FUNCTION eng_slow() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$;
        CREATE TRIGGER eng_slow BEFORE INSERT ON eng_full
            FOR EACH ROW EXECUTE FUNCTION eng_slow();)sql");
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "eng_full"),
                  EngineOptions{.writers = 1,
                                .batch_bytes = 64,
                                .memory_budget_bytes = 128,
                                .when_full = WhenFull::reject});
    Producer producer = engine.producer();
    int accepted = 0;
    bool would_block = false;
    for (int i = 0; i < 100 && !would_block; i++) {
        ByteBuffer* out = producer.begin_row();
        if (out == nullptr) {
            would_block = true;
            break;
        }
        for (int f = 0; f < 3; f++) {
            put_null(*out);
        }
        producer.end_row(RowOrigin{.offset = static_cast<std::uint64_t>(i)});
        accepted++;
    }
    CHECK(would_block);
    CHECK(accepted <= 20);
    producer.flush();
    CHECK(conn.query_value("SELECT count(*) FROM eng_full") == std::to_string(accepted));
}

TEST_CASE("engine: rows the server refuses are isolated, every other row is stored",
          "[engine][pg][uring]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    // CHECK refuses seq % 1000 == 999; the UNIQUE index refuses the second copy of a payload.
    conn.exec(
        "DROP TABLE IF EXISTS eng_rejects; CREATE TABLE eng_rejects "
        "(producer int4, seq int8 CHECK (seq % 1000 <> 999), payload text UNIQUE)");
    std::mutex mutex;
    std::vector<RejectReport> rejects;
    std::vector<std::uint64_t> committed_tags;
    Engine engine(
        test::cluster().conninfo(), read_table_info(conn, "eng_rejects"),
        EngineOptions{
            .writers = 2, .batch_bytes = 16 * 1024, .memory_budget_bytes = 1 << 20, .io = io},
        EngineCallbacks{.on_commit =
                            [&](const CommitReport& report) {
                                std::lock_guard lock(mutex);
                                std::uint64_t rows = 0;
                                for (std::span<const RowOrigin> run : report.origins) {
                                    for (const RowOrigin& origin : run) {
                                        committed_tags.push_back(origin.offset);
                                    }
                                    rows += run.size();
                                }
                                PGINGEST_ASSERT(rows == report.rows);
                            },
                        .on_reject =
                            [&](const RejectReport& report) {
                                std::lock_guard lock(mutex);
                                rejects.push_back(report);
                            }});
    {
        Producer producer = engine.producer();
        for (std::int64_t seq = 0; seq < 20'000; seq++) {
            put_event(producer, 1, seq);
            if (seq % 2500 == 1234) {
                put_event(producer, 1, seq);  // duplicate payload, tag = seq as well
            }
        }
    }
    engine.close();
    EngineStats stats = engine.stats();
    CHECK(stats.rows_submitted == 20'008);
    CHECK(stats.rows_rejected == 28);
    CHECK(stats.rows_committed == 20'008 - 28);
    CHECK(stats.rows_committed + stats.rows_rejected == stats.rows_submitted);
    CHECK(conn.query_value("SELECT count(*) FROM eng_rejects") == "19980");
    CHECK(conn.query_value("SELECT count(*) FROM eng_rejects WHERE seq % 1000 = 999") == "0");
    REQUIRE(rejects.size() == 28);
    std::size_t check_rejects = 0;
    std::size_t unique_rejects = 0;
    for (const auto& reject : rejects) {
        if (reject.sqlstate == "23514") {
            CHECK(reject.origin.offset % 1000 == 999);
            CHECK_THAT(reject.message, Catch::Contains("eng_rejects_seq_check"));
            check_rejects++;
        } else {
            CHECK(reject.sqlstate == "23505");
            CHECK(reject.origin.offset % 2500 == 1234);
            CHECK_THAT(reject.message, Catch::Contains("eng_rejects_payload_key"));
            unique_rejects++;
        }
    }
    CHECK(check_rejects == 20);
    CHECK(unique_rejects == 8);
    // The commit reports name exactly the stored rows: with the refused ones, every tag once.
    std::vector<std::uint64_t> reported = committed_tags;
    for (const auto& reject : rejects) {
        reported.push_back(reject.origin.offset);
    }
    std::vector<std::uint64_t> submitted;
    for (std::uint64_t seq = 0; seq < 20'000; seq++) {
        submitted.push_back(seq);
        if (seq % 2500 == 1234) {
            submitted.push_back(seq);
        }
    }
    std::sort(reported.begin(), reported.end());
    CHECK(committed_tags.size() == 19'980);
    CHECK(reported == submitted);
}

TEST_CASE("engine: refused first, last and adjacent rows of a batch are isolated", "[engine][pg]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    // One batch for all rows (0 and 99 are its ends), or one row per batch (each refused row
    // starts a batch in the middle of a transaction).
    auto batch_bytes = GENERATE(std::size_t{1 << 20}, std::size_t{1});
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS eng_edges; CREATE TABLE eng_edges "
        "(producer int4, seq int8 CHECK (seq NOT IN (0, 1, 5, 6, 7, 99)), payload text)");
    std::mutex mutex;
    std::vector<std::uint64_t> tags;
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "eng_edges"),
                  EngineOptions{.writers = 1,
                                .batch_bytes = batch_bytes,
                                .memory_budget_bytes = 64 * batch_bytes,
                                .io = io},
                  EngineCallbacks{.on_commit = {}, .on_reject = [&](const RejectReport& report) {
                                      std::lock_guard lock(mutex);
                                      tags.push_back(report.origin.offset);
                                  }});
    Producer producer = engine.producer();
    for (std::int64_t seq = 0; seq < 100; seq++) {
        put_event(producer, 1, seq);
    }
    producer.flush();
    std::sort(tags.begin(), tags.end());
    CHECK(tags == std::vector<std::uint64_t>{0, 1, 5, 6, 7, 99});
    CHECK(engine.stats().rows_committed == 94);
    CHECK(conn.query_value("SELECT count(*) FROM eng_edges") == "94");
    CHECK(conn.query_value("SELECT min(seq) || '-' || max(seq) FROM eng_edges") == "2-98");
}

TEST_CASE("engine: more rejects than rejects_max end the load", "[engine][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS eng_maxrej; CREATE TABLE eng_maxrej "
        "(producer int4, seq int8 CHECK (seq % 10 <> 0), payload text)");
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "eng_maxrej"),
                  EngineOptions{.writers = 1, .rejects_max = 3});
    Producer producer = engine.producer();
    for (std::int64_t seq = 1; seq <= 100; seq++) {
        put_event(producer, 1, seq);
    }
    CHECK_THROWS_WITH(producer.flush(), Catch::Contains("more than 3 rows rejected by the server"));
    CHECK(engine.stats().rows_rejected == 4);
    // Rows before the 4th reject were committed in their own transactions; none after it.
    CHECK(conn.query_value("SELECT max(seq) FROM eng_maxrej") == "39");
    CHECK(conn.query_value("SELECT count(*) FROM eng_maxrej") == "36");
}

TEST_CASE("engine: an error that is not about one row ends the load, storing nothing of it",
          "[engine][pg]") {
    auto conn = test::connect();
    conn.exec(R"sql(
        DROP TABLE IF EXISTS eng_fatal;
        CREATE TABLE eng_fatal (producer int4, seq int8, payload text);
        CREATE OR REPLACE FUNCTION eng_disk_full() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN IF NEW.seq = 500 THEN
             RAISE EXCEPTION 'simulated disk full' USING ERRCODE = '53100';
           END IF; RETURN NEW; END $$;
        CREATE TRIGGER eng_disk_full BEFORE INSERT ON eng_fatal
            FOR EACH ROW EXECUTE FUNCTION eng_disk_full();)sql");
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "eng_fatal"),
                  EngineOptions{.writers = 1});
    Producer producer = engine.producer();
    for (std::int64_t seq = 0; seq < 1000; seq++) {
        put_event(producer, 1, seq);
    }
    try {
        producer.flush();
        FAIL("flush succeeded although the server failed with 53100");
    } catch (const ServerError& error) {
        CHECK(error.sqlstate() == "53100");
        CHECK_THAT(error.what(), Catch::Contains("simulated disk full"));
        CHECK_THAT(error.what(), Catch::Contains("COPY eng_fatal, line 501"));
    }
    CHECK(engine.stats().rows_committed == 0);
    CHECK(conn.query_value("SELECT count(*) FROM eng_fatal") == "0");
    CHECK_THROWS_AS(producer.begin_row(), ServerError);
}

namespace {

// Peak resident set size of this process in KiB (VmHWM), since start or the last reset.
std::uint64_t peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmHWM:")) {
            return std::stoull(line.substr(6));
        }
    }
    FAIL("no VmHWM in /proc/self/status");
    return 0;
}

// Resets VmHWM to the current RSS (proc(5): writing 5 to /proc/PID/clear_refs, Linux >= 4.0).
void reset_peak_rss() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    REQUIRE(clear.good());
}

}  // namespace

namespace {

struct BudgetRun {
    std::uint64_t rss_growth_kib = 0;
    EngineStats stats;
};

// Loads `rows` tuples with a `payload_bytes` text field into a new table `table` that a trigger
// makes slower than the producer (so the pool runs dry), with a 4 MiB budget; returns how much
// the peak RSS grew meanwhile (the pool is allocated before the measurement starts).
BudgetRun load_within_budget(Connection& conn, const std::string& table, std::int64_t rows,
                             std::size_t payload_bytes, std::size_t batch_bytes) {
    conn.exec("DROP TABLE IF EXISTS " + table + "; CREATE UNLOGGED TABLE " + table +
              " (producer int4, seq int8, payload text)");
    conn.exec(R"sql(
        CREATE OR REPLACE FUNCTION eng_budget_slow() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN IF NEW.seq % 20000 = 0 OR NEW.producer = 2 THEN PERFORM pg_sleep(0.01);
                 END IF; RETURN NEW; END $$;)sql");
    conn.exec("CREATE TRIGGER " + table + "_slow BEFORE INSERT ON " + table +
              " FOR EACH ROW EXECUTE FUNCTION eng_budget_slow()");
    Engine engine(
        test::cluster().conninfo(), read_table_info(conn, table),
        EngineOptions{
            .writers = 2, .batch_bytes = batch_bytes, .memory_budget_bytes = std::size_t{4} << 20});
    const std::string payload(payload_bytes, 'x');
    // Large payloads go through the slow branch of the trigger (producer 2) too.
    const std::int32_t producer_id = payload_bytes > batch_bytes ? 2 : 1;
    reset_peak_rss();
    const std::uint64_t rss_before = peak_rss_kib();
    {
        Producer producer = engine.producer();
        for (std::int64_t seq = 0; seq < rows; seq++) {
            ByteBuffer* out = producer.begin_row();
            out->put_i32(4);
            out->put_i32(producer_id);
            out->put_i32(8);
            out->put_i64(seq);
            out->put_i32(static_cast<std::int32_t>(payload.size()));
            out->put_bytes(payload);
            producer.end_row(RowOrigin{.offset = static_cast<std::uint64_t>(seq)});
        }
    }
    engine.close();
    // The kernel's RSS counters are synced lazily (per-thread caches): with no growth at all the
    // peak may read a few pages below the value read after the reset.
    const std::uint64_t rss_after = peak_rss_kib();
    return BudgetRun{.rss_growth_kib = rss_after > rss_before ? rss_after - rss_before : 0,
                     .stats = engine.stats()};
}

// The pool is allocated before the reset; the rest (libpq, io_uring, thread stacks) is small.
// ThreadSanitizer keeps shadow memory for what the program touches (about 4x, and more for
// synchronisation metadata): its bound is scaled, and still far below the ~200 MB an unbounded
// pipeline would hold.
#if defined(__SANITIZE_THREAD__)
constexpr std::uint64_t rss_growth_max_kib = 5 * 16 * 1024;
#else
constexpr std::uint64_t rss_growth_max_kib = 16 * 1024;
#endif

}  // namespace

TEST_CASE("engine: with WhenFull::block memory stays within the budget, whatever the load size",
          "[engine][pg]") {
    auto conn = test::connect();
    BudgetRun run = load_within_budget(conn, "eng_budget", 100'000, 2000, 256 << 10);  // ~200 MB
    INFO("peak RSS grew by " << run.rss_growth_kib << " KiB for ~200 MB of rows, budget 4 MiB");
    CHECK(run.stats.rows_committed == 100'000);
    CHECK(run.stats.producer_waits > 0);
    CHECK(run.stats.ballast_batches == 0);
    CHECK(run.rss_growth_kib < rss_growth_max_kib);
    CHECK(conn.query_value("SELECT count(*) FROM eng_budget") == "100000");
}

TEST_CASE("engine: tuples larger than a batch count for their size in the budget", "[engine][pg]") {
    // 1 MiB tuples, 64 KiB batches: each tuple grows its batch to 16 times the pool's batch
    // size. Without ballast the 64 batches of the pool would hold 64 MiB in flight, and keep it.
    auto conn = test::connect();
    BudgetRun run = load_within_budget(conn, "eng_budget_big", 150, 1 << 20, 64 << 10);
    INFO("peak RSS grew by " << run.rss_growth_kib << " KiB for ~150 MB of rows, budget 4 MiB");
    CHECK(run.stats.rows_committed == 150);
    CHECK(run.stats.ballast_batches > 0);
    CHECK(run.rss_growth_kib < rss_growth_max_kib);
    CHECK(conn.query_value("SELECT count(*) FROM eng_budget_big") == "150");
    CHECK(conn.query_value("SELECT sum(length(payload)) FROM eng_budget_big") ==
          std::to_string(150 * (1 << 20)));
}
