// Gathering on its own: host, server-reflexive and relayed candidates, the gathering state,
// the STUN server queries it hands out, and TURN allocations answered by a scripted server.
#include "ice/gatherer.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "stun/stun_auth.hpp"

namespace rtcpp::ice {
namespace {

using stun::StunClass;
using stun::StunMessage;
using stun::StunMessageBuilder;
namespace attr = stun::attr;

const SocketAddress kHostV4 = *SocketAddress::parse("10.0.0.1:5000");
const SocketAddress kHostV4b = *SocketAddress::parse("10.0.0.3:5002");
const SocketAddress kHostV6 = *SocketAddress::parse("[2001:db8::1]:5001");
const SocketAddress kLoopback = *SocketAddress::parse("127.0.0.1:5003");
const SocketAddress kListen = *SocketAddress::parse("10.0.0.1:7000");
const SocketAddress kStunServer = *SocketAddress::parse("198.51.100.1:3478");
const SocketAddress kTurnServer = *SocketAddress::parse("198.51.100.2:3478");
const SocketAddress kPublic = *SocketAddress::parse("203.0.113.9:40000");
const SocketAddress kRelayed = *SocketAddress::parse("198.51.100.2:50000");
const SocketAddress kPeer = *SocketAddress::parse("203.0.113.77:6000");

struct Fixture {
  explicit Fixture(IceConfig config = {}) : gatherer(config, "ufrag1", rng) {}

  SeededRandom rng{3};
  Gatherer gatherer;
  std::deque<IceEvent> events;

  std::vector<Candidate> candidate_events() {
    std::vector<Candidate> out;
    for (const auto& e : events) {
      if (auto* c = std::get_if<IceLocalCandidateEvent>(&e)) out.push_back(c->candidate);
    }
    return out;
  }
  const IceLocalCandidateEvent* last_candidate_event() {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (auto* c = std::get_if<IceLocalCandidateEvent>(&*it)) return c;
    }
    return nullptr;
  }
  std::vector<IceGatheringState> state_events() {
    std::vector<IceGatheringState> out;
    for (const auto& e : events) {
      if (auto* s = std::get_if<IceGatheringStateEvent>(&e)) out.push_back(s->state);
    }
    return out;
  }
  // A STUN server's success response to `query`, reporting `mapped`.
  void answer(const Gatherer::StunQuery& query, const SocketAddress& mapped) {
    auto request = StunMessage::parse(query.request);
    ASSERT_TRUE(request);
    auto b = StunMessageBuilder::response_to(*request, StunClass::kSuccessResponse);
    b.add_xor_address(attr::kXorMappedAddress, mapped);
    const Buffer response = b.finish();
    gatherer.on_stun_response(query.query, *StunMessage::parse(response), events);
  }
};

TEST(Gatherer, UdpHostCandidatesPreferIpv6ThenTheOrderOfTheSockets) {
  Fixture f;
  EXPECT_EQ(f.gatherer.state(), IceGatheringState::kNew);
  ASSERT_TRUE(f.gatherer.add_host_address(kHostV4, Timestamp::zero(), f.events));
  ASSERT_TRUE(f.gatherer.add_host_address(kHostV4b, Timestamp::zero(), f.events));
  ASSERT_TRUE(f.gatherer.add_host_address(kHostV6, Timestamp::zero(), f.events));
  EXPECT_FALSE(f.gatherer.add_host_address(kHostV4, Timestamp::zero(), f.events));  // known

  const auto& locals = f.gatherer.candidates();
  ASSERT_EQ(locals.size(), 3u);
  for (const auto& l : locals) {
    EXPECT_EQ(l.candidate.type, CandidateType::kHost);
    EXPECT_EQ(l.candidate.ufrag, "ufrag1");
    EXPECT_EQ(l.candidate.generation, 0u);
    EXPECT_EQ(l.candidate.socket_address(), l.base);
    EXPECT_FALSE(l.turn);
  }
  // RFC 8445 5.1.2.1 with RFC 8421: IPv6 first, then the order the sockets came in.
  EXPECT_GT(locals[2].candidate.priority, locals[0].candidate.priority);
  EXPECT_GT(locals[0].candidate.priority, locals[1].candidate.priority);
  EXPECT_EQ(locals[0].candidate.priority >> 24, 126u);
  // RFC 8445 5.1.1.3: a foundation per base IP.
  EXPECT_NE(locals[0].candidate.foundation, locals[1].candidate.foundation);
  EXPECT_EQ(f.candidate_events().size(), 3u);
  EXPECT_EQ(f.state_events(), std::vector{IceGatheringState::kGathering});
  EXPECT_EQ(f.gatherer.find_by_base(kHostV4b), 1u);
  EXPECT_FALSE(f.gatherer.find_by_base(kPublic));

  f.gatherer.finish_host_addresses(f.events);
  EXPECT_EQ(f.gatherer.state(), IceGatheringState::kComplete);
}

TEST(Gatherer, StunServerQueriesBringServerReflexiveCandidates) {
  Fixture f;
  f.gatherer.add_stun_server(kStunServer, "stun:198.51.100.1");
  f.gatherer.add_stun_server(kStunServer, "stun:other");  // once only
  f.gatherer.add_host_address(kHostV4, Timestamp::zero(), f.events);
  f.gatherer.add_host_address(kLoopback, Timestamp::zero(), f.events);  // cannot reach it
  f.gatherer.add_host_address(kHostV6, Timestamp::zero(), f.events);    // other family
  auto query = f.gatherer.poll_stun_query();
  ASSERT_TRUE(query);
  EXPECT_FALSE(f.gatherer.poll_stun_query());
  EXPECT_EQ(query->base, kHostV4);
  EXPECT_EQ(query->server, kStunServer);
  auto request = StunMessage::parse(query->request);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->message_class(), StunClass::kRequest);
  EXPECT_EQ(request->method(), stun::method::kBinding);
  EXPECT_EQ(request->transaction_id(), query->id);
  EXPECT_TRUE(request->fingerprint_valid());

