// An SCTP association (RFC 9260) carried over DTLS (RFC 8261), sans-IO: SCTP packets in
// and out as byte buffers (each one DTLS record), time as a value.
//
// Covered: the four-way handshake with a signed state cookie, simultaneous open (WebRTC
// peers both initiate), DATA with fragmentation and reassembly, ordered and unordered
// delivery per stream, SACK with gap blocks and duplicates, delayed SACK, RTO estimation
// and T3-rtx, slow start, congestion avoidance, fast retransmit and recovery, the peer's
// receive window, bundling to the path MTU, graceful SHUTDOWN and ABORT, partial
// reliability (RFC 3758 FORWARD-TSN: abandonment by retransmission count or lifetime),
// outgoing stream reset (RFC 6525 RE-CONFIG, Outgoing SSN Reset Request and Response),
// user message interleaving (RFC 8260 I-DATA and I-FORWARD-TSN, streams served round-robin
// one fragment at a time) and zero checksums (RFC 9653, the DTLS method), all negotiated in
// INIT/INIT ACK; HEARTBEATs on an idle path (RFC 9260 8.3); a peer's restart (5.2.2, 5.2.4
// action A: an INIT on the established association is answered with tie-tags, and the
// COOKIE ECHO that proves them starts the association over). Not done: incoming SSN reset,
// SSN/TSN reset and add-streams requests (answered Denied, RFC 6525 allows it).
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/bytes.hpp"
#include "base/random.hpp"
#include "base/ring_queue.hpp"
#include "base/serial.hpp"
#include "base/time.hpp"
#include "base/timer.hpp"
#include "rtcpp/error.hpp"
#include "sctp/congestion_control.hpp"
#include "sctp/data_tracker.hpp"
#include "sctp/events.hpp"
#include "sctp/handshake.hpp"
#include "sctp/heartbeat.hpp"
#include "sctp/packet.hpp"
#include "sctp/reassembly_queue.hpp"
#include "sctp/retransmission_queue.hpp"
#include "sctp/rto_estimator.hpp"
#include "sctp/send_queue.hpp"
#include "sctp/stream_counters.hpp"
#include "sctp/stream_reset.hpp"
#include "sctp/types.hpp"

