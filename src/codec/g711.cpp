#include "codec/g711.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace rtcpp::codec {

namespace {

// Negative samples take their one's complement as magnitude (-1 -> 0 ... -32768 -> 32767),
// which is how G.711 treats the extra negative value of two's complement input.
int magnitude_of(std::int16_t sample) noexcept {
  return sample < 0 ? ~static_cast<int>(sample) : static_cast<int>(sample);
}

// The μ-law top: the biased magnitude must stay within 15 bits (G.711 clips at 8158 in
// 14-bit units, 32635 in 16).
constexpr int kUlawClip = 32635;
constexpr int kUlawBias = 132;

}  // namespace

std::uint8_t ulaw_encode(std::int16_t sample) noexcept {
  const int sign = sample < 0 ? 0x80 : 0;
  const int biased = std::min(magnitude_of(sample), kUlawClip) + kUlawBias;
  // biased is in [132, 32767]: its top bit is bit 7 (segment 0) to bit 14 (segment 7).
  const int segment = std::bit_width(static_cast<unsigned>(biased) >> 8);
  const int step = (biased >> (segment + 3)) & 0xF;
  return static_cast<std::uint8_t>(~(sign | (segment << 4) | step));
}

std::uint8_t alaw_encode(std::int16_t sample) noexcept {
  const int sign = sample < 0 ? 0 : 0x80;  // A-law marks positive values
  const int magnitude = magnitude_of(sample);
  // Segments 0 and 1 share a step of 16 (2 in 13 bits); from there each step doubles.
  const int segment = std::bit_width(static_cast<unsigned>(magnitude) >> 8);
  const int step = (magnitude >> (segment == 0 ? 4 : segment + 3)) & 0xF;
  return static_cast<std::uint8_t>((sign | (segment << 4) | step) ^ 0x55);
}

