#include "engine/copy_stream.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "codecs/assert.hpp"

namespace pgingest {

namespace {

struct ResultDeleter {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// CopyFail messages over 10 000 bytes kill the connection (PQ_SMALL_MESSAGE_LIMIT; FORMATS §5.4).
constexpr std::size_t copy_fail_reason_max = 1000;

// Largest CopyData message handed to libpq (`send_libpq`): bounds libpq's output buffer.
constexpr std::size_t libpq_piece_bytes = std::size_t{1} << 20;

// How much of the server's pending output one peek looks at.
constexpr std::size_t peek_window_bytes = 4096;

std::uint32_t load_be32(const unsigned char* at) {
    return (std::uint32_t{at[0]} << 24) | (std::uint32_t{at[1]} << 16) |
           (std::uint32_t{at[2]} << 8) | std::uint32_t{at[3]};
}

}  // namespace

void begin_copy_data(ByteBuffer& batch) {
    PGINGEST_ASSERT(batch.empty());
    batch.put_u8('d');
    (void)batch.put_placeholder_i32();
}

void end_copy_data(ByteBuffer& batch) {
    PGINGEST_ASSERT(batch.size() >= copy_data_header_size);
    PGINGEST_ASSERT(batch.size() - 1 <= 0x3FFFFFFE);
    batch.patch_i32(1, static_cast<std::int32_t>(batch.size() - 1));
}

CopyStream::CopyStream(Connection& conn, CopyIo io) : _conn(conn), _io(io) {
    PGconn* native = _conn.native();
    // Raw bytes inside a TLS or GSS-encrypted stream would corrupt it (FORMATS §6 B, rule 1).
    if (_io == CopyIo::uring && (PQsslInUse(native) != 0 || PQgssEncInUse(native) != 0)) {
        _io = CopyIo::libpq;
    }
    if (_io == CopyIo::uring) {
        _ring = std::make_unique<io_uring>();
        int rc = io_uring_queue_init(8, _ring.get(), 0);
        if (rc < 0) {
            _ring.reset();
            throw Error(std::string("io_uring setup failed: ") + std::strerror(-rc) +
                        "\nHINT: io_uring may be disabled on this kernel "
                        "(sysctl kernel.io_uring_disabled); use --io libpq");
        }
    }
}

CopyStream::~CopyStream() {
    if (_active) {
        abort("pgingest: COPY abandoned");
    }
    if (_ring != nullptr) {
        io_uring_queue_exit(_ring.get());
    }
}

void CopyStream::start(const std::string& sql, std::string* first_value) {
    PGINGEST_ASSERT(!_active);
    PGconn* native = _conn.native();
    // Statements before the COPY in the same simple Query message cost no extra round trip:
    // the server answers each in turn, then CopyInResponse (protocol.sgml, "Simple Query").
    const std::size_t copy_at = sql.rfind("COPY ");
    const std::string doing = sql.substr(copy_at == std::string::npos ? 0 : copy_at, 120);
    if (PQsendQuery(native, sql.c_str()) != 1) {
        throw_result_error(native, nullptr, doing);
    }
    for (;;) {
        ResultPtr result(PQgetResult(native));
        if (result == nullptr) {
            throw_result_error(native, nullptr, doing);  // ended without CopyInResponse
        }
        ExecStatusType status = PQresultStatus(result.get());
        if (status == PGRES_COPY_IN) {
            break;
        }
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
            if (first_value != nullptr && status == PGRES_TUPLES_OK &&
                PQntuples(result.get()) >= 1 && PQnfields(result.get()) >= 1) {
                *first_value = PQgetvalue(result.get(), 0, 0);
                first_value = nullptr;
            }
            continue;
        }
        while (ResultPtr extra{PQgetResult(native)}) {
            // the statements after the failed one are skipped; drain so the connection is idle
        }
        throw_result_error(native, result.get(), doing);
    }
    _active = true;
    _server_error_seen = false;
    _socket_broken = false;
    _bytes_sent = 0;
    // In blocking mode PQsendQuery flushed the query, so libpq's output buffer is empty: the
    // precondition for writing CopyData on the socket ourselves (FORMATS §6 B, rule 3).
    _fd = PQsocket(native);
}

bool CopyStream::send(const ByteBuffer& framed_batch) {
    PGINGEST_ASSERT(_active);
    PGINGEST_ASSERT(framed_batch.size() >= copy_data_header_size && framed_batch.data()[0] == 'd');
    if (_server_error_seen || _socket_broken) {
        return false;
    }
    if (_io == CopyIo::libpq) {
        return send_libpq(framed_batch.data() + copy_data_header_size,
                          framed_batch.size() - copy_data_header_size);
    }
    return send_uring(framed_batch.data(), framed_batch.size(), nullptr, 0);
}

bool CopyStream::send_slice(const char* data, std::size_t size) {
    PGINGEST_ASSERT(_active);
    PGINGEST_ASSERT(size <= 0x3FFFFFFE - 4);
    if (_server_error_seen || _socket_broken) {
        return false;
    }
    if (_io == CopyIo::libpq) {
        return send_libpq(data, size);
    }
    char header[copy_data_header_size];
    header[0] = 'd';
    ByteBuffer::store_be(header + 1, static_cast<std::uint32_t>(size + 4));
    return send_uring(header, sizeof header, data, size);
}

bool CopyStream::send_libpq(const char* payload, std::size_t payload_size) {
    // In CopyData messages of at most `libpq_piece_bytes`: PQputCopyData grows libpq's output
    // buffer to hold a whole message and never shrinks it, so a huge batch handed over at once
    // would stay as a second copy for the connection's life (issue 11: peak RSS). CopyData
    // boundaries need not match tuple boundaries (protocol.sgml, "COPY Operations").
    do {
        std::size_t piece = std::min(payload_size, libpq_piece_bytes);
        // Blocking mode: 1 = queued, -1 = error (the cause comes from PQgetResult in finish()).
        if (PQputCopyData(_conn.native(), payload, static_cast<int>(piece)) != 1) {
            _socket_broken = true;
            return false;
        }
        _bytes_sent += piece + copy_data_header_size;
        payload += piece;
        payload_size -= piece;
    } while (payload_size > 0);
    return true;
}

int CopyStream::submit_and_wait_one() {
    int rc = io_uring_submit_and_wait(_ring.get(), 1);
    if (rc < 0) {
        throw Error(std::string("io_uring submit failed: ") + std::strerror(-rc));
    }
    io_uring_cqe* cqe = nullptr;
    rc = io_uring_wait_cqe(_ring.get(), &cqe);
    if (rc < 0) {
        throw Error(std::string("io_uring wait failed: ") + std::strerror(-rc));
    }
    int result = cqe->res;
    io_uring_cqe_seen(_ring.get(), cqe);
    return result;
}

// Sends one whole message (header, then optional data). The server is asked whether it has
// failed only before the message starts: once begun, a message is always finished.
bool CopyStream::send_uring(const char* header, std::size_t header_size, const char* data,
                            std::size_t size) {
    if (server_reported_error()) {
        return false;
    }
    if (!write_all(header, header_size) || !write_all(data, size)) {
        return false;
    }
    return !_server_error_seen;
}

bool CopyStream::write_all(const char* data, std::size_t size) {
    return send_all(data, size, &CopyStream::note_server_message);
}

// Sends all of `data`. A short send is normal on a nonblocking socket: the rest goes before
// anything else. While the socket is full, waits until it drains or the server says something;
// then `on_readable` reacts, and returning false gives up (the connection broke). Returns false,
// with `_socket_broken` set, when the connection broke.
bool CopyStream::send_all(const char* data, std::size_t size, bool (CopyStream::*on_readable)()) {
    std::size_t offset = 0;
    while (offset < size) {
        io_uring_sqe* sqe = io_uring_get_sqe(_ring.get());
        PGINGEST_ASSERT(sqe != nullptr);  // one operation in flight at a time
        io_uring_prep_send(sqe, _fd, data + offset, size - offset, MSG_NOSIGNAL);
        int rc = submit_and_wait_one();
        if (rc > 0) {
            offset += static_cast<std::size_t>(rc);
            _bytes_sent += static_cast<std::uint64_t>(rc);
            continue;
        }
        if (rc == -EAGAIN || rc == -EINTR) {
            sqe = io_uring_get_sqe(_ring.get());
            PGINGEST_ASSERT(sqe != nullptr);
            io_uring_prep_poll_add(sqe, _fd, POLLOUT | POLLIN);
            int events = submit_and_wait_one();
            if (events > 0 && (events & (POLLIN | POLLHUP | POLLERR)) != 0 &&
                !(this->*on_readable)()) {
                _socket_broken = true;
                return false;
            }
            continue;
        }
        // EPIPE, ECONNRESET, ...: the connection is gone; the caller collects the server's reason.
        _socket_broken = true;
        return false;
    }
    return true;
}

// While sending CopyData: a server message is noted (an error stops the next message), and the
// message being sent is finished whatever it says.
bool CopyStream::note_server_message() {
    (void)server_reported_error();
    return true;
}

// Peeks at what the server has sent without consuming it. During COPY IN the server sends only
// ErrorResponse 'E' when the COPY failed, and otherwise only NoticeResponse 'N',
// ParameterStatus 'S' and NotificationResponse 'A' (FORMATS §1.3). Harmless messages are handed
// to libpq with PQconsumeInput — its output buffer is empty, so its flush is a no-op — so the
// server never blocks on a full socket while we block sending.
bool CopyStream::server_reported_error() {
    if (_server_error_seen) {
        return true;
    }
    unsigned char window[peek_window_bytes];
    io_uring_sqe* sqe = io_uring_get_sqe(_ring.get());
    PGINGEST_ASSERT(sqe != nullptr);
    io_uring_prep_recv(sqe, _fd, window, sizeof window, MSG_PEEK | MSG_DONTWAIT);
    int peeked = submit_and_wait_one();
    if (peeked == -EAGAIN || peeked == -EINTR) {
        return false;
    }
    if (peeked <= 0) {
        _socket_broken = true;  // 0: the server closed the connection
        return true;
    }
    auto available = static_cast<std::size_t>(peeked);
    std::size_t at = 0;
    while (at + 5 <= available) {
        unsigned char type = window[at];
        if (type != 'N' && type != 'S' && type != 'A') {
            _server_error_seen = true;  // 'E', or anything unexpected: stop and let libpq read it
            return true;
        }
        at += 1 + load_be32(window + at + 1);
    }
    if (PQconsumeInput(_conn.native()) == 0) {
        _socket_broken = true;
        return true;
    }
    return false;
}

std::uint64_t CopyStream::finish() {
    PGINGEST_ASSERT(_active);
    _active = false;
    PGconn* native = _conn.native();
    if (PQputCopyEnd(native, nullptr) != 1) {
        throw_result_error(native, nullptr, "COPY end");
    }
    ResultPtr result(PQgetResult(native));
    while (ResultPtr extra{PQgetResult(native)}) {
        // drain to NULL so the connection is idle again
    }
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        throw_result_error(native, result.get(), "COPY");
    }
    return std::stoull(PQcmdTuples(result.get()));
}

