// Proves the staged path for duplicate keys (issue 12 point 3, EngineOptions::
// stage_duplicate_keys): once a COPY is refused for a duplicate primary key, a writer copies its
// batches into a temp table and moves them with INSERT ... ON CONFLICT DO NOTHING; every row
// that INSERT skipped is sent alone and rejected with the server's own message and its origin.
// The first copy of a key is the one stored (against stored rows, in one batch, across
// batches), counts and contents are exact, CHECK failures mixed in are still isolated, the
// ledger's view sees the rows settled, few dead tuples are left; a table with a rule, without a
// primary key, or whose key the user may not read stays on COPYs alone; a partitioned one is
// staged.

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "codecs/assert.hpp"
#include "engine/detail/transaction.hpp"
#include "engine/engine.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

// (seq int8, payload text): payload = "row-<position>", the row's origin offset.
void put_row(Producer& producer, std::int64_t seq, std::uint64_t position, bool bad) {
    ByteBuffer* out = producer.begin_row();
    PGINGEST_ASSERT(out != nullptr);
    out->put_i32(8);
    out->put_i64(seq);
    std::string payload = (bad ? "bad-" : "row-") + std::to_string(position);
    out->put_i32(static_cast<std::int32_t>(payload.size()));
    out->put_bytes(payload);
    producer.end_row(RowOrigin{.offset = position});
}

// What the callbacks saw: origins committed (from CommitReport and from the epilogue's
// TransactionView), rejects.
struct Seen {
    std::mutex mutex;
    std::vector<std::uint64_t> committed;
    std::vector<std::uint64_t> viewed;
    std::uint64_t viewed_rows = 0;
    std::uint64_t viewed_rejected = 0;
    std::vector<RejectReport> rejects;

    EngineCallbacks callbacks() {
        EngineCallbacks callbacks;
        callbacks.on_commit = [this](const CommitReport& report) {
            std::lock_guard lock(mutex);
            for (std::span<const RowOrigin> run : report.origins) {
                for (const RowOrigin& origin : run) {
                    committed.push_back(origin.offset);
                }
            }
        };
        callbacks.on_reject = [this](const RejectReport& report) {
            std::lock_guard lock(mutex);
            rejects.push_back(report);
        };
        callbacks.transaction.epilogue = [this](const TransactionView& view) {
            std::lock_guard lock(mutex);
            viewed_rows += view.rows;
            viewed_rejected += view.rows_rejected;
            for (std::span<const RowOrigin> run : view.origins) {
                for (const RowOrigin& origin : run) {
                    viewed.push_back(origin.offset);
                }
            }
            return std::vector<Statement>{};
        };
        return callbacks;
    }
};

// The rows a load sends: key and whether the CHECK refuses it, by position.
struct Planned {
    std::vector<std::int64_t> keys;
    std::vector<bool> bad;
};

// The table's rows as key -> payload.
std::map<std::int64_t, std::string> table_rows(Connection& conn, const std::string& table) {
    std::string all = conn.query_value(
        "SELECT coalesce(string_agg(seq || '=' || payload, ';' ORDER BY seq), '') FROM " + table);
    std::map<std::int64_t, std::string> rows;
    std::size_t at = 0;
    while (at < all.size()) {
        std::size_t end = std::min(all.find(';', at), all.size());
        std::string row = all.substr(at, end - at);
        std::size_t equals = row.find('=');
        rows[std::stoll(row.substr(0, equals))] = row.substr(equals + 1);
        at = end + 1;
    }
    return rows;
}

