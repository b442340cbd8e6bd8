// ICE-TCP (RFC 6544) in the agent: candidates, priorities, which pairs form, and checks over a
// model of TCP connections (what the runtime does with sockets, in memory).
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "ice/agent.hpp"

namespace rtcpp::ice {
namespace {

const IpAddress kIpA = *IpAddress::parse("10.0.0.1");
const IpAddress kIpB = *IpAddress::parse("10.0.0.2");
const SocketAddress kUdpA{kIpA, 5000};
const SocketAddress kUdpB{kIpB, 6000};
const SocketAddress kListenA{kIpA, 7000};
const SocketAddress kListenB{kIpB, 8000};

// Two agents with a UDP socket and a TCP listener each. A datagram from an active base opens
// a "connection" (from a fresh port of that IP) to the passive address it is for; each end
// then sees the addresses the runtime gives it: the active end its active base, the passive
// end its listening address and the connection's source port.
class TcpNet {
 public:
  explicit TcpNet(std::uint64_t seed, IceConfig config = {})
      : rng_(seed),
        a_(config, IceRole::kControlling, IceCredentials::random(rng_), rng_),
        b_(config, IceRole::kControlled, IceCredentials::random(rng_), rng_) {}

  IceAgent& a() { return a_; }
  IceAgent& b() { return b_; }
  Timestamp now() const { return now_; }
  bool udp_blocked = false;
  bool tcp_refused = false;
  std::vector<Candidate> a_candidates;
  std::vector<Candidate> b_candidates;
  std::vector<IceSelectedPairEvent> a_selected;
  std::vector<IceSelectedPairEvent> b_selected;
  std::size_t connections_opened = 0;

  void gather() {
    a_.add_host_address(kUdpA, now_);
    a_.add_tcp_host_address(kListenA, now_);
    a_.finish_gathering(now_);
    b_.add_host_address(kUdpB, now_);
    b_.add_tcp_host_address(kListenB, now_);
    b_.finish_gathering(now_);
    drain_events();
  }

  void exchange_everything() {
    ASSERT_TRUE(
        a_.set_remote_credentials(b_.local_credentials().ufrag, b_.local_credentials().pwd, now_));
    ASSERT_TRUE(
        b_.set_remote_credentials(a_.local_credentials().ufrag, a_.local_credentials().pwd, now_));
    for (const auto& c : b_candidates) ASSERT_TRUE(a_.add_remote_candidate(c, now_));
    for (const auto& c : a_candidates) ASSERT_TRUE(b_.add_remote_candidate(c, now_));
    a_.end_of_remote_candidates(now_);
    b_.end_of_remote_candidates(now_);
  }

  void drain_events() {
    for (auto* agent : {&a_, &b_}) {
      while (auto e = agent->poll_event()) {
        if (auto* c = std::get_if<IceLocalCandidateEvent>(&*e))
          (agent == &a_ ? a_candidates : b_candidates).push_back(c->candidate);
        if (auto* s = std::get_if<IceSelectedPairEvent>(&*e))
          (agent == &a_ ? a_selected : b_selected).push_back(*s);
      }
    }
  }

  bool run(const std::function<bool()>& done, Duration limit = Duration::seconds(40)) {
    const Timestamp deadline = now_ + limit;
    while (!done()) {
      std::vector<std::pair<IceAgent*, Datagram>> in_flight;
      for (auto* agent : {&a_, &b_}) {
        while (auto d = agent->poll_transmit()) in_flight.emplace_back(agent, std::move(*d));
      }
      drain_events();
      if (!in_flight.empty()) {
        now_ += Duration::millis(10);
        for (auto& [from, d] : in_flight) deliver(*from, d);
        continue;
      }
      std::optional<Timestamp> next;
      for (auto* agent : {&a_, &b_}) {
        auto t = agent->next_timeout();
        if (t && (!next || *t < *next)) next = t;
      }
      if (!next || *next > deadline) return done();
      now_ = std::max(now_, *next);
      a_.handle_timeout(now_);
      b_.handle_timeout(now_);
    }
    return true;
  }

  // Closes every connection `agent` has to the other side, telling both ends.
  void close_connections() {
    for (auto& c : connections_) {
      if (!c.open) continue;
      c.open = false;
      c.active->tcp_connection_closed(c.active_base, c.passive, now_);
      other(*c.active).tcp_connection_closed(c.passive, c.ephemeral, now_);
    }
  }

