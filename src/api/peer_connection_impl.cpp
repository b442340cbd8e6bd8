#include "api/peer_connection_impl.hpp"

#include <algorithm>
#include <boost/asio/ip/udp.hpp>

#include "api/conversions.hpp"
#include "api/data_channel_state.hpp"
#include "api/handler_call.hpp"
#include "api/transport_state.hpp"
#include "mdns/mdns_message.hpp"
#include "runtime/interfaces.hpp"
#include "runtime/key_log.hpp"

namespace rtcpp::detail {
namespace {

using runtime::monotonic_now;

bool is_offer_state_for_local(RTCSignalingState s) {
  return s == RTCSignalingState::kStable || s == RTCSignalingState::kHaveLocalOffer;
}

}  // namespace

Result<std::shared_ptr<PeerConnectionImpl>> PeerConnectionImpl::create(
    RTCConfiguration configuration) {
  if (auto valid = validate_configuration(configuration); !valid) return std::move(valid).error();
  std::shared_ptr<const RTCCertificate> certificate;
  if (!configuration.certificates.empty()) {
    certificate = configuration.certificates.front();
    if (!certificate) return type_error("certificates contains a null certificate");
    if (certificate->expires() <= unix_time_ms())
      return invalid_access_error("the certificate has expired");
  } else {
    auto generated = RTCCertificate::generate();
    if (!generated) return std::move(generated).error();
    certificate = *generated;
    configuration.certificates.push_back(certificate);
  }
  auto impl = std::shared_ptr<PeerConnectionImpl>(
      new PeerConnectionImpl(std::move(configuration), std::move(certificate)));
  impl->ice_transport_ = std::make_shared<RTCIceTransport>(
      std::make_unique<IceTransportState>(IceTransportState{impl}));
  auto dtls = std::make_unique<DtlsTransportState>();
  dtls->pc = impl;
  dtls->ice = impl->ice_transport_;
  impl->dtls_transport_ = std::make_shared<RTCDtlsTransport>(std::move(dtls));
  return impl;
}

PeerConnectionImpl::PeerConnectionImpl(RTCConfiguration configuration,
                                       std::shared_ptr<const RTCCertificate> cert)
    : configuration_(std::move(configuration)),
      loop_(runtime::EventLoop::shared()),
      certificate_(std::move(cert)) {
  local_credentials_ = ice::IceCredentials::random(rng_);
  // RFC 8866 5.2: sess-id is a numeric string; 62 bits keep it positive everywhere.
  session_id_ = rng_.next_u64() >> 2;
}

PeerConnectionImpl::~PeerConnectionImpl() = default;

void PeerConnectionImpl::queue_task(std::function<void()> task) {
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  loop_.post([weak, task = std::move(task)] {
    auto self = weak.lock();
    if (self && !self->closed_) task();
  });
}

void PeerConnectionImpl::chain_operation(std::function<void()> operation) {
  {
    std::lock_guard lock(operations_mutex_);
    operations_.push_back(std::move(operation));
  }
  if (loop_.in_loop_thread()) {
    run_chained_operations();
    return;
  }
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  loop_.post([weak] {
    if (auto self = weak.lock()) self->run_chained_operations();
  });
}

void PeerConnectionImpl::run_chained_operations() {
  // Operations call no user code, so the chain is never re-entered from inside one; the
  // guard keeps it that way should that change.
  if (running_operations_) return;
  running_operations_ = true;
  for (;;) {
    std::function<void()> operation;
    {
      std::lock_guard lock(operations_mutex_);
      if (operations_.empty()) break;
      operation = std::move(operations_.front());
      operations_.pop_front();
    }
    operation();
  }
  running_operations_ = false;
}

void PeerConnectionImpl::kick() {
  if (driver_) driver_->kick();
}

void PeerConnectionImpl::schedule_kick() {
  // Sends made by the tasks already queued (an echo handler per message, a send loop) are
  // flushed together, so their chunks share packets instead of each taking a datagram.
  if (kick_scheduled_) return;
  kick_scheduled_ = true;
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  loop_.post([weak] {
    auto self = weak.lock();
    if (!self) return;
    self->kick_scheduled_ = false;
    if (!self->closed_) self->kick();
  });
}

// --- Transport lifetime ---

Result<> PeerConnectionImpl::ensure_transport(ice::IceRole role) {
  if (transport_ && pooled_) {
    // Pooled before the first description: the role is known now.
    transport_->ice().set_role(role);
    ice_role_ = role;
  }
  if (transport_) return {};
  pc::PeerTransportConfig config;
  config.ice_credentials = local_credentials_;
  config.certificate = certificate_->impl();
  config.dtls_key_log = runtime::key_log_file_from_environment();
  config.sctp.max_message_size = configuration_.max_message_size;
  config.sctp.interleaving = configuration_.sctp_interleaving;
  config.sctp.zero_checksum = configuration_.sctp_zero_checksum;
  if (configuration_.turn_dual_stack) config.ice.turn.relay_families = turn::RelayFamilies::kBoth;
  config.ice.udp_candidates =
      configuration_.ice_candidate_protocols != RTCIceCandidateProtocols::kTcpOnly;
  auto transport = pc::PeerTransport::create(config, role, rng_);
  if (!transport) return std::move(transport).error();
  transport_ = std::move(*transport);
  ice_role_ = role;
  driver_ = std::make_unique<runtime::PeerTransportDriver>(
      loop_.io(), *transport_,
      [this](pc::PeerTransportEvent&& event) { on_transport_event(std::move(event)); });
  driver_->set_after_kick([this] { after_io(); });
  return {};
}

void PeerConnectionImpl::fill_candidate_pool() {
  if (closed_ || transport_ || configuration_.ice_candidate_pool_size == 0 || current_local_ ||
      pending_local_ || current_remote_ || pending_remote_)
    return;
  // Controlling until a remote offer says otherwise (ensure_transport switches it).
  if (!ensure_transport(ice::IceRole::kControlling)) return;
  pooled_ = true;
  start_gathering();
}

void PeerConnectionImpl::surface_candidate_pool() {
  if (!pooled_) return;
  pooled_ = false;
  if (pooled_gathering_state_ == ice::IceGatheringState::kNew) return;
  gathering_state_ = RTCIceGatheringState::kGathering;
  queue_task([this] {
    fire(ice_transport_->state_->on_gathering_state_change);
    fire(on_ice_gathering_state_change_);
  });
  for (const auto& c : local_candidates_) {
    auto candidate =
        RTCIceCandidate::create({c.to_string(), transport_mid(), 0, local_credentials_.ufrag});
    if (candidate) {
      RTCPeerConnectionIceEvent e{*candidate, std::nullopt};
      queue_task([this, e] { fire(on_ice_candidate_, e); });
    }
  }
  if (pooled_gathering_state_ == ice::IceGatheringState::kComplete) {
    gathering_state_ = RTCIceGatheringState::kComplete;
    queue_task([this] {
      fire(ice_transport_->state_->on_gathering_state_change);
      fire(on_ice_gathering_state_change_);
      fire(on_ice_candidate_, RTCPeerConnectionIceEvent{});
    });
  }
}

void PeerConnectionImpl::start_gathering() {
  if (gathering_started_ || !transport_) return;
  gathering_started_ = true;
  const auto now = monotonic_now();
  auto candidate_error = [this](std::string url, std::string text) {
    RTCPeerConnectionIceErrorEvent error;
    error.url = std::move(url);
    error.error_code = 701;
    error.error_text = std::move(text);
    queue_task([this, error] { fire(on_ice_candidate_error_, error); });
  };
  // W3C iceTransportPolicy "relay": only relayed candidates. The sockets are bound all the
  // same, as the TURN clients send from them; ICE just does not offer or pair them.
  const bool relay_only = configuration_.ice_transport_policy == RTCIceTransportPolicy::kRelay;
  transport_->ice().set_relay_only(relay_only);
  for (const auto& server : configuration_.ice_servers) {
    for (const auto& url : server.urls) {
      auto parsed = parse_ice_server_url(url);
      if (!parsed) continue;
      if (parsed->scheme == "stun" && relay_only) continue;
      if (parsed->scheme == "stuns") {
        candidate_error(url, "STUN over TLS (stuns:) is not supported");
        continue;
      }
      if (parsed->scheme == "turns" && parsed->transport == "udp") {
        candidate_error(url, "TURN over DTLS (turns: with transport=udp) is not supported");
        continue;
      }
      if (auto address = resolve_literal(parsed->host, parsed->port)) {
        add_ice_server(*parsed, server, url, *address);
        continue;
      }
      // A name: resolved off the loop, and gathering completes only once every name has an
      // answer or an error. Its first IPv4 address is used, else its first IPv6 one (one
      // allocation per server, as browsers make).
      ++pending_resolutions_;
      auto resolver = std::make_shared<boost::asio::ip::udp::resolver>(loop_.io());
      std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
      resolver->async_resolve(
          parsed->host, std::to_string(parsed->port),
          [weak, resolver, parsed = *parsed, server, url, generation = transport_generation_,
           candidate_error](const boost::system::error_code& ec,
                            const boost::asio::ip::udp::resolver::results_type& results) {
            auto self = weak.lock();
            if (!self || self->closed_ || !self->transport_ ||
                generation != self->transport_generation_)
              return;
            --self->pending_resolutions_;
            std::optional<SocketAddress> chosen;
            if (!ec) {
              for (const auto& result : results) {
                const auto address = result.endpoint().address();
                if (address.is_v4()) {
                  chosen = SocketAddress(IpAddress::v4(address.to_v4().to_uint()),
                                         result.endpoint().port());
                  break;
                }
                if (!chosen)
                  chosen = SocketAddress(IpAddress::v6(address.to_v6().to_bytes()),
                                         result.endpoint().port());
              }
            }
            if (chosen) {
              self->add_ice_server(parsed, server, url, *chosen);
            } else {
              candidate_error(url, "cannot resolve " + parsed.host + ": " +
                                       (ec ? ec.message() : std::string("no address")));
            }
            if (self->pending_resolutions_ == 0)
              self->transport_->ice().finish_gathering(monotonic_now());
            self->kick();
          });
    }
  }
  const bool gather_tcp =
      !relay_only && configuration_.ice_candidate_protocols != RTCIceCandidateProtocols::kUdpOnly;
  auto socket_error = [this](const IpAddress& ip, const RTCError& failure) {
    RTCPeerConnectionIceErrorEvent error;
    error.address = ip.to_string();
    error.error_code = 701;
    error.error_text = failure.message();
    queue_task([this, error] { fire(on_ice_candidate_error_, error); });
  };
  for (const auto& ip : runtime::local_addresses(configuration_.gather_loopback)) {
    // The UDP socket comes first (bound even for TCP-only, for TURN over UDP): the TCP
    // listener then picks a port apart from it.
    if (auto bound = driver_->bind(ip); !bound) socket_error(ip, bound.error());
    if (!gather_tcp) continue;
    if (auto listening = driver_->listen_tcp(ip); !listening) socket_error(ip, listening.error());
  }
  if (pending_resolutions_ == 0) transport_->ice().finish_gathering(now);
  kick();
}

void PeerConnectionImpl::add_ice_server(const IceServerUrl& parsed, const RTCIceServer& server,
                                        const std::string& url, const SocketAddress& address) {
  const auto now = monotonic_now();
  if (parsed.scheme == "stun") {
    transport_->ice().add_stun_server(address, now);
    return;
  }
  // RFC 7065 3: turns: is TURN over TLS (over TCP); turn: is UDP unless transport=tcp.
  const auto transport = parsed.scheme == "turns"    ? turn::TurnTransport::kTls
                         : parsed.transport == "tcp" ? turn::TurnTransport::kTcp
                                                     : turn::TurnTransport::kUdp;
  if (transport != turn::TurnTransport::kUdp) {
    runtime::TurnStreamOptions options;
    options.tls = transport == turn::TurnTransport::kTls;
    options.host_name = parsed.host;
    if (auto added =
            driver_->add_turn_stream_server(address, options, configuration_.turns_ca_file);
        !added) {
      RTCPeerConnectionIceErrorEvent error;
      error.url = url;
      error.error_code = 701;
      error.error_text = added.error().message();
      queue_task([this, error] { fire(on_ice_candidate_error_, error); });
      return;
    }
  }
  transport_->ice().add_turn_server({address, server.username, server.credential, transport, url},
                                    now);
}

void PeerConnectionImpl::teardown_transport() {
  ++transport_generation_;  // answers to name lookups for this transport are stale now
  pending_resolutions_ = 0;
  if (driver_) driver_->close();
  driver_.reset();
  transport_.reset();
  pooled_ = false;
  pooled_gathering_state_ = ice::IceGatheringState::kNew;
  ice_role_.reset();
  dtls_role_.reset();
  remote_parameters_applied_ = false;
  gathering_started_ = false;
  local_candidates_.clear();
  local_candidates_complete_ = false;
  remote_transport_.reset();
  if (gathering_state_ != RTCIceGatheringState::kNew) {
    gathering_state_ = RTCIceGatheringState::kNew;
    queue_task([this] {
      fire(on_ice_gathering_state_change_);
      fire(ice_transport_->state_->on_gathering_state_change);
    });
  }
}

// --- Events from the transport (inside the driver; user code only through tasks) ---

void PeerConnectionImpl::on_transport_event(pc::PeerTransportEvent&& event) {
  if (closed_) return;
  if (auto* ice_event = std::get_if<ice::IceEvent>(&event)) {
    if (auto* c = std::get_if<ice::IceLocalCandidateEvent>(ice_event)) {
      local_candidates_.push_back(c->candidate);
      if (pooled_) return;  // surfaced with the first local description
      RTCIceCandidateInit init{c->candidate.to_string(), transport_mid(), 0,
                               local_credentials_.ufrag};
      auto candidate = RTCIceCandidate::create(init);
      if (candidate) {
        RTCPeerConnectionIceEvent e{*candidate, std::nullopt};
        queue_task([this, e] { fire(on_ice_candidate_, e); });
      }
    } else if (auto* g = std::get_if<ice::IceGatheringStateEvent>(ice_event)) {
      if (pooled_) {
        pooled_gathering_state_ = g->state;
        if (g->state == ice::IceGatheringState::kComplete) local_candidates_complete_ = true;
        return;
      }
      const auto state = from_ice(g->state);
      if (state == gathering_state_) return;
      gathering_state_ = state;
      const bool complete = state == RTCIceGatheringState::kComplete;
      if (complete) local_candidates_complete_ = true;
      queue_task([this, complete] {
        fire(ice_transport_->state_->on_gathering_state_change);
        fire(on_ice_gathering_state_change_);
        // W3C 4.3.1: the end of gathering is an icecandidate event without a candidate.
        if (complete) fire(on_ice_candidate_, RTCPeerConnectionIceEvent{});
      });
    } else if (auto* s = std::get_if<ice::IceStateEvent>(ice_event)) {
      const auto state = from_ice(s->state);
      if (state == ice_transport_state_) return;
      ice_transport_state_ = state;
      queue_task([this] { fire(ice_transport_->state_->on_state_change); });
      update_connection_states();
    } else if (auto* p = std::get_if<ice::IceSelectedPairEvent>(ice_event)) {
      auto local =
          RTCIceCandidate::create({p->local.to_string(), transport_mid(), 0, std::nullopt});
      auto remote =
          RTCIceCandidate::create({p->remote.to_string(), transport_mid(), 0, std::nullopt});
      if (local && remote) selected_pair_ = RTCIceCandidatePair{*local, *remote};
      queue_task([this] { fire(ice_transport_->state_->on_selected_candidate_pair_change); });
    } else if (auto* r = std::get_if<ice::IceRoleEvent>(ice_event)) {
      ice_role_ = r->role;
    } else if (auto* err = std::get_if<ice::IceCandidateErrorEvent>(ice_event)) {
      // A TURN server refused or did not answer (W3C 4.4.1.6, RTCPeerConnectionIceErrorEvent).
      RTCPeerConnectionIceErrorEvent error{err->local.ip().to_string(), err->local.port(), err->url,
                                           static_cast<std::uint16_t>(err->error_code),
                                           err->error_text};
      queue_task([this, error] { fire(on_ice_candidate_error_, error); });
    }
  } else if (auto* d = std::get_if<pc::DtlsStateEvent>(&event)) {
    const auto state = from_dtls(d->state);
    if (state == RTCDtlsTransportState::kConnected && transport_) {
      remote_certificates_.clear();
      if (auto der = transport_->dtls().remote_certificate_der())
        remote_certificates_.emplace_back(der->data(), der->data() + der->size());
    }
    if (state != dtls_state_) {
      dtls_state_ = state;
      std::optional<RTCError> error = d->error;
      queue_task([this, error] {
        if (error) fire(dtls_transport_->state_->on_error, *error);
        fire(dtls_transport_->state_->on_state_change);
      });
      update_connection_states();
    }
  } else if (auto* s = std::get_if<pc::SctpStateEvent>(&event)) {
    if (s->connected) {
      sctp_state_ = RTCSctpTransportState::kConnected;
      queue_task([this] {
        if (sctp_transport_) fire(sctp_transport_->state_->on_state_change);
      });
      for (const auto& channel : channels_) {
        if (channel->d_->opened_on_transport &&
            channel->d_->state == RTCDataChannelState::kConnecting)
          announce_open(channel);
      }
    } else {
      sctp_state_ = RTCSctpTransportState::kClosed;
      queue_task([this] {
        if (sctp_transport_) fire(sctp_transport_->state_->on_state_change);
      });
      std::optional<RTCError> error = s->error;
      // W3C 6.2.4: a channel whose transport failed closes with an error first.
      for (const auto& channel : std::vector(channels_)) {
        if (error) {
          RTCError channel_error(RTCErrorType::kOperationError, error->message());
          channel_error.with_detail(RTCErrorDetailType::kSctpFailure);
          queue_task([channel, channel_error] { fire(channel->d_->on_error, channel_error); });
        }
        finish_channel(channel, true);
      }
    }
  } else if (auto* o = std::get_if<pc::ChannelOpenEvent>(&event)) {
    // The peer opened a channel with DCEP (RFC 8832): announce it (W3C 6.2.3).
    RTCDataChannelInit init;
    init.ordered = o->channel.ordered;
    init.protocol = o->channel.protocol;
    init.max_retransmits = o->channel.max_retransmits;
    init.max_packet_life_time = o->channel.max_packet_life_time_ms;
    auto channel =
        std::make_shared<RTCDataChannel>(weak_from_this(), o->channel.label, std::move(init));
    channel->d_->id = o->channel.id;
    channel->d_->opened_on_transport = true;
    channel->d_->state = RTCDataChannelState::kOpen;
    ++channels_opened_;
    channels_.push_back(channel);
    channels_by_id_[o->channel.id] = channel;
    queue_task([this, channel] { fire(on_data_channel_, channel); });
    queue_task([channel] { fire_open(channel); });
  } else if (auto* closed = std::get_if<pc::ChannelClosedEvent>(&event)) {
    auto it = channels_by_id_.find(closed->id);
    if (it == channels_by_id_.end()) return;
    auto channel = it->second;
    // The peer started it when we were still open: announce closing first (W3C 6.2.4).
    if (channel->d_->state == RTCDataChannelState::kOpen) {
      channel->d_->state = RTCDataChannelState::kClosing;
      queue_task([channel] { fire(channel->d_->on_closing); });
    }
    finish_channel(channel, true);
  } else if (auto* m = std::get_if<pc::ChannelMessageEvent>(&event)) {
    auto it = channels_by_id_.find(m->id);
    if (it == channels_by_id_.end()) return;
    auto channel = it->second;
    if (channel->d_->state != RTCDataChannelState::kOpen &&
        channel->d_->state != RTCDataChannelState::kClosing)
      return;
    ++channel->d_->messages_received;
    channel->d_->bytes_received += m->data.size();
    auto message = std::make_shared<RTCMessageEvent>();
    message->binary = m->binary;
    message->data.assign(m->data.data(), m->data.data() + m->data.size());
    queue_task([channel, message] { fire(channel->d_->on_message, *message); });
  }
}

void PeerConnectionImpl::after_io() {
  if (!transport_) return;
  // W3C 6.2: bufferedamountlow fires when bufferedAmount falls to the threshold from above.
  for (const auto& channel : channels_) {
    if (!channel->d_->id) continue;
    const std::size_t now_buffered = transport_->buffered_amount(*channel->d_->id);
    if (channel->d_->last_buffered > channel->d_->low_threshold &&
        now_buffered <= channel->d_->low_threshold) {
      queue_task([channel] { fire(channel->d_->on_buffered_amount_low); });
    }
    channel->d_->last_buffered = now_buffered;
  }
}

void PeerConnectionImpl::update_connection_states() {
  if (closed_) return;
  // W3C 4.3.3, for the one ICE and DTLS transport a bundled connection has. close() sets
  // "closed" itself; a transport closed by the peer (DTLS close_notify) is not that.
  const auto ice_state = ice_connection_state_of(ice_transport_state_, closed_);
  if (ice_state != ice_connection_state_) {
    ice_connection_state_ = ice_state;
    queue_task([this] { fire(on_ice_connection_state_change_); });
  }
  const auto state = connection_state_of(ice_connection_state_, dtls_state_);
  if (state != connection_state_) {
    connection_state_ = state;
    queue_task([this] { fire(on_connection_state_change_); });
  }
}

void PeerConnectionImpl::set_signaling_state(RTCSignalingState state) {
  if (state == signaling_state_) return;
  signaling_state_ = state;
  queue_task([this] { fire(on_signaling_state_change_); });
  if (state == RTCSignalingState::kStable) check_negotiation_needed();
}

void PeerConnectionImpl::check_negotiation_needed() {
  // W3C 4.7.3: fire only in stable, and only while negotiation is still needed when the
  // queued task runs.
  if (!needs_negotiation()) return;
  queue_task([this] {
    if (signaling_state_ != RTCSignalingState::kStable || !needs_negotiation()) return;
    fire(on_negotiation_needed_);
  });
}

// --- JSEP ---

std::string PeerConnectionImpl::transport_mid() const {
  return local_mid_;
}

pc::TransportDescription PeerConnectionImpl::local_transport(pc::DtlsSetup setup) const {
  pc::TransportDescription t;
  const auto& credentials = restart_credentials_ ? *restart_credentials_ : local_credentials_;
  t.ice_ufrag = credentials.ufrag;
  t.ice_pwd = credentials.pwd;
  t.ice_options = {"trickle"};
  t.fingerprints = certificate_->impl()->get_fingerprints();
  t.setup = setup;
  t.mid = transport_mid();
  t.max_message_size = configuration_.max_message_size;
  t.candidates = local_candidates_;
  t.end_of_candidates = local_candidates_complete_;
  return t;
}

std::vector<pc::MSection> PeerConnectionImpl::offer_sections() const {
  // A re-offer in have-local-offer starts from the pending offer.
  return pc::plan_offer(
      signaling_state_ == RTCSignalingState::kHaveLocalOffer && !pending_sections_.empty()
          ? pending_sections_
          : sections_,
      transceivers_);
}

void PeerConnectionImpl::commit_sections(const std::vector<pc::MSection>& answered) {
  sections_ = answered;
  for (const auto& s : sections_) {
    if (s.transceiver) transceivers_.apply_negotiated(*s.transceiver, s.rejected, s.direction);
  }
  transceivers_.commit_remote_offer();
  pending_sections_.clear();
  pending_bundle_.clear();
}

bool PeerConnectionImpl::data_section_accepted(const std::vector<pc::MSection>& sections) const {
  return std::any_of(sections.begin(), sections.end(),
                     [](const pc::MSection& s) { return s.data && !s.rejected; });
}

Result<RTCSessionDescriptionInit> PeerConnectionImpl::create_offer(const RTCOfferOptions& options) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (!is_offer_state_for_local(signaling_state_))
    return invalid_state_error("createOffer in signaling state " +
                               std::string(to_string(signaling_state_)));
  // W3C 4.4.1.6 / JSEP 5.2.1: a restart offer carries new credentials (made once, so that a
  // second createOffer before setLocalDescription offers the same ones).
  if ((options.ice_restart || ice_restart_requested_) && transport_ && !restart_credentials_)
    restart_credentials_ = ice::IceCredentials::random(rng_);
  // RFC 8842 5.2: a first offer says actpass; later ones keep the role already in use.
  pc::DtlsSetup setup = pc::DtlsSetup::kActpass;
  if (dtls_role_)
    setup =
        *dtls_role_ == dtls::DtlsRole::kClient ? pc::DtlsSetup::kActive : pc::DtlsSetup::kPassive;
  auto sections = offer_sections();
  last_offer_ = pc::write_description({local_transport(setup), session_id_, ++session_version_},
                                      sections, pc::offer_bundle(sections));
  last_offer_sections_ = std::move(sections);
  last_offer_setup_ = setup;
  return RTCSessionDescriptionInit{RTCSdpType::kOffer, last_offer_};
}

