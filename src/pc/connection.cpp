// The connection's transport lifetime, gathering with the runtime's services, and the
// translation of transport events. JSEP is in connection_jsep.cpp, the data channels in
// connection_channels.cpp.
#include "pc/connection.hpp"

#include <algorithm>
#include <iterator>

#include "base/log.hpp"
#include "mdns/mdns_message.hpp"

namespace rtcpp::pc {
namespace {

Logger& pc_log() {
  static Logger log("pc");
  return log;
}

}  // namespace

std::string_view to_string(SignalingState state) noexcept {
  switch (state) {
    case SignalingState::kStable:
      return "stable";
    case SignalingState::kHaveLocalOffer:
      return "have-local-offer";
    case SignalingState::kHaveRemoteOffer:
      return "have-remote-offer";
    case SignalingState::kHaveLocalPranswer:
      return "have-local-pranswer";
    case SignalingState::kHaveRemotePranswer:
      return "have-remote-pranswer";
    case SignalingState::kClosed:
      return "closed";
  }
  return "closed";
}

std::string_view to_string(SdpType type) noexcept {
  switch (type) {
    case SdpType::kOffer:
      return "offer";
    case SdpType::kPranswer:
      return "pranswer";
    case SdpType::kAnswer:
      return "answer";
    case SdpType::kRollback:
      return "rollback";
  }
  return "offer";
}

Connection::Connection(ConnectionConfig config, Random& rng)
    : config_(std::move(config)), rng_(rng), media_(rng) {
  local_credentials_ = ice::IceCredentials::random(rng_);
  // RFC 8866 5.2: sess-id is a numeric string; 62 bits keep it positive everywhere.
  session_id_ = rng_.next_u64() >> 2;
  cname_ = random_alphanumeric(rng_, 16);
  media_.set_report_identity(cname_, config_.ntp_offset);
}

Connection::~Connection() = default;

// --- Transport lifetime ---

Result<> Connection::ensure_transport(ice::IceRole role, Timestamp now) {
  (void)now;
  if (transport_ && pooled_) {
    // Pooled before the first description: the role is known now.
    transport_->ice().set_role(role);
    ice_role_ = role;
  }
  if (transport_) return {};
  if (!config_.certificate) return operation_error("the connection has no certificate");
  PeerTransportConfig config;
  config.ice = config_.ice;
  config.ice_credentials = local_credentials_;
  config.certificate = config_.certificate;
  config.dtls_mtu = config_.dtls_mtu;
  config.dtls_key_log = config_.dtls_key_log;
  config.sctp.max_message_size = config_.max_message_size;
  // What may be sent is the peer's limit, checked by send() (W3C maxMessageSize).
  config.sctp.max_send_message_size = config.sctp.max_send_buffer;
  config.sctp.interleaving = config_.sctp_interleaving;
  config.sctp.zero_checksum = config_.sctp_zero_checksum;
  if (config_.turn_dual_stack) config.ice.turn.relay_families = turn::RelayFamilies::kBoth;
  config.ice.udp_candidates = config_.udp_candidates;
  auto transport = PeerTransport::create(config, role, rng_);
  if (!transport) return std::move(transport).error();
  transport_ = std::move(*transport);
  ice_role_ = role;
  return {};
}

void Connection::fill_candidate_pool(Timestamp now) {
  if (closed_ || transport_ || config_.candidate_pool_size == 0 || current_local_ ||
      pending_local_ || current_remote_ || pending_remote_)
    return;
  // Controlling until a remote offer says otherwise (ensure_transport switches it).
  if (!ensure_transport(ice::IceRole::kControlling, now)) return;
  pooled_ = true;
  start_gathering(now);
}

void Connection::surface_candidate_pool() {
  if (!pooled_) return;
  pooled_ = false;
  if (pooled_gathering_state_ == ice::IceGatheringState::kNew) return;
  gathering_state_ = ice::IceGatheringState::kGathering;
  emit(GatheringStateChanged{gathering_state_});
  for (const auto& c : local_candidates_)
    emit(
        LocalCandidate{c.candidate, local_mid_, local_credentials_.ufrag, c.url, c.relay_protocol});
  if (pooled_gathering_state_ == ice::IceGatheringState::kComplete) {
    gathering_state_ = ice::IceGatheringState::kComplete;
    emit(GatheringStateChanged{gathering_state_, local_mid_, local_credentials_.ufrag});
  }
}

void Connection::start_gathering(Timestamp now) {
  if (gathering_started_ || !transport_) return;
  gathering_started_ = true;
  // W3C iceTransportPolicy "relay": only relayed candidates. The sockets are bound all the
  // same, as the TURN clients send from them; ICE just does not offer or pair them.
  transport_->ice().set_relay_only(config_.relay_only);
  add_configured_servers(now);
  emit(GatherRequest{!config_.relay_only && config_.tcp_candidates});
}

void Connection::add_configured_servers(Timestamp now) {
  for (const auto& server : config_.ice_servers) {
    for (const auto& url : server.urls) {
      // Each URL once: set_configuration may bring new ones for the next ICE restart.
      if (std::find(servers_in_use_.begin(), servers_in_use_.end(), url) != servers_in_use_.end())
        continue;
      auto parsed = parse_ice_server_url(url);
      // A STUN server has no use under relay; it may have one after a policy change.
      if (parsed && parsed->scheme == "stun" && config_.relay_only) continue;
      servers_in_use_.push_back(url);
      if (!parsed) continue;
      if (parsed->scheme == "stuns") {
        emit(CandidateError{{}, 0, url, 701, "STUN over TLS (stuns:) is not supported"});
        continue;
      }
      if (parsed->scheme == "turns" && parsed->transport == "udp") {
        emit(CandidateError{
            {}, 0, url, 701, "TURN over DTLS (turns: with transport=udp) is not supported"});
        continue;
      }
      PendingServer pending{*parsed, server, url};
      if (auto address = resolve_literal(parsed->host, parsed->port)) {
        add_ice_server(pending, *address, now);
        continue;
      }
      // A name: the runtime resolves it, and gathering completes only once every name has an
      // answer or an error.
      const auto token = next_token_++;
      emit(ResolveRequest{token, parsed->host, parsed->port});
      pending_names_.emplace(token, std::move(pending));
    }
  }
}

void Connection::remove_unconfigured_servers(Timestamp now) {
  const auto configured = [&](const std::string& url) {
    return std::any_of(config_.ice_servers.begin(), config_.ice_servers.end(),
                       [&](const IceServer& s) {
                         return std::find(s.urls.begin(), s.urls.end(), url) != s.urls.end();
                       });
  };
  for (auto it = servers_in_use_.begin(); it != servers_in_use_.end();) {
    if (configured(*it)) {
      ++it;
      continue;
    }
    const std::string url = *it;
    it = servers_in_use_.erase(it);
    // A name still being looked up, or a stream being prepared, goes too.
    std::erase_if(pending_names_, [&](const auto& p) { return p.second.text == url; });
    std::erase_if(pending_streams_, [&](const auto& p) { return p.second.text == url; });
    if (transport_) transport_->ice().remove_server(url, now);
  }
}

void Connection::add_ice_server(const PendingServer& pending, const SocketAddress& address,
                                Timestamp now) {
  if (pending.url.scheme == "stun") {
    transport_->ice().add_stun_server(address, now, pending.text);
    return;
  }
  // RFC 7065 3: turns: is TURN over TLS (over TCP); turn: is UDP unless transport=tcp.
  const bool tls = pending.url.scheme == "turns";
  const auto transport = tls                              ? turn::TurnTransport::kTls
                         : pending.url.transport == "tcp" ? turn::TurnTransport::kTcp
                                                          : turn::TurnTransport::kUdp;
  if (transport != turn::TurnTransport::kUdp) {
    // The runtime prepares the stream first: ICE's first message to the server goes on it.
    const auto token = next_token_++;
    emit(TurnStreamRequest{token, address, tls, pending.url.host});
    PendingServer resolved = pending;
    resolved.address = address;
    pending_streams_.emplace(token, std::move(resolved));
    return;
  }
  transport_->ice().add_turn_server(
      {address, pending.server.username, pending.server.credential, transport, pending.text}, now);
}

void Connection::name_resolved(std::uint64_t token, std::optional<SocketAddress> address,
                               const std::string& error, Timestamp now) {
  auto it = pending_names_.find(token);
  if (it == pending_names_.end() || !transport_) return;  // torn down since
  const PendingServer pending = std::move(it->second);
  pending_names_.erase(it);
  if (address) {
    add_ice_server(pending, *address, now);
  } else {
    emit(CandidateError{
        {}, 0, pending.text, 701, "cannot resolve " + pending.url.host + ": " + error});
  }
  maybe_finish_gathering(now);
}

void Connection::turn_stream_ready(std::uint64_t token, const Result<>& ready, Timestamp now) {
  auto it = pending_streams_.find(token);
  if (it == pending_streams_.end() || !transport_) return;
  const PendingServer pending = std::move(it->second);
  pending_streams_.erase(it);
  if (!ready) {
    emit(CandidateError{{}, 0, pending.text, 701, ready.error().message()});
  } else {
    const bool tls = pending.url.scheme == "turns";
    transport_->ice().add_turn_server(
        {pending.address, pending.server.username, pending.server.credential,
         tls ? turn::TurnTransport::kTls : turn::TurnTransport::kTcp, pending.text},
        now);
  }
  maybe_finish_gathering(now);
}

void Connection::add_host_address(const SocketAddress& address, Timestamp now) {
  if (transport_) transport_->ice().add_host_address(address, now);
}

void Connection::add_tcp_host_address(const SocketAddress& address, Timestamp now) {
  if (transport_) transport_->ice().add_tcp_host_address(address, now);
}

void Connection::socket_failed(const IpAddress& ip, const std::string& text) {
  emit(CandidateError{ip.to_string(), 0, {}, 701, text});
}

void Connection::sockets_ready(Timestamp now) {
  sockets_ready_ = true;
  maybe_finish_gathering(now);
}

void Connection::maybe_finish_gathering(Timestamp now) {
  // Gathering ends once the sockets are bound and every server is known (RFC 8445 5.1.1).
  if (!transport_ || !sockets_ready_ || !pending_names_.empty() || !pending_streams_.empty())
    return;
  transport_->ice().finish_gathering(now);
}

void Connection::turn_stream_failed(const SocketAddress& base, const SocketAddress& server,
                                    std::string text, Timestamp now) {
  if (transport_) transport_->ice().turn_stream_failed(base, server, std::move(text), now);
}

bool Connection::tcp_connection_authenticated(const SocketAddress& local,
                                              const SocketAddress& remote) {
  return transport_ && transport_->ice().tcp_connection_authenticated(local, remote);
}

void Connection::tcp_connection_closed(const SocketAddress& local, const SocketAddress& remote,
                                       Timestamp now) {
  if (transport_) transport_->ice().tcp_connection_closed(local, remote, now);
}

namespace {

// The Fetch standard's bad ports (https://fetch.spec.whatwg.org/#bad-port), 0 included.
bool is_bad_port(std::uint16_t port) {
  static constexpr std::uint16_t kBadPorts[] = {
      0,    1,    7,    9,    11,   13,   15,   17,   19,   20,   21,   22,   23,   25,
      37,   42,   43,   53,   69,   77,   79,   87,   95,   101,  102,  103,  104,  109,
      110,  111,  113,  115,  117,  119,  123,  135,  137,  139,  143,  161,  179,  389,
      427,  465,  512,  513,  514,  515,  526,  530,  531,  532,  540,  548,  554,  556,
      563,  587,  601,  636,  989,  990,  993,  995,  1719, 1720, 1723, 2049, 3659, 4045,
      4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080};
  return std::binary_search(std::begin(kBadPorts), std::end(kBadPorts), port);
}

// W3C 4.4.1.6 addIceCandidate: the UA prohibits connections to the Fetch bad ports. A TCP
// active candidate is never connected to (its port is 9 by RFC 6544): not prohibited.
bool administratively_prohibited(const ice::Candidate& candidate) {
  return candidate.tcp_type != ice::TcpType::kActive && is_bad_port(candidate.port);
}

}  // namespace

Result<> Connection::add_remote_candidate(ice::Candidate candidate, Timestamp now) {
  // W3C 5.6 getRemoteCandidates: every candidate received, as received (bounded: the peer
  // decides how many it sends).
  constexpr std::size_t kMaxRemoteCandidates = 1024;
  if (remote_candidates_.size() < kMaxRemoteCandidates &&
      std::find(remote_candidates_.begin(), remote_candidates_.end(), candidate) ==
          remote_candidates_.end())
    remote_candidates_.push_back(candidate);
  // A prohibited candidate is taken and never paired: as if it did not answer (W3C 4.4.1.6).
  if (administratively_prohibited(candidate)) return {};
  if (!mdns::is_local_hostname(candidate.address))
    return transport_->ice().add_remote_candidate(candidate, now);
  // A "<uuid>.local" candidate waits for the runtime's mDNS answer; a name that does not
  // resolve is dropped, as browsers do.
  const auto token = next_token_++;
  emit(MdnsRequest{token, candidate.address});
  pending_mdns_.emplace(token, std::move(candidate));
  return {};
}

void Connection::mdns_resolved(std::uint64_t token, std::optional<IpAddress> address,
                               Timestamp now) {
  auto it = pending_mdns_.find(token);
  if (it == pending_mdns_.end()) return;
  ice::Candidate candidate = std::move(it->second);
  pending_mdns_.erase(it);
  if (!address || !transport_) return;
  candidate.address = address->to_string();
  if (auto added = transport_->ice().add_remote_candidate(candidate, now); !added)
    pc_log().warning("remote candidate ", candidate.to_string(),
                     " ignored: ", added.error().message());
}

void Connection::teardown_transport() {
  // Answers the runtime still owes for this transport are stale now.
  pending_names_.clear();
  pending_streams_.clear();
  pending_mdns_.clear();
  if (transport_) emit(TransportReleased{});
  transport_.reset();
  pooled_ = false;
  pooled_gathering_state_ = ice::IceGatheringState::kNew;
  ice_role_.reset();
  dtls_role_.reset();
  remote_parameters_applied_ = false;
  gathering_started_ = false;
  servers_in_use_.clear();
  sockets_ready_ = false;
  local_candidates_.clear();
  local_candidates_complete_ = false;
  remote_candidates_.clear();
  remote_transport_.reset();
  if (gathering_state_ != ice::IceGatheringState::kNew) {
    gathering_state_ = ice::IceGatheringState::kNew;
    emit(GatheringStateChanged{gathering_state_});
  }
}

void Connection::close(Timestamp now) {
  if (closed_) return;
  closed_ = true;
  signaling_state_ = SignalingState::kClosed;
  for (auto& [handle, record] : channels_) record.status.state = ChannelState::kClosed;
  channels_.clear();
  channels_by_id_.clear();
  if (transport_) {
    // The peer learns at once: RTCP BYE for our media (RFC 3550 6.6), SCTP ABORT, then DTLS
    // close_notify.
    if (transport_->srtp_ready()) {
      media_.close(now);
      flush_media();
    }
    if (transport_->sctp_connected()) transport_->sctp().abort("the connection was closed");
    transport_->handle_timeout(now);
    transport_->dtls().close();
    transport_->handle_timeout(now);
    transport_->ice().close();
  }
  ice_state_ = ice::IceTransportState::kClosed;
  dtls_state_ = dtls::DtlsState::kClosed;
  events_.clear();
}

// --- I/O ---

void Connection::handle_datagram(const Datagram& datagram, Timestamp now) {
  if (!transport_ || closed_) return;
  now_ = now;
  transport_->handle_datagram(datagram, now);
  buffered_dirty_ = true;
}

void Connection::handle_timeout(Timestamp now) {
  if (!transport_ || closed_) return;
  now_ = now;
  transport_->handle_timeout(now);
  if (transport_->srtp_ready()) {
    media_.handle_timeout(now);
    flush_media();
  }
  buffered_dirty_ = true;
}

std::optional<Datagram> Connection::poll_transmit() {
  if (!transport_) return std::nullopt;
  return transport_->poll_transmit();
}

std::optional<Timestamp> Connection::next_timeout() const {
  if (!transport_ || closed_) return std::nullopt;
  auto next = transport_->next_timeout();
  // The media reports run once SRTP can carry them.
  if (transport_->srtp_ready()) {
    if (auto media = media_.next_timeout(); media && (!next || *media < *next)) next = media;
  }
  return next;
}

std::optional<ConnectionEvent> Connection::poll_event() {
  if (closed_) {
    // Only what close() itself put out (nothing): the transport's goodbyes are datagrams.
    return std::nullopt;
  }
  if (events_.empty()) drain_transport();
  if (events_.empty() && buffered_dirty_) {
    buffered_dirty_ = false;
    check_buffered_amounts();
  }
  if (events_.empty()) return std::nullopt;
  ConnectionEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

void Connection::drain_transport() {
  if (!transport_) return;
  while (events_.empty()) {
    auto event = transport_->poll_event();
    if (!event) return;
    on_transport_event(std::move(*event));
  }
}

void Connection::on_transport_event(PeerTransportEvent&& event) {
  if (auto* ice_event = std::get_if<ice::IceEvent>(&event)) {
    on_ice_event(std::move(*ice_event));
  } else if (auto* d = std::get_if<DtlsStateEvent>(&event)) {
    if (d->state == dtls::DtlsState::kConnected) {
      remote_certificate_.clear();
      if (auto der = transport_->dtls().remote_certificate_der())
        remote_certificate_ = std::move(*der);
    }
    if (d->state != dtls_state_) {
      dtls_state_ = d->state;
      emit(DtlsStateChanged{d->state, d->error});
    }
  } else if (auto* s = std::get_if<SctpStateEvent>(&event)) {
    on_sctp_state(*s);
  } else if (auto* o = std::get_if<ChannelOpenEvent>(&event)) {
    on_channel_open(*o);
  } else if (auto* closed = std::get_if<ChannelClosedEvent>(&event)) {
    on_channel_closed(*closed);
  } else if (auto* m = std::get_if<ChannelMessageEvent>(&event)) {
    on_channel_message(std::move(*m));
  } else if (auto* rtp = std::get_if<RtpReceivedEvent>(&event)) {
    media_.handle_rtp(rtp->packet, now_, rtp->arrival);
    transport_->recycle(std::move(rtp->packet));
    flush_media();
  } else if (auto* rtcp = std::get_if<RtcpReceivedEvent>(&event)) {
    media_.handle_rtcp(rtcp->packet, now_);
    transport_->recycle(std::move(rtcp->packet));
    flush_media();
  }
}

void Connection::on_ice_event(ice::IceEvent&& event) {
  if (auto* c = std::get_if<ice::IceLocalCandidateEvent>(&event)) {
    local_candidates_.push_back({c->candidate, c->url, c->relay_protocol});
    if (pooled_) return;  // surfaced with the first local description
    emit(LocalCandidate{c->candidate, local_mid_, local_credentials_.ufrag, c->url,
                        c->relay_protocol});
  } else if (auto* g = std::get_if<ice::IceGatheringStateEvent>(&event)) {
    if (g->state == ice::IceGatheringState::kComplete) local_candidates_complete_ = true;
    if (pooled_) {
      pooled_gathering_state_ = g->state;
      return;
    }
    if (g->state == gathering_state_) return;
    gathering_state_ = g->state;
    emit(GatheringStateChanged{g->state, local_mid_, local_credentials_.ufrag});
  } else if (auto* s = std::get_if<ice::IceStateEvent>(&event)) {
    if (s->state == ice_state_) return;
    ice_state_ = s->state;
    emit(IceStateChanged{s->state});
  } else if (auto* p = std::get_if<ice::IceSelectedPairEvent>(&event)) {
    selected_pair_ = SelectedPairChanged{p->local, p->remote};
    emit(*selected_pair_);
  } else if (auto* r = std::get_if<ice::IceRoleEvent>(&event)) {
    ice_role_ = r->role;
  } else if (auto* err = std::get_if<ice::IceCandidateErrorEvent>(&event)) {
    // A TURN server refused or did not answer (W3C RTCPeerConnectionIceErrorEvent).
    emit(CandidateError{err->local.ip().to_string(), err->local.port(), err->url,
                        static_cast<std::uint16_t>(err->error_code), err->error_text});
  }
}

std::optional<ice::IceCredentials> Connection::remote_credentials() const {
  if (!remote_transport_) return std::nullopt;
  return ice::IceCredentials{remote_transport_->ice_ufrag, remote_transport_->ice_pwd};
}

Result<> Connection::set_configuration(ConnectionConfig config, Timestamp now) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (config.candidate_pool_size != config_.candidate_pool_size &&
      (current_local_ || pending_local_))
    return invalid_modification_error(
        "iceCandidatePoolSize cannot change after a local description");
  // Allocations already made keep the families they were asked for.
  if (config.turn_dual_stack != config_.turn_dual_stack && transport_)
    return invalid_modification_error("turn_dual_stack cannot change once gathering began");
  if ((config.sctp_interleaving != config_.sctp_interleaving ||
       config.sctp_zero_checksum != config_.sctp_zero_checksum) &&
      transport_)
    return invalid_modification_error("SCTP options cannot change once the transport exists");
  config.certificate = config_.certificate;
  config_ = std::move(config);
  // W3C 4.4.1.6: a pool that shrinks to nothing is discarded; one that appears is filled.
  if (pooled_ && config_.candidate_pool_size == 0) teardown_transport();
  fill_candidate_pool(now);
  return {};
}

}  // namespace rtcpp::pc
