// One peer connection, sans-IO: JSEP (RFC 8829) over any number of m= sections with BUNDLE,
// the transport stack under it (ICE, DTLS, SCTP: pc/peer_transport.hpp) and the data
// channels. Commands (the W3C operations), datagrams, timeouts and the answers of the
// runtime's services go in; datagrams to send, events and the next deadline come out. It
// never touches a socket, a clock or a thread: the same inputs give the same outputs, which
// is how the simulator runs two of them against each other.
//
// The runtime provides what a sans-IO core cannot do itself, when an event asks for it:
// sockets on the local addresses (GatherRequest), name lookups (ResolveRequest, MdnsRequest)
// and streams to TURN servers over TCP or TLS (TurnStreamRequest). Each answer comes back
// through the matching method; answers for a transport that has been torn down since are
// ignored.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/net.hpp"
#include "base/random.hpp"
#include "base/ring_queue.hpp"
#include "base/time.hpp"
#include "dtls/certificate.hpp"
#include "pc/ice_servers.hpp"
#include "pc/jsep.hpp"
#include "pc/media_session.hpp"
#include "pc/peer_transport.hpp"
#include "pc/transceivers.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::pc {

// W3C RTCSignalingState.
enum class SignalingState : std::uint8_t {
  kStable,
  kHaveLocalOffer,
  kHaveRemoteOffer,
  kHaveLocalPranswer,
  kHaveRemotePranswer,
  kClosed
};
std::string_view to_string(SignalingState state) noexcept;

// W3C RTCSdpType.
enum class SdpType : std::uint8_t { kOffer, kPranswer, kAnswer, kRollback };
std::string_view to_string(SdpType type) noexcept;

struct Description {
  SdpType type = SdpType::kOffer;
  std::string sdp;
};

struct IceServer {
  std::vector<std::string> urls;  // valid (parse_ice_server_url)
  std::string username;
  std::string credential;
};

struct ConnectionConfig {
  std::shared_ptr<const dtls::Certificate> certificate;
  std::vector<IceServer> ice_servers;
  bool relay_only = false;                // W3C iceTransportPolicy "relay"
  bool udp_candidates = true;             // false: TCP and relayed candidates only
  bool tcp_candidates = true;             // ICE-TCP host candidates (RFC 6544)
  bool turn_dual_stack = false;           // ask TURN servers for IPv4 and IPv6 relays (RFC 8656)
  std::uint16_t candidate_pool_size = 0;  // W3C iceCandidatePoolSize
  std::size_t max_message_size = 256 * 1024;
  bool sctp_interleaving = false;
  bool sctp_zero_checksum = false;
  std::size_t dtls_mtu = 1200;
  std::function<void(std::string_view line)> dtls_key_log;
  ice::IceConfig ice;  // timers and limits; the policy fields above override its own
  // The NTP time (RFC 3550 4, since 1900) of Timestamp zero: the wall clock of RTCP sender
  // reports. The runtime passes the real one; any constant does for a simulation.
  Duration ntp_offset;
};

// W3C RTCDataChannel readyState.
enum class ChannelState : std::uint8_t { kConnecting, kOpen, kClosing, kClosed };

// A data channel's options as W3C RTCDataChannelInit gives them (checked by create_channel).
struct ChannelInit {
  std::string label;
  std::string protocol;
  bool ordered = true;
  std::optional<std::uint16_t> max_retransmits;
  std::optional<std::uint16_t> max_packet_life_time_ms;
  bool negotiated = false;
  std::optional<std::uint16_t> id;  // required when negotiated
};

// Names a data channel for the life of the connection (stream ids are reused; handles never).
using ChannelHandle = std::uint64_t;

struct ChannelStatus {
  ChannelInit init;
  std::optional<std::uint16_t> id;  // the SCTP stream, once the DTLS role allows one
  ChannelState state = ChannelState::kConnecting;
  bool remote = false;              // announced by the peer (DCEP)
  std::size_t buffered_amount = 0;  // bytes the transport has not sent yet
  std::size_t low_threshold = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_received = 0;
};

// --- Events ---

