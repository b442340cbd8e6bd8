#include "rtp/rtp_statistics.hpp"

#include <algorithm>
#include <cstdlib>

namespace rtcpp::rtp {
namespace {

constexpr std::uint32_t kSequenceModulus = 1u << 16;  // RFC 3550 A.1 RTP_SEQ_MOD
constexpr std::int64_t kMicrosPerSecond = 1000000;

}  // namespace

std::uint64_t to_ntp(Timestamp time, Duration ntp_offset) noexcept {
  const std::int64_t us = std::max<std::int64_t>(time.us() + ntp_offset.us(), 0);
  const auto seconds = static_cast<std::uint64_t>(us / kMicrosPerSecond);
  const auto fraction =
      (static_cast<std::uint64_t>(us % kMicrosPerSecond) << 32) / kMicrosPerSecond;
  return (seconds << 32) | fraction;
}

std::uint32_t to_ntp_short(Duration d) noexcept {
  const std::int64_t us = std::max<std::int64_t>(d.us(), 0);
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(us) << 16) / kMicrosPerSecond);
}

Duration from_ntp_short(std::uint32_t units) noexcept {
  return Duration::micros(
      static_cast<std::int64_t>((static_cast<std::uint64_t>(units) * kMicrosPerSecond) >> 16));
}

// --- ReceiveStatistics ---

void ReceiveStatistics::reset(std::uint16_t sequence_number) noexcept {
  // RFC 3550 A.1 init_seq.
  base_sequence_ = sequence_number;
  max_sequence_ = sequence_number;
  bad_sequence_ = kSequenceModulus + 1;
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
}

bool ReceiveStatistics::on_packet(std::uint16_t sequence_number, std::uint32_t rtp_timestamp,
                                  Timestamp arrival, std::size_t payload_bytes) noexcept {
  // SRTP authenticates every packet, so the first one is the source's start: no probation
  // (A.1's MIN_SEQUENTIAL guards plain RTP against stray packets).
  if (!started_) {
    started_ = true;
    reset(sequence_number);
  } else {
    // RFC 3550 A.1 update_seq.
    const auto delta = static_cast<std::uint16_t>(sequence_number - max_sequence_);
    if (delta < kMaxDropout) {
      if (sequence_number < max_sequence_) cycles_ += kSequenceModulus;  // wrapped
      max_sequence_ = sequence_number;
    } else if (delta <= kSequenceModulus - kMaxMisorder) {
      // A large jump: the source restarted if the next packet follows this one.
      if (sequence_number == bad_sequence_) {
        reset(sequence_number);
      } else {
        bad_sequence_ = (sequence_number + 1u) & (kSequenceModulus - 1);
        return false;
      }
    }
    // Otherwise a duplicate or a reordered packet: counted, max unchanged.
  }
  ++received_;
  bytes_ += payload_bytes;

  // RFC 3550 A.8: the difference of relative transit times, in timestamp units.
  const std::int64_t arrival_units = arrival.us() * clock_rate_ / kMicrosPerSecond;
  const auto transit = static_cast<std::int64_t>(
      static_cast<std::int32_t>(static_cast<std::uint32_t>(arrival_units) - rtp_timestamp));
  if (last_transit_) {
    const std::int64_t d = std::llabs(transit - *last_transit_);
    const auto jitter = static_cast<std::int64_t>(jitter_);
    jitter_ =
        static_cast<std::uint64_t>(std::max<std::int64_t>(jitter + d - ((jitter + 8) >> 4), 0));
  }
  last_transit_ = transit;
  return true;
}

void ReceiveStatistics::on_sender_report(std::uint64_t ntp_timestamp, Timestamp arrival) noexcept {
  last_sr_ = ntp_middle(ntp_timestamp);
  last_sr_arrival_ = arrival;
}

std::uint32_t ReceiveStatistics::extended_highest_sequence() const noexcept {
  return cycles_ + max_sequence_;
}

