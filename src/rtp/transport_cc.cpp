#include "rtp/transport_cc.hpp"

#include <algorithm>

namespace rtcpp::rtp {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The wire size a message of `statuses` statuses and `delta_bytes` bytes of deltas can reach:
// every chunk the writer emits but the last covers at least 7 statuses.
std::size_t size_bound(std::size_t statuses, std::size_t delta_bytes) {
  return kRtcpHeaderSize + 16 + 2 * ((statuses + 6) / 7) + delta_bytes + 3;
}

constexpr std::size_t kMaxStatuses = 0xFFFF;

}  // namespace

TransportCcReceiver::TransportCcReceiver() : arrivals_(kWindow) {}

std::int64_t TransportCcReceiver::unwrap(std::uint16_t sequence) const noexcept {
  const std::int64_t newest = end_ - 1;
  return newest + static_cast<std::int16_t>(sequence - static_cast<std::uint16_t>(newest));
}

TransportCcReceiver::Arrival& TransportCcReceiver::slot(std::int64_t sequence) noexcept {
  return arrivals_[static_cast<std::size_t>(sequence % static_cast<std::int64_t>(kWindow))];
}

const TransportCcReceiver::Arrival* TransportCcReceiver::arrival_of(
    std::int64_t sequence) const noexcept {
  const Arrival& a =
      arrivals_[static_cast<std::size_t>(sequence % static_cast<std::int64_t>(kWindow))];
  return a.sequence == sequence ? &a : nullptr;
}

void TransportCcReceiver::on_packet(std::uint16_t sequence, Timestamp arrival,
                                    std::uint32_t media_ssrc) {
  media_ssrc_ = media_ssrc;
  if (!started_) {
    started_ = true;
    // Far from zero, so that unwrapped numbers stay positive however far back they go.
    begin_ = end_ = (std::int64_t{1} << 32) + sequence;
  }
  const std::int64_t s = unwrap(sequence);
  const auto window = static_cast<std::int64_t>(kWindow);
  if (s >= end_) {
    // Unreported numbers more than a window back are forgotten.
    begin_ = std::max(begin_, s - window + 1);
    end_ = s + 1;
  } else {
    if (end_ - s >= window) return;        // older than anything remembered
    if (arrival_of(s) != nullptr) return;  // a duplicate: the first arrival counts
    // Reported lost already: report it, and what follows, again.
    begin_ = std::min(begin_, s);
  }
  slot(s) = Arrival{s, arrival};
  ++packets_recorded_;
}

bool TransportCcReceiver::feedback_due(Timestamp now) const {
  const auto next = next_feedback();
  return next && now >= *next;
}

std::optional<Timestamp> TransportCcReceiver::next_feedback() const {
  if (!started_ || begin_ >= end_) return std::nullopt;
  return last_feedback_ ? *last_feedback_ + kFeedbackInterval : Timestamp::zero();
}

std::vector<TransportFeedback> TransportCcReceiver::take_feedback(std::uint32_t sender_ssrc,
                                                                  Timestamp now) {
  std::vector<TransportFeedback> out;
  if (!started_ || begin_ >= end_) return out;
  last_feedback_ = now;
  std::int64_t next = begin_;
  while (next < end_) {
    // The newest packet was received, so every message has a received packet to time from.
    std::int64_t first_received = next;
    while (first_received < end_ && arrival_of(first_received) == nullptr) ++first_received;
    if (first_received == end_) break;
    TransportFeedback message;
    message.sender_ssrc = sender_ssrc;
    message.media_ssrc = media_ssrc_;
    message.base_sequence = static_cast<std::uint16_t>(next);
    message.feedback_count = feedback_count_++;
    const std::int64_t reference =
        floor_div(arrival_of(first_received)->at.us(), TransportFeedback::kReferenceTickMicros);
    message.reference_time = static_cast<std::uint32_t>(reference) & 0xFFFFFFu;
    // Deltas are rounded to ticks; the running time follows the rounded values, so that the
    // error never accumulates.
    std::int64_t last_us = reference * TransportFeedback::kReferenceTickMicros;
    std::size_t delta_bytes = 0;
    std::int64_t x = next;
    for (; x < end_ && message.deltas.size() < kMaxStatuses; ++x) {
      const Arrival* arrival = arrival_of(x);
      if (arrival == nullptr) {
        if (size_bound(message.deltas.size() + 1, delta_bytes) > kMaxMessageSize) break;
        message.deltas.emplace_back();
        continue;
      }
      const std::int64_t ticks =
          floor_div(arrival->at.us() - last_us + TransportFeedback::kDeltaTickMicros / 2,
                    TransportFeedback::kDeltaTickMicros);
      // Beyond 16 bits (over 8 s between two arrivals): the next message starts here.
      if (ticks < INT16_MIN || ticks > INT16_MAX) break;
      const std::size_t bytes = ticks >= 0 && ticks <= TransportFeedback::kMaxSmallDelta ? 1 : 2;
      if (size_bound(message.deltas.size() + 1, delta_bytes + bytes) > kMaxMessageSize) break;
      message.deltas.emplace_back(static_cast<std::int16_t>(ticks));
      delta_bytes += bytes;
      last_us += ticks * TransportFeedback::kDeltaTickMicros;
    }
    next = x;
    ++messages_written_;
    out.push_back(std::move(message));
  }
  begin_ = end_;
  return out;
}

TransportCcSender::TransportCcSender() : sent_(kHistory) {}

void TransportCcSender::on_packet_sent(std::size_t size, Timestamp now) {
  const std::int64_t sequence = next_++;
  sent_[static_cast<std::size_t>(sequence % static_cast<std::int64_t>(kHistory))] =
      Sent{sequence, size, now, false, false};
}

std::vector<TransportPacketResult> TransportCcSender::on_feedback(
    const TransportFeedback& feedback) {
  ++feedback_received_;
  std::vector<TransportPacketResult> results;
  const std::int64_t newest = next_ - 1;
  const std::int64_t base = newest + static_cast<std::int16_t>(feedback.base_sequence -
                                                               static_cast<std::uint16_t>(newest));
  // The 24-bit reference time wraps (every 12 days); arrivals are continuous across messages.
  std::int64_t reference = feedback.reference_time;
  if (last_reference_) {
    std::int64_t diff = (reference - *last_reference_) & 0xFFFFFF;
    if (diff >= 0x800000) diff -= 0x1000000;
    reference = *last_reference_ + diff;
  }
  last_reference_ = reference;
  std::int64_t arrival_us = reference * TransportFeedback::kReferenceTickMicros;
  for (std::size_t i = 0; i < feedback.deltas.size(); ++i) {
    const auto& delta = feedback.deltas[i];
    if (delta) arrival_us += std::int64_t{*delta} * TransportFeedback::kDeltaTickMicros;
    const std::int64_t sequence = base + static_cast<std::int64_t>(i);
    if (sequence < 1 || sequence > newest) continue;  // never sent
    Sent& entry = sent_[static_cast<std::size_t>(sequence % static_cast<std::int64_t>(kHistory))];
    if (entry.sequence != sequence || entry.reported_received) continue;
    if (delta) {
      entry.reported_received = true;
      ++reported_received_;
      if (entry.reported_lost) --reported_lost_;
      results.push_back({static_cast<std::uint16_t>(sequence), entry.size, entry.sent,
                         Timestamp::micros(arrival_us)});
    } else if (!entry.reported_lost) {
      entry.reported_lost = true;
      ++reported_lost_;
      results.push_back({static_cast<std::uint16_t>(sequence), entry.size, entry.sent, {}});
    }
  }
  return results;
}

}  // namespace rtcpp::rtp
