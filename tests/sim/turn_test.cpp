// TURN relaying under the simulator: full rtcpp stacks behind symmetric NATs, which no
// direct or server-reflexive pair can cross, connect through our minimal TURN server
// (tests/sim/support/turn_server.hpp), with the relay as a fallback and relay-only.
#include <gtest/gtest.h>

#include "network.hpp"
#include "pc/peer_transport.hpp"
#include "turn_server.hpp"

namespace rtcpp::sim {
namespace {

class TransportNode final : public Node {
 public:
  TransportNode(pc::PeerTransport& t, std::function<void(pc::PeerTransportEvent&&)> on_event)
      : t_(t), on_event_(std::move(on_event)) {}
  void handle_packet(const Datagram& d, Timestamp now) override { t_.handle_datagram(d, now); }
  void handle_timeout(Timestamp now) override { t_.handle_timeout(now); }
  std::optional<Datagram> poll_transmit() override { return t_.poll_transmit(); }
  std::optional<Timestamp> next_timeout() override { return t_.next_timeout(); }
  std::size_t drain_events(Timestamp) override {
    std::size_t n = 0;
    for (; auto e = t_.poll_event(); ++n) on_event_(std::move(*e));
    return n;
  }

 private:
  pc::PeerTransport& t_;
  std::function<void(pc::PeerTransportEvent&&)> on_event_;
};

struct Outcome {
  bool connected = false;
  bool transferred = false;
  bool echoed = false;
  ice::CandidateType local_type = ice::CandidateType::kHost;
  ice::CandidateType remote_type = ice::CandidateType::kHost;
  std::size_t relay_candidates = 0;
  std::size_t other_candidates = 0;
  std::vector<int> error_codes;
  Duration connect_time;
  std::uint64_t channel_data = 0;
  std::uint64_t deallocations = 0;
  std::size_t relayed_addresses_granted = 0;
};

struct Options {
  bool relay_only = false;
  double loss = 0;
  std::string password = "pass";
  std::uint64_t seed = 1;
  bool sha256 = false;    // the server asks for SHA-256 password hashing (RFC 8489 9.2)
  bool userhash = false;  // the server asks for username anonymity (RFC 8489 9.2.1)
  // Both clients ask for dual allocations (RFC 8656 ADDITIONAL-ADDRESS-FAMILY).
  bool dual_stack = false;
  // B is an IPv6-only host without a NAT (and the server has IPv6 relayed addresses).
  bool b_ipv6_only = false;
};

Outcome run(const Options& options) {
  Network net(options.seed);
  const IpAddress turn_ip = IpAddress::v4(198, 51, 100, 20);
  const SocketAddress turn_addr(turn_ip, 3478);
  auto nat_a = net.add_nat(nat_presets::symmetric(IpAddress::v4(203, 0, 113, 1)));
  auto nat_b = net.add_nat(nat_presets::symmetric(IpAddress::v4(203, 0, 113, 2)));
  const SocketAddress a_addr(IpAddress::v4(10, 0, 0, 2), 5000);
  const SocketAddress b_addr = options.b_ipv6_only
                                   ? *SocketAddress::parse("[2001:db8::2]:6000")
                                   : SocketAddress(IpAddress::v4(192, 168, 7, 2), 6000);
  const IpAddress turn_ip6 = SocketAddress::parse("[2001:db8::20]:1")->ip();
  auto host_a = net.add_host({a_addr.ip()}, nat_a);
  auto host_b =
      options.b_ipv6_only ? net.add_host({b_addr.ip()}) : net.add_host({b_addr.ip()}, nat_b);
  auto host_t = net.add_host({turn_ip, turn_ip6});
  LinkConfig link;
  link.delay = Duration::millis(20);
  link.loss = options.loss;
  net.set_links(host_a, link, link);
  net.set_links(host_b, link, link);

  TurnServerOptions server_options;
  server_options.listen = turn_addr;
  server_options.sha256 = options.sha256;
  server_options.userhash = options.userhash;
  for (std::uint16_t p = 50000; p < 50004; ++p) server_options.relay_pool.emplace_back(turn_ip, p);
  if (options.b_ipv6_only) {
    for (std::uint16_t p = 50000; p < 50004; ++p)
      server_options.relay_pool_v6.emplace_back(turn_ip6, p);
  }
  TurnServer server(server_options);
  SansIoNode<TurnServer> server_node(server);
  net.bind(host_t, turn_addr, server_node);
  for (const auto& r : server_options.relay_pool) net.bind(host_t, r, server_node);
  for (const auto& r : server_options.relay_pool_v6) net.bind(host_t, r, server_node);

  SeededRandom rng(options.seed);
  pc::PeerTransportConfig config;
  config.ice.relay_only = options.relay_only;
  if (options.dual_stack) config.ice.turn.relay_families = turn::RelayFamilies::kBoth;
  config.certificate = *dtls::Certificate::generate();
  auto a = std::move(*pc::PeerTransport::create(config, ice::IceRole::kControlling, rng));
  config.certificate = *dtls::Certificate::generate();
  auto b = std::move(*pc::PeerTransport::create(config, ice::IceRole::kControlled, rng));

  Outcome out;
  std::unique_ptr<TransportNode> node_a;
  std::unique_ptr<TransportNode> node_b;
  std::size_t received_b = 0;
  std::size_t received_a = 0;
  std::optional<std::uint16_t> b_channel;
  const Buffer payload(50 * 1000);
  auto on_event = [&](pc::PeerTransport& to, TransportNode* to_node, bool is_a,
                      pc::PeerTransportEvent& e) {
    if (auto* ice_event = std::get_if<ice::IceEvent>(&e)) {
      if (auto* c = std::get_if<ice::IceLocalCandidateEvent>(ice_event)) {
        if (c->candidate.type == ice::CandidateType::kRelayed) {
          ++out.relay_candidates;
        } else {
          ++out.other_candidates;
        }
        (void)to.ice().add_remote_candidate(c->candidate, net.now());
        if (to_node != nullptr) net.wake(*to_node);
      } else if (auto* s = std::get_if<ice::IceSelectedPairEvent>(ice_event); s && is_a) {
        out.local_type = s->local.type;
        out.remote_type = s->remote.type;
      } else if (auto* err = std::get_if<ice::IceCandidateErrorEvent>(ice_event)) {
        out.error_codes.push_back(err->error_code);
      }
    }
  };
  node_a = std::make_unique<TransportNode>(*a, [&](pc::PeerTransportEvent&& e) {
    on_event(*b, node_b.get(), true, e);
    if (auto* m = std::get_if<pc::ChannelMessageEvent>(&e)) received_a += m->data.size();
  });
  node_b = std::make_unique<TransportNode>(*b, [&](pc::PeerTransportEvent&& e) {
    on_event(*a, node_a.get(), false, e);
    if (auto* open = std::get_if<pc::ChannelOpenEvent>(&e)) b_channel = open->channel.id;
    if (auto* m = std::get_if<pc::ChannelMessageEvent>(&e)) {
      received_b += m->data.size();
      (void)b->send(m->id, m->data, true);  // echo
    }
  });
  net.bind(host_a, a_addr, *node_a);
  net.bind(host_b, b_addr, *node_b);

  const Timestamp start = net.now();
  turn::TurnServerConfig turn{turn_addr, "user", options.password, turn::TurnTransport::kUdp,
                              "turn:198.51.100.20?transport=udp"};
  a->ice().add_turn_server(turn, start);
  b->ice().add_turn_server(turn, start);
  a->ice().add_host_address(a_addr, start);
  b->ice().add_host_address(b_addr, start);
  a->ice().finish_gathering(start);
  b->ice().finish_gathering(start);
  (void)a->set_remote_parameters(b->local_ice_credentials().ufrag, b->local_ice_credentials().pwd,
                                 b->local_fingerprints(), dtls::DtlsRole::kServer, start);
  (void)b->set_remote_parameters(a->local_ice_credentials().ufrag, a->local_ice_credentials().pwd,
                                 a->local_fingerprints(), dtls::DtlsRole::kClient, start);
  net.wake(*node_a);
  net.wake(*node_b);
  out.connected = net.run_until([&] { return a->sctp_connected() && b->sctp_connected(); },
                                start + Duration::seconds(40));
  out.connect_time = net.now() - start;
  if (out.connected) {
    auto id = a->open_channel({.label = "relay"});
    if (id && a->send(*id, payload, true)) {
      net.wake(*node_a);
      out.transferred = net.run_until([&] { return received_b == payload.size(); },
                                      net.now() + Duration::seconds(60));
      out.echoed = net.run_until([&] { return received_a == payload.size(); },
                                 net.now() + Duration::seconds(60));
    }
  } else {
    net.run_for(Duration::seconds(1));  // let error events arrive
  }
  out.channel_data = server.channel_data_seen();
  out.relayed_addresses_granted = server.relayed_addresses_granted();
  // Closing deallocates (RFC 8656 7.3: Refresh with LIFETIME 0).
  a->ice().close();
  b->ice().close();
  net.wake(*node_a);
  net.wake(*node_b);
  net.run_for(Duration::seconds(2));
  out.deallocations = server.deallocations();
  net.unbind(*node_a);
  net.unbind(*node_b);
  net.unbind(server_node);
  return out;
}

TEST(Turn, SymmetricNatsConnectThroughTheRelay) {
  const Outcome o = run({});
  ASSERT_TRUE(o.connected);
  EXPECT_EQ(o.local_type, ice::CandidateType::kRelayed);
  EXPECT_EQ(o.relay_candidates, 2u);
  EXPECT_GT(o.other_candidates, 0u);
  EXPECT_TRUE(o.transferred);
  EXPECT_TRUE(o.echoed);
  EXPECT_GT(o.channel_data, 0u);  // the data path moved to channels
  EXPECT_EQ(o.deallocations, 2u);
  EXPECT_LT(o.connect_time.seconds_f(), 5.0);
}

TEST(Turn, RelayOnlyOnBothSides) {
  const Outcome o = run({.relay_only = true});
  ASSERT_TRUE(o.connected);
  EXPECT_EQ(o.other_candidates, 0u);  // no host or srflx candidate is offered
  EXPECT_EQ(o.relay_candidates, 2u);
  EXPECT_EQ(o.local_type, ice::CandidateType::kRelayed);
  EXPECT_EQ(o.remote_type, ice::CandidateType::kRelayed);
  EXPECT_TRUE(o.transferred);
  EXPECT_TRUE(o.echoed);
  EXPECT_EQ(o.deallocations, 2u);
}

TEST(Turn, RelayOnlyWithLoss) {
  for (std::uint64_t seed = 5; seed < 8; ++seed) {
    const Outcome o = run({.relay_only = true, .loss = 0.05, .seed = seed});
    ASSERT_TRUE(o.connected) << seed;
    EXPECT_TRUE(o.echoed) << seed;
  }
}

TEST(Turn, Sha256PasswordAlgorithm) {
  Outcome o = run({.relay_only = true, .sha256 = true});
  ASSERT_TRUE(o.connected);
  EXPECT_EQ(o.relay_candidates, 2u);
  EXPECT_TRUE(o.echoed);
  EXPECT_EQ(o.deallocations, 2u);
  o = run({.relay_only = true, .password = "wrong", .sha256 = true});
  EXPECT_FALSE(o.connected);
  ASSERT_FALSE(o.error_codes.empty());
  EXPECT_EQ(o.error_codes[0], 401);
}

TEST(Turn, UsernameAnonymity) {
  // The server refuses any request that names the user, so connecting proves USERHASH is sent
  // instead, with the MD5 key and with SHA-256 password hashing alike.
  for (const bool sha256 : {false, true}) {
    Outcome o = run({.relay_only = true, .sha256 = sha256, .userhash = true});
    ASSERT_TRUE(o.connected) << sha256;
    EXPECT_EQ(o.relay_candidates, 2u);
    EXPECT_TRUE(o.echoed);
    EXPECT_EQ(o.deallocations, 2u);
  }
  Outcome o = run({.relay_only = true, .password = "wrong", .userhash = true});
  EXPECT_FALSE(o.connected);
  ASSERT_FALSE(o.error_codes.empty());
  EXPECT_EQ(o.error_codes[0], 401);
}

TEST(Turn, DualAllocationReachesAnIpv6OnlyPeerFromAnIpv4Host) {
  // A reaches the server over IPv4 only; B has nothing but an IPv6 address. Only the IPv6 half
  // of A's dual allocation can pair with B.
  Outcome o = run({.dual_stack = true, .b_ipv6_only = true});
  ASSERT_TRUE(o.connected);
  EXPECT_EQ(o.local_type, ice::CandidateType::kRelayed);
  EXPECT_EQ(o.remote_type, ice::CandidateType::kHost);
  EXPECT_EQ(o.relay_candidates, 2u);  // A's IPv4 and IPv6 relays; B has no IPv4 to reach TURN
  EXPECT_EQ(o.relayed_addresses_granted, 2u);
  EXPECT_TRUE(o.transferred);
  EXPECT_TRUE(o.echoed);
  EXPECT_EQ(o.deallocations, 1u);
  // Without the dual allocation there is no pair at all.
  o = run({.dual_stack = false, .b_ipv6_only = true});
  EXPECT_FALSE(o.connected);
  EXPECT_EQ(o.relay_candidates, 1u);
}

TEST(Turn, DualAllocationFromAServerWithoutIpv6KeepsTheIpv4Relay) {
  // RFC 8656 7.2: the server grants IPv4 and names IPv6 in ADDRESS-ERROR-CODE.
  const Outcome o = run({.relay_only = true, .dual_stack = true});
  ASSERT_TRUE(o.connected);
  EXPECT_EQ(o.relay_candidates, 2u);  // one each
  EXPECT_EQ(o.relayed_addresses_granted, 2u);
  EXPECT_TRUE(o.echoed);
  EXPECT_TRUE(o.error_codes.empty());
}

TEST(Turn, WrongPasswordIsAnIceCandidateError) {
  const Outcome o = run({.relay_only = true, .password = "wrong"});
  EXPECT_FALSE(o.connected);
  EXPECT_EQ(o.relay_candidates, 0u);
  ASSERT_EQ(o.error_codes.size(), 2u);
  EXPECT_EQ(o.error_codes[0], 401);
}

}  // namespace
}  // namespace rtcpp::sim
