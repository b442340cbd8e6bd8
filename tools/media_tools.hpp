// `rtcpp testsrc` writes the generated test media to files (fixtures for a browser's fake
// camera and microphone, say); `rtcpp media-check` reads a received recording back and says
// in one JSON line how faithful it is: the pattern's frame numbers (in order, missing,
// repeated), the picture against the source frame it stamps (PSNR), or a tone's frequency.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace rtcpp::tools {

struct TestsrcOptions {
  std::string out;  // .y4m or .wav
  int width = 640;
  int height = 480;
  int fps = 30;
  int frames = 300;
  double seconds = 10;      // audio
  double frequency = 440;   // audio
  int sample_rate = 48000;  // audio
  int channels = 1;         // audio
};
CLI::App* add_testsrc_command(CLI::App& app, TestsrcOptions& options);
int run_testsrc(const TestsrcOptions& options);

struct MediaCheckOptions {
  std::string file;           // a .y4m of the test pattern, or a .wav of a tone
  double skip_seconds = 0.5;  // audio: leave out the start (the decoder settling)
};
CLI::App* add_media_check_command(CLI::App& app, MediaCheckOptions& options);
int run_media_check(const MediaCheckOptions& options);

}  // namespace rtcpp::tools
