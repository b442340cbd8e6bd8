// The private state of RTCIceTransport, RTCDtlsTransport and RTCSctpTransport: kept out of
// the public headers, so that it can change without changing the public ABI.
#pragma once

#include <functional>
#include <memory>

#include "rtcpp/dtls_transport.hpp"
#include "rtcpp/ice_transport.hpp"
#include "rtcpp/sctp_transport.hpp"

namespace rtcpp::detail {

class PeerConnectionImpl;

struct IceTransportState {
  std::weak_ptr<PeerConnectionImpl> pc;
  std::function<void()> on_state_change;
  std::function<void()> on_gathering_state_change;
  std::function<void()> on_selected_candidate_pair_change;
};

struct DtlsTransportState {
  std::weak_ptr<PeerConnectionImpl> pc;
  std::shared_ptr<RTCIceTransport> ice;
  std::function<void()> on_state_change;
  std::function<void(const RTCError&)> on_error;
};

struct SctpTransportState {
  std::weak_ptr<PeerConnectionImpl> pc;
  std::shared_ptr<RTCDtlsTransport> dtls;
  std::function<void()> on_state_change;
};

}  // namespace rtcpp::detail
