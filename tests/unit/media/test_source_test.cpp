#include "media/test_source.hpp"

#include <gtest/gtest.h>

#include "media/resampler.hpp"
#include "media/video_frame.hpp"

namespace rtcpp::media {
namespace {

TEST(TestPattern, StampReadsBack) {
  for (const auto& [w, h] : {std::pair{64, 48}, std::pair{320, 240}, std::pair{640, 480},
                             std::pair{1280, 720}, std::pair{333, 201}}) {
    auto pattern = TestPattern::create(w, h);
    ASSERT_TRUE(pattern);
    for (const PatternStamp stamp :
         {PatternStamp{0, 0}, PatternStamp{1, 33}, PatternStamp{0xFFFFFFFF, 0x12345678},
          PatternStamp{4242, 99}}) {
      const VideoFrame frame = pattern->render(stamp);
      EXPECT_EQ(frame.width(), w);
      EXPECT_EQ(read_pattern_stamp(frame), stamp) << w << "x" << h;
      EXPECT_EQ(frame.timestamp_us, static_cast<std::int64_t>(stamp.time_ms) * 1000);
    }
  }
}

TEST(TestPattern, MovesAndSurvivesScaling) {
  auto pattern = TestPattern::create(640, 480);
  const VideoFrame a = pattern->render({10, 0});
  const VideoFrame b = pattern->render({11, 0});
  EXPECT_LT(*psnr(a, b), 30.0);  // consecutive frames differ: there is motion to code
  // A receiver that got a downscaled stream still reads the stamp.
  auto half = scale(a, 320, 240);
  ASSERT_TRUE(half);
  EXPECT_EQ(read_pattern_stamp(*half)->frame_number, 10u);
}

TEST(TestPattern, NoStampInOtherPictures) {
  auto black = VideoFrame::create(640, 480);
  EXPECT_FALSE(read_pattern_stamp(*black));
  EXPECT_FALSE(TestPattern::create(32, 32));
}

TEST(ToneGenerator, FrequencyAndContinuity) {
  auto tone = ToneGenerator::create(1000, 48000, 2);
  ASSERT_TRUE(tone);
  AudioFrame a = tone->next(480);
  AudioFrame b = tone->next(480);
  EXPECT_EQ(a.samples.size(), 960u);
  EXPECT_EQ(b.timestamp_us, 10000);
  a.samples.insert(a.samples.end(), b.samples.begin(), b.samples.end());
  EXPECT_NEAR(*estimate_tone_frequency(a), 1000.0, 1.0);
  EXPECT_FALSE(ToneGenerator::create(30000, 48000, 1));
  EXPECT_FALSE(ToneGenerator::create(440, 48000, 0));
  AudioFrame silence;
  silence.samples.assign(4800, 0);
  EXPECT_FALSE(estimate_tone_frequency(silence));
}

TEST(Resampler, KeepsTheToneAcrossRates) {
  auto tone = ToneGenerator::create(440, 44100, 1);
  auto resampler = Resampler::create(44100, 48000, 1);
  ASSERT_TRUE(resampler);
  AudioFrame all;
  all.sample_rate = 48000;
  AudioFrame out;
  std::size_t total = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(resampler->process(tone->next(441), out));
    EXPECT_EQ(out.sample_rate, 48000);
    total += out.samples.size();
    all.samples.insert(all.samples.end(), out.samples.begin(), out.samples.end());
  }
  // One second in, about one second out (the filter holds back a few samples).
  EXPECT_NEAR(static_cast<double>(total), 48000.0, 100.0);
  EXPECT_NEAR(*estimate_tone_frequency(all), 440.0, 1.0);
  AudioFrame wrong;
  wrong.sample_rate = 48000;
  EXPECT_EQ(resampler->process(wrong, out).error().type(), RTCErrorType::kInvalidAccessError);
  EXPECT_FALSE(Resampler::create(0, 48000, 1));
  EXPECT_FALSE(Resampler::create(48000, 48000, 9));
  EXPECT_FALSE(Resampler::create(48000, 16000, 1, 11));
}

TEST(VideoConvert, Nv12AndYuyvRoundTrip) {
  auto pattern = TestPattern::create(320, 240);
  const VideoFrame frame = pattern->render({7, 0});
  Buffer nv12;
  ASSERT_TRUE(nv12_from_i420(frame, nv12));
  EXPECT_EQ(nv12.size(), VideoFrame::byte_size(320, 240));
  auto back = i420_from_nv12(nv12, 320, 240);
  ASSERT_TRUE(back);
  EXPECT_EQ(*psnr(frame, *back), 100.0);  // NV12 holds the same samples, only interleaved
  EXPECT_FALSE(i420_from_nv12(BytesView(nv12).first(100), 320, 240));
  EXPECT_FALSE(i420_from_yuyv(BytesView(nv12).first(100), 320, 240));
  EXPECT_FALSE(i420_from_nv12(nv12, 0, 240));
  // YUYV of a flat grey picture is Y=128, U=V=128 everywhere.
  Buffer yuyv(320 * 240 * 2);
  std::fill(yuyv.begin(), yuyv.end(), 128);
  auto grey = i420_from_yuyv(yuyv, 320, 240);
  ASSERT_TRUE(grey);
  EXPECT_EQ(grey->data_y()[1000], 128);
  EXPECT_EQ(grey->data_u()[100], 128);
}

TEST(VideoConvert, ArgbAndMjpegRefuseBadInput) {
  Buffer argb(64 * 48 * 4);
  std::fill(argb.begin(), argb.end(), 255);
  auto white = i420_from_argb(argb, 64 * 4, 64, 48);
  ASSERT_TRUE(white);
  EXPECT_GE(white->data_y()[0], 234);
  EXPECT_FALSE(i420_from_argb(argb, 64, 64, 48));  // stride below a row
  EXPECT_FALSE(i420_from_argb(BytesView(argb).first(10), 64 * 4, 64, 48));
  const std::uint8_t not_jpeg[] = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(i420_from_mjpeg(not_jpeg, 64, 48).error().type(), RTCErrorType::kDataError);
  EXPECT_FALSE(scale(*white, 0, 10));
  auto other = VideoFrame::create(32, 48);
  EXPECT_FALSE(psnr(*white, *other));
  EXPECT_FALSE(VideoFrame::create(0, 10));
  EXPECT_FALSE(VideoFrame::create(kMaxVideoDimension + 1, 10));
}

}  // namespace
}  // namespace rtcpp::media
