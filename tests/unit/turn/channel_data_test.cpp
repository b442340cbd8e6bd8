#include "turn/channel_data.hpp"

#include <gtest/gtest.h>

namespace rtcpp::turn {
namespace {

TEST(ChannelData, RoundTripWithoutPadding) {
  const Buffer data{1, 2, 3, 4, 5};
  const Buffer wire = build_channel_data(0x4001, data, false);
  ASSERT_EQ(wire.size(), 9u);
  EXPECT_EQ(wire[0], 0x40);
  EXPECT_EQ(wire[1], 0x01);
  EXPECT_EQ(wire[3], 5);
  EXPECT_TRUE(looks_like_channel_data(wire));
  auto parsed = parse_channel_data(wire);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->channel, 0x4001);
  EXPECT_TRUE(equal_bytes(parsed->data, data));
}

TEST(ChannelData, StreamPaddingToFourBytes) {
  const Buffer data{9, 8, 7, 6, 5};
  const Buffer wire = build_channel_data(0x4FFF, data, true);
  ASSERT_EQ(wire.size(), 12u);
  EXPECT_EQ(wire[9], 0);
  EXPECT_EQ(wire[11], 0);
  auto parsed = parse_channel_data(wire);  // padding accepted
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->data.size(), 5u);
  auto frame = stream_frame_length(wire);
  ASSERT_TRUE(frame);
  EXPECT_EQ(*frame, 12u);
  const Buffer empty = build_channel_data(0x4000, {}, true);
  EXPECT_EQ(empty.size(), 4u);
  ASSERT_TRUE(parse_channel_data(empty));
  EXPECT_TRUE(parse_channel_data(empty)->data.empty());
}

TEST(ChannelData, RejectsMalformed) {
  EXPECT_EQ(parse_channel_data(Buffer{0x40, 0x00, 0x00}).error(), ChannelDataError::kTooShort);
  EXPECT_EQ(parse_channel_data(Buffer{0x3F, 0xFF, 0x00, 0x00}).error(),
            ChannelDataError::kBadChannel);
  EXPECT_EQ(parse_channel_data(Buffer{0x50, 0x00, 0x00, 0x00}).error(),
            ChannelDataError::kBadChannel);  // 0x5000+ reserved (RFC 8656 12)
  EXPECT_EQ(parse_channel_data(Buffer{0x40, 0x00, 0x00, 0x05, 1, 2}).error(),
            ChannelDataError::kTruncated);
  EXPECT_EQ(parse_channel_data(Buffer{0x40, 0x00, 0x00, 0x01, 1, 0, 0, 0, 0}).error(),
            ChannelDataError::kTrailing);
  EXPECT_EQ(parse_channel_data(Buffer{0x40, 0x00, 0xFF, 0xFF}).error(),
            ChannelDataError::kTruncated);
}

TEST(ChannelData, StreamFraming) {
  EXPECT_EQ(*stream_frame_length({}), 0u);
  EXPECT_EQ(*stream_frame_length(Buffer{0x40, 0x00}), 0u);               // need the length
  EXPECT_EQ(*stream_frame_length(Buffer{0x00, 0x01, 0x00, 0x08}), 28u);  // STUN
  EXPECT_EQ(*stream_frame_length(Buffer{0x40, 0x00, 0x00, 0x01}), 8u);
  EXPECT_FALSE(stream_frame_length(Buffer{0x16, 0xFE, 0xFD, 0x00}));  // DTLS is not TURN
  EXPECT_FALSE(stream_frame_length(Buffer{0x80, 0x00, 0x00, 0x00}));
}

}  // namespace
}  // namespace rtcpp::turn
