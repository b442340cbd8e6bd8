// Heap allocations made so far by this program: allocation_counter.cpp replaces the global
// operator new to count them, for the benchmarks' allocations-per-packet counters.
#pragma once

#include <cstdint>

namespace rtcpp::bench {

std::uint64_t heap_allocations() noexcept;

}  // namespace rtcpp::bench
