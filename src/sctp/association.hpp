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
#include "rtcpp/error.hpp"
#include "sctp/events.hpp"
#include "sctp/packet.hpp"
#include "sctp/stream_counters.hpp"

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
  // RFC 9260 6.3.1 RTO bounds; WebRTC stacks use a lower floor than the RFC's 1 s.
  Duration rto_initial = Duration::millis(500);
  Duration rto_min = Duration::millis(120);
  Duration rto_max = Duration::seconds(10);
  int max_init_retransmits = 8;
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
  std::size_t total_buffered() const noexcept { return buffered_total_; }

  // Statistics and test hooks.
  std::size_t cwnd() const noexcept { return cwnd_; }
  Duration rto() const noexcept { return rto_; }
  std::uint64_t retransmissions() const noexcept { return retransmissions_; }
  std::uint64_t packets_sent() const noexcept { return packets_sent_; }
  // Streams usable in both directions once established (RTCSctpTransport.maxChannels).
  std::uint16_t usable_streams() const noexcept {
    return std::min({config_.streams, peer_inbound_streams_, peer_outbound_streams_});
  }
  std::uint64_t abandoned_messages() const noexcept { return abandoned_messages_; }
  std::uint64_t forward_tsns_sent() const noexcept { return forward_tsns_sent_; }
  std::uint64_t reconfig_requests_sent() const noexcept { return reconfig_requests_sent_; }
  std::uint64_t heartbeats_sent() const noexcept { return heartbeats_sent_; }
  // The smoothed round-trip time (RFC 9260 6.3.1), once one was measured.
  std::optional<Duration> srtt() const noexcept { return srtt_; }
  // Received bytes held for reassembly or ordering (bounded by the receive window).
  std::size_t received_buffered() const noexcept { return reassembly_bytes_; }
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
  struct OutMessage {
    std::uint16_t stream;
    std::uint32_t ppid;
    bool unordered;
    std::uint32_t sequence = 0;  // SSN or MID, assigned when the first fragment gets its TSN
    std::uint32_t slot = 0;      // message_slots_ index of its bytes
    std::size_t size = 0;
    std::size_t offset = 0;      // bytes already cut into chunks
    std::uint32_t next_fsn = 0;  // I-DATA: the FSN of the next fragment cut
    std::uint64_t id = 0;
    std::optional<std::uint16_t> max_retransmits;
    std::optional<Timestamp> expires_at;
  };
  struct InFlight {
    std::uint64_t tsn;
    std::uint16_t stream;
    std::uint32_t sequence;  // SSN (DATA) or MID (I-DATA)
    std::uint32_t fsn = 0;   // I-DATA fragment sequence number
    std::uint32_t ppid;
    std::uint8_t flags;
    // The payload: a slice of its message's bytes, kept once in message_slots_ for all of
    // its chunks until the last one is acknowledged or abandoned.
    std::uint32_t slot;
    std::uint32_t offset;
    std::uint32_t length;
    Timestamp sent_at;
    int transmissions = 1;
    bool acked = false;  // covered by a gap block
    bool needs_retransmit = false;
    int miss_indications = 0;
    std::uint64_t message_id = 0;
    std::optional<std::uint16_t> max_retransmits;
    std::optional<Timestamp> expires_at;
    bool abandoned = false;  // RFC 3758: skipped by FORWARD-TSN, never retransmitted
    bool released = false;   // its bytes no longer count in buffered_
  };
  struct MessageSlot {
    Buffer data;
    std::uint32_t references = 0;  // the send queue's, then one per chunk not yet released
  };
  struct ResetRequest {
    std::uint32_t sequence = 0;
    std::uint64_t last_tsn = 0;  // unwrapped
    std::vector<std::uint16_t> streams;
  };
  struct Fragment {
    std::uint16_t stream;
    std::uint16_t ssn;
    std::uint32_t ppid;
    bool beginning;
    bool end;
    bool unordered;
    // Consecutive fragments of one message share a node: the payload holds them all, from
    // the key's TSN to this one.
    std::uint64_t last_tsn = 0;
    Buffer payload;
  };
  // I-DATA reassembly (RFC 8260 2.2.3): fragments are grouped by stream, U flag and MID and
  // put in order by FSN.
  struct MessageKey {
    std::uint16_t stream;
    bool unordered;
    std::uint32_t mid;
    friend auto operator<=>(const MessageKey&, const MessageKey&) = default;
  };
  struct PartialMessage {
    Buffer data;                            // fragments 0 to next_fsn - 1, appended in FSN order
    std::uint32_t next_fsn = 0;             // the fragment that extends data
    std::map<std::uint32_t, Buffer> ahead;  // fragments past a missing one, by FSN
    std::uint32_t ppid = 0;
    std::optional<std::uint32_t> last_fsn;  // known once the E fragment is in
    std::uint32_t highest_fsn = 0;
    std::size_t fragments = 0;  // received (data and ahead)
    std::size_t bytes = 0;
  };
  struct InStream {
    std::uint32_t next_mid = 0;                      // the next ordered message to deliver
    std::map<std::uint32_t, SctpMessage> ready;      // complete ordered messages waiting, by MID
    std::optional<std::uint32_t> unordered_skipped;  // highest unordered MID abandoned
  };

  void send_init(Timestamp now);
  void handle_init(const ChunkView& chunk, const CommonHeader& header, Timestamp now);
  void handle_init_ack(const ChunkView& chunk, Timestamp now);
  void handle_cookie_echo(const ChunkView& chunk, std::uint32_t verification_tag, Timestamp now);
  void handle_data(const ChunkView& chunk, Timestamp now);
  void handle_idata(const ChunkView& chunk);
  void handle_iforward_tsn(const ChunkView& chunk);
  void apply_peer_extensions(std::uint8_t extensions);
  bool admit(std::uint64_t tsn, std::size_t size);
  // The receive path DATA and I-DATA share: duplicates reported, invalid streams acknowledged
  // and dropped, the bounds of admit(), the TSN marked received. The unwrapped TSN when the
  // chunk's payload is to be kept.
  std::optional<std::uint64_t> receive_tsn(std::uint32_t wire_tsn, std::uint16_t stream_id,
                                           std::size_t size);
  void complete_message(std::map<MessageKey, PartialMessage>::iterator it);
  void deliver_in_order(InStream& in);
  void drop_partial(std::map<MessageKey, PartialMessage>::iterator it);
  void skip_ordered(std::uint16_t stream, std::uint32_t up_to);
  void skip_unordered(std::uint16_t stream, std::uint32_t up_to);
  void advance_cumulative(std::uint64_t new_cumulative);
  void handle_sack(const ChunkView& chunk, Timestamp now);
  void handle_shutdown(const ChunkView& chunk, Timestamp now);
  // restart_dropped: the peer restarted (SctpRestarted instead of SctpConnected), and this
  // many messages were dropped.
  void established(Timestamp now, std::optional<std::size_t> restart_dropped = std::nullopt);
  Timestamp cookie_time_;
  void deliver_ready(std::uint16_t stream);
  void try_complete(std::uint64_t tsn);
  void deliver(std::map<std::uint64_t, Fragment>::iterator first,
               std::map<std::uint64_t, Fragment>::iterator last);
  // Removes a reassembly node, keeping it (and its buffer) for a later fragment.
  std::map<std::uint64_t, Fragment>::iterator erase_fragment(
      std::map<std::uint64_t, Fragment>::iterator it);
  std::uint64_t unwrap_peer_tsn(std::uint32_t tsn) const;
  void mark_received(std::uint64_t tsn);
  // Keeps retransmits_waiting_ in step, so that flush() scans the flight only when needed.
  void set_needs_retransmit(InFlight& c, bool needed);
  void release(InFlight& c);
  std::uint32_t take_slot(BytesView data);
  void unref_slot(std::uint32_t slot);
  BytesView payload_of(const InFlight& c) const;
  // An empty buffer, with capacity when one was recycled.
  Buffer take_buffer();
  std::map<MessageKey, PartialMessage>::iterator new_partial(const MessageKey& key);
  void release_bytes(std::uint16_t stream, std::size_t n);
  bool should_abandon(const InFlight& c, Timestamp now) const;
  void abandon_message(std::uint64_t id, std::uint16_t stream);
  std::optional<std::uint32_t> skip_key(const InFlight& c) const;
  void advance_ack_point();
  void write_forward_tsn(PacketBuilder& b);
  void handle_forward_tsn(const ChunkView& chunk);
  void deliver_skipped(std::uint16_t stream, std::uint16_t up_to);
  void handle_reconfig(const ChunkView& chunk, Timestamp now);
  ReconfigResponse::Result handle_reset_request(const OutgoingResetRequest& request);
  void handle_reset_response(const ReconfigResponse& response, Timestamp now);
  void perform_incoming_reset(const std::vector<std::uint16_t>& streams);
  void check_deferred_reset();
  void maybe_send_reset(Timestamp now);
  void send_reset_request();
  bool reset_ready() const;
  OutMessage* next_message();
  void pop_message(std::uint16_t stream);
  bool write_chunk(PacketBuilder& b, const InFlight& c) const;
  void write_sack(PacketBuilder& b);
  void flush(Timestamp now);
  void send_sack(Timestamp now);
  void send_control(std::uint8_t type, std::uint8_t flags, BytesView value, std::uint32_t tag);
  void start_t3(Timestamp now);
  void update_rto(Duration rtt);
  void fail(std::string reason);
  void abort_with(std::uint16_t cause, std::string_view reason);
  std::uint32_t our_receive_window() const;
  void check_shutdown_progress(Timestamp now);
  void arm_heartbeat(Timestamp now);
  void on_heartbeat_timer(Timestamp now);
  void handle_heartbeat_ack(const ChunkView& chunk, Timestamp now);
  // What a state cookie of ours carries (RFC 9260 5.1.3), the tie-tags only when it answered
  // an INIT that arrived on an established association (5.2.2).
  struct CookieContents {
    InitChunk peer;
    std::uint32_t our_tag = 0;
    std::uint32_t our_initial_tsn = 0;
    std::uint32_t local_tie_tag = 0;
    std::uint32_t peer_tie_tag = 0;
    std::uint8_t extensions = 0;
  };
  Buffer make_cookie(const CookieContents& contents) const;
  std::optional<CookieContents> open_cookie(BytesView cookie, Timestamp now) const;
  void accept_cookie(const CookieContents& cookie, Timestamp now,
                     std::optional<std::size_t> restart_dropped);
  void restart(const CookieContents& cookie, Timestamp now);
  void start_tsns(std::uint32_t initial_tsn);

  SctpConfig config_;
  Random* rng_;  // a pointer, so that a restart can assign a fresh state
  State state_ = State::kClosed;
  std::uint32_t local_tag_;
  std::uint32_t peer_tag_ = 0;
  std::uint64_t next_tsn_;          // unwrapped, next TSN to assign
  std::uint64_t cumulative_acked_;  // unwrapped, highest TSN the peer acked cumulatively
  std::array<std::uint8_t, 32> cookie_secret_{};
  Buffer init_packet_;  // our INIT, for T1 retransmission
  Buffer cookie_echo_;  // the cookie to echo, for T1-cookie retransmission
  std::optional<Timestamp> t1_at_;
  int t1_count_ = 0;
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

  // Sending. Messages wait in per-stream queues; with DATA they leave whole, in send() order;
  // with I-DATA the streams take turns, one fragment each (RFC 8260 3.2, round robin).
  std::unordered_map<std::uint16_t, RingQueue<OutMessage>> stream_queues_;  // non-empty ones
  // Nodes of queues emptied, reused for the next streams that get one.
  std::vector<std::unordered_map<std::uint16_t, RingQueue<OutMessage>>::node_type> spare_queues_;
  RingQueue<std::pair<std::uint16_t, std::uint64_t>> send_order_;  // DATA: (stream, message id)
  RingQueue<std::uint16_t> round_robin_;  // I-DATA: streams with messages, the next first
  // The bytes of messages queued or in flight, and the free slots: a few keep their buffers'
  // capacity (so that a steady flow of messages does not allocate), the others are empty.
  std::vector<MessageSlot> message_slots_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::uint32_t> empty_slots_;
  std::size_t spare_slot_bytes_ = 0;  // capacity held by free_slots_
  StreamCounters next_ssn_out_;
  // I-DATA MIDs per stream, ordered and unordered counted apart (RFC 8260 2.1).
  std::unordered_map<std::uint16_t, std::array<std::uint32_t, 2>> next_mid_out_;
  // Streams reset while chunks of their old sequence may still be in flight: the last TSN of
  // that sequence, so that no FORWARD-TSN names an old SSN or MID once the new one runs.
  std::unordered_map<std::uint16_t, std::uint64_t> reset_last_tsn_;
  RingQueue<InFlight> in_flight_;        // ordered by TSN, front = cumulative_acked_ + 1
  std::size_t retransmits_waiting_ = 0;  // chunks in in_flight_ with needs_retransmit
  std::unordered_map<std::uint16_t, std::size_t> buffered_;
  std::uint64_t next_message_id_ = 1;
  std::uint64_t advanced_ack_point_ = 0;  // RFC 3758 Advanced.Peer.Ack.Point (unwrapped)
  bool forward_tsn_pending_ = false;
  // RFC 6525, our requests: streams waiting to be reset, and the one request in flight.
  std::set<std::uint16_t> resetting_out_;  // pending or outstanding: send() refused
  std::vector<std::uint16_t> reset_pending_;
  std::optional<ResetRequest> reset_outstanding_;
  std::optional<Timestamp> reconfig_at_;
  int reconfig_attempts_ = 0;
  std::uint32_t next_reconfig_sequence_ = 0;
  // RFC 6525, the peer's requests: the next sequence number expected, the answer given to
  // the last one (repeated when it is retransmitted) and the one waiting for data (at most).
  std::uint32_t peer_next_reconfig_sequence_ = 0;
  ReconfigResponse::Result last_reset_result_ = ReconfigResponse::Result::kSuccessNothingToDo;
  std::optional<ResetRequest> incoming_deferred_;
  std::size_t buffered_total_ = 0;
  std::size_t flight_size_ = 0;
  std::size_t cwnd_;
  std::size_t ssthresh_;
  std::size_t partial_bytes_acked_ = 0;
  int burst_budget_ = 0;  // packets of new data left before the next SACK (Max.Burst)
  std::uint32_t peer_rwnd_ = 0;
  bool fast_recovery_ = false;
  bool fast_retransmit_pending_ = false;
  std::uint64_t recovery_exit_ = 0;
  std::optional<Timestamp> t3_at_;
  Duration rto_;
  std::optional<Duration> srtt_;
  Duration rttvar_;
  int error_count_ = 0;

  // Receiving.
  std::uint64_t peer_cumulative_ = 0;             // highest in-order TSN received (unwrapped)
  std::map<std::uint64_t, Fragment> reassembly_;  // received above or at cumulative, undelivered
  std::vector<std::map<std::uint64_t, Fragment>::node_type> spare_fragments_;  // for reuse
  std::vector<std::uint64_t> received_above_;  // TSNs received above peer_cumulative_ (sorted)
  std::vector<std::uint32_t> duplicates_;
  std::size_t reassembly_bytes_ = 0;
  StreamCounters next_ssn_in_;
  // Per stream: complete ordered messages waiting for their turn, SSN -> first TSN.
  std::unordered_map<std::uint16_t, std::map<std::uint16_t, std::uint64_t>> complete_ordered_;
  std::map<MessageKey, PartialMessage> partial_messages_;                        // I-DATA
  std::vector<std::map<MessageKey, PartialMessage>::node_type> spare_partials_;  // for reuse
  std::vector<Buffer> spare_buffers_;                       // for reassembly, see recycle_buffer()
  std::unordered_map<std::uint16_t, InStream> in_streams_;  // I-DATA
  std::size_t held_messages_ = 0;  // I-DATA fragments and complete messages held
  bool sack_pending_ = false;
  int packets_since_sack_ = 0;
  std::optional<Timestamp> sack_at_;
  bool sack_now_ = false;

  RingQueue<Buffer> outgoing_;  // popped slots keep their buffers to build packets in
  RingQueue<SctpEvent> events_;
  PacketView received_;  // the packet being handled (its chunk list reused)
  std::uint64_t retransmissions_ = 0;
  std::uint64_t packets_sent_ = 0;
  std::uint64_t abandoned_messages_ = 0;
  std::uint64_t forward_tsns_sent_ = 0;
  std::uint64_t reconfig_requests_sent_ = 0;
  Timestamp last_now_;
  std::optional<Timestamp> t2_at_;
  // RFC 9260 8.3: the heartbeat timer, the one HEARTBEAT awaiting its ACK (its nonce and send
  // time travel in the Heartbeat Info), and next_tsn_ when the timer was armed (the path was
  // idle if no new TSN went out since).
  std::optional<Timestamp> heartbeat_at_;
  struct HeartbeatSent {
    std::uint64_t nonce = 0;
    Timestamp sent_at;
  };
  std::optional<HeartbeatSent> heartbeat_outstanding_;
  std::uint64_t heartbeat_tsn_mark_ = 0;
  std::uint64_t heartbeats_sent_ = 0;
};

}  // namespace rtcpp::sctp
