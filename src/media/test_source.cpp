#include "media/test_source.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <string>

namespace rtcpp::media {
namespace {

constexpr int kBandBits = 32;
constexpr int kBandRows = 3;
constexpr std::uint8_t kBlack = 16;  // BT.601 limited range
constexpr std::uint8_t kWhite = 235;
constexpr std::uint8_t kNeutral = 128;

struct Yuv {
  std::uint8_t y, u, v;
};
// 75 % colour bars in BT.601: white, yellow, cyan, green, magenta, red, blue, black.
constexpr std::array<Yuv, 8> kBars{{{180, 128, 128},
                                    {162, 44, 142},
                                    {131, 156, 44},
                                    {112, 72, 58},
                                    {84, 184, 198},
                                    {65, 100, 212},
                                    {35, 212, 114},
                                    {16, 128, 128}}};

// Digits 0-9 in a 3x5 font, a row of three bits per line, top line first.
constexpr std::array<std::array<std::uint8_t, 5>, 10> kDigits{{{7, 5, 5, 5, 7},
                                                               {2, 6, 2, 2, 7},
                                                               {7, 1, 7, 4, 7},
                                                               {7, 1, 7, 1, 7},
                                                               {5, 5, 7, 1, 1},
                                                               {7, 4, 7, 1, 7},
                                                               {7, 4, 7, 5, 7},
                                                               {7, 1, 1, 1, 1},
                                                               {7, 5, 7, 5, 7},
                                                               {7, 5, 7, 1, 7}}};

int block_width(int width) noexcept {
  return width / kBandBits;
}
int block_height(int height) noexcept {
  return std::max(8, height / 30);
}
int digit_scale(int height) noexcept {
  return std::max(1, height / 120);
}
// Rows the stamp covers: the band, then a strip of digits with a margin.
int stamp_height(int height) noexcept {
  return kBandRows * block_height(height) + 5 * digit_scale(height) + 4;
}

std::uint32_t check_word(const PatternStamp& stamp) noexcept {
  const std::uint32_t t = stamp.time_ms;
  return stamp.frame_number ^ ((t << 13) | (t >> 19)) ^ 0xA5C35A3Cu;
}

// 0, 1, ..., span, span - 1, ..., 1, 0, 1, ...
int bounce(std::uint64_t step, int span) noexcept {
  if (span <= 0) return 0;
  const std::uint64_t period = 2 * static_cast<std::uint64_t>(span);
  const auto phase = static_cast<int>(step % period);
  return phase <= span ? phase : 2 * span - phase;
}

void fill(VideoFrame& frame, int x0, int y0, int w, int h, Yuv colour) {
  const int x1 = std::min(frame.width(), x0 + w);
  const int y1 = std::min(frame.height(), y0 + h);
  x0 = std::max(0, x0);
  y0 = std::max(0, y0);
  if (x0 >= x1 || y0 >= y1) return;  // wholly outside (digits past a narrow picture's edge)
  for (int y = y0; y < y1; ++y) {
    std::fill(frame.data_y() + static_cast<std::ptrdiff_t>(y) * frame.stride_y() + x0,
              frame.data_y() + static_cast<std::ptrdiff_t>(y) * frame.stride_y() + x1, colour.y);
  }
  for (int y = y0 / 2; y < (y1 + 1) / 2; ++y) {
    for (int x = x0 / 2; x < (x1 + 1) / 2; ++x) {
      frame.data_u()[static_cast<std::ptrdiff_t>(y) * frame.stride_u() + x] = colour.u;
      frame.data_v()[static_cast<std::ptrdiff_t>(y) * frame.stride_v() + x] = colour.v;
    }
  }
}

void draw_number(VideoFrame& frame, int x, int y, int scale, std::uint32_t value) {
  const std::string digits = std::to_string(value);
  for (const char c : digits) {
    const auto& glyph = kDigits[static_cast<std::size_t>(c - '0')];
    for (int row = 0; row < 5; ++row) {
      for (int col = 0; col < 3; ++col) {
        if ((glyph[static_cast<std::size_t>(row)] >> (2 - col) & 1) != 0) {
          fill(frame, x + col * scale, y + row * scale, scale, scale, {kWhite, kNeutral, kNeutral});
        }
      }
    }
    x += 4 * scale;
  }
}

}  // namespace

Result<TestPattern> TestPattern::create(int width, int height) {
  if (width < 64 || height < 48 || width > kMaxVideoDimension || height > kMaxVideoDimension) {
    return range_error("test pattern size " + std::to_string(width) + "x" + std::to_string(height) +
                       " (64x48 at least)");
  }
  return TestPattern(width, height);
}

VideoFrame TestPattern::render(const PatternStamp& stamp) const {
  auto created = VideoFrame::create(width_, height_);
  VideoFrame frame = std::move(*created);  // the size was checked by create()
  const std::uint64_t n = stamp.frame_number;
  const int scroll = static_cast<int>((n * 4) % static_cast<std::uint64_t>(width_));
  // Bars, scrolling left four pixels a frame.
  for (int y = 0; y < height_; ++y) {
    std::uint8_t* row = frame.data_y() + static_cast<std::ptrdiff_t>(y) * frame.stride_y();
    for (int x = 0; x < width_; ++x) {
      row[x] = kBars[static_cast<std::size_t>(((x + scroll) % width_) * 8 / width_)].y;
    }
  }
  for (int y = 0; y < frame.chroma_height(); ++y) {
    for (int x = 0; x < frame.chroma_width(); ++x) {
      const Yuv& bar = kBars[static_cast<std::size_t>(((2 * x + scroll) % width_) * 8 / width_)];
      frame.data_u()[static_cast<std::ptrdiff_t>(y) * frame.stride_u() + x] = bar.u;
      frame.data_v()[static_cast<std::ptrdiff_t>(y) * frame.stride_v() + x] = bar.v;
    }
  }
  // A box bouncing below the stamp.
  const int top = stamp_height(height_);
  const int box = std::max(8, height_ / 6);
  const int box_x = bounce(n * 5, width_ - box);
  const int box_y = top + bounce(n * 3, height_ - top - box);
  fill(frame, box_x, box_y, box, box, {kWhite, 90, 200});
  TestPattern::stamp(frame, stamp);
  frame.timestamp_us = static_cast<std::int64_t>(stamp.time_ms) * 1000;
  return frame;
}

void TestPattern::stamp(VideoFrame& frame, const PatternStamp& stamp) {
  const int bw = block_width(frame.width());
  const int bh = block_height(frame.height());
  fill(frame, 0, 0, frame.width(), stamp_height(frame.height()), {kBlack, kNeutral, kNeutral});
  const std::array<std::uint32_t, kBandRows> words{stamp.frame_number, stamp.time_ms,
                                                   check_word(stamp)};
  for (int row = 0; row < kBandRows; ++row) {
    for (int bit = 0; bit < kBandBits; ++bit) {
      if ((words[static_cast<std::size_t>(row)] >> (kBandBits - 1 - bit) & 1) != 0) {
        fill(frame, bit * bw, row * bh, bw, bh, {kWhite, kNeutral, kNeutral});
      }
    }
  }
  const int scale = digit_scale(frame.height());
  const int y = kBandRows * bh + 2;
  draw_number(frame, 2, y, scale, stamp.frame_number);
  draw_number(frame, frame.width() / 2, y, scale, stamp.time_ms);
}

std::optional<PatternStamp> read_pattern_stamp(const VideoFrame& frame) {
  if (frame.width() < 64 || frame.height() < 48) return std::nullopt;
  const int bw = block_width(frame.width());
  const int bh = block_height(frame.height());
  std::array<std::uint32_t, kBandRows> words{};
  for (int row = 0; row < kBandRows; ++row) {
    for (int bit = 0; bit < kBandBits; ++bit) {
      // The middle half of the block: its edges blur into the neighbours when coded.
      const int x0 = bit * bw + bw / 4;
      const int x1 = bit * bw + bw - bw / 4;
      const int y0 = row * bh + bh / 4;
      const int y1 = row * bh + bh - bh / 4;
      long sum = 0;
      long count = 0;
      for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
          sum += frame.data_y()[static_cast<std::ptrdiff_t>(y) * frame.stride_y() + x];
          ++count;
        }
      }
      const bool one = count > 0 && sum > count * ((kBlack + kWhite) / 2);
      words[static_cast<std::size_t>(row)] =
          words[static_cast<std::size_t>(row)] << 1 | (one ? 1u : 0u);
    }
  }
  const PatternStamp stamp{words[0], words[1]};
  if (check_word(stamp) != words[2]) return std::nullopt;
  return stamp;
}

