// `rtcpp demo`: a data channel file transfer between two rtcpp processes over real UDP.
#pragma once

#include <cstddef>
#include <string>

namespace CLI {
class App;
}

namespace rtcpp::tools {

struct DemoOptions {
  std::string file;  // send this file; empty: generated data
  std::size_t generated_bytes = 64 * 1024 * 1024;
  int timeout_seconds = 60;
  bool receiver = false;  // the child process the sender starts
};

// Adds the `demo` subcommand and its options to `app`.
CLI::App* add_demo_command(CLI::App& app, DemoOptions& options);
int run_demo(const DemoOptions& options);

}  // namespace rtcpp::tools
