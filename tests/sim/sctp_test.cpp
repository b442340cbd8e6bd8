// Two SCTP associations over the simulated network (the DTLS layer left out: each SCTP
// packet is one UDP datagram): transfers with I-DATA under loss, reordering and duplication,
// message interleaving, partial reliability with I-FORWARD-TSN, stream reset with data in
// flight, the fallback to DATA, and zero checksums negotiated or not.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "base/byte_reader.hpp"
#include "network.hpp"
#include "sctp/association.hpp"

namespace rtcpp::sim {
namespace {

using sctp::SctpAssociation;
using sctp::SctpConfig;
using sctp::SctpMessage;

class SctpNode final : public Node {
 public:
  SctpNode(const SctpConfig& config, Random& rng, SocketAddress self, SocketAddress peer)
      : assoc(config, rng), self_(self), peer_(peer) {}

  void handle_packet(const Datagram& d, Timestamp now) override {
    assoc.handle_packet(d.payload, now);
  }
  void handle_timeout(Timestamp now) override { assoc.handle_timeout(now); }
  std::optional<Datagram> poll_transmit() override {
    auto p = assoc.poll_transmit();
    if (!p) return std::nullopt;
    return Datagram{self_, peer_, std::move(*p)};
  }
  std::optional<Timestamp> next_timeout() override { return assoc.next_timeout(); }
  std::size_t drain_events(Timestamp now) override {
    std::size_t n = 0;
    for (; auto e = assoc.poll_event(); ++n) {
      if (auto* m = std::get_if<SctpMessage>(&*e)) {
        messages.push_back(std::move(*m));
        arrived.push_back(now);
      } else if (std::holds_alternative<sctp::SctpConnected>(*e)) {
        connected = true;
      } else if (auto* c = std::get_if<sctp::SctpClosed>(&*e)) {
        closed.push_back(*c);
      } else if (auto* r = std::get_if<sctp::SctpStreamsReset>(&*e)) {
        resets.push_back(*r);
        reset_after.push_back(messages.size());
      }
    }
    return n;
  }

  SctpAssociation assoc;
  bool connected = false;
  std::vector<SctpMessage> messages;
  std::vector<Timestamp> arrived;
  std::vector<sctp::SctpClosed> closed;
  std::vector<sctp::SctpStreamsReset> resets;
  std::vector<std::size_t> reset_after;  // messages delivered before each reset event

 private:
  SocketAddress self_;
  SocketAddress peer_;
};

// What crossed the network, per chunk type, and how many packets had a zero checksum.
struct Wire {
  std::map<std::uint8_t, std::size_t> chunks;
  std::size_t zero_checksum = 0;
  std::size_t init_zero_checksum = 0;
  std::size_t packets = 0;
};

const SocketAddress kA(IpAddress::v4(198, 51, 100, 1), 5000);
const SocketAddress kB(IpAddress::v4(203, 0, 113, 1), 5000);

// A on a lossy access link (both directions), B on a clean one: every packet crosses one
// impaired link, so `loss` is the end-to-end loss rate.
class SctpPair {
 public:
  SctpPair(std::uint64_t seed, const LinkConfig& impaired, const SctpConfig& config_a,
           const SctpConfig& config_b, const LinkConfig& clean = {})
      : net(seed), rng_(seed), a(config_a, rng_, kA, kB), b(config_b, rng_, kB, kA) {
    const auto host_a = net.add_host({kA.ip()});
    const auto host_b = net.add_host({kB.ip()});
    net.set_links(host_a, impaired, impaired);
    net.set_links(host_b, clean, clean);
    net.bind(host_a, kA, a);
    net.bind(host_b, kB, b);
    net.set_trace_observer([this](const TraceRecord& r) {
      if (r.kind != TraceKind::kSend) return;
      auto p = sctp::parse_packet(r.datagram.payload, sctp::ChecksumMode::kAcceptZero);
      if (!p) return;
      ++wire.packets;
      const bool zero = p->checksum == 0;
      wire.zero_checksum += zero;
      for (const auto& c : p->chunks) {
        ++wire.chunks[c.type];
        if (c.type == sctp::chunk_type::kInit) wire.init_zero_checksum += zero;
      }
    });
  }
  bool connect() {
    a.assoc.connect(net.now());
    b.assoc.connect(net.now());
    return run([&] { return a.connected && b.connected; }, Duration::seconds(30));
  }
  bool run(const std::function<bool()>& done, Duration limit) {
    net.wake(a);
    net.wake(b);
    return net.run_until(done, net.now() + limit);
  }

