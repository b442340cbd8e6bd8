#include "codec/opus_codec.hpp"

#include <opus/opus.h>

#include <algorithm>
#include <string>

namespace rtcpp::codec {
namespace {

// RFC 6716 3.2.1: a packet holds at most 120 ms; 1275 bytes a frame, and at most 48 frames.
constexpr int kMaxPacketMs = 120;
// What the encoder may write: a frame's worth at the highest rate (510 kbit/s for 60 ms is
// under 4 kB); this bounds the output buffer.
constexpr int kMaxEncodedBytes = 4000;

bool valid_rate(int rate) noexcept {
  return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

std::string opus_message(const char* what, int code) {
  return std::string(what) + ": " + opus_strerror(code);
}

class OpusAudioEncoder final : public AudioEncoder {
 public:
  explicit OpusAudioEncoder(const AudioEncoderConfig& config) : config_(config) {}
  ~OpusAudioEncoder() override { opus_encoder_destroy(encoder_); }

  Result<void> initialize() {
    int error = OPUS_OK;
    encoder_ =
        opus_encoder_create(config_.sample_rate, config_.channels, OPUS_APPLICATION_VOIP, &error);
    if (error != OPUS_OK || encoder_ == nullptr) {
      return operation_error(opus_message("opus encoder", error));
    }
    if (auto ok = set_bitrate(config_.bitrate_bps); !ok) return ok;
    opus_encoder_ctl(encoder_, OPUS_SET_INBAND_FEC(config_.fec ? 1 : 0));
    opus_encoder_ctl(encoder_, OPUS_SET_PACKET_LOSS_PERC(config_.expected_loss_percent));
    opus_encoder_ctl(encoder_, OPUS_SET_DTX(config_.dtx ? 1 : 0));
    // 9 is where the quality curve flattens; 10 costs noticeably more CPU for little.
    opus_encoder_ctl(encoder_, OPUS_SET_COMPLEXITY(9));
    opus_encoder_ctl(encoder_, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    return {};
  }

  AudioCodec codec() const noexcept override { return AudioCodec::kOpus; }
  std::string_view implementation() const noexcept override { return "libopus"; }
  int sample_rate() const noexcept override { return config_.sample_rate; }
  int channels() const noexcept override { return config_.channels; }
  int frame_samples() const noexcept override {
    return config_.sample_rate / 1000 * config_.frame_ms;
  }

  Result<void> encode(const media::AudioFrame& frame, Buffer& out) override {
    if (frame.sample_rate != config_.sample_rate || frame.channels != config_.channels ||
        frame.samples_per_channel() != static_cast<std::size_t>(frame_samples()) ||
        frame.samples.size() !=
            frame.samples_per_channel() * static_cast<std::size_t>(frame.channels)) {
      return invalid_access_error("opus encode: expected " + std::to_string(frame_samples()) +
                                  " samples per channel at " + std::to_string(config_.sample_rate) +
                                  " Hz, " + std::to_string(config_.channels) + " channels");
    }
    out.resize(kMaxEncodedBytes);
    const opus_int32 written =
        opus_encode(encoder_, frame.samples.data(), frame_samples(), out.data(), kMaxEncodedBytes);
    if (written < 0) {
      out.clear();
      return operation_error(opus_message("opus encode", written));
    }
    out.resize(static_cast<std::size_t>(written));
    return {};
  }

  Result<void> set_bitrate(std::uint32_t bitrate_bps) override {
    // RFC 7587 3.1.1: 6 to 510 kbit/s.
    if (bitrate_bps < 6000 || bitrate_bps > 510000) {
      return range_error("opus bitrate out of 6000..510000");
    }
    config_.bitrate_bps = bitrate_bps;
    opus_encoder_ctl(encoder_, OPUS_SET_BITRATE(static_cast<opus_int32>(bitrate_bps)));
    return {};
  }

  Result<void> set_expected_loss(int percent) override {
    if (percent < 0 || percent > 100) return range_error("loss percent out of 0..100");
    config_.expected_loss_percent = percent;
    opus_encoder_ctl(encoder_, OPUS_SET_PACKET_LOSS_PERC(percent));
    return {};
  }

 private:
  AudioEncoderConfig config_;
  OpusEncoder* encoder_ = nullptr;
};

class OpusAudioDecoder final : public AudioDecoder {
 public:
  OpusAudioDecoder(int sample_rate, int channels)
      : sample_rate_(sample_rate), channels_(channels) {}
  ~OpusAudioDecoder() override { opus_decoder_destroy(decoder_); }

  Result<void> initialize() {
    int error = OPUS_OK;
    decoder_ = opus_decoder_create(sample_rate_, channels_, &error);
    if (error != OPUS_OK || decoder_ == nullptr) {
      return operation_error(opus_message("opus decoder", error));
    }
    return {};
  }

  AudioCodec codec() const noexcept override { return AudioCodec::kOpus; }
  std::string_view implementation() const noexcept override { return "libopus"; }
  int sample_rate() const noexcept override { return sample_rate_; }
  int channels() const noexcept override { return channels_; }

  Result<void> decode(BytesView packet, media::AudioFrame& out) override {
    if (packet.empty()) return data_error("opus decode: empty packet");
    return run(packet, max_samples(), 0, out);
  }

  Result<void> conceal(int samples, media::AudioFrame& out) override {
    if (auto ok = check_samples(samples); !ok) return ok;
    return run({}, samples, 0, out);
  }

  Result<void> decode_fec(BytesView next_packet, int samples, media::AudioFrame& out) override {
    if (auto ok = check_samples(samples); !ok) return ok;
    if (next_packet.empty()) return run({}, samples, 0, out);
    return run(next_packet, samples, 1, out);
  }

 private:
  int max_samples() const noexcept { return sample_rate_ / 1000 * kMaxPacketMs; }

  Result<void> check_samples(int samples) const {
    // libopus wants whole 2.5 ms steps for concealment and FEC.
    const int step = sample_rate_ / 400;
    if (samples <= 0 || samples > max_samples() || samples % step != 0) {
      return range_error("opus: concealment of " + std::to_string(samples) +
                         " samples (whole 2.5 ms steps up to 120 ms)");
    }
    return {};
  }

  Result<void> run(BytesView packet, int samples, int fec, media::AudioFrame& out) {
    out.sample_rate = sample_rate_;
    out.channels = channels_;
    out.samples.resize(static_cast<std::size_t>(samples) * static_cast<std::size_t>(channels_));
    if (packet.size() > 0x7fffffff) return data_error("opus decode: packet too large");
    const int decoded =
        opus_decode(decoder_, packet.empty() ? nullptr : packet.data(),
                    static_cast<opus_int32>(packet.size()), out.samples.data(), samples, fec);
    if (decoded < 0) {
      out.samples.clear();
      return data_error(opus_message("opus decode", decoded));
    }
    out.samples.resize(static_cast<std::size_t>(decoded) * static_cast<std::size_t>(channels_));
    return {};
  }

  int sample_rate_;
  int channels_;
  OpusDecoder* decoder_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<AudioEncoder>> make_opus_encoder(const AudioEncoderConfig& config) {
  if (!valid_rate(config.sample_rate)) {
    return range_error("opus sample rate " + std::to_string(config.sample_rate) +
                       " (8000, 12000, 16000, 24000 or 48000)");
  }
  if (config.channels != 1 && config.channels != 2) return range_error("opus channels: 1 or 2");
  if (config.frame_ms != 10 && config.frame_ms != 20 && config.frame_ms != 40 &&
      config.frame_ms != 60) {
    return range_error("opus frame length: 10, 20, 40 or 60 ms");
  }
  if (config.expected_loss_percent < 0 || config.expected_loss_percent > 100) {
    return range_error("loss percent out of 0..100");
  }
  auto encoder = std::make_unique<OpusAudioEncoder>(config);
  if (auto ok = encoder->initialize(); !ok) return ok.error();
  return std::unique_ptr<AudioEncoder>(std::move(encoder));
}

Result<std::unique_ptr<AudioDecoder>> make_opus_decoder(int sample_rate, int channels) {
  if (!valid_rate(sample_rate)) {
    return range_error("opus sample rate " + std::to_string(sample_rate) +
                       " (8000, 12000, 16000, 24000 or 48000)");
  }
  if (channels != 1 && channels != 2) return range_error("opus channels: 1 or 2");
  auto decoder = std::make_unique<OpusAudioDecoder>(sample_rate, channels);
  if (auto ok = decoder->initialize(); !ok) return ok.error();
  return std::unique_ptr<AudioDecoder>(std::move(decoder));
}

}  // namespace rtcpp::codec
