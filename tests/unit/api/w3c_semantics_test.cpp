// W3C WebRTC 1.0 semantics, each test following the spec text it names, through the public
// API: descriptions only, or two connections over loopback UDP.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/eventually.hpp"
#include "common/signaling.hpp"
#include "rtcpp/rtcpp.hpp"
#include "stun/stun_message.hpp"

namespace rtcpp {
namespace {

using test_support::make_pc;

using test_support::eventually;
using test_support::Signaling;

// The ICE transport of a connection that has one.
std::shared_ptr<RTCIceTransport> ice_of(const RTCPeerConnection& pc) {
  auto sctp = pc.sctp();
  if (!sctp) return nullptr;
  return sctp->transport()->ice_transport();
}

std::vector<std::string> candidate_lines(const std::vector<RTCIceCandidate>& candidates) {
  std::vector<std::string> out;
  for (const auto& c : candidates) out.push_back(c.candidate());
  return out;
}

// A STUN server on loopback behind a pretend NAT: it reports each request's source port on
// 127.0.0.2, so what it answers is a server-reflexive candidate and not the host one again.
class NatStunServer {
 public:
  NatStunServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      ADD_FAILURE() << "no STUN server socket";
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~NatStunServer() {
    stop_ = true;
    thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  NatStunServer(const NatStunServer&) = delete;
  NatStunServer& operator=(const NatStunServer&) = delete;
  std::string url() const { return "stun:127.0.0.1:" + std::to_string(port_); }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      std::uint8_t buffer[2048];
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const auto n =
          ::recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (n <= 0) continue;
      auto request = stun::StunMessage::parse(BytesView(buffer, static_cast<std::size_t>(n)));
      if (!request || request->message_class() != stun::StunClass::kRequest) continue;
      auto response =
          stun::StunMessageBuilder::response_to(*request, stun::StunClass::kSuccessResponse);
      response.add_xor_address(stun::attr::kXorMappedAddress,
                               SocketAddress(IpAddress::v4(127, 0, 0, 2), ntohs(from.sin_port)));
      const Buffer bytes = response.finish();
      ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&from), length);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

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

// W3C 5.6 getLocalCandidates: the candidates "gathered for this RTCIceTransport and sent in
// onicecandidate"; getRemoteCandidates: those "received ... via addIceCandidate()", never
// peer-reflexive ones.
TEST(W3cSemantics, IceTransportListsTheCandidatesSentAndReceived) {
  auto a = make_pc();
  auto b = make_pc();
  ASSERT_TRUE(a->create_data_channel("x"));
  std::mutex mutex;
  std::vector<std::string> sent_by_a;
  std::vector<std::string> listed_in_handler;
  std::atomic<bool> a_complete{false};
  Signaling signaling(a, b);
  signaling.observe([&](bool from_a, const RTCPeerConnectionIceEvent& e) {
    if (!from_a) return;
    if (!e.candidate) {
      a_complete = true;
      return;
    }
    if (e.candidate->candidate().empty()) return;
    std::lock_guard lock(mutex);
    sent_by_a.push_back(e.candidate->candidate());
    // The candidate is in the set when its event fires.
    auto ice = ice_of(*a);
    if (ice) listed_in_handler = candidate_lines(ice->get_local_candidates());
  });
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return a_complete.load(); }));
  ASSERT_TRUE(
      eventually([&] { return a->connection_state() == RTCPeerConnectionState::kConnected; }));
  auto a_ice = ice_of(*a);
  auto b_ice = ice_of(*b);
  ASSERT_TRUE(a_ice && b_ice);
  std::vector<std::string> sent;
  {
    std::lock_guard lock(mutex);
    sent = sent_by_a;
    EXPECT_EQ(listed_in_handler, sent);
  }
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(candidate_lines(a_ice->get_local_candidates()), sent);
  for (const auto& c : a_ice->get_local_candidates()) {
    EXPECT_EQ(c.sdp_mid(), std::optional<std::string>("0"));
    EXPECT_TRUE(c.username_fragment());
  }
  // b received every one of them by addIceCandidate (some, like TCP active candidates, are
  // never paired, but they were received all the same).
  const auto received = candidate_lines(b_ice->get_remote_candidates());
  for (const auto& line : sent)
    EXPECT_NE(std::find(received.begin(), received.end(), line), received.end()) << line;
  EXPECT_EQ(received.size(), sent.size());
  for (const auto& c : b_ice->get_remote_candidates())
    EXPECT_NE(c.type, std::optional(RTCIceCandidateType::kPrflx));
  a->close();
  b->close();
}

