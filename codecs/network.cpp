#include "codecs/network.hpp"

#include <cstring>

#include "codecs/detail/hex.hpp"

namespace pgingest {

namespace {

using detail::hex_value;

constexpr std::uint8_t family_inet = 2;   // PGSQL_AF_INET
constexpr std::uint8_t family_inet6 = 3;  // PGSQL_AF_INET6

Status fail(Errc code, std::size_t at) {
    return Status{code, static_cast<std::uint32_t>(at)};
}

// The ports below read the text as the C code reads its NUL-terminated string: `get` returns 0
// past the end. A NUL inside the text is refused before they run (SQL text cannot hold one).
struct CString {
    std::string_view text;
    [[nodiscard]] int get(std::size_t at) const noexcept {
        return at < text.size() ? static_cast<unsigned char>(text[at]) : 0;
    }
};

bool is_digit(int c) {
    return c >= '0' && c <= '9';
}

bool is_space(int c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Decimal digits from `src` (the first is `ch`, already read) into `value`, capped so that a
// long run cannot overflow; returns the first non-digit and leaves `src` after it.
int read_decimal(const CString& s, std::size_t& src, int ch, int& value, int cap) {
    value = 0;
    do {
        value = value * 10 + (ch - '0');
        if (value > cap) {
            value = cap + 1;
        }
    } while ((ch = s.get(src++)) != 0 && is_digit(ch));
    return ch;
}

// inet_net_pton.c inet_net_pton_ipv4: the inet grammar. Returns bits or -1 (`error_at` set).
int inet_ipv4(const CString& s, std::uint8_t* dst, std::size_t& error_at) {
    std::size_t src = 0;
    std::size_t count = 0;
    int ch = 0;
    while (ch = s.get(src++), is_digit(ch)) {
        int octet = 0;
        ch = read_decimal(s, src, ch, octet, 255);
        if (octet > 255 || count == 4) {
            error_at = src - 2;
            return -1;
        }
        dst[count++] = static_cast<std::uint8_t>(octet);
        if (ch == 0 || ch == '/') {
            break;
        }
        if (ch != '.') {
            error_at = src - 1;
            return -1;
        }
    }
    int bits = -1;
    const std::size_t slash_at = src - 1;
    if (ch == '/' && is_digit(s.get(src)) && count > 0) {
        ch = s.get(src++);
        ch = read_decimal(s, src, ch, bits, 32);
        if (ch != 0 || bits > 32) {
            error_at = ch != 0 ? src - 1 : slash_at;
            return -1;
        }
    }
    if (ch != 0) {
        error_at = src - 1;
        return -1;
    }
    if (bits == -1) {
        if (count != 4) {
            error_at = s.text.size();
            return -1;
        }
        bits = 32;
    }
    if (static_cast<std::size_t>(bits / 8) > count) {
        error_at = slash_at;
        return -1;
    }
    return bits;
}

// The classful default mask of inet_cidr_pton_ipv4 when no /bits is given.
int classful_bits(const std::uint8_t* dst, std::size_t count) {
    int bits = dst[0] >= 240 ? 32 : dst[0] >= 224 ? 8 : dst[0] >= 192 ? 24 : dst[0] >= 128 ? 16 : 8;
    if (bits < static_cast<int>(count * 8)) {
        bits = static_cast<int>(count * 8);
    }
    if (bits == 8 && dst[0] == 224) {
        bits = 4;
    }
    return bits;
}

// The `0x` nybble string of inet_cidr_pton_ipv4; `src` is after the 'x'.
bool cidr_hex(const CString& s, std::size_t& src, int& ch, std::uint8_t* dst, std::size_t& count) {
    int dirty = 0;
    int tmp = 0;
    while ((ch = s.get(src++)) != 0 && hex_value(ch) >= 0) {
        tmp = dirty == 0 ? hex_value(ch) : (tmp << 4) | hex_value(ch);
        if (++dirty == 2) {
            if (count == 4) {
                return false;
            }
            dst[count++] = static_cast<std::uint8_t>(tmp);
            dirty = 0;
        }
    }
    if (dirty != 0) {
        if (count == 4) {
            return false;
        }
        dst[count++] = static_cast<std::uint8_t>(tmp << 4);
    }
    return true;
}

// The dotted decimal string of inet_cidr_pton_ipv4; `ch` is the first digit.
bool cidr_decimal(const CString& s, std::size_t& src, int& ch, std::uint8_t* dst,
                  std::size_t& count) {
    for (;;) {
        int octet = 0;
        ch = read_decimal(s, src, ch, octet, 255);
        if (octet > 255 || count == 4) {
            return false;
        }
        dst[count++] = static_cast<std::uint8_t>(octet);
        if (ch == 0 || ch == '/') {
            return true;
        }
        if (ch != '.') {
            return false;
        }
        ch = s.get(src++);
        if (!is_digit(ch)) {
            return false;
        }
    }
}

// inet_net_pton.c inet_cidr_pton_ipv4 with size 4: the cidr grammar.
int cidr_ipv4(const CString& s, std::uint8_t* dst, std::size_t& error_at) {
    std::size_t src = 0;
    std::size_t count = 0;
    int ch = s.get(src++);
    bool ok = false;
    if (ch == '0' && (s.get(src) == 'x' || s.get(src) == 'X') && hex_value(s.get(src + 1)) >= 0) {
        src++;
        ok = cidr_hex(s, src, ch, dst, count);
    } else if (is_digit(ch)) {
        ok = cidr_decimal(s, src, ch, dst, count);
    }
    if (!ok) {
        error_at = src - 1;
        return -1;
    }
    int bits = -1;
    const std::size_t slash_at = src - 1;
    if (ch == '/' && is_digit(s.get(src)) && count > 0) {
        ch = s.get(src++);
        ch = read_decimal(s, src, ch, bits, 32);
        if (ch != 0 || bits > 32) {
            error_at = ch != 0 ? src - 1 : slash_at;
            return -1;
        }
    }
    if (ch != 0 || count == 0) {
        error_at = src - 1;
        return -1;
    }
    if (bits == -1) {
        bits = classful_bits(dst, count);
    }
    return bits;
}

// inet_net_pton.c getbits: a prefix length without leading zeros, ≤ 128, up to the end.
bool getbits(const CString& s, std::size_t src, int& bits) {
    int value = 0;
    int digits = 0;
    for (int ch; (ch = s.get(src++)) != 0;) {
        if (!is_digit(ch) || (digits++ != 0 && value == 0)) {
            return false;
        }
        value = value * 10 + (ch - '0');
        if (value > 128) {
            return false;
        }
    }
    if (digits == 0) {
        return false;
    }
    bits = value;
    return true;
}

// inet_net_pton.c getv4: a dotted quad (no leading zeros) ending the text, maybe with /bits.
bool getv4(const CString& s, std::size_t src, std::uint8_t* dst, int& bits) {
    std::size_t count = 0;
    unsigned value = 0;
    int digits = 0;
    for (int ch; (ch = s.get(src++)) != 0;) {
        if (is_digit(ch)) {
            if (digits++ != 0 && value == 0) {
                return false;
            }
            value = value * 10 + static_cast<unsigned>(ch - '0');
            if (value > 255) {
                return false;
            }
            continue;
        }
        if (ch != '.' && ch != '/') {
            return false;
        }
        if (count > 3) {
            return false;
        }
        dst[count++] = static_cast<std::uint8_t>(value);
        if (ch == '/') {
            return getbits(s, src, bits);
        }
        value = 0;
        digits = 0;
    }
    if (digits == 0 || count > 3) {
        return false;
    }
    dst[count] = static_cast<std::uint8_t>(value);
    return true;
}

struct Ipv6State {
    std::uint8_t tmp[16] = {};
    std::size_t tp = 0;
    std::ptrdiff_t colonp = -1;
    int bits = -1;
};

// The main loop of inet_cidr_pton_ipv6; false with `error_at` on bad input.
bool ipv6_groups(const CString& s, std::size_t src, Ipv6State& st, std::size_t& error_at) {
    std::size_t curtok = src;
    bool saw_xdigit = false;
    unsigned value = 0;
    int digits = 0;
    for (int ch; (ch = s.get(src++)) != 0;) {
        error_at = src - 1;
        if (int n = hex_value(ch); n >= 0) {
            value = (value << 4) | static_cast<unsigned>(n);
            if (++digits > 4) {
                return false;
            }
            saw_xdigit = true;
            continue;
        }
        if (ch == ':') {
            curtok = src;
            if (!saw_xdigit) {
                if (st.colonp >= 0) {
                    return false;
                }
                st.colonp = static_cast<std::ptrdiff_t>(st.tp);
                continue;
            }
            if (s.get(src) == 0 || st.tp + 2 > 16) {
                return false;
            }
            st.tmp[st.tp++] = static_cast<std::uint8_t>(value >> 8);
            st.tmp[st.tp++] = static_cast<std::uint8_t>(value);
            saw_xdigit = false;
            digits = 0;
            value = 0;
            continue;
        }
        if (ch == '.' && st.tp + 4 <= 16 && getv4(s, curtok, st.tmp + st.tp, st.bits)) {
            st.tp += 4;
            return true;
        }
        if (ch == '/' && getbits(s, src, st.bits)) {
            break;
        }
        return false;
    }
    if (saw_xdigit) {
        if (st.tp + 2 > 16) {
            return false;
        }
        st.tmp[st.tp++] = static_cast<std::uint8_t>(value >> 8);
        st.tmp[st.tp++] = static_cast<std::uint8_t>(value);
    }
    return true;
}

// inet_net_pton.c inet_cidr_pton_ipv6 (also the inet grammar: inet_net_pton_ipv6).
int ipv6(const CString& s, std::uint8_t* dst, std::size_t& error_at) {
    std::size_t src = 0;
    if (s.get(0) == ':' && s.get(++src) != ':') {
        error_at = src;
        return -1;
    }
    Ipv6State st;
    if (!ipv6_groups(s, src, st, error_at)) {
        return -1;
    }
    error_at = s.text.size();
    if (st.colonp >= 0) {
        auto colonp = static_cast<std::size_t>(st.colonp);
        const std::size_t n = st.tp - colonp;
        if (st.tp == 16) {
            return -1;
        }
        for (std::size_t i = 1; i <= n; i++) {
            st.tmp[16 - i] = st.tmp[colonp + n - i];
            st.tmp[colonp + n - i] = 0;
        }
        st.tp = 16;
    }
    if (st.tp != 16) {
        return -1;
    }
    std::memcpy(dst, st.tmp, 16);
    return st.bits == -1 ? 128 : st.bits;
}

// network.c addressOK: no bit set right of the mask.
bool address_ok(const InetValue& value) {
    const std::size_t size = value.address_size();
    std::size_t byte = value.bits / 8u;
    if (byte >= size) {
        return true;
    }
    auto mask = static_cast<std::uint8_t>(value.bits == 0 ? 0xff : 0xff >> (value.bits % 8));
    for (; byte < size; byte++, mask = 0xff) {
        if ((value.address[byte] & mask) != 0) {
            return false;
        }
    }
    return true;
}

// network.c network_in: IPv6 when the text holds a ':', else IPv4.
Status parse_network(std::string_view text, bool is_cidr, InetValue& value) {
    const Errc invalid = is_cidr ? Errc::invalid_cidr : Errc::invalid_inet;
    if (std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
        return fail(invalid, nul);
    }
    const CString s{text};
    InetValue parsed;
    std::size_t error_at = 0;
    int bits = 0;
    if (text.find(':') != std::string_view::npos) {
        parsed.family = family_inet6;
        bits = ipv6(s, parsed.address.data(), error_at);
    } else {
        parsed.family = family_inet;
        bits = is_cidr ? cidr_ipv4(s, parsed.address.data(), error_at)
                       : inet_ipv4(s, parsed.address.data(), error_at);
    }
    if (bits < 0) {
        return fail(invalid, error_at);
    }
    parsed.bits = static_cast<std::uint8_t>(bits);
    if (is_cidr && !address_ok(parsed)) {
        return fail(Errc::cidr_host_bits_set, 0);
    }
    value = parsed;
    return Status{};
}

}  // namespace

Status parse_inet(std::string_view text, InetValue& value) {
    return parse_network(text, false, value);
}

Status parse_cidr(std::string_view text, InetValue& value) {
    return parse_network(text, true, value);
}

void encode_inet(ByteBuffer& out, const InetValue& value, bool is_cidr) {
    const std::size_t size = value.address_size();
    out.put_i32(static_cast<std::int32_t>(4 + size));
    out.put_u8(value.family);
    out.put_u8(value.bits);
    out.put_u8(is_cidr ? 1 : 0);
    out.put_u8(static_cast<std::uint8_t>(size));
    out.put_bytes(value.address.data(), size);
}

Status encode_inet_text(ByteBuffer& out, std::string_view text) {
    InetValue value;
    Status status = parse_inet(text, value);
    if (status.ok()) {
        encode_inet(out, value, false);
    }
    return status;
}

Status encode_cidr_text(ByteBuffer& out, std::string_view text) {
    InetValue value;
    Status status = parse_cidr(text, value);
    if (status.ok()) {
        encode_inet(out, value, true);
    }
    return status;
}

}  // namespace pgingest

namespace pgingest {

namespace {

struct HexRun {
    std::size_t at = 0;
    std::size_t length = 0;
    unsigned value = 0;  // capped at 0x100
};

// Splits `text` (whitespace around it skipped) into runs of hex digits joined by one separator
// each, all the same. False at the first byte that does not fit, in `error_at`.
bool split_runs(std::string_view text, HexRun* runs, std::size_t& count, char& separator,
                std::size_t& error_at) {
    const CString s{text};
    std::size_t at = 0;
    while (is_space(s.get(at))) {
        at++;
    }
    count = 0;
    separator = 0;
    for (;;) {
        if (count == 6 || hex_value(s.get(at)) < 0) {
            error_at = at;
            return false;
        }
        HexRun& run = runs[count++];
        run.at = at;
        for (int n; (n = hex_value(s.get(at))) >= 0; at++, run.length++) {
            run.value = run.value >= 0x100 ? 0x100 : run.value * 16 + static_cast<unsigned>(n);
        }
        int ch = s.get(at);
        if (ch == ':' || ch == '-' || ch == '.') {
            if (separator != 0 && separator != ch) {
                error_at = at;
                return false;
            }
            separator = static_cast<char>(ch);
            at++;
            continue;
        }
        while (is_space(s.get(at))) {
            at++;
        }
        error_at = at;
        return at == text.size();
    }
}

// The packed forms: `count` runs of `width` digits each, two digits a byte.
bool packed(std::string_view text, const HexRun* runs, std::size_t count, std::size_t width,
            std::array<std::uint8_t, 6>& bytes) {
    std::size_t k = 0;
    for (std::size_t r = 0; r < count; r++) {
        if (runs[r].length != width) {
            return false;
        }
        for (std::size_t i = 0; i < width; i += 2) {
            bytes[k++] = static_cast<std::uint8_t>(hex_value(text[runs[r].at + i]) * 16 +
                                                   hex_value(text[runs[r].at + i + 1]));
        }
    }
    return true;
}

// mac8.c hex2_to_uchar: two hex digits.
bool hex_pair(const CString& s, std::size_t at, std::uint8_t& byte) {
    int high = hex_value(s.get(at));
    int low = hex_value(s.get(at + 1));
    if (high < 0 || low < 0) {
        return false;
    }
    byte = static_cast<std::uint8_t>(high * 16 + low);
    return true;
}

}  // namespace

Status parse_macaddr(std::string_view text, std::array<std::uint8_t, 6>& bytes) {
    HexRun runs[6];
    std::size_t count = 0;
    char separator = 0;
    std::size_t error_at = 0;
    if (!split_runs(text, runs, count, separator, error_at)) {
        return fail(Errc::invalid_macaddr, error_at);
    }
    std::array<std::uint8_t, 6> parsed{};
    bool ok = false;
    if (count == 6 && (separator == ':' || separator == '-')) {
        for (std::size_t k = 0; k < 6; k++) {
            if (runs[k].value > 0xff) {
                return fail(Errc::macaddr_octet_out_of_range, runs[k].at);
            }
            parsed[k] = static_cast<std::uint8_t>(runs[k].value);
        }
        ok = true;
    } else if (count == 2 && (separator == ':' || separator == '-')) {
        ok = packed(text, runs, 2, 6, parsed);
    } else if (count == 3 && (separator == '.' || separator == '-')) {
        ok = packed(text, runs, 3, 4, parsed);
    } else if (count == 1) {
        ok = packed(text, runs, 1, 12, parsed);
    }
    if (!ok) {
        return fail(Errc::invalid_macaddr, runs[0].at);
    }
    bytes = parsed;
    return Status{};
}

// mac8.c macaddr8_in, step by step.
Status parse_macaddr8(std::string_view text, std::array<std::uint8_t, 8>& bytes) {
    if (std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
        return fail(Errc::invalid_macaddr8, nul);
    }
    const CString s{text};
    std::size_t ptr = 0;
    while (is_space(s.get(ptr))) {
        ptr++;
    }
    std::uint8_t parsed[8] = {};
    std::size_t count = 0;
    int spacer = 0;
    while (s.get(ptr) != 0 && s.get(ptr + 1) != 0) {
        if (count == 8 || !hex_pair(s, ptr, parsed[count])) {
            return fail(Errc::invalid_macaddr8, ptr);
        }
        count++;
        ptr += 2;
        if (int ch = s.get(ptr); ch == ':' || ch == '-' || ch == '.') {
            if (spacer != 0 && spacer != ch) {
                return fail(Errc::invalid_macaddr8, ptr);
            }
            spacer = ch;
            ptr++;
        }
        if ((count == 6 || count == 8) && is_space(s.get(ptr))) {
            while (is_space(s.get(ptr))) {
                ptr++;
            }
            if (s.get(ptr) != 0) {
                return fail(Errc::invalid_macaddr8, ptr);
            }
        }
    }
    if (count == 6) {
        const std::uint8_t six[8] = {parsed[0], parsed[1], parsed[2], 0xff,
                                     0xfe,      parsed[3], parsed[4], parsed[5]};
        std::memcpy(parsed, six, 8);
    } else if (count != 8) {
        return fail(Errc::invalid_macaddr8, ptr);
    }
    std::memcpy(bytes.data(), parsed, 8);
    return Status{};
}

Status encode_macaddr_text(ByteBuffer& out, std::string_view text) {
    std::array<std::uint8_t, 6> bytes{};
    Status status = parse_macaddr(text, bytes);
    if (status.ok()) {
        out.put_i32(6);
        out.put_bytes(bytes.data(), bytes.size());
    }
    return status;
}

Status encode_macaddr8_text(ByteBuffer& out, std::string_view text) {
    std::array<std::uint8_t, 8> bytes{};
    Status status = parse_macaddr8(text, bytes);
    if (status.ok()) {
        out.put_i32(8);
        out.put_bytes(bytes.data(), bytes.size());
    }
    return status;
}

}  // namespace pgingest
