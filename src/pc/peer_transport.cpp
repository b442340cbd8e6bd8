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
      sctp_(config_.sctp, rng),
      channels_(sctp_, config_.sctp.streams) {}

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
  channels_.set_dtls_client(role == dtls::DtlsRole::kClient);
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
    if (inner && classify_packet(inner->payload) == PacketKind::kDtls) {
      count_received(inner->payload.size());
      if (!selected_) ice_.on_data_before_selection(*inner, now);
      dtls_->handle_packet(inner->payload, now);
    } else if (inner && classify_packet(inner->payload) == PacketKind::kRtpOrRtcp) {
      count_received(inner->payload.size());
      handle_srtp(inner->payload, datagram.received.value_or(now));
    }
    pump(now);
    return;
  }
  switch (classify_packet(datagram.payload)) {
    case PacketKind::kStun:
      ice_.handle_packet(datagram, now);
      break;
    case PacketKind::kDtls:
      if (!ice_.accepts_data_from(datagram)) break;  // a stranger's
      count_received(datagram.payload.size());
      if (!selected_) ice_.on_data_before_selection(datagram, now);
      dtls_->handle_packet(datagram.payload, now);
      break;
    case PacketKind::kRtpOrRtcp:
      if (!ice_.accepts_data_from(datagram)) break;
      count_received(datagram.payload.size());
      handle_srtp(datagram.payload, datagram.received.value_or(now));
      break;
    default:
      break;  // not ours
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
        } else {
          // A server's flight written before this (to a ClientHello that beat the nomination)
          // was dropped for want of a path: it goes now, not at its backed-off timer.
          dtls_->retransmit_now(now);
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
        if (state->state == dtls::DtlsState::kConnected) start_srtp();
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
        channels_.on_connected();
      } else if (auto* m = std::get_if<sctp::SctpMessage>(&*e)) {
        channels_.on_message(std::move(*m));
      } else if (auto* r = std::get_if<sctp::SctpStreamsReset>(&*e)) {
        channels_.on_streams_reset(*r);
      } else if (std::holds_alternative<sctp::SctpRestarted>(*e)) {
        channels_.on_restarted();
      } else if (auto* f = std::get_if<sctp::SctpStreamResetFailed>(&*e)) {
        channels_.on_reset_failed(f->streams);
      } else if (auto* c = std::get_if<sctp::SctpClosed>(&*e)) {
        sctp_connected_ = false;
        channels_.on_closed();
        events_.push_back(SctpStateEvent{false, c->error});
      }
      // In the order they happened, after the association event that made them.
      while (auto channel_event = channels_.poll_event())
        std::visit([&](auto&& ce) { events_.push_back(std::move(ce)); }, std::move(*channel_event));
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
      count_sent(d->size());
      if (auto wrapped = ice_.wrap_for_selected_pair(std::move(*d), now))
        outgoing_.push_back(std::move(*wrapped));
    }
  }
}

void PeerTransport::start_srtp() {
  if (srtp_) return;
  auto material = dtls_->srtp_keying_material();
  if (!material) {
    // A peer without media (a data-only stack) may negotiate no SRTP profile at all.
    log().debug("no SRTP: ", material.error().message());
    return;
  }
  // A NACKed packet is resent byte for byte (pc::MediaSession's history), so protecting its
  // index again repeats the same ciphertext and reveals nothing new.
  rtp::SrtpConfig srtp_config;
  srtp_config.allow_repeated_rtp_index = true;
  auto sessions = rtp::make_dtls_srtp_sessions(
      material->profile, material->client_key, material->client_salt, material->server_key,
      material->server_salt, dtls_role_ == dtls::DtlsRole::kClient, srtp_config);
  if (!sessions) {
    log().warning("SRTP sessions not made: ", sessions.error().message());
    return;
  }
  srtp_ = std::move(*sessions);
}

