#include "rtp/opus.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtcpp::rtp {
namespace {

std::uint8_t toc(unsigned config, bool stereo, unsigned code) {
  return static_cast<std::uint8_t>((config << 3) | (stereo ? 4 : 0) | code);
}

Buffer packet(std::initializer_list<std::uint8_t> head, std::size_t filler = 0) {
  Buffer out(head);
  for (std::size_t i = 0; i < filler; ++i) out.push_back(0xAA);
  return out;
}

TEST(OpusToc, EveryConfigurationHasItsModeBandwidthAndDuration) {
  struct Row {
    unsigned config;
    OpusMode mode;
    OpusBandwidth bandwidth;
    std::uint32_t samples;
  };
  // RFC 6716 3.1, table 2 (one row per run of configurations, each duration checked).
  const std::vector<Row> rows = {
      {0, OpusMode::kSilk, OpusBandwidth::kNarrowband, 480},
      {1, OpusMode::kSilk, OpusBandwidth::kNarrowband, 960},
      {2, OpusMode::kSilk, OpusBandwidth::kNarrowband, 1920},
      {3, OpusMode::kSilk, OpusBandwidth::kNarrowband, 2880},
      {4, OpusMode::kSilk, OpusBandwidth::kMediumband, 480},
      {7, OpusMode::kSilk, OpusBandwidth::kMediumband, 2880},
      {8, OpusMode::kSilk, OpusBandwidth::kWideband, 480},
      {11, OpusMode::kSilk, OpusBandwidth::kWideband, 2880},
      {12, OpusMode::kHybrid, OpusBandwidth::kSuperWideband, 480},
      {13, OpusMode::kHybrid, OpusBandwidth::kSuperWideband, 960},
      {14, OpusMode::kHybrid, OpusBandwidth::kFullband, 480},
      {15, OpusMode::kHybrid, OpusBandwidth::kFullband, 960},
      {16, OpusMode::kCelt, OpusBandwidth::kNarrowband, 120},
      {17, OpusMode::kCelt, OpusBandwidth::kNarrowband, 240},
      {18, OpusMode::kCelt, OpusBandwidth::kNarrowband, 480},
      {19, OpusMode::kCelt, OpusBandwidth::kNarrowband, 960},
      {20, OpusMode::kCelt, OpusBandwidth::kWideband, 120},
      {24, OpusMode::kCelt, OpusBandwidth::kSuperWideband, 120},
      {28, OpusMode::kCelt, OpusBandwidth::kFullband, 120},
      {31, OpusMode::kCelt, OpusBandwidth::kFullband, 960},
  };
  for (const Row& row : rows) {
    const OpusToc parsed = parse_opus_toc(toc(row.config, false, 0));
    EXPECT_EQ(parsed.config, row.config);
    EXPECT_EQ(parsed.mode, row.mode) << row.config;
    EXPECT_EQ(parsed.bandwidth, row.bandwidth) << row.config;
    EXPECT_EQ(parsed.frame_samples, row.samples) << row.config;
  }
  const OpusToc stereo = parse_opus_toc(toc(31, true, 3));
  EXPECT_TRUE(stereo.stereo);
  EXPECT_EQ(stereo.frame_count_code, 3);
  EXPECT_FALSE(parse_opus_toc(toc(31, false, 1)).stereo);
}

TEST(OpusPacket, CountsSamplesForEachFrameCountCode) {
  // Config 31 (20 ms fullband CELT), code 0: one frame.
  EXPECT_EQ(*opus_packet_samples(packet({toc(31, false, 0)}, 40)), 960u);
  // A TOC byte alone: one frame of zero bytes (DTX).
  EXPECT_EQ(*opus_packet_samples(packet({toc(1, false, 0)})), 960u);
  EXPECT_EQ(*opus_packet_samples(packet({toc(3, true, 1)}, 20)), 2u * 2880);
  EXPECT_EQ(*opus_packet_samples(packet({toc(16, false, 2), 3}, 10)), 240u);
  // Code 3, CBR: 4 frames of 5 bytes.
  EXPECT_EQ(*opus_packet_samples(packet({toc(17, false, 3), 4}, 20)), 4u * 240);
  // Code 3, VBR with padding: 3 frames (lengths 2 and 3 coded, the last takes the rest), and
  // 256 bytes of padding (255 -> 254, then 2).
  Buffer vbr = packet({toc(18, false, 3), 0xC3, 255, 2, 2, 3}, 2 + 3 + 4 + 256);
  auto info = parse_opus_packet(vbr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->frame_count, 3);
  EXPECT_EQ(info->padding, 256u);
  EXPECT_EQ(info->samples, 3u * 480);
  // The largest count allowed: 48 frames of 2.5 ms is 120 ms.
  EXPECT_EQ(*opus_packet_samples(packet({toc(16, false, 3), 48})), kMaxOpusPacketSamples);
}

TEST(OpusPacket, TwoByteFrameLengths) {
  // 252 + 4 * 1 = 256 bytes for the first frame.
  Buffer two = packet({toc(31, false, 2), 252, 1}, 256 + 100);
  EXPECT_EQ(*opus_packet_samples(two), 1920u);
  Buffer short_first = packet({toc(31, false, 2), 252, 1}, 255);
  EXPECT_EQ(opus_packet_samples(short_first).error(), PayloadError::kTruncated);
  // The second byte of a length is missing.
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 2), 252})).error(),
            PayloadError::kTruncated);
}

