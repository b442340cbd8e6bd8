#include "ice/consent.hpp"

#include <algorithm>

namespace rtcpp::ice {

void ConsentFreshness::start(Timestamp now, Random& rng) {
  last_ = now;
  waiting_since_.reset();
  next_check_at_ = next_check_after(now, rng);
}

void ConsentFreshness::schedule_next(Timestamp now, Random& rng) {
  if (!waiting_since_) waiting_since_ = now;
  next_check_at_ = next_check_after(now, rng);
}

Timestamp ConsentFreshness::next_check_after(Timestamp now, Random& rng) const {
  const double jitter = 0.8 + 0.4 * rng.uniform_double();
  return now + Duration::seconds_f(interval_.seconds_f() * jitter);
}

Timestamp ConsentFreshness::disconnected_at() const noexcept {
  if (!waiting_since_) return Timestamp::infinite();
  return std::max(last_ + disconnected_after_, *waiting_since_ + unanswered_after_);
}

Timestamp ConsentFreshness::next_timeout(bool disconnected) const noexcept {
  Timestamp t = std::min(next_check_at_, expires_at());
  if (!disconnected) t = std::min(t, disconnected_at());
  return t;
}

ConsentFreshness::Status ConsentFreshness::status(Timestamp now) const noexcept {
  if (now - last_ >= timeout_) return Status::kExpired;
  if (now >= disconnected_at()) return Status::kDisconnected;
  return Status::kFresh;
}

}  // namespace rtcpp::ice
