// How the public API runs operations and calls user code: the operations chain keeps call
// order across the future and callback forms and across threads, an open event reaches a
// handler set just after create_data_channel, and a handler that throws harms nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/eventually.hpp"
#include "common/signaling.hpp"
#include "rtcpp/rtcpp.hpp"

namespace rtcpp {
namespace {

using namespace std::chrono_literals;
using test_support::eventually;

using test_support::make_pc;

// The session version of an SDP (the third field of o=): each description a connection
// makes has a higher one, so it tells the order in which operations ran.
std::uint64_t session_version(const std::string& sdp) {
  const auto o = sdp.find("o=");
  std::size_t at = o;
  for (int field = 0; field < 2; ++field) at = sdp.find(' ', at) + 1;
  return std::stoull(sdp.substr(at, sdp.find(' ', at) - at));
}

// Connects two connections without trickle: each description is sent once gathering is
// complete, with its candidates in it.
void connect(RTCPeerConnection& a, RTCPeerConnection& b) {
  auto gathered = [](RTCPeerConnection& pc) {
    return eventually([&] { return pc.ice_gathering_state() == RTCIceGatheringState::kComplete; });
  };
  ASSERT_TRUE(a.set_local_description().get());
  ASSERT_TRUE(gathered(a));
  ASSERT_TRUE(b.set_remote_description(*a.local_description()).get());
  ASSERT_TRUE(b.set_local_description().get());
  ASSERT_TRUE(gathered(b));
  ASSERT_TRUE(a.set_remote_description(*b.local_description()).get());
}

// On the loop thread (inside a callback) a callback-form operation followed by a future-form
// one: the chain runs them in that order, and the future is ready at once.
TEST(Operations, CallOrderHoldsAcrossFormsOnTheLoopThread) {
  auto pc = make_pc();
  std::promise<std::pair<std::uint64_t, std::uint64_t>> versions;
  pc->create_offer([&](Result<RTCSessionDescriptionInit> first) {
    ASSERT_TRUE(first);
    auto callback_version = std::make_shared<std::uint64_t>(0);
    pc->create_offer([callback_version](Result<RTCSessionDescriptionInit> offer) {
      ASSERT_TRUE(offer);
      *callback_version = session_version(offer->sdp);
    });
    auto future = pc->create_offer();
    ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
    auto offer = future.get();
    ASSERT_TRUE(offer);
    // The callback form ran first: its result is waiting in a task, so read its version
    // from the next operation's callback, which runs after it.
    const std::uint64_t future_version = session_version(offer->sdp);
    pc->get_stats([&versions, callback_version, future_version](const RTCStatsReport&) {
      versions.set_value({*callback_version, future_version});
    });
  });
  auto ready = versions.get_future();
  ASSERT_EQ(ready.wait_for(5s), std::future_status::ready);
  const auto [callback_version, future_version] = ready.get();
  EXPECT_LT(callback_version, future_version);
}

// The same from threads of the application: a remote offer applied in the callback form and
// the answer asked for in the future form right after, on another thread each.
TEST(Operations, CallOrderHoldsAcrossFormsAndThreads) {
  auto offerer = make_pc();
  auto answerer = make_pc();
  ASSERT_TRUE(offerer->create_data_channel("order"));
  auto offer = offerer->create_offer().get();
  ASSERT_TRUE(offer);
  std::promise<Result<>> applied;
  std::thread([&] {
    answerer->set_remote_description(*offer, [&](Result<> r) { applied.set_value(r); });
  }).join();
  auto answer = std::async(std::launch::async, [&] { return answerer->create_answer().get(); });
  auto answered = answer.get();
  EXPECT_TRUE(answered) << answered.error().to_string();
  EXPECT_TRUE(applied.get_future().get());

  // Many operations from two threads, alternating forms: they ran in the order of the
  // calls, which a mutex makes known.
  auto pc = make_pc();
  std::mutex mutex;
  std::vector<std::pair<int, std::uint64_t>> ran;  // (call number, session version)
  std::vector<std::future<Result<RTCSessionDescriptionInit>>> futures;
  std::vector<int> future_calls;
  int calls = 0;
  std::atomic<int> callbacks{0};
  auto caller = [&](bool callback_form) {
    for (int i = 0; i < 20; ++i) {
      std::lock_guard lock(mutex);
      const int call = calls++;
      if (callback_form) {
        pc->create_offer([&, call](Result<RTCSessionDescriptionInit> o) {
          std::lock_guard inner(mutex);
          ran.emplace_back(call, session_version(o->sdp));
          ++callbacks;
        });
      } else {
        futures.push_back(pc->create_offer());
        future_calls.push_back(call);
      }
    }
  };
  std::thread t1(caller, true);
  std::thread t2(caller, false);
  t1.join();
  t2.join();
  for (std::size_t i = 0; i < futures.size(); ++i) {
    auto o = futures[i].get();
    ASSERT_TRUE(o);
    std::lock_guard lock(mutex);
    ran.emplace_back(future_calls[i], session_version(o->sdp));
  }
  ASSERT_TRUE(eventually([&] { return callbacks == 20; }));
  std::lock_guard lock(mutex);
  ASSERT_EQ(ran.size(), 40u);
  std::sort(ran.begin(), ran.end());
  for (std::size_t i = 1; i < ran.size(); ++i)
    EXPECT_LT(ran[i - 1].second, ran[i].second) << "call " << ran[i].first;
}

// A channel made on a connected connection, its open handler set from the application's
// thread a little later: the open event waits for the handler instead of being lost.
TEST(Operations, OpenReachesAHandlerSetAfterCreateDataChannel) {
  auto a = make_pc();
  auto b = make_pc();
  ASSERT_TRUE(a->create_data_channel("first"));
  connect(*a, *b);
  ASSERT_TRUE(
      eventually([&] { return a->connection_state() == RTCPeerConnectionState::kConnected; }));
  auto channel = a->create_data_channel("late");
  ASSERT_TRUE(channel);
  // Long enough for the loop to have run the open event's task.
  ASSERT_TRUE(eventually([&] { return (*channel)->ready_state() == RTCDataChannelState::kOpen; }));
  std::this_thread::sleep_for(50ms);
  std::atomic<int> opened{0};
  (*channel)->on_open([&] { ++opened; });
  EXPECT_TRUE(eventually([&] { return opened == 1; }));
  // Once delivered it is not delivered again to a later handler.
  std::atomic<int> again{0};
  (*channel)->on_open([&] { ++again; });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(again, 0);
  EXPECT_EQ(opened, 1);
  a->close();
  b->close();
}

// W3C 6.2.2: a channel made on a connected connection is connecting until the task that
// fires its open event, so code in the same task (here a callback on the loop thread) never
// sees it open early.
TEST(Operations, AChannelReadsConnectingUntilItsOpenEvent) {
  auto a = make_pc();
  auto b = make_pc();
  ASSERT_TRUE(a->create_data_channel("first"));
  connect(*a, *b);
  ASSERT_TRUE(
      eventually([&] { return a->connection_state() == RTCPeerConnectionState::kConnected; }));
  std::promise<std::pair<RTCDataChannelState, std::shared_ptr<RTCDataChannel>>> made;
  a->get_stats([&](RTCStatsReport) {
    auto channel = a->create_data_channel("late");
    made.set_value({channel ? (*channel)->ready_state() : RTCDataChannelState::kClosed,
                    channel ? *channel : nullptr});
  });
  auto [state, channel] = made.get_future().get();
  ASSERT_TRUE(channel);
  EXPECT_EQ(state, RTCDataChannelState::kConnecting);
  EXPECT_TRUE(eventually([&] { return channel->ready_state() == RTCDataChannelState::kOpen; }));
  a->close();
  b->close();
}

// Handlers that throw: the exception is logged, the loop goes on, and the connection keeps
// working (later events, other connections, operations).
TEST(Operations, AThrowingHandlerLeavesTheConnectionWorking) {
  auto a = make_pc();
  auto b = make_pc();
  auto channel = a->create_data_channel("throws");
  ASSERT_TRUE(channel);
  std::atomic<int> received{0};
  std::shared_ptr<RTCDataChannel> remote;
  std::mutex mutex;
  b->on_data_channel([&](std::shared_ptr<RTCDataChannel> c) {
    {
      std::lock_guard lock(mutex);
      remote = c;
    }
    c->on_message([&](const RTCMessageEvent&) {
      ++received;
      throw std::runtime_error("a handler that throws on every message");
    });
    throw std::logic_error("a datachannel handler that throws");
  });
  a->on_connection_state_change([] { throw 42; });
  std::atomic<bool> opened{false};
  (*channel)->on_open([&] { opened = true; });
  connect(*a, *b);
  ASSERT_TRUE(eventually([&] { return opened.load(); }));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*channel)->send("message " + std::to_string(i)));
  EXPECT_TRUE(eventually([&] { return received == 5; }));
  // An operation callback that throws does not stop the next operation.
  std::promise<bool> stats;
  a->get_stats([](const RTCStatsReport&) { throw std::runtime_error("a callback that throws"); });
  a->get_stats([&](const RTCStatsReport& report) { stats.set_value(report.size() > 0); });
  auto got = stats.get_future();
  ASSERT_EQ(got.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(got.get());
  EXPECT_EQ(a->connection_state(), RTCPeerConnectionState::kConnected);
  ASSERT_TRUE((*channel)->send("after"));
  EXPECT_TRUE(eventually([&] { return received == 6; }));
  a->close();
  b->close();
}

}  // namespace
}  // namespace rtcpp
