// Proves the ledger (engine/ledger.hpp, issue 14) against a real server: the ranges it records
// equal, offset for offset, the origins of the rows stored in the target table (2 writers,
// refused rows, writers killed mid-load, an interrupted load resumed from the complement); each
// refused row is recorded once with its SQLSTATE and message; a transaction rolled back leaves
// no ledger row and one run again records once; loads starting at once create the schema once;
// a role without CREATE gets `LedgerUnavailable`; a second run of a load gets `LoadBusy`; source
// identities tell changed files from grown ones; the complement is right on random range sets.

#include "engine/ledger.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "codecs/assert.hpp"
#include "engine/engine.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

constexpr std::int64_t source_span = 1'000'000;  // id = source * source_span + record
constexpr std::uint32_t record_bytes = 10;       // record r of a source: offsets [10r, 10r + 10)

// The rows the server refuses: `CHECK (id % 97 <> 13)`.
bool refused(std::int64_t id) {
    return id % 97 == 13;
}

void put_row(Producer& producer, std::uint32_t source, std::int64_t record) {
    std::int64_t id = source * source_span + record;
    ByteBuffer* out = producer.begin_row();
    PGINGEST_ASSERT(out != nullptr);
    out->put_i32(8);
    out->put_i64(id);
    std::string payload = "r" + std::to_string(id);
    out->put_i32(static_cast<std::int32_t>(payload.size()));
    out->put_bytes(payload);
    producer.end_row(RowOrigin{.source = source,
                               .length = record_bytes,
                               .offset = static_cast<std::uint64_t>(record) * record_bytes});
}

void create_table(Connection& conn, const std::string& table) {
    conn.exec("DROP TABLE IF EXISTS " + table + "; CREATE TABLE " + table +
              " (id int8 CHECK (id % 97 <> 13), payload text)");
}

// The origins of the rows stored in `table`, rebuilt from their ids.
OriginRanges stored_origins(Connection& conn, const std::string& table) {
    OriginRanges origins;
    for (const std::string& value : conn.query_column("SELECT id FROM " + table)) {
        std::int64_t id = std::stoll(value);
        origins.add(
            RowOrigin{.source = static_cast<std::uint32_t>(id / source_span),
                      .length = record_bytes,
                      .offset = static_cast<std::uint64_t>(id % source_span) * record_bytes});
    }
    return origins;
}

// The origins of records [0, records) of sources [0, sources) that `want` (refused or not).
OriginRanges expected_origins(std::uint32_t sources, std::int64_t records, bool want_refused) {
    OriginRanges origins;
    for (std::uint32_t source = 0; source < sources; source++) {
        for (std::int64_t record = 0; record < records; record++) {
            if (refused(source * source_span + record) == want_refused) {
                origins.add(RowOrigin{.source = source,
                                      .length = record_bytes,
                                      .offset = static_cast<std::uint64_t>(record) * record_bytes});
            }
        }
    }
    return origins;
}

// Records [0, records) of `sources` sources, one producer thread each.
void produce(Engine& engine, std::uint32_t sources, std::int64_t records) {
    std::vector<std::thread> producers;
    for (std::uint32_t source = 0; source < sources; source++) {
        producers.emplace_back([&engine, source, records] {
            Producer producer = engine.producer();
            for (std::int64_t record = 0; record < records; record++) {
                put_row(producer, source, record);
            }
        });
    }
    for (auto& thread : producers) {
        thread.join();
    }
}

EngineOptions small_transactions(std::size_t writers) {
    return EngineOptions{.writers = writers,
                         .batch_bytes = 16 * 1024,
                         .memory_budget_bytes = 1 << 20,
                         .txn_bytes_max = 96 * 1024};
}

void drop_schema(Connection& conn, const std::string& schema) {
    conn.exec("DROP SCHEMA IF EXISTS " + conn.quote_identifier(schema) + " CASCADE");
}

