// Storage for packet-sized and message-sized buffers, recycled per thread: a datagram read,
// decrypted, queued and sent is a few Buffers made and dropped per packet, and taking their
// bytes from a free list instead of the heap keeps the steady-state data path free of
// allocations.
#pragma once

#include <cstddef>
#include <new>

namespace rtcpp {

namespace packet_pool {

// Packet blocks of 64 to 2048 bytes; at most kMaxFreePerSize free ones of each size are kept
// per thread (2 MiB in all, at most).
inline constexpr std::size_t kLargestBlock = 2048;
inline constexpr std::size_t kMaxFreePerSize = 256;
// Message blocks beyond that, up to 256 KiB (a data channel message reassembled, or queued to
// send): glibc gives memory that size back to the kernel as soon as it is freed (madvise, and
// a TLB shootdown on each thread), which cost a bulk transfer a tenth of its time. At most
// kMaxFreeMessageBytes of free message blocks are kept per thread (enough for a window of
// delivered 64 KiB messages); larger requests go to the heap.
inline constexpr std::size_t kLargestPooled = std::size_t{256} * 1024;
inline constexpr std::size_t kMaxFreeMessageBytes = std::size_t{4} * 1024 * 1024;

// A block of at least `bytes` from this thread's free list, else the heap (always the heap
// beyond kLargestPooled).
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

  T* allocate(std::size_t n) { return static_cast<T*>(packet_pool::take(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { packet_pool::give(p, n * sizeof(T)); }
  friend bool operator==(const PacketAllocator&, const PacketAllocator&) noexcept { return true; }
};

}  // namespace rtcpp
