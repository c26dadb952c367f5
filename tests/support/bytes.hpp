#pragma once

// Test support without a server: helpers that read encoded fields and COPY BINARY streams, for
// tests that must build with pgingest_codecs alone (tests/codecs) and for the server-checked ones
// (tests/support/pg.hpp includes this).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgingest::test {

/// The data bytes of an encoded field: drops the 4-byte length prefix our encoders write and
/// checks that it matches the data size.
std::string field_data(std::string_view encoded_field);

/// The big-endian int32 at byte `at` of `bytes` (which must hold 4 bytes there).
std::int32_t read_i32(std::string_view bytes, std::size_t at);

/// The data of every one-column tuple of a COPY BINARY stream (as `COPY (SELECT x ...) TO STDOUT
/// (FORMAT binary)` writes it), in order; nullopt for a NULL field.
std::vector<std::optional<std::string>> stream_fields(std::string_view stream);

/// Bytes as lowercase hex pairs separated by spaces ("00 01 ff"), for readable test failures.
std::string hex(std::string_view bytes);

}  // namespace pgingest::test
