// rtcpp/sctp_transport.hpp: RTCSctpTransport (W3C WebRTC 1.0, section 6.1.1): the SCTP
// association data channels run over, reached through RTCPeerConnection::sctp().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "rtcpp/dtls_transport.hpp"

namespace rtcpp {

enum class RTCSctpTransportState { kConnecting, kConnected, kClosed };
std::string_view to_string(RTCSctpTransportState value) noexcept;

class RTCSctpTransport {
 public:
  // Made by the connection (the argument is its private state).
  explicit RTCSctpTransport(std::unique_ptr<detail::SctpTransportState> state);
  ~RTCSctpTransport();
  RTCSctpTransport(const RTCSctpTransport&) = delete;
  RTCSctpTransport& operator=(const RTCSctpTransport&) = delete;

  const std::shared_ptr<RTCDtlsTransport>& transport() const noexcept;
  RTCSctpTransportState state() const;
  // Largest message RTCDataChannel::send accepts (W3C 6.1.1 update the data max message size):
  // nullopt until an answer (or pranswer) negotiates SCTP; then the peer's a=max-message-size
  // (65536 when it has none) against canSendSize, the size of rtcpp's send buffer (64 MiB).
  // A peer's 0 ("any size") gives the larger of the two, so 64 MiB; +infinity
  // (std::numeric_limits<double>::infinity()) would need both sides unbounded.
  std::optional<double> max_message_size() const;
  // Streams available in each direction; known once connected.
  std::optional<std::uint16_t> max_channels() const;
  // rtcpp extensions: what the association negotiated with the peer, once connected (false
  // before). Message interleaving (RFC 8260 I-DATA): a large message no longer holds back the
  // other channels' messages. Zero checksums (RFC 9653): DTLS already protects the packets.
  bool message_interleaving() const;
  bool zero_checksum() const;

  void on_state_change(std::function<void()> handler);

 private:
  friend class detail::PeerConnectionImpl;
  std::unique_ptr<detail::SctpTransportState> state_;
};

}  // namespace rtcpp
