// Proves Connection against a real server: a pipeline of statements runs in one round trip and
// its first failure is reported with the server's SQLSTATE, the implicit transaction of the
// pipeline is rolled back, and the connection is left idle and usable.

#include "engine/connection.hpp"

#include <catch2/catch.hpp>

#include "tests/support/pg.hpp"

using namespace pgingest;

TEST_CASE("connection: a pipeline runs every statement", "[engine][pg]") {
    auto conn = test::connect();
    conn.exec("DROP TABLE IF EXISTS conn_pipe; CREATE TABLE conn_pipe (a int4 PRIMARY KEY)");
    conn.exec("BEGIN");
    conn.exec_pipeline({"INSERT INTO conn_pipe VALUES (1)", "INSERT INTO conn_pipe VALUES (2)",
                        "NOTIFY conn_pipe_channel", "COMMIT"});
    CHECK(PQtransactionStatus(conn.native()) == PQTRANS_IDLE);
    CHECK(PQpipelineStatus(conn.native()) == PQ_PIPELINE_OFF);
    CHECK(conn.query_value("SELECT string_agg(a::text, ',' ORDER BY a) FROM conn_pipe") == "1,2");
}

TEST_CASE("connection: a failing statement in a pipeline is reported; later ones are skipped",
          "[engine][pg]") {
    auto conn = test::connect();
    conn.exec(
        "DROP TABLE IF EXISTS conn_pipe_err; CREATE TABLE conn_pipe_err (a int4 PRIMARY KEY)");
    try {
        conn.exec_pipeline({"INSERT INTO conn_pipe_err VALUES (1)",
                            "INSERT INTO conn_pipe_err VALUES (1)",
                            "INSERT INTO conn_pipe_err VALUES (3)"});
        FAIL("a duplicate key in a pipeline was not reported");
    } catch (const ServerError& error) {
        CHECK(error.sqlstate() == "23505");
        CHECK_THAT(error.what(), Catch::StartsWith("INSERT INTO conn_pipe_err VALUES (1): "
                                                   "duplicate key value violates unique"));
    }
    CHECK(PQpipelineStatus(conn.native()) == PQ_PIPELINE_OFF);
    // Up to its Sync a pipeline is one implicit transaction: the error rolled back the first
    // insert too, and the third never ran.
    CHECK(conn.query_value("SELECT count(*) FROM conn_pipe_err") == "0");
}
