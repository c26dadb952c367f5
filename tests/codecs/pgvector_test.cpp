// Proves the pgvector encoders (codecs/pgvector.hpp) write exactly the layouts pgvector reads,
// and refuse what pgvector would refuse, before writing anything.
//
// The test server has no pgvector, so the golden bytes here come from pgvector's source
// (github.com/pgvector/pgvector e48241b) and FORMATS.md §4, which checked them on a real server:
// - vector:    src/vector.c vector_recv / vector_send: pq_getmsgint(buf, 2) dim, unused, then
//              pq_getmsgfloat4 × dim;
// - halfvec:   src/halfvec.c halfvec_recv: the same header, then pq_getmsghalf × dim (the raw
//              binary16 bits through pq_getmsgint(msg, 2));
// - sparsevec: src/sparsevec.c sparsevec_recv / sparsevec_send: int32 dim, nnz, unused, then
//              nnz 0-based int32 indices, then nnz float4 values.
// Real pgvector loads the same encoders' output in tests/pglite (ctest `pgvector_pglite`).
// The float → binary16 rounding is checked against the compiler's own _Float16 conversion
// (libgcc's soft-fp __truncsfhf2): a 1-in-4099 sample of all 2^32 float bit patterns plus
// every boundary here, and all 2^32 patterns in the slow case tagged [.].

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "codecs/detail/pgvector_kernels.hpp"
#include "codecs/pgvector.hpp"
#include "tests/support/bytes.hpp"

using namespace pgingest;
using pgingest::test::hex;

namespace {

constexpr float nan_f = std::numeric_limits<float>::quiet_NaN();
constexpr float inf_f = std::numeric_limits<float>::infinity();

float from_bits(std::uint32_t bits) { return std::bit_cast<float>(bits); }

// The data bytes (length prefix checked and dropped) as hex.
std::string data_hex(const ByteBuffer& out) { return hex(test::field_data(out.view())); }

// Checks a refusal: the code, the position, the buffer untouched (it held "keep" before), and
// describe_error naming column, value and reason.
void check_refused(Status status, Errc code, std::uint32_t position, const ByteBuffer& out,
                   std::string_view value_text) {
    CHECK(status.code == code);
    CHECK(status.position == position);
    CHECK(out.view() == "keep");
    std::string message = describe_error(status, "embedding", value_text);
    CHECK_THAT(message, Catch::StartsWith("column \"embedding\": value \""));
    CHECK_THAT(message, Catch::Contains(std::string(value_text.substr(0, 20))));
    CHECK_THAT(message, Catch::Contains(" at element " + std::to_string(position) + ": "));
    CHECK_THAT(message, Catch::EndsWith(errc_reason(code)));
}

ByteBuffer keep_buffer() {
    ByteBuffer out;
    out.put_bytes("keep");
    return out;
}

std::uint16_t reference_half(float value) {
    return std::bit_cast<std::uint16_t>(static_cast<_Float16>(value));
}

#if defined(__x86_64__)
// The CPU's own conversion (F16C vcvtps2ph, round to nearest even): fast enough for all 2^32.
__attribute__((target("f16c"))) std::uint16_t hardware_half(float value) {
    return static_cast<std::uint16_t>(_cvtss_sh(value, _MM_FROUND_TO_NEAREST_INT));
}
#endif

// Our conversion equals the reference for every non-NaN input (NaN payloads may differ; only
// "is a NaN" matters, and encode_halfvec refuses NaN anyway).
template <typename Reference>
bool half_matches(std::uint32_t bits, Reference reference) {
    float value = from_bits(bits);
    std::uint16_t ours = float_to_half(value);
    if (std::isnan(value)) {
        return (ours & 0x7C00u) == 0x7C00u && (ours & 0x03FFu) != 0;
    }
    return ours == reference(value);
}

bool half_matches_reference(std::uint32_t bits) { return half_matches(bits, reference_half); }

}  // namespace

// ---- vector: valid ---------------------------------------------------------------------------

