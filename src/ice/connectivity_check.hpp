// Connectivity checks on the wire: the STUN Binding requests an ICE agent sends (RFC 8445
// 7.2.2) and its answers, as a STUN server, to the peer's (7.3): authentication with the
// short-term credentials, unknown attributes, and role conflicts settled by tie-breakers
// (7.3.1.1). Messages in, messages out; what a request means for the check list is the
// agent's business.
#pragma once

#include <cstdint>
#include <optional>

#include "base/bytes.hpp"
#include "base/net.hpp"
#include "ice/candidate.hpp"
#include "ice/types.hpp"
#include "stun/stun_message.hpp"

namespace rtcpp::ice {

// A check from `local` (also a consent check, RFC 7675 5.1): USERNAME "remote:local" and
// MESSAGE-INTEGRITY with the peer's password (7.2.2), PRIORITY (7.1.1), our role and
// tie-breaker (7.1.3), USE-CANDIDATE when it nominates (7.1.2), FINGERPRINT.
Buffer build_check_request(const stun::TransactionId& id, const Candidate& local,
                           const IceCredentials& local_credentials,
                           const IceCredentials& remote_credentials, IceRole role,
                           std::uint64_t tie_breaker, bool use_candidate);

// RFC 8445 7.3.1.1: what a request's ICE-CONTROLLING / ICE-CONTROLLED means for us.
enum class RoleConflict : std::uint8_t {
  kNone,           // the peer claims the other role
  kSwitchRole,     // both claim ours and we lose on tie-breakers: we take the other role
  kRejectRequest,  // both claim ours and we win: the peer is told 487 and switches
};
RoleConflict resolve_role_conflict(IceRole ours, std::uint64_t our_tie_breaker,
                                   const stun::StunMessage& request);

// The credentials a request is checked against.
struct ResponderCredentials {
  const IceCredentials& current;
  // The local credentials of the path kept through an ICE restart: the peer's consent checks
  // on it still use them.
  const IceCredentials* previous = nullptr;
  // False while the peer restarted but our new credentials are not out yet: requests under
  // the current ones are old-session traffic.
  bool current_is_new_session = true;
};

struct CheckAnswer {
  enum class Verdict : std::uint8_t {
    kDropped,   // not an ICE request: no answer
    kRefused,   // answered with an error (401, 420 or 487)
    kConsent,   // answered, but a consent check of the previous session, not a new check
    kAccepted,  // answered with success: a check of the current session
  };
  Verdict verdict = Verdict::kDropped;
  Buffer response;                  // empty when dropped
  std::optional<IceRole> new_role;  // set when we switched roles (kAccepted only)
};

// Answers a Binding request that came from `source` to one of our candidates, as IceAgent
// does with the role it has and the tie-breaker it drew.
CheckAnswer answer_check_request(const stun::StunMessage& request, const SocketAddress& source,
                                 const ResponderCredentials& credentials, IceRole role,
                                 std::uint64_t tie_breaker);

}  // namespace rtcpp::ice
