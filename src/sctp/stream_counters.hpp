// Per-stream 16-bit counters (SSNs).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtcpp::sctp {

// 16-bit counters (SSNs) for `size()` streams, stored only up to the highest stream touched:
// WebRTC numbers its channels upward from 0, and a vector of all 65535 negotiated streams
// would cost 128 KiB per direction in every association, idle or not.
class StreamCounters {
 public:
  // `count` streams, every counter at zero.
  void reset(std::size_t count) {
    count_ = count;
    std::fill(values_.begin(), values_.end(), std::uint16_t{0});
  }
  void zero_all() { std::fill(values_.begin(), values_.end(), std::uint16_t{0}); }
  std::size_t size() const noexcept { return count_; }
  // The counter of `stream` (below size()), stored from its first use.
  std::uint16_t& operator[](std::uint16_t stream) {
    if (stream >= values_.size()) values_.resize(std::size_t{stream} + 1, 0);
    return values_[stream];
  }

 private:
  std::size_t count_ = 0;
  std::vector<std::uint16_t> values_;
};

}  // namespace rtcpp::sctp