TEST_CASE("vector: [1,2,3] is dim, unused 0 and big-endian float4s", "[codecs][pgvector]") {
    ByteBuffer out;
    const float values[] = {1.0f, 2.0f, 3.0f};
    REQUIRE(encode_vector(out, values).ok());
    CHECK(data_hex(out) == "00 03 00 00 3f 80 00 00 40 00 00 00 40 40 00 00");
    CHECK(hex(out.view().substr(0, 4)) == "00 00 00 10");
    CHECK(out.size() == vector_encoded_size_max(3));

    ByteBuffer typed;
    REQUIRE(encode_vector(typed, values, 3).ok());
    CHECK(typed.view() == out.view());
}

TEST_CASE("vector: -0.0 and the smallest subnormal are kept bit for bit", "[codecs][pgvector]") {
    ByteBuffer out;
    const float values[] = {-0.0f, 1e-45f, -1e-45f, std::numeric_limits<float>::max()};
    REQUIRE(encode_vector(out, values).ok());
    CHECK(data_hex(out) == "00 04 00 00 80 00 00 00 00 00 00 01 80 00 00 01 7f 7f ff ff");
}

TEST_CASE("vector: 16000 dimensions, the most pgvector allows, are accepted",
          "[codecs][pgvector]") {
    std::vector<float> values(16000);
    for (std::size_t i = 0; i < values.size(); i++) {
        values[i] = static_cast<float>(i);
    }
    ByteBuffer out;
    REQUIRE(encode_vector(out, values, 16000).ok());
    REQUIRE(out.size() == 8 + 4 * 16000);
    CHECK(hex(out.view().substr(0, 8)) == "00 00 fa 04 3e 80 00 00");
    CHECK(hex(out.view().substr(out.size() - 4)) == "46 79 fc 00");  // 15999.0f
}

TEST_CASE("vector: every length 1..100 and every alignment matches a scalar reference",
          "[codecs][pgvector]") {
    std::uint32_t seed = 20261121;
    INFO("seed " << seed);
    std::mt19937 random(seed);
    std::uniform_real_distribution<float> distribution(-1e6f, 1e6f);
    std::vector<float> storage(104);
    for (auto& value : storage) {
        value = distribution(random);
    }
    for (std::size_t offset = 0; offset < 4; offset++) {
        for (std::size_t dim = 1; dim <= 100; dim++) {
            std::span<const float> values(storage.data() + offset, dim);
            ByteBuffer expected;
            expected.put_i32(static_cast<std::int32_t>(4 + 4 * dim));
            expected.put_u16(static_cast<std::uint16_t>(dim));
            expected.put_u16(0);
            for (float value : values) {
                expected.put_f32(value);
            }
            ByteBuffer out;
            out.put_bytes("x");  // an odd start, so stores are misaligned too
            REQUIRE(encode_vector(out, values).ok());
            REQUIRE(out.view().substr(1) == expected.view());
        }
    }
}

// ---- vector: invalid -------------------------------------------------------------------------

TEST_CASE("vector: no dimensions is refused (vector must have at least 1 dimension)",
          "[codecs][pgvector]") {
    ByteBuffer out = keep_buffer();
    check_refused(encode_vector(out, std::span<const float>{}), Errc::vector_empty, 0, out, "[]");
}

TEST_CASE("vector: 16001 dimensions are refused at element 16000", "[codecs][pgvector]") {
    std::vector<float> values(16001, 1.0f);
    ByteBuffer out = keep_buffer();
    check_refused(encode_vector(out, values), Errc::vector_too_many_dims, 16000, out, "[1,1,…]");
}

TEST_CASE("vector: a dimension other than the column's typmod is refused",
          "[codecs][pgvector]") {
    const float values[] = {1.0f, 2.0f};
    ByteBuffer out = keep_buffer();
    check_refused(encode_vector(out, values, 3), Errc::vector_dim_mismatch, 2, out, "[1,2]");
    check_refused(encode_vector(out, values, 1), Errc::vector_dim_mismatch, 1, out, "[1,2]");
    check_refused(encode_vector(out, values, 0), Errc::vector_dim_mismatch, 0, out, "[1,2]");
}

TEST_CASE("vector: NaN is refused with its element index", "[codecs][pgvector]") {
    ByteBuffer out = keep_buffer();
    const float values[] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, nan_f, 7.0f};
    check_refused(encode_vector(out, values), Errc::vector_nan, 5, out, "[1,2,3,4,5,NaN,7]");
    const float negative_payload[] = {from_bits(0xFFC00001u)};
    check_refused(encode_vector(out, negative_payload), Errc::vector_nan, 0, out, "[-NaN]");
    const float signalling[] = {0.0f, from_bits(0x7F800001u)};
    check_refused(encode_vector(out, signalling), Errc::vector_nan, 1, out, "[0,sNaN]");
}

