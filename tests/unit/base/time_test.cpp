#include "base/time.hpp"

#include <gtest/gtest.h>

namespace rtcpp {
namespace {

TEST(Time, ArithmeticAndUnits) {
  const Timestamp t0 = Timestamp::millis(1000);
  const Timestamp t1 = t0 + Duration::millis(250);
  EXPECT_EQ(t1.us(), 1250000);
  EXPECT_EQ((t1 - t0).ms(), 250);
  EXPECT_EQ(t1 - Duration::seconds(1), Timestamp::millis(250));
  EXPECT_LT(t0, t1);
  EXPECT_EQ(Duration::seconds(2) / 4, Duration::millis(500));
  EXPECT_EQ(Duration::millis(3) * 2, Duration::micros(6000));
  EXPECT_DOUBLE_EQ(Duration::millis(1500).seconds_f(), 1.5);
  EXPECT_EQ(Duration::seconds_f(0.25), Duration::millis(250));
}

TEST(Time, InfinitySaturates) {
  EXPECT_TRUE((Timestamp::infinite() + Duration::seconds(1)).is_infinite());
  EXPECT_TRUE((Timestamp::millis(5) + Duration::infinite()).is_infinite());
  EXPECT_LT(Timestamp::seconds(1000000), Timestamp::infinite());
}

TEST(Time, Formats) {
  EXPECT_EQ(Duration::micros(250).to_string(), "250us");
  EXPECT_EQ(Duration::micros(1500).to_string(), "1.5ms");
  EXPECT_EQ(Duration::seconds(2).to_string(), "2s");
  EXPECT_EQ(Duration::infinite().to_string(), "inf");
}

}  // namespace
}  // namespace rtcpp
