// The congestion window on its own (RFC 9260 7.2).
#include "sctp/congestion_control.hpp"

#include <gtest/gtest.h>

namespace rtcpp::sctp {
namespace {

constexpr std::size_t kMtu = 1200;

TEST(CongestionControl, InitialWindow) {
  // RFC 9260 7.2.1: min(4 MTU, max(2 MTU, 4404)); ssthresh at the peer's window.
  CongestionControl cc(kMtu, 16);
  cc.start(100000);
  EXPECT_EQ(cc.cwnd(), 4404u);
  EXPECT_EQ(cc.ssthresh(), 100000u);
  EXPECT_TRUE(cc.fits(4000, 404));
  EXPECT_FALSE(cc.fits(4000, 405));
}

TEST(CongestionControl, SlowStartGrowsByAtMostOneMtuPerSack) {
  CongestionControl cc(kMtu, 16);
  cc.start(100000);
  cc.on_sack(Tsn(10), true, 5000);
  EXPECT_EQ(cc.cwnd(), 4404u + kMtu);
  cc.on_sack(Tsn(11), true, 100);
  EXPECT_EQ(cc.cwnd(), 4404u + kMtu + 100);
  cc.on_sack(Tsn(11), false, 1000);  // no cumulative progress: no growth (7.2.1)
  EXPECT_EQ(cc.cwnd(), 4404u + kMtu + 100);
}

TEST(CongestionControl, CongestionAvoidanceGrowsOneMtuPerWindow) {
  // RFC 9260 7.2.2: above ssthresh, one MTU once a whole cwnd was acknowledged.
  CongestionControl cc(kMtu, 16);
  cc.start(1000);
  const std::size_t cwnd = cc.cwnd();
  cc.on_sack(Tsn(10), true, cwnd - 1);
  EXPECT_EQ(cc.cwnd(), cwnd);
  cc.on_sack(Tsn(11), true, 1);
  EXPECT_EQ(cc.cwnd(), cwnd + kMtu);
}

TEST(CongestionControl, FastRecoveryHalvesOnceUntilItsExitPoint) {
  // RFC 9260 7.2.4: ssthresh = max(cwnd/2, 4 MTU), cwnd = ssthresh, no growth in recovery.
  CongestionControl cc(kMtu, 16);
  cc.start(1000000);
  for (int i = 0; i < 20; ++i) cc.on_sack(Tsn(i), true, kMtu);
  const std::size_t before = cc.cwnd();
  cc.on_fast_retransmit(Tsn(100));
  EXPECT_TRUE(cc.in_fast_recovery());
  EXPECT_EQ(cc.cwnd(), std::max(before / 2, 4 * kMtu));
  EXPECT_TRUE(cc.fast_retransmit_pending());
  EXPECT_TRUE(cc.take_fast_retransmit());
  EXPECT_FALSE(cc.take_fast_retransmit());
  const std::size_t halved = cc.cwnd();
  cc.on_fast_retransmit(Tsn(120));  // already recovering: no second cut
  EXPECT_EQ(cc.cwnd(), halved);
  cc.on_sack(Tsn(99), true, kMtu);
  EXPECT_EQ(cc.cwnd(), halved);
  cc.on_sack(Tsn(100), true, kMtu);  // the exit point acknowledged: recovery over
  EXPECT_FALSE(cc.in_fast_recovery());
}

TEST(CongestionControl, T3ExpiryCollapsesToOneMtu) {
  // RFC 9260 7.2.3.
  CongestionControl cc(kMtu, 16);
  cc.start(100000);
  cc.on_t3_expiry();
  EXPECT_EQ(cc.cwnd(), kMtu);
  EXPECT_EQ(cc.ssthresh(), 4 * kMtu);
}

TEST(CongestionControl, MaxBurstBudget) {
  // RFC 9260 6.1: at most Max.Burst packets of new data per acknowledgement.
  CongestionControl cc(kMtu, 2);
  EXPECT_FALSE(cc.burst_left());
  cc.refill_burst();
  cc.spend_burst();
  EXPECT_TRUE(cc.burst_left());
  cc.spend_burst();
  EXPECT_FALSE(cc.burst_left());
  CongestionControl unlimited(kMtu, 0);
  EXPECT_TRUE(unlimited.burst_left());
}

}  // namespace
}  // namespace rtcpp::sctp