std::int64_t ReceiveStatistics::cumulative_lost() const noexcept {
  if (!started_) return 0;
  // RFC 3550 A.3: expected is counted from the first sequence number.
  const std::int64_t expected =
      static_cast<std::int64_t>(extended_highest_sequence()) - base_sequence_ + 1;
  return expected - static_cast<std::int64_t>(received_);
}

double ReceiveStatistics::jitter_seconds() const noexcept {
  return clock_rate_ == 0 ? 0.0 : static_cast<double>(jitter()) / clock_rate_;
}

ReportBlock ReceiveStatistics::report_block(Timestamp now) noexcept {
  ReportBlock block;
  block.ssrc = ssrc_;
  if (!started_) return block;
  const std::uint64_t expected =
      static_cast<std::uint64_t>(extended_highest_sequence()) - base_sequence_ + 1;
  // RFC 3550 A.3: the fraction over the interval since the last block; never negative.
  const std::uint64_t expected_interval = expected - expected_prior_;
  const std::uint64_t received_interval = received_ - received_prior_;
  expected_prior_ = expected;
  received_prior_ = received_;
  const auto lost_interval =
      static_cast<std::int64_t>(expected_interval) - static_cast<std::int64_t>(received_interval);
  block.fraction_lost =
      expected_interval == 0 || lost_interval <= 0
          ? 0
          : static_cast<std::uint8_t>((static_cast<std::uint64_t>(lost_interval) << 8) /
                                      expected_interval);
  // A signed 24-bit field: clamped.
  block.cumulative_lost =
      static_cast<std::int32_t>(std::clamp<std::int64_t>(cumulative_lost(), -0x800000, 0x7FFFFF));
  block.extended_highest_sequence = extended_highest_sequence();
  block.jitter = jitter();
  if (last_sr_) {
    block.last_sender_report = *last_sr_;
    block.delay_since_last_sender_report = to_ntp_short(now - last_sr_arrival_);
  }
  return block;
}

// --- SendStatistics ---

void SendStatistics::on_packet(std::uint32_t rtp_timestamp, Timestamp at,
                               std::size_t payload_bytes) noexcept {
  ++packets_;
  bytes_ += payload_bytes;
  last_rtp_timestamp_ = rtp_timestamp;
  last_packet_at_ = at;
}

SenderReport SendStatistics::sender_report(std::uint32_t ssrc, Timestamp now,
                                           Duration ntp_offset) const {
  SenderReport sr;
  sr.sender_ssrc = ssrc;
  sr.ntp_timestamp = to_ntp(now, ntp_offset);
  // RFC 3550 6.4.1: the RTP timestamp of the same instant as the NTP one, on the media clock.
  const std::int64_t elapsed = std::max<std::int64_t>((now - last_packet_at_).us(), 0);
  sr.rtp_timestamp =
      last_rtp_timestamp_ + static_cast<std::uint32_t>(elapsed * clock_rate_ / kMicrosPerSecond);
  // 32-bit counters that wrap (RFC 3550 6.4.1).
  sr.packet_count = static_cast<std::uint32_t>(packets_);
  sr.octet_count = static_cast<std::uint32_t>(bytes_);
  return sr;
}

void SendStatistics::on_report_block(const ReportBlock& block, Timestamp now,
                                     Duration ntp_offset) noexcept {
  last_block_ = block;
  if (block.last_sender_report == 0) return;  // no SR of ours reached the receiver yet
  // RFC 3550 6.4.1: RTT = A - LSR - DLSR, in the middle 32 bits of NTP time.
  const std::uint32_t rtt = ntp_middle(to_ntp(now, ntp_offset)) - block.last_sender_report -
                            block.delay_since_last_sender_report;
  if (rtt > 0x7FFFFFFF) return;  // negative: clocks or a forged block; nothing to learn
  rtt_ = from_ntp_short(rtt);
}

}  // namespace rtcpp::rtp
