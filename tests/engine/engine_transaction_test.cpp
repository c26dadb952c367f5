// Proves the transaction protocol of the engine (engine/transaction.hpp, issue 12 point 1)
// against a real server: epilogue statements commit atomically with the rows of their
// transaction (checked per transaction id), on both I/O paths; epilogue and COMMIT cost one round
// trip; a data error in the epilogue ends the load with `EpilogueError` naming the statement and
// stores nothing of that transaction; 40001 / 40P01 in the epilogue run the transaction again,
// rows stored once; a transient error there that persists ends the load as `EpilogueError` too;
// a per-connection staging table moved by the epilogue stores every row once
// across many transactions and killed connections, one of them killed during the epilogue.

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "codecs/assert.hpp"
#include "engine/engine.hpp"
#include "tests/support/faults.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

// (id int8, payload text): payload = "r<id>"; the tag is the id.
void put_row(Producer& producer, std::int64_t id) {
    ByteBuffer* out = producer.begin_row();
    PGINGEST_ASSERT(out != nullptr);
    out->put_i32(8);
    out->put_i64(id);
    std::string payload = "r" + std::to_string(id);
    out->put_i32(static_cast<std::int32_t>(payload.size()));
    out->put_bytes(payload);
    producer.end_row(RowOrigin{.offset = static_cast<std::uint64_t>(id)});
}

// `transactions` transactions of `rows` rows each, ids 0, 1, ... in order: a flush ends each.
void produce_transactions(Engine& engine, std::uint64_t transactions, std::uint64_t rows) {
    Producer producer = engine.producer();
    for (std::uint64_t id = 0; id < transactions * rows; id++) {
        put_row(producer, static_cast<std::int64_t>(id));
        if (id % rows == rows - 1) {
            producer.flush();
        }
    }
}

// Flushes `producer`, which must end the load with `EpilogueError` for `statement`, the second
// of two epilogue statements, with SQLSTATE `sqlstate` and the server's `message`.
void check_flush_fails_in_epilogue(Producer& producer, const std::string& statement,
                                   const std::string& sqlstate, const std::string& message) {
    try {
        producer.flush();
        FAIL("the epilogue must fail");
    } catch (const EpilogueError& error) {
        CHECK(error.sqlstate() == sqlstate);
        CHECK(error.statement() == statement);
        CHECK(error.statement_index() == 1);
        CHECK_THAT(error.what(),
                   Catch::StartsWith("epilogue statement 2 of 2 failed, transaction rolled "
                                     "back: " +
                                     statement + ": " + message));
    }
}

// The table's COPY columns without `xid`, which its default fills with the transaction's id.
TableInfo without_xid(Connection& conn, const std::string& table) {
    TableInfo info = read_table_info(conn, table);
    std::erase_if(info.columns, [](const ColumnInfo& column) { return column.name == "xid"; });
    return info;
}

// The row count and the sum of the origins' offsets of a transaction, as text parameters.
std::vector<std::optional<std::string>> count_and_sum(const TransactionView& txn) {
    std::uint64_t sum = 0;
    std::uint64_t tags = 0;
    for (std::span<const RowOrigin> run : txn.origins) {
        for (const RowOrigin& origin : run) {
            sum += origin.offset;
            tags += 1;
        }
    }
    PGINGEST_ASSERT(tags == txn.rows && txn.tables.size() == txn.origins.size());
    return {std::to_string(txn.rows), std::to_string(sum)};
}

// Epilogue: one row in `side` per transaction: its id, row count and tag sum.
TransactionHooks ledger_hooks(const std::string& side) {
    TransactionHooks hooks;
    hooks.epilogue = [side](const TransactionView& txn) {
        return std::vector<Statement>{Statement{
            .sql = "INSERT INTO " + side + " (xid, rows, tag_sum) VALUES (txid_current(), $1, $2)",
            .params = count_and_sum(txn)}};
    };
    return hooks;
}

