// The W3C enum strings of the public types.
#include "rtcpp/rtcpp.hpp"

namespace rtcpp {

std::string_view to_string(RTCSdpType type) noexcept {
  switch (type) {
    case RTCSdpType::kOffer:
      return "offer";
    case RTCSdpType::kPranswer:
      return "pranswer";
    case RTCSdpType::kAnswer:
      return "answer";
    case RTCSdpType::kRollback:
      return "rollback";
  }
  return "";
}

std::optional<RTCSdpType> sdp_type_from_string(std::string_view text) noexcept {
  for (auto type :
       {RTCSdpType::kOffer, RTCSdpType::kPranswer, RTCSdpType::kAnswer, RTCSdpType::kRollback}) {
    if (to_string(type) == text) return type;
  }
  return std::nullopt;
}

std::string_view to_string(RTCIceProtocol value) noexcept {
  return value == RTCIceProtocol::kUdp ? "udp" : "tcp";
}

std::string_view to_string(RTCIceCandidateType value) noexcept {
  switch (value) {
    case RTCIceCandidateType::kHost:
      return "host";
    case RTCIceCandidateType::kSrflx:
      return "srflx";
    case RTCIceCandidateType::kPrflx:
      return "prflx";
    case RTCIceCandidateType::kRelay:
      return "relay";
  }
  return "";
}

std::string_view to_string(RTCIceTcpCandidateType value) noexcept {
  switch (value) {
    case RTCIceTcpCandidateType::kActive:
      return "active";
    case RTCIceTcpCandidateType::kPassive:
      return "passive";
    case RTCIceTcpCandidateType::kSo:
      return "so";
  }
  return "";
}

std::string_view to_string(RTCIceServerTransportProtocol value) noexcept {
  switch (value) {
    case RTCIceServerTransportProtocol::kUdp:
      return "udp";
    case RTCIceServerTransportProtocol::kTcp:
      return "tcp";
    case RTCIceServerTransportProtocol::kTls:
      return "tls";
  }
  return "";
}

std::string_view to_string(RTCIceComponent value) noexcept {
  return value == RTCIceComponent::kRtp ? "rtp" : "rtcp";
}

std::string_view to_string(RTCIceTransportPolicy value) noexcept {
  return value == RTCIceTransportPolicy::kAll ? "all" : "relay";
}

std::string_view to_string(RTCIceCandidateProtocols value) noexcept {
  switch (value) {
    case RTCIceCandidateProtocols::kUdpAndTcp:
      return "udp-and-tcp";
    case RTCIceCandidateProtocols::kUdpOnly:
      return "udp-only";
    case RTCIceCandidateProtocols::kTcpOnly:
      return "tcp-only";
  }
  return "udp-and-tcp";
}

std::string_view to_string(RTCBundlePolicy value) noexcept {
  switch (value) {
    case RTCBundlePolicy::kBalanced:
      return "balanced";
    case RTCBundlePolicy::kMaxCompat:
      return "max-compat";
    case RTCBundlePolicy::kMaxBundle:
      return "max-bundle";
  }
  return "";
}

std::string_view to_string(RTCRtcpMuxPolicy) noexcept {
  return "require";
}

std::string_view to_string(RTCIceRole value) noexcept {
  switch (value) {
    case RTCIceRole::kUnknown:
      return "unknown";
    case RTCIceRole::kControlling:
      return "controlling";
    case RTCIceRole::kControlled:
      return "controlled";
  }
  return "";
}

std::string_view to_string(RTCIceTransportState value) noexcept {
  switch (value) {
    case RTCIceTransportState::kNew:
      return "new";
    case RTCIceTransportState::kChecking:
      return "checking";
    case RTCIceTransportState::kConnected:
      return "connected";
    case RTCIceTransportState::kCompleted:
      return "completed";
    case RTCIceTransportState::kDisconnected:
      return "disconnected";
    case RTCIceTransportState::kFailed:
      return "failed";
    case RTCIceTransportState::kClosed:
      return "closed";
  }
  return "";
}

std::string_view to_string(RTCIceGathererState value) noexcept {
  switch (value) {
    case RTCIceGathererState::kNew:
      return "new";
    case RTCIceGathererState::kGathering:
      return "gathering";
    case RTCIceGathererState::kComplete:
      return "complete";
  }
  return "";
}

std::string_view to_string(RTCDtlsTransportState value) noexcept {
  switch (value) {
    case RTCDtlsTransportState::kNew:
      return "new";
    case RTCDtlsTransportState::kConnecting:
      return "connecting";
    case RTCDtlsTransportState::kConnected:
      return "connected";
    case RTCDtlsTransportState::kClosed:
      return "closed";
    case RTCDtlsTransportState::kFailed:
      return "failed";
  }
  return "";
}

std::string_view to_string(RTCSctpTransportState value) noexcept {
  switch (value) {
    case RTCSctpTransportState::kConnecting:
      return "connecting";
    case RTCSctpTransportState::kConnected:
      return "connected";
    case RTCSctpTransportState::kClosed:
      return "closed";
  }
  return "";
}

std::string_view to_string(RTCDataChannelState value) noexcept {
  switch (value) {
    case RTCDataChannelState::kConnecting:
      return "connecting";
    case RTCDataChannelState::kOpen:
      return "open";
    case RTCDataChannelState::kClosing:
      return "closing";
    case RTCDataChannelState::kClosed:
      return "closed";
  }
  return "";
}

std::string_view to_string(RTCSignalingState value) noexcept {
  switch (value) {
    case RTCSignalingState::kStable:
      return "stable";
    case RTCSignalingState::kHaveLocalOffer:
      return "have-local-offer";
    case RTCSignalingState::kHaveRemoteOffer:
      return "have-remote-offer";
    case RTCSignalingState::kHaveLocalPranswer:
      return "have-local-pranswer";
    case RTCSignalingState::kHaveRemotePranswer:
      return "have-remote-pranswer";
    case RTCSignalingState::kClosed:
      return "closed";
  }
  return "";
}

std::string_view to_string(RTCIceGatheringState value) noexcept {
  return to_string(static_cast<RTCIceGathererState>(value));
}

std::string_view to_string(RTCIceConnectionState value) noexcept {
  return to_string(static_cast<RTCIceTransportState>(value));
}

std::string_view to_string(RTCPeerConnectionState value) noexcept {
  switch (value) {
    case RTCPeerConnectionState::kNew:
      return "new";
    case RTCPeerConnectionState::kConnecting:
      return "connecting";
    case RTCPeerConnectionState::kConnected:
      return "connected";
    case RTCPeerConnectionState::kDisconnected:
      return "disconnected";
    case RTCPeerConnectionState::kFailed:
      return "failed";
    case RTCPeerConnectionState::kClosed:
      return "closed";
  }
  return "";
}

}  // namespace rtcpp
