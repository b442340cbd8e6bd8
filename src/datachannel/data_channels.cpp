#include "datachannel/data_channels.hpp"

#include <algorithm>

#include "base/log.hpp"

namespace rtcpp::datachannel {
namespace {

const Logger& log() {
  static const Logger logger("datachannel");
  return logger;
}

}  // namespace

Result<std::uint16_t> DataChannels::allocate_id() const {
  if (!dtls_client_) return invalid_state_error("the DTLS role is not known yet");
  std::uint16_t id = *dtls_client_ ? 0 : 1;
  for (; id < streams_ - 1; id = static_cast<std::uint16_t>(id + 2)) {
    if (channels_.count(id) == 0) return id;
  }
  return operation_error("no stream id left");
}

Result<std::uint16_t> DataChannels::open(const ChannelOptions& options) {
  if (options.label.size() > 65535 || options.protocol.size() > 65535)
    return type_error("label and protocol are limited to 65535 bytes");
  if (options.max_retransmits && options.max_packet_life_time_ms)
    return type_error("maxRetransmits and maxPacketLifeTime are mutually exclusive");
  std::uint16_t id = 0;
  if (options.negotiated_id) {
    id = *options.negotiated_id;
    if (id >= 65535) return type_error("negotiated id out of range");
    if (channels_.count(id) != 0) return operation_error("stream id already in use");
  } else {
    auto allocated = allocate_id();
    if (!allocated) return allocated;
    id = *allocated;
  }
  DataChannelOpen open;
  open.ordered = options.ordered;
  if (options.max_retransmits) {
    open.reliability = Reliability::kPartialReliableRetransmit;
    open.reliability_parameter = *options.max_retransmits;
  } else if (options.max_packet_life_time_ms) {
    open.reliability = Reliability::kPartialReliableTimed;
    open.reliability_parameter = *options.max_packet_life_time_ms;
  }
  open.label = options.label;
  open.protocol = options.protocol;
  ChannelInfo info{id,
                   options.label,
                   options.protocol,
                   options.ordered,
                   options.max_retransmits,
                   options.max_packet_life_time_ms,
                   options.negotiated_id.has_value(),
                   false};
  channels_[id] = Channel{info, open, false};
  if (connected_ && !info.negotiated) send_open(id);
  return id;
}

void DataChannels::send_open(std::uint16_t id) {
  Channel& channel = channels_[id];
  if (auto sent = sctp_.send(id, kPpidDcep, serialize(channel.open)); !sent) {
    // The channel stays unannounced to the peer; its sends would go nowhere, so say so.
    log().error("DCEP OPEN for channel ", id, " (\"", channel.info.label,
                "\") not sent: ", sent.error().message());
    return;
  }
  channel.open_sent = true;
}

void DataChannels::on_connected() {
  connected_ = true;
  for (auto& [id, channel] : channels_) {
    if (!channel.open_sent && !channel.info.negotiated) send_open(id);
  }
}

Result<> DataChannels::send(std::uint16_t id, BytesView data, bool binary) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return invalid_state_error("no such data channel");
  if (!connected_) return invalid_state_error("the SCTP association is not established");
  if (it->second.closing) return invalid_state_error("the data channel is closing");
  static constexpr std::uint8_t kEmpty[1] = {0};
  const ChannelInfo& info = it->second.info;
  sctp::SendOptions options{.unordered = !info.ordered};
  options.max_retransmits = info.max_retransmits;
  if (info.max_packet_life_time_ms)
    options.lifetime = Duration::millis(*info.max_packet_life_time_ms);
  // RFC 8831 6.6: an empty message is one zero byte under its own PPID.
  if (data.empty())
    return sctp_.send(id, binary ? kPpidBinaryEmpty : kPpidStringEmpty, kEmpty, options);
  return sctp_.send(id, binary ? kPpidBinary : kPpidString, data, options);
}

