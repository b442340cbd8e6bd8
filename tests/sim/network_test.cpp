#include "network.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"

namespace rtcpp::sim {
namespace {

// A sans-IO traffic source and sink: sends `count` numbered datagrams every `interval` to
// `peer`, records what arrives (sequence number, one-way delay) and, if asked, echoes.
class Probe {
 public:
  struct Arrival {
    std::uint32_t sequence;
    Timestamp sent;
    Timestamp received;
    SocketAddress from;
  };
  Probe(SocketAddress self, std::size_t payload = 100) : self_(self), payload_(payload) {}

  void start(SocketAddress peer, std::uint32_t count, Duration interval, Timestamp now) {
    peer_ = peer;
    remaining_ = count;
    interval_ = interval;
    next_send_ = now;
  }
  bool echo = false;
  std::vector<Arrival> arrivals;

  void handle_packet(const Datagram& d, Timestamp now) {
    ByteReader r(d.payload);
    auto seq = r.read_u32();
    auto sent = r.read_u64();
    if (!seq || !sent) return;
    arrivals.push_back({*seq, Timestamp::micros(static_cast<std::int64_t>(*sent)), now, d.source});
    if (echo) out_.push_back({self_, d.source, d.payload});
  }
  void handle_timeout(Timestamp now) {
    while (remaining_ > 0 && next_send_ <= now) {
      Buffer payload;
      ByteWriter w(payload);
      w.write_u32(sent_++);
      w.write_u64(static_cast<std::uint64_t>(now.us()));
      w.write_zeros(payload_ > 12 ? payload_ - 12 : 0);
      out_.push_back({self_, peer_, std::move(payload)});
      --remaining_;
      next_send_ += interval_;
    }
  }
  std::optional<Datagram> poll_transmit() {
    if (out_.empty()) return std::nullopt;
    Datagram d = std::move(out_.front());
    out_.erase(out_.begin());
    return d;
  }
  std::optional<int> poll_event() { return std::nullopt; }
  std::optional<Timestamp> next_timeout() const {
    if (remaining_ == 0) return std::nullopt;
    return next_send_;
  }
  void send_now(SocketAddress to, Timestamp now) {
    Buffer payload;
    ByteWriter w(payload);
    w.write_u32(sent_++);
    w.write_u64(static_cast<std::uint64_t>(now.us()));
    out_.push_back({self_, to, std::move(payload)});
  }