TEST(OpusPacket, RefusesWhatRfc6716Section3_4Forbids) {
  // R1: at least one byte.
  EXPECT_EQ(opus_packet_samples({}).error(), PayloadError::kEmpty);
  // R2: no implicit frame above 1275 bytes.
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 0)}, 1276)).error(),
            PayloadError::kMalformed);
  EXPECT_TRUE(opus_packet_samples(packet({toc(31, false, 0)}, 1275)));
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 1)}, 2 * 1276)).error(),
            PayloadError::kMalformed);
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 2), 0}, 1276)).error(),
            PayloadError::kMalformed);
  // R3: code 1 with an odd payload.
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 1)}, 3)).error(), PayloadError::kMalformed);
  // R4: code 2 with a first frame longer than the rest, or no length at all.
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 2), 10}, 9)).error(),
            PayloadError::kTruncated);
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 2)})).error(), PayloadError::kTruncated);
  // R5: code 3 without its count byte, with a count of 0, or over 120 ms.
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3)})).error(), PayloadError::kTruncated);
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 0})).error(), PayloadError::kMalformed);
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 7})).error(),  // 7 x 20 ms
            PayloadError::kMalformed);
  EXPECT_EQ(opus_packet_samples(packet({toc(3, false, 3), 3})).error(),  // 3 x 60 ms
            PayloadError::kMalformed);
  EXPECT_TRUE(opus_packet_samples(packet({toc(3, false, 3), 2})));  // 2 x 60 ms
  EXPECT_EQ(opus_packet_samples(packet({toc(16, false, 3), 49})).error(), PayloadError::kMalformed);
  // R6: CBR code 3 whose data does not split evenly (after padding).
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 3}, 10)).error(),
            PayloadError::kMalformed);
  EXPECT_TRUE(opus_packet_samples(packet({toc(31, false, 3), 0x43, 1}, 10)));  // 9 + 1 pad
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 2}, 2 * 1276)).error(),
            PayloadError::kMalformed);
  // R7: VBR code 3 whose coded lengths run past the data, or whose last frame is too long.
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 0x83, 5, 5}, 9)).error(),
            PayloadError::kTruncated);
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 0x83, 5})).error(),
            PayloadError::kTruncated);
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 0x82, 0}, 1276)).error(),
            PayloadError::kMalformed);
  // Padding: lengths that run out, or more padding than the packet holds.
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 0x41})).error(),
            PayloadError::kTruncated);
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 0x41, 255})).error(),
            PayloadError::kTruncated);
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 0x41, 20}, 19)).error(),
            PayloadError::kTruncated);
  // VBR lengths must not read into the padding.
  EXPECT_EQ(opus_packet_samples(packet({toc(31, false, 3), 0xC2, 2}, 2)).error(),
            PayloadError::kTruncated);
}

}  // namespace
}  // namespace rtcpp::rtp