  // Gathering waits for the server.
  f.gatherer.finish_host_addresses(f.events);
  EXPECT_EQ(f.gatherer.state(), IceGatheringState::kGathering);
  f.answer(*query, kPublic);
  EXPECT_EQ(f.gatherer.state(), IceGatheringState::kComplete);

  // W3C RTCIceCandidate.url: the server it came from; relayProtocol only for relayed ones.
  const auto* event = f.last_candidate_event();
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->candidate.type, CandidateType::kServerReflexive);
  EXPECT_EQ(event->url, "stun:198.51.100.1");
  EXPECT_EQ(event->relay_protocol, "");
  EXPECT_EQ(f.gatherer.candidates().front().url, "");  // the host candidate
  const LocalCandidate& srflx = f.gatherer.candidates().back();
  EXPECT_EQ(srflx.url, "stun:198.51.100.1");
  EXPECT_EQ(srflx.candidate.type, CandidateType::kServerReflexive);
  EXPECT_EQ(srflx.candidate.socket_address(), kPublic);
  EXPECT_EQ(srflx.candidate.related_address, "10.0.0.1");
  EXPECT_EQ(srflx.candidate.related_port, 5000);
  EXPECT_EQ(srflx.base, kHostV4);  // it sends from its host's socket
  EXPECT_EQ(srflx.candidate.priority >> 24, 100u);
  // The host, not the server-reflexive candidate, is the one that sends from that base.
  EXPECT_EQ(f.gatherer.find_by_base(kHostV4), 0u);
}

