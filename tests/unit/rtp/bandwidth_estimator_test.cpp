// The send-side bandwidth estimator against a model bottleneck: a FIFO link of a given
// capacity with a tail-drop queue and a propagation delay, a sender that sends what the
// estimator allows as 30 frames a second, and transport-cc results every 100 ms.
#include "rtp/bandwidth_estimator.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace rtcpp::rtp {
namespace {

constexpr std::size_t kPacketBytes = 1200;

struct Bottleneck {
  double capacity_bps = 1'000'000;
  Duration delay = Duration::millis(25);
  std::size_t queue_bytes = 60'000;
  double random_loss = 0;
  std::mt19937 rng{7};
  Timestamp link_free;

  // When the packet arrives; nothing when the queue was full or it was lost.
  std::optional<Timestamp> send(Timestamp now, std::size_t bytes) {
    if (random_loss > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < random_loss)
      return std::nullopt;
    const Timestamp start = std::max(now, link_free);
    const double queued_bytes = (start - now).seconds_f() * capacity_bps / 8;
    if (queued_bytes + static_cast<double>(bytes) > static_cast<double>(queue_bytes))
      return std::nullopt;
    link_free = start + Duration::seconds_f(static_cast<double>(bytes) * 8 / capacity_bps);
    return link_free + delay;
  }
};

struct ModelCall {
  BandwidthEstimator estimator;
  Bottleneck link;
  // The sender's own ceiling: it sends min(target, this).
  double sender_limit_bps = 1e12;
  Timestamp now = Timestamp::seconds(1);
  std::uint16_t sequence = 0;
  struct InFlight {
    TransportPacketResult result;
    Timestamp resolved;  // when the receiver knows it arrived, or that it did not
  };
  std::vector<InFlight> in_flight;
  std::vector<double> targets;  // one per 100 ms
  std::vector<double> queue_delays_ms;

  explicit ModelCall(BandwidthEstimatorConfig config) : estimator(config) {
    estimator.on_round_trip_time(Duration::millis(50));
  }

