// RTP reception and transmission statistics (RFC 3550 6.4, A.1, A.3, A.8): what a receiver
// reports about a source in its report blocks (loss, highest sequence number, interarrival
// jitter, the last SR and the delay since), what a sender puts in its SR, and the round-trip
// time a sender derives from the blocks that come back (RFC 3550 6.4.1).
#pragma once

#include <cstdint>
#include <optional>

#include "base/time.hpp"
#include "rtp/rtcp_packet.hpp"

namespace rtcpp::rtp {

// A 64-bit NTP timestamp (RFC 3550 4: seconds since 1900 in the high 32 bits, the fraction
// in the low) for a point on our monotonic timeline: the offset maps it to wall-clock time
// (the runtime passes the difference once; the simulator any constant).
std::uint64_t to_ntp(Timestamp time, Duration ntp_offset) noexcept;
// The middle 32 bits, the form LSR and the RTT arithmetic use (RFC 3550 6.4.1).
constexpr std::uint32_t ntp_middle(std::uint64_t ntp) noexcept {
  return static_cast<std::uint32_t>(ntp >> 16);
}
// A duration in the 1/65536 s units of DLSR and of the middle 32 NTP bits.
std::uint32_t to_ntp_short(Duration d) noexcept;
Duration from_ntp_short(std::uint32_t units) noexcept;

// What one receiver knows of one source (RFC 3550 A.1: a jump of more than kMaxDropout, or
// back by more than kMaxMisorder, is taken as a restart of the source once confirmed by the
// next packet).
class ReceiveStatistics {
 public:
  static constexpr std::uint32_t kMaxDropout = 3000;
  static constexpr std::uint32_t kMaxMisorder = 100;

  ReceiveStatistics(std::uint32_t ssrc, std::uint32_t clock_rate) noexcept
      : ssrc_(ssrc), clock_rate_(clock_rate) {}

  // One packet of the source, as it arrived. False when A.1 rejects it (a jump not yet
  // confirmed): such a packet is still delivered, it only does not count.
  bool on_packet(std::uint16_t sequence_number, std::uint32_t rtp_timestamp, Timestamp arrival,
                 std::size_t payload_bytes) noexcept;
  // An SR from the source: its NTP time is echoed as LSR, and DLSR counts from `arrival`.
  void on_sender_report(std::uint64_t ntp_timestamp, Timestamp arrival) noexcept;

  // The report block for an RR or SR sent at `now` (RFC 3550 6.4.1, A.3): the fraction lost
  // covers the interval since the previous block.
  ReportBlock report_block(Timestamp now) noexcept;

  bool started() const noexcept { return started_; }
  std::uint32_t ssrc() const noexcept { return ssrc_; }
  std::uint64_t packets_received() const noexcept { return received_; }
  std::uint64_t bytes_received() const noexcept { return bytes_; }
  // RFC 3550 A.3: expected minus received (negative with duplicates).
  std::int64_t cumulative_lost() const noexcept;
  std::uint32_t extended_highest_sequence() const noexcept;
  // Interarrival jitter (A.8), in timestamp units and in seconds.
  std::uint32_t jitter() const noexcept { return static_cast<std::uint32_t>(jitter_ >> 4); }
  double jitter_seconds() const noexcept;

 private:
  void reset(std::uint16_t sequence_number) noexcept;

  std::uint32_t ssrc_;
  std::uint32_t clock_rate_;
  std::uint16_t max_sequence_ = 0;
  std::uint32_t cycles_ = 0;  // shifted count of sequence number wraps
  std::uint32_t base_sequence_ = 0;
  std::uint32_t bad_sequence_ = 1u << 17;  // RTP_SEQ_MOD + 1: no bad sequence pending
  bool started_ = false;
  std::uint64_t received_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t expected_prior_ = 0;
  std::uint64_t received_prior_ = 0;
  // A.8: the transit time of the last packet, and the jitter scaled by 16.
  std::optional<std::int64_t> last_transit_;
  std::uint64_t jitter_ = 0;
  std::optional<std::uint32_t> last_sr_;  // the middle 32 bits of the last SR's NTP time
  Timestamp last_sr_arrival_;
};

// What a sender needs for its SR and learns from the blocks about it (RFC 3550 6.4.1).
class SendStatistics {
 public:
  explicit SendStatistics(std::uint32_t clock_rate) noexcept : clock_rate_(clock_rate) {}
  void on_packet(std::uint32_t rtp_timestamp, Timestamp at, std::size_t payload_bytes) noexcept;
  bool sent_anything() const noexcept { return packets_ > 0; }
  // The SR's sender info at `now`: the RTP timestamp the media clock shows then, counted
  // from the last packet sent.
  SenderReport sender_report(std::uint32_t ssrc, Timestamp now, Duration ntp_offset) const;
  // A block from the receiver about us: loss, and the round-trip time when it echoes an SR.
  void on_report_block(const ReportBlock& block, Timestamp now, Duration ntp_offset) noexcept;

  std::uint64_t packets_sent() const noexcept { return packets_; }
  std::uint64_t bytes_sent() const noexcept { return bytes_; }
  std::optional<Duration> round_trip_time() const noexcept { return rtt_; }
  std::optional<ReportBlock> last_report_block() const noexcept { return last_block_; }

 private:
  std::uint32_t clock_rate_;
  std::uint64_t packets_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint32_t last_rtp_timestamp_ = 0;
  Timestamp last_packet_at_;
  std::optional<Duration> rtt_;
  std::optional<ReportBlock> last_block_;
};

}  // namespace rtcpp::rtp
