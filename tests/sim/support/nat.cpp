#include "nat.hpp"

#include <algorithm>

namespace rtcpp::sim {

Nat::Nat(const NatConfig& config)
    : config_(config), next_port_(config.first_port == 0 ? 1 : config.first_port) {}

void Nat::expire(Timestamp now) {
  const Duration timeout = config_.mapping_timeout;
  std::erase_if(mappings_, [&](const Mapping& m) { return now - m.last_used >= timeout; });
  for (Mapping& m : mappings_)
    std::erase_if(m.permissions, [&](const Permission& p) { return now - p.last_used >= timeout; });
}

std::optional<std::uint16_t> Nat::allocate_port() {
  const std::uint16_t first = config_.first_port == 0 ? 1 : config_.first_port;
  const std::size_t range = 65536u - first;
  for (std::size_t tries = 0; tries < range; ++tries) {
    const std::uint16_t port = next_port_;
    next_port_ = port == 65535 ? first : static_cast<std::uint16_t>(port + 1);
    const bool used = std::any_of(mappings_.begin(), mappings_.end(),
                                  [&](const Mapping& m) { return m.external_port == port; });
    if (!used) return port;
  }
  return std::nullopt;
}

std::optional<SocketAddress> Nat::outbound(const SocketAddress& internal,
                                           const SocketAddress& remote, Timestamp now) {
  expire(now);
  SocketAddress key;  // endpoint-independent: every remote shares the mapping
  if (config_.mapping == NatMapping::kAddressDependent) key = SocketAddress(remote.ip(), 0);
  if (config_.mapping == NatMapping::kAddressAndPortDependent) key = remote;
  auto m = std::find_if(mappings_.begin(), mappings_.end(), [&](const Mapping& x) {
    return x.internal == internal && x.remote_key == key;
  });
  if (m == mappings_.end()) {
    const auto port = allocate_port();
    if (!port) return std::nullopt;
    mappings_.push_back({internal, key, *port, now, {}});
    ++created_;
    m = std::prev(mappings_.end());
  }
  m->last_used = now;
  auto p = std::find_if(m->permissions.begin(), m->permissions.end(),
                        [&](const Permission& x) { return x.remote == remote; });
  if (p == m->permissions.end()) {
    m->permissions.push_back({remote, now});
  } else {
    p->last_used = now;
  }
  return SocketAddress(config_.public_ip, m->external_port);
}

std::optional<SocketAddress> Nat::inbound(std::uint16_t external_port, const SocketAddress& remote,
                                          Timestamp now) {
  expire(now);
  const auto m = std::find_if(mappings_.begin(), mappings_.end(),
                              [&](const Mapping& x) { return x.external_port == external_port; });
  if (m == mappings_.end()) return std::nullopt;
  const auto allowed = [&](const Permission& p) {
    switch (config_.filtering) {
      case NatFiltering::kEndpointIndependent:
        return true;
      case NatFiltering::kAddressDependent:
        return p.remote.ip() == remote.ip();
      case NatFiltering::kAddressAndPortDependent:
        return p.remote == remote;
    }
    return false;
  };
  if (config_.filtering != NatFiltering::kEndpointIndependent &&
      std::none_of(m->permissions.begin(), m->permissions.end(), allowed))
    return std::nullopt;
  return m->internal;
}

std::size_t Nat::live_mappings(Timestamp now) {
  expire(now);
  return mappings_.size();
}

}  // namespace rtcpp::sim
