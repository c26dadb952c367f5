// Writes COPY BINARY streams for the pgvector checks run by tests/pglite/pgvector_pglite_test.mjs
// inside PGlite (a real pgvector; the Debian test server has none).
//
//   pgvector_fixtures <output directory>
//
// For each case it writes <name>.bin (header, tuples, trailer) and lists the case in
// manifest.json: the column type, and what the server must do with the stream:
// - "expect_text":    the v::text of each stored row, in order;
// - "expect_same_as": for each row, a literal that, cast to the column type by pgvector's own
//                     text input, must give the same v::text (for values whose text is long, and
//                     to compare our float → half rounding with pgvector's);
// - "expect_error":   pgvector's error message (and "expect_sqlstate"), nothing stored.
// Valid cases are written by our encoders. Invalid ones are written by hand, bypassing our
// checks, to show pgvector's own error; for each the program first asserts that our encoder
// refuses the same value ("our_refusal" in the manifest), and exits 1 if it does not.

#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "codecs/copy_binary.hpp"
#include "codecs/pgvector.hpp"

namespace {

using namespace pgingest;

struct Case {
    std::string name;
    std::string column_type;
    std::vector<std::string> fields;  // one encoded field (length prefix included) per row
    std::vector<std::string> expect_text;
    std::vector<std::string> expect_same_as;
    std::string expect_error;
    std::string expect_sqlstate;
    std::string our_refusal;
};

std::vector<Case> cases;
int failures = 0;

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

std::string json_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); i++) {
        out += (i == 0 ? "" : ", ") + json_string(items[i]);
    }
    return out + "]";
}

// %.9g round-trips any float32 through pgvector's strtof-based text input.
std::string float_text(float value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", static_cast<double>(value));
    return text;
}

std::string dense_literal(std::span<const float> values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); i++) {
        out += (i == 0 ? "" : ",") + float_text(values[i]);
    }
    return out + "]";
}

std::string field_of(const ByteBuffer& buffer) { return std::string(buffer.view()); }

void add_valid(std::string name, std::string type, std::vector<std::string> fields,
               std::vector<std::string> text, std::vector<std::string> same_as = {}) {
    cases.push_back(Case{std::move(name), std::move(type), std::move(fields), std::move(text),
                         std::move(same_as), "", "", ""});
}

// A hand-made field that our encoder refused with `our` (or "" when no input of ours can
// produce it, such as unused = 1), expected to fail in pgvector with `message`.
void add_invalid(std::string name, std::string type, const ByteBuffer& field, Status our,
                 Errc expected_our, std::string message, std::string sqlstate) {
    std::string our_name;
    if (expected_our != Errc::ok) {
        if (our.code != expected_our) {
            std::fprintf(stderr, "case %s: our encoder gave %s, expected %s\n", name.c_str(),
                         errc_reason(our.code), errc_reason(expected_our));
            failures += 1;
        }
        our_name = errc_reason(our.code);
    }
    cases.push_back(Case{std::move(name), std::move(type), {field_of(field)}, {}, {},
                         std::move(message), std::move(sqlstate), std::move(our_name)});
}

void must(Status status, const char* what) {
    if (!status.ok()) {
        std::fprintf(stderr, "%s: encoder refused: %s\n", what, errc_reason(status.code));
        failures += 1;
    }
}

// Raw dense field: [len][dim:u16][unused:u16][f32 or u16 × n] with no checks at all.
ByteBuffer raw_vector(std::uint16_t dim, std::uint16_t unused, std::span<const float> values) {
    ByteBuffer out;
    out.put_i32(static_cast<std::int32_t>(4 + 4 * values.size()));
    out.put_u16(dim);
    out.put_u16(unused);
    for (float value : values) {
        out.put_f32(value);
    }
    return out;
}

ByteBuffer raw_halfvec(std::uint16_t dim, std::span<const std::uint16_t> halves) {
    ByteBuffer out;
    out.put_i32(static_cast<std::int32_t>(4 + 2 * halves.size()));
    out.put_u16(dim);
    out.put_u16(0);
    for (std::uint16_t half : halves) {
        out.put_u16(half);
    }
    return out;
}