// W3C 4.8.1 / 4.8.2: the icecandidate event's url and RTCIceCandidate.url are the URL of the
// STUN or TURN server a "srflx" or "relay" candidate came from, null for host candidates;
// relayProtocol is null for all but relayed ones. webrtc-stats: the local-candidate's url.
TEST(W3cSemantics, ServerReflexiveCandidatesNameTheirStunServer) {
  NatStunServer stun;
  RTCConfiguration config;
  config.gather_loopback = true;
  config.ice_candidate_protocols = RTCIceCandidateProtocols::kUdpOnly;
  config.ice_servers.push_back({{stun.url()}, "", ""});
  auto created = RTCPeerConnection::create(std::move(config));
  ASSERT_TRUE(created) << created.error().to_string();
  auto pc = *created;
  ASSERT_TRUE(pc->create_data_channel("x"));
  std::mutex mutex;
  std::vector<RTCPeerConnectionIceEvent> events;
  std::atomic<bool> complete{false};
  pc->on_ice_candidate([&](const RTCPeerConnectionIceEvent& e) {
    if (!e.candidate) {
      complete = true;
      return;
    }
    std::lock_guard lock(mutex);
    events.push_back(e);
  });
  ASSERT_TRUE(pc->set_local_description().get());
  ASSERT_TRUE(eventually([&] { return complete.load(); }));
  std::size_t srflx = 0;
  std::size_t host = 0;
  {
    std::lock_guard lock(mutex);
    for (const auto& e : events) {
      ASSERT_TRUE(e.candidate);
      EXPECT_FALSE(e.candidate->relay_protocol);
      if (e.candidate->type == RTCIceCandidateType::kSrflx) {
        ++srflx;
        EXPECT_EQ(e.url, std::optional(stun.url()));
        EXPECT_EQ(e.candidate->url, std::optional(stun.url()));
        EXPECT_EQ(e.candidate->address, std::optional<std::string>("127.0.0.2"));
      } else {
        ++host;
        EXPECT_FALSE(e.url);
        EXPECT_FALSE(e.candidate->url);
      }
      // Local examination only: the signaling form has no url.
      EXPECT_EQ(e.candidate->to_json().candidate, e.candidate->candidate());
    }
  }
  EXPECT_GE(srflx, 1u);
  EXPECT_GE(host, 1u);
  for (const auto& c : ice_of(*pc)->get_local_candidates()) {
    if (c.type == RTCIceCandidateType::kSrflx) {
      EXPECT_EQ(c.url, std::optional(stun.url()));
    }
  }
  std::size_t srflx_stats = 0;
  const auto report = pc->get_stats().get();
  for (const auto& [id, s] : report) {
    if (s.type != "local-candidate") continue;
    if (s.get<std::string>("candidateType") == "srflx") {
      ++srflx_stats;
      EXPECT_EQ(s.get<std::string>("url"), std::optional(stun.url()));
    } else {
      EXPECT_FALSE(s.get<std::string>("url")) << id;
    }
    EXPECT_FALSE(s.get<std::string>("relayProtocol")) << id;
  }
  EXPECT_EQ(srflx_stats, srflx);
  pc->close();
}

bool has_line(const std::optional<RTCSessionDescriptionInit>& d, const std::string& line) {
  return d && d->sdp.find("\r\n" + line + "\r\n") != std::string::npos;
}