TEST_CASE("vector: ±Infinity is refused with its element index", "[codecs][pgvector]") {
    ByteBuffer out = keep_buffer();
    const float first[] = {inf_f, 1.0f};
    check_refused(encode_vector(out, first), Errc::vector_infinite, 0, out, "[Infinity,1]");
    std::vector<float> values(1536, 0.5f);
    values[1535] = -inf_f;
    check_refused(encode_vector(out, values), Errc::vector_infinite, 1535, out, "[0.5,…]");
}

TEST_CASE("vector: the first bad element is reported wherever it falls in a SIMD block",
          "[codecs][pgvector]") {
    for (std::size_t dim = 1; dim <= 40; dim++) {
        for (std::size_t bad = 0; bad < dim; bad++) {
            std::vector<float> values(dim, 1.0f);
            values[bad] = (bad % 2 == 0) ? nan_f : -inf_f;
            if (bad + 1 < dim) {
                values[dim - 1] = inf_f;  // a later bad element must not win
            }
            ByteBuffer out = keep_buffer();
            Status status = encode_vector(out, values);
            REQUIRE(status.code == (bad % 2 == 0 ? Errc::vector_nan : Errc::vector_infinite));
            REQUIRE(status.position == bad);
            REQUIRE(out.view() == "keep");
        }
    }
}

TEST_CASE("vector and halfvec kernels: every SIMD variant this CPU runs equals the scalar one",
          "[codecs][pgvector]") {
    using Kernel = std::uint32_t (*)(char*, const float*, std::size_t) noexcept;
    struct Variant {
        const char* name;
        Kernel kernel;
        Kernel scalar;
        std::size_t width_bytes;
    };
    std::vector<Variant> variants;
#if defined(__x86_64__)
    variants.push_back({"f32 sse2", detail::store_be_f32_sse2, detail::store_be_f32_scalar, 4});
    if (detail::cpu_has_avx2()) {
        variants.push_back(
            {"f32 avx2", detail::store_be_f32_avx2, detail::store_be_f32_scalar, 4});
    }
    if (detail::cpu_has_avx2_f16c()) {
        variants.push_back(
            {"f16 f16c", detail::store_be_f16_f16c, detail::store_be_f16_scalar, 2});
    }
#endif
    WARN(variants.size() << " SIMD kernel variants run on this CPU");
    std::uint32_t seed = 4;
    INFO("seed " << seed);
    std::mt19937 random(seed);
    std::uniform_real_distribution<float> distribution(-60000.0f, 60000.0f);
    std::vector<float> values(70);
    const float bad_values[] = {nan_f, -inf_f, 65520.0f};
    for (const Variant& variant : variants) {
        INFO("variant " << variant.name);
        for (std::size_t count = 0; count <= 64; count++) {
            for (auto& value : values) {
                value = distribution(random);
            }
            std::size_t bad = count == 0 ? 0 : random() % (2 * count);  // half the time none
            if (bad < count) {
                values[bad] = bad_values[bad % 3];
            }
            std::string ours(count * variant.width_bytes, '\0');
            std::string expected(count * variant.width_bytes, '\0');
            std::uint32_t ours_bad = variant.kernel(ours.data(), values.data(), count);
            std::uint32_t expected_bad = variant.scalar(expected.data(), values.data(), count);
            REQUIRE((ours_bad != 0) == (expected_bad != 0));
            if (expected_bad == 0) {
                REQUIRE(hex(ours) == hex(expected));
            }
        }
    }
}

// ---- halfvec: valid --------------------------------------------------------------------------

TEST_CASE("halfvec: [1,-2.5] is dim, unused 0 and big-endian binary16s",
          "[codecs][pgvector]") {
    ByteBuffer out;
    const float values[] = {1.0f, -2.5f};
    REQUIRE(encode_halfvec(out, values, 2).ok());
    CHECK(hex(out.view()) == "00 00 00 08 00 02 00 00 3c 00 c1 00");
    CHECK(out.size() == halfvec_encoded_size_max(2));
}

