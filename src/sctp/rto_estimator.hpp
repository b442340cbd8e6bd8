// The retransmission timeout of RFC 9260 6.3.1: a smoothed round-trip time and its
// variation, from RTT measurements (Karn's rule is the caller's: only chunks sent once).
#pragma once

#include <algorithm>
#include <optional>

#include "base/time.hpp"

namespace rtcpp::sctp {

struct RtoConfig {
  Duration initial;
  Duration min;
  Duration max;
  // Lower bound of the variance term, so that a peer's delayed SACK is not taken for loss.
  Duration min_variance;
};

class RtoEstimator {
 public:
  explicit RtoEstimator(const RtoConfig& config) noexcept : config_(config), rto_(config.initial) {}

  void observe_rtt(Duration rtt) noexcept;
  // A retransmission timer expired (RFC 9260 6.3.3 E2): the RTO doubles, up to the maximum.
  void back_off() noexcept { rto_ = std::min(rto_ * 2, config_.max); }
  // The peer acknowledged new data: the back-off ends. Karn's rule would keep it until a
  // chunk sent only once is acknowledged, which after T3-rtx retransmitted the whole flight
  // can take several more (doubling) expiries on a lossy path, each with the window at one
  // packet. The path delivers again, so the RTO returns to what the measurements give.
  void restore() noexcept {
    if (srtt_) rto_ = computed();
  }

  Duration rto() const noexcept { return rto_; }
  std::optional<Duration> srtt() const noexcept { return srtt_; }

 private:
  Duration computed() const noexcept;

  RtoConfig config_;
  Duration rto_;
  std::optional<Duration> srtt_;
  Duration rttvar_;
};

}  // namespace rtcpp::sctp
