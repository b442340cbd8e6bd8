// The connection core's own contract: the requests it makes of the runtime and how it takes
// their answers, negotiationneeded, and the data channel checks, without any network.
#include "pc/connection.hpp"

#include <gtest/gtest.h>

#include "stun/stun_message.hpp"

namespace rtcpp::pc {
namespace {

const Timestamp kNow = Timestamp::micros(1'000'000);

ConnectionConfig config_with(std::vector<IceServer> servers = {}) {
  ConnectionConfig config;
  config.certificate = *dtls::Certificate::generate();
  config.ice_servers = std::move(servers);
  return config;
}

// What the driver does after each input: lets the protocols act on it, then polls.
std::vector<ConnectionEvent> drain(Connection& c) {
  c.handle_timeout(kNow);
  std::vector<ConnectionEvent> events;
  while (auto e = c.poll_event()) events.push_back(std::move(*e));
  return events;
}

template <typename T>
std::vector<T> of_type(const std::vector<ConnectionEvent>& events) {
  std::vector<T> out;
  for (const auto& e : events)
    if (const auto* t = std::get_if<T>(&e)) out.push_back(*t);
  return out;
}

void offer(Connection& c) {
  auto sdp = c.create_offer(false, kNow);
  ASSERT_TRUE(sdp);
  ASSERT_TRUE(c.set_local_description(Description{SdpType::kOffer, *sdp}, kNow));
}

TEST(Connection, AskForSocketsOnceGatheringStarts) {
  SeededRandom rng(1);
  Connection c(config_with(), rng);
  ASSERT_TRUE(c.create_channel({.label = "x"}, kNow));
  EXPECT_TRUE(of_type<GatherRequest>(drain(c)).empty());
  offer(c);
  const auto events = drain(c);
  const auto requests = of_type<GatherRequest>(events);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests.front().tcp);
  // Host sockets become candidates; gathering completes once the runtime says it bound all.
  c.add_host_address(SocketAddress(IpAddress::v4(127, 0, 0, 1), 40000), kNow);
  EXPECT_EQ(of_type<LocalCandidate>(drain(c)).size(), 1u);
  EXPECT_EQ(c.gathering_state(), ice::IceGatheringState::kGathering);
  c.sockets_ready(kNow);
  const auto done = of_type<GatheringStateChanged>(drain(c));
  ASSERT_FALSE(done.empty());
  EXPECT_EQ(done.back().state, ice::IceGatheringState::kComplete);
}

TEST(Connection, ServerNamesAreResolvedByTheRuntimeAndGatheringWaitsForThem) {
  SeededRandom rng(2);
  Connection c(config_with({{{"stun:stun.example.org:3478"}, "", ""}}), rng);
  ASSERT_TRUE(c.create_channel({.label = "x"}, kNow));
  offer(c);
  const auto resolves = of_type<ResolveRequest>(drain(c));
  ASSERT_EQ(resolves.size(), 1u);
  EXPECT_EQ(resolves.front().host, "stun.example.org");
  EXPECT_EQ(resolves.front().port, 3478);
  c.add_host_address(SocketAddress(IpAddress::v4(127, 0, 0, 1), 40000), kNow);
  c.sockets_ready(kNow);
  drain(c);
  EXPECT_NE(c.gathering_state(), ice::IceGatheringState::kComplete);
  // A failed lookup is a candidate error naming the URL, and gathering can complete.
  c.name_resolved(resolves.front().token, std::nullopt, "no such host", kNow);
  const auto events = drain(c);
  const auto errors = of_type<CandidateError>(events);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.front().url, "stun:stun.example.org:3478");
  EXPECT_NE(errors.front().error_text.find("no such host"), std::string::npos);
  EXPECT_EQ(c.gathering_state(), ice::IceGatheringState::kComplete);
}

TEST(Connection, AnswersForAReleasedTransportAreIgnored) {
  SeededRandom rng(3);
  Connection c(config_with({{{"turn:turn.example.org?transport=tcp"}, "u", "p"}}), rng);
  ASSERT_TRUE(c.create_channel({.label = "x"}, kNow));
  offer(c);
  const auto resolves = of_type<ResolveRequest>(drain(c));
  ASSERT_EQ(resolves.size(), 1u);
  // Rolling back the first offer releases the transport (its sockets must close).
  ASSERT_TRUE(c.set_local_description(Description{SdpType::kRollback, ""}, kNow));
  const auto events = drain(c);
  EXPECT_EQ(of_type<TransportReleased>(events).size(), 1u);
  c.name_resolved(resolves.front().token, SocketAddress(IpAddress::v4(192, 0, 2, 1), 3478), "",
                  kNow);
  EXPECT_TRUE(of_type<TurnStreamRequest>(drain(c)).empty());
}

