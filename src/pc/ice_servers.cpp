#include "pc/ice_servers.hpp"

#include <algorithm>
#include <charconv>

namespace rtcpp::pc {
namespace {

// No DNS name is longer (RFC 1035 2.3.4: 255 octets).
constexpr std::size_t kMaxHostLength = 255;

// RFC 3986 3.2.2 reg-name (or IPv4address, which is one): unreserved and sub-delims. The
// host goes to the resolver and into TLS's server name as it is, so spaces, controls, NULs,
// stray brackets or colons, and %-escapes (never decoded) are refused here.
bool is_reg_name(std::string_view host) {
  return std::ranges::all_of(host, [](char c) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return alnum || std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;
  });
}

}  // namespace

Result<IceServerUrl> parse_ice_server_url(std::string_view url) {
  IceServerUrl out;
  const auto colon = url.find(':');
  if (colon == std::string_view::npos)
    return syntax_error("not a STUN or TURN URL: " + std::string(url));
  out.scheme = std::string(url.substr(0, colon));
  if (out.scheme != "stun" && out.scheme != "stuns" && out.scheme != "turn" &&
      out.scheme != "turns")
    return syntax_error("unknown ICE server scheme: " + out.scheme);
  if (out.scheme == "stuns" || out.scheme == "turns") out.port = 5349;
  std::string_view rest = url.substr(colon + 1);
  // RFC 7065 3.1: turn URLs may carry ?transport=udp|tcp; STUN URLs have no query (RFC 7064).
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    if (out.scheme == "stun" || out.scheme == "stuns")
      return syntax_error("a STUN URL has no query: " + std::string(url));
    const std::string_view query = rest.substr(q + 1);
    if (query == "transport=udp") {
      out.transport = "udp";
    } else if (query == "transport=tcp") {
      out.transport = "tcp";
    } else {
      return syntax_error("unknown TURN URL query: " + std::string(query));
    }
    rest = rest.substr(0, q);
  }
  if (rest.empty() || rest.find('/') != std::string_view::npos ||
      rest.find('@') != std::string_view::npos)
    return syntax_error("bad ICE server host in " + std::string(url));
  std::string_view host = rest;
  std::string_view port;
  if (rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos)
      return syntax_error("unterminated IPv6 literal in " + std::string(url));
    host = rest.substr(1, close - 1);
    const auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return syntax_error("bad ICE server URL: " + std::string(url));
      port = after.substr(1);
    }
  } else if (const auto c = rest.rfind(':'); c != std::string_view::npos) {
    host = rest.substr(0, c);
    port = rest.substr(c + 1);
  }
  if (host.empty()) return syntax_error("empty host in " + std::string(url));
  if (host.size() > kMaxHostLength) return syntax_error("ICE server host too long");
  // In brackets only an IPv6 address (RFC 3986 IP-literal; no IPvFuture, no zone).
  if (rest.front() == '[') {
    auto ip = IpAddress::parse(host);
    if (!ip || !ip->is_v6()) return syntax_error("bad ICE server host in " + std::string(url));
  } else if (!is_reg_name(host)) {
    return syntax_error("bad ICE server host in " + std::string(url));
  }
  if (!port.empty() || rest.back() == ':') {
    unsigned value = 0;
    const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535)
      return syntax_error("bad port in " + std::string(url));
    out.port = static_cast<std::uint16_t>(value);
  }
  out.host = std::string(host);
  return out;
}

Result<> validate_ice_server(const std::vector<std::string>& urls, const std::string& username,
                             const std::string& credential) {
  if (urls.empty()) return syntax_error("an ICE server without urls");
  for (const auto& url : urls) {
    auto parsed = parse_ice_server_url(url);
    if (!parsed) return std::move(parsed).error();
    if ((parsed->scheme == "turn" || parsed->scheme == "turns") &&
        (username.empty() || credential.empty()))
      return invalid_access_error("a TURN server needs a username and a credential: " + url);
  }
  return {};
}

std::optional<SocketAddress> resolve_literal(const std::string& host, std::uint16_t port) {
  auto ip = IpAddress::parse(host);
  if (!ip) return std::nullopt;
  return SocketAddress(*ip, port);
}

}  // namespace rtcpp::pc