void create_tables(Connection& conn, const std::string& table, const std::string& side) {
    conn.exec("DROP TABLE IF EXISTS " + table + ", " + side + "; CREATE TABLE " + table +
              " (id int8, payload text, xid int8 DEFAULT txid_current()); CREATE TABLE " + side +
              " (xid int8, rows int8, tag_sum numeric)");
}

// Every transaction that stored rows in `table` has one row in `side` with exactly its row
// count and tag sum, and no row of `side` is without its rows.
void check_side_matches_per_transaction(Connection& conn, const std::string& table,
                                        const std::string& side) {
    CHECK(conn.query_value("SELECT count(*) FROM (SELECT xid, count(*) AS c, sum(id) AS s FROM " +
                           table + " GROUP BY xid) t FULL JOIN " + side +
                           " USING (xid) WHERE t.c IS DISTINCT FROM " + side +
                           ".rows OR t.s IS DISTINCT FROM " + side + ".tag_sum") == "0");
    CHECK(conn.query_value("SELECT count(*) FROM (SELECT xid FROM " + side +
                           " GROUP BY xid HAVING count(*) > 1) twice") == "0");
}

}  // namespace

TEST_CASE("engine transaction: epilogue rows commit with their transaction's rows, per txid",
          "[engine][pg][txn]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    create_tables(conn, "txn_rows", "txn_side");
    std::atomic<std::uint64_t> reported{0};
    EngineCallbacks callbacks{
        .on_commit = [&](const CommitReport& report) { reported += report.rows; },
        .on_reject = {},
        .transaction = ledger_hooks("txn_side")};
    Engine engine(test::cluster().conninfo(), without_xid(conn, "txn_rows"),
                  EngineOptions{.writers = 2,
                                .batch_bytes = 16 * 1024,
                                .memory_budget_bytes = 1 << 20,
                                .txn_bytes_max = 128 * 1024,
                                .io = io},
                  std::move(callbacks));
    std::vector<std::thread> threads;
    for (std::int64_t p = 0; p < 2; p++) {
        threads.emplace_back([&engine, p] {
            Producer producer = engine.producer();
            for (std::int64_t i = 0; i < 50'000; i++) {
                put_row(producer, p * 50'000 + i);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    engine.close();
    EngineStats stats = engine.stats();
    CHECK(stats.rows_committed == 100'000);
    CHECK(reported.load() == 100'000);
    CHECK(stats.transactions_committed > 10);
    CHECK(conn.query_value("SELECT count(*) FROM txn_rows") == "100000");
    CHECK(conn.query_value("SELECT count(DISTINCT id) FROM txn_rows") == "100000");
    CHECK(conn.query_value("SELECT count(*) FROM txn_side") ==
          std::to_string(stats.transactions_committed));
    CHECK(conn.query_value("SELECT sum(rows) FROM txn_side") == "100000");
    CHECK(conn.query_value("SELECT sum(tag_sum) FROM txn_side") == "4999950000");
    check_side_matches_per_transaction(conn, "txn_rows", "txn_side");
}

TEST_CASE("engine transaction: epilogue and COMMIT are one round trip", "[engine][pg][txn]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    create_tables(conn, "txn_trips", "txn_trips_side");
    TransactionHooks hooks = ledger_hooks("txn_trips_side");
    hooks.prologue = {"SET LOCAL synchronous_commit = on"};  // sent with the first COPY
    auto ledger = hooks.epilogue;
    hooks.epilogue = [ledger](const TransactionView& txn) {
        std::vector<Statement> statements = ledger(txn);
        statements.push_back(Statement{.sql = "SELECT pg_notify('txn_trips', $1)",
                                       .params = {std::to_string(txn.rows)}});
        return statements;
    };
    Engine engine(test::cluster().conninfo(), without_xid(conn, "txn_trips"),
                  EngineOptions{.writers = 1, .flush_interval_ms = 60'000, .io = io},
                  EngineCallbacks{.on_commit = {}, .on_reject = {}, .transaction = hooks});
    const std::uint64_t transactions = 5;
    produce_transactions(engine, transactions, 100);  // each one batch, one COPY
    EngineStats stats = engine.stats();
    CHECK(stats.transactions_committed == transactions);
    CHECK(stats.copies == transactions);
    // Per transaction: COPY start (with BEGIN and the prologue), COPY end, then epilogue (2
    // statements) + COMMIT in one pipeline. No session statements: no lock_timeout, no citus, no
    // staging.
    CHECK(stats.round_trips == 3 * transactions);
    CHECK(conn.query_value("SELECT count(*) FROM txn_trips_side") == "5");
    check_side_matches_per_transaction(conn, "txn_trips", "txn_trips_side");
}

TEST_CASE("engine transaction: a duplicate key in the epilogue ends the load, naming it",
          "[engine][pg][txn]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS txn_dup, txn_dup_side; CREATE TABLE txn_dup (id int8, payload "
        "text); CREATE TABLE txn_dup_side (k int4 PRIMARY KEY, rows int8)");
    TransactionHooks hooks;
    const std::string insert = "INSERT INTO txn_dup_side (k, rows) VALUES (1, $1)";
    hooks.epilogue = [insert](const TransactionView& txn) {
        return std::vector<Statement>{
            Statement{.sql = "SELECT 1", .params = {}},
            Statement{.sql = insert, .params = {std::to_string(txn.rows)}}};
    };
    Engine engine(test::cluster().conninfo(), read_table_info(conn, "txn_dup"),
                  EngineOptions{.writers = 1, .flush_interval_ms = 60'000, .io = io},
                  EngineCallbacks{.on_commit = {}, .on_reject = {}, .transaction = hooks});
    Producer producer = engine.producer();
    for (std::int64_t i = 0; i < 100; i++) {
        put_row(producer, i);
    }
    producer.flush();
    for (std::int64_t i = 100; i < 250; i++) {
        put_row(producer, i);
    }
    check_flush_fails_in_epilogue(producer, insert, "23505",
                                  "duplicate key value violates unique constraint");
    CHECK_THROWS_AS(engine.close(), EpilogueError);
    CHECK(engine.stats().rows_committed == 100);
    CHECK(engine.stats().transactions_committed == 1);
    CHECK(conn.query_value("SELECT count(*) FROM txn_dup") == "100");
    CHECK(conn.query_value("SELECT max(id) FROM txn_dup") == "99");
    CHECK(conn.query_value("SELECT rows FROM txn_dup_side") == "100");
}

TEST_CASE("engine transaction: 40001 and 40P01 in the epilogue run the transaction again",
          "[engine][pg][txn]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto code = GENERATE(std::string("40001"), std::string("40P01"));
    INFO("SQLSTATE " << code);
    auto conn = test::connect();
    create_tables(conn, "txn_flaky", "txn_flaky_side");
    // A sequence is not transactional: the second call (the second transaction's epilogue)
    // fails, its rerun and every other call succeed.
    conn.exec(R"sql(
        DROP SEQUENCE IF EXISTS txn_flaky_calls;
        CREATE SEQUENCE txn_flaky_calls;
        CREATE OR REPLACE FUNCTION txn_flaky_once(code text) RETURNS void LANGUAGE plpgsql AS
        $$ BEGIN IF nextval('txn_flaky_calls') = 2 THEN
             RAISE EXCEPTION 'injected failure' USING ERRCODE = code;
           END IF; END $$;)sql");
    TransactionHooks hooks = ledger_hooks("txn_flaky_side");
    auto ledger = hooks.epilogue;
    hooks.epilogue = [ledger, code](const TransactionView& txn) {
        std::vector<Statement> statements = ledger(txn);
        statements.push_back(Statement{.sql = "SELECT txn_flaky_once($1)", .params = {code}});
        return statements;
    };
    Engine engine(test::cluster().conninfo(), without_xid(conn, "txn_flaky"),
                  EngineOptions{.writers = 1, .flush_interval_ms = 60'000, .io = io},
                  EngineCallbacks{.on_commit = {}, .on_reject = {}, .transaction = hooks});
    produce_transactions(engine, 3, 100);
    engine.close();
    CHECK(engine.stats().transactions_committed == 3);
    CHECK(engine.stats().rows_committed == 300);
    CHECK(engine.stats().copies == 4);  // the second transaction's COPY ran twice
    CHECK(conn.query_value("SELECT last_value FROM txn_flaky_calls") == "4");
    CHECK(conn.query_value("SELECT count(*) FROM txn_flaky") == "300");
    CHECK(conn.query_value("SELECT count(DISTINCT id) FROM txn_flaky") == "300");
    CHECK(conn.query_value("SELECT count(*) FROM txn_flaky_side") == "3");
    check_side_matches_per_transaction(conn, "txn_flaky", "txn_flaky_side");
}

TEST_CASE("engine transaction: a transient error that persists in the epilogue ends the load "
          "as EpilogueError",
          "[engine][pg][txn]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    // XX000 naming no row means a server in trouble (issue 12 point 4): retried with backoff
    // until reconnect_timeout_ms, then the load ends naming the statement.
    conn.exec(R"sql(
        DROP TABLE IF EXISTS txn_stuck;
        CREATE TABLE txn_stuck (id int8, payload text);
        DROP SEQUENCE IF EXISTS txn_stuck_calls;
        CREATE SEQUENCE txn_stuck_calls;
        CREATE OR REPLACE FUNCTION txn_stuck_always() RETURNS void LANGUAGE plpgsql AS
        $$ BEGIN PERFORM nextval('txn_stuck_calls');
             RAISE EXCEPTION 'injected internal error' USING ERRCODE = 'XX000';
           END $$;)sql");
    const std::string call = "SELECT txn_stuck_always()";
    TransactionHooks hooks;
    hooks.epilogue = [call](const TransactionView&) {
        return std::vector<Statement>{Statement{.sql = "SELECT 1", .params = {}},
                                      Statement{.sql = call, .params = {}}};
    };
    Engine engine(
        test::cluster().conninfo(), read_table_info(conn, "txn_stuck"),
        EngineOptions{
            .writers = 1, .flush_interval_ms = 60'000, .io = io, .reconnect_timeout_ms = 300},
        EngineCallbacks{.on_commit = {}, .on_reject = {}, .transaction = hooks});
    Producer producer = engine.producer();
    for (std::int64_t i = 0; i < 100; i++) {
        put_row(producer, i);
    }
    check_flush_fails_in_epilogue(producer, call, "XX000", "injected internal error");
    CHECK_THROWS_AS(engine.close(), EpilogueError);
    CHECK(engine.stats().rows_committed == 0);
    CHECK(engine.stats().transactions_committed == 0);
    CHECK(conn.query_value("SELECT count(*) FROM txn_stuck") == "0");
    // Retried before it ended the load: the first failure starts the clock, so at least twice.
    CHECK(std::stoi(conn.query_value("SELECT last_value FROM txn_stuck_calls")) >= 2);
}

TEST_CASE("engine transaction: the staging table SQL comes from the catalog types",
          "[engine][pg][txn]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS txn_types; CREATE TABLE txn_types (id int8 PRIMARY KEY, "
        "\"Name\" varchar(5) NOT NULL CHECK (\"Name\" <> ''), n numeric(10,2) DEFAULT 1, "
        "tags text[], g int8 GENERATED ALWAYS AS (id * 2) STORED)");
    TableInfo table = read_table_info(conn, "txn_types");
    CHECK(staging_table_sql(table, "pgingest_stage") ==
          "CREATE TEMP TABLE IF NOT EXISTS pgingest_stage (\"id\" bigint, \"Name\" character "
          "varying(5), \"n\" numeric(10,2), \"tags\" text[]) ON COMMIT DELETE ROWS");
    conn.exec(staging_table_sql(table, "pgingest_stage"));
    CHECK(conn.query_value("SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY "
                           "attnum) FROM pg_attribute WHERE attrelid = 'pgingest_stage'::regclass "
                           "AND attnum > 0") == "bigint,character varying(5),numeric(10,2),text[]");
}

TEST_CASE("engine transaction: hooks that do not fit the tables are refused up front",
          "[engine][pg][txn]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS txn_bad; CREATE TABLE txn_bad (id int8, payload text)");
    TableInfo table = read_table_info(conn, "txn_bad");
    auto open = [&](std::vector<StagingTarget> staging) {
        TransactionHooks hooks;
        hooks.staging = std::move(staging);
        Engine engine(test::cluster().conninfo(), table, EngineOptions{.writers = 1},
                      EngineCallbacks{.on_commit = {}, .on_reject = {}, .transaction = hooks});
    };
    CHECK_THROWS_WITH(open({StagingTarget{.table_index = 1, .name = "s", .create_sql = "x"}}),
                      "staging target s is for table index 1, but the engine has 1 table(s)");
    CHECK_THROWS_WITH(open({StagingTarget{.table_index = 0, .name = "s", .create_sql = "x"},
                            StagingTarget{.table_index = 0, .name = "t", .create_sql = "x"}}),
                      "two staging targets for table index 0; give at most one per table");
    CHECK_THROWS_WITH(open({StagingTarget{.table_index = 0, .name = "s", .create_sql = ""}}),
                      "staging target for table index 0 needs both a name and the SQL that "
                      "creates it");
    // The server refuses the staging table's SQL: the constructor throws, no writer runs.
    CHECK_THROWS_AS(
        open({StagingTarget{
            .table_index = 0, .name = "s", .create_sql = "CREATE TEMP TABLE s (v no_such_type)"}}),
        ServerError);
    CHECK_THROWS_WITH(Engine(test::cluster().conninfo(), std::vector<TableInfo>{}),
                      "an engine needs at least one target table");
}

TEST_CASE("engine transaction: a staging table moved by the epilogue survives killed writers",
          "[engine][pg][txn][faults]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    // Row 30000 waits in the target table's trigger, i.e. in the epilogue's INSERT ... SELECT,
    // on an advisory lock held by `killer`: the first kill lands during the epilogue pipeline;
    // then more kills follow every 40 ms.
    conn.exec(R"sql(
        DROP TABLE IF EXISTS txn_staged;
        CREATE TABLE txn_staged (id int8 PRIMARY KEY, payload text);
        CREATE OR REPLACE FUNCTION txn_staged_gate() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN IF NEW.id = 30000 THEN
             PERFORM pg_advisory_lock_shared(46); PERFORM pg_advisory_unlock_shared(46);
           END IF; RETURN NEW; END $$;
        CREATE TRIGGER txn_staged_gate BEFORE INSERT ON txn_staged
            FOR EACH ROW EXECUTE FUNCTION txn_staged_gate();)sql");
    test::WriterKiller killer(test::cluster().conninfo(), "pgingest_txn_staged", 46, 20);
    TableInfo table = read_table_info(conn, "txn_staged");
    TransactionHooks hooks;
    hooks.staging.push_back(
        StagingTarget{.table_index = 0,
                      .name = "pgingest_stage",
                      .create_sql = staging_table_sql(table, "pgingest_stage")});
    hooks.epilogue = [](const TransactionView&) {
        return std::vector<Statement>{
            Statement{.sql = "INSERT INTO txn_staged SELECT * FROM pgingest_stage", .params = {}}};
    };
    Engine engine(
        test::cluster().conninfo() + " application_name=pgingest_txn_staged", table,
        EngineOptions{
            .writers = 2, .batch_bytes = 32 * 1024, .memory_budget_bytes = 1 << 20, .io = io},
        EngineCallbacks{.on_commit = {}, .on_reject = {}, .transaction = hooks});
    const std::int64_t rows = 200'000;
    {
        Producer producer = engine.producer();
        for (std::int64_t id = 0; id < rows; id++) {
            put_row(producer, id);
        }
    }
    engine.close();
    killer.stop();
    CHECK(killer.killed_at_gate() >= 1);
    EngineStats stats = engine.stats();
    CHECK(stats.rows_committed == static_cast<std::uint64_t>(rows));
    CHECK(stats.reconnects >= 1);
    CHECK(stats.transactions_committed > 2);
    CHECK(conn.query_value("SELECT count(*) FROM txn_staged") == std::to_string(rows));
    CHECK(conn.query_value("SELECT count(*) FROM txn_staged WHERE payload <> 'r' || id") == "0");
    CHECK(conn.query_value("SELECT sum(id) FROM txn_staged") ==
          std::to_string(rows * (rows - 1) / 2));
}

TEST_CASE("engine transaction: the prologue runs in every transaction, NULL params are NULL",
          "[engine][pg][txn]") {
    auto conn = test::connect();
    create_tables(conn, "txn_pro", "txn_pro_side");
    conn.exec("ALTER TABLE txn_pro_side ADD COLUMN marker text, ADD COLUMN nothing text");
    TransactionHooks hooks;
    hooks.prologue = {"SET LOCAL pgingest_test.marker = 'from-prologue'",
                      "SET LOCAL statement_timeout = '1min'"};
    hooks.epilogue = [](const TransactionView& txn) {
        return std::vector<Statement>{Statement{
            .sql = "INSERT INTO txn_pro_side (xid, rows, tag_sum, marker, nothing) VALUES "
                   "(txid_current(), $1, $2, current_setting('pgingest_test.marker') || "
                   "current_setting('statement_timeout'), $3)",
            .params = {std::to_string(txn.rows), count_and_sum(txn)[1], std::nullopt}}};
    };
    Engine engine(test::cluster().conninfo(), without_xid(conn, "txn_pro"),
                  EngineOptions{.writers = 1, .flush_interval_ms = 60'000},
                  EngineCallbacks{.on_commit = {}, .on_reject = {}, .transaction = hooks});
    produce_transactions(engine, 3, 10);
    engine.close();
    CHECK(conn.query_value("SELECT count(*) FROM txn_pro_side WHERE marker = "
                           "'from-prologue1min' AND nothing IS NULL") == "3");
    check_side_matches_per_transaction(conn, "txn_pro", "txn_pro_side");
}

TEST_CASE("engine transaction: rows refused before the epilogue are not counted in it",
          "[engine][pg][txn]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    create_tables(conn, "txn_iso", "txn_iso_side");
    conn.exec("ALTER TABLE txn_iso ADD CHECK (id % 500 <> 7)");
    std::atomic<std::uint64_t> rejected{0};
    EngineCallbacks callbacks{.on_commit = {},
                              .on_reject = [&](const RejectReport&) { rejected += 1; },
                              .transaction = ledger_hooks("txn_iso_side")};
    Engine engine(
        test::cluster().conninfo(), without_xid(conn, "txn_iso"),
        EngineOptions{.writers = 1, .batch_bytes = 8 * 1024, .txn_bytes_max = 64 * 1024, .io = io},
        std::move(callbacks));
    {
        Producer producer = engine.producer();
        for (std::int64_t id = 0; id < 20'000; id++) {
            put_row(producer, id);  // every id % 500 == 7 is refused: 40 rows
        }
        put_row(producer, 20'007);  // the last row of the last COPY is refused too
    }
    engine.close();
    CHECK(rejected.load() == 41);
    CHECK(engine.stats().rows_committed == 19'960);
    CHECK(conn.query_value("SELECT count(*) FROM txn_iso") == "19960");
    CHECK(conn.query_value("SELECT sum(rows) FROM txn_iso_side") == "19960");
    check_side_matches_per_transaction(conn, "txn_iso", "txn_iso_side");
}

TEST_CASE("engine transaction: a bad prologue or a throwing epilogue ends the load",
          "[engine][pg][txn]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS txn_end; CREATE TABLE txn_end (id int8, payload text)");
    TableInfo table = read_table_info(conn, "txn_end");
    SECTION("a prologue statement the server refuses") {
        TransactionHooks hooks;
        hooks.prologue = {"SELECT txn_no_such_function()"};
        Engine engine(test::cluster().conninfo(), table, EngineOptions{.writers = 1},
                      EngineCallbacks{.on_commit = {}, .on_reject = {}, .transaction = hooks});
        Producer producer = engine.producer();
        put_row(producer, 1);
        try {
            producer.flush();
            FAIL("the prologue must fail");
        } catch (const ServerError& error) {
            CHECK(error.sqlstate() == "42883");
            CHECK_THAT(error.what(), Catch::Contains("txn_no_such_function() does not exist"));
        }
    }
    SECTION("an epilogue callback that throws") {
        TransactionHooks hooks;
        hooks.epilogue = [](const TransactionView&) -> std::vector<Statement> {
            throw std::runtime_error("epilogue callback failed");
        };
        Engine engine(test::cluster().conninfo(), table, EngineOptions{.writers = 1},
                      EngineCallbacks{.on_commit = {}, .on_reject = {}, .transaction = hooks});
        Producer producer = engine.producer();
        put_row(producer, 1);
        CHECK_THROWS_WITH(producer.flush(), "epilogue callback failed");
        CHECK(engine.stats().rows_committed == 0);
    }
    CHECK(conn.query_value("SELECT count(*) FROM txn_end") == "0");
}

TEST_CASE(
    "engine transaction: a connection lost after an epilogue's COMMIT was written "
    "re-sends nothing",
    "[engine][pg][txn][faults]") {
    // As in engine_faults_test: a synchronous standby that never comes holds COMMIT after its
    // commit record was written; the backend is terminated there. txid_status says "committed":
    // neither the rows nor the epilogue's ledger row may be written again.
    LocalClusterOptions options;
    options.settings = {"synchronous_commit=on"};
    LocalCluster server(options);
    Connection admin(server.conninfo());
    create_tables(admin, "txn_kept", "txn_kept_side");
    test::hold_commits(admin, true);
    Engine engine(
        server.conninfo() + " application_name=pgingest_txn_kept", without_xid(admin, "txn_kept"),
        EngineOptions{.writers = 1},
        EngineCallbacks{
            .on_commit = {}, .on_reject = {}, .transaction = ledger_hooks("txn_kept_side")});
    auto load = [&] {
        Producer producer = engine.producer();
        for (std::int64_t id = 0; id < 100; id++) {
            put_row(producer, id);
        }
        producer.flush();
    };
    test::load_through_fault(
        engine, load,
        [&] {
            CHECK(test::wait_for_wait_event(admin, "pgingest_txn_kept", "SyncRep"));
            CHECK(test::terminate_backends(admin, "pgingest_txn_kept") == 1);
            test::hold_commits(admin, false);
        },
        test::FaultOutcome{.rows_committed = 100, .transactions_committed = 1});
    CHECK(admin.query_value("SELECT count(*) FROM txn_kept") == "100");
    CHECK(admin.query_value("SELECT count(*) FROM txn_kept_side") == "1");
    check_side_matches_per_transaction(admin, "txn_kept", "txn_kept_side");
}

TEST_CASE("engine transaction: the epilogue of a transaction whose rows were all refused",
          "[engine][pg][txn]") {
    auto conn = test::connect();
    create_tables(conn, "txn_none", "txn_none_side");
    conn.exec("ALTER TABLE txn_none ADD CHECK (id >= 0)");
    std::atomic<int> commits_reported{0};
    Engine engine(test::cluster().conninfo(), without_xid(conn, "txn_none"),
                  EngineOptions{.writers = 1, .flush_interval_ms = 60'000},
                  EngineCallbacks{.on_commit = [&](const CommitReport&) { commits_reported++; },
                                  .on_reject = {},
                                  .transaction = ledger_hooks("txn_none_side")});
    Producer producer = engine.producer();
    for (std::int64_t id = -3; id < 0; id++) {
        put_row(producer, id);
    }
    producer.flush();
    CHECK(engine.stats().rows_rejected == 3);
    CHECK(engine.stats().rows_committed == 0);
    // on_commit reports the rows a COMMIT settled: here the three refused ones (rows = 0)
    CHECK(commits_reported.load() == 1);
    // The epilogue ran with rows = 0 and committed: its ledger row says so.
    CHECK(conn.query_value("SELECT rows || ',' || tag_sum FROM txn_none_side") == "0,0");
    CHECK(conn.query_value("SELECT count(*) FROM txn_none") == "0");
}
