#pragma once

// Test support: the shared throwaway server and helpers to compare our bytes with the server's.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/buffer.hpp"
#include "engine/connection.hpp"
#include "tests/support/bytes.hpp"
#include "tools/local_cluster.hpp"

namespace pgingest::test {

/// The test cluster, started on first use (initdb + postgres as the `postgres` user when root)
/// and stopped when the test process exits. Throws, failing the calling test with the reason,
/// when no server can be started: tests never skip for want of a server.
LocalCluster& cluster();

/// A new connection to the test cluster's `postgres` database.
Connection connect();

/// The data bytes of the one field that `SELECT <expression>` yields, as the server's own send
/// function writes it: `COPY (SELECT <expression>) TO STDOUT (FORMAT binary)`, with the stream
/// header, field count and length stripped. Fails the test when the value is NULL.
std::string server_field(Connection& conn, std::string_view expression);

/// Creates (or replaces) table `table` with one column `v <column_type>`, loads one tuple made of
/// `encoded_field` (length prefix included, as encoders write it) through binary COPY, and
/// returns `v::text` as stored ("<NULL>" for NULL). Throws `ServerError` when the server refuses.
std::string round_trip(Connection& conn, std::string_view column_type,
                       std::string_view encoded_field, std::string_view table = "round_trip");

}  // namespace pgingest::test
