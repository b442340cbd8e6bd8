#include "rtcpp/peer_connection.hpp"

#include "api/handler_call.hpp"
#include "api/operation_forms.hpp"
#include "api/peer_connection_impl.hpp"

namespace rtcpp {

using detail::PeerConnectionImpl;
using detail::run_callback;
using detail::run_future;

Result<std::shared_ptr<RTCPeerConnection>> RTCPeerConnection::create(
    RTCConfiguration configuration) {
  auto impl = PeerConnectionImpl::create(std::move(configuration));
  if (!impl) return std::move(impl).error();
  (*impl)->sync([impl = *impl] { impl->fill_candidate_pool(); });
  return std::shared_ptr<RTCPeerConnection>(new RTCPeerConnection(std::move(*impl)));
}

RTCPeerConnection::RTCPeerConnection(std::shared_ptr<PeerConnectionImpl> impl)
    : impl_(std::move(impl)) {}

RTCPeerConnection::~RTCPeerConnection() {
  impl_->sync([impl = impl_] { impl->close(); });
}

std::future<Result<RTCSessionDescriptionInit>> RTCPeerConnection::create_offer(
    RTCOfferOptions options) {
  return run_future<Result<RTCSessionDescriptionInit>>(
      impl_, [options](PeerConnectionImpl& pc) { return pc.create_offer(options); });
}
void RTCPeerConnection::create_offer(std::function<void(Result<RTCSessionDescriptionInit>)> done,
                                     RTCOfferOptions options) {
  run_callback<Result<RTCSessionDescriptionInit>>(
      impl_, [options](PeerConnectionImpl& pc) { return pc.create_offer(options); },
      std::move(done));
}

std::future<Result<RTCSessionDescriptionInit>> RTCPeerConnection::create_answer(RTCAnswerOptions) {
  return run_future<Result<RTCSessionDescriptionInit>>(
      impl_, [](PeerConnectionImpl& pc) { return pc.create_answer(); });
}
void RTCPeerConnection::create_answer(std::function<void(Result<RTCSessionDescriptionInit>)> done,
                                      RTCAnswerOptions) {
  run_callback<Result<RTCSessionDescriptionInit>>(
      impl_, [](PeerConnectionImpl& pc) { return pc.create_answer(); }, std::move(done));
}

std::future<Result<>> RTCPeerConnection::set_local_description(
    std::optional<RTCSessionDescriptionInit> description) {
  return run_future<Result<>>(impl_, [description](PeerConnectionImpl& pc) {
    return pc.set_local_description(description);
  });
}
void RTCPeerConnection::set_local_description(
    std::function<void(Result<>)> done, std::optional<RTCSessionDescriptionInit> description) {
  run_callback<Result<>>(
      impl_,
      [description](PeerConnectionImpl& pc) { return pc.set_local_description(description); },
      std::move(done));
}

std::future<Result<>> RTCPeerConnection::set_remote_description(
    RTCSessionDescriptionInit description) {
  return run_future<Result<>>(impl_, [description](PeerConnectionImpl& pc) {
    return pc.set_remote_description(description);
  });
}
void RTCPeerConnection::set_remote_description(RTCSessionDescriptionInit description,
                                               std::function<void(Result<>)> done) {
  run_callback<Result<>>(
      impl_,
      [description](PeerConnectionImpl& pc) { return pc.set_remote_description(description); },
      std::move(done));
}

std::future<Result<>> RTCPeerConnection::add_ice_candidate(RTCIceCandidateInit candidate) {
  return run_future<Result<>>(
      impl_, [candidate](PeerConnectionImpl& pc) { return pc.add_ice_candidate(candidate); });
}
void RTCPeerConnection::add_ice_candidate(RTCIceCandidateInit candidate,
                                          std::function<void(Result<>)> done) {
  run_callback<Result<>>(
      impl_, [candidate](PeerConnectionImpl& pc) { return pc.add_ice_candidate(candidate); },
      std::move(done));
}

std::optional<RTCSessionDescriptionInit> RTCPeerConnection::local_description() const {
  return impl_->sync([&] { return impl_->local_description(); });
}
std::optional<RTCSessionDescriptionInit> RTCPeerConnection::current_local_description() const {
  return impl_->sync([&] { return impl_->current_local_description(); });
}
std::optional<RTCSessionDescriptionInit> RTCPeerConnection::pending_local_description() const {
  return impl_->sync([&] { return impl_->pending_local_description(); });
}
std::optional<RTCSessionDescriptionInit> RTCPeerConnection::remote_description() const {
  return impl_->sync([&] { return impl_->remote_description(); });
}
std::optional<RTCSessionDescriptionInit> RTCPeerConnection::current_remote_description() const {
  return impl_->sync([&] { return impl_->current_remote_description(); });
}
std::optional<RTCSessionDescriptionInit> RTCPeerConnection::pending_remote_description() const {
  return impl_->sync([&] { return impl_->pending_remote_description(); });
}
RTCSignalingState RTCPeerConnection::signaling_state() const {
  return impl_->sync([&] { return impl_->signaling_state(); });
}
RTCIceGatheringState RTCPeerConnection::ice_gathering_state() const {
  return impl_->sync([&] { return impl_->gathering_state_; });
}
RTCIceConnectionState RTCPeerConnection::ice_connection_state() const {
  return impl_->sync([&] { return impl_->ice_connection_state_; });
}
RTCPeerConnectionState RTCPeerConnection::connection_state() const {
  return impl_->sync([&] { return impl_->connection_state_; });
}
std::optional<bool> RTCPeerConnection::can_trickle_ice_candidates() const {
  return impl_->sync([&] { return impl_->can_trickle_ice_candidates(); });
}

RTCConfiguration RTCPeerConnection::get_configuration() const {
  return impl_->sync([&] { return impl_->configuration_; });
}
void RTCPeerConnection::restart_ice() {
  impl_->sync([&] { impl_->restart_ice(); });
}

Result<> RTCPeerConnection::set_configuration(RTCConfiguration configuration) {
  return impl_->sync([&] { return impl_->set_configuration(std::move(configuration)); });
}
void RTCPeerConnection::close() {
  impl_->sync([&] { impl_->close(); });
}

Result<std::shared_ptr<RTCDataChannel>> RTCPeerConnection::create_data_channel(
    std::string label, RTCDataChannelInit init) {
  return impl_->sync([&] { return impl_->create_data_channel(std::move(label), std::move(init)); });
}
std::shared_ptr<RTCSctpTransport> RTCPeerConnection::sctp() const {
  return impl_->sync([&] { return impl_->sctp_transport_; });
}

Result<std::shared_ptr<RTCRtpTransceiver>> RTCPeerConnection::add_transceiver(
    std::string_view kind, RTCRtpTransceiverInit init) {
  return impl_->sync([&] { return impl_->add_transceiver(kind, init, nullptr); });
}
Result<std::shared_ptr<RTCRtpTransceiver>> RTCPeerConnection::add_transceiver(
    std::shared_ptr<MediaStreamTrack> track, RTCRtpTransceiverInit init) {
  if (!track) return type_error("addTransceiver needs a track or a kind");
  return impl_->sync([&] { return impl_->add_transceiver(track->kind(), init, track); });
}
Result<std::shared_ptr<RTCRtpSender>> RTCPeerConnection::add_track(
    std::shared_ptr<MediaStreamTrack> track, std::vector<std::string> stream_ids) {
  return impl_->sync([&] { return impl_->add_track(track, std::move(stream_ids)); });
}
Result<> RTCPeerConnection::remove_track(const std::shared_ptr<RTCRtpSender>& sender) {
  return impl_->sync([&] { return impl_->remove_track(sender); });
}
std::vector<std::shared_ptr<RTCRtpTransceiver>> RTCPeerConnection::get_transceivers() const {
  return impl_->sync([&] { return impl_->get_transceivers(); });
}
std::vector<std::shared_ptr<RTCRtpSender>> RTCPeerConnection::get_senders() const {
  return impl_->sync([&] {
    std::vector<std::shared_ptr<RTCRtpSender>> out;
    for (const auto& t : impl_->core().transceivers().all()) {
      if (!t.stopped) out.push_back(impl_->transceiver_objects(t.handle).sender);
    }
    return out;
  });
}
std::vector<std::shared_ptr<RTCRtpReceiver>> RTCPeerConnection::get_receivers() const {
  return impl_->sync([&] {
    std::vector<std::shared_ptr<RTCRtpReceiver>> out;
    for (const auto& t : impl_->core().transceivers().all()) {
      if (!t.stopped) out.push_back(impl_->transceiver_objects(t.handle).receiver);
    }
    return out;
  });
}

std::future<RTCStatsReport> RTCPeerConnection::get_stats() {
  return run_future<RTCStatsReport>(impl_, [](PeerConnectionImpl& pc) { return pc.stats(); });
}
void RTCPeerConnection::get_stats(std::function<void(RTCStatsReport)> done) {
  run_callback<RTCStatsReport>(
      impl_, [](PeerConnectionImpl& pc) { return pc.stats(); }, std::move(done));
}

// Handlers are set on the loop, so a setter never races an event being delivered. A closed
// connection keeps none.
#define RTCPP_SET_HANDLER(method, member, type)                \
  void RTCPeerConnection::method(type handler) {               \
    impl_->sync([&] {                                          \
      if (!impl_->closed_) impl_->member = std::move(handler); \
    });                                                        \
  }
RTCPP_SET_HANDLER(on_negotiation_needed, on_negotiation_needed_, std::function<void()>)
RTCPP_SET_HANDLER(on_ice_candidate, on_ice_candidate_,
                  std::function<void(const RTCPeerConnectionIceEvent&)>)
RTCPP_SET_HANDLER(on_ice_candidate_error, on_ice_candidate_error_,
                  std::function<void(const RTCPeerConnectionIceErrorEvent&)>)
RTCPP_SET_HANDLER(on_signaling_state_change, on_signaling_state_change_, std::function<void()>)
RTCPP_SET_HANDLER(on_ice_gathering_state_change, on_ice_gathering_state_change_,
                  std::function<void()>)
RTCPP_SET_HANDLER(on_ice_connection_state_change, on_ice_connection_state_change_,
                  std::function<void()>)
RTCPP_SET_HANDLER(on_connection_state_change, on_connection_state_change_, std::function<void()>)
RTCPP_SET_HANDLER(on_data_channel, on_data_channel_,
                  std::function<void(std::shared_ptr<RTCDataChannel>)>)
RTCPP_SET_HANDLER(on_track, on_track_, std::function<void(const RTCTrackEvent&)>)
#undef RTCPP_SET_HANDLER

}  // namespace rtcpp
