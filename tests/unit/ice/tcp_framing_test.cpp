#include "ice/tcp_framing.hpp"

#include <gtest/gtest.h>

namespace rtcpp::ice {
namespace {

TEST(Rfc4571, FramePrefixesTheLengthBigEndian) {
  auto framed = frame_rfc4571(Buffer{1, 2, 3});
  ASSERT_TRUE(framed);
  EXPECT_TRUE(equal_bytes(*framed, Buffer{0, 3, 1, 2, 3}));
  auto empty = frame_rfc4571({});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(equal_bytes(*empty, Buffer{0, 0}));
  EXPECT_FALSE(frame_rfc4571(Buffer(65536)));
  auto largest = frame_rfc4571(Buffer(65535));
  ASSERT_TRUE(largest);
  EXPECT_EQ((*largest)[0], 0xFF);
  EXPECT_EQ((*largest)[1], 0xFF);
}

TEST(Rfc4571, DeframesPacketsSplitAndJoinedAnyWay) {
  Buffer stream;
  for (std::size_t n : {5u, 0u, 1200u, 1u}) {
    Buffer packet(n);
    for (std::size_t i = 0; i < n; ++i) packet[i] = static_cast<std::uint8_t>(n + i);
    stream.append(*frame_rfc4571(packet));
  }
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 1000u, 100000u}) {
    Rfc4571Deframer deframer;
    std::vector<std::size_t> sizes;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      const std::size_t n = std::min(chunk, stream.size() - at);
      ASSERT_TRUE(deframer.push(BytesView(stream.data() + at, n)));
      while (auto packet = deframer.next()) {
        if (!packet->empty()) {
          EXPECT_EQ((*packet)[0], static_cast<std::uint8_t>(packet->size()));
        }
        sizes.push_back(packet->size());
      }
    }
    EXPECT_EQ(sizes, (std::vector<std::size_t>{5, 0, 1200, 1})) << "chunk " << chunk;
    EXPECT_EQ(deframer.buffered(), 0u);
  }
}

TEST(Rfc4571, AnOversizedLengthFailsBeforeItsBodyArrives) {
  Rfc4571Deframer deframer(1500);
  EXPECT_TRUE(deframer.push(Buffer{0x05}));   // half a length: nothing to judge yet
  EXPECT_FALSE(deframer.push(Buffer{0xDD}));  // 0x05DD = 1501 > 1500
  EXPECT_TRUE(deframer.failed());
  EXPECT_EQ(deframer.buffered(), 0u);
  EXPECT_FALSE(deframer.push(Buffer{0, 1, 42}));  // failed for good
  EXPECT_FALSE(deframer.next());
}

TEST(Rfc4571, AnOversizedLengthBehindAGoodPacketFailsTheStream) {
  Rfc4571Deframer deframer(100);
  Buffer bytes = *frame_rfc4571(Buffer{7, 7});
  bytes.append(Buffer{0xFF, 0xFF, 1, 2, 3});
  EXPECT_FALSE(deframer.push(bytes));
  EXPECT_FALSE(deframer.next());
}

TEST(Rfc4571, TheLimitIsAtMostWhatTheLengthFieldHolds) {
  Rfc4571Deframer deframer(1 << 20);
  Buffer packet(65535);
  EXPECT_TRUE(deframer.push(*frame_rfc4571(packet)));
  auto out = deframer.next();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->size(), 65535u);
}

}  // namespace
}  // namespace rtcpp::ice