TEST(Gatherer, NoServerReflexiveCandidateWithoutANatOrTwiceForOneMapping) {
  Fixture f;
  f.gatherer.add_host_address(kHostV4, Timestamp::zero(), f.events);
  f.gatherer.add_host_address(kHostV4b, Timestamp::zero(), f.events);
  f.gatherer.add_stun_server(kStunServer);
  auto first = f.gatherer.poll_stun_query();
  auto second = f.gatherer.poll_stun_query();
  ASSERT_TRUE(first && second);
  f.answer(*first, kHostV4);  // no NAT in between: no news
  EXPECT_EQ(f.gatherer.candidates().size(), 2u);
  f.answer(*second, kPublic);
  // Another query (another server) reporting the same mapping adds nothing.
  f.gatherer.add_stun_server(*SocketAddress::parse("198.51.100.9:3478"));
  auto third = f.gatherer.poll_stun_query();
  ASSERT_TRUE(third);
  f.answer(*third, kPublic);
  EXPECT_EQ(f.gatherer.candidates().size(), 3u);
}

TEST(Gatherer, AnUnansweredQueryStillEndsGathering) {
  Fixture f;
  f.gatherer.add_stun_server(kStunServer);
  f.gatherer.add_host_address(kHostV4, Timestamp::zero(), f.events);
  ASSERT_TRUE(f.gatherer.poll_stun_query());
  f.gatherer.finish_host_addresses(f.events);
  EXPECT_EQ(f.gatherer.state(), IceGatheringState::kGathering);
  f.gatherer.on_stun_timeout(f.events);
  EXPECT_EQ(f.gatherer.state(), IceGatheringState::kComplete);
  EXPECT_EQ(f.state_events(),
            (std::vector{IceGatheringState::kGathering, IceGatheringState::kComplete}));
}

TEST(Gatherer, TcpListenerGivesAnActiveAndAPassiveCandidate) {
  Fixture f;
  ASSERT_TRUE(f.gatherer.add_tcp_host_address(kListen, f.events));
  EXPECT_FALSE(f.gatherer.add_tcp_host_address(kListen, f.events));
  EXPECT_FALSE(f.gatherer.add_tcp_host_address(*SocketAddress::parse("10.0.0.1:0"), f.events));
  EXPECT_FALSE(f.gatherer.add_tcp_host_address(
      Gatherer::tcp_active_base(*IpAddress::parse("10.0.0.1")), f.events));
  const auto& locals = f.gatherer.candidates();
  ASSERT_EQ(locals.size(), 2u);
  const LocalCandidate& active = locals[0];
  const LocalCandidate& passive = locals[1];
  EXPECT_EQ(active.candidate.tcp_type, TcpType::kActive);
  EXPECT_EQ(active.candidate.port, Gatherer::kTcpActivePort);  // RFC 6544 4.5
  EXPECT_EQ(active.base, Gatherer::tcp_active_base(kListen.ip()));
  EXPECT_EQ(passive.candidate.tcp_type, TcpType::kPassive);
  EXPECT_EQ(passive.base, kListen);
  for (const auto& l : locals) {
    EXPECT_EQ(l.candidate.protocol, TransportProtocol::kTcp);
    EXPECT_EQ(l.candidate.priority >> 24, 90u);  // below any UDP host candidate
  }
  // RFC 6544 4.2: an active candidate ranks above a passive one.
  EXPECT_GT(active.candidate.priority, passive.candidate.priority);
  EXPECT_NE(active.candidate.foundation, passive.candidate.foundation);
}

TEST(Gatherer, RelayOnlyAndTcpOnlyKeepUdpSocketsForTurnAlone) {
  IceConfig relay_only;
  relay_only.relay_only = true;
  Fixture relay(relay_only);
  relay.gatherer.add_stun_server(kStunServer);
  EXPECT_TRUE(relay.gatherer.add_host_address(kHostV4, Timestamp::zero(), relay.events));
  EXPECT_FALSE(relay.gatherer.add_tcp_host_address(kListen, relay.events));
  EXPECT_TRUE(relay.gatherer.candidates().empty());
  EXPECT_FALSE(relay.gatherer.poll_stun_query());

  IceConfig tcp_only;
  tcp_only.udp_candidates = false;
  Fixture tcp(tcp_only);
  tcp.gatherer.add_stun_server(kStunServer);
  tcp.gatherer.add_host_address(kHostV4, Timestamp::zero(), tcp.events);
  EXPECT_TRUE(tcp.gatherer.add_tcp_host_address(kListen, tcp.events));
  EXPECT_EQ(tcp.gatherer.candidates().size(), 2u);
  EXPECT_FALSE(tcp.gatherer.poll_stun_query());

  // The policy can change only until the first socket.
  Fixture late;
  late.gatherer.add_host_address(kHostV4, Timestamp::zero(), late.events);
  late.gatherer.set_relay_only(true);
  late.gatherer.add_host_address(kHostV4b, Timestamp::zero(), late.events);
  EXPECT_EQ(late.gatherer.candidates().size(), 2u);
}

