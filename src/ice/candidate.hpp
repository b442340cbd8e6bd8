// ICE candidates (RFC 8445 section 5.1) and their SDP text form (RFC 8839 section 5.1), parsed
// and written the way browsers write them, e.g.
//   candidate:2472052021 1 udp 2122260223 127.0.0.1 39264 typ host generation 0 ufrag C/TQ
//   network-id 1 network-cost 50
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/net.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::ice {

enum class CandidateType : std::uint8_t { kHost, kServerReflexive, kPeerReflexive, kRelayed };
enum class TransportProtocol : std::uint8_t { kUdp, kTcp };
// RFC 6544 4.5.
enum class TcpType : std::uint8_t { kNone, kActive, kPassive, kSimultaneousOpen };

// "host", "srflx", "prflx", "relay".
std::string_view to_string(CandidateType type) noexcept;
std::string_view to_string(TcpType type) noexcept;

// Limits for hostile input.
inline constexpr std::size_t kMaxCandidateLength = 1024;
inline constexpr std::size_t kMaxCandidateExtensions = 32;

struct Candidate {
  std::string foundation;  // 1-32 ice-chars
  std::uint16_t component = 1;
  TransportProtocol protocol = TransportProtocol::kUdp;
  std::uint32_t priority = 0;
  // An IP literal, or a hostname (browsers hide their addresses behind "<uuid>.local"
  // mDNS names, RFC 8445 5.1.1.1 and draft-ietf-mmusic-mdns-ice-candidates).
  std::string address;
  std::uint16_t port = 0;
  CandidateType type = CandidateType::kHost;
  std::string related_address;  // raddr, empty when absent
  std::optional<std::uint16_t> related_port;
  TcpType tcp_type = TcpType::kNone;
  // Extensions browsers write, in the order they write them.
  std::optional<std::uint32_t> generation;
  std::string ufrag;
  std::optional<std::uint32_t> network_id;
  std::optional<std::uint32_t> network_cost;
  // Other extensions, kept in order so the candidate writes back as it came.
  std::vector<std::pair<std::string, std::string>> extensions;

  // Parses "candidate:...", "a=candidate:..." or the bare attribute value. A malformed
  // candidate is a SyntaxError (what a browser's addIceCandidate rejects with, as an
  // OperationError wrapping it).
  static Result<Candidate> parse(std::string_view text);
  // "candidate:..." as browsers write it.
  std::string to_string() const;

  // The address as an IP when it is a literal (nullopt for a hostname).
  std::optional<IpAddress> ip() const;
  // True for "<name>.local" mDNS hostnames.
  bool is_mdns() const;
  // The transport address, when the address is an IP literal.
  std::optional<SocketAddress> socket_address() const;

  friend bool operator==(const Candidate&, const Candidate&) = default;
};

// RFC 8445 5.1.2.1: priority = 2^24 * type preference + 2^8 * local preference
// + (256 - component id).
constexpr std::uint32_t compute_priority(std::uint32_t type_preference,
                                         std::uint32_t local_preference,
                                         std::uint32_t component) noexcept {
  return (type_preference << 24) + (local_preference << 8) + (256 - component);
}

// RFC 8445 5.1.2.2 recommended type preferences.
constexpr std::uint32_t recommended_type_preference(CandidateType type) noexcept {
  switch (type) {
    case CandidateType::kHost:
      return 126;
    case CandidateType::kPeerReflexive:
      return 110;
    case CandidateType::kServerReflexive:
      return 100;
    case CandidateType::kRelayed:
      return 0;
  }
  return 0;
}

// RFC 6544 4.2: TCP candidates rank below UDP ones of the same type, so that UDP is used
// whenever it works (the values browsers use: a TCP host candidate below a UDP server-reflexive
// one). Only host and peer-reflexive TCP candidates exist here.
constexpr std::uint32_t tcp_type_preference(CandidateType type) noexcept {
  return type == CandidateType::kPeerReflexive ? 80 : 90;
}

// RFC 6544 4.2: the local preference of a TCP candidate is 2^13 * direction-pref + other-pref,
// with direction-pref 6 for active and 4 for passive host candidates (a connection we open
// is likelier to get through a NAT or firewall than one we wait for), other-pref < 2^13.
constexpr std::uint32_t tcp_local_preference(TcpType tcp_type, std::uint32_t other) noexcept {
  const std::uint32_t direction = tcp_type == TcpType::kActive    ? 6
                                  : tcp_type == TcpType::kPassive ? 4
                                                                  : 2;
  return (direction << 13) + (other < 8192 ? other : 8191);
}

}  // namespace rtcpp::ice