// What the ledger's rejects table holds for `load_id`, and that each is a refused row once.
void check_rejects_once(Connection& conn, const std::string& schema, const std::string& load_id,
                        std::uint64_t expected) {
    const std::string where = " FROM " + schema + ".rejects WHERE load_id = '" + load_id + "'";
    CHECK(conn.query_value("SELECT count(*)" + where) == std::to_string(expected));
    CHECK(conn.query_value("SELECT count(*)" + where +
                           " AND (sqlstate <> '23514' OR length <> 10 OR byte_offset % 10 <> 0 "
                           "OR (source_no * 1000000 + byte_offset / 10) % 97 <> 13 "
                           "OR message NOT LIKE '%violates check constraint%')") == "0");
}

// Loads records [0, records) of `sources` sources, one producer thread each, skipping what
// `skip` holds; `interrupt_after`: the producers stop there and the engine is destroyed without
// close (what a killed loader leaves).
void run_load(Ledger& ledger, const std::string& load_id, const std::string& table,
              std::uint32_t sources, std::int64_t records, const OriginRanges& skip,
              std::int64_t interrupt_after = -1) {
    auto conn = test::connect();
    EngineCallbacks callbacks;
    ledger.attach(load_id, callbacks);
    auto engine = std::make_unique<Engine>(test::cluster().conninfo(), read_table_info(conn, table),
                                           small_transactions(2), std::move(callbacks));
    std::vector<std::thread> threads;
    for (std::uint32_t source = 0; source < sources; source++) {
        threads.emplace_back([&, source] {
            Producer producer = engine->producer();
            std::int64_t end = interrupt_after >= 0 ? interrupt_after : records;
            for (std::int64_t record = 0; record < end; record++) {
                if (!skip.contains(source, static_cast<std::uint64_t>(record) * record_bytes)) {
                    put_row(producer, source, record);
                }
                if (interrupt_after >= 0 && record == interrupt_after / 2) {
                    producer.flush();
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    if (interrupt_after < 0) {
        engine->close();
    }
    engine.reset();
}

}  // namespace

TEST_CASE("ledger: ranges equal the stored rows' origins after a load with 2 writers",
          "[engine][pg][ledger]") {
    auto conn = test::connect();
    drop_schema(conn, "ledger_t1");
    create_table(conn, "ledger_rows");
    Ledger ledger(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t1"});
    CHECK_FALSE(ledger.begin_load("load-1", "ledger_rows", {}).has_value());
    run_load(ledger, "load-1", "ledger_rows", 2, 30'000, OriginRanges{});
    // Several transactions, each with its own ledger rows, committed out of order by 2 writers.
    CHECK(std::stoi(conn.query_value("SELECT count(DISTINCT xid) FROM ledger_t1.settled")) > 5);
    CHECK(ledger.read_load("load-1")->state == LoadState::interrupted);  // as seen by this run
    ledger.finish_load("load-1");
    // Compacted: one row per source and outcome.
    CHECK(conn.query_value("SELECT count(*) FROM ledger_t1.settled") == "4");
    std::optional<LoadRecord> record = ledger.read_load("load-1");
    REQUIRE(record.has_value());
    CHECK(record->state == LoadState::finished);
    CHECK(record->target == "ledger_rows");
    OriginRanges stored = stored_origins(conn, "ledger_rows");
    CHECK(stored == expected_origins(2, 30'000, false));
    CHECK(record->loaded == stored);
    CHECK(record->rejected == expected_origins(2, 30'000, true));
    const std::uint64_t refused_rows =
        2 * 30'000 - std::stoull(conn.query_value("SELECT count(*) FROM ledger_rows"));
    CHECK(record->rows_loaded == 2 * 30'000 - refused_rows);
    CHECK(record->rows_rejected == refused_rows);
    CHECK(refused_rows == expected_origins(2, 30'000, true).offsets() / record_bytes);
    check_rejects_once(conn, "ledger_t1", "load-1", refused_rows);
    CHECK(unsettled(std::vector<OriginRange>{{0, 0, 300'000}, {1, 0, 300'000}},
                    [&] {
                        OriginRanges all = record->loaded;
                        all.add(record->rejected);
                        return all;
                    }())
              .empty());
}

TEST_CASE("ledger: writers killed mid-load, ranges still equal the stored rows",
          "[engine][pg][ledger][faults]") {
    auto conn = test::connect();
    drop_schema(conn, "ledger_t2");
    // Record 20000 of source 0 waits in its trigger on an advisory lock held by `gate`, so the
    // first kill lands while that COPY is in flight; more kills follow every 30 ms.
    conn.exec(R"sql(
        DROP TABLE IF EXISTS ledger_kill;
        CREATE TABLE ledger_kill (id int8 CHECK (id % 97 <> 13), payload text);
        CREATE OR REPLACE FUNCTION ledger_kill_gate() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN IF NEW.id = 20000 THEN
             PERFORM pg_advisory_lock_shared(44); PERFORM pg_advisory_unlock_shared(44);
           END IF; RETURN NEW; END $$;
        CREATE TRIGGER ledger_kill_gate BEFORE INSERT ON ledger_kill
            FOR EACH ROW EXECUTE FUNCTION ledger_kill_gate();)sql");
    Connection gate(test::cluster().conninfo());
    gate.exec("SELECT pg_advisory_lock(44)");
    Ledger ledger(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t2"});
    (void)ledger.begin_load("kill", "ledger_kill", {});
    EngineCallbacks callbacks;
    ledger.attach("kill", callbacks);
    Engine engine(test::cluster().conninfo() + " application_name=pgingest_ledger_kill",
                  read_table_info(conn, "ledger_kill"), small_transactions(2),
                  std::move(callbacks));
    std::atomic<bool> loading{true};
    std::atomic<int> killed_mid_copy{0};
    std::thread killer([&] {
        Connection killer_conn(test::cluster().conninfo());
        const std::string kill =
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'pgingest_ledger_kill'";
        for (int i = 0; i < 3000; i++) {
            if (killer_conn.query_value("SELECT count(*) FROM pg_locks WHERE locktype = "
                                        "'advisory' AND objid = 44 AND NOT granted") == "1") {
                killed_mid_copy = std::stoi(killer_conn.query_value(kill));
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        gate.exec("SELECT pg_advisory_unlock(44)");
        for (int round = 0; round < 10 && loading.load(); round++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            (void)killer_conn.query_value(kill);
        }
    });
    produce(engine, 2, 60'000);
    engine.close();
    loading = false;
    killer.join();
    CHECK(killed_mid_copy.load() >= 1);
    CHECK(engine.stats().reconnects >= 1);
    std::optional<LoadRecord> record = ledger.read_load("kill");
    REQUIRE(record.has_value());
    OriginRanges stored = stored_origins(conn, "ledger_kill");
    CHECK(conn.query_value("SELECT count(*) - count(DISTINCT id) FROM ledger_kill") == "0");
    CHECK(stored == expected_origins(2, 60'000, false));
    CHECK(record->loaded == stored);
    CHECK(record->rejected == expected_origins(2, 60'000, true));
    CHECK(record->rows_rejected == engine.stats().rows_rejected);
    check_rejects_once(conn, "ledger_t2", "kill", engine.stats().rows_rejected);
}

TEST_CASE("ledger: an interrupted load resumed from the complement stores every row once",
          "[engine][pg][ledger]") {
    auto conn = test::connect();
    drop_schema(conn, "ledger_t3");
    create_table(conn, "ledger_resume");
    const std::int64_t records = 40'000;
    {
        Ledger first(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t3"});
        CHECK_FALSE(first.begin_load("resume", "ledger_resume", {}).has_value());
        run_load(first, "resume", "ledger_resume", 2, records, OriginRanges{}, 30'000);
    }  // the run's session ends: its run lock with it
    Ledger ledger(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t3"});
    std::optional<LoadRecord> before = ledger.begin_load("resume", "ledger_resume", {});
    REQUIRE(before.has_value());
    CHECK(before->state == LoadState::interrupted);
    OriginRanges stored = stored_origins(conn, "ledger_resume");
    CHECK(before->loaded == stored);
    CHECK_FALSE(stored.empty());
    OriginRanges settled = before->loaded;
    settled.add(before->rejected);
    const std::vector<OriginRange> extent{{0, 0, records * record_bytes},
                                          {1, 0, records * record_bytes}};
    OriginRanges missing = unsettled(extent, settled);
    CHECK(missing.offsets() + settled.offsets() == 2 * records * record_bytes);
    run_load(ledger, "resume", "ledger_resume", 2, records, settled);
    ledger.finish_load("resume");
    std::optional<LoadRecord> after = ledger.read_load("resume");
    REQUIRE(after.has_value());
    CHECK(after->state == LoadState::finished);
    CHECK(conn.query_value("SELECT count(*) - count(DISTINCT id) FROM ledger_resume") == "0");
    CHECK(stored_origins(conn, "ledger_resume") == expected_origins(2, records, false));
    CHECK(after->loaded == expected_origins(2, records, false));
    CHECK(after->rejected == expected_origins(2, records, true));
    CHECK(after->rows_rejected == expected_origins(2, records, true).offsets() / record_bytes);
    check_rejects_once(conn, "ledger_t3", "resume", after->rows_rejected);
}

TEST_CASE("ledger: a rolled-back transaction leaves no ledger row, a re-run one records once",
          "[engine][pg][ledger]") {
    auto code = GENERATE(std::string("P0001"), std::string("40001"));
    INFO("SQLSTATE " << code);
    auto conn = test::connect();
    drop_schema(conn, "ledger_t4");
    create_table(conn, "ledger_undo");
    // A sequence is not transactional: the second transaction's epilogue fails once.
    conn.exec(R"sql(
        DROP SEQUENCE IF EXISTS ledger_undo_calls;
        CREATE SEQUENCE ledger_undo_calls;
        CREATE OR REPLACE FUNCTION ledger_undo_once(code text) RETURNS void LANGUAGE plpgsql AS
        $$ BEGIN IF nextval('ledger_undo_calls') = 2 THEN
             RAISE EXCEPTION 'injected failure' USING ERRCODE = code;
           END IF; END $$;)sql");
    Ledger ledger(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t4"});
    (void)ledger.begin_load("undo", "ledger_undo", {});
    EngineCallbacks callbacks;
    ledger.attach("undo", callbacks);
    auto with_ledger = callbacks.transaction.epilogue;
    callbacks.transaction.epilogue = [with_ledger, code](const TransactionView& view) {
        std::vector<Statement> statements = with_ledger(view);  // the ledger's rows first
        statements.push_back(Statement{.sql = "SELECT ledger_undo_once($1)", .params = {code}});
        return statements;
    };
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "ledger_undo"),
                  EngineOptions{.writers = 1, .flush_interval_ms = 60'000}, std::move(callbacks));
    Producer producer = engine.producer();
    for (std::int64_t record = 0; record < 100; record++) {
        put_row(producer, 0, record);
    }
    producer.flush();
    for (std::int64_t record = 100; record < 250; record++) {
        put_row(producer, 0, record);
    }
    if (code == "P0001") {
        CHECK_THROWS_AS(producer.flush(), EpilogueError);
        CHECK_THROWS_AS(engine.close(), EpilogueError);
    } else {
        producer.flush();
        engine.close();
    }
    std::int64_t stored_records = code == "P0001" ? 100 : 250;
    CHECK(stored_origins(conn, "ledger_undo") == expected_origins(1, stored_records, false));
    std::optional<LoadRecord> record = ledger.read_load("undo");
    REQUIRE(record.has_value());
    CHECK(record->loaded == expected_origins(1, stored_records, false));
    CHECK(record->rejected == expected_origins(1, stored_records, true));
    CHECK(conn.query_value("SELECT count(*) FROM ledger_t4.settled WHERE NOT rejected") ==
          (code == "P0001" ? "1" : "2"));
    check_rejects_once(conn, "ledger_t4", "undo", record->rows_rejected);
    CHECK(record->rows_rejected == (code == "P0001" ? 1u : 3u));  // ids 13, 110, 207
}

TEST_CASE("ledger: loads starting at once create the ledger once", "[engine][pg][ledger]") {
    auto conn = test::connect();
    for (int round = 0; round < 3; round++) {
        drop_schema(conn, "ledger_race");
        std::atomic<int> ready{0};
        std::atomic<int> opened{0};
        std::mutex errors_mutex;
        std::vector<std::string> errors;  // Catch2 assertions are for the test's thread only
        std::vector<std::thread> threads;
        for (int i = 0; i < 4; i++) {
            threads.emplace_back([&] {
                ready += 1;
                while (ready.load() < 4) {
                    std::this_thread::yield();
                }
                try {
                    Ledger ledger(test::cluster().conninfo(),
                                  LedgerOptions{.schema = "ledger_race"});
                    opened += 1;
                } catch (const Error& error) {
                    std::lock_guard lock(errors_mutex);
                    errors.push_back(error.what());
                }
            });
        }
        for (auto& thread : threads) {
            thread.join();
        }
        CHECK(errors == std::vector<std::string>{});
        CHECK(opened.load() == 4);
        CHECK(conn.query_value("SELECT count(*) FROM pg_namespace WHERE nspname = "
                               "'ledger_race'") == "1");
        CHECK(conn.query_value("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class "
                               "WHERE relnamespace = 'ledger_race'::regnamespace AND relkind = "
                               "'r'") == "loads,rejects,settled,sources");
    }
}

TEST_CASE("ledger: a role without CREATE gets LedgerUnavailable, and may use a granted ledger",
          "[engine][pg][ledger]") {
    auto conn = test::connect();
    drop_schema(conn, "ledger_noprv");
    conn.exec(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ledger_user') "
        "THEN CREATE ROLE ledger_user LOGIN; END IF; END $$");
    CHECK(conn.query_value("SELECT has_database_privilege('ledger_user', 'postgres', "
                           "'CREATE')") == "f");
    const std::string as_user = test::cluster().conninfo() + " user=ledger_user";
    try {
        Ledger ledger(as_user, LedgerOptions{.schema = "ledger_noprv"});
        FAIL("a role without CREATE must not get a ledger");
    } catch (const LedgerUnavailable& error) {
        CHECK(error.sqlstate() == "42501");
        CHECK(std::string(error.what()) ==
              "ledger schema \"ledger_noprv\" cannot be created or used by this role (CREATE "
              "SCHEMA \"ledger_noprv\": permission denied for database postgres (SQLSTATE "
              "42501)); name a schema the role may write with --ledger-schema, or GRANT CREATE on "
              "the database (or USAGE on the schema and SELECT, INSERT, UPDATE, DELETE on its "
              "tables)");
    }
    CHECK(conn.query_value("SELECT count(*) FROM pg_namespace WHERE nspname = 'ledger_noprv'") ==
          "0");
    // The schema exists (an administrator made it) but not its tables: still no privilege.
    conn.exec("CREATE SCHEMA ledger_noprv; GRANT USAGE ON SCHEMA ledger_noprv TO ledger_user");
    CHECK_THROWS_AS(Ledger(as_user, LedgerOptions{.schema = "ledger_noprv"}), LedgerUnavailable);
    CHECK_THROWS_WITH(Ledger(as_user, LedgerOptions{.schema = "ledger_noprv"}),
                      Catch::Contains("permission denied for schema ledger_noprv"));
    // The tables exist but are not granted: no privilege either.
    { Ledger admin(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_noprv"}); }
    CHECK_THROWS_AS(Ledger(as_user, LedgerOptions{.schema = "ledger_noprv"}), LedgerUnavailable);
    // Once the administrator granted them, the role uses them.
    conn.exec(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ledger_noprv TO "
        "ledger_user");
    Ledger ledger(as_user, LedgerOptions{.schema = "ledger_noprv"});
    CHECK_FALSE(ledger.begin_load("granted", "t", {}).has_value());
    CHECK(ledger.read_load("granted").has_value());
}

TEST_CASE("ledger: a second run of a running load is refused with LoadBusy",
          "[engine][pg][ledger]") {
    auto conn = test::connect();
    drop_schema(conn, "ledger_t5");
    Ledger first(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t5"});
    Ledger second(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t5"});
    CHECK_FALSE(first.begin_load("busy", "t", {}).has_value());
    CHECK(second.read_load("busy")->state == LoadState::running);
    CHECK_THROWS_AS(second.begin_load("busy", "t", {}), LoadBusy);
    CHECK_THROWS_WITH(second.begin_load("busy", "t", {}),
                      Catch::StartsWith("load busy is being run by another session (backend "
                                        "pid ") &&
                          Catch::EndsWith("); wait for it to end"));
    first.end_run("busy");
    CHECK(second.read_load("busy")->state == LoadState::interrupted);
    std::optional<LoadRecord> again = second.begin_load("busy", "t", {});
    REQUIRE(again.has_value());
    CHECK(again->state == LoadState::interrupted);
    second.finish_load("busy");
    CHECK(first.read_load("busy")->state == LoadState::finished);
    CHECK(first.forget("busy"));
    CHECK_FALSE(first.read_load("busy").has_value());
    CHECK_FALSE(first.forget("busy"));
}

TEST_CASE("ledger: source identities are stored and tell changed files from grown ones",
          "[engine][pg][ledger]") {
    const std::string path = "/tmp/pgingest_ledger_source_" + std::to_string(::getpid());
    auto write = [&](const std::string& text, std::ios::openmode mode) {
        std::ofstream(path, std::ios::binary | mode) << text;
    };
    write("{\"a\":1}\n{\"a\":2}\n", std::ios::trunc);
    SourceIdentity before = read_source_identity(path);
    CHECK(before.size_bytes == 16);
    CHECK(before.hashed_bytes == 16);
    CHECK(before.head_xxh3.size() == 32);
    CHECK(before.head_xxh3 == before.tail_xxh3);  // the whole file, both ways
    CHECK(describe_source_change(before, read_source_identity(path)) == "");
    auto conn = test::connect();
    drop_schema(conn, "ledger_t6");
    Ledger ledger(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t6"});
    std::vector<SourceIdentity> sources{before};
    CHECK_FALSE(ledger.begin_load("ids", "t", sources).has_value());
    CHECK(ledger.read_load("ids")->sources == sources);
    write("{\"a\":3}\n", std::ios::app);
    SourceIdentity grown = read_source_identity(path);
    CHECK(describe_source_change(before, grown) == "size 16 bytes -> 24 bytes");
    CHECK(source_only_grew(before, path));
    write("{\"a\":9}\n{\"a\":2}\n{\"a\":3}\n", std::ios::trunc);  // same size, first line changed
    SourceIdentity changed = read_source_identity(path);
    changed.mtime_ns = grown.mtime_ns;
    CHECK(describe_source_change(grown, changed) == "content of the first 24 bytes");
    CHECK_FALSE(source_only_grew(before, path));
    write("{\"a\":1}\n", std::ios::trunc);
    CHECK_FALSE(source_only_grew(before, path));
    CHECK_THROWS_WITH(read_source_identity(path, 100),
                      "source " + path + " holds 8 bytes, fewer than the 100 it held before");
    std::remove(path.c_str());
    CHECK_THROWS_WITH(read_source_identity(path),
                      "cannot open source " + path + ": No such file or directory");
}

TEST_CASE("ledger: the complement of random settled ranges is exact", "[engine][ledger]") {
    const auto seed = static_cast<std::uint32_t>(std::random_device{}());
    INFO("seed " << seed);
    std::mt19937 random(seed);
    for (int round = 0; round < 200; round++) {
        const std::uint64_t size = 1 + random() % 300;
        std::vector<std::vector<bool>> bits(3, std::vector<bool>(size + 50, false));
        OriginRanges settled;
        for (std::uint64_t i = 0, n = random() % 20; i < n; i++) {
            auto source = static_cast<std::uint32_t>(random() % 3);
            std::uint64_t first = random() % (size + 40);
            std::uint64_t end = first + 1 + random() % 10;
            settled.add(OriginRange{.source = source, .first = first, .end = end});
            for (std::uint64_t at = first; at < end; at++) {
                bits[source][at] = true;
            }
        }
        std::vector<OriginRange> extent{{0, 0, size}, {2, 0, size}};
        OriginRanges missing = unsettled(extent, settled);
        for (std::uint32_t source = 0; source < 3; source++) {
            for (std::uint64_t at = 0; at < size + 50; at++) {
                bool want = source != 1 && at < size && !bits[source][at];
                if (missing.contains(source, at) != want) {
                    FAIL("source " << source << " offset " << at << " round " << round);
                }
            }
        }
    }
}

TEST_CASE("ledger: epilogue statements are bounded and round-trip ranges and messages exactly",
          "[engine][pg][ledger]") {
    std::vector<OriginRange> loaded;
    for (std::uint64_t i = 0; i < 2 * ledger_ranges_per_statement + 5; i++) {
        loaded.push_back(OriginRange{
            .source = static_cast<std::uint32_t>(i % 2), .first = i * 100, .end = i * 100 + 50});
    }
    OriginRanges ranges;
    ranges.add(loaded);
    std::vector<LedgerReject> rejects{
        {.origin = {.source = 1, .length = 7, .offset = 3},
         .table_index = 2,
         .sqlstate = "22P02",
         .message = "bad \"quoted\" \\ back\\slash, {brace} ' tick\nline two"},
        {.origin = {.source = 0, .length = 0, .offset = 9'223'372'036'854'775'806ULL},
         .table_index = 0,
         .sqlstate = "23505",
         .message = ""}};
    OriginRanges rejected;
    rejected.add(OriginRange{.source = 1, .first = 3, .end = 10});
    rejected.add(OriginRange{0, 9'223'372'036'854'775'806ULL, 9'223'372'036'854'775'807ULL});
    TransactionView view{
        .rows = 0, .rows_rejected = 2, .loaded = ranges.ranges(), .rejected = rejected.ranges()};
    auto conn = test::connect();
    drop_schema(conn, "ledger_t7");
    Ledger ledger(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t7"});
    std::vector<Statement> statements =
        ledger_statements(ledger.quoted_schema(), "stmts", view, rejects);
    CHECK(statements.size() == 4);  // 3 for the ranges (4096 at most each), 1 for the rejects
    (void)ledger.begin_load("stmts", "t", {});
    conn.exec("BEGIN");
    conn.exec_pipeline(statements);
    conn.exec("COMMIT");
    std::optional<LoadRecord> record = ledger.read_load("stmts");
    REQUIRE(record.has_value());
    CHECK(record->loaded == ranges);
    CHECK(record->rejected == rejected);
    CHECK(record->rows_rejected == 2);
    CHECK(conn.query_value("SELECT message FROM ledger_t7.rejects WHERE byte_offset = 3") ==
          rejects[0].message);
    CHECK(conn.query_value("SELECT format('%s|%s|%s|%s', source_no, length, table_index, "
                           "sqlstate) FROM ledger_t7.rejects WHERE byte_offset = 3") ==
          "1|7|2|22P02");
    CHECK(conn.query_value("SELECT length FROM ledger_t7.rejects WHERE source_no = 0") == "1");
    rejected.add(OriginRange{0, 9'223'372'036'854'775'808ULL, 9'223'372'036'854'775'809ULL});
    view.rejected = rejected.ranges();
    CHECK_THROWS_WITH(ledger_statements(ledger.quoted_schema(), "stmts", view, rejects),
                      "ledger: offset 9223372036854775808 exceeds the ledger's int8 ranges (at "
                      "most 9223372036854775807)");
}

TEST_CASE("ledger: begin_load waits for a dead run's transaction in flight, then sees it",
          "[engine][pg][ledger]") {
    auto conn = test::connect();
    drop_schema(conn, "ledger_t8");
    Connection dead(test::cluster().conninfo());  // a writer of a run whose process died
    {
        Ledger run(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t8"});
        CHECK_FALSE(run.begin_load("fence", "t", {}).has_value());
        EngineCallbacks callbacks;
        run.attach("fence", callbacks);
        REQUIRE(callbacks.transaction.prologue.size() == 1);
        dead.exec("BEGIN");
        dead.exec(callbacks.transaction.prologue[0]);  // what every writer transaction takes
        const std::vector<RowOrigin> row{{.source = 0, .length = 10, .offset = 0}};
        const std::vector<std::span<const RowOrigin>> runs{row};
        const std::vector<std::size_t> tables{0};
        OriginRanges loaded;
        loaded.add(std::span<const RowOrigin>(row));
        dead.exec_pipeline(ledger_statements(
            run.quoted_schema(), "fence",
            TransactionView{
                .rows = 1, .loaded = loaded.ranges(), .origins = runs, .tables = tables},
            {}));
    }  // the run's session (and its run lock) is gone; its writer's COMMIT is still to come
    Ledger resume(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t8"});
    std::optional<LoadRecord> seen;
    std::exception_ptr error;
    std::thread resumer([&] {
        try {
            seen = resume.begin_load("fence", "t", {});
        } catch (...) {
            error = std::current_exception();
        }
    });
    std::string waiting = "0";
    for (int i = 0; i < 3000 && waiting == "0"; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        waiting = conn.query_value(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
    }
    CHECK(waiting == "1");  // the resume waits on the fence
    dead.exec("COMMIT");
    resumer.join();
    REQUIRE_FALSE(error);
    REQUIRE(seen.has_value());
    CHECK(seen->state == LoadState::interrupted);
    OriginRanges expected;
    expected.add(OriginRange{.source = 0, .first = 0, .end = 10});
    CHECK(seen->loaded == expected);
    CHECK(seen->rows_loaded == 1);
}

TEST_CASE("ledger: describe_source_change names the first field that differs", "[engine][ledger]") {
    const SourceIdentity before{.path = "a.ndjson",
                                .size_bytes = 100,
                                .mtime_ns = 5,
                                .hashed_bytes = 100,
                                .head_xxh3 = "h",
                                .tail_xxh3 = "t"};
    SourceIdentity now = before;
    now.path = "moved/a.ndjson";
    CHECK(describe_source_change(before, now) == "");
    now.tail_xxh3 = "T";
    CHECK(describe_source_change(before, now) == "content of the last 100 bytes");
    now.head_xxh3 = "H";
    CHECK(describe_source_change(before, now) == "content of the first 100 bytes");
    now.mtime_ns = 6;
    CHECK(describe_source_change(before, now) == "modification time 5 ns -> 6 ns");
    now.size_bytes = 99;
    CHECK(describe_source_change(before, now) == "size 100 bytes -> 99 bytes");
}

TEST_CASE("ledger: schema names are quoted; an empty one is refused", "[engine][pg][ledger]") {
    auto conn = test::connect();
    drop_schema(conn, "Ledger \"Mixed\" Case");
    CHECK_THROWS_WITH(Ledger(test::cluster().conninfo(), LedgerOptions{.schema = ""}),
                      "ledger: the ledger schema name is empty");
    Ledger ledger(test::cluster().conninfo(), LedgerOptions{.schema = "Ledger \"Mixed\" Case"});
    CHECK(ledger.quoted_schema() == "\"Ledger \"\"Mixed\"\" Case\"");
    CHECK_FALSE(ledger.begin_load("q", "t", {}).has_value());
    CHECK(conn.query_value("SELECT count(*) FROM \"Ledger \"\"Mixed\"\" Case\".loads") == "1");
    drop_schema(conn, "Ledger \"Mixed\" Case");
}

TEST_CASE("ledger: the run lock check quotes a load id that holds dollar quotes and backslashes",
          "[engine][pg][ledger]") {
    auto conn = test::connect();
    drop_schema(conn, "ledger_t9");
    Ledger ledger(test::cluster().conninfo(), LedgerOptions{.schema = "ledger_t9"});
    const std::string id = "x$pgingest$; DROP TABLE t; $m$ ' \\ $pgingest_$";
    CHECK_FALSE(ledger.begin_load(id, "t", {}).has_value());
    Statement check = ledger.run_lock_check(id);
    conn.exec(check.sql);  // the lock is held: no error, and nothing else ran
    ledger.end_run(id);
    CHECK_THROWS_WITH(conn.exec(check.sql),
                      Catch::Contains("load " + id + " lost its run lock (the ledger's control "
                                                     "connection, backend pid "));
    conn.exec("SET standard_conforming_strings = off");
    CHECK_THROWS_WITH(conn.exec(check.sql), Catch::Contains("load " + id + " lost its run lock"));
}
