#include "media/resampler.hpp"

#include <speex/speex_resampler.h>

#include <limits>
#include <string>

namespace rtcpp::media {

struct Resampler::State {
  SpeexResamplerState* speex = nullptr;
  ~State() {
    if (speex != nullptr) speex_resampler_destroy(speex);
  }
};

Resampler::Resampler(std::unique_ptr<State> state, int input_rate, int output_rate,
                     int channels) noexcept
    : state_(std::move(state)),
      input_rate_(input_rate),
      output_rate_(output_rate),
      channels_(channels) {}
Resampler::Resampler(Resampler&&) noexcept = default;
Resampler& Resampler::operator=(Resampler&&) noexcept = default;
Resampler::~Resampler() = default;

Result<Resampler> Resampler::create(int input_rate, int output_rate, int channels, int quality) {
  if (input_rate < 1 || input_rate > kMaxAudioSampleRate || output_rate < 1 ||
      output_rate > kMaxAudioSampleRate) {
    return range_error("resampler rates " + std::to_string(input_rate) + " -> " +
                       std::to_string(output_rate));
  }
  if (channels < 1 || channels > kMaxAudioChannels) return range_error("resampler channels");
  if (quality < 0 || quality > 10) return range_error("resampler quality out of 0..10");
  auto state = std::make_unique<State>();
  int error = RESAMPLER_ERR_SUCCESS;
  state->speex = speex_resampler_init(static_cast<spx_uint32_t>(channels),
                                      static_cast<spx_uint32_t>(input_rate),
                                      static_cast<spx_uint32_t>(output_rate), quality, &error);
  if (state->speex == nullptr || error != RESAMPLER_ERR_SUCCESS) {
    return operation_error(std::string("speexdsp resampler: ") + speex_resampler_strerror(error));
  }
  // Without this the first call's output starts late by the filter's length.
  speex_resampler_skip_zeros(state->speex);
  return Resampler(std::move(state), input_rate, output_rate, channels);
}

Result<void> Resampler::process(const AudioFrame& in, AudioFrame& out) {
  if (in.sample_rate != input_rate_ || in.channels != channels_) {
    return invalid_access_error("resampler: frame at " + std::to_string(in.sample_rate) + " Hz, " +
                                std::to_string(in.channels) + " channels; expected " +
                                std::to_string(input_rate_) + " Hz, " + std::to_string(channels_));
  }
  const std::size_t frames = in.samples_per_channel();
  if (frames > std::numeric_limits<spx_uint32_t>::max() / 2) {
    return range_error("resampler: frame too long");
  }
  // Room for the ratio's worth plus the filter's carry-over.
  const std::size_t room =
      frames * static_cast<std::size_t>(output_rate_) / static_cast<std::size_t>(input_rate_) + 64;
  out.sample_rate = output_rate_;
  out.channels = channels_;
  out.timestamp_us = in.timestamp_us;
  out.samples.resize(room * static_cast<std::size_t>(channels_));
  auto in_length = static_cast<spx_uint32_t>(frames);
  auto out_length = static_cast<spx_uint32_t>(room);
  const int error = speex_resampler_process_interleaved_int(
      state_->speex, in.samples.data(), &in_length, out.samples.data(), &out_length);
  if (error != RESAMPLER_ERR_SUCCESS) {
    out.samples.clear();
    return operation_error(std::string("speexdsp resampler: ") + speex_resampler_strerror(error));
  }
  out.samples.resize(static_cast<std::size_t>(out_length) * static_cast<std::size_t>(channels_));
  return {};
}

}  // namespace rtcpp::media
