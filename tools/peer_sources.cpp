#include "tools/peer_sources.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>

#include "media/resampler.hpp"
#include "media/test_source.hpp"

namespace rtcpp::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kToneHz = 440;
constexpr int kAudioFrameMs = 20;
// Lost audio longer than this is not concealed sample for sample (the file would fill with
// concealment); the rest of the gap is left out.
constexpr std::uint32_t kMaxConcealMs = 1000;

std::uint32_t wall_clock_ms() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

int audio_rate(const std::string& codec) {
  return codec::audio_codec_from_name(codec) == codec::AudioCodec::kOpus ? 48000 : 8000;
}

// Mixes interleaved samples down to `channels` (1 or 2) by averaging: what a stereo or
// multichannel file gives a mono or stereo encoder.
void downmix(const media::AudioFrame& in, int channels, std::deque<std::int16_t>& out) {
  const std::size_t frames = in.samples_per_channel();
  const auto from = static_cast<std::size_t>(in.channels);
  for (std::size_t i = 0; i < frames; ++i) {
    for (int c = 0; c < channels; ++c) {
      if (in.channels == channels) {
        out.push_back(in.samples[i * from + static_cast<std::size_t>(c)]);
        continue;
      }
      long sum = 0;
      for (std::size_t k = 0; k < from; ++k) sum += in.samples[i * from + k];
      out.push_back(static_cast<std::int16_t>(sum / static_cast<long>(from)));
    }
  }
}

}  // namespace