Result<ToneGenerator> ToneGenerator::create(double frequency_hz, int sample_rate, int channels,
                                            double amplitude) {
  if (sample_rate < 1 || sample_rate > kMaxAudioSampleRate) return range_error("tone sample rate");
  if (channels < 1 || channels > kMaxAudioChannels) return range_error("tone channels");
  if (!(frequency_hz > 0 && frequency_hz < sample_rate / 2.0)) {
    return range_error("tone frequency must be above 0 and below half the sample rate");
  }
  if (!(amplitude >= 0 && amplitude <= 1)) return range_error("tone amplitude out of 0..1");
  return ToneGenerator(frequency_hz, sample_rate, channels, amplitude);
}

AudioFrame ToneGenerator::next(int samples_per_channel) {
  AudioFrame frame;
  frame.sample_rate = sample_rate_;
  frame.channels = channels_;
  frame.timestamp_us =
      static_cast<std::int64_t>(position_ * 1'000'000 / static_cast<std::uint64_t>(sample_rate_));
  const int count = std::max(0, samples_per_channel);
  frame.samples.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(channels_));
  const double step = 2 * std::numbers::pi * frequency_hz_ / sample_rate_;
  for (int i = 0; i < count; ++i) {
    // The phase from the absolute position keeps long runs free of accumulated error.
    const auto position = static_cast<double>(position_ + static_cast<std::uint64_t>(i));
    const auto value = static_cast<std::int16_t>(std::lround(
        amplitude_ * 32767.0 * std::sin(std::fmod(step * position, 2 * std::numbers::pi))));
    for (int c = 0; c < channels_; ++c) {
      frame.samples[static_cast<std::size_t>(i) * static_cast<std::size_t>(channels_) +
                    static_cast<std::size_t>(c)] = value;
    }
  }
  position_ += static_cast<std::uint64_t>(count);
  return frame;
}

std::optional<double> estimate_tone_frequency(const AudioFrame& frame) {
  if (frame.channels < 1 || frame.sample_rate < 1) return std::nullopt;
  const std::size_t frames = frame.samples_per_channel();
  const auto at = [&](std::size_t i) {
    return static_cast<double>(frame.samples[i * static_cast<std::size_t>(frame.channels)]);
  };
  int peak = 0;
  for (std::size_t i = 0; i < frames; ++i) peak = std::max(peak, std::abs(static_cast<int>(at(i))));
  if (peak < 64) return std::nullopt;
  double first = -1;
  double last = -1;
  int crossings = 0;
  for (std::size_t i = 1; i < frames; ++i) {
    const double a = at(i - 1);
    const double b = at(i);
    if (a < 0 && b >= 0) {
      const double t = static_cast<double>(i - 1) + (-a) / (b - a);
      if (first < 0) first = t;
      last = t;
      ++crossings;
    }
  }
  if (crossings < 3 || last <= first) return std::nullopt;
  return (crossings - 1) * static_cast<double>(frame.sample_rate) / (last - first);
}

}  // namespace rtcpp::media
