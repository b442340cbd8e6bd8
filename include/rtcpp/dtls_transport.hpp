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
  // Made by the connection (the argument is its private state).
  explicit RTCDtlsTransport(std::unique_ptr<detail::DtlsTransportState> state);
  ~RTCDtlsTransport();
  RTCDtlsTransport(const RTCDtlsTransport&) = delete;
  RTCDtlsTransport& operator=(const RTCDtlsTransport&) = delete;

  const std::shared_ptr<RTCIceTransport>& ice_transport() const noexcept;
  RTCDtlsTransportState state() const;
  // The peer's certificate chain in DER, leaf first; empty until connected.
  std::vector<std::vector<std::uint8_t>> get_remote_certificates() const;

  void on_state_change(std::function<void()> handler);
  // A DTLS failure: the error has detail dtls-failure or fingerprint-failure.
  void on_error(std::function<void(const RTCError&)> handler);

 private:
  friend class detail::PeerConnectionImpl;
  std::unique_ptr<detail::DtlsTransportState> state_;
};

}  // namespace rtcpp
