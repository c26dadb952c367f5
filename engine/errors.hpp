#pragma once

#include <stdexcept>
#include <string>

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

/// The server refused a statement; `sqlstate()` says why.
class ServerError : public Error {
  public:
    using Error::Error;
};

/// The load ended because more rows than `EngineOptions::rejects_max` were refused by the
/// server. Rows committed before stay committed. `sqlstate()` is the last refused row's.
class RejectsExceeded : public Error {
  public:
    using Error::Error;
};

}  // namespace pgingest
