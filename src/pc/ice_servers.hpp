// ICE server URLs (RFC 7064 stun/stuns, RFC 7065 turn/turns) as an RTCConfiguration gives
// them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/net.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::pc {

// A STUN or TURN URL (RFC 7064, RFC 7065).
struct IceServerUrl {
  std::string scheme;  // "stun", "stuns", "turn", "turns"
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 3478;
  std::string transport;  // "udp", "tcp" or "" (TURN only)
};
// SyntaxError for anything that is not one (W3C 4.4.1.6 validate the ICE servers).
Result<IceServerUrl> parse_ice_server_url(std::string_view url);
// W3C 4.4.1.6 validate the ICE servers, for one RTCIceServer: SyntaxError for no URLs or a URL
// that is not one, InvalidAccessError for a TURN URL without a username and a credential.
// Apart from the API so that it runs without a connection (the fuzz target calls it).
Result<> validate_ice_server(const std::vector<std::string>& urls, const std::string& username,
                             const std::string& credential);
// The host as an IP literal with the port; nullopt for a name (resolved by the runtime).
std::optional<SocketAddress> resolve_literal(const std::string& host, std::uint16_t port);

}  // namespace rtcpp::pc
