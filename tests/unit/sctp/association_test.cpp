#include "sctp/association.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <tuple>

#include "base/byte_reader.hpp"
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
      : Link(seed, path, config, config) {}
  Link(std::uint64_t seed, Path path, SctpConfig config_a, SctpConfig config_b)
      : rng_(seed), path_(path), a_(config_a, rng_), b_(config_b, rng_) {}

  SctpAssociation& a() { return a_; }
  SctpAssociation& b() { return b_; }
  Timestamp now() const { return now_; }
  std::vector<SctpMessage> at_a;
  std::vector<SctpMessage> at_b;
  std::vector<SctpClosed> closed_a;
  std::vector<SctpClosed> closed_b;
  bool connected_a = false;
  bool connected_b = false;
  std::vector<SctpStreamsReset> resets_a;
  std::vector<SctpStreamsReset> resets_b;
  std::vector<SctpStreamResetFailed> reset_failed_a;
  // Events of b in arrival order: a message's first byte, or -1 for an incoming reset.
  std::vector<int> log_b;
  // Packets for which this returns true are dropped (on top of the random loss).
  std::function<bool(bool from_a, const Buffer&)> drop;

  bool run(const std::function<bool()>& done, Duration limit = Duration::seconds(120)) {
    const Timestamp deadline = now_ + limit;
    while (!done()) {
      collect(a_, true);
      collect(b_, false);
      drain();
      // Events just collected may be what we wait for: look before moving the clock on (an
      // idle association's next timer is its heartbeat, seconds away).
      if (done()) return true;
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
      if (drop && drop(from_a, *p)) continue;
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
        if (auto* r = std::get_if<SctpStreamsReset>(&*e)) {
          (is_a ? resets_a : resets_b).push_back(*r);
          if (!is_a && r->incoming) log_b.push_back(-1);
        }
        if (auto* f = std::get_if<SctpStreamResetFailed>(&*e)) {
          if (is_a) reset_failed_a.push_back(*f);
        }
        if (!is_a) {
          if (std::holds_alternative<SctpMessage>(*e)) log_b.push_back(at_b.back().data[0]);
        }
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
  bool interleaving = true;  // I-DATA, or DATA
};

class SctpTransfer : public ::testing::TestWithParam<TransferCase> {};

TEST_P(SctpTransfer, OrderedReliableIsByteExact) {
  const auto param = GetParam();
  SctpConfig config;
  config.interleaving = param.interleaving;
  Link link(param.seed, {param.loss, param.duplicate, param.reorder, Duration::millis(20)}, config);
  link.a().connect(link.now());
  link.b().connect(link.now());
  ASSERT_TRUE(link.run([&] { return link.connected_a && link.connected_b; }));
  ASSERT_EQ(link.a().interleaving(), param.interleaving);
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
                                           TransferCase{0.20, 0.1, 0.05, 5},
                                           TransferCase{0.05, 0.05, 0.02, 3, false},
                                           TransferCase{0.20, 0.1, 0.05, 5, false}));

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

