// The receive side's reassembly (RFC 9260 6.5, 6.6, 6.9; RFC 8260 2.2.3): fragments of DATA
// (consecutive TSNs) or I-DATA (FSNs under a MID) built into messages, delivered per stream
// in order or at once when unordered; what partial reliability (RFC 3758 3.6, RFC 8260 2.3)
// and incoming stream resets (RFC 6525 5.2.2) skip; and the memory held, which the receive
// window bounds. TSN accounting is DataTracker's.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/bytes.hpp"
#include "sctp/events.hpp"
#include "sctp/packet.hpp"
#include "sctp/stream_counters.hpp"
#include "sctp/types.hpp"

namespace rtcpp::sctp {

// The peer broke the protocol or our limits: the association aborts with this error cause
// (0: none) and reason.
struct ReceiveViolation {
  std::uint16_t cause = 0;
  std::string_view reason;
};

class ReassemblyQueue {
 public:
  ReassemblyQueue(std::size_t receive_window, std::size_t max_message_size);

  // The peer's outgoing streams, every sequence number at 0.
  void start(std::size_t streams) { next_ssn_in_.reset(streams); }
  bool valid_stream(std::uint16_t stream) const noexcept { return stream < next_ssn_in_.size(); }

  enum class Admission : std::uint8_t { kAccept, kDrop, kOverrun };
  // Whether a new chunk of `size` bytes fits; beyond the window only the next in-order TSN
  // does (RFC 9260 6.2), and a peer that pushes far past it is overrunning us.
  Admission admit(bool next_in_order, std::size_t size) const noexcept;

  // A new DATA chunk (its TSN accounted for).
  std::optional<ReceiveViolation> add_data(Tsn tsn, const DataChunk& data, SctpEvents& out);
  // I-DATA: checked before its TSN is accounted for, then added.
  std::optional<ReceiveViolation> check_idata(const IDataChunk& data) const noexcept;
  std::optional<ReceiveViolation> add_idata(const IDataChunk& data, SctpEvents& out);

  // FORWARD-TSN (RFC 3758 3.6) to `new_cumulative`, above the one we had.
  void skip_data(Tsn new_cumulative, std::span<const ForwardTsnChunk::Skipped> skipped,
                 SctpEvents& out);
  // I-FORWARD-TSN (RFC 8260 2.3.1).
  void skip_idata(std::span<const ForwardTsnChunk::Skipped> skipped, SctpEvents& out);
  // The peer reset these outgoing streams of its (all when empty), everything it sent before
  // having arrived: reported with SctpStreamsReset.
  void reset_streams(const std::vector<std::uint16_t>& streams, SctpEvents& out);

  // Bytes held for reassembly or ordering.
  std::size_t buffered_bytes() const noexcept { return reassembly_bytes_; }
  // What is left of the receive window (the SACK's a_rwnd).
  std::uint32_t window_left() const noexcept;
  // A delivered message's buffer, given back for a later message (a few are kept).
  void recycle_buffer(Buffer buffer);

 private:
  struct Fragment {
    std::uint16_t stream;
    std::uint16_t ssn;
    std::uint32_t ppid;
    bool beginning;
    bool end;
    bool unordered;
    // Consecutive fragments of one message share a node: the payload holds them all, from
    // the key's TSN to this one.
    std::uint64_t last_tsn = 0;
    Buffer payload;
  };
  using Fragments = std::map<std::uint64_t, Fragment>;
  // I-DATA reassembly (RFC 8260 2.2.3): fragments are grouped by stream, U flag and MID and
  // put in order by FSN.
  struct MessageKey {
    std::uint16_t stream;
    bool unordered;
    std::uint32_t mid;
    friend auto operator<=>(const MessageKey&, const MessageKey&) = default;
  };
  struct PartialMessage {
    Buffer data;                            // fragments 0 to next_fsn - 1, appended in FSN order
    std::uint32_t next_fsn = 0;             // the fragment that extends data
    std::map<std::uint32_t, Buffer> ahead;  // fragments past a missing one, by FSN
    std::uint32_t ppid = 0;
    std::optional<std::uint32_t> last_fsn;  // known once the E fragment is in
    std::uint32_t highest_fsn = 0;
    std::size_t fragments = 0;  // received (data and ahead)
    std::size_t bytes = 0;
  };
  using PartialMessages = std::map<MessageKey, PartialMessage>;
  struct InStream {
    std::uint32_t next_mid = 0;                      // the next ordered message to deliver
    std::map<std::uint32_t, SctpMessage> ready;      // complete ordered messages waiting, by MID
    std::optional<std::uint32_t> unordered_skipped;  // highest unordered MID abandoned
  };

  // DATA.
  std::optional<ReceiveViolation> try_complete(std::uint64_t tsn, SctpEvents& out);
  void deliver(Fragments::iterator first, Fragments::iterator last, SctpEvents& out);
  void deliver_ready(std::uint16_t stream, SctpEvents& out);
  void deliver_skipped(std::uint16_t stream, std::uint16_t up_to, SctpEvents& out);
  // Removes a node, keeping it (and its buffer) for a later fragment.
  Fragments::iterator erase_fragment(Fragments::iterator it);
  // I-DATA.
  PartialMessages::iterator new_partial(const MessageKey& key);
  void complete_message(PartialMessages::iterator it, SctpEvents& out);
  void deliver_in_order(InStream& in, SctpEvents& out);
  void drop_partial(PartialMessages::iterator it);
  void skip_ordered(std::uint16_t stream, std::uint32_t up_to, SctpEvents& out);
  void skip_unordered(std::uint16_t stream, std::uint32_t up_to);
  // An empty buffer, with capacity when one was recycled.
  Buffer take_buffer();

  std::size_t receive_window_;
  std::size_t max_message_size_;
  std::size_t reassembly_bytes_ = 0;
  StreamCounters next_ssn_in_;
  // DATA: received above or at the cumulative TSN, undelivered, by first TSN.
  Fragments reassembly_;
  std::vector<Fragments::node_type> spare_fragments_;
  // DATA, per stream: complete ordered messages waiting for their turn, SSN -> first TSN.
  std::unordered_map<std::uint16_t, std::map<std::uint16_t, std::uint64_t>> complete_ordered_;
  // I-DATA.
  PartialMessages partial_messages_;
  std::vector<PartialMessages::node_type> spare_partials_;
  std::unordered_map<std::uint16_t, InStream> in_streams_;
  std::size_t held_messages_ = 0;  // I-DATA fragments and complete messages held
  std::vector<Buffer> spare_buffers_;
};

}  // namespace rtcpp::sctp
