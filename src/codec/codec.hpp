// One encoder and one decoder interface for each media kind, and the factories that make
// them by codec. Encoders take raw frames (media::VideoFrame, media::AudioFrame) and give
// the codec's bitstream, one RTP frame's worth at a time (what the payload formats in
// rtp/ packetize); decoders do the reverse. Bitrate and key frames are controllable at any
// time, which is what congestion control and RTCP PLI/FIR drive.
//
// None of these are thread-safe: one object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "media/audio_frame.hpp"
#include "media/video_frame.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::codec {

enum class VideoCodec : std::uint8_t { kVp8, kVp9, kH264, kAv1 };
enum class AudioCodec : std::uint8_t { kOpus, kPcmu, kPcma };

// The RTP encoding name (RFC 3551 / the payload format RFCs): "VP8", "opus", "PCMU", ...
std::string_view rtp_name(VideoCodec codec) noexcept;
std::string_view rtp_name(AudioCodec codec) noexcept;
// By RTP encoding name, case-insensitively; nothing for a codec rtcpp has no coder for.
std::optional<VideoCodec> video_codec_from_name(std::string_view name) noexcept;
std::optional<AudioCodec> audio_codec_from_name(std::string_view name) noexcept;
// The RTP clock rate, which is also the rate rtcpp encodes and decodes at: 48000 for Opus
// (RFC 7587 4.1), 8000 for G.711 (RFC 3551 4.5.14).
int rtp_clock_rate(AudioCodec codec) noexcept;
// Whether this build can encode or decode the codec (H.264 needs RTCPP_WITH_OPENH264; AV1
// encoding needs libaom).
bool can_encode(VideoCodec codec) noexcept;
bool can_decode(VideoCodec codec) noexcept;

// ---- video ----

struct VideoEncoderConfig {
  int width = 640;
  int height = 480;
  double max_framerate = 30;
  std::uint32_t bitrate_bps = 1'000'000;
  // A key frame at least this often, in frames (0: only when asked for).
  int key_frame_interval = 3000;
  // 1, 2 or 3 temporal layers (VP8, VP9 and AV1); H.264 takes 1.
  int temporal_layers = 1;
  // Encoder threads; 0 picks from the picture size and the cores.
  int threads = 1;
};

struct EncodedVideoFrame {
  Buffer data;
  bool key_frame = false;
  int width = 0;
  int height = 0;
  std::int64_t timestamp_us = 0;
  // 0 for the base layer.
  int temporal_layer = 0;
  // The codec's quantizer for the frame (its own scale), -1 when unknown.
  int qp = -1;
};

class VideoEncoder {
 public:
  virtual ~VideoEncoder() = default;
  VideoEncoder() = default;
  VideoEncoder(const VideoEncoder&) = delete;
  VideoEncoder& operator=(const VideoEncoder&) = delete;

  virtual VideoCodec codec() const noexcept = 0;
  // The library behind it, as stats' encoderImplementation names it ("libvpx").
  virtual std::string_view implementation() const noexcept = 0;
  // Encodes one frame; `out` gets what it produced (nothing when rate control drops the
  // frame). A frame of another size than configured reconfigures the encoder (and starts
  // with a key frame). force_key_frame makes this frame a key frame.
  virtual Result<void> encode(const media::VideoFrame& frame, bool force_key_frame,
                              std::vector<EncodedVideoFrame>& out) = 0;
  // New target rate and frame rate, from the next frame on.
  virtual Result<void> set_rates(std::uint32_t bitrate_bps, double framerate) = 0;
};

class VideoDecoder {
 public:
  virtual ~VideoDecoder() = default;
  VideoDecoder() = default;
  VideoDecoder(const VideoDecoder&) = delete;
  VideoDecoder& operator=(const VideoDecoder&) = delete;

  virtual VideoCodec codec() const noexcept = 0;
  virtual std::string_view implementation() const noexcept = 0;
  // Decodes one complete frame (a whole temporal unit); a picture when the decoder has one
  // to show, nothing when it has none (a frame that is not shown). DataError for a corrupt
  // frame; the decoder stays usable and wants a key frame next.
  virtual Result<std::optional<media::VideoFrame>> decode(BytesView frame,
                                                          std::int64_t timestamp_us) = 0;
};

Result<std::unique_ptr<VideoEncoder>> create_video_encoder(VideoCodec codec,
                                                           const VideoEncoderConfig& config);
Result<std::unique_ptr<VideoDecoder>> create_video_decoder(VideoCodec codec);

// ---- audio ----

struct AudioEncoderConfig {
  // Opus takes 8000, 12000, 16000, 24000 or 48000; G.711 takes 8000.
  int sample_rate = 48000;
  int channels = 1;
  // 10 or 20 (Opus also 40 and 60); G.711 any multiple of 10 up to 60.
  int frame_ms = 20;
  std::uint32_t bitrate_bps = 32000;
  // Opus: in-band forward error correction, and what loss rate to expect (it takes effect
  // above a few percent).
  bool fec = true;
  int expected_loss_percent = 0;
  // Opus: discontinuous transmission (near-empty packets in silence).
  bool dtx = false;
};

class AudioEncoder {
 public:
  virtual ~AudioEncoder() = default;
  AudioEncoder() = default;
  AudioEncoder(const AudioEncoder&) = delete;
  AudioEncoder& operator=(const AudioEncoder&) = delete;

  virtual AudioCodec codec() const noexcept = 0;
  virtual std::string_view implementation() const noexcept = 0;
  virtual int sample_rate() const noexcept = 0;
  virtual int channels() const noexcept = 0;
  // Samples per channel that one call to encode() takes.
  virtual int frame_samples() const noexcept = 0;
  // Encodes exactly frame_samples() samples per channel at sample_rate() and channels();
  // `out` is replaced with one packet (a DTX frame may be a byte or two).
  // InvalidAccessError for a frame of another shape.
  virtual Result<void> encode(const media::AudioFrame& frame, Buffer& out) = 0;
  virtual Result<void> set_bitrate(std::uint32_t bitrate_bps) = 0;
  virtual Result<void> set_expected_loss(int percent) = 0;
};

class AudioDecoder {
 public:
  virtual ~AudioDecoder() = default;
  AudioDecoder() = default;
  AudioDecoder(const AudioDecoder&) = delete;
  AudioDecoder& operator=(const AudioDecoder&) = delete;

  virtual AudioCodec codec() const noexcept = 0;
  virtual std::string_view implementation() const noexcept = 0;
  virtual int sample_rate() const noexcept = 0;
  virtual int channels() const noexcept = 0;
  // Decodes one packet into `out` (replaced). DataError for a corrupt packet.
  virtual Result<void> decode(BytesView packet, media::AudioFrame& out) = 0;
  // For a lost packet: `samples` per channel of concealment (Opus PLC; G.711 repeats and
  // fades the last frame's period).
  virtual Result<void> conceal(int samples, media::AudioFrame& out) = 0;
  // For a lost packet whose successor arrived: recovers it from the successor's in-band FEC
  // where the codec has it (Opus), else conceals.
  virtual Result<void> decode_fec(BytesView next_packet, int samples, media::AudioFrame& out) = 0;
};

Result<std::unique_ptr<AudioEncoder>> create_audio_encoder(AudioCodec codec,
                                                           const AudioEncoderConfig& config);
// Opus decodes at any of its rates (48000 is what WebRTC plays); G.711 at 8000.
Result<std::unique_ptr<AudioDecoder>> create_audio_decoder(AudioCodec codec, int sample_rate,
                                                           int channels);

}  // namespace rtcpp::codec