struct SignalingStateChanged {
  SignalingState state;
};
// W3C 4.7.3: fire negotiationneeded if the connection still needs it (needs_negotiation())
// and is stable when the event is delivered.
struct NegotiationNeeded {};
// A local candidate, with the mid and ufrag it belongs to. The end of gathering is the
// GatheringStateChanged to complete.
struct LocalCandidate {
  ice::Candidate candidate;
  std::string mid;
  std::string ufrag;
  std::string url;             // W3C RTCIceCandidate.url: the server of a srflx or relay one
  std::string relay_protocol;  // W3C relayProtocol of a relayed one: "udp", "tcp" or "tls"
};
// One of our candidates of the current ICE generation, with where it came from.
struct GatheredCandidate {
  ice::Candidate candidate;
  std::string url;
  std::string relay_protocol;
};
struct GatheringStateChanged {
  ice::IceGatheringState state;
  // Complete: the media section (mid) and ICE generation (ufrag) whose gathering finished, for
  // W3C 4.3.1's end-of-candidates icecandidate event.
  std::string mid;
  std::string ufrag;
};
// W3C RTCPeerConnectionIceErrorEvent.
struct CandidateError {
  std::string address;
  std::uint16_t port = 0;
  std::string url;
  std::uint16_t error_code = 701;
  std::string error_text;
};
struct IceStateChanged {
  ice::IceTransportState state;
};
struct SelectedPairChanged {
  ice::Candidate local;
  ice::Candidate remote;
};
struct DtlsStateChanged {
  dtls::DtlsState state;
  std::optional<RTCError> error;
};
struct SctpStateChanged {
  bool connected = false;  // false: closed
};
// The peer announced a channel (W3C datachannel event); its open follows.
struct ChannelAnnounced {
  ChannelHandle handle;
};
struct ChannelOpened {
  ChannelHandle handle;
};
struct ChannelMessage {
  ChannelHandle handle;
  bool binary = true;
  Buffer data;
};
// Bytes of the channel's messages left the transport's queue (their first transmission): the
// W3C [[BufferedAmount]] goes down by `bytes` in a task of its own (bufferedamountlow fires
// there when it crosses the threshold).
struct ChannelBufferedAmountDecreased {
  ChannelHandle handle;
  std::size_t bytes = 0;
};
struct ChannelError {
  ChannelHandle handle;
  RTCError error;
};
// The peer started closing the channel while it was open (W3C closing event).
struct ChannelClosing {
  ChannelHandle handle;
};
struct ChannelClosed {
  ChannelHandle handle;
};

// W3C 4.4.1.6 track event: a description made this transceiver's receiver receive (the peer
// sends on its section). Its frames follow as MediaFrameReceived.
struct TrackAdded {
  std::uint32_t transceiver = 0;
};
// W3C 4.4.1.6 "process the removal of a remote track": a description stopped the peer sending
// on this transceiver's section (its direction, or the section rejected). The receiver's track
// is muted; a later description that sends again fires TrackAdded again.
struct TrackRemoved {
  std::uint32_t transceiver = 0;
};
// W3C 4.4.1.6 set the associated remote streams: the peer's a=msid for a section it keeps
// sending on names other streams now (Transceiver::remote_stream_ids).
struct RemoteStreamsChanged {
  std::uint32_t transceiver = 0;
};
// W3C 5.4 stop, or a rejected section: the transceiver's receiver will receive nothing more
// (its track ends).
struct TransceiverStopped {
  std::uint32_t transceiver = 0;
};
// (MediaFrameReceived, KeyFrameRequested, DtmfToneChanged and DtmfToneReceived:
// pc/media_session.hpp.)

// --- Requests to the runtime ---

// Bind a UDP socket on every local address (and, with tcp, listen for ICE-TCP), report
// each through add_host_address / add_tcp_host_address or socket_failed, then call
// sockets_ready.
struct GatherRequest {
  bool tcp = false;
};
// Resolve an ICE server's host name; answer with name_resolved.
struct ResolveRequest {
  std::uint64_t token = 0;
  std::string host;
  std::uint16_t port = 0;
};
// Resolve a peer's mDNS candidate name (RFC 6762); answer with mdns_resolved.
struct MdnsRequest {
  std::uint64_t token = 0;
  std::string name;
};
// Prepare a stream (TCP, or TLS verified for host_name) to a TURN server; answer with
// turn_stream_ready.
struct TurnStreamRequest {
  std::uint64_t token = 0;
  SocketAddress server;
  bool tls = false;
  std::string host_name;
};

