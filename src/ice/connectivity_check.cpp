#include "ice/connectivity_check.hpp"

#include <string>
#include <string_view>

namespace rtcpp::ice {
namespace {

using stun::StunClass;
using stun::StunMessage;
using stun::StunMessageBuilder;
namespace attr = stun::attr;

// The attributes an ICE agent understands in a request (anything else comprehension-required
// is answered with 420, RFC 8489 7.3.1).
constexpr std::uint16_t kKnownRequestAttributes[] = {
    attr::kUsername,     attr::kMessageIntegrity, attr::kMessageIntegritySha256, attr::kPriority,
    attr::kUseCandidate, attr::kXorMappedAddress, attr::kMappedAddress,
};

// Success carries the source we saw (XOR-MAPPED-ADDRESS, RFC 8445 7.3.1); integrity goes on
// the responses to authenticated requests (RFC 8489 9.1.4), so never on 401.
Buffer response(const StunMessage& request, const SocketAddress& source, int error_code,
                std::string_view reason, const std::string& pwd) {
  auto b = StunMessageBuilder::response_to(
      request, error_code == 0 ? StunClass::kSuccessResponse : StunClass::kErrorResponse);
  if (error_code == 0) {
    b.add_xor_address(attr::kXorMappedAddress, source);
  } else {
    b.add_error_code(error_code, reason);
  }
  if (error_code == 0 || error_code == 487) b.add_message_integrity(as_bytes(pwd));
  b.add_fingerprint();
  return b.finish();
}

CheckAnswer refused(Buffer response) {
  return {CheckAnswer::Verdict::kRefused, std::move(response), std::nullopt};
}

}  // namespace

Buffer build_check_request(const stun::TransactionId& id, const Candidate& local,
                           const IceCredentials& local_credentials,
                           const IceCredentials& remote_credentials, IceRole role,
                           std::uint64_t tie_breaker, bool use_candidate) {
  StunMessageBuilder b(StunClass::kRequest, stun::method::kBinding, id);
  b.add_string(attr::kUsername, remote_credentials.ufrag + ":" + local_credentials.ufrag);
  // RFC 8445 7.1.1: PRIORITY is what a peer-reflexive candidate from this base would have.
  const std::uint32_t local_pref = (local.priority >> 8) & 0xFFFF;
  const std::uint32_t type_pref = local.protocol == TransportProtocol::kTcp
                                      ? tcp_type_preference(CandidateType::kPeerReflexive)
                                      : recommended_type_preference(CandidateType::kPeerReflexive);
  b.add_u32(attr::kPriority, compute_priority(type_pref, local_pref, 1));
  if (role == IceRole::kControlling) {
    b.add_u64(attr::kIceControlling, tie_breaker);
  } else {
    b.add_u64(attr::kIceControlled, tie_breaker);
  }
  if (use_candidate) b.add_flag(attr::kUseCandidate);
  b.add_message_integrity(as_bytes(remote_credentials.pwd));
  b.add_fingerprint();
  return b.finish();
}

RoleConflict resolve_role_conflict(IceRole ours, std::uint64_t our_tie_breaker,
                                   const StunMessage& request) {
  // The larger tie-breaker is controlling.
  if (ours == IceRole::kControlling) {
    const auto theirs = request.ice_controlling();
    if (!theirs) return RoleConflict::kNone;
    return our_tie_breaker >= *theirs ? RoleConflict::kRejectRequest : RoleConflict::kSwitchRole;
  }
  const auto theirs = request.ice_controlled();
  if (!theirs) return RoleConflict::kNone;
  return our_tie_breaker >= *theirs ? RoleConflict::kSwitchRole : RoleConflict::kRejectRequest;
}

CheckAnswer answer_check_request(const StunMessage& request, const SocketAddress& source,
                                 const ResponderCredentials& credentials, IceRole role,
                                 std::uint64_t tie_breaker) {
  // RFC 8445 7.3: ICE requests carry FINGERPRINT; without a valid one the packet is not ours.
  if (!request.fingerprint_valid()) return {};
  const auto username = request.username();
  const std::string expected_prefix = credentials.current.ufrag + ":";
  if (credentials.previous && username && !username->starts_with(expected_prefix) &&
      username->starts_with(credentials.previous->ufrag + ":")) {
    // The peer's consent checks on the path from before the restart, still in use.
    const std::string& pwd = credentials.previous->pwd;
    if (request.check_integrity(as_bytes(pwd)) != stun::IntegrityCheck::kValid)
      return refused(response(request, source, 401, "Unauthenticated", pwd));
    return {CheckAnswer::Verdict::kConsent, response(request, source, 0, "", pwd), std::nullopt};
  }
  const std::string& pwd = credentials.current.pwd;
  if (!username || !username->starts_with(expected_prefix) ||
      request.check_integrity(as_bytes(pwd)) != stun::IntegrityCheck::kValid)
    return refused(response(request, source, 401, "Unauthenticated", pwd));
  if (!credentials.current_is_new_session)
    return {CheckAnswer::Verdict::kConsent, response(request, source, 0, "", pwd), std::nullopt};
  if (auto unknown = request.unknown_comprehension_required(kKnownRequestAttributes);
      !unknown.empty()) {
    auto b = StunMessageBuilder::response_to(request, StunClass::kErrorResponse);
    b.add_error_code(420, "Unknown Attribute").add_unknown_attributes(unknown);
    b.add_message_integrity(as_bytes(pwd)).add_fingerprint();
    return refused(b.finish());
  }
  std::optional<IceRole> new_role;
  switch (resolve_role_conflict(role, tie_breaker, request)) {
    case RoleConflict::kNone:
      break;
    case RoleConflict::kRejectRequest:
      return refused(response(request, source, 487, "Role Conflict", pwd));
    case RoleConflict::kSwitchRole:
      new_role = other_role(role);
      break;
  }
  return {CheckAnswer::Verdict::kAccepted, response(request, source, 0, "", pwd), new_role};
}

}  // namespace rtcpp::ice
