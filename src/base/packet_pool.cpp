#include "base/packet_pool.hpp"

#include <array>
#include <bit>
#include <cstdint>

namespace rtcpp::packet_pool {

namespace {

// Block sizes in steps of 1.5x and 2x (64, 96, 128, 192, ... 1536, 2048, 3072, ... 256 Ki), so
// that a buffer that stays (a handshake flight kept for retransmission, a message queued to
// send) wastes at most a third of its block.
constexpr std::size_t kSmallestBlock = 64;
constexpr std::size_t kSizes = 25;
constexpr std::size_t kSmallSizes = 11;  // up to kLargestBlock

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPooling = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kPooling = false;
#else
constexpr bool kPooling = true;
#endif
#else
constexpr bool kPooling = true;
#endif

constexpr std::size_t size_index(std::size_t bytes) noexcept {
  if (bytes <= kSmallestBlock) return 0;
  // 2^(width - 1) < bytes <= 2^width: the block is 1.5 * 2^(width - 1) or 2^width.
  const auto width = static_cast<std::size_t>(std::bit_width(bytes - 1));
  const std::size_t three_quarters = std::size_t{3} << (width - 2);
  return 2 * (width - 7) + (bytes <= three_quarters ? 1 : 2);
}

constexpr std::size_t block_size(std::size_t index) noexcept {
  if (index % 2 == 1) return std::size_t{96} << ((index - 1) / 2);
  return kSmallestBlock << (index / 2);
}

static_assert(block_size(kSmallSizes - 1) == kLargestBlock);
static_assert(block_size(kSizes - 1) == kLargestPooled);

struct FreeBlock {
  FreeBlock* next;
};

struct ThreadPool {
  std::array<FreeBlock*, kSizes> heads{};
  std::array<std::size_t, kSizes> counts{};
  std::size_t free_message_bytes = 0;  // in the blocks beyond kLargestBlock
  ~ThreadPool();
};

// Set when this thread's pool is gone (thread exit): blocks freed after that go to the heap.
// Trivially destructible, so it can be read at any point of the thread's end.
thread_local bool pool_gone = false;
thread_local ThreadPool pool;

ThreadPool::~ThreadPool() {
  pool_gone = true;
  for (FreeBlock*& head : heads) {
    while (head != nullptr) {
      FreeBlock* next = head->next;
      ::operator delete(head);
      head = next;
    }
  }
}

}  // namespace

void* take(std::size_t bytes) {
  if (bytes > kLargestPooled) return ::operator new(bytes);
  const std::size_t index = size_index(bytes);
  if (kPooling && !pool_gone) {
    if (FreeBlock* block = pool.heads[index]) {
      pool.heads[index] = block->next;
      --pool.counts[index];
      if (index >= kSmallSizes) pool.free_message_bytes -= block_size(index);
      return block;
    }
  }
  return ::operator new(block_size(index));
}

void give(void* block, std::size_t bytes) noexcept {
  if (block == nullptr) return;
  if (bytes > kLargestPooled) {
    ::operator delete(block);
    return;
  }
  const std::size_t index = size_index(bytes);
  const bool keep = index < kSmallSizes
                        ? pool.counts[index] < kMaxFreePerSize
                        : pool.free_message_bytes + block_size(index) <= kMaxFreeMessageBytes;
  if (!kPooling || pool_gone || !keep) {
    ::operator delete(block);
    return;
  }
  auto* free_block = static_cast<FreeBlock*>(block);
  free_block->next = pool.heads[index];
  pool.heads[index] = free_block;
  ++pool.counts[index];
  if (index >= kSmallSizes) pool.free_message_bytes += block_size(index);
}

bool pooling() noexcept {
  return kPooling;
}

}  // namespace rtcpp::packet_pool
