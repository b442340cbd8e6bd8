#include "api/media_coders.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "media/video_frame.hpp"
#include "rtcpp/rtp_transceiver.hpp"

namespace rtcpp::detail {
namespace {

// The most a video encoder aims at without a max_bitrate, by picture size: about what
// browsers allow a single encoding of that size.
std::uint32_t default_max_video_bitrate(int width, int height) {
  const long pixels = static_cast<long>(width) * height;
  if (pixels <= 320L * 240) return 600'000;
  if (pixels <= 640L * 480) return 1'700'000;
  if (pixels <= 960L * 540) return 2'000'000;
  return 2'500'000;
}
// The encoder is told a new rate only when it moved this much, not at every estimate.
constexpr double kRateChangeToApply = 0.05;
constexpr double kDefaultFramerate = 30;
constexpr int kAudioFrameMs = 20;
// Lost audio is concealed up to this much; a longer gap is left out.
constexpr std::uint32_t kMaxConcealMs = 1000;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// webrtc-stats 7.13.1: audioLevel is the linear level (0-1) of the last audio; the energy
// adds each piece's mean square level times its duration.
void add_audio_level(const AudioFrame& audio, double& level, double& energy, double& duration) {
  if (audio.samples.empty() || audio.sample_rate <= 0) return;
  double sum = 0;
  for (const auto s : audio.samples) sum += static_cast<double>(s) * s;
  const double mean_square = sum / static_cast<double>(audio.samples.size()) / (32767.0 * 32767.0);
  const double seconds = static_cast<double>(audio.samples_per_channel()) / audio.sample_rate;
  level = std::sqrt(mean_square);
  energy += mean_square * seconds;
  duration += seconds;
}

// W3C 5.2 scaleResolutionDownBy: each dimension divided by the factor, rounded down to an even
// size (4:2:0 chroma, and what every encoder takes), at least 2.
int scaled_dimension(int size, double factor) {
  const auto scaled = static_cast<int>(std::floor(static_cast<double>(size) / factor));
  return std::max(2, scaled - scaled % 2);
}

RTCEncodedFrame to_rtp(const Buffer& data, bool key_frame, std::uint32_t timestamp) {
  RTCEncodedFrame out;
  out.key_frame = key_frame;
  out.rtp_timestamp = timestamp;
  out.data.assign(data.begin(), data.end());
  return out;
}

}  // namespace

Result<std::vector<RTCEncodedFrame>> encode_video(SendCoder& coder, const SendSettings& settings,
                                                  const VideoFrame& frame) {
  if (frame.empty()) return range_error("send_video_frame: an empty picture");
  const auto type = codec::video_codec_from_name(settings.codec);
  if (!type || !codec::can_encode(*type)) {
    return not_supported_error("no " + settings.codec + " encoder in this build");
  }
  // What goes to the encoder: black while the track is disabled, scaled down where asked.
  // (The encoder starts again at a new size with a key frame.)
  int width = frame.width();
  int height = frame.height();
  const double factor = settings.scale_resolution_down_by.value_or(1.0);
  if (factor > 1.0) {
    width = scaled_dimension(width, factor);
    height = scaled_dimension(height, factor);
  }
  std::uint32_t bitrate = settings.max_bitrate.value_or(default_max_video_bitrate(width, height));
  if (settings.bandwidth_share) bitrate = std::min(bitrate, *settings.bandwidth_share);
  bitrate = std::max<std::uint32_t>(bitrate, 10'000);
  const double framerate = settings.max_framerate && *settings.max_framerate > 0
                               ? *settings.max_framerate
                               : kDefaultFramerate;
  if (!coder.video || coder.codec != settings.codec) {
    codec::VideoEncoderConfig config;
    config.width = frame.width();
    config.height = frame.height();
    config.bitrate_bps = bitrate;
    config.max_framerate = framerate;
    config.threads = 0;
    auto encoder = codec::create_video_encoder(*type, config);
    if (!encoder) return encoder.error();
    coder.video = std::move(*encoder);
    {
      std::lock_guard stats_lock(coder.stats_mutex);
      coder.implementation = std::string(coder.video->implementation());
    }
    coder.codec = settings.codec;
    coder.bitrate_bps = config.bitrate_bps;
    coder.framerate = framerate;
    coder.need_key_frame = true;
  } else if (std::abs(static_cast<double>(bitrate) - coder.bitrate_bps) >
                 kRateChangeToApply * coder.bitrate_bps ||
             (settings.max_bitrate && bitrate == *settings.max_bitrate &&
              bitrate != coder.bitrate_bps) ||
             framerate != coder.framerate) {
    coder.bitrate_bps = bitrate;
    coder.framerate = framerate;
    if (auto set = coder.video->set_rates(coder.bitrate_bps, framerate); !set) return set.error();
  }
  const bool key = coder.need_key_frame || coder.key_frame_requested.exchange(false);
  std::vector<codec::EncodedVideoFrame> encoded;
  std::optional<VideoFrame> substitute;
  if (!settings.track_enabled) {
    auto made = VideoFrame::create(width, height);
    if (!made) return made.error();
    substitute = std::move(*made);
  } else if (width != frame.width() || height != frame.height()) {
    auto scaled = media::scale(frame, width, height);
    if (!scaled) return scaled.error();
    substitute = std::move(*scaled);
  }
  if (substitute) substitute->timestamp_us = frame.timestamp_us;
  const auto started = std::chrono::steady_clock::now();
  if (auto ok = coder.video->encode(substitute ? *substitute : frame, key, encoded); !ok)
    return ok.error();
  const double encode_time = seconds_since(started);
  std::lock_guard stats_lock(coder.stats_mutex);
  auto& stats = coder.stats;
  stats.total_encode_time += encode_time;
  ++stats.source_frames;
  stats.target_bitrate = coder.bitrate_bps;
  for (const auto& e : encoded) {
    ++stats.frames_encoded;
    if (e.key_frame) ++stats.key_frames_encoded;
    if (e.qp >= 0) stats.qp_sum += static_cast<std::uint64_t>(e.qp);
    stats.frame_width = e.width;
    stats.frame_height = e.height;
  }
  std::vector<RTCEncodedFrame> out;
  out.reserve(encoded.size());
  // The 90 kHz RTP clock from the capture time (the sender adds its random offset).
  const auto timestamp = static_cast<std::uint32_t>(frame.timestamp_us * 9 / 100);
  for (const auto& e : encoded) out.push_back(to_rtp(e.data, e.key_frame, timestamp));
  if (!out.empty() && out.front().key_frame) coder.need_key_frame = false;
  return out;
}

Result<std::vector<RTCEncodedFrame>> encode_audio(SendCoder& coder, const SendSettings& settings,
                                                  const AudioFrame& frame) {
  if (frame.channels < 1 || frame.channels > kMaxAudioChannels || frame.sample_rate < 1 ||
      frame.sample_rate > kMaxAudioSampleRate ||
      frame.samples.size() % static_cast<std::size_t>(frame.channels) != 0) {
    return range_error(
        "send_audio_frame: a frame needs 1-8 channels, a rate up to 384 kHz and "
        "whole samples on every channel");
  }
  const auto type = codec::audio_codec_from_name(settings.codec);
  if (!type) return not_supported_error("no " + settings.codec + " encoder in this build");
  const int rate = codec::rtp_clock_rate(*type);
  const int channels = *type == codec::AudioCodec::kOpus && frame.channels == 2 ? 2 : 1;
  if (!coder.audio || coder.codec != settings.codec || coder.audio->channels() != channels ||
      coder.input_rate != frame.sample_rate || coder.input_channels != frame.channels) {
    codec::AudioEncoderConfig config;
    config.sample_rate = rate;
    config.channels = channels;
    config.frame_ms = kAudioFrameMs;
    // G.711 has one rate; Opus takes the encoding's limit within its range (RFC 7587 3.1.1).
    config.bitrate_bps =
        *type == codec::AudioCodec::kOpus
            ? std::clamp<std::uint32_t>(settings.max_bitrate.value_or(32000), 6000, 510000)
            : 64000;
    auto encoder = codec::create_audio_encoder(*type, config);
    if (!encoder) return encoder.error();
    coder.resampler.reset();
    if (frame.sample_rate != rate) {
      auto resampler = media::Resampler::create(frame.sample_rate, rate, channels);
      if (!resampler) return resampler.error();
      coder.resampler.emplace(std::move(*resampler));
    }
    const bool first = !coder.audio;
    coder.audio = std::move(*encoder);
    {
      std::lock_guard stats_lock(coder.stats_mutex);
      coder.implementation = std::string(coder.audio->implementation());
    }
    coder.codec = settings.codec;
    coder.input_rate = frame.sample_rate;
    coder.input_channels = frame.channels;
    coder.pending.clear();
    if (first) {
      coder.audio_rtp_timestamp = static_cast<std::uint32_t>(frame.timestamp_us * rate / 1'000'000);
    }
  }
  {
    std::lock_guard stats_lock(coder.stats_mutex);
    add_audio_level(frame, coder.stats.audio_level, coder.stats.total_audio_energy,
                    coder.stats.total_samples_duration);
  }
  // Mixed down to the encoder's channels (an average), then resampled.
  AudioFrame mixed;
  mixed.sample_rate = frame.sample_rate;
  mixed.channels = channels;
  const std::size_t count = frame.samples_per_channel();
  if (!settings.track_enabled) {
    mixed.samples.assign(count * static_cast<std::size_t>(channels), 0);
  } else if (frame.channels == channels) {
    mixed.samples = frame.samples;
  } else {
    mixed.samples.resize(count);
    const auto from = static_cast<std::size_t>(frame.channels);
    for (std::size_t i = 0; i < count; ++i) {
      long sum = 0;
      for (std::size_t c = 0; c < from; ++c) sum += frame.samples[i * from + c];
      mixed.samples[i] = static_cast<std::int16_t>(sum / static_cast<long>(from));
    }
  }
  if (coder.resampler) {
    AudioFrame resampled;
    if (auto ok = coder.resampler->process(mixed, resampled); !ok) return ok.error();
    coder.pending.insert(coder.pending.end(), resampled.samples.begin(), resampled.samples.end());
  } else {
    coder.pending.insert(coder.pending.end(), mixed.samples.begin(), mixed.samples.end());
  }
  std::vector<RTCEncodedFrame> out;
  const auto samples = static_cast<std::size_t>(coder.audio->frame_samples());
  const std::size_t block = samples * static_cast<std::size_t>(channels);
  std::size_t used = 0;
  AudioFrame piece;
  piece.sample_rate = rate;
  piece.channels = channels;
  Buffer packet;
  while (coder.pending.size() - used >= block) {
    piece.samples.assign(coder.pending.begin() + static_cast<std::ptrdiff_t>(used),
                         coder.pending.begin() + static_cast<std::ptrdiff_t>(used + block));
    used += block;
    const auto started = std::chrono::steady_clock::now();
    if (auto ok = coder.audio->encode(piece, packet); !ok) return ok.error();
    {
      std::lock_guard stats_lock(coder.stats_mutex);
      coder.stats.total_encode_time += seconds_since(started);
      ++coder.stats.frames_encoded;
    }
    out.push_back(to_rtp(packet, true, coder.audio_rtp_timestamp));
    coder.audio_rtp_timestamp += static_cast<std::uint32_t>(samples);
  }
  coder.pending.erase(coder.pending.begin(),
                      coder.pending.begin() + static_cast<std::ptrdiff_t>(used));
  return out;
}

bool decode_video(ReceiveCoder& coder, const std::string& codec, const RTCEncodedFrame& frame,
                  const std::function<void(const VideoFrame&)>& deliver) {
  if (!coder.video || coder.codec != codec) {
    const auto type = codec::video_codec_from_name(codec);
    if (!type || !codec::can_decode(*type)) return false;
    auto decoder = codec::create_video_decoder(*type);
    if (!decoder) return false;
    coder.video = std::move(*decoder);
    coder.codec = codec;
    coder.waiting_for_key_frame = true;
  }
  if (coder.waiting_for_key_frame && !frame.key_frame) return false;
  const std::int64_t unwrapped = coder.timestamps.unwrap(frame.rtp_timestamp);
  if (!coder.first_timestamp) coder.first_timestamp = unwrapped;
  const std::int64_t timestamp_us = (unwrapped - *coder.first_timestamp) * 100 / 9;
  const auto started = std::chrono::steady_clock::now();
  auto picture = coder.video->decode({frame.data.data(), frame.data.size()}, timestamp_us);
  coder.stats.total_decode_time += seconds_since(started);
  if (!picture) {
    coder.waiting_for_key_frame = true;
    return true;
  }
  coder.waiting_for_key_frame = false;
  if (picture->has_value()) {
    ++coder.stats.frames_decoded;
    if (frame.key_frame) ++coder.stats.key_frames_decoded;
    coder.stats.frame_width = (*picture)->width();
    coder.stats.frame_height = (*picture)->height();
  }
  if (picture->has_value() && deliver) deliver(**picture);
  return false;
}

void decode_audio(ReceiveCoder& coder, const std::string& codec, const RTCEncodedFrame& frame,
                  const std::function<void(const AudioFrame&)>& deliver) {
  const auto type = codec::audio_codec_from_name(codec);
  if (!type) return;
  const int rate = codec::rtp_clock_rate(*type);
  if (!coder.audio || coder.codec != codec) {
    auto decoder = codec::create_audio_decoder(*type, rate, 1);
    if (!decoder) return;
    coder.audio = std::move(*decoder);
    coder.codec = codec;
    coder.next_audio_timestamp.reset();
  }
  const std::int64_t unwrapped = coder.timestamps.unwrap(frame.rtp_timestamp);
  if (!coder.first_timestamp) coder.first_timestamp = unwrapped;
  AudioFrame out;
  if (coder.next_audio_timestamp) {
    const std::uint32_t gap = frame.rtp_timestamp - *coder.next_audio_timestamp;
    if (gap >= 0x80000000u) return;  // late or repeated: its time was concealed already
    const auto step = static_cast<std::uint32_t>(rate / 400);  // whole 2.5 ms steps
    std::uint32_t left =
        std::min(gap, static_cast<std::uint32_t>(rate) / 1000 * kMaxConcealMs) / step * step;
    std::int64_t at = unwrapped - gap;
    if (left > 0) ++coder.stats.concealment_events;
    while (left > 0) {
      const std::uint32_t chunk = std::min(left, static_cast<std::uint32_t>(rate / 50));
      if (!coder.audio->conceal(static_cast<int>(chunk), out)) break;
      coder.stats.concealed_samples += out.samples_per_channel();
      coder.stats.total_samples_received += out.samples_per_channel();
      out.timestamp_us = (at - *coder.first_timestamp) * 1'000'000 / rate;
      if (deliver) deliver(out);
      left -= chunk;
      at += chunk;
    }
  }
  const auto started = std::chrono::steady_clock::now();
  if (!coder.audio->decode({frame.data.data(), frame.data.size()}, out)) return;
  coder.stats.total_decode_time += seconds_since(started);
  coder.stats.total_samples_received += out.samples_per_channel();
  add_audio_level(out, coder.stats.audio_level, coder.stats.total_audio_energy,
                  coder.stats.total_samples_duration);
  out.timestamp_us = (unwrapped - *coder.first_timestamp) * 1'000'000 / rate;
  coder.next_audio_timestamp =
      frame.rtp_timestamp + static_cast<std::uint32_t>(out.samples_per_channel());
  if (deliver) deliver(out);
}

}  // namespace rtcpp::detail
