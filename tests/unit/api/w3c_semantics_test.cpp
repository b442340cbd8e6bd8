// W3C WebRTC 1.0 semantics, each test following the spec text it names, through the public
// API and without a network (descriptions only).
#include <gtest/gtest.h>

#include <atomic>

#include "rtcpp/rtcpp.hpp"

namespace rtcpp {
namespace {

std::shared_ptr<RTCPeerConnection> make_pc() {
  RTCConfiguration config;
  config.gather_loopback = true;
  auto pc = RTCPeerConnection::create(std::move(config));
  EXPECT_TRUE(pc) << pc.error().to_string();
  return *pc;
}

void negotiate(RTCPeerConnection& offerer, RTCPeerConnection& answerer) {
  auto offer = offerer.create_offer().get();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(offerer.set_local_description(*offer).get());
  ASSERT_TRUE(answerer.set_remote_description(*offer).get());
  auto answer = answerer.create_answer().get();
  ASSERT_TRUE(answer);
  ASSERT_TRUE(answerer.set_local_description(*answer).get());
  ASSERT_TRUE(offerer.set_remote_description(*answer).get());
}

// W3C 4.4.1.5 setLocalDescription: with no sdp, [[LastCreatedOffer]] is used only if it still
// describes the current state; a second negotiation gets a new offer, not the first one.
TEST(W3cSemantics, ImplicitSetLocalDescriptionMakesAFreshOfferInASecondNegotiation) {
  auto a = make_pc();
  auto b = make_pc();
  ASSERT_TRUE(a->create_data_channel("x"));
  negotiate(*a, *b);
  const auto first = a->current_local_description();
  ASSERT_TRUE(first);
  ASSERT_TRUE(a->set_local_description().get());
  const auto second = a->pending_local_description();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, RTCSdpType::kOffer);
  // RFC 8866 5.2: the session version goes up with every new description.
  const auto version = [](const std::string& sdp) {
    const auto o = sdp.find("o=");
    return sdp.substr(o, sdp.find("\r\n", o) - o);
  };
  EXPECT_NE(version(second->sdp), version(first->sdp));
  a->close();
  b->close();
}

// W3C 4.4.1.6 restartIce: the credentials to replace are those of the local descriptions;
// without one there is nothing to replace and no negotiation is needed.
TEST(W3cSemantics, RestartIceWithoutALocalDescriptionNeedsNoNegotiation) {
  auto pc = make_pc();
  std::atomic<int> needed{0};
  pc->on_negotiation_needed([&] { ++needed; });
  pc->restart_ice();
  // A later operation runs after any task restartIce queued.
  ASSERT_TRUE(pc->create_offer().get());
  (void)pc->signaling_state();
  EXPECT_EQ(needed.load(), 0);
  pc->close();
}

// W3C 4.4.1.6 (setting a description): the RTCSctpTransport is created when a description
// that negotiates SCTP is applied, the offer included, not only once an answer is.
TEST(W3cSemantics, SctpTransportExistsOnceAnOfferWithDataIsApplied) {
  auto a = make_pc();
  auto b = make_pc();
  ASSERT_TRUE(a->create_data_channel("x"));
  EXPECT_EQ(a->sctp(), nullptr);
  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(a->set_local_description(*offer).get());
  EXPECT_NE(a->sctp(), nullptr);
  EXPECT_EQ(b->sctp(), nullptr);
  ASSERT_TRUE(b->set_remote_description(*offer).get());
  EXPECT_NE(b->sctp(), nullptr);
  // Rolled back before any answer: no description negotiates SCTP any more, but the object
  // the application may hold stays (as in browsers).
  a->close();
  b->close();
}

}  // namespace
}  // namespace rtcpp
