#include "codecs/pgvector.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pgingest {

namespace {

// A float32 whose exponent bits are all ones is ±Inf or NaN (pgvector CheckElement rejects both).
constexpr std::uint32_t f32_exponent_mask = 0x7F800000u;
constexpr std::uint32_t f32_abs_mask = 0x7FFFFFFFu;

// Smallest |x| (as float32 bits) that rounds to infinity in binary16: 65520 is the tie between
// 65504 (largest half, odd mantissa) and 65536, and ties go to even, i.e. up.
constexpr std::uint32_t half_overflow_bits = 0x477FF000u;

// Smallest normal half, 2^-14, as float32 bits.
constexpr std::uint32_t half_normal_min_bits = 0x38800000u;

[[nodiscard]] std::uint32_t float_bits(const float* at) noexcept {
    std::uint32_t bits;
    std::memcpy(&bits, at, sizeof bits);
    return bits;
}

[[nodiscard]] bool is_nonfinite(std::uint32_t bits) noexcept {
    return (bits & f32_exponent_mask) == f32_exponent_mask;
}

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

// Byte-swaps count floats into out; returns non-zero when any of them is NaN or ±Inf.
std::uint32_t store_be_f32_scalar(char* out, const float* in, std::size_t count) noexcept {
    std::uint32_t nonfinite = 0;
    for (std::size_t i = 0; i < count; i++) {
        std::uint32_t bits = float_bits(in + i);
        nonfinite |= static_cast<std::uint32_t>(is_nonfinite(bits));
        ByteBuffer::store_be(out + 4 * i, bits);
    }
    return nonfinite;
}

#if defined(__x86_64__)

// GCC 12 does not auto-vectorise the scalar loop for baseline x86-64 (no byte shuffle before
// SSSE3; -fopt-info-vec: "relevant stmt not supported"), so the swap is spelled out. SSE2 is part
// of x86-64: swap the 16-bit halves with pshuflw/pshufhw, then the bytes with shifts.
std::uint32_t store_be_f32_sse2(char* out, const float* in, std::size_t count) noexcept {
    const __m128i exponent = _mm_set1_epi32(static_cast<int>(f32_exponent_mask));
    __m128i nonfinite = _mm_setzero_si128();
    std::size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
        nonfinite = _mm_or_si128(nonfinite, _mm_cmpeq_epi32(_mm_and_si128(x, exponent), exponent));
        __m128i halves = _mm_shufflehi_epi16(_mm_shufflelo_epi16(x, 0xB1), 0xB1);
        __m128i swapped = _mm_or_si128(_mm_slli_epi16(halves, 8), _mm_srli_epi16(halves, 8));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 * i), swapped);
    }
    auto found = static_cast<std::uint32_t>(_mm_movemask_epi8(nonfinite));
    return found | store_be_f32_scalar(out + 4 * i, in + i, count - i);
}

// The same with AVX2 (one byte shuffle per 8 floats), used when the CPU has it.
__attribute__((target("avx2"))) std::uint32_t store_be_f32_avx2(char* out, const float* in,
                                                                std::size_t count) noexcept {
    const __m256i exponent = _mm256_set1_epi32(static_cast<int>(f32_exponent_mask));
    const __m256i swap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
                                          3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
    __m256i nonfinite = _mm256_setzero_si256();
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
        nonfinite = _mm256_or_si256(nonfinite,
                                    _mm256_cmpeq_epi32(_mm256_and_si256(x, exponent), exponent));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4 * i), _mm256_shuffle_epi8(x, swap));
    }
    auto found = static_cast<std::uint32_t>(_mm256_movemask_epi8(nonfinite));
    return found | store_be_f32_scalar(out + 4 * i, in + i, count - i);
}

// Read once at start-up; __builtin_cpu_init makes it safe whatever the constructor order.
const bool cpu_has_avx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}();

#endif

// Byte-swaps count floats from in to out (big-endian); returns true when all are finite.
[[nodiscard]] bool store_be_f32_finite(char* out, const float* in, std::size_t count) noexcept {
#if defined(__x86_64__)
    if (cpu_has_avx2) {
        return store_be_f32_avx2(out, in, count) == 0;
    }
    return store_be_f32_sse2(out, in, count) == 0;
#else
    return store_be_f32_scalar(out, in, count) == 0;
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

// Rounds count floats to binary16 and stores them big-endian; returns non-zero when any of them
// is NaN, ±Inf or rounds to ±Inf (|x| ≥ 65520).
std::uint32_t store_be_f16_scalar(char* out, const float* in, std::size_t count) noexcept {
    std::uint32_t too_large = 0;
    for (std::size_t i = 0; i < count; i++) {
        std::uint32_t abs_bits = float_bits(in + i) & f32_abs_mask;
        too_large |= static_cast<std::uint32_t>(abs_bits >= half_overflow_bits);
        ByteBuffer::store_be(out + 2 * i, float_to_half(in[i]));
    }
    return too_large;
}

#if defined(__x86_64__)

// The same with F16C (vcvtps2ph, immediate round-to-nearest-even, so MXCSR plays no part). The
// slow test in tests/codecs/pgvector_test.cpp shows float_to_half equals vcvtps2ph on all 2^32
// inputs, so both paths write the same bytes for every value they accept.
__attribute__((target("avx2,f16c"))) std::uint32_t store_be_f16_f16c(char* out, const float* in,
                                                                     std::size_t count) noexcept {
    const __m256i abs_mask = _mm256_set1_epi32(static_cast<int>(f32_abs_mask));
    const __m256i overflow_below = _mm256_set1_epi32(static_cast<int>(half_overflow_bits - 1));
    const __m128i swap = _mm_setr_epi8(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
    __m256i too_large = _mm256_setzero_si256();
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
        // |x| as signed int32 is never negative, so a signed compare orders it correctly.
        too_large = _mm256_or_si256(
            too_large, _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), overflow_below));
        __m128i halves = _mm256_cvtps_ph(_mm256_castsi256_ps(x), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), _mm_shuffle_epi8(halves, swap));
    }
    auto found = static_cast<std::uint32_t>(_mm256_movemask_epi8(too_large));
    return found | store_be_f16_scalar(out + 2 * i, in + i, count - i);
}

const bool cpu_has_f16c = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("f16c") != 0;
}();

#endif

// Rounds count floats to binary16 into out (big-endian); true when every one is representable.
[[nodiscard]] bool store_be_f16_representable(char* out, const float* in,
                                              std::size_t count) noexcept {
#if defined(__x86_64__)
    if (cpu_has_f16c) {
        return store_be_f16_f16c(out, in, count) == 0;
    }
#endif
    return store_be_f16_scalar(out, in, count) == 0;
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
