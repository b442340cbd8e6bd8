#include "sctp/association.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "base/hex.hpp"

namespace rtcpp::sctp {
namespace {

struct Path {
  double loss = 0;
  double duplicate = 0;
  double reorder = 0;  // probability a packet is held back behind the next ones
  Duration delay = Duration::millis(10);
};

// Two associations joined by a virtual path (the DTLS layer is out of the picture here).
class Link {
 public:
  Link(std::uint64_t seed, Path path = {}, SctpConfig config = {})
      : rng_(seed), path_(path), a_(config, rng_), b_(config, rng_) {}

  SctpAssociation& a() { return a_; }
  SctpAssociation& b() { return b_; }
  Timestamp now() const { return now_; }
  std::vector<SctpMessage> at_a;
  std::vector<SctpMessage> at_b;
  std::vector<SctpClosed> closed_a;
  std::vector<SctpClosed> closed_b;
  bool connected_a = false;
  bool connected_b = false;

  bool run(const std::function<bool()>& done, Duration limit = Duration::seconds(120)) {
    const Timestamp deadline = now_ + limit;
    while (!done()) {
      collect(a_, true);
      collect(b_, false);
      drain();
      if (!queue_.empty()) {
        // Deliver everything due at the earliest arrival time.
        std::stable_sort(queue_.begin(), queue_.end(),
                         [](const InTransit& x, const InTransit& y) { return x.at < y.at; });
        const Timestamp at = queue_.front().at;
        std::optional<Timestamp> timer = next_timer();
        if (timer && *timer < at) {
          advance(*timer);
          continue;
        }
        if (at > deadline) return done();
        now_ = std::max(now_, at);
        while (!queue_.empty() && queue_.front().at <= now_) {
          InTransit p = std::move(queue_.front());
          queue_.erase(queue_.begin());
          (p.to_b ? b_ : a_).handle_packet(p.bytes, now_);
        }
        continue;
      }
      auto timer = next_timer();
      if (!timer || *timer > deadline) return done();
      advance(*timer);
    }
    return true;
  }

 private:
  struct InTransit {
    Timestamp at;
    bool to_b;
    Buffer bytes;
  };

  std::optional<Timestamp> next_timer() const {
    std::optional<Timestamp> t;
    for (const auto* s : {&a_, &b_}) {
      auto n = s->next_timeout();
      if (n && (!t || *n < *t)) t = n;
    }
    return t;
  }
  void advance(Timestamp t) {
    now_ = std::max(now_, t);
    a_.handle_timeout(now_);
    b_.handle_timeout(now_);
  }
  void collect(SctpAssociation& s, bool from_a) {
    while (auto p = s.poll_transmit()) {
      if (rng_.bernoulli(path_.loss)) continue;
      Timestamp at = now_ + path_.delay;
      if (rng_.bernoulli(path_.reorder)) at += Duration::millis(3);
      queue_.push_back({at, from_a, *p});
      if (rng_.bernoulli(path_.duplicate)) queue_.push_back({at + Duration::millis(1), from_a, *p});
    }
  }
  void drain() {
    for (auto* s : {&a_, &b_}) {
      while (auto e = s->poll_event()) {
        const bool is_a = s == &a_;
        if (auto* m = std::get_if<SctpMessage>(&*e)) (is_a ? at_a : at_b).push_back(std::move(*m));
        if (std::holds_alternative<SctpConnected>(*e)) (is_a ? connected_a : connected_b) = true;
        if (auto* c = std::get_if<SctpClosed>(&*e)) (is_a ? closed_a : closed_b).push_back(*c);
      }
    }
  }

