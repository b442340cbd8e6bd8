// Messages waiting to be sent, per stream, and the bytes of those queued or in flight.
// With DATA they leave whole, in send() order; with I-DATA the streams take turns, one
// fragment each (RFC 8260 3.2, round robin). Sequence numbers (SSN or MID) are taken when a
// message's first fragment gets its TSN (RFC 9260 6.6, RFC 8260 2.2.2), so a message dropped
// unsent leaves no hole.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/bytes.hpp"
#include "base/ring_queue.hpp"
#include "base/time.hpp"
#include "sctp/stream_counters.hpp"
#include "sctp/types.hpp"

namespace rtcpp::sctp {

class SendQueue {
 public:
  struct Message {
    std::uint16_t stream;
    std::uint32_t ppid;
    bool unordered;
    std::uint32_t sequence = 0;  // SSN or MID, assigned when the first fragment gets its TSN
    std::uint32_t slot = 0;      // where its bytes are (see payload())
    std::size_t size = 0;
    std::size_t offset = 0;      // bytes already cut into chunks
    std::uint32_t next_fsn = 0;  // I-DATA: the FSN of the next fragment cut
    std::uint64_t id = 0;
    std::optional<std::uint16_t> max_retransmits;
    std::optional<Timestamp> expires_at;
  };
  struct Options {
    bool unordered = false;
    std::optional<std::uint16_t> max_retransmits;
    std::optional<Timestamp> expires_at;
  };

  // `streams` outgoing streams, every sequence number at 0. interleaved: I-DATA.
  void start(std::size_t streams) { next_ssn_out_.reset(streams); }
  void set_interleaved(bool interleaved) noexcept { interleaved_ = interleaved; }
  std::size_t stream_count() const noexcept { return next_ssn_out_.size(); }

  // Queues a copy of `data`; its id.
  std::uint64_t add(StreamId stream, std::uint32_t ppid, BytesView data, const Options& options);
  // The message the next fragment is cut from, nullptr when none waits.
  Message* next();
  // `message` (next()'s) gets its stream's next sequence number.
  void assign_sequence(Message& message);
  // A fragment of the message at the head of `stream` was cut, not its last: with I-DATA the
  // next stream's turn (RFC 8260 3.2).
  void fragment_cut(StreamId stream);
  // Removes the message at the head of `stream` (its bytes stay while chunks refer to them).
  void pop(StreamId stream);
  // RFC 3758 3.5 A3: if `id` is the partly sent message at the head of `stream`, the rest of
  // it is dropped (its unsent bytes no longer buffered).
  void drop_partly_sent(StreamId stream, std::uint64_t id);

  bool empty() const noexcept { return stream_queues_.empty(); }
  bool has_queued(StreamId stream) const { return stream_queues_.count(stream.value()) != 0; }
  std::size_t queued_messages() const noexcept;

  // RFC 6525: after our reset of `stream`, its SSN and MIDs restart at 0.
  void reset_sequences(StreamId stream);

  // A message's bytes are kept once for all its chunks: one reference per chunk made.
  void add_reference(std::uint32_t slot) { ++message_slots_[slot].references; }
  void release_reference(std::uint32_t slot);
  BytesView payload(std::uint32_t slot, std::uint32_t offset, std::uint32_t length) const {
    return message_slots_[slot].data.view().subspan(offset, length);
  }

  // Bytes queued or in flight and not yet acknowledged (or abandoned).
  void release_bytes(StreamId stream, std::size_t n);
  std::size_t buffered_amount(StreamId stream) const;
  // Bytes queued and not yet cut into chunks (sent once, or dropped unsent): what the transport
  // has still to send from its queue (W3C RTCDataChannel.bufferedAmount).
  void mark_sent(StreamId stream, std::size_t n);
  std::size_t unsent_amount(StreamId stream) const;
  std::size_t total_buffered() const noexcept { return buffered_total_; }

 private:
  struct MessageSlot {
    Buffer data;
    std::uint32_t references = 0;  // the send queue's, then one per chunk not yet released
  };
  using Queues = std::unordered_map<std::uint16_t, RingQueue<Message>>;
  std::uint32_t take_slot(BytesView data);

  bool interleaved_ = false;
  Queues stream_queues_;  // non-empty ones
  // Nodes of queues emptied, reused for the next streams that get one.
  std::vector<Queues::node_type> spare_queues_;
  RingQueue<std::pair<std::uint16_t, std::uint64_t>> send_order_;  // DATA: (stream, message id)
  RingQueue<std::uint16_t> round_robin_;  // I-DATA: streams with messages, the next first
  // The bytes of messages queued or in flight, and the free slots: a few keep their buffers'
  // capacity (so that a steady flow of messages does not allocate), the others are empty.
  std::vector<MessageSlot> message_slots_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<std::uint32_t> empty_slots_;
  std::size_t spare_slot_bytes_ = 0;  // capacity held by free_slots_
  StreamCounters next_ssn_out_;
  // I-DATA MIDs per stream, ordered and unordered counted apart (RFC 8260 2.1).
  std::unordered_map<std::uint16_t, std::array<std::uint32_t, 2>> next_mid_out_;
  std::unordered_map<std::uint16_t, std::size_t> buffered_;
  std::unordered_map<std::uint16_t, std::size_t> unsent_;
  std::size_t buffered_total_ = 0;
  std::uint64_t next_message_id_ = 1;
};

}  // namespace rtcpp::sctp
