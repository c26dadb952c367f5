#include "codecs/pgvector.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "codecs/detail/pgvector_kernels.hpp"

namespace pgingest {

namespace {

using detail::f32_abs_mask;
using detail::f32_exponent_mask;
using detail::float_bits;
using detail::half_overflow_bits;
using detail::is_nonfinite;

// Smallest normal half, 2^-14, as float32 bits.
constexpr std::uint32_t half_normal_min_bits = 0x38800000u;

// Shared by the three types: the status of a bad element (NaN or ±Inf) at `index`.
[[nodiscard]] Status nonfinite_status(std::uint32_t bits, std::size_t index) noexcept {
    Errc code = (bits & f32_abs_mask) > f32_exponent_mask ? Errc::vector_nan
                                                           : Errc::vector_infinite;
    return Status{code, static_cast<std::uint32_t>(index)};
}

// pgvector CheckDim + CheckExpectedDim for vector and halfvec (src/vector.c, src/halfvec.c).
[[nodiscard]] Status check_dense_dim(std::size_t dim, std::size_t dim_max,
                                     std::int32_t typmod_dim) noexcept {
    if (dim == 0) {
        return Status{Errc::vector_empty, 0};
    }
    if (dim > dim_max) {
        return Status{Errc::vector_too_many_dims, static_cast<std::uint32_t>(dim_max)};
    }
    if (typmod_dim >= 0 && dim != static_cast<std::size_t>(typmod_dim)) {
        std::size_t first_difference = std::min(dim, static_cast<std::size_t>(typmod_dim));
        return Status{Errc::vector_dim_mismatch, static_cast<std::uint32_t>(first_difference)};
    }
    return Status{};
}

// Writes [length:i32][dim:u16][unused:u16=0] at `at`.
void store_dense_header(char* at, std::size_t data_size, std::size_t dim) noexcept {
    ByteBuffer::store_be(at, static_cast<std::uint32_t>(data_size));
    ByteBuffer::store_be(at + 4, static_cast<std::uint16_t>(dim));
    ByteBuffer::store_be(at + 6, std::uint16_t{0});
}

// Byte-swaps count floats from in to out (big-endian); returns true when all are finite.
[[nodiscard]] bool store_be_f32_finite(char* out, const float* in, std::size_t count) noexcept {
#if defined(__x86_64__)
    if (detail::cpu_has_avx2()) {
        return detail::store_be_f32_avx2(out, in, count) == 0;
    }
    return detail::store_be_f32_sse2(out, in, count) == 0;
#else
    return detail::store_be_f32_scalar(out, in, count) == 0;
#endif
}

// Subnormal half (or zero) for |x| < 2^-14 given as float32 bits without sign: the value is
// q · 2^-24 with q = mantissa · 2^(exponent - 150 + 24), rounded to nearest, ties to even.
[[nodiscard]] std::uint32_t half_subnormal(std::uint32_t abs_bits) noexcept {
    std::uint32_t exponent = abs_bits >> 23;
    if (exponent < 102) {
        return 0;  // |x| < 2^-25: below half of the smallest subnormal half
    }
    std::uint32_t mantissa = (abs_bits & 0x007FFFFFu) | 0x00800000u;
    std::uint32_t shift = 126 - exponent;  // 14 … 24
    std::uint32_t q = mantissa >> shift;
    std::uint32_t rest = mantissa & ((1u << shift) - 1);
    std::uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (q & 1u) != 0)) {
        q += 1;  // may carry into 0x400, which is the smallest normal half: still right
    }
    return q;
}

}  // namespace

std::uint16_t float_to_half(float value) noexcept {
    auto bits = std::bit_cast<std::uint32_t>(value);
    std::uint32_t sign = (bits >> 16) & 0x8000u;
    std::uint32_t abs_bits = bits & f32_abs_mask;
    std::uint32_t half;
    if (abs_bits > f32_exponent_mask) {
        half = 0x7E00u;
    } else if (abs_bits >= half_overflow_bits) {
        half = 0x7C00u;
    } else if (abs_bits >= half_normal_min_bits) {
        // Rebias the exponent (127 → 15), then round the 13 dropped mantissa bits to nearest
        // even: adding 0xFFF plus the lowest kept bit carries exactly when it should.
        std::uint32_t odd = (abs_bits >> 13) & 1u;
        half = (abs_bits - ((127u - 15u) << 23) + 0xFFFu + odd) >> 13;
    } else {
        half = half_subnormal(abs_bits);
    }
    return static_cast<std::uint16_t>(sign | half);
}

namespace {


// Rounds count floats to binary16 into out (big-endian); true when every one is representable.
[[nodiscard]] bool store_be_f16_representable(char* out, const float* in,
                                              std::size_t count) noexcept {
#if defined(__x86_64__)
    if (detail::cpu_has_avx2_f16c()) {
        return detail::store_be_f16_f16c(out, in, count) == 0;
    }
#endif
    return detail::store_be_f16_scalar(out, in, count) == 0;
}

}  // namespace

Status encode_vector(ByteBuffer& out, std::span<const float> values, std::int32_t typmod_dim) {
    Status status = check_dense_dim(values.size(), vector_dim_max, typmod_dim);
    if (!status.ok()) {
        return status;
    }
    std::size_t start = out.size();
    char* at = out.extend(vector_encoded_size_max(values.size()));
    store_dense_header(at, 4 + 4 * values.size(), values.size());
    if (store_be_f32_finite(at + 8, values.data(), values.size())) [[likely]] {
        return Status{};
    }
    out.truncate(start);
    for (std::size_t i = 0; i < values.size(); i++) {
        std::uint32_t bits = float_bits(values.data() + i);
        if (is_nonfinite(bits)) {
            return nonfinite_status(bits, i);
        }
    }
    PGINGEST_ASSERT(false);  // the SIMD pass saw a non-finite value that the scalar one did not
    return Status{};
}

