#include "codec/g711.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace rtcpp::codec {
namespace {

constexpr int kMin = std::numeric_limits<std::int16_t>::min();
constexpr int kMax = std::numeric_limits<std::int16_t>::max();

int segment_of_ulaw(std::uint8_t code) {
  return (static_cast<std::uint8_t>(~code) >> 4) & 7;
}
int segment_of_alaw(std::uint8_t code) {
  return ((code ^ 0x55) >> 4) & 7;
}

TEST(G711, KnownValues) {
  EXPECT_EQ(ulaw_encode(0), 0xFF);
  EXPECT_EQ(ulaw_encode(-1), 0x7F);  // negative zero
  EXPECT_EQ(ulaw_encode(kMax), 0x80);
  EXPECT_EQ(ulaw_encode(kMin), 0x00);
  EXPECT_EQ(ulaw_decode(0xFF), 0);
  EXPECT_EQ(ulaw_decode(0x7F), 0);
  EXPECT_EQ(ulaw_decode(0x80), 32124);
  EXPECT_EQ(ulaw_decode(0x00), -32124);
  EXPECT_EQ(ulaw_decode(0xEF), 132);  // segment 1, step 0
  EXPECT_EQ(alaw_encode(0), 0xD5);
  EXPECT_EQ(alaw_encode(-1), 0x55);
  EXPECT_EQ(alaw_encode(kMax), 0xAA);
  EXPECT_EQ(alaw_encode(kMin), 0x2A);
  EXPECT_EQ(alaw_decode(0xD5), 8);
  EXPECT_EQ(alaw_decode(0x55), -8);
  EXPECT_EQ(alaw_decode(0xAA), 32256);
  EXPECT_EQ(alaw_decode(0x2A), -32256);
}

// The segment boundaries of G.711 Tables 1 and 2: μ-law segments 1 to 7 start at the 14-bit
// magnitudes 31, 95, 223, 479, 991, 2015, 4063 (x4 in 16 bits); A-law segments 1 to 7 at the
// 13-bit magnitudes 32, 64, ..., 2048 (x8 in 16 bits).
TEST(G711, SegmentBoundariesFollowTheRecommendation) {
  const int ulaw_starts[] = {31, 95, 223, 479, 991, 2015, 4063};
  for (int s = 0; s < 7; ++s) {
    const int last = ulaw_starts[s] * 4 - 1;  // the last 16-bit value of segment s
    EXPECT_EQ(segment_of_ulaw(ulaw_encode(static_cast<std::int16_t>(last))), s) << last;
    EXPECT_EQ(segment_of_ulaw(ulaw_encode(static_cast<std::int16_t>(last + 1))), s + 1) << last;
    EXPECT_EQ(segment_of_ulaw(ulaw_encode(static_cast<std::int16_t>(-last - 1))), s) << last;
    EXPECT_EQ(segment_of_ulaw(ulaw_encode(static_cast<std::int16_t>(-last - 2))), s + 1) << last;
  }
  for (int s = 0; s < 7; ++s) {
    const int first_next = 32 << s;  // 13-bit: segment s + 1 starts here (s >= 0)
    const int last = first_next * 8 - 1;
    EXPECT_EQ(segment_of_alaw(alaw_encode(static_cast<std::int16_t>(last))), s) << last;
    EXPECT_EQ(segment_of_alaw(alaw_encode(static_cast<std::int16_t>(last + 1))), s + 1) << last;
  }
}

// Every code decodes to the middle of its step, the steps within a segment are equal, and
// each segment's steps are twice the previous segment's (A-law: segments 0 and 1 alike).
TEST(G711, DecodeTablesFollowTheSegmentRules) {
  for (int code = 0; code < 256; ++code) {
    const auto c = static_cast<std::uint8_t>(code);
    if (c != 0x7F) {  // μ-law's negative zero decodes to 0, which encodes as 0xFF
      EXPECT_EQ(ulaw_encode(ulaw_decode(c)), c) << code;
    }
    EXPECT_EQ(alaw_encode(alaw_decode(c)), c) << code;
  }
  for (int segment = 0; segment < 8; ++segment) {
    const int ulaw_step = 8 << segment;
    const int alaw_step = segment == 0 ? 16 : 16 << (segment - 1);
    for (int step = 0; step < 16; ++step) {
      // Positive codes, magnitude increasing with segment and step.
      const auto ulaw = static_cast<std::uint8_t>(~((segment << 4) | step));
      const auto alaw = static_cast<std::uint8_t>((0x80 | (segment << 4) | step) ^ 0x55);
      if (step > 0) {
        EXPECT_EQ(ulaw_decode(ulaw) - ulaw_decode(static_cast<std::uint8_t>(ulaw + 1)), ulaw_step);
        EXPECT_EQ(alaw_decode(alaw) - alaw_decode(static_cast<std::uint8_t>(
                                          (0x80 | (segment << 4) | (step - 1)) ^ 0x55)),
                  alaw_step);
      }
      // Symmetric about zero.
      EXPECT_EQ(ulaw_decode(static_cast<std::uint8_t>(ulaw & 0x7F)), -ulaw_decode(ulaw));
      EXPECT_EQ(alaw_decode(static_cast<std::uint8_t>(alaw ^ 0x80)), -alaw_decode(alaw));
    }
  }
}

TEST(G711, RoundTripErrorIsHalfAStepOverTheWholeRange) {
  int previous_ulaw = kMin;
  int previous_alaw = kMin;
  for (int x = kMin; x <= kMax; ++x) {
    const auto sample = static_cast<std::int16_t>(x);
    const std::uint8_t u = ulaw_encode(sample);
    const std::uint8_t a = alaw_encode(sample);
    const int ulaw = ulaw_decode(u);
    const int alaw = alaw_decode(a);
    // Half a step, one more for the one's-complement negatives; the clip at the top.
    const int ulaw_bound = std::abs(x) > 32635 ? 644 : (4 << segment_of_ulaw(u)) + 1;
    const int alaw_segment = segment_of_alaw(a);
    const int alaw_bound = (alaw_segment == 0 ? 8 : 8 << (alaw_segment - 1)) + 1;
    ASSERT_LE(std::abs(ulaw - x), ulaw_bound) << x;
    ASSERT_LE(std::abs(alaw - x), alaw_bound) << x;
    // Monotonic.
    ASSERT_GE(ulaw, previous_ulaw) << x;
    ASSERT_GE(alaw, previous_alaw) << x;
    previous_ulaw = ulaw;
    previous_alaw = alaw;
  }
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::vector<std::uint8_t> out;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return out;
  std::array<std::uint8_t, 4096> chunk{};
  std::size_t n = 0;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), f)) > 0)
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  std::fclose(f);
  return out;
}

