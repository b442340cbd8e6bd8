// Sample-rate conversion of 16-bit interleaved PCM through speexdsp's resampler (a
// windowed-sinc filter; quality 3 of 0..10 is its VoIP setting, 5 its desktop default).
#pragma once

#include <memory>

#include "media/audio_frame.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::media {

class Resampler {
 public:
  // RangeError for rates out of 1..kMaxAudioSampleRate, channels out of 1..kMaxAudioChannels
  // or quality out of 0..10.
  static Result<Resampler> create(int input_rate, int output_rate, int channels, int quality = 5);
  Resampler(Resampler&&) noexcept;
  Resampler& operator=(Resampler&&) noexcept;
  ~Resampler();

  int input_rate() const noexcept { return input_rate_; }
  int output_rate() const noexcept { return output_rate_; }
  int channels() const noexcept { return channels_; }

  // Converts `in` (at input_rate(), channels()) and replaces `out` with the result at
  // output_rate(); the filter's state carries over between calls, so a stream converted in
  // pieces has no seams. The output's timestamp is the input's. InvalidAccessError for a
  // frame of another rate or channel count.
  Result<void> process(const AudioFrame& in, AudioFrame& out);

 private:
  struct State;
  Resampler(std::unique_ptr<State> state, int input_rate, int output_rate, int channels) noexcept;
  std::unique_ptr<State> state_;
  int input_rate_ = 0;
  int output_rate_ = 0;
  int channels_ = 0;
};

}  // namespace rtcpp::media