ByteBuffer raw_sparsevec(std::int32_t dim, std::span<const std::int32_t> indices,
                         std::span<const float> values) {
    ByteBuffer out;
    out.put_i32(static_cast<std::int32_t>(12 + 8 * indices.size()));
    out.put_i32(dim);
    out.put_i32(static_cast<std::int32_t>(indices.size()));
    out.put_i32(0);
    for (std::int32_t index : indices) {
        out.put_i32(index);
    }
    for (float value : values) {
        out.put_f32(value);
    }
    return out;
}

void add_vector_valid_cases() {
    ByteBuffer out;
    const float basic[] = {1.0f, 2.0f, 3.0f};
    must(encode_vector(out, basic, 3), "vector_basic");
    const float more[] = {4.0f, -5.5f, 6.25f};
    ByteBuffer second;
    must(encode_vector(second, more, 3), "vector_rows");
    add_valid("vector_basic", "vector(3)", {field_of(out)}, {"[1,2,3]"});
    add_valid("vector_rows", "vector(3)", {field_of(out), field_of(second), field_of(out)},
              {"[1,2,3]", "[4,-5.5,6.25]", "[1,2,3]"});

    const float edges[] = {-0.0f, 1e-45f, -1e-45f, std::numeric_limits<float>::max()};
    out.clear();
    must(encode_vector(out, edges), "vector_edges");
    add_valid("vector_edges", "vector", {field_of(out)}, {"[-0,1e-45,-1e-45,3.4028235e+38]"});

    std::vector<float> wide(16000);
    std::string wide_text = "[";
    for (std::size_t i = 0; i < wide.size(); i++) {
        wide[i] = static_cast<float>(i);
        wide_text += (i == 0 ? "" : ",") + std::to_string(i);
    }
    out.clear();
    must(encode_vector(out, wide, 16000), "vector_16000");
    add_valid("vector_16000", "vector(16000)", {field_of(out)}, {wide_text + "]"});

    std::mt19937 random(1536);
    std::uniform_real_distribution<float> distribution(-1.0f, 1.0f);
    std::vector<float> embedding(1536);
    for (auto& value : embedding) {
        value = distribution(random);
    }
    out.clear();
    must(encode_vector(out, embedding, 1536), "vector_1536_random");
    add_valid("vector_1536_random", "vector(1536)", {field_of(out)}, {},
              {dense_literal(embedding)});

}

void add_vector_invalid_cases() {
    constexpr float nan_f = std::numeric_limits<float>::quiet_NaN();
    constexpr float inf_f = std::numeric_limits<float>::infinity();
    const float basic[] = {1.0f, 2.0f, 3.0f};
    const float with_nan[] = {1.0f, nan_f, 3.0f};
    const float with_inf[] = {1.0f, 2.0f, -inf_f};
    const float two[] = {1.0f, 2.0f};
    std::vector<float> too_wide(16001, 1.0f);
    ByteBuffer refused;
    add_invalid("vector_nan", "vector(3)", raw_vector(3, 0, with_nan),
                encode_vector(refused, with_nan, 3), Errc::vector_nan,
                "NaN not allowed in vector", "22000");
    add_invalid("vector_infinite", "vector", raw_vector(3, 0, with_inf),
                encode_vector(refused, with_inf), Errc::vector_infinite,
                "infinite value not allowed in vector", "22000");
    add_invalid("vector_dim_mismatch", "vector(3)", raw_vector(2, 0, two),
                encode_vector(refused, two, 3), Errc::vector_dim_mismatch,
                "expected 3 dimensions, not 2", "22000");
    add_invalid("vector_empty", "vector", raw_vector(0, 0, {}),
                encode_vector(refused, std::span<const float>{}), Errc::vector_empty,
                "vector must have at least 1 dimension", "22000");
    add_invalid("vector_16001", "vector", raw_vector(16001, 0, too_wide),
                encode_vector(refused, too_wide), Errc::vector_too_many_dims,
                "vector cannot have more than 16000 dimensions", "54000");
    add_invalid("vector_unused_1", "vector(3)", raw_vector(3, 1, basic), Status{}, Errc::ok,
                "expected unused to be 0, not 1", "22000");
}

