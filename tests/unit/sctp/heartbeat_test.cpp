// HEARTBEATs on an idle path (RFC 9260 8.3), on their own.
#include "sctp/heartbeat.hpp"

#include <gtest/gtest.h>

#include "base/byte_reader.hpp"
#include "sctp/packet.hpp"

namespace rtcpp::sctp {
namespace {

TEST(HeartbeatSender, ArmsAfterTheIntervalPlusAJitteredRto) {
  SeededRandom rng(1);
  HeartbeatSender hb(Duration::seconds(30));
  EXPECT_TRUE(hb.enabled());
  for (int i = 0; i < 100; ++i) {
    hb.arm(Timestamp::zero(), Duration::seconds(1), Tsn(10), rng);
    // RFC 9260 8.3: RTO + HB.interval, the RTO part varied by +/- 50 %.
    const Timestamp at = *hb.timer().deadline();
    EXPECT_GE(at, Timestamp::millis(30500));
    EXPECT_LT(at, Timestamp::millis(31500));
  }
  EXPECT_FALSE(HeartbeatSender(Duration::zero()).enabled());
}

TEST(HeartbeatSender, ProbesOnlyAnIdlePath) {
  SeededRandom rng(1);
  HeartbeatSender hb(Duration::seconds(30));
  hb.arm(Timestamp::zero(), Duration::seconds(1), Tsn(10), rng);
  EXPECT_TRUE(hb.path_idle(Tsn(10)));
  EXPECT_FALSE(hb.path_idle(Tsn(11)));  // new data went out since
}

TEST(HeartbeatSender, AckWithItsNonceMeasuresTheRoundTrip) {
  SeededRandom rng(1);
  HeartbeatSender hb(Duration::seconds(30));
  const auto info = hb.make_heartbeat(Timestamp::millis(1000), rng);
  EXPECT_EQ(hb.sent(), 1u);
  EXPECT_EQ(load_be16(info.data()), param_type::kHeartbeatInfo);
  EXPECT_EQ(load_be16(info.data() + 2), HeartbeatSender::kInfoSize);
  // A forged or corrupted echo is ignored (RFC 9260 8.3: the info is ours to verify).
  auto forged = info;
  forged[5] ^= 1;
  EXPECT_FALSE(hb.on_ack(forged, Timestamp::millis(1040)));
  EXPECT_EQ(hb.on_ack(info, Timestamp::millis(1040)), Duration::millis(40));
  // Answered: a second ACK measures nothing, and the expiry finds nothing unanswered.
  EXPECT_FALSE(hb.on_ack(info, Timestamp::millis(1050)));
  EXPECT_FALSE(hb.take_unanswered());
}

TEST(HeartbeatSender, UnansweredHeartbeatIsReportedOnce) {
  SeededRandom rng(1);
  HeartbeatSender hb(Duration::seconds(30));
  const auto info = hb.make_heartbeat(Timestamp::zero(), rng);
  EXPECT_TRUE(hb.take_unanswered());
  EXPECT_FALSE(hb.take_unanswered());
  EXPECT_FALSE(hb.on_ack(info, Timestamp::millis(10)));  // too late: forgotten
}

}  // namespace
}  // namespace rtcpp::sctp
