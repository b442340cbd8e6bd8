#include "tools/peer_sources.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "codec/codec.hpp"
#include "media/test_source.hpp"
#include "media/video_frame.hpp"

namespace rtcpp::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kToneHz = 440;
constexpr int kAudioFrameMs = 20;

std::uint32_t wall_clock_ms() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

}  // namespace

std::uint32_t RawSource::clock_rate() const {
  if (kind == "video") return 90000;
  const auto type = codec::audio_codec_from_name(codec);
  return static_cast<std::uint32_t>(codec::rtp_clock_rate(type.value_or(codec::AudioCodec::kOpus)));
}

Result<void> prepare_raw_source(RawSource& source) {
  if (source.kind == "video") {
    const auto codec = codec::video_codec_from_name(source.codec);
    if (!codec || !codec::can_encode(*codec)) {
      return not_supported_error("no " + source.codec + " encoder in this build");
    }
    if (source.path != "testsrc") {
      auto reader = media::Y4mFileReader::open(source.path);
      if (!reader) {
        return syntax_error(source.path + ": " + std::string(media::to_string(reader.error())));
      }
      source.width = reader->header().width;
      source.height = reader->header().height;
      source.fps =
          static_cast<double>(reader->header().fps_numerator) / reader->header().fps_denominator;
      if (!(source.fps >= 1 && source.fps <= 240)) {
        return range_error(source.path + ": a frame rate of " + std::to_string(source.fps) +
                           " (1 to 240 are sent)");
      }
    } else if (!media::TestPattern::create(source.width, source.height)) {
      return range_error("testsrc: a picture of 64x48 at least");
    }
    if (source.bitrate_bps == 0) source.bitrate_bps = 1'000'000;
    return {};
  }
  if (!codec::audio_codec_from_name(source.codec)) {
    return not_supported_error("no " + source.codec + " encoder in this build");
  }
  if (source.path != "testsrc") {
    auto reader = media::WavFileReader::open(source.path);
    if (!reader) {
      return syntax_error(source.path + ": " + std::string(media::to_string(reader.error())));
    }
  }
  if (source.bitrate_bps == 0) source.bitrate_bps = source.codec == "opus" ? 32000 : 64000;
  return {};
}

RawSender::RawSender(RawSource source, std::shared_ptr<RTCRtpSender> sender,
                     std::chrono::milliseconds duration,
                     std::function<void(std::uint64_t, std::uint64_t, std::string)> done)
    : source_(std::move(source)),
      sender_(std::move(sender)),
      duration_(duration),
      done_(std::move(done)) {}

RawSender::~RawSender() {
  stop();
}

void RawSender::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void RawSender::stop() {
  stop_ = true;
}

void RawSender::run() {
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::string error = source_.kind == "video" ? run_video(frames, bytes) : run_audio(frames, bytes);
  if (done_) done_(frames, bytes, error);
}

bool RawSender::fatal(const Result<>& sent) {
  return !sent && sent.error().type() != RTCErrorType::kInvalidStateError;
}

std::string RawSender::run_video(std::uint64_t& frames, std::uint64_t& bytes) {
  // W3C 5.2 setParameters: the bitrate the sender's encoder keeps to.
  auto parameters = sender_->get_parameters();
  if (!parameters.encodings.empty()) {
    parameters.encodings.front().max_bitrate = source_.bitrate_bps;
    parameters.encodings.front().max_framerate = source_.fps;
    if (auto set = sender_->set_parameters(parameters).get(); !set) return set.error().to_string();
  }
  std::optional<media::TestPattern> pattern;
  std::optional<media::Y4mFileReader> reader;
  if (source_.path == "testsrc") {
    pattern.emplace(*media::TestPattern::create(source_.width, source_.height));
  } else {
    auto opened = media::Y4mFileReader::open(source_.path);
    if (!opened) return source_.path + ": " + std::string(media::to_string(opened.error()));
    reader.emplace(std::move(*opened));
    reader->set_loop(true);
  }
  const auto start = Clock::now();
  for (std::uint64_t n = 0; !stop_; ++n) {
    const auto offset = std::chrono::microseconds(static_cast<std::int64_t>(n * 1e6 / source_.fps));
    if (offset >= duration_) break;
    std::this_thread::sleep_until(start + offset);
    VideoFrame frame;
    if (pattern) {
      // The time painted in is the wall clock: a receiver on the same host reads latency.
      frame = pattern->render({static_cast<std::uint32_t>(n), wall_clock_ms()});
    } else {
      auto next = reader->next_frame();
      if (!next) return source_.path + ": " + std::string(media::to_string(next.error()));
      if (!next->has_value()) return source_.path + ": no frames";
      frame = std::move(**next);
    }
    frame.timestamp_us = offset.count();
    auto sent = sender_->send_video_frame(frame);
    if (fatal(sent)) return sent.error().to_string();
    if (sent) {
      ++frames;
      bytes += frame.bytes().size();
    }
  }
  return {};
}