void add_halfvec_cases() {
    ByteBuffer out;
    const float basic[] = {1.0f, -2.5f};
    must(encode_halfvec(out, basic, 2), "halfvec_basic");
    add_valid("halfvec_basic", "halfvec(2)", {field_of(out)}, {"[1,-2.5]"});

    // Rounding edges; pgvector's own text input (Float4ToHalf) must round them the same way.
    const float edges[] = {65504.0f, 65519.99f, -65504.0f, std::ldexp(1.0f, -24),
                           std::ldexp(1.0f, -25), std::ldexp(1.5f, -25), std::ldexp(3.0f, -25),
                           std::ldexp(1.0f, -14), std::bit_cast<float>(0x387FFFFFu),
                           std::ldexp(1023.0f, -24), -0.0f, 1.0f + std::ldexp(1.0f, -11),
                           1.0f + 3 * std::ldexp(1.0f, -11), 2049.0f, 2051.0f, 0.1f};
    out.clear();
    must(encode_halfvec(out, edges), "halfvec_edges");
    add_valid("halfvec_edges", "halfvec", {field_of(out)},
              {"[65504,65504,-65504,5.9604645e-08,0,5.9604645e-08,1.1920929e-07,6.1035156e-05,"
               "6.1035156e-05,6.097555e-05,-0,1,1.0019531,2048,2052,0.099975586]"},
              {dense_literal(edges)});

    // 16000 random values over the whole half range, subnormals and zeros included.
    std::mt19937 random(16000);
    std::uniform_int_distribution<int> exponent(-27, 14);
    std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
    std::vector<float> wide(16000);
    for (auto& value : wide) {
        float sign = (random() & 1u) != 0 ? -1.0f : 1.0f;
        value = sign * std::ldexp(mantissa(random), exponent(random));
    }
    out.clear();
    must(encode_halfvec(out, wide, 16000), "halfvec_16000_random");
    add_valid("halfvec_16000_random", "halfvec(16000)", {field_of(out)}, {},
              {dense_literal(wide)});

    ByteBuffer refused;
    const std::uint16_t infinite[] = {0x3C00, 0x7C00};  // what a careless 65520 → half gives
    const float overflow[] = {1.0f, 65520.0f};
    add_invalid("halfvec_overflow_as_inf", "halfvec", raw_halfvec(2, infinite),
                encode_halfvec(refused, overflow), Errc::halfvec_overflow,
                "infinite value not allowed in halfvec", "22000");
    const std::uint16_t nan_half[] = {0x7E00};
    const float nan_float[] = {std::numeric_limits<float>::quiet_NaN()};
    add_invalid("halfvec_nan", "halfvec", raw_halfvec(1, nan_half),
                encode_halfvec(refused, nan_float), Errc::vector_nan,
                "NaN not allowed in halfvec", "22000");
    const std::uint16_t one_half[] = {0x3C00, 0x3C00, 0x3C00};
    const float three[] = {1.0f, 1.0f, 1.0f};
    add_invalid("halfvec_dim_mismatch", "halfvec(2)", raw_halfvec(3, one_half),
                encode_halfvec(refused, three, 2), Errc::vector_dim_mismatch,
                "expected 2 dimensions, not 3", "22000");
    std::vector<std::uint16_t> too_wide(16001, 0x3C00);
    std::vector<float> too_wide_floats(16001, 1.0f);
    add_invalid("halfvec_16001", "halfvec", raw_halfvec(16001, too_wide),
                encode_halfvec(refused, too_wide_floats), Errc::vector_too_many_dims,
                "halfvec cannot have more than 16000 dimensions", "54000");
}

