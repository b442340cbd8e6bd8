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

using testing::TwoConnections;

// What a side's application saw.
struct Seen {
  std::vector<pc::ChannelHandle> opened;
  std::vector<std::string> received;
  std::vector<pc::SignalingState> signaling;
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
  LinkConfig link;
  link.delay = Duration::millis(20);
  link.jitter = Duration::millis(3);
  link.loss = loss;

  Sha256 trace;
  testing::hash_trace(net, trace);

  SeededRandom rng(seed);
  std::array<Seen, 2> seen;
  TwoConnections rig(net, rng, link, [&](int side, pc::ConnectionEvent&& e, Timestamp) {
    Seen& self = seen[static_cast<std::size_t>(side)];
    if (const auto* s = std::get_if<pc::SignalingStateChanged>(&e)) {
      self.signaling.push_back(s->state);
    } else if (const auto* o = std::get_if<pc::ChannelOpened>(&e)) {
      self.opened.push_back(o->handle);
    } else if (const auto* m = std::get_if<pc::ChannelMessage>(&e)) {
      self.received.emplace_back(reinterpret_cast<const char*>(m->data.data()), m->data.size());
    }
  });
  auto& a = rig.connection(0);
  auto& b = rig.connection(1);
  Seen& seen_a = seen[0];
  Seen& seen_b = seen[1];

  Outcome out;
  const Timestamp start = net.now();
  a.add_transceiver(pc::MediaKind::kAudio, pc::RtpDirection::kSendRecv);
  a.add_transceiver(pc::MediaKind::kVideo, pc::RtpDirection::kSendRecv);
  auto channel = a.create_channel({.label = "chat"}, start);
  EXPECT_TRUE(channel);
  auto negotiated = rig.negotiate(start);
  if (!negotiated || !channel) return out;
  out.offer = negotiated->offer;
  out.answer = negotiated->answer;

  out.open = net.run_until([&] { return !seen_a.opened.empty() && !seen_b.opened.empty(); },
                           start + Duration::seconds(30));
  out.open_time = net.now() - start;
  if (out.open) {
    const std::string hello = "hello from the offerer";
    EXPECT_TRUE(a.send(*channel, as_bytes(hello), false, net.now()));
    net.wake(rig.node(0));
    out.exchanged =
        net.run_until([&] { return !seen_b.received.empty(); }, net.now() + Duration::seconds(10));
    if (out.exchanged) {
      EXPECT_EQ(seen_b.received.front(), hello);
      EXPECT_TRUE(
          b.send(seen_b.opened.front(), as_bytes(std::string("and back")), false, net.now()));
      net.wake(rig.node(1));
      out.exchanged = net.run_until([&] { return !seen_a.received.empty(); },
                                    net.now() + Duration::seconds(10));
    }
  }
  out.offerer_signaling = seen_a.signaling;
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
