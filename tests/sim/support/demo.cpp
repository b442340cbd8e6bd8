#include "demo.hpp"

#include <iomanip>

#include "network.hpp"
#include "transfer.hpp"

namespace rtcpp::sim {

namespace {

constexpr std::size_t kMtu = 1500;
constexpr std::size_t kMaxPayload = kMtu - 28 - 9;  // IPv4 + UDP + data header

std::string validate(const DemoOptions& o) {
  if (!(o.loss >= 0 && o.loss < 1)) return "loss must be in [0, 1)";
  if (o.delay < Duration::zero() || o.jitter < Duration::zero()) return "negative delay";
  if (o.packets == 0 || o.packets > 1000000) return "packets must be in [1, 1000000]";
  if (o.payload_size > kMaxPayload)
    return "payload_size must be at most " + std::to_string(kMaxPayload);
  return {};
}

}  // namespace

DemoReport run_demo_scenario(const DemoOptions& options) {
  DemoReport report;
  report.error = validate(options);
  report.invalid = !report.error.empty();
  if (report.invalid) return report;

  Network net(options.seed);
  if (!options.pcap_path.empty() && !net.start_pcap(options.pcap_path)) {
    report.error = "cannot write " + options.pcap_path;
    report.invalid = true;
    return report;
  }
  LinkConfig lan;  // host access links: short and clean
  lan.delay = Duration::millis(1);
  lan.mtu = kMtu;
  net.set_default_link(lan);
  LinkConfig wan;  // the NATs' access links: the lossy part
  wan.delay = options.delay;
  wan.jitter = options.jitter;
  wan.loss = options.loss;
  wan.mtu = kMtu;

  // The sender sits behind a port-restricted cone, the receiver behind a restricted cone.
  const auto nat_a = net.add_nat(nat_presets::port_restricted_cone(IpAddress::v4(203, 0, 113, 10)));
  NatConfig b_config = nat_presets::restricted_cone(IpAddress::v4(198, 51, 100, 20));
  b_config.first_port = 50000;
  const auto nat_b = net.add_nat(b_config);
  net.set_nat_links(nat_a, wan, wan);
  net.set_nat_links(nat_b, wan, wan);

  const SocketAddress reflector_addr(IpAddress::v4(192, 0, 2, 1), 3478);
  const SocketAddress sender_addr(IpAddress::v4(10, 0, 0, 2), 5000);
  const SocketAddress receiver_addr(IpAddress::v4(192, 168, 1, 2), 6000);
  const auto reflector_host = net.add_host({reflector_addr.ip()});
  const auto sender_host = net.add_host({sender_addr.ip()}, nat_a);
  const auto receiver_host = net.add_host({receiver_addr.ip()}, nat_b);

  TransferConfig config;
  config.count = options.packets;
  config.payload_size = options.payload_size;
  Reflector reflector(reflector_addr);
  ReliableSender sender(sender_addr, config);
  ReliableReceiver receiver(receiver_addr);
  SansIoNode<Reflector> reflector_node(reflector);
  SansIoNode<ReliableSender> sender_node(sender);
  SansIoNode<ReliableReceiver> receiver_node(receiver);
  net.bind(reflector_host, reflector_addr, reflector_node);
  net.bind(sender_host, sender_addr, sender_node);
  net.bind(receiver_host, receiver_addr, receiver_node);

  // 1. Both ends learn their public address.
  const Timestamp start = net.now();
  const Timestamp deadline = start + options.time_limit;
  sender.query_reflector(reflector_addr, start);
  receiver.query_reflector(reflector_addr, start);
  net.wake(sender_node);
  net.wake(receiver_node);
  const bool learned = net.run_until(
      [&] { return sender.reflexive_address() && receiver.reflexive_address(); }, deadline);
  if (learned) {
    // 2. Signaling (out of band, instantaneous): each learns the other's public address.
    // The receiver punches its NAT open towards the sender; the sender starts sending.
    receiver.punch(*sender.reflexive_address(), net.now());
    sender.start(*receiver.reflexive_address(), net.now());
    net.wake(receiver_node);
    net.wake(sender_node);
    report.complete =
        net.run_until([&] { return sender.complete() && receiver.complete(); }, deadline);
    report.sender_public = sender.reflexive_address()->to_string();
    report.receiver_public = receiver.reflexive_address()->to_string();
  }
  if (!report.complete)
    report.error =
        learned ? "the transfer did not finish in time" : "the reflector did not answer in time";
  report.elapsed = net.now() - start;
  const Counters& c = net.counters();
  report.sent = c.sent;
  report.delivered = c.delivered;
  report.lost = c.lost + c.burst_lost;
  report.nat_filtered = c.nat_filtered;
  report.data_sent = sender.stats().data_sent;
  report.retransmissions = sender.stats().retransmissions;
  report.fast_retransmissions = sender.stats().fast_retransmissions;
  report.punches = receiver.punches_sent();
  report.mappings_sender_nat = net.nat_mappings_created(nat_a);
  report.mappings_receiver_nat = net.nat_mappings_created(nat_b);
  report.trace_hash = net.trace_hash();
  report.pcap_packets = net.pcap_packets();
  net.stop_pcap();
  return report;
}

int run_demo(std::ostream& out, const DemoOptions& options) {
  const DemoReport r = run_demo_scenario(options);
  if (r.invalid) {
    out << "demo: " << r.error << "\n";
    return 2;
  }
  out << "Simulated exchange (virtual clock, no real network): seed " << options.seed << ", "
      << std::fixed << std::setprecision(1) << options.loss * 100 << " % loss and "
      << options.delay.to_string() << " delay on each NAT link each way\n"
      << "  sender   10.0.0.2:5000    behind a port-restricted cone NAT, public "
      << (r.sender_public.empty() ? "?" : r.sender_public) << "\n"
      << "  receiver 192.168.1.2:6000 behind a restricted cone NAT, public "
      << (r.receiver_public.empty() ? "?" : r.receiver_public) << "\n"
      << "  transfer: " << options.packets << " packets of " << options.payload_size << " bytes, "
      << (r.complete ? "complete" : "FAILED: " + r.error) << " after " << std::setprecision(3)
      << r.elapsed.seconds_f() << " s of virtual time\n"
      << "  datagrams: " << r.sent << " sent, " << r.delivered << " delivered, " << r.lost
      << " lost, " << r.nat_filtered << " filtered by a NAT\n"
      << "  data packets: " << r.data_sent << " sent, " << r.retransmissions << " retransmissions ("
      << r.fast_retransmissions << " fast); " << r.punches << " hole punches\n"
      << "  NAT mappings created: " << r.mappings_sender_nat << " (sender side), "
      << r.mappings_receiver_nat << " (receiver side)\n"
      << "  trace hash: " << r.trace_hash << "\n";
  if (!options.pcap_path.empty())
    out << "  pcap: " << options.pcap_path << " (" << r.pcap_packets << " packets)\n";
  return r.complete ? 0 : 1;
}

}  // namespace rtcpp::sim
