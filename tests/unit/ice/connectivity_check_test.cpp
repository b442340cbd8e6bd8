// Connectivity checks on the wire, on their own: the Binding requests we build and our
// answers, as a STUN server, to the peer's (authentication, unknown attributes, roles).
#include "ice/connectivity_check.hpp"

#include <gtest/gtest.h>

namespace rtcpp::ice {
namespace {

using stun::StunClass;
using stun::StunMessage;
using stun::StunMessageBuilder;
namespace attr = stun::attr;

const IceCredentials kOurs{"ours", "our-password-0123456789"};
const IceCredentials kTheirs{"them", "their-password-01234567"};
const IceCredentials kOursBefore{"old1", "old-password-0123456789"};
const SocketAddress kSource = *SocketAddress::parse("203.0.113.5:7000");
constexpr std::uint64_t kOurTieBreaker = 1000;

Candidate host(TransportProtocol protocol = TransportProtocol::kUdp) {
  Candidate c;
  c.protocol = protocol;
  c.priority = compute_priority(126, 65000, 1);
  return c;
}

stun::TransactionId id(std::uint8_t n) {
  stun::TransactionId t{};
  t[11] = n;
  return t;
}

// A check the peer sends us (it builds it with our credentials as the remote ones).
Buffer peer_check(IceRole role, std::uint64_t tie_breaker, bool use_candidate = false,
                  const IceCredentials& ours = kOurs) {
  return build_check_request(id(1), host(), kTheirs, ours, role, tie_breaker, use_candidate);
}

CheckAnswer answer(const Buffer& request, IceRole our_role = IceRole::kControlled,
                   const ResponderCredentials& credentials = {kOurs}) {
  auto msg = StunMessage::parse(request);
  EXPECT_TRUE(msg);
  return answer_check_request(*msg, kSource, credentials, our_role, kOurTieBreaker);
}

TEST(ConnectivityCheck, RequestCarriesWhatRfc8445Asks) {
  const Buffer bytes = build_check_request(id(7), host(), kOurs, kTheirs, IceRole::kControlling,
                                           kOurTieBreaker, /*use_candidate=*/true);
  auto msg = StunMessage::parse(bytes);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->message_class(), StunClass::kRequest);
  EXPECT_EQ(msg->method(), stun::method::kBinding);
  EXPECT_EQ(msg->transaction_id(), id(7));
  EXPECT_EQ(msg->username(), "them:ours");  // RFC 8445 7.2.2: remote:local
  // RFC 8445 7.1.1: the priority of a peer-reflexive candidate from the same base.
  EXPECT_EQ(msg->priority(), compute_priority(110, 65000, 1));
  EXPECT_EQ(msg->ice_controlling(), kOurTieBreaker);
  EXPECT_FALSE(msg->ice_controlled());
  EXPECT_TRUE(msg->use_candidate());
  EXPECT_EQ(msg->check_integrity(as_bytes(kTheirs.pwd)), stun::IntegrityCheck::kValid);
  EXPECT_TRUE(msg->fingerprint_valid());

  const Buffer controlled = build_check_request(id(8), host(TransportProtocol::kTcp), kOurs,
                                                kTheirs, IceRole::kControlled, 5, false);
  auto c = StunMessage::parse(controlled);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->ice_controlled(), 5u);
  EXPECT_FALSE(c->ice_controlling());
  EXPECT_FALSE(c->use_candidate());
  EXPECT_EQ(c->priority(), compute_priority(80, 65000, 1));  // RFC 6544 4.2
}

TEST(ConnectivityCheck, AValidCheckIsAnsweredWithItsSource) {
  const Buffer request = peer_check(IceRole::kControlling, 1);
  const CheckAnswer a = answer(request);
  EXPECT_EQ(a.verdict, CheckAnswer::Verdict::kAccepted);
  EXPECT_FALSE(a.new_role);
  auto response = StunMessage::parse(a.response);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->message_class(), StunClass::kSuccessResponse);
  EXPECT_EQ(response->transaction_id(), id(1));
  EXPECT_EQ(*response->xor_mapped_address(), kSource);
  EXPECT_EQ(response->check_integrity(as_bytes(kOurs.pwd)), stun::IntegrityCheck::kValid);
  EXPECT_TRUE(response->fingerprint_valid());
}

TEST(ConnectivityCheck, UnauthenticatedRequestsAreRefusedWith401) {
  for (const Buffer& request :
       {peer_check(IceRole::kControlling, 1, false, {"else", kOurs.pwd}),
        peer_check(IceRole::kControlling, 1, false, {kOurs.ufrag, "wrong-password-0123456"})}) {
    const CheckAnswer a = answer(request);
    EXPECT_EQ(a.verdict, CheckAnswer::Verdict::kRefused);
    auto response = StunMessage::parse(a.response);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->error_code()->code, 401);
    // RFC 8489 9.1.4: no integrity on a 401.
    EXPECT_EQ(response->check_integrity(as_bytes(kOurs.pwd)), stun::IntegrityCheck::kAbsent);
  }
}

TEST(ConnectivityCheck, RequestsWithoutFingerprintAreNotOurs) {
  StunMessageBuilder b(StunClass::kRequest, stun::method::kBinding, id(2));
  b.add_string(attr::kUsername, "ours:them");
  b.add_message_integrity(as_bytes(kOurs.pwd));
  const CheckAnswer a = answer(b.finish());
  EXPECT_EQ(a.verdict, CheckAnswer::Verdict::kDropped);
  EXPECT_TRUE(a.response.empty());
}