// The transport is gone (the first offer was rolled back): close its sockets and streams.
struct TransportReleased {};

using ConnectionEvent =
    std::variant<SignalingStateChanged, NegotiationNeeded, LocalCandidate, GatheringStateChanged,
                 CandidateError, IceStateChanged, SelectedPairChanged, DtlsStateChanged,
                 SctpStateChanged, ChannelAnnounced, ChannelOpened, ChannelMessage,
                 ChannelBufferedAmountDecreased, ChannelError, ChannelClosing, ChannelClosed,
                 TrackAdded, TrackRemoved, RemoteStreamsChanged, TransceiverStopped,
                 MediaFrameReceived, KeyFrameRequested, DtmfToneChanged, DtmfToneReceived,
                 GatherRequest, ResolveRequest, MdnsRequest, TurnStreamRequest, TransportReleased>;

class Connection {
 public:
  // The certificate is required. Random gives the session id, ICE credentials and every
  // choice the protocols make.
  Connection(ConnectionConfig config, Random& rng);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // --- JSEP (W3C 4.4.1) ---
  Result<std::string> create_offer(bool ice_restart, Timestamp now);
  Result<std::string> create_answer(Timestamp now);
  // nullopt: the implicit form (W3C 4.4.1.5). An empty sdp takes the last one created.
  Result<> set_local_description(std::optional<Description> description, Timestamp now);
  Result<> set_remote_description(const Description& description, Timestamp now);
  // An empty candidate is the end of the peer's candidates.
  Result<> add_ice_candidate(const std::string& candidate, const std::optional<std::string>& mid,
                             std::optional<std::uint16_t> m_line_index,
                             const std::optional<std::string>& ufrag, Timestamp now);
  void restart_ice();
  // W3C addTransceiver: a transceiver whose section the next offer carries (JSEP 5.2.1).
  // Returns its handle in transceivers().
  std::uint32_t add_transceiver(MediaKind kind, RtpDirection direction);
  const TransceiverList& transceivers() const noexcept { return transceivers_; }
  // W3C RTCRtpTransceiver.direction setter: InvalidStateError for a stopping or stopped
  // transceiver. Takes effect at the next offer, or at the answer being prepared.
  Result<> set_direction(std::uint32_t transceiver, RtpDirection direction);
  // W3C 5.4 setCodecPreferences: the codecs the transceiver's next offers and answers list,
  // in this order (empty: rtcpp's own). InvalidModificationError for a codec rtcpp cannot
  // receive, or for a list of repair formats only.
  Result<> set_codec_preferences(std::uint32_t transceiver, std::vector<CodecPreference> codecs);
  // W3C 5.4 stop(): the transceiver stops sending (RTCP BYE) and receiving at once, its
  // direction reads stopped, and the next offer or answer rejects its section, after which it
  // leaves transceivers(). InvalidStateError on a closed connection; nothing for a stopping
  // one.
  Result<> stop_transceiver(std::uint32_t transceiver);
  // W3C [[AssociatedMediaStreamIds]] of the transceiver's sender (addTrack's streams,
  // RTCRtpTransceiverInit.streams): the a=msid lines of our next descriptions.
  void set_sender_streams(std::uint32_t transceiver, std::vector<std::string> stream_ids);

