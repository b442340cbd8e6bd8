// One direction of a simulated access link and its impairments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <utility>

#include "base/random.hpp"
#include "base/time.hpp"

namespace rtcpp::sim {

// Two-state burst loss (Gilbert-Elliott). For each packet the chain first takes a step, then
// the packet is lost with the loss probability of the state it is now in. With loss_in_bad = 1
// and loss_in_good = 0 the mean burst length is 1 / p_bad_to_good and the long-run loss rate
// p_good_to_bad / (p_good_to_bad + p_bad_to_good).
struct GilbertElliott {
  double p_good_to_bad = 0;
  double p_bad_to_good = 1;
  double loss_in_good = 0;
  double loss_in_bad = 1;
  bool enabled() const noexcept { return p_good_to_bad > 0 || loss_in_good > 0; }
};

enum class JitterModel : std::uint8_t {
  // Extra delay uniform in [0, jitter]: one-way delay lies in [delay, delay + jitter].
  kUniform,
  // delay + N(0, jitter^2), clamped at zero so a packet never arrives before it was sent.
  kNormal,
};

// Impairments of one direction of a link, applied in this order: MTU check, bandwidth queue
// (tail drop), Gilbert-Elliott loss, random loss, delay + jitter, reordering, duplication.
// Packets leave a link in FIFO order (jitter never reorders: a packet that would overtake
// the previous one is held until it has arrived); only `reorder` reorders, on purpose.
struct LinkConfig {
  Duration delay = Duration::zero();
  Duration jitter = Duration::zero();
  JitterModel jitter_model = JitterModel::kUniform;
  double loss = 0;  // independent per packet
  GilbertElliott burst;
  // Probability that a packet is held back by reorder_delay, so later ones overtake it.
  double reorder = 0;
  Duration reorder_delay = Duration::millis(5);
  // Probability that a packet is delivered twice (the copy 1 us after the original).
  double duplicate = 0;
  // 0 = unlimited. Otherwise packets serialise at this rate (size * 8 / bps) through a FIFO
  // queue holding at most queue_bytes (including the packet on the wire); tail drop when full.
  std::uint64_t bandwidth_bps = 0;
  std::size_t queue_bytes = 64 * 1024;
  // Largest IP packet (20/40 IP + 8 UDP + payload bytes); 0 = unlimited.
  std::size_t mtu = 0;
};

// Why a datagram did not reach a node.
enum class DropReason : std::uint8_t {
  kNone,
  kLoss,         // random loss
  kBurstLoss,    // Gilbert-Elliott loss
  kQueueFull,    // bandwidth queue tail drop
  kMtu,          // larger than the link MTU
  kNatFiltered,  // the destination NAT's filter refused it (or no mapping)
  kUnroutable,   // no host or NAT owns the destination address (or family mismatch)
  kUnbound,      // the destination host has no node bound to that address and port
  kBadSource,    // a node sent from an address that is not bound to it
  kNoHairpin,    // sent to its own NAT's public address and the NAT does not hairpin
  kPortsExhausted,
};
std::string_view to_string(DropReason reason) noexcept;

// Counters of one link, or (Network::counters) of the whole network. On a link, `sent` is
// packets offered and `delivered` packets that came out (duplicates included).
struct Counters {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;
  std::uint64_t burst_lost = 0;
  std::uint64_t queue_dropped = 0;
  std::uint64_t mtu_dropped = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t nat_filtered = 0;
  std::uint64_t unroutable = 0;
  std::uint64_t unbound = 0;
  std::uint64_t bad_source = 0;
  std::uint64_t no_hairpin = 0;
  std::uint64_t ports_exhausted = 0;
  // Drops for any reason.
  std::uint64_t dropped() const noexcept {
    return lost + burst_lost + queue_dropped + mtu_dropped + nat_filtered + unroutable + unbound +
           bad_source + no_hairpin + ports_exhausted;
  }
  // Counts one drop under its reason's counter.
  void count_drop(DropReason reason) noexcept;
};

// The fate of one packet on a link.
struct LinkVerdict {
  DropReason drop = DropReason::kNone;
  Timestamp arrival;
  std::optional<Timestamp> duplicate_arrival;
  bool reordered = false;
};

class Link {
 public:
  // Every link has its own random stream, so traffic on one link does not change the
  // impairments drawn on another.
  explicit Link(std::uint64_t seed) : rng_(seed) {}

  // `ip_bytes` is the size of the whole IP packet.
  LinkVerdict transmit(const LinkConfig& config, std::size_t ip_bytes, Timestamp now);

  // Bytes waiting for (or in) serialisation at `now`.
  std::size_t queued_bytes(Timestamp now);
  const Counters& counters() const noexcept { return counters_; }

 private:
  Duration jitter(const LinkConfig& config);

  SeededRandom rng_;
  bool bad_ = false;  // Gilbert-Elliott state
  Timestamp busy_until_;
  Timestamp last_arrival_;
  std::deque<std::pair<Timestamp, std::size_t>> queue_;  // (serialised at, bytes)
  std::size_t queue_bytes_ = 0;
  Counters counters_;
};

}  // namespace rtcpp::sim
