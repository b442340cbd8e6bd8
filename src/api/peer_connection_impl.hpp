// The state behind RTCPeerConnection and the objects reachable from it: a shell around the
// sans-IO connection core (pc::Connection) that turns each W3C call into a command for it and
// each of its events into a handler call. It lives on the loop thread: every member is
// touched only there, and events reach the user as tasks posted to the loop, so a handler
// never runs inside the protocol code that produced its event.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/conversions.hpp"
#include "api/transceiver_state.hpp"
#include "base/random.hpp"
#include "pc/connection.hpp"
#include "rtcpp/peer_connection.hpp"
#include "runtime/connection_driver.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/mdns_resolver.hpp"

namespace rtcpp::detail {

class PeerConnectionImpl : public std::enable_shared_from_this<PeerConnectionImpl> {
 public:
  static Result<std::shared_ptr<PeerConnectionImpl>> create(RTCConfiguration configuration);
  ~PeerConnectionImpl();

  runtime::EventLoop& loop() noexcept { return loop_; }
  // Runs fn on the loop thread with this connection, as run_sync does.
  template <typename F>
  auto sync(F&& fn) {
    return loop_.run_sync(std::forward<F>(fn));
  }

  // JSEP (loop thread): commands for the core, whose events then become handler calls.
  Result<RTCSessionDescriptionInit> create_offer(const RTCOfferOptions& options);
  Result<RTCSessionDescriptionInit> create_answer();
  Result<> set_local_description(std::optional<RTCSessionDescriptionInit> description);
  Result<> set_remote_description(const RTCSessionDescriptionInit& description);
  Result<> add_ice_candidate(const RTCIceCandidateInit& candidate);
  Result<> set_configuration(RTCConfiguration configuration);
  void restart_ice();
  void close();
  // W3C 4.4.1.6 iceCandidatePoolSize: with a pool size, candidates are gathered ahead of the
  // first local description and surfaced (icecandidate events) once it is applied.
  void fill_candidate_pool();
  Result<std::shared_ptr<RTCDataChannel>> create_data_channel(std::string label,
                                                              RTCDataChannelInit init);
  RTCStatsReport stats();
  // W3C 8.5 stats selection for one transceiver's sender (outbound-rtp) or receiver (inbound-rtp).
  RTCStatsReport stats_of(std::uint32_t transceiver, bool sender);

  // Media (loop thread).
  struct TransceiverObjects {
    std::shared_ptr<TransceiverState> state;
    std::shared_ptr<RTCRtpTransceiver> transceiver;
    std::shared_ptr<RTCRtpSender> sender;
    std::shared_ptr<RTCRtpReceiver> receiver;
  };
  // TypeError for a kind other than "audio" or "video"; InvalidStateError when closed.
  // W3C addTransceiver; `track` may be null (the kind form).
  Result<std::shared_ptr<RTCRtpTransceiver>> add_transceiver(
      std::string_view kind, const RTCRtpTransceiverInit& init,
      std::shared_ptr<MediaStreamTrack> track);
  Result<std::shared_ptr<RTCRtpSender>> add_track(const std::shared_ptr<MediaStreamTrack>& track,
                                                  std::vector<std::string> stream_ids);
  Result<> remove_track(const std::shared_ptr<RTCRtpSender>& sender);
  Result<> replace_track(TransceiverState& state, std::shared_ptr<MediaStreamTrack> track);
  Result<> stop_transceiver(std::uint32_t transceiver);
  Result<> set_parameters(TransceiverState& state, const RTCRtpSendParameters& parameters);
  // W3C 4.4.1.6 set the associated remote streams of a receiver: the streams of these ids
  // (made once per id for this connection) gain its track, the others lose it, each change
  // firing addtrack or removetrack in a task.
  void associate_remote_streams(TransceiverState& state, const std::vector<std::string>& ids);
  std::vector<std::shared_ptr<RTCRtpTransceiver>> get_transceivers();
  // The objects of a core transceiver, made the first time they are asked for.
  TransceiverObjects& transceiver_objects(std::uint32_t handle);
  Result<> send_frame(std::uint32_t transceiver, const RTCEncodedFrame& frame);
  // The part of the send-side bandwidth estimate a video sender's encoder may use: what the
  // audio senders do not take, shared evenly by the video senders that send.
  std::uint32_t video_bandwidth_share(std::uint32_t transceiver) const;
  Result<> request_key_frame(std::uint32_t transceiver);
  Result<> insert_dtmf(std::uint32_t transceiver, std::string_view tones, std::int64_t duration_ms,
                       std::int64_t inter_tone_gap_ms);
  Result<> set_direction(std::uint32_t transceiver, RTCRtpTransceiverDirection direction);
  Result<> set_codec_preferences(std::uint32_t transceiver,
                                 std::vector<pc::CodecPreference> preferences);

  std::optional<RTCSessionDescriptionInit> local_description() const;
  std::optional<RTCSessionDescriptionInit> current_local_description() const;
  std::optional<RTCSessionDescriptionInit> pending_local_description() const;
  std::optional<RTCSessionDescriptionInit> remote_description() const;
  std::optional<RTCSessionDescriptionInit> current_remote_description() const;
  std::optional<RTCSessionDescriptionInit> pending_remote_description() const;
  RTCSignalingState signaling_state() const;
  // W3C canTrickleIceCandidates: nullopt before a remote description.
  std::optional<bool> can_trickle_ice_candidates() const;