// ffmpeg's pcm_mulaw and pcm_alaw decoders give the same 16-bit value for every code. (Its
// encoders are no oracle: they place the decision levels halfway between output levels,
// which at segment boundaries is not where G.711 puts them.)
TEST(G711, DecodesEveryCodeAsFfmpegDoes) {
  if (std::system("command -v ffmpeg >/dev/null 2>&1") != 0) GTEST_SKIP() << "no ffmpeg";
  std::string pattern = (std::filesystem::temp_directory_path() / "rtcpp-g711-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string codes = pattern + "/codes.raw";
  {
    std::FILE* f = std::fopen(codes.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    for (int code = 0; code < 256; ++code) std::fputc(code, f);
    std::fclose(f);
  }
  for (const char* law : {"mulaw", "alaw"}) {
    const std::string out = pattern + "/" + law + ".s16";
    const std::string command = std::string("ffmpeg -v error -y -f ") + law +
                                " -ar 8000 -ac 1 -i " + codes + " -f s16le " + out;
    ASSERT_EQ(std::system(command.c_str()), 0) << law;
    const std::vector<std::uint8_t> pcm = read_file(out);
    ASSERT_EQ(pcm.size(), 512u) << law;
    for (int code = 0; code < 256; ++code) {
      const auto value = static_cast<std::int16_t>(pcm[2 * code] | (pcm[2 * code + 1] << 8));
      const auto c = static_cast<std::uint8_t>(code);
      EXPECT_EQ(std::string(law) == "mulaw" ? ulaw_decode(c) : alaw_decode(c), value)
          << law << " code " << code;
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(pattern, ignored);
}

TEST(G711, SpanFunctionsMatchTheScalarOnes) {
  std::vector<std::int16_t> samples;
  for (int x = kMin; x <= kMax; x += 37) samples.push_back(static_cast<std::int16_t>(x));
  std::vector<std::uint8_t> ulaw(samples.size());
  std::vector<std::uint8_t> alaw(samples.size());
  ulaw_encode(samples, ulaw);
  alaw_encode(samples, alaw);
  std::vector<std::int16_t> ulaw_back(samples.size());
  std::vector<std::int16_t> alaw_back(samples.size());
  ulaw_decode(ulaw, ulaw_back);
  alaw_decode(alaw, alaw_back);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    ASSERT_EQ(ulaw[i], ulaw_encode(samples[i]));
    ASSERT_EQ(alaw[i], alaw_encode(samples[i]));
    ASSERT_EQ(ulaw_back[i], ulaw_decode(ulaw[i]));
    ASSERT_EQ(alaw_back[i], alaw_decode(alaw[i]));
  }
}

media::AudioFrame sine_frame(int samples, int channels, double amplitude = 10000) {
  media::AudioFrame frame;
  frame.sample_rate = 8000;
  frame.channels = channels;
  for (int i = 0; i < samples; ++i) {
    for (int c = 0; c < channels; ++c) {
      frame.samples.push_back(static_cast<std::int16_t>(
          std::lround(amplitude * std::sin(2 * 3.14159265358979 * 400 * i / 8000 + c))));
    }
  }
  return frame;
}

AudioEncoderConfig g711_config(int channels, int frame_ms) {
  AudioEncoderConfig config;
  config.sample_rate = 8000;
  config.channels = channels;
  config.frame_ms = frame_ms;
  return config;
}

TEST(G711, EncoderAndDecoderRoundTrip) {
  for (const AudioCodec codec : {AudioCodec::kPcmu, AudioCodec::kPcma}) {
    for (const int channels : {1, 2}) {
      for (const int frame_ms : {10, 20, 30, 60}) {
        auto encoder = make_g711_encoder(codec, g711_config(channels, frame_ms));
        ASSERT_TRUE(encoder);
        EXPECT_EQ((*encoder)->codec(), codec);
        EXPECT_EQ((*encoder)->implementation(), "rtcpp");
        EXPECT_EQ((*encoder)->sample_rate(), 8000);
        EXPECT_EQ((*encoder)->channels(), channels);
        EXPECT_EQ((*encoder)->frame_samples(), frame_ms * 8);
        const media::AudioFrame frame = sine_frame(frame_ms * 8, channels);
        Buffer packet{1, 2, 3};
        ASSERT_TRUE((*encoder)->encode(frame, packet));
        ASSERT_EQ(packet.size(), frame.samples.size());
        for (std::size_t i = 0; i < packet.size(); ++i) {
          ASSERT_EQ(packet[i], codec == AudioCodec::kPcmu ? ulaw_encode(frame.samples[i])
                                                          : alaw_encode(frame.samples[i]));
        }

        auto decoder = make_g711_decoder(codec, 8000, channels);
        ASSERT_TRUE(decoder);
        EXPECT_EQ((*decoder)->codec(), codec);
        EXPECT_EQ((*decoder)->implementation(), "rtcpp");
        media::AudioFrame out;
        ASSERT_TRUE((*decoder)->decode(packet, out));
        EXPECT_EQ(out.sample_rate, 8000);
        EXPECT_EQ(out.channels, channels);
        ASSERT_EQ(out.samples.size(), frame.samples.size());
        for (std::size_t i = 0; i < out.samples.size(); ++i)
          ASSERT_LE(std::abs(out.samples[i] - frame.samples[i]), 300);
      }
    }
  }
}

TEST(G711, EncoderRefusesOtherShapes) {
  auto encoder = make_g711_encoder(AudioCodec::kPcmu, g711_config(1, 20));
  ASSERT_TRUE(encoder);
  Buffer out;
  for (media::AudioFrame frame : {sine_frame(159, 1), sine_frame(160, 2), sine_frame(80, 2)}) {
    auto result = (*encoder)->encode(frame, out);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().type(), RTCErrorType::kInvalidAccessError);
  }
  media::AudioFrame wrong_rate = sine_frame(160, 1);
  wrong_rate.sample_rate = 16000;
  EXPECT_EQ((*encoder)->encode(wrong_rate, out).error().type(), RTCErrorType::kInvalidAccessError);

  EXPECT_TRUE((*encoder)->set_bitrate(64000));
  EXPECT_EQ((*encoder)->set_bitrate(32000).error().type(), RTCErrorType::kRangeError);
  EXPECT_EQ((*encoder)->set_bitrate(128000).error().type(), RTCErrorType::kRangeError);
  EXPECT_TRUE((*encoder)->set_expected_loss(20));
  auto stereo = make_g711_encoder(AudioCodec::kPcma, g711_config(2, 20));
  ASSERT_TRUE(stereo);
  EXPECT_TRUE((*stereo)->set_bitrate(128000));
  EXPECT_FALSE((*stereo)->set_bitrate(64000));
}

TEST(G711, FactoriesRefuseBadConfigurations) {
  EXPECT_EQ(make_g711_encoder(AudioCodec::kOpus, g711_config(1, 20)).error().type(),
            RTCErrorType::kNotSupportedError);
  AudioEncoderConfig wideband = g711_config(1, 20);
  wideband.sample_rate = 16000;
  EXPECT_EQ(make_g711_encoder(AudioCodec::kPcmu, wideband).error().type(),
            RTCErrorType::kRangeError);
  for (const int channels : {0, 3}) {
    EXPECT_EQ(make_g711_encoder(AudioCodec::kPcmu, g711_config(channels, 20)).error().type(),
              RTCErrorType::kRangeError);
    EXPECT_EQ(make_g711_decoder(AudioCodec::kPcma, 8000, channels).error().type(),
              RTCErrorType::kRangeError);
  }
  for (const int frame_ms : {0, 5, 25, 70, -10}) {
    EXPECT_EQ(make_g711_encoder(AudioCodec::kPcma, g711_config(1, frame_ms)).error().type(),
              RTCErrorType::kRangeError)
        << frame_ms;
  }
  EXPECT_EQ(make_g711_decoder(AudioCodec::kPcmu, 48000, 1).error().type(),
            RTCErrorType::kRangeError);
  EXPECT_EQ(make_g711_decoder(AudioCodec::kOpus, 8000, 1).error().type(),
            RTCErrorType::kNotSupportedError);
}

TEST(G711, DecoderRefusesPacketsOfTheWrongShape) {
  auto decoder = make_g711_decoder(AudioCodec::kPcmu, 8000, 2);
  ASSERT_TRUE(decoder);
  media::AudioFrame out;
  EXPECT_EQ((*decoder)->decode(Buffer{1, 2, 3}, out).error().type(), RTCErrorType::kDataError);
  EXPECT_EQ((*decoder)->decode(Buffer{}, out).error().type(), RTCErrorType::kDataError);
  EXPECT_TRUE((*decoder)->decode(Buffer{1, 2}, out));
}

double energy(const std::vector<std::int16_t>& samples, std::size_t from, std::size_t count) {
  double sum = 0;
  for (std::size_t i = from; i < from + count; ++i)
    sum += static_cast<double>(samples[i]) * samples[i];
  return sum;
}

TEST(G711, ConcealmentRepeatsTheLastTenMillisecondsFadingOut) {
  auto encoder = make_g711_encoder(AudioCodec::kPcma, g711_config(1, 20));
  auto decoder = make_g711_decoder(AudioCodec::kPcma, 8000, 1);
  ASSERT_TRUE(encoder && decoder);
  media::AudioFrame silence_before;
  // Nothing decoded yet: silence.
  ASSERT_TRUE((*decoder)->conceal(80, silence_before));
  EXPECT_EQ(silence_before.samples, std::vector<std::int16_t>(80, 0));

  Buffer packet;
  ASSERT_TRUE((*encoder)->encode(sine_frame(160, 1), packet));
  media::AudioFrame decoded;
  ASSERT_TRUE((*decoder)->decode(packet, decoded));
  const std::vector<std::int16_t> last(decoded.samples.begin() + 80, decoded.samples.end());

  // 70 ms lost, concealed in 20 ms pieces (the last one 10 ms).
  std::vector<std::int16_t> concealed;
  for (const int samples : {160, 160, 160, 80}) {
    media::AudioFrame out;
    ASSERT_TRUE((*decoder)->conceal(samples, out));
    EXPECT_EQ(out.sample_rate, 8000);
    EXPECT_EQ(out.channels, 1);
    ASSERT_EQ(out.samples.size(), static_cast<std::size_t>(samples));
    concealed.insert(concealed.end(), out.samples.begin(), out.samples.end());
  }
  ASSERT_EQ(concealed.size(), 560u);
  EXPECT_EQ(concealed[0], last[0]);  // the repetition starts at full level
  double previous = energy(last, 0, 80);
  for (int period = 0; period < 6; ++period) {
    const double e = energy(concealed, period * 80, 80);
    EXPECT_LT(e, previous) << period;
    EXPECT_GT(e, 0) << period;
    // Between -6 dB at the period's start and -12 dB at its end, in power: from 1/4 to 1/16
    // of the period before (the first from 1 to 1/4 of the original).
    previous = e;
  }
  for (std::size_t i = 480; i < concealed.size(); ++i) ASSERT_EQ(concealed[i], 0) << i;
  // Each sample is the original's, scaled down.
  for (std::size_t i = 0; i < 480; ++i) {
    ASSERT_LE(std::abs(concealed[i]), std::abs(last[i % 80])) << i;
    ASSERT_GE(concealed[i] * last[i % 80], 0) << i;
  }

  // A packet again: decoded as is, and the next loss starts again at full level.
  ASSERT_TRUE((*decoder)->decode(packet, decoded));
  media::AudioFrame again;
  ASSERT_TRUE((*decoder)->decode_fec(packet, 80, again));
  EXPECT_EQ(again.samples[0], last[0]);
  EXPECT_GT(energy(again.samples, 0, 80), energy(last, 0, 80) / 4);

  EXPECT_EQ((*decoder)->conceal(0, again).error().type(), RTCErrorType::kRangeError);
  EXPECT_EQ((*decoder)->conceal(100000, again).error().type(), RTCErrorType::kRangeError);
}

TEST(G711, ConcealmentKeepsStereoChannelsApart) {
  auto decoder = make_g711_decoder(AudioCodec::kPcmu, 8000, 2);
  ASSERT_TRUE(decoder);
  Buffer packet;
  for (int i = 0; i < 80; ++i) {
    packet.push_back(ulaw_encode(1000));
    packet.push_back(ulaw_encode(-1000));
  }
  media::AudioFrame out;
  ASSERT_TRUE((*decoder)->decode(packet, out));
  ASSERT_TRUE((*decoder)->conceal(40, out));
  ASSERT_EQ(out.samples.size(), 80u);
  for (int i = 0; i < 40; ++i) {
    EXPECT_GT(out.samples[2 * i], 0) << i;
    EXPECT_LT(out.samples[2 * i + 1], 0) << i;
  }
}

}  // namespace
}  // namespace rtcpp::codec
