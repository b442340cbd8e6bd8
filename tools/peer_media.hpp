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
#include "media/ivf.hpp"
#include "rtcpp/rtcpp.hpp"

namespace rtcpp::tools {

// One received track: written to DIR/<mid>.ivf as its frames arrive (VP8); other codecs are
// counted and not written yet.
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
  std::optional<media::IvfFileWriter> ivf_;
  SerialUnwrapper<std::uint32_t> timestamps_;
  std::optional<std::int64_t> first_timestamp_;
  std::uint64_t frames_ = 0;
  std::uint64_t bytes_ = 0;
  std::string error_;
};

// Reads a VP8 IVF file whole; a clear error for anything else (another codec, a bad file).
struct IvfClip {
  media::IvfFileHeader header;
  std::vector<RTCEncodedFrame> frames;  // timestamps in 90 kHz, from 0
  std::uint32_t duration_90khz = 0;     // of one pass through the clip
};
Result<IvfClip> load_ivf_clip(const std::string& path);

// Sends a clip on a sender in real time, looping, for `duration`; runs on a thread of its
// own. done(frames_sent, error) is called on that thread at the end.
class ClipSender {
 public:
  ClipSender(
      IvfClip clip, std::shared_ptr<RTCRtpSender> sender, std::chrono::milliseconds duration,
      std::function<void(std::uint64_t frames, std::uint64_t bytes, std::string error)> done);
  ~ClipSender();
  // Starts sending (once the connection is up).
  void start();
  // Asks the thread to end (it does within one frame interval); never blocks, so it may be
  // called on the loop thread that the sending thread waits for.
  void stop();

 private:
  void run();
  IvfClip clip_;
  std::shared_ptr<RTCRtpSender> sender_;
  std::chrono::milliseconds duration_;
  std::function<void(std::uint64_t, std::uint64_t, std::string)> done_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> key_frame_requested_{false};
  std::thread thread_;
};

}  // namespace rtcpp::tools