TEST_CASE("halfvec: largest finite, subnormals, -0.0 and ties round to nearest even",
          "[codecs][pgvector]") {
    struct Case {
        float value;
        std::uint16_t half;
    };
    const Case cases[] = {
        {65504.0f, 0x7BFF},             // largest finite half
        {65519.99f, 0x7BFF},            // just below the tie with 65536: rounds down
        {-65504.0f, 0xFBFF},
        {std::ldexp(1.0f, -24), 0x0001},  // smallest subnormal half
        {std::ldexp(1.0f, -25), 0x0000},  // tie between 0 and 2^-24: even is 0
        {std::ldexp(1.5f, -25), 0x0001},  // above the tie
        {std::ldexp(3.0f, -25), 0x0002},  // tie between 1 and 2 (× 2^-24): even is 2
        {std::ldexp(1.0f, -14), 0x0400},  // smallest normal half
        {from_bits(0x387FFFFFu), 0x0400},  // just below 2^-14: rounds up into the normals
        {std::ldexp(1023.0f, -24), 0x03FF},  // largest subnormal half
        {1e-45f, 0x0000},               // float subnormal: far below any half
        {-1e-45f, 0x8000},              // keeps its sign
        {-0.0f, 0x8000},
        {1.0f + std::ldexp(1.0f, -11), 0x3C00},       // tie: 1.0 is even
        {1.0f + 3 * std::ldexp(1.0f, -11), 0x3C02},   // tie: rounds up to the even neighbour
        {2049.0f, 0x6800},              // tie between 2048 and 2050: 2048
        {2051.0f, 0x6802},              // tie between 2050 and 2052: 2052
        {0.1f, 0x2E66},
    };
    for (const Case& c : cases) {
        INFO("value " << c.value << " bits " << std::bit_cast<std::uint32_t>(c.value));
        CHECK(float_to_half(c.value) == c.half);
        CHECK(reference_half(c.value) == c.half);
        ByteBuffer out;
        const float values[] = {c.value};
        REQUIRE(encode_halfvec(out, values).ok());
        ByteBuffer expected;
        expected.put_i32(6);
        expected.put_u32(0x00010000u);
        expected.put_u16(c.half);
        CHECK(hex(out.view()) == hex(expected.view()));
    }
}

TEST_CASE("halfvec: float_to_half equals _Float16 conversion on a 1-in-4099 sample of all "
          "floats",
          "[codecs][pgvector]") {
    std::uint64_t mismatches = 0;
    for (std::uint64_t bits = 0; bits <= 0xFFFFFFFFu; bits += 4099) {
        mismatches += half_matches_reference(static_cast<std::uint32_t>(bits)) ? 0u : 1u;
    }
    // Around every binade boundary and the overflow / subnormal thresholds, exhaustively.
    for (std::uint32_t exponent = 100; exponent <= 145; exponent++) {
        for (std::uint32_t delta = 0; delta < 8192; delta++) {
            std::uint32_t bits = (exponent << 23) - 4096 + delta;
            mismatches += half_matches_reference(bits) ? 0u : 1u;
            mismatches += half_matches_reference(bits | 0x80000000u) ? 0u : 1u;
        }
    }
    CHECK(mismatches == 0);
}

TEST_CASE("halfvec: float_to_half equals the CPU's F16C conversion for all 2^32 floats",
          "[codecs][pgvector][.]") {
#if defined(__x86_64__)
    __builtin_cpu_init();
    bool has_f16c = __builtin_cpu_supports("f16c") != 0;
#else
    bool has_f16c = false;
#endif
    // Without F16C, libgcc's soft-float _Float16 conversion is the reference (much slower).
    auto reference = [has_f16c](float value) {
#if defined(__x86_64__)
        if (has_f16c) {
            return hardware_half(value);
        }
#endif
        return reference_half(value);
    };
    std::uint64_t mismatches = 0;
    std::uint32_t first_mismatch = 0;
    for (std::uint64_t bits = 0; bits <= 0xFFFFFFFFu; bits++) {
        if (!half_matches(static_cast<std::uint32_t>(bits), reference)) {
            first_mismatch = mismatches == 0 ? static_cast<std::uint32_t>(bits) : first_mismatch;
            mismatches += 1;
        }
    }
    INFO("first mismatch at float bits " << first_mismatch);
    CHECK(mismatches == 0);
}

