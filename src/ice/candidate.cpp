#include "ice/candidate.hpp"

#include <charconv>

namespace rtcpp::ice {
namespace {

// RFC 8839 5.1: ice-char = ALPHA / DIGIT / "+" / "/".
bool is_ice_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

template <typename T>
bool parse_number(std::string_view text, T& out, std::uint64_t max) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t v = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || v > max) return false;
  out = static_cast<T>(v);
  return true;
}

// An IP literal or a DNS hostname (RFC 1123 labels), which is what browsers put there.
bool is_valid_address(std::string_view a) {
  if (a.empty() || a.size() > 253) return false;
  if (IpAddress::parse(a)) return true;
  std::size_t label = 0;
  for (char c : a) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label != 0;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto next = s.find(' ', i);
    const auto end = next == std::string_view::npos ? s.size() : next;
    out.push_back(s.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

Result<Candidate> fail(std::string what, std::string_view text) {
  return syntax_error("invalid ICE candidate (" + what + "): " + std::string(text.substr(0, 200)));
}

}  // namespace

std::string_view to_string(CandidateType type) noexcept {
  switch (type) {
    case CandidateType::kHost:
      return "host";
    case CandidateType::kServerReflexive:
      return "srflx";
    case CandidateType::kPeerReflexive:
      return "prflx";
    case CandidateType::kRelayed:
      return "relay";
  }
  return "host";
}

std::string_view to_string(TcpType type) noexcept {
  switch (type) {
    case TcpType::kNone:
      return "";
    case TcpType::kActive:
      return "active";
    case TcpType::kPassive:
      return "passive";
    case TcpType::kSimultaneousOpen:
      return "so";
  }
  return "";
}

Result<Candidate> Candidate::parse(std::string_view text) {
  const std::string_view original = text;
  // The bound is on what follows the optional prefixes, so that a candidate that parses
  // writes back (with "candidate:") into a line that parses too.
  constexpr std::size_t kPrefixesAndLineEnd = 16;
  if (text.size() > kMaxCandidateLength + kPrefixesAndLineEnd) return fail("too long", original);
  // Tolerate the line ending a signaling channel may leave on it.
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.remove_suffix(1);
  if (text.starts_with("a=")) text.remove_prefix(2);
  if (text.starts_with("candidate:")) text.remove_prefix(10);
  if (text.size() > kMaxCandidateLength) return fail("too long", original);

  const auto fields = split_spaces(text);
  // foundation component transport priority address port "typ" type
  if (fields.size() < 8) return fail("too few fields", original);
  Candidate c;
  if (fields[0].empty() || fields[0].size() > 32) return fail("foundation", original);
  for (char ch : fields[0]) {
    if (!is_ice_char(ch)) return fail("foundation", original);
  }
  c.foundation = std::string(fields[0]);
  if (!parse_number(fields[1], c.component, 256) || c.component == 0)
    return fail("component", original);
  if (iequals(fields[2], "udp")) {
    c.protocol = TransportProtocol::kUdp;
  } else if (iequals(fields[2], "tcp")) {
    c.protocol = TransportProtocol::kTcp;
  } else {
    return fail("transport", original);
  }
  if (!parse_number(fields[3], c.priority, 0xFFFFFFFFull) || c.priority == 0)
    return fail("priority", original);
  if (!is_valid_address(fields[4])) return fail("address", original);
  c.address = std::string(fields[4]);
  if (!parse_number(fields[5], c.port, 65535)) return fail("port", original);
  if (fields[6] != "typ") return fail("expected typ", original);
  if (fields[7] == "host") {
    c.type = CandidateType::kHost;
  } else if (fields[7] == "srflx") {
    c.type = CandidateType::kServerReflexive;
  } else if (fields[7] == "prflx") {
    c.type = CandidateType::kPeerReflexive;
  } else if (fields[7] == "relay") {
    c.type = CandidateType::kRelayed;
  } else {
    return fail("candidate type", original);
  }

  // The rest is name/value pairs: raddr, rport, then extensions (RFC 8839 5.1).
  if ((fields.size() - 8) % 2 != 0) return fail("dangling extension name", original);
  if ((fields.size() - 8) / 2 > kMaxCandidateExtensions)
    return fail("too many extensions", original);
  for (std::size_t i = 8; i < fields.size(); i += 2) {
    const std::string_view name = fields[i];
    const std::string_view value = fields[i + 1];
    if (!is_token(name) || !is_token(value)) return fail("extension", original);
    if (name == "raddr") {
      if (!is_valid_address(value)) return fail("raddr", original);
      c.related_address = std::string(value);
    } else if (name == "rport") {
      std::uint16_t port = 0;
      if (!parse_number(value, port, 65535)) return fail("rport", original);
      c.related_port = port;
    } else if (name == "tcptype") {
      if (value == "active") {
        c.tcp_type = TcpType::kActive;
      } else if (value == "passive") {
        c.tcp_type = TcpType::kPassive;
      } else if (value == "so") {
        c.tcp_type = TcpType::kSimultaneousOpen;
      } else {
        return fail("tcptype", original);
      }
    } else if (name == "generation") {
      std::uint32_t v = 0;
      if (!parse_number(value, v, 0xFFFFFFFFull)) return fail("generation", original);
      c.generation = v;
    } else if (name == "ufrag") {
      c.ufrag = std::string(value);
    } else if (name == "network-id") {
      std::uint32_t v = 0;
      if (!parse_number(value, v, 0xFFFFFFFFull)) return fail("network-id", original);
      c.network_id = v;
    } else if (name == "network-cost") {
      std::uint32_t v = 0;
      if (!parse_number(value, v, 0xFFFFFFFFull)) return fail("network-cost", original);
      c.network_cost = v;
    } else {
      c.extensions.emplace_back(std::string(name), std::string(value));
    }
  }
  if (c.protocol == TransportProtocol::kTcp && c.tcp_type == TcpType::kNone)
    return fail("TCP candidate without tcptype", original);
  if (c.protocol == TransportProtocol::kUdp && c.tcp_type != TcpType::kNone)
    return fail("tcptype on a UDP candidate", original);
  return c;
}

std::string Candidate::to_string() const {
  std::string out = "candidate:";
  out += foundation;
  out += ' ';
  out += std::to_string(component);
  out += protocol == TransportProtocol::kUdp ? " udp " : " tcp ";
  out += std::to_string(priority);
  out += ' ';
  out += address;
  out += ' ';
  out += std::to_string(port);
  out += " typ ";
  out += ice::to_string(type);
  if (!related_address.empty()) out += " raddr " + related_address;
  if (related_port) out += " rport " + std::to_string(*related_port);
  if (tcp_type != TcpType::kNone) {
    out += " tcptype ";
    out += ice::to_string(tcp_type);
  }
  if (generation) out += " generation " + std::to_string(*generation);
  if (!ufrag.empty()) out += " ufrag " + ufrag;
  if (network_id) out += " network-id " + std::to_string(*network_id);
  if (network_cost) out += " network-cost " + std::to_string(*network_cost);
  for (const auto& [name, value] : extensions) out += " " + name + " " + value;
  return out;
}

std::optional<IpAddress> Candidate::ip() const {
  auto parsed = IpAddress::parse(address);
  if (!parsed) return std::nullopt;
  return *parsed;
}

bool Candidate::is_mdns() const {
  return address.size() > 6 && address.ends_with(".local") && !ip().has_value();
}

std::optional<SocketAddress> Candidate::socket_address() const {
  auto parsed = ip();
  if (!parsed) return std::nullopt;
  return SocketAddress(*parsed, port);
}

}  // namespace rtcpp::ice
