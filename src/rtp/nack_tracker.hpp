// Which packets of a received RTP stream to ask for again with a generic NACK (RFC 4585
// 6.2.1), sans-IO. A gap in the sequence numbers makes each missing packet a candidate; it is
// asked for once it has been missing for a short reordering delay, then again each retry
// interval (the round-trip time when one is known) until it arrives (as a late packet or in an
// RFC 4588 repair), is asked for max_requests times, or is older than max_age, when the frame
// it belonged to is left to the frame assembler (dropped, and a key frame asked for).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "base/time.hpp"

namespace rtcpp::rtp {

struct NackTrackerConfig {
  // At most this many missing packets are tracked; beyond it the oldest are given up.
  std::size_t max_missing = 512;
  // A jump forward by more than this is a new start of the stream (RFC 3550 A.1's dropout),
  // not that many losses: nothing is asked for.
  std::uint16_t max_gap = 3000;
  // How long a packet may only be reordered before it is asked for.
  Duration reorder_delay = Duration::millis(5);
  // Between two requests for one packet: the round-trip time, but not less than this, and
  // this much when no round-trip time is known.
  Duration min_retry_interval = Duration::millis(20);
  Duration default_retry_interval = Duration::millis(50);
  int max_requests = 10;
  Duration max_age = Duration::seconds(1);
};

class NackTracker {
 public:
  explicit NackTracker(NackTrackerConfig config = {}) : config_(config) {}

  // A packet of the stream arrived (a repair's original sequence number included).
  void on_packet(std::uint16_t sequence_number, Timestamp now);
  // The packets to ask for now, in sequence order; each is counted as asked for.
  std::vector<std::uint16_t> take_due(Timestamp now, std::optional<Duration> round_trip_time);
  // When take_due() next has something, if anything is missing.
  std::optional<Timestamp> next_due(std::optional<Duration> round_trip_time) const;
  // Forgets everything (the stream restarted under another SSRC).
  void reset();

  std::size_t missing() const noexcept { return missing_.size(); }
  std::uint64_t requests() const noexcept { return requests_; }    // sequence numbers asked for
  std::uint64_t recovered() const noexcept { return recovered_; }  // missing, then arrived
  std::uint64_t given_up() const noexcept { return given_up_; }

 private:
  struct Missing {
    std::int64_t sequence = 0;  // unwrapped
    Timestamp detected;
    Timestamp last_request;
    int requests = 0;
  };
  Duration retry_interval(std::optional<Duration> round_trip_time) const noexcept;
  Timestamp due_at(const Missing& m, Duration retry) const noexcept;
  bool expired(const Missing& m, Timestamp now) const noexcept;

  NackTrackerConfig config_;
  std::optional<std::int64_t> highest_;  // unwrapped
  std::deque<Missing> missing_;          // in sequence order
  std::uint64_t requests_ = 0;
  std::uint64_t recovered_ = 0;
  std::uint64_t given_up_ = 0;
};

}  // namespace rtcpp::rtp
