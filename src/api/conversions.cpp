#include "api/conversions.hpp"

#include <chrono>

namespace rtcpp::detail {

RTCIceGatheringState from_ice(ice::IceGatheringState state) noexcept {
  switch (state) {
    case ice::IceGatheringState::kNew:
      return RTCIceGatheringState::kNew;
    case ice::IceGatheringState::kGathering:
      return RTCIceGatheringState::kGathering;
    case ice::IceGatheringState::kComplete:
      return RTCIceGatheringState::kComplete;
  }
  return RTCIceGatheringState::kNew;
}

RTCIceTransportState from_ice(ice::IceTransportState state) noexcept {
  switch (state) {
    case ice::IceTransportState::kNew:
      return RTCIceTransportState::kNew;
    case ice::IceTransportState::kChecking:
      return RTCIceTransportState::kChecking;
    case ice::IceTransportState::kConnected:
      return RTCIceTransportState::kConnected;
    case ice::IceTransportState::kCompleted:
      return RTCIceTransportState::kCompleted;
    case ice::IceTransportState::kDisconnected:
      return RTCIceTransportState::kDisconnected;
    case ice::IceTransportState::kFailed:
      return RTCIceTransportState::kFailed;
    case ice::IceTransportState::kClosed:
      return RTCIceTransportState::kClosed;
  }
  return RTCIceTransportState::kNew;
}

RTCDtlsTransportState from_dtls(dtls::DtlsState state) noexcept {
  switch (state) {
    case dtls::DtlsState::kNew:
      return RTCDtlsTransportState::kNew;
    case dtls::DtlsState::kConnecting:
      return RTCDtlsTransportState::kConnecting;
    case dtls::DtlsState::kConnected:
      return RTCDtlsTransportState::kConnected;
    case dtls::DtlsState::kClosed:
      return RTCDtlsTransportState::kClosed;
    case dtls::DtlsState::kFailed:
      return RTCDtlsTransportState::kFailed;
  }
  return RTCDtlsTransportState::kNew;
}

RTCIceConnectionState ice_connection_state_of(RTCIceTransportState ice, bool is_closed) noexcept {
  if (is_closed) return RTCIceConnectionState::kClosed;
  switch (ice) {
    case RTCIceTransportState::kFailed:
      return RTCIceConnectionState::kFailed;
    case RTCIceTransportState::kDisconnected:
      return RTCIceConnectionState::kDisconnected;
    case RTCIceTransportState::kNew:
    case RTCIceTransportState::kClosed:
      return RTCIceConnectionState::kNew;
    case RTCIceTransportState::kChecking:
      return RTCIceConnectionState::kChecking;
    case RTCIceTransportState::kCompleted:
      return RTCIceConnectionState::kCompleted;
    case RTCIceTransportState::kConnected:
      return RTCIceConnectionState::kConnected;
  }
  return RTCIceConnectionState::kNew;
}

RTCPeerConnectionState connection_state_of(RTCIceConnectionState ice,
                                           RTCDtlsTransportState dtls) noexcept {
  // The first of these that applies, in the order of the enum's table.
  const bool dtls_new_or_closed =
      dtls == RTCDtlsTransportState::kNew || dtls == RTCDtlsTransportState::kClosed;
  const bool dtls_connected_or_closed =
      dtls == RTCDtlsTransportState::kConnected || dtls == RTCDtlsTransportState::kClosed;
  if (ice == RTCIceConnectionState::kClosed) return RTCPeerConnectionState::kClosed;
  if (ice == RTCIceConnectionState::kFailed || dtls == RTCDtlsTransportState::kFailed)
    return RTCPeerConnectionState::kFailed;
  if (ice == RTCIceConnectionState::kDisconnected) return RTCPeerConnectionState::kDisconnected;
  if (ice == RTCIceConnectionState::kNew && dtls_new_or_closed) return RTCPeerConnectionState::kNew;
  // The table names [[IceConnectionState]] "connected" alone; "completed" counts too, as the
  // note under the table has it ("connecting" is when a transport is still new or checking,
  // or the DTLS transport new or connecting) and as the table said before it was phrased on
  // [[IceConnectionState]].
  if ((ice == RTCIceConnectionState::kConnected || ice == RTCIceConnectionState::kCompleted) &&
      dtls_connected_or_closed)
    return RTCPeerConnectionState::kConnected;
  return RTCPeerConnectionState::kConnecting;
}

double unix_time_ms() noexcept {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) /
         1000.0;
}

Result<> validate_configuration(const RTCConfiguration& configuration) {
  for (const auto& server : configuration.ice_servers) {
    if (auto valid = pc::validate_ice_server(server.urls, server.username, server.credential);
        !valid)
      return valid;
  }
  for (const auto& certificate : configuration.certificates) {
    if (!certificate) return type_error("certificates contains a null certificate");
  }
  return {};
}

void set_origin(RTCIceCandidate& candidate, const std::string& url,
                const std::string& relay_protocol) {
  // W3C 4.8.2: url for "srflx" and "relay" candidates, relayProtocol for "relay" ones.
  const auto type = candidate.type;
  if (!url.empty() && (type == RTCIceCandidateType::kSrflx || type == RTCIceCandidateType::kRelay))
    candidate.url = url;
  if (type != RTCIceCandidateType::kRelay) return;
  if (relay_protocol == "udp") candidate.relay_protocol = RTCIceServerTransportProtocol::kUdp;
  if (relay_protocol == "tcp") candidate.relay_protocol = RTCIceServerTransportProtocol::kTcp;
  if (relay_protocol == "tls") candidate.relay_protocol = RTCIceServerTransportProtocol::kTls;
}

RTCRtpTransceiverDirection to_api(pc::RtpDirection direction) noexcept {
  switch (direction) {
    case pc::RtpDirection::kSendRecv:
      return RTCRtpTransceiverDirection::kSendRecv;
    case pc::RtpDirection::kSendOnly:
      return RTCRtpTransceiverDirection::kSendOnly;
    case pc::RtpDirection::kRecvOnly:
      return RTCRtpTransceiverDirection::kRecvOnly;
    case pc::RtpDirection::kInactive:
      return RTCRtpTransceiverDirection::kInactive;
  }
  return RTCRtpTransceiverDirection::kInactive;
}

pc::RtpDirection from_api(RTCRtpTransceiverDirection direction) noexcept {
  switch (direction) {
    case RTCRtpTransceiverDirection::kSendRecv:
      return pc::RtpDirection::kSendRecv;
    case RTCRtpTransceiverDirection::kSendOnly:
      return pc::RtpDirection::kSendOnly;
    case RTCRtpTransceiverDirection::kRecvOnly:
      return pc::RtpDirection::kRecvOnly;
    case RTCRtpTransceiverDirection::kInactive:
    case RTCRtpTransceiverDirection::kStopped:
      return pc::RtpDirection::kInactive;
  }
  return pc::RtpDirection::kInactive;
}

}  // namespace rtcpp::detail
