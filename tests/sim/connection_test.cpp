// Two connection cores (pc::Connection) over the simulator, the whole way a browser goes: an
// offer with audio, video and application sections in one BUNDLE group, the answer, trickled
// candidates, ICE, DTLS, SCTP and a data channel both ways. No sockets, no threads: the test
// plays signaling and the runtime's part (host addresses for the GatherRequest).
#include "pc/connection.hpp"

#include <gtest/gtest.h>

#include "base/sha256.hpp"
#include "connection_node.hpp"
#include "network.hpp"
#include "sim_test_util.hpp"

namespace rtcpp::sim {
namespace {

using testing::ConnectionNode;

struct Peer {
  Peer(Random& rng, SocketAddress at) : address(at), connection(config(), rng) {}
  static pc::ConnectionConfig config() {
    pc::ConnectionConfig c;
    c.certificate = *dtls::Certificate::generate();
    c.tcp_candidates = false;
    return c;
  }
  SocketAddress address;
  pc::Connection connection;
  std::unique_ptr<ConnectionNode> node;
  std::vector<pc::ChannelHandle> opened;
  std::vector<std::string> received;
  std::vector<pc::SignalingState> signaling;
  std::size_t candidates_sent = 0;
};

struct Outcome {
  std::string offer;
  std::string answer;
  bool open = false;
  bool exchanged = false;
  Duration open_time;
  std::string trace_hash;
  std::vector<pc::SignalingState> offerer_signaling;
};

Outcome run_bundled_session(std::uint64_t seed, double loss) {
  Network net(seed);
  const SocketAddress a_addr(IpAddress::v4(10, 0, 0, 2), 5000);
  const SocketAddress b_addr(IpAddress::v4(10, 0, 0, 3), 6000);
  auto host_a = net.add_host({a_addr.ip()});
  auto host_b = net.add_host({b_addr.ip()});
  LinkConfig link;
  link.delay = Duration::millis(20);
  link.jitter = Duration::millis(3);
  link.loss = loss;
  net.set_links(host_a, link, link);
  net.set_links(host_b, link, link);

  Sha256 trace;
  testing::hash_trace(net, trace);

  SeededRandom rng(seed);
  Peer a(rng, a_addr);
  Peer b(rng, b_addr);
  // The runtime's part and the signaling channel: host sockets on request, candidates and
  // messages straight to the other side.
  auto on_event = [&](Peer& self, Peer& other, pc::ConnectionEvent&& e, Timestamp now) {
    if (std::holds_alternative<pc::GatherRequest>(e)) {
      self.connection.add_host_address(self.address, now);
      self.connection.sockets_ready(now);
    } else if (const auto* c = std::get_if<pc::LocalCandidate>(&e)) {
      ++self.candidates_sent;
      ASSERT_TRUE(other.connection.add_ice_candidate(c->candidate.to_string(), c->mid, std::nullopt,
                                                     c->ufrag, now));
      net.wake(*other.node);
    } else if (const auto* s = std::get_if<pc::SignalingStateChanged>(&e)) {
      self.signaling.push_back(s->state);
    } else if (const auto* o = std::get_if<pc::ChannelOpened>(&e)) {
      self.opened.push_back(o->handle);
    } else if (const auto* m = std::get_if<pc::ChannelMessage>(&e)) {
      self.received.emplace_back(reinterpret_cast<const char*>(m->data.data()), m->data.size());
    }
  };
  a.node = std::make_unique<ConnectionNode>(
      a.connection,
      [&](pc::ConnectionEvent&& e, Timestamp now) { on_event(a, b, std::move(e), now); });
  b.node = std::make_unique<ConnectionNode>(
      b.connection,
      [&](pc::ConnectionEvent&& e, Timestamp now) { on_event(b, a, std::move(e), now); });
  net.bind(host_a, a_addr, *a.node);
  net.bind(host_b, b_addr, *b.node);

  Outcome out;
  const Timestamp start = net.now();
  a.connection.add_transceiver(pc::MediaKind::kAudio, pc::RtpDirection::kSendRecv);
  a.connection.add_transceiver(pc::MediaKind::kVideo, pc::RtpDirection::kSendRecv);
  auto channel = a.connection.create_channel({.label = "chat"}, start);
  EXPECT_TRUE(channel);
  auto offer = a.connection.create_offer(false, start);
  EXPECT_TRUE(offer);
  if (!offer || !channel) return out;
  out.offer = *offer;
  EXPECT_TRUE(
      a.connection.set_local_description(pc::Description{pc::SdpType::kOffer, *offer}, start));
  EXPECT_TRUE(b.connection.set_remote_description({pc::SdpType::kOffer, *offer}, start));
  auto answer = b.connection.create_answer(start);
  EXPECT_TRUE(answer);
  if (!answer) return out;
  out.answer = *answer;
  EXPECT_TRUE(
      b.connection.set_local_description(pc::Description{pc::SdpType::kAnswer, *answer}, start));
  EXPECT_TRUE(a.connection.set_remote_description({pc::SdpType::kAnswer, *answer}, start));
  net.wake(*a.node);
  net.wake(*b.node);

  out.open = net.run_until([&] { return !a.opened.empty() && !b.opened.empty(); },
                           start + Duration::seconds(30));
  out.open_time = net.now() - start;
  if (out.open) {
    const std::string hello = "hello from the offerer";
    EXPECT_TRUE(a.connection.send(*channel, as_bytes(hello), false, net.now()));
    net.wake(*a.node);
    out.exchanged =
        net.run_until([&] { return !b.received.empty(); }, net.now() + Duration::seconds(10));
    if (out.exchanged) {
      EXPECT_EQ(b.received.front(), hello);
      EXPECT_TRUE(
          b.connection.send(b.opened.front(), as_bytes(std::string("and back")), false, net.now()));
      net.wake(*b.node);
      out.exchanged =
          net.run_until([&] { return !a.received.empty(); }, net.now() + Duration::seconds(10));
    }
  }
  out.offerer_signaling = a.signaling;
  out.trace_hash = trace.hex();
  return out;
}

TEST(SimConnection, BundledAudioVideoDataOfferOpensAChannel) {
  const Outcome o = run_bundled_session(7, 0.0);
  // The offer bundles all three sections; the answer takes all three, receiving the media
  // (its transceivers are the recvonly ones the offer made).
  EXPECT_NE(o.offer.find("m=audio 9 "), std::string::npos) << o.offer;
  EXPECT_NE(o.offer.find("m=video 9 "), std::string::npos) << o.offer;
  EXPECT_NE(o.offer.find("m=application 9 "), std::string::npos) << o.offer;
  EXPECT_NE(o.offer.find("a=group:BUNDLE 0 1 2"), std::string::npos) << o.offer;
  EXPECT_NE(o.answer.find("m=audio 9 "), std::string::npos) << o.answer;
  EXPECT_NE(o.answer.find("m=video 9 "), std::string::npos) << o.answer;
  EXPECT_NE(o.answer.find("a=recvonly"), std::string::npos) << o.answer;
  EXPECT_NE(o.answer.find("a=group:BUNDLE 0 1 2"), std::string::npos) << o.answer;
  ASSERT_TRUE(o.open);
  EXPECT_LT(o.open_time.seconds_f(), 2.0);
  EXPECT_TRUE(o.exchanged);
  EXPECT_EQ(o.offerer_signaling,
            (std::vector{pc::SignalingState::kHaveLocalOffer, pc::SignalingState::kStable}));
}

TEST(SimConnection, SameSeedSameTrace) {
  const Outcome first = run_bundled_session(21, 0.03);
  ASSERT_TRUE(first.exchanged);
  const Outcome second = run_bundled_session(21, 0.03);
  EXPECT_EQ(first.trace_hash, second.trace_hash);
  EXPECT_EQ(first.open_time, second.open_time);
  EXPECT_NE(run_bundled_session(22, 0.03).trace_hash, first.trace_hash);
}

}  // namespace
}  // namespace rtcpp::sim
