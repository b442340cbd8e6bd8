#include "network.hpp"

#include <algorithm>
#include <stdexcept>

namespace rtcpp::sim {

namespace {

constexpr std::size_t kMaxErrors = 100;  // keep the first ones; counters count them all

std::size_t ip_header_size(const SocketAddress& a) {
  return a.ip().is_v4() ? 20 : 40;
}
std::size_t ip_packet_size(const Datagram& d) {
  return ip_header_size(d.destination) + 8 + d.payload.size();
}

}  // namespace

Network::Network(std::uint64_t seed) : rng_(seed) {}

Network::~Network() = default;

// --- topology ---------------------------------------------------------------------------

Network::NatId Network::add_nat(const NatConfig& config) {
  if (config.public_ip.is_unspecified())
    throw std::invalid_argument("sim: a NAT needs a public address");
  if (public_routes_.contains(config.public_ip))
    throw std::invalid_argument("sim: address in use: " + config.public_ip.to_string());
  nats_.push_back(NatState{Nat(config), AccessLink(rng_.next_u64()), {}});
  public_routes_[config.public_ip] = {true, nats_.size() - 1};
  return nats_.size() - 1;
}

Network::HostId Network::add_host(std::vector<IpAddress> addresses, std::optional<NatId> behind) {
  if (behind && *behind >= nats_.size()) throw std::invalid_argument("sim: no such NAT");
  const HostId id = hosts_.size();
  for (const IpAddress& ip : addresses) {
    const bool taken = behind ? nats_[*behind].inside.contains(ip) : public_routes_.contains(ip);
    if (taken) throw std::invalid_argument("sim: address in use: " + ip.to_string());
    if (behind) {
      nats_[*behind].inside[ip] = id;
    } else {
      public_routes_[ip] = {false, id};
    }
  }
  hosts_.push_back(HostState{std::move(addresses), behind, AccessLink(rng_.next_u64())});
  return id;
}

void Network::set_links(HostId host, const LinkConfig& uplink, const LinkConfig& downlink) {
  AccessLink& l = hosts_.at(host).link;
  l.up_config = uplink;
  l.down_config = downlink;
}

void Network::set_nat_links(NatId nat, const LinkConfig& uplink, const LinkConfig& downlink) {
  AccessLink& l = nats_.at(nat).link;
  l.up_config = uplink;
  l.down_config = downlink;
}

void Network::bind(HostId host, const SocketAddress& address, Node& node) {
  const HostState& h = hosts_.at(host);
  if (std::find(h.addresses.begin(), h.addresses.end(), address.ip()) == h.addresses.end())
    throw std::invalid_argument("sim: " + address.to_string() + " is not on that host");
  if (!bindings_.emplace(address, Binding{host, &node}).second)
    throw std::invalid_argument("sim: already bound: " + address.to_string());
  node_states_.try_emplace(&node);
}

void Network::unbind(Node& node) {
  std::erase_if(bindings_, [&](const auto& b) { return b.second.node == &node; });
  node_states_.erase(&node);  // pending timer events find no state and do nothing
}

void Network::wake(Node& node) {
  auto it = node_states_.find(&node);
  if (it != node_states_.end()) it->second.parked = false;
  after_step(node);
}

// --- event loop -------------------------------------------------------------------------

void Network::schedule(Timestamp at, Flight flight) {
  events_.push_back(Event{at, sequence_++, std::move(flight)});
  std::push_heap(events_.begin(), events_.end());
}

void Network::schedule_timer(Timestamp at, Timer timer) {
  events_.push_back(Event{at, sequence_++, timer});
  std::push_heap(events_.begin(), events_.end());
}

bool Network::step() {
  if (events_.empty()) return false;
  std::pop_heap(events_.begin(), events_.end());
  Event event = std::move(events_.back());
  events_.pop_back();
  now_ = std::max(now_, event.at);
  dispatch(event);
  return true;
}

void Network::dispatch(Event& event) {
  if (const Timer* timer = std::get_if<Timer>(&event.what)) {
    fire_timer(*timer);
    return;
  }
  Flight& f = std::get<Flight>(event.what);
  switch (f.stage) {
    case Stage::kHostUplinkDone:
      at_host_uplink_end(std::move(f.datagram), f.where);
      break;
    case Stage::kNatUplinkDone:
      at_core(std::move(f.datagram));
      break;
    case Stage::kNatDownlinkDone:
      at_nat_public_side(std::move(f.datagram), f.where);
      break;
    case Stage::kHostDownlinkDone:
      deliver(f.datagram, f.where);
      break;
  }
}

bool Network::run_until(const std::function<bool()>& condition, Timestamp deadline) {
  for (;;) {
    if (condition()) return true;
    if (events_.empty() || events_.front().at > deadline) {
      if (!deadline.is_infinite()) now_ = std::max(now_, deadline);
      return false;
    }
    step();
  }
}

void Network::run_for(Duration duration) {
  run_until([] { return false; }, now_ + duration);
}

void Network::after_step(Node& node) {
  // A listener may call into the object and queue more, so poll until both run dry (within
  // reason: a node that always has another event would otherwise hang the run).
  for (int round = 0;; ++round) {
    if (round == 1000) {
      if (errors_.size() < kMaxErrors) errors_.push_back("sim: a node never stops emitting");
      break;
    }
    std::size_t sent = 0;
    while (auto d = node.poll_transmit()) {
      send_from(node, std::move(*d));
      if (++sent == kMaxTransmitsPerStep) {
        if (errors_.size() < kMaxErrors) errors_.push_back("sim: a node never stops sending");
        break;
      }
    }
    if (node.drain_events(now_) == 0 && sent == 0) break;
  }
  auto it = node_states_.find(&node);
  if (it == node_states_.end() || it->second.parked) return;
  NodeState& state = it->second;
  std::optional<Timestamp> next = node.next_timeout();
  if (next && next->is_infinite()) next.reset();
  if (next && *next < now_) next = now_;  // overdue timers fire now
  if (next == state.armed) return;
  state.armed = next;
  state.generation = sequence_;  // unique forever, so a stale event never matches
  if (next) schedule_timer(*next, Timer{&node, state.generation});
}

void Network::fire_timer(const Timer& timer) {
  auto it = node_states_.find(timer.node);
  if (it == node_states_.end() || it->second.generation != timer.generation) return;
  NodeState& state = it->second;
  state.armed.reset();
  if (state.storm_at == now_) {
    ++state.storm_count;
  } else {
    state.storm_at = now_;
    state.storm_count = 1;
  }
  if (state.storm_count > kMaxTimerFiresPerInstant) {
    if (errors_.size() < kMaxErrors)
      errors_.push_back("sim: a node asked for handle_timeout at " + std::to_string(now_.us()) +
                        " us over and over; its timer is parked");
    state.parked = true;
    state.storm_count = 0;
    return;
  }
  timer.node->handle_timeout(now_);
  after_step(*timer.node);
}

// --- the path of a datagram ---------------------------------------------------------------

void Network::send_from(Node& node, Datagram d) {
  const auto binding = bindings_.find(d.source);
  if (binding == bindings_.end() || binding->second.node != &node) {
    if (errors_.size() < kMaxErrors)
      errors_.push_back("sim: a node sent from " + d.source.to_string() +
                        ", which is not bound to it");
    drop(d, DropReason::kBadSource);
    return;
  }
  ++counters_.sent;
  trace(TraceKind::kSend, DropReason::kNone, d);
  const std::size_t max_payload = 65535 - 8 - ip_header_size(d.destination);
  if (d.payload.size() > max_payload) {
    drop(d, DropReason::kMtu);
    return;
  }
  if (d.source.family() != d.destination.family()) {
    drop(d, DropReason::kUnroutable);
    return;
  }
  const HostId host = binding->second.host;
  AccessLink& l = hosts_[host].link;
  traverse(l.up, up_config(l), std::move(d), Stage::kHostUplinkDone, host);
}

void Network::traverse(Link& link, const LinkConfig& config, Datagram d, Stage next,
                       std::size_t where) {
  const LinkVerdict v = link.transmit(config, ip_packet_size(d), now_);
  if (v.drop != DropReason::kNone) {
    drop(d, v.drop);
    return;
  }
  if (v.reordered) ++counters_.reordered;
  if (v.duplicate_arrival) {
    ++counters_.duplicated;
    trace(TraceKind::kDuplicate, DropReason::kNone, d);
    schedule(*v.duplicate_arrival, Flight{d, next, where});
  }
  schedule(v.arrival, Flight{std::move(d), next, where});
}

void Network::at_host_uplink_end(Datagram d, HostId from) {
  const std::optional<NatId> behind = hosts_[from].nat;
  if (!behind) {
    at_core(std::move(d));
    return;
  }
  NatState& n = nats_[*behind];
  if (auto local = n.inside.find(d.destination.ip()); local != n.inside.end()) {
    AccessLink& l = hosts_[local->second].link;  // same LAN: no translation
    traverse(l.down, down_config(l), std::move(d), Stage::kHostDownlinkDone, local->second);
    return;
  }
  if (d.destination.family() != n.table.config().public_ip.family()) {
    drop(d, DropReason::kUnroutable);
    return;
  }
  const auto mapped = n.table.outbound(d.source, d.destination, now_);
  if (!mapped) {
    drop(d, DropReason::kPortsExhausted);
    return;
  }
  d.source = *mapped;
  if (d.destination.ip() == n.table.config().public_ip) {
    if (!n.table.config().hairpinning) {
      drop(d, DropReason::kNoHairpin);
      return;
    }
    at_nat_public_side(std::move(d), *behind);
    return;
  }
  traverse(n.link.up, up_config(n.link), std::move(d), Stage::kNatUplinkDone, *behind);
}

void Network::at_core(Datagram d) {
  const auto route = public_routes_.find(d.destination.ip());
  if (route == public_routes_.end()) {
    drop(d, DropReason::kUnroutable);
    return;
  }
  const std::size_t i = route->second.index;
  AccessLink& l = route->second.is_nat ? nats_[i].link : hosts_[i].link;
  traverse(l.down, down_config(l), std::move(d),
           route->second.is_nat ? Stage::kNatDownlinkDone : Stage::kHostDownlinkDone, i);
}

void Network::at_nat_public_side(Datagram d, NatId nat) {
  NatState& n = nats_[nat];
  const auto internal = n.table.inbound(d.destination.port(), d.source, now_);
  if (!internal) {
    drop(d, DropReason::kNatFiltered);
    return;
  }
  d.destination = *internal;
  const auto host = n.inside.find(d.destination.ip());
  if (host == n.inside.end()) {
    drop(d, DropReason::kUnroutable);
    return;
  }
  AccessLink& l = hosts_[host->second].link;
  traverse(l.down, down_config(l), std::move(d), Stage::kHostDownlinkDone, host->second);
}

void Network::deliver(const Datagram& d, HostId host) {
  const auto binding = bindings_.find(d.destination);
  if (binding == bindings_.end() || binding->second.host != host) {
    drop(d, DropReason::kUnbound);
    return;
  }
  ++counters_.delivered;
  trace(TraceKind::kDeliver, DropReason::kNone, d);
  pcap_.write(now_, d);
  Node& node = *binding->second.node;
  if (auto it = node_states_.find(&node); it != node_states_.end()) it->second.parked = false;
  node.handle_packet(d, now_);
  after_step(node);
}

void Network::drop(const Datagram& d, DropReason reason) {
  counters_.count_drop(reason);
  trace(TraceKind::kDrop, reason, d);
}

void Network::trace(TraceKind kind, DropReason reason, const Datagram& d) {
  std::uint8_t header[8 + 2 + 2 * (1 + 16 + 2) + 4];
  std::size_t n = 0;
  const auto put = [&](std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) header[n++] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  put(static_cast<std::uint64_t>(now_.us()), 8);
  put(static_cast<std::uint8_t>(kind), 1);
  put(static_cast<std::uint8_t>(reason), 1);
  for (const SocketAddress* a : {&d.source, &d.destination}) {
    put(static_cast<std::uint8_t>(a->family()), 1);
    for (std::uint8_t b : a->ip().bytes()) header[n++] = b;
    put(a->port(), 2);
  }
  put(d.payload.size(), 4);  // the length keeps records unambiguous
  hash_.update(BytesView(header, n));
  hash_.update(d.payload);
  if (observer_) observer_(TraceRecord{now_, kind, reason, d});
}

// --- observation --------------------------------------------------------------------------

const Counters& Network::host_link(HostId host, Direction direction) const {
  const AccessLink& l = hosts_.at(host).link;
  return direction == Direction::kUp ? l.up.counters() : l.down.counters();
}

const Counters& Network::nat_link(NatId nat, Direction direction) const {
  const AccessLink& l = nats_.at(nat).link;
  return direction == Direction::kUp ? l.up.counters() : l.down.counters();
}

std::size_t Network::nat_mapping_count(NatId nat) {
  return nats_.at(nat).table.live_mappings(now_);
}

std::uint64_t Network::nat_mappings_created(NatId nat) const {
  return nats_.at(nat).table.mappings_created();
}

}  // namespace rtcpp::sim
