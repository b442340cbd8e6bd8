// The retransmission timeout (RFC 9260 6.3.1), on its own.
#include "sctp/rto_estimator.hpp"

#include <gtest/gtest.h>

namespace rtcpp::sctp {
namespace {

constexpr RtoConfig kConfig{Duration::millis(500), Duration::millis(120), Duration::seconds(10),
                            Duration::millis(220)};

TEST(RtoEstimator, StartsAtTheInitialRto) {
  RtoEstimator rto(kConfig);
  EXPECT_EQ(rto.rto(), Duration::millis(500));
  EXPECT_FALSE(rto.srtt());
}

TEST(RtoEstimator, FirstMeasurementSetsSrttAndHalfOfItAsVariation) {
  // RFC 9260 6.3.1 C2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR.
  RtoEstimator rto(kConfig);
  rto.observe_rtt(Duration::millis(200));
  EXPECT_EQ(rto.srtt(), Duration::millis(200));
  EXPECT_EQ(rto.rto(), Duration::millis(600));
}

TEST(RtoEstimator, LaterMeasurementsAreSmoothed) {
  // C3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, SRTT = 7/8 SRTT + 1/8 R'.
  RtoEstimator rto(kConfig);
  rto.observe_rtt(Duration::millis(100));
  rto.observe_rtt(Duration::millis(180));
  EXPECT_EQ(rto.srtt(), Duration::millis(110));
  // RTTVAR = 37.5 + 20 = 57.5 ms, times 4 is 230 ms (above the 220 ms floor).
  EXPECT_EQ(rto.rto(), Duration::millis(340));
}

TEST(RtoEstimator, VarianceTermLeavesRoomForThePeersDelayedSack) {
  // A steady 10 ms path: 4 RTTVAR shrinks towards zero, but a SACK may come a delayed-ack
  // time late, so the term stays at the configured floor.
  RtoEstimator rto(kConfig);
  for (int i = 0; i < 50; ++i) rto.observe_rtt(Duration::millis(10));
  EXPECT_EQ(rto.rto(), Duration::millis(230));
}

TEST(RtoEstimator, ClampedToItsBounds) {
  RtoEstimator rto(
      {Duration::millis(500), Duration::millis(400), Duration::seconds(1), Duration::zero()});
  rto.observe_rtt(Duration::millis(1));
  EXPECT_EQ(rto.rto(), Duration::millis(400));  // C6: RTO.Min
  rto.observe_rtt(Duration::seconds(5));
  EXPECT_EQ(rto.rto(), Duration::seconds(1));  // C7: RTO.Max
}

TEST(RtoEstimator, BackOffDoublesUpToTheMaximum) {
  // RFC 9260 6.3.3 E2.
  RtoEstimator rto(kConfig);
  rto.back_off();
  EXPECT_EQ(rto.rto(), Duration::seconds(1));
  for (int i = 0; i < 10; ++i) rto.back_off();
  EXPECT_EQ(rto.rto(), Duration::seconds(10));
}

}  // namespace
}  // namespace rtcpp::sctp