 private:
  struct Connection {
    IceAgent* active = nullptr;
    SocketAddress active_base;
    SocketAddress ephemeral;  // where the connection comes from, as the passive end sees it
    SocketAddress passive;
    bool open = true;
  };

  IceAgent& other(IceAgent& agent) { return &agent == &a_ ? b_ : a_; }

  void deliver(IceAgent& from, const Datagram& d) {
    IceAgent& to = other(from);
    // The agent tells the runtime how each datagram travels.
    const bool tcp_base =
        d.source.port() == IceAgent::kTcpActivePort || d.source == kListenA || d.source == kListenB;
    EXPECT_EQ(d.route, tcp_base ? Route::kTcp : Route::kUdp) << d.source.to_string();
    if (d.source.port() == IceAgent::kTcpActivePort) {
      Connection* found = nullptr;
      for (auto& c : connections_) {
        if (c.open && c.active == &from && c.active_base == d.source && c.passive == d.destination)
          found = &c;
      }
      if (!found) {
        if (tcp_refused) {
          from.tcp_connection_closed(d.source, d.destination, now_);
          return;
        }
        ++connections_opened;
        connections_.push_back(
            {&from,
             d.source,
             {d.source.ip(), static_cast<std::uint16_t>(40000 + connections_.size())},
             d.destination});
        found = &connections_.back();
      }
      to.handle_packet({found->ephemeral, found->passive, d.payload}, now_);
      return;
    }
    if (d.source == kListenA || d.source == kListenB) {
      for (auto& c : connections_) {
        if (c.open && c.active == &to && c.passive == d.source && c.ephemeral == d.destination) {
          to.handle_packet({c.passive, c.active_base, d.payload}, now_);
          return;
        }
      }
      return;  // no such connection: nowhere to go
    }
    if (!udp_blocked) to.handle_packet(d, now_);
  }

