// Raw media `rtcpp peer` sends (docs/peer-contract.md): `testsrc` (the generated pattern and
// tone of media/test_source.hpp) or a raw file (.y4m video, .wav audio), given in real time
// to the sender's raw-frame API, which encodes with the codec the negotiation chose; and the
// decoding side of `--record`, which writes what the receiver decodes as <mid>.y4m and
// <mid>.wav.
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

// Sends a raw source in real time through RTCRtpSender::send_video_frame / send_audio_frame
// (the sender encodes with the negotiated codec and answers the peer's key-frame requests),
// on a thread of its own, looping a file, for `duration`. The video bitrate goes in as the
// encoding's max_bitrate (W3C setParameters). done(frames, bytes, error) is called on that
// thread at the end; frames counts pictures or 20 ms audio frames given to the sender.
class RawSender {
 public:
  RawSender(RawSource source, std::shared_ptr<RTCRtpSender> sender,
            std::chrono::milliseconds duration,
            std::function<void(std::uint64_t frames, std::uint64_t bytes, std::string error)> done);
  ~RawSender();
  void start();
  // Asks the thread to end (within one frame interval); never blocks.
  void stop();

 private:
  void run();
  std::string run_video(std::uint64_t& frames, std::uint64_t& bytes);
  std::string run_audio(std::uint64_t& frames, std::uint64_t& bytes);
  // A frame refused before the transport is up is not an error.
  static bool fatal(const Result<>& sent);
  RawSource source_;
  std::shared_ptr<RTCRtpSender> sender_;
  std::chrono::milliseconds duration_;
  std::function<void(std::uint64_t, std::uint64_t, std::string)> done_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Writes what a receiver decodes (RTCRtpReceiver::on_video_frame / on_audio_frame): video to
// <base>.y4m at the size of the first picture (later sizes scaled to it), audio to <base>.wav.
class DecodedRecorder {
 public:
  explicit DecodedRecorder(std::string base_path) : base_path_(std::move(base_path)) {}
  // Loop thread.
  void on_video(const VideoFrame& picture);
  void on_audio(const AudioFrame& audio);
  void close();
  std::uint64_t frames() const noexcept { return frames_; }
  const std::string& error() const noexcept { return error_; }
  // Video from a testsrc sender on this host: the end-to-end latency of each decoded
  // picture, from the capture time painted in it to its decoding, in milliseconds.
  const std::vector<double>& latencies_ms() const noexcept { return latencies_ms_; }

 private:
  std::string base_path_;
  std::optional<media::Y4mFileWriter> y4m_;
  std::optional<media::WavFileWriter> wav_;
  int width_ = 0;
  int height_ = 0;
  std::uint64_t frames_ = 0;
  std::vector<double> latencies_ms_;
  std::string error_;
  bool closed_ = false;  // nothing is written after close()
};

}  // namespace rtcpp::tools
