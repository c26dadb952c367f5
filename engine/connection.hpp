#pragma once

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/errors.hpp"

namespace pgingest {

/// One SQL statement with parameters, for `Connection::exec_pipeline`: `sql` names them `$1`,
/// `$2`, ... and `params` holds their values as text (the type's input function reads them;
/// `std::nullopt` is SQL NULL). No COPY, one statement only (extended protocol).
struct Statement {
    std::string sql;
    std::vector<std::optional<std::string>> params = {};
};

/// One libpq connection in blocking mode, for statements around the data path: catalog reads,
/// DDL, small COPYs in tests and the demo. The pipelined, io_uring COPY writers of the engine
/// build on top of the same `PGconn` (issue "Engine").
///
/// `client_encoding` is pinned to UTF8 at connect: text, json and jsonb fields of binary COPY
/// are converted from the client encoding (FORMATS.md §1.2, pitfall 1). One thread at a time.
class Connection {
  public:
    /// Connects with a conninfo string or URI (libpq conventions: PG* variables and .pgpass fill
    /// in what is missing). Throws `ConnectionError` with libpq's message.
    explicit Connection(const std::string& conninfo);
    ~Connection();
    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs one or more statements (simple protocol). Throws `ServerError` with SQLSTATE.
    void exec(const std::string& sql);

    /// Runs `statements` (one SQL statement each, no COPY) as one libpq pipeline: all are sent,
    /// then one Sync, so they cost one round trip (FORMATS.md §5.5). Used for the epilogue of a
    /// transaction (COMMIT, and the ledger row / NOTIFY / merge statements later issues add).
    /// Throws `ServerError` / `ConnectionError` for the first statement that failed; the ones
    /// after it are skipped by the server (PGRES_PIPELINE_ABORTED). The connection is left idle
    /// and out of pipeline mode unless it broke.
    void exec_pipeline(const std::vector<std::string>& statements);

    /// Runs `statements` with their text parameters as one libpq pipeline (PQsendQueryParams
    /// each, then one PQpipelineSync: one round trip), like the overload above. When a statement
    /// fails, its index is stored in `*failed_index` (when given) before its `ServerError` /
    /// `ConnectionError` is thrown; `*failed_index` is `SIZE_MAX` when the failure is not one
    /// statement's (the connection broke before its result was read). At most 65535 params each.
    void exec_pipeline(std::span<const Statement> statements, std::size_t* failed_index = nullptr);

    /// Runs a query and returns the first column of every row as text ("" for NULL, which
    /// `query_is_null` tells apart). Throws `ServerError`.
    [[nodiscard]] std::vector<std::string> query_column(const std::string& sql);

    /// The single value of a one-row, one-column query, as text. Throws `ServerError`, or
    /// `Error` when the result is not exactly one row and one column.
    [[nodiscard]] std::string query_value(const std::string& sql);

    /// Sends `stream` (a complete COPY BINARY stream: header, tuples, optional trailer) as the
    /// data of `copy_sql` (`COPY ... FROM STDIN (FORMAT binary)`), in CopyData messages of at most
    /// `chunk_bytes`. Returns the server's row count from CommandComplete (`COPY n`). Throws
    /// `ServerError` carrying the server's SQLSTATE, message, DETAIL and CONTEXT when it refuses.
    std::uint64_t copy_in(const std::string& copy_sql, std::string_view stream,
                          std::size_t chunk_bytes = 1 << 20);

    /// Runs `copy_sql` (`COPY ... TO STDOUT ...`) and returns everything the server sent.
    /// Throws `ServerError`.
    [[nodiscard]] std::string copy_out(const std::string& copy_sql);

    /// Quotes a name for SQL with the server's rules (PQescapeIdentifier). Throws `Error` on
    /// invalid encoding.
    [[nodiscard]] std::string quote_identifier(std::string_view name);

    /// The underlying libpq connection, for code that drives it directly.
    [[nodiscard]] PGconn* native() noexcept { return _conn; }

  private:
    PGconn* _conn = nullptr;
};

/// Throws for a failed result: `ConnectionError` (retryable) when the connection is gone or the
/// server is shutting down (SQLSTATE class 08 except 08P01, 57P01-57P03), else
/// `ServerError`, with the server's message, DETAIL, HINT and CONTEXT (or libpq's message when
/// there is no result) and SQLSTATE, prefixed by `doing` ("COPY t", "catalog read").
/// Does not free `result`.
[[noreturn]] void throw_result_error(PGconn* conn, const PGresult* result, std::string_view doing);

}  // namespace pgingest
