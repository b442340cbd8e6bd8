#include "sctp/reassembly_queue.hpp"

#include <algorithm>

#include "base/serial.hpp"

namespace rtcpp::sctp {
namespace {

// Idle map nodes and buffers kept for reuse.
constexpr std::size_t kMaxSpares = 16;

constexpr ReceiveViolation kMessageTooLarge{0, "incoming message larger than max-message-size"};

template <typename Node>
void keep_spare(std::vector<Node>& spares, Node node) {
  if (spares.size() < kMaxSpares) spares.push_back(std::move(node));
}

}  // namespace

ReassemblyQueue::ReassemblyQueue(std::size_t receive_window, std::size_t max_message_size)
    : receive_window_(receive_window), max_message_size_(max_message_size) {}

ReassemblyQueue::Admission ReassemblyQueue::admit(bool next_in_order,
                                                  std::size_t size) const noexcept {
  // Fragments held count against the window by their bytes, and by their number so that
  // tiny chunks cannot multiply the memory behind each byte.
  const std::size_t held = reassembly_.size() + held_messages_;
  const std::size_t fragment_limit = std::max<std::size_t>(1024, receive_window_ / 64);
  if (reassembly_bytes_ + size <= receive_window_ && held < fragment_limit)
    return Admission::kAccept;
  // Beyond the window only the next in-order TSN is taken, so that the window can drain;
  // others are dropped unacknowledged and come again (RFC 9260 6.2).
  if (!next_in_order) return Admission::kDrop;
  // A peer within the window we advertise never gets this far past it: one that does would
  // grow our memory without bound (in-order fragments of messages that never complete).
  if (reassembly_bytes_ + size > receive_window_ + max_message_size_ || held >= 2 * fragment_limit)
    return Admission::kOverrun;
  return Admission::kAccept;
}

std::uint32_t ReassemblyQueue::window_left() const noexcept {
  return reassembly_bytes_ >= receive_window_
             ? 0
             : static_cast<std::uint32_t>(receive_window_ - reassembly_bytes_);
}

Buffer ReassemblyQueue::take_buffer() {
  if (spare_buffers_.empty()) return {};
  Buffer b = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  b.clear();
  return b;
}

void ReassemblyQueue::recycle_buffer(Buffer buffer) {
  if (buffer.capacity() == 0 || spare_buffers_.size() >= kMaxSpares) return;
  spare_buffers_.push_back(std::move(buffer));
}

// --- DATA ----------------------------------------------------------------------------------

std::optional<ReceiveViolation> ReassemblyQueue::add_data(Tsn tsn_value, const DataChunk& data,
                                                          SctpEvents& out) {
  const std::uint64_t tsn = tsn_value.value();
  reassembly_bytes_ += data.payload.size();
  // A fragment that continues the message held just below it joins that node's buffer: in
  // order, each message is built in one buffer (RFC 9260 6.9: a message's fragments have
  // consecutive TSNs), with no allocation per packet.
  if (!data.beginning) {
    auto below = reassembly_.lower_bound(tsn);
    if (below != reassembly_.begin()) {
      --below;
      Fragment& held = below->second;
      if (held.last_tsn + 1 == tsn && !held.end && held.stream == data.stream_id &&
          held.ssn == data.stream_sequence && held.unordered == data.unordered) {
        held.payload.append(data.payload);
        held.last_tsn = tsn;
        held.end = data.end;
        return try_complete(below->first, out);
      }
    }
  }
  Fragment fragment{data.stream_id, data.stream_sequence, data.ppid, data.beginning,
                    data.end,       data.unordered,       tsn,       {}};
  if (spare_fragments_.empty()) {
    fragment.payload = take_buffer();
    fragment.payload.assign(data.payload);
    reassembly_.emplace(tsn, std::move(fragment));
  } else {
    auto node = std::move(spare_fragments_.back());
    spare_fragments_.pop_back();
    node.key() = tsn;
    fragment.payload = take_buffer();
    fragment.payload.assign(data.payload);
    node.mapped() = std::move(fragment);
    reassembly_.insert(std::move(node));
  }
  return try_complete(tsn, out);
}

ReassemblyQueue::Fragments::iterator ReassemblyQueue::erase_fragment(Fragments::iterator it) {
  auto next = std::next(it);
  recycle_buffer(std::move(it->second.payload));
  keep_spare(spare_fragments_, reassembly_.extract(it));
  return next;
}

std::optional<ReceiveViolation> ReassemblyQueue::try_complete(std::uint64_t tsn, SctpEvents& out) {
  // Find the message around `tsn`: DATA fragments of one message have consecutive TSNs.
  auto it = reassembly_.find(tsn);
  const Fragment& f = it->second;
  auto first = it;
  while (!first->second.beginning) {
    if (first == reassembly_.begin()) return std::nullopt;
    auto prev = std::prev(first);
    if (prev->second.last_tsn != first->first - 1 || prev->second.stream != f.stream ||
        prev->second.ssn != f.ssn || prev->second.unordered != f.unordered || prev->second.end)
      return std::nullopt;
    first = prev;
  }
  auto last = it;
  std::size_t size = 0;
  for (auto k = first;; ++k) {
    size += k->second.payload.size();
    if (k->second.end) {
      last = k;
      break;
    }
    auto next = std::next(k);
    if (next == reassembly_.end() || next->first != k->second.last_tsn + 1 ||
        next->second.stream != f.stream || next->second.ssn != f.ssn || next->second.beginning)
      return std::nullopt;
    if (size > max_message_size_) return kMessageTooLarge;
  }
  if (size > max_message_size_) return kMessageTooLarge;
  const std::uint16_t stream = f.stream;
  const std::uint16_t ssn = f.ssn;
  if (f.unordered) {
    deliver(first, last, out);
    return std::nullopt;
  }
  if (ssn == next_ssn_in_[stream]) {
    // Its turn already (the usual case): delivered without queueing.
    ++next_ssn_in_[stream];
    deliver(first, last, out);
    if (complete_ordered_.count(stream) != 0) deliver_ready(stream, out);
    return std::nullopt;
  }
  complete_ordered_[stream][ssn] = first->first;
  return std::nullopt;
}

void ReassemblyQueue::deliver(Fragments::iterator first, Fragments::iterator last,
                              SctpEvents& out) {
  SctpMessage msg;
  msg.stream = first->second.stream;
  msg.ppid = first->second.ppid;
  if (first == last) {
    msg.data = std::move(first->second.payload);
  } else {
    // Only after loss or reordering: the message's bytes are in several nodes.
    std::size_t size = 0;
    for (auto k = first;; ++k) {
      size += k->second.payload.size();
      if (k == last) break;
    }
    msg.data = take_buffer();
    msg.data.reserve(size);
    for (auto k = first;; ++k) {
      msg.data.append(k->second.payload);
      if (k == last) break;
    }
  }
  reassembly_bytes_ -= msg.data.size();
  for (auto k = first, end = std::next(last); k != end;) k = erase_fragment(k);
  out.push_back(std::move(msg));
}

void ReassemblyQueue::deliver_ready(std::uint16_t stream, SctpEvents& out) {
  auto& ready = complete_ordered_[stream];
  while (true) {
    auto it = ready.find(next_ssn_in_[stream]);
    if (it == ready.end()) break;
    auto first = reassembly_.find(it->second);
    auto last = first;
    while (!last->second.end) ++last;
    ready.erase(it);
    ++next_ssn_in_[stream];
    deliver(first, last, out);
  }
  if (ready.empty()) complete_ordered_.erase(stream);
}

void ReassemblyQueue::skip_data(Tsn new_cumulative,
                                std::span<const ForwardTsnChunk::Skipped> skipped,
                                SctpEvents& out) {
  const std::uint64_t new_cum = new_cumulative.value();
  // Fragments at or below the new point are dropped, except complete ordered messages that
  // wait for their turn: they were received whole and are still delivered.
  std::vector<std::uint64_t> keep;
  for (const auto& [stream, waiting] : complete_ordered_) {
    for (const auto& [ssn, first] : waiting)
      if (first <= new_cum) keep.push_back(first);
  }
  std::sort(keep.begin(), keep.end());
  for (auto it = reassembly_.begin(); it != reassembly_.end() && it->first <= new_cum;) {
    if (std::binary_search(keep.begin(), keep.end(), it->first)) {
      while (it != reassembly_.end() && !it->second.end) ++it;
      if (it != reassembly_.end()) ++it;
      continue;
    }
    reassembly_bytes_ -= it->second.payload.size();
    it = erase_fragment(it);
  }
  // Continuation fragments just above whose beginning was skipped can never complete (unless
  // they continue a kept message: a hostile FORWARD-TSN may end inside one).
  auto above = reassembly_.upper_bound(new_cum);
  bool continues_kept = false;
  if (above != reassembly_.begin()) {
    const Fragment& kept = std::prev(above)->second;
    continues_kept = kept.last_tsn > new_cum || (kept.last_tsn == new_cum && !kept.end);
  }
  auto it = continues_kept ? reassembly_.end() : reassembly_.find(new_cum + 1);
  while (it != reassembly_.end() && !it->second.beginning) {
    const std::uint64_t last = it->second.last_tsn;
    const bool end = it->second.end;
    reassembly_bytes_ -= it->second.payload.size();
    it = erase_fragment(it);
    if (end || it == reassembly_.end() || it->first != last + 1) break;
  }
  // Ordered streams continue after the skipped SSNs.
  for (const auto& s : skipped) {
    if (!valid_stream(s.stream_id)) continue;
    const auto ssn = static_cast<std::uint16_t>(s.sequence);
    if (serial_less(ssn, next_ssn_in_[s.stream_id])) continue;  // already past it
    deliver_skipped(s.stream_id, ssn, out);
  }
}

void ReassemblyQueue::deliver_skipped(std::uint16_t stream, std::uint16_t up_to, SctpEvents& out) {
  // Complete messages up to the skipped SSN are delivered in SSN order, then the stream
  // resumes after it.
  auto waiting = complete_ordered_.find(stream);
  if (waiting != complete_ordered_.end()) {
    const std::uint16_t next = next_ssn_in_[stream];
    const auto span = static_cast<std::uint16_t>(up_to - next);
    std::vector<std::pair<std::uint16_t, std::uint16_t>> due;  // (distance from next, ssn)
    for (const auto& [ssn, first] : waiting->second) {
      const auto d = static_cast<std::uint16_t>(ssn - next);
      if (d <= span) due.emplace_back(d, ssn);
    }
    std::sort(due.begin(), due.end());
    for (const auto& [d, ssn] : due) {
      auto& ready = complete_ordered_[stream];
      auto it = ready.find(ssn);
      auto first = reassembly_.find(it->second);
      auto last = first;
      while (!last->second.end) ++last;
      ready.erase(it);
      deliver(first, last, out);
    }
  }
  next_ssn_in_[stream] = static_cast<std::uint16_t>(up_to + 1);
  deliver_ready(stream, out);
}

// --- I-DATA --------------------------------------------------------------------------------

std::optional<ReceiveViolation> ReassemblyQueue::check_idata(
    const IDataChunk& data) const noexcept {
  // Every fragment carries a byte at least, so an FSN past max-message-size means a message
  // past it; FSN 0 belongs to the first fragment alone (a later one wrapping round to 0,
  // RFC 8260 2.1, would be far past the limit too).
  const std::uint32_t fsn = data.fsn();
  if (fsn > max_message_size_ || (!data.beginning && fsn == 0))
    return ReceiveViolation{error_cause::kProtocolViolation,
                            "I-DATA fragment beyond max-message-size"};
  return std::nullopt;
}

std::optional<ReceiveViolation> ReassemblyQueue::add_idata(const IDataChunk& data,
                                                           SctpEvents& out) {
  const std::uint32_t fsn = data.fsn();
  const std::size_t size = data.payload.size();
  InStream& in = in_streams_[data.stream_id];
  const std::uint32_t mid = data.message_id;
  // A fragment of a message already delivered, or abandoned by an I-FORWARD-TSN that passed
  // it on the way (its message's other fragments straddle the new cumulative TSN): dropped.
  if (data.unordered) {
    if (in.unordered_skipped) {
      if (serial_less_equal(mid, *in.unordered_skipped)) return std::nullopt;
      // Far past the mark, the MIDs have moved on: forget it before it wraps round.
      if (serial_distance(*in.unordered_skipped, mid) >= (std::int64_t{1} << 30))
        in.unordered_skipped.reset();
    }
  } else if (serial_less(mid, in.next_mid) || in.ready.count(mid) != 0) {
    return std::nullopt;
  }
  const MessageKey key{data.stream_id, data.unordered, mid};
  auto it = partial_messages_.find(key);
  if (it == partial_messages_.end() && data.beginning && data.end) {
    // A whole message in one chunk.
    SctpMessage msg{data.stream_id, data.ppid_or_fsn, take_buffer()};
    msg.data.assign(data.payload);
    if (data.unordered || mid == in.next_mid) {
      out.push_back(std::move(msg));
      if (!data.unordered) {
        ++in.next_mid;
        deliver_in_order(in, out);
      }
    } else {
      reassembly_bytes_ += size;
      ++held_messages_;
      in.ready.emplace(mid, std::move(msg));
    }
    return std::nullopt;
  }
  if (it == partial_messages_.end()) it = new_partial(key);
  PartialMessage& p = it->second;
  // The same fragment again, under another TSN.
  if (fsn < p.next_fsn || p.ahead.count(fsn) != 0) return std::nullopt;
  const bool after_end = p.last_fsn && fsn > *p.last_fsn;
  const bool second_end = data.end && p.last_fsn;
  const bool end_too_early = data.end && p.fragments > 0 && p.highest_fsn > fsn;
  if (after_end || second_end || end_too_early)
    return ReceiveViolation{error_cause::kProtocolViolation,
                            "I-DATA fragments disagree on their message's end"};
  if (p.bytes + size > max_message_size_) return kMessageTooLarge;
  if (data.beginning) p.ppid = data.ppid_or_fsn;
  if (data.end) p.last_fsn = fsn;
  p.bytes += size;
  p.highest_fsn = std::max(p.highest_fsn, fsn);
  ++p.fragments;
  if (fsn == p.next_fsn) {
    // In order (the usual case): straight into the message, and whatever it was waiting for.
    p.data.append(data.payload);
    ++p.next_fsn;
    for (auto next = p.ahead.begin(); next != p.ahead.end() && next->first == p.next_fsn;
         next = p.ahead.erase(next)) {
      p.data.append(next->second);
      ++p.next_fsn;
    }
  } else {
    p.ahead.emplace(fsn, Buffer(data.payload));
  }
  reassembly_bytes_ += size;
  ++held_messages_;
  // FSNs run from 0 to the last one without a hole (RFC 8260 2.1).
  if (p.last_fsn && p.fragments == std::size_t{*p.last_fsn} + 1) complete_message(it, out);
  return std::nullopt;
}

ReassemblyQueue::PartialMessages::iterator ReassemblyQueue::new_partial(const MessageKey& key) {
  // The node of the last message completed is reused (a map node per message otherwise).
  if (spare_partials_.empty()) {
    auto it = partial_messages_.emplace(key, PartialMessage{}).first;
    it->second.data = take_buffer();
    return it;
  }
  auto node = std::move(spare_partials_.back());
  spare_partials_.pop_back();
  node.key() = key;
  PartialMessage& p = node.mapped();
  p.next_fsn = 0;
  p.ahead.clear();
  p.ppid = 0;
  p.last_fsn.reset();
  p.highest_fsn = 0;
  p.fragments = 0;
  p.bytes = 0;
  if (p.data.capacity() == 0) p.data = take_buffer();
  p.data.clear();
  return partial_messages_.insert(std::move(node)).position;
}

void ReassemblyQueue::complete_message(PartialMessages::iterator it, SctpEvents& out) {
  const MessageKey key = it->first;
  PartialMessage& p = it->second;
  SctpMessage msg;
  msg.stream = key.stream;
  msg.ppid = p.ppid;
  // Every fragment is in data: all FSNs up to the last one are in, and ahead is drained
  // whenever data reaches its first entry.
  msg.data = std::move(p.data);
  held_messages_ -= p.fragments;
  keep_spare(spare_partials_, partial_messages_.extract(it));
  InStream& in = in_streams_[key.stream];
  if (!key.unordered && key.mid != in.next_mid) {
    ++held_messages_;  // its bytes stay counted until it is delivered
    in.ready.emplace(key.mid, std::move(msg));
    return;
  }
  reassembly_bytes_ -= msg.data.size();
  out.push_back(std::move(msg));
  if (!key.unordered) {
    ++in.next_mid;
    deliver_in_order(in, out);
  }
}

void ReassemblyQueue::deliver_in_order(InStream& in, SctpEvents& out) {
  for (auto it = in.ready.find(in.next_mid); it != in.ready.end();
       it = in.ready.find(in.next_mid)) {
    reassembly_bytes_ -= it->second.data.size();
    --held_messages_;
    out.push_back(std::move(it->second));
    in.ready.erase(it);
    ++in.next_mid;
  }
}

void ReassemblyQueue::drop_partial(PartialMessages::iterator it) {
  reassembly_bytes_ -= it->second.bytes;
  held_messages_ -= it->second.fragments;
  recycle_buffer(std::move(it->second.data));
  keep_spare(spare_partials_, partial_messages_.extract(it));
}

void ReassemblyQueue::skip_idata(std::span<const ForwardTsnChunk::Skipped> skipped,
                                 SctpEvents& out) {
  // RFC 8260 2.3.1: nothing is dropped by TSN (interleaved messages straddle the new
  // cumulative TSN); the messages named are, per stream and U flag, up to the MID given.
  for (const auto& s : skipped) {
    if (!valid_stream(s.stream_id)) continue;
    if (s.unordered) {
      skip_unordered(s.stream_id, s.sequence);
    } else {
      skip_ordered(s.stream_id, s.sequence, out);
    }
  }
}

void ReassemblyQueue::skip_ordered(std::uint16_t stream, std::uint32_t up_to, SctpEvents& out) {
  InStream& in = in_streams_[stream];
  if (serial_less(up_to, in.next_mid)) return;  // already past it
  const std::uint32_t span = up_to - in.next_mid;
  auto within = [&](std::uint32_t mid) { return std::uint32_t(mid - in.next_mid) <= span; };
  // Partial messages up to it were abandoned: dropped.
  for (auto it = partial_messages_.lower_bound({stream, false, 0});
       it != partial_messages_.end() && it->first.stream == stream && !it->first.unordered;) {
    if (within(it->first.mid)) {
      drop_partial(it++);
    } else {
      ++it;
    }
  }
  // Complete ones are delivered in MID order (as RFC 3758 3.6 does for SSNs), then the
  // stream resumes after the skipped MID.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> due;  // (distance from next, MID)
  for (const auto& [mid, msg] : in.ready)
    if (within(mid)) due.emplace_back(mid - in.next_mid, mid);
  std::sort(due.begin(), due.end());
  for (const auto& [distance, mid] : due) {
    auto it = in.ready.find(mid);
    reassembly_bytes_ -= it->second.data.size();
    --held_messages_;
    out.push_back(std::move(it->second));
    in.ready.erase(it);
  }
  in.next_mid = up_to + 1;
  deliver_in_order(in, out);
}

void ReassemblyQueue::skip_unordered(std::uint16_t stream, std::uint32_t up_to) {
  for (auto it = partial_messages_.lower_bound({stream, true, 0});
       it != partial_messages_.end() && it->first.stream == stream;) {
    if (serial_less_equal(it->first.mid, up_to)) {
      drop_partial(it++);
    } else {
      ++it;
    }
  }
  // Fragments of these messages still on the way are dropped on arrival.
  InStream& in = in_streams_[stream];
  if (!in.unordered_skipped || serial_less(*in.unordered_skipped, up_to))
    in.unordered_skipped = up_to;
}

// --- Incoming stream reset -----------------------------------------------------------------

void ReassemblyQueue::reset_streams(const std::vector<std::uint16_t>& streams, SctpEvents& out) {
  // RFC 8260 2.3.2: I-DATA streams restart at MID 0. Everything sent before the reset has
  // arrived or was abandoned by now, so what still waits of the old sequence is delivered
  // first when complete and dropped when not (it can no longer complete).
  auto restart = [&](std::uint16_t s) {
    auto in = in_streams_.find(s);
    if (in == in_streams_.end()) return;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> waiting;  // (distance, MID)
    for (const auto& [mid, msg] : in->second.ready)
      waiting.emplace_back(mid - in->second.next_mid, mid);
    std::sort(waiting.begin(), waiting.end());
    for (const auto& [distance, mid] : waiting) {
      auto it = in->second.ready.find(mid);
      reassembly_bytes_ -= it->second.data.size();
      --held_messages_;
      out.push_back(std::move(it->second));
    }
    for (auto it = partial_messages_.lower_bound({s, false, 0});
         it != partial_messages_.end() && it->first.stream == s;)
      drop_partial(it++);
    in_streams_.erase(in);
  };
  if (streams.empty()) {
    std::vector<std::uint16_t> all;
    for (const auto& [s, in] : in_streams_) all.push_back(s);
    std::sort(all.begin(), all.end());
    for (const std::uint16_t s : all) restart(s);
  } else {
    for (const std::uint16_t s : streams) restart(s);
  }
  out.push_back(SctpStreamsReset{streams, true});
  if (streams.empty()) {
    next_ssn_in_.zero_all();
    return;
  }
  for (const std::uint16_t s : streams) {
    next_ssn_in_[s] = 0;
    // Messages of the new sequence may have arrived ahead of the reset.
    if (complete_ordered_.count(s) != 0) deliver_ready(s, out);
  }
}

}  // namespace rtcpp::sctp
