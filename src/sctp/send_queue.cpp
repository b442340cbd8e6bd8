#include "sctp/send_queue.hpp"

#include <algorithm>

namespace rtcpp::sctp {
namespace {

constexpr std::size_t kMaxSpareQueues = 16;
// Capacity kept in free message slots: about a receive window's worth of messages in flight.
constexpr std::size_t kMaxSpareSlotBytes = 1024 * 1024;

}  // namespace

std::uint64_t SendQueue::add(StreamId stream_id, std::uint32_t ppid, BytesView data,
                             const Options& options) {
  const std::uint16_t stream = stream_id.value();
  Message m{.stream = stream,
            .ppid = ppid,
            .unordered = options.unordered,
            .slot = take_slot(data),
            .size = data.size(),
            .id = next_message_id_++,
            .max_retransmits = options.max_retransmits,
            .expires_at = options.expires_at};
  auto q = stream_queues_.find(stream);
  if (q == stream_queues_.end()) {
    if (spare_queues_.empty()) {
      q = stream_queues_.try_emplace(stream).first;
    } else {
      auto node = std::move(spare_queues_.back());
      spare_queues_.pop_back();
      node.key() = stream;
      q = stream_queues_.insert(std::move(node)).position;
    }
  }
  auto& queue = q->second;
  if (interleaved_) {
    if (queue.empty()) round_robin_.push_back(stream);
  } else {
    send_order_.push_back({stream, m.id});
  }
  const std::uint64_t id = m.id;
  queue.push_back(std::move(m));
  buffered_[stream] += data.size();
  unsent_[stream] += data.size();
  buffered_total_ += data.size();
  return id;
}

SendQueue::Message* SendQueue::next() {
  if (interleaved_) {
    if (round_robin_.empty()) return nullptr;
    return &stream_queues_.find(round_robin_.front())->second.front();
  }
  // DATA: whole messages in send() order. Entries of messages already gone are skipped.
  while (!send_order_.empty()) {
    const auto [stream, id] = send_order_.front();
    auto q = stream_queues_.find(stream);
    if (q != stream_queues_.end() && q->second.front().id == id) return &q->second.front();
    send_order_.pop_front();
  }
  return nullptr;
}

void SendQueue::assign_sequence(Message& m) {
  if (interleaved_) {
    m.sequence = next_mid_out_[m.stream][m.unordered ? 1 : 0]++;
  } else if (!m.unordered) {
    m.sequence = next_ssn_out_[m.stream]++;
  }
}

void SendQueue::fragment_cut(StreamId stream) {
  if (!interleaved_) return;
  round_robin_.pop_front();
  round_robin_.push_back(stream.value());
}

void SendQueue::pop(StreamId stream_id) {
  const std::uint16_t stream = stream_id.value();
  auto q = stream_queues_.find(stream);
  release_reference(q->second.front().slot);
  q->second.pop_front();
  if (!q->second.empty()) {
    // A stream whose turn this was goes to the back.
    if (interleaved_ && round_robin_.front() == stream) {
      round_robin_.pop_front();
      round_robin_.push_back(stream);
    }
    return;
  }
  // Its node and storage serve the next stream that gets a queue.
  auto node = stream_queues_.extract(q);
  if (spare_queues_.size() < kMaxSpareQueues) spare_queues_.push_back(std::move(node));
  if (interleaved_) {
    for (std::size_t i = 0; i < round_robin_.size(); ++i) {
      if (round_robin_[i] == stream) {
        round_robin_.erase_at(i);
        break;
      }
    }
  }
}

void SendQueue::drop_partly_sent(StreamId stream, std::uint64_t id) {
  // Only the message at the head of its stream's queue is ever partly sent.
  auto q = stream_queues_.find(stream.value());
  if (q == stream_queues_.end() || q->second.front().id != id) return;
  release_bytes(stream, q->second.front().size - q->second.front().offset);
  mark_sent(stream, q->second.front().size - q->second.front().offset);
  pop(stream);
}

std::size_t SendQueue::queued_messages() const noexcept {
  std::size_t n = 0;
  for (const auto& [stream, queue] : stream_queues_) n += queue.size();
  return n;
}

void SendQueue::reset_sequences(StreamId stream) {
  next_ssn_out_[stream.value()] = 0;
  next_mid_out_.erase(stream.value());  // RFC 8260 2.3.2: both MID counters restart at 0 too
}

std::uint32_t SendQueue::take_slot(BytesView data) {
  // Slots that kept a buffer first, then ones that did not, then a new one.
  std::uint32_t slot = 0;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    spare_slot_bytes_ -= message_slots_[slot].data.capacity();
  } else if (!empty_slots_.empty()) {
    slot = empty_slots_.back();
    empty_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(message_slots_.size());
    message_slots_.emplace_back();
  }
  MessageSlot& s = message_slots_[slot];
  s.data.assign(data);
  s.references = 1;  // the send queue's
  return slot;
}

void SendQueue::release_reference(std::uint32_t slot) {
  MessageSlot& s = message_slots_[slot];
  if (--s.references != 0) return;
  // Free slots keep their capacity for the next messages up to a bound; beyond it the memory
  // goes.
  if (spare_slot_bytes_ + s.data.capacity() <= kMaxSpareSlotBytes) {
    spare_slot_bytes_ += s.data.capacity();
    free_slots_.push_back(slot);
  } else {
    s.data = Buffer();
    empty_slots_.push_back(slot);
  }
}

void SendQueue::release_bytes(StreamId stream, std::size_t n) {
  auto it = buffered_.find(stream.value());
  if (it != buffered_.end()) {
    it->second -= n;  // kept at zero: erasing and inserting again would allocate per message
  }
  buffered_total_ -= n;
}

void SendQueue::mark_sent(StreamId stream, std::size_t n) {
  auto it = unsent_.find(stream.value());
  if (it != unsent_.end()) it->second -= std::min(n, it->second);  // kept at zero, as buffered_
}

std::size_t SendQueue::unsent_amount(StreamId stream) const {
  auto it = unsent_.find(stream.value());
  return it == unsent_.end() ? 0 : it->second;
}

std::size_t SendQueue::buffered_amount(StreamId stream) const {
  auto it = buffered_.find(stream.value());
  return it == buffered_.end() ? 0 : it->second;
}

}  // namespace rtcpp::sctp
