// A NAT box with RFC 4787 mapping and filtering behaviours.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/net.hpp"
#include "base/time.hpp"

namespace rtcpp::sim {

// Which remote endpoints share one external port (RFC 4787 section 4.1).
enum class NatMapping : std::uint8_t {
  kEndpointIndependent,
  kAddressDependent,
  kAddressAndPortDependent
};
// Which remote endpoints may send in through a mapping (RFC 4787 section 5): any, those at an
// IP the inside host has sent to, or exactly the IP:port it has sent to.
enum class NatFiltering : std::uint8_t {
  kEndpointIndependent,
  kAddressDependent,
  kAddressAndPortDependent
};

// Classic names: full cone = EI/EI, restricted cone = EI/AD, port-restricted cone = EI/APD,
// symmetric = APD/APD.
struct NatConfig {
  IpAddress public_ip;
  NatMapping mapping = NatMapping::kEndpointIndependent;
  NatFiltering filtering = NatFiltering::kEndpointIndependent;
  // A mapping (and each filter permission) lives this long after the last outbound packet
  // that used it; inbound packets do not refresh it.
  Duration mapping_timeout = Duration::seconds(120);
  // External ports are handed out in order from here, skipping ports still in use, wrapping
  // at 65535 back to first_port: deterministic without touching the random stream.
  std::uint16_t first_port = 49152;
  // If true, an inside host can reach another inside host through the NAT's public address
  // (RFC 4787 REQ-9; the source is translated to its mapping). If false such packets are
  // dropped (counted no_hairpin).
  bool hairpinning = false;
};

namespace nat_presets {
inline NatConfig full_cone(IpAddress ip) {
  return {ip, NatMapping::kEndpointIndependent, NatFiltering::kEndpointIndependent};
}
inline NatConfig restricted_cone(IpAddress ip) {
  return {ip, NatMapping::kEndpointIndependent, NatFiltering::kAddressDependent};
}
inline NatConfig port_restricted_cone(IpAddress ip) {
  return {ip, NatMapping::kEndpointIndependent, NatFiltering::kAddressAndPortDependent};
}
inline NatConfig symmetric(IpAddress ip) {
  return {ip, NatMapping::kAddressAndPortDependent, NatFiltering::kAddressAndPortDependent};
}
}  // namespace nat_presets

// The translation table; routing and links live in Network.
class Nat {
 public:
  explicit Nat(const NatConfig& config);

  const NatConfig& config() const noexcept { return config_; }
  // An inside endpoint sends to `remote`: finds or creates the mapping, refreshes it and
  // returns the external address to use as the source (nullopt: no free port).
  std::optional<SocketAddress> outbound(const SocketAddress& internal, const SocketAddress& remote,
                                        Timestamp now);
  // `remote` sends to the NAT's public address at `external_port`: the inside endpoint, or
  // nullopt if there is no live mapping or the filter refuses it.
  std::optional<SocketAddress> inbound(std::uint16_t external_port, const SocketAddress& remote,
                                       Timestamp now);

  std::size_t live_mappings(Timestamp now);
  std::uint64_t mappings_created() const noexcept { return created_; }

 private:
  struct Permission {
    SocketAddress remote;
    Timestamp last_used;
  };
  struct Mapping {
    SocketAddress internal;
    SocketAddress remote_key;  // the part of the remote address the mapping depends on
    std::uint16_t external_port = 0;
    Timestamp last_used;
    std::vector<Permission> permissions;
  };

  void expire(Timestamp now);
  std::optional<std::uint16_t> allocate_port();

  NatConfig config_;
  std::vector<Mapping> mappings_;
  std::uint16_t next_port_;
  std::uint64_t created_ = 0;
};

}  // namespace rtcpp::sim
