// What every video coder here checks and chooses the same way.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include "codec/codec.hpp"

namespace rtcpp::codec {

// The largest encoded frame a decoder is handed (a 4K key frame at high quality is a few MB).
inline constexpr std::size_t kMaxEncodedFrameSize = 32u << 20;

inline Result<void> check_encoder_config(const VideoEncoderConfig& config) {
  if (config.width < 2 || config.height < 2 || config.width > media::kMaxVideoDimension ||
      config.height > media::kMaxVideoDimension) {
    return range_error("encoder size " + std::to_string(config.width) + "x" +
                       std::to_string(config.height) + " out of range");
  }
  if (!(config.max_framerate > 0 && config.max_framerate <= 1000)) {
    return range_error("encoder frame rate out of (0, 1000]");
  }
  if (config.bitrate_bps < 1000) return range_error("encoder bitrate below 1 kbit/s");
  if (config.temporal_layers < 1 || config.temporal_layers > 3) {
    return range_error("temporal layers must be 1, 2 or 3");
  }
  if (config.key_frame_interval < 0) return range_error("negative key frame interval");
  if (config.threads < 0 || config.threads > 64) return range_error("encoder threads out of range");
  return {};
}

// What every encoder's set_rates accepts.
inline Result<void> check_rates(std::uint32_t bitrate_bps, double framerate) {
  if (bitrate_bps < 1000) return range_error("bitrate below 1 kbit/s");
  if (!(framerate > 0 && framerate <= 1000)) return range_error("frame rate out of (0, 1000]");
  return {};
}

// Threads for an encoder: the configured count, or by picture size (one up to 640x480, where
// a second thread costs more in sync than it gains, two up to 720p, then up to four).
inline int encoder_threads(const VideoEncoderConfig& config) {
  if (config.threads > 0) return config.threads;
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const long pixels = static_cast<long>(config.width) * config.height;
  const int wanted = pixels <= 640L * 480 ? 1 : pixels <= 1280L * 720 ? 2 : 4;
  return std::min(wanted, cores);
}

}  // namespace rtcpp::codec