void add_sparsevec_valid_cases() {
    ByteBuffer out;
    const std::int32_t indices[] = {0, 1, 2, 4};
    const float values[] = {1.5f, 0.0f, 2.0f, -0.0f};  // zeros are dropped by the encoder
    must(encode_sparsevec(out, 5, indices, values, 5), "sparsevec_basic");
    add_valid("sparsevec_basic", "sparsevec(5)", {field_of(out)}, {"{1:1.5,3:2}/5"});

    out.clear();
    const float dense[] = {0.0f, -3.0f, 0.0f, 0.0f, 1e-45f, 0.0f};
    must(encode_sparsevec_dense(out, dense), "sparsevec_dense");
    add_valid("sparsevec_dense", "sparsevec", {field_of(out)}, {"{2:-3,5:1e-45}/6"});

    out.clear();
    must(encode_sparsevec(out, 5, std::span<const std::int32_t>{}, std::span<const float>{}),
         "sparsevec_empty");
    add_valid("sparsevec_no_nonzero", "sparsevec", {field_of(out)}, {"{}/5"});

    std::vector<std::int32_t> many_indices(16000);
    std::vector<float> many_values(16000);
    std::string literal = "{";
    for (std::size_t i = 0; i < many_indices.size(); i++) {
        many_indices[i] = static_cast<std::int32_t>(i * 62500 + 62499);
        many_values[i] = static_cast<float>(i % 7) - 3.5f;
        literal += (i == 0 ? "" : ",") + std::to_string(many_indices[i] + 1) + ":" +
                   float_text(many_values[i]);
    }
    out.clear();
    must(encode_sparsevec(out, 1'000'000'000, many_indices, many_values),
         "sparsevec_max");
    add_valid("sparsevec_1e9_dims_16000_nnz", "sparsevec(1000000000)", {field_of(out)}, {},
              {literal + "}/1000000000"});

}

void add_sparsevec_invalid_cases() {
    ByteBuffer refused;
    const std::int32_t pair[] = {0, 2};
    const float zero_value[] = {1.5f, 0.0f};
    ByteBuffer accepted;  // ours drops the zero instead of refusing it
    must(encode_sparsevec(accepted, 5, pair, zero_value), "sparsevec_zero_dropped");
    add_valid("sparsevec_zero_dropped", "sparsevec", {field_of(accepted)}, {"{1:1.5}/5"});
    add_invalid("sparsevec_zero_value", "sparsevec", raw_sparsevec(5, pair, zero_value),
                Status{}, Errc::ok,
                "binary representation of sparsevec cannot contain zero values", "22000");

    const float two[] = {1.0f, 2.0f};
    const std::int32_t unordered[] = {3, 1};
    const std::int32_t repeated[] = {2, 2};
    const std::int32_t out_of_bounds[] = {0, 5};
    add_invalid("sparsevec_unordered", "sparsevec", raw_sparsevec(5, unordered, two),
                encode_sparsevec(refused, 5, unordered, two), Errc::sparsevec_index_order,
                "sparsevec indices must be in ascending order", "22000");
    add_invalid("sparsevec_duplicate", "sparsevec", raw_sparsevec(5, repeated, two),
                encode_sparsevec(refused, 5, repeated, two), Errc::sparsevec_index_order,
                "sparsevec indices must not contain duplicates", "22000");
    add_invalid("sparsevec_out_of_bounds", "sparsevec", raw_sparsevec(5, out_of_bounds, two),
                encode_sparsevec(refused, 5, out_of_bounds, two),
                Errc::sparsevec_index_out_of_bounds, "sparsevec index out of bounds", "22000");
    const float with_nan[] = {1.0f, std::numeric_limits<float>::quiet_NaN()};
    add_invalid("sparsevec_nan", "sparsevec", raw_sparsevec(5, pair, with_nan),
                encode_sparsevec(refused, 5, pair, with_nan), Errc::vector_nan,
                "NaN not allowed in sparsevec", "22000");
    add_invalid("sparsevec_dim_mismatch", "sparsevec(5)", raw_sparsevec(6, pair, two),
                encode_sparsevec(refused, 6, pair, two, 5), Errc::vector_dim_mismatch,
                "expected 5 dimensions, not 6", "22000");
    add_invalid("sparsevec_dim_0", "sparsevec", raw_sparsevec(0, {}, {}),
                encode_sparsevec(refused, 0, {}, {}), Errc::vector_empty,
                "sparsevec must have at least 1 dimension", "22000");
    std::vector<std::int32_t> over_indices(16001);
    std::vector<float> over_values(16001, 1.0f);
    for (std::size_t i = 0; i < over_indices.size(); i++) {
        over_indices[i] = static_cast<std::int32_t>(i);
    }
    add_invalid("sparsevec_16001_nnz", "sparsevec", raw_sparsevec(20000, over_indices, over_values),
                encode_sparsevec(refused, 20000, over_indices, over_values),
                Errc::sparsevec_too_many_nonzero,
                "sparsevec cannot have more than 16000 non-zero elements", "54000");
}

// vector(3)[]: [ndim=1][flags][element OID][dim][lbound=1] then the elements, each exactly what
// encode_vector writes (length prefix + data) or -1 for NULL. pgvector's OID is unknown here and
// the server does not check element OIDs of extension types (FORMATS.md §2.6), so 0 is written.
void add_array_case() {
    ByteBuffer first;
    ByteBuffer second;
    const float a[] = {1.0f, 2.0f, 3.0f};
    const float b[] = {4.0f, 5.0f, 6.0f};
    must(encode_vector(first, a, 3), "array a");
    must(encode_vector(second, b, 3), "array b");
    ByteBuffer array;
    FieldStart field = begin_field(array);
    array.put_i32(1);  // ndim
    array.put_i32(1);  // flags: has NULLs
    array.put_u32(0);  // element type OID
    array.put_i32(3);  // dim
    array.put_i32(1);  // lower bound
    array.put_bytes(first.view());
    put_null(array);
    array.put_bytes(second.view());
    must(end_field(array, field), "array length");
    add_valid("vector_array", "vector(3)[]", {field_of(array)},
              {"{\"[1,2,3]\",NULL,\"[4,5,6]\"}"});
}

bool write_case(const std::string& directory, const Case& c) {
    ByteBuffer stream;
    put_copy_header(stream);
    for (const std::string& field : c.fields) {
        put_tuple_header(stream, 1);
        stream.put_bytes(field);
    }
    put_copy_trailer(stream);
    std::ofstream file(directory + "/" + c.name + ".bin", std::ios::binary);
    file.write(stream.data(), static_cast<std::streamsize>(stream.size()));
    return static_cast<bool>(file);
}

bool write_manifest(const std::string& directory) {
    std::ofstream file(directory + "/manifest.json");
    file << "[\n";
    for (std::size_t i = 0; i < cases.size(); i++) {
        const Case& c = cases[i];
        file << "  {\"name\": " << json_string(c.name) << ", \"file\": "
             << json_string(c.name + ".bin") << ", \"column_type\": "
             << json_string(c.column_type) << ", \"rows\": " << c.fields.size();
        if (!c.expect_error.empty()) {
            file << ", \"expect_error\": " << json_string(c.expect_error)
                 << ", \"expect_sqlstate\": " << json_string(c.expect_sqlstate)
                 << ", \"our_refusal\": " << json_string(c.our_refusal);
        } else {
            file << ", \"expect_text\": " << json_list(c.expect_text)
                 << ", \"expect_same_as\": " << json_list(c.expect_same_as);
        }
        file << "}" << (i + 1 < cases.size() ? ",\n" : "\n");
    }
    file << "]\n";
    return static_cast<bool>(file);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <output directory>\n", argv[0]);
        return 2;
    }
    std::string directory = argv[1];
    add_vector_valid_cases();
    add_vector_invalid_cases();
    add_halfvec_cases();
    add_sparsevec_valid_cases();
    add_sparsevec_invalid_cases();
    add_array_case();
    for (const Case& c : cases) {
        if (!write_case(directory, c)) {
            std::fprintf(stderr, "cannot write %s/%s.bin\n", directory.c_str(), c.name.c_str());
            return 1;
        }
    }
    if (!write_manifest(directory)) {
        std::fprintf(stderr, "cannot write %s/manifest.json\n", directory.c_str());
        return 1;
    }
    std::printf("%zu cases written to %s\n", cases.size(), directory.c_str());
    return failures == 0 ? 0 : 1;
}
