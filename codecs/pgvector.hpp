#pragma once

// pgvector's binary formats (FORMATS.md §4), as read by pgvector (github.com/pgvector/pgvector,
// commit e48241b): src/vector.c vector_recv / vector_send, src/halfvec.c halfvec_recv /
// halfvec_send (+ pq_getmsghalf), src/sparsevec.c sparsevec_recv / sparsevec_send.
//
//   vector   : [dim:u16][unused:u16=0][x:f32 × dim]                       4 + 4·dim data bytes
//   halfvec  : [dim:u16][unused:u16=0][x:f16 × dim]  IEEE binary16        4 + 2·dim
//   sparsevec: [dim:i32][nnz:i32][unused:i32=0][index:i32 × nnz][value:f32 × nnz]
//              indices 0-based, strictly ascending, < dim; values finite and non-zero
//
// Everything is big-endian. Each encoder appends a whole COPY field: [length:i32][data].
// These types have no fixed OIDs and none are written here: a plain COPY field carries no OID,
// and the engine looks the OIDs up at run time where arrays need them (FORMATS.md §4.6).
// The server's checks (CheckDim, CheckExpectedDim, CheckElement, CheckNnz, CheckIndex) are
// repeated here before anything is written, so a refused value never reaches the server.

#include <cstddef>
#include <cstdint>
#include <span>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// Most dimensions of a vector (`VECTOR_MAX_DIM`, src/vector.h).
inline constexpr std::size_t vector_dim_max = 16000;

/// Most dimensions of a halfvec (`HALFVEC_MAX_DIM`, src/halfvec.h).
inline constexpr std::size_t halfvec_dim_max = 16000;

/// Most dimensions of a sparsevec (`SPARSEVEC_MAX_DIM`, src/sparsevec.h).
inline constexpr std::int32_t sparsevec_dim_max = 1'000'000'000;

/// Most non-zero elements of a sparsevec (`SPARSEVEC_MAX_NNZ`, src/sparsevec.h).
inline constexpr std::size_t sparsevec_nnz_max = 16000;

/// Bytes `encode_vector` appends for `dim` elements, length prefix included: 8 + 4·dim.
[[nodiscard]] constexpr std::size_t vector_encoded_size_max(std::size_t dim) noexcept {
    return 4 + 4 + 4 * dim;
}

/// Bytes `encode_halfvec` appends for `dim` elements, length prefix included: 8 + 2·dim.
[[nodiscard]] constexpr std::size_t halfvec_encoded_size_max(std::size_t dim) noexcept {
    return 4 + 4 + 2 * dim;
}

/// Most bytes `encode_sparsevec` appends for `count` (index, value) pairs, length prefix
/// included: 16 + 8·count (fewer when zero values are dropped).
[[nodiscard]] constexpr std::size_t sparsevec_encoded_size_max(std::size_t count) noexcept {
    return 4 + 12 + 8 * count;
}

/// Appends a `vector` field holding `values` (layout of pgvector `vector_recv`, src/vector.c).
///
/// `typmod_dim` is the column's declared dimension (`vector(3)` → 3; the typmod itself), or -1
/// for an unconstrained `vector`. Errors, checked before anything is written, so the buffer is
/// unchanged on failure:
/// - `vector_empty` (position 0): no values;
/// - `vector_too_many_dims` (position 16000): more than `vector_dim_max` values;
/// - `vector_dim_mismatch` (position min(dim, typmod_dim)): dim ≠ typmod_dim;
/// - `vector_nan` / `vector_infinite` (position = element index): a NaN / ±Inf element.
/// -0.0 and subnormals are kept bit for bit. Pure, any thread; allocates only when `out` must grow.
/// Speed: one pass that byte-swaps and tests finiteness, SIMD on x86-64.
[[nodiscard]] Status encode_vector(ByteBuffer& out, std::span<const float> values,
                                   std::int32_t typmod_dim = -1);

/// Rounds a float to IEEE binary16 (round to nearest, ties to even), as the raw 16 bits.
///
/// Meant for finite inputs with |x| < 65520 (what `encode_halfvec` accepts): larger values give
/// ±Inf (0x7C00 | sign), NaN gives a quiet NaN (0x7E00 | sign). Subnormal halves (down to 2^-24)
/// are exact; values at most 2^-25 round to ±0. Portable integer code; pure, any thread.
[[nodiscard]] std::uint16_t float_to_half(float value) noexcept;

/// Appends a `halfvec` field holding `values` rounded to binary16 with round-to-nearest-even
/// (layout of pgvector `halfvec_recv` + `pq_getmsghalf`, src/halfvec.c).
///
/// `typmod_dim` as for `encode_vector`. Errors (buffer unchanged): `vector_empty`,
/// `vector_too_many_dims` (over `halfvec_dim_max`), `vector_dim_mismatch`, `vector_nan`,
/// `vector_infinite`, and `halfvec_overflow` for a finite value with |x| ≥ 65520, which would
/// round to infinity (65519.99 still rounds to 65504, the largest half). Element errors carry
/// the element index as position. Pure, any thread; allocates only when `out` must grow.
[[nodiscard]] Status encode_halfvec(ByteBuffer& out, std::span<const float> values,
                                    std::int32_t typmod_dim = -1);

/// Appends a `sparsevec` field of dimension `dim` whose non-zero elements are `values` at the
/// 0-based `indices` (layout of pgvector `sparsevec_recv`, src/sparsevec.c; the text form
/// `{1:1.5}/5` is 1-based, the binary form is 0-based).
///
/// `indices` and `values` must have the same length (programmer error otherwise). Zero values
/// (+0.0 and -0.0) are dropped, because the server refuses them ("binary representation of
/// sparsevec cannot contain zero values"). Errors (buffer unchanged):
/// - `vector_empty` / `vector_too_many_dims` (position 0): dim < 1 / dim > 1e9;
/// - `vector_dim_mismatch` (position 0): typmod_dim ≥ 0 and dim ≠ typmod_dim;
/// - `sparsevec_index_out_of_bounds` (position i): indices[i] < 0 or ≥ dim;
/// - `sparsevec_index_order` (position i): indices[i] ≤ indices[i-1] (unordered or duplicate),
///   checked on all pairs given, zero values included;
/// - `vector_nan` / `vector_infinite` (position i): values[i] is NaN / ±Inf;
/// - `sparsevec_too_many_nonzero` (position of the 16001st non-zero value).
/// Pure, any thread; allocates only when `out` must grow.
[[nodiscard]] Status encode_sparsevec(ByteBuffer& out, std::int32_t dim,
                                      std::span<const std::int32_t> indices,
                                      std::span<const float> values,
                                      std::int32_t typmod_dim = -1);

/// Appends a `sparsevec` field holding the dense `values` (dim = values.size(), zeros dropped).
/// Errors as `encode_sparsevec`, positions being indices into `values`. Pure, any thread.
[[nodiscard]] Status encode_sparsevec_dense(ByteBuffer& out, std::span<const float> values,
                                            std::int32_t typmod_dim = -1);

}  // namespace pgingest