// Loads `plan` into `table` (seq int8, payload text) and checks every count, the table's
// contents (each key once: `stored_before` keep "old", the others one copy of the load, its
// first when `first_wins`: one writer, so rows are decided in order), every reject's SQLSTATE,
// message and origin, and what the ledger's view saw.
EngineStats load_and_check(const std::string& table, const Planned& plan,
                           const std::vector<std::int64_t>& stored_before, EngineOptions options,
                           const std::string& app = "pgingest_staging") {
    auto conn = test::connect();
    Seen seen;
    Engine engine(test::cluster().conninfo() + " application_name=" + app,
                  read_table_info(conn, table), options, seen.callbacks());
    {
        Producer producer = engine.producer();
        for (std::size_t i = 0; i < plan.keys.size(); i++) {
            put_row(producer, plan.keys[i], i, plan.bad[i]);
        }
    }
    engine.close();
    const bool first_wins = options.writers == 1;
    std::map<std::int64_t, std::string> rows = table_rows(conn, table);
    std::map<std::int64_t, std::string> expected_rows;
    for (std::int64_t key : stored_before) {
        expected_rows[key] = "old";
    }
    std::vector<std::uint64_t> expected_stored;
    std::map<std::uint64_t, std::string> expected_rejects;  // position -> SQLSTATE
    for (std::size_t i = 0; i < plan.keys.size(); i++) {
        const std::string payload = "row-" + std::to_string(i);
        if (plan.bad[i]) {
            expected_rejects[i] = "23514";
        } else if (expected_rows.count(plan.keys[i]) == 0 &&
                   (first_wins ||
                    (rows.count(plan.keys[i]) == 1 && rows.at(plan.keys[i]) == payload))) {
            expected_rows[plan.keys[i]] = payload;
            expected_stored.push_back(i);
        } else {
            expected_rejects[i] = "23505";
        }
    }
    CHECK(rows == expected_rows);
    EngineStats stats = engine.stats();
    CHECK(stats.rows_committed == expected_stored.size());
    CHECK(stats.rows_rejected == expected_rejects.size());
    std::sort(seen.committed.begin(), seen.committed.end());
    CHECK(seen.committed == expected_stored);
    std::sort(seen.viewed.begin(), seen.viewed.end());
    CHECK(seen.viewed == expected_stored);
    CHECK(seen.viewed_rows == expected_stored.size());
    CHECK(seen.viewed_rejected == expected_rejects.size());
    REQUIRE(seen.rejects.size() == expected_rejects.size());
    for (const RejectReport& reject : seen.rejects) {
        INFO("reject of row " << reject.origin.offset << ": " << reject.message);
        REQUIRE(expected_rejects.count(reject.origin.offset) == 1);
        CHECK(reject.sqlstate == expected_rejects[reject.origin.offset]);
        // Rejected once the row alone was refused: the server's own message, line 1.
        CHECK_THAT(reject.message, Catch::Contains("COPY " + table + ", line 1"));
        if (reject.sqlstate == "23505") {
            CHECK_THAT(reject.message,
                       Catch::Contains("duplicate key value violates unique constraint"));
        }
    }
    return stats;
}

// `rows` rows; every `every`-th repeats the key `back` rows before it (in the same batch when
// `back` is small), and every `bad_every`-th (0: none) fails the CHECK.
Planned plan_rows(std::int64_t rows, std::int64_t every, std::int64_t back,
                  std::int64_t bad_every) {
    Planned plan;
    for (std::int64_t i = 0; i < rows; i++) {
        bool duplicate = i % every == every - 1;
        plan.keys.push_back(duplicate ? i - back : i);
        plan.bad.push_back(bad_every != 0 && i % bad_every == bad_every - 3);
    }
    return plan;
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

TEST_CASE("engine staging: duplicate keys, stored or in one batch, keep the first copy",
          "[engine][pg][staging]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS stg_dup; CREATE TABLE stg_dup (seq int8 PRIMARY KEY, payload "
        "text) WITH (autovacuum_enabled = off); INSERT INTO stg_dup "
        "SELECT k, 'old' FROM generate_series(5000, 20000, 1000) k");
    // Every 50th row repeats the key 7 rows back (same batch), and keys 5000, 6000, ... are
    // stored already; a key repeated twice in a row (4 copies of 4998) keeps its first.
    Planned plan = plan_rows(8000, 50, 7, 0);
    for (int copy = 0; copy < 3; copy++) {
        plan.keys.push_back(4998);
        plan.bad.push_back(false);
    }
    std::vector<std::int64_t> stored;
    for (std::int64_t key = 5000; key <= 20000; key += 1000) {
        stored.push_back(key);
    }
    EngineStats stats = load_and_check(
        "stg_dup", plan, stored, EngineOptions{.writers = 1, .batch_bytes = 16 * 1024, .io = io},
        "pgingest_stg_dup");
    CHECK(stats.staged_inserts > 0);
    // One dead tuple per duplicate (its row alone) and the rows of the first refused COPY.
    std::uint64_t dead = dead_tuples(conn, "stg_dup", "pgingest_stg_dup");
    INFO("n_dead_tup " << dead << ", " << stats.rows_rejected << " rejected, "
                       << stats.staged_inserts << " staged INSERTs, " << stats.copies << " COPYs");
    CHECK(dead <= stats.rows_rejected + 16 * 1024 / 20);
    CHECK(dead * 5 <= stats.rows_committed);
}