  // --- Media (pc/media_session.hpp) ---
  // Sends an encoded frame on a transceiver whose negotiated direction sends. InvalidStateError
  // before that, or before the transport has SRTP keys (the frame is not sent).
  Result<> send_frame(std::uint32_t transceiver, const EncodedFrame& frame, Timestamp now);
  // Asks the peer's sender on this transceiver for a key frame (a PLI).
  Result<> request_key_frame(std::uint32_t transceiver, Timestamp now);
  // DTMF on an audio transceiver (MediaSession::insert_dtmf); InvalidStateError before the
  // transport has SRTP keys too.
  bool can_insert_dtmf(std::uint32_t transceiver) const;
  Result<> insert_dtmf(std::uint32_t transceiver, std::string_view tones, std::int64_t duration_ms,
                       std::int64_t inter_tone_gap_ms, Timestamp now);
  std::string dtmf_tone_buffer(std::uint32_t transceiver) const {
    return media_.dtmf_tone_buffer(transceiver);
  }
  const MediaStreamStats* media_stats(std::uint32_t transceiver) const {
    return media_.stats(transceiver);
  }
  // Whether a negotiated audio or video section carries RTP on the transport.
  bool carries_media() const { return media_.has_streams(); }
  // Transport-wide congestion control feedback both ways, and the per-packet results of the
  // peer's feedback for a congestion controller to take (MediaSession).
  TransportFeedbackStats transport_feedback_stats() const {
    return media_.transport_feedback_stats();
  }
  std::vector<rtp::TransportPacketResult> take_transport_results() {
    return media_.take_transport_results();
  }
  // The send-side bandwidth estimate (pc::MediaSession::bandwidth_estimator()).
  const rtp::BandwidthEstimator& bandwidth_estimator() const noexcept {
    return media_.bandwidth_estimator();
  }
  std::optional<std::uint32_t> available_outgoing_bitrate() const {
    return media_.available_outgoing_bitrate();
  }
  // The sources a receiving transceiver heard from in the last 10 s (W3C webrtc-pc 5.4.4).
  std::vector<MediaSource> synchronization_sources(std::uint32_t transceiver, Timestamp now) const {
    return media_.synchronization_sources(transceiver, now);
  }
  std::vector<MediaSource> contributing_sources(std::uint32_t transceiver, Timestamp now) const {
    return media_.contributing_sources(transceiver, now);
  }
  // The wall-clock time of a core timestamp, in milliseconds since the Unix epoch (what the
  // W3C API reports as a DOMHighResTimeStamp), from ConnectionConfig::ntp_offset.
  double unix_time_ms(Timestamp at) const {
    // NTP counts from 1900, Unix time from 1970: 70 years with 17 leap days.
    constexpr double kNtpToUnixMs = 2'208'988'800.0 * 1000.0;
    return static_cast<double>(at.us() + config_.ntp_offset.us()) / 1e3 - kNtpToUnixMs;
  }
  // RFC 7022: the CNAME of our RTCP.
  const std::string& cname() const noexcept { return cname_; }
  // The section the last completed negotiation gave the transceiver (as we wrote it), if any.
  const MSection* negotiated_section(std::uint32_t transceiver) const {
    for (const auto& s : sections_) {
      if (s.transceiver == transceiver && !s.rejected) return &s;
    }
    return nullptr;
  }
  // The negotiated codec's name (rtpmap), when the transceiver sends or receives.
  std::optional<std::string> send_codec(std::uint32_t transceiver) const {
    return media_.send_codec(transceiver);
  }
  std::optional<std::string> receive_codec(std::uint32_t transceiver) const {
    return media_.receive_codec(transceiver);
  }
  const RtpCodec* send_codec_description(std::uint32_t transceiver) const {
    return media_.send_codec_description(transceiver);
  }
  const RtpCodec* receive_codec_description(std::uint32_t transceiver) const {
    return media_.receive_codec_description(transceiver);
  }
  // W3C 4.4.1.6: what may change once the connection exists. The caller checks the rest.
  Result<> set_configuration(ConnectionConfig config, Timestamp now);
  // With a candidate pool: gather ahead of the first description (W3C 4.4.1.6).
  void fill_candidate_pool(Timestamp now);
  // SCTP ABORT and DTLS close_notify go out (poll_transmit); no event follows.
  void close(Timestamp now);

  SignalingState signaling_state() const noexcept { return signaling_state_; }
  // W3C 4.7.3 (the parts that exist): a data channel before any data section, an ICE
  // restart, or a transceiver without a section.
  bool needs_negotiation() const noexcept;
  // The descriptions, local ones with the candidates gathered so far (W3C 4.4.1).
  std::optional<Description> current_local_description() const;
  std::optional<Description> pending_local_description() const;
  std::optional<Description> current_remote_description() const { return current_remote_; }
  std::optional<Description> pending_remote_description() const { return pending_remote_; }
  bool has_local_description() const { return current_local_ || pending_local_; }