namespace rtcpp::sctp {

struct SctpConfig {
  std::uint16_t local_port = 5000;
  std::uint16_t remote_port = 5000;
  // Largest SCTP packet (the DTLS record payload). RFC 8261 5: 1200 is safe everywhere.
  std::size_t mtu = 1200;
  // Our advertised receive window and the bound on reassembly memory.
  std::uint32_t receive_window = 1024 * 1024;
  std::uint16_t streams = 65535;
  // Largest message accepted for sending or reassembled on receipt (a=max-message-size).
  std::size_t max_message_size = 256 * 1024;
  // Bound on bytes queued for sending (not yet acknowledged) across all streams.
  std::size_t max_send_buffer = 64 * 1024 * 1024;
  // Largest message accepted for sending; 0: max_message_size. A data channel stack that checks
  // the peer's limit itself (W3C maxMessageSize) may allow up to max_send_buffer.
  std::size_t max_send_message_size = 0;
  // RFC 9260 6.3.1 RTO bounds; WebRTC stacks use a lower floor than the RFC's 1 s.
  Duration rto_initial = Duration::millis(500);
  Duration rto_min = Duration::millis(120);
  // Liveness is ICE consent's (RFC 7675: 30 s); a lower ceiling than the RFC's 60 s keeps a
  // path that recovers from a burst of loss from waiting out long doubled timers.
  Duration rto_max = Duration::seconds(3);
  // T1-init and T1-cookie back off to this lower ceiling: the handshake's chunks are small and
  // one per second costs nothing, while under heavy loss each lost round trip would otherwise
  // add up to rto_max to the setup. With the retransmission limit, setup gives up after
  // about 20 s.
  Duration init_rto_max = Duration::seconds(1);
  int max_init_retransmits = 20;
  int max_retransmissions = 10;  // Association.Max.Retrans
  // RFC 9260 6.2: acknowledge at least every second packet, and within 200 ms.
  Duration delayed_ack = Duration::millis(200);
  // Lower bound of the RTO's variance term (RTO = SRTT + max(4 RTTVAR, this)): a peer may
  // hold a SACK for its delayed-ack time (200 ms in the common stacks), plus a margin for
  // timer granularity, so a smaller RTO retransmits data that was not lost.
  Duration peer_ack_delay = Duration::millis(220);
  // RFC 9260 8.3 HB.interval: while no new data goes out, a HEARTBEAT every RTO + this (the
  // RTO part jittered by +/- 50 %) measures the round trip and finds a peer that went away:
  // unanswered ones count against Association.Max.Retrans. Zero: never sent.
  Duration heartbeat_interval = Duration::seconds(30);
  // RFC 9260 6.1 (Max.Burst): packets of new data sent per acknowledgement (or timer
  // expiry) at most. A whole congestion window sent at once overflows the small socket
  // buffers some peers read with; 0 = no limit.
  int max_burst = 16;
  // Advertise the extensions in INIT / INIT ACK (turned off only to test a peer without them).
  bool partial_reliability = true;  // RFC 3758
  bool stream_reset = true;         // RFC 6525
  bool interleaving = true;         // RFC 8260 I-DATA (I-FORWARD-TSN with partial reliability)
  // RFC 9653: we accept packets with a zero checksum, and send them to a peer that accepts
  // them too, the DTLS layer below detecting errors instead (error detection method 1).
  // A connection takes it from RTCConfiguration::sctp_zero_checksum, which is off by default.
  bool zero_checksum = true;
};

struct SendOptions {
  bool unordered = false;
  // RFC 3758 partial reliability (RTCDataChannel maxRetransmits / maxPacketLifeTime). When
  // the peer did not negotiate FORWARD-TSN these are ignored and the message is reliable.
  std::optional<std::uint16_t> max_retransmits;
  std::optional<Duration> lifetime;  // counted from send()
};

class SctpAssociation {
 public:
  enum class State : std::uint8_t {
    kClosed,
    kCookieWait,
    kCookieEchoed,
    kEstablished,
    kShutdownPending,
    kShutdownSent,
    kShutdownReceived,
    kShutdownAckSent,
  };

  SctpAssociation(SctpConfig config, Random& rng);

  // Sends INIT. In WebRTC both ends call this; the collision is resolved per RFC 9260 5.2.
  void connect(Timestamp now);
  void handle_packet(BytesView packet, Timestamp now);
  void handle_timeout(Timestamp now);
  // Queues a message; fragments it as needed. It goes out at the next poll_transmit(). RangeError
  // for a message above max_message_size or when the send buffer is full; InvalidStateError when
  // not open.
  Result<> send(std::uint16_t stream, std::uint32_t ppid, BytesView data, SendOptions options = {});
  // RFC 6525 outgoing SSN reset of these streams. The request goes out once every message
  // queued on them before this call has been given a TSN, and carries the last TSN assigned
  // (RFC 8831 6.7); one request is outstanding at a time, later ones wait. Until the peer
  // answers, send() on those streams is refused. An SctpStreamsReset (or ...Failed) event
  // reports the outcome. OperationError when the peer did not negotiate RE-CONFIG.
  Result<> reset_streams(std::span<const std::uint16_t> streams);
  // Graceful close: remaining data is delivered first (RFC 9260 9.2).
  void shutdown(Timestamp now);
  // Immediate close with an ABORT chunk.
  void abort(std::string_view reason);

  std::optional<Buffer> poll_transmit();
  // The same without allocating: the next packet is swapped into `packet`, and the buffer the
  // caller passed in is kept to build a later packet in. False (and `packet` untouched) when
  // there is nothing to send.
  bool poll_transmit(Buffer& packet);
  std::optional<SctpEvent> poll_event();
  // Gives back a delivered message's buffer (SctpMessage::data) so that a later message is
  // reassembled into it rather than into a newly allocated one. Optional; a few are kept.
  void recycle_buffer(Buffer buffer);
  std::optional<Timestamp> next_timeout() const;

