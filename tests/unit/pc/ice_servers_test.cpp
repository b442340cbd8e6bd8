#include "pc/ice_servers.hpp"

#include <gtest/gtest.h>

namespace rtcpp::pc {
namespace {

TEST(IceServerUrl, ReadsSchemesHostsPortsAndTransports) {
  auto stun = parse_ice_server_url("stun:stun.example.org:19302");
  ASSERT_TRUE(stun);
  EXPECT_EQ(stun->scheme, "stun");
  EXPECT_EQ(stun->host, "stun.example.org");
  EXPECT_EQ(stun->port, 19302);
  auto turns = parse_ice_server_url("turns:[2001:db8::1]?transport=tcp");
  ASSERT_TRUE(turns);
  EXPECT_EQ(turns->host, "2001:db8::1");
  EXPECT_EQ(turns->port, 5349);
  EXPECT_EQ(turns->transport, "tcp");
  auto turn = parse_ice_server_url("turn:192.0.2.1:3479?transport=udp");
  ASSERT_TRUE(turn);
  EXPECT_EQ(turn->host, "192.0.2.1");
  EXPECT_EQ(turn->port, 3479);
}

// Found by the ice_server_url fuzz target: "turn:1::[]:3478" read as host "1::[]", which no
// URL can name again (in brackets or not) and which would have gone to the resolver.
TEST(IceServerUrl, RefusesHostsThatAreNotNamesOrAddresses) {
  for (const char* url :
       {"turn:1::[]:3478", "stun:a]:b:1", "stun:::1", "stun:::1:3478", "stun:host name",
        "stun:host\tname:1", "stun:ho%73t", "stun:[example.org]", "stun:[192.0.2.1]:1",
        "stun:[fe80::1%25eth0]", "stun:x[y:1"}) {
    EXPECT_FALSE(parse_ice_server_url(url)) << url;
  }
  EXPECT_FALSE(parse_ice_server_url(std::string("stun:evil\0.example", 18)));
  EXPECT_FALSE(parse_ice_server_url("stun:" + std::string(256, 'a')));
  EXPECT_TRUE(parse_ice_server_url("stun:" + std::string(255, 'a')));
  EXPECT_TRUE(parse_ice_server_url("stun:[::1]:1"));
  EXPECT_TRUE(parse_ice_server_url("stun:my_host-1.example:1"));
}

TEST(IceServerUrl, ValidatesAServer) {
  EXPECT_FALSE(validate_ice_server({}, "u", "p"));
  EXPECT_TRUE(validate_ice_server({"stun:192.0.2.1", "turn:192.0.2.1"}, "u", "p"));
  auto no_credential = validate_ice_server({"stun:192.0.2.1", "turn:192.0.2.1"}, "u", "");
  ASSERT_FALSE(no_credential);
  EXPECT_EQ(no_credential.error().type(), RTCErrorType::kInvalidAccessError);
  EXPECT_TRUE(validate_ice_server({"stun:192.0.2.1"}, "", ""));
}

}  // namespace
}  // namespace rtcpp::pc