  // --- Data channels (W3C 4.4.1 createDataChannel, 6.2) ---
  // TypeError / OperationError as createDataChannel raises them.
  Result<ChannelHandle> create_channel(ChannelInit init, Timestamp now);
  // InvalidStateError unless open; TypeError above maxMessageSize.
  Result<> send(ChannelHandle channel, BytesView data, bool binary, Timestamp now);
  void close_channel(ChannelHandle channel, Timestamp now);
  std::size_t buffered_amount(ChannelHandle channel) const;
  void set_buffered_amount_low_threshold(ChannelHandle channel, std::size_t threshold);
  // nullopt once the channel is closed and forgotten.
  const ChannelStatus* channel(ChannelHandle handle) const;
  std::vector<ChannelHandle> channels() const;
  // Channels that closed, as they were then (webrtc-stats keeps their stats, state "closed"):
  // the most recent 1024, by handle.
  const std::map<ChannelHandle, ChannelStatus>& closed_channels() const noexcept {
    return closed_channels_;
  }
  std::uint64_t channels_opened() const noexcept { return channels_opened_; }
  std::uint64_t channels_closed() const noexcept { return channels_closed_; }
  // W3C 6.1.1 [[MaxMessageSize]] once sctp_negotiated(): the peer's limit against what our
  // send buffer holds; SIZE_MAX for +Infinity (neither side limits).
  std::size_t max_message_size() const;
  std::uint16_t max_channels() const;
  bool sctp_negotiated() const noexcept { return data_negotiated_; }
  // W3C 4.4.1.6: an applied description (offer or answer, local or remote) has a data
  // section we take: the RTCSctpTransport exists from then on.
  bool sctp_described() const noexcept;

  // --- Transport state, for the API's attributes and stats ---
  ice::IceTransportState ice_state() const noexcept { return ice_state_; }
  ice::IceGatheringState gathering_state() const noexcept { return gathering_state_; }
  dtls::DtlsState dtls_state() const noexcept { return dtls_state_; }
  bool sctp_connected() const noexcept { return transport_ && transport_->sctp_connected(); }
  std::optional<ice::IceRole> ice_role() const noexcept { return ice_role_; }
  std::optional<dtls::DtlsRole> dtls_role() const noexcept { return dtls_role_; }
  const ice::IceCredentials& local_credentials() const noexcept { return local_credentials_; }
  std::optional<ice::IceCredentials> remote_credentials() const;
  const std::vector<GatheredCandidate>& local_candidates() const noexcept {
    return local_candidates_;
  }
  // The peer's candidates of its current ICE generation as it signaled them (in its
  // description or trickled), whether or not ICE pairs them (W3C 5.6 getRemoteCandidates).
  const std::vector<ice::Candidate>& remote_candidates() const noexcept {
    return remote_candidates_;
  }
  std::optional<SelectedPairChanged> selected_pair() const noexcept { return selected_pair_; }
  const Buffer& remote_certificate_der() const noexcept { return remote_certificate_; }
  // The mid our candidates are tagged with (the section that carries the transport).
  const std::string& transport_mid() const noexcept { return local_mid_; }
  const std::optional<TransportDescription>& remote_transport() const noexcept {
    return remote_transport_;
  }
  // Null until a transport exists; for reading (stats) only.
  const PeerTransport* transport() const noexcept { return transport_.get(); }

  // --- I/O ---
  void handle_datagram(const Datagram& datagram, Timestamp now);
  void handle_timeout(Timestamp now);
  std::optional<Datagram> poll_transmit();
  std::optional<ConnectionEvent> poll_event();
  std::optional<Timestamp> next_timeout() const;

  // --- Answers from the runtime ---
  void add_host_address(const SocketAddress& address, Timestamp now);
  void add_tcp_host_address(const SocketAddress& address, Timestamp now);
  void socket_failed(const IpAddress& ip, const std::string& text);
  void sockets_ready(Timestamp now);
  void name_resolved(std::uint64_t token, std::optional<SocketAddress> address,
                     const std::string& error, Timestamp now);
  void mdns_resolved(std::uint64_t token, std::optional<IpAddress> address, Timestamp now);
  void turn_stream_ready(std::uint64_t token, const Result<>& ready, Timestamp now);
  // ICE's view of the streams the runtime carries (see ice::IceAgent).
  void turn_stream_failed(const SocketAddress& base, const SocketAddress& server, std::string text,
                          Timestamp now);
  bool tcp_connection_authenticated(const SocketAddress& local, const SocketAddress& remote);
  void tcp_connection_closed(const SocketAddress& local, const SocketAddress& remote,
                             Timestamp now);

