// Consent freshness (RFC 7675): the peer's consent to receive on the pair in use lasts as
// long as it answers our checks. A check goes out every interval, randomised by +-20 %
// (5.1) so that many sessions do not beat in step; without an answer for a while the path
// counts as disconnected, and after the timeout (30 s) consent has expired.
#pragma once

#include <cstdint>

#include "base/random.hpp"
#include "base/time.hpp"

namespace rtcpp::ice {

class ConsentFreshness {
 public:
  enum class Status : std::uint8_t { kFresh, kDisconnected, kExpired };

  ConsentFreshness(Duration interval, Duration disconnected_after, Duration timeout) noexcept
      : interval_(interval), disconnected_after_(disconnected_after), timeout_(timeout) {}

  // A pair was selected: consent holds from now, and the first check follows one interval.
  void start(Timestamp now, Random& rng);
  // The peer answered (or a check succeeded): consent is fresh as of `now`.
  void refresh(Timestamp now) noexcept { last_ = now; }
  // The path is gone (its TCP connection closed): consent is lost at once.
  void revoke(Timestamp now) noexcept { last_ = now - timeout_; }

  bool check_due(Timestamp now) const noexcept { return now >= next_check_at_; }
  // A check went out: the next one after a new randomised interval.
  void schedule_next(Timestamp now, Random& rng);

  Status status(Timestamp now) const noexcept;
  // When a check is due or the status changes next (`disconnected`: the caller has acted on
  // kDisconnected already, so only expiry is left to come).
  Timestamp next_timeout(bool disconnected) const noexcept;
  Timestamp next_check_at() const noexcept { return next_check_at_; }
  Timestamp disconnected_at() const noexcept { return last_ + disconnected_after_; }
  Timestamp expires_at() const noexcept { return last_ + timeout_; }

 private:
  Duration interval_;
  Duration disconnected_after_;
  Duration timeout_;
  Timestamp last_ = Timestamp::zero();
  Timestamp next_check_at_ = Timestamp::infinite();
};

}  // namespace rtcpp::ice