void CopyStream::abort(const std::string& reason) noexcept {
    if (!_active) {
        return;
    }
    _active = false;
    PGconn* native = _conn.native();
    std::string shortened = reason.substr(0, copy_fail_reason_max);
    if (PQputCopyEnd(native, shortened.c_str()) == 1) {
        while (ResultPtr extra{PQgetResult(native)}) {
        }
    }
}

}  // namespace pgingest

namespace pgingest {

void put_query(ByteBuffer& out, std::string_view sql) {
    PGINGEST_ASSERT(sql.find('\0') == std::string_view::npos && sql.size() < 0x3FFFFFF0);
    out.put_u8('Q');
    out.put_u32(static_cast<std::uint32_t>(4 + sql.size() + 1));
    out.put_bytes(sql);
    out.put_u8(0);
}

void put_copy_data(ByteBuffer& out, const char* data, std::size_t size) {
    PGINGEST_ASSERT(size <= 0x3FFFFFFE - 4);
    out.put_u8('d');
    out.put_u32(static_cast<std::uint32_t>(4 + size));
    out.put_bytes(data, size);
}

void put_copy_done(ByteBuffer& out) {
    out.put_u8('c');
    out.put_u32(4);
}

std::vector<PipelinedQuery> CopyStream::run_pipeline(const ByteBuffer& messages,
                                                     std::size_t queries, std::string_view doing) {
    PGINGEST_ASSERT(_io == CopyIo::uring && !_active && queries >= 1);
    _fd = PQsocket(_conn.native());
    _received.clear();
    _answers_done = 0;
    _bytes_sent = 0;
    std::vector<PipelinedQuery> answers(queries);
    const bool sent = pipeline_send(messages);
    pipeline_parse(answers, doing);  // throws the server's own reason when it hung up
    if (!sent) {
        throw ConnectionError(
            std::string(doing) + ": the connection broke while sending a pipeline of COPYs", {},
            true);
    }
    while (_answers_done < queries) {
        if (!pipeline_receive(true)) {
            throw ConnectionError(std::string(doing) +
                                      ": the server closed the connection during a pipeline "
                                      "of COPYs",
                                  {}, true);
        }
        pipeline_parse(answers, doing);
    }
    PGINGEST_ASSERT(_received.empty());  // nothing follows the last ReadyForQuery
    return answers;
}

// Writes all of `messages`; whenever the socket is full, reads what the server answered so far,
// so a server blocked writing its answers never waits for a client blocked writing its data.
// Returns false when the connection broke (what the server said last is in `_received`).
bool CopyStream::pipeline_send(const ByteBuffer& messages) {
    if (send_all(messages.data(), messages.size(), &CopyStream::receive_answers)) {
        return true;
    }
    (void)pipeline_receive(false);  // keep what the server said before it went
    return false;
}

bool CopyStream::receive_answers() {
    return pipeline_receive(false);
}

// Appends what the socket holds to `_received`; with `wait`, waits for at least one byte.
// Returns false at end of stream or on a socket error.
bool CopyStream::pipeline_receive(bool wait) {
    char chunk[16384];
    for (;;) {
        io_uring_sqe* sqe = io_uring_get_sqe(_ring.get());
        PGINGEST_ASSERT(sqe != nullptr);
        io_uring_prep_recv(sqe, _fd, chunk, sizeof chunk, MSG_DONTWAIT);
        int rc = submit_and_wait_one();
        if (rc > 0) {
            _received.append(chunk, static_cast<std::size_t>(rc));
            return true;
        }
        if (rc != -EAGAIN && rc != -EINTR) {
            return false;  // 0: the server closed the connection
        }
        if (!wait) {
            return true;
        }
        sqe = io_uring_get_sqe(_ring.get());
        PGINGEST_ASSERT(sqe != nullptr);
        io_uring_prep_poll_add(sqe, _fd, POLLIN);
        (void)submit_and_wait_one();
    }
}

// Parses the complete messages at the start of `_received` into `answers`. Backend messages:
// protocol.sgml "Message Formats"; the ones a Query of statements and a COPY FROM STDIN get are
// CommandComplete 'C', CopyInResponse 'G', RowDescription 'T', DataRow 'D', EmptyQueryResponse
// 'I', ErrorResponse 'E', ReadyForQuery 'Z', and at any time 'N', 'S', 'A'.
void CopyStream::pipeline_parse(std::vector<PipelinedQuery>& answers, std::string_view doing) {
    std::size_t at = 0;
    while (at + 5 <= _received.size()) {
        const char type = _received[at];
        std::uint32_t length =
            load_be32(reinterpret_cast<const unsigned char*>(_received.data() + at + 1));
        const bool known = std::string_view("CGTDIEZNSA").find(type) != std::string_view::npos;
        if (!known || length < 4 || _answers_done >= answers.size()) {
            throw ConnectionError(std::string(doing) + ": unexpected message type " +
                                      std::to_string(static_cast<unsigned char>(type)) +
                                      " from the server during a pipeline of COPYs",
                                  {}, true);
        }
        if (at + 1 + length > _received.size()) {
            break;  // the rest of this message is still on its way
        }
        std::string_view body(_received.data() + at + 5, length - 4);
        PipelinedQuery& answer = answers[_answers_done];
        if (type == 'G') {
            answer.copy_started = true;
        } else if (type == 'C' && body.starts_with("COPY ")) {
            answer.rows = std::strtoull(std::string(body.substr(5)).c_str(), nullptr, 10);
        } else if (type == 'E') {
            pipeline_error(answer, body, doing);
        } else if (type == 'Z') {
            _answers_done += 1;
        }
        at += 1 + length;
    }
    _received.erase(0, at);
}

// Reads an ErrorResponse body (fields: code byte, NUL-terminated text; then 0) into `answer`,
// worded as throw_result_error words a libpq result. Throws when the connection is ending.
void CopyStream::pipeline_error(PipelinedQuery& answer, std::string_view body,
                                std::string_view doing) {
    std::string sqlstate, primary, detail, hint, context;
    std::size_t at = 0;
    while (at < body.size() && body[at] != '\0') {
        const char code = body[at];
        std::size_t end = body.find('\0', at + 1);
        if (end == std::string_view::npos) {
            end = body.size();
        }
        std::string value(body.substr(at + 1, end - at - 1));
        if (code == 'C') {
            sqlstate = std::move(value);
        } else if (code == 'M') {
            primary = std::move(value);
        } else if (code == 'D') {
            detail = std::move(value);
        } else if (code == 'H') {
            hint = std::move(value);
        } else if (code == 'W') {
            context = std::move(value);
        }
        at = end + 1;
    }
    std::string message = answer.copy_started ? std::string("COPY") : std::string(doing);
    message += ": " + primary;
    if (!sqlstate.empty()) {
        message += " (SQLSTATE " + sqlstate + ")";
    }
    auto append = [&message](const char* label, const std::string& value) {
        if (!value.empty()) {
            message += std::string("\n") + label + value;
        }
    };
    append("DETAIL: ", detail);
    append("HINT: ", hint);
    append("CONTEXT: ", context);
    // As throw_result_error (connection.cpp): these come just before the server hangs up.
    if ((sqlstate.starts_with("08") && sqlstate != "08P01") || sqlstate == "57P01" ||
        sqlstate == "57P02" || sqlstate == "57P03") {
        throw ConnectionError(std::move(message), std::move(sqlstate), true, std::move(context));
    }
    if (!answer.error) {
        answer.error.emplace(std::move(message), std::move(sqlstate), false, std::move(context));
    }
}

}  // namespace pgingest
