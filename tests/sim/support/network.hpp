// A deterministic network simulator for sans-IO protocol objects.
//
// Hosts have IPv4/IPv6 addresses and may sit behind NAT boxes; every host has an uplink and
// a downlink with their own impairments (delay, jitter, random and Gilbert-Elliott burst
// loss, reordering, duplication, a bandwidth limit with a bounded queue, an MTU). A datagram
// crosses the sender's uplink, the sender's NAT (mapping), the receiver's NAT (filtering) and
// the receiver's downlink, in that order. Time is virtual; all randomness comes from one
// seeded generator, so the same seed gives the same run bit for bit (trace_hash() proves
// it). Captures are classic pcap files with raw IP packets that Wireshark and tshark open.
#pragma once

#include <concepts>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "base/net.hpp"
#include "base/random.hpp"
#include "base/sha256.hpp"
#include "base/time.hpp"

namespace rtcpp::sim {

// Two-state burst loss (Gilbert-Elliott): each packet first moves the chain, then is lost
// with the loss probability of the state it is in.
struct GilbertElliott {
  double p_good_to_bad = 0;
  double p_bad_to_good = 1;
  double loss_in_good = 0;
  double loss_in_bad = 1;
  bool enabled() const noexcept { return p_good_to_bad > 0; }
};

struct LinkConfig {
  Duration delay = Duration::zero();
  // Extra delay, uniform in [0, jitter]. Alone it does not reorder (packets keep FIFO order
  // on a link); reordering is its own knob.
  Duration jitter = Duration::zero();
  double loss = 0;
  GilbertElliott burst;
  // Probability that a packet is held back by reorder_delay, letting later ones overtake it.
  double reorder = 0;
  Duration reorder_delay = Duration::millis(5);
  double duplicate = 0;
  // 0 means unlimited. Otherwise packets serialise at this rate through a FIFO queue of at
  // most queue_bytes (tail drop).
  std::uint64_t bandwidth_bps = 0;
  std::size_t queue_bytes = 64 * 1024;
  // Largest IP packet (IP + UDP headers + payload); 0 means unlimited.
  std::size_t mtu = 0;
};

// RFC 4787 behaviours.
enum class NatMapping : std::uint8_t {
  kEndpointIndependent,
  kAddressDependent,
  kAddressAndPortDependent
};
enum class NatFiltering : std::uint8_t {
  kEndpointIndependent,
  kAddressDependent,
  kAddressAndPortDependent
};

struct NatConfig {
  IpAddress public_ip;
  NatMapping mapping = NatMapping::kEndpointIndependent;
  NatFiltering filtering = NatFiltering::kEndpointIndependent;
  Duration mapping_timeout = Duration::seconds(120);
  std::uint16_t first_port = 20000;
};

// The sans-IO shape every rtcpp protocol object has.
template <typename T>
concept SansIo = requires(T& t, const Datagram& d, Timestamp now) {
  t.handle_packet(d, now);
  t.handle_timeout(now);
  { t.poll_transmit() } -> std::same_as<std::optional<Datagram>>;
  t.poll_event();
  { t.next_timeout() } -> std::same_as<std::optional<Timestamp>>;
};

// What the simulator drives.
class Node {
 public:
  virtual ~Node() = default;
  virtual void handle_packet(const Datagram& d, Timestamp now) = 0;
  virtual void handle_timeout(Timestamp now) = 0;
  virtual std::optional<Datagram> poll_transmit() = 0;
  virtual std::optional<Timestamp> next_timeout() = 0;
  // Called after every step of this node, to hand its events to the test.
  virtual void drain_events(Timestamp /*now*/) {}
};

// Adapts any SansIo object (held by reference) and forwards its events to a callback.
template <SansIo T>
class SansIoNode final : public Node {
 public:
  using EventType = typename decltype(std::declval<T&>().poll_event())::value_type;
  SansIoNode(T& object, std::function<void(EventType&&, Timestamp)> on_event = {})
      : object_(object), on_event_(std::move(on_event)) {}
  void handle_packet(const Datagram& d, Timestamp now) override { object_.handle_packet(d, now); }
  void handle_timeout(Timestamp now) override { object_.handle_timeout(now); }
  std::optional<Datagram> poll_transmit() override { return object_.poll_transmit(); }
  std::optional<Timestamp> next_timeout() override { return object_.next_timeout(); }
  void drain_events(Timestamp now) override {
    while (auto e = object_.poll_event()) {
      if (on_event_) on_event_(std::move(*e), now);
    }
  }

 private:
  T& object_;
  std::function<void(EventType&&, Timestamp)> on_event_;
};

struct Counters {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;        // random loss
  std::uint64_t burst_lost = 0;  // Gilbert-Elliott loss
  std::uint64_t queue_dropped = 0;
  std::uint64_t mtu_dropped = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t nat_filtered = 0;
  std::uint64_t unroutable = 0;
  std::uint64_t unbound = 0;     // arrived at an address no node is bound to
  std::uint64_t bad_source = 0;  // a node sent from an address it is not bound to
};

class Network {
 public:
  using HostId = std::size_t;
  using NatId = std::size_t;

  // Virtual time starts at 1 s (so "zero" never means "now").
  explicit Network(std::uint64_t seed);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  NatId add_nat(const NatConfig& config);
  HostId add_host(std::vector<IpAddress> addresses, std::optional<NatId> behind = std::nullopt);
  void set_links(HostId host, const LinkConfig& uplink, const LinkConfig& downlink);
  // `node` receives datagrams sent to `address` (which must be one of the host's).
  void bind(HostId host, const SocketAddress& address, Node& node);
  // After calling a node's API from the test: send what it queued and re-arm its timer.
  void wake(Node& node);

  Timestamp now() const noexcept { return now_; }
  // Processes the next event; false when nothing is scheduled.
  bool step();
  // Runs until `condition` holds (true) or the next event lies beyond `deadline` (false);
  // the clock never passes the deadline.
  bool run_until(const std::function<bool()>& condition, Timestamp deadline);
  void run_for(Duration duration);

  const Counters& counters() const noexcept { return counters_; }
  // SHA-256 of every send, drop, duplication and delivery (time, kind, addresses, payload).
  std::string trace_hash() const;
  // Writes every delivered datagram from now on to a pcap file (LINKTYPE_RAW).
  bool start_pcap(const std::string& path);
  std::size_t nat_mapping_count(NatId nat) const;

 private:
  struct LinkState;
  struct Host;
  struct Nat;
  struct Event;
  struct Binding {
    HostId host;
    SocketAddress address;
    Node* node;
  };

  void send_from(Node& node, Datagram d);
  void arrive_at_core(Datagram d, HostId from_host);
  void deliver(const Datagram& d);
  std::optional<Timestamp> traverse(LinkState& link, std::size_t ip_size, Timestamp at,
                                    bool& duplicate);
  void after_step(Node& node);
  void schedule(Timestamp at, std::function<void()> action);
  void trace(char kind, const Datagram& d);
  void write_pcap(const Datagram& d);
  std::optional<std::size_t> route(const IpAddress& destination,
                                   std::optional<NatId> sender_nat) const;

  Timestamp now_ = Timestamp::seconds(1);
  SeededRandom rng_;
  std::vector<Host> hosts_;
  std::vector<Nat> nats_;
  std::vector<Binding> bindings_;
  std::map<Node*, std::pair<std::uint64_t, std::optional<Timestamp>>> timers_;  // generation, time
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::uint64_t sequence_ = 0;
  Counters counters_;
  std::unique_ptr<Sha256> hash_;
  std::FILE* pcap_ = nullptr;
};

}  // namespace rtcpp::sim
