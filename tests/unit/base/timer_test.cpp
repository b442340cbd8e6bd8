#include "base/timer.hpp"

#include <gtest/gtest.h>

namespace rtcpp {
namespace {

TEST(Timer, ExpiresAtItsDeadline) {
  Timer t;
  EXPECT_FALSE(t.running());
  EXPECT_FALSE(t.expired(Timestamp::seconds(100)));
  t.start(Timestamp::millis(10), Duration::millis(5));
  EXPECT_TRUE(t.running());
  EXPECT_EQ(t.deadline(), Timestamp::millis(15));
  EXPECT_FALSE(t.expired(Timestamp::millis(14)));
  EXPECT_TRUE(t.expired(Timestamp::millis(15)));
  t.stop();
  EXPECT_FALSE(t.running());
  EXPECT_FALSE(t.expired(Timestamp::millis(20)));
}

TEST(Timer, StartIfStoppedKeepsARunningDeadline) {
  Timer t;
  t.start_if_stopped(Timestamp::millis(0), Duration::millis(5));
  t.start_if_stopped(Timestamp::millis(3), Duration::millis(5));
  EXPECT_EQ(t.deadline(), Timestamp::millis(5));
  t.start(Timestamp::millis(3), Duration::millis(5));  // a restart replaces it
  EXPECT_EQ(t.deadline(), Timestamp::millis(8));
}

TEST(Timer, BacksOffByDoublingUpToTheCap) {
  const Duration base = Duration::millis(100);
  const Duration max = Duration::seconds(1);
  EXPECT_EQ(Timer::backed_off(base, 0, max), Duration::millis(100));
  EXPECT_EQ(Timer::backed_off(base, 3, max), Duration::millis(800));
  EXPECT_EQ(Timer::backed_off(base, 4, max), max);
  EXPECT_EQ(Timer::backed_off(base, 1000, max), max);  // no overflow
  Timer t;
  EXPECT_EQ(t.add_attempt(), 1);
  EXPECT_EQ(t.add_attempt(), 2);
  t.reset_attempts();
  EXPECT_EQ(t.attempts(), 0);
}

TEST(Timer, EarliestDeadlineOfSeveral) {
  Timer a;
  Timer b;
  Timer c;
  EXPECT_FALSE(earliest_deadline(a, b, c));
  b.start_at(Timestamp::millis(30));
  c.start_at(Timestamp::millis(20));
  EXPECT_EQ(earliest_deadline(a, b, c), Timestamp::millis(20));
}

}  // namespace
}  // namespace rtcpp
