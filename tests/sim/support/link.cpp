#include "link.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace rtcpp::sim {

std::string_view to_string(DropReason reason) noexcept {
  switch (reason) {
    case DropReason::kNone:
      return "none";
    case DropReason::kLoss:
      return "loss";
    case DropReason::kBurstLoss:
      return "burst-loss";
    case DropReason::kQueueFull:
      return "queue-full";
    case DropReason::kMtu:
      return "mtu";
    case DropReason::kNatFiltered:
      return "nat-filtered";
    case DropReason::kUnroutable:
      return "unroutable";
    case DropReason::kUnbound:
      return "unbound";
    case DropReason::kBadSource:
      return "bad-source";
    case DropReason::kNoHairpin:
      return "no-hairpin";
    case DropReason::kPortsExhausted:
      return "ports-exhausted";
  }
  return "?";
}

void Counters::count_drop(DropReason reason) noexcept {
  switch (reason) {
    case DropReason::kNone:
      break;
    case DropReason::kLoss:
      ++lost;
      break;
    case DropReason::kBurstLoss:
      ++burst_lost;
      break;
    case DropReason::kQueueFull:
      ++queue_dropped;
      break;
    case DropReason::kMtu:
      ++mtu_dropped;
      break;
    case DropReason::kNatFiltered:
      ++nat_filtered;
      break;
    case DropReason::kUnroutable:
      ++unroutable;
      break;
    case DropReason::kUnbound:
      ++unbound;
      break;
    case DropReason::kBadSource:
      ++bad_source;
      break;
    case DropReason::kNoHairpin:
      ++no_hairpin;
      break;
    case DropReason::kPortsExhausted:
      ++ports_exhausted;
      break;
  }
}

std::size_t Link::queued_bytes(Timestamp now) {
  while (!queue_.empty() && queue_.front().first <= now) {
    queue_bytes_ -= queue_.front().second;
    queue_.pop_front();
  }
  return queue_bytes_;
}

Duration Link::jitter(const LinkConfig& config) {
  if (config.jitter <= Duration::zero()) return Duration::zero();
  if (config.jitter_model == JitterModel::kUniform)
    return Duration::micros(rng_.uniform_range(0, config.jitter.us()));
  // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
  const double u1 = 1.0 - rng_.uniform_double();
  const double u2 = rng_.uniform_double();
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  return Duration::micros(std::llround(z * static_cast<double>(config.jitter.us())));
}

LinkVerdict Link::transmit(const LinkConfig& c, std::size_t ip_bytes, Timestamp now) {
  ++counters_.sent;
  LinkVerdict v;
  auto drop = [&](DropReason reason) {
    counters_.count_drop(reason);
    v.drop = reason;
    return v;
  };
  if (c.mtu != 0 && ip_bytes > c.mtu) return drop(DropReason::kMtu);

  Timestamp departure = now;
  if (c.bandwidth_bps != 0) {
    if (queued_bytes(now) + ip_bytes > c.queue_bytes) return drop(DropReason::kQueueFull);
    const auto bits = static_cast<std::uint64_t>(ip_bytes) * 8;
    const auto serialisation = Duration::micros(
        static_cast<std::int64_t>((bits * 1000000 + c.bandwidth_bps - 1) / c.bandwidth_bps));
    busy_until_ = std::max(busy_until_, now) + serialisation;
    departure = busy_until_;
    queue_.emplace_back(departure, ip_bytes);
    queue_bytes_ += ip_bytes;
  }

  // A lost packet still used the wire: loss comes after the queue.
  if (c.burst.enabled()) {
    bad_ = bad_ ? !rng_.bernoulli(c.burst.p_bad_to_good) : rng_.bernoulli(c.burst.p_good_to_bad);
    if (rng_.bernoulli(bad_ ? c.burst.loss_in_bad : c.burst.loss_in_good))
      return drop(DropReason::kBurstLoss);
  }
  if (c.loss > 0 && rng_.bernoulli(c.loss)) return drop(DropReason::kLoss);

  const Duration delay = std::max(Duration::zero(), c.delay + jitter(c));
  Timestamp arrival = std::max(departure + delay, last_arrival_);
  if (c.reorder > 0 && rng_.bernoulli(c.reorder)) {
    ++counters_.reordered;
    v.reordered = true;
    arrival += c.reorder_delay;  // does not move last_arrival_: later packets may pass it
  } else {
    last_arrival_ = arrival;
  }
  v.arrival = arrival;
  ++counters_.delivered;
  if (c.duplicate > 0 && rng_.bernoulli(c.duplicate)) {
    ++counters_.duplicated;
    ++counters_.delivered;
    v.duplicate_arrival = arrival + Duration::micros(1);
  }
  return v;
}

}  // namespace rtcpp::sim
