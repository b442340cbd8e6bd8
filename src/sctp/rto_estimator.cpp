#include "sctp/rto_estimator.hpp"

#include <algorithm>

namespace rtcpp::sctp {

void RtoEstimator::observe_rtt(Duration rtt) noexcept {
  // RFC 9260 6.3.1 with alpha 1/8 and beta 1/4.
  if (!srtt_) {
    srtt_ = rtt;
    rttvar_ = rtt / 2;
  } else {
    const Duration diff = *srtt_ > rtt ? *srtt_ - rtt : rtt - *srtt_;
    rttvar_ = (rttvar_ * 3 + diff) / 4;
    srtt_ = (*srtt_ * 7 + rtt) / 8;
  }
  rto_ = computed();
}

Duration RtoEstimator::computed() const noexcept {
  // The variance term is at least the peer's delayed-SACK allowance: an acknowledgement can
  // take a round trip plus that delay, and a T3-rtx expiring inside it is spurious (it would
  // cut cwnd to one MTU for nothing on a low-latency path).
  const Duration variance = std::max(rttvar_ * 4, config_.min_variance);
  return std::clamp(*srtt_ + variance, config_.min, config_.max);
}

}  // namespace rtcpp::sctp