pc::DtlsSetup PeerConnectionImpl::local_setup_for_answer() const {
  if (dtls_role_)
    return *dtls_role_ == dtls::DtlsRole::kClient ? pc::DtlsSetup::kActive
                                                  : pc::DtlsSetup::kPassive;
  if (remote_transport_ && remote_transport_->setup == pc::DtlsSetup::kActive)
    return pc::DtlsSetup::kPassive;
  // RFC 8842 5.3: an answer to actpass picks; like browsers, we prefer the client role.
  return pc::DtlsSetup::kActive;
}

Result<RTCSessionDescriptionInit> PeerConnectionImpl::create_answer() {
  if (closed_) return invalid_state_error("the connection is closed");
  if (signaling_state_ != RTCSignalingState::kHaveRemoteOffer &&
      signaling_state_ != RTCSignalingState::kHaveLocalPranswer)
    return invalid_state_error("createAnswer in signaling state " +
                               std::string(to_string(signaling_state_)));
  // The sections were planned when the offer was applied (JSEP 5.3.1).
  last_answer_setup_ = local_setup_for_answer();
  last_answer_ =
      pc::write_description({local_transport(last_answer_setup_), session_id_, ++session_version_},
                            pending_sections_, pending_bundle_);
  return RTCSessionDescriptionInit{RTCSdpType::kAnswer, last_answer_};
}