TEST(Connection, TurnOverTcpWaitsForTheRuntimesStream) {
  SeededRandom rng(4);
  Connection c(config_with({{{"turn:192.0.2.1:3478?transport=tcp"}, "u", "p"}}), rng);
  ASSERT_TRUE(c.create_channel({.label = "x"}, kNow));
  offer(c);
  const auto streams = of_type<TurnStreamRequest>(drain(c));
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_FALSE(streams.front().tls);
  EXPECT_EQ(streams.front().server, SocketAddress(IpAddress::v4(192, 0, 2, 1), 3478));
  c.add_host_address(SocketAddress(IpAddress::v4(127, 0, 0, 1), 40000), kNow);
  c.sockets_ready(kNow);
  c.turn_stream_ready(streams.front().token, operation_error("bad CA file"), kNow);
  const auto errors = of_type<CandidateError>(drain(c));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors.front().error_text, "bad CA file");
  EXPECT_EQ(c.gathering_state(), ice::IceGatheringState::kComplete);
}

TEST(Connection, LocalNameCandidatesAreResolvedByTheRuntime) {
  SeededRandom rng(5);
  Connection offerer(config_with(), rng);
  Connection answerer(config_with(), rng);
  ASSERT_TRUE(offerer.create_channel({.label = "x"}, kNow));
  auto sdp = offerer.create_offer(false, kNow);
  ASSERT_TRUE(sdp);
  ASSERT_TRUE(answerer.set_remote_description({SdpType::kOffer, *sdp}, kNow));
  drain(answerer);
  ASSERT_TRUE(answerer.add_ice_candidate(
      "candidate:1 1 udp 2122260223 1f0e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.local 50000 typ host", "0",
      std::nullopt, std::nullopt, kNow));
  const auto queries = of_type<MdnsRequest>(drain(answerer));
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_EQ(queries.front().name, "1f0e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.local");
  answerer.mdns_resolved(queries.front().token, IpAddress::v4(127, 0, 0, 1), kNow);
  ASSERT_NE(answerer.transport(), nullptr);
  const auto remotes = answerer.transport()->ice().remote_candidates();
  ASSERT_EQ(remotes.size(), 1u);
  EXPECT_EQ(remotes.front().address, "127.0.0.1");
}

// W3C 4.4.1.6 addIceCandidate: a candidate is administratively prohibited when its port is a
// Fetch "bad port" (including 0 since 2025): it is not paired, but addIceCandidate succeeds and
// the candidate joins the remote description, as if the address just never answered. A TCP
// active candidate's port (9, the discard port, by RFC 6544) is never connected to: not
// prohibited (accepted, and known by the connection it opens).
TEST(Connection, CandidatesOnFetchBadPortsAreNotPairedButAccepted) {
  SeededRandom rng(6);
  Connection offerer(config_with(), rng);
  Connection answerer(config_with(), rng);
  ASSERT_TRUE(offerer.create_channel({.label = "x"}, kNow));
  auto sdp = offerer.create_offer(false, kNow);
  ASSERT_TRUE(sdp);
  ASSERT_TRUE(answerer.set_remote_description({SdpType::kOffer, *sdp}, kNow));
  drain(answerer);
  for (const int port : {0, 1, 25, 5060, 6666, 10080}) {
    const std::string line =
        "candidate:1 1 udp 2122260223 192.0.2.7 " + std::to_string(port) + " typ host";
    EXPECT_TRUE(answerer.add_ice_candidate(line, "0", std::nullopt, std::nullopt, kNow)) << port;
    const auto remote = answerer.pending_remote_description();
    ASSERT_TRUE(remote);
    EXPECT_NE(remote->sdp.find("192.0.2.7 " + std::to_string(port) + " typ host"),
              std::string::npos)
        << port;
  }
  ASSERT_TRUE(answerer.add_ice_candidate("candidate:2 1 udp 2122260223 192.0.2.7 5062 typ host",
                                         "0", std::nullopt, std::nullopt, kNow));
  EXPECT_TRUE(
      answerer.add_ice_candidate("candidate:3 1 tcp 1518280447 192.0.2.7 9 typ host tcptype active",
                                 "0", std::nullopt, std::nullopt, kNow));
  ASSERT_NE(answerer.transport(), nullptr);
  std::vector<std::uint16_t> ports;
  for (const auto& c : answerer.transport()->ice().remote_candidates()) ports.push_back(c.port);
  EXPECT_EQ(ports, (std::vector<std::uint16_t>{5062}));
}