void DataChannels::on_dcep(const sctp::SctpMessage& message) {
  auto dcep = parse_dcep(message.data);
  if (!dcep) return;  // garbage DCEP is dropped (the channel, if any, stays as it is)
  const auto* open = std::get_if<DataChannelOpen>(&*dcep);
  // ACKs need nothing: the channel was open from our side once OPEN was sent.
  if (open == nullptr) return;
  // RFC 8832 6: the peer's OPEN on a free stream creates the channel.
  if (channels_.count(message.stream) != 0) return;
  ChannelInfo info{message.stream, open->label, open->protocol, open->ordered, {}, {}, false, true};
  // RFC 8832 5.1: the channel type and reliability parameter give the partial reliability of
  // the peer's channel (values beyond 16 bits are clamped).
  const auto parameter =
      static_cast<std::uint16_t>(std::min<std::uint32_t>(open->reliability_parameter, 65535));
  if (open->reliability == Reliability::kPartialReliableRetransmit) {
    info.max_retransmits = parameter;
  } else if (open->reliability == Reliability::kPartialReliableTimed) {
    info.max_packet_life_time_ms = parameter;
  }
  channels_[message.stream] = Channel{info, *open, true};
  if (auto acked = sctp_.send(message.stream, kPpidDcep, serialize(DataChannelAck{})); !acked)
    log().warning("DCEP ACK for channel ", message.stream, " not sent: ", acked.error().message());
  events_.push_back(ChannelOpenEvent{info});
}

void DataChannels::on_message(sctp::SctpMessage message) {
  if (message.ppid == kPpidDcep) {
    on_dcep(message);
    return;
  }
  if (channels_.count(message.stream) == 0) return;
  ChannelMessageEvent event;
  event.id = message.stream;
  switch (message.ppid) {
    case kPpidString:
    case kPpidStringPartial:
      event.binary = false;
      event.data = std::move(message.data);
      break;
    case kPpidBinary:
    case kPpidBinaryPartial:
      event.binary = true;
      event.data = std::move(message.data);
      break;
    case kPpidStringEmpty:
      event.binary = false;
      break;
    case kPpidBinaryEmpty:
      event.binary = true;
      break;
    default:
      return;  // unknown PPID: not a data channel message
  }
  events_.push_back(std::move(event));
}

Result<> DataChannels::close(std::uint16_t id) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return invalid_state_error("no such data channel");
  if (it->second.closing) return {};
  start_close(id);
  return {};
}

void DataChannels::start_close(std::uint16_t id) {
  auto it = channels_.find(id);
  if (it == channels_.end() || it->second.closing) return;
  it->second.closing = true;
  const std::uint16_t streams[] = {id};
  if (!connected_ || !sctp_.reset_streams(streams)) {
    // No association, or one without RE-CONFIG: the channel can only close locally (data
    // already queued is still delivered by SCTP).
    finish_close(id);
  }
}

void DataChannels::finish_close(std::uint16_t id) {
  if (channels_.erase(id) == 0) return;
  std::erase(deferred_closes_, id);
  events_.push_back(ChannelClosedEvent{id});
}

void DataChannels::on_streams_reset(const sctp::SctpStreamsReset& reset) {
  std::vector<std::uint16_t> ids = reset.streams;
  if (ids.empty()) {  // the peer reset all its streams
    for (const auto& [id, channel] : channels_) ids.push_back(id);
  }
  for (const std::uint16_t id : ids) {
    auto it = channels_.find(id);
    if (it == channels_.end()) continue;
    Channel& channel = it->second;
    if (reset.incoming) {
      channel.incoming_reset = true;
      // RFC 8831 6.7: the peer closed the channel; we reset our direction in turn.
      if (!channel.closing) {
        if (std::find(deferred_closes_.begin(), deferred_closes_.end(), id) ==
            deferred_closes_.end())
          deferred_closes_.push_back(id);
        continue;
      }
    } else {
      channel.outgoing_reset = true;
    }
    if (channel.outgoing_reset && channel.incoming_reset) finish_close(id);
  }
}

void DataChannels::on_reset_failed(const std::vector<std::uint16_t>& streams) {
  // The peer refused: nothing more can be done for these channels than closing them.
  for (const std::uint16_t id : streams) finish_close(id);
}

void DataChannels::on_restarted() {
  std::vector<std::uint16_t> ids;
  for (const auto& [id, channel] : channels_) ids.push_back(id);
  for (const std::uint16_t id : ids) finish_close(id);
}

bool DataChannels::answer_deferred_closes() {
  if (deferred_closes_.empty()) return false;
  const std::vector<std::uint16_t> ids = std::move(deferred_closes_);
  deferred_closes_.clear();
  for (const std::uint16_t id : ids) start_close(id);
  return true;
}

std::optional<ChannelEvent> DataChannels::poll_event() {
  if (events_.empty()) return std::nullopt;
  ChannelEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace rtcpp::datachannel
