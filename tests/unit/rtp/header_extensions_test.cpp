#include "rtp/header_extensions.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rtcpp::rtp {
namespace {

TEST(HeaderExtensions, MidAndRid) {
  EXPECT_EQ(*parse_mid(as_bytes("audio0")), "audio0");
  EXPECT_EQ(parse_mid(BytesView{}).error(), ExtensionError::kWrongSize);
  EXPECT_EQ(*parse_rid(as_bytes("hi-res_2")), "hi-res_2");
  EXPECT_EQ(parse_rid(as_bytes("a b")).error(), ExtensionError::kBadValue);
  EXPECT_EQ(parse_rid(as_bytes("r\xc3\xa9")).error(), ExtensionError::kBadValue);
  EXPECT_EQ(parse_rid(as_bytes(std::string(256, 'a'))).error(), ExtensionError::kWrongSize);
  EXPECT_TRUE(is_valid_rid(std::string(255, 'a')));
  EXPECT_FALSE(is_valid_rid(""));
}

TEST(HeaderExtensions, AbsSendTimeIsSixEighteenFixedPoint) {
  // 1.5 s past an NTP second boundary 64 s apart: seconds wrap at 64.
  const std::uint64_t ntp = (std::uint64_t{64 * 1000 + 1} << 32) | 0x80000000u;
  const std::uint32_t value = abs_send_time_from_ntp(ntp);
  EXPECT_EQ(value, (1u << 18) | (1u << 17));
  const auto bytes = write_abs_send_time(value);
  EXPECT_EQ(*parse_abs_send_time(bytes), value);
  EXPECT_EQ(parse_abs_send_time(BytesView(bytes).first(2)).error(), ExtensionError::kWrongSize);
}

TEST(HeaderExtensions, TransportSequenceNumber) {
  const auto bytes = write_transport_sequence_number(0xBEEF);
  EXPECT_EQ(bytes[0], 0xBE);
  EXPECT_EQ(*parse_transport_sequence_number(bytes), 0xBEEF);
  EXPECT_EQ(parse_transport_sequence_number(Buffer{1, 2, 3}).error(), ExtensionError::kWrongSize);
}

TEST(HeaderExtensions, SsrcAudioLevel) {
  // RFC 6464 3: V=1, level 42 (-42 dBov).
  const Buffer wire{0x80 | 42};
  EXPECT_EQ(*parse_ssrc_audio_level(wire), (AudioLevel{42, true}));
  EXPECT_EQ(write_ssrc_audio_level({42, true})[0], 0x80 | 42);
  EXPECT_EQ(write_ssrc_audio_level({200, false})[0], 127);
  // The two-byte form pads with a zero byte.
  EXPECT_EQ(*parse_ssrc_audio_level(Buffer{10, 0}), (AudioLevel{10, false}));
  EXPECT_EQ(parse_ssrc_audio_level(BytesView{}).error(), ExtensionError::kWrongSize);
}

TEST(HeaderExtensions, CsrcAudioLevels) {
  EXPECT_EQ(*parse_csrc_audio_levels(Buffer{3, 127}, 2), (std::vector<std::uint8_t>{3, 127}));
  EXPECT_EQ(parse_csrc_audio_levels(Buffer{3, 4, 5}, 2).error(), ExtensionError::kWrongSize);
  EXPECT_EQ(parse_csrc_audio_levels(Buffer{0x83}, 1).error(), ExtensionError::kBadValue);
  EXPECT_EQ(write_csrc_audio_levels({1, 255}), (Buffer{1, 127}));
}

TEST(HeaderExtensions, LinearLevels) {
  EXPECT_EQ(audio_level_from_linear(1.0), 0);
  EXPECT_EQ(audio_level_from_linear(0.5), 6);  // -6.02 dB
  EXPECT_EQ(audio_level_from_linear(0.0), 127);
  EXPECT_EQ(audio_level_from_linear(1e-9), 127);
  EXPECT_DOUBLE_EQ(linear_from_audio_level(0), 1.0);
  EXPECT_NEAR(linear_from_audio_level(20), 0.1, 1e-12);
  EXPECT_EQ(linear_from_audio_level(127), 0.0);
}

}  // namespace
}  // namespace rtcpp::rtp