  State state() const noexcept { return state_; }
  // Bytes queued on a stream and not yet acknowledged (RTCDataChannel.bufferedAmount).
  std::size_t buffered_amount(std::uint16_t stream) const;
  // Bytes queued on a stream that have not left yet (the first transmission of each chunk).
  std::size_t unsent_amount(std::uint16_t stream) const;
  std::size_t total_buffered() const noexcept { return send_queue_.total_buffered(); }

  // Statistics and test hooks.
  std::size_t cwnd() const noexcept { return cc_.cwnd(); }
  Duration rto() const noexcept { return rto_.rto(); }
  std::uint64_t retransmissions() const noexcept { return retransmissions_; }
  std::uint64_t packets_sent() const noexcept { return packets_sent_; }
  std::uint64_t tail_loss_probes() const noexcept { return tail_loss_probes_; }
  std::uint64_t t3_expiries() const noexcept { return t3_expiries_; }
  // Streams usable in both directions once established (RTCSctpTransport.maxChannels).
  std::uint16_t usable_streams() const noexcept {
    return std::min({config_.streams, peer_inbound_streams_, peer_outbound_streams_});
  }
  std::uint64_t abandoned_messages() const noexcept {
    return rtx_.abandoned_messages() + expired_unsent_;
  }
  std::uint64_t forward_tsns_sent() const noexcept { return rtx_.forward_tsns_sent(); }
  std::uint64_t reconfig_requests_sent() const noexcept { return reconfig_requests_sent_; }
  std::uint64_t heartbeats_sent() const noexcept { return heartbeat_.sent(); }
  // The smoothed round-trip time (RFC 9260 6.3.1), once one was measured.
  std::optional<Duration> srtt() const noexcept { return rto_.srtt(); }
  // Received bytes held for reassembly or ordering (bounded by the receive window).
  std::size_t received_buffered() const noexcept { return reassembly_.buffered_bytes(); }
  // Both ends advertised the extension.
  // RFC 8260 2.3.1: with I-DATA, partial reliability needs I-FORWARD-TSN on both ends.
  bool partial_reliability() const noexcept {
    return config_.partial_reliability && peer_forward_tsn_ && (!interleaving() || peer_iforward_);
  }
  bool stream_reset_supported() const noexcept { return config_.stream_reset && peer_reconfig_; }
  // I-DATA instead of DATA (RFC 8260 2.2.1: both ends listed it).
  bool interleaving() const noexcept { return config_.interleaving && peer_idata_; }
  // We send zero checksums (RFC 9653 5.2: the peer accepts them, and we use DTLS).
  bool zero_checksum() const noexcept { return config_.zero_checksum && peer_zero_checksum_; }

