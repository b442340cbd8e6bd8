// Demultiplexing of the protocols that share one 5-tuple (RFC 7983, updated by RFC 9443),
// by the first byte of each datagram.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/bytes.hpp"

namespace rtcpp::pc {

enum class PacketKind : std::uint8_t {
  kStun,             // 0-3
  kZrtp,             // 16-19 (recognised so that it is dropped by name)
  kDtls,             // 20-63
  kTurnChannelData,  // 64-79
  kRtpOrRtcp,        // 128-191
  kUnknown,          // everything else: dropped
};

std::string_view to_string(PacketKind kind) noexcept;

constexpr PacketKind classify_packet(BytesView datagram) noexcept {
  if (datagram.empty()) return PacketKind::kUnknown;
  const std::uint8_t b = datagram[0];
  if (b <= 3) return PacketKind::kStun;
  if (b >= 16 && b <= 19) return PacketKind::kZrtp;
  if (b >= 20 && b <= 63) return PacketKind::kDtls;
  if (b >= 64 && b <= 79) return PacketKind::kTurnChannelData;
  if (b >= 128 && b <= 191) return PacketKind::kRtpOrRtcp;
  return PacketKind::kUnknown;
}

// RFC 5761 4: within RTP/RTCP, payload types 64-95 (the second byte's low 7 bits) are RTCP.
constexpr bool is_rtcp(BytesView datagram) noexcept {
  if (datagram.size() < 2) return false;
  const std::uint8_t pt = datagram[1] & 0x7F;
  return pt >= 64 && pt <= 95;
}

}  // namespace rtcpp::pc
