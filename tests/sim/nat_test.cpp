// NAT behaviours: RFC 4787 mapping and filtering, idle expiry, hairpinning, hole punching.
#include <gtest/gtest.h>

#include "sim_test_util.hpp"
#include "transfer.hpp"

namespace rtcpp::sim {
namespace {

using testing::kIpA;
using testing::kIpB;
using testing::Probe;

const IpAddress kNatIp = IpAddress::v4(203, 0, 113, 1);
const SocketAddress kClient(IpAddress::v4(10, 0, 0, 2), 5000);

// A host behind a NAT, and two public servers (one with two ports).
struct NatRig {
  NatRig(NatMapping mapping, NatFiltering filtering, bool hairpinning = false)
      : net(9),
        client(kClient),
        server1({kIpA, 3478}),
        server1_other_port({kIpA, 3479}),
        server2({kIpB, 3478}),
        n_client(client),
        n_server1(server1),
        n_server1_other(server1_other_port),
        n_server2(server2) {
    NatConfig config{kNatIp, mapping, filtering, Duration::seconds(30), 40000};
    config.hairpinning = hairpinning;
    nat = net.add_nat(config);
    client_host = net.add_host({kClient.ip()}, nat);
    const auto s1 = net.add_host({kIpA});
    const auto s2 = net.add_host({kIpB});
    net.bind(client_host, kClient, n_client);
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
  Network::HostId client_host = 0;
  Probe client, server1, server1_other_port, server2;
  SansIoNode<Probe> n_client, n_server1, n_server1_other, n_server2;
};

TEST(SimNat, MappingBehaviours) {
  for (auto mapping : {NatMapping::kEndpointIndependent, NatMapping::kAddressDependent,
                       NatMapping::kAddressAndPortDependent}) {
    SCOPED_TRACE(static_cast<int>(mapping));
    NatRig rig(mapping, NatFiltering::kEndpointIndependent);
    rig.client_sends_to({kIpA, 3478});
    rig.client_sends_to({kIpA, 3479});
    rig.client_sends_to({kIpB, 3478});
    rig.client_sends_to({kIpA, 3478});  // again: reuses its mapping in every mode
    ASSERT_EQ(rig.server1.arrivals.size(), 2u);
    ASSERT_EQ(rig.server1_other_port.arrivals.size(), 1u);
    ASSERT_EQ(rig.server2.arrivals.size(), 1u);
    const SocketAddress p1 = rig.server1.arrivals[0].from;
    const SocketAddress p1b = rig.server1_other_port.arrivals[0].from;
    const SocketAddress p2 = rig.server2.arrivals[0].from;
    EXPECT_EQ(p1.ip(), kNatIp);
    EXPECT_EQ(p1.port(), 40000);  // ports are handed out in order from first_port
    EXPECT_EQ(rig.server1.arrivals[1].from, p1);
    switch (mapping) {
      case NatMapping::kEndpointIndependent:
        EXPECT_EQ(p1, p1b);
        EXPECT_EQ(p1, p2);
        EXPECT_EQ(rig.net.nat_mapping_count(rig.nat), 1u);
        break;
      case NatMapping::kAddressDependent:
        EXPECT_EQ(p1, p1b);
        EXPECT_NE(p1, p2);
        EXPECT_EQ(rig.net.nat_mapping_count(rig.nat), 2u);
        break;
      case NatMapping::kAddressAndPortDependent:
        EXPECT_NE(p1, p1b);
        EXPECT_NE(p1, p2);
        EXPECT_NE(p1b, p2);
        EXPECT_EQ(rig.net.nat_mapping_count(rig.nat), 3u);
        break;
    }
  }
}

TEST(SimNat, FilteringBehaviours) {
  for (auto filtering : {NatFiltering::kEndpointIndependent, NatFiltering::kAddressDependent,
                         NatFiltering::kAddressAndPortDependent}) {
    SCOPED_TRACE(static_cast<int>(filtering));
    NatRig rig(NatMapping::kEndpointIndependent, filtering);
    // Before any outbound packet nothing gets in, whatever the filter.
    EXPECT_FALSE(rig.inbound_reaches_client(rig.server2, rig.n_server2, {kNatIp, 40000}));
    EXPECT_EQ(rig.net.counters().nat_filtered, 1u);
    rig.client_sends_to({kIpA, 3478});
    const SocketAddress mapped = rig.server1.arrivals.at(0).from;
    EXPECT_TRUE(rig.inbound_reaches_client(rig.server1, rig.n_server1, mapped));
    const bool same_ip_other_port =
        rig.inbound_reaches_client(rig.server1_other_port, rig.n_server1_other, mapped);
    const bool other_ip = rig.inbound_reaches_client(rig.server2, rig.n_server2, mapped);
    EXPECT_EQ(same_ip_other_port, filtering != NatFiltering::kAddressAndPortDependent);
    EXPECT_EQ(other_ip, filtering == NatFiltering::kEndpointIndependent);
    // Another external port has no mapping behind it.
    EXPECT_FALSE(rig.inbound_reaches_client(rig.server1, rig.n_server1, {kNatIp, 40001}));
  }
}

TEST(SimNat, MappingsExpireWhenIdleAndOutboundTrafficRefreshesThem) {
  NatRig rig(NatMapping::kEndpointIndependent, NatFiltering::kAddressAndPortDependent);
  rig.client_sends_to({kIpA, 3478});
  const SocketAddress first = rig.server1.arrivals.at(0).from;
  // Keep-alives every 20 s keep the 30 s mapping alive; inbound traffic does not.
  for (int i = 0; i < 4; ++i) {
    rig.net.run_for(Duration::seconds(20));
    rig.client_sends_to({kIpA, 3478});
  }
  EXPECT_EQ(rig.server1.arrivals.back().from, first);
  EXPECT_TRUE(rig.inbound_reaches_client(rig.server1, rig.n_server1, first));
  rig.net.run_for(Duration::seconds(25));
  EXPECT_TRUE(rig.inbound_reaches_client(rig.server1, rig.n_server1, first));  // 25.1 s idle
  EXPECT_EQ(rig.net.nat_mapping_count(rig.nat), 1u);
  rig.net.run_for(Duration::seconds(5));  // 30.2 s since the last outbound packet
  EXPECT_EQ(rig.net.nat_mapping_count(rig.nat), 0u);
  const std::uint64_t filtered = rig.net.counters().nat_filtered;
  EXPECT_FALSE(rig.inbound_reaches_client(rig.server1, rig.n_server1, first));
  EXPECT_EQ(rig.net.counters().nat_filtered, filtered + 1);
  rig.client_sends_to({kIpA, 3478});
  EXPECT_NE(rig.server1.arrivals.back().from, first);  // a fresh mapping
  EXPECT_EQ(rig.net.nat_mappings_created(rig.nat), 2u);
}

TEST(SimNat, DefaultMappingTimeoutIsTwoMinutes) {
  EXPECT_EQ(NatConfig{}.mapping_timeout, Duration::seconds(120));
}

TEST(SimNat, HostsBehindTheSameNatTalkOverTheLanWithoutTranslation) {
  Network net(3);
  const auto nat = net.add_nat(nat_presets::port_restricted_cone(kNatIp));
  const SocketAddress a_addr(IpAddress::v4(10, 0, 0, 2), 1000);
  const SocketAddress b_addr(IpAddress::v4(10, 0, 0, 3), 2000);
  Probe a(a_addr), b(b_addr);
  SansIoNode<Probe> na(a), nb(b);
  net.bind(net.add_host({a_addr.ip()}, nat), a_addr, na);
  net.bind(net.add_host({b_addr.ip()}, nat), b_addr, nb);
  a.send_now(b_addr, net.now());
  net.wake(na);
  net.run_for(Duration::millis(10));
  ASSERT_EQ(b.arrivals.size(), 1u);
  EXPECT_EQ(b.arrivals[0].from, a_addr);
  EXPECT_EQ(net.nat_mappings_created(nat), 0u);
}

// B first opens a mapping towards a server so that A can address it through the NAT.
bool hairpin(bool enabled, Network::NatId* nat_out = nullptr, Counters* counters = nullptr) {
  Network net(4);
  NatConfig config = nat_presets::full_cone(kNatIp);
  config.hairpinning = enabled;
  const auto nat = net.add_nat(config);
  const SocketAddress a_addr(IpAddress::v4(10, 0, 0, 2), 1000);
  const SocketAddress b_addr(IpAddress::v4(10, 0, 0, 3), 2000);
  Probe a(a_addr), b(b_addr), server({kIpA, 3478});
  SansIoNode<Probe> na(a), nb(b), ns(server);
  net.bind(net.add_host({a_addr.ip()}, nat), a_addr, na);
  net.bind(net.add_host({b_addr.ip()}, nat), b_addr, nb);
  net.bind(net.add_host({kIpA}), {kIpA, 3478}, ns);
  b.send_now({kIpA, 3478}, net.now());
  net.wake(nb);
  net.run_for(Duration::millis(10));
  const SocketAddress b_public = server.arrivals.at(0).from;
  a.send_now(b_public, net.now());
  net.wake(na);
  net.run_for(Duration::millis(10));
  if (nat_out != nullptr) *nat_out = nat;
  if (counters != nullptr) *counters = net.counters();
  if (b.arrivals.empty()) return false;
  // Hairpinned: the source is A's mapping, not its private address.
  EXPECT_EQ(b.arrivals[0].from.ip(), kNatIp);
  return true;
}

TEST(SimNat, HairpinningIsOptional) {
  EXPECT_TRUE(hairpin(true));
  Counters c;
  EXPECT_FALSE(hairpin(false, nullptr, &c));
  EXPECT_EQ(c.no_hairpin, 1u);
}

TEST(SimNat, PrivateAddressesAreNotRoutedFromOutside) {
  NatRig rig(NatMapping::kEndpointIndependent, NatFiltering::kEndpointIndependent);
  EXPECT_FALSE(rig.inbound_reaches_client(rig.server1, rig.n_server1, kClient));
  EXPECT_EQ(rig.net.counters().unroutable, 1u);
}

// Two clients behind their own NATs learn their public mappings from a server, then send to
// each other's mapping a few times (UDP hole punching). Like ICE's peer-reflexive
// candidates, each side switches to the address a packet from the peer actually came from.
bool hole_punch(const NatConfig& a_nat, const NatConfig& b_nat) {
  Network net(11);
  const auto nat_a = net.add_nat(a_nat);
  const auto nat_b = net.add_nat(b_nat);
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
  SocketAddress a_public = server.arrivals.at(0).from;
  SocketAddress b_public = server.arrivals.at(1).from;
  for (int round = 0; round < 3; ++round) {
    if (!a.arrivals.empty()) b_public = a.arrivals.back().from;
    if (!b.arrivals.empty()) a_public = b.arrivals.back().from;
    a.send_now(b_public, net.now());
    b.send_now(a_public, net.now());
    net.wake(na);
    net.wake(nb);
    net.run_for(Duration::millis(100));
  }
  return !a.arrivals.empty() && !b.arrivals.empty();
}

TEST(SimNat, HolePunching) {
  const IpAddress ip_a = IpAddress::v4(203, 0, 113, 1);
  const IpAddress ip_b = IpAddress::v4(203, 0, 113, 2);
  using namespace nat_presets;
  EXPECT_TRUE(hole_punch(full_cone(ip_a), full_cone(ip_b)));
  EXPECT_TRUE(hole_punch(port_restricted_cone(ip_a), port_restricted_cone(ip_b)));
  EXPECT_TRUE(hole_punch(symmetric(ip_a), full_cone(ip_b)));
  // A symmetric NAT opens a new mapping towards the peer, not the one the server saw; facing
  // a port-restricted or symmetric NAT simple hole punching fails (this is TURN's job).
  EXPECT_FALSE(hole_punch(symmetric(ip_a), port_restricted_cone(ip_b)));
  EXPECT_FALSE(hole_punch(symmetric(ip_a), symmetric(ip_b)));
}

// The reliable transfer between two NATed hosts, addresses learned from a Reflector.
bool transfer_through(const NatConfig& sender_nat, const NatConfig& receiver_nat) {
  Network net(21);
  const auto nat_s = net.add_nat(sender_nat);
  const auto nat_r = net.add_nat(receiver_nat);
  const SocketAddress reflector_addr(kIpA, 3478);
  const SocketAddress s_addr(IpAddress::v4(10, 0, 0, 2), 5000);
  const SocketAddress r_addr(IpAddress::v4(10, 0, 0, 2), 6000);  // same private IP, other LAN
  Reflector reflector(reflector_addr);
  TransferConfig config;
  config.count = 50;
  ReliableSender sender(s_addr, config);
  ReliableReceiver receiver(r_addr);
  SansIoNode<Reflector> n_ref(reflector);
  SansIoNode<ReliableSender> n_s(sender);
  SansIoNode<ReliableReceiver> n_r(receiver);
  net.bind(net.add_host({kIpA}), reflector_addr, n_ref);
  net.bind(net.add_host({s_addr.ip()}, nat_s), s_addr, n_s);
  net.bind(net.add_host({r_addr.ip()}, nat_r), r_addr, n_r);
  LinkConfig wan;
  wan.delay = Duration::millis(20);
  net.set_default_link(wan);
  sender.query_reflector(reflector_addr, net.now());
  receiver.query_reflector(reflector_addr, net.now());
  net.wake(n_s);
  net.wake(n_r);
  EXPECT_TRUE(
      net.run_until([&] { return sender.reflexive_address() && receiver.reflexive_address(); },
                    net.now() + Duration::seconds(5)));
  receiver.punch(*sender.reflexive_address(), net.now());
  sender.start(*receiver.reflexive_address(), net.now());
  net.wake(n_r);
  net.wake(n_s);
  return net.run_until([&] { return sender.complete() && receiver.complete(); },
                       net.now() + Duration::seconds(30));
}

TEST(SimNat, ReliableTransferNeedsAHolePunchableNatPair) {
  const IpAddress ip_a = IpAddress::v4(203, 0, 113, 1);
  const IpAddress ip_b = IpAddress::v4(203, 0, 113, 2);
  using namespace nat_presets;
  EXPECT_TRUE(transfer_through(full_cone(ip_a), full_cone(ip_b)));
  EXPECT_TRUE(transfer_through(port_restricted_cone(ip_a), restricted_cone(ip_b)));
  EXPECT_FALSE(transfer_through(symmetric(ip_a), symmetric(ip_b)));
}

TEST(SimNat, PortsRunOutDeterministically) {
  Network net(5);
  NatConfig config = nat_presets::symmetric(kNatIp);
  config.first_port = 65534;  // two ports only
  const auto nat = net.add_nat(config);
  Probe client(kClient), server({kIpA, 1});
  SansIoNode<Probe> nc(client), ns(server);
  net.bind(net.add_host({kClient.ip()}, nat), kClient, nc);
  const auto server_host = net.add_host({kIpA});
  for (std::uint16_t port = 1; port <= 3; ++port) {
    if (port == 1) net.bind(server_host, {kIpA, port}, ns);
    client.send_now({kIpA, port}, net.now());
  }
  net.wake(nc);
  net.run_for(Duration::millis(10));
  EXPECT_EQ(net.counters().ports_exhausted, 1u);
  EXPECT_EQ(net.nat_mapping_count(nat), 2u);
  ASSERT_EQ(server.arrivals.size(), 1u);
  EXPECT_EQ(server.arrivals[0].from.port(), 65534);
}

}  // namespace
}  // namespace rtcpp::sim
