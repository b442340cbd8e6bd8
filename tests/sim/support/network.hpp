// A deterministic network simulator for sans-IO protocol objects.
//
// Topology. Every host and every NAT has an access link to one shared core ("the internet"),
// with an uplink (towards the core) and a downlink (from it), each a LinkConfig; links
// without their own config use the network-wide default (set_default_link). The core itself
// adds nothing. A host is either public or behind one NAT; behind a NAT its access link goes
// to the NAT's inside instead of the core. A datagram from host A to host B traverses:
//
//   A public,  B public:          A.up -> core -> B.down
//   A behind NAT X, B public:     A.up -> X (map source) -> X.up -> core -> B.down
//   A public,  B behind NAT Y:    A.up -> core -> Y.down -> Y (filter, map dest) -> B.down
//   both behind X, private addr:  A.up -> B.down (the LAN; no translation)
//   both behind X, X's public:    A.up -> X (map, then filter: hairpinning) -> B.down
//
// Private addresses are reachable only from behind the same NAT; a NAT translates only its
// public address's family. Public addresses must be unique.
//
// Time is virtual and starts at kOrigin (1 s, so a zero Timestamp never means "now"). All
// randomness comes from SeededRandom(seed): each link draws its own sub-stream seed from it
// when created, so the same seed and the same setup give the same run bit for bit, and
// trace_hash() proves it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/net.hpp"
#include "base/random.hpp"
#include "base/sha256.hpp"
#include "base/time.hpp"
#include "link.hpp"
#include "nat.hpp"
#include "node.hpp"
#include "pcap.hpp"

namespace rtcpp::sim {

enum class Direction : std::uint8_t { kUp, kDown };

enum class TraceKind : std::uint8_t { kSend, kDrop, kDuplicate, kDeliver };

// One entry of the trace, as passed to a trace observer. The datagram carries the addresses
// at that point of the path (post-NAT once translated).
struct TraceRecord {
  Timestamp at;
  TraceKind kind;
  DropReason reason;  // kNone unless kind == kDrop
  const Datagram& datagram;
};

class Network {
 public:
  using HostId = std::size_t;
  using NatId = std::size_t;

  static constexpr Timestamp kOrigin = Timestamp::seconds(1);
  // A node's timer may fire this many times at one instant before the simulator reports an
  // error and parks the timer until the node next receives a packet or is woken.
  static constexpr std::uint32_t kMaxTimerFiresPerInstant = 10000;
  // The most datagrams taken from a node in one step, against a node that never runs dry.
  static constexpr std::size_t kMaxTransmitsPerStep = 1000000;

  explicit Network(std::uint64_t seed);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // --- topology (misuse throws std::invalid_argument) ---
  // For every access link without its own configuration, now and later.
  void set_default_link(const LinkConfig& config) { default_link_ = config; }
  NatId add_nat(const NatConfig& config);
  // A host with these addresses; behind `behind`, they are private addresses on its inside.
  HostId add_host(std::vector<IpAddress> addresses, std::optional<NatId> behind = std::nullopt);
  void set_links(HostId host, const LinkConfig& uplink, const LinkConfig& downlink);
  void set_nat_links(NatId nat, const LinkConfig& uplink, const LinkConfig& downlink);
  // `node` receives datagrams to `address` (one of the host's addresses, not yet bound) and
  // may send from it. A node may bind several addresses.
  void bind(HostId host, const SocketAddress& address, Node& node);
  // Removes the node's bindings and cancels its timer (call before destroying a bound node).
  void unbind(Node& node);
  // After the test called a node's API directly: sends what it queued, drains its events and
  // re-arms its timer.
  void wake(Node& node);

  // --- running ---
  Timestamp now() const noexcept { return now_; }
  // Processes the next scheduled event; false when nothing is scheduled.
  bool step();
  // Steps until `condition` holds (true) or the next event lies beyond `deadline` (false; the
  // clock then moves to the deadline, never past it). The condition is checked before each
  // event.
  bool run_until(const std::function<bool()>& condition, Timestamp deadline);
  void run_for(Duration duration);
  bool idle() const noexcept { return events_.empty(); }

  // --- observation ---
  // Network-wide: sent = datagrams taken from nodes, delivered = handed to nodes, drops of
  // every link and of routing, NAT and binding.
  const Counters& counters() const noexcept { return counters_; }
  const Counters& host_link(HostId host, Direction direction) const;
  const Counters& nat_link(NatId nat, Direction direction) const;
  std::size_t nat_mapping_count(NatId nat);  // live mappings now
  std::uint64_t nat_mappings_created(NatId nat) const;
  // The translation table itself, e.g. to ask which external port a mapping got.
  Nat& nat(NatId nat) { return nats_.at(nat).table; }

