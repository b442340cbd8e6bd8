// Generated test media: a moving picture that carries its own frame number and capture time
// in a form a program can read back after lossy coding, and a sine tone. `rtcpp peer
// --video testsrc --audio testsrc` sends these, and the media tests measure delivery,
// order, quality and latency with them.
#pragma once

#include <cstdint>
#include <optional>

#include "media/audio_frame.hpp"
#include "media/video_frame.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::media {

// What the picture carries: its frame number and its capture time (milliseconds on the
// sender's clock, modulo 2^32).
struct PatternStamp {
  std::uint32_t frame_number = 0;
  std::uint32_t time_ms = 0;
  friend bool operator==(const PatternStamp&, const PatternStamp&) = default;
};

// The pattern: scrolling colour bars and a bouncing box (motion for the encoder to work on),
// under a band of three rows of 32 black or white blocks at the top: the frame number, the
// time, and a check word, one bit a block, most significant first; below the band the same
// two numbers in digits for a person to read. Blocks are width/32 pixels wide and at least 8
// high, large enough to survive coding at low bitrates.
class TestPattern {
 public:
  // RangeError below 64x48 or above kMaxVideoDimension.
  static Result<TestPattern> create(int width, int height);
  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  // The picture for `stamp.frame_number` (the motion follows the frame number, so the same
  // number always gives the same picture apart from the stamp's time); timestamp_us is set
  // from the stamp's time.
  VideoFrame render(const PatternStamp& stamp) const;
  // Draws only the stamp (band and digits) over the frame's top rows.
  static void stamp(VideoFrame& frame, const PatternStamp& stamp);

 private:
  TestPattern(int width, int height) noexcept : width_(width), height_(height) {}
  int width_ = 0;
  int height_ = 0;
};

// Reads the stamp band of a pattern frame (after any coding); nothing when the check word
// does not match (not a pattern frame, or too damaged to trust).
std::optional<PatternStamp> read_pattern_stamp(const VideoFrame& frame);

// A sine tone, continuous in phase across frames.
class ToneGenerator {
 public:
  // RangeError for a frequency not below half the rate, or a bad rate or channel count.
  static Result<ToneGenerator> create(double frequency_hz, int sample_rate, int channels,
                                      double amplitude = 0.25);
  // The next `samples_per_channel` samples; the same sample on every channel. Their
  // timestamp counts from 0 at the first sample.
  AudioFrame next(int samples_per_channel);
  int sample_rate() const noexcept { return sample_rate_; }
  int channels() const noexcept { return channels_; }

 private:
  ToneGenerator(double frequency_hz, int sample_rate, int channels, double amplitude) noexcept
      : frequency_hz_(frequency_hz),
        sample_rate_(sample_rate),
        channels_(channels),
        amplitude_(amplitude) {}
  double frequency_hz_;
  int sample_rate_;
  int channels_;
  double amplitude_;
  std::uint64_t position_ = 0;
};

// The frequency of a steady tone in the first channel of `frame`, in Hz, from the interval
// between its first and last rising zero crossings (interpolated); nothing when there are
// fewer than three crossings or the signal is silent.
std::optional<double> estimate_tone_frequency(const AudioFrame& frame);

}  // namespace rtcpp::media