TEST(Gatherer, RestartOffersTheSameCandidatesUnderTheNewUfrag) {
  Fixture f;
  f.gatherer.add_host_address(kHostV4, Timestamp::zero(), f.events);
  f.gatherer.finish_host_addresses(f.events);
  f.events.clear();
  f.gatherer.restart("ufrag2", f.events);
  EXPECT_EQ(f.state_events(),
            (std::vector{IceGatheringState::kGathering, IceGatheringState::kComplete}));
  ASSERT_EQ(f.candidate_events().size(), 1u);
  EXPECT_EQ(f.candidate_events()[0].ufrag, "ufrag2");
  EXPECT_EQ(f.gatherer.candidates()[0].candidate.ufrag, "ufrag2");
  f.gatherer.add_host_address(kHostV4b, Timestamp::zero(), f.events);
  EXPECT_EQ(f.gatherer.candidates()[1].candidate.ufrag, "ufrag2");
}

// A scripted TURN server for the gatherer's one TURN client.
struct TurnFixture : Fixture {
  static constexpr std::string_view kRealm = "rtcpp.test";
  turn::TurnServerConfig server{kTurnServer, "user", "pass", turn::TurnTransport::kUdp,
                                "turn:198.51.100.2"};
  Buffer key = *stun::long_term_key_md5("user", kRealm, "pass");
  std::deque<Buffer> inbox;  // delivered datagrams stay alive

  Datagram next_to_server() {
    auto d = gatherer.poll_transmit();
    EXPECT_TRUE(d);
    if (!d) return {};
    EXPECT_EQ(d->destination, kTurnServer);
    return *d;
  }
  void deliver(Buffer bytes) {
    inbox.push_back(std::move(bytes));
    const Datagram d{kTurnServer, kHostV4, Buffer(inbox.back())};
    ASSERT_TRUE(gatherer.from_turn_server(d));
    turn::TurnClient* client = gatherer.turn_client_for(d);
    ASSERT_NE(client, nullptr);
    client->handle_packet(inbox.back(), Timestamp::zero());
    gatherer.process_turn_events(events);
  }
  // Allocate: a 401 challenge, then success.
  void grant_allocation() {
    Datagram first = next_to_server();
    auto request = StunMessage::parse(first.payload);
    ASSERT_TRUE(request);
    auto challenge = StunMessageBuilder::response_to(*request, StunClass::kErrorResponse);
    challenge.add_error_code(401, "Unauthorized");
    challenge.add_string(attr::kRealm, kRealm).add_string(attr::kNonce, "n1").add_fingerprint();
    deliver(challenge.finish());
    Datagram second = next_to_server();
    auto authenticated = StunMessage::parse(second.payload);
    ASSERT_TRUE(authenticated);
    auto ok = StunMessageBuilder::response_to(*authenticated, StunClass::kSuccessResponse);
    ok.add_xor_address(attr::kXorRelayedAddress, kRelayed);
    ok.add_xor_address(attr::kXorMappedAddress, kPublic);
    ok.add_u32(attr::kLifetime, 600);
    ok.add_message_integrity(key).add_fingerprint();
    deliver(ok.finish());
  }
};

