// Every video codec round-trips the test pattern: decodable, faithful (PSNR), stamps intact;
// key frames on request; bitrate control; corrupt input refused without losing the decoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "media/test_source.hpp"

namespace rtcpp::codec {
namespace {

constexpr int kWidth = 320;
constexpr int kHeight = 240;

media::VideoFrame pattern_frame(const media::TestPattern& pattern, std::uint32_t n) {
  return pattern.render({n, n * 33});
}

VideoEncoderConfig config_for(std::uint32_t bitrate) {
  VideoEncoderConfig config;
  config.width = kWidth;
  config.height = kHeight;
  config.max_framerate = 30;
  config.bitrate_bps = bitrate;
  return config;
}

class VideoCodecTest : public ::testing::TestWithParam<VideoCodec> {
 protected:
  void SetUp() override {
    if (!can_encode(GetParam())) GTEST_SKIP() << "not in this build";
  }
};

TEST_P(VideoCodecTest, RoundTripKeepsPictureAndStamps) {
  auto pattern = media::TestPattern::create(kWidth, kHeight);
  ASSERT_TRUE(pattern);
  auto encoder = create_video_encoder(GetParam(), config_for(800'000));
  ASSERT_TRUE(encoder) << encoder.error().to_string();
  auto decoder = create_video_decoder(GetParam());
  ASSERT_TRUE(decoder) << decoder.error().to_string();
  std::vector<EncodedVideoFrame> out;
  int encoded = 0;
  int decoded = 0;
  double psnr_sum = 0;
  double psnr_min = 100;
  for (std::uint32_t n = 0; n < 30; ++n) {
    const media::VideoFrame source = pattern_frame(*pattern, n);
    ASSERT_TRUE((*encoder)->encode(source, false, out));
    for (const auto& frame : out) {
      if (encoded == 0) {
        EXPECT_TRUE(frame.key_frame);
      }
      ++encoded;
      EXPECT_EQ(frame.width, kWidth);
      EXPECT_EQ(frame.timestamp_us, source.timestamp_us);
      auto picture = (*decoder)->decode(frame.data, frame.timestamp_us);
      ASSERT_TRUE(picture) << picture.error().to_string();
      ASSERT_TRUE(picture->has_value());
      const media::VideoFrame& shown = **picture;
      ASSERT_EQ(shown.width(), kWidth);
      ASSERT_EQ(shown.height(), kHeight);
      const auto stamp = media::read_pattern_stamp(shown);
      ASSERT_TRUE(stamp) << "frame " << n;
      EXPECT_EQ(stamp->frame_number, n);
      auto quality = media::psnr(source, shown);
      ASSERT_TRUE(quality);
      psnr_sum += *quality;
      psnr_min = std::min(psnr_min, *quality);
      ++decoded;
    }
  }
  EXPECT_GE(encoded, 28);  // rate control may drop a frame or two
  EXPECT_EQ(decoded, encoded);
  EXPECT_GT(psnr_sum / decoded, 30.0);
  EXPECT_GT(psnr_min, 24.0);
  EXPECT_FALSE((*encoder)->implementation().empty());
  EXPECT_FALSE((*decoder)->implementation().empty());
}

TEST_P(VideoCodecTest, ForcedKeyFrame) {
  auto pattern = media::TestPattern::create(kWidth, kHeight);
  auto encoder = create_video_encoder(GetParam(), config_for(500'000));
  ASSERT_TRUE(encoder);
  std::vector<EncodedVideoFrame> out;
  int keys = 0;
  for (std::uint32_t n = 0; n < 12; ++n) {
    ASSERT_TRUE((*encoder)->encode(pattern_frame(*pattern, n), n == 8, out));
    for (const auto& frame : out) {
      if (frame.key_frame) ++keys;
      if (n == 8) {
        EXPECT_TRUE(frame.key_frame);
      }
    }
  }
  EXPECT_EQ(keys, 2);
}

TEST_P(VideoCodecTest, FollowsTheTargetBitrate) {
  auto pattern = media::TestPattern::create(kWidth, kHeight);
  auto encoder = create_video_encoder(GetParam(), config_for(600'000));
  ASSERT_TRUE(encoder);
  std::vector<EncodedVideoFrame> out;
  // Two seconds at 600 kbit/s, then two at 150 kbit/s; the key frame is left out.
  std::size_t high = 0;
  std::size_t low = 0;
  for (std::uint32_t n = 0; n < 120; ++n) {
    if (n == 60) {
      ASSERT_TRUE((*encoder)->set_rates(150'000, 30));
    }
    auto frame = pattern_frame(*pattern, n);
    frame.timestamp_us = static_cast<std::int64_t>(n) * 1'000'000 / 30;
    ASSERT_TRUE((*encoder)->encode(frame, false, out));
    for (const auto& encoded : out) {
      if (n == 0) continue;
      (n < 60 ? high : low) += encoded.data.size();
    }
  }
  const double high_bps = static_cast<double>(high) * 8 / 2;
  const double low_bps = static_cast<double>(low) * 8 / 2;
  EXPECT_LT(high_bps, 600'000 * 1.5);
  // The second half settles: its rate falls well below the first's and near its own target.
  EXPECT_LT(low_bps, 150'000 * 1.6);
  EXPECT_LT(low_bps, high_bps);
  EXPECT_FALSE((*encoder)->set_rates(10, 30));
  EXPECT_FALSE((*encoder)->set_rates(100'000, 0));
}

TEST_P(VideoCodecTest, NewSizeStartsWithAKeyFrame) {
  auto small = media::TestPattern::create(kWidth, kHeight);
  auto large = media::TestPattern::create(480, 360);
  auto encoder = create_video_encoder(GetParam(), config_for(500'000));
  auto decoder = create_video_decoder(GetParam());
  ASSERT_TRUE(encoder && decoder);
  std::vector<EncodedVideoFrame> out;
  for (std::uint32_t n = 0; n < 6; ++n) {
    const auto& pattern = n < 3 ? *small : *large;
    ASSERT_TRUE((*encoder)->encode(pattern_frame(pattern, n), false, out));
    ASSERT_EQ(out.size(), 1u);
    if (n == 3) {
      EXPECT_TRUE(out[0].key_frame);
    }
    auto picture = (*decoder)->decode(out[0].data, 0);
    ASSERT_TRUE(picture && picture->has_value());
    EXPECT_EQ((*picture)->width(), pattern.width());
  }
}

TEST_P(VideoCodecTest, CorruptFrameIsAnErrorAndTheDecoderRecovers) {
  auto pattern = media::TestPattern::create(kWidth, kHeight);
  auto encoder = create_video_encoder(GetParam(), config_for(500'000));
  auto decoder = create_video_decoder(GetParam());
  ASSERT_TRUE(encoder && decoder);
  EXPECT_FALSE((*decoder)->decode({}, 0));
  std::vector<std::uint8_t> garbage(200);
  for (std::size_t i = 0; i < garbage.size(); ++i) {
    garbage[i] = static_cast<std::uint8_t>(i * 37 + 11);
  }
  // Garbage is refused, or at least shows no picture; it never crashes.
  auto bad = (*decoder)->decode(garbage, 0);
  if (bad) {
    EXPECT_FALSE(bad->has_value());
  }
  std::vector<EncodedVideoFrame> out;
  ASSERT_TRUE((*encoder)->encode(pattern_frame(*pattern, 5), true, out));
  ASSERT_EQ(out.size(), 1u);
  auto good = (*decoder)->decode(out[0].data, 0);
  ASSERT_TRUE(good) << good.error().to_string();
  ASSERT_TRUE(good->has_value());
  EXPECT_EQ(media::read_pattern_stamp(**good)->frame_number, 5u);
}

TEST_P(VideoCodecTest, RefusesBadSettings) {
  VideoEncoderConfig config = config_for(500'000);
  config.width = 0;
  EXPECT_EQ(create_video_encoder(GetParam(), config).error().type(), RTCErrorType::kRangeError);
  config = config_for(500'000);
  config.temporal_layers = 4;
  EXPECT_FALSE(create_video_encoder(GetParam(), config));
  config = config_for(0);
  EXPECT_FALSE(create_video_encoder(GetParam(), config));
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, VideoCodecTest,
                         ::testing::Values(VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264,
                                           VideoCodec::kAv1),
                         [](const auto& test_case) {
                           return std::string(rtp_name(test_case.param));
                         });

// With three temporal layers, the 0 2 1 2 pattern: dropping layer 2 (or 1 and 2) leaves a
// stream that still decodes.
class TemporalLayersTest : public ::testing::TestWithParam<VideoCodec> {};

TEST_P(TemporalLayersTest, UpperLayersCanBeDropped) {
  auto pattern = media::TestPattern::create(kWidth, kHeight);
  VideoEncoderConfig config = config_for(600'000);
  config.temporal_layers = 3;
  auto encoder = create_video_encoder(GetParam(), config);
  ASSERT_TRUE(encoder) << encoder.error().to_string();
  auto base_only = create_video_decoder(GetParam());
  auto two_layers = create_video_decoder(GetParam());
  ASSERT_TRUE(base_only && two_layers);
  std::vector<EncodedVideoFrame> out;
  constexpr std::array<int, 4> kPattern{0, 2, 1, 2};
  int emitted = 0;
  for (std::uint32_t n = 0; n < 16; ++n) {
    ASSERT_TRUE((*encoder)->encode(pattern_frame(*pattern, n), false, out));
    // Rate control may drop a frame (just after the key frame, say); the pattern goes on.
    if (out.empty()) continue;
    ASSERT_EQ(out.size(), 1u) << "frame " << n;
    ++emitted;
    const auto& frame = out[0];
    EXPECT_EQ(frame.temporal_layer, kPattern[n % 4]) << "frame " << n;
    if (frame.temporal_layer == 0) {
      auto picture = (*base_only)->decode(frame.data, 0);
      ASSERT_TRUE(picture) << "frame " << n << ": " << picture.error().to_string();
      ASSERT_TRUE(picture->has_value());
      EXPECT_EQ(media::read_pattern_stamp(**picture)->frame_number, n);
    }
    if (frame.temporal_layer <= 1) {
      auto picture = (*two_layers)->decode(frame.data, 0);
      ASSERT_TRUE(picture) << "frame " << n << ": " << picture.error().to_string();
      ASSERT_TRUE(picture->has_value());
      EXPECT_EQ(media::read_pattern_stamp(**picture)->frame_number, n);
    }
  }
  EXPECT_GE(emitted, 13);
}

INSTANTIATE_TEST_SUITE_P(Vpx, TemporalLayersTest,
                         ::testing::Values(VideoCodec::kVp8, VideoCodec::kVp9),
                         [](const auto& test_case) {
                           return std::string(rtp_name(test_case.param));
                         });

TEST(VideoCodecNames, ByRtpName) {
  EXPECT_EQ(video_codec_from_name("vp8"), VideoCodec::kVp8);
  EXPECT_EQ(video_codec_from_name("H264"), VideoCodec::kH264);
  EXPECT_EQ(video_codec_from_name("AV1"), VideoCodec::kAv1);
  EXPECT_FALSE(video_codec_from_name("H265"));
  EXPECT_EQ(audio_codec_from_name("OPUS"), AudioCodec::kOpus);
  EXPECT_EQ(audio_codec_from_name("pcma"), AudioCodec::kPcma);
  EXPECT_FALSE(audio_codec_from_name("G722"));
}

}  // namespace
}  // namespace rtcpp::codec
