// The receive side's TSN bookkeeping and SACK timing (RFC 9260 6.2), on its own.
#include "sctp/data_tracker.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtcpp::sctp {
namespace {

constexpr std::uint32_t kInitial = 1000;

// The SACK the tracker writes now, parsed back.
SackChunk written_sack(DataTracker& tracker, std::uint32_t a_rwnd = 5000) {
  Buffer packet;
  PacketBuilder b(packet, {1, 2, 3}, 1200);
  tracker.write_sack(b, a_rwnd);
  b.finish();
  auto parsed = parse_packet(packet.view());
  EXPECT_TRUE(parsed);
  auto sack = SackChunk::parse(parsed->chunks.at(0));
  EXPECT_TRUE(sack);
  return *sack;
}

TEST(DataTracker, CumulativeTsnFollowsInOrderArrivals) {
  DataTracker t;
  t.start(kInitial);
  EXPECT_EQ(t.cumulative().wire(), kInitial - 1);
  t.mark_received(t.unwrap(kInitial));
  t.mark_received(t.unwrap(kInitial + 1));
  EXPECT_EQ(t.cumulative().wire(), kInitial + 1);
  EXPECT_FALSE(t.has_gaps());
  EXPECT_TRUE(t.is_duplicate(t.unwrap(kInitial)));
  EXPECT_FALSE(t.is_duplicate(t.unwrap(kInitial + 2)));
}

TEST(DataTracker, UnwrapsAcrossThe32BitBoundary) {
  DataTracker t;
  t.start(0xFFFFFFFF);
  const Tsn last = t.unwrap(0xFFFFFFFF);
  const Tsn wrapped = t.unwrap(0);
  EXPECT_EQ(wrapped, last.next());
  t.mark_received(last);
  t.mark_received(wrapped);
  EXPECT_EQ(t.cumulative(), wrapped);
  EXPECT_EQ(t.cumulative().wire(), 0u);
}

TEST(DataTracker, GapsBecomeGapBlocksAndAreFilled) {
  DataTracker t;
  t.start(kInitial);
  for (const std::uint32_t tsn : {kInitial, kInitial + 2, kInitial + 3, kInitial + 5})
    t.mark_received(t.unwrap(tsn));
  EXPECT_TRUE(t.has_gaps());
  // RFC 9260 3.3.4: gap blocks are offsets from the cumulative TSN ack.
  SackChunk sack = written_sack(t);
  EXPECT_EQ(sack.cumulative_tsn_ack, kInitial);
  EXPECT_EQ(sack.a_rwnd, 5000u);
  const std::vector<SackChunk::GapBlock> expected{{2, 3}, {5, 5}};
  EXPECT_EQ(sack.gap_blocks, expected);
  t.mark_received(t.unwrap(kInitial + 1));  // the hole fills: absorbed up to +3
  EXPECT_EQ(t.cumulative().wire(), kInitial + 3);
  EXPECT_TRUE(t.has_gaps());
}

TEST(DataTracker, DuplicatesAreReportedOnceAndAskForAnImmediateSack) {
  DataTracker t;
  t.start(kInitial);
  t.mark_received(t.unwrap(kInitial));
  t.report_duplicate(kInitial);
  t.on_packet_with_data(Timestamp::zero(), Duration::millis(200));
  EXPECT_TRUE(t.sack_scheduled());  // RFC 9260 6.2: a duplicate is acknowledged at once
  EXPECT_EQ(written_sack(t).duplicate_tsns, std::vector<std::uint32_t>{kInitial});
  EXPECT_FALSE(t.sack_scheduled());
  EXPECT_TRUE(written_sack(t).duplicate_tsns.empty());
}

TEST(DataTracker, DelayedSackEverySecondPacketOrAfterTheDelay) {
  // RFC 9260 6.2: a SACK for at least every second packet, and within the delayed-ack time.
  DataTracker t;
  t.start(kInitial);
  t.on_packet_with_data(Timestamp::millis(10), Duration::millis(200));
  EXPECT_FALSE(t.sack_scheduled());
  EXPECT_EQ(t.delayed_sack_timer().deadline(), Timestamp::millis(210));
  t.on_packet_with_data(Timestamp::millis(20), Duration::millis(200));
  EXPECT_TRUE(t.sack_scheduled());
  EXPECT_FALSE(t.delayed_sack_timer().running());
  written_sack(t);
  t.on_packet_with_data(Timestamp::millis(30), Duration::millis(200));
  EXPECT_FALSE(t.sack_scheduled());
  t.schedule_sack();  // what the association does when the timer expires
  EXPECT_TRUE(t.sack_scheduled());
  EXPECT_FALSE(t.delayed_sack_timer().running());
}

TEST(DataTracker, ImmediateSackRequested) {
  // RFC 7053: the sender's I bit.
  DataTracker t;
  t.start(kInitial);
  t.request_immediate_sack();
  t.on_packet_with_data(Timestamp::zero(), Duration::millis(200));
  EXPECT_TRUE(t.sack_scheduled());
}

TEST(DataTracker, ForwardTsnAdvancesTheCumulativeTsnOverWhatArrived) {
  // RFC 3758 3.6: the new cumulative TSN absorbs what was received just above it.
  DataTracker t;
  t.start(kInitial);
  t.mark_received(t.unwrap(kInitial + 3));
  t.mark_received(t.unwrap(kInitial + 4));
  t.mark_received(t.unwrap(kInitial + 7));
  t.advance_cumulative(t.unwrap(kInitial + 2));
  EXPECT_EQ(t.cumulative().wire(), kInitial + 4);
  EXPECT_TRUE(t.has_gaps());
  t.advance_cumulative(t.unwrap(kInitial + 8));
  EXPECT_EQ(t.cumulative().wire(), kInitial + 8);
  EXPECT_FALSE(t.has_gaps());
}

}  // namespace
}  // namespace rtcpp::sctp