TEST_CASE("engine staging: duplicate keys and CHECK failures in one batch are all isolated",
          "[engine][pg][staging]") {
    auto writers = GENERATE(std::size_t{1}, std::size_t{2});
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS stg_mixed; CREATE TABLE stg_mixed (seq int8 PRIMARY KEY, payload "
        "text CHECK (payload NOT LIKE 'bad%'))");
    // Duplicates every 40th row (key 300 rows back: often in an earlier batch), CHECK failures
    // every 700th: a staged INSERT meeting one is refused and its batch isolated by COPYs.
    Planned plan = plan_rows(12'000, 40, 300, 700);
    EngineStats stats = load_and_check("stg_mixed", plan, {},
                                       EngineOptions{.writers = writers, .batch_bytes = 8 * 1024});
    CHECK(stats.staged_inserts > 0);
}

TEST_CASE("engine staging: a table with a rule stays on COPYs (COPY ignores rules)",
          "[engine][pg][staging]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS stg_rule, stg_rule_log; CREATE TABLE stg_rule (seq int8 PRIMARY "
        "KEY, payload text); CREATE TABLE stg_rule_log (seq int8); CREATE RULE stg_rule_r AS "
        "ON INSERT TO stg_rule DO ALSO INSERT INTO stg_rule_log VALUES (NEW.seq)");
    EngineStats stats = load_and_check("stg_rule", plan_rows(3000, 30, 5, 0), {},
                                       EngineOptions{.writers = 1, .batch_bytes = 8 * 1024});
    CHECK(stats.staged_inserts == 0);
    CHECK(conn.query_value("SELECT count(*) FROM stg_rule_log") == "0");  // as COPY does
}

TEST_CASE("engine staging: a table without a primary key stays on COPYs", "[engine][pg][staging]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS stg_unique; CREATE TABLE stg_unique (seq int8 UNIQUE, payload "
        "text)");
    EngineStats stats = load_and_check("stg_unique", plan_rows(3000, 30, 5, 0), {},
                                       EngineOptions{.writers = 1, .batch_bytes = 8 * 1024});
    CHECK(stats.staged_inserts == 0);
}

TEST_CASE("engine staging: a partitioned table is staged", "[engine][pg][staging]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS stg_parted; CREATE TABLE stg_parted (seq int8 PRIMARY KEY, "
        "payload text) PARTITION BY RANGE (seq); CREATE TABLE stg_parted_a PARTITION OF "
        "stg_parted FOR VALUES FROM (MINVALUE) TO (2000); CREATE TABLE stg_parted_b PARTITION "
        "OF stg_parted FOR VALUES FROM (2000) TO (MAXVALUE); INSERT INTO stg_parted VALUES "
        "(1999, 'old'), (2000, 'old')");
    EngineStats stats = load_and_check("stg_parted", plan_rows(5000, 25, 3, 0), {1999, 2000},
                                       EngineOptions{.writers = 2, .batch_bytes = 8 * 1024});
    CHECK(stats.staged_inserts > 0);
}

TEST_CASE("engine staging: a user who may not read the key stays on COPYs",
          "[engine][pg][staging]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS stg_blind; DROP ROLE IF EXISTS pgingest_blind; CREATE ROLE "
        "pgingest_blind LOGIN; CREATE TABLE stg_blind (seq int8 PRIMARY KEY, payload text); "
        "GRANT INSERT ON stg_blind TO pgingest_blind; GRANT SELECT (payload) ON stg_blind TO "
        "pgingest_blind");
    Connection blind(test::cluster().conninfo() + " user=pgingest_blind");
    Planned plan = plan_rows(2000, 20, 4, 0);
    Seen seen;
    Engine engine(test::cluster().conninfo() + " user=pgingest_blind",
                  read_table_info(blind, "stg_blind"),
                  EngineOptions{.writers = 1, .batch_bytes = 8 * 1024}, seen.callbacks());
    {
        Producer producer = engine.producer();
        for (std::size_t i = 0; i < plan.keys.size(); i++) {
            put_row(producer, plan.keys[i], i, false);
        }
    }
    engine.close();
    CHECK(engine.stats().staged_inserts == 0);
    CHECK(engine.stats().rows_rejected == 100);
    CHECK(engine.stats().rows_committed == 1900);
    CHECK(conn.query_value("SELECT count(*) FROM stg_blind") == "1900");
}

namespace {

ColumnInfo column(const std::string& name, const std::string& type) {
    ColumnInfo info;
    info.name = name;
    info.type_display = type;
    return info;
}

TableInfo two_columns() {
    TableInfo table;
    table.qualified_name = "public.t";
    table.columns.push_back(column("seq", "bigint"));
    table.columns.push_back(column("pay\"load", "text"));
    return table;
}

}  // namespace