Result<> PeerConnectionImpl::apply_remote_parameters(dtls::DtlsRole role) {
  if (!transport_ || !remote_transport_) return operation_error("no transport to configure");
  if (remote_parameters_applied_) {
    if (dtls_role_ && *dtls_role_ != role)
      return invalid_modification_error("the DTLS role cannot change");
    return {};
  }
  const auto now = monotonic_now();
  auto applied =
      transport_->set_remote_parameters(remote_transport_->ice_ufrag, remote_transport_->ice_pwd,
                                        remote_transport_->fingerprints, role, now);
  if (!applied) return applied;
  remote_parameters_applied_ = true;
  dtls_role_ = role;
  return {};
}

void PeerConnectionImpl::add_remote_candidates_from(const pc::TransportDescription& remote) {
  for (const auto& c : remote.candidates) {
    if (auto added = add_remote_candidate(c); !added)
      api_log().warning("remote candidate ", c.to_string(), " ignored: ", added.error().message());
  }
  if (remote.end_of_candidates) transport_->ice().end_of_remote_candidates(monotonic_now());
}

Result<> PeerConnectionImpl::add_remote_candidate(ice::Candidate candidate) {
  if (!mdns::is_local_hostname(candidate.address))
    return transport_->ice().add_remote_candidate(candidate, monotonic_now());
  if (!mdns_) mdns_ = std::make_unique<runtime::MdnsResolver>(loop_.io());
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  mdns_->resolve(candidate.address, [weak, candidate, generation = transport_generation_](
                                        std::optional<IpAddress> address) mutable {
    auto self = weak.lock();
    if (!self || self->closed_ || !self->transport_ || generation != self->transport_generation_ ||
        !address)
      return;
    candidate.address = address->to_string();
    if (auto added = self->transport_->ice().add_remote_candidate(candidate, monotonic_now());
        !added)
      api_log().warning("remote candidate ", candidate.to_string(),
                        " ignored: ", added.error().message());
    self->kick();
  });
  return {};
}

