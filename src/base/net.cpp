#include "base/net.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace rtcpp {

IpAddress IpAddress::v4(std::uint32_t host_order) noexcept {
  IpAddress a;
  a.family_ = IpFamily::kV4;
  a.bytes_[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
  return v4((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d);
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& bytes) noexcept {
  IpAddress a;
  a.family_ = IpFamily::kV6;
  a.bytes_ = bytes;
  return a;
}

Result<IpAddress> IpAddress::parse(std::string_view text) {
  // INET6_ADDRSTRLEN is 46; anything longer is not an address. inet_pton needs a C string.
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return syntax_error("invalid IP address length");
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (std::memchr(buf, '\0', text.size()) != nullptr) return syntax_error("NUL in IP address");
  IpAddress out;
  if (inet_pton(AF_INET, buf, out.bytes_.data()) == 1) {
    out.family_ = IpFamily::kV4;
    return out;
  }
  if (inet_pton(AF_INET6, buf, out.bytes_.data()) == 1) {
    out.family_ = IpFamily::kV6;
    return out;
  }
  return syntax_error("invalid IP address: " + std::string(text));
}

std::uint32_t IpAddress::v4_host_order() const noexcept {
  return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) |
         (std::uint32_t{bytes_[2]} << 8) | bytes_[3];
}

bool IpAddress::is_loopback() const noexcept {
  if (is_v4()) return bytes_[0] == 127;
  static constexpr std::array<std::uint8_t, 16> kLoopback{0, 0, 0, 0, 0, 0, 0, 0,
                                                          0, 0, 0, 0, 0, 0, 0, 1};
  return bytes_ == kLoopback;
}

bool IpAddress::is_unspecified() const noexcept {
  for (auto b : bytes()) {
    if (b != 0) return false;
  }
  return true;
}

bool IpAddress::is_link_local() const noexcept {
  if (is_v4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::is_private() const noexcept {
  if (is_v4()) {
    return bytes_[0] == 10 || (bytes_[0] == 172 && (bytes_[1] & 0xf0) == 16) ||
           (bytes_[0] == 192 && bytes_[1] == 168);
  }
  return (bytes_[0] & 0xfe) == 0xfc;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

Result<SocketAddress> SocketAddress::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return syntax_error("invalid socket address: " + std::string(text));
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
      return syntax_error("invalid socket address: " + std::string(text));
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto ip = IpAddress::parse(host);
  if (!ip) return std::move(ip).error();
  if (!text.empty() && text.front() == '[' && !ip->is_v6())
    return syntax_error("bracketed address must be IPv6: " + std::string(text));
  unsigned port = 0;
  const auto* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end || port > 65535)
    return syntax_error("invalid port in socket address: " + std::string(text));
  return SocketAddress(*ip, static_cast<std::uint16_t>(port));
}

std::string SocketAddress::to_string() const {
  if (ip_.is_v6()) return "[" + ip_.to_string() + "]:" + std::to_string(port_);
  return ip_.to_string() + ":" + std::to_string(port_);
}

std::size_t SocketAddressHash::operator()(const SocketAddress& a) const noexcept {
  // FNV-1a over family, address bytes and port.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::uint8_t b) {
    h ^= b;
    h *= 1099511628211ULL;
  };
  mix(static_cast<std::uint8_t>(a.family()));
  for (auto b : a.ip().bytes()) mix(b);
  mix(static_cast<std::uint8_t>(a.port() >> 8));
  mix(static_cast<std::uint8_t>(a.port()));
  return static_cast<std::size_t>(h);
}

}  // namespace rtcpp
