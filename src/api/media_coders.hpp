// The raw-media side of senders and receivers (rtcpp extensions): a sender's encoder, fed
// raw frames by RTCRtpSender::send_video_frame / send_audio_frame, and a receiver's decoder,
// handing decoded frames to on_video_frame / on_audio_frame. Codecs come from codec/; which
// one is what the negotiation chose.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/serial.hpp"
#include "codec/codec.hpp"
#include "media/resampler.hpp"
#include "rtcpp/audio_frame.hpp"
#include "rtcpp/video_frame.hpp"

namespace rtcpp {
struct RTCEncodedFrame;
}

namespace rtcpp::detail {

// What a sender's encoder is set to: the negotiated codec and the encoding's limits.
struct SendSettings {
  std::string codec;
  std::optional<std::uint32_t> max_bitrate;
  std::optional<double> max_framerate;
  // W3C 5.2 scaleResolutionDownBy (at least 1): each dimension divided by it before encoding.
  std::optional<double> scale_resolution_down_by;
  // W3C mediacapture 4.3.1: a disabled track sends black pictures and silence.
  bool track_enabled = true;
  // Video: the part of the connection's bandwidth estimate this sender may use; the encoder
  // aims at the lower of it and max_bitrate (or the default for the picture size).
  std::optional<std::uint32_t> bandwidth_share;
};

struct SendCoder {
  // Held across encoding and sending, so that frames leave in the order they were encoded
  // whichever threads send; never taken on the loop thread (sending waits for the loop).
  std::mutex mutex;
  std::string codec;
  std::uint32_t bitrate_bps = 0;
  double framerate = 0;
  std::unique_ptr<codec::VideoEncoder> video;
  std::unique_ptr<codec::AudioEncoder> audio;
  std::optional<media::Resampler> resampler;
  int input_rate = 0;
  int input_channels = 0;
  std::vector<std::int16_t> pending;  // audio at the encoder's rate and channels
  std::uint32_t audio_rtp_timestamp = 0;
  bool need_key_frame = true;
  // Set on the loop thread when the peer asks (PLI, FIR) or the encoding is reactivated.
  std::atomic<bool> key_frame_requested{false};
  // webrtc-stats 7.10 (outbound-rtp) and 7.13 (media-source), and the encoder's name:
  // written and read under stats_mutex only (the loop thread reads them for getStats).
  std::mutex stats_mutex;
  std::string implementation;
  struct Stats {
    std::uint64_t frames_encoded = 0;
    std::uint64_t key_frames_encoded = 0;
    double total_encode_time = 0;  // seconds
    std::uint64_t qp_sum = 0;
    int frame_width = 0;
    int frame_height = 0;
    std::uint64_t source_frames = 0;   // pictures given
    std::uint32_t target_bitrate = 0;  // what the encoder aims at (webrtc-stats targetBitrate)
    // Audio given: its level (linear, 0-1), energy and duration (webrtc-stats 7.13.1).
    double audio_level = 0;
    double total_audio_energy = 0;
    double total_samples_duration = 0;
  } stats;
};

struct ReceiveCoder {
  std::string codec;
  std::unique_ptr<codec::VideoDecoder> video;
  std::unique_ptr<codec::AudioDecoder> audio;
  bool waiting_for_key_frame = true;
  SerialUnwrapper<std::uint32_t> timestamps;
  std::optional<std::int64_t> first_timestamp;
  std::optional<std::uint32_t> next_audio_timestamp;
  // webrtc-stats 7.6 (inbound-rtp).
  struct Stats {
    std::uint64_t frames_decoded = 0;
    std::uint64_t key_frames_decoded = 0;
    double total_decode_time = 0;  // seconds
    int frame_width = 0;
    int frame_height = 0;
    std::uint64_t total_samples_received = 0;
    std::uint64_t concealed_samples = 0;
    std::uint64_t concealment_events = 0;
    double audio_level = 0;
    double total_audio_energy = 0;
    double total_samples_duration = 0;
  } stats;
};

// Encodes one picture into the frames to send (none when rate control drops it). Called
// with coder.mutex held.
Result<std::vector<RTCEncodedFrame>> encode_video(SendCoder& coder, const SendSettings& settings,
                                                  const VideoFrame& frame);
// Takes audio in, gives the 20 ms packets that are complete. Called with coder.mutex held.
Result<std::vector<RTCEncodedFrame>> encode_audio(SendCoder& coder, const SendSettings& settings,
                                                  const AudioFrame& frame);

// Decodes one received frame and hands the picture to `deliver`; true when the decoder wants
// a key frame. Loop thread.
bool decode_video(ReceiveCoder& coder, const std::string& codec, const RTCEncodedFrame& frame,
                  const std::function<void(const VideoFrame&)>& deliver);
// Decodes one received packet (after concealing any lost before it). Loop thread.
void decode_audio(ReceiveCoder& coder, const std::string& codec, const RTCEncodedFrame& frame,
                  const std::function<void(const AudioFrame&)>& deliver);

}  // namespace rtcpp::detail