void PeerTransport::handle_srtp(BytesView packet, Timestamp arrival) {
  if (!srtp_) {
    ++srtp_counters_.dropped;  // keys come with the DTLS handshake; nothing to read before
    return;
  }
  // RFC 5761 4: one port carries both; the payload type range tells them apart.
  const bool rtcp = is_rtcp(packet);
  Buffer out = take_buffer();
  auto unprotected =
      rtcp ? srtp_->inbound.unprotect_rtcp(packet, out) : srtp_->inbound.unprotect_rtp(packet, out);
  if (!unprotected) {
    ++srtp_counters_.dropped;
    log().debug("SRTP", rtcp ? "C" : "", " packet dropped: ", rtp::to_string(unprotected.error()));
    return;
  }
  if (rtcp) {
    ++srtp_counters_.rtcp_received;
    events_.push_back(RtcpReceivedEvent{std::move(out)});
  } else {
    ++srtp_counters_.rtp_received;
    events_.push_back(RtpReceivedEvent{std::move(out), arrival});
  }
}

Buffer PeerTransport::take_buffer() {
  if (spare_buffers_.empty()) return {};
  Buffer buffer = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  return buffer;
}

void PeerTransport::recycle(Buffer&& buffer) {
  // Enough for the packets of a burst read before the events are taken.
  constexpr std::size_t kMaxSpareBuffers = 64;
  if (spare_buffers_.size() < kMaxSpareBuffers) spare_buffers_.push_back(std::move(buffer));
}

Result<> PeerTransport::send_rtp(BytesView packet) {
  return send_protected(packet, false);
}

Result<> PeerTransport::send_rtcp(BytesView compound) {
  return send_protected(compound, true);
}

Result<> PeerTransport::send_protected(BytesView packet, bool rtcp) {
  if (!srtp_) return invalid_state_error("SRTP is not ready (DTLS is not connected)");
  if (!selected_) return invalid_state_error("no candidate pair is selected");
  Buffer out;
  auto protected_ =
      rtcp ? srtp_->outbound.protect_rtcp(packet, out) : srtp_->outbound.protect_rtp(packet, out);
  if (!protected_)
    return operation_error(std::string("SRTP protection failed: ") +
                           std::string(rtp::to_string(protected_.error())));
  ++(rtcp ? srtp_counters_.rtcp_sent : srtp_counters_.rtp_sent);
  count_sent(out.size());
  if (auto wrapped = ice_.wrap_for_selected_pair(std::move(out), now_))
    outgoing_.push_back(std::move(*wrapped));
  return {};
}

Result<std::uint16_t> PeerTransport::open_channel(const ChannelOptions& options) {
  auto id = channels_.open(options);
  drain_channel_events();
  return id;
}

Result<> PeerTransport::send(std::uint16_t id, BytesView data, bool binary) {
  return channels_.send(id, data, binary);
}

Result<> PeerTransport::close_channel(std::uint16_t id) {
  auto closing = channels_.close(id);
  drain_channel_events();
  return closing;
}

std::size_t PeerTransport::buffered_amount(std::uint16_t id) const {
  return channels_.buffered_amount(id);
}

void PeerTransport::drain_channel_events() {
  while (auto e = channels_.poll_event())
    std::visit([&](auto&& ce) { events_.push_back(std::move(ce)); }, std::move(*e));
}

std::optional<Datagram> PeerTransport::poll_transmit() {
  if (outgoing_.empty()) pump(now_);  // messages queued by send() since the last pump
  if (outgoing_.empty()) return std::nullopt;
  Datagram d = std::move(outgoing_.front());
  outgoing_.pop_front();
  return d;
}

std::optional<PeerTransportEvent> PeerTransport::poll_event() {
  // Everything that arrived before the peer's reset has been seen: answer it now.
  if (events_.empty() && channels_.answer_deferred_closes()) {
    drain_channel_events();
    pump(now_);
  }
  if (events_.empty()) return std::nullopt;
  PeerTransportEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::optional<Timestamp> PeerTransport::next_timeout() const {
  // Work queued outside handle_*() (a close answered from poll_event()) is due at once.
  if (!outgoing_.empty() || channels_.has_deferred_closes()) return now_;
  std::optional<Timestamp> t;
  for (const auto& candidate : {ice_.next_timeout(), dtls_->next_timeout(), sctp_.next_timeout()}) {
    if (candidate && (!t || *candidate < *t)) t = candidate;
  }
  return t;
}

}  // namespace rtcpp::pc
