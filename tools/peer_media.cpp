#include "tools/peer_media.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "rtp/vp8.hpp"

namespace rtcpp::tools {

TrackRecorder::TrackRecorder(std::string kind, std::string mid, std::string codec,
                             std::string directory)
    : kind_(std::move(kind)),
      mid_(std::move(mid)),
      codec_(std::move(codec)),
      directory_(std::move(directory)) {}

void TrackRecorder::on_frame(const RTCEncodedFrame& frame) {
  ++frames_;
  bytes_ += frame.data.size();
  if (directory_.empty() || !error_.empty()) return;
  if (codec_ != "VP8") {
    // Counted in the result, not written: Ogg for Opus comes with the audio files.
    if (frames_ == 1)
      std::fprintf(stderr, "rtcpp peer: track %s (%s) is counted but not recorded (VP8 only)\n",
                   mid_.c_str(), codec_.c_str());
    return;
  }
  const BytesView data(frame.data.data(), frame.data.size());
  if (!ivf_) {
    // The file starts at the first key frame, which gives the picture size.
    if (!frame.key_frame) return;
    media::IvfFileHeader header;
    header.codec = media::IvfCodec::kVp8;
    if (auto vp8 = rtp::parse_vp8_frame_header(data); vp8 && vp8->key_frame) {
      header.width = vp8->width;
      header.height = vp8->height;
    }
    header.timebase_numerator = 1;
    header.timebase_denominator = 90000;
    auto writer = media::IvfFileWriter::create(directory_ + "/" + mid_ + ".ivf", header);
    if (!writer) {
      error_ = "cannot write " + directory_ + "/" + mid_ +
               ".ivf: " + std::string(media::to_string(writer.error()));
      std::fprintf(stderr, "rtcpp peer: %s\n", error_.c_str());
      return;
    }
    ivf_.emplace(std::move(*writer));
  }
  const std::int64_t timestamp = timestamps_.unwrap(frame.rtp_timestamp);
  if (!first_timestamp_) first_timestamp_ = timestamp;
  const std::int64_t relative = std::max<std::int64_t>(timestamp - *first_timestamp_, 0);
  if (auto written = ivf_->write_frame(static_cast<std::uint64_t>(relative), data); !written) {
    error_ = "writing " + mid_ + ".ivf: " + std::string(media::to_string(written.error()));
    std::fprintf(stderr, "rtcpp peer: %s\n", error_.c_str());
  }
}

void TrackRecorder::close() {
  if (!ivf_) return;
  if (auto closed = ivf_->close(); !closed && error_.empty())
    error_ = "closing " + mid_ + ".ivf: " + std::string(media::to_string(closed.error()));
  ivf_.reset();
}

Result<IvfClip> load_ivf_clip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid_access_error("cannot read " + path);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const BytesView file(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  auto parser = media::IvfParser::open(file);
  if (!parser) return syntax_error(path + ": " + std::string(media::to_string(parser.error())));
  IvfClip clip;
  clip.header = parser->header();
  if (clip.header.codec != media::IvfCodec::kVp8)
    return not_supported_error(path + ": " + std::string(media::fourcc(clip.header.codec)) +
                               " is not sent yet (VP8 only)");
  const auto to_90khz = [&](std::uint64_t t) {
    return static_cast<std::uint32_t>(t * 90000 * clip.header.timebase_numerator /
                                      clip.header.timebase_denominator);
  };
  std::optional<std::uint64_t> first;
  std::uint32_t last = 0;
  while (true) {
    auto frame = parser->next_frame();
    if (!frame) return syntax_error(path + ": " + std::string(media::to_string(frame.error())));
    if (!*frame) break;
    if (!first) first = (*frame)->timestamp;
    RTCEncodedFrame encoded;
    encoded.rtp_timestamp = to_90khz((*frame)->timestamp - *first);
    const auto header = rtp::parse_vp8_frame_header((*frame)->data);
    if (!header) return syntax_error(path + ": a frame that is not VP8");
    encoded.key_frame = header->key_frame;
    encoded.data.assign((*frame)->data.begin(), (*frame)->data.end());
    last = encoded.rtp_timestamp;
    clip.frames.push_back(std::move(encoded));
  }
  if (clip.frames.empty()) return syntax_error(path + ": no frames");
  if (!clip.frames.front().key_frame)
    return syntax_error(path + ": does not start with a key frame");
  // One frame interval past the last frame, so that the loop keeps the pace.
  const std::uint32_t interval =
      clip.frames.size() > 1 ? last / static_cast<std::uint32_t>(clip.frames.size() - 1) : 3000;
  clip.duration_90khz = last + std::max<std::uint32_t>(interval, 1);
  return clip;
}

ClipSender::ClipSender(
    IvfClip clip, std::shared_ptr<RTCRtpSender> sender, std::chrono::milliseconds duration,
    std::function<void(std::uint64_t frames, std::uint64_t bytes, std::string error)> done)
    : clip_(std::move(clip)),
      sender_(std::move(sender)),
      duration_(duration),
      done_(std::move(done)) {
  // A file cannot make a key frame on request: the next one in the clip is sent instead.
  sender_->on_key_frame_request([this] { key_frame_requested_ = true; });
}

ClipSender::~ClipSender() {
  stop();
}

void ClipSender::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void ClipSender::stop() {
  stop_ = true;
}

void ClipSender::run() {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::string error;
  std::size_t index = 0;
  std::uint64_t media_time = 0;  // 90 kHz, the clock of the frames sent
  while (!stop_) {
    const RTCEncodedFrame& frame = clip_.frames[index];
    const auto due = start + std::chrono::microseconds(media_time * 1000 / 90);
    if (due - start >= duration_) break;
    std::this_thread::sleep_until(due);
    RTCEncodedFrame out = frame;
    out.rtp_timestamp = static_cast<std::uint32_t>(media_time);
    auto sent = sender_->send_encoded_frame(out);
    // Before the transport is up a frame is refused as InvalidStateError: not an error.
    if (!sent && sent.error().type() != RTCErrorType::kInvalidStateError) {
      error = sent.error().to_string();
      break;
    }
    if (sent) {
      ++frames;
      bytes += out.data.size();
    }
    // The clip's own spacing; on a key-frame request the next key frame of the clip takes
    // the next slot.
    const std::size_t natural = (index + 1) % clip_.frames.size();
    const std::uint32_t step = natural == 0
                                   ? clip_.duration_90khz - frame.rtp_timestamp
                                   : clip_.frames[natural].rtp_timestamp - frame.rtp_timestamp;
    media_time += std::max<std::uint32_t>(step, 1);
    index = natural;
    if (key_frame_requested_.exchange(false)) {
      while (!clip_.frames[index].key_frame) index = (index + 1) % clip_.frames.size();
    }
  }
  if (done_) done_(frames, bytes, error);
}

}  // namespace rtcpp::tools
