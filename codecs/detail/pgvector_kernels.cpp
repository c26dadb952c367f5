#include "codecs/detail/pgvector_kernels.hpp"

#include <cstring>

#include "codecs/buffer.hpp"
#include "codecs/pgvector.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pgingest::detail {

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

namespace {

// Read once at start-up; __builtin_cpu_init makes it safe whatever the constructor order.
const bool avx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}();

const bool avx2_f16c = [] {
    __builtin_cpu_init();
    return avx2 && __builtin_cpu_supports("f16c") != 0;
}();

}  // namespace

bool cpu_has_avx2() noexcept { return avx2; }

bool cpu_has_avx2_f16c() noexcept { return avx2_f16c; }

#endif

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

#endif

}  // namespace pgingest::detail
