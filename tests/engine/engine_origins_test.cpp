// Proves that the engine reports row origins exactly (issue 12 point 5): with 2 producers (each
// its own source) and 2 writers, the union of the commit reports' `loaded` ranges equals the
// origins of the rows the server holds, offset for offset; the `rejected` ranges and each
// reject's origin name exactly the rows the server refused; no range is reported by two
// commits. The same holds when the writers' connections are killed mid-COPY and the writers
// reconnect and re-send.

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "codecs/assert.hpp"
#include "engine/engine.hpp"
#include "engine/origin.hpp"
#include "tests/support/faults.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

constexpr std::uint64_t rows_per_source = 60'000;

// Row `seq` of `source`: its origin covers a record of 1-300 bytes that ends where the next
// begins, as a file's records do; every 501st row fails the table's CHECK.
struct SourceRows {
    std::uint32_t source;
    std::uint64_t offset = 0;

    RowOrigin next(std::uint64_t seq) {
        RowOrigin origin{.source = source,
                         .length = static_cast<std::uint32_t>(1 + (seq * 7919) % 300),
                         .offset = offset};
        offset += origin.length;
        return origin;
    }
};

bool refused(std::uint64_t seq) {
    return seq % 501 == 17;
}

// (source int4, seq int8, off int8, len int4, ok bool CHECK (ok)).
void put_row(Producer& producer, const RowOrigin& origin, std::uint64_t seq) {
    ByteBuffer* out = producer.begin_row();
    PGINGEST_ASSERT(out != nullptr);
    out->put_i32(4);
    out->put_i32(static_cast<std::int32_t>(origin.source));
    out->put_i32(8);
    out->put_i64(static_cast<std::int64_t>(seq));
    out->put_i32(8);
    out->put_i64(static_cast<std::int64_t>(origin.offset));
    out->put_i32(4);
    out->put_i32(static_cast<std::int32_t>(origin.length));
    out->put_i32(1);
    out->put_u8(refused(seq) ? 0 : 1);
    producer.end_row(origin);
}

// What the callbacks saw; filled on writer threads under the mutex (no Catch2 there).
struct Reports {
    std::mutex mutex;
    OriginRanges loaded;               // union of every commit's `loaded`
    OriginRanges rejected;             // union of every commit's `rejected`
    std::uint64_t loaded_offsets = 0;  // sum over commits: equals the union's if none repeats
    std::uint64_t rejected_offsets = 0;
    std::uint64_t rows = 0;
    std::uint64_t rows_rejected = 0;
    bool origins_match_ranges = true;  // each report's per-row origins give its `loaded`
    OriginRanges reject_origins;       // from on_reject
    std::uint64_t rejects = 0;

    EngineCallbacks callbacks() {
        return EngineCallbacks{.on_commit = [this](const CommitReport& report) { commit(report); },
                               .on_reject =
                                   [this](const RejectReport& report) {
                                       std::lock_guard lock(mutex);
                                       reject_origins.add(report.origin);
                                       rejects += 1;
                                   }};
    }

    void commit(const CommitReport& report) {
        OriginRanges from_rows;
        std::uint64_t rows_seen = 0;
        for (std::span<const RowOrigin> run : report.origins) {
            from_rows.add(run);
            rows_seen += run.size();
        }
        OriginRanges loaded_here;
        loaded_here.add(report.loaded);
        OriginRanges rejected_here;
        rejected_here.add(report.rejected);
        std::lock_guard lock(mutex);
        origins_match_ranges = origins_match_ranges && from_rows == loaded_here &&
                               rows_seen == report.rows && as_set(report.loaded) &&
                               as_set(report.rejected);
        loaded.add(report.loaded);
        rejected.add(report.rejected);
        loaded_offsets += loaded_here.offsets();
        rejected_offsets += rejected_here.offsets();
        rows += report.rows;
        rows_rejected += report.rows_rejected;
    }

    // Whether `ranges` is already sorted, disjoint and not touching, as reports promise.
    static bool as_set(std::span<const OriginRange> ranges) {
        OriginRanges copy;
        copy.add(ranges);
        return copy.ranges().size() == ranges.size() &&
               std::equal(ranges.begin(), ranges.end(), copy.ranges().begin());
    }
};

