// The installed package works for a user: tests/consumer, built against `cmake --install` output
// with find_package and with pkg-config (check.cmake, the `package_build` test), loads one row
// into a real server, and the row is stored as written.

#include <catch2/catch.hpp>
#include <string>

#include "pgingest/version.hpp"
#include "tests/support/pg.hpp"
#include "tests/support/process.hpp"

namespace {

/// Runs `consumer` for `table`; returns its exit status and puts its output in `output`.
int run_consumer(const std::string& consumer, const std::string& table, const std::string& id,
                 const std::string& name, std::string& output) {
    std::string command = "'" + consumer + "' '" + pgingest::test::cluster().conninfo() + "' " +
                          table + " " + id + " " + name + " 2>&1";
    return pgingest::test::run_capturing(command, output);
}

}  // namespace

TEST_CASE("package: consumers built with find_package and pkg-config each load their row",
          "[package][pg]") {
    pgingest::Connection conn = pgingest::test::connect();
    conn.exec("DROP TABLE IF EXISTS consumer_rows");
    conn.exec("CREATE TABLE consumer_rows (id int8 PRIMARY KEY, name text, attributes jsonb)");
    std::string expected_output =
        "pgingest " + std::string(pgingest::version) + ": 1 row loaded\n";

    std::string output;
    CHECK(run_consumer(PGINGEST_CONSUMER_FIND_PACKAGE, "consumer_rows", "1", "find_package",
                       output) == 0);
    CHECK(output == expected_output);
    output.clear();
    CHECK(run_consumer(PGINGEST_CONSUMER_PKG_CONFIG, "consumer_rows", "2", "pkg-config",
                       output) == 0);
    CHECK(output == expected_output);

    CHECK(conn.query_value("SELECT string_agg(id || '|' || name || '|' || attributes::text, "
                           "E'\\n' ORDER BY id) FROM consumer_rows") ==
          "1|find_package|{\"via\": \"find_package\"}\n2|pkg-config|{\"via\": \"pkg-config\"}");
}