TEST(ConnectivityCheck, UnknownComprehensionRequiredAttributesGet420) {
  constexpr std::uint16_t kUnknown = 0x0031;
  StunMessageBuilder b(StunClass::kRequest, stun::method::kBinding, id(3));
  b.add_string(attr::kUsername, "ours:them");
  b.add_u32(kUnknown, 1);
  b.add_message_integrity(as_bytes(kOurs.pwd)).add_fingerprint();
  const CheckAnswer a = answer(b.finish());
  EXPECT_EQ(a.verdict, CheckAnswer::Verdict::kRefused);
  auto response = StunMessage::parse(a.response);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->error_code()->code, 420);
  EXPECT_EQ(response->unknown_attributes(), std::vector<std::uint16_t>{kUnknown});
  EXPECT_EQ(response->check_integrity(as_bytes(kOurs.pwd)), stun::IntegrityCheck::kValid);
}

TEST(ConnectivityCheck, RoleConflictsAreSettledByTieBreakers) {
  const Buffer a = peer_check(IceRole::kControlling, kOurTieBreaker - 1);
  const Buffer b = peer_check(IceRole::kControlling, kOurTieBreaker + 1);
  const Buffer c = peer_check(IceRole::kControlled, kOurTieBreaker - 1);
  const Buffer d = peer_check(IceRole::kControlled, kOurTieBreaker + 1);
  // RFC 8445 7.3.1.1: the larger tie-breaker is controlling.
  EXPECT_EQ(resolve_role_conflict(IceRole::kControlling, kOurTieBreaker, *StunMessage::parse(a)),
            RoleConflict::kRejectRequest);
  EXPECT_EQ(resolve_role_conflict(IceRole::kControlling, kOurTieBreaker, *StunMessage::parse(b)),
            RoleConflict::kSwitchRole);
  EXPECT_EQ(resolve_role_conflict(IceRole::kControlled, kOurTieBreaker, *StunMessage::parse(c)),
            RoleConflict::kSwitchRole);
  EXPECT_EQ(resolve_role_conflict(IceRole::kControlled, kOurTieBreaker, *StunMessage::parse(d)),
            RoleConflict::kRejectRequest);
  EXPECT_EQ(resolve_role_conflict(IceRole::kControlled, kOurTieBreaker, *StunMessage::parse(b)),
            RoleConflict::kNone);

  // We win: the peer hears 487 (with integrity, it was authenticated) and switches.
  const CheckAnswer win = answer(a, IceRole::kControlling);
  EXPECT_EQ(win.verdict, CheckAnswer::Verdict::kRefused);
  auto response = StunMessage::parse(win.response);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->error_code()->code, 487);
  EXPECT_EQ(response->check_integrity(as_bytes(kOurs.pwd)), stun::IntegrityCheck::kValid);
  // We lose: we switch and answer the check.
  const CheckAnswer lose = answer(b, IceRole::kControlling);
  EXPECT_EQ(lose.verdict, CheckAnswer::Verdict::kAccepted);
  EXPECT_EQ(lose.new_role, IceRole::kControlled);
  const CheckAnswer win_controlled = answer(c, IceRole::kControlled);
  EXPECT_EQ(win_controlled.verdict, CheckAnswer::Verdict::kAccepted);
  EXPECT_EQ(win_controlled.new_role, IceRole::kControlling);
}

TEST(ConnectivityCheck, ConsentOnThePathFromBeforeARestartUsesItsCredentials) {
  const ResponderCredentials credentials{kOurs, &kOursBefore};
  const CheckAnswer a = answer(peer_check(IceRole::kControlling, 1, false, kOursBefore),
                               IceRole::kControlled, credentials);
  EXPECT_EQ(a.verdict, CheckAnswer::Verdict::kConsent);
  auto response = StunMessage::parse(a.response);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->message_class(), StunClass::kSuccessResponse);
  EXPECT_EQ(response->check_integrity(as_bytes(kOursBefore.pwd)), stun::IntegrityCheck::kValid);
  // The old ufrag with a wrong password is refused.
  const CheckAnswer forged = answer(
      peer_check(IceRole::kControlling, 1, false, {kOursBefore.ufrag, "wrong-password-012345"}),
      IceRole::kControlled, credentials);
  EXPECT_EQ(forged.verdict, CheckAnswer::Verdict::kRefused);
  // Checks under the current credentials are checks.
  EXPECT_EQ(answer(peer_check(IceRole::kControlling, 1), IceRole::kControlled, credentials).verdict,
            CheckAnswer::Verdict::kAccepted);
}

TEST(ConnectivityCheck, BeforeOurHalfOfTheRestartRequestsAreOnlyConsent) {
  const ResponderCredentials credentials{kOurs, nullptr, /*current_is_new_session=*/false};
  const CheckAnswer a =
      answer(peer_check(IceRole::kControlling, 1), IceRole::kControlled, credentials);
  EXPECT_EQ(a.verdict, CheckAnswer::Verdict::kConsent);
  auto response = StunMessage::parse(a.response);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->message_class(), StunClass::kSuccessResponse);
}

}  // namespace
}  // namespace rtcpp::ice