void PeerConnectionImpl::negotiation_complete(bool data_accepted) {
  negotiation_needed_ = false;
  if (!data_accepted) return;
  data_negotiated_ = true;
  remote_max_message_size_ = remote_transport_ ? remote_transport_->max_message_size : 65536;
  if (!sctp_transport_) {
    auto sctp = std::make_unique<SctpTransportState>();
    sctp->pc = weak_from_this();
    sctp->dtls = dtls_transport_;
    sctp_transport_ = std::make_shared<RTCSctpTransport>(std::move(sctp));
  }
  open_pending_channels();
}

void PeerConnectionImpl::apply_answer(const RTCSessionDescriptionInit& desc, bool local,
                                      const std::vector<pc::MSection>& answered) {
  const bool data_accepted = data_section_accepted(answered);
  auto& ours = local ? pending_local_ : pending_remote_;    // the side that answered
  auto& theirs = local ? pending_remote_ : pending_local_;  // the side that offered
  auto& ours_current = local ? current_local_ : current_remote_;
  auto& theirs_current = local ? current_remote_ : current_local_;
  if (desc.type == RTCSdpType::kAnswer) {
    ours_current = desc;
    if (theirs) theirs_current = theirs;
    ours.reset();
    theirs.reset();
    commit_sections(answered);
    negotiation_complete(data_accepted);
    set_signaling_state(RTCSignalingState::kStable);
  } else {
    ours = desc;
    negotiation_complete(data_accepted);
    set_signaling_state(local ? RTCSignalingState::kHaveLocalPranswer
                              : RTCSignalingState::kHaveRemotePranswer);
  }
  kick();
}

