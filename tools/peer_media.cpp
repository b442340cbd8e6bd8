#include "tools/peer_media.hpp"

#include <strings.h>

#include <chrono>
#include <cstdio>
#include <limits>

#include "rtp/av1.hpp"
#include "rtp/opus.hpp"
#include "rtp/vp8.hpp"
#include "rtp/vp9.hpp"
#include "tools/read_file.hpp"

namespace rtcpp::tools {

TrackRecorder::TrackRecorder(std::string kind, std::string mid, std::string codec,
                             std::string directory)
    : kind_(std::move(kind)),
      mid_(std::move(mid)),
      codec_(std::move(codec)),
      directory_(std::move(directory)) {}

namespace {

bool is(const std::string& codec, std::string_view name) {
  return codec.size() == name.size() && strncasecmp(codec.c_str(), name.data(), name.size()) == 0;
}

std::optional<media::IvfCodec> ivf_codec(const std::string& codec) {
  if (is(codec, "VP8")) return media::IvfCodec::kVp8;
  if (is(codec, "VP9")) return media::IvfCodec::kVp9;
  if (is(codec, "AV1")) return media::IvfCodec::kAv1;
  return std::nullopt;
}

// Whether a temporal unit (low-overhead OBUs, as IVF holds them) starts a coded video
// sequence: libaom and Chromium put a sequence header before each key frame.
bool av1_key_frame(BytesView unit) {
  while (!unit.empty()) {
    auto obu = rtp::read_av1_obu(unit);
    if (!obu || obu->total_size == 0 || obu->total_size > unit.size()) return false;
    if (obu->header.type == static_cast<std::uint8_t>(rtp::Av1ObuType::kSequenceHeader))
      return true;
    unit = unit.subspan(obu->total_size);
  }
  return false;
}

}  // namespace

bool TrackRecorder::open_file(const RTCEncodedFrame& frame) {
  const BytesView data(frame.data.data(), frame.data.size());
  const std::string base = directory_ + "/" + mid_;
  auto fail = [&](const std::string& path, std::string_view why) {
    error_ = "cannot write " + path + ": " + std::string(why);
    std::fprintf(stderr, "rtcpp peer: %s\n", error_.c_str());
    return false;
  };
  if (auto codec = ivf_codec(codec_)) {
    // The file starts at the first key frame, which gives the picture size.
    if (!frame.key_frame) return false;
    media::IvfFileHeader header;
    header.codec = *codec;
    if (*codec == media::IvfCodec::kVp8) {
      if (auto vp8 = rtp::parse_vp8_frame_header(data); vp8 && vp8->key_frame) {
        header.width = vp8->width;
        header.height = vp8->height;
      }
    } else if (*codec == media::IvfCodec::kVp9) {
      if (auto vp9 = rtp::parse_vp9_frame_header(data); vp9 && vp9->key_frame) {
        header.width = vp9->width;
        header.height = vp9->height;
      }
    }
    header.timebase_numerator = 1;
    header.timebase_denominator = 90000;
    auto writer = media::IvfFileWriter::create(base + ".ivf", header);
    if (!writer) return fail(base + ".ivf", media::to_string(writer.error()));
    ivf_.emplace(std::move(*writer));
    return true;
  }
  if (is(codec_, "H264")) {
    if (!frame.key_frame) return false;
    auto writer = media::AnnexBFileWriter::create(base + ".h264");
    if (!writer) return fail(base + ".h264", media::to_string(writer.error()));
    h264_.emplace(std::move(*writer));
    return true;
  }
  if (is(codec_, "opus")) {
    // RFC 7845 4.2: a recording that may start anywhere in the stream gives the decoder
    // 80 ms (3840 samples at 48 kHz) of pre-skip to converge.
    auto writer = media::OggOpusFileWriter::create(base + ".ogg", 2, 3840);
    if (!writer) return fail(base + ".ogg", media::to_string(writer.error()));
    ogg_.emplace(std::move(*writer));
    return true;
  }
  if (frames_ == 1)
    std::fprintf(stderr, "rtcpp peer: track %s (%s) is counted but not recorded\n", mid_.c_str(),
                 codec_.c_str());
  return false;
}

void TrackRecorder::on_frame(const RTCEncodedFrame& frame) {
  ++frames_;
  bytes_ += frame.data.size();
  if (directory_.empty() || !error_.empty()) return;
  if (!ivf_ && !h264_ && !ogg_ && !open_file(frame)) return;
  const BytesView data(frame.data.data(), frame.data.size());
  const std::int64_t timestamp = timestamps_.unwrap(frame.rtp_timestamp);
  if (!first_timestamp_) first_timestamp_ = timestamp;
  const std::int64_t relative = std::max<std::int64_t>(timestamp - *first_timestamp_, 0);
  std::string failure;
  if (ivf_) {
    if (auto written = ivf_->write_frame(static_cast<std::uint64_t>(relative), data); !written)
      failure = "writing " + mid_ + ".ivf: " + std::string(media::to_string(written.error()));
  } else if (h264_) {
    if (auto written = h264_->write_access_unit(data); !written)
      failure = "writing " + mid_ + ".h264: " + std::string(media::to_string(written.error()));
  } else if (ogg_) {
    if (auto written = ogg_->write_packet(data); !written)
      failure = "writing " + mid_ + ".ogg: " + std::string(media::to_string(written.error()));
  }
  if (!failure.empty()) {
    error_ = failure;
    std::fprintf(stderr, "rtcpp peer: %s\n", error_.c_str());
  }
}

void TrackRecorder::close() {
  auto note = [&](const char* extension, std::string_view why) {
    if (error_.empty()) error_ = "closing " + mid_ + extension + ": " + std::string(why);
  };
  if (ivf_) {
    if (auto closed = ivf_->close(); !closed) note(".ivf", media::to_string(closed.error()));
    ivf_.reset();
  }
  if (h264_) {
    if (auto closed = h264_->close(); !closed) note(".h264", media::to_string(closed.error()));
    h264_.reset();
  }
  if (ogg_) {
    if (auto closed = ogg_->close(); !closed) note(".ogg", media::to_string(closed.error()));
    ogg_.reset();
  }
}

namespace {

Result<std::string> read_whole(const std::string& path) {
  auto bytes = read_whole_file(path);
  if (!bytes) return invalid_access_error("cannot read " + path);
  return std::move(*bytes);
}

Result<MediaClip> load_ivf(const std::string& path, BytesView file) {
  auto parser = media::IvfParser::open(file);
  if (!parser) return syntax_error(path + ": " + std::string(media::to_string(parser.error())));
  const media::IvfFileHeader header = parser->header();
  MediaClip clip;
  clip.kind = "video";
  clip.codec = header.codec == media::IvfCodec::kVp8   ? "VP8"
               : header.codec == media::IvfCodec::kVp9 ? "VP9"
                                                       : "AV1";
  const auto to_90khz = [&](std::uint64_t t) {
    return static_cast<std::uint32_t>(t * 90000 * header.timebase_numerator /
                                      header.timebase_denominator);
  };
  std::optional<std::uint64_t> first;
  while (true) {
    auto frame = parser->next_frame();
    if (!frame) return syntax_error(path + ": " + std::string(media::to_string(frame.error())));
    if (!*frame) break;
    if (!first) first = (*frame)->timestamp;
    RTCEncodedFrame encoded;
    encoded.rtp_timestamp = to_90khz((*frame)->timestamp - *first);
    const BytesView data = (*frame)->data;
    if (header.codec == media::IvfCodec::kVp8) {
      const auto vp8 = rtp::parse_vp8_frame_header(data);
      if (!vp8) return syntax_error(path + ": a frame that is not VP8");
      encoded.key_frame = vp8->key_frame;
    } else if (header.codec == media::IvfCodec::kVp9) {
      const auto vp9 = rtp::parse_vp9_frame_header(data);
      // A superframe's first frame decides; one that does not parse is not a key frame.
      encoded.key_frame = vp9 && vp9->key_frame;
    } else {
      encoded.key_frame = av1_key_frame(data);
    }
    encoded.data.assign(data.begin(), data.end());
    clip.frames.push_back(std::move(encoded));
  }
  return clip;
}

Result<MediaClip> load_h264(const std::string& path, BytesView file) {
  media::AnnexBParser parser(file);
  MediaClip clip;
  clip.kind = "video";
  clip.codec = "H264";
  std::uint32_t timestamp = 0;
  while (true) {
    auto unit = parser.next_access_unit();
    if (!unit) return syntax_error(path + ": " + std::string(media::to_string(unit.error())));
    if (!*unit) break;
    RTCEncodedFrame encoded;
    encoded.key_frame = (*unit)->key_frame;
    encoded.rtp_timestamp = timestamp;
    encoded.data.assign((*unit)->data.begin(), (*unit)->data.end());
    clip.frames.push_back(std::move(encoded));
    timestamp += 3000;  // 30 frames a second
  }
  return clip;
}

Result<MediaClip> load_ogg_opus(const std::string& path, BytesView file) {
  auto parser = media::OggOpusParser::open(file);
  if (!parser) return syntax_error(path + ": " + std::string(media::to_string(parser.error())));
  MediaClip clip;
  clip.kind = "audio";
  clip.codec = "opus";
  clip.clock_rate = rtp::kOpusRtpClockRate;
  std::uint64_t timestamp = 0;
  while (true) {
    auto packet = parser->next_packet();
    if (!packet) return syntax_error(path + ": " + std::string(media::to_string(packet.error())));
    if (!*packet) break;
    // RFC 7587 4.1: the RTP timestamp advances by the packet's samples at 48 kHz.
    RTCEncodedFrame encoded;
    encoded.key_frame = true;  // every audio frame stands alone
    encoded.rtp_timestamp = static_cast<std::uint32_t>(timestamp);
    encoded.data.assign((*packet)->data.begin(), (*packet)->data.end());
    clip.frames.push_back(std::move(encoded));
    timestamp += (*packet)->samples;
    if (timestamp > std::numeric_limits<std::uint32_t>::max() / 2)
      return syntax_error(path + ": longer than a clip may be (12 hours)");
  }
  clip.duration = static_cast<std::uint32_t>(timestamp);
  return clip;
}

}  // namespace

Result<MediaClip> load_media_clip(const std::string& path) {
  auto bytes = read_whole(path);
  if (!bytes) return bytes.error();
  const BytesView file(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size());
  Result<MediaClip> loaded = path.ends_with(".h264")  ? load_h264(path, file)
                             : path.ends_with(".ogg") ? load_ogg_opus(path, file)
                                                      : load_ivf(path, file);
  if (!loaded) return loaded;
  MediaClip& clip = *loaded;
  if (clip.frames.empty()) return syntax_error(path + ": no frames");
  if (!clip.frames.front().key_frame)
    return syntax_error(path + ": does not start with a key frame");
  if (clip.kind == "video") {
    // One frame interval past the last frame, so that the loop keeps the pace.
    const std::uint32_t last = clip.frames.back().rtp_timestamp;
    const std::uint32_t interval =
        clip.frames.size() > 1 ? last / static_cast<std::uint32_t>(clip.frames.size() - 1) : 3000;
    clip.duration = last + std::max<std::uint32_t>(interval, 1);
  }
  return loaded;
}

ClipSender::ClipSender(
    MediaClip clip, std::shared_ptr<RTCRtpSender> sender, std::chrono::milliseconds duration,
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
  std::uint64_t media_time = 0;  // in the clip's clock units: the timestamps sent
  const std::uint64_t rate = clip_.clock_rate;
  while (!stop_) {
    const RTCEncodedFrame& frame = clip_.frames[index];
    const auto due = start + std::chrono::microseconds(media_time * 1'000'000 / rate);
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
                                   ? clip_.duration - frame.rtp_timestamp
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
