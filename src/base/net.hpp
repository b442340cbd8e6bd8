// IP addresses, socket addresses and datagrams: the values that sans-IO protocol objects
// exchange with the runtime (or the simulator).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "base/time.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp {

enum class IpFamily : std::uint8_t { kV4, kV6 };

class IpAddress {
 public:
  // 0.0.0.0
  IpAddress() noexcept = default;
  static IpAddress v4(std::uint32_t host_order) noexcept;
  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept;
  static IpAddress v6(const std::array<std::uint8_t, 16>& bytes) noexcept;
  // Dotted quad or RFC 4291/5952 text ("::1", "fe80::1"); no zone ids, no brackets.
  static Result<IpAddress> parse(std::string_view text);

  IpFamily family() const noexcept { return family_; }
  bool is_v4() const noexcept { return family_ == IpFamily::kV4; }
  bool is_v6() const noexcept { return family_ == IpFamily::kV6; }
  // Network-order bytes: 4 for IPv4, 16 for IPv6.
  BytesView bytes() const noexcept { return {bytes_.data(), is_v4() ? 4u : 16u}; }
  std::uint32_t v4_host_order() const noexcept;

  bool is_loopback() const noexcept;
  bool is_unspecified() const noexcept;
  bool is_link_local() const noexcept;
  // RFC 1918 / RFC 4193 private ranges.
  bool is_private() const noexcept;

  // Canonical text (RFC 5952 for IPv6).
  std::string to_string() const;

  auto operator<=>(const IpAddress&) const noexcept = default;

 private:
  IpFamily family_ = IpFamily::kV4;
  std::array<std::uint8_t, 16> bytes_{};
};

class SocketAddress {
 public:
  SocketAddress() noexcept = default;
  SocketAddress(IpAddress ip, std::uint16_t port) noexcept : ip_(ip), port_(port) {}
  // "1.2.3.4:5000" or "[::1]:5000".
  static Result<SocketAddress> parse(std::string_view text);

  const IpAddress& ip() const noexcept { return ip_; }
  std::uint16_t port() const noexcept { return port_; }
  IpFamily family() const noexcept { return ip_.family(); }
  // "1.2.3.4:5000" or "[::1]:5000".
  std::string to_string() const;

  auto operator<=>(const SocketAddress&) const noexcept = default;

 private:
  IpAddress ip_;
  std::uint16_t port_ = 0;
};

// One UDP datagram with its addresses, as received from or handed to the network.
// How the runtime carries a datagram. The protocol that makes it says so (the ICE agent, which
// knows its bases); the runtime reads no meaning into addresses or ports.
enum class Route : std::uint8_t {
  kUdp,  // from the UDP socket bound to `source`
  // On the RFC 6544 connection between `source` and `destination`, opened for it when
  // `source` is not a listening address (an active candidate's base).
  kTcp,
  // On the TCP or TLS stream from the host `source.ip()` to the TURN server `destination`.
  kTurnStream,
};

struct Datagram {
  SocketAddress source;
  SocketAddress destination;
  Buffer payload;
  Route route = Route::kUdp;  // outgoing datagrams only
  // Incoming: when the kernel received it (the runtime's clock), where the socket says; later
  // than that is only when it was read. Transport-wide congestion control reports it.
  std::optional<Timestamp> received;
};

struct SocketAddressHash {
  std::size_t operator()(const SocketAddress& a) const noexcept;
};

}  // namespace rtcpp