TEST(Gatherer, TurnAllocationBecomesARelayedCandidate) {
  TurnFixture f;
  ASSERT_TRUE(f.gatherer.add_turn_server(f.server, Timestamp::zero(), f.events));
  EXPECT_FALSE(f.gatherer.add_turn_server(f.server, Timestamp::zero(), f.events));
  EXPECT_FALSE(f.gatherer.poll_transmit());  // no host socket yet
  f.gatherer.add_host_address(kHostV4, Timestamp::zero(), f.events);
  f.gatherer.add_host_address(kHostV6, Timestamp::zero(), f.events);  // not the server's family
  f.gatherer.finish_host_addresses(f.events);
  EXPECT_EQ(f.gatherer.state(), IceGatheringState::kGathering);
  EXPECT_TRUE(f.gatherer.next_timeout());  // the Allocate's retransmission

  f.grant_allocation();
  EXPECT_EQ(f.gatherer.state(), IceGatheringState::kComplete);
  const LocalCandidate& relay = f.gatherer.candidates().back();
  EXPECT_EQ(relay.candidate.type, CandidateType::kRelayed);
  EXPECT_EQ(relay.candidate.socket_address(), kRelayed);
  EXPECT_EQ(relay.base, kRelayed);  // a relayed candidate is its own base
  EXPECT_EQ(relay.turn, 0u);
  // RFC 8839 5.1: the related address is the mapped address the server saw.
  EXPECT_EQ(relay.candidate.related_address, "203.0.113.9");
  EXPECT_EQ(relay.candidate.related_port, 40000);
  EXPECT_EQ(relay.candidate.priority >> 24, 0u);
  // W3C RTCIceCandidate.url and relayProtocol: the TURN server's URL, reached over UDP.
  EXPECT_EQ(relay.url, "turn:198.51.100.2");
  EXPECT_EQ(relay.relay_protocol, "udp");
  const auto* event = f.last_candidate_event();
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->url, "turn:198.51.100.2");
  EXPECT_EQ(event->relay_protocol, "udp");

  // What leaves from the relayed address goes through the TURN client (a permission first).
  EXPECT_TRUE(f.gatherer.send_relayed({kRelayed, kPeer, Buffer{1, 2, 3}}, Timestamp::zero()));
  EXPECT_FALSE(f.gatherer.send_relayed({kHostV4, kPeer, Buffer{1, 2, 3}}, Timestamp::zero()));
  const Datagram sent = f.next_to_server();  // the parsed message views its bytes
  auto permission = StunMessage::parse(sent.payload);
  ASSERT_TRUE(permission);
  EXPECT_EQ(permission->method(), stun::method::kCreatePermission);
}

TEST(Gatherer, ALostTurnStreamIsACandidateErrorAndEndsGathering) {
  TurnFixture f;
  f.server.transport = turn::TurnTransport::kTcp;
  f.gatherer.add_host_address(kHostV4, Timestamp::zero(), f.events);
  f.gatherer.add_host_address(kHostV4b, Timestamp::zero(), f.events);
  f.gatherer.add_turn_server(f.server, Timestamp::zero(), f.events);
  f.gatherer.finish_host_addresses(f.events);
  // Over TCP the client talks from the host's IP with port 0, one per IP.
  auto d = f.gatherer.poll_transmit();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->source, Gatherer::turn_stream_base(kHostV4.ip()));
  d = f.gatherer.poll_transmit();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->source, Gatherer::turn_stream_base(kHostV4b.ip()));

  f.gatherer.turn_stream_failed(Gatherer::turn_stream_base(kHostV4.ip()), kTurnServer, "refused");
  f.gatherer.turn_stream_failed(Gatherer::turn_stream_base(kHostV4b.ip()), kTurnServer, "reset");
  f.gatherer.process_turn_events(f.events);
  std::vector<IceCandidateErrorEvent> errors;
  for (const auto& e : f.events) {
    if (auto* error = std::get_if<IceCandidateErrorEvent>(&e)) errors.push_back(*error);
  }
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].url, "turn:198.51.100.2");
  EXPECT_EQ(errors[0].error_code, 701);
  EXPECT_EQ(errors[0].local, Gatherer::turn_stream_base(kHostV4.ip()));
  EXPECT_EQ(f.gatherer.state(), IceGatheringState::kComplete);
}

