#include "engine/connection.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "codecs/assert.hpp"

namespace pgingest {

namespace {

struct ResultDeleter {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string trimmed(const char* text) {
    std::string out = text != nullptr ? text : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
        out.pop_back();
    }
    return out;
}

void append_field(std::string& message, const PGresult* result, int field, const char* label) {
    const char* value = PQresultErrorField(result, field);
    if (value != nullptr && *value != '\0') {
        message += '\n';
        message += label;
        message += value;
    }
}

}  // namespace

void throw_result_error(PGconn* conn, const PGresult* result, std::string_view doing) {
    std::string message(doing);
    message += ": ";
    std::string sqlstate;
    std::string context;
    const bool from_server =
        result != nullptr && PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) != nullptr;
    if (from_server) {
        const char* code = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        sqlstate = code != nullptr ? code : "";
        const char* context_field = PQresultErrorField(result, PG_DIAG_CONTEXT);
        context = context_field != nullptr ? context_field : "";
        message += PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
        if (!sqlstate.empty()) {
            message += " (SQLSTATE " + sqlstate + ")";
        }
        append_field(message, result, PG_DIAG_MESSAGE_DETAIL, "DETAIL: ");
        append_field(message, result, PG_DIAG_MESSAGE_HINT, "HINT: ");
        append_field(message, result, PG_DIAG_CONTEXT, "CONTEXT: ");
    } else {
        message += trimmed(PQerrorMessage(conn));
    }
    // Class 08 is a connection exception, except 08P01, which the server also raises for a
    // short field (FORMATS.md §1.2). 57P01-57P03 (admin shutdown, crash shutdown, cannot connect
    // now) come just before the server closes the connection, possibly before libpq noticed.
    // An error libpq made itself (no server fields) is a broken socket: after a failed write
    // libpq reports "server closed the connection unexpectedly" while PQstatus is still OK, as
    // long as it read something else (a server's WARNING before it exits) and not yet the EOF
    // (fe-exec.c PQgetResult, pqSaveWriteError).
    bool connection_lost = PQstatus(conn) == CONNECTION_BAD || !from_server ||
                           (sqlstate.starts_with("08") && sqlstate != "08P01") ||
                           sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
    if (connection_lost) {
        throw ConnectionError(std::move(message), std::move(sqlstate), true, std::move(context));
    }
    throw ServerError(std::move(message), std::move(sqlstate), false, std::move(context));
}

ErrorMeaning error_meaning(std::string_view sqlstate, bool names_row) noexcept {
    if (sqlstate.size() != 5) {
        return ErrorMeaning::transient;  // no server error: the connection broke
    }
    std::string_view class_code = sqlstate.substr(0, 2);
    if (sqlstate == "40001" || sqlstate == "40P01") {
        return ErrorMeaning::retry_transaction;
    }
    if ((class_code == "08" && sqlstate != "08P01") || sqlstate == "57P01" ||
        sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "53300" ||
        sqlstate == "58030" || (sqlstate == "XX000" && !names_row)) {
        return ErrorMeaning::transient;
    }
    if (class_code == "22" || class_code == "23") {
        return ErrorMeaning::row;
    }
    // 08P01 names a row when a field is short; XX000 from a recv function, P0001 from a trigger.
    bool other_class = class_code == "08" || class_code == "40" || class_code == "53" ||
                       class_code == "57" || class_code == "58";
    return names_row && !other_class ? ErrorMeaning::row : ErrorMeaning::fatal;
}

std::uint64_t copy_line_hint(std::string_view context) noexcept {
    // The server's CONTEXT for COPY FROM (copyfromparse.c CopyFromErrorCallback) is
    // `COPY %s, line %llu` in every translation but for the word "line" and its position
    // around the number; a trigger's or a function's context lines come first.
    std::size_t copy_at = context.rfind("COPY ");
    if (copy_at == std::string_view::npos) {
        return 0;
    }
    std::size_t comma = context.find(", ", copy_at);
    std::size_t line_end = context.find('\n', copy_at);
    if (comma == std::string_view::npos || comma > line_end) {
        return 0;
    }
    std::size_t at = comma + 2;
    while (at < context.size() && at < line_end && (context[at] < '0' || context[at] > '9')) {
        at++;
    }
    std::uint64_t line = 0;
    for (; at < context.size() && context[at] >= '0' && context[at] <= '9'; at++) {
        if (line > UINT64_MAX / 16) {
            return 0;
        }
        line = line * 10 + static_cast<std::uint64_t>(context[at] - '0');
    }
    return line;
}

