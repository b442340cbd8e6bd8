#include "tools/media_tools.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "media/test_source.hpp"
#include "media/wav.hpp"
#include "media/y4m.hpp"

namespace rtcpp::tools {
namespace {

using json = nlohmann::json;

int fail(const std::string& message) {
  std::printf("%s\n", json{{"ok", false}, {"error", message}}.dump().c_str());
  return 1;
}

int write_video(const TestsrcOptions& o) {
  auto pattern = media::TestPattern::create(o.width, o.height);
  if (!pattern) return fail(pattern.error().to_string());
  auto writer =
      media::Y4mFileWriter::create(o.out, o.width, o.height, static_cast<std::uint32_t>(o.fps), 1);
  if (!writer) return fail(o.out + ": " + std::string(media::to_string(writer.error())));
  for (int n = 0; n < o.frames; ++n) {
    // The time word counts the file's own milliseconds.
    const auto number = static_cast<std::uint32_t>(n);
    const media::PatternStamp stamp{number, number * 1000 / static_cast<std::uint32_t>(o.fps)};
    if (auto ok = writer->write_frame(pattern->render(stamp)); !ok) {
      return fail(o.out + ": " + std::string(media::to_string(ok.error())));
    }
  }
  if (auto ok = writer->close(); !ok)
    return fail(o.out + ": " + std::string(media::to_string(ok.error())));
  std::printf("%s\n", json{{"ok", true}, {"file", o.out}, {"frames", o.frames}}.dump().c_str());
  return 0;
}

int write_audio(const TestsrcOptions& o) {
  auto tone = media::ToneGenerator::create(o.frequency, o.sample_rate, o.channels);
  if (!tone) return fail(tone.error().to_string());
  auto writer = media::WavFileWriter::create(o.out, o.sample_rate, o.channels);
  if (!writer) return fail(o.out + ": " + std::string(media::to_string(writer.error())));
  auto left = static_cast<long>(o.seconds * o.sample_rate);
  while (left > 0) {
    const long chunk = std::min<long>(left, o.sample_rate / 10);
    if (auto ok = writer->write(tone->next(static_cast<int>(chunk))); !ok) {
      return fail(o.out + ": " + std::string(media::to_string(ok.error())));
    }
    left -= chunk;
  }
  if (auto ok = writer->close(); !ok)
    return fail(o.out + ": " + std::string(media::to_string(ok.error())));
  std::printf("%s\n", json{{"ok", true}, {"file", o.out}, {"seconds", o.seconds}}.dump().c_str());
  return 0;
}

int check_video(const MediaCheckOptions& o) {
  auto reader = media::Y4mFileReader::open(o.file);
  if (!reader) return fail(o.file + ": " + std::string(media::to_string(reader.error())));
  std::optional<media::TestPattern> pattern;
  std::uint64_t frames = 0;
  std::uint64_t stamped = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t repeated = 0;
  std::uint64_t missing = 0;
  std::optional<std::uint32_t> last;
  std::vector<double> psnrs;
  std::vector<std::uint64_t> unstamped;  // the first few pictures whose stamp did not read
  for (;;) {
    auto next = reader->next_frame();
    if (!next) return fail(o.file + ": " + std::string(media::to_string(next.error())));
    if (!next->has_value()) break;
    const media::VideoFrame& frame = **next;
    ++frames;
    const auto stamp = media::read_pattern_stamp(frame);
    if (!stamp) {
      if (unstamped.size() < 16) unstamped.push_back(frames - 1);
      continue;
    }
    ++stamped;
    if (last) {
      // Serial-number order (RFC 1982): a file source that loops starts again from 0.
      const auto step = static_cast<std::int32_t>(stamp->frame_number - *last);
      if (step == 0) {
        ++repeated;
      } else if (step < 0 && stamp->frame_number != 0) {
        ++out_of_order;
      } else if (step > 1 && stamp->frame_number != 0) {
        missing += static_cast<std::uint64_t>(step - 1);
      }
    }
    last = stamp->frame_number;
    if (!pattern) pattern.emplace(*media::TestPattern::create(frame.width(), frame.height()));
    if (auto quality = media::psnr(pattern->render(*stamp), frame)) psnrs.push_back(*quality);
  }
  json result{{"ok", true},
              {"file", o.file},
              {"frames", frames},
              {"stamped", stamped},
              {"outOfOrder", out_of_order},
              {"repeated", repeated},
              {"missing", missing},
              {"width", reader->header().width},
              {"height", reader->header().height},
              {"unstampedFrames", unstamped}};
  if (!psnrs.empty()) {
    double sum = 0;
    for (double p : psnrs) sum += p;
    result["psnrAverage"] = sum / static_cast<double>(psnrs.size());
    result["psnrMin"] = *std::min_element(psnrs.begin(), psnrs.end());
  }
  std::printf("%s\n", result.dump().c_str());
  return 0;
}

int check_audio(const MediaCheckOptions& o) {
  auto reader = media::WavFileReader::open(o.file);
  if (!reader) return fail(o.file + ": " + std::string(media::to_string(reader.error())));
  const auto rate = reader->format().sample_rate;
  const auto skip = static_cast<std::size_t>(o.skip_seconds * rate);
  auto all = reader->read(reader->total_samples_per_channel());
  if (!all) return fail(o.file + ": " + std::string(media::to_string(all.error())));
  media::AudioFrame rest = *all;
  const auto channels = static_cast<std::size_t>(rest.channels);
  rest.samples.erase(rest.samples.begin(),
                     rest.samples.begin() + static_cast<std::ptrdiff_t>(
                                                std::min(rest.samples.size(), skip * channels)));
  double energy = 0;
  for (const auto s : rest.samples) energy += static_cast<double>(s) * s;
  const double rms =
      rest.samples.empty() ? 0 : std::sqrt(energy / static_cast<double>(rest.samples.size()));
  json result{{"ok", true},
              {"file", o.file},
              {"sampleRate", rate},
              {"channels", rest.channels},
              {"seconds", static_cast<double>(all->samples_per_channel()) / rate},
              {"rms", rms}};
  if (auto frequency = media::estimate_tone_frequency(rest)) result["frequency"] = *frequency;
  std::printf("%s\n", result.dump().c_str());
  return 0;
}

}  // namespace

CLI::App* add_testsrc_command(CLI::App& app, TestsrcOptions& o) {
  auto* command = app.add_subcommand(
      "testsrc", "Write the generated test pattern (.y4m) or tone (.wav) to a file");
  command->add_option("--out", o.out, "the file: .y4m (video) or .wav (audio)")->required();
  command->add_option("--width", o.width, "picture width")
      ->check(CLI::Range(64, 7680))
      ->capture_default_str();
  command->add_option("--height", o.height, "picture height")
      ->check(CLI::Range(48, 4320))
      ->capture_default_str();
  command->add_option("--fps", o.fps, "frames a second")
      ->check(CLI::Range(1, 240))
      ->capture_default_str();
  command->add_option("--frames", o.frames, "frames to write")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  command->add_option("--seconds", o.seconds, "audio: length")
      ->check(CLI::Range(0.01, 36000.0))
      ->capture_default_str();
  command->add_option("--frequency", o.frequency, "audio: tone frequency in Hz")
      ->capture_default_str();
  command->add_option("--sample-rate", o.sample_rate, "audio: sample rate")
      ->check(CLI::Range(8000, 192000))
      ->capture_default_str();
  command->add_option("--channels", o.channels, "audio: channels")
      ->check(CLI::Range(1, 8))
      ->capture_default_str();
  return command;
}

int run_testsrc(const TestsrcOptions& o) {
  if (o.out.ends_with(".y4m")) return write_video(o);
  if (o.out.ends_with(".wav")) return write_audio(o);
  return fail("--out: a .y4m or .wav file");
}

CLI::App* add_media_check_command(CLI::App& app, MediaCheckOptions& o) {
  auto* command = app.add_subcommand(
      "media-check",
      "Check a received recording: the test pattern's frames in a .y4m, or a tone in a .wav");
  command->add_option("file", o.file, "a .y4m or .wav file")->required();
  command->add_option("--skip", o.skip_seconds, "audio: seconds to leave out at the start")
      ->capture_default_str();
  return command;
}

int run_media_check(const MediaCheckOptions& o) {
  if (o.file.ends_with(".y4m")) return check_video(o);
  if (o.file.ends_with(".wav")) return check_audio(o);
  return fail("a .y4m or .wav file");
}

}  // namespace rtcpp::tools
