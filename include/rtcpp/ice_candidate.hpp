// rtcpp/ice_candidate.hpp: RTCIceCandidateInit and RTCIceCandidate (W3C WebRTC 1.0, section
// 4.8.2), and the candidate pair of RTCIceTransport.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "rtcpp/error.hpp"

namespace rtcpp {

// What the signaling channel carries: the a=candidate value ("candidate:..."), the media
// section it belongs to, and optionally the ICE username fragment it was gathered for. An
// empty `candidate` means end-of-candidates.
struct RTCIceCandidateInit {
  std::string candidate;
  std::optional<std::string> sdp_mid;
  std::optional<std::uint16_t> sdp_m_line_index;
  std::optional<std::string> username_fragment;
};

enum class RTCIceProtocol { kUdp, kTcp };
enum class RTCIceCandidateType { kHost, kSrflx, kPrflx, kRelay };
enum class RTCIceTcpCandidateType { kActive, kPassive, kSo };
enum class RTCIceComponent { kRtp, kRtcp };
// How a TURN client reaches its server (RFC 8656 3.1).
enum class RTCIceServerTransportProtocol { kUdp, kTcp, kTls };

std::string_view to_string(RTCIceProtocol value) noexcept;
std::string_view to_string(RTCIceCandidateType value) noexcept;
std::string_view to_string(RTCIceTcpCandidateType value) noexcept;
std::string_view to_string(RTCIceComponent value) noexcept;
std::string_view to_string(RTCIceServerTransportProtocol value) noexcept;

// A parsed candidate: the init it came from plus the fields of its candidate-attribute.
class RTCIceCandidate {
 public:
  // TypeError when both sdp_mid and sdp_m_line_index are absent; SyntaxError when the
  // candidate text does not parse. An empty candidate (end-of-candidates) is accepted and
  // has no fields.
  static Result<RTCIceCandidate> create(const RTCIceCandidateInit& init);

  const std::string& candidate() const noexcept { return init_.candidate; }
  const std::optional<std::string>& sdp_mid() const noexcept { return init_.sdp_mid; }
  std::optional<std::uint16_t> sdp_m_line_index() const noexcept { return init_.sdp_m_line_index; }
  const std::optional<std::string>& username_fragment() const noexcept {
    return init_.username_fragment;
  }

  std::optional<std::string> foundation;
  std::optional<RTCIceComponent> component;
  std::optional<std::uint32_t> priority;
  std::optional<std::string> address;
  std::optional<RTCIceProtocol> protocol;
  std::optional<std::uint16_t> port;
  std::optional<RTCIceCandidateType> type;
  std::optional<RTCIceTcpCandidateType> tcp_type;
  std::optional<std::string> related_address;
  std::optional<std::uint16_t> related_port;
  // W3C 4.8.2 (RTCLocalIceCandidateInit), set by the connection on its own candidates only:
  // the URL of the STUN or TURN server a "srflx" or "relay" candidate was obtained from, and
  // for a "relay" one how the TURN client reaches the server. Null otherwise; not part of
  // to_json() (they are for local examination, not signaling).
  std::optional<std::string> url;
  std::optional<RTCIceServerTransportProtocol> relay_protocol;

  // The init form, for the signaling channel (toJSON in the browser).
  const RTCIceCandidateInit& to_json() const noexcept { return init_; }

 private:
  RTCIceCandidateInit init_;
};

struct RTCIceCandidatePair {
  RTCIceCandidate local;
  RTCIceCandidate remote;
};

}  // namespace rtcpp