Connection::Connection(const std::string& conninfo) {
    // `fallback_application_name` names pgingest in pg_stat_activity unless the conninfo (or
    // PGAPPNAME) sets an application_name of its own (libpq, "Parameter Key Words").
    const char* const keywords[] = {"dbname", "fallback_application_name", nullptr};
    const char* const values[] = {conninfo.c_str(), "pgingest", nullptr};
    _conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (_conn == nullptr) {
        throw ConnectionError("connect: libpq could not allocate a connection", {}, true);
    }
    if (PQstatus(_conn) != CONNECTION_OK) {
        std::string message = "connect: " + trimmed(PQerrorMessage(_conn)) +
                              "\nHINT: check --db / PG* variables and that the server is running";
        PQfinish(_conn);
        _conn = nullptr;
        throw ConnectionError(std::move(message), {}, true);
    }
    // Library code never prints (STYLE.md): libpq's default notice processor writes NOTICEs to
    // stderr, so drop them here; callers that want notices install their own processor.
    PQsetNoticeProcessor(
        _conn, [](void*, const char*) {}, nullptr);
    if (PQsetClientEncoding(_conn, "UTF8") != 0) {
        std::string message =
            "connect: cannot set client_encoding to UTF8: " + trimmed(PQerrorMessage(_conn));
        PQfinish(_conn);
        _conn = nullptr;
        throw ConnectionError(std::move(message));
    }
}

Connection::~Connection() {
    if (_conn != nullptr) {
        PQfinish(_conn);
    }
}

Connection::Connection(Connection&& other) noexcept : _conn(std::exchange(other._conn, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        if (_conn != nullptr) {
            PQfinish(_conn);
        }
        _conn = std::exchange(other._conn, nullptr);
    }
    return *this;
}

void Connection::exec(const std::string& sql) {
    ResultPtr result(PQexec(_conn, sql.c_str()));
    ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        throw_result_error(_conn, result.get(), sql.substr(0, 80));
    }
}

void Connection::exec_pipeline(const std::vector<std::string>& statements) {
    std::vector<Statement> plain;
    plain.reserve(statements.size());
    for (const auto& sql : statements) {
        plain.push_back(Statement{.sql = sql, .params = {}});
    }
    exec_pipeline(plain);
}

namespace {

// Queues one statement of a pipeline (PQsendQueryParams: text parameters, text results).
void send_in_pipeline(PGconn* conn, const Statement& statement) {
    PGINGEST_ASSERT(statement.params.size() <= 65535);
    std::vector<const char*> values;
    values.reserve(statement.params.size());
    for (const auto& param : statement.params) {
        values.push_back(param ? param->c_str() : nullptr);
    }
    if (PQsendQueryParams(conn, statement.sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0) != 1) {
        throw_result_error(conn, nullptr, "pipeline: send " + statement.sql.substr(0, 80));
    }
}

}  // namespace

void Connection::exec_pipeline(std::span<const Statement> statements, std::size_t* failed_index) {
    if (failed_index != nullptr) {
        *failed_index = SIZE_MAX;
    }
    if (PQenterPipelineMode(_conn) != 1) {
        throw_result_error(_conn, nullptr, "pipeline: enter pipeline mode");
    }
    for (const auto& statement : statements) {
        send_in_pipeline(_conn, statement);
    }
    if (PQpipelineSync(_conn) != 1) {
        throw_result_error(_conn, nullptr, "pipeline: sync");
    }
    // Every statement yields its result and then NULL; the Sync yields PGRES_PIPELINE_SYNC.
    // Read everything before throwing, so the connection is left idle.
    ResultPtr first_error;
    std::size_t first_error_index = SIZE_MAX;
    for (std::size_t i = 0; i < statements.size(); i++) {
        ResultPtr result(PQgetResult(_conn));
        if (result == nullptr) {
            throw_result_error(_conn, nullptr, "pipeline: " + statements[i].sql.substr(0, 80));
        }
        ExecStatusType status = PQresultStatus(result.get());
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !first_error) {
            first_error_index = i;
            first_error = std::move(result);
        }
        ResultPtr end(PQgetResult(_conn));
    }
    ResultPtr sync(PQgetResult(_conn));
    if (PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(_conn) != 1) {
        throw_result_error(_conn, sync.get(), "pipeline: end");
    }
    if (first_error) {
        if (failed_index != nullptr) {
            *failed_index = first_error_index;
        }
        throw_result_error(_conn, first_error.get(),
                           statements[first_error_index].sql.substr(0, 80));
    }
}