void PeerConnectionImpl::roll_back(bool local) {
  (local ? pending_local_ : pending_remote_).reset();
  if (!local) {
    // W3C 4.4.1.5: transceivers the remote offer made go, and mids it gave are taken back.
    std::vector<std::string> mids;
    for (const auto& s : sections_) mids.push_back(s.mid);
    transceivers_.roll_back_remote_offer(mids);
  }
  pending_sections_.clear();
  pending_bundle_.clear();
  // A rollback of the first offer leaves nothing negotiated: the transport goes too.
  if (!current_local_ && !current_remote_) {
    teardown_transport();
    fill_candidate_pool();
  }
  set_signaling_state(RTCSignalingState::kStable);
}

Result<> PeerConnectionImpl::set_local_description(
    std::optional<RTCSessionDescriptionInit> description) {
  if (closed_) return invalid_state_error("the connection is closed");
  RTCSessionDescriptionInit desc;
  if (!description) {
    // W3C 4.4.1.5: the implicit form makes the description the state calls for.
    const bool offer = signaling_state_ == RTCSignalingState::kStable ||
                       signaling_state_ == RTCSignalingState::kHaveLocalOffer ||
                       signaling_state_ == RTCSignalingState::kHaveRemotePranswer;
    desc.type = offer ? RTCSdpType::kOffer : RTCSdpType::kAnswer;
  } else {
    desc = *description;
  }
  if (desc.type == RTCSdpType::kRollback) {
    if (signaling_state_ != RTCSignalingState::kHaveLocalOffer)
      return invalid_state_error("rollback of a local offer in signaling state " +
                                 std::string(to_string(signaling_state_)));
    roll_back(/*local=*/true);
    return {};
  }
  const bool is_offer = desc.type == RTCSdpType::kOffer;
  if (is_offer ? !is_offer_state_for_local(signaling_state_)
               : (signaling_state_ != RTCSignalingState::kHaveRemoteOffer &&
                  signaling_state_ != RTCSignalingState::kHaveLocalPranswer))
    return invalid_state_error("setLocalDescription(" + std::string(to_string(desc.type)) +
                               ") in signaling state " + std::string(to_string(signaling_state_)));
  std::string& last = is_offer ? last_offer_ : last_answer_;
  if (desc.sdp.empty()) {
    if (last.empty()) {
      auto made = is_offer ? create_offer({}) : create_answer();
      if (!made) return std::move(made).error();
    }
    desc.sdp = last;
  } else if (desc.sdp != last) {
    // W3C 4.4.1.5: only what create_offer/create_answer made last may be applied.
    return invalid_modification_error("the description differs from the one create" +
                                      std::string(is_offer ? "Offer" : "Answer") +
                                      " returned last");
  }

  commit_restart_credentials(desc.sdp);
  if (is_offer) {
    if (auto ok = ensure_transport(ice::IceRole::kControlling); !ok) return ok;
    pending_local_ = desc;
    local_offer_setup_ = last_offer_setup_;
    pending_sections_ = last_offer_sections_;
    // W3C 4.4.1.5: the transceivers take the mids of their sections.
    for (const auto& section : pending_sections_) {
      if (!section.transceiver || section.rejected) continue;
      if (auto* t = transceivers_.find(*section.transceiver)) t->mid = section.mid;
    }
    if (auto bundle = pc::offer_bundle(pending_sections_); !bundle.empty())
      local_mid_ = bundle.front();
    surface_candidate_pool();
    start_gathering();
    set_signaling_state(RTCSignalingState::kHaveLocalOffer);
    kick();
    return {};
  }
  // An answer or pranswer: our a=setup against the offer's decides the DTLS role, when the
  // answer accepts anything at all.
  const std::vector<pc::MSection> answered = pending_sections_;
  const bool accepts_any = std::any_of(answered.begin(), answered.end(),
                                       [](const pc::MSection& m) { return !m.rejected; });
  if (accepts_any && remote_transport_ && transport_) {
    auto role = pc::negotiate_dtls_role(last_answer_setup_, remote_transport_->setup, false);
    if (!role) return std::move(role).error();
    if (auto ok = apply_remote_parameters(*role); !ok) return ok;
    add_remote_candidates_from(*remote_transport_);
    surface_candidate_pool();
    start_gathering();
  }
  apply_answer(desc, /*local=*/true, answered);
  return {};
}