Status encode_halfvec(ByteBuffer& out, std::span<const float> values, std::int32_t typmod_dim) {
    Status status = check_dense_dim(values.size(), halfvec_dim_max, typmod_dim);
    if (!status.ok()) {
        return status;
    }
    std::size_t start = out.size();
    char* at = out.extend(halfvec_encoded_size_max(values.size()));
    store_dense_header(at, 4 + 2 * values.size(), values.size());
    if (store_be_f16_representable(at + 8, values.data(), values.size())) [[likely]] {
        return Status{};
    }
    out.truncate(start);
    for (std::size_t i = 0; i < values.size(); i++) {
        std::uint32_t bits = float_bits(values.data() + i);
        if (is_nonfinite(bits)) {
            return nonfinite_status(bits, i);
        }
        if ((bits & f32_abs_mask) >= half_overflow_bits) {
            return Status{Errc::halfvec_overflow, static_cast<std::uint32_t>(i)};
        }
    }
    PGINGEST_ASSERT(false);  // the first pass and this one disagree
    return Status{};
}

namespace {

// pgvector CheckDim + CheckExpectedDim for sparsevec (src/sparsevec.c).
[[nodiscard]] Status check_sparse_dim(std::int64_t dim, std::int32_t typmod_dim) noexcept {
    if (dim < 1) {
        return Status{Errc::vector_empty, 0};
    }
    if (dim > sparsevec_dim_max) {
        return Status{Errc::vector_too_many_dims, 0};
    }
    if (typmod_dim >= 0 && dim != typmod_dim) {
        return Status{Errc::vector_dim_mismatch, 0};
    }
    return Status{};
}

// Checks one value (CheckElement, src/sparsevec.c) and counts it when non-zero.
[[nodiscard]] Status count_nonzero(float value, std::size_t index, std::size_t& nonzero) noexcept {
    auto bits = std::bit_cast<std::uint32_t>(value);
    if (is_nonfinite(bits)) {
        return nonfinite_status(bits, index);
    }
    if (value != 0.0f) {
        nonzero += 1;
        if (nonzero > sparsevec_nnz_max) {
            return Status{Errc::sparsevec_too_many_nonzero, static_cast<std::uint32_t>(index)};
        }
    }
    return Status{};
}

// Writes [length][dim][nnz][unused=0] and reserves room for nnz indices and values; returns
// where the indices start.
[[nodiscard]] char* put_sparse_header(ByteBuffer& out, std::int32_t dim, std::size_t nonzero) {
    char* at = out.extend(sparsevec_encoded_size_max(nonzero));
    ByteBuffer::store_be(at, static_cast<std::uint32_t>(12 + 8 * nonzero));
    ByteBuffer::store_be(at + 4, static_cast<std::uint32_t>(dim));
    ByteBuffer::store_be(at + 8, static_cast<std::uint32_t>(nonzero));
    ByteBuffer::store_be(at + 12, std::uint32_t{0});
    return at + 16;
}

}  // namespace

Status encode_sparsevec(ByteBuffer& out, std::int32_t dim, std::span<const std::int32_t> indices,
                        std::span<const float> values, std::int32_t typmod_dim) {
    PGINGEST_ASSERT(indices.size() == values.size());
    Status status = check_sparse_dim(dim, typmod_dim);
    if (!status.ok()) {
        return status;
    }
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < indices.size(); i++) {
        auto at = static_cast<std::uint32_t>(i);
        if (indices[i] < 0 || indices[i] >= dim) {
            return Status{Errc::sparsevec_index_out_of_bounds, at};
        }
        if (i > 0 && indices[i] <= indices[i - 1]) {
            return Status{Errc::sparsevec_index_order, at};
        }
        status = count_nonzero(values[i], i, nonzero);
        if (!status.ok()) {
            return status;
        }
    }
    char* at = put_sparse_header(out, dim, nonzero);
    std::size_t k = 0;
    for (std::size_t i = 0; i < indices.size(); i++) {
        if (values[i] != 0.0f) {
            ByteBuffer::store_be(at + 4 * k, static_cast<std::uint32_t>(indices[i]));
            ByteBuffer::store_be(at + 4 * (nonzero + k), std::bit_cast<std::uint32_t>(values[i]));
            k += 1;
        }
    }
    return Status{};
}

Status encode_sparsevec_dense(ByteBuffer& out, std::span<const float> values,
                              std::int32_t typmod_dim) {
    Status status = check_sparse_dim(static_cast<std::int64_t>(values.size()), typmod_dim);
    if (!status.ok()) {
        return status;
    }
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < values.size(); i++) {
        status = count_nonzero(values[i], i, nonzero);
        if (!status.ok()) {
            return status;
        }
    }
    char* at = put_sparse_header(out, static_cast<std::int32_t>(values.size()), nonzero);
    std::size_t k = 0;
    for (std::size_t i = 0; i < values.size(); i++) {
        if (values[i] != 0.0f) {
            ByteBuffer::store_be(at + 4 * k, static_cast<std::uint32_t>(i));
            ByteBuffer::store_be(at + 4 * (nonzero + k), std::bit_cast<std::uint32_t>(values[i]));
            k += 1;
        }
    }
    return Status{};
}

}  // namespace pgingest
