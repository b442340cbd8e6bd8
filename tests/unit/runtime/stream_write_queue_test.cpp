#include "runtime/stream_write_queue.hpp"

#include <gtest/gtest.h>

namespace rtcpp::runtime {
namespace {

Buffer bytes(std::size_t n, std::uint8_t value) {
  Buffer b(n);
  for (auto& byte : b) byte = value;
  return b;
}

TEST(StreamWriteQueue, WritesBuffersInOrderAcrossPartialWrites) {
  StreamWriteQueue queue(100);
  EXPECT_TRUE(queue.empty());
  ASSERT_TRUE(queue.push(bytes(10, 1)));
  ASSERT_TRUE(queue.push(bytes(5, 2)));
  EXPECT_EQ(queue.pending().size(), 10u);
  queue.consume(4);  // the socket took part of the first buffer
  EXPECT_EQ(queue.pending().size(), 6u);
  EXPECT_EQ(queue.pending()[0], 1);
  queue.consume(6);
  EXPECT_EQ(queue.pending().size(), 5u);
  EXPECT_EQ(queue.pending()[0], 2);
  queue.consume(5);
  EXPECT_TRUE(queue.empty());
}

TEST(StreamWriteQueue, RefusesWhatPassesTheLimitAndFreesRoomAsItDrains) {
  StreamWriteQueue queue(16);
  ASSERT_TRUE(queue.push(bytes(10, 1)));
  EXPECT_FALSE(queue.push(bytes(7, 2)));  // 17 > 16: refused whole
  ASSERT_TRUE(queue.push(bytes(6, 3)));   // exactly the limit
  EXPECT_FALSE(queue.push(bytes(1, 4)));
  queue.consume(10);
  EXPECT_TRUE(queue.push(bytes(10, 5)));
  queue.clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_TRUE(queue.push(bytes(16, 6)));
}

}  // namespace
}  // namespace rtcpp::runtime
