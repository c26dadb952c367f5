#pragma once

// The inner loops of codecs/pgvector.cpp: byte-swap (and round to binary16) whole arrays of
// float32 while testing that every element is acceptable, one pass, SIMD where the CPU allows.
// Each variant is visible here so that tests can run every one the machine supports, not only
// the one the dispatcher picks. All are pure and may run on any thread.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pgingest::detail {

/// float32 bits with all exponent bits set: ±Inf or NaN (pgvector CheckElement rejects both).
inline constexpr std::uint32_t f32_exponent_mask = 0x7F800000u;

/// float32 bits without the sign.
inline constexpr std::uint32_t f32_abs_mask = 0x7FFFFFFFu;

/// The bits of the float at `at` (which need not be aligned).
[[nodiscard]] inline std::uint32_t float_bits(const float* at) noexcept {
    std::uint32_t bits;
    std::memcpy(&bits, at, sizeof bits);
    return bits;
}

/// True for ±Inf and NaN.
[[nodiscard]] inline bool is_nonfinite(std::uint32_t bits) noexcept {
    return (bits & f32_exponent_mask) == f32_exponent_mask;
}

/// Smallest |x| (as float32 bits) that rounds to infinity in binary16: 65520 is the tie between
/// 65504 (largest half, odd mantissa) and 65536, and ties go to even, i.e. up.
inline constexpr std::uint32_t half_overflow_bits = 0x477FF000u;

/// Writes `count` floats from `in` to `out` big-endian (4·count bytes); returns non-zero when any
/// of them is NaN or ±Inf. Portable.
std::uint32_t store_be_f32_scalar(char* out, const float* in, std::size_t count) noexcept;

/// Rounds `count` floats to binary16 (`float_to_half`) and writes them big-endian at `out`
/// (2·count bytes); returns non-zero when any is NaN, ±Inf or |x| ≥ 65520. Portable.
std::uint32_t store_be_f16_scalar(char* out, const float* in, std::size_t count) noexcept;

#if defined(__x86_64__)

/// As `store_be_f32_scalar`, with SSE2 (part of every x86-64 CPU).
std::uint32_t store_be_f32_sse2(char* out, const float* in, std::size_t count) noexcept;

/// As `store_be_f32_scalar`, with AVX2. Only when `cpu_has_avx2()`.
std::uint32_t store_be_f32_avx2(char* out, const float* in, std::size_t count) noexcept;

/// As `store_be_f16_scalar`, with F16C vcvtps2ph. Only when `cpu_has_avx2_f16c()`.
std::uint32_t store_be_f16_f16c(char* out, const float* in, std::size_t count) noexcept;

/// Whether this CPU runs AVX2 code (checked once at start-up).
bool cpu_has_avx2() noexcept;

/// Whether this CPU runs AVX2 and F16C code (checked once at start-up).
bool cpu_has_avx2_f16c() noexcept;

#endif

}  // namespace pgingest::detail