  // Data channel operations (loop thread).
  // valid_text: a text message (binary false) is well-formed UTF-8; TypeError otherwise.
  Result<> channel_send(RTCDataChannel& channel, std::span<const std::uint8_t> data, bool binary,
                        bool valid_text = true);
  void channel_close(RTCDataChannel& channel);
  std::size_t channel_buffered_amount(const RTCDataChannel& channel) const;
  void set_channel_low_threshold(RTCDataChannel& channel, std::size_t threshold);
  // Queues the open event that fired before the channel had an open handler, now it has one.
  void deliver_held_open(RTCDataChannel& channel);

  // W3C 6.1.1.1 maxMessageSize and maxChannels.
  std::size_t max_message_size() const { return core_.max_message_size(); }
  std::uint16_t max_channels() const { return core_.max_channels(); }
  bool sctp_interleaving() const {
    return core_.transport() != nullptr && core_.transport()->sctp().interleaving();
  }
  bool sctp_zero_checksum() const {
    return core_.transport() != nullptr && core_.transport()->sctp().zero_checksum();
  }
  const pc::Connection& core() const noexcept { return core_; }

  // Appends an operation to the operations chain (W3C 4.4.1.2; any thread). Operations run
  // on the loop thread one at a time in the order they were chained: called on the loop
  // thread, the chain runs at once up to and including the new operation. The operation is
  // told whether it was chained after close() (W3C: rejected with InvalidStateError) or before
  // (then, run after close(), its promise never settles).
  void chain_operation(std::function<void(bool chained_after_close)> operation);

  // Queues a handler call as a task; it runs unless the connection closed in between.
  void queue_task(std::function<void()> task);

  // The W3C attributes, as the events delivered so far set them (loop thread).
  RTCConfiguration configuration_;
  RTCIceGatheringState gathering_state_ = RTCIceGatheringState::kNew;
  RTCIceGatheringState core_gathering_state_ = RTCIceGatheringState::kNew;  // as last queued
  RTCIceConnectionState ice_connection_state_ = RTCIceConnectionState::kNew;
  RTCPeerConnectionState connection_state_ = RTCPeerConnectionState::kNew;
  RTCIceTransportState ice_transport_state_ = RTCIceTransportState::kNew;
  RTCDtlsTransportState dtls_state_ = RTCDtlsTransportState::kNew;
  RTCSctpTransportState sctp_state_ = RTCSctpTransportState::kConnecting;
  std::optional<RTCIceCandidatePair> selected_pair_;
  // W3C 5.6 the transport's set of local candidates: those surfaced so far, of the current
  // ICE generation.
  std::vector<RTCIceCandidate> local_candidates_;
  std::shared_ptr<RTCIceTransport> ice_transport_;
  std::shared_ptr<RTCDtlsTransport> dtls_transport_;
  std::shared_ptr<RTCSctpTransport> sctp_transport_;  // set once a data section is applied
  bool closed_ = false;

  // Handlers.
  std::function<void()> on_negotiation_needed_;
  std::function<void(const RTCPeerConnectionIceEvent&)> on_ice_candidate_;
  std::function<void(const RTCPeerConnectionIceErrorEvent&)> on_ice_candidate_error_;
  std::function<void()> on_signaling_state_change_;
  std::function<void()> on_ice_gathering_state_change_;
  std::function<void()> on_ice_connection_state_change_;
  std::function<void()> on_connection_state_change_;
  std::function<void(std::shared_ptr<RTCDataChannel>)> on_data_channel_;
  std::function<void(const RTCTrackEvent&)> on_track_;

 private:
  PeerConnectionImpl(RTCConfiguration configuration, std::shared_ptr<const RTCCertificate> cert);

  pc::ConnectionConfig core_config() const;
  // Hands the core's events to the handlers (as tasks) and to the runtime's services.
  void on_core_event(pc::ConnectionEvent&& event);
  void on_channel_event(pc::ConnectionEvent&& event);
  // Track, frame and key-frame events; false for any other event.
  bool on_media_event(pc::ConnectionEvent& event);
  void resolve(const pc::ResolveRequest& request);
  void resolve_mdns(const pc::MdnsRequest& request);
  // After a description: the SCTP transport object appears with the data section.
  void after_negotiation();
  void update_connection_states();
  std::shared_ptr<RTCDataChannel> channel_of(pc::ChannelHandle handle) const;
  static void fire_open(const std::shared_ptr<RTCDataChannel>& channel);
  void finish_channel(const std::shared_ptr<RTCDataChannel>& channel);
  void kick();
  void schedule_kick();
  void run_chained_operations();

  runtime::EventLoop& loop_;
  std::shared_ptr<const RTCCertificate> certificate_;
  CryptoRandom rng_;
  pc::Connection core_;
  std::unique_ptr<runtime::ConnectionDriver> driver_;
  std::unique_ptr<runtime::MdnsResolver> mdns_;  // made for the first .local candidate
  bool kick_scheduled_ = false;
  // The channels the core still knows, by handle.
  std::map<pc::ChannelHandle, std::shared_ptr<RTCDataChannel>> channels_;
  // The transceivers the application has seen, by core handle (creation order).
  std::map<std::uint32_t, TransceiverObjects> transceivers_;
  // The MediaStreams made for the peer's stream ids (W3C 4.4.1.6: one object per id).
  std::map<std::string, std::shared_ptr<MediaStream>> remote_streams_;
  // The operations chain: filled from any thread, run on the loop thread.
  std::mutex operations_mutex_;
  std::deque<std::pair<std::function<void(bool)>, bool>> operations_;  // with chained_after_close
  bool chain_closed_ = false;  // close() ran, as seen by chain_operation (operations_mutex_)
  bool running_operations_ = false;
};

}  // namespace rtcpp::detail
