#include "pc/peer_transport.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "pc/demux.hpp"

namespace rtcpp::pc {
namespace {

const Logger& log() {
  static const Logger logger("pc");
  return logger;
}

}  // namespace

Result<std::unique_ptr<PeerTransport>> PeerTransport::create(PeerTransportConfig config,
                                                             ice::IceRole role, Random& rng) {
  if (!config.certificate) return invalid_access_error("a certificate is required");
  dtls::DtlsConfig dtls_config;
  dtls_config.certificate = config.certificate;
  dtls_config.mtu = config.dtls_mtu;
  dtls_config.key_log = config.dtls_key_log;
  auto dtls = dtls::DtlsTransport::create(dtls_config);
  if (!dtls) return std::move(dtls).error();
  return std::unique_ptr<PeerTransport>(
      new PeerTransport(std::move(config), role, rng, std::move(*dtls)));
}

PeerTransport::PeerTransport(PeerTransportConfig config, ice::IceRole role, Random& rng,
                             std::unique_ptr<dtls::DtlsTransport> dtls)
    : config_(std::move(config)),
      ice_(config_.ice, role,
           config_.ice_credentials ? *config_.ice_credentials : ice::IceCredentials::random(rng),
           rng),
      dtls_(std::move(dtls)),
      sctp_(config_.sctp, rng) {}

std::vector<dtls::Fingerprint> PeerTransport::local_fingerprints() const {
  return config_.certificate->get_fingerprints();
}

Result<> PeerTransport::set_remote_parameters(std::string ice_ufrag, std::string ice_pwd,
                                              std::vector<dtls::Fingerprint> fingerprints,
                                              dtls::DtlsRole role, Timestamp now) {
  if (fingerprints.empty())
    return invalid_access_error("the remote description has no fingerprint");
  if (dtls_role_ && *dtls_role_ != role)
    return invalid_modification_error("the DTLS role cannot change");
  auto ok = ice_.set_remote_credentials(std::move(ice_ufrag), std::move(ice_pwd), now);
  if (!ok) return ok;
  dtls_->set_remote_fingerprints(std::move(fingerprints), now);
  dtls_role_ = role;
  // A server is ready at once, so a ClientHello that beats our ICE nomination is served.
  if (role == dtls::DtlsRole::kServer && !dtls_started_) {
    dtls_->start(role, now);
    dtls_started_ = true;
  }
  pump(now);
  return {};
}

void PeerTransport::handle_datagram(const Datagram& datagram, Timestamp now) {
  // TURN (RFC 8656): what a TURN server relays for a peer (a Data indication or, RFC 7983,
  // ChannelData) is unwrapped by ICE before the demux; ICE keeps the STUN inside.
  if (ice_.from_turn_server(datagram)) {
    auto inner = ice_.handle_turn_packet(datagram, now);
    if (inner && classify_packet(inner->payload) == PacketKind::kDtls)
      dtls_->handle_packet(inner->payload, now);
    pump(now);
    return;
  }
  switch (classify_packet(datagram.payload)) {
    case PacketKind::kStun:
      ice_.handle_packet(datagram, now);
      break;
    case PacketKind::kDtls:
      dtls_->handle_packet(datagram.payload, now);
      break;
    default:
      break;  // RTP arrives with the media milestone; the rest is not ours
  }
  pump(now);
}

void PeerTransport::handle_timeout(Timestamp now) {
  ice_.handle_timeout(now);
  dtls_->handle_timeout(now);
  sctp_.handle_timeout(now);
  pump(now);
}

void PeerTransport::pump(Timestamp now) {
  now_ = now;
  bool moved = true;
  while (moved) {
    moved = false;
    while (auto e = ice_.poll_event()) {
      moved = true;
      if (auto* selected = std::get_if<ice::IceSelectedPairEvent>(&*e)) {
        selected_ = ice::IceAgent::SelectedPair{selected->local_address, selected->remote_address};
        if (dtls_role_ && !dtls_started_) {
          dtls_->start(*dtls_role_, now);
          dtls_started_ = true;
        }
      }
      events_.push_back(std::move(*e));
    }
    while (auto d = ice_.poll_transmit()) {
      moved = true;
      outgoing_.push_back(std::move(*d));
    }
    while (auto e = dtls_->poll_event()) {
      moved = true;
      if (auto* data = std::get_if<dtls::DtlsData>(&*e)) {
        sctp_.handle_packet(data->data, now);
      } else if (auto* state = std::get_if<dtls::DtlsStateChange>(&*e)) {
        if (state->state == dtls::DtlsState::kConnected && !sctp_started_) {
          // RFC 8841: both ends initiate the association; SCTP resolves the collision.
          sctp_.connect(now);
          sctp_started_ = true;
        }
        events_.push_back(DtlsStateEvent{state->state, state->error});
      }
    }
    while (auto e = sctp_.poll_event()) {
      moved = true;
      if (std::holds_alternative<sctp::SctpConnected>(*e)) {
        sctp_connected_ = true;
        events_.push_back(SctpStateEvent{true, std::nullopt});
        for (auto& [id, channel] : channels_) {
          if (!channel.open_sent && !channel.info.negotiated) send_open(id);
        }
      } else if (auto* m = std::get_if<sctp::SctpMessage>(&*e)) {
        on_sctp_message(std::move(*m));
      } else if (auto* r = std::get_if<sctp::SctpStreamsReset>(&*e)) {
        on_streams_reset(*r);
      } else if (std::holds_alternative<sctp::SctpRestarted>(*e)) {
        // The peer's SCTP lost its state and restarted the association: it no longer knows
        // our channels (nor we its), and every stream starts over, so each channel closes.
        std::vector<std::uint16_t> ids;
        for (const auto& [id, channel] : channels_) ids.push_back(id);
        for (const std::uint16_t id : ids) finish_close(id);
      } else if (auto* f = std::get_if<sctp::SctpStreamResetFailed>(&*e)) {
        // The peer refused: nothing more can be done for these channels than closing them.
        for (const std::uint16_t id : f->streams) finish_close(id);
      } else if (auto* c = std::get_if<sctp::SctpClosed>(&*e)) {
        sctp_connected_ = false;
        events_.push_back(SctpStateEvent{false, c->error});
      }
    }
    if (dtls_->state() == dtls::DtlsState::kConnected) {
      // One buffer for every SCTP packet: DTLS encrypts from it into its own record.
      while (sctp_.poll_transmit(sctp_packet_)) {
        moved = true;
        // A failure also surfaces as a DTLS state change; say what was lost.
        if (auto sent = dtls_->send(sctp_packet_); !sent)
          log().warning("an SCTP packet of ", sctp_packet_.size(),
                        " bytes was not sent over DTLS: ", sent.error().message());
      }
    }
    while (auto d = dtls_->poll_transmit()) {
      moved = true;
      // Without a selected pair there is nowhere to send; DTLS retransmits later. ICE wraps
      // the datagram for the TURN server when the pair's local candidate is relayed.
      if (!selected_) continue;
      if (auto wrapped = ice_.wrap_for_selected_pair(std::move(*d), now))
        outgoing_.push_back(std::move(*wrapped));
    }
  }
}

void PeerTransport::on_sctp_message(sctp::SctpMessage message) {
  if (message.ppid == datachannel::kPpidDcep) {
    auto dcep = datachannel::parse_dcep(message.data);
    if (!dcep) return;  // garbage DCEP is dropped (the channel, if any, stays as it is)
    if (auto* open = std::get_if<datachannel::DataChannelOpen>(&*dcep)) {
      // RFC 8832 6: the peer's OPEN on a stream of the right parity creates the channel.
      if (channels_.count(message.stream) != 0) return;
      ChannelInfo info{message.stream, open->label, open->protocol, open->ordered, {}, {},
                       false,          true};
      // RFC 8832 5.1: the channel type and reliability parameter give the partial
      // reliability of the peer's channel (values beyond 16 bits are clamped).
      const auto parameter =
          static_cast<std::uint16_t>(std::min<std::uint32_t>(open->reliability_parameter, 65535));
      if (open->reliability == datachannel::Reliability::kPartialReliableRetransmit) {
        info.max_retransmits = parameter;
      } else if (open->reliability == datachannel::Reliability::kPartialReliableTimed) {
        info.max_packet_life_time_ms = parameter;
      }
      channels_[message.stream] = Channel{info, *open, true};
      if (auto acked = sctp_.send(message.stream, datachannel::kPpidDcep,
                                  datachannel::serialize(datachannel::DataChannelAck{}));
          !acked)
        log().warning("DCEP ACK for channel ", message.stream,
                      " not sent: ", acked.error().message());
      events_.push_back(ChannelOpenEvent{info});
    }
    return;  // ACKs need nothing: the channel was open from our side once OPEN was sent
  }
  auto it = channels_.find(message.stream);
  if (it == channels_.end()) return;
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

Result<std::uint16_t> PeerTransport::allocate_id() {
  if (!dtls_role_) return invalid_state_error("the DTLS role is not known yet");
  std::uint16_t id = *dtls_role_ == dtls::DtlsRole::kClient ? 0 : 1;
  for (; id < config_.sctp.streams - 1; id = static_cast<std::uint16_t>(id + 2)) {
    if (channels_.count(id) == 0) return id;
  }
  return operation_error("no stream id left");
}

Result<std::uint16_t> PeerTransport::open_channel(const ChannelOptions& options) {
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
  datachannel::DataChannelOpen open;
  open.ordered = options.ordered;
  if (options.max_retransmits) {
    open.reliability = datachannel::Reliability::kPartialReliableRetransmit;
    open.reliability_parameter = *options.max_retransmits;
  } else if (options.max_packet_life_time_ms) {
    open.reliability = datachannel::Reliability::kPartialReliableTimed;
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
  if (sctp_connected_ && !info.negotiated) send_open(id);
  return id;
}

void PeerTransport::send_open(std::uint16_t id) {
  Channel& channel = channels_[id];
  if (auto sent = sctp_.send(id, datachannel::kPpidDcep, datachannel::serialize(channel.open));
      !sent) {
    // The channel stays unannounced to the peer; its sends would go nowhere, so say so.
    log().error("DCEP OPEN for channel ", id, " (\"", channel.info.label,
                "\") not sent: ", sent.error().message());
    return;
  }
  channel.open_sent = true;
}

Result<> PeerTransport::send(std::uint16_t id, BytesView data, bool binary) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return invalid_state_error("no such data channel");
  if (!sctp_connected_) return invalid_state_error("the SCTP association is not established");
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

Result<> PeerTransport::close_channel(std::uint16_t id) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return invalid_state_error("no such data channel");
  if (it->second.closing) return {};
  start_close(id);
  return {};
}

void PeerTransport::start_close(std::uint16_t id) {
  auto it = channels_.find(id);
  if (it == channels_.end() || it->second.closing) return;
  it->second.closing = true;
  const std::uint16_t streams[] = {id};
  if (!sctp_connected_ || !sctp_.reset_streams(streams)) {
    // No association, or one without RE-CONFIG: the channel can only close locally (data
    // already queued is still delivered by SCTP).
    finish_close(id);
  }
}

void PeerTransport::finish_close(std::uint16_t id) {
  if (channels_.erase(id) == 0) return;
  std::erase(deferred_closes_, id);
  events_.push_back(ChannelClosedEvent{id});
}

void PeerTransport::on_streams_reset(const sctp::SctpStreamsReset& reset) {
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

std::size_t PeerTransport::buffered_amount(std::uint16_t id) const {
  return sctp_.buffered_amount(id);
}

std::optional<Datagram> PeerTransport::poll_transmit() {
  if (outgoing_.empty()) pump(now_);  // messages queued by send() since the last pump
  if (outgoing_.empty()) return std::nullopt;
  Datagram d = std::move(outgoing_.front());
  outgoing_.pop_front();
  return d;
}

std::optional<PeerTransportEvent> PeerTransport::poll_event() {
  if (events_.empty() && !deferred_closes_.empty()) {
    // Everything that arrived before the peer's reset has been seen: answer it now.
    const std::vector<std::uint16_t> ids = std::move(deferred_closes_);
    deferred_closes_.clear();
    for (const std::uint16_t id : ids) start_close(id);
    pump(now_);
  }
  if (events_.empty()) return std::nullopt;
  PeerTransportEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::optional<Timestamp> PeerTransport::next_timeout() const {
  // Work queued outside handle_*() (a close answered from poll_event()) is due at once.
  if (!outgoing_.empty() || !deferred_closes_.empty()) return now_;
  std::optional<Timestamp> t;
  for (const auto& candidate : {ice_.next_timeout(), dtls_->next_timeout(), sctp_.next_timeout()}) {
    if (candidate && (!t || *candidate < *t)) t = candidate;
  }
  return t;
}

}  // namespace rtcpp::pc