TEST(Connection, NegotiationIsNeededForAChannelOrATransceiverUntilOffered) {
  SeededRandom rng(6);
  Connection c(config_with(), rng);
  EXPECT_FALSE(c.needs_negotiation());
  c.add_transceiver(MediaKind::kVideo, RtpDirection::kSendRecv);
  EXPECT_TRUE(c.needs_negotiation());
  EXPECT_EQ(of_type<NegotiationNeeded>(drain(c)).size(), 1u);
  offer(c);
  // Offered: the transceiver has its mid; only a rollback would undo that.
  EXPECT_FALSE(c.needs_negotiation());
  ASSERT_EQ(c.transceivers().all().size(), 1u);
  EXPECT_EQ(c.transceivers().all().front().mid, std::optional<std::string>("0"));
}

TEST(Connection, ChannelChecksFollowCreateDataChannel) {
  SeededRandom rng(7);
  Connection c(config_with(), rng);
  EXPECT_EQ(c.create_channel({.label = std::string(65536, 'x')}, kNow).error().type(),
            RTCErrorType::kTypeError);
  EXPECT_EQ(c.create_channel({.negotiated = true}, kNow).error().type(), RTCErrorType::kTypeError);
  ChannelInit both;
  both.max_retransmits = 1;
  both.max_packet_life_time_ms = 1;
  EXPECT_EQ(c.create_channel(both, kNow).error().type(), RTCErrorType::kTypeError);
  auto first = c.create_channel({.negotiated = true, .id = 3}, kNow);
  ASSERT_TRUE(first);
  EXPECT_EQ(c.create_channel({.negotiated = true, .id = 3}, kNow).error().type(),
            RTCErrorType::kOperationError);
  // Before the transport: connecting, and sends are refused.
  ASSERT_NE(c.channel(*first), nullptr);
  EXPECT_EQ(c.channel(*first)->state, ChannelState::kConnecting);
  EXPECT_EQ(c.send(*first, BytesView(), true, kNow).error().type(),
            RTCErrorType::kInvalidStateError);
  // Closing a channel that never reached the transport closes it at once.
  c.close_channel(*first, kNow);
  EXPECT_EQ(c.channel(*first), nullptr);
  EXPECT_EQ(of_type<ChannelClosed>(drain(c)).size(), 1u);
}