Result<> PeerConnectionImpl::set_remote_description(const RTCSessionDescriptionInit& desc) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (desc.type == RTCSdpType::kRollback) {
    if (signaling_state_ != RTCSignalingState::kHaveRemoteOffer)
      return invalid_state_error("rollback of a remote offer in signaling state " +
                                 std::string(to_string(signaling_state_)));
    roll_back(/*local=*/false);
    return {};
  }
  const bool is_offer = desc.type == RTCSdpType::kOffer;
  const bool offer_ok = signaling_state_ == RTCSignalingState::kStable ||
                        signaling_state_ == RTCSignalingState::kHaveRemoteOffer ||
                        signaling_state_ == RTCSignalingState::kHaveLocalOffer;
  const bool answer_ok = signaling_state_ == RTCSignalingState::kHaveLocalOffer ||
                         signaling_state_ == RTCSignalingState::kHaveRemotePranswer;
  if (is_offer ? !offer_ok : !answer_ok)
    return invalid_state_error("setRemoteDescription(" + std::string(to_string(desc.type)) +
                               ") in signaling state " + std::string(to_string(signaling_state_)));
  // Everything is checked before anything changes: a bad description leaves the state as it was.
  auto parsed = sdp::SessionDescription::parse(desc.sdp);
  if (!parsed) return std::move(parsed).error();
  const std::vector<pc::MSection> offered =
      is_offer ? std::vector<pc::MSection>{} : pending_sections_;
  auto remote = pc::read_remote_description(*parsed, offered);
  if (!remote) return std::move(remote).error();
  if (is_offer) {
    // JSEP 5.7 / 5.2.2: a later offer keeps every section in its place; only a rejected one
    // may come back recycled under a new mid.
    if (remote->sections.size() < sections_.size())
      return invalid_access_error("the offer has fewer m= sections than the session");
    for (std::size_t i = 0; i < sections_.size(); ++i) {
      if (!sections_[i].rejected && remote->sections[i].mid != sections_[i].mid)
        return invalid_access_error("m= section " + std::to_string(i) + " changed its mid from " +
                                    sections_[i].mid + " to " + remote->sections[i].mid);
    }
  }
  const pc::TransportDescription* transport = remote->transport ? &*remote->transport : nullptr;
  if (transport && remote_parameters_applied_ && remote_transport_ &&
      transport->fingerprints != remote_transport_->fingerprints)
    return invalid_modification_error("the remote DTLS fingerprint cannot change");
  std::optional<dtls::DtlsRole> role;
  if (!is_offer && transport) {
    auto negotiated = pc::negotiate_dtls_role(local_offer_setup_, transport->setup, true);
    if (!negotiated) return std::move(negotiated).error();
    role = *negotiated;
  }

  if (is_offer && signaling_state_ == RTCSignalingState::kHaveLocalOffer) {
    // W3C 4.4.1.6: an offer in have-local-offer (glare) first rolls our offer back.
    roll_back(/*local=*/true);
  }
  if (is_offer) {
    // JSEP 5.10: every offered media section gets its transceiver; our answer is planned now.
    auto plan = pc::plan_answer(
        *remote,
        [&](std::size_t i) -> std::optional<std::uint32_t> {
          const auto& section = remote->sections[i];
          if (section.rejected) {
            const auto* t = transceivers_.find_mid(section.mid);
            return t != nullptr ? std::optional(t->handle) : std::nullopt;
          }
          return transceivers_.associate_remote(section.kind, section.mid);
        },
        // Until RTP lands, media sections are rejected (how an endpoint answers what it
        // cannot receive); their transceivers stop when the answer is applied.
        [](std::size_t) { return false; });
    const bool accepts_any = std::any_of(plan.sections.begin(), plan.sections.end(),
                                         [](const pc::MSection& m) { return !m.rejected; });
    if (accepts_any && transport) {
      if (auto ok = ensure_transport(ice::IceRole::kControlled); !ok) return ok;
      // JSEP 5.3.1: the answer to an offer that restarts ICE restarts ours too.
      if (remote_parameters_applied_ && remote_transport_ &&
          transport->ice_ufrag != remote_transport_->ice_ufrag && !restart_credentials_)
        restart_credentials_ = ice::IceCredentials::random(rng_);
      apply_remote_restart(*transport);
      remote_transport_ = *transport;
      add_remote_candidates_from(*transport);
    }
    // RFC 9143 7.3.1: our candidates go with the answerer-tagged section (the first of the
    // answer's group), or the one section we accept without a group.
    if (!plan.bundle.empty()) {
      local_mid_ = plan.bundle.front();
    } else {
      for (const auto& section : plan.sections) {
        if (!section.rejected) {
          local_mid_ = section.mid;
          break;
        }
      }
    }
    pending_sections_ = std::move(plan.sections);
    pending_bundle_ = std::move(plan.bundle);
    pending_remote_ = desc;
    set_signaling_state(RTCSignalingState::kHaveRemoteOffer);
    kick();
    return {};
  }
  // An answer: what it rejected is rejected.
  std::vector<pc::MSection> answered = pending_sections_;
  for (std::size_t i = 0; i < answered.size(); ++i) {
    if (!remote->sections[i].rejected) continue;
    answered[i].rejected = true;
    answered[i].direction = pc::RtpDirection::kInactive;
  }
  if (transport) {
    apply_remote_restart(*transport);
    remote_transport_ = *transport;
    if (auto ok = apply_remote_parameters(*role); !ok) return ok;
    add_remote_candidates_from(*transport);
  }
  apply_answer(desc, /*local=*/false, answered);
  return {};
}

void PeerConnectionImpl::restart_ice() {
  if (closed_) return;
  // W3C 4.4.1.6: the next offer replaces the current credentials.
  ice_restart_requested_ = true;
  if (signaling_state_ == RTCSignalingState::kStable) check_negotiation_needed();
}

void PeerConnectionImpl::commit_restart_credentials(const std::string& sdp) {
  ice_restart_requested_ = false;
  if (!restart_credentials_) return;
  auto parsed = sdp::SessionDescription::parse(sdp);
  if (!parsed) return;
  auto ours = pc::read_remote_description(*parsed);
  if (!ours || !ours->transport || ours->transport->ice_ufrag != restart_credentials_->ufrag)
    return;
  local_credentials_ = *restart_credentials_;
  restart_credentials_.reset();
  if (!transport_) return;
  // A new gathering round: the candidates come again under the new ufrag.
  local_candidates_.clear();
  local_candidates_complete_ = false;
  transport_->ice().restart_local(local_credentials_, monotonic_now());
  kick();
}

void PeerConnectionImpl::apply_remote_restart(const pc::TransportDescription& remote) {
  if (!remote_parameters_applied_ || !transport_ || !remote_transport_) return;
  if (remote.ice_ufrag != remote_transport_->ice_ufrag)
    previous_remote_ufrag_ = remote_transport_->ice_ufrag;
  // The agent restarts when the credentials changed, and takes them as the answer to a restart
  // of ours either way; the same credentials as before change nothing.
  if (auto set = transport_->ice().set_remote_credentials(remote.ice_ufrag, remote.ice_pwd,
                                                          monotonic_now());
      !set)
    api_log().warning("the peer's new ICE credentials were not applied: ", set.error().message());
}

Result<> PeerConnectionImpl::add_ice_candidate(const RTCIceCandidateInit& init) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (!init.candidate.empty() && !init.sdp_mid && !init.sdp_m_line_index)
    return type_error("a candidate needs sdpMid or sdpMLineIndex");
  if (!pending_remote_ && !current_remote_)
    return invalid_state_error("addIceCandidate before a remote description");
  const auto& remote_text = pending_remote_ ? pending_remote_->sdp : current_remote_->sdp;
  auto remote = sdp::SessionDescription::parse(remote_text);
  if (!remote) return std::move(remote).error();
  // W3C 4.4.1.7: the candidate must belong to a media section of the remote description.
  if (init.sdp_mid) {
    const bool known = std::any_of(remote->media.begin(), remote->media.end(), [&](const auto& m) {
      return m.attributes.value("mid") == std::optional<std::string_view>(*init.sdp_mid);
    });
    if (!known) return operation_error("no media section with mid " + *init.sdp_mid);
  } else if (init.sdp_m_line_index && *init.sdp_m_line_index >= remote->media.size()) {
    return operation_error("sdpMLineIndex " + std::to_string(*init.sdp_m_line_index) +
                           " is out of range");
  }
  if (init.username_fragment && remote_transport_ &&
      *init.username_fragment != remote_transport_->ice_ufrag) {
    // A late candidate from before the peer's restart: nothing to pair it with any more.
    if (*init.username_fragment == previous_remote_ufrag_) return {};
    return operation_error("the candidate's usernameFragment is not the remote one");
  }
  // A candidate for a description we connect nothing for (every section rejected) has no
  // transport to go to.
  if (!transport_ || !remote_transport_) return {};
  const auto now = monotonic_now();
  if (init.candidate.empty()) {
    transport_->ice().end_of_remote_candidates(now);
    kick();
    return {};
  }
  auto candidate = ice::Candidate::parse(init.candidate);
  if (!candidate) return operation_error("bad candidate: " + candidate.error().message());
  if (auto added = add_remote_candidate(*candidate); !added)
    return operation_error(added.error().message());
  kick();
  return {};
}

