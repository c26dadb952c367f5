#pragma once

// inet, cidr, macaddr and macaddr8 in binary COPY (FORMATS.md §2.8).
//
//   inet/cidr : [family:u8 2=IPv4 3=IPv6][bits:u8][is_cidr:u8][nb:u8 4|16][address:u8 × nb]
//   macaddr   : [bytes:u8 × 6]
//   macaddr8  : [bytes:u8 × 8]
//
// Readers: backend/utils/adt/network.c network_recv (inet_recv/cidr_recv: family, bits ≤ 32/128,
// nb matching the family, and for cidr no bits set right of the mask), mac.c macaddr_recv,
// mac8.c macaddr8_recv. Writers: network_send, macaddr_send, macaddr8_send.
// Text input: network.c network_in with utils/adt/inet_net_pton.c (pg_inet_net_pton: the
// IPv4 inet grammar inet_net_pton_ipv4, the classful cidr grammar inet_cidr_pton_ipv4, IPv6
// inet_cidr_pton_ipv6 for both); mac.c macaddr_in; mac8.c macaddr8_in.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codecs/buffer.hpp"
#include "codecs/status.hpp"

namespace pgingest {

/// An inet or cidr value as network.c's inet_struct holds it.
struct InetValue {
    std::uint8_t family = 2;                 ///< PGSQL_AF_INET (2) or PGSQL_AF_INET6 (3)
    std::uint8_t bits = 32;                  ///< netmask length, ≤ 32 or ≤ 128
    std::array<std::uint8_t, 16> address{};  ///< 4 or 16 bytes used, network order

    /// Address bytes used by the family: 4 or 16.
    [[nodiscard]] std::size_t address_size() const noexcept { return family == 2 ? 4 : 16; }
};

/// Field bytes an inet/cidr encoder writes at most (length prefix included).
inline constexpr std::size_t inet_encoded_size_max = 4 + 4 + 16;
/// Field bytes of a macaddr (length prefix included); fixed.
inline constexpr std::size_t macaddr_encoded_size = 4 + 6;
/// Field bytes of a macaddr8 (length prefix included); fixed.
inline constexpr std::size_t macaddr8_encoded_size = 4 + 8;

/// Parses an inet as inet_in does: IPv4 `a.b.c.d[/bits]` (also `a.b/16` when the prefix does
/// not cut into missing octets, and a trailing '.' as the server takes it), IPv6 in every
/// inet_pton form with an optional `/bits` (`::1`, `fe80::1/64`, `::ffff:1.2.3.4`). No
/// whitespace (network_in takes none). `Errc::invalid_inet` at the offending byte. Pure.
[[nodiscard]] Status parse_inet(std::string_view text, InetValue& value);

/// Parses a cidr as cidr_in does: IPv4 networks with classful defaults (`10` = 10.0.0.0/8,
/// `192.168.1` = 192.168.1.0/24, `224` = 224.0.0.0/4) and the `0x` hex form, IPv6 as for inet.
/// `Errc::invalid_cidr` at the offending byte; `Errc::cidr_host_bits_set` (position 0) when a
/// bit right of the mask is set (server: 22P02 invalid cidr value, DETAIL: Value has bits set
/// to right of mask.). Pure.
[[nodiscard]] Status parse_cidr(std::string_view text, InetValue& value);

/// Parses a macaddr in one of macaddr_in's formats, surrounded by optional whitespace:
/// `08:00:2b:01:02:03`, `08-00-2b-01-02-03` (groups of one or more hex digits),
/// `08002b:010203`, `08002b-010203`, `0800.2b01.0203`, `0800-2b01-0203`, `08002b010203`.
/// Narrower than macaddr_in's sscanf: no signs, `0x` prefixes or whitespace inside, and the
/// packed forms need every digit. `Errc::invalid_macaddr` at the offending byte;
/// `Errc::macaddr_octet_out_of_range` at a group above ff. Pure.
[[nodiscard]] Status parse_macaddr(std::string_view text, std::array<std::uint8_t, 6>& bytes);

/// Parses a macaddr8 as macaddr8_in does: leading whitespace, 6 or 8 pairs of hex digits,
/// optionally separated by one of `:`, `-`, `.` used consistently, trailing whitespace after
/// the 6th or 8th pair. A 6-byte address becomes EUI-64 with FF:FE inserted in the middle.
/// `Errc::invalid_macaddr8` at the offending byte. Pure.
[[nodiscard]] Status parse_macaddr8(std::string_view text, std::array<std::uint8_t, 8>& bytes);

/// Appends an inet (`is_cidr` false) or cidr field as network_send writes it. Does not fail.
void encode_inet(ByteBuffer& out, const InetValue& value, bool is_cidr);

/// `parse_inet` then `encode_inet`; on error appends nothing.
[[nodiscard]] Status encode_inet_text(ByteBuffer& out, std::string_view text);
/// `parse_cidr` then `encode_inet` as cidr; on error appends nothing.
[[nodiscard]] Status encode_cidr_text(ByteBuffer& out, std::string_view text);
/// `parse_macaddr` then the 6 bytes; on error appends nothing.
[[nodiscard]] Status encode_macaddr_text(ByteBuffer& out, std::string_view text);
/// `parse_macaddr8` then the 8 bytes; on error appends nothing.
[[nodiscard]] Status encode_macaddr8_text(ByteBuffer& out, std::string_view text);

}  // namespace pgingest
