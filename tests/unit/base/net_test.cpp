#include "base/net.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

namespace rtcpp {
namespace {

TEST(IpAddress, ParsesAndPrintsV4) {
  auto a = IpAddress::parse("192.168.1.20");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_host_order(), 0xC0A80114u);
  EXPECT_EQ(a->to_string(), "192.168.1.20");
  EXPECT_TRUE(a->is_private());
  EXPECT_EQ(*a, IpAddress::v4(192, 168, 1, 20));
}

TEST(IpAddress, ParsesAndPrintsV6Canonically) {
  auto a = IpAddress::parse("2001:DB8:0:0:0:0:0:1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v6());
  EXPECT_EQ(a->to_string(), "2001:db8::1");
  EXPECT_EQ(a->bytes().size(), 16u);
  EXPECT_TRUE(IpAddress::parse("::1")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("fe80::1")->is_link_local());
  EXPECT_TRUE(IpAddress::parse("fd00::5")->is_private());
  EXPECT_TRUE(IpAddress::parse("::")->is_unspecified());
}

TEST(IpAddress, Classifies) {
  EXPECT_TRUE(IpAddress::parse("127.0.0.1")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("169.254.3.4")->is_link_local());
  EXPECT_TRUE(IpAddress::parse("172.16.0.1")->is_private());
  EXPECT_FALSE(IpAddress::parse("172.32.0.1")->is_private());
  EXPECT_TRUE(IpAddress::parse("0.0.0.0")->is_unspecified());
  EXPECT_FALSE(IpAddress::parse("8.8.8.8")->is_private());
}

TEST(IpAddress, RejectsGarbage) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "abc", "1.2.3.4 ", "::1::2",
                          "[::1]", "fe80::1%eth0"}) {
    auto r = IpAddress::parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().type(), RTCErrorType::kSyntaxError);
    }
  }
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')));
  EXPECT_FALSE(IpAddress::parse(std::string_view("1.2.3.4\0", 8)));
}

TEST(SocketAddress, ParsesBothFamilies) {
  auto a = SocketAddress::parse("10.0.0.1:5000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port(), 5000);
  EXPECT_EQ(a->to_string(), "10.0.0.1:5000");
  auto b = SocketAddress::parse("[2001:db8::2]:443");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->family(), IpFamily::kV6);
  EXPECT_EQ(b->to_string(), "[2001:db8::2]:443");
}

TEST(SocketAddress, RejectsMalformed) {
  for (const char* bad :
       {"10.0.0.1", "10.0.0.1:", "10.0.0.1:65536", "10.0.0.1:-1", ":80", "::1:80", "[::1]80",
        "[::1]:", "[10.0.0.1]:80", "[::1:80", "10.0.0.1:80x", "host:80"}) {
    EXPECT_FALSE(SocketAddress::parse(bad)) << bad;
  }
}

TEST(SocketAddress, OrdersAndHashes) {
  const auto a = *SocketAddress::parse("1.1.1.1:1");
  const auto b = *SocketAddress::parse("1.1.1.1:2");
  EXPECT_LT(a, b);
  std::unordered_set<SocketAddress, SocketAddressHash> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace rtcpp
