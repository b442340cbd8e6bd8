// HEARTBEATs on an idle path (RFC 9260 8.3): the timer, the one HEARTBEAT awaiting its ACK
// and the RTT its ACK measures. The association decides what an unanswered one costs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "base/bytes.hpp"
#include "base/random.hpp"
#include "base/time.hpp"
#include "base/timer.hpp"
#include "sctp/types.hpp"

namespace rtcpp::sctp {

class HeartbeatSender {
 public:
  // The Heartbeat Info parameter we send: type, length, a nonce and the send time.
  static constexpr std::size_t kInfoSize = 4 + 16;
  using Info = std::array<std::uint8_t, kInfoSize>;

  // interval zero: never sends.
  explicit HeartbeatSender(Duration interval) noexcept : interval_(interval) {}

  // Next expiry after HB.interval plus the RTO jittered by +/- 50 %; `next_tsn` marks where
  // the data stood, so that the expiry can tell whether the path was idle since.
  void arm(Timestamp now, Duration rto, Tsn next_tsn, Random& rng);
  void stop() noexcept { timer_.stop(); }
  bool enabled() const noexcept { return interval_ > Duration::zero(); }
  const Timer& timer() const noexcept { return timer_; }

  // At expiry (after stop()): whether the HEARTBEAT sent before went unanswered (forgotten
  // either way).
  bool take_unanswered() noexcept;
  // Only an idle path is probed: new data measures the RTT and checks the peer by itself.
  bool path_idle(Tsn next_tsn) const noexcept { return next_tsn == tsn_mark_; }
  // The value of a new HEARTBEAT chunk, now outstanding.
  Info make_heartbeat(Timestamp now, Random& rng);
  // A HEARTBEAT ACK's value: the round trip when it answers the outstanding HEARTBEAT.
  std::optional<Duration> on_ack(BytesView value, Timestamp now) noexcept;

  std::uint64_t sent() const noexcept { return sent_; }
  void set_sent(std::uint64_t sent) noexcept { sent_ = sent; }

 private:
  struct Outstanding {
    std::uint64_t nonce = 0;
    Timestamp sent_at;
  };
  Duration interval_;
  Timer timer_;
  std::optional<Outstanding> outstanding_;
  Tsn tsn_mark_;
  std::uint64_t sent_ = 0;
};

}  // namespace rtcpp::sctp
