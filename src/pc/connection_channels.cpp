// The connection's data channels (W3C 6.2): creation and ids, the open/closing/closed
// lifecycle over the transport's channel procedure, messages and bufferedamountlow.
#include <algorithm>

#include "base/log.hpp"
#include "pc/connection.hpp"

namespace rtcpp::pc {

Result<ChannelHandle> Connection::create_channel(ChannelInit init, Timestamp) {
  if (closed_) return invalid_state_error("the connection is closed");
  // W3C 4.4.1 createDataChannel, in its order of checks.
  if (init.label.size() > 65535) return type_error("the label is longer than 65535 bytes");
  if (init.protocol.size() > 65535) return type_error("the protocol is longer than 65535 bytes");
  if (init.negotiated && !init.id) return type_error("a negotiated channel needs an id");
  if (init.max_packet_life_time_ms && init.max_retransmits)
    return type_error("maxPacketLifeTime and maxRetransmits are mutually exclusive");
  if (init.id && *init.id > 65534) return type_error("the id must be 65534 or less");
  if (!init.negotiated) init.id.reset();  // ids of in-band channels follow the DTLS role
  if (init.id) {
    const bool taken =
        channels_by_id_.count(*init.id) != 0 ||
        std::any_of(channels_.begin(), channels_.end(), [&](const auto& entry) {
          return entry.second.status.init.negotiated && entry.second.status.init.id == init.id;
        });
    if (taken) return operation_error("id " + std::to_string(*init.id) + " is in use");
  }
  const ChannelHandle handle = next_channel_++;
  ChannelRecord record;
  record.status.init = std::move(init);
  channels_.emplace(handle, std::move(record));
  if (data_negotiated_ && transport_) {
    open_pending_channels();
    // A channel that got no id was reported closed: createDataChannel fails instead.
    auto* opened = find_channel(handle);
    if (opened == nullptr || opened->status.state == ChannelState::kClosed) {
      // Its error and close events must not fire for a channel the caller never saw.
      const auto about_it = [&](const ConnectionEvent& e) {
        if (const auto* err = std::get_if<ChannelError>(&e)) return err->handle == handle;
        if (const auto* c = std::get_if<ChannelClosed>(&e)) return c->handle == handle;
        return false;
      };
      for (std::size_t i = events_.size(); i-- > 0;) {
        if (about_it(events_[i])) events_.erase_at(i);
      }
      return operation_error("no SCTP stream id is available");
    }
  } else {
    negotiation_needed_ = true;
    check_negotiation_needed();
  }
  return handle;
}

Connection::ChannelRecord* Connection::find_channel(ChannelHandle handle) {
  auto it = channels_.find(handle);
  return it == channels_.end() ? nullptr : &it->second;
}

const ChannelStatus* Connection::channel(ChannelHandle handle) const {
  auto it = channels_.find(handle);
  return it == channels_.end() ? nullptr : &it->second.status;
}

std::vector<ChannelHandle> Connection::channels() const {
  std::vector<ChannelHandle> out;
  out.reserve(channels_.size());
  for (const auto& [handle, record] : channels_) out.push_back(handle);
  return out;
}

ChannelHandle Connection::handle_of_stream(std::uint16_t id) const {
  auto it = channels_by_id_.find(id);
  return it == channels_by_id_.end() ? 0 : it->second;
}

void Connection::open_pending_channels() {
  if (!transport_ || !dtls_role_) return;
  for (const auto handle : channels()) {
    auto* record = find_channel(handle);
    if (record == nullptr || record->on_transport) continue;
    const ChannelInit& init = record->status.init;
    ChannelOptions options;
    options.label = init.label;
    options.protocol = init.protocol;
    options.ordered = init.ordered;
    options.max_retransmits = init.max_retransmits;
    options.max_packet_life_time_ms = init.max_packet_life_time_ms;
    if (init.negotiated) options.negotiated_id = init.id;
    auto id = transport_->open_channel(options);
    if (!id) {
      // W3C 4.4.1.5: a channel that gets no id closes with an OperationError.
      RTCError error(RTCErrorType::kOperationError, id.error().message());
      error.with_detail(RTCErrorDetailType::kDataChannelFailure);
      emit(ChannelError{handle, error});
      record->status.state = ChannelState::kClosed;
      emit(ChannelClosed{handle});
      channels_.erase(handle);
      continue;
    }
    record->status.id = *id;
    record->on_transport = true;
    channels_by_id_[*id] = handle;
    if (transport_->sctp_connected()) announce_open(handle, *record);
  }
}

void Connection::announce_open(ChannelHandle handle, ChannelRecord& record) {
  record.status.state = ChannelState::kOpen;
  record.opened = true;
  ++channels_opened_;
  emit(ChannelOpened{handle});
}

void Connection::finish_channel(ChannelHandle handle, bool fire_events) {
  auto* record = find_channel(handle);
  if (record == nullptr || record->status.state == ChannelState::kClosed) return;
  record->status.state = ChannelState::kClosed;
  if (record->status.id) channels_by_id_.erase(*record->status.id);
  // webrtc-stats dataChannelsClosed: channels that left the open state.
  if (record->opened) ++channels_closed_;
  // Bounded: a peer opening and closing channels for ever does not grow it without limit.
  constexpr std::size_t kMaxClosedChannels = 1024;
  closed_channels_[handle] = record->status;
  if (closed_channels_.size() > kMaxClosedChannels)
    closed_channels_.erase(closed_channels_.begin());
  channels_.erase(handle);
  if (fire_events) emit(ChannelClosed{handle});
}

Result<> Connection::send(ChannelHandle handle, BytesView data, bool binary, Timestamp) {
  auto* record = find_channel(handle);
  // W3C 6.2.5 send(), in its order of checks.
  if (record == nullptr || record->status.state != ChannelState::kOpen)
    return invalid_state_error("the data channel is not open");
  const std::size_t limit = max_message_size();
  if (data.size() > limit)
    return type_error("the message (" + std::to_string(data.size()) +
                      " bytes) is larger than maxMessageSize (" + std::to_string(limit) + ")");
  if (!transport_ || !record->status.id) return invalid_state_error("the data channel is not open");
  // What left since the last look is reported first; the transport may send part of this
  // message at once, which the next look reports.
  report_sent_bytes(handle, *record);
  auto sent = transport_->send(*record->status.id, data, binary);
  if (!sent) return operation_error(sent.error().message());
  ++record->status.messages_sent;
  record->status.bytes_sent += data.size();
  record->last_buffered += data.size();
  record->status.buffered_amount = transport_->unsent_amount(*record->status.id);
  buffered_dirty_ = true;
  return {};
}

void Connection::close_channel(ChannelHandle handle, Timestamp) {
  auto* record = find_channel(handle);
  if (record == nullptr || record->status.state == ChannelState::kClosing ||
      record->status.state == ChannelState::kClosed)
    return;
  if (!record->status.id || !transport_ || !transport_->sctp_connected()) {
    // Never reached the transport: nothing to flush.
    finish_channel(handle, true);
    return;
  }
  // W3C 6.2.4 / RFC 8831 6.7: our outgoing stream is reset once everything sent before is on
  // its way; the channel is closed when the peer has reset its direction too.
  record->status.state = ChannelState::kClosing;
  if (auto closing = transport_->close_channel(*record->status.id); !closing)
    finish_channel(handle, true);
}

std::size_t Connection::buffered_amount(ChannelHandle handle) const {
  const auto* status = channel(handle);
  if (status == nullptr || !status->id || !transport_) return 0;
  return transport_->unsent_amount(*status->id);
}

void Connection::set_buffered_amount_low_threshold(ChannelHandle handle, std::size_t threshold) {
  if (auto* record = find_channel(handle)) record->status.low_threshold = threshold;
}

void Connection::check_buffered_amounts() {
  if (!transport_) return;
  // W3C 6.2 bufferedAmount: "when the underlying data transport sends data from its queue,
  // ... queue a task that reduces [[BufferedAmount]] with the number of bytes that was sent".
  for (auto& [handle, record] : channels_) report_sent_bytes(handle, record);
}

void Connection::report_sent_bytes(ChannelHandle handle, ChannelRecord& record) {
  if (!transport_ || !record.status.id) return;
  const std::size_t now_buffered = transport_->unsent_amount(*record.status.id);
  record.status.buffered_amount = now_buffered;
  if (now_buffered < record.last_buffered)
    emit(ChannelBufferedAmountDecreased{handle, record.last_buffered - now_buffered});
  record.last_buffered = now_buffered;
}

std::size_t Connection::max_message_size() const {
  // W3C 6.1.1 update the data max message size: the remote a=max-message-size (65536 when
  // absent; SIZE_MAX for its 0, "any size") against canSendSize, the size of our send buffer
  // (0 would be "any size"; the SCTP association bounds it). Our own a=max-message-size is what
  // we receive, and plays no part.
  const std::size_t remote = remote_max_message_size_;
  const std::size_t can_send = sctp::SctpConfig{}.max_send_buffer;
  if (remote == SIZE_MAX && can_send == 0) return SIZE_MAX;
  if (remote == SIZE_MAX) return can_send;
  if (can_send == 0) return remote;
  return std::min(remote, can_send);
}

std::uint16_t Connection::max_channels() const {
  if (!transport_) return 0;
  return transport_->sctp().usable_streams();
}

void Connection::on_sctp_state(const SctpStateEvent& event) {
  if (event.connected) {
    emit(SctpStateChanged{true});
    for (auto& [handle, record] : channels_) {
      if (record.on_transport && record.status.state == ChannelState::kConnecting)
        announce_open(handle, record);
    }
    return;
  }
  emit(SctpStateChanged{false});
  // W3C 6.2.4: a channel whose transport failed closes with an error first.
  for (const auto handle : channels()) {
    if (event.error) {
      RTCError error(RTCErrorType::kOperationError, event.error->message());
      error.with_detail(RTCErrorDetailType::kSctpFailure);
      emit(ChannelError{handle, error});
    }
    finish_channel(handle, true);
  }
}

void Connection::on_channel_open(const ChannelOpenEvent& event) {
  // The peer opened a channel with DCEP (RFC 8832): announce it (W3C 6.2.3).
  const ChannelHandle handle = next_channel_++;
  ChannelRecord record;
  record.status.init.label = event.channel.label;
  record.status.init.protocol = event.channel.protocol;
  record.status.init.ordered = event.channel.ordered;
  record.status.init.max_retransmits = event.channel.max_retransmits;
  record.status.init.max_packet_life_time_ms = event.channel.max_packet_life_time_ms;
  record.status.id = event.channel.id;
  record.status.remote = true;
  record.status.state = ChannelState::kOpen;
  record.on_transport = true;
  record.opened = true;
  ++channels_opened_;
  channels_.emplace(handle, std::move(record));
  channels_by_id_[event.channel.id] = handle;
  emit(ChannelAnnounced{handle});
  emit(ChannelOpened{handle});
}

void Connection::on_channel_closed(const ChannelClosedEvent& event) {
  const ChannelHandle handle = handle_of_stream(event.id);
  auto* record = find_channel(handle);
  if (record == nullptr) return;
  // The peer started it when we were still open: announce closing first (W3C 6.2.4).
  if (record->status.state == ChannelState::kOpen) {
    record->status.state = ChannelState::kClosing;
    emit(ChannelClosing{handle});
  }
  finish_channel(handle, true);
}

void Connection::on_channel_message(ChannelMessageEvent&& event) {
  const ChannelHandle handle = handle_of_stream(event.id);
  auto* record = find_channel(handle);
  if (record == nullptr) return;
  if (record->status.state != ChannelState::kOpen && record->status.state != ChannelState::kClosing)
    return;
  ++record->status.messages_received;
  record->status.bytes_received += event.data.size();
  emit(ChannelMessage{handle, event.binary, std::move(event.data)});
}

}  // namespace rtcpp::pc