// W3C 4.4.1.6 set the configuration: new ICE servers are not used at once ("no action will
// be taken until the next gathering phase"); the next ICE restart of ours gathers from them,
// and its gathering waits for their answers.
TEST(Connection, IceServersSetLaterAreUsedFromTheNextIceRestart) {
  SeededRandom rng(11);
  Connection c(config_with(), rng);
  ASSERT_TRUE(c.create_channel({.label = "x"}, kNow));
  offer(c);
  drain(c);
  c.add_host_address(SocketAddress(IpAddress::v4(10, 0, 0, 1), 40000), kNow);
  c.sockets_ready(kNow);
  drain(c);
  ASSERT_EQ(c.gathering_state(), ice::IceGatheringState::kComplete);
  const SocketAddress server(IpAddress::v4(192, 0, 2, 1), 3478);
  const auto to_server = [&] {
    std::size_t n = 0;
    while (auto d = c.poll_transmit()) n += d->destination == server ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(c.set_configuration(config_with({{{"stun:192.0.2.1:3478"}, "", ""}}), kNow));
  drain(c);
  EXPECT_EQ(to_server(), 0u);  // not before the next gathering phase
  EXPECT_EQ(c.gathering_state(), ice::IceGatheringState::kComplete);

  c.restart_ice();
  auto restart = c.create_offer(false, kNow);
  ASSERT_TRUE(restart);
  ASSERT_TRUE(c.set_local_description(Description{SdpType::kOffer, *restart}, kNow));
  drain(c);
  EXPECT_GE(to_server(), 1u);  // a Binding request to the new STUN server
  EXPECT_EQ(c.gathering_state(), ice::IceGatheringState::kGathering);
}

// W3C 4.4.1.6 set the configuration: a new iceTransportPolicy takes effect at the next
// gathering phase (RFC 9429 4.1.18), i.e. our ICE restart; until then nothing changes.
TEST(Connection, IceTransportPolicyChangesAtTheNextIceRestart) {
  for (const bool to_relay : {true, false}) {
    SCOPED_TRACE(to_relay ? "all -> relay" : "relay -> all");
    SeededRandom rng(12);
    auto config = config_with();
    config.relay_only = !to_relay;
    Connection c(config, rng);
    ASSERT_TRUE(c.create_channel({.label = "x"}, kNow));
    offer(c);
    drain(c);
    c.add_host_address(SocketAddress(IpAddress::v4(10, 0, 0, 1), 40000), kNow);
    c.sockets_ready(kNow);
    const auto first = of_type<LocalCandidate>(drain(c));
    EXPECT_EQ(first.size(), to_relay ? 1u : 0u);  // the host candidate, or none under relay
    ASSERT_EQ(c.gathering_state(), ice::IceGatheringState::kComplete);

    config = config_with();
    config.relay_only = to_relay;
    ASSERT_TRUE(c.set_configuration(config, kNow));
    EXPECT_TRUE(of_type<LocalCandidate>(drain(c)).empty());  // not before the next gathering

    c.restart_ice();
    auto restart = c.create_offer(false, kNow);
    ASSERT_TRUE(restart);
    ASSERT_TRUE(c.set_local_description(Description{SdpType::kOffer, *restart}, kNow));
    const auto events = drain(c);
    const auto again = of_type<LocalCandidate>(events);
    // Under relay with no TURN server: no candidate at all; back to all: the host one.
    EXPECT_EQ(again.size(), to_relay ? 0u : 1u);
    for (const auto& candidate : again) {
      EXPECT_EQ(candidate.candidate.type, ice::CandidateType::kHost);
      EXPECT_EQ(candidate.candidate.port, 40000);
    }
    EXPECT_EQ(c.gathering_state(), ice::IceGatheringState::kComplete);
    const auto local = c.pending_local_description();
    ASSERT_TRUE(local);
    EXPECT_EQ(local->sdp.find("typ host") == std::string::npos, to_relay) << local->sdp;
  }
}

// W3C 4.4.1.6 set the configuration: a server left out of the new list is no longer used from
// the next gathering phase: its candidates are not offered again at our ICE restart.
TEST(Connection, IceServersRemovedAreNotUsedAfterTheNextIceRestart) {
  SeededRandom rng(13);
  Connection c(config_with({{{"stun:192.0.2.1:3478"}, "", ""}}), rng);
  ASSERT_TRUE(c.create_channel({.label = "x"}, kNow));
  offer(c);
  drain(c);
  const SocketAddress host(IpAddress::v4(10, 0, 0, 1), 40000);
  const SocketAddress server(IpAddress::v4(192, 0, 2, 1), 3478);
  c.add_host_address(host, kNow);
  c.sockets_ready(kNow);
  drain(c);
  std::optional<Datagram> query;
  while (auto d = c.poll_transmit()) {
    if (d->destination == server) query = std::move(d);
  }
  ASSERT_TRUE(query);
  auto request = stun::StunMessage::parse(query->payload);
  ASSERT_TRUE(request);
  auto response =
      stun::StunMessageBuilder::response_to(*request, stun::StunClass::kSuccessResponse);
  response.add_xor_address(stun::attr::kXorMappedAddress,
                           SocketAddress(IpAddress::v4(203, 0, 113, 9), 50000));
  c.handle_datagram(Datagram{server, host, response.finish()}, kNow);
  const auto first = of_type<LocalCandidate>(drain(c));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first.front().candidate.type, ice::CandidateType::kServerReflexive);
  ASSERT_EQ(c.gathering_state(), ice::IceGatheringState::kComplete);

  ASSERT_TRUE(c.set_configuration(config_with(), kNow));
  c.restart_ice();
  auto restart = c.create_offer(false, kNow);
  ASSERT_TRUE(restart);
  ASSERT_TRUE(c.set_local_description(Description{SdpType::kOffer, *restart}, kNow));
  const auto again = of_type<LocalCandidate>(drain(c));
  ASSERT_EQ(again.size(), 1u);  // the host candidate alone
  EXPECT_EQ(again.front().candidate.type, ice::CandidateType::kHost);
  while (auto d = c.poll_transmit()) EXPECT_NE(d->destination, server);
  EXPECT_EQ(c.gathering_state(), ice::IceGatheringState::kComplete);
}

}  // namespace
}  // namespace rtcpp::pc
