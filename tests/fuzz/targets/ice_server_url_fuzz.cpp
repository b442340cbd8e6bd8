// An RTCIceServer as an application passes it (W3C 4.4.1.6 validate the ICE servers):
// the input's first line is the username, the second the credential, each further line a URL.
// Never crash; a URL that parses has a known scheme, a host and a port, and written back out
// it parses to the same thing; the server is valid exactly when every URL parses and
// every TURN URL has credentials.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "pc/ice_servers.hpp"

namespace {

using namespace rtcpp;

std::string write_url(const pc::IceServerUrl& url) {
  // An IPv6 literal (or anything else with a colon) goes in brackets, as RFC 3986 has it.
  std::string out = url.scheme + ":";
  out += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  out += ":" + std::to_string(url.port);
  if (!url.transport.empty()) out += "?transport=" + url.transport;
  return out;
}

bool same(const pc::IceServerUrl& a, const pc::IceServerUrl& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.transport == b.transport;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  // A handful of URLs is plenty; the bound keeps one input from being a long list.
  while (lines.size() < 10) {
    const auto nl = text.find('\n');
    lines.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  struct {
    std::vector<std::string> urls;
    std::string username;
    std::string credential;
  } server;  // an RTCIceServer (the API's type is not in the fuzz build)
  server.username = lines[0];
  if (lines.size() > 1) server.credential = lines[1];
  bool all_valid = true;
  for (std::size_t i = 2; i < lines.size(); ++i) {
    server.urls.push_back(lines[i]);
    auto url = pc::parse_ice_server_url(lines[i]);
    if (!url) {
      all_valid = false;
      continue;
    }
    const bool stun = url->scheme == "stun" || url->scheme == "stuns";
    const bool turn = url->scheme == "turn" || url->scheme == "turns";
    if (!stun && !turn) std::abort();
    if (url->host.empty() || url->port == 0) std::abort();
    if (stun && !url->transport.empty()) std::abort();
    if (!url->transport.empty() && url->transport != "udp" && url->transport != "tcp") std::abort();
    if (turn && (server.username.empty() || server.credential.empty())) all_valid = false;
    if (auto literal = pc::resolve_literal(url->host, url->port);
        literal && literal->port() != url->port)
      std::abort();
    auto again = pc::parse_ice_server_url(write_url(*url));
    if (!again || !same(*again, *url)) std::abort();
  }
  const bool valid =
      static_cast<bool>(pc::validate_ice_server(server.urls, server.username, server.credential));
  if (server.urls.empty() ? valid : valid != all_valid) std::abort();
  return 0;
}
