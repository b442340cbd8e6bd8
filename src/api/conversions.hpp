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
#include "rtcpp/configuration.hpp"
#include "rtcpp/dtls_transport.hpp"
#include "rtcpp/ice_transport.hpp"
#include "rtcpp/peer_connection.hpp"

namespace rtcpp::detail {

RTCIceGatheringState from_ice(ice::IceGatheringState state) noexcept;
RTCIceTransportState from_ice(ice::IceTransportState state) noexcept;
RTCDtlsTransportState from_dtls(dtls::DtlsState state) noexcept;

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

// A STUN or TURN URL (RFC 7064, RFC 7065).
struct IceServerUrl {
  std::string scheme;  // "stun", "stuns", "turn", "turns"
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 3478;
  std::string transport;  // "udp", "tcp" or "" (TURN only)
};
// SyntaxError for anything that is not one (W3C 4.4.1.6 validate the ICE servers).
Result<IceServerUrl> parse_ice_server_url(std::string_view url);
// W3C 4.4.1.6: urls present and valid; TURN needs a username and a credential
// (InvalidAccessError).
Result<> validate_configuration(const RTCConfiguration& configuration);
// The host as an IP literal with the port; nullopt for a name (resolved by the runtime).
std::optional<SocketAddress> resolve_literal(const std::string& host, std::uint16_t port);

}  // namespace rtcpp::detail
