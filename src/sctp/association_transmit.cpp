// SctpAssociation, continued: what it sends. send() queues messages; flush() builds the
// packets (SACK, FORWARD-TSN, retransmissions, then new data within cwnd, the peer's window
// and Max.Burst); our stream reset requests go out once their streams' data has TSNs.
#include <algorithm>

#include "sctp/association.hpp"

namespace rtcpp::sctp {

// --- Outgoing ----------------------------------------------------------------------------

Result<> SctpAssociation::send(std::uint16_t stream, std::uint32_t ppid, BytesView data,
                               SendOptions options) {
  if (state_ != State::kEstablished)
    return invalid_state_error("SCTP association is not established");
  if (stream >= send_queue_.stream_count() || stream >= peer_inbound_streams_)
    return range_error("SCTP stream id out of range");
  if (data.empty()) return type_error("SCTP messages carry at least one byte");
  const std::size_t send_limit =
      config_.max_send_message_size != 0 ? config_.max_send_message_size : config_.max_message_size;
  if (data.size() > send_limit)
    return type_error("message larger than the largest message this side sends");
  if (send_queue_.total_buffered() + data.size() > config_.max_send_buffer)
    return operation_error("SCTP send buffer full");
  if (resetter_.is_resetting(stream)) return invalid_state_error("SCTP stream is being reset");
  SendQueue::Options queued{.unordered = options.unordered};
  // Without the negotiation the options are ignored: the message is sent reliably.
  if (partial_reliability()) {
    queued.max_retransmits = options.max_retransmits;
    if (options.lifetime) queued.expires_at = last_now_ + *options.lifetime;
  }
  send_queue_.add(StreamId(stream), ppid, data, queued);
  return {};
}

std::size_t SctpAssociation::buffered_amount(std::uint16_t stream) const {
  return send_queue_.buffered_amount(StreamId(stream));
}

std::size_t SctpAssociation::unsent_amount(std::uint16_t stream) const {
  return send_queue_.unsent_amount(StreamId(stream));
}

void SctpAssociation::send_control(std::uint8_t type, std::uint8_t flags, BytesView value,
                                   std::uint32_t tag) {
  Buffer packet;
  PacketBuilder b(packet, {config_.local_port, config_.remote_port, tag}, config_.mtu);
  b.add_chunk(type, flags, value);
  // RFC 9653 5.2: zero when the peer accepts it; an ABORT keeps its CRC32c all the same (the
  // peer may have lost the association state that says so).
  b.finish(zero_checksum() && type != chunk_type::kAbort);
  outgoing_.push_back(std::move(packet));
  ++packets_sent_;
}

void SctpAssociation::flush(Timestamp now) {
  if (state_ < State::kEstablished && !tracker_.sack_scheduled()) return;
  const bool interleaved = interleaving();
  const std::size_t chunk_header =
      kChunkHeaderSize + (interleaved ? IDataChunk::kHeaderSize : DataChunk::kHeaderSize);
  const std::size_t max_payload = config_.mtu - kCommonHeaderSize - chunk_header;
  rtx_.abandon_expired(now, send_queue_);  // RFC 3758 3.5 A3
  bool first_packet = true;
  while (true) {
    // Built in place in the queue's next slot, whose buffer is kept from an earlier packet.
    Buffer& packet = outgoing_.push_slot();
    packet.clear();
    packet.reserve(config_.mtu);
    PacketBuilder b(packet, {config_.local_port, config_.remote_port, peer_tag_}, config_.mtu);
    bool any = false;
    // Where the packet's last DATA / I-DATA chunk starts, for its I bit.
    std::optional<std::size_t> last_data_chunk;
    // Whether the window (cwnd or the peer's), or nothing left to send, ends this flush's
    // data: then no packet follows soon to elicit the SACK this one is waiting for.
    bool data_stops_here = false;
    if (tracker_.sack_scheduled()) {
      tracker_.write_sack(b, reassembly_.window_left());
      any = true;
    }
    if (rtx_.forward_tsn_due() && rtx_.write_forward_tsn(b)) any = true;
    // Retransmissions first. A fast retransmit may exceed cwnd by one packet (RFC 9260 7.2.4).
    rtx_.retransmit(now, [&](const RetransmissionQueue::Chunk& c) {
      const std::size_t flight = rtx_.flight_size();
      const bool allowed = cc_.fits(flight, c.length) ||
                           (first_packet && cc_.fast_retransmit_pending()) || flight == 0;
      if (!allowed) {
        data_stops_here = true;
        return false;
      }
      const std::size_t chunk_start = packet.size();
      if (!rtx_.write_chunk(b, c, send_queue_)) return false;
      last_data_chunk = chunk_start;
      ++retransmissions_;
      any = true;
      return true;
    });
    cc_.take_fast_retransmit();
    // New data, within cwnd and the peer's window (one packet may probe a zero window).
    const bool can_send_new = state_ == State::kEstablished || state_ == State::kShutdownPending ||
                              state_ == State::kShutdownReceived;
    // With nothing in flight no SACK is coming to refill the budget: start a new burst.
    if (rtx_.flight_size() == 0) cc_.refill_burst();
    const bool burst_left = cc_.burst_left();
    bool packet_has_new_data = false;
    while (can_send_new && burst_left) {
      SendQueue::Message* m = send_queue_.next();
      if (m == nullptr) {
        data_stops_here = true;
        break;
      }
      const StreamId stream(m->stream);
      if (m->offset == 0 && m->expires_at && now >= *m->expires_at) {
        // Expired before its first byte left: dropped whole, no TSN or SSN was spent on it.
        send_queue_.release_bytes(stream, m->size);
        send_queue_.mark_sent(stream, m->size);
        send_queue_.pop(stream);
        ++expired_unsent_;
        continue;
      }
      const std::size_t remaining = m->size - m->offset;
      const std::size_t size = std::min(remaining, max_payload);
      const std::size_t flight = rtx_.flight_size();
      if (!cc_.fits(flight, size) || (flight > 0 && size > peer_rwnd_)) {
        data_stops_here = true;
        break;
      }
      if (b.remaining() < chunk_header + size) break;
      // SSNs and MIDs are taken in transmission order (RFC 9260 6.6, RFC 8260 2.2.2), so a
      // message dropped unsent leaves no hole in its stream.
      if (m->offset == 0) send_queue_.assign_sequence(*m);
      RetransmissionQueue::Chunk c = RetransmissionQueue::cut(*m, size, now);
      c.tsn = rtx_.next_tsn();
      send_queue_.add_reference(m->slot);
      last_data_chunk = packet.size();
      rtx_.write_chunk(b, c, send_queue_);
      peer_rwnd_ = peer_rwnd_ > size ? static_cast<std::uint32_t>(peer_rwnd_ - size) : 0;
      rtx_.add(std::move(c));
      m->offset += size;
      send_queue_.mark_sent(stream, size);
      if (m->offset == m->size) {
        send_queue_.pop(stream);
      } else {
        send_queue_.fragment_cut(stream);  // RFC 8260 3.2: with I-DATA, the next stream's turn
      }
      any = true;
      packet_has_new_data = true;
    }
    if (packet_has_new_data) cc_.spend_burst();
    if (!any) {
      outgoing_.pop_back();
      break;
    }
    // RFC 9260 3.3.1 / RFC 7053 4.1: the last DATA before the sender goes quiet (queue empty,
    // window full, or shutting down) asks for its SACK at once; the peer would otherwise hold
    // it for its delayed-ack time with nothing else coming to trigger it.
    if (last_data_chunk &&
        (data_stops_here || probe_immediate_ || state_ == State::kShutdownPending)) {
      packet[*last_data_chunk + 1] |= DataChunk::kFlagImmediate;
    }
    if (last_data_chunk) probe_immediate_ = false;
    b.finish(zero_checksum());
    ++packets_sent_;
    first_packet = false;
    if (!rtx_.empty()) t3_rtx_.start_if_stopped(now, rto_.rto());
    if (last_data_chunk) arm_probe(now);
  }
  maybe_send_reset(now);
}

// --- Outgoing stream reset (RFC 6525) --------------------------------------------------

Result<> SctpAssociation::reset_streams(std::span<const std::uint16_t> streams) {
  if (state_ != State::kEstablished)
    return invalid_state_error("SCTP association is not established");
  if (!stream_reset_supported())
    return operation_error("the SCTP peer did not negotiate stream reconfiguration");
  if (streams.empty()) return type_error("no stream to reset");
  for (const std::uint16_t s : streams) {
    if (s >= send_queue_.stream_count() || s >= peer_inbound_streams_)
      return range_error("SCTP stream id out of range");
  }
  resetter_.request(streams);
  return {};
}

bool SctpAssociation::reset_ready() const {
  return state_ == State::kEstablished &&
         resetter_.ready([&](std::uint16_t s) { return send_queue_.has_queued(StreamId(s)); });
}

void SctpAssociation::maybe_send_reset(Timestamp /*now*/) {
  if (!reset_ready()) return;
  // RFC 8831 6.7: a stream is reset only after everything queued on it has a TSN; the
  // request then names the last TSN assigned, which the peer waits for.
  resetter_.make_request(rtx_.next_tsn().prev(),
                         [&](std::uint16_t s) { return send_queue_.has_queued(StreamId(s)); });
  send_reset_request();
}

void SctpAssociation::send_reset_request() {
  Buffer params;
  if (!resetter_.write_request(params, last_now_, rto_.rto(), config_.rto_max)) return;
  send_control(chunk_type::kReConfig, 0, params, peer_tag_);
  ++reconfig_requests_sent_;
}

std::optional<Buffer> SctpAssociation::poll_transmit() {
  // Messages queued by send() since the last packet go out now, timed with the latest clock
  // value the association was given.
  if (outgoing_.empty() && (!send_queue_.empty() || reset_ready())) flush(last_now_);
  if (outgoing_.empty()) return std::nullopt;
  Buffer p = std::move(outgoing_.front());
  outgoing_.pop_front();
  return p;
}

bool SctpAssociation::poll_transmit(Buffer& packet) {
  if (outgoing_.empty() && (!send_queue_.empty() || reset_ready())) flush(last_now_);
  if (outgoing_.empty()) return false;
  std::swap(packet, outgoing_.front());
  outgoing_.pop_front();
  return true;
}

}  // namespace rtcpp::sctp
