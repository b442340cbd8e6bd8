// Timer: one optional deadline, for sans-IO state machines that are handed `now` and report
// their next_timeout(). Counts its expirations so that a retransmission timer can back off.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "base/time.hpp"

namespace rtcpp {

class Timer {
 public:
  // Runs until `deadline` (replacing any earlier one).
  void start_at(Timestamp deadline) noexcept { deadline_ = deadline; }
  void start(Timestamp now, Duration duration) noexcept { deadline_ = now + duration; }
  // Starts only when not running already.
  void start_if_stopped(Timestamp now, Duration duration) noexcept {
    if (!deadline_) deadline_ = now + duration;
  }
  void stop() noexcept { deadline_.reset(); }

  bool running() const noexcept { return deadline_.has_value(); }
  bool expired(Timestamp now) const noexcept { return deadline_ && now >= *deadline_; }
  std::optional<Timestamp> deadline() const noexcept { return deadline_; }

  // Retransmission bookkeeping: attempts made since the last reset_attempts().
  int attempts() const noexcept { return attempts_; }
  int add_attempt() noexcept { return ++attempts_; }
  void reset_attempts() noexcept { attempts_ = 0; }

  // `base` doubled `doublings` times (16 at most, so that it cannot overflow), capped at `max`.
  static Duration backed_off(Duration base, int doublings, Duration max) noexcept {
    return std::min(base * (std::int64_t{1} << std::clamp(doublings, 0, 16)), max);
  }

 private:
  std::optional<Timestamp> deadline_;
  int attempts_ = 0;
};

// The earliest deadline of the running timers, if any runs.
template <typename... Timers>
std::optional<Timestamp> earliest_deadline(const Timers&... timers) noexcept {
  std::optional<Timestamp> earliest;
  for (const auto& deadline : {timers.deadline()...}) {
    if (deadline && (!earliest || *deadline < *earliest)) earliest = deadline;
  }
  return earliest;
}

}  // namespace rtcpp