void create_table(Connection& conn, const std::string& table) {
    conn.exec("DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table +
              " (source int4, seq int8, off int8, len int4, ok bool CHECK (ok))");
}

// Two producer threads, one per source.
void produce(Engine& engine) {
    std::vector<std::thread> threads;
    for (std::uint32_t source = 0; source < 2; ++source) {
        threads.emplace_back([&engine, source] {
            Producer producer = engine.producer();
            SourceRows rows{.source = source};
            for (std::uint64_t seq = 0; seq < rows_per_source; ++seq) {
                put_row(producer, rows.next(seq), seq);
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
}

// The origins of every row submitted, split into those the server must store and refuse.
void expected(OriginRanges& stored, OriginRanges& refused_rows) {
    for (std::uint32_t source = 0; source < 2; ++source) {
        SourceRows rows{.source = source};
        for (std::uint64_t seq = 0; seq < rows_per_source; ++seq) {
            RowOrigin origin = rows.next(seq);
            (refused(seq) ? refused_rows : stored).add(origin);
        }
    }
}

// The origins of the rows the server holds, read back.
OriginRanges stored_origins(Connection& conn, const std::string& table) {
    std::string text = conn.query_value(
        "SELECT coalesce(string_agg(source || ':' || off || ':' || len, ',' ORDER BY source, off), "
        "'') FROM " +
        table);
    OriginRanges origins;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t comma = text.find(',', at);
        comma = comma == std::string::npos ? text.size() : comma;
        std::string item = text.substr(at, comma - at);
        std::size_t colon1 = item.find(':');
        std::size_t colon2 = item.find(':', colon1 + 1);
        origins.add(
            RowOrigin{.source = static_cast<std::uint32_t>(std::stoul(item.substr(0, colon1))),
                      .length = static_cast<std::uint32_t>(std::stoul(item.substr(colon2 + 1))),
                      .offset = std::stoull(item.substr(colon1 + 1, colon2 - colon1 - 1))});
        at = comma + 1;
    }
    return origins;
}

void check_reports(Reports& reports, Connection& conn, const std::string& table,
                   const EngineStats& stats) {
    OriginRanges stored;
    OriginRanges refused_rows;
    expected(stored, refused_rows);
    const std::uint64_t refused_count = 2 * ((rows_per_source - 17 + 500) / 501);
    CHECK(stats.rows_rejected == refused_count);
    CHECK(stats.rows_committed == 2 * rows_per_source - refused_count);
    CHECK(conn.query_value("SELECT count(*) FROM " + table) ==
          std::to_string(2 * rows_per_source - refused_count));
    CHECK(conn.query_value("SELECT count(DISTINCT (source, seq)) FROM " + table) ==
          std::to_string(2 * rows_per_source - refused_count));
    CHECK(reports.origins_match_ranges);
    // The union of the commits' ranges is what the server holds, offset for offset.
    CHECK(reports.loaded == stored_origins(conn, table));
    CHECK(reports.loaded == stored);
    CHECK(reports.rows == stats.rows_committed);
    // Refused rows: each named by its reject and settled by exactly one commit.
    CHECK(reports.reject_origins == refused_rows);
    CHECK(reports.rejected == refused_rows);
    CHECK(reports.rejects == refused_count);
    CHECK(reports.rows_rejected == refused_count);
    // No offset reported twice (a range settled once), and no row both stored and refused.
    CHECK(reports.loaded_offsets == reports.loaded.offsets());
    CHECK(reports.rejected_offsets == reports.rejected.offsets());
    OriginRanges all = reports.loaded;
    all.add(reports.rejected);
    CHECK(all.offsets() == reports.loaded.offsets() + reports.rejected.offsets());
    // Each source's records touch end to end: every source is settled from 0 to its end.
    CHECK(all.ranges().size() == 2);
}

}  // namespace

TEST_CASE("engine origins: commit ranges are exactly the stored rows, rejects name theirs",
          "[engine][pg][origin]") {
    auto conn = test::connect();
    create_table(conn, "origin_rows");
    Reports reports;
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "origin_rows"),
                  EngineOptions{.writers = 2,
                                .batch_bytes = 16 * 1024,
                                .memory_budget_bytes = 1 << 20,
                                .txn_bytes_max = 256 * 1024},
                  reports.callbacks());
    produce(engine);
    engine.close();
    EngineStats stats = engine.stats();
    CHECK(stats.transactions_committed >= 4);  // several commits, by both writers
    check_reports(reports, conn, "origin_rows", stats);
}

