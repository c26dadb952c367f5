// Proves that one engine, one writer pool, loads several tables (issue 12 point 6) against a
// real server: two tables with different columns fed by two producer threads, and interleaved
// from one thread, get exactly their rows; a row refused in one table is isolated and reported
// with its table while every row of the other is stored; commit reports and epilogues name the
// table of each run of rows; a staging table can serve one table of several.

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "codecs/assert.hpp"
#include "engine/engine.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

// spans (trace_id int8, name text): name = "span-<id>"
void put_span(Producer& producer, std::int64_t id) {
    ByteBuffer* out = producer.begin_row();
    PGINGEST_ASSERT(out != nullptr);
    out->put_i32(8);
    out->put_i64(id);
    std::string name = "span-" + std::to_string(id);
    out->put_i32(static_cast<std::int32_t>(name.size()));
    out->put_bytes(name);
    producer.end_row(RowOrigin{.offset = static_cast<std::uint64_t>(id)});
}

// resources (id int4, host text, cores int2): host = "h<id>", cores = id % 64
void put_resource(Producer& producer, std::int32_t id) {
    ByteBuffer* out = producer.begin_row();
    PGINGEST_ASSERT(out != nullptr);
    out->put_i32(4);
    out->put_i32(id);
    std::string host = "h" + std::to_string(id);
    out->put_i32(static_cast<std::int32_t>(host.size()));
    out->put_bytes(host);
    out->put_i32(2);
    out->put_u16(static_cast<std::uint16_t>(id % 64));
    producer.end_row(RowOrigin{.offset = static_cast<std::uint64_t>(id)});
}

void create_tables(Connection& conn, const std::string& spans, const std::string& resources) {
    conn.exec("DROP TABLE IF EXISTS " + spans + ", " + resources + "; CREATE TABLE " + spans +
              " (trace_id int8, name text); CREATE TABLE " + resources +
              " (id int4, host text, cores int2 CHECK (cores <> 13))");
}

struct Reports {
    std::mutex mutex;
    std::vector<std::uint64_t> committed_rows = {0, 0};  // per table
    std::uint64_t commits_of_both = 0;                   // COMMITs holding rows of both tables
    std::vector<RejectReport> rejects;

    void commit(const CommitReport& report) {
        std::lock_guard lock(mutex);
        PGINGEST_ASSERT(report.tables.size() == report.origins.size());
        std::vector<bool> seen = {false, false};
        for (std::size_t run = 0; run < report.origins.size(); run++) {
            committed_rows[report.tables[run]] += report.origins[run].size();
            seen[report.tables[run]] = true;
        }
        if (seen[0] && seen[1]) {
            commits_of_both += 1;
        }
    }

    void reject(const RejectReport& report) {
        std::lock_guard lock(mutex);
        rejects.push_back(report);
    }

    EngineCallbacks callbacks() {
        return EngineCallbacks{.on_commit = [this](const CommitReport& r) { commit(r); },
                               .on_reject = [this](const RejectReport& r) { reject(r); },
                               .transaction = {}};
    }
};

}  // namespace