 private:
  struct ChannelRecord {
    ChannelStatus status;
    std::size_t last_buffered = 0;
    bool on_transport = false;
    bool opened = false;  // it was open once (webrtc-stats counts only those as closed)
  };
  struct PendingServer {
    IceServerUrl url;
    IceServer server;
    std::string text;       // the URL as configured
    SocketAddress address;  // once known
  };

  // connection.cpp: transport lifetime, gathering, runtime answers, transport events.
  Result<> ensure_transport(ice::IceRole role, Timestamp now);
  void start_gathering(Timestamp now);
  // The configured STUN and TURN servers not in use yet (all of them when gathering starts;
  // those set_configuration added since, at an ICE restart of ours).
  void add_configured_servers(Timestamp now);
  // The servers in use that set_configuration left out, dropped (at an ICE restart of ours).
  void remove_unconfigured_servers(Timestamp now);
  void add_ice_server(const PendingServer& server, const SocketAddress& address, Timestamp now);
  void maybe_finish_gathering(Timestamp now);
  void surface_candidate_pool();
  void teardown_transport();
  void drain_transport();
  void on_transport_event(PeerTransportEvent&& event);
  void on_ice_event(ice::IceEvent&& event);
  void check_buffered_amounts();
  void report_sent_bytes(ChannelHandle handle, ChannelRecord& record);
  // Media: what the session produced goes to the transport and to the events.
  void flush_media();
  void assign_sender_identities();
  void stamp_senders(std::vector<MSection>& sections) const;
  // JSEP 5.3.1: an answer's direction per section, from the offer's and the transceiver's.
  void apply_answer_directions(std::vector<MSection>& sections) const;
  void record_local_directions(const std::vector<MSection>& sections);
  void configure_media();
  void fire_track_events(const std::vector<MSection>& ours, std::span<const RemoteSection> remote);
  void emit(ConnectionEvent event) { events_.push_back(std::move(event)); }

  // connection_jsep.cpp: offer/answer.
  void set_signaling_state(SignalingState state);
  void check_negotiation_needed();
  TransportDescription local_transport(DtlsSetup setup) const;
  std::vector<MSection> offer_sections() const;
  void commit_sections(const std::vector<MSection>& answered);
  DtlsSetup local_setup_for_answer() const;
  Result<> apply_remote_parameters(dtls::DtlsRole role, Timestamp now);
  void add_remote_candidates_from(const TransportDescription& remote, Timestamp now);
  Result<> add_remote_candidate(ice::Candidate candidate, Timestamp now);
  void negotiation_complete(bool data_accepted);
  void apply_answer(const Description& desc, bool local, const std::vector<MSection>& answered);
  void roll_back(bool local, Timestamp now);
  Result<> roll_back_either(Timestamp now);
  void commit_restart_credentials(const std::string& sdp, Timestamp now);
  void apply_remote_restart(const TransportDescription& remote, Timestamp now);
  std::string with_candidates(const std::string& sdp) const;
  // W3C 4.4.1.6 addIceCandidate: a candidate applied (or the end of candidates, nullopt) is
  // added to the remote descriptions of its ICE generation, in the section it names (every
  // section for an end of candidates naming none).
  void add_to_remote_descriptions(const std::optional<ice::Candidate>& candidate,
                                  const std::optional<std::string>& mid,
                                  std::optional<std::uint16_t> m_line_index);
  Result<> apply_remote_offer(const Description& desc, const RemoteDescription& remote,
                              Timestamp now);

  // connection_channels.cpp: the channel registry.
  void open_pending_channels();
  void announce_open(ChannelHandle handle, ChannelRecord& record);
  void finish_channel(ChannelHandle handle, bool fire_events);
  ChannelRecord* find_channel(ChannelHandle handle);
  ChannelHandle handle_of_stream(std::uint16_t id) const;
  void on_sctp_state(const SctpStateEvent& event);
  void on_channel_open(const ChannelOpenEvent& event);
  void on_channel_message(ChannelMessageEvent&& event);
  void on_channel_closed(const ChannelClosedEvent& event);

  ConnectionConfig config_;
  Random& rng_;
  SignalingState signaling_state_ = SignalingState::kStable;
  bool closed_ = false;
  std::optional<Description> current_local_;
  std::optional<Description> pending_local_;
  std::optional<Description> current_remote_;
  std::optional<Description> pending_remote_;
  std::unique_ptr<PeerTransport> transport_;
  RingQueue<ConnectionEvent> events_;

