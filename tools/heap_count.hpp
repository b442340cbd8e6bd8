// Heap allocations made so far by this process, where the program counts them: only
// `rtcpp-counted` (bench/counting_malloc.cpp) does; in `rtcpp` the answer is nullopt.
#pragma once

#include <cstdint>
#include <optional>

extern "C" std::uint64_t rtcpp_counted_heap_allocations() noexcept __attribute__((weak));

namespace rtcpp::tools {

inline std::optional<std::uint64_t> heap_allocations() noexcept {
  if (rtcpp_counted_heap_allocations == nullptr) return std::nullopt;
  return rtcpp_counted_heap_allocations();
}

}  // namespace rtcpp::tools