// W3C 4.4.1.6 addIceCandidate: a candidate applied is added to [[PendingRemoteDescription]]
// and [[CurrentRemoteDescription]] when they are of its ICE generation; the end of candidates
// adds a=end-of-candidates.
TEST(W3cSemantics, AddedCandidatesJoinTheRemoteDescriptions) {
  auto a = make_pc();
  auto b = make_pc();
  ASSERT_TRUE(a->create_data_channel("x"));
  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(a->set_local_description(*offer).get());
  ASSERT_TRUE(b->set_remote_description(*offer).get());
  const std::string by_mid = "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host";
  const std::string by_index =
      "candidate:2 1 udp 1686052607 198.51.100.7 50001 typ srflx raddr "
      "192.0.2.1 rport 50000";
  ASSERT_TRUE(b->add_ice_candidate({by_mid, "0", std::nullopt, std::nullopt}).get());
  ASSERT_TRUE(b->add_ice_candidate({by_index, std::nullopt, 0, std::nullopt}).get());
  EXPECT_TRUE(has_line(b->pending_remote_description(), "a=" + by_mid));
  EXPECT_TRUE(has_line(b->pending_remote_description(), "a=" + by_index));
  EXPECT_TRUE(has_line(b->remote_description(), "a=" + by_mid));
  EXPECT_FALSE(b->current_remote_description());
  // Added once, however often it comes.
  ASSERT_TRUE(b->add_ice_candidate({by_mid, "0", std::nullopt, std::nullopt}).get());
  const auto sdp = b->pending_remote_description()->sdp;
  EXPECT_EQ(sdp.find("a=" + by_mid), sdp.rfind("a=" + by_mid));
  // Hostile text never reaches the description: it is rejected, or written as parsed.
  (void)b
      ->add_ice_candidate({"candidate:3 1 udp 1 192.0.2.9 5000 typ host\r\na=ice-lite", "0",
                           std::nullopt, std::nullopt})
      .get();
  EXPECT_EQ(b->pending_remote_description()->sdp.find("ice-lite"), std::string::npos);
  // A candidate of another generation (usernameFragment) is refused and not added.
  EXPECT_FALSE(b->add_ice_candidate({"candidate:4 1 udp 1 192.0.2.4 5000 typ host", "0",
                                     std::nullopt, std::string("not-the-ufrag")})
                   .get());
  EXPECT_FALSE(
      has_line(b->pending_remote_description(), "a=candidate:4 1 udp 1 192.0.2.4 5000 typ host"));
  ASSERT_TRUE(b->add_ice_candidate({"", "0", std::nullopt, std::nullopt}).get());
  EXPECT_TRUE(has_line(b->pending_remote_description(), "a=end-of-candidates"));

  // The answer makes the pending offer current, candidates and all; later candidates join it.
  ASSERT_TRUE(b->set_local_description().get());
  EXPECT_FALSE(b->pending_remote_description());
  EXPECT_TRUE(has_line(b->current_remote_description(), "a=" + by_mid));
  EXPECT_TRUE(has_line(b->current_remote_description(), "a=end-of-candidates"));
  const std::string late = "candidate:5 1 udp 2122260223 192.0.2.5 50005 typ host";
  ASSERT_TRUE(b->add_ice_candidate({late, "0", std::nullopt, std::nullopt}).get());
  EXPECT_TRUE(has_line(b->current_remote_description(), "a=" + late));
  EXPECT_TRUE(has_line(b->remote_description(), "a=" + late));
  a->close();
  b->close();
}

// W3C 4.3.1 surface a candidate / end of gathering: the local descriptions gain each
// candidate as it is surfaced, and a=end-of-candidates once the generation is gathered.
TEST(W3cSemantics, LocalDescriptionsGainGatheredCandidatesAndTheirEnd) {
  auto pc = make_pc();
  ASSERT_TRUE(pc->create_data_channel("x"));
  std::mutex mutex;
  std::vector<std::string> surfaced;
  std::atomic<bool> complete{false};
  std::atomic<bool> in_description{true};
  pc->on_ice_candidate([&](const RTCPeerConnectionIceEvent& e) {
    if (!e.candidate) {
      complete = true;
      return;
    }
    if (e.candidate->candidate().empty()) return;  // the end of candidates
    // Already in the description when its event fires.
    if (!has_line(pc->pending_local_description(), "a=" + e.candidate->candidate()))
      in_description = false;
    std::lock_guard lock(mutex);
    surfaced.push_back(e.candidate->candidate());
  });
  ASSERT_TRUE(pc->set_local_description().get());
  ASSERT_TRUE(eventually([&] { return complete.load(); }));
  EXPECT_TRUE(in_description.load());
  const auto local = pc->local_description();
  std::lock_guard lock(mutex);
  ASSERT_FALSE(surfaced.empty());
  for (const auto& line : surfaced) EXPECT_TRUE(has_line(local, "a=" + line)) << line;
  EXPECT_TRUE(has_line(local, "a=end-of-candidates"));
  EXPECT_TRUE(has_line(pc->pending_local_description(), "a=end-of-candidates"));
  pc->close();
}

