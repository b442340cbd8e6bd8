// Waits on the wall clock for something another thread (an rtcpp event loop) brings about.
#pragma once

#include <chrono>
#include <thread>

namespace rtcpp::test_support {

// Polls `pred` every 2 ms until it holds or `limit` passes; returns its last value.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

}  // namespace rtcpp::test_support
