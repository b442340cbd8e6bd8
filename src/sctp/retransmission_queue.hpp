// The chunks sent and not yet acknowledged (RFC 9260 6.3): what a SACK acknowledges,
// cumulatively or in gap blocks, the miss indications that lead to a fast retransmit
// (7.2.4), what T3-rtx expiry marks for retransmission (6.3.3), and partial reliability's
// abandonment with the Advanced.Peer.Ack.Point and FORWARD-TSN it moves (RFC 3758 3.5,
// RFC 8260 2.3). The window these chunks may use is CongestionControl's.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "base/ring_queue.hpp"
#include "base/time.hpp"
#include "sctp/packet.hpp"
#include "sctp/send_queue.hpp"
#include "sctp/types.hpp"

namespace rtcpp::sctp {

class RetransmissionQueue {
 public:
  struct Chunk {
    Tsn tsn;
    std::uint16_t stream;
    std::uint32_t sequence;  // SSN (DATA) or MID (I-DATA)
    std::uint32_t fsn = 0;   // I-DATA fragment sequence number
    std::uint32_t ppid;
    std::uint8_t flags;
    // The payload: a slice of its message's bytes in the send queue.
    std::uint32_t slot;
    std::uint32_t offset;
    std::uint32_t length;
    Timestamp sent_at;
    // Position of the latest transmission among all transmissions (first sends and
    // retransmissions alike): what "sent after" means for loss detection.
    std::uint64_t send_order = 0;
    int transmissions = 1;
    bool acked = false;  // covered by a gap block
    bool needs_retransmit = false;
    int miss_indications = 0;
    std::uint64_t message_id = 0;
    std::optional<std::uint16_t> max_retransmits;
    std::optional<Timestamp> expires_at;
    bool abandoned = false;  // RFC 3758: skipped by FORWARD-TSN, never retransmitted
    bool released = false;   // its bytes no longer count as buffered
  };

  // Our first TSN will be `initial_tsn` (kept far from zero in 64 bits, so that "before the
  // first TSN" is representable).
  void start(std::uint32_t initial_tsn) noexcept;
  // What was negotiated: partial reliability, and I-DATA (I-FORWARD-TSN).
  void set_extensions(bool partial_reliability, bool interleaved) noexcept {
    partial_reliability_ = partial_reliability;
    interleaved_ = interleaved;
  }

  Tsn next_tsn() const noexcept { return next_tsn_; }
  Tsn cumulative_acked() const noexcept { return cumulative_acked_; }
  bool empty() const noexcept { return in_flight_.empty(); }
  // Bytes in flight (sent, not acknowledged, not waiting for retransmission).
  std::size_t flight_size() const noexcept { return flight_size_; }
  // Messages with chunks in flight and not abandoned or released.
  std::size_t unacknowledged_messages() const;

  // The next chunk of `message`: `size` bytes from its offset (which does not move), sent now;
  // its TSN is assigned by add().
  static Chunk cut(SendQueue::Message& message, std::size_t size, Timestamp now);
  // A new chunk: takes the next TSN and is in flight.
  void add(Chunk chunk);
  // Writes `chunk` as DATA or, interleaved, I-DATA; false when it does not fit.
  bool write_chunk(PacketBuilder& builder, const Chunk& chunk, const SendQueue& queue) const;

  // Chunks waiting for retransmission, in TSN order: `write(chunk)` for each until it returns
  // false. A chunk it accepts is in flight again.
  template <typename Write>
  void retransmit(Timestamp now, Write&& write);
  bool retransmits_waiting() const noexcept { return retransmits_waiting_ > 0; }