// W3C 4.3.1 (ICE gathering finished) and 4.8.1 (the icecandidate event's three uses): when a
// generation's gathering finishes, a=end-of-candidates joins the local description and an
// icecandidate event carries a candidate whose candidate is "", with the transport's sdpMid and
// sdpMLineIndex and the generation's usernameFragment; in a later task the gathering state
// becomes "complete" (gatheringstatechange, icegatheringstatechange), then the legacy event
// with a null candidate.
TEST(W3cSemantics, GatheringEndsWithAnEmptyCandidateThenANullOne) {
  auto pc = make_pc();
  ASSERT_TRUE(pc->create_data_channel("x"));
  std::mutex mutex;
  std::vector<std::string> events;  // "candidate", "end", "complete", "null"
  std::optional<RTCIceCandidate> end;
  std::optional<std::string> ufrag;
  bool end_in_description = false;
  std::optional<RTCIceGatheringState> state_at_end;
  std::atomic<bool> complete{false};
  pc->on_ice_candidate([&](const RTCPeerConnectionIceEvent& e) {
    std::lock_guard lock(mutex);
    if (!e.candidate) {
      events.emplace_back("null");
      complete = true;
    } else if (e.candidate->candidate().empty()) {
      events.emplace_back("end");
      end = *e.candidate;
      end_in_description = has_line(pc->pending_local_description(), "a=end-of-candidates");
      state_at_end = pc->ice_gathering_state();
    } else {
      events.emplace_back("candidate");
      ufrag = e.candidate->username_fragment();
    }
  });
  pc->on_ice_gathering_state_change([&] {
    std::lock_guard lock(mutex);
    if (pc->ice_gathering_state() == RTCIceGatheringState::kComplete)
      events.emplace_back("complete");
  });
  ASSERT_TRUE(pc->set_local_description().get());
  ASSERT_TRUE(eventually([&] { return complete.load(); }));
  std::lock_guard lock(mutex);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(std::count(events.begin(), events.end(), "end"), 1);
  EXPECT_EQ(std::vector<std::string>(events.end() - 3, events.end()),
            (std::vector<std::string>{"end", "complete", "null"}));
  ASSERT_TRUE(end);
  EXPECT_EQ(end->sdp_mid(), std::optional<std::string>("0"));
  EXPECT_EQ(end->sdp_m_line_index(), std::optional<std::uint16_t>(0));
  ASSERT_TRUE(ufrag);
  EXPECT_EQ(end->username_fragment(), ufrag);
  EXPECT_TRUE(end_in_description);
  EXPECT_EQ(state_at_end, std::optional(RTCIceGatheringState::kGathering));
  // Signaled like a candidate: toJSON() is what addIceCandidate takes for the end.
  EXPECT_EQ(end->to_json().candidate, "");
  pc->close();
}

// W3C 6.1.1 update the data max message size: [[MaxMessageSize]] is null until an answer
// negotiates SCTP, then the remote a=max-message-size (65536 when absent) against canSendSize
// (rtcpp's send buffer, 64 MiB); the local a=max-message-size (what we receive) plays no part.
TEST(W3cSemantics, MaxMessageSizeIsThePeersLimit) {
  const auto max_message_size_for = [](std::optional<std::string> remote_line) {
    auto a = make_pc();
    auto b = make_pc();
    EXPECT_TRUE(a->create_data_channel("x"));
    auto offer = a->create_offer().get();
    EXPECT_TRUE(offer && a->set_local_description(*offer).get());
    EXPECT_TRUE(b->set_remote_description(*offer).get());
    EXPECT_FALSE(a->sctp()->max_message_size());  // null before the answer
    auto answer = b->create_answer().get();
    EXPECT_TRUE(answer && b->set_local_description(*answer).get());
    const std::string ours = "a=max-message-size:262144\r\n";
    const auto at = answer->sdp.find(ours);
    EXPECT_NE(at, std::string::npos);
    answer->sdp.replace(at, ours.size(), remote_line ? *remote_line + "\r\n" : "");
    EXPECT_TRUE(a->set_remote_description(*answer).get());
    auto size = a->sctp()->max_message_size();
    a->close();
    b->close();
    return size;
  };
  EXPECT_EQ(max_message_size_for("a=max-message-size:1048576"), 1048576.0);
  EXPECT_EQ(max_message_size_for("a=max-message-size:1000"), 1000.0);
  EXPECT_EQ(max_message_size_for(std::nullopt), 65536.0);
  // "Any size": the larger of it and canSendSize, which is our send buffer.
  EXPECT_EQ(max_message_size_for("a=max-message-size:0"), 64.0 * 1024 * 1024);
  EXPECT_EQ(max_message_size_for("a=max-message-size:1073741823"), 64.0 * 1024 * 1024);
}

