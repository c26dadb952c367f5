// Proves that the engine loses no row and stores none twice when its connections are killed
// (pg_terminate_backend) or the server restarts (fast shutdown) in the middle of a load: the
// writers reconnect, re-send what was not committed, and the table ends up with every row once.

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "codecs/assert.hpp"
#include "engine/engine.hpp"
#include "tests/support/pg.hpp"

using namespace pgingest;

namespace {

void load_rows(Engine& engine, std::int64_t rows) {
    Producer producer = engine.producer();
    for (std::int64_t id = 0; id < rows; id++) {
        ByteBuffer* out = producer.begin_row();
        PGINGEST_ASSERT(out != nullptr);
        out->put_i32(8);
        out->put_i64(id);
        out->put_i32(64);
        for (int i = 0; i < 16; i++) {
            out->put_i32(static_cast<std::int32_t>(id));  // 64 bytes of filler per row
        }
        producer.end_row(static_cast<std::uint64_t>(id));
    }
}

void check_every_row_once(Connection& conn, const std::string& table, std::int64_t rows) {
    CHECK(conn.query_value("SELECT count(*) FROM " + table) == std::to_string(rows));
    CHECK(conn.query_value("SELECT count(DISTINCT id) FROM " + table) == std::to_string(rows));
    CHECK(conn.query_value("SELECT sum(id) FROM " + table) ==
          std::to_string(rows * (rows - 1) / 2));
}

}  // namespace

TEST_CASE("engine faults: writers killed with pg_terminate_backend lose and repeat nothing",
          "[engine][pg][faults]") {
    auto io = GENERATE(CopyIo::uring, CopyIo::libpq);
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS fault_kill; CREATE TABLE fault_kill (id int8, filler bytea)");
    const std::int64_t rows = 400'000;
    Engine engine(
        test::cluster().conninfo() + " application_name=pgingest_fault_kill",
        read_table_info(conn, "fault_kill"),
        EngineOptions{
            .writers = 2, .batch_bytes = 64 * 1024, .memory_budget_bytes = 2 << 20, .io = io});
    std::atomic<bool> loading{true};
    std::thread killer([&] {
        Connection killer_conn(test::cluster().conninfo());
        for (int round = 0; round < 40 && loading.load(); round++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(40));
            (void)killer_conn.query_column(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'pgingest_fault_kill'");
        }
    });
    load_rows(engine, rows);
    engine.close();
    loading.store(false);
    killer.join();
    EngineStats stats = engine.stats();
    CHECK(stats.rows_committed == static_cast<std::uint64_t>(rows));
    CHECK(stats.reconnects > 0);
    check_every_row_once(conn, "fault_kill", rows);
}

TEST_CASE("engine faults: a fast restart of the server mid-load loses and repeats nothing",
          "[engine][pg][faults]") {
    LocalCluster server;  // a server of its own: the restart must not disturb other tests
    Connection setup(server.conninfo());
    setup.exec("CREATE TABLE fault_restart (id int8, filler bytea)");
    const std::int64_t rows = 400'000;
    Engine engine(
        server.conninfo(), read_table_info(setup, "fault_restart"),
        EngineOptions{.writers = 2, .batch_bytes = 64 * 1024, .memory_budget_bytes = 2 << 20});
    std::exception_ptr loader_error;
    std::thread loader([&] {
        try {
            load_rows(engine, rows);
        } catch (...) {
            loader_error = std::current_exception();
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server.restart();
    loader.join();
    if (loader_error) {
        std::rethrow_exception(loader_error);
    }
    engine.close();
    CHECK(engine.stats().rows_committed == static_cast<std::uint64_t>(rows));
    CHECK(engine.stats().reconnects >= 2);
    Connection after(server.conninfo());
    check_every_row_once(after, "fault_restart", rows);
}
