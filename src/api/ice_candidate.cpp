#include "rtcpp/ice_candidate.hpp"

#include "ice/candidate.hpp"

namespace rtcpp {

Result<RTCIceCandidate> RTCIceCandidate::create(const RTCIceCandidateInit& init) {
  // W3C 4.8.2.1 constructor.
  if (!init.sdp_mid && !init.sdp_m_line_index)
    return type_error("a candidate needs sdpMid or sdpMLineIndex");
  RTCIceCandidate out;
  out.init_ = init;
  if (init.candidate.empty()) return out;
  auto parsed = ice::Candidate::parse(init.candidate);
  if (!parsed) return std::move(parsed).error();
  const ice::Candidate& c = *parsed;
  out.foundation = c.foundation;
  out.component = c.component == 1 ? RTCIceComponent::kRtp : RTCIceComponent::kRtcp;
  out.priority = c.priority;
  out.address = c.address;
  out.protocol =
      c.protocol == ice::TransportProtocol::kUdp ? RTCIceProtocol::kUdp : RTCIceProtocol::kTcp;
  out.port = c.port;
  switch (c.type) {
    case ice::CandidateType::kHost:
      out.type = RTCIceCandidateType::kHost;
      break;
    case ice::CandidateType::kServerReflexive:
      out.type = RTCIceCandidateType::kSrflx;
      break;
    case ice::CandidateType::kPeerReflexive:
      out.type = RTCIceCandidateType::kPrflx;
      break;
    case ice::CandidateType::kRelayed:
      out.type = RTCIceCandidateType::kRelay;
      break;
  }
  switch (c.tcp_type) {
    case ice::TcpType::kActive:
      out.tcp_type = RTCIceTcpCandidateType::kActive;
      break;
    case ice::TcpType::kPassive:
      out.tcp_type = RTCIceTcpCandidateType::kPassive;
      break;
    case ice::TcpType::kSimultaneousOpen:
      out.tcp_type = RTCIceTcpCandidateType::kSo;
      break;
    case ice::TcpType::kNone:
      break;
  }
  if (!c.related_address.empty()) out.related_address = c.related_address;
  out.related_port = c.related_port;
  if (!init.username_fragment && !c.ufrag.empty()) out.init_.username_fragment = c.ufrag;
  return out;
}

}  // namespace rtcpp
