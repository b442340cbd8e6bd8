// `rtcpp serve`: an HTTP and WebSocket server on 127.0.0.1 whose page connects the browser's
// RTCPeerConnection to this process (echo, upload, download, live getStats).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace rtcpp::tools {

struct ServeOptions {
  std::string host = "127.0.0.1";
  unsigned port = 8080;
  int timeout_seconds = 0;  // 0: serve until interrupted
};

// Adds the `serve` subcommand and its options to `app`.
CLI::App* add_serve_command(CLI::App& app, ServeOptions& options);
int run_serve(const ServeOptions& options);

}  // namespace rtcpp::tools
