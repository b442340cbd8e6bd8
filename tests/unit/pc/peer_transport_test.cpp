#include "pc/peer_transport.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace rtcpp::pc {
namespace {

const SocketAddress kA = *SocketAddress::parse("127.0.0.1:40001");
const SocketAddress kB = *SocketAddress::parse("127.0.0.1:40002");

// Two full stacks (ICE, DTLS, SCTP, DCEP) on an in-memory loopback network.
class Peers {
 public:
  explicit Peers(std::uint64_t seed, double loss = 0) : rng_(seed), loss_(loss) {
    PeerTransportConfig config;
    config.certificate = *dtls::Certificate::generate();
    a_ = std::move(*PeerTransport::create(config, ice::IceRole::kControlling, rng_));
    config.certificate = *dtls::Certificate::generate();
    b_ = std::move(*PeerTransport::create(config, ice::IceRole::kControlled, rng_));
  }

  PeerTransport& a() { return *a_; }
  PeerTransport& b() { return *b_; }
  Timestamp now() const { return now_; }
  std::vector<ChannelOpenEvent> opened_a, opened_b;
  std::vector<ChannelMessageEvent> messages_a, messages_b;
  std::vector<ice::Candidate> candidates_a, candidates_b;

  // The offer/answer exchange, reduced to what the transports need: A offers actpass, B
  // answers active, so B is the DTLS client.
  void negotiate() {
    a_->ice().add_host_address(kA, now_);
    a_->ice().finish_gathering(now_);
    b_->ice().add_host_address(kB, now_);
    b_->ice().finish_gathering(now_);
    a_->handle_timeout(now_);  // moves the agents' candidate events up to the transport
    b_->handle_timeout(now_);
    drain();
    ASSERT_EQ(candidates_a.size(), 1u);
    ASSERT_EQ(candidates_b.size(), 1u);
    ASSERT_TRUE(a_->set_remote_parameters(b_->local_ice_credentials().ufrag,
                                          b_->local_ice_credentials().pwd, b_->local_fingerprints(),
                                          dtls::DtlsRole::kServer, now_));
    ASSERT_TRUE(b_->set_remote_parameters(a_->local_ice_credentials().ufrag,
                                          a_->local_ice_credentials().pwd, a_->local_fingerprints(),
                                          dtls::DtlsRole::kClient, now_));
    for (const auto& c : candidates_b) ASSERT_TRUE(a_->ice().add_remote_candidate(c, now_));
    for (const auto& c : candidates_a) ASSERT_TRUE(b_->ice().add_remote_candidate(c, now_));
  }

  bool run(const std::function<bool()>& done, Duration limit = Duration::seconds(60)) {
    const Timestamp deadline = now_ + limit;
    while (!done()) {
      std::vector<Datagram> flight;
      for (auto* t : {a_.get(), b_.get()}) {
        while (auto d = t->poll_transmit()) flight.push_back(std::move(*d));
      }
      drain();
      if (!flight.empty()) {
        now_ += Duration::millis(2);
        for (auto& d : flight) {
          if (rng_.bernoulli(loss_)) continue;
          if (d.destination == kA) a_->handle_datagram(d, now_);
          if (d.destination == kB) b_->handle_datagram(d, now_);
        }
        drain();
        continue;
      }
      std::optional<Timestamp> next;
      for (auto* t : {a_.get(), b_.get()}) {
        auto n = t->next_timeout();
        if (n && (!next || *n < *next)) next = n;
      }
      if (!next || *next > deadline) return done();
      now_ = std::max(now_, *next);
      a_->handle_timeout(now_);
      b_->handle_timeout(now_);
      drain();
    }
    return true;
  }

  void drain() {
    for (auto* t : {a_.get(), b_.get()}) {
      const bool is_a = t == a_.get();
      while (auto e = t->poll_event()) {
        if (auto* ice_event = std::get_if<ice::IceEvent>(&*e)) {
          if (auto* c = std::get_if<ice::IceLocalCandidateEvent>(ice_event))
            (is_a ? candidates_a : candidates_b).push_back(c->candidate);
        } else if (auto* o = std::get_if<ChannelOpenEvent>(&*e)) {
          (is_a ? opened_a : opened_b).push_back(*o);
        } else if (auto* m = std::get_if<ChannelMessageEvent>(&*e)) {
          (is_a ? messages_a : messages_b).push_back(std::move(*m));
        }
      }
    }
  }