std::string PeerConnectionImpl::with_candidates(const std::string& text) const {
  if (local_candidates_.empty() && !local_candidates_complete_) return text;
  auto parsed = sdp::SessionDescription::parse(text);
  if (!parsed) return text;
  const std::string mid = transport_mid();
  for (auto& m : parsed->media) {
    if (m.attributes.value("mid") != std::optional<std::string_view>(mid)) continue;
    // W3C 4.4.1: the local description carries the candidates gathered so far.
    for (const auto& c : local_candidates_) {
      const std::string value = c.to_string().substr(std::string_view("candidate:").size());
      bool present = false;
      for (const auto& a : m.attributes.values("candidate")) present = present || a == value;
      if (!present) m.attributes.add("candidate", value);
    }
    if (local_candidates_complete_ && !m.attributes.has("end-of-candidates"))
      m.attributes.add("end-of-candidates");
  }
  return parsed->to_string();
}

std::optional<RTCSessionDescriptionInit> PeerConnectionImpl::local_description() const {
  auto d = pending_local_ ? pending_local_ : current_local_;
  if (d) d->sdp = with_candidates(d->sdp);
  return d;
}

std::optional<RTCSessionDescriptionInit> PeerConnectionImpl::current_local_description() const {
  auto d = current_local_;
  if (d) d->sdp = with_candidates(d->sdp);
  return d;
}

std::optional<RTCSessionDescriptionInit> PeerConnectionImpl::pending_local_description() const {
  auto d = pending_local_;
  if (d) d->sdp = with_candidates(d->sdp);
  return d;
}

std::optional<RTCSessionDescriptionInit> PeerConnectionImpl::remote_description() const {
  return pending_remote_ ? pending_remote_ : current_remote_;
}

Result<> PeerConnectionImpl::set_configuration(RTCConfiguration configuration) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (auto valid = validate_configuration(configuration); !valid) return valid;
  // W3C 4.4.1.6 set the configuration.
  if (!configuration.certificates.empty() &&
      configuration.certificates != configuration_.certificates)
    return invalid_modification_error("certificates cannot change");
  if (configuration.bundle_policy != configuration_.bundle_policy)
    return invalid_modification_error("bundlePolicy cannot change");
  if (configuration.rtcp_mux_policy != configuration_.rtcp_mux_policy)
    return invalid_modification_error("rtcpMuxPolicy cannot change");
  if (configuration.ice_candidate_pool_size != configuration_.ice_candidate_pool_size &&
      (current_local_ || pending_local_))
    return invalid_modification_error(
        "iceCandidatePoolSize cannot change after a local description");
  // Allocations already made keep the families they were asked for.
  if (configuration.turn_dual_stack != configuration_.turn_dual_stack && transport_)
    return invalid_modification_error("turn_dual_stack cannot change once gathering began");
  if ((configuration.sctp_interleaving != configuration_.sctp_interleaving ||
       configuration.sctp_zero_checksum != configuration_.sctp_zero_checksum) &&
      transport_)
    return invalid_modification_error("SCTP options cannot change once the transport exists");
  configuration.certificates = configuration_.certificates;
  configuration_ = std::move(configuration);
  // W3C 4.4.1.6: a pool that shrinks to nothing is discarded; one that appears is filled.
  if (pooled_ && configuration_.ice_candidate_pool_size == 0) teardown_transport();
  fill_candidate_pool();
  return {};
}

void PeerConnectionImpl::close() {
  if (closed_) return;
  // W3C 4.4.1.6 close the connection: no events from here on.
  closed_ = true;
  signaling_state_ = RTCSignalingState::kClosed;
  for (const auto& channel : channels_) {
    channel->d_->state = RTCDataChannelState::kClosed;
    channel->drop_handlers();
  }
  channels_.clear();
  channels_by_id_.clear();
  if (transport_) {
    // The peer learns at once: SCTP ABORT, then DTLS close_notify.
    if (transport_->sctp_connected()) transport_->sctp().abort("the connection was closed");
    transport_->handle_timeout(monotonic_now());
    kick();
    transport_->dtls().close();
    transport_->handle_timeout(monotonic_now());
    kick();
    transport_->ice().close();
  }
  if (driver_) driver_->close();
  driver_.reset();
  transport_.reset();
  ice_transport_state_ = RTCIceTransportState::kClosed;
  ice_connection_state_ = RTCIceConnectionState::kClosed;
  connection_state_ = RTCPeerConnectionState::kClosed;
  dtls_state_ = RTCDtlsTransportState::kClosed;
  sctp_state_ = RTCSctpTransportState::kClosed;
  on_negotiation_needed_ = nullptr;
  on_ice_candidate_ = nullptr;
  on_ice_candidate_error_ = nullptr;
  on_signaling_state_change_ = nullptr;
  on_ice_gathering_state_change_ = nullptr;
  on_ice_connection_state_change_ = nullptr;
  on_connection_state_change_ = nullptr;
  on_data_channel_ = nullptr;
  ice_transport_->state_->on_state_change = nullptr;
  ice_transport_->state_->on_gathering_state_change = nullptr;
  ice_transport_->state_->on_selected_candidate_pair_change = nullptr;
  dtls_transport_->state_->on_state_change = nullptr;
  dtls_transport_->state_->on_error = nullptr;
  if (sctp_transport_) sctp_transport_->state_->on_state_change = nullptr;
}

// --- Data channels ---

