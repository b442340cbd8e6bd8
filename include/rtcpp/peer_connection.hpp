// rtcpp/peer_connection.hpp: RTCPeerConnection (W3C WebRTC 1.0, section 4).
//
// A connection to one peer: JSEP offer/answer (RFC 8829) over SDP, ICE with trickle, DTLS,
// SCTP and data channels. It runs on a loop thread shared by all connections of the process;
// every method may be called from any thread, and handlers run on that loop thread, one at a
// time, in the order the events happened (the browser's "queue a task"). A handler may call
// the connection's methods; the blocking forms then complete at once.
//
// Each asynchronous method of the browser has two forms here: one returning a std::future,
// and one taking a callback that runs on the loop thread.
//
// Destroying the last shared_ptr to a connection closes it. close() drops every handler of
// the connection and its objects, so handlers may capture shared_ptrs to them.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "rtcpp/configuration.hpp"
#include "rtcpp/data_channel.hpp"
#include "rtcpp/error.hpp"
#include "rtcpp/ice_candidate.hpp"
#include "rtcpp/rtp_transceiver.hpp"
#include "rtcpp/sctp_transport.hpp"
#include "rtcpp/session_description.hpp"
#include "rtcpp/stats.hpp"

namespace rtcpp {

enum class RTCSignalingState {
  kStable,
  kHaveLocalOffer,
  kHaveRemoteOffer,
  kHaveLocalPranswer,
  kHaveRemotePranswer,
  kClosed,
};
enum class RTCIceGatheringState { kNew, kGathering, kComplete };
enum class RTCIceConnectionState {
  kNew,
  kChecking,
  kConnected,
  kCompleted,
  kDisconnected,
  kFailed,
  kClosed,
};
enum class RTCPeerConnectionState {
  kNew,
  kConnecting,
  kConnected,
  kDisconnected,
  kFailed,
  kClosed
};

std::string_view to_string(RTCSignalingState value) noexcept;
std::string_view to_string(RTCIceGatheringState value) noexcept;
std::string_view to_string(RTCIceConnectionState value) noexcept;
std::string_view to_string(RTCPeerConnectionState value) noexcept;

struct RTCOfferOptions {
  // An ICE restart (RFC 8445 9): the offer carries new ICE credentials. Data keeps flowing on
  // the current candidate pair until the restarted ICE selects a new one.
  bool ice_restart = false;
};
struct RTCAnswerOptions {};

// The icecandidate event (W3C 4.8.1): a gathered candidate; a candidate whose candidate() is
// "" when a generation's gathering finished (the end of candidates, signaled like a candidate);
// or none once all gathering is complete (legacy, not signaled).
struct RTCPeerConnectionIceEvent {
  std::optional<RTCIceCandidate> candidate;
  std::optional<std::string> url;  // the STUN/TURN server the candidate came from
};
// The icecandidateerror event.
struct RTCPeerConnectionIceErrorEvent {
  std::optional<std::string> address;
  std::optional<std::uint16_t> port;
  std::string url;
  std::uint16_t error_code = 0;
  std::string error_text;
};

class RTCPeerConnection {
 public:
  // TypeError/SyntaxError/InvalidAccessError for a bad configuration (W3C 4.4.1.1, 4.4.1.6),
  // InvalidAccessError for an expired certificate, OperationError when no certificate can be
  // generated.
  static Result<std::shared_ptr<RTCPeerConnection>> create(RTCConfiguration configuration = {});
  ~RTCPeerConnection();
  RTCPeerConnection(const RTCPeerConnection&) = delete;
  RTCPeerConnection& operator=(const RTCPeerConnection&) = delete;

  // --- JSEP ---
  std::future<Result<RTCSessionDescriptionInit>> create_offer(RTCOfferOptions options = {});
  void create_offer(std::function<void(Result<RTCSessionDescriptionInit>)> done,
                    RTCOfferOptions options = {});
  std::future<Result<RTCSessionDescriptionInit>> create_answer(RTCAnswerOptions options = {});
  void create_answer(std::function<void(Result<RTCSessionDescriptionInit>)> done,
                     RTCAnswerOptions options = {});
  // With no description: the implicit form (creates the offer or answer the state calls for).
  std::future<Result<>> set_local_description(
      std::optional<RTCSessionDescriptionInit> description = std::nullopt);
  void set_local_description(std::function<void(Result<>)> done,
                             std::optional<RTCSessionDescriptionInit> description = std::nullopt);
  std::future<Result<>> set_remote_description(RTCSessionDescriptionInit description);
  void set_remote_description(RTCSessionDescriptionInit description,
                              std::function<void(Result<>)> done);
  // An empty candidate string is end-of-candidates.
  std::future<Result<>> add_ice_candidate(RTCIceCandidateInit candidate);
  void add_ice_candidate(RTCIceCandidateInit candidate, std::function<void(Result<>)> done);