// W3C 6.2.5 send(): TypeError above the transport's maxMessageSize, which is the peer's limit
// even when it is above what this side receives.
TEST(W3cSemantics, SendTakesMessagesUpToThePeersLimit) {
  RTCConfiguration large;
  large.gather_loopback = true;
  large.max_message_size = 1024 * 1024;
  auto a = make_pc();  // receives 256 KiB (the default)
  auto b_created = RTCPeerConnection::create(large);
  ASSERT_TRUE(b_created);
  auto b = *b_created;
  auto channel = a->create_data_channel("x");
  ASSERT_TRUE(channel);
  std::atomic<std::size_t> received{0};
  std::shared_ptr<RTCDataChannel> remote;
  std::mutex mutex;
  b->on_data_channel([&](std::shared_ptr<RTCDataChannel> c) {
    c->on_message([&](const RTCMessageEvent& m) { received = m.data.size(); });
    std::lock_guard lock(mutex);
    remote = c;
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return (*channel)->ready_state() == RTCDataChannelState::kOpen; }));
  EXPECT_EQ(a->sctp()->max_message_size(), 1024.0 * 1024);
  EXPECT_EQ(b->sctp()->max_message_size(), 256.0 * 1024);
  const std::vector<std::uint8_t> half_mib(512 * 1024, 7);
  ASSERT_TRUE((*channel)->send(std::span<const std::uint8_t>(half_mib)));
  ASSERT_TRUE(eventually([&] { return received.load() == half_mib.size(); }));
  const std::vector<std::uint8_t> too_large(1024 * 1024 + 1);
  EXPECT_EQ((*channel)->send(std::span<const std::uint8_t>(too_large)).error().type(),
            RTCErrorType::kTypeError);
  std::shared_ptr<RTCDataChannel> back;
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    back = remote;
    return back != nullptr;
  }));
  EXPECT_EQ(back->send(std::span<const std::uint8_t>(half_mib)).error().type(),
            RTCErrorType::kTypeError);
  a->close();
  b->close();
}

// W3C 4.4.1.5 set a session description: "rollback" is refused (InvalidStateError) in
// stable, have-local-pranswer and have-remote-pranswer only; in have-local-offer and
// have-remote-offer either method rolls back the pending offer.
TEST(W3cSemantics, RollbackWorksThroughEitherMethodWhileAnOfferIsPending) {
  const RTCSessionDescriptionInit rollback{RTCSdpType::kRollback, ""};
  auto a = make_pc();
  auto b = make_pc();
  ASSERT_TRUE(a->create_data_channel("x"));
  // Stable: nothing to roll back.
  EXPECT_EQ(a->set_local_description(rollback).get().error().type(),
            RTCErrorType::kInvalidStateError);
  EXPECT_EQ(a->set_remote_description(rollback).get().error().type(),
            RTCErrorType::kInvalidStateError);
  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(a->set_local_description(*offer).get());
  // have-local-offer, rolled back by setRemoteDescription.
  auto rolled = a->set_remote_description(rollback).get();
  ASSERT_TRUE(rolled) << rolled.error().to_string();
  EXPECT_EQ(a->signaling_state(), RTCSignalingState::kStable);
  EXPECT_FALSE(a->pending_local_description());
  // have-remote-offer, rolled back by setLocalDescription.
  offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(b->set_remote_description(*offer).get());
  EXPECT_EQ(b->signaling_state(), RTCSignalingState::kHaveRemoteOffer);
  rolled = b->set_local_description(rollback).get();
  ASSERT_TRUE(rolled) << rolled.error().to_string();
  EXPECT_EQ(b->signaling_state(), RTCSignalingState::kStable);
  EXPECT_FALSE(b->pending_remote_description());
  EXPECT_FALSE(b->remote_description());
  // have-local-pranswer: refused either way.
  ASSERT_TRUE(b->set_remote_description(*offer).get());
  auto answer = b->create_answer().get();
  ASSERT_TRUE(answer);
  ASSERT_TRUE(
      b->set_local_description(RTCSessionDescriptionInit{RTCSdpType::kPranswer, answer->sdp})
          .get());
  EXPECT_EQ(b->signaling_state(), RTCSignalingState::kHaveLocalPranswer);
  EXPECT_EQ(b->set_local_description(rollback).get().error().type(),
            RTCErrorType::kInvalidStateError);
  EXPECT_EQ(b->set_remote_description(rollback).get().error().type(),
            RTCErrorType::kInvalidStateError);
  a->close();
  b->close();
}

