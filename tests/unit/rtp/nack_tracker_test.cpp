#include "rtp/nack_tracker.hpp"

#include <gtest/gtest.h>

namespace rtcpp::rtp {
namespace {

using Seqs = std::vector<std::uint16_t>;
const Timestamp kStart = Timestamp::seconds(10);

Timestamp at_ms(std::int64_t ms) {
  return kStart + Duration::millis(ms);
}

TEST(NackTracker, AsksForAGapAfterTheReorderDelayThenEachRetryInterval) {
  NackTracker t;
  t.on_packet(100, at_ms(0));
  t.on_packet(104, at_ms(0));  // 101-103 missing
  EXPECT_EQ(t.missing(), 3u);
  EXPECT_EQ(t.take_due(at_ms(4), std::nullopt), Seqs{});
  EXPECT_EQ(t.next_due(std::nullopt), at_ms(5));
  EXPECT_EQ(t.take_due(at_ms(5), std::nullopt), (Seqs{101, 102, 103}));
  // Not again within the retry interval (50 ms without a round-trip time, else the RTT).
  EXPECT_EQ(t.take_due(at_ms(30), std::nullopt), Seqs{});
  EXPECT_EQ(t.next_due(std::nullopt), at_ms(55));
  EXPECT_EQ(t.next_due(Duration::millis(30)), at_ms(35));
  t.on_packet(102, at_ms(31));
  EXPECT_EQ(t.take_due(at_ms(35), Duration::millis(30)), (Seqs{101, 103}));
  EXPECT_EQ(t.recovered(), 1u);
  EXPECT_EQ(t.requests(), 5u);
  // A tiny round-trip time still leaves min_retry_interval between requests.
  EXPECT_EQ(t.take_due(at_ms(45), Duration::millis(1)), Seqs{});
  EXPECT_EQ(t.take_due(at_ms(55), Duration::millis(1)), (Seqs{101, 103}));
}

TEST(NackTracker, AReorderedPacketIsNotAskedFor) {
  NackTracker t;
  t.on_packet(7, at_ms(0));
  t.on_packet(9, at_ms(0));
  t.on_packet(8, at_ms(2));
  EXPECT_EQ(t.take_due(at_ms(10), std::nullopt), Seqs{});
  EXPECT_EQ(t.missing(), 0u);
  EXPECT_FALSE(t.next_due(std::nullopt));
  // Duplicates and old packets change nothing.
  t.on_packet(8, at_ms(3));
  t.on_packet(9, at_ms(3));
  EXPECT_EQ(t.missing(), 0u);
  EXPECT_EQ(t.recovered(), 1u);
}

TEST(NackTracker, GivesUpAfterMaxRequestsOrMaxAge) {
  NackTrackerConfig config;
  config.max_requests = 3;
  NackTracker t(config);
  t.on_packet(1, at_ms(0));
  t.on_packet(3, at_ms(0));
  int asked = 0;
  for (int ms = 0; ms <= 400; ++ms)
    asked += static_cast<int>(t.take_due(at_ms(ms), std::nullopt).size());
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(t.missing(), 0u);
  EXPECT_EQ(t.given_up(), 1u);

  NackTracker aged;  // 10 requests allowed, but only for a second
  aged.on_packet(1, at_ms(0));
  aged.on_packet(3, at_ms(0));
  std::size_t requests = 0;
  for (int ms = 0; ms <= 2000; ms += 100)
    requests += aged.take_due(at_ms(ms), Duration::millis(300)).size();
  EXPECT_EQ(requests, 4u);  // at 100, 400, 700 and 1000 ms
  EXPECT_EQ(aged.missing(), 0u);
  EXPECT_EQ(aged.given_up(), 1u);
}

TEST(NackTracker, SequenceNumbersWrap) {
  NackTracker t;
  t.on_packet(65534, at_ms(0));
  t.on_packet(1, at_ms(0));  // 65535 and 0 missing
  EXPECT_EQ(t.take_due(at_ms(5), std::nullopt), (Seqs{65535, 0}));
  t.on_packet(0, at_ms(6));
  t.on_packet(65535, at_ms(6));
  EXPECT_EQ(t.missing(), 0u);
  EXPECT_EQ(t.recovered(), 2u);
}

TEST(NackTracker, AJumpBeyondTheDropoutIsARestartAndTheListIsBounded) {
  NackTrackerConfig config;
  config.max_missing = 100;
  NackTracker t(config);
  t.on_packet(0, at_ms(0));
  t.on_packet(5000, at_ms(0));  // past max_gap (3000): a new start
  EXPECT_EQ(t.missing(), 0u);
  t.on_packet(5300, at_ms(0));  // 299 missing, the oldest 199 given up
  EXPECT_EQ(t.missing(), 100u);
  EXPECT_EQ(t.given_up(), 199u);
  const auto due = t.take_due(at_ms(5), std::nullopt);
  ASSERT_EQ(due.size(), 100u);
  EXPECT_EQ(due.front(), 5200);
  EXPECT_EQ(due.back(), 5299);
  t.reset();
  EXPECT_EQ(t.missing(), 0u);
  t.on_packet(9, at_ms(6));
  EXPECT_EQ(t.missing(), 0u);
}

}  // namespace
}  // namespace rtcpp::rtp