  Network net;
  Wire wire;

 private:
  SeededRandom rng_;

 public:
  SctpNode a;
  SctpNode b;
};

LinkConfig impaired(double loss, double reorder = 0.05, double duplicate = 0.02) {
  LinkConfig link;
  link.delay = Duration::millis(20);
  link.jitter = Duration::millis(5);
  link.loss = loss;
  link.reorder = reorder;
  link.duplicate = duplicate;
  return link;
}

SctpConfig with_interleaving(bool on) {
  SctpConfig c;
  c.interleaving = on;
  return c;
}

Buffer numbered(std::uint32_t index, std::size_t size) {
  Buffer b(std::max<std::size_t>(size, 4));
  SeededRandom(index * 7919u + 1).fill(b.mutable_view());
  store_be32(b.data(), index);
  return b;
}

// Messages on several streams, sizes from one byte to 100 kB; each stream's must arrive in
// order and intact.
void send_and_check_transfer(SctpPair& pair, std::uint64_t seed, int count = 240) {
  std::vector<std::pair<std::uint16_t, Buffer>> sent;
  SeededRandom sizes(seed);
  for (int i = 0; i < count; ++i) {
    const std::size_t size = i % 40 == 0 ? 100000 : 1 + sizes.uniform(4000);
    const auto stream = static_cast<std::uint16_t>(i % 4);
    sent.emplace_back(stream, numbered(static_cast<std::uint32_t>(i), size));
    ASSERT_TRUE(pair.a.assoc.send(stream, 53, sent.back().second));
  }
  ASSERT_TRUE(
      pair.run([&] { return pair.b.messages.size() == sent.size(); }, Duration::seconds(600)))
      << pair.b.messages.size() << " of " << sent.size();
  for (std::uint16_t s = 0; s < 4; ++s) {
    std::vector<const Buffer*> expected;
    std::vector<const Buffer*> got;
    for (const auto& [stream, data] : sent)
      if (stream == s) expected.push_back(&data);
    for (const auto& m : pair.b.messages)
      if (m.stream == s) got.push_back(&m.data);
    ASSERT_EQ(expected.size(), got.size()) << s;
    for (std::size_t i = 0; i < expected.size(); ++i)
      ASSERT_TRUE(*expected[i] == *got[i]) << "stream " << s << " message " << i;
  }
  ASSERT_TRUE(pair.run([&] { return pair.a.assoc.total_buffered() == 0; }, Duration::seconds(60)));
  EXPECT_EQ(pair.b.assoc.received_buffered(), 0u);
  EXPECT_TRUE(pair.a.closed.empty());
  EXPECT_TRUE(pair.b.closed.empty());
}

struct TransferCase {
  double loss;
  std::uint64_t seed;
};

class SimSctpIData : public ::testing::TestWithParam<TransferCase> {};

TEST_P(SimSctpIData, OrderedReliableTransferIsByteExact) {
  const auto param = GetParam();
  SctpPair pair(param.seed, impaired(param.loss), {}, {});
  ASSERT_TRUE(pair.connect());
  ASSERT_TRUE(pair.a.assoc.interleaving());
  ASSERT_TRUE(pair.b.assoc.interleaving());
  send_and_check_transfer(pair, param.seed);
  EXPECT_GT(pair.wire.chunks[sctp::chunk_type::kIData], 0u);
  EXPECT_EQ(pair.wire.chunks[sctp::chunk_type::kData], 0u);
  // (Reordering alone causes a few fast retransmissions too.)
  if (param.loss > 0) {
    EXPECT_GT(pair.a.assoc.retransmissions(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Loss, SimSctpIData,
                         ::testing::Values(TransferCase{0, 1}, TransferCase{0.01, 2},
                                           TransferCase{0.05, 3}, TransferCase{0.10, 4},
                                           TransferCase{0.20, 5}));

TEST(SimSctp, SmallMessageOvertakesAOneMebibyteOneWithIData) {
  // A 1 MiB message on stream 1, then 100 bytes on stream 2, over an 8 Mbit/s path with
  // 20 ms each way: the big one needs over a second. With I-DATA the small one goes out
  // with the next fragment and arrives within a couple of round trips; with DATA it waits
  // behind the whole big one.
  auto run = [](bool interleaving, Duration& small_latency, Duration& big_latency) {
    SctpConfig config = with_interleaving(interleaving);
    config.max_message_size = 2 * 1024 * 1024;
    LinkConfig slow = impaired(0, 0, 0);
    slow.bandwidth_bps = 8'000'000;
    slow.queue_bytes = 256 * 1024;
    SctpPair pair(11, slow, config, config);
    ASSERT_TRUE(pair.connect());
    ASSERT_EQ(pair.a.assoc.interleaving(), interleaving);
    const Timestamp start = pair.net.now();
    ASSERT_TRUE(pair.a.assoc.send(1, 53, numbered(1, 1024 * 1024)));
    ASSERT_TRUE(pair.a.assoc.send(2, 51, numbered(2, 100)));
    ASSERT_TRUE(pair.run([&] { return pair.b.messages.size() == 2; }, Duration::seconds(60)));
    for (std::size_t i = 0; i < 2; ++i) {
      const SctpMessage& m = pair.b.messages[i];
      (m.stream == 2 ? small_latency : big_latency) = pair.b.arrived[i] - start;
      EXPECT_TRUE(m.data == (m.stream == 2 ? numbered(2, 100) : numbered(1, 1024 * 1024)));
    }
  };
  Duration small;
  Duration big;
  run(true, small, big);
  EXPECT_GT(big, Duration::millis(1000));
  EXPECT_LT(small, Duration::millis(150)) << small.ms() << " ms";
  Duration small_data;
  Duration big_data;
  run(false, small_data, big_data);
  // DATA: only once every fragment of the big one has been sent (its last ones may still be
  // retransmitted after).
  EXPECT_GT(small_data, Duration::millis(1000));
  EXPECT_GT(small_data, small * 5);
  std::printf(
      "1 MiB then 100 B: I-DATA small %lld ms, big %lld ms; DATA small %lld ms, big %lld ms\n",
      static_cast<long long>(small.ms()), static_cast<long long>(big.ms()),
      static_cast<long long>(small_data.ms()), static_cast<long long>(big_data.ms()));
}

TEST(SimSctp, PartialReliabilityUsesIForwardTsnAndNeverBlocks) {
  SctpPair pair(21, impaired(0.10), {}, {});
  ASSERT_TRUE(pair.connect());
  ASSERT_TRUE(pair.a.assoc.partial_reliability());
  constexpr std::uint32_t kCount = 400;
  SeededRandom sizes(4);
  // Unordered with no retransmission, ordered with a short lifetime, some of several
  // fragments, and a reliable ordered stream beside them.
  for (std::uint32_t i = 0; i < kCount; ++i) {
    const std::size_t size = i % 10 == 0 ? 6000 : 100 + sizes.uniform(1000);
    if (i % 3 == 0) {
      ASSERT_TRUE(
          pair.a.assoc.send(1, 53, numbered(i, size), {.unordered = true, .max_retransmits = 0}));
    } else if (i % 3 == 1) {
      ASSERT_TRUE(pair.a.assoc.send(2, 53, numbered(i, size), {.lifetime = Duration::millis(60)}));
    } else {
      ASSERT_TRUE(pair.a.assoc.send(3, 53, numbered(i, size)));
    }
  }
  ASSERT_TRUE(pair.run([&] { return pair.a.assoc.total_buffered() == 0; }, Duration::seconds(300)));
  EXPECT_GT(pair.a.assoc.abandoned_messages(), 0u);
  EXPECT_GT(pair.a.assoc.forward_tsns_sent(), 0u);
  EXPECT_GT(pair.wire.chunks[sctp::chunk_type::kIForwardTsn], 0u);
  EXPECT_EQ(pair.wire.chunks[sctp::chunk_type::kForwardTsn], 0u);
  // At most once each, intact; streams 2 and 3 in order; stream 3 complete.
  std::vector<bool> seen(kCount, false);
  std::map<std::uint16_t, std::uint32_t> last;
  std::size_t reliable = 0;
  for (const auto& m : pair.b.messages) {
    const std::uint32_t index = load_be32(m.data.data());
    ASSERT_LT(index, kCount);
    ASSERT_FALSE(seen[index]) << index;
    seen[index] = true;
    EXPECT_TRUE(m.data == numbered(index, m.data.size()));
    if (m.stream != 1) {
      if (last.count(m.stream) != 0) {
        EXPECT_GT(index, last[m.stream]);
      }
      last[m.stream] = index;
    }
    reliable += m.stream == 3;
  }
  EXPECT_EQ(reliable, kCount / 3);
  EXPECT_LT(pair.b.messages.size(), kCount);
  EXPECT_EQ(pair.b.assoc.received_buffered(), 0u);
  // Nothing is blocked afterwards.
  const std::size_t before = pair.b.messages.size();
  for (std::uint16_t s = 1; s <= 3; ++s)
    ASSERT_TRUE(pair.a.assoc.send(s, 53, numbered(kCount + s, 3000)));
  ASSERT_TRUE(
      pair.run([&] { return pair.b.messages.size() == before + 3; }, Duration::seconds(30)));
}

TEST(SimSctp, StreamResetWithIDataInFlight) {
  SctpPair pair(31, impaired(0.05), {}, {});
  ASSERT_TRUE(pair.connect());
  // 100 messages on stream 1 (some of several fragments) interleaved with stream 2's, then
  // the reset at once: b sees all of stream 1 in order, then the reset; then stream 1 starts
  // again from MID 0 in both directions.
  for (std::uint32_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(pair.a.assoc.send(1, 53, numbered(i, i % 7 == 0 ? 5000 : 700)));
    ASSERT_TRUE(pair.a.assoc.send(2, 53, numbered(1000 + i, 900)));
  }
  const std::uint16_t one[] = {1};
  ASSERT_TRUE(pair.a.assoc.reset_streams(one));
  EXPECT_FALSE(pair.a.assoc.send(1, 53, numbered(9, 10)));
  ASSERT_TRUE(pair.run([&] { return !pair.a.resets.empty() && !pair.b.resets.empty(); },
                       Duration::seconds(120)));
  EXPECT_TRUE(pair.b.resets[0].incoming);
  EXPECT_EQ(pair.b.resets[0].streams, std::vector<std::uint16_t>{1});
  std::vector<std::uint32_t> stream1;
  for (std::size_t k = 0; k < pair.b.reset_after[0]; ++k)
    if (pair.b.messages[k].stream == 1)
      stream1.push_back(load_be32(pair.b.messages[k].data.data()));
  ASSERT_EQ(stream1.size(), 100u);
  for (std::uint32_t i = 0; i < 100; ++i) EXPECT_EQ(stream1[i], i);
  ASSERT_TRUE(pair.b.assoc.reset_streams(one));
  ASSERT_TRUE(pair.run([&] { return pair.a.resets.size() == 2 && pair.b.resets.size() == 2; },
                       Duration::seconds(60)));
  const std::size_t at_a = pair.a.messages.size();
  const std::size_t at_b = pair.b.messages.size();
  ASSERT_TRUE(pair.a.assoc.send(1, 51, as_bytes("again")));
  ASSERT_TRUE(pair.b.assoc.send(1, 51, as_bytes("back")));
  auto first_on_stream1 = [](const SctpNode& n, std::size_t from) -> const SctpMessage* {
    for (std::size_t k = from; k < n.messages.size(); ++k)
      if (n.messages[k].stream == 1) return &n.messages[k];
    return nullptr;
  };
  ASSERT_TRUE(
      pair.run([&] { return first_on_stream1(pair.a, at_a) && first_on_stream1(pair.b, at_b); },
               Duration::seconds(30)));
  EXPECT_EQ(as_string(first_on_stream1(pair.b, at_b)->data), "again");
  EXPECT_EQ(as_string(first_on_stream1(pair.a, at_a)->data), "back");
}

TEST(SimSctp, APeerWithoutIDataGetsData) {
  SctpPair pair(41, impaired(0.05), with_interleaving(true), with_interleaving(false));
  ASSERT_TRUE(pair.connect());
  EXPECT_FALSE(pair.a.assoc.interleaving());
  EXPECT_FALSE(pair.b.assoc.interleaving());
  EXPECT_TRUE(pair.a.assoc.partial_reliability());
  send_and_check_transfer(pair, 41, 120);
  EXPECT_EQ(pair.wire.chunks[sctp::chunk_type::kIData], 0u);
  EXPECT_GT(pair.wire.chunks[sctp::chunk_type::kData], 0u);
  // Partial reliability falls back to FORWARD-TSN.
  for (std::uint32_t i = 0; i < 200; ++i)
    ASSERT_TRUE(pair.a.assoc.send(1, 53, numbered(i, 800), {.max_retransmits = 0}));
  ASSERT_TRUE(pair.run([&] { return pair.a.assoc.total_buffered() == 0; }, Duration::seconds(60)));
  EXPECT_GT(pair.wire.chunks[sctp::chunk_type::kForwardTsn], 0u);
  EXPECT_EQ(pair.wire.chunks[sctp::chunk_type::kIForwardTsn], 0u);
}

TEST(SimSctp, ZeroChecksumsOnlyWhenBothAccept) {
  SctpConfig on;
  on.zero_checksum = true;
  {
    SctpPair pair(51, impaired(0.02), on, on);
    ASSERT_TRUE(pair.connect());
    EXPECT_TRUE(pair.a.assoc.zero_checksum());
    EXPECT_TRUE(pair.b.assoc.zero_checksum());
    send_and_check_transfer(pair, 51, 60);
    // Everything after the handshake goes with zero; the INITs never do.
    EXPECT_GT(pair.wire.zero_checksum, pair.wire.packets / 2);
    EXPECT_GE(pair.wire.chunks[sctp::chunk_type::kInit], 2u);
    EXPECT_EQ(pair.wire.init_zero_checksum, 0u);
  }
  for (const bool a_on : {true, false}) {
    SctpConfig off;
    off.zero_checksum = false;
    SctpPair pair(52, impaired(0.02), a_on ? on : off, a_on ? off : on);
    ASSERT_TRUE(pair.connect());
    EXPECT_FALSE(pair.a.assoc.zero_checksum());
    EXPECT_FALSE(pair.b.assoc.zero_checksum());
    EXPECT_TRUE(pair.a.assoc.interleaving());
    send_and_check_transfer(pair, 52, 60);
    EXPECT_EQ(pair.wire.zero_checksum, 0u);
  }
}

// RFC 9260 8.3: an idle association probes its peer, measures the round trip with it, and a
// peer that stops answering fails the association; a busy one sends no heartbeat at all.
LinkConfig fixed_delay(Duration one_way) {
  LinkConfig link;
  link.delay = one_way;
  return link;
}

TEST(SimSctpHeartbeat, IdleAssociationProbesAndMeasuresTheRoundTrip) {
  SctpPair pair(61, fixed_delay(Duration::millis(50)), {}, {});
  ASSERT_TRUE(pair.connect());
  pair.run([] { return false; }, Duration::seconds(100));
  // HB.interval 30 s + RTO/2..3RTO/2: three periods fit in 100 s, not four.
  for (const SctpNode* node : {&pair.a, &pair.b}) {
    EXPECT_GE(node->assoc.heartbeats_sent(), 2u);
    EXPECT_LE(node->assoc.heartbeats_sent(), 3u);
    ASSERT_TRUE(node->assoc.srtt());
    // A's access link carries 50 ms each way; B's adds nothing.
    EXPECT_EQ(node->assoc.srtt()->us(), Duration::millis(100).us());
    EXPECT_TRUE(node->closed.empty());
  }
  EXPECT_EQ(pair.wire.chunks[sctp::chunk_type::kHeartbeat],
            pair.a.assoc.heartbeats_sent() + pair.b.assoc.heartbeats_sent());
  EXPECT_EQ(pair.wire.chunks[sctp::chunk_type::kHeartbeatAck],
            pair.wire.chunks[sctp::chunk_type::kHeartbeat]);
}

TEST(SimSctpHeartbeat, NoHeartbeatWhileDataFlows) {
  SctpPair pair(62, fixed_delay(Duration::millis(10)), {}, {});
  ASSERT_TRUE(pair.connect());
  // A sends a message every second for 100 s; B answers each, so neither side is idle.
  for (std::uint32_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(pair.a.assoc.send(0, 53, numbered(i, 100)));
    ASSERT_TRUE(pair.run([&] { return pair.b.messages.size() == i + 1; }, Duration::seconds(1)));
    ASSERT_TRUE(pair.b.assoc.send(0, 53, numbered(i, 100)));
    pair.run([] { return false; }, Duration::seconds(1) - Duration::millis(30));
  }
  EXPECT_EQ(pair.a.assoc.heartbeats_sent(), 0u);
  EXPECT_EQ(pair.b.assoc.heartbeats_sent(), 0u);
  EXPECT_EQ(pair.wire.chunks[sctp::chunk_type::kHeartbeat], 0u);
}

TEST(SimSctpHeartbeat, PeerThatVanishesFailsTheIdleAssociation) {
  SctpConfig config;
  config.heartbeat_interval = Duration::seconds(5);
  config.max_retransmissions = 3;
  SctpPair pair(63, fixed_delay(Duration::millis(10)), config, config);
  ASSERT_TRUE(pair.connect());
  const Timestamp gone = pair.net.now();
  pair.net.unbind(pair.b);
  ASSERT_TRUE(pair.run([&] { return !pair.a.closed.empty(); }, Duration::seconds(120)));
  ASSERT_TRUE(pair.a.closed.front().error.has_value());
  // Max.Retrans + 1 unanswered heartbeats, the RTO doubling after each miss.
  EXPECT_EQ(pair.a.assoc.heartbeats_sent(), 4u);
  const double seconds = (pair.net.now() - gone).seconds_f();
  EXPECT_GT(seconds, 20.0);
  EXPECT_LT(seconds, 40.0);
}

}  // namespace
}  // namespace rtcpp::sim

namespace rtcpp::sim {
namespace {

// Bulk transfers over a loopback-fast path (25 us each way, no jitter) losing packets at
// random both ways, as nftables drops them on a real loopback: 64 KiB messages kept queued
// 4 MiB deep. With round trips this short every recovery the loss detection misses costs
// thousands of round trips in timeouts, so the transfer rate shows how many there were.
struct LoopbackLossCase {
  double loss;
  std::size_t mebibytes;
  double min_megabytes_per_second;  // virtual time
};

class SimSctpLoopbackLoss : public ::testing::TestWithParam<LoopbackLossCase> {};

TEST_P(SimSctpLoopbackLoss, BulkTransferKeepsMoving) {
  const auto param = GetParam();
  for (std::uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    LinkConfig lossy;
    lossy.delay = Duration::micros(25);
    lossy.loss = param.loss;
    LinkConfig clean;
    clean.delay = lossy.delay;
    SctpPair pair(seed, lossy, {}, {}, clean);
    ASSERT_TRUE(pair.connect());
    const std::size_t total = param.mebibytes << 20;
    const Buffer message(64 * 1024);
    std::size_t queued = 0;
    std::size_t received = 0;
    const Timestamp start = pair.net.now();
    const bool done = pair.run(
        [&] {
          while (queued < total && pair.a.assoc.total_buffered() < (4u << 20)) {
            if (!pair.a.assoc.send(0, 53, message)) break;
            queued += message.size();
            pair.net.wake(pair.a);
          }
          for (const auto& m : pair.b.messages) received += m.data.size();
          pair.b.messages.clear();
          return received == total;
        },
        Duration::seconds(120));
    const double seconds = (pair.net.now() - start).seconds_f();
    ASSERT_TRUE(done) << received << " of " << total << " bytes in " << seconds << " s";
    EXPECT_GT(static_cast<double>(total) / seconds / 1e6, param.min_megabytes_per_second)
        << seconds << " s, " << pair.a.assoc.t3_expiries() << " T3-rtx expiries, "
        << pair.a.assoc.tail_loss_probes() << " probes";
    EXPECT_TRUE(pair.a.closed.empty());
    EXPECT_TRUE(pair.b.closed.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Loss, SimSctpLoopbackLoss,
                         ::testing::Values(LoopbackLossCase{0.10, 8, 10.0},
                                           LoopbackLossCase{0.20, 8, 1.0},
                                           LoopbackLossCase{0.30, 4, 0.1}),
                         [](const ::testing::TestParamInfo<LoopbackLossCase>& param_info) {
                           return "Percent" + std::to_string(static_cast<int>(
                                                  param_info.param.loss * 100 + 0.5));
                         });

}  // namespace
}  // namespace rtcpp::sim