std::uint32_t RawSource::clock_rate() const {
  if (kind == "video") return 90000;
  return static_cast<std::uint32_t>(audio_rate(codec));
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

EncodingSender::EncodingSender(RawSource source, std::shared_ptr<RTCRtpSender> sender,
                               std::chrono::milliseconds duration,
                               std::function<void(std::uint64_t, std::uint64_t, std::string)> done)
    : source_(std::move(source)),
      sender_(std::move(sender)),
      duration_(duration),
      done_(std::move(done)) {
  sender_->on_key_frame_request([this] { key_frame_requested_ = true; });
}

EncodingSender::~EncodingSender() {
  stop();
}

void EncodingSender::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void EncodingSender::stop() {
  stop_ = true;
}

void EncodingSender::run() {
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::string error = source_.kind == "video" ? run_video(frames, bytes) : run_audio(frames, bytes);
  if (done_) done_(frames, bytes, error);
}

bool EncodingSender::send(const RTCEncodedFrame& frame, std::uint64_t& frames, std::uint64_t& bytes,
                          std::string& error) {
  auto sent = sender_->send_encoded_frame(frame);
  if (sent) {
    ++frames;
    bytes += frame.data.size();
    return true;
  }
  // Before the transport is up a frame is refused as InvalidStateError: not an error, but
  // what reaches the peer first must be a key frame.
  if (sent.error().type() == RTCErrorType::kInvalidStateError) {
    key_frame_requested_ = true;
    return true;
  }
  error = sent.error().to_string();
  return false;
}

std::string EncodingSender::run_video(std::uint64_t& frames, std::uint64_t& bytes) {
  codec::VideoEncoderConfig config;
  config.width = source_.width;
  config.height = source_.height;
  config.max_framerate = source_.fps;
  config.bitrate_bps = source_.bitrate_bps;
  config.threads = 0;
  auto encoder = codec::create_video_encoder(*codec::video_codec_from_name(source_.codec), config);
  if (!encoder) return encoder.error().to_string();
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
  std::vector<codec::EncodedVideoFrame> encoded;
  const auto start = Clock::now();
  std::string error;
  for (std::uint64_t n = 0; !stop_; ++n) {
    const auto offset = std::chrono::microseconds(static_cast<std::int64_t>(n * 1e6 / source_.fps));
    if (offset >= duration_) break;
    std::this_thread::sleep_until(start + offset);
    media::VideoFrame frame;
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
    const bool key = key_frame_requested_.exchange(false);
    if (auto ok = (*encoder)->encode(frame, key, encoded); !ok) return ok.error().to_string();
    for (const auto& out : encoded) {
      RTCEncodedFrame rtp;
      rtp.key_frame = out.key_frame;
      rtp.rtp_timestamp = static_cast<std::uint32_t>(n * 90000.0 / source_.fps);
      rtp.data.assign(out.data.begin(), out.data.end());
      if (!send(rtp, frames, bytes, error)) return error;
    }
  }
  return error;
}

std::string EncodingSender::run_audio(std::uint64_t& frames, std::uint64_t& bytes) {
  const auto codec = *codec::audio_codec_from_name(source_.codec);
  const int rate = audio_rate(source_.codec);
  std::optional<media::WavFileReader> reader;
  std::optional<media::Resampler> resampler;
  int channels = 1;
  if (source_.path != "testsrc") {
    auto opened = media::WavFileReader::open(source_.path);
    if (!opened) return source_.path + ": " + std::string(media::to_string(opened.error()));
    reader.emplace(std::move(*opened));
    // Opus carries stereo; G.711 is mono, and so is anything of more than two channels.
    channels = codec == codec::AudioCodec::kOpus && reader->format().channels == 2 ? 2 : 1;
    if (reader->format().sample_rate != rate) {
      auto made = media::Resampler::create(reader->format().sample_rate, rate, channels);
      if (!made) return made.error().to_string();
      resampler.emplace(std::move(*made));
    }
  }
  codec::AudioEncoderConfig config;
  config.sample_rate = rate;
  config.channels = channels;
  config.frame_ms = kAudioFrameMs;
  config.bitrate_bps = source_.bitrate_bps;
  auto encoder = codec::create_audio_encoder(codec, config);
  if (!encoder) return encoder.error().to_string();
  std::optional<media::ToneGenerator> tone;
  if (!reader) tone.emplace(*media::ToneGenerator::create(kToneHz, rate, 1));
  const int samples = (*encoder)->frame_samples();
  std::deque<std::int16_t> pending;  // file samples at the encoder's rate and channels
  media::AudioFrame frame;
  media::AudioFrame converted;
  Buffer packet;
  const auto start = Clock::now();
  std::string error;
  for (std::uint64_t n = 0; !stop_; ++n) {
    const auto offset = std::chrono::milliseconds(static_cast<std::int64_t>(n) * kAudioFrameMs);
    if (offset >= duration_) break;
    std::this_thread::sleep_until(start + offset);
    if (tone) {
      frame = tone->next(samples);
    } else {
      const std::size_t wanted =
          static_cast<std::size_t>(samples) * static_cast<std::size_t>(channels);
      while (pending.size() < wanted) {
        auto read = reader->read(static_cast<std::size_t>(samples));
        if (!read) return source_.path + ": " + std::string(media::to_string(read.error()));
        if (read->samples.empty()) {
          // The end of the file: play it again.
          if (auto rewound = reader->rewind(); !rewound) {
            return source_.path + ": " + std::string(media::to_string(rewound.error()));
          }
          if (reader->total_samples_per_channel() == 0) return source_.path + ": no samples";
          continue;
        }
        media::AudioFrame mixed;
        mixed.sample_rate = read->sample_rate;
        mixed.channels = channels;
        std::deque<std::int16_t> mixed_samples;
        downmix(*read, channels, mixed_samples);
        mixed.samples.assign(mixed_samples.begin(), mixed_samples.end());
        if (resampler) {
          if (auto ok = resampler->process(mixed, converted); !ok) return ok.error().to_string();
          pending.insert(pending.end(), converted.samples.begin(), converted.samples.end());
        } else {
          pending.insert(pending.end(), mixed.samples.begin(), mixed.samples.end());
        }
      }
      frame.sample_rate = rate;
      frame.channels = channels;
      frame.samples.assign(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(wanted));
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(wanted));
    }
    if (auto ok = (*encoder)->encode(frame, packet); !ok) return ok.error().to_string();
    RTCEncodedFrame rtp;
    rtp.key_frame = true;
    rtp.rtp_timestamp = static_cast<std::uint32_t>(n * static_cast<std::uint64_t>(samples));
    rtp.data.assign(packet.begin(), packet.end());
    if (!send(rtp, frames, bytes, error)) return error;
    key_frame_requested_ = false;  // every audio frame stands alone
  }
  return error;
}

