#include "rtp/bandwidth_estimator.hpp"

#include <algorithm>
#include <cmath>

namespace rtcpp::rtp {
namespace {

// Trend filter: the accumulated delay is smoothed with this weight on the past, and the slope
// is scaled by the number of deltas seen (at most 60) and this gain before it meets the
// threshold.
constexpr double kSmoothing = 0.9;
constexpr double kTrendGain = 4.0;
constexpr std::size_t kMaxDeltaScale = 60;
// gcc 5.4: the threshold follows the trend, faster down than up, within these bounds; a trend
// this far above it is a spike that does not move it.
constexpr double kThresholdUp = 0.0087;
constexpr double kThresholdDown = 0.039;
constexpr double kMinThresholdMs = 6;
constexpr double kMaxThresholdMs = 600;
constexpr double kThresholdSpikeMs = 15;
// Overuse is signalled once the trend has stayed above the threshold this long.
constexpr double kOverusingTimeMs = 10;
// A one-way delay change this large is a clock jump or a route change, not queueing.
constexpr double kMaxDelayVariationMs = 3000;
// gcc 5.2: packets arriving within this of the group's last one, and sooner than they were
// sent apart, were queued together: they join the group (at most kMaxBurst long).
constexpr Duration kBurstArrival = Duration::millis(5);
constexpr Duration kMaxBurst = Duration::millis(100);

// gcc 5.5: multiplicative increase of 8 % a second far from the link's capacity, a cut to 85 %
// of the acknowledged rate on overuse.
constexpr double kIncreasePerSecond = 1.08;
constexpr double kDecreaseFactor = 0.85;
constexpr double kAssumedPacketBits = 1200 * 8;
// gcc 6: the loss thresholds.
constexpr double kHighLoss = 0.10;
constexpr double kLowLoss = 0.02;
constexpr std::uint32_t kMinLossPackets = 20;
constexpr Duration kLossDecreaseInterval = Duration::millis(300);
constexpr Duration kLossWindow = Duration::millis(500);
// Without transport-cc results this long, the delay-based rate is no longer current.
constexpr Duration kFeedbackSilence = Duration::seconds(5);
// Arrivals this far from the newest are a jump of the receiver's clock.
constexpr Duration kArrivalJump = Duration::seconds(2);
// At most this many packets in the acknowledged window (500 ms of 1200-byte packets at
// 380 Mbit/s).
constexpr std::size_t kMaxArrivals = 20'000;

double ms_between(Timestamp later, Timestamp earlier) {
  return (later - earlier).ms_f();
}

// Least-squares slope of y over x.
double slope_of(const std::deque<std::pair<double, double>>& points) {
  double sum_x = 0;
  double sum_y = 0;
  for (const auto& [x, y] : points) {
    sum_x += x;
    sum_y += y;
  }
  const auto n = static_cast<double>(points.size());
  const double mean_x = sum_x / n;
  const double mean_y = sum_y / n;
  double numerator = 0;
  double denominator = 0;
  for (const auto& [x, y] : points) {
    numerator += (x - mean_x) * (y - mean_y);
    denominator += (x - mean_x) * (x - mean_x);
  }
  return denominator == 0 ? 0 : numerator / denominator;
}

}  // namespace

void DelayTrendDetector::on_packet(Timestamp sent, Timestamp arrival) {
  if (!current_.valid) {
    current_ = {sent, sent, arrival, arrival, true};
    return;
  }
  // Feedback reports packets in sequence order, which is send order: an earlier send time
  // belongs to a group already closed.
  if (sent < current_.first_sent) return;
  const bool same_send_burst = sent - current_.first_sent <= kBurstSpan;
  const Duration arrival_gap = arrival - current_.last_arrival;
  const bool queued_together = arrival_gap >= Duration::zero() && arrival_gap < kBurstArrival &&
                               arrival_gap < sent - current_.last_sent &&
                               arrival - current_.first_arrival < kMaxBurst;
  if (same_send_burst || queued_together) {
    current_.last_sent = std::max(current_.last_sent, sent);
    current_.last_arrival = std::max(current_.last_arrival, arrival);
    return;
  }
  if (previous_.valid) {
    const double send_delta = ms_between(current_.last_sent, previous_.last_sent);
    const double arrival_delta = ms_between(current_.last_arrival, previous_.last_arrival);
    // A group that arrived before the one sent ahead of it was reordered: no delay sample.
    if (arrival_delta >= 0) {
      on_group_delta(send_delta, arrival_delta - send_delta, current_.last_arrival);
    }
  }
  previous_ = current_;
  current_ = {sent, sent, arrival, arrival, true};
}

void DelayTrendDetector::on_group_delta(double send_delta_ms, double delay_variation_ms,
                                        Timestamp arrival) {
  if (std::abs(delay_variation_ms) > kMaxDelayVariationMs) {
    // Start over: the delays before and after do not compare.
    samples_.clear();
    accumulated_delay_ms_ = 0;
    smoothed_delay_ms_ = 0;
    deltas_ = 0;
    first_arrival_.reset();
    previous_trend_ = 0;
    overusing_ms_ = -1;
    overuse_count_ = 0;
    usage_ = BandwidthUsage::kNormal;
    return;
  }
  if (!first_arrival_) first_arrival_ = arrival;
  deltas_ = std::min(deltas_ + 1, kMaxDeltaScale);
  accumulated_delay_ms_ += delay_variation_ms;
  smoothed_delay_ms_ = kSmoothing * smoothed_delay_ms_ + (1 - kSmoothing) * accumulated_delay_ms_;
  samples_.emplace_back(ms_between(arrival, *first_arrival_), smoothed_delay_ms_);
  if (samples_.size() > kWindow) samples_.pop_front();
  const double slope = samples_.size() == kWindow ? slope_of(samples_) : previous_trend_;
  modified_trend_ = static_cast<double>(deltas_) * slope * kTrendGain;
  detect(send_delta_ms, slope);
  previous_trend_ = slope;
  adapt_threshold(arrival);
}

void DelayTrendDetector::detect(double send_delta_ms, double slope) {
  if (deltas_ < 2) return;
  if (modified_trend_ > threshold_ms_) {
    overusing_ms_ = overusing_ms_ < 0 ? send_delta_ms / 2 : overusing_ms_ + send_delta_ms;
    ++overuse_count_;
    // gcc 5.4: overuse only when it lasted, and the delay still grows.
    if (overusing_ms_ > kOverusingTimeMs && overuse_count_ > 1 && slope >= previous_trend_) {
      overusing_ms_ = 0;
      overuse_count_ = 0;
      usage_ = BandwidthUsage::kOverusing;
    }
  } else if (modified_trend_ < -threshold_ms_) {
    overusing_ms_ = -1;
    overuse_count_ = 0;
    usage_ = BandwidthUsage::kUnderusing;
  } else {
    overusing_ms_ = -1;
    overuse_count_ = 0;
    usage_ = BandwidthUsage::kNormal;
  }
}

void DelayTrendDetector::adapt_threshold(Timestamp arrival) {
  if (!last_threshold_update_) last_threshold_update_ = arrival;
  const double magnitude = std::abs(modified_trend_);
  if (magnitude > threshold_ms_ + kThresholdSpikeMs) {
    last_threshold_update_ = arrival;
    return;
  }
  const double gain = magnitude < threshold_ms_ ? kThresholdDown : kThresholdUp;
  const double elapsed = std::clamp(ms_between(arrival, *last_threshold_update_), 0.0, 100.0);
  threshold_ms_ += gain * (magnitude - threshold_ms_) * elapsed;
  threshold_ms_ = std::clamp(threshold_ms_, kMinThresholdMs, kMaxThresholdMs);
  last_threshold_update_ = arrival;
}

BandwidthEstimator::BandwidthEstimator(BandwidthEstimatorConfig config)
    : config_(config),
      delay_bps_(config.start_bps),
      loss_bps_(config.start_bps),
      target_bps_(config.start_bps) {
  config_.max_bps = std::max(config_.max_bps, config_.min_bps);
  delay_bps_ = clamp_rate(delay_bps_);
  loss_bps_ = clamp_rate(loss_bps_);
  target_bps_ = static_cast<std::uint32_t>(clamp_rate(target_bps_));
}

double BandwidthEstimator::clamp_rate(double bps) const {
  return std::clamp(bps, static_cast<double>(config_.min_bps),
                    static_cast<double>(config_.max_bps));
}

void BandwidthEstimator::on_transport_results(std::span<const TransportPacketResult> results,
                                              Timestamp now) {
  if (results.empty()) return;
  has_delay_based_ = true;
  last_results_ = now;
  if (!loss_window_started_) loss_window_started_ = now;
  for (const auto& result : results) {
    ++loss_window_packets_;
    if (!result.arrival) {
      ++loss_window_lost_;
      continue;
    }
    update_acknowledged(result);
    detector_.on_packet(result.sent, *result.arrival);
  }
  update_delay_based(now);
  // A loss fraction is judged over at least kMinLossPackets; a window without loss lets the
  // rate grow after kLossWindow, however few packets a low rate sends.
  const bool judged = loss_window_packets_ >= kMinLossPackets;
  const bool quiet = loss_window_lost_ == 0 && now - *loss_window_started_ >= kLossWindow;
  if (judged || quiet) {
    update_loss_based(static_cast<double>(loss_window_lost_) / loss_window_packets_, now);
    loss_window_packets_ = 0;
    loss_window_lost_ = 0;
    loss_window_started_ = now;
  }
  settle();
}

void BandwidthEstimator::on_loss_report(std::uint8_t fraction_lost, Timestamp now) {
  // With transport-cc feedback the loss is known packet by packet already; when that feedback
  // stopped (renegotiated away, or a peer that gave up), the reports are what is left.
  if (has_delay_based_ && last_results_ && now - *last_results_ < kFeedbackSilence) return;
  has_delay_based_ = false;
  update_loss_based(fraction_lost / 256.0, now);
  settle();
}

void BandwidthEstimator::update_acknowledged(const TransportPacketResult& result) {
  const Timestamp arrival = *result.arrival;
  if (latest_arrival_) {
    // The receiver's clock jumped (its reports are hostile input too): the window starts again
    // rather than keep what it can no longer expire.
    if (arrival > *latest_arrival_ + kArrivalJump || arrival + kArrivalJump < *latest_arrival_) {
      arrivals_.clear();
      arrived_bytes_ = 0;
      first_arrival_.reset();
      latest_arrival_.reset();
    } else if (arrival + kAcknowledgedWindow <= *latest_arrival_) {
      return;  // reordered from before the window
    }
  }
  if (!first_arrival_) first_arrival_ = arrival;
  if (!latest_arrival_ || arrival > *latest_arrival_) latest_arrival_ = arrival;
  arrivals_.emplace_back(arrival, result.size);
  arrived_bytes_ += result.size;
  while (!arrivals_.empty() && (arrivals_.front().first + kAcknowledgedWindow <= *latest_arrival_ ||
                                arrivals_.size() > kMaxArrivals)) {
    arrived_bytes_ -= arrivals_.front().second;
    arrivals_.pop_front();
  }
  // Known once a whole window has passed since the first arrival.
  if (*latest_arrival_ - *first_arrival_ >= kAcknowledgedWindow) {
    const double bps = static_cast<double>(arrived_bytes_) * 8 / kAcknowledgedWindow.seconds_f();
    acknowledged_bps_ = static_cast<std::uint32_t>(std::min(bps, 4e9));
  }
}

void BandwidthEstimator::update_delay_based(Timestamp now) {
  switch (detector_.usage()) {
    case BandwidthUsage::kOverusing:
      state_ = RateState::kDecrease;
      break;
    case BandwidthUsage::kUnderusing:
      // gcc 5.5: the queues drain; hold until they are empty.
      state_ = RateState::kHold;
      break;
    case BandwidthUsage::kNormal:
      if (state_ == RateState::kHold) state_ = RateState::kIncrease;
      break;
  }
  const double elapsed_s =
      last_rate_change_ ? std::min((now - *last_rate_change_).seconds_f(), 1.0) : 0.0;
  const std::optional<double> acknowledged =
      acknowledged_bps_ ? std::optional<double>(*acknowledged_bps_) : std::nullopt;
  double rate = delay_bps_;
  if (state_ == RateState::kIncrease) {
    if (link_capacity_bps_ && acknowledged) {
      const double capacity_kbps = *link_capacity_bps_ / 1000;
      const double deviation_kbps = std::sqrt(link_capacity_variance_ * capacity_kbps);
      // Well above the capacity learnt: the link changed; find it again from scratch.
      if (*acknowledged / 1000 > capacity_kbps + 3 * deviation_kbps) link_capacity_bps_.reset();
    }
    if (link_capacity_bps_) {
      // Near the capacity: about one packet more per response time (gcc 5.5 additive).
      const double response_s = 0.1 + (rtt_ ? rtt_->seconds_f() : 0.1);
      rate += std::max(1000.0, kAssumedPacketBits / response_s) * elapsed_s;
    } else {
      rate *= std::pow(kIncreasePerSecond, elapsed_s);
      rate += 1000 * elapsed_s;
    }
    // Never far beyond what the receiver got (an application-limited sender learns nothing
    // about the capacity above its rate).
    if (acknowledged) {
      const double limit = 1.5 * *acknowledged + 10'000;
      if (rate > delay_bps_ && rate > limit) rate = std::max(delay_bps_, limit);
    }
    last_rate_change_ = now;
  } else if (state_ == RateState::kDecrease) {
    // One cut per round trip (or sooner when the rate is twice what arrives), each to 85 %
    // of what the receiver acknowledged.
    const Duration interval = std::clamp(rtt_.value_or(Duration::millis(200)), Duration::millis(10),
                                         Duration::millis(200));
    const bool far_above = acknowledged && *acknowledged < 0.5 * delay_bps_;
    if (!last_decrease_ || now - *last_decrease_ >= interval || far_above) {
      const double base = acknowledged.value_or(delay_bps_);
      rate = std::min(delay_bps_, kDecreaseFactor * base);
      if (acknowledged) {
        const double sample_kbps = *acknowledged / 1000;
        if (!link_capacity_bps_) {
          link_capacity_bps_ = *acknowledged;
        } else {
          const double capacity_kbps = 0.95 * (*link_capacity_bps_ / 1000) + 0.05 * sample_kbps;
          const double error = capacity_kbps - sample_kbps;
          link_capacity_variance_ = std::clamp(
              0.95 * link_capacity_variance_ + 0.05 * error * error / std::max(capacity_kbps, 1.0),
              0.4, 2.5);
          link_capacity_bps_ = capacity_kbps * 1000;
        }
      }
      last_decrease_ = now;
      ++decreases_;
    }
    state_ = RateState::kHold;
    last_rate_change_ = now;
  } else {
    last_rate_change_ = now;
  }
  delay_bps_ = clamp_rate(rate);
}

void BandwidthEstimator::update_loss_based(double loss, Timestamp now) {
  const double elapsed_s =
      last_loss_update_ ? std::min((now - *last_loss_update_).seconds_f(), 1.0) : 0.0;
  last_loss_update_ = now;
  if (loss > kHighLoss) {
    const Duration interval = kLossDecreaseInterval + rtt_.value_or(Duration::zero());
    if (!last_loss_decrease_ || now - *last_loss_decrease_ >= interval) {
      // Cut from what got through where that is known: the loss of one episode is reported
      // over several feedback messages, and cuts that compound on the target would go far
      // below the path's rate while the queue of the earlier rate still drains.
      double base = target_bps_;
      if (acknowledged_bps_) base = std::min(base, static_cast<double>(*acknowledged_bps_));
      loss_bps_ = std::min(loss_bps_, clamp_rate(base * (1 - 0.5 * loss)));
      last_loss_decrease_ = now;
    }
  } else if (loss < kLowLoss) {
    loss_bps_ = clamp_rate(loss_bps_ * std::pow(kIncreasePerSecond, elapsed_s) + 1000 * elapsed_s);
  }
}

void BandwidthEstimator::settle() {
  // The loss-based rate never runs ahead of the delay-based one, so that a burst of loss cuts
  // from what is sent, not from a rate that grew unseen.
  if (has_delay_based_) loss_bps_ = std::min(loss_bps_, delay_bps_);
  target_bps_ = static_cast<std::uint32_t>(clamp_rate(loss_bps_));
}

}  // namespace rtcpp::rtp
