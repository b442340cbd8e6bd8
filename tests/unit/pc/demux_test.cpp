#include "pc/demux.hpp"

#include <gtest/gtest.h>

namespace rtcpp::pc {
namespace {

TEST(Demux, EveryFirstByteHasOneKind) {
  int counts[6] = {};
  for (int b = 0; b < 256; ++b) {
    const std::uint8_t byte = static_cast<std::uint8_t>(b);
    const auto kind = classify_packet(BytesView(&byte, 1));
    ++counts[static_cast<int>(kind)];
    PacketKind expected = PacketKind::kUnknown;
    if (b <= 3) expected = PacketKind::kStun;
    if (b >= 16 && b <= 19) expected = PacketKind::kZrtp;
    if (b >= 20 && b <= 63) expected = PacketKind::kDtls;
    if (b >= 64 && b <= 79) expected = PacketKind::kTurnChannelData;
    if (b >= 128 && b <= 191) expected = PacketKind::kRtpOrRtcp;
    EXPECT_EQ(kind, expected) << b;
  }
  EXPECT_EQ(counts[static_cast<int>(PacketKind::kStun)], 4);
  EXPECT_EQ(counts[static_cast<int>(PacketKind::kZrtp)], 4);
  EXPECT_EQ(counts[static_cast<int>(PacketKind::kDtls)], 44);
  EXPECT_EQ(counts[static_cast<int>(PacketKind::kTurnChannelData)], 16);
  EXPECT_EQ(counts[static_cast<int>(PacketKind::kRtpOrRtcp)], 64);
  EXPECT_EQ(counts[static_cast<int>(PacketKind::kUnknown)], 256 - 132);
  EXPECT_EQ(classify_packet(BytesView{}), PacketKind::kUnknown);
}

TEST(Demux, RtcpByPayloadType) {
  const std::uint8_t rtcp_sr[2] = {0x80, 200};  // SR: PT 200, marker bit set in the 7-bit view
  const std::uint8_t rtp_vp8[2] = {0x80, 96};
  const std::uint8_t rtp_marker[2] = {0x80, 0x80 | 111};
  EXPECT_TRUE(is_rtcp(rtcp_sr));
  EXPECT_FALSE(is_rtcp(rtp_vp8));
  EXPECT_FALSE(is_rtcp(rtp_marker));
  EXPECT_FALSE(is_rtcp(BytesView(rtcp_sr, 1)));
}

}  // namespace
}  // namespace rtcpp::pc
