#include "sctp/data_tracker.hpp"

#include <algorithm>

#include "base/serial.hpp"

namespace rtcpp::sctp {
namespace {

constexpr std::size_t kMaxDuplicatesReported = 64;
constexpr std::size_t kMaxGapBlocksSent = 64;

}  // namespace

void DataTracker::start(std::uint32_t initial_tsn) noexcept {
  // Just below the first TSN, in a 64-bit space kept far from zero so that unwrapping never
  // underflows.
  cumulative_ = (std::uint64_t{1} << 32) + static_cast<std::uint32_t>(initial_tsn - 1);
}

Tsn DataTracker::unwrap(std::uint32_t wire_tsn) const noexcept {
  const auto base32 = static_cast<std::uint32_t>(cumulative_);
  return Tsn(static_cast<std::uint64_t>(static_cast<std::int64_t>(cumulative_) +
                                        serial_distance(base32, wire_tsn)));
}

bool DataTracker::is_duplicate(Tsn tsn) const noexcept {
  return tsn.value() <= cumulative_ ||
         std::binary_search(received_above_.begin(), received_above_.end(), tsn.value());
}

void DataTracker::report_duplicate(std::uint32_t wire_tsn) {
  if (duplicates_.size() < kMaxDuplicatesReported) duplicates_.push_back(wire_tsn);
  immediate_ = true;
}

void DataTracker::mark_received(Tsn tsn) {
  const std::uint64_t t = tsn.value();
  if (t == cumulative_ + 1) {
    cumulative_ = t;
    auto it = received_above_.begin();
    while (it != received_above_.end() && *it == cumulative_ + 1) {
      cumulative_ = *it;
      ++it;
    }
    received_above_.erase(received_above_.begin(), it);
    return;
  }
  received_above_.insert(std::upper_bound(received_above_.begin(), received_above_.end(), t), t);
}

void DataTracker::advance_cumulative(Tsn new_cumulative) {
  cumulative_ = new_cumulative.value();
  auto above = std::upper_bound(received_above_.begin(), received_above_.end(), cumulative_);
  while (above != received_above_.end() && *above == cumulative_ + 1) cumulative_ = *above++;
  received_above_.erase(received_above_.begin(), above);
}

void DataTracker::on_packet_with_data(Timestamp now, Duration delayed_ack) noexcept {
  // RFC 9260 6.2: at least every second packet is acknowledged, and none later than the
  // delayed-ack time.
  ++packets_since_sack_;
  if (immediate_ || packets_since_sack_ >= 2) {
    schedule_sack();
  } else {
    delayed_sack_.start_if_stopped(now, delayed_ack);
  }
}

void DataTracker::schedule_sack() noexcept {
  sack_scheduled_ = true;
  immediate_ = false;
  packets_since_sack_ = 0;
  delayed_sack_.stop();
}

void DataTracker::write_sack(PacketBuilder& builder, std::uint32_t a_rwnd) {
  sack_scheduled_ = false;
  SackChunk sack;
  sack.cumulative_tsn_ack = static_cast<std::uint32_t>(cumulative_);
  sack.a_rwnd = a_rwnd;
  // Gap blocks from the sorted TSNs above the cumulative one, as offsets from it.
  for (std::size_t i = 0;
       i < received_above_.size() && sack.gap_blocks.size() < kMaxGapBlocksSent;) {
    const std::uint64_t start = received_above_[i];
    std::uint64_t end = start;
    while (i + 1 < received_above_.size() && received_above_[i + 1] == end + 1)
      end = received_above_[++i];
    ++i;
    const std::uint64_t s = start - cumulative_;
    const std::uint64_t e = end - cumulative_;
    if (e > 0xFFFF) break;
    sack.gap_blocks.push_back({static_cast<std::uint16_t>(s), static_cast<std::uint16_t>(e)});
  }
  sack.duplicate_tsns = std::move(duplicates_);
  duplicates_.clear();
  sack.write_to(builder);
}

}  // namespace rtcpp::sctp
