// Reads one of the SDP files in tests/data/sdp/ (real descriptions from other stacks).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sdp/session_description.hpp"

namespace rtcpp::test_support {

inline sdp::SessionDescription sdp_fixture(const std::string& name) {
  std::ifstream in(std::string(RTCPP_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  auto sd = sdp::SessionDescription::parse(s.str());
  EXPECT_TRUE(sd) << name;
  return sd ? *sd : sdp::SessionDescription{};
}

}  // namespace rtcpp::test_support
