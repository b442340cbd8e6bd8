// The receive side's TSN bookkeeping (RFC 9260 6.2): the cumulative TSN, the TSNs received
// above it (the SACK's gap blocks), duplicates to report, and when a SACK is due (every
// second packet with data, within the delayed-ack time, or at once: a gap, a duplicate, the
// sender's I bit).
#pragma once

#include <cstdint>
#include <vector>

#include "base/time.hpp"
#include "base/timer.hpp"
#include "sctp/packet.hpp"
#include "sctp/types.hpp"

namespace rtcpp::sctp {

class DataTracker {
 public:
  // The peer's first TSN will be `initial_tsn`.
  void start(std::uint32_t initial_tsn) noexcept;

  // The 64-bit TSN nearest the cumulative one with these low 32 bits.
  Tsn unwrap(std::uint32_t wire_tsn) const noexcept;
  Tsn cumulative() const noexcept { return Tsn(cumulative_); }
  bool has_gaps() const noexcept { return !received_above_.empty(); }

  // At or below the cumulative TSN, or received above it already.
  bool is_duplicate(Tsn tsn) const noexcept;
  // Listed in the next SACK (64 at most), which goes out without delay.
  void report_duplicate(std::uint32_t wire_tsn);
  // `tsn` is new (not a duplicate): it joins the cumulative TSN or the gap blocks.
  void mark_received(Tsn tsn);
  // RFC 3758 3.6: the peer moved its cumulative TSN; what was received above it is absorbed.
  void advance_cumulative(Tsn new_cumulative);

  // The next SACK goes out without delay (RFC 9260 6.2, RFC 7053).
  void request_immediate_sack() noexcept { immediate_ = true; }
  // A packet with DATA (or FORWARD-TSN) was handled: a SACK now, or within `delayed_ack`.
  void on_packet_with_data(Timestamp now, Duration delayed_ack) noexcept;
  // The SACK goes into the next packet sent.
  void schedule_sack() noexcept;
  bool sack_scheduled() const noexcept { return sack_scheduled_; }
  const Timer& delayed_sack_timer() const noexcept { return delayed_sack_; }
  // Writes the scheduled SACK (advertising `a_rwnd`); duplicates are reported once.
  void write_sack(PacketBuilder& builder, std::uint32_t a_rwnd);

 private:
  std::uint64_t cumulative_ = 0;               // unwrapped
  std::vector<std::uint64_t> received_above_;  // sorted
  std::vector<std::uint32_t> duplicates_;
  bool sack_scheduled_ = false;
  bool immediate_ = false;
  int packets_since_sack_ = 0;
  Timer delayed_sack_;
};

}  // namespace rtcpp::sctp