 private:
  SocketAddress self_;
  SocketAddress peer_;
  std::size_t payload_;
  std::uint32_t remaining_ = 0;
  std::uint32_t sent_ = 0;
  Duration interval_;
  Timestamp next_send_;
  std::vector<Datagram> out_;
};

const IpAddress kIpA = IpAddress::v4(198, 51, 100, 1);
const IpAddress kIpB = IpAddress::v4(198, 51, 100, 2);

// Two public hosts, A sending to B over B's downlink configured as `link`.
struct TwoHosts {
  explicit TwoHosts(std::uint64_t seed, const LinkConfig& link, std::size_t payload = 100)
      : net(seed), a({kIpA, 1000}, payload), b({kIpB, 2000}, payload), node_a(a), node_b(b) {
    host_a = net.add_host({kIpA});
    host_b = net.add_host({kIpB});
    net.set_links(host_b, LinkConfig{}, link);
    net.bind(host_a, {kIpA, 1000}, node_a);
    net.bind(host_b, {kIpB, 2000}, node_b);
  }
  void send(std::uint32_t count, Duration interval) {
    a.start({kIpB, 2000}, count, interval, net.now());
    net.wake(node_a);
    net.run_for(interval * count + Duration::seconds(5));
  }
  Network net;
  Probe a;
  Probe b;
  SansIoNode<Probe> node_a;
  SansIoNode<Probe> node_b;
  Network::HostId host_a = 0;
  Network::HostId host_b = 0;
};

std::string run_scenario(std::uint64_t seed) {
  LinkConfig link;
  link.delay = Duration::millis(20);
  link.jitter = Duration::millis(5);
  link.loss = 0.05;
  link.reorder = 0.05;
  link.duplicate = 0.02;
  link.burst = {0.01, 0.3, 0, 1};
  TwoHosts t(seed, link);
  t.b.echo = true;
  t.send(3000, Duration::millis(1));
  return t.net.trace_hash();
}

TEST(Simulator, SameSeedSameTraceBitForBit) {
  const std::string first = run_scenario(42);
  EXPECT_EQ(first.size(), 64u);
  EXPECT_EQ(run_scenario(42), first);
  EXPECT_NE(run_scenario(43), first);
}

TEST(Simulator, RandomLossRate) {
  LinkConfig link;
  link.loss = 0.1;
  TwoHosts t(1, link);
  constexpr int kPackets = 20000;
  t.send(kPackets, Duration::millis(1));
  const double loss = 1.0 - static_cast<double>(t.b.arrivals.size()) / kPackets;
  // sd = sqrt(0.1 * 0.9 / 20000) = 0.0021; 4 sd.
  EXPECT_NEAR(loss, 0.1, 0.0085);
  EXPECT_EQ(t.net.counters().lost, kPackets - t.b.arrivals.size());
}

TEST(Simulator, GilbertElliottBurstLoss) {
  LinkConfig link;
  link.burst = {0.01, 0.25, 0.0, 1.0};  // mean burst 1 / 0.25 = 4 packets
  TwoHosts t(2, link);
  constexpr int kPackets = 100000;
  t.send(kPackets, Duration::micros(100));
  std::vector<bool> received(kPackets, false);
  for (const auto& a : t.b.arrivals) received[a.sequence] = true;
  int lost = 0;
  int bursts = 0;
  for (int i = 0; i < kPackets; ++i) {
    if (!received[i]) {
      ++lost;
      if (i == 0 || received[i - 1]) ++bursts;
    }
  }
  // Stationary loss: p_gb / (p_gb + p_bg) = 0.01 / 0.26 = 3.85 %.
  EXPECT_NEAR(static_cast<double>(lost) / kPackets, 0.0385, 0.006);
  EXPECT_NEAR(static_cast<double>(lost) / bursts, 4.0, 0.4);
  EXPECT_EQ(static_cast<std::uint64_t>(lost), t.net.counters().burst_lost);
}

TEST(Simulator, ReorderingFraction) {
  LinkConfig link;
  link.delay = Duration::millis(10);
  link.reorder = 0.05;
  link.reorder_delay = Duration::millis(5);
  TwoHosts t(3, link);
  constexpr int kPackets = 20000;
  t.send(kPackets, Duration::millis(1));
  ASSERT_EQ(t.b.arrivals.size(), static_cast<std::size_t>(kPackets));
  // A held-back packet arrives after the next four or five: count packets that arrive after
  // a higher sequence number has been seen.
  std::uint32_t highest = 0;
  int late = 0;
  for (const auto& a : t.b.arrivals) {
    if (a.sequence < highest) ++late;
    highest = std::max(highest, a.sequence);
  }
  EXPECT_NEAR(static_cast<double>(late) / kPackets, 0.05, 0.007);
  // Every held-back packet arrives late (a last one may have nothing left to overtake it).
  EXPECT_NEAR(static_cast<double>(late), static_cast<double>(t.net.counters().reordered), 2.0);
}

TEST(Simulator, DuplicationFraction) {
  LinkConfig link;
  link.duplicate = 0.03;
  TwoHosts t(4, link);
  constexpr int kPackets = 20000;
  t.send(kPackets, Duration::millis(1));
  const double extra = static_cast<double>(t.b.arrivals.size() - kPackets) / kPackets;
  EXPECT_NEAR(extra, 0.03, 0.005);
}

TEST(Simulator, DelayAndJitterBounds) {
  LinkConfig link;
  link.delay = Duration::millis(20);
  link.jitter = Duration::millis(10);
  TwoHosts t(5, link);
  t.send(5000, Duration::millis(20));  // spaced wider than the jitter: no FIFO clamping
  ASSERT_EQ(t.b.arrivals.size(), 5000u);
  double sum = 0;
  std::int64_t lo = INT64_MAX;
  std::int64_t hi = 0;
  for (const auto& a : t.b.arrivals) {
    const auto d = (a.received - a.sent).us();
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    sum += static_cast<double>(d);
  }
  EXPECT_GE(lo, 20000);
  EXPECT_LE(hi, 30000);
  EXPECT_NEAR(sum / 5000 / 1000, 25.0, 0.3);  // uniform jitter: mean delay + 5 ms
}

TEST(Simulator, BandwidthLimitAndQueueBound) {
  LinkConfig link;
  link.bandwidth_bps = 1000000;
  link.queue_bytes = 20000;
  link.delay = Duration::millis(10);
  TwoHosts t(6, link, 1000);
  // Offer 2 Mbit/s (1028-byte IP packets every 4 ms) for 10 s.
  t.send(2500, Duration::millis(4));
  const auto& arrivals = t.b.arrivals;
  ASSERT_GT(arrivals.size(), 100u);
  const double seconds = (arrivals.back().received - arrivals.front().received).seconds_f();
  const double bits = static_cast<double>(arrivals.size() - 1) * 1028 * 8;
  EXPECT_NEAR(bits / seconds, 1e6, 3e4);  // within 3 %
  EXPECT_GT(t.net.counters().queue_dropped, 1000u);
  // Queueing delay never exceeds what the bounded queue holds.
  for (const auto& a : arrivals)
    EXPECT_LE((a.received - a.sent).ms_f(), 10 + 20000.0 * 8 / 1e6 * 1000 + 9);
}

TEST(Simulator, MtuDropsOnlyOversizeDatagrams) {
  LinkConfig link;
  link.mtu = 1200;
  TwoHosts fits(7, link, 1200 - 28);
  fits.send(100, Duration::millis(1));
  EXPECT_EQ(fits.b.arrivals.size(), 100u);
  TwoHosts too_big(7, link, 1200 - 27);
  too_big.send(100, Duration::millis(1));
  EXPECT_EQ(too_big.b.arrivals.size(), 0u);
  EXPECT_EQ(too_big.net.counters().mtu_dropped, 100u);
}

// A host behind a NAT and two public servers, for mapping and filtering behaviour.
struct NatRig {
  NatRig(NatMapping mapping, NatFiltering filtering)
      : net(9),
        client({IpAddress::v4(10, 0, 0, 2), 5000}),
        server1({kIpA, 3478}),
        server1_other_port({kIpA, 3479}),
        server2({kIpB, 3478}),
        n_client(client),
        n_server1(server1),
        n_server1_other(server1_other_port),
        n_server2(server2) {
    nat = net.add_nat(
        {IpAddress::v4(203, 0, 113, 1), mapping, filtering, Duration::seconds(30), 40000});
    auto c = net.add_host({IpAddress::v4(10, 0, 0, 2)}, nat);
    auto s1 = net.add_host({kIpA});
    auto s2 = net.add_host({kIpB});
    net.bind(c, {IpAddress::v4(10, 0, 0, 2), 5000}, n_client);
    net.bind(s1, {kIpA, 3478}, n_server1);
    net.bind(s1, {kIpA, 3479}, n_server1_other);
    net.bind(s2, {kIpB, 3478}, n_server2);
  }
  void client_sends_to(const SocketAddress& to) {
    client.send_now(to, net.now());
    net.wake(n_client);
    net.run_for(Duration::millis(100));
  }
  bool inbound_reaches_client(Probe& from, SansIoNode<Probe>& node, const SocketAddress& to) {
    const std::size_t before = client.arrivals.size();
    from.send_now(to, net.now());
    net.wake(node);
    net.run_for(Duration::millis(100));
    return client.arrivals.size() > before;
  }
  Network net;
  Network::NatId nat = 0;
  Probe client, server1, server1_other_port, server2;
  SansIoNode<Probe> n_client, n_server1, n_server1_other, n_server2;
};

TEST(SimulatorNat, MappingBehaviours) {
  for (auto mapping : {NatMapping::kEndpointIndependent, NatMapping::kAddressDependent,
                       NatMapping::kAddressAndPortDependent}) {
    NatRig rig(mapping, NatFiltering::kEndpointIndependent);
    rig.client_sends_to({kIpA, 3478});
    rig.client_sends_to({kIpA, 3479});
    rig.client_sends_to({kIpB, 3478});
    ASSERT_EQ(rig.server1.arrivals.size(), 1u);
    ASSERT_EQ(rig.server1_other_port.arrivals.size(), 1u);
    ASSERT_EQ(rig.server2.arrivals.size(), 1u);
    const auto p1 = rig.server1.arrivals[0].from;
    const auto p1b = rig.server1_other_port.arrivals[0].from;
    const auto p2 = rig.server2.arrivals[0].from;
    EXPECT_EQ(p1.ip(), IpAddress::v4(203, 0, 113, 1));
    switch (mapping) {
      case NatMapping::kEndpointIndependent:
        EXPECT_EQ(p1, p1b);
        EXPECT_EQ(p1, p2);
        EXPECT_EQ(rig.net.nat_mapping_count(rig.nat), 1u);
        break;
      case NatMapping::kAddressDependent:
        EXPECT_EQ(p1, p1b);
        EXPECT_NE(p1, p2);
        break;
      case NatMapping::kAddressAndPortDependent:
        EXPECT_NE(p1, p1b);
        EXPECT_NE(p1, p2);
        EXPECT_EQ(rig.net.nat_mapping_count(rig.nat), 3u);
        break;
    }
  }
}

TEST(SimulatorNat, FilteringBehaviours) {
  for (auto filtering : {NatFiltering::kEndpointIndependent, NatFiltering::kAddressDependent,
                         NatFiltering::kAddressAndPortDependent}) {
    NatRig rig(NatMapping::kEndpointIndependent, filtering);
    // Before any outbound packet nothing gets in.
    EXPECT_FALSE(rig.inbound_reaches_client(rig.server2, rig.n_server2,
                                            {IpAddress::v4(203, 0, 113, 1), 40000}));
    rig.client_sends_to({kIpA, 3478});
    const SocketAddress mapped = rig.server1.arrivals.at(0).from;
    EXPECT_TRUE(rig.inbound_reaches_client(rig.server1, rig.n_server1, mapped));
    const bool same_ip_other_port =
        rig.inbound_reaches_client(rig.server1_other_port, rig.n_server1_other, mapped);
    const bool other_ip = rig.inbound_reaches_client(rig.server2, rig.n_server2, mapped);
    EXPECT_EQ(same_ip_other_port, filtering != NatFiltering::kAddressAndPortDependent);
    EXPECT_EQ(other_ip, filtering == NatFiltering::kEndpointIndependent);
  }
}

TEST(SimulatorNat, MappingsExpireWhenIdle) {
  NatRig rig(NatMapping::kEndpointIndependent, NatFiltering::kAddressAndPortDependent);
  rig.client_sends_to({kIpA, 3478});
  const SocketAddress first = rig.server1.arrivals.at(0).from;
  rig.net.run_for(Duration::seconds(31));  // the rig's timeout is 30 s
  EXPECT_EQ(rig.net.nat_mapping_count(rig.nat), 0u);
  EXPECT_FALSE(rig.inbound_reaches_client(rig.server1, rig.n_server1, first));
  EXPECT_GT(rig.net.counters().nat_filtered, 0u);
  rig.client_sends_to({kIpA, 3478});
  EXPECT_NE(rig.server1.arrivals.at(1).from, first);  // a fresh mapping
}

// Two clients behind their own NATs learn their public mappings from a server, then send
// to each other's mapping (UDP hole punching).
bool hole_punch(NatMapping mapping, NatFiltering filtering) {
  Network net(11);
  const IpAddress public_a = IpAddress::v4(203, 0, 113, 1);
  const IpAddress public_b = IpAddress::v4(203, 0, 113, 2);
  auto nat_a = net.add_nat({public_a, mapping, filtering, Duration::seconds(120), 41000});
  auto nat_b = net.add_nat({public_b, mapping, filtering, Duration::seconds(120), 42000});
  const SocketAddress a_addr(IpAddress::v4(10, 0, 0, 2), 5000);
  const SocketAddress b_addr(IpAddress::v4(192, 168, 1, 2), 6000);
  Probe a(a_addr), b(b_addr), server({kIpA, 3478});
  SansIoNode<Probe> na(a), nb(b), ns(server);
  net.bind(net.add_host({a_addr.ip()}, nat_a), a_addr, na);
  net.bind(net.add_host({b_addr.ip()}, nat_b), b_addr, nb);
  net.bind(net.add_host({kIpA}), {kIpA, 3478}, ns);
  a.send_now({kIpA, 3478}, net.now());
  b.send_now({kIpA, 3478}, net.now());
  net.wake(na);
  net.wake(nb);
  net.run_for(Duration::millis(100));
  const SocketAddress a_public = server.arrivals.at(0).from;
  const SocketAddress b_public = server.arrivals.at(1).from;
  for (int round = 0; round < 3; ++round) {
    a.send_now(b_public, net.now());
    b.send_now(a_public, net.now());
    net.wake(na);
    net.wake(nb);
    net.run_for(Duration::millis(100));
  }
  return !a.arrivals.empty() && !b.arrivals.empty();
}

TEST(SimulatorNat, HolePunching) {
  EXPECT_TRUE(hole_punch(NatMapping::kEndpointIndependent, NatFiltering::kEndpointIndependent));
  EXPECT_TRUE(hole_punch(NatMapping::kEndpointIndependent, NatFiltering::kAddressAndPortDependent));
  // Symmetric NATs on both sides: the mapping towards the peer is not the one the server
  // saw, so hole punching fails (this is where TURN is needed).
  EXPECT_FALSE(
      hole_punch(NatMapping::kAddressAndPortDependent, NatFiltering::kAddressAndPortDependent));
}

TEST(Simulator, UnboundAndBadSourceAreCountedNotFatal) {
  TwoHosts t(12, LinkConfig{});
  t.a.send_now({kIpB, 9999}, t.net.now());  // nobody bound there
  t.net.wake(t.node_a);
  t.net.run_for(Duration::millis(10));
  EXPECT_EQ(t.net.counters().unbound, 1u);
  Probe stray({kIpA, 7777});  // sends from an address it is not bound to
  SansIoNode<Probe> stray_node(stray);
  stray.send_now({kIpB, 2000}, t.net.now());
  t.net.wake(stray_node);
  EXPECT_EQ(t.net.counters().bad_source, 1u);
}

}  // namespace
}  // namespace rtcpp::sim