TEST(SctpAssociation, InitRetransmissionsBackOffToOneSecondAndGiveUpAfterAbout20s) {
  // T1-init backs off from RTO.Initial (500 ms) to init_rto_max (1 s), not to rto_max: under
  // heavy loss each lost round trip of the handshake costs at most a second.
  Link link(11);
  std::vector<std::int64_t> sent_ms;
  const Timestamp start = link.now();
  link.drop = [&](bool from_a, const Buffer&) {
    if (from_a) sent_ms.push_back((link.now() - start).ms());
    return true;
  };
  link.a().connect(link.now());
  ASSERT_TRUE(link.run([&] { return !link.closed_a.empty(); }, Duration::seconds(60)));
  ASSERT_GE(sent_ms.size(), 5u);
  EXPECT_EQ(std::vector<std::int64_t>(sent_ms.begin(), sent_ms.begin() + 5),
            (std::vector<std::int64_t>{0, 500, 1500, 2500, 3500}));
  EXPECT_EQ(sent_ms.size(), 21u);  // the INIT and its 20 retransmissions
  EXPECT_NEAR((link.now() - start).seconds_f(), 20.5, 0.01);
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

// A packet with a chunk of this type (zero checksums are on by default).
bool has_chunk(const Buffer& packet, std::uint8_t type) {
  auto p = parse_packet(packet, ChecksumMode::kAcceptZero);
  if (!p) return false;
  return std::any_of(p->chunks.begin(), p->chunks.end(),
                     [&](const ChunkView& c) { return c.type == type; });
}
bool has_data(const Buffer& packet) {
  return has_chunk(packet, chunk_type::kData) || has_chunk(packet, chunk_type::kIData);
}

// A message whose first four bytes are its index (big endian), the rest a pattern.
Buffer numbered(std::uint32_t index, std::size_t size) {
  Buffer b = pattern(std::max<std::size_t>(size, 4), index);
  store_be32(b.data(), index);
  return b;
}

void connect(Link& link) {
  link.a().connect(link.now());
  link.b().connect(link.now());
  ASSERT_TRUE(link.run([&] { return link.connected_a && link.connected_b; }));
}

TEST(SctpPartialReliability, NegotiatedInInitAndInitAck) {
  SctpConfig all;
  all.zero_checksum = true;  // asked for here, not left to the default
  Link link(20, {}, all);
  connect(link);
  EXPECT_TRUE(link.a().partial_reliability());
  EXPECT_TRUE(link.b().partial_reliability());
  EXPECT_TRUE(link.a().stream_reset_supported());
  EXPECT_TRUE(link.b().stream_reset_supported());
  EXPECT_TRUE(link.a().interleaving());
  EXPECT_TRUE(link.b().zero_checksum());
  SctpConfig plain;
  plain.partial_reliability = false;
  plain.stream_reset = false;
  Link old(21, {}, {}, plain);
  connect(old);
  EXPECT_FALSE(old.a().partial_reliability());
  EXPECT_FALSE(old.b().partial_reliability());
  EXPECT_FALSE(old.a().stream_reset_supported());
  EXPECT_EQ(old.a().reset_streams(std::vector<std::uint16_t>{1}).error().type(),
            RTCErrorType::kOperationError);
}

TEST(SctpPartialReliability, WithoutNegotiationPrMessagesAreReliable) {
  SctpConfig plain;
  plain.partial_reliability = false;
  Link link(22, {0.2, 0, 0.1, Duration::millis(10)}, {}, plain);
  connect(link);
  for (std::uint32_t i = 0; i < 100; ++i)
    ASSERT_TRUE(link.a().send(0, 53, numbered(i, 1500), {.max_retransmits = 0}));
  ASSERT_TRUE(link.run([&] { return link.at_b.size() == 100; }));
  for (std::uint32_t i = 0; i < 100; ++i) EXPECT_EQ(load_be32(link.at_b[i].data.data()), i);
  EXPECT_EQ(link.a().abandoned_messages(), 0u);
  EXPECT_EQ(link.a().forward_tsns_sent(), 0u);
}

class SctpPrLoss : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(SctpPrLoss, MaxRetransmitsZeroNeverBlocksTheReceiver) {
  const auto [unordered, interleaving] = GetParam();
  SctpConfig config;
  config.interleaving = interleaving;
  Link link(23, {0.15, 0.02, 0.1, Duration::millis(10)}, config);
  // With I-DATA the skips go as I-FORWARD-TSN (RFC 8260 2.3.1), never as FORWARD-TSN.
  std::size_t forward_tsn = 0;
  std::size_t iforward_tsn = 0;
  link.drop = [&](bool, const Buffer& p) {
    forward_tsn += has_chunk(p, chunk_type::kForwardTsn);
    iforward_tsn += has_chunk(p, chunk_type::kIForwardTsn);
    return false;
  };
  connect(link);
  constexpr std::uint32_t kCount = 300;
  SeededRandom sizes(3);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    // Some messages span several DATA chunks: all their fragments go together.
    const std::size_t size = i % 10 == 0 ? 5000 : 100 + sizes.uniform(1000);
    ASSERT_TRUE(
        link.a().send(0, 53, numbered(i, size), {.unordered = unordered, .max_retransmits = 0}));
  }
  ASSERT_TRUE(link.run([&] { return link.a().total_buffered() == 0; }, Duration::seconds(300)));
  EXPECT_GT(link.a().abandoned_messages(), 0u);
  EXPECT_GT(link.a().forward_tsns_sent(), 0u);
  EXPECT_EQ(forward_tsn == 0, interleaving);
  EXPECT_EQ(iforward_tsn > 0, interleaving);
  // Every message arrives at most once, intact; ordered ones in order.
  std::vector<bool> seen(kCount, false);
  std::uint32_t previous = 0;
  for (std::size_t k = 0; k < link.at_b.size(); ++k) {
    const std::uint32_t index = load_be32(link.at_b[k].data.data());
    ASSERT_LT(index, kCount);
    ASSERT_FALSE(seen[index]) << index;
    seen[index] = true;
    const std::size_t size = link.at_b[k].data.size();
    EXPECT_TRUE(link.at_b[k].data == numbered(index, size));
    if (!unordered && k > 0) {
      EXPECT_GT(index, previous);
    }
    previous = index;
  }
  EXPECT_LT(link.at_b.size(), kCount);
  EXPECT_GE(link.at_b.size() + link.a().abandoned_messages(), kCount);
  // The stream is not blocked: later reliable messages arrive.
  const std::size_t before = link.at_b.size();
  for (std::uint32_t i = kCount; i < kCount + 20; ++i)
    ASSERT_TRUE(link.a().send(0, 53, numbered(i, 800), {.unordered = unordered}));
  ASSERT_TRUE(link.run([&] { return link.at_b.size() == before + 20; }, Duration::seconds(120)));
  for (std::uint32_t i = 0; i < 20; ++i) {
    bool found = false;
    for (std::size_t k = before; k < link.at_b.size(); ++k)
      found |= load_be32(link.at_b[k].data.data()) == kCount + i;
    EXPECT_TRUE(found) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(OrderedAndUnorderedDataAndIData, SctpPrLoss,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()));

TEST(SctpPartialReliability, LifetimeExpiresInFlightAndQueuedMessages) {
  Link link(24);
  connect(link);
  // The path to b is cut for a while: everything sent with a 100 ms lifetime then expires,
  // in flight (lost) or still queued behind the congestion window.
  const Timestamp cut_until = link.now() + Duration::millis(400);
  link.drop = [&](bool from_a, const Buffer&) { return from_a && link.now() < cut_until; };
  for (std::uint32_t i = 0; i < 100; ++i)
    ASSERT_TRUE(link.a().send(1, 53, numbered(i, 1000), {.lifetime = Duration::millis(100)}));
  EXPECT_GT(link.a().total_buffered(), 0u);
  ASSERT_TRUE(link.run([&] { return link.now() > cut_until; }));
  // A reliable message afterwards is delivered: the skipped SSNs do not block the stream.
  ASSERT_TRUE(link.a().send(1, 53, numbered(1000, 10)));
  ASSERT_TRUE(link.run([&] { return !link.at_b.empty(); }));
  ASSERT_EQ(link.at_b.size(), 1u);
  EXPECT_EQ(load_be32(link.at_b[0].data.data()), 1000u);
  EXPECT_EQ(link.a().abandoned_messages(), 100u);
  ASSERT_TRUE(link.run([&] { return link.a().total_buffered() == 0; }));
}

TEST(SctpPartialReliability, ForwardTsnInsideACompleteMessageKeepsIt) {
  SctpConfig data_chunks;  // a DATA case: with I-DATA the fragments' TSNs say nothing
  data_chunks.interleaving = false;
  Link link(31, {}, data_chunks, data_chunks);
  connect(link);
  std::uint32_t b_tag = 0;
  std::uint32_t tsn = 0;
  link.drop = [&](bool from_a, const Buffer& p) {
    auto parsed = parse_packet(p, ChecksumMode::kAcceptZero);
    if (!from_a || !parsed) return false;
    b_tag = parsed->header.verification_tag;
    for (const auto& c : parsed->chunks)
      if (auto d = DataChunk::parse(c)) tsn = d->tsn;
    return false;
  };
  ASSERT_TRUE(link.a().send(0, 51, as_bytes("x")));
  ASSERT_TRUE(link.run([&] { return link.at_b.size() == 1; }));
  auto inject = [&](auto&& write) {
    Buffer packet;
    PacketBuilder b(packet, {5000, 5000, b_tag}, 1200);
    write(b);
    b.finish();
    link.b().handle_packet(packet, link.now());
  };
  // SSN 2 arrives complete in two fragments while SSN 1 is missing; then a FORWARD-TSN ends
  // on its first fragment, and another skips SSN 1.
  const Buffer head = Buffer::from_string("he");
  const Buffer tail = Buffer::from_string("ad");
  inject([&](PacketBuilder& b) {
    DataChunk{tsn + 2, 0, 2, 51, true, false, false, false, head}.write_to(b);
    DataChunk{tsn + 3, 0, 2, 51, false, true, false, false, tail}.write_to(b);
  });
  inject([&](PacketBuilder& b) { ForwardTsnChunk{tsn + 2, {}}.write_to(b, false); });
  inject([&](PacketBuilder& b) { ForwardTsnChunk{tsn + 4, {{0, false, 1}}}.write_to(b, false); });
  ASSERT_TRUE(link.run([&] { return link.at_b.size() == 2; }));
  EXPECT_EQ(as_string(link.at_b[1].data), "head");
}

TEST(SctpStreamReset, DataInFlightIsDeliveredBeforeTheReset) {
  Link link(25, {0.1, 0, 0.1, Duration::millis(10)});
  connect(link);
  // The first DATA packet is lost, so the request reaches b before the data it waits for
  // (answered In progress); the first request and the first response are lost as well.
  bool dropped_data = false;
  int dropped_reconfig = 0;
  link.drop = [&](bool, const Buffer& p) {
    if (!dropped_data && has_data(p)) return dropped_data = true;
    if (dropped_reconfig < 2 && has_chunk(p, chunk_type::kReConfig)) {
      ++dropped_reconfig;
      return true;
    }
    return false;
  };
  for (std::uint8_t i = 0; i < 100; ++i) {
    Buffer m = pattern(2000, i);
    m[0] = i;
    ASSERT_TRUE(link.a().send(1, 53, m));
  }
  const std::uint16_t stream[] = {1};
  ASSERT_TRUE(link.a().reset_streams(stream));
  // Refused while the reset is pending.
  EXPECT_EQ(link.a().send(1, 53, as_bytes("late")).error().type(),
            RTCErrorType::kInvalidStateError);
  EXPECT_TRUE(link.a().send(2, 53, as_bytes("other streams still work")));
  ASSERT_TRUE(link.run([&] { return !link.resets_a.empty() && !link.resets_b.empty(); }));
  EXPECT_EQ(dropped_reconfig, 2);
  EXPECT_GE(link.a().reconfig_requests_sent(), 2u);
  // b saw all 100 messages of stream 1, in order, then the reset.
  std::vector<int> stream1;
  for (const int e : link.log_b)
    if (e != 'o') stream1.push_back(e);
  ASSERT_EQ(stream1.size(), 101u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(stream1[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(stream1.back(), -1);
  EXPECT_TRUE(link.resets_b[0].incoming);
  EXPECT_EQ(link.resets_b[0].streams, std::vector<std::uint16_t>{1});
  EXPECT_FALSE(link.resets_a[0].incoming);
  EXPECT_EQ(link.resets_a[0].streams, std::vector<std::uint16_t>{1});
  // b resets its direction too (what the data channel layer does), then the stream is used
  // again from SSN 0 in both directions.
  ASSERT_TRUE(link.b().reset_streams(stream));
  ASSERT_TRUE(link.run([&] { return link.resets_a.size() == 2 && link.resets_b.size() == 2; }));
  EXPECT_TRUE(link.resets_a[1].incoming);
  EXPECT_FALSE(link.resets_b[1].incoming);
  link.at_a.clear();
  link.at_b.clear();
  ASSERT_TRUE(link.a().send(1, 51, as_bytes("again")));
  ASSERT_TRUE(link.b().send(1, 51, as_bytes("back")));
  ASSERT_TRUE(link.run([&] { return !link.at_a.empty() && !link.at_b.empty(); }));
  EXPECT_EQ(as_string(link.at_b[0].data), "again");
  EXPECT_EQ(as_string(link.at_a[0].data), "back");
}

TEST(SctpStreamReset, RequestAheadOfItsDataIsAnsweredInProgress) {
  Link link(30);
  connect(link);
  // The one DATA packet is lost; the request right behind it reaches b first.
  bool dropped = false;
  std::vector<ReconfigResponse::Result> results;
  link.drop = [&](bool from_a, const Buffer& p) {
    if (!from_a) {
      auto parsed = parse_packet(p, ChecksumMode::kAcceptZero);
      for (const auto& c : parsed->chunks) {
        if (c.type != chunk_type::kReConfig) continue;
        auto params = parse_parameters(c.value);
        if (!params) continue;
        for (const auto& param : *params)
          if (auto r = ReconfigResponse::parse(param)) results.push_back(r->result);
      }
    }
    if (from_a && !dropped && has_data(p)) return dropped = true;
    return false;
  };
  for (std::uint8_t i = 0; i < 3; ++i) {
    Buffer m(100);
    std::memset(m.data(), i, m.size());
    ASSERT_TRUE(link.a().send(4, 53, m));
  }
  const std::uint16_t stream[] = {4};
  ASSERT_TRUE(link.a().reset_streams(stream));
  ASSERT_TRUE(link.run([&] { return !link.resets_a.empty(); }));
  ASSERT_GE(results.size(), 2u);
  EXPECT_EQ(results.front(), ReconfigResponse::Result::kInProgress);
  EXPECT_EQ(results.back(), ReconfigResponse::Result::kSuccessPerformed);
  ASSERT_EQ(link.log_b, (std::vector<int>{0, 1, 2, -1}));
}

TEST(SctpStreamReset, UnusedAndOutOfRangeStreams) {
  Link link(26);
  connect(link);
  const std::uint16_t unused[] = {7, 9};
  ASSERT_TRUE(link.a().reset_streams(unused));
  ASSERT_TRUE(link.run([&] { return !link.resets_a.empty() && !link.resets_b.empty(); }));
  EXPECT_EQ(link.resets_b[0].streams, (std::vector<std::uint16_t>{7, 9}));
  const std::uint16_t none[] = {1};
  EXPECT_EQ(link.a().reset_streams(std::span<const std::uint16_t>(none, 0)).error().type(),
            RTCErrorType::kTypeError);
  SctpConfig few;
  few.streams = 16;
  Link small(27, {}, few, few);
  connect(small);
  const std::uint16_t out_of_range[] = {16};
  EXPECT_EQ(small.a().reset_streams(out_of_range).error().type(), RTCErrorType::kRangeError);
  SeededRandom rng(1);
  SctpAssociation closed({}, rng);
  EXPECT_EQ(closed.reset_streams(none).error().type(), RTCErrorType::kInvalidStateError);
}

TEST(SctpStreamReset, SecondResetWaitsForTheFirst) {
  // DATA sends whole messages in send() order, so stream 1 runs dry well before stream 2
  // (I-DATA takes turns between them and both end together: one request for the two).
  SctpConfig data_chunks;
  data_chunks.interleaving = false;
  Link link(28, {0.05, 0, 0, Duration::millis(10)}, data_chunks, data_chunks);
  connect(link);
  for (std::uint8_t i = 0; i < 20; ++i) {
    ASSERT_TRUE(link.a().send(1, 53, pattern(3000, i)));
    ASSERT_TRUE(link.a().send(2, 53, pattern(3000, i + 100u)));
  }
  const std::uint16_t first[] = {1};
  const std::uint16_t second[] = {2};
  ASSERT_TRUE(link.a().reset_streams(first));
  ASSERT_TRUE(link.a().reset_streams(second));
  ASSERT_TRUE(link.a().reset_streams(first));  // already pending: nothing more
  ASSERT_TRUE(link.run([&] { return link.resets_a.size() == 2; }));
  EXPECT_EQ(link.resets_a[0].streams, std::vector<std::uint16_t>{1});
  EXPECT_EQ(link.resets_a[1].streams, std::vector<std::uint16_t>{2});
  // A stream with nothing queued does not wait for the others' data, only for its turn.
  const std::uint16_t idle[] = {3};
  ASSERT_TRUE(link.a().send(1, 53, pattern(3000, 1)));
  for (std::uint8_t i = 0; i < 20; ++i) ASSERT_TRUE(link.a().send(2, 53, pattern(3000, i)));
  ASSERT_TRUE(link.a().reset_streams(second));
  ASSERT_TRUE(link.a().reset_streams(idle));
  ASSERT_TRUE(link.run([&] { return link.resets_a.size() == 4; }));
  EXPECT_EQ(link.resets_a[2].streams, std::vector<std::uint16_t>{3});
  EXPECT_EQ(link.resets_a[3].streams, std::vector<std::uint16_t>{2});
  ASSERT_TRUE(link.run([&] { return link.resets_b.size() == 4; }));
  EXPECT_EQ(link.at_b.size(), 61u);
  EXPECT_TRUE(link.reset_failed_a.empty());
}

TEST(SctpStreamReset, PeerRequestsAreAnsweredWithinLimits) {
  // Requests crafted by hand into b: bad sequence numbers, unknown streams, the kinds we do
  // not implement. Each gets a response and nothing breaks.
  SctpConfig few;
  few.streams = 16;
  Link link(29, {}, few, few);
  connect(link);
  std::vector<ReconfigResponse> answers;
  std::uint32_t b_tag = 0;
  link.drop = [&](bool from_a, const Buffer& p) {
    if (from_a && p.size() >= 8) b_tag = load_be32(p.data() + 4);
    auto parsed = parse_packet(p, ChecksumMode::kAcceptZero);
    if (!from_a && parsed) {
      for (const auto& c : parsed->chunks) {
        if (c.type != chunk_type::kReConfig) continue;
        auto params = parse_parameters(c.value);
        if (!params) continue;
        for (const auto& param : *params)
          if (auto r = ReconfigResponse::parse(param)) answers.push_back(*r);
      }
    }
    return false;
  };
  ASSERT_TRUE(link.a().send(0, 51, as_bytes("learn the tag")));
  ASSERT_TRUE(link.run([&] { return !link.at_b.empty(); }));
  auto inject = [&](const Buffer& params) {
    Buffer packet;
    PacketBuilder b(packet, {5000, 5000, b_tag}, 1200);
    b.add_chunk(chunk_type::kReConfig, 0, params);
    b.finish();
    link.b().handle_packet(packet, link.now());
    link.run([] { return false; }, Duration::millis(50));
  };
  // The sequence number a's requests would use is unknown here; a wrong one is refused.
  Buffer bad_seq;
  OutgoingResetRequest{12345, 0, 0, {1}}.append_to(bad_seq);
  inject(bad_seq);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].result, ReconfigResponse::Result::kErrorBadSequenceNumber);
  // Unimplemented request kinds are denied.
  Buffer add_streams;
  const std::uint8_t add_value[8] = {0, 0, 0, 5, 0, 1, 0, 0};
  append_parameter(add_streams, param_type::kAddOutgoingStreamsRequest, add_value);
  inject(add_streams);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1].response_sequence, 5u);
  EXPECT_EQ(answers[1].result, ReconfigResponse::Result::kDenied);
  // Three parameters in one chunk, or a malformed one: ignored.
  Buffer three;
  for (int i = 0; i < 3; ++i)
    append_parameter(three, param_type::kAddOutgoingStreamsRequest, add_value);
  inject(three);
  const std::uint8_t garbage[5] = {0, 13, 0, 40, 1};
  inject(Buffer(BytesView(garbage, 5)));
  EXPECT_EQ(answers.size(), 2u);
  EXPECT_EQ(link.b().state(), SctpAssociation::State::kEstablished);
  // The association still resets streams normally afterwards.
  const std::uint16_t stream[] = {0};
  ASSERT_TRUE(link.a().reset_streams(stream));
  ASSERT_TRUE(link.run([&] { return !link.resets_a.empty(); }));
}

}  // namespace
}  // namespace rtcpp::sctp