// W3C 4.4.1.2 chain an operation: an operation chained before close() never settles (its
// steps abort once [[IsClosed]] is true), even when close() comes before it runs; one chained
// after close() is rejected with InvalidStateError.
TEST(W3cSemantics, CallbackOperationsChainedBeforeCloseNeverSettle) {
  auto pc = make_pc();
  RTCPeerConnection* raw = pc.get();
  std::atomic<bool> in_handler{false};
  std::promise<void> chained;
  auto chained_future = chained.get_future();
  // The loop thread waits in a handler while this thread chains an operation; the handler then
  // closes the connection, before the operation runs.
  pc->on_negotiation_needed([&, raw] {
    in_handler = true;
    chained_future.wait();
    raw->close();
  });
  ASSERT_TRUE(pc->create_data_channel("x"));
  ASSERT_TRUE(eventually([&] { return in_handler.load(); }));
  std::atomic<int> offers{0};
  std::atomic<int> candidates{0};
  pc->create_offer([&](Result<RTCSessionDescriptionInit>) { ++offers; });
  pc->add_ice_candidate({"", "0", std::nullopt, std::nullopt}, [&](Result<>) { ++candidates; });
  chained.set_value();
  // Chained after close(): rejected, and after the ones before it would have settled.
  std::promise<Result<RTCSessionDescriptionInit>> after;
  auto after_future = after.get_future();
  ASSERT_TRUE(eventually([&] { return pc->signaling_state() == RTCSignalingState::kClosed; }));
  pc->create_offer([&](Result<RTCSessionDescriptionInit> r) { after.set_value(std::move(r)); });
  ASSERT_EQ(after_future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto rejected = after_future.get();
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().type(), RTCErrorType::kInvalidStateError);
  EXPECT_EQ(offers.load(), 0);
  EXPECT_EQ(candidates.load(), 0);
}

// W3C 6.2 bufferedAmount: send() increases it at once; it is reduced by tasks queued when
// the transport sends from its queue, so it "MUST NOT be decreased before the current task
// yielded back to the event loop"; "the slot does not reset to zero once the channel closes".
TEST(W3cSemantics, BufferedAmountFallsOnlyInItsOwnTasksAndOutlivesTheChannel) {
  auto a = make_pc();
  auto b = make_pc();
  auto created = a->create_data_channel("x");
  ASSERT_TRUE(created);
  auto channel = *created;
  std::atomic<int> low_events{0};
  channel->on_buffered_amount_low([&] { ++low_events; });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return channel->ready_state() == RTCDataChannelState::kOpen; }));

  // Out of any task: it rises by what is sent, falls to zero as it leaves, and
  // bufferedamountlow fires once it reaches the threshold (0) from above.
  const std::vector<std::uint8_t> chunk(64 * 1024, 1);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(channel->send(std::span<const std::uint8_t>(chunk)));
  ASSERT_TRUE(eventually([&] { return channel->buffered_amount() == 0; }));
  ASSERT_TRUE(eventually([&] { return low_events.load() >= 1; }));

  // Within one task on the loop thread (an operation's callback): sends, work that makes the
  // transport send (creating a channel kicks it), and close() leave it where send() put it.
  std::promise<std::vector<std::size_t>> seen;
  auto seen_future = seen.get_future();
  RTCPeerConnection* raw = a.get();
  a->create_offer([&, raw](Result<RTCSessionDescriptionInit>) {
    std::vector<std::size_t> amounts;
    for (int i = 0; i < 32; ++i) (void)channel->send(std::span<const std::uint8_t>(chunk));
    amounts.push_back(channel->buffered_amount());
    (void)raw->create_data_channel("kick");
    amounts.push_back(channel->buffered_amount());
    raw->close();
    amounts.push_back(channel->buffered_amount());
    seen.set_value(amounts);
  });
  ASSERT_EQ(seen_future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto amounts = seen_future.get();
  const std::size_t queued = 32 * chunk.size();
  EXPECT_EQ(amounts, (std::vector<std::size_t>{queued, queued, queued}));
  EXPECT_EQ(channel->ready_state(), RTCDataChannelState::kClosed);
  EXPECT_EQ(channel->buffered_amount(), queued);
  b->close();
}