TEST_CASE("engine origins: exact after writers are killed mid-COPY and reconnect",
          "[engine][pg][origin][faults]") {
    auto conn = test::connect();
    // Row 30000 of source 0 waits in its trigger on an advisory lock held by `killer`: the first
    // kill lands while that COPY is certainly in flight; more kills follow every 40 ms.
    conn.exec(R"sql(
        DROP TABLE IF EXISTS origin_kill;
        CREATE TABLE origin_kill (source int4, seq int8, off int8, len int4, ok bool CHECK (ok));
        CREATE OR REPLACE FUNCTION origin_kill_gate() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN IF NEW.source = 0 AND NEW.seq = 30000 THEN
             PERFORM pg_advisory_lock_shared(44); PERFORM pg_advisory_unlock_shared(44);
           END IF; RETURN NEW; END $$;
        CREATE TRIGGER origin_kill_gate BEFORE INSERT ON origin_kill
            FOR EACH ROW EXECUTE FUNCTION origin_kill_gate();)sql");
    test::WriterKiller killer(test::cluster().conninfo(), "pgingest_origin_kill", 44, 10);
    Reports reports;
    Engine engine(test::cluster().conninfo() + " application_name=pgingest_origin_kill",
                  read_table_info(conn, "origin_kill"),
                  EngineOptions{.writers = 2,
                                .batch_bytes = 16 * 1024,
                                .memory_budget_bytes = 1 << 20,
                                .txn_bytes_max = 256 * 1024},
                  reports.callbacks());
    produce(engine);
    engine.close();
    killer.stop();
    CHECK(killer.killed_at_gate() >= 1);
    EngineStats stats = engine.stats();
    CHECK(stats.reconnects >= 1);
    check_reports(reports, conn, "origin_kill", stats);
}

TEST_CASE("engine origins: a transaction whose rows were all refused still reports them settled",
          "[engine][pg][origin]") {
    // Progress without stored rows (Snowflake#805): the ledger must learn that refused rows are
    // settled, or a resumed load would send (and reject) them again.
    auto conn = test::connect();
    create_table(conn, "origin_refused");
    Reports reports;
    std::vector<std::uint64_t> commit_rows;
    EngineCallbacks callbacks = reports.callbacks();
    callbacks.on_commit = [&reports, &commit_rows](const CommitReport& report) {
        reports.commit(report);
        std::lock_guard lock(reports.mutex);
        commit_rows.push_back(report.rows);
    };
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "origin_refused"),
                  EngineOptions{.writers = 1}, std::move(callbacks));
    Producer producer = engine.producer();
    SourceRows rows{.source = 5};
    for (std::uint64_t seq = 17; seq < 17 + 501 * 4; seq += 501) {  // 4 rows, all refused
        put_row(producer, rows.next(seq), seq);
    }
    producer.flush();
    engine.close();
    CHECK(engine.stats().rows_rejected == 4);
    CHECK(conn.query_value("SELECT count(*) FROM origin_refused") == "0");
    CHECK(commit_rows == std::vector<std::uint64_t>{0});
    CHECK(reports.rows_rejected == 4);
    CHECK(reports.rejects == 4);
    CHECK(reports.loaded.empty());
    CHECK(reports.rejected == reports.reject_origins);
    CHECK(reports.rejected.ranges().size() == 1);  // the 4 records touch: one range
    CHECK(reports.rejected.ranges()[0] == OriginRange{.source = 5, .first = 0, .end = rows.offset});
}
