#pragma once

#include <cstddef>
#include <string_view>

#include "codecs/status.hpp"

namespace pgingest {

/// Checks that `bytes` is well-formed UTF-8 as the server's verifier sees it
/// (backend/utils/mb/mbutils.c pg_any_to_server → pg_verify_mbstr): no overlong forms, no
/// UTF-16 surrogates (ED A0..BF), nothing above U+10FFFF. NUL bytes pass here; see
/// `validate_text`. Returns `Errc::invalid_utf8` with the offset of the first bad byte.
/// Uses simdjson's SIMD validator; pure, any thread.
[[nodiscard]] Status validate_utf8(std::string_view bytes) noexcept;

/// `validate_utf8` plus the server's refusal of NUL in text (`22021 ... 0x00`): returns
/// `Errc::nul_in_text` with the NUL's offset, or `Errc::invalid_utf8`.
[[nodiscard]] Status validate_text(std::string_view bytes) noexcept;

/// Writes the UTF-8 sequence of `code` (at most U+10FFFF, not a surrogate: the caller decides
/// what a surrogate becomes) at `out`, which has room for 4 bytes; returns its length, 1 to 4
/// (RFC 3629 §3). Pure, any thread.
std::size_t encode_utf8(char* out, char32_t code) noexcept;

}  // namespace pgingest