  // Lowercase hex SHA-256 over every send, drop (with reason), duplication and delivery:
  // time, kind, reason, source, destination, payload.
  std::string trace_hash() const { return hash_.hex(); }
  void set_trace_observer(std::function<void(const TraceRecord&)> observer) {
    observer_ = std::move(observer);
  }
  // Simulation errors (a node sending from a foreign address, a timer storm).
  const std::vector<std::string>& errors() const noexcept { return errors_; }

  // Captures every datagram as it is handed to its destination node (so with post-NAT
  // addresses: the source as the receiver sees it, the receiver's own address), from now on,
  // to a classic pcap file. Duplicates appear twice; dropped datagrams do not appear.
  bool start_pcap(const std::string& path) { return pcap_.open(path); }
  void stop_pcap() { pcap_.close(); }
  std::uint64_t pcap_packets() const noexcept { return pcap_.packets(); }

 private:
  enum class Stage : std::uint8_t {
    kHostUplinkDone,   // at the far end of the sender's uplink
    kNatUplinkDone,    // at the core, from a NAT
    kNatDownlinkDone,  // at a NAT's public side
    kHostDownlinkDone  // at the receiving host
  };
  struct Flight {
    Datagram datagram;
    Stage stage;
    std::size_t where;  // host or NAT index for the stage
  };
  struct Timer {
    Node* node;
    std::uint64_t generation;
  };
  struct Event {
    Timestamp at;
    std::uint64_t sequence;
    std::variant<Flight, Timer> what;
    // For std::push_heap's max-heap: "less" means later.
    bool operator<(const Event& o) const { return at != o.at ? at > o.at : sequence > o.sequence; }
  };
  struct AccessLink {
    explicit AccessLink(std::uint64_t seed) : up(seed), down(seed ^ 0x9e3779b97f4a7c15ull) {}
    std::optional<LinkConfig> up_config;
    std::optional<LinkConfig> down_config;
    Link up;
    Link down;
  };
  struct HostState {
    std::vector<IpAddress> addresses;
    std::optional<NatId> nat;
    AccessLink link;
  };
  struct NatState {
    Nat table;
    AccessLink link;
    std::map<IpAddress, HostId> inside;  // private address -> host
  };
  struct NodeState {
    std::uint64_t generation = 0;
    std::optional<Timestamp> armed;
    Timestamp storm_at;
    std::uint32_t storm_count = 0;
    bool parked = false;
  };
  struct Binding {
    HostId host;
    Node* node;
  };

  void schedule(Timestamp at, Flight flight);
  void schedule_timer(Timestamp at, Timer timer);
  void dispatch(Event& event);
  void after_step(Node& node);
  void fire_timer(const Timer& timer);
  void send_from(Node& node, Datagram d);
  // Sends `d` over `link` (configured by `config`), continuing at `next` on arrival.
  void traverse(Link& link, const LinkConfig& config, Datagram d, Stage next, std::size_t where);
  void at_host_uplink_end(Datagram d, HostId from);
  void at_core(Datagram d);
  void at_nat_public_side(Datagram d, NatId nat);
  void deliver(const Datagram& d, HostId host);
  void drop(const Datagram& d, DropReason reason);
  void trace(TraceKind kind, DropReason reason, const Datagram& d);
  const LinkConfig& up_config(const AccessLink& l) const {
    return l.up_config ? *l.up_config : default_link_;
  }
  const LinkConfig& down_config(const AccessLink& l) const {
    return l.down_config ? *l.down_config : default_link_;
  }

  Timestamp now_ = kOrigin;
  SeededRandom rng_;
  LinkConfig default_link_;
  std::vector<HostState> hosts_;
  std::vector<NatState> nats_;
  struct Route {
    bool is_nat;
    std::size_t index;
  };
  std::map<IpAddress, Route> public_routes_;
  std::unordered_map<SocketAddress, Binding, SocketAddressHash> bindings_;
  std::unordered_map<Node*, NodeState> node_states_;
  std::vector<Event> events_;   // a binary heap, earliest (time, sequence) on top
  std::uint64_t sequence_ = 1;  // 0 is never a timer generation
  Counters counters_;
  Sha256 hash_;
  std::function<void(const TraceRecord&)> observer_;
  std::vector<std::string> errors_;
  PcapWriter pcap_;
};

}  // namespace rtcpp::sim