Result<std::shared_ptr<RTCDataChannel>> PeerConnectionImpl::create_data_channel(
    std::string label, RTCDataChannelInit init) {
  if (closed_) return invalid_state_error("the connection is closed");
  // W3C 4.4.1 createDataChannel, in its order of checks.
  if (label.size() > 65535) return type_error("the label is longer than 65535 bytes");
  if (init.protocol.size() > 65535) return type_error("the protocol is longer than 65535 bytes");
  if (init.negotiated && !init.id) return type_error("a negotiated channel needs an id");
  if (init.max_packet_life_time && init.max_retransmits)
    return type_error("maxPacketLifeTime and maxRetransmits are mutually exclusive");
  if (init.id && *init.id > 65534) return type_error("the id must be 65534 or less");
  if (!init.negotiated) init.id.reset();  // ids of in-band channels follow the DTLS role
  if (init.id && channels_by_id_.count(*init.id) != 0)
    return operation_error("id " + std::to_string(*init.id) + " is in use");
  for (const auto& c : channels_) {
    if (init.id && c->d_->init.negotiated && c->d_->init.id == init.id)
      return operation_error("id " + std::to_string(*init.id) + " is in use");
  }
  auto channel = std::make_shared<RTCDataChannel>(weak_from_this(), std::move(label), init);
  channels_.push_back(channel);
  if (data_negotiated_ && transport_) {
    open_pending_channels();
    // An id that could not be opened was reported as an error and closed.
    if (channel->d_->state == RTCDataChannelState::kClosed) {
      channels_.erase(std::remove(channels_.begin(), channels_.end(), channel), channels_.end());
      return operation_error("no SCTP stream id is available");
    }
  } else {
    negotiation_needed_ = true;
    if (signaling_state_ == RTCSignalingState::kStable) check_negotiation_needed();
  }
  return channel;
}

void PeerConnectionImpl::open_pending_channels() {
  if (!transport_ || !dtls_role_) return;
  for (const auto& channel : std::vector(channels_)) {
    if (channel->d_->opened_on_transport) continue;
    pc::ChannelOptions options;
    options.label = channel->d_->label;
    options.protocol = channel->d_->init.protocol;
    options.ordered = channel->d_->init.ordered;
    options.max_retransmits = channel->d_->init.max_retransmits;
    options.max_packet_life_time_ms = channel->d_->init.max_packet_life_time;
    if (channel->d_->init.negotiated) options.negotiated_id = channel->d_->init.id;
    auto id = transport_->open_channel(options);
    if (!id) {
      // W3C 4.4.1.5: a channel that gets no id closes with an OperationError.
      RTCError error(RTCErrorType::kOperationError, id.error().message());
      error.with_detail(RTCErrorDetailType::kDataChannelFailure);
      channel->d_->state = RTCDataChannelState::kClosed;
      queue_task([channel, error] {
        fire(channel->d_->on_error, error);
        fire(channel->d_->on_close);
      });
      channels_.erase(std::remove(channels_.begin(), channels_.end(), channel), channels_.end());
      continue;
    }
    channel->d_->id = *id;
    channel->d_->opened_on_transport = true;
    channels_by_id_[*id] = channel;
    if (transport_->sctp_connected()) announce_open(channel);
  }
  kick();
}

// The task of a channel's open event: with no handler yet, the event is held for the first
// one (RTCDataChannel::on_open).
void PeerConnectionImpl::fire_open(const std::shared_ptr<RTCDataChannel>& channel) {
  if (channel->d_->state != RTCDataChannelState::kOpen) return;
  if (!channel->d_->on_open) {
    channel->d_->open_undelivered = true;
    return;
  }
  fire(channel->d_->on_open);
}

void PeerConnectionImpl::announce_open(const std::shared_ptr<RTCDataChannel>& channel) {
  channel->d_->state = RTCDataChannelState::kOpen;
  ++channels_opened_;
  queue_task([channel] { fire_open(channel); });
}

void PeerConnectionImpl::deliver_held_open(RTCDataChannel& channel) {
  if (!channel.d_->open_undelivered || !channel.d_->on_open ||
      channel.d_->state != RTCDataChannelState::kOpen)
    return;
  channel.d_->open_undelivered = false;
  for (const auto& c : channels_) {
    if (c.get() == &channel) {
      queue_task([c] { fire_open(c); });
      return;
    }
  }
}

void PeerConnectionImpl::finish_channel(const std::shared_ptr<RTCDataChannel>& channel,
                                        bool fire_events) {
  if (channel->d_->state == RTCDataChannelState::kClosed) return;
  channel->d_->state = RTCDataChannelState::kClosed;
  channels_.erase(std::remove(channels_.begin(), channels_.end(), channel), channels_.end());
  if (channel->d_->id) channels_by_id_.erase(*channel->d_->id);
  ++channels_closed_;
  if (!fire_events) {
    channel->drop_handlers();
    return;
  }
  // The handlers go after close fired, so that captured shared_ptrs do not keep it alive;
  // they go even when the connection closes first and the event is never fired.
  std::weak_ptr<PeerConnectionImpl> weak = weak_from_this();
  loop_.post([weak, channel] {
    auto self = weak.lock();
    if (self && !self->closed_) fire(channel->d_->on_close);
    channel->drop_handlers();
  });
}

Result<> PeerConnectionImpl::channel_send(RTCDataChannel& channel,
                                          std::span<const std::uint8_t> data, bool binary,
                                          bool valid_text) {
  // W3C 6.2.5 send(), in its order of checks.
  if (channel.d_->state != RTCDataChannelState::kOpen)
    return invalid_state_error("the data channel is " + std::string(to_string(channel.d_->state)));
  // A string is sent UTF-8 encoded: text that is not UTF-8 has no such encoding.
  if (!binary && !valid_text) return type_error("a text message must be valid UTF-8");
  const std::size_t limit = max_message_size();
  if (limit != 0 && data.size() > limit)
    return type_error("the message (" + std::to_string(data.size()) +
                      " bytes) is larger than maxMessageSize (" + std::to_string(limit) + ")");
  if (!transport_ || !channel.d_->id) return invalid_state_error("the data channel is not open");
  auto sent = transport_->send(*channel.d_->id, BytesView(data.data(), data.size()), binary);
  if (!sent) return operation_error(sent.error().message());
  ++channel.d_->messages_sent;
  channel.d_->bytes_sent += data.size();
  channel.d_->last_buffered = transport_->buffered_amount(*channel.d_->id);
  schedule_kick();
  return {};
}

void PeerConnectionImpl::channel_close(RTCDataChannel& channel) {
  if (channel.d_->state == RTCDataChannelState::kClosing ||
      channel.d_->state == RTCDataChannelState::kClosed)
    return;
  auto self = channel.shared_from_this();
  if (!channel.d_->id || !transport_ || !transport_->sctp_connected()) {
    // Never reached the transport: nothing to flush.
    finish_channel(self, true);
    return;
  }
  // W3C 6.2.4 / RFC 8831 6.7: our outgoing stream is reset once everything sent before is on
  // its way; the channel is closed when the peer has reset its direction too.
  channel.d_->state = RTCDataChannelState::kClosing;
  if (auto closing = transport_->close_channel(*channel.d_->id); !closing) {
    finish_channel(self, true);
    return;
  }
  kick();
}

std::size_t PeerConnectionImpl::channel_buffered_amount(const RTCDataChannel& channel) const {
  if (!transport_ || !channel.d_->id) return 0;
  return transport_->buffered_amount(*channel.d_->id);
}

std::size_t PeerConnectionImpl::max_message_size() const {
  // W3C 6.1.1.1: the remote limit (0 = none) capped by what we can send.
  const std::size_t local_limit = configuration_.max_message_size;
  if (remote_max_message_size_ == 0) return local_limit;
  return std::min(remote_max_message_size_, local_limit);
}

std::uint16_t PeerConnectionImpl::max_channels() const {
  if (!transport_) return 0;
  return transport_->sctp().usable_streams();
}

}  // namespace rtcpp::detail