// webrtc-stats 7.17 / 8.x: a closed channel's data-channel stats stay in the report (state
// "closed"), and a later channel, on the same stream with the same label, gets an id of its
// own (stats ids are never reused for another object).
TEST(W3cSemantics, ClosedChannelsStayInTheStatsUnderIdsOfTheirOwn) {
  auto a = make_pc();
  auto b = make_pc();
  auto first = a->create_data_channel("x");
  ASSERT_TRUE(first);
  std::atomic<int> received{0};
  b->on_data_channel([&](std::shared_ptr<RTCDataChannel> c) {
    c->on_message([&](const RTCMessageEvent&) { ++received; });
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return (*first)->ready_state() == RTCDataChannelState::kOpen; }));
  ASSERT_TRUE((*first)->send("hello"));
  ASSERT_TRUE(eventually([&] { return received.load() == 1; }));
  (*first)->close();
  ASSERT_TRUE(eventually([&] { return (*first)->ready_state() == RTCDataChannelState::kClosed; }));
  auto second = a->create_data_channel("x");
  ASSERT_TRUE(second);
  ASSERT_TRUE(eventually([&] { return (*second)->ready_state() == RTCDataChannelState::kOpen; }));
  const auto report = a->get_stats().get();
  std::vector<const RTCStats*> channels;
  for (const auto& [id, s] : report) {
    if (s.type == "data-channel") channels.push_back(&s);
  }
  ASSERT_EQ(channels.size(), 2u);
  EXPECT_NE(channels[0]->id, channels[1]->id);
  const RTCStats* closed =
      channels[0]->get<std::string>("state") == "closed" ? channels[0] : channels[1];
  const RTCStats* open = closed == channels[0] ? channels[1] : channels[0];
  EXPECT_EQ(closed->get<std::string>("state"), "closed");
  EXPECT_EQ(closed->get<std::uint64_t>("messagesSent"), 1u);
  EXPECT_EQ(closed->get<std::uint64_t>("bytesSent"), 5u);
  EXPECT_EQ(open->get<std::string>("state"), "open");
  EXPECT_EQ(open->get<std::uint64_t>("messagesSent"), 0u);
  EXPECT_EQ(open->get<std::string>("label"), "x");
  a->close();
  b->close();
}