TEST_CASE("halfvec: every length and position equals float_to_half element by element",
          "[codecs][pgvector]") {
    // Covers the SIMD path (F16C when the CPU has it) and its scalar tail: random values over
    // the whole half range, subnormals included, plus the rounding edges.
    std::uint32_t seed = 16;
    INFO("seed " << seed);
    std::mt19937 random(seed);
    std::uniform_int_distribution<int> exponent(-27, 14);
    std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
    std::vector<float> storage(200);
    for (auto& value : storage) {
        float sign = (random() & 1u) != 0 ? -1.0f : 1.0f;
        value = sign * std::ldexp(mantissa(random), exponent(random));
    }
    const float edges[] = {65504.0f, 65519.99f, std::ldexp(1.0f, -25), std::ldexp(3.0f, -25),
                           from_bits(0x387FFFFFu), -0.0f, 2049.0f, 2051.0f, 1e-45f};
    std::copy(std::begin(edges), std::end(edges), storage.begin() + 37);
    for (std::size_t offset = 0; offset < 3; offset++) {
        for (std::size_t dim = 1; dim <= 90; dim++) {
            std::span<const float> values(storage.data() + offset + dim % 50, dim);
            ByteBuffer expected;
            expected.put_i32(static_cast<std::int32_t>(4 + 2 * dim));
            expected.put_u16(static_cast<std::uint16_t>(dim));
            expected.put_u16(0);
            for (float value : values) {
                expected.put_u16(float_to_half(value));
            }
            ByteBuffer out;
            out.put_bytes("x");
            REQUIRE(encode_halfvec(out, values).ok());
            REQUIRE(hex(out.view().substr(1)) == hex(expected.view()));
        }
    }
}

TEST_CASE("halfvec: the first unrepresentable element is reported wherever it falls",
          "[codecs][pgvector]") {
    const float bad_values[] = {nan_f, inf_f, 65520.0f, -1e30f};
    const Errc bad_codes[] = {Errc::vector_nan, Errc::vector_infinite, Errc::halfvec_overflow,
                              Errc::halfvec_overflow};
    for (std::size_t dim = 1; dim <= 40; dim++) {
        for (std::size_t bad = 0; bad < dim; bad++) {
            std::vector<float> values(dim, 1.0f);
            values[bad] = bad_values[bad % 4];
            if (bad + 1 < dim) {
                values[dim - 1] = nan_f;  // a later bad element must not win
            }
            ByteBuffer out = keep_buffer();
            Status status = encode_halfvec(out, values);
            REQUIRE(status.code == bad_codes[bad % 4]);
            REQUIRE(status.position == bad);
            REQUIRE(out.view() == "keep");
        }
    }
}

TEST_CASE("halfvec: 16000 dimensions are accepted", "[codecs][pgvector]") {
    std::vector<float> values(16000, 0.5f);
    ByteBuffer out;
    REQUIRE(encode_halfvec(out, values, 16000).ok());
    REQUIRE(out.size() == 8 + 2 * 16000);
    CHECK(hex(out.view().substr(0, 10)) == "00 00 7d 04 3e 80 00 00 38 00");
}

// ---- halfvec: invalid ------------------------------------------------------------------------

TEST_CASE("halfvec: wrong dimensions are refused", "[codecs][pgvector]") {
    ByteBuffer out = keep_buffer();
    check_refused(encode_halfvec(out, std::span<const float>{}), Errc::vector_empty, 0, out,
                  "[]");
    std::vector<float> values(16001, 1.0f);
    check_refused(encode_halfvec(out, values), Errc::vector_too_many_dims, 16000, out, "[1,…]");
    const float three[] = {1.0f, 2.0f, 3.0f};
    check_refused(encode_halfvec(out, three, 2), Errc::vector_dim_mismatch, 2, out, "[1,2,3]");
}

TEST_CASE("halfvec: NaN and ±Infinity are refused with their element index",
          "[codecs][pgvector]") {
    ByteBuffer out = keep_buffer();
    const float with_nan[] = {1.0f, nan_f};
    check_refused(encode_halfvec(out, with_nan), Errc::vector_nan, 1, out, "[1,NaN]");
    const float with_inf[] = {-inf_f, 1.0f};
    check_refused(encode_halfvec(out, with_inf), Errc::vector_infinite, 0, out, "[-Infinity,1]");
}

