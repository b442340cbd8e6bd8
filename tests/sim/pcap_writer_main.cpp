// Writes the demo's capture to argv[1] and prints how many packets it holds (for the tshark
// check in check_pcap.sh); the demo's summary goes to stderr.
#include <cstdlib>
#include <iostream>

#include "demo.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: sim_pcap_writer <file.pcap>\n";
    return 2;
  }
  rtcpp::sim::DemoOptions options;
  options.packets = 100;
  options.pcap_path = argv[1];
  const rtcpp::sim::DemoReport report = rtcpp::sim::run_demo_scenario(options);
  if (!report.complete) {
    std::cerr << "sim_pcap_writer: " << report.error << "\n";
    return 1;
  }
  std::cerr << "demo complete, trace " << report.trace_hash << "\n";
  std::cout << report.pcap_packets << "\n";
  return 0;
}