 private:
  SeededRandom rng_;
  double loss_;
  std::unique_ptr<PeerTransport> a_;
  std::unique_ptr<PeerTransport> b_;
  Timestamp now_ = Timestamp::seconds(5);
};

TEST(PeerTransport, DataChannelEchoEndToEnd) {
  Peers peers(1);
  peers.negotiate();
  const Timestamp start = peers.now();
  bool ok = peers.run([&] { return peers.a().sctp_connected() && peers.b().sctp_connected(); });
  ASSERT_TRUE(ok) << "ice " << ice::to_string(peers.a().ice().state()) << "/"
                  << ice::to_string(peers.b().ice().state()) << " dtls "
                  << dtls::to_string(peers.a().dtls().state()) << "/"
                  << dtls::to_string(peers.b().dtls().state()) << " sctp "
                  << int(peers.a().sctp().state()) << "/" << int(peers.b().sctp().state())
                  << " pairs " << peers.a().ice().pair_count() << " cands "
                  << peers.candidates_a.size() << peers.candidates_b.size();
  // ICE, DTLS and SCTP on a 2 ms path: a few round trips, well under 100 ms of virtual time.
  EXPECT_LT((peers.now() - start).ms(), 100);

  auto id = peers.a().open_channel({.label = "chat", .protocol = "x-test"});
  ASSERT_TRUE(id);
  EXPECT_EQ(*id % 2, 1) << "A is the DTLS server: odd stream ids";
  ASSERT_TRUE(peers.run([&] { return !peers.opened_b.empty(); }));
  EXPECT_EQ(peers.opened_b[0].channel.label, "chat");
  EXPECT_EQ(peers.opened_b[0].channel.protocol, "x-test");
  EXPECT_EQ(peers.opened_b[0].channel.id, *id);

  ASSERT_TRUE(peers.a().send(*id, as_bytes("h\xc3\xa9llo"), false));
  ASSERT_TRUE(peers.run([&] { return !peers.messages_b.empty(); }));
  EXPECT_FALSE(peers.messages_b[0].binary);
  EXPECT_EQ(as_string(peers.messages_b[0].data), "h\xc3\xa9llo");
  ASSERT_TRUE(peers.b().send(*id, peers.messages_b[0].data, false));
  ASSERT_TRUE(peers.run([&] { return !peers.messages_a.empty(); }));
  EXPECT_EQ(as_string(peers.messages_a[0].data), "h\xc3\xa9llo");

  // Binary 256 KiB and the empty messages (PPIDs 56/57).
  Buffer big(256 * 1024);
  SeededRandom(3).fill(big.mutable_view());
  ASSERT_TRUE(peers.a().send(*id, big, true));
  ASSERT_TRUE(peers.a().send(*id, BytesView{}, false));
  ASSERT_TRUE(peers.a().send(*id, BytesView{}, true));
  ASSERT_TRUE(peers.run([&] { return peers.messages_b.size() == 4; }));
  EXPECT_TRUE(peers.messages_b[1].binary);
  EXPECT_TRUE(peers.messages_b[1].data == big);
  EXPECT_FALSE(peers.messages_b[2].binary);
  EXPECT_TRUE(peers.messages_b[2].data.empty());
  EXPECT_TRUE(peers.messages_b[3].binary);
  EXPECT_TRUE(peers.messages_b[3].data.empty());
}

TEST(PeerTransport, ChannelsFromBothSidesUseTheirOwnParity) {
  Peers peers(2);
  peers.negotiate();
  ASSERT_TRUE(peers.run([&] { return peers.a().sctp_connected() && peers.b().sctp_connected(); }));
  std::vector<std::uint16_t> ids;
  for (int i = 0; i < 8; ++i) {
    auto a_id = peers.a().open_channel({.label = "a" + std::to_string(i)});
    auto b_id = peers.b().open_channel({.label = "b" + std::to_string(i)});
    ASSERT_TRUE(a_id && b_id);
    EXPECT_EQ(*a_id % 2, 1);
    EXPECT_EQ(*b_id % 2, 0);
  }
  ASSERT_TRUE(peers.run([&] { return peers.opened_a.size() == 8 && peers.opened_b.size() == 8; }));
}

TEST(PeerTransport, NegotiatedChannelNeedsNoDcep) {
  Peers peers(3);
  peers.negotiate();
  ASSERT_TRUE(peers.run([&] { return peers.a().sctp_connected() && peers.b().sctp_connected(); }));
  auto a_id = peers.a().open_channel({.label = "n", .negotiated_id = 7});
  auto b_id = peers.b().open_channel({.label = "n", .negotiated_id = 7});
  ASSERT_TRUE(a_id && b_id);
  ASSERT_TRUE(peers.a().send(7, as_bytes("pre-negotiated"), true));
  ASSERT_TRUE(peers.run([&] { return !peers.messages_b.empty(); }));
  EXPECT_EQ(peers.messages_b[0].id, 7);
  EXPECT_TRUE(peers.opened_b.empty());
  EXPECT_EQ(peers.a().open_channel({.label = "dup", .negotiated_id = 7}).error().type(),
            RTCErrorType::kOperationError);
}

class PeerTransportLoss : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(PeerTransportLoss, ConnectsAndTransfersWithLoss) {
  Peers peers(GetParam(), 0.05);
  peers.negotiate();
  ASSERT_TRUE(peers.run([&] { return peers.a().sctp_connected() && peers.b().sctp_connected(); }));
  auto id = peers.b().open_channel({.label = "bulk"});
  ASSERT_TRUE(id);
  Buffer data(100 * 1000);
  SeededRandom(GetParam()).fill(data.mutable_view());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(peers.b().send(*id, data, true));
  ASSERT_TRUE(peers.run([&] { return peers.messages_a.size() == 10; }));
  for (const auto& m : peers.messages_a) EXPECT_TRUE(m.data == data);
}

INSTANTIATE_TEST_SUITE_P(Seeds, PeerTransportLoss, ::testing::Range<std::uint64_t>(40, 46));

TEST(PeerTransport, Errors) {
  Peers peers(4);
  EXPECT_EQ(peers.a().open_channel({.label = "early"}).error().type(),
            RTCErrorType::kInvalidStateError);
  peers.negotiate();
  auto id = peers.a().open_channel({.label = "c"});
  ASSERT_TRUE(id);
  EXPECT_EQ(peers.a().send(*id, as_bytes("x"), false).error().type(),
            RTCErrorType::kInvalidStateError);
  EXPECT_EQ(peers.a()
                .open_channel({.label = "pr", .max_retransmits = 1, .max_packet_life_time_ms = 5})
                .error()
                .type(),
            RTCErrorType::kTypeError);
  EXPECT_EQ(peers.a().send(999, as_bytes("x"), false).error().type(),
            RTCErrorType::kInvalidStateError);
}

}  // namespace
}  // namespace rtcpp::pc

