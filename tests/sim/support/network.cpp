#include "network.hpp"

#include <algorithm>
#include <cstdlib>

#include "base/byte_writer.hpp"
#include "base/hex.hpp"
#include "base/sha256.hpp"

namespace rtcpp::sim {

struct Network::LinkState {
  LinkConfig config;
  bool bad = false;        // Gilbert-Elliott state
  Timestamp busy_until;    // the bandwidth queue drains until then
  Timestamp last_arrival;  // FIFO order unless a packet is reordered on purpose
};

struct Network::Host {
  std::vector<IpAddress> addresses;
  std::optional<NatId> nat;
  LinkState uplink;
  LinkState downlink;
};

struct Network::Nat {
  struct Permission {
    SocketAddress remote;
    Timestamp last_used;
  };
  struct Mapping {
    SocketAddress internal;
    SocketAddress remote_key;  // the part of the destination the mapping depends on
    std::uint16_t external_port = 0;
    Timestamp last_used;
    std::vector<Permission> permissions;
  };
  NatConfig config;
  std::vector<Mapping> mappings;
  std::uint16_t next_port = 0;
  bool alive(const Mapping& m, Timestamp now) const {
    return now - m.last_used <= config.mapping_timeout;
  }
};

struct Network::Event {
  Timestamp at;
  std::uint64_t sequence;
  std::function<void()> action;
  bool operator>(const Event& o) const { return at != o.at ? at > o.at : sequence > o.sequence; }
};

Network::Network(std::uint64_t seed) : rng_(seed), hash_(std::make_unique<Sha256>()) {}

Network::~Network() {
  if (pcap_ != nullptr) std::fclose(pcap_);
}

Network::NatId Network::add_nat(const NatConfig& config) {
  Nat nat;
  nat.config = config;
  nat.next_port = config.first_port;
  nats_.push_back(std::move(nat));
  return nats_.size() - 1;
}

Network::HostId Network::add_host(std::vector<IpAddress> addresses, std::optional<NatId> behind) {
  Host host;
  host.addresses = std::move(addresses);
  host.nat = behind;
  hosts_.push_back(std::move(host));
  return hosts_.size() - 1;
}

void Network::set_links(HostId host, const LinkConfig& uplink, const LinkConfig& downlink) {
  hosts_[host].uplink.config = uplink;
  hosts_[host].downlink.config = downlink;
}

void Network::bind(HostId host, const SocketAddress& address, Node& node) {
  bindings_.push_back({host, address, &node});
}

void Network::wake(Node& node) {
  after_step(node);
}

void Network::schedule(Timestamp at, std::function<void()> action) {
  events_.push({at, sequence_++, std::move(action)});
}

bool Network::step() {
  if (events_.empty()) return false;
  Event e = events_.top();
  events_.pop();
  now_ = std::max(now_, e.at);
  e.action();
  return true;
}

bool Network::run_until(const std::function<bool()>& condition, Timestamp deadline) {
  // Guards against an object that asks for handle_timeout(now) forever without progress.
  std::uint64_t same_time_steps = 0;
  Timestamp last = now_;
  while (!condition()) {
    if (events_.empty() || events_.top().at > deadline) {
      now_ = std::max(now_, std::min(deadline, events_.empty() ? deadline : events_.top().at));
      return condition();
    }
    step();
    same_time_steps = now_ == last ? same_time_steps + 1 : 0;
    last = now_;
    if (same_time_steps > 1000000) {
      std::fprintf(stderr, "sim: more than a million events at %lld us without time moving\n",
                   static_cast<long long>(now_.us()));
      return false;
    }
  }
  return true;
}

void Network::run_for(Duration duration) {
  const Timestamp deadline = now_ + duration;
  run_until([] { return false; }, deadline);
  now_ = deadline;
}

void Network::trace(char kind, const Datagram& d) {
  std::uint8_t header[1 + 8 + 2 * (1 + 16 + 2)];
  std::size_t n = 0;
  header[n++] = static_cast<std::uint8_t>(kind);
  for (int i = 7; i >= 0; --i) header[n++] = static_cast<std::uint8_t>(now_.us() >> (8 * i));
  for (const SocketAddress* a : {&d.source, &d.destination}) {
    header[n++] = static_cast<std::uint8_t>(a->family());
    for (auto b : a->ip().bytes()) header[n++] = b;
    header[n++] = static_cast<std::uint8_t>(a->port() >> 8);
    header[n++] = static_cast<std::uint8_t>(a->port());
  }
  hash_->update(BytesView(header, n));
  hash_->update(d.payload);
}

std::string Network::trace_hash() const {
  return hash_->hex();
}

std::optional<Timestamp> Network::traverse(LinkState& link, std::size_t ip_size, Timestamp at,
                                           bool& duplicate) {
  const LinkConfig& c = link.config;
  duplicate = false;
  if (c.mtu != 0 && ip_size > c.mtu) {
    ++counters_.mtu_dropped;
    return std::nullopt;
  }
  if (c.burst.enabled()) {
    link.bad =
        link.bad ? !rng_.bernoulli(c.burst.p_bad_to_good) : rng_.bernoulli(c.burst.p_good_to_bad);
    if (rng_.bernoulli(link.bad ? c.burst.loss_in_bad : c.burst.loss_in_good)) {
      ++counters_.burst_lost;
      return std::nullopt;
    }
  }
  if (c.loss > 0 && rng_.bernoulli(c.loss)) {
    ++counters_.lost;
    return std::nullopt;
  }
  Timestamp depart = at;
  if (c.bandwidth_bps != 0) {
    const double bytes_per_us = static_cast<double>(c.bandwidth_bps) / 8e6;
    const double backlog = link.busy_until > at
                               ? static_cast<double>((link.busy_until - at).us()) * bytes_per_us
                               : 0.0;
    if (backlog + static_cast<double>(ip_size) > static_cast<double>(c.queue_bytes)) {
      ++counters_.queue_dropped;
      return std::nullopt;
    }
    const auto serialisation = Duration::micros(
        static_cast<std::int64_t>(static_cast<double>(ip_size) / bytes_per_us + 0.5));
    link.busy_until = std::max(at, link.busy_until) + serialisation;
    depart = link.busy_until;
  }
  Timestamp arrival = depart + c.delay;
  if (c.jitter > Duration::zero())
    arrival += Duration::micros(rng_.uniform_range(0, c.jitter.us()));
  arrival = std::max(arrival, link.last_arrival);
  if (c.reorder > 0 && rng_.bernoulli(c.reorder)) {
    ++counters_.reordered;
    arrival += c.reorder_delay;
  } else {
    link.last_arrival = arrival;
  }
  if (c.duplicate > 0 && rng_.bernoulli(c.duplicate)) {
    duplicate = true;
    ++counters_.duplicated;
  }
  return arrival;
}

static std::size_t ip_size_of(const Datagram& d) {
  return d.payload.size() + 8 + (d.destination.ip().is_v4() ? 20 : 40);
}

void Network::send_from(Node& node, Datagram d) {
  auto it = std::find_if(bindings_.begin(), bindings_.end(), [&](const Binding& b) {
    return b.node == &node && b.address == d.source;
  });
  if (it == bindings_.end()) {
    ++counters_.bad_source;
    return;
  }
  ++counters_.sent;
  trace('S', d);
  const HostId host = it->host;
  bool duplicate = false;
  auto arrival = traverse(hosts_[host].uplink, ip_size_of(d), now_, duplicate);
  if (!arrival) {
    trace('L', d);
    return;
  }
  if (duplicate)
    schedule(*arrival + Duration::micros(1), [this, d, host] { arrive_at_core(d, host); });
  schedule(*arrival,
           [this, d = std::move(d), host]() mutable { arrive_at_core(std::move(d), host); });
}

std::optional<std::size_t> Network::route(const IpAddress& destination,
                                          std::optional<NatId> sender_nat) const {
  for (std::size_t h = 0; h < hosts_.size(); ++h) {
    const auto& host = hosts_[h];
    if (std::find(host.addresses.begin(), host.addresses.end(), destination) ==
        host.addresses.end())
      continue;
    // A private address is reachable only from behind the same NAT.
    if (host.nat && host.nat != sender_nat) return std::nullopt;
    return h;
  }
  return std::nullopt;
}

void Network::arrive_at_core(Datagram d, HostId from_host) {
  const std::optional<NatId> sender_nat = hosts_[from_host].nat;
  const bool local = sender_nat && route(d.destination.ip(), sender_nat).has_value() &&
                     hosts_[*route(d.destination.ip(), sender_nat)].nat == sender_nat;
  // Outbound through the sender's NAT (RFC 4787 mapping behaviour).
  if (sender_nat && !local) {
    Nat& nat = nats_[*sender_nat];
    SocketAddress key;
    switch (nat.config.mapping) {
      case NatMapping::kEndpointIndependent:
        break;
      case NatMapping::kAddressDependent:
        key = SocketAddress(d.destination.ip(), 0);
        break;
      case NatMapping::kAddressAndPortDependent:
        key = d.destination;
        break;
    }
    auto m = std::find_if(nat.mappings.begin(), nat.mappings.end(), [&](const Nat::Mapping& x) {
      return x.internal == d.source && x.remote_key == key && nat.alive(x, now_);
    });
    if (m == nat.mappings.end()) {
      nat.mappings.push_back({d.source, key, nat.next_port++, now_, {}});
      m = std::prev(nat.mappings.end());
    }
    m->last_used = now_;
    auto p = std::find_if(m->permissions.begin(), m->permissions.end(),
                          [&](const Nat::Permission& x) { return x.remote == d.destination; });
    if (p == m->permissions.end()) {
      m->permissions.push_back({d.destination, now_});
    } else {
      p->last_used = now_;
    }
    d.source = SocketAddress(nat.config.public_ip, m->external_port);
  }
  // Inbound through the receiver's NAT (filtering behaviour), or straight to a host.
  std::optional<std::size_t> target;
  for (std::size_t n = 0; n < nats_.size() && !local; ++n) {
    Nat& nat = nats_[n];
    if (nat.config.public_ip != d.destination.ip()) continue;
    const auto m =
        std::find_if(nat.mappings.begin(), nat.mappings.end(), [&](const Nat::Mapping& x) {
          return x.external_port == d.destination.port() && nat.alive(x, now_);
        });
    bool allowed = m != nat.mappings.end();
    if (allowed && nat.config.filtering != NatFiltering::kEndpointIndependent) {
      allowed =
          std::any_of(m->permissions.begin(), m->permissions.end(), [&](const Nat::Permission& p) {
            const bool match = nat.config.filtering == NatFiltering::kAddressDependent
                                   ? p.remote.ip() == d.source.ip()
                                   : p.remote == d.source;
            return match && now_ - p.last_used <= nat.config.mapping_timeout;
          });
    }
    if (!allowed) {
      ++counters_.nat_filtered;
      trace('F', d);
      return;
    }
    d.destination = m->internal;
    target = route(d.destination.ip(), n);
    break;
  }
  if (!target) target = route(d.destination.ip(), sender_nat);
  if (!target) {
    ++counters_.unroutable;
    trace('U', d);
    return;
  }
  bool duplicate = false;
  auto arrival = traverse(hosts_[*target].downlink, ip_size_of(d), now_, duplicate);
  if (!arrival) {
    trace('L', d);
    return;
  }
  if (duplicate) schedule(*arrival + Duration::micros(1), [this, d] { deliver(d); });
  schedule(*arrival, [this, d = std::move(d)] { deliver(d); });
}

void Network::deliver(const Datagram& d) {
  auto it = std::find_if(bindings_.begin(), bindings_.end(),
                         [&](const Binding& b) { return b.address == d.destination; });
  if (it == bindings_.end()) {
    ++counters_.unbound;
    trace('X', d);
    return;
  }
  ++counters_.delivered;
  trace('R', d);
  if (pcap_ != nullptr) write_pcap(d);
  it->node->handle_packet(d, now_);
  after_step(*it->node);
}

void Network::after_step(Node& node) {
  while (auto d = node.poll_transmit()) send_from(node, std::move(*d));
  node.drain_events(now_);
  auto next = node.next_timeout();
  auto& [generation, scheduled] = timers_[&node];
  if (next && *next < now_) next = now_;
  if (next == scheduled) return;
  scheduled = next;
  ++generation;
  if (!next) return;
  const std::uint64_t expected = generation;
  schedule(*next, [this, &node, expected] {
    auto& [gen, when] = timers_[&node];
    if (gen != expected) return;  // re-armed since
    when.reset();
    node.handle_timeout(now_);
    after_step(node);
  });
}

std::size_t Network::nat_mapping_count(NatId nat) const {
  const Nat& n = nats_[nat];
  return static_cast<std::size_t>(
      std::count_if(n.mappings.begin(), n.mappings.end(),
                    [&](const Nat::Mapping& m) { return n.alive(m, now_); }));
}

// --- pcap ---------------------------------------------------------------------------------

namespace {

void put_le32(std::FILE* f, std::uint32_t v) {
  const std::uint8_t b[4] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                             static_cast<std::uint8_t>(v >> 16),
                             static_cast<std::uint8_t>(v >> 24)};
  std::fwrite(b, 1, 4, f);
}

std::uint32_t sum16(BytesView b, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < b.size(); i += 2)
    sum += static_cast<std::uint32_t>(b[i] << 8 | b[i + 1]);
  if (b.size() % 2 != 0) sum += static_cast<std::uint32_t>(b.back() << 8);
  return sum;
}

