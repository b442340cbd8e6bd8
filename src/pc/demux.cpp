#include "pc/demux.hpp"

namespace rtcpp::pc {

std::string_view to_string(PacketKind kind) noexcept {
  switch (kind) {
    case PacketKind::kStun:
      return "stun";
    case PacketKind::kZrtp:
      return "zrtp";
    case PacketKind::kDtls:
      return "dtls";
    case PacketKind::kTurnChannelData:
      return "turn-channel-data";
    case PacketKind::kRtpOrRtcp:
      return "rtp";
    case PacketKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace rtcpp::pc
