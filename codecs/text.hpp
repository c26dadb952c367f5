#pragma once

// Text-like types and bytea (FORMATS.md §2.3, §2.5).
//
//   text, varchar, bpchar, name, json : [length:i32][UTF-8 bytes:length]   no terminator
//   bytea                             : [length:i32][bytes:length]         any content
//
// Server side: varlena.c textrecv, varchar.c varcharrecv/bpcharrecv, name.c namerecv and
// json.c json_recv read the bytes with pq_getmsgtext, which converts from client_encoding and
// always verifies them (mbutils.c pg_any_to_server → pg_verify_mbstr): invalid UTF-8 and NUL
// give 22021. The engine pins client_encoding=UTF8, so we send UTF-8 and check it the same way
// (`validate_text`). varlena.c bytearecv takes the bytes as they are.

#include <cstddef>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Bytes the text-like encoders append for `text_size_bytes` bytes of input (length prefix
/// included; clipping in `encode_varchar` only makes it shorter). Pure.
constexpr std::size_t text_encoded_size_max(std::size_t text_size_bytes) noexcept {
    return 4 + text_size_bytes;
}

/// Appends a text field (also right for unconstrained varchar and for citext-like types whose
/// recv is textrecv; varlena.c textrecv). Errors, buffer unchanged: `Errc::invalid_utf8` or
/// `Errc::nul_in_text` at the offending byte (server: 22021), `Errc::field_too_large` (position
/// 0) over `copy_field_size_max` bytes. Allocates only if `out` must grow; pure, any thread.
[[nodiscard]] Status encode_text(ByteBuffer& out, std::string_view text);

/// Appends a varchar(n) field with the server's length rule (varchar.c varchar_input, called by
/// varcharrecv with the column's typmod n+4): the limit counts characters, not bytes; a value
/// over `length_max_chars` characters is clipped to that many when every excess character is a
/// space (U+0020), else `Errc::string_too_long` (server: 22001) at the byte offset of the first
/// character past the limit. UTF-8/NUL errors as `encode_text`, checked first as the server does.
/// `length_max_chars` ≥ 1 (varchar(0) does not exist); for plain varchar use `encode_text`.
[[nodiscard]] Status encode_varchar(ByteBuffer& out, std::string_view text,
                                    std::size_t length_max_chars);

/// Appends a char(n) field: the same rule as `encode_varchar` (varchar.c bpchar_input, called by
/// bpcharrecv). The value is sent unpadded; the server pads it with spaces to n characters.
[[nodiscard]] Status encode_bpchar(ByteBuffer& out, std::string_view text,
                                   std::size_t length_max_chars);

/// Appends a name field (name.c namerecv). A value of 64 bytes or more (NAMEDATALEN) is
/// `Errc::string_too_long` at byte 63 (server: 42622 identifier too long); UTF-8/NUL errors as
/// `encode_text`.
[[nodiscard]] Status encode_name(ByteBuffer& out, std::string_view text);

/// Finishes a text field its caller wrote in place (a huge value unescaped straight into the
/// tuple, no copy): `out` holds a 4-byte length placeholder at `field_at` followed by the
/// field's bytes up to its end. Checks them as `encode_text` (`length_max_chars` 0),
/// `encode_varchar`/`encode_bpchar` (the limit) or `encode_name` (`name`) do, with the same
/// Status, clips trailing spaces as they do, and patches the length. On failure `out` is
/// truncated to `field_at`; the bytes stay in its spare capacity, readable (for the message)
/// until the next write to `out`.
[[nodiscard]] Status finish_text_in_place(ByteBuffer& out, std::size_t field_at,
                                          std::size_t length_max_chars, bool name);

/// Appends a bytea field: the bytes as they are, NUL and every other value included
/// (varlena.c bytearecv). Only error: `Errc::field_too_large` over `copy_field_size_max` bytes,
/// buffer unchanged.
[[nodiscard]] Status encode_bytea(ByteBuffer& out, std::string_view bytes);

/// Appends a `json` field: the JSON text with NO version byte (json.c json_recv; jsonb is
/// another codec). Checks only what `encode_text` checks; the server also parses the JSON
/// (22P02 on invalid syntax), which is the JSON writer's business, not this function's.
[[nodiscard]] Status encode_json(ByteBuffer& out, std::string_view json_text);

}  // namespace pgingest
