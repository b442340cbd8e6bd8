// Consent freshness (RFC 7675): the peer's consent to receive on the pair in use lasts as
// long as it answers our checks. A check goes out every interval (5 s, randomised by +-20 %,
// 5.1, so that many sessions do not beat in step); the path counts as disconnected once no
// answer has come for a while and the check sent since has gone unanswered too, and consent
// has expired 30 s after the last answer.
#pragma once

#include <cstdint>
#include <optional>

#include "base/random.hpp"
#include "base/time.hpp"

namespace rtcpp::ice {

class ConsentFreshness {
 public:
  enum class Status : std::uint8_t { kFresh, kDisconnected, kExpired };

  // `disconnected_after`: silence since the last answer that counts as disconnected, provided
  // a check has been waiting `unanswered_after` for its answer (an idle path between checks
  // is silent for longer than that without being broken).
  ConsentFreshness(Duration interval, Duration disconnected_after, Duration unanswered_after,
                   Duration timeout) noexcept
      : interval_(interval),
        disconnected_after_(disconnected_after),
        unanswered_after_(unanswered_after),
        timeout_(timeout) {}

  // A pair was selected: consent holds from now, and the first check follows one interval.
  void start(Timestamp now, Random& rng);
  // The peer answered (or a check succeeded): consent is fresh as of `now`.
  void refresh(Timestamp now) noexcept {
    last_ = now;
    waiting_since_.reset();
  }
  // The path is gone (its TCP connection closed): consent is lost at once.
  void revoke(Timestamp now) noexcept { last_ = now - timeout_; }

  bool check_due(Timestamp now) const noexcept { return now >= next_check_at_; }
  // A check went out: it waits for its answer, and the next one follows a new randomised
  // interval.
  void schedule_next(Timestamp now, Random& rng);

  Status status(Timestamp now) const noexcept;
  // When a check is due or the status changes next (`disconnected`: the caller has acted on
  // kDisconnected already, so only expiry is left to come).
  Timestamp next_timeout(bool disconnected) const noexcept;
  Timestamp next_check_at() const noexcept { return next_check_at_; }
  // Infinite while no check is waiting for its answer.
  Timestamp disconnected_at() const noexcept;
  Timestamp expires_at() const noexcept { return last_ + timeout_; }

 private:
  // One randomised interval (RFC 7675 5.1: 0.8 to 1.2 times the base) after `now`.
  Timestamp next_check_after(Timestamp now, Random& rng) const;

  Duration interval_;
  Duration disconnected_after_;
  Duration unanswered_after_;
  Duration timeout_;
  Timestamp last_ = Timestamp::zero();
  Timestamp next_check_at_ = Timestamp::infinite();
  // When the first check since the last answer went out.
  std::optional<Timestamp> waiting_since_;
};

}  // namespace rtcpp::ice