 private:
  void send_init(Timestamp now);
  void handle_init(const ChunkView& chunk, const CommonHeader& header, Timestamp now);
  void handle_init_ack(const ChunkView& chunk, Timestamp now);
  void handle_cookie_echo(const ChunkView& chunk, std::uint32_t verification_tag, Timestamp now);
  void handle_data(const ChunkView& chunk, Timestamp now);
  void handle_idata(const ChunkView& chunk);
  void handle_iforward_tsn(const ChunkView& chunk);
  void apply_peer_extensions(std::uint8_t extensions);
  // The receive path DATA and I-DATA share: duplicates reported, invalid streams acknowledged
  // and dropped, the bounds of admit(), the TSN marked received. The unwrapped TSN when the
  // chunk's payload is to be kept.
  std::optional<Tsn> receive_tsn(std::uint32_t wire_tsn, std::uint16_t stream_id, std::size_t size);
  void handle_sack(const ChunkView& chunk, Timestamp now);
  void handle_shutdown(const ChunkView& chunk, Timestamp now);
  // restart_dropped: the peer restarted (SctpRestarted instead of SctpConnected), and this
  // many messages were dropped.
  void established(Timestamp now, std::optional<std::size_t> restart_dropped = std::nullopt);
  void handle_forward_tsn(const ChunkView& chunk);
  void handle_reconfig(const ChunkView& chunk, Timestamp now);
  ReconfigResponse::Result handle_reset_request(const OutgoingResetRequest& request);
  void reset_incoming(const std::vector<std::uint16_t>& streams);
  void handle_reset_response(const ReconfigResponse& response, Timestamp now);
  void check_deferred_reset();
  void maybe_send_reset(Timestamp now);
  void send_reset_request();
  bool reset_ready() const;
  void flush(Timestamp now);
  void send_control(std::uint8_t type, std::uint8_t flags, BytesView value, std::uint32_t tag);
  void start_t3(Timestamp now);
  // RFC 8985 6.2 loss detection delay: the smoothed round trip and a reordering window.
  Duration loss_delay() const noexcept;
  // RFC 8985 7.2: re-arms the tail loss probe while data is outstanding.
  void arm_probe(Timestamp now);
  void on_loss_detected(Timestamp now);
  void fail(std::string reason);
  void abort_with(std::uint16_t cause, std::string_view reason);
  void check_shutdown_progress(Timestamp now);
  void arm_heartbeat(Timestamp now);
  void on_heartbeat_timer(Timestamp now);
  void handle_heartbeat_ack(const ChunkView& chunk, Timestamp now);
  // Our INIT or INIT ACK with this tag and initial TSN.
  InitParameters our_init(std::uint32_t tag, std::uint32_t initial_tsn) const;
  void accept_cookie(const CookieContents& cookie, Timestamp now,
                     std::optional<std::size_t> restart_dropped);
  void restart(const CookieContents& cookie, Timestamp now);
  void start_tsns(std::uint32_t initial_tsn);

  SctpConfig config_;
  Random* rng_;  // a pointer, so that a restart can assign a fresh state
  State state_ = State::kClosed;
  std::uint32_t local_tag_;
  std::uint32_t peer_tag_ = 0;
  Handshake handshake_;
  bool accepts_init_ = true;  // a fresh association answers INIT; a closed one does not
  bool chunk_index_done_ = false;
  std::uint32_t peer_initial_tsn_ = 0;
  std::uint16_t peer_inbound_streams_ = 0;
  std::uint16_t peer_outbound_streams_ = 0;
  bool peer_forward_tsn_ = false;
  bool peer_reconfig_ = false;
  bool peer_idata_ = false;
  bool peer_iforward_ = false;
  bool peer_zero_checksum_ = false;

  // Sending.
  SendQueue send_queue_;
  RetransmissionQueue rtx_;
  CongestionControl cc_;
  StreamResetter resetter_;
  std::uint32_t peer_rwnd_ = 0;
  Timer t3_rtx_;
  Timer loss_timer_;              // a missing chunk's loss detection delay runs out
  Timer probe_timer_;             // RFC 8985 7 tail loss probe
  int probes_unanswered_ = 0;     // since new data was last acknowledged
  bool probe_immediate_ = false;  // the next packet's last DATA asks for an immediate SACK
  std::uint64_t tail_loss_probes_ = 0;
  std::uint64_t t3_expiries_ = 0;
  RtoEstimator rto_;
  int error_count_ = 0;

  // Receiving.
  DataTracker tracker_;
  ReassemblyQueue reassembly_;

  RingQueue<Buffer> outgoing_;  // popped slots keep their buffers to build packets in
  RingQueue<SctpEvent> events_;
  PacketView received_;  // the packet being handled (its chunk list reused)
  std::uint64_t retransmissions_ = 0;
  std::uint64_t packets_sent_ = 0;
  std::uint64_t expired_unsent_ = 0;  // messages whose lifetime ran out before a byte was sent
  std::uint64_t reconfig_requests_sent_ = 0;
  Timestamp last_now_;
  Timer t2_shutdown_;
  HeartbeatSender heartbeat_;
};

}  // namespace rtcpp::sctp