  // ICE and DTLS.
  std::optional<TransportDescription> remote_transport_;
  std::optional<ice::IceRole> ice_role_;
  ice::IceCredentials local_credentials_;
  // New credentials for the next local description, when it restarts ICE.
  std::optional<ice::IceCredentials> restart_credentials_;
  bool ice_restart_requested_ = false;  // W3C [[LocalIceCredentialsToReplace]] is set
  std::string previous_remote_ufrag_;   // the peer's ufrag before its last restart
  std::optional<dtls::DtlsRole> dtls_role_;
  bool remote_parameters_applied_ = false;
  ice::IceTransportState ice_state_ = ice::IceTransportState::kNew;
  ice::IceGatheringState gathering_state_ = ice::IceGatheringState::kNew;
  dtls::DtlsState dtls_state_ = dtls::DtlsState::kNew;
  std::optional<SelectedPairChanged> selected_pair_;
  Buffer remote_certificate_;

  // Gathering and the runtime's services.
  bool gathering_started_ = false;
  std::vector<std::string> servers_in_use_;  // URLs given to ICE (or being resolved for it)
  bool sockets_ready_ = false;
  bool pooled_ = false;  // gathering ahead of a local description: events held back
  ice::IceGatheringState pooled_gathering_state_ = ice::IceGatheringState::kNew;
  std::uint64_t next_token_ = 1;
  std::map<std::uint64_t, PendingServer> pending_names_;    // ICE server names being resolved
  std::map<std::uint64_t, PendingServer> pending_streams_;  // TURN streams being prepared
  std::map<std::uint64_t, ice::Candidate> pending_mdns_;    // .local candidates being resolved
  std::vector<GatheredCandidate> local_candidates_;
  bool local_candidates_complete_ = false;
  std::vector<ice::Candidate> remote_candidates_;  // signaled, current generation, bounded

  // JSEP. `sections_` is the layout of the last completed negotiation; `pending_sections_`
  // that of the offer being answered (ours once applied, or our plan for the peer's), with
  // `pending_bundle_` its answer's group.
  std::uint64_t session_id_ = 0;
  std::uint64_t session_version_ = 0;
  std::string local_mid_ = "0";
  DtlsSetup last_offer_setup_ = DtlsSetup::kActpass;
  DtlsSetup local_offer_setup_ = DtlsSetup::kActpass;
  DtlsSetup last_answer_setup_ = DtlsSetup::kActive;
  std::string last_offer_;
  std::string last_answer_;
  TransceiverList transceivers_;
  std::vector<MSection> sections_;
  std::vector<MSection> pending_sections_;
  std::vector<std::string> pending_bundle_;
  std::vector<MSection> last_offer_sections_;
  bool negotiation_needed_ = false;
  bool data_negotiated_ = false;  // a data section is in the current descriptions
  std::size_t remote_max_message_size_ = 65536;
  // The peer's sections as its description being negotiated, and the last applied answer
  // exchange, wrote them (their RTP parameters: SSRCs, extension ids, codecs).
  std::vector<RemoteSection> pending_remote_sections_;
  // Filters and orders the codecs of transceivers with preferences; `offered` (an answer's
  // offer, index for index) gives what an answer may list.
  void apply_codec_preferences(std::vector<MSection>& sections,
                               std::span<const RemoteSection> offered) const;
  std::vector<RemoteSection> current_remote_sections_;

  // Media.
  MediaSession media_;
  MediaPacket media_packet_;  // reused by flush_media()
  std::string cname_;         // RFC 7022: one random CNAME for the connection
  Timestamp now_;             // the time of the last input, for work done while events are polled

  // Data channels: every one not yet closed, in creation order.
  std::map<ChannelHandle, ChannelRecord> channels_;
  std::map<std::uint16_t, ChannelHandle> channels_by_id_;
  std::map<ChannelHandle, ChannelStatus> closed_channels_;
  ChannelHandle next_channel_ = 1;
  std::uint64_t channels_opened_ = 0;
  std::uint64_t channels_closed_ = 0;
  bool buffered_dirty_ = false;  // buffered amounts may have fallen since the last check
};

}  // namespace rtcpp::pc