  std::optional<RTCSessionDescriptionInit> local_description() const;
  std::optional<RTCSessionDescriptionInit> current_local_description() const;
  std::optional<RTCSessionDescriptionInit> pending_local_description() const;
  std::optional<RTCSessionDescriptionInit> remote_description() const;
  std::optional<RTCSessionDescriptionInit> current_remote_description() const;
  std::optional<RTCSessionDescriptionInit> pending_remote_description() const;
  RTCSignalingState signaling_state() const;
  RTCIceGatheringState ice_gathering_state() const;
  RTCIceConnectionState ice_connection_state() const;
  RTCPeerConnectionState connection_state() const;
  // Whether the remote side said a=ice-options:trickle; nullopt before a remote description.
  std::optional<bool> can_trickle_ice_candidates() const;

  // W3C 4.4.1.6 restartIce: the next offer restarts ICE (new credentials, a new gathering
  // round, new checks); negotiationneeded fires. A remote offer with new credentials restarts
  // ICE too, and the answer to it carries new local credentials. Either way the current pair
  // keeps carrying data until a new one is selected.
  void restart_ice();

  RTCConfiguration get_configuration() const;
  // InvalidModificationError when changing certificates, bundle or rtcp-mux policy, or the
  // candidate pool size after a local description; the errors of create() for bad servers.
  Result<> set_configuration(RTCConfiguration configuration);
  // Ends the connection at once: no more events, channels closed, SCTP aborted, DTLS
  // close_notify sent.
  void close();

  // --- Data channels ---
  // TypeError for a label or protocol over 65535 bytes, both partial reliability limits, or a
  // negotiated channel without an id; OperationError for an id in use or out of range;
  // InvalidStateError when closed.
  Result<std::shared_ptr<RTCDataChannel>> create_data_channel(std::string label,
                                                              RTCDataChannelInit init = {});
  // The SCTP transport once a description with a data section was applied, else null.
  std::shared_ptr<RTCSctpTransport> sctp() const;

  // --- Media (rtcpp/rtp_transceiver.hpp) ---
  // W3C addTransceiver(kind): a transceiver whose sender has no track yet (give it one with
  // RTCRtpSender::replace_track). TypeError for a kind other than "audio" or "video" or a
  // stopped direction; InvalidStateError when closed. negotiationneeded fires.
  Result<std::shared_ptr<RTCRtpTransceiver>> add_transceiver(std::string_view kind,
                                                             RTCRtpTransceiverInit init = {});
  // W3C addTransceiver(track): the same, its sender sending `track` (TypeError for null).
  Result<std::shared_ptr<RTCRtpTransceiver>> add_transceiver(
      std::shared_ptr<MediaStreamTrack> track, RTCRtpTransceiverInit init = {});
  // W3C 5.1 addTrack: sends `track` in the streams named, on a transceiver of its kind that
  // never sent and has no track (its direction gains send), else on a new sendrecv one.
  // TypeError for null or a kind other than audio/video; InvalidAccessError when a sender
  // already has the track; InvalidStateError when closed. negotiationneeded fires.
  Result<std::shared_ptr<RTCRtpSender>> add_track(std::shared_ptr<MediaStreamTrack> track,
                                                  std::vector<std::string> stream_ids = {});
  // W3C 5.1 removeTrack: the sender stops sending (its track becomes null) and its
  // transceiver's direction loses send; negotiationneeded fires. InvalidAccessError for a
  // sender of another connection; InvalidStateError when closed.
  Result<> remove_track(const std::shared_ptr<RTCRtpSender>& sender);
  // In the order they were made (by add_transceiver, or by remote offers).
  std::vector<std::shared_ptr<RTCRtpTransceiver>> get_transceivers() const;
  std::vector<std::shared_ptr<RTCRtpSender>> get_senders() const;
  std::vector<std::shared_ptr<RTCRtpReceiver>> get_receivers() const;

  // --- Statistics ---
  std::future<RTCStatsReport> get_stats();
  void get_stats(std::function<void(RTCStatsReport)> done);

  // --- Events ---
  void on_negotiation_needed(std::function<void()> handler);
  void on_ice_candidate(std::function<void(const RTCPeerConnectionIceEvent&)> handler);
  void on_ice_candidate_error(std::function<void(const RTCPeerConnectionIceErrorEvent&)> handler);
  void on_signaling_state_change(std::function<void()> handler);
  void on_ice_gathering_state_change(std::function<void()> handler);
  void on_ice_connection_state_change(std::function<void()> handler);
  void on_connection_state_change(std::function<void()> handler);
  void on_data_channel(std::function<void(std::shared_ptr<RTCDataChannel>)> handler);
  // A remote description made a receiver receive (the peer sends on its section).
  void on_track(std::function<void(const RTCTrackEvent&)> handler);

 private:
  explicit RTCPeerConnection(std::shared_ptr<detail::PeerConnectionImpl> impl);
  std::shared_ptr<detail::PeerConnectionImpl> impl_;
};

}  // namespace rtcpp
