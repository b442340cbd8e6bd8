// Storage for packet-sized buffers, recycled per thread: a datagram read, decrypted, queued and
// sent is a few Buffers made and dropped per packet, and taking their bytes from a free list
// instead of the heap keeps the steady-state data path free of allocations.
#pragma once

#include <cstddef>
#include <new>

namespace rtcpp {

namespace packet_pool {

// Blocks of 64 to 2048 bytes; larger requests go to the heap.
inline constexpr std::size_t kLargestBlock = 2048;
// At most this many free blocks of each size are kept per thread (2 MiB in all, at most).
inline constexpr std::size_t kMaxFreePerSize = 256;

// A block of at least `bytes` (1 to kLargestBlock) from this thread's free list, else the heap.
void* take(std::size_t bytes);
// Returns a block take(bytes) gave, with the same `bytes`, on any thread.
void give(void* block, std::size_t bytes) noexcept;
// False under AddressSanitizer, where every block comes from the heap and goes back to it, so
// that a use after free is caught.
bool pooling() noexcept;

}  // namespace packet_pool

// A standard allocator over the packet pool, for byte containers.
template <typename T>
struct PacketAllocator {
  using value_type = T;
  PacketAllocator() noexcept = default;
  template <typename U>
  PacketAllocator(const PacketAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes <= packet_pool::kLargestBlock) return static_cast<T*>(packet_pool::take(bytes));
    return static_cast<T*>(::operator new(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes <= packet_pool::kLargestBlock) {
      packet_pool::give(p, bytes);
    } else {
      ::operator delete(p);
    }
  }
  friend bool operator==(const PacketAllocator&, const PacketAllocator&) noexcept { return true; }
};

}  // namespace rtcpp
