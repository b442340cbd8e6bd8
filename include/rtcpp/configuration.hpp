// rtcpp/configuration.hpp: RTCConfiguration and RTCIceServer (W3C WebRTC 1.0, section 4.2).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rtcpp/certificate.hpp"

namespace rtcpp {

// One STUN or TURN server: "stun:host[:port]", "stuns:...", "turn:host[:port][?transport=udp|tcp]"
// or "turns:..." (RFC 7064, RFC 7065). TURN URLs need a username and a credential.
struct RTCIceServer {
  std::vector<std::string> urls;
  std::string username;
  std::string credential;
};

enum class RTCIceTransportPolicy { kAll, kRelay };
enum class RTCBundlePolicy { kBalanced, kMaxCompat, kMaxBundle };
enum class RTCRtcpMuxPolicy { kRequire };
// rtcpp extension: the transports local candidates are gathered on (see
// RTCConfiguration::ice_candidate_protocols).
enum class RTCIceCandidateProtocols { kUdpAndTcp, kUdpOnly, kTcpOnly };

std::string_view to_string(RTCIceTransportPolicy value) noexcept;
std::string_view to_string(RTCBundlePolicy value) noexcept;
std::string_view to_string(RTCRtcpMuxPolicy value) noexcept;
std::string_view to_string(RTCIceCandidateProtocols value) noexcept;

struct RTCConfiguration {
  std::vector<RTCIceServer> ice_servers;
  RTCIceTransportPolicy ice_transport_policy = RTCIceTransportPolicy::kAll;
  RTCBundlePolicy bundle_policy = RTCBundlePolicy::kBalanced;
  RTCRtcpMuxPolicy rtcp_mux_policy = RTCRtcpMuxPolicy::kRequire;
  // The DTLS identity; one is generated (ECDSA P-256) when empty. Only the first is used.
  std::vector<std::shared_ptr<const RTCCertificate>> certificates;
  // Non-zero: candidates (and TURN allocations) are gathered as soon as the connection exists,
  // and surfaced as icecandidate events when the first local description is set, so that
  // connecting does not wait for gathering. One pool serves the connection whatever the size.
  std::uint8_t ice_candidate_pool_size = 0;

  // rtcpp extensions (no browser equivalent).
  // Gather loopback candidates even when another interface exists (they are always
  // gathered when loopback is the only interface, as in a test namespace).
  bool gather_loopback = false;
  // Largest message this side accepts, announced as a=max-message-size (RFC 8841).
  std::size_t max_message_size = 256 * 1024;
  // A PEM file of CA certificates trusted for `turns:` servers besides the system's (which
  // are always trusted). A server whose certificate does not verify, or does not name the
  // URL's host, is an icecandidateerror (701) and yields no relayed candidate.
  std::string turns_ca_file;
  // Ask each TURN server for relayed addresses of both IP families in one allocation (RFC 8656
  // dual allocation, ADDITIONAL-ADDRESS-FAMILY): an IPv4 and an IPv6 relayed candidate, so that
  // a host that reaches the server over IPv4 can still meet peers that only have IPv6. A server
  // without IPv6 relays grants the IPv4 one alone. Off (as browsers): one relayed address, of the
  // server's default family (IPv4).
  bool turn_dual_stack = false;
  // SCTP extensions offered in INIT / INIT ACK, each used only when the peer offers it too.
  // User message interleaving (RFC 8260 I-DATA, so that a large message does not hold back
  // the other channels): on; turning it off is for a peer that mishandles the offer.
  // Zero checksums (RFC 9653: DTLS already protects each packet, so the CRC32c is skipped):
  // off, because some stacks ignore an INIT or INIT ACK that offers them (Pion 3.1.56) and
  // Chromium (156) does not negotiate them with rtcpp; turn it on where both ends are known
  // to handle it (two rtcpp ends, say).
  bool sctp_interleaving = true;
  bool sctp_zero_checksum = false;
  // Which transports host candidates are gathered on, like libwebrtc's tcp_candidate_policy
  // (kUdpOnly is its "disabled") but able to leave UDP out too.
  //  - kUdpAndTcp (default, as browsers): UDP host and server-reflexive candidates, and per
  //    host IP two ICE-TCP candidates (RFC 6544): a passive one (a listening socket) and an
  //    active one (port 9 in SDP). TCP ranks below UDP, so it carries the connection only
  //    when UDP does not work (a network that blocks UDP).
  //  - kUdpOnly: no ICE-TCP (no listening socket, no TCP connections).
  //  - kTcpOnly: ICE-TCP only, no UDP host or server-reflexive candidates (relayed ones are
  //    still gathered when TURN servers are configured); for networks known to block UDP,
  //    and to test the TCP path.
  // ICE-TCP is not gathered under the relay iceTransportPolicy. An accepted TCP connection
  // must carry a valid STUN check within 5 s; at most 32 are accepted per listening socket,
  // 8 unauthenticated ones at a time, and a framed packet is at most 18 KiB.
  RTCIceCandidateProtocols ice_candidate_protocols = RTCIceCandidateProtocols::kUdpAndTcp;
};

}  // namespace rtcpp
