// RTCIceTransport, RTCDtlsTransport and RTCSctpTransport: views of the connection's state.
#include <cstdint>
#include <limits>

#include "api/peer_connection_impl.hpp"
#include "api/transport_state.hpp"
#include "rtcpp/dtls_transport.hpp"
#include "rtcpp/ice_transport.hpp"
#include "rtcpp/sctp_transport.hpp"

namespace rtcpp {
namespace {

// Runs fn on the connection's loop; `closed` when the connection is gone.
template <typename F, typename T>
auto with_pc(const std::weak_ptr<detail::PeerConnectionImpl>& weak, T closed, F&& fn)
    -> decltype(fn(std::declval<detail::PeerConnectionImpl&>())) {
  auto pc = weak.lock();
  if (!pc) return closed;
  return pc->sync([&] { return fn(*pc); });
}

template <typename F>
void set_on_loop(const std::weak_ptr<detail::PeerConnectionImpl>& weak, F&& fn) {
  auto pc = weak.lock();
  if (!pc) return;
  pc->sync([&] {
    if (!pc->closed_) fn();
  });
}

}  // namespace

// --- RTCIceTransport ---

RTCIceTransport::RTCIceTransport(std::unique_ptr<detail::IceTransportState> state)
    : state_(std::move(state)) {}
RTCIceTransport::~RTCIceTransport() = default;

RTCIceRole RTCIceTransport::role() const {
  return with_pc(state_->pc, RTCIceRole::kUnknown, [](detail::PeerConnectionImpl& pc) {
    const auto role = pc.core().ice_role();
    if (!role) return RTCIceRole::kUnknown;
    return *role == ice::IceRole::kControlling ? RTCIceRole::kControlling : RTCIceRole::kControlled;
  });
}
RTCIceTransportState RTCIceTransport::state() const {
  return with_pc(state_->pc, RTCIceTransportState::kClosed,
                 [](detail::PeerConnectionImpl& pc) { return pc.ice_transport_state_; });
}
RTCIceGathererState RTCIceTransport::gathering_state() const {
  return with_pc(state_->pc, RTCIceGathererState::kComplete, [](detail::PeerConnectionImpl& pc) {
    return static_cast<RTCIceGathererState>(pc.gathering_state_);
  });
}
std::vector<RTCIceCandidate> RTCIceTransport::get_local_candidates() const {
  return with_pc(state_->pc, std::vector<RTCIceCandidate>{},
                 [](detail::PeerConnectionImpl& pc) { return pc.local_candidates_; });
}
std::vector<RTCIceCandidate> RTCIceTransport::get_remote_candidates() const {
  return with_pc(state_->pc, std::vector<RTCIceCandidate>{}, [](detail::PeerConnectionImpl& pc) {
    std::vector<RTCIceCandidate> out;
    const std::string& mid = pc.core().transport_mid();
    const auto credentials = pc.core().remote_credentials();
    for (const auto& c : pc.core().remote_candidates()) {
      std::optional<std::string> ufrag;
      if (credentials) ufrag = credentials->ufrag;
      if (auto candidate = RTCIceCandidate::create({c.to_string(), mid, 0, ufrag}))
        out.push_back(std::move(*candidate));
    }
    return out;
  });
}
std::optional<RTCIceCandidatePair> RTCIceTransport::get_selected_candidate_pair() const {
  return with_pc(state_->pc, std::optional<RTCIceCandidatePair>{},
                 [](detail::PeerConnectionImpl& pc) { return pc.selected_pair_; });
}
std::optional<RTCIceParameters> RTCIceTransport::get_local_parameters() const {
  return with_pc(state_->pc, std::optional<RTCIceParameters>{},
                 [](detail::PeerConnectionImpl& pc) -> std::optional<RTCIceParameters> {
                   if (!pc.core().has_local_description()) return std::nullopt;
                   const auto& credentials = pc.core().local_credentials();
                   return RTCIceParameters{credentials.ufrag, credentials.pwd};
                 });
}
std::optional<RTCIceParameters> RTCIceTransport::get_remote_parameters() const {
  return with_pc(state_->pc, std::optional<RTCIceParameters>{},
                 [](detail::PeerConnectionImpl& pc) -> std::optional<RTCIceParameters> {
                   const auto credentials = pc.core().remote_credentials();
                   if (!credentials) return std::nullopt;
                   return RTCIceParameters{credentials->ufrag, credentials->pwd};
                 });
}
void RTCIceTransport::on_state_change(std::function<void()> handler) {
  set_on_loop(state_->pc, [&] { state_->on_state_change = std::move(handler); });
}
void RTCIceTransport::on_gathering_state_change(std::function<void()> handler) {
  set_on_loop(state_->pc, [&] { state_->on_gathering_state_change = std::move(handler); });
}
void RTCIceTransport::on_selected_candidate_pair_change(std::function<void()> handler) {
  set_on_loop(state_->pc, [&] { state_->on_selected_candidate_pair_change = std::move(handler); });
}

// --- RTCDtlsTransport ---

RTCDtlsTransport::RTCDtlsTransport(std::unique_ptr<detail::DtlsTransportState> state)
    : state_(std::move(state)) {}
RTCDtlsTransport::~RTCDtlsTransport() = default;
const std::shared_ptr<RTCIceTransport>& RTCDtlsTransport::ice_transport() const noexcept {
  return state_->ice;
}

RTCDtlsTransportState RTCDtlsTransport::state() const {
  return with_pc(state_->pc, RTCDtlsTransportState::kClosed,
                 [](detail::PeerConnectionImpl& pc) { return pc.dtls_state_; });
}
std::vector<std::vector<std::uint8_t>> RTCDtlsTransport::get_remote_certificates() const {
  return with_pc(state_->pc, std::vector<std::vector<std::uint8_t>>{},
                 [](detail::PeerConnectionImpl& pc) {
                   std::vector<std::vector<std::uint8_t>> certificates;
                   const auto& der = pc.core().remote_certificate_der();
                   if (!der.empty()) certificates.emplace_back(der.data(), der.data() + der.size());
                   return certificates;
                 });
}
void RTCDtlsTransport::on_state_change(std::function<void()> handler) {
  set_on_loop(state_->pc, [&] { state_->on_state_change = std::move(handler); });
}
void RTCDtlsTransport::on_error(std::function<void(const RTCError&)> handler) {
  set_on_loop(state_->pc, [&] { state_->on_error = std::move(handler); });
}

// --- RTCSctpTransport ---

RTCSctpTransport::RTCSctpTransport(std::unique_ptr<detail::SctpTransportState> state)
    : state_(std::move(state)) {}
RTCSctpTransport::~RTCSctpTransport() = default;
const std::shared_ptr<RTCDtlsTransport>& RTCSctpTransport::transport() const noexcept {
  return state_->dtls;
}

RTCSctpTransportState RTCSctpTransport::state() const {
  return with_pc(state_->pc, RTCSctpTransportState::kClosed,
                 [](detail::PeerConnectionImpl& pc) { return pc.sctp_state_; });
}
std::optional<double> RTCSctpTransport::max_message_size() const {
  return with_pc(state_->pc, std::optional<double>{},
                 [](detail::PeerConnectionImpl& pc) -> std::optional<double> {
                   if (!pc.core().sctp_negotiated()) return std::nullopt;
                   const std::size_t size = pc.max_message_size();
                   if (size == SIZE_MAX) return std::numeric_limits<double>::infinity();
                   return static_cast<double>(size);
                 });
}
std::optional<std::uint16_t> RTCSctpTransport::max_channels() const {
  return with_pc(state_->pc, std::optional<std::uint16_t>{},
                 [](detail::PeerConnectionImpl& pc) -> std::optional<std::uint16_t> {
                   if (pc.sctp_state_ != RTCSctpTransportState::kConnected) return std::nullopt;
                   return pc.max_channels();
                 });
}
bool RTCSctpTransport::message_interleaving() const {
  return with_pc(state_->pc, false, [](detail::PeerConnectionImpl& pc) {
    return pc.sctp_state_ == RTCSctpTransportState::kConnected && pc.sctp_interleaving();
  });
}
bool RTCSctpTransport::zero_checksum() const {
  return with_pc(state_->pc, false, [](detail::PeerConnectionImpl& pc) {
    return pc.sctp_state_ == RTCSctpTransportState::kConnected && pc.sctp_zero_checksum();
  });
}
void RTCSctpTransport::on_state_change(std::function<void()> handler) {
  set_on_loop(state_->pc, [&] { state_->on_state_change = std::move(handler); });
}

}  // namespace rtcpp
