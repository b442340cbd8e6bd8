// The state behind RTCPeerConnection and the objects reachable from it. It lives on the loop
// thread: every member is touched only there, and events reach the user as tasks posted to
// the loop, so a handler never runs inside the protocol code that produced its event.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/conversions.hpp"
#include "base/random.hpp"
#include "pc/jsep.hpp"
#include "pc/peer_transport.hpp"
#include "pc/transceivers.hpp"
#include "rtcpp/peer_connection.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/mdns_resolver.hpp"
#include "runtime/peer_transport_driver.hpp"
#include "sdp/session_description.hpp"

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

  // JSEP (loop thread).
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

  std::optional<RTCSessionDescriptionInit> local_description() const;
  std::optional<RTCSessionDescriptionInit> current_local_description() const;
  std::optional<RTCSessionDescriptionInit> pending_local_description() const;
  std::optional<RTCSessionDescriptionInit> remote_description() const;

  // Data channel operations (loop thread).
  // valid_text: a text message (binary false) is well-formed UTF-8; TypeError otherwise.
  Result<> channel_send(RTCDataChannel& channel, std::span<const std::uint8_t> data, bool binary,
                        bool valid_text = true);
  void channel_close(RTCDataChannel& channel);
  std::size_t channel_buffered_amount(const RTCDataChannel& channel) const;
  // Queues the open event that fired before the channel had an open handler, now it has one.
  void deliver_held_open(RTCDataChannel& channel);

  // W3C 6.1.1.1 maxMessageSize and maxChannels.
  std::size_t max_message_size() const;
  std::uint16_t max_channels() const;
  bool sctp_interleaving() const { return transport_ && transport_->sctp().interleaving(); }
  bool sctp_zero_checksum() const { return transport_ && transport_->sctp().zero_checksum(); }

  // Appends an operation to the operations chain (W3C 4.4.1.2; any thread). Operations run
  // on the loop thread one at a time in the order they were chained: called on the loop
  // thread, the chain runs at once up to and including the new operation.
  void chain_operation(std::function<void()> operation);

  // Queues a handler call as a task; it runs unless the connection closed in between.
  void queue_task(std::function<void()> task);

  // State, read by the public objects through sync().
  RTCConfiguration configuration_;
  RTCSignalingState signaling_state_ = RTCSignalingState::kStable;
  RTCIceGatheringState gathering_state_ = RTCIceGatheringState::kNew;
  RTCIceConnectionState ice_connection_state_ = RTCIceConnectionState::kNew;
  RTCPeerConnectionState connection_state_ = RTCPeerConnectionState::kNew;
  RTCIceTransportState ice_transport_state_ = RTCIceTransportState::kNew;
  RTCDtlsTransportState dtls_state_ = RTCDtlsTransportState::kNew;
  RTCSctpTransportState sctp_state_ = RTCSctpTransportState::kConnecting;
  std::optional<RTCSessionDescriptionInit> current_local_;
  std::optional<RTCSessionDescriptionInit> pending_local_;
  std::optional<RTCSessionDescriptionInit> current_remote_;
  std::optional<RTCSessionDescriptionInit> pending_remote_;
  std::optional<pc::TransportDescription> remote_transport_;
  std::optional<ice::IceRole> ice_role_;
  ice::IceCredentials local_credentials_;  // set in the constructor, from rng_
  // New credentials for the next local description, when it restarts ICE.
  std::optional<ice::IceCredentials> restart_credentials_;
  bool ice_restart_requested_ = false;  // W3C [[LocalIceCredentialsToReplace]] is set
  std::string previous_remote_ufrag_;   // the peer's ufrag before its last restart
  std::optional<RTCIceCandidatePair> selected_pair_;
  std::vector<std::vector<std::uint8_t>> remote_certificates_;
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

 private:
  PeerConnectionImpl(RTCConfiguration configuration, std::shared_ptr<const RTCCertificate> cert);

  Result<> ensure_transport(ice::IceRole role);
  void add_ice_server(const IceServerUrl& parsed, const RTCIceServer& server,
                      const std::string& url, const SocketAddress& address);
  void start_gathering();
  // Fires the events that pooled gathering held back.
  void surface_candidate_pool();
  void teardown_transport();
  void on_transport_event(pc::PeerTransportEvent&& event);
  void after_io();
  Result<> apply_remote_parameters(dtls::DtlsRole role);
  void add_remote_candidates_from(const pc::TransportDescription& remote);
  // A remote candidate to ICE; a "<uuid>.local" one once mDNS has resolved it (a name that
  // does not resolve is dropped, as browsers do). Errors are ICE's (too many candidates).
  Result<> add_remote_candidate(ice::Candidate candidate);
  // A negotiation ended (answer or pranswer); it may have accepted the data section.
  void negotiation_complete(bool data_accepted);
  // The mid of our section that carries the transport: local candidates are tagged with it.
  std::string transport_mid() const;
  void open_pending_channels();
  void announce_open(const std::shared_ptr<RTCDataChannel>& channel);
  static void fire_open(const std::shared_ptr<RTCDataChannel>& channel);
  void finish_channel(const std::shared_ptr<RTCDataChannel>& channel, bool fire_events);
  void set_signaling_state(RTCSignalingState state);
  // An answer or pranswer applied, ours (local) or the peer's.
  void apply_answer(const RTCSessionDescriptionInit& desc, bool local,
                    const std::vector<pc::MSection>& answered);
  // Drops the pending offer, ours (local) or the peer's.
  void roll_back(bool local);
  void update_connection_states();
  void check_negotiation_needed();
  bool needs_negotiation() const {
    return (negotiation_needed_ && !data_negotiated_) || ice_restart_requested_;
  }
  // Applies a local description's new ICE credentials, if it carries restart_credentials_.
  void commit_restart_credentials(const std::string& sdp);
  // The peer's credentials from a description it restarted ICE with.
  void apply_remote_restart(const pc::TransportDescription& remote);
  pc::TransportDescription local_transport(pc::DtlsSetup setup) const;
  // JSEP 5.2.2: the sections of our next offer, from the negotiated (or pending) layout.
  std::vector<pc::MSection> offer_sections() const;
  // The negotiated layout takes the pending one, with what the answer rejected.
  void commit_sections(const std::vector<pc::MSection>& answered);
  bool data_section_accepted(const std::vector<pc::MSection>& sections) const;
  pc::DtlsSetup local_setup_for_answer() const;
  std::string with_candidates(const std::string& sdp) const;
  void kick();
  void schedule_kick();
  void run_chained_operations();

  runtime::EventLoop& loop_;
  std::shared_ptr<const RTCCertificate> certificate_;
  CryptoRandom rng_;
  std::unique_ptr<pc::PeerTransport> transport_;
  std::unique_ptr<runtime::PeerTransportDriver> driver_;
  std::unique_ptr<runtime::MdnsResolver> mdns_;  // made for the first .local candidate
  std::optional<dtls::DtlsRole> dtls_role_;
  bool remote_parameters_applied_ = false;
  bool gathering_started_ = false;
  bool pooled_ = false;  // gathering ahead of a local description: events held back
  ice::IceGatheringState pooled_gathering_state_ = ice::IceGatheringState::kNew;
  int pending_resolutions_ = 0;             // ICE server names still being looked up
  std::uint64_t transport_generation_ = 0;  // bumped when the transport is torn down
  std::uint64_t session_id_ = 0;
  std::uint64_t session_version_ = 0;
  std::string local_mid_ = "0";  // see transport_mid()
  pc::DtlsSetup last_offer_setup_ = pc::DtlsSetup::kActpass;
  pc::DtlsSetup local_offer_setup_ = pc::DtlsSetup::kActpass;
  std::string last_offer_;
  std::string last_answer_;
  // JSEP: the transceivers and the session's m= sections. `sections_` is the layout of the
  // last completed negotiation; `pending_sections_` that of the offer being answered (ours
  // once applied, or our plan for the peer's), with `pending_bundle_` its answer's group.
  pc::TransceiverList transceivers_;
  std::vector<pc::MSection> sections_;
  std::vector<pc::MSection> pending_sections_;
  std::vector<std::string> pending_bundle_;
  std::vector<pc::MSection> last_offer_sections_;
  pc::DtlsSetup last_answer_setup_ = pc::DtlsSetup::kActive;
  std::vector<ice::Candidate> local_candidates_;
  bool local_candidates_complete_ = false;
  std::size_t remote_max_message_size_ = 65536;
  bool negotiation_needed_ = false;
  bool kick_scheduled_ = false;
  bool data_negotiated_ = false;  // a data section is in the current descriptions
  // Every channel not yet closed; those without an id wait for the DTLS role.
  std::vector<std::shared_ptr<RTCDataChannel>> channels_;
  std::map<std::uint16_t, std::shared_ptr<RTCDataChannel>> channels_by_id_;
  std::uint64_t channels_opened_ = 0;
  std::uint64_t channels_closed_ = 0;
  // The operations chain: filled from any thread, run on the loop thread.
  std::mutex operations_mutex_;
  std::deque<std::function<void()>> operations_;
  bool running_operations_ = false;
};

}  // namespace rtcpp::detail
