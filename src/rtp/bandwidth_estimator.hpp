// Send-side bandwidth estimation (draft-ietf-rmcat-gcc-02, Google Congestion Control), sans-IO:
// how many bits per second the media senders of one transport may send.
//
// Two controllers, and the lower of their rates is the target:
// - delay-based (gcc 5): packets are grouped by send time, the change in one-way delay between
//   groups goes through a trend filter (the slope of the smoothed accumulated delay over the
//   last groups, as libwebrtc's trendline estimator does), and an adaptive threshold turns the
//   trend into overuse, underuse or normal. An AIMD controller (gcc 5.5) raises the rate while
//   normal and cuts it to 85 % of what the receiver acknowledged on overuse. It runs on the
//   per-packet results of transport-cc feedback (rtp/transport_cc.hpp).
// - loss-based (gcc 6): more than 10 % lost cuts the rate by half the loss, less than 2 % lets it
//   grow again; in between it holds. It runs on the same results, or on the fraction lost of
//   RTCP receiver reports where the peer gives no transport-cc feedback.
//
// The rate never grows beyond 1.5 times what the receiver acknowledged (plus 10 kbit/s): a
// sender that uses less than its target does not learn a capacity it never tried.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>

#include "base/time.hpp"
#include "rtp/transport_cc.hpp"

namespace rtcpp::rtp {

enum class BandwidthUsage : std::uint8_t { kNormal, kUnderusing, kOverusing };

// The delay-based detector: groups, trend filter and adaptive threshold (gcc 5.2-5.4).
class DelayTrendDetector {
 public:
  // Packets sent within this span of a group's first packet belong to that group (gcc 5.2).
  static constexpr Duration kBurstSpan = Duration::millis(5);
  // Groups the trend's slope is fitted over.
  static constexpr std::size_t kWindow = 20;

  // One received packet, in send order (as feedback reports them).
  void on_packet(Timestamp sent, Timestamp arrival);
  BandwidthUsage usage() const noexcept { return usage_; }
  // The last modified trend and threshold (ms), for tests and logs.
  double trend() const noexcept { return modified_trend_; }
  double threshold() const noexcept { return threshold_ms_; }

 private:
  struct Group {
    Timestamp first_sent;
    Timestamp last_sent;
    Timestamp first_arrival;
    Timestamp last_arrival;
    bool valid = false;
  };
  void on_group_delta(double send_delta_ms, double delay_variation_ms, Timestamp arrival);
  void detect(double send_delta_ms, double slope);
  void adapt_threshold(Timestamp arrival);

  Group current_;
  Group previous_;
  std::optional<Timestamp> first_arrival_;
  double accumulated_delay_ms_ = 0;
  double smoothed_delay_ms_ = 0;
  std::deque<std::pair<double, double>> samples_;  // (arrival ms, smoothed delay ms)
  std::size_t deltas_ = 0;
  double modified_trend_ = 0;
  double previous_trend_ = 0;
  double threshold_ms_ = 12.5;
  std::optional<Timestamp> last_threshold_update_;
  double overusing_ms_ = -1;  // how long the trend has been above the threshold; -1: not
  int overuse_count_ = 0;
  BandwidthUsage usage_ = BandwidthUsage::kNormal;
};

struct BandwidthEstimatorConfig {
  std::uint32_t start_bps = 1'000'000;
  std::uint32_t min_bps = 30'000;
  std::uint32_t max_bps = 20'000'000;
};

class BandwidthEstimator {
 public:
  explicit BandwidthEstimator(BandwidthEstimatorConfig config = {});

  // The per-packet results of one transport-cc feedback message (TransportCcSender).
  void on_transport_results(std::span<const TransportPacketResult> results, Timestamp now);
  // An RTCP report's fraction lost (0-255 of 256) about packets we sent, for transports
  // without transport-cc feedback (ignored while transport-cc results come; 5 s after they
  // stop, the estimate falls back on these).
  void on_loss_report(std::uint8_t fraction_lost, Timestamp now);
  void on_round_trip_time(Duration rtt) noexcept { rtt_ = rtt; }

  // What the senders may send in all, bits per second (without IP, UDP or SRTP overhead).
  std::uint32_t target_bps() const noexcept { return target_bps_; }
  // The receive rate the receiver acknowledged over the last half second, once known.
  std::optional<std::uint32_t> acknowledged_bps() const noexcept { return acknowledged_bps_; }
  BandwidthUsage usage() const noexcept { return detector_.usage(); }
  const DelayTrendDetector& detector() const noexcept { return detector_; }
  // Whether transport-cc results came: then the delay-based controller runs.
  bool has_delay_based() const noexcept { return has_delay_based_; }
  std::uint32_t delay_based_bps() const noexcept { return static_cast<std::uint32_t>(delay_bps_); }
  std::uint32_t loss_based_bps() const noexcept { return static_cast<std::uint32_t>(loss_bps_); }
  std::uint64_t decreases() const noexcept { return decreases_; }

 private:
  enum class RateState : std::uint8_t { kHold, kIncrease, kDecrease };
  void update_acknowledged(const TransportPacketResult& result);
  void update_delay_based(Timestamp now);
  void update_loss_based(double loss, Timestamp now);
  double clamp_rate(double bps) const;
  void settle();

  BandwidthEstimatorConfig config_;
  DelayTrendDetector detector_;
  // Received packets of the last kAcknowledgedWindow by arrival, for the acknowledged rate.
  static constexpr Duration kAcknowledgedWindow = Duration::millis(500);
  std::deque<std::pair<Timestamp, std::size_t>> arrivals_;
  std::size_t arrived_bytes_ = 0;
  std::optional<Timestamp> first_arrival_;
  std::optional<Timestamp> latest_arrival_;
  std::optional<std::uint32_t> acknowledged_bps_;
  bool has_delay_based_ = false;
  // AIMD (gcc 5.5).
  RateState state_ = RateState::kIncrease;
  double delay_bps_;
  std::optional<Timestamp> last_rate_change_;
  std::optional<Timestamp> last_decrease_;
  // The rate at decreases, smoothed, with its variance: near it the increase is additive.
  std::optional<double> link_capacity_bps_;
  double link_capacity_variance_ = 0.4;
  // Loss-based (gcc 6).
  double loss_bps_;
  std::optional<Timestamp> last_loss_update_;
  std::optional<Timestamp> last_loss_decrease_;
  std::optional<Timestamp> loss_window_started_;
  std::optional<Timestamp> last_results_;
  std::uint32_t loss_window_packets_ = 0;
  std::uint32_t loss_window_lost_ = 0;
  std::optional<Duration> rtt_;
  std::uint32_t target_bps_;
  std::uint64_t decreases_ = 0;
};

}  // namespace rtcpp::rtp
