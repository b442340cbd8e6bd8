// The media side of `rtcpp peer` (docs/peer-contract.md): recording received tracks as
// files, and sending encoded files in real time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "base/bytes.hpp"
#include "base/serial.hpp"
#include "media/annexb.hpp"
#include "media/ivf.hpp"
#include "media/ogg.hpp"
#include "rtcpp/rtcpp.hpp"

namespace rtcpp::tools {

// One received track, written as its frames arrive: VP8, VP9 and AV1 to DIR/<mid>.ivf, H.264
// to DIR/<mid>.h264 (Annex B), Opus to DIR/<mid>.ogg; video from its first key frame. Other
// codecs (G.711) are counted and not written.
class TrackRecorder {
 public:
  TrackRecorder(std::string kind, std::string mid, std::string codec, std::string directory);
  // Loop thread. The first error (a file that cannot be written) is kept.
  void on_frame(const RTCEncodedFrame& frame);
  // Writes the IVF header's frame count; the file is complete after it.
  void close();

  const std::string& kind() const noexcept { return kind_; }
  const std::string& mid() const noexcept { return mid_; }
  const std::string& codec() const noexcept { return codec_; }
  std::uint64_t frames() const noexcept { return frames_; }
  std::uint64_t bytes() const noexcept { return bytes_; }
  const std::string& error() const noexcept { return error_; }

 private:
  std::string kind_;
  std::string mid_;
  std::string codec_;
  std::string directory_;
  bool open_file(const RTCEncodedFrame& frame);
  std::optional<media::IvfFileWriter> ivf_;
  std::optional<media::AnnexBFileWriter> h264_;
  std::optional<media::OggOpusFileWriter> ogg_;
  SerialUnwrapper<std::uint32_t> timestamps_;
  std::optional<std::int64_t> first_timestamp_;
  std::uint64_t frames_ = 0;
  std::uint64_t bytes_ = 0;
  std::string error_;
};

// An encoded file read whole: an IVF file (VP8, VP9, AV1) or an H.264 Annex B stream (at 30
// frames a second: the format has no timing) for video, an Ogg Opus file for audio. A clear
// error for anything else.
struct MediaClip {
  std::string kind;                     // "video" or "audio"
  std::string codec;                    // the rtpmap name: "VP8", "VP9", "AV1", "H264", "opus"
  std::uint32_t clock_rate = 90000;     // of the timestamps: 90 kHz video, 48 kHz Opus
  std::vector<RTCEncodedFrame> frames;  // timestamps in clock_rate units, from 0
  std::uint32_t duration = 0;           // of one pass through the clip, in the same units
};
// By the file's extension: .ivf, .h264, .ogg.
Result<MediaClip> load_media_clip(const std::string& path);

// Sends a clip on a sender in real time, looping, for `duration`; runs on a thread of its
// own. done(frames_sent, bytes_sent, error) is called on that thread at the end.
class ClipSender {
 public:
  ClipSender(
      MediaClip clip, std::shared_ptr<RTCRtpSender> sender, std::chrono::milliseconds duration,
      std::function<void(std::uint64_t frames, std::uint64_t bytes, std::string error)> done);
  ~ClipSender();
  // Starts sending (once the connection is up).
  void start();
  // Asks the thread to end (it does within one frame interval); never blocks, so it may be
  // called on the loop thread that the sending thread waits for.
  void stop();

 private:
  void run();
  MediaClip clip_;
  std::shared_ptr<RTCRtpSender> sender_;
  std::chrono::milliseconds duration_;
  std::function<void(std::uint64_t, std::uint64_t, std::string)> done_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> key_frame_requested_{false};
  std::thread thread_;
};

}  // namespace rtcpp::tools
