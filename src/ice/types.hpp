// The vocabulary the ICE units share: roles and states, credentials, the agent's
// configuration, and candidates as the agent holds them (with the addresses they use).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/net.hpp"
#include "base/random.hpp"
#include "base/time.hpp"
#include "ice/candidate.hpp"
#include "turn/turn_client.hpp"

namespace rtcpp::ice {

enum class IceRole : std::uint8_t { kControlling, kControlled };
// W3C RTCIceTransportState.
enum class IceTransportState : std::uint8_t {
  kNew,
  kChecking,
  kConnected,
  kCompleted,
  kDisconnected,
  kFailed,
  kClosed,
};
// W3C RTCIceGatheringState.
enum class IceGatheringState : std::uint8_t { kNew, kGathering, kComplete };

std::string_view to_string(IceRole role) noexcept;
std::string_view to_string(IceTransportState state) noexcept;
std::string_view to_string(IceGatheringState state) noexcept;

constexpr IceRole other_role(IceRole role) noexcept {
  return role == IceRole::kControlling ? IceRole::kControlled : IceRole::kControlling;
}

struct IceCredentials {
  std::string ufrag;
  std::string pwd;
  // RFC 8839 5.4: ufrag at least 4 ice-chars, pwd at least 22; we use 8 and 24.
  static IceCredentials random(Random& rng);
};

struct IceConfig {
  // RFC 8445 14.2: one new check every Ta.
  Duration ta = Duration::millis(50);
  // Retransmission of a connectivity check (RFC 8445 14.3 leaves RTO to the agent).
  Duration check_rto = Duration::millis(250);
  int check_transmissions = 7;
  // RFC 7675 5.1: consent checks on the selected pair, randomised +-20 % around this.
  Duration consent_interval = Duration::seconds(5);
  // No consent response for disconnected_after, with a check unanswered for
  // consent_unanswered_after: disconnected; none for consent_timeout: failed. The check's
  // retransmissions (check_rto) go out meanwhile, four of them within 2 s.
  Duration disconnected_after = Duration::seconds(5);
  Duration consent_unanswered_after = Duration::seconds(2);
  Duration consent_timeout = Duration::seconds(30);
  // Checking gives up (failed) when nothing succeeded for this long after the first check.
  Duration checking_timeout = Duration::seconds(30);
  // The controlling agent waits this long after the first valid pair for a better one
  // before it nominates (regular nomination, RFC 8445 8.1.1).
  Duration nomination_delay = Duration::millis(100);
  // Bound on remote candidates (a hostile peer cannot grow the check list without limit).
  std::size_t max_remote_candidates = 100;
  std::size_t max_pairs = 500;
  // W3C iceTransportPolicy "relay": only relayed candidates are offered and paired. Host
  // sockets are still registered (add_host_address): the TURN clients send from them.
  bool relay_only = false;
  // False: UDP host sockets are registered (TURN over UDP sends from them) but neither they nor
  // server-reflexive candidates are offered or paired; only ICE-TCP and relayed candidates are.
  bool udp_candidates = true;
  turn::TurnClientConfig turn;
  // Bound on TURN allocations (servers times host sockets).
  std::size_t max_turn_clients = 16;
};

// One of our candidates and the address its traffic leaves from: its base (RFC 8445 5.1.1).
struct LocalCandidate {
  Candidate candidate;
  SocketAddress base;  // the socket it sends from (a relayed candidate is its own base)
  std::optional<std::size_t> turn;  // relayed: which of the gatherer's TURN clients
  // W3C RTCIceCandidate.url and relayProtocol: the URL of the STUN or TURN server a
  // server-reflexive or relayed candidate came from (empty for others), and for a relayed
  // one how the TURN client reaches its server ("udp", "tcp" or "tls").
  std::string url;
  std::string relay_protocol;
  // No longer offered or paired (an ICE restart under a policy that excludes it); kept in
  // place, as pairs and the data path refer to candidates by index.
  bool withdrawn = false;
};

// One of the peer's candidates, with the transport address it resolved to.
struct RemoteCandidate {
  Candidate candidate;
  SocketAddress address;
};

}  // namespace rtcpp::ice
