// The state of an ICE restart (RFC 8445 9) on its own: its two halves and the path kept.
#include "ice/restart.hpp"

#include <gtest/gtest.h>

namespace rtcpp::ice {
namespace {

PreviousPath path() {
  RemoteCandidate remote{*Candidate::parse("candidate:1 1 udp 1 10.0.0.2 6000 typ host"),
                         *SocketAddress::parse("10.0.0.2:6000")};
  return {3, remote, {"old1", "old-password-0123456789"}, {"old2", "old-password-9876543210"}};
}

TEST(IceRestart, ChecksWaitForBothSidesNewCredentials) {
  for (const bool local_first : {true, false}) {
    IceRestart restart;
    EXPECT_FALSE(restart.in_progress());
    EXPECT_TRUE(restart.checks_allowed());
    ASSERT_TRUE(restart.begin());
    EXPECT_TRUE(restart.in_progress());
    EXPECT_FALSE(restart.checks_allowed());
    if (local_first) {
      restart.local_changed();
      EXPECT_TRUE(restart.has_local_changed());
      EXPECT_FALSE(restart.has_remote_changed());
    } else {
      restart.remote_changed();
      EXPECT_TRUE(restart.has_remote_changed());
      EXPECT_FALSE(restart.has_local_changed());
    }
    EXPECT_FALSE(restart.checks_allowed());
    if (local_first) {
      restart.remote_changed();
    } else {
      restart.local_changed();
    }
    EXPECT_TRUE(restart.checks_allowed());
    EXPECT_TRUE(restart.in_progress());  // until a new pair is selected
  }
}

TEST(IceRestart, ASecondBeginJoinsTheRestartInProgress) {
  IceRestart restart;
  ASSERT_TRUE(restart.begin());
  restart.local_changed();
  restart.keep_previous_path(path());
  EXPECT_FALSE(restart.begin());
  EXPECT_TRUE(restart.has_local_changed());
  EXPECT_TRUE(restart.previous_path());
}

TEST(IceRestart, ThePreviousPathIsKeptUntilANewPairIsSelected) {
  IceRestart restart;
  restart.begin();
  restart.keep_previous_path(path());
  ASSERT_TRUE(restart.previous_path());
  EXPECT_EQ(restart.previous_path()->local, 3u);
  EXPECT_EQ(restart.previous_path()->remote.address, *SocketAddress::parse("10.0.0.2:6000"));
  EXPECT_EQ(restart.previous_path()->local_credentials.ufrag, "old1");
  restart.finish();
  EXPECT_FALSE(restart.in_progress());
  EXPECT_FALSE(restart.previous_path());
  EXPECT_TRUE(restart.checks_allowed());
  // The next restart starts without one.
  restart.begin();
  EXPECT_FALSE(restart.previous_path());
  EXPECT_FALSE(restart.has_local_changed());
}

}  // namespace
}  // namespace rtcpp::ice
