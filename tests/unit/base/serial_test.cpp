#include "base/serial.hpp"

#include <gtest/gtest.h>

namespace rtcpp {
namespace {

TEST(Serial, ComparesAcrossWrap16) {
  EXPECT_TRUE(serial_less<std::uint16_t>(65535, 0));
  EXPECT_TRUE(serial_less<std::uint16_t>(65000, 100));
  EXPECT_FALSE(serial_less<std::uint16_t>(100, 65000));
  EXPECT_TRUE(serial_less<std::uint16_t>(1, 2));
  EXPECT_FALSE(serial_less<std::uint16_t>(2, 2));
  EXPECT_TRUE(serial_less_equal<std::uint16_t>(2, 2));
  EXPECT_TRUE(serial_greater<std::uint16_t>(0, 65535));
}

TEST(Serial, ComparesAcrossWrap32) {
  EXPECT_TRUE(serial_less<std::uint32_t>(0xFFFFFFF0u, 0x10u));
  EXPECT_FALSE(serial_less<std::uint32_t>(0x10u, 0xFFFFFFF0u));
  EXPECT_TRUE(serial_less<std::uint32_t>(0, 0x7FFFFFFFu));
  EXPECT_FALSE(serial_less<std::uint32_t>(0x7FFFFFFFu + 1u + 5u, 5u) &&
               serial_less<std::uint32_t>(5u, 0x7FFFFFFFu + 1u + 5u));
}

TEST(Serial, HalfwayIsAntisymmetric) {
  // RFC 1982 leaves a - b == 2^(n-1) undefined; we keep exactly one direction true.
  const std::uint16_t a = 10;
  const auto b = static_cast<std::uint16_t>(a + 32768);
  EXPECT_NE(serial_less(a, b), serial_less(b, a));
}

TEST(Serial, Distance) {
  EXPECT_EQ(serial_distance<std::uint16_t>(65530, 5), 11);
  EXPECT_EQ(serial_distance<std::uint16_t>(5, 65530), -11);
  EXPECT_EQ(serial_distance<std::uint32_t>(0xFFFFFFFFu, 0), 1);
}

TEST(Serial, SerialNumberType) {
  SerialNumber32 tsn(0xFFFFFFFEu);
  SerialNumber32 later = tsn + 3;
  EXPECT_EQ(later.value(), 1u);
  EXPECT_LT(tsn, later);
  EXPECT_GT(later, tsn);
  EXPECT_LE(tsn, tsn);
  ++tsn;
  EXPECT_EQ(tsn.value(), 0xFFFFFFFFu);
  EXPECT_EQ(tsn.next().value(), 0u);
}

TEST(Serial, UnwrapperFollowsWrapsAndReordering) {
  SerialUnwrapper<std::uint16_t> u;
  EXPECT_EQ(u.unwrap(65534), 65534);
  EXPECT_EQ(u.unwrap(65535), 65535);
  EXPECT_EQ(u.unwrap(0), 65536);
  EXPECT_EQ(u.unwrap(65535), 65535);  // late packet from before the wrap
  EXPECT_EQ(u.unwrap(1), 65537);
  EXPECT_EQ(u.unwrap(2), 65538);
  u.reset();
  EXPECT_EQ(u.unwrap(7), 7);
}

TEST(Serial, UnwrapperManyWraps) {
  SerialUnwrapper<std::uint16_t> u;
  std::int64_t expected = 100;
  for (int i = 0; i < 300000; i += 1000) {
    const auto wrapped = static_cast<std::uint16_t>(expected);
    ASSERT_EQ(u.unwrap(wrapped), expected);
    expected += 1000;
  }
}

}  // namespace
}  // namespace rtcpp