std::uint16_t fold(std::uint32_t sum) {
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

bool Network::start_pcap(const std::string& path) {
  if (pcap_ != nullptr) std::fclose(pcap_);
  pcap_ = std::fopen(path.c_str(), "wb");
  if (pcap_ == nullptr) return false;
  put_le32(pcap_, 0xa1b2c3d4);                   // microsecond timestamps
  const std::uint8_t version[4] = {2, 0, 4, 0};  // 2.4, little-endian u16s
  std::fwrite(version, 1, 4, pcap_);
  put_le32(pcap_, 0);      // thiszone
  put_le32(pcap_, 0);      // sigfigs
  put_le32(pcap_, 65535);  // snaplen
  put_le32(pcap_, 101);    // LINKTYPE_RAW: packets start with the IP header
  return true;
}

void Network::write_pcap(const Datagram& d) {
  Buffer packet;
  ByteWriter w(packet);
  const bool v4 = d.destination.ip().is_v4();
  const auto udp_length = static_cast<std::uint16_t>(8 + d.payload.size());
  if (v4) {
    w.write_u8(0x45);
    w.write_u8(0);
    w.write_u16(static_cast<std::uint16_t>(20 + udp_length));
    w.write_u16(static_cast<std::uint16_t>(counters_.delivered));
    w.write_u16(0x4000);  // don't fragment
    w.write_u8(64);
    w.write_u8(17);
    w.write_u16(0);
    w.write_bytes(d.source.ip().bytes());
    w.write_bytes(d.destination.ip().bytes());
    w.patch_u16(10, fold(sum16(BytesView(packet.data(), 20))));
  } else {
    w.write_u32(0x60000000);
    w.write_u16(udp_length);
    w.write_u8(17);
    w.write_u8(64);
    w.write_bytes(d.source.ip().bytes());
    w.write_bytes(d.destination.ip().bytes());
  }
  const std::size_t udp_at = packet.size();
  w.write_u16(d.source.port());
  w.write_u16(d.destination.port());
  w.write_u16(udp_length);
  w.write_u16(0);
  w.write_bytes(d.payload);
  // UDP checksum over the pseudo-header (mandatory for IPv6, RFC 8200 8.1).
  std::uint32_t sum = sum16(d.source.ip().bytes());
  sum = sum16(d.destination.ip().bytes(), sum);
  sum += 17 + udp_length;
  sum = sum16(BytesView(packet.data() + udp_at, packet.size() - udp_at), sum);
  std::uint16_t checksum = fold(sum);
  if (checksum == 0) checksum = 0xFFFF;
  w.patch_u16(udp_at + 6, checksum);
  put_le32(pcap_, static_cast<std::uint32_t>(now_.us() / 1000000));
  put_le32(pcap_, static_cast<std::uint32_t>(now_.us() % 1000000));
  put_le32(pcap_, static_cast<std::uint32_t>(packet.size()));
  put_le32(pcap_, static_cast<std::uint32_t>(packet.size()));
  std::fwrite(packet.data(), 1, packet.size(), pcap_);
}

}  // namespace rtcpp::sim