  SeededRandom rng_;
  Path path_;
  SctpAssociation a_;
  SctpAssociation b_;
  Timestamp now_ = Timestamp::seconds(10);
  std::vector<InTransit> queue_;
};

Buffer pattern(std::size_t size, std::uint32_t seed) {
  Buffer b(size);
  SeededRandom(seed).fill(b.mutable_view());
  return b;
}

TEST(SctpAssociation, SimultaneousOpenAsWebRtcDoes) {
  Link link(1);
  link.a().connect(link.now());
  link.b().connect(link.now());
  ASSERT_TRUE(link.run([&] { return link.connected_a && link.connected_b; }));
  EXPECT_EQ(link.a().state(), SctpAssociation::State::kEstablished);
  EXPECT_EQ(link.b().state(), SctpAssociation::State::kEstablished);
}

TEST(SctpAssociation, OneSidedOpenAndEcho) {
  Link link(2);
  link.a().connect(link.now());
  ASSERT_TRUE(link.run([&] { return link.connected_a && link.connected_b; }));
  // INIT, INIT ACK, COOKIE ECHO, COOKIE ACK: two round trips of 10 ms.
  EXPECT_LE((link.now() - Timestamp::seconds(10)).ms(), 40);
  ASSERT_TRUE(link.a().send(1, 51, as_bytes("hello")));
  ASSERT_TRUE(link.run([&] { return !link.at_b.empty(); }));
  EXPECT_EQ(link.at_b[0].stream, 1);
  EXPECT_EQ(link.at_b[0].ppid, 51u);
  EXPECT_EQ(as_string(link.at_b[0].data), "hello");
  ASSERT_TRUE(link.b().send(1, 51, link.at_b[0].data));
  ASSERT_TRUE(link.run([&] { return !link.at_a.empty(); }));
  EXPECT_EQ(as_string(link.at_a[0].data), "hello");
  // Everything gets acknowledged: nothing stays buffered.
  ASSERT_TRUE(
      link.run([&] { return link.a().buffered_amount(1) == 0 && link.b().total_buffered() == 0; }));
}

struct TransferCase {
  double loss;
  double reorder;
  double duplicate;
  std::uint64_t seed;
};

class SctpTransfer : public ::testing::TestWithParam<TransferCase> {};

TEST_P(SctpTransfer, OrderedReliableIsByteExact) {
  const auto param = GetParam();
  Link link(param.seed, {param.loss, param.duplicate, param.reorder, Duration::millis(20)});
  link.a().connect(link.now());
  link.b().connect(link.now());
  ASSERT_TRUE(link.run([&] { return link.connected_a && link.connected_b; }));
  // Messages of many sizes on three streams, including multi-fragment ones up to 64 KiB.
  std::vector<std::pair<std::uint16_t, Buffer>> sent;
  SeededRandom sizes(param.seed + 1);
  for (int i = 0; i < 300; ++i) {
    const std::size_t size = i % 50 == 0 ? 65536 : 1 + sizes.uniform(3000);
    const auto stream = static_cast<std::uint16_t>(i % 3);
    sent.emplace_back(stream, pattern(size, static_cast<std::uint32_t>(i)));
    ASSERT_TRUE(link.a().send(stream, 53, sent.back().second));
  }
  ASSERT_TRUE(link.run([&] { return link.at_b.size() == sent.size(); }, Duration::seconds(600)))
      << link.at_b.size() << " of " << sent.size();
  // Per stream, order and content exactly as sent.
  for (std::uint16_t s = 0; s < 3; ++s) {
    std::vector<const Buffer*> expected;
    std::vector<const Buffer*> got;
    for (const auto& [stream, data] : sent)
      if (stream == s) expected.push_back(&data);
    for (const auto& m : link.at_b)
      if (m.stream == s) got.push_back(&m.data);
    ASSERT_EQ(expected.size(), got.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
      ASSERT_TRUE(*expected[i] == *got[i]) << s << "/" << i;
  }
  ASSERT_TRUE(link.run([&] { return link.a().total_buffered() == 0; }));
  if (param.loss > 0) {
    EXPECT_GT(link.a().retransmissions(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(LossReorderDuplicate, SctpTransfer,
                         ::testing::Values(TransferCase{0, 0, 0, 1}, TransferCase{0.01, 0, 0, 2},
                                           TransferCase{0.05, 0.05, 0.02, 3},
                                           TransferCase{0.10, 0.1, 0.05, 4},
                                           TransferCase{0.20, 0.1, 0.05, 5}));

TEST(SctpAssociation, UnorderedMessagesAllArrive) {
  Link link(6, {0.1, 0, 0.2, Duration::millis(5)});
  link.a().connect(link.now());
  ASSERT_TRUE(link.run([&] { return link.connected_a && link.connected_b; }));
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(link.a().send(
        2, 53, pattern(500 + static_cast<std::size_t>(i), static_cast<std::uint32_t>(i)),
        {.unordered = true}));
  }
  ASSERT_TRUE(link.run([&] { return link.at_b.size() == 200; }));
  std::vector<std::size_t> sizes;
  for (const auto& m : link.at_b) sizes.push_back(m.data.size());
  std::sort(sizes.begin(), sizes.end());
  for (std::size_t i = 0; i < sizes.size(); ++i) EXPECT_EQ(sizes[i], 500 + i);
}

TEST(SctpAssociation, GracefulShutdownDeliversEverythingFirst) {
  Link link(7, {0.05, 0, 0, Duration::millis(10)});
  link.a().connect(link.now());
  ASSERT_TRUE(link.run([&] { return link.connected_a && link.connected_b; }));
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(link.a().send(0, 53, pattern(4000, static_cast<std::uint32_t>(i))));
  link.a().shutdown(link.now());
  ASSERT_TRUE(link.run([&] { return !link.closed_a.empty() && !link.closed_b.empty(); }));
  EXPECT_EQ(link.at_b.size(), 50u);
  EXPECT_FALSE(link.closed_a[0].error);
  EXPECT_FALSE(link.closed_b[0].error);
  EXPECT_EQ(link.a().state(), SctpAssociation::State::kClosed);
}

TEST(SctpAssociation, AbortReachesThePeerAsAnError) {
  Link link(8);
  link.a().connect(link.now());
  ASSERT_TRUE(link.run([&] { return link.connected_a && link.connected_b; }));
  link.a().abort("test");
  ASSERT_TRUE(link.run([&] { return !link.closed_b.empty(); }));
  ASSERT_TRUE(link.closed_b[0].error);
  EXPECT_EQ(link.closed_b[0].error->error_detail(), RTCErrorDetailType::kSctpFailure);
}

TEST(SctpAssociation, SendErrors) {
  SeededRandom rng(9);
  SctpAssociation s({}, rng);
  EXPECT_EQ(s.send(0, 51, as_bytes("x")).error().type(), RTCErrorType::kInvalidStateError);
  Link link(9);
  link.a().connect(link.now());
  ASSERT_TRUE(link.run([&] { return link.connected_a && link.connected_b; }));
  EXPECT_EQ(link.a().send(0, 53, Buffer(256 * 1024 + 1)).error().type(), RTCErrorType::kTypeError);
  EXPECT_EQ(link.a().send(0, 53, BytesView{}).error().type(), RTCErrorType::kTypeError);
  EXPECT_TRUE(link.a().send(0, 53, Buffer(256 * 1024)));
}

TEST(SctpAssociation, SilentPeerFailsTheAssociation) {
  Link link(10, {1.0, 0, 0, Duration::millis(10)});  // nothing gets through
  link.a().connect(link.now());
  ASSERT_TRUE(link.run([&] { return !link.closed_a.empty(); }, Duration::seconds(600)));
  ASSERT_TRUE(link.closed_a[0].error);
}

TEST(SctpAssociation, HostilePacketsAreHarmless) {
  Link link(11);
  link.a().connect(link.now());
  ASSERT_TRUE(link.run([&] { return link.connected_a && link.connected_b; }));
  SeededRandom rng(5);
  // Random chunks with a valid header and checksum but garbage contents.
  for (int i = 0; i < 2000; ++i) {
    Buffer packet;
    PacketBuilder b(packet, {5000, 5000, 0}, 1200);
    Buffer value(static_cast<std::size_t>(rng.uniform(64)));
    rng.fill(value.mutable_view());
    b.add_chunk(static_cast<std::uint8_t>(rng.uniform(256)),
                static_cast<std::uint8_t>(rng.uniform(256)), value);
    b.finish();
    link.b().handle_packet(packet, link.now());  // wrong tag: dropped
  }
  EXPECT_EQ(link.b().state(), SctpAssociation::State::kEstablished);
  // The association still works.
  ASSERT_TRUE(link.a().send(0, 51, as_bytes("still here")));
  ASSERT_TRUE(link.run([&] { return !link.at_b.empty(); }));
}

}  // namespace
}  // namespace rtcpp::sctp
