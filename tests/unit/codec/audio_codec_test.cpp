// Opus (and, through the same interface, G.711): a tone survives coding at its frequency;
// concealment, FEC and DTX behave; bad shapes and corrupt packets are errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "codec/codec.hpp"
#include "media/test_source.hpp"

namespace rtcpp::codec {
namespace {

double rms(const media::AudioFrame& frame) {
  double sum = 0;
  for (const auto s : frame.samples) sum += static_cast<double>(s) * s;
  return frame.samples.empty() ? 0 : std::sqrt(sum / static_cast<double>(frame.samples.size()));
}

struct ToneCase {
  AudioCodec codec;
  int sample_rate;
  int channels;
  int frame_ms;
};

class AudioToneTest : public ::testing::TestWithParam<ToneCase> {};

TEST_P(AudioToneTest, ToneKeepsItsFrequency) {
  const ToneCase c = GetParam();
  AudioEncoderConfig config;
  config.sample_rate = c.sample_rate;
  config.channels = c.channels;
  config.frame_ms = c.frame_ms;
  config.bitrate_bps = c.codec == AudioCodec::kOpus
                           ? 32000 * static_cast<std::uint32_t>(c.channels)
                           : 64000 * static_cast<std::uint32_t>(c.channels);
  auto encoder = create_audio_encoder(c.codec, config);
  ASSERT_TRUE(encoder) << encoder.error().to_string();
  auto decoder = create_audio_decoder(c.codec, c.sample_rate, c.channels);
  ASSERT_TRUE(decoder) << decoder.error().to_string();
  EXPECT_EQ((*encoder)->frame_samples(), c.sample_rate / 1000 * c.frame_ms);
  auto tone = media::ToneGenerator::create(440, c.sample_rate, c.channels);
  ASSERT_TRUE(tone);
  media::AudioFrame all;
  all.sample_rate = c.sample_rate;
  all.channels = c.channels;
  Buffer packet;
  media::AudioFrame decoded;
  for (int i = 0; i < 1000 / c.frame_ms; ++i) {  // one second
    ASSERT_TRUE((*encoder)->encode(tone->next((*encoder)->frame_samples()), packet));
    ASSERT_FALSE(packet.empty());
    ASSERT_TRUE((*decoder)->decode(packet, decoded));
    ASSERT_EQ(decoded.samples_per_channel(), static_cast<std::size_t>((*encoder)->frame_samples()));
    ASSERT_EQ(decoded.channels, c.channels);
    if (i >= 5)
      all.samples.insert(all.samples.end(), decoded.samples.begin(), decoded.samples.end());
  }
  const auto frequency = media::estimate_tone_frequency(all);
  ASSERT_TRUE(frequency);
  EXPECT_NEAR(*frequency, 440.0, 4.4);
  // The level survives too: a 0.25 sine has an RMS of about 5790.
  EXPECT_NEAR(rms(all), 5790, 1200);
}

INSTANTIATE_TEST_SUITE_P(Codecs, AudioToneTest,
                         ::testing::Values(ToneCase{AudioCodec::kOpus, 48000, 1, 20},
                                           ToneCase{AudioCodec::kOpus, 48000, 2, 20},
                                           ToneCase{AudioCodec::kOpus, 48000, 1, 10},
                                           ToneCase{AudioCodec::kOpus, 16000, 1, 20},
                                           ToneCase{AudioCodec::kPcmu, 8000, 1, 20},
                                           ToneCase{AudioCodec::kPcma, 8000, 1, 10}),
                         [](const auto& test_case) {
                           return std::string(rtp_name(test_case.param.codec)) + "_" +
                                  std::to_string(test_case.param.sample_rate) + "Hz_" +
                                  std::to_string(test_case.param.channels) + "ch_" +
                                  std::to_string(test_case.param.frame_ms) + "ms";
                         });

TEST(OpusCodec, ConcealsAndRecoversFromFec) {
  AudioEncoderConfig config;
  config.fec = true;
  config.expected_loss_percent = 20;
  auto encoder = create_audio_encoder(AudioCodec::kOpus, config);
  auto decoder = create_audio_decoder(AudioCodec::kOpus, 48000, 1);
  ASSERT_TRUE(encoder && decoder);
  auto tone = media::ToneGenerator::create(440, 48000, 1);
  Buffer packet;
  media::AudioFrame out;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*encoder)->encode(tone->next(960), packet));
    ASSERT_TRUE((*decoder)->decode(packet, out));
  }
  // Packet 20 is lost; 21 arrives and carries 20 in its FEC.
  ASSERT_TRUE((*encoder)->encode(tone->next(960), packet));
  Buffer next;
  ASSERT_TRUE((*encoder)->encode(tone->next(960), next));
  ASSERT_TRUE((*decoder)->decode_fec(next, 960, out));
  EXPECT_EQ(out.samples.size(), 960u);
  EXPECT_GT(rms(out), 2000);
  ASSERT_TRUE((*decoder)->decode(next, out));
  // A loss with nothing after it: concealment, still tone-like at first.
  ASSERT_TRUE((*decoder)->conceal(960, out));
  EXPECT_EQ(out.samples.size(), 960u);
  EXPECT_GT(rms(out), 500);
  EXPECT_FALSE((*decoder)->conceal(7, out));  // not a whole 2.5 ms step
  EXPECT_FALSE((*decoder)->conceal(0, out));
}

TEST(OpusCodec, DtxSendsAlmostNothingInSilence) {
  AudioEncoderConfig config;
  config.dtx = true;
  auto encoder = create_audio_encoder(AudioCodec::kOpus, config);
  ASSERT_TRUE(encoder);
  media::AudioFrame silence;
  silence.samples.assign(960, 0);
  Buffer packet;
  std::size_t last = 0;
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE((*encoder)->encode(silence, packet));
    last = packet.size();
  }
  EXPECT_LE(last, 3u);
}

TEST(OpusCodec, RefusesBadInput) {
  AudioEncoderConfig config;
  config.sample_rate = 44100;
  EXPECT_EQ(create_audio_encoder(AudioCodec::kOpus, config).error().type(),
            RTCErrorType::kRangeError);
  config = {};
  config.frame_ms = 15;
  EXPECT_FALSE(create_audio_encoder(AudioCodec::kOpus, config));
  config = {};
  config.channels = 3;
  EXPECT_FALSE(create_audio_encoder(AudioCodec::kOpus, config));
  EXPECT_FALSE(create_audio_decoder(AudioCodec::kOpus, 44100, 1));

  auto encoder = create_audio_encoder(AudioCodec::kOpus, {});
  ASSERT_TRUE(encoder);
  media::AudioFrame wrong;
  wrong.samples.assign(480, 0);  // 10 ms into a 20 ms encoder
  Buffer packet;
  EXPECT_EQ((*encoder)->encode(wrong, packet).error().type(), RTCErrorType::kInvalidAccessError);
  EXPECT_FALSE((*encoder)->set_bitrate(1000));
  EXPECT_TRUE((*encoder)->set_bitrate(64000));
  EXPECT_FALSE((*encoder)->set_expected_loss(101));

  auto decoder = create_audio_decoder(AudioCodec::kOpus, 48000, 1);
  ASSERT_TRUE(decoder);
  media::AudioFrame out;
  EXPECT_FALSE((*decoder)->decode({}, out));
  // Code 3 (RFC 6716 3.2.5) with a frame count of 0 is invalid.
  const std::uint8_t bad[] = {0x03, 0x00};
  EXPECT_EQ((*decoder)->decode(bad, out).error().type(), RTCErrorType::kDataError);
}

}  // namespace
}  // namespace rtcpp::codec
