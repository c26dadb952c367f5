#pragma once

// One COPY ... FROM STDIN (FORMAT binary) on one connection, with its data sent either by libpq
// (PQputCopyData) or straight from the batch buffer to the socket through io_uring, bypassing
// libpq's output buffer (FORMATS.md §6 option B). libpq always does the start and the end of the
// COPY: the query, CopyDone through PQputCopyEnd, and the result.
//
// CopyData message, framed in place at the start of each batch buffer (protocol.sgml, "COPY
// Operations"; server side: backend/commands/copyfromparse.c CopyGetData()):
//
//   ['d':u8][length:i32 = 4 + n][n bytes of the COPY BINARY stream]
//
// Frame boundaries are arbitrary: a tuple may span two messages.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/buffer.hpp"
#include "engine/connection.hpp"

// liburing.h pulls in linux/fs.h, whose BLOCK_SIZE macro breaks other headers (moodycamel's
// concurrentqueue.h): keep it out of this header.
struct io_uring;

namespace pgingest {

/// How a COPY's data reaches the socket.
enum class CopyIo : std::uint8_t {
    /// io_uring SENDs straight from the batch buffer; server messages are peeked through
    /// io_uring so an error sent mid-COPY is seen at once. Needs a connection without TLS or
    /// GSS encryption; on such a connection `CopyStream` uses `libpq` instead.
    uring,
    /// libpq's PQputCopyData in blocking mode: every byte is copied into libpq's buffer, and a
    /// server error shows only after PQputCopyEnd (FORMATS.md §5.4). The baseline.
    libpq,
};

/// Bytes of the CopyData header a batch buffer reserves in front of its stream bytes.
inline constexpr std::size_t copy_data_header_size = 5;

/// Starts a CopyData message in an empty batch buffer: type byte 'd' and a length placeholder.
void begin_copy_data(ByteBuffer& batch);

/// Patches the CopyData length for everything written since `begin_copy_data`. The message
/// must stay below the server's 1 GiB limit (PQ_LARGE_MESSAGE_LIMIT, include/libpq/libpq.h).
void end_copy_data(ByteBuffer& batch);

/// Appends a Query message (simple protocol: `['Q':u8][length:i32][sql][0:u8]`) to `out`;
/// protocol.sgml "Message Formats", read by tcop/postgres.c SocketBackend().
void put_query(ByteBuffer& out, std::string_view sql);

/// Appends a CopyData message carrying `size` bytes of COPY stream at `data` to `out`.
void put_copy_data(ByteBuffer& out, const char* data, std::size_t size);

/// Appends a CopyDone message (`['c':u8][length:i32 = 4]`) to `out`.
void put_copy_done(ByteBuffer& out);

/// What became of one Query message of a pipeline (`CopyStream::run_pipeline`).
struct PipelinedQuery {
    /// The server began the Query's COPY (CopyInResponse): every statement before it succeeded.
    bool copy_started = false;
    /// The row count of CommandComplete `COPY n` when the COPY succeeded.
    std::uint64_t rows = 0;
    /// The error that ended the Query, if any, worded as `CopyStream::finish` words it.
    std::optional<ServerError> error;
};

/// One COPY FROM STDIN on `conn`: `start`, any number of `send`, then `finish` (or `abort`).
///
/// Owns an io_uring of its own in `CopyIo::uring` mode. The connection must be idle and in
/// blocking mode, and must not be used by anyone else until `finish`/`abort` returned. One thread.
/// Throws `ServerError` when the server refuses the COPY, `ConnectionError` when the connection
/// breaks, `Error` when io_uring cannot be set up.
class CopyStream {
  public:
    CopyStream(Connection& conn, CopyIo io);
    ~CopyStream();
    CopyStream(const CopyStream&) = delete;
    CopyStream& operator=(const CopyStream&) = delete;

    /// Sends `sql` and waits for CopyInResponse. `sql` ends with the COPY statement and may
    /// start with other statements (`BEGIN; SELECT txid_current(); SAVEPOINT s; COPY ...`), all
    /// in one Query message: one round trip. The first value of the first row any of them
    /// returns is stored in `*first_value` when given. Throws `ServerError` (e.g. 42P01 for a
    /// missing table) or `ConnectionError` without leaving the connection in COPY; statements
    /// after a failed one are skipped by the server.
    void start(const std::string& sql, std::string* first_value = nullptr);