  // Runs for `duration`: a frame every 33 ms at the allowed rate, feedback every 100 ms.
  void run_for(Duration duration) {
    const Timestamp end = now + duration;
    Timestamp next_frame = now;
    Timestamp next_feedback = now + Duration::millis(100);
    while (now < end) {
      if (now >= next_frame) {
        const double rate = std::min<double>(estimator.target_bps(), sender_limit_bps);
        auto bytes = static_cast<std::size_t>(rate / 30 / 8);
        while (bytes > 0) {
          const std::size_t size = std::min(bytes, kPacketBytes);
          bytes -= size;
          TransportPacketResult result{sequence++, size, now, link.send(now, size)};
          queue_delays_ms.push_back(result.arrival ? (*result.arrival - now - link.delay).ms_f()
                                                   : 0);
          in_flight.push_back({result, result.arrival.value_or(now + link.delay)});
        }
        next_frame += Duration::micros(33'333);
      }
      if (now >= next_feedback) {
        std::vector<TransportPacketResult> results;
        std::size_t done = 0;
        while (done < in_flight.size() && in_flight[done].resolved <= now)
          results.push_back(in_flight[done++].result);
        in_flight.erase(in_flight.begin(), in_flight.begin() + static_cast<std::ptrdiff_t>(done));
        estimator.on_transport_results(results, now + link.delay);
        targets.push_back(estimator.target_bps());
        next_feedback += Duration::millis(100);
      }
      now += Duration::millis(1);
    }
  }

  double mean_target_over_last(Duration span) const {
    const auto count = static_cast<std::size_t>(span.ms() / 100);
    double sum = 0;
    for (std::size_t i = targets.size() - count; i < targets.size(); ++i) sum += targets[i];
    return sum / static_cast<double>(count);
  }
};

BandwidthEstimatorConfig starting_at(std::uint32_t start_bps) {
  BandwidthEstimatorConfig config;
  config.start_bps = start_bps;
  config.max_bps = 10'000'000;
  return config;
}

TEST(BandwidthEstimator, StartsAtTheStartRateWithinBounds) {
  BandwidthEstimator estimator(starting_at(500'000));
  EXPECT_EQ(estimator.target_bps(), 500'000u);
  EXPECT_FALSE(estimator.has_delay_based());
  BandwidthEstimatorConfig config;
  config.start_bps = 5;
  config.min_bps = 30'000;
  EXPECT_EQ(BandwidthEstimator(config).target_bps(), 30'000u);
  estimator.on_transport_results({}, Timestamp::seconds(1));
  EXPECT_EQ(estimator.target_bps(), 500'000u);
}

TEST(BandwidthEstimator, ClimbsToABottleneckAndStaysBelowIt) {
  ModelCall run(starting_at(300'000));
  run.link.capacity_bps = 1'500'000;
  run.run_for(Duration::seconds(60));
  const double mean = run.mean_target_over_last(Duration::seconds(20));
  EXPECT_GT(mean, 0.6 * run.link.capacity_bps);
  EXPECT_LT(mean, 1.1 * run.link.capacity_bps);
  EXPECT_GT(run.estimator.decreases(), 0u);
  // The queue does not stay full: the last 10 s of packets waited 150 ms at most on average.
  double waited = 0;
  const std::size_t last = run.queue_delays_ms.size() / 6;
  for (std::size_t i = run.queue_delays_ms.size() - last; i < run.queue_delays_ms.size(); ++i)
    waited += run.queue_delays_ms[i];
  EXPECT_LT(waited / static_cast<double>(last), 150);
}

TEST(BandwidthEstimator, FollowsTheCapacityDown) {
  ModelCall run(starting_at(1'000'000));
  run.link.capacity_bps = 3'000'000;
  run.run_for(Duration::seconds(20));
  const double before = run.estimator.target_bps();
  EXPECT_GT(before, 1'200'000);
  run.link.capacity_bps = 600'000;
  run.run_for(Duration::seconds(3));
  EXPECT_LT(run.estimator.target_bps(), 700'000u);
  run.run_for(Duration::seconds(20));
  const double mean = run.mean_target_over_last(Duration::seconds(10));
  EXPECT_GT(mean, 300'000);
  EXPECT_LT(mean, 700'000);
}

TEST(BandwidthEstimator, ASenderUsingLessDoesNotRaiseTheEstimateFar) {
  ModelCall run(starting_at(300'000));
  run.link.capacity_bps = 20'000'000;
  run.sender_limit_bps = 250'000;
  run.run_for(Duration::seconds(30));
  ASSERT_TRUE(run.estimator.acknowledged_bps());
  EXPECT_LE(run.estimator.target_bps(), 1.5 * 260'000 + 10'000);
  EXPECT_EQ(run.estimator.decreases(), 0u);
}

TEST(BandwidthEstimator, HeavyRandomLossCutsAndLightLossDoesNot) {
  ModelCall heavy(starting_at(1'000'000));
  heavy.link.capacity_bps = 50'000'000;
  heavy.link.random_loss = 0.25;
  heavy.run_for(Duration::seconds(10));
  EXPECT_LT(heavy.estimator.target_bps(), 300'000u);
  EXPECT_EQ(heavy.estimator.usage(), BandwidthUsage::kNormal);

  ModelCall light(starting_at(1'000'000));
  light.link.capacity_bps = 50'000'000;
  light.link.random_loss = 0.01;
  light.run_for(Duration::seconds(10));
  EXPECT_GT(light.estimator.target_bps(), 1'000'000u);
}

TEST(BandwidthEstimator, ReceiverReportsDriveTheLossBasedRateWithoutTransportCc) {
  BandwidthEstimator estimator(starting_at(1'000'000));
  Timestamp now = Timestamp::seconds(1);
  for (int i = 0; i < 5; ++i) {
    estimator.on_loss_report(77, now);  // 30 %
    now += Duration::seconds(1);
  }
  EXPECT_LT(estimator.target_bps(), 500'000u);
  const auto cut = estimator.target_bps();
  estimator.on_loss_report(0, now);
  now += Duration::seconds(1);
  estimator.on_loss_report(0, now);
  // At most 8 % a second, and 1 kbit/s.
  EXPECT_GT(estimator.target_bps(), cut);
  EXPECT_LE(estimator.target_bps(), static_cast<std::uint32_t>(cut * 1.09 * 1.09 + 2000));
}

TEST(BandwidthEstimator, AJumpOfTheReceiversClockRestartsTheAcknowledgedRate) {
  // 500 kbit/s acknowledged, then one report from days ahead, then the clock as before: the
  // window starts again instead of keeping every packet after the jump.
  BandwidthEstimator estimator(starting_at(500'000));
  Timestamp now = Timestamp::seconds(1);
  std::uint16_t sequence = 0;
  auto report = [&](Timestamp arrival) {
    const TransportPacketResult result{sequence++, 1250, now, arrival};
    estimator.on_transport_results({&result, 1}, now);
  };
  for (int i = 0; i < 200; ++i) {  // 50 packets a second of 1250 bytes
    report(now + Duration::millis(20));
    now += Duration::millis(20);
  }
  ASSERT_TRUE(estimator.acknowledged_bps());
  EXPECT_NEAR(*estimator.acknowledged_bps(), 500'000, 25'000);
  report(now + Duration::seconds(500'000));
  for (int i = 0; i < 200; ++i) {
    report(now + Duration::millis(20));
    now += Duration::millis(20);
  }
  ASSERT_TRUE(estimator.acknowledged_bps());
  EXPECT_NEAR(*estimator.acknowledged_bps(), 500'000, 25'000);
}

TEST(BandwidthEstimator, ReceiverReportsTakeOverWhenFeedbackStops) {
  BandwidthEstimator estimator(starting_at(1'000'000));
  const Timestamp now = Timestamp::seconds(1);
  const TransportPacketResult result{0, 1000, now, now};
  estimator.on_transport_results({&result, 1}, now);
  ASSERT_TRUE(estimator.has_delay_based());
  // Reports are ignored while feedback comes...
  estimator.on_loss_report(128, now + Duration::seconds(1));
  EXPECT_EQ(estimator.target_bps(), 1'000'000u);
  // ...and used once it has been silent for 5 s.
  estimator.on_loss_report(128, now + Duration::seconds(6));
  EXPECT_FALSE(estimator.has_delay_based());
  EXPECT_LT(estimator.target_bps(), 1'000'000u);
}

TEST(BandwidthEstimator, HostileTimesKeepTheRateInBounds) {
  BandwidthEstimatorConfig config = starting_at(800'000);
  config.min_bps = 50'000;
  config.max_bps = 2'000'000;
  BandwidthEstimator estimator(config);
  std::mt19937 rng(3);
  Timestamp now = Timestamp::seconds(1);
  std::uint16_t sequence = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<TransportPacketResult> results;
    for (int i = 0; i < 20; ++i) {
      TransportPacketResult r;
      r.sequence = sequence++;
      r.size = rng() % 1500;
      r.sent = Timestamp::micros(static_cast<std::int64_t>(rng() % 100'000'000));
      if (rng() % 4 != 0) r.arrival = Timestamp::micros(static_cast<std::int64_t>(rng()) * 1000);
      results.push_back(r);
    }
    estimator.on_transport_results(results, now);
    now += Duration::millis(static_cast<std::int64_t>(rng() % 300));
    ASSERT_GE(estimator.target_bps(), config.min_bps);
    ASSERT_LE(estimator.target_bps(), config.max_bps);
  }
}

}  // namespace
}  // namespace rtcpp::rtp
