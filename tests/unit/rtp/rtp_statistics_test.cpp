// RFC 3550 statistics: sequence tracking with wraps, restarts, loss and duplicates (A.1, A.3),
// interarrival jitter (A.8), and the round-trip time from LSR/DLSR (6.4.1).
#include "rtp/rtp_statistics.hpp"

#include <gtest/gtest.h>

namespace rtcpp::rtp {
namespace {

constexpr std::uint32_t kVideoClock = 90000;

TEST(RtpStatistics, NtpTimes) {
  EXPECT_EQ(to_ntp(Timestamp::zero(), Duration::seconds(1)), 1ull << 32);
  EXPECT_EQ(to_ntp(Timestamp::millis(500), Duration::zero()), 1ull << 31);
  EXPECT_EQ(ntp_middle(to_ntp(Timestamp::millis(1500), Duration::seconds(2))),
            (3u << 16) | 0x8000u);
  EXPECT_EQ(to_ntp_short(Duration::millis(250)), 16384u);
  EXPECT_EQ(from_ntp_short(65536), Duration::seconds(1));
}

TEST(RtpStatistics, InOrderPacketsLoseNothing) {
  ReceiveStatistics stats(7, kVideoClock);
  for (std::uint16_t i = 0; i < 100; ++i)
    EXPECT_TRUE(stats.on_packet(1000 + i, i * 3000u, Timestamp::millis(i * 33), 100));
  EXPECT_EQ(stats.packets_received(), 100u);
  EXPECT_EQ(stats.bytes_received(), 10000u);
  EXPECT_EQ(stats.cumulative_lost(), 0);
  const auto block = stats.report_block(Timestamp::seconds(4));
  EXPECT_EQ(block.ssrc, 7u);
  EXPECT_EQ(block.fraction_lost, 0);
  EXPECT_EQ(block.cumulative_lost, 0);
  EXPECT_EQ(block.extended_highest_sequence, 1099u);
  EXPECT_EQ(block.last_sender_report, 0u);  // no SR seen
}

TEST(RtpStatistics, LossIsCountedPerIntervalAndInTotal) {
  ReceiveStatistics stats(7, kVideoClock);
  std::uint16_t sequence = 0;
  for (int i = 0; i < 100; ++i, ++sequence) {
    if (i % 20 == 5) continue;  // 5 of 100 lost
    stats.on_packet(sequence, 0, Timestamp::zero(), 10);
  }
  auto block = stats.report_block(Timestamp::zero());
  EXPECT_EQ(block.cumulative_lost, 5);
  EXPECT_EQ(block.fraction_lost, 5 * 256 / 100);
  // The next interval loses nothing: its fraction is 0, the total stays.
  for (int i = 0; i < 50; ++i, ++sequence) stats.on_packet(sequence, 0, Timestamp::zero(), 10);
  block = stats.report_block(Timestamp::zero());
  EXPECT_EQ(block.fraction_lost, 0);
  EXPECT_EQ(block.cumulative_lost, 5);
  // Duplicates make the count negative (RFC 3550 6.4.1), and the fraction never is.
  for (int i = 0; i < 8; ++i)
    stats.on_packet(static_cast<std::uint16_t>(sequence - 1), 0, Timestamp::zero(), 10);
  block = stats.report_block(Timestamp::zero());
  EXPECT_EQ(block.cumulative_lost, -3);
  EXPECT_EQ(block.fraction_lost, 0);
}

TEST(RtpStatistics, SequenceNumbersWrapAndLateOnesDoNotMoveTheMaximum) {
  ReceiveStatistics stats(7, kVideoClock);
  for (std::uint32_t i = 0; i < 20; ++i)
    stats.on_packet(static_cast<std::uint16_t>(65530 + i), 0, Timestamp::zero(), 1);
  EXPECT_EQ(stats.extended_highest_sequence(), 65536u + 13u);
  stats.on_packet(65534, 0, Timestamp::zero(), 1);  // a late duplicate from before the wrap
  EXPECT_EQ(stats.extended_highest_sequence(), 65536u + 13u);
  EXPECT_EQ(stats.cumulative_lost(), -1);
}

TEST(RtpStatistics, AJumpIsARestartOnceTheNextPacketConfirmsIt) {
  ReceiveStatistics stats(7, kVideoClock);
  for (std::uint16_t i = 0; i < 10; ++i) stats.on_packet(i, 0, Timestamp::zero(), 1);
  EXPECT_FALSE(stats.on_packet(40000, 0, Timestamp::zero(), 1));  // not counted yet
  EXPECT_EQ(stats.packets_received(), 10u);
  EXPECT_TRUE(stats.on_packet(40001, 0, Timestamp::zero(), 1));  // confirmed: a new start
  EXPECT_EQ(stats.packets_received(), 1u);
  EXPECT_EQ(stats.extended_highest_sequence(), 40001u);
  EXPECT_EQ(stats.cumulative_lost(), 0);
}

TEST(RtpStatistics, JitterFollowsTheVariationOfTransitTimes) {
  ReceiveStatistics steady(1, kVideoClock);
  ReceiveStatistics shaky(2, kVideoClock);
  for (std::uint32_t i = 0; i < 2000; ++i) {
    const Timestamp sent = Timestamp::millis(i * 20);
    steady.on_packet(static_cast<std::uint16_t>(i), i * 1800, sent + Duration::millis(30), 1);
    // Alternately 10 ms later: |D| is 900 units each time, and J converges to it.
    const Duration delay = Duration::millis(i % 2 == 0 ? 30 : 40);
    shaky.on_packet(static_cast<std::uint16_t>(i), i * 1800, sent + delay, 1);
  }
  EXPECT_EQ(steady.jitter(), 0u);
  EXPECT_NEAR(shaky.jitter(), 900, 20);
  EXPECT_NEAR(shaky.jitter_seconds(), 0.010, 0.0003);
}

TEST(RtpStatistics, RoundTripTimeFromTheEchoedSenderReport) {
  const Duration offset = Duration::seconds(3'900'000'000LL);  // some NTP time in 2023
  SendStatistics sender(kVideoClock);
  ReceiveStatistics receiver(0x1234, kVideoClock);
  const Duration one_way = Duration::millis(40);
  sender.on_packet(90000, Timestamp::seconds(10), 1000);
  // The SR leaves at 10.5 s; its RTP timestamp is the media clock then.
  const Timestamp sr_time = Timestamp::millis(10500);
  const SenderReport sr = sender.sender_report(0x1234, sr_time, offset);
  EXPECT_EQ(sr.rtp_timestamp, 90000u + 45000u);
  EXPECT_EQ(sr.packet_count, 1u);
  EXPECT_EQ(sr.octet_count, 1000u);
  receiver.on_packet(1, 90000, Timestamp::seconds(10) + one_way, 1000);
  receiver.on_sender_report(sr.ntp_timestamp, sr_time + one_way);
  // The receiver holds the SR for 300 ms before its RR goes.
  const Timestamp rr_time = sr_time + one_way + Duration::millis(300);
  const ReportBlock block = receiver.report_block(rr_time);
  EXPECT_EQ(block.last_sender_report, ntp_middle(sr.ntp_timestamp));
  EXPECT_EQ(block.delay_since_last_sender_report, to_ntp_short(Duration::millis(300)));
  sender.on_report_block(block, rr_time + one_way, offset);
  ASSERT_TRUE(sender.round_trip_time());
  EXPECT_NEAR(sender.round_trip_time()->ms_f(), 80.0, 0.1);
  // A block without an SR echoed gives no RTT; a forged one in the future gives none either.
  SendStatistics other(kVideoClock);
  other.on_report_block(ReportBlock{}, rr_time, offset);
  EXPECT_FALSE(other.round_trip_time());
  ReportBlock forged = block;
  forged.delay_since_last_sender_report = to_ntp_short(Duration::seconds(100));
  other.on_report_block(forged, rr_time + one_way, offset);
  EXPECT_FALSE(other.round_trip_time());
}

}  // namespace
}  // namespace rtcpp::rtp
