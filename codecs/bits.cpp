#include "codecs/bits.hpp"

#include "codecs/detail/hex.hpp"

namespace pgingest {

namespace {

using detail::hex_value;

// VARBITMAXLEN (utils/varbit.h): INT_MAX - BITS_PER_BYTE + 1.
constexpr std::size_t varbit_length_max = 2147483647 - 8 + 1;

Status fail(Errc code, std::size_t at) {
    return Status{code, static_cast<std::uint32_t>(at)};
}

// Writes the digits from text[start] on into `data` (zeroed, ⌈bits/8⌉ bytes).
Status fill_bits(std::string_view text, std::size_t start, bool hex, char* data) {
    std::size_t bit = 0;
    for (std::size_t at = start; at < text.size(); at++) {
        int value = 0;
        int width = 1;
        if (hex) {
            value = hex_value(text[at]);
            width = 4;
            if (value < 0) {
                return fail(Errc::bit_invalid_hex_digit, at);
            }
        } else if (text[at] == '0' || text[at] == '1') {
            value = text[at] - '0';
        } else {
            return fail(Errc::bit_invalid_binary_digit, at);
        }
        for (int k = width - 1; k >= 0; k--, bit++) {
            if (((value >> k) & 1) != 0) {
                data[bit / 8] = static_cast<char>(data[bit / 8] | (0x80 >> (bit % 8)));
            }
        }
    }
    return Status{};
}

// bit_in / varbit_in: the length check (exact for bit, at most for varbit) before the digits.
Status encode_bits(ByteBuffer& out, std::string_view text, std::int32_t typmod, bool exact) {
    std::size_t start = 0;
    bool hex = false;
    if (!text.empty() && (text[0] == 'b' || text[0] == 'B' || text[0] == 'x' || text[0] == 'X')) {
        hex = text[0] == 'x' || text[0] == 'X';
        start = 1;
    }
    const std::size_t digits = text.size() - start;
    const std::size_t bits = hex ? digits * 4 : digits;
    if (bits > varbit_length_max) {
        return fail(exact ? Errc::bit_length_mismatch : Errc::varbit_too_long, 0);
    }
    if (typmod > 0) {
        const auto declared = static_cast<std::size_t>(typmod);
        if (exact && bits != declared) {
            return fail(Errc::bit_length_mismatch, 0);
        }
        if (!exact && bits > declared) {
            return fail(Errc::varbit_too_long, 0);
        }
    }
    const std::size_t data_bytes = (bits + 7) / 8;
    const std::size_t start_size = out.size();
    char* field = out.extend(4 + 4 + data_bytes);
    ByteBuffer::store_be(field, static_cast<std::uint32_t>(4 + data_bytes));
    ByteBuffer::store_be(field + 4, static_cast<std::uint32_t>(bits));
    for (std::size_t k = 0; k < data_bytes; k++) {
        field[8 + k] = 0;
    }
    Status status = fill_bits(text, start, hex, field + 8);
    if (!status.ok()) {
        out.truncate(start_size);
    }
    return status;
}

}  // namespace

Status encode_bit_text(ByteBuffer& out, std::string_view text, std::int32_t typmod) {
    return encode_bits(out, text, typmod, true);
}

Status encode_varbit_text(ByteBuffer& out, std::string_view text, std::int32_t typmod) {
    return encode_bits(out, text, typmod, false);
}

}  // namespace pgingest