std::optional<TrackDecoder> TrackDecoder::create(const std::string& kind, const std::string& codec,
                                                 const std::string& base_path) {
  TrackDecoder decoder;
  decoder.base_path_ = base_path;
  if (kind == "video") {
    const auto type = codec::video_codec_from_name(codec);
    if (!type || !codec::can_decode(*type)) return std::nullopt;
    auto made = codec::create_video_decoder(*type);
    if (!made) return std::nullopt;
    decoder.video_ = std::move(*made);
    return decoder;
  }
  const auto type = codec::audio_codec_from_name(codec);
  if (!type) return std::nullopt;
  const int rate = *type == codec::AudioCodec::kOpus ? 48000 : 8000;
  auto made = codec::create_audio_decoder(*type, rate, 1);
  if (!made) return std::nullopt;
  decoder.audio_ = std::move(*made);
  decoder.audio_clock_rate_ = static_cast<std::uint32_t>(rate);
  auto wav = media::WavFileWriter::create(base_path + ".wav", rate, 1);
  if (!wav) {
    decoder.error_ =
        "cannot write " + base_path + ".wav: " + std::string(media::to_string(wav.error()));
  } else {
    decoder.wav_.emplace(std::move(*wav));
  }
  return decoder;
}

TrackDecoder::~TrackDecoder() {
  close();
}

bool TrackDecoder::on_frame(const RTCEncodedFrame& frame) {
  if (!error_.empty()) return false;
  if (video_) return on_video(frame);
  on_audio(frame);
  return false;
}

bool TrackDecoder::on_video(const RTCEncodedFrame& frame) {
  if (waiting_for_key_frame_ && !frame.key_frame) return false;
  auto picture = video_->decode({frame.data.data(), frame.data.size()},
                                static_cast<std::int64_t>(frame.rtp_timestamp) * 100 / 9);
  if (!picture) {
    ++decode_errors_;
    waiting_for_key_frame_ = true;
    return true;
  }
  waiting_for_key_frame_ = false;
  if (!picture->has_value()) return false;
  media::VideoFrame shown = std::move(**picture);
  if (const auto stamp = media::read_pattern_stamp(shown)) {
    // Serial arithmetic: the painted time is the sender's wall clock modulo 2^32 ms.
    const auto latency = static_cast<std::int32_t>(wall_clock_ms() - stamp->time_ms);
    if (latency >= 0 && latency < 60'000) latencies_ms_.push_back(latency);
  }
  if (!y4m_) {
    width_ = shown.width();
    height_ = shown.height();
    // The pictures keep the sender's pace; 30 fps is what the file says.
    auto writer = media::Y4mFileWriter::create(base_path_ + ".y4m", width_, height_, 30, 1);
    if (!writer) {
      error_ =
          "cannot write " + base_path_ + ".y4m: " + std::string(media::to_string(writer.error()));
      return false;
    }
    y4m_.emplace(std::move(*writer));
  }
  if (shown.width() != width_ || shown.height() != height_) {
    auto scaled = media::scale(shown, width_, height_);
    if (!scaled) return false;
    shown = std::move(*scaled);
  }
  if (auto written = y4m_->write_frame(shown); !written) {
    error_ =
        "cannot write " + base_path_ + ".y4m: " + std::string(media::to_string(written.error()));
    return false;
  }
  ++frames_decoded_;
  return false;
}

void TrackDecoder::on_audio(const RTCEncodedFrame& frame) {
  media::AudioFrame out;
  // Lost packets before this one: concealment, so that the file keeps time.
  if (next_audio_timestamp_) {
    const std::uint32_t gap = frame.rtp_timestamp - *next_audio_timestamp_;
    const std::uint32_t cap = audio_clock_rate_ / 1000 * kMaxConcealMs;
    if (gap > 0 && gap < 0x80000000u) {
      const std::uint32_t step = audio_clock_rate_ / 400;  // whole 2.5 ms steps
      std::uint32_t left = std::min(gap, cap) / step * step;
      while (left > 0) {
        const std::uint32_t chunk = std::min<std::uint32_t>(left, audio_clock_rate_ / 50);
        if (!audio_->conceal(static_cast<int>(chunk), out)) break;
        if (wav_) (void)wav_->write(out);
        left -= chunk;
      }
    } else if (gap != 0) {
      return;  // late or repeated: already concealed
    }
  }
  if (!audio_->decode({frame.data.data(), frame.data.size()}, out)) {
    ++decode_errors_;
    return;
  }
  next_audio_timestamp_ =
      frame.rtp_timestamp + static_cast<std::uint32_t>(out.samples_per_channel());
  ++frames_decoded_;
  if (wav_) {
    if (auto written = wav_->write(out); !written) {
      error_ =
          "cannot write " + base_path_ + ".wav: " + std::string(media::to_string(written.error()));
    }
  }
}

void TrackDecoder::close() {
  if (y4m_) (void)y4m_->close();
  if (wav_) (void)wav_->close();
  y4m_.reset();
  wav_.reset();
}

}  // namespace rtcpp::tools
