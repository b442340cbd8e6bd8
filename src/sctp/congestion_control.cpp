#include "sctp/congestion_control.hpp"

namespace rtcpp::sctp {

void CongestionControl::on_fast_retransmit(Tsn highest_sent) noexcept {
  if (fast_recovery_) return;
  fast_recovery_ = true;
  recovery_exit_ = highest_sent;
  ssthresh_ = std::max(cwnd_ / 2, 4 * mtu_);
  cwnd_ = ssthresh_;
  partial_bytes_acked_ = 0;
  fast_retransmit_pending_ = true;
}

void CongestionControl::on_sack(Tsn cumulative, bool cumulative_advanced,
                                std::size_t bytes_acked) noexcept {
  if (fast_recovery_ && cumulative >= recovery_exit_) fast_recovery_ = false;
  if (!cumulative_advanced || fast_recovery_) return;
  if (cwnd_ <= ssthresh_) {
    // Slow start: at most one MTU per SACK.
    cwnd_ += std::min(bytes_acked, mtu_);
  } else {
    // Congestion avoidance: one MTU per window's worth of acknowledged bytes.
    partial_bytes_acked_ += bytes_acked;
    if (partial_bytes_acked_ >= cwnd_) {
      partial_bytes_acked_ -= cwnd_;
      cwnd_ += mtu_;
    }
  }
}

void CongestionControl::on_t3_expiry() noexcept {
  ssthresh_ = std::max(cwnd_ / 2, 4 * mtu_);
  cwnd_ = mtu_;
  partial_bytes_acked_ = 0;
  fast_recovery_ = false;
}

}  // namespace rtcpp::sctp
