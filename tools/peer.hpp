// `rtcpp peer`: the scriptable endpoint of the peer contract (v1): signaling as JSON lines on
// stdin/stdout, events and one result line on stdout, logs on stderr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace rtcpp::tools {

struct PeerOptions {
  bool offer = false;
  std::string label = "data";
  bool unordered = false;
  std::optional<std::uint16_t> max_retransmits;
  std::optional<std::uint16_t> max_packet_life_time;
  std::optional<std::uint16_t> negotiated;
  std::string protocol;
  int channels = 1;
  std::string send_file;
  std::size_t chunk = 65536;
  bool text = false;
  std::string recv_file;
  bool echo = false;
  bool expect_echo = false;
  std::vector<std::string> ice_servers;
  bool relay_only = false;
  int timeout = 60;
  std::string video;                 // --video: testsrc, a .y4m to encode, or an .ivf or .h264 file
  std::string audio;                 // --audio: testsrc, a .wav to encode, or an .ogg (Opus) file
  std::string video_codec = "VP8";   // --video-codec: what testsrc and .y4m are encoded with
  std::string audio_codec = "opus";  // --audio-codec: what testsrc and .wav are encoded with
  int video_width = 640;             // --video-size, for testsrc
  int video_height = 480;
  double video_fps = 30;                    // --video-fps, for testsrc
  std::uint32_t video_bitrate = 1'000'000;  // --video-bitrate, bits per second
  std::string record_dir;                   // --record: where received tracks are written
  double duration = 5;                      // --duration: seconds of media to send
  std::string unsupported;                  // an option this build cannot honour yet
};

// Adds the `peer` subcommand and its options to `app`.
CLI::App* add_peer_command(CLI::App& app, PeerOptions& options);
int run_peer(const PeerOptions& options);

}  // namespace rtcpp::tools
