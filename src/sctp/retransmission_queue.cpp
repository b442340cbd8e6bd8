#include "sctp/retransmission_queue.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "base/serial.hpp"

namespace rtcpp::sctp {
namespace {

// Distinct streams reported in one FORWARD-TSN (4 bytes each) or I-FORWARD-TSN (8 bytes
// each, ordered and unordered apart): it must fit a packet beside a SACK.
constexpr std::size_t kMaxForwardTsnStreams = 128;
constexpr std::size_t kMaxIForwardTsnStreams = 64;

}  // namespace

void RetransmissionQueue::start(std::uint32_t initial_tsn) noexcept {
  next_tsn_ = Tsn((std::uint64_t{1} << 32) + initial_tsn);
  cumulative_acked_ = next_tsn_.prev();
  advanced_ack_point_ = cumulative_acked_;
}

std::size_t RetransmissionQueue::unacknowledged_messages() const {
  std::size_t n = 0;
  std::uint64_t last_id = 0;
  for (const Chunk& c : in_flight_) {
    if (!c.released && !c.abandoned && c.message_id != last_id) ++n;
    last_id = c.message_id;
  }
  return n;
}

RetransmissionQueue::Chunk RetransmissionQueue::cut(SendQueue::Message& m, std::size_t size,
                                                    Timestamp now) {
  Chunk c;
  c.message_id = m.id;
  c.max_retransmits = m.max_retransmits;
  c.expires_at = m.expires_at;
  c.stream = m.stream;
  c.sequence = m.sequence;
  c.fsn = m.next_fsn++;
  c.ppid = m.ppid;
  c.flags = static_cast<std::uint8_t>((m.offset == 0 ? DataChunk::kFlagBeginning : 0) |
                                      (m.offset + size == m.size ? DataChunk::kFlagEnd : 0) |
                                      (m.unordered ? DataChunk::kFlagUnordered : 0));
  c.slot = m.slot;
  c.offset = static_cast<std::uint32_t>(m.offset);
  c.length = static_cast<std::uint32_t>(size);
  c.sent_at = now;
  return c;
}

bool RetransmissionQueue::write_chunk(PacketBuilder& b, const Chunk& c,
                                      const SendQueue& queue) const {
  const bool beginning = (c.flags & DataChunk::kFlagBeginning) != 0;
  const bool end = (c.flags & DataChunk::kFlagEnd) != 0;
  const bool unordered = (c.flags & DataChunk::kFlagUnordered) != 0;
  const std::uint32_t tsn = c.tsn.wire();
  const BytesView payload = queue.payload(c.slot, c.offset, c.length);
  if (interleaved_) {
    // RFC 8260 2.1: the first fragment carries the PPID, the others their FSN.
    return IDataChunk{tsn,       c.stream, c.sequence, beginning ? c.ppid : c.fsn, beginning, end,
                      unordered, false,    payload}
        .write_to(b);
  }
  return DataChunk{tsn,       c.stream,  static_cast<std::uint16_t>(c.sequence),
                   c.ppid,    beginning, end,
                   unordered, false,     payload}
      .write_to(b);
}

void RetransmissionQueue::add(Chunk chunk) {
  chunk.send_order = ++last_send_order_;
  chunk.tsn = next_tsn_;
  next_tsn_ = next_tsn_.next();
  flight_size_ += chunk.length;
  in_flight_.push_back(std::move(chunk));
}

void RetransmissionQueue::set_needs_retransmit(Chunk& c, bool needed) {
  // Keeps retransmits_waiting_ in step, so that retransmit() scans the flight only when needed.
  if (c.needs_retransmit == needed) return;
  c.needs_retransmit = needed;
  if (needed) {
    ++retransmits_waiting_;
  } else {
    --retransmits_waiting_;
  }
}

void RetransmissionQueue::release(Chunk& c, SendQueue& queue) {
  if (c.released) return;
  c.released = true;
  queue.release_bytes(StreamId(c.stream), c.length);
  queue.release_reference(c.slot);
}

RetransmissionQueue::SackOutcome RetransmissionQueue::on_sack(const SackChunk& sack, Timestamp now,
                                                              Duration loss_delay,
                                                              SendQueue& queue) {
  SackOutcome out;
  // The latest transmission this SACK newly acknowledges. The round trip is measured on it
  // alone (RFC 8985 6.1): an earlier chunk acknowledged only now may have waited for this
  // SACK behind lost ones, and would read a round trip many times the real one.
  std::uint64_t newly_acked_order = 0;
  const auto note_acked = [&](const Chunk& c) {
    if (c.send_order > newly_acked_order) {
      newly_acked_order = c.send_order;
      // Karn: a chunk sent more than once gives no unambiguous sample.
      out.rtt = c.transmissions == 1 ? std::optional<Duration>(now - c.sent_at) : std::nullopt;
    }
    if (c.send_order > newest_acked_order_) {
      newest_acked_order_ = c.send_order;
      newest_acked_first_send_ = c.transmissions == 1 ? std::optional<Tsn>(c.tsn) : std::nullopt;
    }
  };
  const std::uint64_t acked_before = cumulative_acked_.value();
  const std::int64_t advance = serial_distance(cumulative_acked_.wire(), sack.cumulative_tsn_ack);
  if (advance < 0) return out;  // an old SACK, out of order
  const std::uint64_t cum = acked_before + static_cast<std::uint64_t>(advance);
  if (cum >= next_tsn_.value()) return out;  // acknowledges data never sent: ignore it
  out.valid = true;
  // Cumulative acknowledgement.
  while (!in_flight_.empty() && in_flight_.front().tsn.value() <= cum) {
    Chunk& c = in_flight_.front();
    if (!c.acked && !c.abandoned) {
      out.bytes_acked += c.length;
      if (!c.needs_retransmit) flight_size_ -= c.length;
      note_acked(c);
    }
    set_needs_retransmit(c, false);
    release(c, queue);
    in_flight_.pop_front();
  }
  out.cumulative_advanced = cum > acked_before;
  cumulative_acked_ = Tsn(cum);
  if (out.cumulative_advanced && !reset_last_tsn_.empty())
    std::erase_if(reset_last_tsn_, [&](const auto& entry) { return entry.second.value() <= cum; });
  // Gap blocks.
  for (const auto& gap : sack.gap_blocks) {
    // Clamped to what we sent: a hostile SACK cannot make this loop long.
    const std::uint64_t last = std::min<std::uint64_t>(cum + gap.end, next_tsn_.value() - 1);
    for (std::uint64_t t = cum + gap.start; t <= last; ++t) {
      Chunk& c = in_flight_[t - cum - 1];
      if (c.acked) continue;
      c.acked = true;
      if (c.abandoned) continue;  // already out of the flight and released
      out.bytes_acked += c.length;
      if (!c.needs_retransmit) flight_size_ -= c.length;
      set_needs_retransmit(c, false);
      note_acked(c);
    }
  }
  out.fast_retransmit = detect_losses(now, loss_delay, newly_acked_order, queue);
  return out;
}

bool RetransmissionQueue::detect_losses(Timestamp now, Duration loss_delay,
                                        std::uint64_t newly_acked_order, SendQueue& queue) {
  loss_deadline_.reset();
  bool lost_any = false;
  for (auto& c : in_flight_) {
    // Chunks sent for the first time after the newest acknowledged one (which was a first
    // transmission too) have higher TSNs, and retransmissions of them are later still.
    if (newest_acked_first_send_ && c.tsn > *newest_acked_first_send_) break;
    if (c.acked || c.needs_retransmit || c.abandoned || c.send_order >= newest_acked_order_)
      continue;
    // RFC 9260 7.2.4: a miss indication from each SACK acknowledging something sent later.
    if (c.send_order < newly_acked_order) ++c.miss_indications;
    if (c.miss_indications < 3) {
      if (loss_delay.is_infinite()) continue;
      // RFC 8985 6.2: or when a round trip and the reordering window have passed.
      const Timestamp lost_at = c.sent_at + loss_delay;
      if (now < lost_at) {
        if (!loss_deadline_ || lost_at < *loss_deadline_) loss_deadline_ = lost_at;
        continue;
      }
    }
    c.miss_indications = 0;
    lost_any = true;
    // RFC 3758 3.5 A1-A2: a chunk out of retransmissions or lifetime is abandoned rather
    // than retransmitted.
    if (should_abandon(c, now)) {
      abandon_message(c.message_id, c.stream, queue);
      continue;
    }
    set_needs_retransmit(c, true);
    flight_size_ -= c.length;
  }
  return lost_any;
}

bool RetransmissionQueue::mark_probe() {
  for (std::size_t i = in_flight_.size(); i-- > 0;) {
    Chunk& c = in_flight_[i];
    if (c.acked || c.abandoned || c.needs_retransmit) continue;
    set_needs_retransmit(c, true);
    flight_size_ -= c.length;
    return true;
  }
  return retransmits_waiting_ > 0;
}

void RetransmissionQueue::on_t3_expiry(Timestamp now, SendQueue& queue) {
  for (auto& c : in_flight_) {
    if (c.acked || c.needs_retransmit || c.abandoned) continue;
    if (should_abandon(c, now)) {  // RFC 3758 3.5 A1-A3
      abandon_message(c.message_id, c.stream, queue);
      continue;
    }
    set_needs_retransmit(c, true);
    flight_size_ -= c.length;
  }
}

void RetransmissionQueue::abandon_expired(Timestamp now, SendQueue& queue) {
  if (!partial_reliability_ || retransmits_waiting_ == 0) return;
  for (auto& c : in_flight_) {
    if (c.needs_retransmit && should_abandon(c, now))
      abandon_message(c.message_id, c.stream, queue);
  }
}

bool RetransmissionQueue::should_abandon(const Chunk& c, Timestamp now) const {
  if (!partial_reliability_) return false;
  // max_retransmits N allows N + 1 transmissions in all.
  if (c.max_retransmits && c.transmissions > *c.max_retransmits) return true;
  return c.expires_at && now >= *c.expires_at;
}

void RetransmissionQueue::abandon_message(std::uint64_t id, std::uint16_t stream,
                                          SendQueue& queue) {
  // RFC 3758 3.5 A3: all fragments of the message go, including those not sent yet.
  for (auto& c : in_flight_) {
    if (c.message_id != id || c.abandoned) continue;
    if (!c.acked && !c.needs_retransmit) flight_size_ -= c.length;
    c.abandoned = true;
    set_needs_retransmit(c, false);
    release(c, queue);
  }
  queue.drop_partly_sent(StreamId(stream), id);
  ++abandoned_messages_;
  advance_ack_point();
}

std::optional<std::uint32_t> RetransmissionQueue::skip_key(const Chunk& c) const {
  // Chunks of a sequence that a stream reset has since ended are covered by the peer's
  // cumulative TSN already; naming their SSN or MID would skip the new sequence instead.
  if (auto reset = reset_last_tsn_.find(c.stream);
      reset != reset_last_tsn_.end() && c.tsn <= reset->second)
    return std::nullopt;
  const bool unordered = (c.flags & DataChunk::kFlagUnordered) != 0;
  // RFC 8260 2.3.1: I-FORWARD-TSN names ordered and unordered messages apart.
  if (interleaved_) return (std::uint32_t{c.stream} << 1) | (unordered ? 1u : 0u);
  // RFC 3758 3.2: FORWARD-TSN names ordered streams only.
  if (unordered) return std::nullopt;
  return c.stream;
}

void RetransmissionQueue::advance_ack_point() {
  const std::uint64_t before = std::max(advanced_ack_point_.value(), cumulative_acked_.value());
  const std::size_t limit = interleaved_ ? kMaxIForwardTsnStreams : kMaxForwardTsnStreams;
  std::uint64_t point = before;
  std::set<std::uint32_t> streams;
  for (const auto& c : in_flight_) {
    if (c.tsn.value() <= point) {
      if (auto key = skip_key(c); c.abandoned && key) streams.insert(*key);
      continue;
    }
    if (c.tsn.value() != point + 1 || !c.abandoned) break;
    if (auto key = skip_key(c)) {
      streams.insert(*key);
      if (streams.size() > limit) break;  // the rest in a later FORWARD-TSN
    }
    point = c.tsn.value();
  }
  advanced_ack_point_ = Tsn(point);
  if (point > before) forward_tsn_pending_ = true;
}

void RetransmissionQueue::update_forward_tsn() {
  advance_ack_point();
  if (advanced_ack_point_ > cumulative_acked_) forward_tsn_pending_ = true;
}

bool RetransmissionQueue::write_forward_tsn(PacketBuilder& b) {
  forward_tsn_pending_ = false;
  if (advanced_ack_point_ <= cumulative_acked_) return false;
  ForwardTsnChunk f;
  f.new_cumulative_tsn = advanced_ack_point_.wire();
  // RFC 3758 3.2 and RFC 8260 2.3.1: per stream (and U flag with I-DATA), the largest SSN or
  // MID skipped. Each stream's messages take their TSNs in order, so the last one seen.
  std::map<std::uint32_t, std::uint32_t> largest;
  for (const auto& c : in_flight_) {
    if (c.tsn > advanced_ack_point_) break;
    if (auto key = skip_key(c); c.abandoned && key) largest[*key] = c.sequence;
  }
  for (const auto& [key, sequence] : largest) {
    if (interleaved_) {
      f.skipped.push_back({static_cast<std::uint16_t>(key >> 1), (key & 1) != 0, sequence});
    } else {
      f.skipped.push_back({static_cast<std::uint16_t>(key), false, sequence});
    }
  }
  if (f.write_to(b, interleaved_)) ++forward_tsns_sent_;
  return true;
}

}  // namespace rtcpp::sctp
