// rtcpp/ice_transport.hpp: RTCIceTransport (W3C WebRTC 1.0, section 5.6): the ICE layer of a
// connection, reached through RTCDtlsTransport::ice_transport().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rtcpp/ice_candidate.hpp"

namespace rtcpp {

namespace detail {
class PeerConnectionImpl;
struct IceTransportState;
struct DtlsTransportState;
struct SctpTransportState;
}  // namespace detail

enum class RTCIceRole { kUnknown, kControlling, kControlled };
enum class RTCIceTransportState {
  kNew,
  kChecking,
  kConnected,
  kCompleted,
  kDisconnected,
  kFailed,
  kClosed,
};
enum class RTCIceGathererState { kNew, kGathering, kComplete };

std::string_view to_string(RTCIceRole value) noexcept;
std::string_view to_string(RTCIceTransportState value) noexcept;
std::string_view to_string(RTCIceGathererState value) noexcept;

struct RTCIceParameters {
  std::string username_fragment;
  std::string password;
};

// Every method may be called from any thread; handlers run on the connection's loop thread.
class RTCIceTransport {
 public:
  // Made by the connection (the argument is its private state).
  explicit RTCIceTransport(std::unique_ptr<detail::IceTransportState> state);
  ~RTCIceTransport();
  RTCIceTransport(const RTCIceTransport&) = delete;
  RTCIceTransport& operator=(const RTCIceTransport&) = delete;

  RTCIceRole role() const;
  RTCIceComponent component() const { return RTCIceComponent::kRtp; }
  RTCIceTransportState state() const;
  RTCIceGathererState gathering_state() const;
  // W3C 5.6: the local candidates of the current ICE generation, each added as its
  // icecandidate event fires (a pooled candidate once it is surfaced), in that order.
  std::vector<RTCIceCandidate> get_local_candidates() const;
  // W3C 5.6: the peer's candidates of its current ICE generation, as received (in the remote
  // description or by add_ice_candidate); no peer-reflexive ones.
  std::vector<RTCIceCandidate> get_remote_candidates() const;
  std::optional<RTCIceCandidatePair> get_selected_candidate_pair() const;
  std::optional<RTCIceParameters> get_local_parameters() const;
  std::optional<RTCIceParameters> get_remote_parameters() const;

  void on_state_change(std::function<void()> handler);
  void on_gathering_state_change(std::function<void()> handler);
  void on_selected_candidate_pair_change(std::function<void()> handler);

 private:
  friend class detail::PeerConnectionImpl;
  std::unique_ptr<detail::IceTransportState> state_;
};

}  // namespace rtcpp
