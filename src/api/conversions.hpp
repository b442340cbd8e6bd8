// Shared helpers of the public API implementation: enum mappings between the protocol cores
// and the W3C types, configuration checks, clocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/net.hpp"
#include "dtls/dtls_transport.hpp"
#include "ice/agent.hpp"
#include "pc/ice_servers.hpp"
#include "pc/jsep.hpp"
#include "rtcpp/configuration.hpp"
#include "rtcpp/dtls_transport.hpp"
#include "rtcpp/ice_transport.hpp"
#include "rtcpp/peer_connection.hpp"
#include "rtcpp/rtp_transceiver.hpp"

namespace rtcpp::detail {

RTCIceGatheringState from_ice(ice::IceGatheringState state) noexcept;
RTCIceTransportState from_ice(ice::IceTransportState state) noexcept;
RTCDtlsTransportState from_dtls(dtls::DtlsState state) noexcept;
RTCRtpTransceiverDirection to_api(pc::RtpDirection direction) noexcept;
pc::RtpDirection from_api(RTCRtpTransceiverDirection direction) noexcept;

// W3C 4.3.3, for the one ICE transport and the one DTLS transport of a bundled connection
// (before the first description, their "new" states stand for "no transports").
// RTCIceConnectionState: "closed" only once the connection is closed ([[IsClosed]]); a closed
// ICE transport of an open connection counts as "new".
RTCIceConnectionState ice_connection_state_of(RTCIceTransportState ice, bool is_closed) noexcept;
// RTCPeerConnectionState from [[IceConnectionState]] and the DTLS transport's state.
RTCPeerConnectionState connection_state_of(RTCIceConnectionState ice,
                                           RTCDtlsTransportState dtls) noexcept;

// Milliseconds since the Unix epoch (RTCCertificate.expires and stats timestamps use it).
double unix_time_ms() noexcept;

// W3C 4.4.1.6: urls present and valid; TURN needs a username and a credential
// (InvalidAccessError).
Result<> validate_configuration(const RTCConfiguration& configuration);

// Sets a local candidate's url and relay_protocol from where the core says it came from.
void set_origin(RTCIceCandidate& candidate, const std::string& url,
                const std::string& relay_protocol);
}  // namespace rtcpp::detail