TEST(Gatherer, TurnClientsAreBounded) {
  IceConfig config;
  config.max_turn_clients = 1;
  TurnFixture f;
  Gatherer bounded(config, "u", f.rng);
  bounded.add_host_address(kHostV4, Timestamp::zero(), f.events);
  bounded.add_host_address(kHostV4b, Timestamp::zero(), f.events);
  bounded.add_turn_server(f.server, Timestamp::zero(), f.events);
  EXPECT_TRUE(bounded.poll_transmit());
  EXPECT_FALSE(bounded.poll_transmit());
}

TEST(Gatherer, CloseReleasesTheAllocationsAndGathersNoMore) {
  TurnFixture f;
  f.gatherer.add_host_address(kHostV4, Timestamp::zero(), f.events);
  f.gatherer.add_turn_server(f.server, Timestamp::zero(), f.events);
  f.grant_allocation();
  const std::size_t candidates = f.gatherer.candidates().size();
  f.gatherer.close(Timestamp::seconds(1));
  // RFC 8656 7.3: a Refresh with LIFETIME 0.
  const Datagram sent = f.next_to_server();  // the parsed message views its bytes
  auto refresh = StunMessage::parse(sent.payload);
  ASSERT_TRUE(refresh);
  EXPECT_EQ(refresh->method(), stun::method::kRefresh);
  EXPECT_EQ(refresh->u32_attribute(attr::kLifetime), 0u);
  EXPECT_FALSE(f.gatherer.add_host_address(kHostV4b, Timestamp::zero(), f.events));
  EXPECT_FALSE(f.gatherer.add_tcp_host_address(kListen, f.events));
  EXPECT_FALSE(f.gatherer.add_turn_server(f.server, Timestamp::zero(), f.events));
  EXPECT_EQ(f.gatherer.candidates().size(), candidates);
}

// A server left out of a new configuration (W3C 4.4.1.6 set the configuration): its relayed
// candidate is withdrawn (not offered again at the restart), its allocation released with a
// Refresh of LIFETIME 0 (RFC 8656 7.3), and a new host socket starts no client on it.
TEST(Gatherer, ARemovedTurnServerIsReleasedAndItsCandidatesWithdrawn) {
  TurnFixture f;
  f.gatherer.add_host_address(kHostV4, Timestamp::zero(), f.events);
  f.gatherer.add_turn_server(f.server, Timestamp::zero(), f.events);
  f.grant_allocation();
  f.gatherer.finish_host_addresses(f.events);
  ASSERT_EQ(f.gatherer.state(), IceGatheringState::kComplete);
  ASSERT_EQ(f.gatherer.candidates().back().candidate.type, CandidateType::kRelayed);

  f.gatherer.remove_server("turn:198.51.100.2", Timestamp::seconds(1), f.events);
  const Datagram sent = f.next_to_server();
  auto refresh = StunMessage::parse(sent.payload);
  ASSERT_TRUE(refresh);
  EXPECT_EQ(refresh->method(), stun::method::kRefresh);
  EXPECT_EQ(refresh->u32_attribute(attr::kLifetime), 0u);
  EXPECT_TRUE(f.gatherer.candidates().back().withdrawn);

  f.events.clear();
  f.gatherer.restart("ufrag2", f.events);
  const auto again = f.candidate_events();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again.front().type, CandidateType::kHost);
  EXPECT_EQ(f.state_events().back(), IceGatheringState::kComplete);
  f.gatherer.add_host_address(kHostV4b, Timestamp::seconds(1), f.events);
  EXPECT_FALSE(f.gatherer.poll_transmit());  // no Allocate from the new socket
}

}  // namespace
}  // namespace rtcpp::ice
