// The sender's congestion window (RFC 9260 7.2): slow start, congestion avoidance, fast
// recovery after a fast retransmit (7.2.4), the collapse on T3-rtx expiry (7.2.3), and the
// Max.Burst limit on new data per acknowledgement (6.1).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "sctp/types.hpp"

namespace rtcpp::sctp {

class CongestionControl {
 public:
  // max_burst: packets of new data per acknowledgement, 0 for no limit.
  CongestionControl(std::size_t mtu, int max_burst) noexcept : mtu_(mtu), max_burst_(max_burst) {}

  // RFC 9260 7.2.1: the initial window, and ssthresh at the peer's receive window.
  void start(std::uint32_t peer_rwnd) noexcept {
    cwnd_ = std::min<std::size_t>(4 * mtu_, std::max<std::size_t>(2 * mtu_, 4404));
    ssthresh_ = peer_rwnd;
  }

  std::size_t cwnd() const noexcept { return cwnd_; }
  std::size_t ssthresh() const noexcept { return ssthresh_; }
  bool in_fast_recovery() const noexcept { return fast_recovery_; }

  // A third miss indication (RFC 9260 7.2.4): unless already recovering, halve the window
  // and recover until `highest_sent` is acknowledged; the first packet may retransmit beyond
  // cwnd.
  void on_fast_retransmit(Tsn highest_sent) noexcept;
  // A SACK moved the cumulative TSN to `cumulative` (or not), newly acknowledging
  // `bytes_acked`: recovery ends, and the window grows (7.2.1, 7.2.2).
  void on_sack(Tsn cumulative, bool cumulative_advanced, std::size_t bytes_acked) noexcept;
  // RFC 9260 7.2.3: T3-rtx expired.
  void on_t3_expiry() noexcept;

  // Whether `bytes` more may be in flight on top of `flight_size`.
  bool fits(std::size_t flight_size, std::size_t bytes) const noexcept {
    return flight_size + bytes <= cwnd_;
  }
  // The fast retransmit's one packet beyond cwnd, taken by the next packet built.
  bool take_fast_retransmit() noexcept {
    const bool pending = fast_retransmit_pending_;
    fast_retransmit_pending_ = false;
    return pending;
  }
  bool fast_retransmit_pending() const noexcept { return fast_retransmit_pending_; }
  // RFC 8985 7.3: a tail loss probe, one packet that may go beyond cwnd.
  void allow_probe() noexcept { fast_retransmit_pending_ = true; }

  // Max.Burst (RFC 9260 6.1): a new budget per acknowledgement, timer expiry or idle start.
  void refill_burst() noexcept { burst_budget_ = max_burst_; }
  bool burst_left() const noexcept { return max_burst_ == 0 || burst_budget_ > 0; }
  void spend_burst() noexcept {
    if (burst_budget_ > 0) --burst_budget_;
  }

 private:
  std::size_t mtu_;
  int max_burst_;
  std::size_t cwnd_ = 0;
  std::size_t ssthresh_ = 0;
  std::size_t partial_bytes_acked_ = 0;
  int burst_budget_ = 0;
  bool fast_recovery_ = false;
  bool fast_retransmit_pending_ = false;
  Tsn recovery_exit_;
};

}  // namespace rtcpp::sctp
