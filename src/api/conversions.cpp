#include "api/conversions.hpp"

#include <charconv>
#include <chrono>

namespace rtcpp::detail {

RTCIceGatheringState from_ice(ice::IceGatheringState state) noexcept {
  switch (state) {
    case ice::IceGatheringState::kNew:
      return RTCIceGatheringState::kNew;
    case ice::IceGatheringState::kGathering:
      return RTCIceGatheringState::kGathering;
    case ice::IceGatheringState::kComplete:
      return RTCIceGatheringState::kComplete;
  }
  return RTCIceGatheringState::kNew;
}

RTCIceTransportState from_ice(ice::IceTransportState state) noexcept {
  switch (state) {
    case ice::IceTransportState::kNew:
      return RTCIceTransportState::kNew;
    case ice::IceTransportState::kChecking:
      return RTCIceTransportState::kChecking;
    case ice::IceTransportState::kConnected:
      return RTCIceTransportState::kConnected;
    case ice::IceTransportState::kCompleted:
      return RTCIceTransportState::kCompleted;
    case ice::IceTransportState::kDisconnected:
      return RTCIceTransportState::kDisconnected;
    case ice::IceTransportState::kFailed:
      return RTCIceTransportState::kFailed;
    case ice::IceTransportState::kClosed:
      return RTCIceTransportState::kClosed;
  }
  return RTCIceTransportState::kNew;
}

RTCDtlsTransportState from_dtls(dtls::DtlsState state) noexcept {
  switch (state) {
    case dtls::DtlsState::kNew:
      return RTCDtlsTransportState::kNew;
    case dtls::DtlsState::kConnecting:
      return RTCDtlsTransportState::kConnecting;
    case dtls::DtlsState::kConnected:
      return RTCDtlsTransportState::kConnected;
    case dtls::DtlsState::kClosed:
      return RTCDtlsTransportState::kClosed;
    case dtls::DtlsState::kFailed:
      return RTCDtlsTransportState::kFailed;
  }
  return RTCDtlsTransportState::kNew;
}

RTCIceConnectionState ice_connection_state_of(RTCIceTransportState ice, bool is_closed) noexcept {
  if (is_closed) return RTCIceConnectionState::kClosed;
  switch (ice) {
    case RTCIceTransportState::kFailed:
      return RTCIceConnectionState::kFailed;
    case RTCIceTransportState::kDisconnected:
      return RTCIceConnectionState::kDisconnected;
    case RTCIceTransportState::kNew:
    case RTCIceTransportState::kClosed:
      return RTCIceConnectionState::kNew;
    case RTCIceTransportState::kChecking:
      return RTCIceConnectionState::kChecking;
    case RTCIceTransportState::kCompleted:
      return RTCIceConnectionState::kCompleted;
    case RTCIceTransportState::kConnected:
      return RTCIceConnectionState::kConnected;
  }
  return RTCIceConnectionState::kNew;
}

RTCPeerConnectionState connection_state_of(RTCIceConnectionState ice,
                                           RTCDtlsTransportState dtls) noexcept {
  // The first of these that applies, in the order of the enum's table.
  const bool dtls_new_or_closed =
      dtls == RTCDtlsTransportState::kNew || dtls == RTCDtlsTransportState::kClosed;
  const bool dtls_connected_or_closed =
      dtls == RTCDtlsTransportState::kConnected || dtls == RTCDtlsTransportState::kClosed;
  if (ice == RTCIceConnectionState::kClosed) return RTCPeerConnectionState::kClosed;
  if (ice == RTCIceConnectionState::kFailed || dtls == RTCDtlsTransportState::kFailed)
    return RTCPeerConnectionState::kFailed;
  if (ice == RTCIceConnectionState::kDisconnected) return RTCPeerConnectionState::kDisconnected;
  if (ice == RTCIceConnectionState::kNew && dtls_new_or_closed) return RTCPeerConnectionState::kNew;
  // The table names [[IceConnectionState]] "connected" alone; "completed" counts too, as the
  // note under the table has it ("connecting" is when a transport is still new or checking,
  // or the DTLS transport new or connecting) and as the table said before it was phrased on
  // [[IceConnectionState]].
  if ((ice == RTCIceConnectionState::kConnected || ice == RTCIceConnectionState::kCompleted) &&
      dtls_connected_or_closed)
    return RTCPeerConnectionState::kConnected;
  return RTCPeerConnectionState::kConnecting;
}

double unix_time_ms() noexcept {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) /
         1000.0;
}

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

Result<> validate_configuration(const RTCConfiguration& configuration) {
  for (const auto& server : configuration.ice_servers) {
    if (server.urls.empty()) return syntax_error("an ICE server without urls");
    for (const auto& url : server.urls) {
      auto parsed = parse_ice_server_url(url);
      if (!parsed) return std::move(parsed).error();
      if ((parsed->scheme == "turn" || parsed->scheme == "turns") &&
          (server.username.empty() || server.credential.empty()))
        return invalid_access_error("a TURN server needs a username and a credential: " + url);
    }
  }
  for (const auto& certificate : configuration.certificates) {
    if (!certificate) return type_error("certificates contains a null certificate");
  }
  return {};
}

std::optional<SocketAddress> resolve_literal(const std::string& host, std::uint16_t port) {
  auto ip = IpAddress::parse(host);
  if (!ip) return std::nullopt;
  return SocketAddress(*ip, port);
}

}  // namespace rtcpp::detail