void ulaw_encode(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = ulaw_encode(in[i]);
}
void alaw_encode(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = alaw_encode(in[i]);
}
void ulaw_decode(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = ulaw_decode(in[i]);
}
void alaw_decode(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept {
  for (std::size_t i = 0; i < in.size() && i < out.size(); ++i) out[i] = alaw_decode(in[i]);
}

namespace {

constexpr int kSamplesPer10Ms = kG711SampleRate / 100;
constexpr int kMaxFrameMs = 60;
// Concealment fades out over this many 10 ms periods (6 dB each), then stays silent.
constexpr int kFadePeriods = 6;
// The most samples per channel one conceal() call gives (120 ms, the longest Opus packet).
constexpr int kMaxConcealSamples = 12 * kSamplesPer10Ms;

Result<void> check_g711(AudioCodec codec, int sample_rate, int channels) {
  if (codec != AudioCodec::kPcmu && codec != AudioCodec::kPcma)
    return not_supported_error("G.711 coders do PCMU and PCMA only");
  if (sample_rate != kG711SampleRate)
    return range_error("G.711 runs at 8000 Hz, not " + std::to_string(sample_rate));
  if (channels != 1 && channels != 2)
    return range_error("G.711 takes 1 or 2 channels, not " + std::to_string(channels));
  return {};
}

class G711Encoder final : public AudioEncoder {
 public:
  G711Encoder(AudioCodec codec, int channels, int frame_ms)
      : codec_(codec), channels_(channels), frame_samples_(frame_ms * kSamplesPer10Ms / 10) {}

  [[nodiscard]] AudioCodec codec() const noexcept override { return codec_; }
  [[nodiscard]] std::string_view implementation() const noexcept override { return "rtcpp"; }
  [[nodiscard]] int sample_rate() const noexcept override { return kG711SampleRate; }
  [[nodiscard]] int channels() const noexcept override { return channels_; }
  [[nodiscard]] int frame_samples() const noexcept override { return frame_samples_; }

  Result<void> encode(const media::AudioFrame& frame, Buffer& out) override {
    const auto expected = static_cast<std::size_t>(frame_samples_) * channels_;
    if (frame.sample_rate != kG711SampleRate || frame.channels != channels_ ||
        frame.samples.size() != expected)
      return invalid_access_error("G.711 encoder takes " + std::to_string(frame_samples_) +
                                  " samples of " + std::to_string(channels_) +
                                  " channel(s) at 8000 Hz");
    // RFC 3551 4.5.14: channels interleaved sample by sample, as AudioFrame holds them.
    out.resize(expected);
    if (codec_ == AudioCodec::kPcmu) {
      ulaw_encode(frame.samples, out.mutable_view());
    } else {
      alaw_encode(frame.samples, out.mutable_view());
    }
    return {};
  }

  Result<void> set_bitrate(std::uint32_t bitrate_bps) override {
    if (bitrate_bps != kG711BitratePerChannel * static_cast<std::uint32_t>(channels_))
      return range_error("G.711 runs at 64000 bit/s per channel only");
    return {};
  }
  Result<void> set_expected_loss(int) override { return {}; }

 private:
  AudioCodec codec_;
  int channels_;
  int frame_samples_;
};

class G711Decoder final : public AudioDecoder {
 public:
  G711Decoder(AudioCodec codec, int channels)
      : codec_(codec),
        channels_(channels),
        history_(static_cast<std::size_t>(kSamplesPer10Ms) * channels, 0) {}

  [[nodiscard]] AudioCodec codec() const noexcept override { return codec_; }
  [[nodiscard]] std::string_view implementation() const noexcept override { return "rtcpp"; }
  [[nodiscard]] int sample_rate() const noexcept override { return kG711SampleRate; }
  [[nodiscard]] int channels() const noexcept override { return channels_; }

  Result<void> decode(BytesView packet, media::AudioFrame& out) override {
    if (packet.empty() || packet.size() % static_cast<std::size_t>(channels_) != 0)
      return data_error("G.711 packet of " + std::to_string(packet.size()) + " bytes for " +
                        std::to_string(channels_) + " channel(s)");
    out.sample_rate = kG711SampleRate;
    out.channels = channels_;
    out.samples.resize(packet.size());
    if (codec_ == AudioCodec::kPcmu) {
      ulaw_decode(packet, out.samples);
    } else {
      alaw_decode(packet, out.samples);
    }
    remember(out.samples);
    lost_samples_ = 0;
    cursor_ = 0;
    return {};
  }

  Result<void> conceal(int samples, media::AudioFrame& out) override {
    if (samples < 1 || samples > kMaxConcealSamples)
      return range_error("G.711 conceals 1 to " + std::to_string(kMaxConcealSamples) +
                         " samples at a time");
    out.sample_rate = kG711SampleRate;
    out.channels = channels_;
    out.samples.assign(static_cast<std::size_t>(samples) * channels_, 0);
    constexpr int kFadeSamples = kFadePeriods * kSamplesPer10Ms;
    for (int i = 0; i < samples; ++i) {
      if (!have_history_ || lost_samples_ >= kFadeSamples) break;
      // The gain halves every 10 ms, falling linearly within each period so that no step
      // is heard at the period boundaries.
      const int period = lost_samples_ / kSamplesPer10Ms;
      const int within = lost_samples_ % kSamplesPer10Ms;
      const double start = std::ldexp(1.0, -period);
      const double gain = start - (start / 2) * within / kSamplesPer10Ms;
      ++lost_samples_;
      const std::size_t from = static_cast<std::size_t>(cursor_) * channels_;
      for (int c = 0; c < channels_; ++c) {
        out.samples[static_cast<std::size_t>(i) * channels_ + c] =
            static_cast<std::int16_t>(history_[from + c] * gain);
      }
      cursor_ = (cursor_ + 1) % kSamplesPer10Ms;
    }
    return {};
  }

  Result<void> decode_fec(BytesView, int samples, media::AudioFrame& out) override {
    return conceal(samples, out);  // G.711 carries no redundancy
  }

 private:
  // Keeps the last 10 ms decoded (per channel, interleaved) for concealment.
  void remember(std::span<const std::int16_t> samples) {
    const std::size_t size = history_.size();
    if (samples.size() >= size) {
      std::copy(samples.end() - static_cast<std::ptrdiff_t>(size), samples.end(), history_.begin());
    } else {
      std::copy(history_.begin() + static_cast<std::ptrdiff_t>(samples.size()), history_.end(),
                history_.begin());
      std::copy(samples.begin(), samples.end(),
                history_.end() - static_cast<std::ptrdiff_t>(samples.size()));
    }
    have_history_ = true;
  }

  AudioCodec codec_;
  int channels_;
  std::vector<std::int16_t> history_;
  bool have_history_ = false;
  int lost_samples_ = 0;  // per channel since the last packet, counted to the fade's end
  int cursor_ = 0;        // the next history sample to repeat
};

}  // namespace

Result<std::unique_ptr<AudioEncoder>> make_g711_encoder(AudioCodec codec,
                                                        const AudioEncoderConfig& config) {
  if (auto ok = check_g711(codec, config.sample_rate, config.channels); !ok) return ok.error();
  if (config.frame_ms < 10 || config.frame_ms > kMaxFrameMs || config.frame_ms % 10 != 0)
    return range_error("G.711 frame_ms is 10, 20, ... 60, not " + std::to_string(config.frame_ms));
  return std::unique_ptr<AudioEncoder>(
      std::make_unique<G711Encoder>(codec, config.channels, config.frame_ms));
}

Result<std::unique_ptr<AudioDecoder>> make_g711_decoder(AudioCodec codec, int sample_rate,
                                                        int channels) {
  if (auto ok = check_g711(codec, sample_rate, channels); !ok) return ok.error();
  return std::unique_ptr<AudioDecoder>(std::make_unique<G711Decoder>(codec, channels));
}

}  // namespace rtcpp::codec