  SeededRandom rng_;
  IceAgent a_;
  IceAgent b_;
  Timestamp now_ = Timestamp::seconds(100);
  std::vector<Connection> connections_;
};

bool connected(const IceAgent& agent) {
  return agent.state() == IceTransportState::kConnected ||
         agent.state() == IceTransportState::kCompleted;
}

TEST(IceAgentTcp, GathersAnActiveAndAPassiveCandidateWrittenAsBrowsersDo) {
  TcpNet net(1);
  net.gather();
  ASSERT_EQ(net.a_candidates.size(), 3u);
  const Candidate& udp = net.a_candidates[0];
  const Candidate& active = net.a_candidates[1];
  const Candidate& passive = net.a_candidates[2];
  EXPECT_EQ(active.protocol, TransportProtocol::kTcp);
  EXPECT_EQ(active.tcp_type, TcpType::kActive);
  EXPECT_EQ(active.port, 9);  // RFC 6544 4.5
  EXPECT_EQ(passive.tcp_type, TcpType::kPassive);
  EXPECT_EQ(passive.port, 7000);
  const std::string ufrag = net.a().local_credentials().ufrag;
  EXPECT_EQ(passive.to_string(),
            "candidate:" + passive.foundation + " 1 tcp " + std::to_string(passive.priority) +
                " 10.0.0.1 7000 typ host tcptype passive generation 0 ufrag " + ufrag);
  auto reparsed = Candidate::parse(active.to_string());
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(*reparsed, active);
  // RFC 6544 4.2: type preference below UDP's; local preference 2^13 * direction + other.
  EXPECT_EQ(active.priority, compute_priority(90, (6u << 13) + 8000, 1));
  EXPECT_EQ(passive.priority, compute_priority(90, (4u << 13) + 8000, 1));
  EXPECT_GT(udp.priority, active.priority);
  EXPECT_GT(compute_priority(recommended_type_preference(CandidateType::kServerReflexive), 0, 1),
            active.priority);
  // Foundations differ by transport and by TCP kind.
  EXPECT_NE(udp.foundation, active.foundation);
  EXPECT_NE(active.foundation, passive.foundation);
}

TEST(IceAgentTcp, PairsOnlyActiveWithPassive) {
  TcpNet net(2);
  net.gather();
  ASSERT_TRUE(net.a().set_remote_credentials("ufrag1", "0123456789012345678901", net.now()));
  const auto before = net.a().pair_count();
  // A TCP active candidate (nothing to connect to) and a simultaneous-open one: no pairs.
  ASSERT_TRUE(net.a().add_remote_candidate(
      *Candidate::parse("candidate:1 1 tcp 1518280447 10.0.0.2 9 typ host tcptype active"),
      net.now()));
  ASSERT_TRUE(net.a().add_remote_candidate(
      *Candidate::parse("candidate:2 1 tcp 1518280447 10.0.0.2 9000 typ host tcptype so"),
      net.now()));
  EXPECT_EQ(net.a().pair_count(), before);
  // A passive one pairs with our active candidate only (not UDP, not our passive one).
  ASSERT_TRUE(net.a().add_remote_candidate(
      *Candidate::parse("candidate:3 1 tcp 1518280447 10.0.0.2 8000 typ host tcptype passive"),
      net.now()));
  EXPECT_EQ(net.a().pair_count(), before + 1);
  // A UDP candidate pairs with our UDP candidate only.
  ASSERT_TRUE(net.a().add_remote_candidate(
      *Candidate::parse("candidate:4 1 udp 2122260223 10.0.0.2 6000 typ host"), net.now()));
  EXPECT_EQ(net.a().pair_count(), before + 2);
  // The same address over TCP and UDP is two candidates, not a duplicate.
  ASSERT_TRUE(net.a().add_remote_candidate(
      *Candidate::parse("candidate:5 1 tcp 1518280447 10.0.0.2 6000 typ host tcptype passive"),
      net.now()));
  EXPECT_EQ(net.a().pair_count(), before + 3);
  EXPECT_EQ(net.a().remote_candidates().size(), 3u);
}

TEST(IceAgentTcp, UdpIsPreferredWhenItWorks) {
  TcpNet net(3);
  net.gather();
  net.exchange_everything();
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
  net.drain_events();
  ASSERT_FALSE(net.a_selected.empty());
  EXPECT_EQ(net.a_selected.back().local.protocol, TransportProtocol::kUdp);
  EXPECT_EQ(net.a().selected_pair()->local, kUdpA);
  EXPECT_EQ(net.b().selected_pair()->local, kUdpB);
}

TEST(IceAgentTcp, ConnectsOverTcpWhenUdpIsBlocked) {
  TcpNet net(4);
  net.udp_blocked = true;
  net.gather();
  net.exchange_everything();
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
  net.drain_events();
  ASSERT_FALSE(net.a_selected.empty());
  ASSERT_FALSE(net.b_selected.empty());
  const auto& a = net.a_selected.back();
  const auto& b = net.b_selected.back();
  EXPECT_EQ(a.local.protocol, TransportProtocol::kTcp);
  EXPECT_EQ(b.local.protocol, TransportProtocol::kTcp);
  // One side is active, the other passive, and the passive side knows its peer by the
  // connection (peer-reflexive, RFC 6544 7.2).
  const auto& active = a.local.tcp_type == TcpType::kActive ? a : b;
  const auto& passive = a.local.tcp_type == TcpType::kActive ? b : a;
  EXPECT_EQ(active.local.tcp_type, TcpType::kActive);
  EXPECT_EQ(active.local_address.port(), IceAgent::kTcpActivePort);
  EXPECT_EQ(active.remote.tcp_type, TcpType::kPassive);
  EXPECT_EQ(passive.local.tcp_type, TcpType::kPassive);
  EXPECT_EQ(passive.remote.type, CandidateType::kPeerReflexive);
  EXPECT_EQ(passive.remote.tcp_type, TcpType::kActive);
  EXPECT_EQ(passive.remote.protocol, TransportProtocol::kTcp);
  EXPECT_TRUE(net.b().tcp_connection_authenticated(net.b().selected_pair()->local,
                                                   net.b().selected_pair()->remote) ||
              net.a().tcp_connection_authenticated(net.a().selected_pair()->local,
                                                   net.a().selected_pair()->remote));
  // Data goes from the pair's local base to its remote address.
  auto data = net.a().wrap_for_selected_pair(Buffer{1, 2, 3}, net.now());
  ASSERT_TRUE(data);
  EXPECT_EQ(data->source, a.local_address);
  EXPECT_EQ(data->destination, a.remote_address);
  // Consent keeps flowing over the connection.
  ASSERT_FALSE(
      net.run([&] { return !connected(net.a()) || !connected(net.b()); }, Duration::seconds(20)));
}

TEST(IceAgentTcp, ClosingTheSelectedConnectionFailsTheAgent) {
  TcpNet net(5);
  net.udp_blocked = true;
  net.gather();
  net.exchange_everything();
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
  net.close_connections();
  EXPECT_EQ(net.a().state(), IceTransportState::kFailed);
  EXPECT_EQ(net.b().state(), IceTransportState::kFailed);
}

TEST(IceAgentTcp, RefusedConnectionsFailThePairs) {
  TcpNet net(6);
  net.udp_blocked = true;
  net.tcp_refused = true;
  net.gather();
  net.exchange_everything();
  // The UDP pairs fail by timeout (checks unanswered); the TCP pair at once, when refused.
  ASSERT_TRUE(net.run([&] { return net.a().state() == IceTransportState::kFailed; },
                      Duration::seconds(60)));
  EXPECT_EQ(net.connections_opened, 0u);
}

TEST(IceAgentTcp, AnAcceptedConnectionIsAuthenticatedOnlyByAValidCheck) {
  SeededRandom rng(7);
  IceAgent agent({}, IceRole::kControlled, IceCredentials::random(rng), rng);
  const Timestamp now = Timestamp::seconds(1);
  agent.add_tcp_host_address(kListenA, now);
  const IceCredentials peer{"peer", "0123456789012345678901"};
  ASSERT_TRUE(agent.set_remote_credentials(peer.ufrag, peer.pwd, now));
  const SocketAddress stranger{kIpB, 45000};
  EXPECT_FALSE(agent.tcp_connection_authenticated(kListenA, stranger));
  auto check = [&](const std::string& pwd) {
    stun::StunMessageBuilder b(stun::StunClass::kRequest, stun::method::kBinding,
                               stun::random_transaction_id(rng));
    b.add_string(stun::attr::kUsername, agent.local_credentials().ufrag + ":" + peer.ufrag);
    b.add_u32(stun::attr::kPriority, 1);
    b.add_u64(stun::attr::kIceControlling, 1);
    b.add_message_integrity(as_bytes(pwd));
    b.add_fingerprint();
    return b.finish();
  };
  // The wrong password: answered 401, not authenticated.
  agent.handle_packet({stranger, kListenA, check("wrong-password-0123456789")}, now);
  EXPECT_FALSE(agent.tcp_connection_authenticated(kListenA, stranger));
  agent.handle_packet({stranger, kListenA, check(agent.local_credentials().pwd)}, now);
  EXPECT_TRUE(agent.tcp_connection_authenticated(kListenA, stranger));
  // The peer-reflexive candidate it revealed is TCP active.
  const auto remotes = agent.remote_candidates();
  ASSERT_EQ(remotes.size(), 1u);
  EXPECT_EQ(remotes[0].protocol, TransportProtocol::kTcp);
  EXPECT_EQ(remotes[0].tcp_type, TcpType::kActive);
  // Its answer goes back over the same connection.
  bool answered = false;
  while (auto d = agent.poll_transmit()) {
    if (d->source == kListenA && d->destination == stranger) answered = true;
  }
  EXPECT_TRUE(answered);
}

TEST(IceAgentTcp, NoTcpCandidatesUnderRelayOnlyAndNoUdpOnesWhenUdpIsOff) {
  SeededRandom rng(8);
  IceConfig relay;
  relay.relay_only = true;
  IceAgent relay_agent(relay, IceRole::kControlling, IceCredentials::random(rng), rng);
  relay_agent.add_tcp_host_address(kListenA, Timestamp::zero());
  IceConfig tcp_only;
  tcp_only.udp_candidates = false;
  IceAgent tcp_agent(tcp_only, IceRole::kControlling, IceCredentials::random(rng), rng);
  tcp_agent.add_host_address(kUdpA, Timestamp::zero());
  tcp_agent.add_tcp_host_address(kListenA, Timestamp::zero());
  std::vector<Candidate> relay_candidates;
  std::vector<Candidate> tcp_candidates;
  while (auto e = relay_agent.poll_event()) {
    if (auto* c = std::get_if<IceLocalCandidateEvent>(&*e))
      relay_candidates.push_back(c->candidate);
  }
  while (auto e = tcp_agent.poll_event()) {
    if (auto* c = std::get_if<IceLocalCandidateEvent>(&*e)) tcp_candidates.push_back(c->candidate);
  }
  EXPECT_TRUE(relay_candidates.empty());
  ASSERT_EQ(tcp_candidates.size(), 2u);
  for (const auto& c : tcp_candidates) EXPECT_EQ(c.protocol, TransportProtocol::kTcp);
}

}  // namespace
}  // namespace rtcpp::ice
