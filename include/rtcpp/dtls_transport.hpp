// rtcpp/dtls_transport.hpp: RTCDtlsTransport (W3C WebRTC 1.0, section 5.5): the DTLS layer of
// a connection, reached through RTCSctpTransport::transport().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "rtcpp/error.hpp"
#include "rtcpp/ice_transport.hpp"

namespace rtcpp {

enum class RTCDtlsTransportState { kNew, kConnecting, kConnected, kClosed, kFailed };
std::string_view to_string(RTCDtlsTransportState value) noexcept;

class RTCDtlsTransport {
 public:
  RTCDtlsTransport(std::weak_ptr<detail::PeerConnectionImpl> pc,
                   std::shared_ptr<RTCIceTransport> ice)
      : pc_(std::move(pc)), ice_(std::move(ice)) {}

  const std::shared_ptr<RTCIceTransport>& ice_transport() const noexcept { return ice_; }
  RTCDtlsTransportState state() const;
  // The peer's certificate chain in DER, leaf first; empty until connected.
  std::vector<std::vector<std::uint8_t>> get_remote_certificates() const;

  void on_state_change(std::function<void()> handler);
  // A DTLS failure: the error has detail dtls-failure or fingerprint-failure.
  void on_error(std::function<void(const RTCError&)> handler);

 private:
  friend class detail::PeerConnectionImpl;
  std::weak_ptr<detail::PeerConnectionImpl> pc_;
  std::shared_ptr<RTCIceTransport> ice_;
  std::function<void()> on_state_change_;
  std::function<void(const RTCError&)> on_error_;
};

}  // namespace rtcpp
