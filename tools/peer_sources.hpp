// Raw media `rtcpp peer` encodes itself (docs/peer-contract.md): `testsrc` (the generated
// pattern and tone of media/test_source.hpp) or a raw file (.y4m video, .wav audio), sent in
// real time through the codec the negotiation chose; and the decoding side of `--record`,
// which writes what it decodes as <mid>.y4m and <mid>.wav.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "codec/codec.hpp"
#include "media/wav.hpp"
#include "media/y4m.hpp"
#include "rtcpp/rtcpp.hpp"

namespace rtcpp::tools {

// What a raw source is and how it is encoded.
struct RawSource {
  std::string kind;   // "video" or "audio"
  std::string path;   // "testsrc", or a .y4m (video) or .wav (audio) file
  std::string codec;  // the RTP name to encode with: VP8, VP9, H264, AV1; opus, PCMU, PCMA
  int width = 640;    // testsrc; a .y4m gives its own
  int height = 480;
  double fps = 30;                // testsrc; a .y4m gives its own
  std::uint32_t bitrate_bps = 0;  // 0: 1 Mbit/s video, 32 kbit/s Opus
  std::uint32_t clock_rate() const;
};

// Checks a raw source before anything connects: the codec is one this build encodes, the
// file opens and holds what its kind needs; a .y4m's size and rate are copied into it.
Result<void> prepare_raw_source(RawSource& source);

// Encodes and sends a raw source in real time on a thread of its own, looping a file, for
// `duration`; a key frame when the peer asks for one. done(frames, bytes, error) is called
// on that thread at the end.
class EncodingSender {
 public:
  EncodingSender(
      RawSource source, std::shared_ptr<RTCRtpSender> sender, std::chrono::milliseconds duration,
      std::function<void(std::uint64_t frames, std::uint64_t bytes, std::string error)> done);
  ~EncodingSender();
  void start();
  // Asks the thread to end (within one frame interval); never blocks.
  void stop();

 private:
  void run();
  std::string run_video(std::uint64_t& frames, std::uint64_t& bytes);
  std::string run_audio(std::uint64_t& frames, std::uint64_t& bytes);
  // Sends one frame: false with `error` set on a real failure; a frame refused before the
  // transport is up is not one (the next frame is then made a key frame).
  bool send(const RTCEncodedFrame& frame, std::uint64_t& frames, std::uint64_t& bytes,
            std::string& error);
  RawSource source_;
  std::shared_ptr<RTCRtpSender> sender_;
  std::chrono::milliseconds duration_;
  std::function<void(std::uint64_t, std::uint64_t, std::string)> done_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> key_frame_requested_{false};
  std::thread thread_;
};

// Decodes one received track and writes the result: video to DIR/<mid>.y4m (at the size of
// the first picture; later sizes are scaled to it), audio to DIR/<mid>.wav (Opus at 48 kHz
// mono, G.711 at 8 kHz; lost audio is concealed, so the file keeps time).
class TrackDecoder {
 public:
  // Nothing when the codec has no decoder here (the frames are then only recorded encoded).
  static std::optional<TrackDecoder> create(const std::string& kind, const std::string& codec,
                                            const std::string& base_path);
  TrackDecoder(TrackDecoder&&) noexcept = default;
  TrackDecoder& operator=(TrackDecoder&&) noexcept = default;
  ~TrackDecoder();

  // Loop thread. Returns whether the decoder wants a key frame (it lost its reference).
  bool on_frame(const RTCEncodedFrame& frame);
  void close();
  std::uint64_t frames_decoded() const noexcept { return frames_decoded_; }
  std::uint64_t decode_errors() const noexcept { return decode_errors_; }
  // Video from a testsrc sender on this host: the end-to-end latency of each decoded
  // picture, from the capture time painted in it to its decoding, in milliseconds.
  const std::vector<double>& latencies_ms() const noexcept { return latencies_ms_; }
  const std::string& error() const noexcept { return error_; }

 private:
  TrackDecoder() = default;
  bool on_video(const RTCEncodedFrame& frame);
  void on_audio(const RTCEncodedFrame& frame);
  std::string base_path_;
  std::unique_ptr<codec::VideoDecoder> video_;
  std::unique_ptr<codec::AudioDecoder> audio_;
  std::optional<media::Y4mFileWriter> y4m_;
  std::optional<media::WavFileWriter> wav_;
  int width_ = 0;
  int height_ = 0;
  bool waiting_for_key_frame_ = true;
  std::optional<std::uint32_t> next_audio_timestamp_;
  std::uint32_t audio_clock_rate_ = 48000;
  std::uint64_t frames_decoded_ = 0;
  std::uint64_t decode_errors_ = 0;
  std::vector<double> latencies_ms_;
  std::string error_;
};

}  // namespace rtcpp::tools