namespace rtcpp::pc {
namespace {

TEST(PeerTransport, DtlsFromAStrangerNeverReachesTheHandshake) {
  // A ClientHello-shaped record and an alert from an address ICE never paired, before and
  // during the handshake (the server side held such records and fed them to OpenSSL, which
  // failed or stalled the handshake on them), then after it.
  Peers peers(3);
  peers.negotiate();
  const SocketAddress stranger(IpAddress::v4(127, 0, 0, 99), 4242);
  const std::vector<std::uint8_t> client_hello = {0x16, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12,
                                                  1,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0};
  const std::vector<std::uint8_t> alert = {0x15, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 2, 40};
  const auto spray = [&] {
    for (const auto* bytes : {&client_hello, &alert}) {
      for (const auto& target : {kA, kB}) {
        Datagram d{stranger, target, Buffer(BytesView(bytes->data(), bytes->size()))};
        (target == kA ? peers.a() : peers.b()).handle_datagram(d, peers.now());
      }
    }
  };
  spray();
  ASSERT_TRUE(peers.run([&] {
    spray();
    return peers.a().sctp_connected() && peers.b().sctp_connected();
  }));
  spray();
  EXPECT_EQ(peers.a().dtls().state(), dtls::DtlsState::kConnected);
  EXPECT_EQ(peers.b().dtls().state(), dtls::DtlsState::kConnected);
}

}  // namespace
}  // namespace rtcpp::pc