    /// Sends one CopyData message framed in place (`begin_copy_data` … `end_copy_data`).
    /// Returns false, sending nothing more, once the server has reported an error; `finish`
    /// then throws that error. A frame already begun is always sent whole, since a partial
    /// message would desynchronise the protocol. Blocks until the kernel accepted the bytes.
    [[nodiscard]] bool send(const ByteBuffer& framed_batch);

    /// Sends `size` bytes of COPY stream as one CopyData message, its header written separately
    /// (for re-sending part of a batch). Same contract as `send`.
    [[nodiscard]] bool send_slice(const char* data, std::size_t size);

    /// Ends the COPY (CopyDone via PQputCopyEnd) and returns the server's row count from
    /// CommandComplete (`COPY n`). Throws `ServerError` with SQLSTATE, message and CONTEXT
    /// (`COPY t, line N`: the 1-based tuple ordinal) when the server refused the data.
    std::uint64_t finish();

    /// Ends the COPY with CopyFail (`reason`, shortened to stay under the server's 10 000-byte
    /// limit); the server rolls the COPY back. Never throws; the connection stays usable unless
    /// it was already broken.
    void abort(const std::string& reason) noexcept;

    /// Writes `messages` (`queries` Query messages, each ending with a COPY FROM STDIN, each
    /// followed by its CopyData and CopyDone: `put_query`, `put_copy_data`, `put_copy_done`) to
    /// the socket at once, without waiting for the server between them, and reads every answer
    /// up to the last ReadyForQuery: one round trip for many COPYs. The server runs the Queries
    /// in order; after a failed one it drops that Query's CopyData and CopyDone (postgres.c
    /// PostgresMain: "Accept but ignore these messages"), and in a failed transaction a later
    /// Query fails at its first statement with 25P02. Returns one entry per Query, in order.
    ///
    /// Only with `io() == CopyIo::uring` (the engine owns the socket: no TLS), outside a COPY,
    /// on an idle connection; libpq sees none of it, so its transaction status is stale after.
    /// NoticeResponse, ParameterStatus and NotificationResponse are dropped. `doing` prefixes
    /// errors of the statements before a COPY. Throws `ConnectionError` when the connection
    /// breaks or the server ends it (class 08 but 08P01, 57P01-57P03), `Error` when io_uring
    /// fails; the connection is then unusable.
    [[nodiscard]] std::vector<PipelinedQuery> run_pipeline(const ByteBuffer& messages,
                                                           std::size_t queries,
                                                           std::string_view doing);

    /// Forgets an open COPY without talking to the server: for a connection that is gone and
    /// about to be replaced. Never throws.
    void reset() noexcept { _active = false; }

    /// The I/O path in use: `uring` only if asked for and the connection allows it.
    [[nodiscard]] CopyIo io() const noexcept { return _io; }
    /// CopyData bytes handed to the kernel (or to libpq), headers included.
    [[nodiscard]] std::uint64_t bytes_sent() const noexcept { return _bytes_sent; }
    /// True once the server reported an error before `finish`.
    [[nodiscard]] bool server_error_seen() const noexcept { return _server_error_seen; }

  private:
    bool send_uring(const char* header, std::size_t header_size, const char* data,
                    std::size_t size);
    bool write_all(const char* data, std::size_t size);
    bool send_all(const char* data, std::size_t size, bool (CopyStream::*on_readable)());
    bool note_server_message();
    bool receive_answers();
    bool send_libpq(const char* payload, std::size_t payload_size);
    [[nodiscard]] bool server_reported_error();
    [[nodiscard]] int submit_and_wait_one();
    [[nodiscard]] bool pipeline_send(const ByteBuffer& messages);
    [[nodiscard]] bool pipeline_receive(bool wait);
    void pipeline_parse(std::vector<PipelinedQuery>& answers, std::string_view doing);
    void pipeline_error(PipelinedQuery& answer, std::string_view body, std::string_view doing);

    Connection& _conn;
    CopyIo _io;
    std::unique_ptr<io_uring> _ring;  // null on the libpq path
    bool _active = false;
    bool _server_error_seen = false;
    bool _socket_broken = false;
    int _fd = -1;
    std::uint64_t _bytes_sent = 0;
    std::string _received;          // server messages read by `run_pipeline`, not yet parsed
    std::size_t _answers_done = 0;  // ReadyForQuery messages parsed by `run_pipeline`
};

}  // namespace pgingest
