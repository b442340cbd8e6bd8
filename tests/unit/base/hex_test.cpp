#include "base/hex.hpp"

#include <gtest/gtest.h>

namespace rtcpp {
namespace {

TEST(Hex, EncodesLowercaseAndSeparatedUppercase) {
  const std::uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(to_hex(bytes), "000fa5ff");
  EXPECT_EQ(to_hex_separated(bytes, ':'), "00:0F:A5:FF");
  EXPECT_EQ(to_hex(BytesView{}), "");
}

TEST(Hex, DecodesEitherCase) {
  auto r = from_hex("DeadBEEF");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (Buffer{0xde, 0xad, 0xbe, 0xef}));
  auto s = from_hex("AB:cd:01", ':');
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (Buffer{0xab, 0xcd, 0x01}));
  EXPECT_TRUE(from_hex(""));
}

TEST(Hex, RejectsMalformedInput) {
  EXPECT_FALSE(from_hex("abc"));    // odd digit count
  EXPECT_FALSE(from_hex("zz"));     // not hex
  EXPECT_FALSE(from_hex("ab:cd"));  // separator not expected
  EXPECT_FALSE(from_hex("ab::cd", ':'));
  EXPECT_FALSE(from_hex(":ab", ':'));
  EXPECT_FALSE(from_hex("ab:", ':'));
  EXPECT_FALSE(from_hex("abcd", ':'));  // missing separator
  EXPECT_EQ(from_hex("g0").error().type(), RTCErrorType::kSyntaxError);
}

TEST(Hex, EnforcesLengthLimit) {
  EXPECT_TRUE(from_hex("0102", '\0', 2));
  EXPECT_FALSE(from_hex("010203", '\0', 2));
}

TEST(Hex, RoundTrips) {
  Buffer b;
  for (int i = 0; i < 256; ++i) b.push_back(static_cast<std::uint8_t>(i));
  EXPECT_EQ(*from_hex(to_hex(b)), b);
  EXPECT_EQ(*from_hex(to_hex_separated(b, ':'), ':'), b);
}

}  // namespace
}  // namespace rtcpp
