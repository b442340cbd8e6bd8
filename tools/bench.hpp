// `rtcpp bench`: benchmarks of the stack on this machine, each printing one JSON line on
// stdout (and a readable summary on stderr). Figures, never pass/fail: bench/README.md keeps
// them beside the other stacks'.
//   bulk         two processes, one data channel transfer (MB/s, CPU and syscalls per MiB)
//   connect      create_offer to the first open channel, many times (median, p99, max)
//   messages     small-message rates, 16 B and 1 KiB, ordered and unordered (two processes)
//   connections  K connected pairs in one process, then idle (setup time, memory, idle CPU)
#pragma once

#include <cstddef>
#include <string>

namespace CLI {
class App;
}

namespace rtcpp::tools {

struct BenchOptions {
  std::string which;      // the bench subcommand given
  bool receiver = false;  // the second process of bulk and messages (not for users)
  bool isolated = false;  // run in a new network namespace with only loopback (root)
  bool zero_checksum = false;
  bool udp_only = false;
  bool shared_certificate = false;  // one RTCCertificate for every connection of the process
  // bulk
  std::size_t bulk_bytes = std::size_t{64} << 20;
  std::size_t chunk_bytes = std::size_t{64} << 10;
  int channels = 1;
  // connect
  int runs = 50;
  // messages
  double message_seconds = 3;
  // connections
  int pairs = 100;
  double idle_seconds = 5;
  int concurrency = 64;
};

// Adds `bench` and its subcommands to `app`.
CLI::App* add_bench_command(CLI::App& app, BenchOptions& options);
int run_bench(const BenchOptions& options);

}  // namespace rtcpp::tools