  struct SackOutcome {
    bool valid = false;  // false: out of date, or acknowledging what was never sent
    bool cumulative_advanced = false;
    std::size_t bytes_acked = 0;   // newly, by either means
    std::optional<Duration> rtt;   // from the newest chunk acknowledged, if sent once (Karn)
    bool fast_retransmit = false;  // a chunk was found lost (see detect_losses)
  };
  // `loss_delay`: see detect_losses().
  SackOutcome on_sack(const SackChunk& sack, Timestamp now, Duration loss_delay, SendQueue& queue);
  // Loss detection by transmission order (RFC 9260 7.2.4 miss indications, counted the way
  // RFC 8985 RACK orders packets: by when they were sent, not by TSN). A chunk whose latest
  // transmission came before one the peer has since acknowledged is missing; it is lost at
  // its third miss indication, or once `loss_delay` (a round trip and a reordering allowance)
  // has passed since it was sent. Unlike the RFC's TSN order, this finds a retransmission
  // that was lost again, without waiting for T3-rtx. Lost chunks are marked for
  // retransmission (or abandoned); true when any was. `loss_deadline()` then tells when a
  // missing chunk not yet lost will be, for a timer to call this again.
  bool detect_losses(Timestamp now, Duration loss_delay, std::uint64_t newly_acked_order,
                     SendQueue& queue);
  std::optional<Timestamp> loss_deadline() const noexcept { return loss_deadline_; }
  // RFC 8985 7 tail loss probe: the newest outstanding chunk is sent again (it may go beyond
  // cwnd), so that the peer's answer tells what the tail of the flight lost. False when no
  // chunk is outstanding.
  bool mark_probe();
  // RFC 9260 6.3.3 E3: everything outstanding is retransmitted (or abandoned).
  void on_t3_expiry(Timestamp now, SendQueue& queue);
  // RFC 3758 3.5 A3: chunks waiting for retransmission whose lifetime ran out are abandoned.
  void abandon_expired(Timestamp now, SendQueue& queue);

  // RFC 3758 3.5 C1-C3 after a SACK or T3 expiry: the ack point moves over abandoned chunks,
  // and a FORWARD-TSN is due while it is ahead of the cumulative TSN.
  void update_forward_tsn();
  // The FORWARD-TSN (or I-FORWARD-TSN) due, if any, written once (false: none was due after
  // all). It goes ahead of the DATA it lets the peer deliver (RFC 3758 3.5 F2).
  bool forward_tsn_due() const noexcept { return forward_tsn_pending_; }
  bool write_forward_tsn(PacketBuilder& builder);

  // Our reset of `stream` ended its sequence at `last_tsn`: its chunks up to there are not
  // named by a later FORWARD-TSN (their SSN or MID belong to the old sequence).
  void stream_reset(StreamId stream, Tsn last_tsn) { reset_last_tsn_[stream.value()] = last_tsn; }

  std::uint64_t abandoned_messages() const noexcept { return abandoned_messages_; }
  std::uint64_t forward_tsns_sent() const noexcept { return forward_tsns_sent_; }
  void set_counters(std::uint64_t abandoned, std::uint64_t forward_tsns) noexcept {
    abandoned_messages_ = abandoned;
    forward_tsns_sent_ = forward_tsns;
  }

 private:
  void set_needs_retransmit(Chunk& c, bool needed);
  void release(Chunk& c, SendQueue& queue);
  bool should_abandon(const Chunk& c, Timestamp now) const;
  void abandon_message(std::uint64_t id, std::uint16_t stream, SendQueue& queue);
  std::optional<std::uint32_t> skip_key(const Chunk& c) const;
  void advance_ack_point();

  bool partial_reliability_ = false;
  bool interleaved_ = false;
  Tsn next_tsn_;
  Tsn cumulative_acked_;
  RingQueue<Chunk> in_flight_;           // ordered by TSN, front = cumulative_acked_ + 1
  std::size_t retransmits_waiting_ = 0;  // chunks with needs_retransmit
  std::size_t flight_size_ = 0;
  Tsn advanced_ack_point_;  // RFC 3758 Advanced.Peer.Ack.Point
  bool forward_tsn_pending_ = false;
  // Streams reset while chunks of their old sequence may still be in flight: the last TSN of
  // that sequence.
  std::unordered_map<std::uint16_t, Tsn> reset_last_tsn_;
  std::uint64_t abandoned_messages_ = 0;
  std::uint64_t forward_tsns_sent_ = 0;
  std::uint64_t last_send_order_ = 0;
  // The latest-sent chunk the peer acknowledged so far (RFC 8985 RACK.xmit_ts): its order,
  // and its TSN when that was its first transmission (else nothing bounds the scan by TSN).
  std::uint64_t newest_acked_order_ = 0;
  std::optional<Tsn> newest_acked_first_send_;
  std::optional<Timestamp> loss_deadline_;
};

template <typename Write>
void RetransmissionQueue::retransmit(Timestamp now, Write&& write) {
  for (std::size_t i = 0; retransmits_waiting_ > 0 && i < in_flight_.size(); ++i) {
    Chunk& c = in_flight_[i];
    if (!c.needs_retransmit) continue;
    if (!write(static_cast<const Chunk&>(c))) break;
    set_needs_retransmit(c, false);
    c.miss_indications = 0;
    ++c.transmissions;
    c.sent_at = now;
    c.send_order = ++last_send_order_;
    flight_size_ += c.length;
  }
}

}  // namespace rtcpp::sctp
