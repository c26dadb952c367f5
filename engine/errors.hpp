#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgingest {

/// A failure that ends a connection or a load (STYLE.md tier 3): cannot connect, COPY refused,
/// server error on a statement, local server could not start.
///
/// `what()` is the full message, naming the likely cause and fix where known. `sqlstate()` is the
/// server's five-character SQLSTATE when the server sent one, else empty. `retryable()` says
/// whether trying the same thing again later can help (a lost connection can; a syntax error
/// cannot). Thrown by engine/ and tools/ only, never on the row path.
class Error : public std::runtime_error {
  public:
    Error(std::string message, std::string sqlstate = {}, bool retryable = false,
          std::string context = {})
        : std::runtime_error(std::move(message)),
          _sqlstate(std::move(sqlstate)),
          _context(std::move(context)),
          _retryable(retryable) {}

    [[nodiscard]] const std::string& sqlstate() const noexcept { return _sqlstate; }
    /// The server's CONTEXT field (e.g. `COPY t, line 5, column b: "x"`), else empty.
    [[nodiscard]] const std::string& context() const noexcept { return _context; }
    [[nodiscard]] bool retryable() const noexcept { return _retryable; }

  private:
    std::string _sqlstate;
    std::string _context;
    bool _retryable;
};

/// Could not connect or authenticate, or the connection broke (class 08 except 08P01).
class ConnectionError : public Error {
  public:
    using Error::Error;
};

/// A writer lost its connection and could not connect again within
/// `EngineOptions::reconnect_timeout_ms`; `what()` names the last connection error. Not retried.
class ReconnectFailed : public ConnectionError {
  public:
    using ConnectionError::ConnectionError;
};

/// The server refused a statement; `sqlstate()` says why.
class ServerError : public Error {
  public:
    using Error::Error;
};

/// A statement of a transaction's epilogue (`TransactionHooks::epilogue`, engine/transaction.hpp)
/// failed with an error that re-running the transaction cannot mend (a data error such as 23505,
/// or e.g. 42P01), or with one that could (40001, 40P01, a transient error such as XX000) when
/// the transaction was run again with backoff until `EngineOptions::reconnect_timeout_ms` and
/// still failed: the load ends, nothing of that transaction is stored. `what()` names the
/// statement and carries the server's message; `sqlstate()` is the server's.
class EpilogueError : public ServerError {
  public:
    EpilogueError(std::string message, std::string sqlstate, std::string statement,
                  std::size_t statement_index)
        : ServerError(std::move(message), std::move(sqlstate)),
          _statement(std::move(statement)),
          _statement_index(statement_index) {}
    /// The SQL of the failed statement, as the epilogue callback returned it.
    [[nodiscard]] const std::string& statement() const noexcept { return _statement; }
    /// Its 0-based position among the statements the epilogue callback returned.
    [[nodiscard]] std::size_t statement_index() const noexcept { return _statement_index; }

  private:
    std::string _statement;
    std::size_t _statement_index;
};

/// The load ended because more rows than `EngineOptions::rejects_max` were refused by the
/// server. Rows committed before stay committed. `sqlstate()` is the last refused row's.
class RejectsExceeded : public Error {
  public:
    using Error::Error;
};

/// The connection was lost while COMMIT was on its way and `txid_status` could not say whether
/// that transaction committed (still "in progress" after the wait, or NULL: too old to tell),
/// or the server restarted after a crash and a checkpoint since hides whether that id was
/// handed out again (then txid_status might describe another transaction).
/// The rows of that transaction may or may not be stored; nothing is re-sent.
class CommitInDoubt : public ConnectionError {
  public:
    CommitInDoubt(std::string message, std::uint64_t xid)
        : ConnectionError(std::move(message)), _xid(xid) {}
    /// The transaction id (txid_current, epoch included) whose outcome is unknown.
    [[nodiscard]] std::uint64_t xid() const noexcept { return _xid; }

  private:
    std::uint64_t _xid;
};

/// What an error means for the rows being written (issue 12 point 4), from the SQLSTATE class
/// and whether the error names one row; never from the message text.
enum class ErrorMeaning : std::uint8_t {
    /// A row was refused (class 22 data exception, 23 integrity constraint, or another error
    /// naming one row of the COPY, e.g. XX000 from a type's recv function): isolate that row.
    row,
    /// The connection or the server is in trouble for now (class 08 but 08P01, 57P01-57P03,
    /// 53300 too many connections, 58030 I/O error, XX000 naming no row): back off, reconnect
    /// if needed, and re-send what is not committed.
    transient,
    /// 40001 serialization failure, 40P01 deadlock: roll back and run the transaction again.
    retry_transaction,
    /// Anything else (e.g. 42P01, 53100 disk full, 55P03 lock timeout): the load ends with it.
    fatal,
};

/// Sorts an error with SQLSTATE `sqlstate` (empty: no server error, e.g. a socket failure:
/// `transient`); `names_row`: its CONTEXT names a tuple of the COPY (`copy_line_hint` > 0).
[[nodiscard]] ErrorMeaning error_meaning(std::string_view sqlstate, bool names_row) noexcept;

/// The tuple ordinal (1-based) that a CONTEXT of the server names in its last COPY line
/// (`COPY t, line 5, column b: "x"`; translated: `COPY t, Zeile 5`, `COPY t, ligne 5`): the
/// first number after the comma that follows the table name. 0 when there is none. Only a hint
/// of where the refused row is: servers such as Citus name the line being read, not the row.
[[nodiscard]] std::uint64_t copy_line_hint(std::string_view context) noexcept;

}  // namespace pgingest
