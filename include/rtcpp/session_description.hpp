// rtcpp/session_description.hpp: RTCSdpType and RTCSessionDescriptionInit (W3C WebRTC 1.0,
// section 4.8).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rtcpp {

enum class RTCSdpType { kOffer, kPranswer, kAnswer, kRollback };

// "offer", "pranswer", "answer", "rollback".
std::string_view to_string(RTCSdpType type) noexcept;
// The enum value of its string form; nullopt for anything else.
std::optional<RTCSdpType> sdp_type_from_string(std::string_view text) noexcept;

// A description as it crosses the signaling channel. An empty `sdp` in set_local_description
// means "the one create_offer/create_answer made last".
struct RTCSessionDescriptionInit {
  RTCSdpType type = RTCSdpType::kOffer;
  std::string sdp;
  friend bool operator==(const RTCSessionDescriptionInit&,
                         const RTCSessionDescriptionInit&) = default;
};

}  // namespace rtcpp
