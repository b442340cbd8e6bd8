// Link impairments: each one's statistics over many packets, with tolerances of about four
// standard deviations (the runs are seeded, so they are also exactly repeatable).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>

#include "sim_test_util.hpp"

namespace rtcpp::sim {
namespace {

using testing::TwoHosts;

std::string lossy_scenario(std::uint64_t seed) {
  LinkConfig link;
  link.delay = Duration::millis(20);
  link.jitter = Duration::millis(5);
  link.loss = 0.05;
  link.reorder = 0.05;
  link.duplicate = 0.02;
  link.burst = {0.01, 0.3, 0, 1};
  link.bandwidth_bps = 20'000'000;
  TwoHosts t(seed, link);
  t.b.echo = true;
  t.net.set_links(t.host_a, link, link);  // the echoes cross impaired links too
  t.send(3000, Duration::millis(1));
  return t.net.trace_hash();
}

TEST(SimLink, SameSeedSameTraceBitForBit) {
  const std::string first = lossy_scenario(42);
  ASSERT_EQ(first.size(), 64u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(lossy_scenario(42), first);
  EXPECT_NE(lossy_scenario(43), first);
}

TEST(SimLink, RandomLossRate) {
  LinkConfig link;
  link.loss = 0.1;
  TwoHosts t(1, link);
  constexpr int kPackets = 20000;
  t.send(kPackets, Duration::millis(1));
  const double loss = 1.0 - static_cast<double>(t.b.arrivals.size()) / kPackets;
  // sd = sqrt(0.1 * 0.9 / 20000) = 0.0021.
  EXPECT_NEAR(loss, 0.1, 0.0085);
  EXPECT_EQ(t.net.counters().lost, kPackets - t.b.arrivals.size());
  const Counters& down = t.net.host_link(t.host_b, Direction::kDown);
  EXPECT_EQ(down.sent, static_cast<std::uint64_t>(kPackets));
  EXPECT_EQ(down.lost, t.net.counters().lost);
  EXPECT_EQ(down.delivered, t.b.arrivals.size());
  EXPECT_EQ(t.net.host_link(t.host_a, Direction::kUp).lost, 0u);
}

TEST(SimLink, GilbertElliottBurstLoss) {
  LinkConfig link;
  link.burst = {0.01, 0.25, 0.0, 1.0};  // mean burst 1 / 0.25 = 4 packets
  TwoHosts t(2, link);
  constexpr int kPackets = 100000;
  t.send(kPackets, Duration::micros(100));
  std::vector<bool> received(kPackets, false);
  for (const auto& a : t.b.arrivals) received[a.sequence] = true;
  int lost = 0;
  int bursts = 0;
  for (int i = 0; i < kPackets; ++i) {
    if (received[i]) continue;
    ++lost;
    if (i == 0 || received[i - 1]) ++bursts;
  }
  // Stationary loss 0.01 / 0.26 = 3.85 %. The chain's correlation (1 - 0.26 = 0.74) widens the
  // sd to sqrt(pi (1 - pi) / N * 1.74 / 0.26) = 0.0016.
  EXPECT_NEAR(static_cast<double>(lost) / kPackets, 0.0385, 0.0065);
  // Bursts are geometric (sd 3.5) and about 960 of them: sd of the mean 0.11.
  EXPECT_NEAR(static_cast<double>(lost) / bursts, 4.0, 0.45);
  EXPECT_EQ(static_cast<std::uint64_t>(lost), t.net.counters().burst_lost);
  EXPECT_EQ(t.net.counters().lost, 0u);
}

TEST(SimLink, ReorderingFraction) {
  LinkConfig link;
  link.delay = Duration::millis(10);
  link.reorder = 0.05;
  link.reorder_delay = Duration::millis(5);
  TwoHosts t(3, link);
  constexpr int kPackets = 20000;
  t.send(kPackets, Duration::millis(1));
  ASSERT_EQ(t.b.arrivals.size(), static_cast<std::size_t>(kPackets));
  // Count packets that arrive after a higher sequence number.
  std::uint32_t highest = 0;
  int late = 0;
  for (const auto& a : t.b.arrivals) {
    if (a.sequence < highest) ++late;
    highest = std::max(highest, a.sequence);
  }
  // sd = sqrt(0.05 * 0.95 / 20000) = 0.0015.
  EXPECT_NEAR(static_cast<double>(late) / kPackets, 0.05, 0.0062);
  // Every held-back packet is overtaken (one at the very end may have nothing behind it).
  EXPECT_NEAR(late, static_cast<double>(t.net.counters().reordered), 2.0);
}

TEST(SimLink, JitterAloneKeepsOrder) {
  LinkConfig link;
  link.delay = Duration::millis(10);
  link.jitter = Duration::millis(30);
  TwoHosts t(13, link);
  t.send(5000, Duration::millis(1));
  ASSERT_EQ(t.b.arrivals.size(), 5000u);
  for (std::size_t i = 0; i < t.b.arrivals.size(); ++i) ASSERT_EQ(t.b.arrivals[i].sequence, i);
  EXPECT_EQ(t.net.counters().reordered, 0u);
}

TEST(SimLink, DuplicationFraction) {
  LinkConfig link;
  link.duplicate = 0.03;
  TwoHosts t(4, link);
  constexpr int kPackets = 20000;
  t.send(kPackets, Duration::millis(1));
  const double extra = static_cast<double>(t.b.arrivals.size() - kPackets) / kPackets;
  // sd = sqrt(0.03 * 0.97 / 20000) = 0.0012.
  EXPECT_NEAR(extra, 0.03, 0.005);
  EXPECT_EQ(t.net.counters().duplicated, t.b.arrivals.size() - kPackets);
  // Each duplicate is the same packet again, right behind the original.
  std::vector<int> copies(kPackets, 0);
  for (const auto& a : t.b.arrivals) ++copies[a.sequence];
  EXPECT_EQ(*std::max_element(copies.begin(), copies.end()), 2);
  EXPECT_EQ(*std::min_element(copies.begin(), copies.end()), 1);
}

struct DelayStats {
  double mean_ms = 0;
  double sd_ms = 0;
  std::int64_t min_us = INT64_MAX;
  std::int64_t max_us = INT64_MIN;
};

DelayStats delay_stats(const std::vector<testing::Probe::Arrival>& arrivals) {
  DelayStats s;
  double sum = 0;
  double sum_sq = 0;
  for (const auto& a : arrivals) {
    const std::int64_t d = (a.received - a.sent).us();
    s.min_us = std::min(s.min_us, d);
    s.max_us = std::max(s.max_us, d);
    sum += static_cast<double>(d) / 1000;
    sum_sq += static_cast<double>(d) / 1000 * static_cast<double>(d) / 1000;
  }
  const auto n = static_cast<double>(arrivals.size());
  s.mean_ms = sum / n;
  s.sd_ms = std::sqrt(sum_sq / n - s.mean_ms * s.mean_ms);
  return s;
}

TEST(SimLink, UniformJitterBoundsAndMean) {
  LinkConfig link;
  link.delay = Duration::millis(20);
  link.jitter = Duration::millis(10);
  TwoHosts t(5, link);
  t.send(5000, Duration::millis(20));  // spaced wider than the jitter: no FIFO holding
  ASSERT_EQ(t.b.arrivals.size(), 5000u);
  const DelayStats s = delay_stats(t.b.arrivals);
  EXPECT_GE(s.min_us, 20000);
  EXPECT_LT(s.min_us, 20100);
  EXPECT_LE(s.max_us, 30000);
  EXPECT_GT(s.max_us, 29900);
  // Uniform on [20, 30] ms: mean 25, sd 10 / sqrt(12) = 2.89; sd of the mean 0.04.
  EXPECT_NEAR(s.mean_ms, 25.0, 0.17);
  EXPECT_NEAR(s.sd_ms, 2.89, 0.12);
}

TEST(SimLink, NormalJitterMeanAndSpread) {
  LinkConfig link;
  link.delay = Duration::millis(50);
  link.jitter = Duration::millis(5);
  link.jitter_model = JitterModel::kNormal;
  TwoHosts t(6, link);
  t.send(5000, Duration::millis(100));
  ASSERT_EQ(t.b.arrivals.size(), 5000u);
  const DelayStats s = delay_stats(t.b.arrivals);
  // sd of the mean 5 / sqrt(5000) = 0.07; of the sample sd about 5 / sqrt(10000) = 0.05.
  EXPECT_NEAR(s.mean_ms, 50.0, 0.3);
  EXPECT_NEAR(s.sd_ms, 5.0, 0.2);
  EXPECT_LT(s.min_us, 40000);  // it really is two-sided
  EXPECT_GT(s.max_us, 60000);
}

TEST(SimLink, NormalJitterNeverMakesDelayNegative) {
  LinkConfig link;
  link.delay = Duration::millis(1);
  link.jitter = Duration::millis(20);
  link.jitter_model = JitterModel::kNormal;
  TwoHosts t(7, link);
  t.send(2000, Duration::millis(100));
  ASSERT_EQ(t.b.arrivals.size(), 2000u);
  const auto zero = std::count_if(t.b.arrivals.begin(), t.b.arrivals.end(),
                                  [](const auto& a) { return a.received == a.sent; });
  EXPECT_GE(delay_stats(t.b.arrivals).min_us, 0);
  // About P(N(1, 20) < 0) = 48 % are clamped to zero delay.
  EXPECT_GT(zero, 800);
}

TEST(SimLink, BandwidthLimitAndQueueBound) {
  LinkConfig link;
  link.bandwidth_bps = 1'000'000;
  link.queue_bytes = 20000;
  link.delay = Duration::millis(10);
  TwoHosts t(8, link, 1000);
  // Offer 2 Mbit/s (1028-byte IP packets every 4 ms) for 10 s.
  t.send(2500, Duration::millis(4));
  const auto& arrivals = t.b.arrivals;
  ASSERT_GT(arrivals.size(), 1000u);
  const double seconds = (arrivals.back().received - arrivals.front().received).seconds_f();
  const double bits = static_cast<double>(arrivals.size() - 1) * 1028 * 8;
  EXPECT_NEAR(bits / seconds, 1e6, 1e4);  // within 1 %
  const Counters& down = t.net.host_link(t.host_b, Direction::kDown);
  EXPECT_NEAR(static_cast<double>(down.queue_dropped), 1250, 60);  // half the offered load
  EXPECT_EQ(down.queue_dropped + arrivals.size(), 2500u);
  // The queue holds 19 packets of 8.224 ms each at most, so queueing delay stays below that.
  std::int64_t worst = 0;
  for (const auto& a : arrivals) worst = std::max(worst, (a.received - a.sent).us());
  EXPECT_LE(worst, 10000 + 19 * 8224 + 1);
  EXPECT_GE(worst, 10000 + 17 * 8224);  // and it did fill up
}

TEST(SimLink, BandwidthBelowLimitAddsOnlySerialisation) {
  LinkConfig link;
  link.bandwidth_bps = 8'000'000;  // 1 byte per microsecond
  TwoHosts t(9, link, 972);        // 1000-byte IP packets: 1000 us each
  t.send(500, Duration::millis(2));
  ASSERT_EQ(t.b.arrivals.size(), 500u);
  for (const auto& a : t.b.arrivals) ASSERT_EQ((a.received - a.sent).us(), 1000);
  EXPECT_EQ(t.net.counters().queue_dropped, 0u);
}

TEST(SimLink, MtuDropsOnlyOversizeDatagrams) {
  LinkConfig link;
  link.mtu = 1200;
  TwoHosts fits(10, link, 1200 - 28);  // IPv4 20 + UDP 8
  fits.send(100, Duration::millis(1));
  EXPECT_EQ(fits.b.arrivals.size(), 100u);
  EXPECT_EQ(fits.net.counters().mtu_dropped, 0u);
  TwoHosts too_big(10, link, 1200 - 27);
  too_big.send(100, Duration::millis(1));
  EXPECT_EQ(too_big.b.arrivals.size(), 0u);
  EXPECT_EQ(too_big.net.counters().mtu_dropped, 100u);

  // Mixed sizes on one link: exactly the oversize ones go.
  TwoHosts mixed(10, link);
  for (std::size_t size : {100, 1172, 1173, 1400, 12, 1171}) {
    mixed.a.send_now({testing::kIpB, 2000}, mixed.net.now(), size);
  }
  mixed.net.wake(mixed.node_a);
  mixed.net.run_for(Duration::millis(10));
  std::vector<std::size_t> sizes;
  for (const auto& a : mixed.b.arrivals) sizes.push_back(a.size);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{100, 1172, 12, 1171}));
  EXPECT_EQ(mixed.net.counters().mtu_dropped, 2u);
}

TEST(SimLink, MtuCountsTheIpv6Header) {
  const IpAddress a = *IpAddress::parse("2001:db8::1");
  const IpAddress b = *IpAddress::parse("2001:db8::2");
  Network net(11);
  const auto ha = net.add_host({a});
  const auto hb = net.add_host({b});
  LinkConfig link;
  link.mtu = 1280;
  net.set_links(hb, LinkConfig{}, link);
  testing::Probe pa({a, 1}), pb({b, 2});
  SansIoNode<testing::Probe> na(pa), nb(pb);
  net.bind(ha, {a, 1}, na);
  net.bind(hb, {b, 2}, nb);
  pa.send_now({b, 2}, net.now(), 1280 - 48);
  pa.send_now({b, 2}, net.now(), 1280 - 47);
  net.wake(na);
  net.run_for(Duration::millis(1));
  ASSERT_EQ(pb.arrivals.size(), 1u);
  EXPECT_EQ(pb.arrivals[0].size, 1232u);
  EXPECT_EQ(net.counters().mtu_dropped, 1u);
}

}  // namespace
}  // namespace rtcpp::sim
