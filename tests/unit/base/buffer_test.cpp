// Buffer's own storage (from the packet pool): copies, moves, growth, and views of itself.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "base/bytes.hpp"
#include "base/packet_pool.hpp"

namespace rtcpp {
namespace {

Buffer counting(std::size_t size) {
  Buffer b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(i);
  return b;
}

TEST(Buffer, SizedBuffersAndGrowthAreZeroFilled) {
  Buffer b(5);
  EXPECT_EQ(b, (Buffer{0, 0, 0, 0, 0}));
  b[0] = 7;
  b.resize(3000);  // past the largest pooled block
  EXPECT_EQ(b[0], 7);
  for (std::size_t i = 1; i < b.size(); ++i) ASSERT_EQ(b[i], 0) << i;
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_GE(b.capacity(), 3000u);
  b.resize(10);  // the bytes left from before are zeroed again
  for (std::size_t i = 0; i < b.size(); ++i) ASSERT_EQ(b[i], 0) << i;
}

TEST(Buffer, CopiesAreDeepAndMovesLeaveAnEmptyBuffer) {
  Buffer a = counting(1200);
  Buffer copy = a;
  copy[0] = 99;
  EXPECT_EQ(a[0], 0);
  Buffer moved = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is defined
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(moved, counting(1200));
  moved = copy;
  EXPECT_EQ(moved, copy);
  moved = std::move(copy);
  EXPECT_EQ(moved[0], 99);
  moved = moved;  // NOLINT: self-assignment keeps the contents
  EXPECT_EQ(moved.size(), 1200u);
}

TEST(Buffer, AppendAndAssignTakeViewsOfTheBufferItself) {
  Buffer b = counting(100);
  b.append(b.view());  // grows: the source is copied before the old storage goes
  ASSERT_EQ(b.size(), 200u);
  for (std::size_t i = 0; i < 200; ++i) ASSERT_EQ(b[i], static_cast<std::uint8_t>(i % 100)) << i;
  b.reserve(1000);
  b.append(b.view().first(50));  // within the capacity
  EXPECT_EQ(b.size(), 250u);
  EXPECT_EQ(b[249], 49);
  b.assign(b.view().subspan(10, 20));  // overlapping, shrinking
  EXPECT_EQ(b, Buffer(counting(100).view().subspan(10, 20)));
}

TEST(Buffer, GrowingAFieldAtATimeDoublesTheCapacity) {
  Buffer b(8);
  EXPECT_EQ(b.capacity(), 8u);  // a sized buffer takes what it needs
  std::size_t reallocations = 0;
  for (std::size_t size = 9; size <= 4096; ++size) {
    const std::size_t before = b.capacity();
    b.resize(size);
    if (b.capacity() != before) ++reallocations;
  }
  EXPECT_LE(reallocations, 10u);
}

TEST(Buffer, PushBackAndIterationCoverTheBytes) {
  Buffer b;
  for (int i = 0; i < 5000; ++i) b.push_back(static_cast<std::uint8_t>(i));
  EXPECT_EQ(b.size(), 5000u);
  const std::vector<std::uint8_t> copy(b.begin(), b.end());
  ASSERT_EQ(copy.size(), 5000u);
  EXPECT_EQ(copy[4999], static_cast<std::uint8_t>(4999));
}

TEST(PacketPool, AFreedBlockIsTakenAgainByItsSize) {
  void* first = packet_pool::take(1200);
  packet_pool::give(first, 1200);
  // 1025 to 1536 bytes share one block size: the freed block comes back (not under ASan,
  // which gives every buffer its own heap block); 1537 bytes take a bigger one.
  void* bigger = packet_pool::take(1537);
  void* again = packet_pool::take(1536);
  if (packet_pool::pooling()) {
    EXPECT_EQ(again, first);
    EXPECT_NE(bigger, first);
  }
  // Every size up to the largest block gets a block it fits in (ASan checks the writes).
  for (std::size_t bytes = 1; bytes <= packet_pool::kLargestBlock; ++bytes) {
    auto* block = static_cast<std::uint8_t*>(packet_pool::take(bytes));
    block[0] = 1;
    block[bytes - 1] = 1;
    packet_pool::give(block, bytes);
  }
  packet_pool::give(again, 1536);
  packet_pool::give(bigger, 1537);
}

TEST(PacketPool, AFreedMessageBlockIsTakenAgainBySize) {
  // A message-sized block (a 64 KiB data channel message) goes back to this thread's list,
  // not to glibc, which would return its pages to the kernel at once.
  void* first = packet_pool::take(65536);
  packet_pool::give(first, 65536);
  void* again = packet_pool::take(49153);  // 48 Ki + 1 to 64 Ki share the block
  if (packet_pool::pooling()) {
    EXPECT_EQ(again, first);
  }
  packet_pool::give(again, 49153);
  // Sizes across the message blocks, and beyond the largest, get blocks they fit in.
  for (std::size_t bytes = packet_pool::kLargestBlock; bytes <= packet_pool::kLargestPooled + 4096;
       bytes += 509) {
    auto* block = static_cast<std::uint8_t*>(packet_pool::take(bytes));
    block[0] = 1;
    block[bytes - 1] = 1;
    packet_pool::give(block, bytes);
  }
}

TEST(PacketPool, BlocksMayBeFreedOnAnotherThread) {
  std::vector<Buffer> made;
  for (int i = 0; i < 1000; ++i) made.push_back(counting(1500));
  std::thread([moved = std::move(made)]() mutable { moved.clear(); }).join();
  // And a thread that ends frees the blocks it kept.
  std::thread([] {
    std::vector<Buffer> local;
    for (int i = 0; i < 100; ++i) local.push_back(counting(700));
  }).join();
  EXPECT_EQ(counting(1500).size(), 1500u);
}

}  // namespace
}  // namespace rtcpp