std::string RawSender::run_audio(std::uint64_t& frames, std::uint64_t& bytes) {
  std::optional<media::WavFileReader> reader;
  std::optional<media::ToneGenerator> tone;
  int rate = 48000;
  if (source_.path == "testsrc") {
    tone.emplace(*media::ToneGenerator::create(kToneHz, rate, 1));
  } else {
    auto opened = media::WavFileReader::open(source_.path);
    if (!opened) return source_.path + ": " + std::string(media::to_string(opened.error()));
    reader.emplace(std::move(*opened));
    rate = reader->format().sample_rate;
    if (reader->total_samples_per_channel() == 0) return source_.path + ": no samples";
  }
  // 20 ms at the source's own rate: the sender resamples and mixes down for its codec.
  const auto samples = static_cast<std::size_t>(rate / 50);
  const auto start = Clock::now();
  for (std::uint64_t n = 0; !stop_; ++n) {
    const auto offset = std::chrono::milliseconds(static_cast<std::int64_t>(n) * kAudioFrameMs);
    if (offset >= duration_) break;
    std::this_thread::sleep_until(start + offset);
    AudioFrame frame;
    if (tone) {
      frame = tone->next(static_cast<int>(samples));
    } else {
      auto read = reader->read(samples);
      if (!read) return source_.path + ": " + std::string(media::to_string(read.error()));
      if (read->samples_per_channel() < samples) {
        // The end of the file: play it again from the start.
        if (auto rewound = reader->rewind(); !rewound) {
          return source_.path + ": " + std::string(media::to_string(rewound.error()));
        }
        auto more = reader->read(samples - read->samples_per_channel());
        if (!more) return source_.path + ": " + std::string(media::to_string(more.error()));
        read->samples.insert(read->samples.end(), more->samples.begin(), more->samples.end());
      }
      frame = std::move(*read);
    }
    frame.timestamp_us = std::chrono::duration_cast<std::chrono::microseconds>(offset).count();
    auto sent = sender_->send_audio_frame(frame);
    if (fatal(sent)) return sent.error().to_string();
    if (sent) {
      ++frames;
      bytes += frame.samples.size() * sizeof(std::int16_t);
    }
  }
  return {};
}

void DecodedRecorder::on_video(const VideoFrame& decoded) {
  if (closed_ || !error_.empty()) return;
  const VideoFrame* picture = &decoded;
  if (const auto stamp = media::read_pattern_stamp(decoded)) {
    // Serial arithmetic: the painted time is the sender's wall clock modulo 2^32 ms.
    const auto latency = static_cast<std::int32_t>(wall_clock_ms() - stamp->time_ms);
    if (latency >= 0 && latency < 60'000) latencies_ms_.push_back(latency);
  }
  if (!y4m_) {
    width_ = decoded.width();
    height_ = decoded.height();
    // The pictures keep the sender's pace; 30 fps is what the file says.
    auto writer = media::Y4mFileWriter::create(base_path_ + ".y4m", width_, height_, 30, 1);
    if (!writer) {
      error_ =
          "cannot write " + base_path_ + ".y4m: " + std::string(media::to_string(writer.error()));
      return;
    }
    y4m_.emplace(std::move(*writer));
  }
  std::optional<VideoFrame> scaled;
  if (decoded.width() != width_ || decoded.height() != height_) {
    auto made = media::scale(decoded, width_, height_);
    if (!made) return;
    scaled = std::move(*made);
    picture = &*scaled;
  }
  if (auto written = y4m_->write_frame(*picture); !written) {
    error_ =
        "cannot write " + base_path_ + ".y4m: " + std::string(media::to_string(written.error()));
    return;
  }
  ++frames_;
}

void DecodedRecorder::on_audio(const AudioFrame& audio) {
  if (closed_ || !error_.empty()) return;
  if (!wav_) {
    auto writer =
        media::WavFileWriter::create(base_path_ + ".wav", audio.sample_rate, audio.channels);
    if (!writer) {
      error_ =
          "cannot write " + base_path_ + ".wav: " + std::string(media::to_string(writer.error()));
      return;
    }
    wav_.emplace(std::move(*writer));
  }
  if (auto written = wav_->write(audio); !written) {
    error_ =
        "cannot write " + base_path_ + ".wav: " + std::string(media::to_string(written.error()));
    return;
  }
  ++frames_;
}

void DecodedRecorder::close() {
  closed_ = true;
  if (y4m_) (void)y4m_->close();
  if (wav_) (void)wav_->close();
  y4m_.reset();
  wav_.reset();
}

}  // namespace rtcpp::tools
