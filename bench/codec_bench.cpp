// Per-frame encode and decode time of every codec on the moving test pattern, at 640x480 and
// 1280x720 (30 fps, 1 and 2.5 Mbit/s), one thread each, as real-time senders run them; and
// 20 ms of Opus and G.711 audio. The frames are made before timing starts.
#include <benchmark/benchmark.h>

#include <vector>

#include "codec/codec.hpp"
#include "media/test_source.hpp"

namespace rtcpp::codec {
namespace {

constexpr int kClipFrames = 60;

std::vector<media::VideoFrame> clip(int width, int height) {
  auto pattern = media::TestPattern::create(width, height);
  std::vector<media::VideoFrame> frames;
  for (int n = 0; n < kClipFrames; ++n) {
    auto frame =
        pattern->render({static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n * 33)});
    frame.timestamp_us = n * 33'333;
    frames.push_back(std::move(frame));
  }
  return frames;
}

VideoEncoderConfig config_for(int width, int height) {
  VideoEncoderConfig config;
  config.width = width;
  config.height = height;
  config.bitrate_bps = width >= 1280 ? 2'500'000 : 1'000'000;
  config.threads = 1;
  return config;
}

void BM_VideoEncode(benchmark::State& state) {
  const auto codec = static_cast<VideoCodec>(state.range(0));
  const int width = static_cast<int>(state.range(1));
  const int height = width == 640 ? 480 : 720;
  if (!can_encode(codec)) {
    state.SkipWithError("not in this build");
    return;
  }
  const auto frames = clip(width, height);
  auto encoder = create_video_encoder(codec, config_for(width, height));
  if (!encoder) {
    state.SkipWithError(encoder.error().message().c_str());
    return;
  }
  std::vector<EncodedVideoFrame> out;
  std::size_t n = 0;
  std::size_t bytes = 0;
  std::int64_t offset = 0;
  for (auto _ : state) {
    auto frame = frames[n % frames.size()];
    frame.timestamp_us += offset;
    if (++n % frames.size() == 0) offset += kClipFrames * 33'333;
    (void)(*encoder)->encode(frame, false, out);
    for (const auto& f : out) bytes += f.data.size();
  }
  state.SetLabel(std::string(rtp_name(codec)) + " " + std::to_string(width) + "x" +
                 std::to_string(height) + " " + std::string((*encoder)->implementation()));
  state.counters["kbps"] =
      benchmark::Counter(static_cast<double>(bytes) * 8 * 30 / 1000 / static_cast<double>(n));
}

void BM_VideoDecode(benchmark::State& state) {
  const auto codec = static_cast<VideoCodec>(state.range(0));
  const int width = static_cast<int>(state.range(1));
  const int height = width == 640 ? 480 : 720;
  if (!can_decode(codec)) {
    state.SkipWithError("not in this build");
    return;
  }
  // Encoded once: a key frame and then deltas, decoded in a loop from a fresh decoder each
  // pass (so every pass starts at its key frame).
  const auto frames = clip(width, height);
  auto encoder = create_video_encoder(codec, config_for(width, height));
  std::vector<Buffer> encoded;
  std::vector<EncodedVideoFrame> out;
  for (const auto& frame : frames) {
    (void)(*encoder)->encode(frame, false, out);
    for (auto& f : out) encoded.push_back(std::move(f.data));
  }
  auto decoder = create_video_decoder(codec);
  std::size_t n = 0;
  for (auto _ : state) {
    if (n > 0 && n % encoded.size() == 0) {
      state.PauseTiming();
      decoder = create_video_decoder(codec);
      state.ResumeTiming();
    }
    auto picture = (*decoder)->decode(encoded[n % encoded.size()], 0);
    benchmark::DoNotOptimize(picture);
    ++n;
  }
  state.SetLabel(std::string(rtp_name(codec)) + " " + std::to_string(width) + "x" +
                 std::to_string(height) + " " + std::string((*decoder)->implementation()));
}

void video_args(benchmark::internal::Benchmark* b) {
  for (auto codec : {VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264, VideoCodec::kAv1}) {
    for (int width : {640, 1280}) b->Args({static_cast<int>(codec), width});
  }
  b->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_VideoEncode)->Apply(video_args);
BENCHMARK(BM_VideoDecode)->Apply(video_args);

void BM_AudioEncode(benchmark::State& state) {
  const auto codec = static_cast<AudioCodec>(state.range(0));
  AudioEncoderConfig config;
  config.sample_rate = codec == AudioCodec::kOpus ? 48000 : 8000;
  config.bitrate_bps = codec == AudioCodec::kOpus ? 32000 : 64000;
  auto encoder = create_audio_encoder(codec, config);
  auto tone = media::ToneGenerator::create(440, config.sample_rate, 1);
  const auto frame = tone->next((*encoder)->frame_samples());
  Buffer packet;
  for (auto _ : state) (void)(*encoder)->encode(frame, packet);
  state.SetLabel(std::string(rtp_name(codec)) + " 20 ms");
}
BENCHMARK(BM_AudioEncode)
    ->Arg(static_cast<int>(AudioCodec::kOpus))
    ->Arg(static_cast<int>(AudioCodec::kPcmu))
    ->Unit(benchmark::kMicrosecond);

void BM_AudioDecode(benchmark::State& state) {
  const auto codec = static_cast<AudioCodec>(state.range(0));
  AudioEncoderConfig config;
  config.sample_rate = codec == AudioCodec::kOpus ? 48000 : 8000;
  config.bitrate_bps = codec == AudioCodec::kOpus ? 32000 : 64000;
  auto encoder = create_audio_encoder(codec, config);
  auto decoder = create_audio_decoder(codec, config.sample_rate, 1);
  auto tone = media::ToneGenerator::create(440, config.sample_rate, 1);
  Buffer packet;
  (void)(*encoder)->encode(tone->next((*encoder)->frame_samples()), packet);
  media::AudioFrame out;
  for (auto _ : state) (void)(*decoder)->decode(packet, out);
  state.SetLabel(std::string(rtp_name(codec)) + " 20 ms");
}
BENCHMARK(BM_AudioDecode)
    ->Arg(static_cast<int>(AudioCodec::kOpus))
    ->Arg(static_cast<int>(AudioCodec::kPcmu))
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rtcpp::codec
