#include "rtp/nack_tracker.hpp"

#include <algorithm>

namespace rtcpp::rtp {

void NackTracker::on_packet(std::uint16_t sequence_number, Timestamp now) {
  if (!highest_) {
    highest_ = sequence_number;
    return;
  }
  // The nearest unwrapped value to the highest seen (RFC 3550 A.1's 16-bit arithmetic).
  const auto delta = static_cast<std::int16_t>(
      static_cast<std::uint16_t>(sequence_number - static_cast<std::uint16_t>(*highest_)));
  const std::int64_t sequence = *highest_ + delta;
  if (sequence > *highest_) {
    if (sequence - *highest_ - 1 > config_.max_gap) {
      given_up_ += missing_.size();
      missing_.clear();
    } else {
      for (std::int64_t s = *highest_ + 1; s < sequence; ++s)
        missing_.push_back(Missing{s, now, now, 0});
      while (missing_.size() > config_.max_missing) {
        missing_.pop_front();
        ++given_up_;
      }
    }
    highest_ = sequence;
    return;
  }
  auto it = std::lower_bound(missing_.begin(), missing_.end(), sequence,
                             [](const Missing& m, std::int64_t s) { return m.sequence < s; });
  if (it != missing_.end() && it->sequence == sequence) {
    missing_.erase(it);
    ++recovered_;
  }
}

Duration NackTracker::retry_interval(std::optional<Duration> round_trip_time) const noexcept {
  if (!round_trip_time) return config_.default_retry_interval;
  return std::max(*round_trip_time, config_.min_retry_interval);
}

Timestamp NackTracker::due_at(const Missing& m, Duration retry) const noexcept {
  return m.requests == 0 ? m.detected + config_.reorder_delay : m.last_request + retry;
}

bool NackTracker::expired(const Missing& m, Timestamp now) const noexcept {
  return m.requests >= config_.max_requests || now - m.detected > config_.max_age;
}

std::vector<std::uint16_t> NackTracker::take_due(Timestamp now,
                                                 std::optional<Duration> round_trip_time) {
  std::vector<std::uint16_t> due;
  const Duration retry = retry_interval(round_trip_time);
  const auto before = missing_.size();
  std::erase_if(missing_, [&](const Missing& m) { return expired(m, now); });
  given_up_ += before - missing_.size();
  for (auto& m : missing_) {
    if (due_at(m, retry) > now) continue;
    due.push_back(static_cast<std::uint16_t>(m.sequence));
    m.last_request = now;
    ++m.requests;
  }
  requests_ += due.size();
  return due;
}

std::optional<Timestamp> NackTracker::next_due(std::optional<Duration> round_trip_time) const {
  std::optional<Timestamp> next;
  const Duration retry = retry_interval(round_trip_time);
  for (const auto& m : missing_) {
    // An entry that will expire is due then, to be dropped.
    Timestamp at = std::min(due_at(m, retry), m.detected + config_.max_age + Duration::micros(1));
    if (!next || at < *next) next = at;
  }
  return next;
}

void NackTracker::reset() {
  highest_.reset();
  given_up_ += missing_.size();
  missing_.clear();
}

}  // namespace rtcpp::rtp