// webrtc-stats 7.20 RTCTransportStats bytesSent / bytesReceived: "payload bytes ... not
// including headers, padding or ICE connectivity checks". A connection that has only checked
// (no pair selected, so no DTLS yet) has sent and received none.
TEST(W3cSemantics, TransportBytesLeaveOutIceChecks) {
  auto a = make_pc();
  auto b = make_pc();
  ASSERT_TRUE(a->create_data_channel("x"));
  std::mutex mutex;
  std::vector<RTCIceCandidateInit> from_a;
  std::atomic<bool> a_complete{false};
  a->on_ice_candidate([&](const RTCPeerConnectionIceEvent& e) {
    if (!e.candidate) {
      a_complete = true;
      return;
    }
    std::lock_guard lock(mutex);
    from_a.push_back(e.candidate->to_json());
  });
  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  ASSERT_TRUE(a->set_local_description(*offer).get());
  ASSERT_TRUE(eventually([&] { return a_complete.load(); }));
  // b checks a's candidates; a, without b's answer, never nominates a pair.
  ASSERT_TRUE(b->set_remote_description(*offer).get());
  {
    std::lock_guard lock(mutex);
    for (const auto& c : from_a) ASSERT_TRUE(b->add_ice_candidate(c).get());
  }
  ASSERT_TRUE(b->set_local_description().get());
  const auto transport_of = [](RTCPeerConnection& pc) -> std::optional<RTCStats> {
    const auto report = pc.get_stats().get();
    if (const RTCStats* t = report.get("T01")) return *t;
    return std::nullopt;
  };
  // Checks went both ways: b's requests reached a, whose responses (or its own triggered checks)
  // came back; none of that is payload.
  ASSERT_TRUE(eventually([&] {
    const auto report = b->get_stats().get();
    for (const auto& [id, s] : report) {
      if (s.type == "remote-candidate") return true;
    }
    return false;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_NE(b->sctp()->transport()->state(), RTCDtlsTransportState::kConnected);
  for (auto* pc : {a.get(), b.get()}) {
    const auto t = transport_of(*pc);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->get<std::uint64_t>("bytesSent"), 0u);
    EXPECT_EQ(t->get<std::uint64_t>("bytesReceived"), 0u);
  }
  // Once connected, the DTLS and SCTP traffic counts.
  auto answer = b->local_description();
  ASSERT_TRUE(answer);
  ASSERT_TRUE(a->set_remote_description(*answer).get());
  ASSERT_TRUE(
      eventually([&] { return a->connection_state() == RTCPeerConnectionState::kConnected; }));
  const auto t = transport_of(*a);
  ASSERT_TRUE(t);
  EXPECT_GT(t->get<std::uint64_t>("bytesSent").value_or(0), 0u);
  EXPECT_GT(t->get<std::uint64_t>("bytesReceived").value_or(0), 0u);
  a->close();
  b->close();
}

// webrtc-stats 7.19 RTCIceCandidatePairStats: a candidate-pair object for every pair, not
// only the selected one, each with its own requestsSent, responsesReceived, requestsReceived,
// responsesSent, totalRoundTripTime and (once one was measured) currentRoundTripTime.
TEST(W3cSemantics, EveryCandidatePairHasItsOwnCheckStats) {
  auto a = make_pc();
  auto b = make_pc();
  ASSERT_TRUE(a->create_data_channel("x"));
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(
      eventually([&] { return a->connection_state() == RTCPeerConnectionState::kConnected; }));
  const auto report = a->get_stats().get();
  const RTCStats* transport = report.get("T01");
  ASSERT_NE(transport, nullptr);
  const auto selected_id = transport->get<std::string>("selectedCandidatePairId");
  ASSERT_TRUE(selected_id);
  std::size_t pairs = 0;
  for (const auto& [id, s] : report) {
    if (s.type != "candidate-pair") continue;
    ++pairs;
    for (const char* member : {"requestsSent", "responsesReceived", "requestsReceived",
                               "responsesSent", "bytesSent", "bytesReceived"})
      EXPECT_TRUE(s.get<std::uint64_t>(member)) << id << " " << member;
    EXPECT_TRUE(s.get<double>("totalRoundTripTime")) << id;
    ASSERT_TRUE(s.get<std::string>("localCandidateId"));
    ASSERT_TRUE(s.get<std::string>("remoteCandidateId"));
    EXPECT_NE(report.get(*s.get<std::string>("localCandidateId")), nullptr) << id;
    EXPECT_NE(report.get(*s.get<std::string>("remoteCandidateId")), nullptr) << id;
    if (id == *selected_id) {
      // a is controlling: it checked and nominated this pair, and had answers.
      EXPECT_GE(s.get<std::uint64_t>("requestsSent").value_or(0), 1u);
      EXPECT_GE(s.get<std::uint64_t>("responsesReceived").value_or(0), 1u);
      ASSERT_TRUE(s.get<double>("currentRoundTripTime"));
      EXPECT_GE(*s.get<double>("totalRoundTripTime"), *s.get<double>("currentRoundTripTime"));
      EXPECT_GT(s.get<std::uint64_t>("bytesSent").value_or(0), 0u);
    } else {
      // The data went over the selected pair only.
      EXPECT_EQ(s.get<std::uint64_t>("bytesSent"), 0u) << id;
    }
  }
  // Host UDP and ICE-TCP candidates on both sides: more than the one selected pair.
  EXPECT_GE(pairs, 2u);
  a->close();
  b->close();
}

}  // namespace
}  // namespace rtcpp
