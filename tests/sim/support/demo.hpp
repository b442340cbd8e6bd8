// A simulated exchange for the `rtcpp demo` tool: two hosts behind two different NATs learn
// their public addresses from a reflector, punch holes and run the reliable transfer over
// lossy links, all on the virtual clock. Nothing touches a real network.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "base/time.hpp"

namespace rtcpp::sim {

struct DemoOptions {
  std::uint64_t seed = 1;
  double loss = 0.10;                     // on each NAT's uplink and downlink, each way
  Duration delay = Duration::millis(25);  // on each NAT's uplink and downlink
  Duration jitter = Duration::millis(3);
  std::uint32_t packets = 200;
  std::size_t payload_size = 1000;
  std::string pcap_path;                         // empty: no capture
  Duration time_limit = Duration::seconds(300);  // virtual
};

struct DemoReport {
  bool complete = false;
  bool invalid = false;    // bad options or an unwritable pcap path: nothing ran
  std::string error;       // why it failed, if it did
  Duration elapsed;        // virtual time from the first packet to completion
  std::uint64_t sent = 0;  // datagrams taken from the endpoints
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;  // random + burst loss on every link
  std::uint64_t nat_filtered = 0;
  std::uint64_t data_sent = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t fast_retransmissions = 0;
  std::uint64_t punches = 0;
  std::uint64_t mappings_sender_nat = 0;  // mappings created
  std::uint64_t mappings_receiver_nat = 0;
  std::string sender_public;  // as the reflector saw them
  std::string receiver_public;
  std::string trace_hash;
  std::uint64_t pcap_packets = 0;
};

// Runs the scenario and returns what happened (no output).
DemoReport run_demo_scenario(const DemoOptions& options);

// Runs the scenario and prints a summary to `out`. Returns 0 if the transfer completed,
// 1 if it did not, 2 for invalid options or an unwritable pcap path.
int run_demo(std::ostream& out, const DemoOptions& options);

}  // namespace rtcpp::sim