TEST_CASE("halfvec: values that round to infinity (|x| >= 65520) are refused as overflow",
          "[codecs][pgvector]") {
    ByteBuffer out = keep_buffer();
    const float at_tie[] = {1.0f, 65520.0f};
    check_refused(encode_halfvec(out, at_tie), Errc::halfvec_overflow, 1, out, "[1,65520]");
    const float negative[] = {-65520.0f};
    check_refused(encode_halfvec(out, negative), Errc::halfvec_overflow, 0, out, "[-65520]");
    const float huge[] = {0.0f, 0.0f, std::numeric_limits<float>::max()};
    check_refused(encode_halfvec(out, huge), Errc::halfvec_overflow, 2, out, "[0,0,3.4e38]");
    const float overflow_then_nan[] = {1e10f, nan_f};  // the first problem wins
    check_refused(encode_halfvec(out, overflow_then_nan), Errc::halfvec_overflow, 0, out,
                  "[1e10,NaN]");
}

// ---- sparsevec: valid ------------------------------------------------------------------------

TEST_CASE("sparsevec: {1:1.5,3:2}/5 is dim, nnz, unused, 0-based indices, values",
          "[codecs][pgvector]") {
    const std::string golden =
        "00 00 00 05 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 02 3f c0 00 00 40 00 00 00";
    const std::int32_t indices[] = {0, 2};
    const float values[] = {1.5f, 2.0f};
    ByteBuffer out;
    REQUIRE(encode_sparsevec(out, 5, indices, values, 5).ok());
    CHECK(data_hex(out) == golden);
    CHECK(out.size() == sparsevec_encoded_size_max(2));

    // Zeros (either sign) are dropped: the server refuses them in the binary form.
    const std::int32_t with_zero_indices[] = {0, 1, 2, 4};
    const float with_zero_values[] = {1.5f, 0.0f, 2.0f, -0.0f};
    ByteBuffer dropped;
    REQUIRE(encode_sparsevec(dropped, 5, with_zero_indices, with_zero_values).ok());
    CHECK(data_hex(dropped) == golden);

    const float dense[] = {1.5f, 0.0f, 2.0f, 0.0f, -0.0f};
    ByteBuffer from_dense;
    REQUIRE(encode_sparsevec_dense(from_dense, dense, 5).ok());
    CHECK(data_hex(from_dense) == golden);
}

TEST_CASE("sparsevec: no non-zero elements is {}/dim", "[codecs][pgvector]") {
    ByteBuffer out;
    REQUIRE(encode_sparsevec(out, 5, std::span<const std::int32_t>{}, std::span<const float>{})
                .ok());
    CHECK(data_hex(out) == "00 00 00 05 00 00 00 00 00 00 00 00");
}

TEST_CASE("sparsevec: 1e9 dimensions and 16000 non-zeros are accepted", "[codecs][pgvector]") {
    std::vector<std::int32_t> indices(16000);
    std::vector<float> values(16000, -1e-45f);
    for (std::size_t i = 0; i < indices.size(); i++) {
        indices[i] = static_cast<std::int32_t>(i * 62500 + 62499);
    }
    ByteBuffer out;
    REQUIRE(encode_sparsevec(out, 1'000'000'000, indices, values, 1'000'000'000).ok());
    REQUIRE(out.size() == 16 + 8 * 16000);
    CHECK(hex(out.view().substr(0, 16)) == "00 01 f4 0c 3b 9a ca 00 00 00 3e 80 00 00 00 00");
    CHECK(hex(out.view().substr(16 + 4 * 15999, 4)) == "3b 9a c9 ff");  // 999999999
    CHECK(hex(out.view().substr(out.size() - 4)) == "80 00 00 01");
}

// ---- sparsevec: invalid ----------------------------------------------------------------------

