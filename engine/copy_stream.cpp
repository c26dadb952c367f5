#include "engine/copy_stream.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "codecs/assert.hpp"

namespace pgingest {

namespace {

struct ResultDeleter {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// CopyFail messages over 10 000 bytes kill the connection (PQ_SMALL_MESSAGE_LIMIT; FORMATS §5.4).
constexpr std::size_t copy_fail_reason_max = 1000;

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
    // Blocking mode: 1 = queued, -1 = error (the cause comes from PQgetResult in finish()).
    if (PQputCopyData(_conn.native(), payload, static_cast<int>(payload_size)) != 1) {
        _socket_broken = true;
        return false;
    }
    _bytes_sent += payload_size + copy_data_header_size;
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
    std::size_t offset = 0;
    while (offset < size) {
        io_uring_sqe* sqe = io_uring_get_sqe(_ring.get());
        PGINGEST_ASSERT(sqe != nullptr);  // one operation in flight at a time
        io_uring_prep_send(sqe, _fd, data + offset, size - offset, MSG_NOSIGNAL);
        int rc = submit_and_wait_one();
        if (rc > 0) {
            // A short send is normal on a nonblocking socket: send the rest before anything else.
            offset += static_cast<std::size_t>(rc);
            _bytes_sent += static_cast<std::uint64_t>(rc);
            continue;
        }
        if (rc == -EAGAIN || rc == -EINTR) {
            // The socket buffer is full: wait until it drains or the server says something.
            sqe = io_uring_get_sqe(_ring.get());
            PGINGEST_ASSERT(sqe != nullptr);
            io_uring_prep_poll_add(sqe, _fd, POLLOUT | POLLIN);
            int events = submit_and_wait_one();
            if (events > 0 && (events & POLLIN) != 0) {
                (void)server_reported_error();  // noted; the message is still finished
            }
            continue;
        }
        // EPIPE, ECONNRESET, ...: the connection is gone; finish() collects the server's reason.
        _socket_broken = true;
        return false;
    }
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