TEST_CASE("engine staging: the stage and the staged INSERT as SQL", "[engine][staging]") {
    const std::vector<std::string> key{"seq"};
    std::optional<detail::StagedInsert> staged = detail::staged_insert(two_columns(), key, 3);
    REQUIRE(staged.has_value());
    CHECK(staged->stage_sql ==
          "CREATE TEMP TABLE IF NOT EXISTS pgingest_unique_3 (\"seq\" bigint, \"pay\"\"load\" "
          "text, pgingest_ord int8 GENERATED ALWAYS AS IDENTITY); TRUNCATE "
          "pg_temp.pgingest_unique_3 RESTART IDENTITY; COPY pg_temp.pgingest_unique_3 (\"seq\", "
          "\"pay\"\"load\") FROM STDIN (FORMAT binary)");
    CHECK(staged->insert_sql ==
          "WITH ins AS (INSERT INTO public.t (\"seq\", \"pay\"\"load\") SELECT \"seq\", "
          "\"pay\"\"load\" FROM pg_temp.pgingest_unique_3 ORDER BY pgingest_ord ON CONFLICT "
          "(\"seq\") DO NOTHING RETURNING \"seq\") SELECT (SELECT count(*) FROM ins) || ':' || "
          "coalesce(string_agg(x.pgingest_ord::text, ',' ORDER BY x.pgingest_ord), '') FROM "
          "(SELECT pgingest_ord, \"seq\", row_number() OVER (PARTITION BY \"seq\" ORDER BY "
          "pgingest_ord) AS pgingest_rn FROM pg_temp.pgingest_unique_3) x LEFT JOIN ins ON "
          "(ins.\"seq\") = (x.\"seq\") AND x.pgingest_rn = 1 WHERE ins.\"seq\" IS NULL");
}

TEST_CASE("engine staging: no stage without a key the batches carry, or with a clashing name",
          "[engine][staging]") {
    CHECK_FALSE(detail::staged_insert(two_columns(), {}, 0).has_value());
    const std::vector<std::string> absent{"id"};
    CHECK_FALSE(detail::staged_insert(two_columns(), absent, 0).has_value());
    TableInfo clash = two_columns();
    clash.columns.push_back(column("pgingest_ord", "int8"));
    const std::vector<std::string> key{"seq"};
    CHECK_FALSE(detail::staged_insert(clash, key, 0).has_value());
}

TEST_CASE("engine staging: primary key columns as the catalog query gives them",
          "[engine][staging]") {
    CHECK(detail::parse_staged_key("").empty());
    CHECK(detail::parse_staged_key("3:seq") == std::vector<std::string>{"seq"});
    CHECK(detail::parse_staged_key("3:a:b4:c,d\"") == std::vector<std::string>{"a:b", "c,d\""});
    for (const char* bad : {"seq", "x:seq", "3", "9:seq", "0:", "3:seq2"}) {
        INFO(bad);
        CHECK_THROWS_WITH(detail::parse_staged_key(bad), Catch::StartsWith("unexpected"));
    }
}

TEST_CASE("engine staging: the ordinals a staged INSERT skipped", "[engine][staging]") {
    CHECK(detail::parse_staged_answer("5:", 5).empty());
    CHECK(detail::parse_staged_answer("3:2,4", 5) == std::vector<std::size_t>{2, 4});
    CHECK_THROWS_WITH(detail::parse_staged_answer("", 5),
                      "unexpected answer of a staged INSERT: ''");
    CHECK_THROWS_WITH(detail::parse_staged_answer("x:1", 5),
                      "unexpected rows inserted from the server: 'x'");
    CHECK_THROWS_WITH(detail::parse_staged_answer("4:0", 5),
                      "staged INSERT returned ordinal 0 for a stage of 5 rows");
    CHECK_THROWS_WITH(detail::parse_staged_answer("4:6", 5),
                      "staged INSERT returned ordinal 6 for a stage of 5 rows");
    CHECK_THROWS_WITH(detail::parse_staged_answer("3:4,2", 5),
                      "staged INSERT returned ordinal 2 for a stage of 5 rows");
    CHECK_THROWS_WITH(detail::parse_staged_answer("3:1,,2", 5),
                      "unexpected staged ordinal from the server: ''");
    CHECK_THROWS_WITH(detail::parse_staged_answer("2:1,2", 5),
                      "staged INSERT count mismatch: 2 rows inserted and 2 skipped of 5 staged");
}