TEST_CASE("sparsevec: dimensions out of 1..1e9 or unlike the typmod are refused",
          "[codecs][pgvector]") {
    ByteBuffer out = keep_buffer();
    std::span<const std::int32_t> no_indices;
    std::span<const float> no_values;
    check_refused(encode_sparsevec(out, 0, no_indices, no_values), Errc::vector_empty, 0, out,
                  "{}/0");
    check_refused(encode_sparsevec(out, -1, no_indices, no_values), Errc::vector_empty, 0, out,
                  "{}/-1");
    check_refused(encode_sparsevec(out, 1'000'000'001, no_indices, no_values),
                  Errc::vector_too_many_dims, 0, out, "{}/1000000001");
    check_refused(encode_sparsevec(out, 6, no_indices, no_values, 5), Errc::vector_dim_mismatch,
                  0, out, "{}/6");
    check_refused(encode_sparsevec_dense(out, std::span<const float>{}), Errc::vector_empty, 0,
                  out, "[]");
}

TEST_CASE("sparsevec: indices out of bounds are refused with their position",
          "[codecs][pgvector]") {
    ByteBuffer out = keep_buffer();
    const std::int32_t negative[] = {-1};
    const std::int32_t at_dim[] = {0, 2, 5};
    const float one[] = {1.0f};
    const float three[] = {1.0f, 2.0f, 3.0f};
    check_refused(encode_sparsevec(out, 5, negative, one), Errc::sparsevec_index_out_of_bounds, 0,
                  out, "{0:1}/5");
    check_refused(encode_sparsevec(out, 5, at_dim, three), Errc::sparsevec_index_out_of_bounds,
                  2, out, "{1:1,3:2,6:3}/5");
}

TEST_CASE("sparsevec: unordered or repeated indices are refused with their position",
          "[codecs][pgvector]") {
    ByteBuffer out = keep_buffer();
    const float three[] = {1.0f, 2.0f, 3.0f};
    const std::int32_t unordered[] = {0, 3, 2};
    const std::int32_t repeated[] = {1, 1, 2};
    check_refused(encode_sparsevec(out, 5, unordered, three), Errc::sparsevec_index_order, 2, out,
                  "{1:1,4:2,3:3}/5");
    check_refused(encode_sparsevec(out, 5, repeated, three), Errc::sparsevec_index_order, 1, out,
                  "{2:1,2:2,3:3}/5");
    const float zero_between[] = {1.0f, 0.0f, 3.0f};  // zeros do not excuse bad order
    check_refused(encode_sparsevec(out, 5, unordered, zero_between), Errc::sparsevec_index_order,
                  2, out, "{1:1,4:0,3:3}/5");
}

TEST_CASE("sparsevec: NaN and ±Infinity values are refused with their position",
          "[codecs][pgvector]") {
    ByteBuffer out = keep_buffer();
    const std::int32_t indices[] = {0, 1};
    const float with_nan[] = {1.0f, nan_f};
    const float with_inf[] = {-inf_f, 1.0f};
    check_refused(encode_sparsevec(out, 5, indices, with_nan), Errc::vector_nan, 1, out,
                  "{1:1,2:NaN}/5");
    check_refused(encode_sparsevec(out, 5, indices, with_inf), Errc::vector_infinite, 0, out,
                  "{1:-Infinity,2:1}/5");
    const float dense[] = {0.0f, 0.0f, inf_f};
    check_refused(encode_sparsevec_dense(out, dense), Errc::vector_infinite, 2, out,
                  "[0,0,Infinity]");
}

TEST_CASE("sparsevec: more than 16000 non-zero values are refused; zeros do not count",
          "[codecs][pgvector]") {
    std::vector<std::int32_t> indices(16002);
    std::vector<float> values(16002, 1.0f);
    for (std::size_t i = 0; i < indices.size(); i++) {
        indices[i] = static_cast<std::int32_t>(i);
    }
    ByteBuffer out = keep_buffer();
    check_refused(encode_sparsevec(out, 20000, indices, values),
                  Errc::sparsevec_too_many_nonzero, 16000, out, "{1:1,2:1,…}/20000");
    values[7] = 0.0f;
    check_refused(encode_sparsevec(out, 20000, indices, values),
                  Errc::sparsevec_too_many_nonzero, 16001, out, "{1:1,2:1,…}/20000");
    values[8] = -0.0f;
    ByteBuffer accepted;
    REQUIRE(encode_sparsevec(accepted, 20000, indices, values).ok());
    CHECK(accepted.size() == sparsevec_encoded_size_max(16000));
    check_refused(encode_sparsevec_dense(out, std::vector<float>(16001, 2.0f)),
                  Errc::sparsevec_too_many_nonzero, 16000, out, "[2,2,…]");
}
