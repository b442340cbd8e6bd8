// The ICE vocabulary: credentials and the names of roles and states.
#include "ice/types.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace rtcpp::ice {
namespace {

bool ice_chars(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

TEST(IceCredentials, RandomOnesAreLongEnoughIceChars) {
  SeededRandom rng(1);
  const IceCredentials a = IceCredentials::random(rng);
  const IceCredentials b = IceCredentials::random(rng);
  // RFC 8839 5.4: at least 4 and 22 ice-chars (24 bits and 128 bits of randomness).
  EXPECT_EQ(a.ufrag.size(), 8u);
  EXPECT_EQ(a.pwd.size(), 24u);
  EXPECT_TRUE(ice_chars(a.ufrag) && ice_chars(a.pwd));
  EXPECT_NE(a.ufrag, b.ufrag);
  EXPECT_NE(a.pwd, b.pwd);
}

TEST(IceTypes, RolesAndStatesHaveTheirW3cNames) {
  EXPECT_EQ(to_string(IceRole::kControlling), "controlling");
  EXPECT_EQ(other_role(IceRole::kControlling), IceRole::kControlled);
  EXPECT_EQ(other_role(IceRole::kControlled), IceRole::kControlling);
  EXPECT_EQ(to_string(IceTransportState::kDisconnected), "disconnected");
  EXPECT_EQ(to_string(IceGatheringState::kComplete), "complete");
}

}  // namespace
}  // namespace rtcpp::ice
