// Raw audio in and out of rtcpp (an rtcpp extension, like rtcpp/video_frame.hpp): 16-bit PCM,
// channels interleaved, the form every audio codec here takes and gives.
// RTCRtpSender::send_audio_frame encodes it; RTCRtpReceiver::on_audio_frame hands out the
// decoded audio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtcpp {

inline constexpr int kMaxAudioChannels = 8;
inline constexpr int kMaxAudioSampleRate = 384000;

struct AudioFrame {
  int sample_rate = 48000;
  int channels = 1;
  // Interleaved: sample i of channel c is samples[i * channels + c].
  std::vector<std::int16_t> samples;
  // Capture (or presentation) time of the first sample, in microseconds.
  std::int64_t timestamp_us = 0;

  std::size_t samples_per_channel() const noexcept {
    return channels > 0 ? samples.size() / static_cast<std::size_t>(channels) : 0;
  }
  // Duration in microseconds.
  std::int64_t duration_us() const noexcept {
    return sample_rate > 0
               ? static_cast<std::int64_t>(samples_per_channel()) * 1'000'000 / sample_rate
               : 0;
  }
};

}  // namespace rtcpp
