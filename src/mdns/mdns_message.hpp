// The part of multicast DNS (RFC 6762, on the DNS message format of RFC 1035) that ICE needs:
// browsers hide their host addresses behind random "<uuid>.local" names
// (draft-ietf-mmusic-mdns-ice-candidates), and resolving one takes a query for its A and
// AAAA records and the address records of the answers. Parsing treats input as hostile:
// bounded reads, bounded name compression, a bounded number of records, errors as values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/net.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::mdns {

inline constexpr std::uint16_t kPort = 5353;
// RFC 6762 3: the IPv4 link-local multicast group.
inline constexpr std::uint32_t kGroupV4 = 0xE00000FB;  // 224.0.0.251

// A name ICE may carry in place of an address: labels of letters, digits and '-', ending in
// ".local", at most 253 characters.
bool is_local_hostname(std::string_view name) noexcept;

// One-shot queries (RFC 6762 5.1) for the A and AAAA records of `name`, with the QU bit
// (5.4) asking for a unicast answer. `name` must pass is_local_hostname (InvalidAccessError).
Result<Buffer> build_query(std::string_view name, std::uint16_t id);

struct AddressRecord {
  std::string name;  // lower-cased, without the trailing dot
  IpAddress address;
  std::uint32_t ttl = 0;
};

enum class MdnsError : std::uint8_t {
  kMalformed,    // truncated, bad label, compression loop or too many records
  kNotResponse,  // a query (someone else's), not an answer
};

// The A and AAAA records among a response's answers and additional records (others are
// skipped). RFC 6762 18: responses are recognised by the QR bit; their ID may be anything.
Expected<std::vector<AddressRecord>, MdnsError> parse_response(BytesView message);

// Bounds for hostile input.
inline constexpr std::size_t kMaxRecords = 64;
inline constexpr int kMaxPointerJumps = 16;

}  // namespace rtcpp::mdns