std::vector<std::string> Connection::query_column(const std::string& sql) {
    ResultPtr result(PQexec(_conn, sql.c_str()));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
        throw_result_error(_conn, result.get(), sql.substr(0, 80));
    }
    std::vector<std::string> values;
    int rows = PQntuples(result.get());
    values.reserve(static_cast<std::size_t>(rows));
    for (int row = 0; row < rows; row++) {
        values.emplace_back(PQgetvalue(result.get(), row, 0),
                            static_cast<std::size_t>(PQgetlength(result.get(), row, 0)));
    }
    return values;
}

std::string Connection::query_value(const std::string& sql) {
    ResultPtr result(PQexec(_conn, sql.c_str()));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
        throw_result_error(_conn, result.get(), sql.substr(0, 80));
    }
    if (PQntuples(result.get()) != 1 || PQnfields(result.get()) != 1) {
        throw Error("query_value: expected 1 row and 1 column, got " +
                    std::to_string(PQntuples(result.get())) + " rows and " +
                    std::to_string(PQnfields(result.get())) + " columns: " + sql.substr(0, 80));
    }
    return std::string(PQgetvalue(result.get(), 0, 0),
                       static_cast<std::size_t>(PQgetlength(result.get(), 0, 0)));
}

std::uint64_t Connection::copy_in(const std::string& copy_sql, std::string_view stream,
                                  std::size_t chunk_bytes) {
    ResultPtr start(PQexec(_conn, copy_sql.c_str()));
    if (PQresultStatus(start.get()) != PGRES_COPY_IN) {
        throw_result_error(_conn, start.get(), copy_sql.substr(0, 80));
    }
    chunk_bytes = std::clamp<std::size_t>(chunk_bytes, 1, 64u << 20);
    for (std::size_t at = 0; at < stream.size(); at += chunk_bytes) {
        std::size_t length = std::min(chunk_bytes, stream.size() - at);
        // Blocking mode: PQputCopyData returns 1 (queued) or -1 (connection error); 0 only in
        // nonblocking mode (libpq docs, "Functions Associated with the COPY Command").
        if (PQputCopyData(_conn, stream.data() + at, static_cast<int>(length)) != 1) {
            break;  // the error surfaces from PQgetResult after PQputCopyEnd
        }
    }
    if (PQputCopyEnd(_conn, nullptr) != 1) {
        throw_result_error(_conn, nullptr, "COPY end");
    }
    ResultPtr done(PQgetResult(_conn));
    while (ResultPtr extra{PQgetResult(_conn)}) {
        // Drain so the connection is idle again; the first result is the COPY's outcome.
    }
    if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) {
        throw_result_error(_conn, done.get(), copy_sql.substr(0, 80));
    }
    return std::stoull(PQcmdTuples(done.get()));
}

std::string Connection::copy_out(const std::string& copy_sql) {
    ResultPtr start(PQexec(_conn, copy_sql.c_str()));
    if (PQresultStatus(start.get()) != PGRES_COPY_OUT) {
        throw_result_error(_conn, start.get(), copy_sql.substr(0, 80));
    }
    std::string data;
    for (;;) {
        char* chunk = nullptr;
        int length = PQgetCopyData(_conn, &chunk, 0);
        if (length > 0) {
            data.append(chunk, static_cast<std::size_t>(length));
            PQfreemem(chunk);
            continue;
        }
        break;  // -1: done, -2: error; the result below says which
    }
    ResultPtr done(PQgetResult(_conn));
    while (ResultPtr extra{PQgetResult(_conn)}) {
    }
    if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) {
        throw_result_error(_conn, done.get(), copy_sql.substr(0, 80));
    }
    return data;
}

std::string Connection::quote_identifier(std::string_view name) {
    char* quoted = PQescapeIdentifier(_conn, name.data(), name.size());
    if (quoted == nullptr) {
        throw Error("quote identifier: " + trimmed(PQerrorMessage(_conn)));
    }
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
}

}  // namespace pgingest