TEST_CASE("engine tables: two tables fed by two producer threads get exactly their rows",
          "[engine][pg][tables]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    create_tables(conn, "mt_spans", "mt_resources");
    Reports reports;
    Engine engine(test::cluster().conninfo(),
                  std::vector<TableInfo>{read_table_info(conn, "mt_spans"),
                                         read_table_info(conn, "mt_resources")},
                  EngineOptions{.writers = 2,
                                .batch_bytes = 16 * 1024,
                                .memory_budget_bytes = 1 << 20,
                                .txn_bytes_max = 256 * 1024,
                                .io = io},
                  reports.callbacks());
    CHECK(engine.table_count() == 2);
    CHECK(engine.table(1).qualified_name == "public.mt_resources");
    CHECK(engine.table().qualified_name == "public.mt_spans");
    CHECK_THROWS_WITH(engine.producer(2), "no table 2: the engine has 2 table(s), numbered from 0");
    std::thread spans([&engine] {
        Producer producer = engine.producer(0);
        for (std::int64_t id = 0; id < 60'000; id++) {
            put_span(producer, id);
        }
    });
    std::thread resources([&engine] {
        Producer producer = engine.producer(1);
        for (std::int32_t id = 0; id < 40'000; id++) {
            put_resource(producer, id % 64 == 13 ? id + 1 : id);  // no refused row here
        }
    });
    spans.join();
    resources.join();
    engine.close();
    CHECK(engine.stats().rows_committed == 100'000);
    CHECK(reports.committed_rows == std::vector<std::uint64_t>{60'000, 40'000});
    CHECK(reports.rejects.empty());
    CHECK(conn.query_value("SELECT count(*) FROM mt_spans") == "60000");
    CHECK(conn.query_value("SELECT count(DISTINCT trace_id) FROM mt_spans") == "60000");
    CHECK(conn.query_value("SELECT count(*) FROM mt_spans WHERE name <> 'span-' || trace_id") ==
          "0");
    CHECK(conn.query_value("SELECT count(*) FROM mt_resources") == "40000");
    CHECK(conn.query_value("SELECT count(*) FROM mt_resources WHERE host <> 'h' || id "
                           "OR cores <> id % 64") == "0");
}

TEST_CASE("engine tables: rows of two tables interleaved from one thread, one refused in B",
          "[engine][pg][tables]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    create_tables(conn, "mt_one_spans", "mt_one_resources");
    Reports reports;
    Engine engine(
        test::cluster().conninfo(),
        std::vector<TableInfo>{read_table_info(conn, "mt_one_spans"),
                               read_table_info(conn, "mt_one_resources")},
        // A pool of 4 batches: the writer commits every 2 batches (its share of the
        // pool) and the producers cannot run far ahead, so transactions are made of
        // batches of both tables as they were submitted.
        EngineOptions{
            .writers = 1, .batch_bytes = 8 * 1024, .memory_budget_bytes = 32 * 1024, .io = io},
        reports.callbacks());
    {
        Producer spans = engine.producer(0);
        Producer resources = engine.producer(1);
        for (std::int32_t id = 0; id < 5'000; id++) {
            put_span(spans, id);
            put_resource(resources, id);  // cores = id % 64: 13 refused by the CHECK
        }
    }
    engine.close();
    const std::uint64_t refused = 78;  // ids 13, 77, ..., 4941
    CHECK(engine.stats().rows_rejected == refused);
    CHECK(engine.stats().rows_committed == 10'000 - refused);
    CHECK(reports.committed_rows == std::vector<std::uint64_t>{5'000, 5'000 - refused});
    INFO("transactions " << engine.stats().transactions_committed);
    CHECK(reports.commits_of_both >= 1);  // a transaction COPYed into both tables
    REQUIRE(reports.rejects.size() == refused);
    for (const RejectReport& reject : reports.rejects) {
        CHECK(reject.table_index == 1);
        CHECK(reject.origin.offset % 64 == 13);
        CHECK(reject.sqlstate == "23514");
        CHECK_THAT(reject.message, Catch::Contains("mt_one_resources"));
    }
    CHECK(conn.query_value("SELECT count(*) FROM mt_one_spans") == "5000");
    CHECK(conn.query_value("SELECT sum(trace_id) FROM mt_one_spans") == "12497500");
    CHECK(conn.query_value("SELECT count(*) FROM mt_one_resources") ==
          std::to_string(5'000 - refused));
    CHECK(conn.query_value("SELECT count(*) FROM mt_one_resources WHERE cores = 13") == "0");
}

TEST_CASE("engine tables: a staging table for one table, the epilogue sees both tables",
          "[engine][pg][tables][txn]") {
    auto conn = test::connect();
    create_tables(conn, "mt_st_spans", "mt_st_resources");
    TableInfo resources = read_table_info(conn, "mt_st_resources");
    std::atomic<std::uint64_t> epilogue_spans{0};
    std::atomic<std::uint64_t> epilogue_resources{0};
    TransactionHooks hooks;
    hooks.staging.push_back(StagingTarget{.table_index = 1,
                                          .name = "mt_stage",
                                          .create_sql = staging_table_sql(resources, "mt_stage")});
    hooks.epilogue = [&](const TransactionView& txn) {
        for (std::size_t run = 0; run < txn.origins.size(); run++) {
            (txn.tables[run] == 0 ? epilogue_spans : epilogue_resources) += txn.origins[run].size();
        }
        return std::vector<Statement>{
            Statement{.sql = "INSERT INTO mt_st_resources SELECT * FROM mt_stage", .params = {}}};
    };
    Engine engine(test::cluster().conninfo(),
                  std::vector<TableInfo>{read_table_info(conn, "mt_st_spans"), resources},
                  EngineOptions{.writers = 1, .batch_bytes = 8 * 1024},
                  EngineCallbacks{.on_commit = {}, .on_reject = {}, .transaction = hooks});
    {
        Producer span_producer = engine.producer(0);
        Producer resource_producer = engine.producer(1);
        for (std::int32_t id = 0; id < 3'000; id++) {
            put_span(span_producer, id);
            put_resource(resource_producer, id % 64 == 13 ? id + 1 : id);
        }
    }
    engine.close();
    CHECK(epilogue_spans.load() == 3'000);
    CHECK(epilogue_resources.load() == 3'000);
    CHECK(conn.query_value("SELECT count(*) FROM mt_st_spans") == "3000");
    CHECK(conn.query_value("SELECT count(*) FROM mt_st_resources") == "3000");
    CHECK(conn.query_value("SELECT count(*) FROM mt_st_resources WHERE host <> 'h' || id") == "0");
}
