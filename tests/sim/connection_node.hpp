// Connection cores (pc::Connection) as simulator nodes, and the rig the tests that run two of
// them share.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "network.hpp"
#include "pc/connection.hpp"

namespace rtcpp::sim::testing {

// Its events go to the handler (the test playing the application and the runtime).
class ConnectionNode final : public Node {
 public:
  ConnectionNode(pc::Connection& c, std::function<void(pc::ConnectionEvent&&, Timestamp)> on_event)
      : c_(c), on_event_(std::move(on_event)) {}
  void handle_packet(const Datagram& d, Timestamp now) override { c_.handle_datagram(d, now); }
  void handle_timeout(Timestamp now) override { c_.handle_timeout(now); }
  std::optional<Datagram> poll_transmit() override { return c_.poll_transmit(); }
  std::optional<Timestamp> next_timeout() override { return c_.next_timeout(); }
  std::size_t drain_events(Timestamp now) override {
    std::size_t n = 0;
    for (; auto e = c_.poll_event(); ++n) on_event_(std::move(*e), now);
    return n;
  }

 private:
  pc::Connection& c_;
  std::function<void(pc::ConnectionEvent&&, Timestamp)> on_event_;
};

// Two connection cores on two hosts (10.0.0.2:5000 and 10.0.0.3:6000) whose links are given.
// The rig plays the runtime's part (a host socket when a GatherRequest comes) and trickles
// each local candidate to the other side; every other event goes to the test's handler with
// the side it came from (0 or 1).
class TwoConnections {
 public:
  using Handler = std::function<void(int side, pc::ConnectionEvent&&, Timestamp)>;

  TwoConnections(Network& net, Random& rng, const LinkConfig& link, Handler handler)
      : net_(net), handler_(std::move(handler)) {
    const std::array<SocketAddress, 2> addresses{SocketAddress(IpAddress::v4(10, 0, 0, 2), 5000),
                                                 SocketAddress(IpAddress::v4(10, 0, 0, 3), 6000)};
    for (int side = 0; side < 2; ++side) {
      auto& peer = peers_[static_cast<std::size_t>(side)];
      peer.address = addresses[static_cast<std::size_t>(side)];
      peer.connection = std::make_unique<pc::Connection>(config(), rng);
      peer.node = std::make_unique<ConnectionNode>(
          *peer.connection, [this, side](pc::ConnectionEvent&& e, Timestamp now) {
            on_event(side, std::move(e), now);
          });
      const auto host = net.add_host({peer.address.ip()});
      net.set_links(host, link, link);
      net.bind(host, peer.address, *peer.node);
    }
  }

  static pc::ConnectionConfig config() {
    pc::ConnectionConfig c;
    c.certificate = *dtls::Certificate::generate();
    c.tcp_candidates = false;
    return c;
  }

  pc::Connection& connection(int side) {
    return *peers_.at(static_cast<std::size_t>(side)).connection;
  }
  ConnectionNode& node(int side) { return *peers_.at(static_cast<std::size_t>(side)).node; }
  std::size_t candidates_sent(int side) const {
    return peers_.at(static_cast<std::size_t>(side)).candidates_sent;
  }

  struct Negotiated {
    std::string offer;
    std::string answer;
  };
  // Side 0 offers, side 1 answers, both apply both descriptions, and both are woken; nothing
  // when a step fails (each failure is a test failure too).
  std::optional<Negotiated> negotiate(Timestamp now) {
    auto& a = connection(0);
    auto& b = connection(1);
    auto offer = a.create_offer(false, now);
    EXPECT_TRUE(offer);
    if (!offer) return std::nullopt;
    EXPECT_TRUE(a.set_local_description(pc::Description{pc::SdpType::kOffer, *offer}, now));
    EXPECT_TRUE(b.set_remote_description({pc::SdpType::kOffer, *offer}, now));
    auto answer = b.create_answer(now);
    EXPECT_TRUE(answer);
    if (!answer) return std::nullopt;
    EXPECT_TRUE(b.set_local_description(pc::Description{pc::SdpType::kAnswer, *answer}, now));
    EXPECT_TRUE(a.set_remote_description({pc::SdpType::kAnswer, *answer}, now));
    net_.wake(node(0));
    net_.wake(node(1));
    return Negotiated{*offer, *answer};
  }

 private:
  struct Peer {
    SocketAddress address;
    std::unique_ptr<pc::Connection> connection;
    std::unique_ptr<ConnectionNode> node;
    std::size_t candidates_sent = 0;
  };

  void on_event(int side, pc::ConnectionEvent&& e, Timestamp now) {
    auto& self = peers_[static_cast<std::size_t>(side)];
    if (std::holds_alternative<pc::GatherRequest>(e)) {
      self.connection->add_host_address(self.address, now);
      self.connection->sockets_ready(now);
      return;
    }
    if (const auto* c = std::get_if<pc::LocalCandidate>(&e)) {
      ++self.candidates_sent;
      auto& other = peers_[static_cast<std::size_t>(1 - side)];
      EXPECT_TRUE(other.connection->add_ice_candidate(c->candidate.to_string(), c->mid,
                                                      std::nullopt, c->ufrag, now));
      net_.wake(*other.node);
      return;
    }
    handler_(side, std::move(e), now);
  }

  Network& net_;
  Handler handler_;
  std::array<Peer, 2> peers_;
};

}  // namespace rtcpp::sim::testing
