// Raw audio: rtcpp::AudioFrame (rtcpp/audio_frame.hpp), 16-bit interleaved PCM.
#pragma once

#include "rtcpp/audio_frame.hpp"

namespace rtcpp::media {

using rtcpp::AudioFrame;
using rtcpp::kMaxAudioChannels;
using rtcpp::kMaxAudioSampleRate;

}  // namespace rtcpp::media
