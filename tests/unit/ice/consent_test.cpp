// Consent freshness (RFC 7675) on its own: when checks are due and what silence costs.
#include "ice/consent.hpp"

#include <gtest/gtest.h>

namespace rtcpp::ice {
namespace {

const Timestamp kT0 = Timestamp::seconds(100);

ConsentFreshness make() {
  return ConsentFreshness(Duration::seconds(5), Duration::seconds(5), Duration::seconds(2),
                          Duration::seconds(30));
}

TEST(ConsentFreshness, ChecksComeEveryIntervalRandomisedByTwentyPercent) {
  SeededRandom rng(1);
  ConsentFreshness consent = make();
  EXPECT_FALSE(consent.check_due(kT0));  // nothing selected yet
  consent.start(kT0, rng);
  Duration shortest = Duration::seconds(10);
  Duration longest = Duration::zero();
  for (int i = 0; i < 200; ++i) {
    consent.schedule_next(kT0, rng);
    const Duration wait = consent.next_check_at() - kT0;
    shortest = std::min(shortest, wait);
    longest = std::max(longest, wait);
    EXPECT_FALSE(consent.check_due(kT0 + wait - Duration::micros(1)));
    EXPECT_TRUE(consent.check_due(kT0 + wait));
  }
  // RFC 7675 5.1: uniformly within 0.8 to 1.2 times the interval.
  EXPECT_GE(shortest, Duration::millis(4000));
  EXPECT_LE(longest, Duration::millis(6000));
  EXPECT_LT(shortest, Duration::millis(4200));
  EXPECT_GT(longest, Duration::millis(5800));
}

TEST(ConsentFreshness, SilenceWithAnUnansweredCheckDisconnectsThenExpires) {
  SeededRandom rng(1);
  ConsentFreshness consent = make();
  consent.start(kT0, rng);
  using Status = ConsentFreshness::Status;
  // An idle path between checks is silent, and fresh, however long the interval.
  EXPECT_EQ(consent.status(kT0 + Duration::seconds(6)), Status::kFresh);
  EXPECT_EQ(consent.disconnected_at(), Timestamp::infinite());
  // A check goes out at 5.5 s and stays unanswered: disconnected 2 s later.
  consent.schedule_next(kT0 + Duration::millis(5500), rng);
  EXPECT_EQ(consent.disconnected_at(), kT0 + Duration::millis(7500));
  EXPECT_EQ(consent.status(kT0 + Duration::millis(7499)), Status::kFresh);
  EXPECT_EQ(consent.status(kT0 + Duration::millis(7500)), Status::kDisconnected);
  // Further checks do not move that: the first unanswered one counts.
  consent.schedule_next(kT0 + Duration::seconds(11), rng);
  EXPECT_EQ(consent.disconnected_at(), kT0 + Duration::millis(7500));
  EXPECT_EQ(consent.status(kT0 + Duration::millis(29999)), Status::kDisconnected);
  // RFC 7675 5.1: consent expires 30 s after the last answer.
  EXPECT_EQ(consent.status(kT0 + Duration::seconds(30)), Status::kExpired);
  // An answer in time makes it fresh again, and nothing waits for an answer.
  consent.refresh(kT0 + Duration::seconds(20));
  EXPECT_EQ(consent.status(kT0 + Duration::seconds(21)), Status::kFresh);
  EXPECT_EQ(consent.disconnected_at(), Timestamp::infinite());
  EXPECT_EQ(consent.expires_at(), kT0 + Duration::seconds(50));
}

TEST(ConsentFreshness, ACheckSentSoonAfterAnAnswerDisconnectsOnlyAfterTheSilence) {
  SeededRandom rng(1);
  ConsentFreshness consent = make();
  consent.start(kT0, rng);
  consent.schedule_next(kT0 + Duration::seconds(1), rng);
  // Unanswered for 2 s at 3 s, but the last answer is only 3 s old: disconnected at 5 s.
  EXPECT_EQ(consent.disconnected_at(), kT0 + Duration::seconds(5));
  EXPECT_EQ(consent.status(kT0 + Duration::seconds(4)), ConsentFreshness::Status::kFresh);
}

TEST(ConsentFreshness, RevokedConsentIsExpiredAtOnce) {
  SeededRandom rng(1);
  ConsentFreshness consent = make();
  consent.start(kT0, rng);
  consent.revoke(kT0 + Duration::seconds(1));
  EXPECT_EQ(consent.status(kT0 + Duration::seconds(1)), ConsentFreshness::Status::kExpired);
}

TEST(ConsentFreshness, NextTimeoutIsTheEarliestOfCheckAndStatusChange) {
  SeededRandom rng(1);
  ConsentFreshness consent = make();
  consent.start(kT0, rng);
  EXPECT_EQ(consent.next_timeout(false), consent.next_check_at());
  // A check waits for its answer: the status changes before the next check is due.
  consent.schedule_next(kT0 + Duration::seconds(4), rng);
  EXPECT_EQ(consent.next_timeout(false), kT0 + Duration::seconds(6));
  // Once disconnected is reported, expiry is the only status change left.
  consent.schedule_next(kT0 + Duration::seconds(29), rng);
  EXPECT_EQ(consent.next_timeout(true), kT0 + Duration::seconds(30));
}

}  // namespace
}  // namespace rtcpp::ice
