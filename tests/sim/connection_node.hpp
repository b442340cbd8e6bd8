// A connection core (pc::Connection) as a simulator node, for the tests that run two of them.
#pragma once

#include <functional>
#include <optional>

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

}  // namespace rtcpp::sim::testing
