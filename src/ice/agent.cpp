#include "ice/agent.hpp"

#include <algorithm>

#include "base/log.hpp"

namespace rtcpp::ice {
namespace {

using stun::StunClass;
using stun::StunMessage;
using stun::StunMessageBuilder;
namespace attr = stun::attr;

constexpr std::uint64_t kKindShift = 32;
constexpr std::uint64_t make_tag(std::uint64_t kind, std::size_t index) {
  return (kind << kKindShift) | static_cast<std::uint32_t>(index);
}

// The attributes an ICE agent understands in a request (anything else comprehension-required
// is answered with 420, RFC 8489 7.3.1).
constexpr std::uint16_t kKnownRequestAttributes[] = {
    attr::kUsername,     attr::kMessageIntegrity, attr::kMessageIntegritySha256, attr::kPriority,
    attr::kUseCandidate, attr::kXorMappedAddress, attr::kMappedAddress,
};

// `transport` is empty for UDP (so UDP foundations stay what they always were) and names the
// TCP candidate kind otherwise.
std::string foundation_for(CandidateType type, const IpAddress& base, const std::string& server,
                           std::string_view transport = {}) {
  // RFC 8445 5.1.1.3: same type, base IP, server and protocol -> same foundation.
  std::uint32_t h = 2166136261u;
  auto mix = [&h](std::uint8_t b) {
    h ^= b;
    h *= 16777619u;
  };
  mix(static_cast<std::uint8_t>(type));
  for (auto b : base.bytes()) mix(b);
  for (char c : server) mix(static_cast<std::uint8_t>(c));
  for (char c : transport) mix(static_cast<std::uint8_t>(c));
  return std::to_string(h);
}

}  // namespace

IceAgent::IceAgent(IceConfig config, IceRole role, IceCredentials local, Random& rng)
    : config_(config),
      role_(role),
      local_(std::move(local)),
      rng_(rng),
      tie_breaker_(rng.next_u64()),
      transactions_(stun::TransactionConfig{config.check_rto, config.check_transmissions, 16,
                                            Duration::infinite(), false, Duration::millis(39500)}) {
}

void IceAgent::set_role(IceRole role) {
  if (role == role_) return;
  role_ = role;
  recompute_priorities();
}

// --- Gathering ---------------------------------------------------------------------------

void IceAgent::add_host_address(const SocketAddress& address, Timestamp now) {
  if (closed_ ||
      std::find(host_addresses_.begin(), host_addresses_.end(), address) != host_addresses_.end())
    return;
  if (gathering_ == IceGatheringState::kNew) {
    gathering_ = IceGatheringState::kGathering;
    events_.push_back(IceGatheringStateEvent{gathering_});
  }
  host_addresses_.push_back(address);
  now_ = now;
  for (const auto& server : turn_servers_) start_turn(address, server, now);
  // Relay-only (or TCP-only): the socket serves the TURN clients and is never a candidate.
  if (config_.relay_only || !config_.udp_candidates) return;
  Candidate c;
  c.type = CandidateType::kHost;
  c.foundation = foundation_for(c.type, address.ip(), "");
  c.component = 1;
  c.protocol = TransportProtocol::kUdp;
  // RFC 8445 5.1.2.1: local preference decreasing with the order interfaces were added;
  // RFC 8421: IPv6 first when both exist.
  const std::uint32_t order = static_cast<std::uint32_t>(host_addresses_.size() - 1);
  const std::uint32_t local_pref =
      (address.ip().is_v6() ? 65535u : 65000u) - std::min<std::uint32_t>(order * 10, 60000u);
  c.priority = compute_priority(recommended_type_preference(c.type), local_pref, 1);
  c.address = address.ip().to_string();
  c.port = address.port();
  add_local(std::move(c), address);
  for (const auto& server : stun_servers_) query_stun_server(address, server, now);
}

void IceAgent::add_tcp_host_address(const SocketAddress& listening, Timestamp now) {
  if (closed_ || config_.relay_only || listening.port() == 0 ||
      listening.port() == kTcpActivePort ||
      std::find(tcp_listeners_.begin(), tcp_listeners_.end(), listening) != tcp_listeners_.end())
    return;
  if (gathering_ == IceGatheringState::kNew) {
    gathering_ = IceGatheringState::kGathering;
    events_.push_back(IceGatheringStateEvent{gathering_});
  }
  tcp_listeners_.push_back(listening);
  now_ = now;
  // Like UDP hosts: IPv6 first (RFC 8421), then the order the interfaces came in.
  const std::uint32_t order = static_cast<std::uint32_t>(tcp_listeners_.size() - 1);
  const std::uint32_t other_pref =
      (listening.ip().is_v6() ? 8191u : 8000u) - std::min<std::uint32_t>(order * 10, 7000u);
  for (const TcpType tcp_type : {TcpType::kActive, TcpType::kPassive}) {
    Candidate c;
    c.type = CandidateType::kHost;
    c.protocol = TransportProtocol::kTcp;
    c.tcp_type = tcp_type;
    c.foundation = foundation_for(c.type, listening.ip(), "",
                                  tcp_type == TcpType::kActive ? "tcp-active" : "tcp-passive");
    c.component = 1;
    c.priority = compute_priority(tcp_type_preference(c.type),
                                  tcp_local_preference(tcp_type, other_pref), 1);
    c.address = listening.ip().to_string();
    // RFC 6544 4.5: an active candidate has no port to offer; it is written as 9 (discard).
    const SocketAddress base =
        tcp_type == TcpType::kActive ? tcp_active_base(listening.ip()) : listening;
    c.port = base.port();
    add_local(std::move(c), base);
  }
}

void IceAgent::tcp_connection_closed(const SocketAddress& local, const SocketAddress& remote,
                                     Timestamp now) {
  if (closed_) return;
  now_ = std::max(now_, now);
  const auto index = find_pair(local, remote);
  if (!index) return;
  if (pairs_[*index].transaction) transactions_.cancel(*pairs_[*index].transaction);
  on_check_failure(*index, now);
  // The data path went with the connection: consent is lost at once (RFC 7675 5.1).
  if (selected_ == index) {
    last_consent_ = now - config_.consent_timeout;
    update_state(now);
  }
}

void IceAgent::add_stun_server(const SocketAddress& server, Timestamp now) {
  if (std::find(stun_servers_.begin(), stun_servers_.end(), server) != stun_servers_.end()) return;
  stun_servers_.push_back(server);
  for (const auto& host : host_addresses_) query_stun_server(host, server, now);
}

void IceAgent::add_turn_server(const turn::TurnServerConfig& server, Timestamp now) {
  if (closed_) return;
  for (const auto& s : turn_servers_) {
    if (s.server == server.server && s.username == server.username &&
        s.transport == server.transport)
      return;
  }
  turn_servers_.push_back(server);
  now_ = now;
  for (const auto& host : host_addresses_) start_turn(host, server, now);
}

void IceAgent::start_turn(const SocketAddress& host, const turn::TurnServerConfig& server,
                          Timestamp now) {
  if (host.family() != server.server.family() ||
      host.ip().is_loopback() != server.server.ip().is_loopback())
    return;
  if (turn_.size() >= config_.max_turn_clients) return;
  if (gathering_ == IceGatheringState::kNew) {
    gathering_ = IceGatheringState::kGathering;
    events_.push_back(IceGatheringStateEvent{gathering_});
  }
  const SocketAddress base =
      server.transport == turn::TurnTransport::kUdp ? host : turn_stream_base(host.ip());
  for (const auto& entry : turn_) {
    // Two host sockets on one IP share the stream allocation.
    if (entry.client->base() == base && entry.client->server_address() == server.server) return;
  }
  turn_.push_back({std::make_unique<turn::TurnClient>(config_.turn, server, base, rng_), true});
  ++turn_outstanding_;
  turn_.back().client->allocate(now);
}

void IceAgent::turn_stream_failed(const SocketAddress& base, const SocketAddress& server,
                                  std::string text, Timestamp now) {
  for (auto& entry : turn_) {
    if (entry.client->base() == base && entry.client->server_address() == server)
      entry.client->transport_failed(text);
  }
  process_turn_events(now);
  update_state(now);
}

void IceAgent::process_turn_events(Timestamp now) {
  for (std::size_t i = 0; i < turn_.size(); ++i) {
    TurnEntry& entry = turn_[i];
    while (auto e = entry.client->poll_event()) {
      if (auto* allocated = std::get_if<turn::TurnAllocatedEvent>(&*e)) {
        if (entry.gathering) {
          entry.gathering = false;
          --turn_outstanding_;
        }
        if (closed_) continue;
        // RFC 8445 5.1.1.2: a relayed candidate's related address is the mapped address the
        // server reported (RFC 8839 5.1), and the candidate is its own base. A dual
        // allocation gives one candidate per family.
        const SocketAddress& host = entry.client->base();
        // RFC 8445 5.1.2.1: relays reached over UDP first, then TCP, then TLS (as browsers).
        const std::uint32_t transport_pref =
            entry.client->server().transport == turn::TurnTransport::kUdp   ? 65535u
            : entry.client->server().transport == turn::TurnTransport::kTcp ? 32767u
                                                                            : 16383u;
        const std::uint32_t local_pref =
            transport_pref - std::min<std::uint32_t>(static_cast<std::uint32_t>(i) * 10, 16000u);
        for (const SocketAddress* relayed :
             {&allocated->relayed,
              allocated->additional_relayed ? &*allocated->additional_relayed : nullptr}) {
          if (relayed == nullptr) continue;
          const bool additional = relayed != &allocated->relayed;
          Candidate c;
          c.type = CandidateType::kRelayed;
          // RFC 8445 5.1.1.3: the two relays of one allocation have different bases (each
          // relay is its own), so different foundations.
          c.foundation = foundation_for(
              c.type, host.ip(),
              entry.client->server_address().to_string() + (additional ? "+additional" : ""));
          c.priority = compute_priority(recommended_type_preference(c.type),
                                        local_pref - (additional ? 5 : 0), 1);
          c.address = relayed->ip().to_string();
          c.port = relayed->port();
          c.related_address = allocated->mapped.ip().to_string();
          c.related_port = allocated->mapped.port();
          add_local(std::move(c), *relayed, i);
        }
        maybe_complete_gathering();
      } else if (auto* error = std::get_if<turn::TurnErrorEvent>(&*e)) {
        if (error->allocation_lost && entry.gathering) {
          entry.gathering = false;
          --turn_outstanding_;
          maybe_complete_gathering();
        }
        if (!closed_)
          events_.push_back(IceCandidateErrorEvent{entry.client->server().url, entry.client->base(),
                                                   error->code, error->text});
      }
    }
  }
  (void)now;
}

void IceAgent::emit(Datagram d) {
  for (auto& entry : turn_) {
    if (entry.client->is_relayed_address(d.source)) {
      static const Logger log("ice");
      if (!entry.client->send_to(d.destination, d.payload, now_))
        log.debug("not relayed to ", d.destination.to_string(), ": the TURN allocation is gone");
      return;
    }
  }
  outgoing_.push_back(std::move(d));
}

void IceAgent::query_stun_server(const SocketAddress& host, const SocketAddress& server,
                                 Timestamp now) {
  if (config_.relay_only || !config_.udp_candidates) return;
  // Loopback sockets cannot reach a server elsewhere, and families must match.
  if (host.family() != server.family() || host.ip().is_loopback() != server.ip().is_loopback())
    return;
  const auto id = stun::random_transaction_id(rng_);
  StunMessageBuilder b(StunClass::kRequest, stun::method::kBinding, id);
  b.add_fingerprint();
  stun_servers_pending_.emplace_back(host, server);
  transactions_.start(id, b.finish(), host, server, now,
                      make_tag(static_cast<std::uint64_t>(TransactionKind::kStunServer),
                               stun_servers_pending_.size() - 1));
  ++stun_servers_outstanding_;
}

void IceAgent::finish_gathering(Timestamp /*now*/) {
  host_gathering_done_ = true;
  if (gathering_ == IceGatheringState::kNew) {
    gathering_ = IceGatheringState::kGathering;
    events_.push_back(IceGatheringStateEvent{gathering_});
  }
  maybe_complete_gathering();
}

void IceAgent::maybe_complete_gathering() {
  if (gathering_ != IceGatheringState::kGathering || !host_gathering_done_ ||
      stun_servers_outstanding_ > 0 || turn_outstanding_ > 0)
    return;
  gathering_ = IceGatheringState::kComplete;
  events_.push_back(IceGatheringStateEvent{gathering_});
}

void IceAgent::add_local(Candidate candidate, const SocketAddress& base,
                         std::optional<std::size_t> turn) {
  candidate.ufrag = local_.ufrag;
  candidate.generation = 0;
  locals_.push_back({candidate, base, turn});
  events_.push_back(IceLocalCandidateEvent{candidate});
  form_pairs_for_local(locals_.size() - 1);
}

// --- Remote side -------------------------------------------------------------------------

Result<> IceAgent::set_remote_credentials(std::string ufrag, std::string pwd, Timestamp now) {
  if (ufrag.empty() || pwd.empty()) return invalid_access_error("ICE ufrag and pwd are required");
  // RFC 8839 5.4: 4-256 and 22-256 ice-chars.
  if (ufrag.size() < 4 || ufrag.size() > 256 || pwd.size() < 22 || pwd.size() > 256)
    return invalid_access_error("ICE ufrag/pwd length out of range");
  if (remote_ && (remote_->ufrag != ufrag || remote_->pwd != pwd)) {
    // RFC 8445 9: the peer restarted.
    begin_restart(now);
    restart_->remote_changed = true;
  } else if (restart_ && !remote_) {
    // The answer to our restart (a peer that kept its credentials still counts as answered).
    restart_->remote_changed = true;
  }
  remote_ = IceCredentials{std::move(ufrag), std::move(pwd)};
  handle_timeout(now);
  return {};
}

// --- ICE restart -------------------------------------------------------------------------

void IceAgent::begin_restart(Timestamp now) {
  if (restart_) return;
  restart_ = Restart{};
  // A failed pair is not worth keeping; a working one carries data until its successor is
  // selected (RFC 8445 9).
  if (selected_ && remote_ && state_ != IceTransportState::kFailed) {
    const Pair& p = pairs_[*selected_];
    previous_ = PreviousPath{p.local, remotes_[p.remote], local_, *remote_};
  }
  for (const auto& p : pairs_) {
    if (p.transaction) transactions_.cancel(*p.transaction);
  }
  pairs_.clear();
  remotes_.clear();
  triggered_.clear();
  selected_.reset();
  first_check_at_.reset();
  first_valid_at_.reset();
  remote_end_of_candidates_ = false;
  next_check_at_ = now;
  if (!previous_ && state_ != IceTransportState::kNew) set_state(IceTransportState::kChecking);
}

void IceAgent::restart_local(IceCredentials local, Timestamp now) {
  if (closed_) return;
  now_ = std::max(now_, now);
  begin_restart(now);
  restart_->local_changed = true;
  local_ = std::move(local);
  // Our offer restarts; the peer's old credentials end with it (its answer brings new ones).
  if (!restart_->remote_changed) remote_.reset();
  // A new gathering round: the same candidates under the new ufrag (W3C 4.4.1.6: gathering
  // state goes back to gathering and ends with a new end-of-candidates).
  gathering_ = IceGatheringState::kGathering;
  events_.push_back(IceGatheringStateEvent{gathering_});
  for (auto& l : locals_) {
    l.candidate.ufrag = local_.ufrag;
    events_.push_back(IceLocalCandidateEvent{l.candidate});
  }
  maybe_complete_gathering();
  handle_timeout(now);
}

Result<> IceAgent::add_remote_candidate(const Candidate& candidate, Timestamp now) {
  if (closed_) return invalid_state_error("ICE agent closed");
  if (candidate.component != 1) return {};  // RTCP-mux and BUNDLE: one component only
  // RFC 6544: of the TCP candidates only passive ones can be connected to. An active peer
  // shows itself by connecting to our passive candidate (peer-reflexive, RFC 6544 7.2).
  if (candidate.protocol == TransportProtocol::kTcp && candidate.tcp_type != TcpType::kPassive)
    return {};
  // A candidate from before the peer's restart belongs to pairs that are gone.
  if (!candidate.ufrag.empty() && remote_ && candidate.ufrag != remote_->ufrag) return {};
  auto address = candidate.socket_address();
  if (!address) return {};  // mDNS names need resolving by the runtime first
  if (remotes_.size() >= config_.max_remote_candidates)
    return operation_error("too many remote ICE candidates");
  for (auto& r : remotes_) {
    if (r.address != *address || r.candidate.protocol != candidate.protocol) continue;
    // Known from the peer's checks first (peer-reflexive): the signaled candidate is what it
    // really is (RFC 8445 7.3.1.3 learns it; the description has the truth). Else a duplicate.
    if (r.candidate.type == CandidateType::kPeerReflexive &&
        candidate.type != CandidateType::kPeerReflexive) {
      r.candidate.type = candidate.type;
      r.candidate.foundation = candidate.foundation;
      r.candidate.priority = candidate.priority;
      r.candidate.address = candidate.address;
      r.candidate.related_address = candidate.related_address;
      r.candidate.related_port = candidate.related_port;
      recompute_priorities();
    }
    return {};
  }
  add_remote(candidate, *address);
  handle_timeout(now);
  return {};
}

void IceAgent::end_of_remote_candidates(Timestamp now) {
  remote_end_of_candidates_ = true;
  update_state(now);
}

std::size_t IceAgent::add_remote(Candidate candidate, const SocketAddress& address) {
  remotes_.push_back({std::move(candidate), address});
  form_pairs_for_remote(remotes_.size() - 1);
  return remotes_.size() - 1;
}

std::optional<std::size_t> IceAgent::find_remote(const SocketAddress& address,
                                                 TransportProtocol protocol) const {
  for (std::size_t i = 0; i < remotes_.size(); ++i) {
    if (remotes_[i].address == address && remotes_[i].candidate.protocol == protocol) return i;
  }
  return std::nullopt;
}

bool IceAgent::can_pair(const Candidate& local, const Candidate& remote) const {
  if (local.protocol != remote.protocol) return false;
  if (local.protocol == TransportProtocol::kUdp) return true;
  // RFC 6544 6.2: active with passive. A local passive candidate pairs only with the
  // peer-reflexive candidates its accepted connections revealed: a signaled active candidate
  // has no address to check, and its connection arrives from a port it did not signal.
  if (local.tcp_type == TcpType::kActive) return remote.tcp_type == TcpType::kPassive;
  return local.tcp_type == TcpType::kPassive && remote.tcp_type == TcpType::kActive &&
         remote.type == CandidateType::kPeerReflexive;
}

void IceAgent::form_pairs_for_local(std::size_t local) {
  // Server-reflexive candidates are not paired: their base (the host) already is (RFC 8445
  // 6.1.2.4 prunes them). Relayed candidates are their own base and are paired.
  if (locals_[local].candidate.type == CandidateType::kServerReflexive) return;
  for (std::size_t r = 0; r < remotes_.size(); ++r) add_pair(local, r);
}

void IceAgent::form_pairs_for_remote(std::size_t remote) {
  for (std::size_t l = 0; l < locals_.size(); ++l) {
    if (locals_[l].candidate.type != CandidateType::kServerReflexive) add_pair(l, remote);
  }
}

void IceAgent::add_pair(std::size_t local, std::size_t remote) {
  if (pairs_.size() >= config_.max_pairs) return;
  if (locals_[local].base.family() != remotes_[remote].address.family()) return;
  if (!can_pair(locals_[local].candidate, remotes_[remote].candidate)) return;
  // Loopback talks only to loopback.
  if (locals_[local].base.ip().is_loopback() != remotes_[remote].address.ip().is_loopback()) return;
  if (find_pair(locals_[local].base, remotes_[remote].address)) return;
  Pair p;
  p.local = local;
  p.remote = remote;
  p.priority = pair_priority(p);
  // RFC 8445 6.1.2.6: one pair per foundation starts Waiting, the rest Frozen.
  const std::string foundation =
      locals_[local].candidate.foundation + ":" + remotes_[remote].candidate.foundation;
  const bool foundation_active = std::any_of(pairs_.begin(), pairs_.end(), [&](const Pair& q) {
    return q.state != PairState::kFrozen &&
           locals_[q.local].candidate.foundation + ":" + remotes_[q.remote].candidate.foundation ==
               foundation;
  });
  p.state = foundation_active ? PairState::kFrozen : PairState::kWaiting;
  pairs_.push_back(p);
}

std::uint64_t IceAgent::pair_priority(const Pair& p) const {
  // RFC 8445 6.1.2.3: G is the controlling agent's candidate priority, D the controlled's.
  const std::uint64_t local = locals_[p.local].candidate.priority;
  const std::uint64_t remote = remotes_[p.remote].candidate.priority;
  const std::uint64_t g = role_ == IceRole::kControlling ? local : remote;
  const std::uint64_t d = role_ == IceRole::kControlling ? remote : local;
  return (std::min(g, d) << 32) + 2 * std::max(g, d) + (g > d ? 1 : 0);
}

void IceAgent::recompute_priorities() {
  for (auto& p : pairs_) p.priority = pair_priority(p);
}

std::optional<std::size_t> IceAgent::find_pair(const SocketAddress& local,
                                               const SocketAddress& remote) const {
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    if (locals_[pairs_[i].local].base == local && remotes_[pairs_[i].remote].address == remote)
      return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> IceAgent::find_local_by_base(const SocketAddress& base) const {
  for (std::size_t i = 0; i < locals_.size(); ++i) {
    if (locals_[i].candidate.type != CandidateType::kServerReflexive && locals_[i].base == base)
      return i;
  }
  return std::nullopt;
}

// --- Packets -----------------------------------------------------------------------------

void IceAgent::handle_packet(const Datagram& d, Timestamp now) {
  if (from_turn_server(d)) {
    (void)handle_turn_packet(d, now);
    return;
  }
  if (closed_) return;
  handle_stun(d, now);
}

bool IceAgent::from_turn_server(const Datagram& d) const {
  return std::any_of(turn_.begin(), turn_.end(), [&](const TurnEntry& e) {
    return e.client->base() == d.destination && e.client->server_address() == d.source;
  });
}

std::optional<Datagram> IceAgent::handle_turn_packet(const Datagram& d, Timestamp now) {
  now_ = now;
  for (auto& entry : turn_) {
    turn::TurnClient& client = *entry.client;
    if (client.base() != d.destination || client.server_address() != d.source) continue;
    auto input = client.handle_packet(d.payload, now);
    process_turn_events(now);
    if (std::holds_alternative<turn::NotTurn>(input)) {
      // Not TURN: e.g. the server's answer to a STUN Binding of ours.
      if (!closed_) handle_stun(d, now);
      return std::nullopt;
    }
    if (auto* data = std::get_if<turn::PeerData>(&input); data && !closed_) {
      Datagram inner{data->peer, *client.relayed_address_for(data->peer), Buffer(data->data)};
      if (stun::is_stun_message(inner.payload)) {
        handle_stun(inner, now);
        return std::nullopt;
      }
      return inner;
    }
    handle_timeout(now);
    return std::nullopt;
  }
  return std::nullopt;
}

void IceAgent::handle_stun(const Datagram& d, Timestamp now) {
  now_ = now;
  auto msg = StunMessage::parse(d.payload);
  if (!msg) return;
  switch (msg->message_class()) {
    case StunClass::kRequest:
      if (msg->method() == stun::method::kBinding) handle_request(*msg, d, now);
      break;
    case StunClass::kSuccessResponse:
    case StunClass::kErrorResponse:
      handle_response(*msg, d, now);
      break;
    case StunClass::kIndication:
      break;  // keepalive indications need no answer
  }
  handle_timeout(now);
}

void IceAgent::send_response(const StunMessage& request, const Datagram& d, int error_code,
                             std::string_view reason, const std::string& pwd) {
  auto b = StunMessageBuilder::response_to(
      request, error_code == 0 ? StunClass::kSuccessResponse : StunClass::kErrorResponse);
  if (error_code == 0) {
    b.add_xor_address(attr::kXorMappedAddress, d.source);
  } else {
    b.add_error_code(error_code, reason);
  }
  // Integrity on the responses that passed authentication (RFC 8489 9.1.4); never on 400/401.
  if (error_code == 0 || error_code == 487) b.add_message_integrity(as_bytes(pwd));
  b.add_fingerprint();
  emit({d.destination, d.source, b.finish()});
}

void IceAgent::handle_request(const StunMessage& msg, const Datagram& d, Timestamp now) {
  // RFC 8445 7.3: ICE requests carry FINGERPRINT; without a valid one the packet is not ours.
  if (!msg.fingerprint_valid()) return;
  const auto local_index = find_local_by_base(d.destination);
  if (!local_index) return;
  const auto username = msg.username();
  const std::string expected_prefix = local_.ufrag + ":";
  if (previous_ && username && !username->starts_with(expected_prefix) &&
      username->starts_with(previous_->local_credentials.ufrag + ":")) {
    // The peer's consent checks on the pair from before the restart, still in use.
    const std::string& pwd = previous_->local_credentials.pwd;
    if (msg.check_integrity(as_bytes(pwd)) != stun::IntegrityCheck::kValid) {
      send_response(msg, d, 401, "Unauthenticated", pwd);
      return;
    }
    send_response(msg, d, 0, "", pwd);
    return;
  }
  if (!username || !username->starts_with(expected_prefix)) {
    send_response(msg, d, 401, "Unauthenticated", local_.pwd);
    return;
  }
  if (msg.check_integrity(as_bytes(local_.pwd)) != stun::IntegrityCheck::kValid) {
    send_response(msg, d, 401, "Unauthenticated", local_.pwd);
    return;
  }
  if (restart_ && !restart_->local_changed) {
    // The peer restarted but our new credentials are not out yet: a request under the current
    // ones is old-session traffic (consent), answered but not paired.
    send_response(msg, d, 0, "", local_.pwd);
    return;
  }
  if (auto unknown = msg.unknown_comprehension_required(kKnownRequestAttributes);
      !unknown.empty()) {
    auto b = StunMessageBuilder::response_to(msg, StunClass::kErrorResponse);
    b.add_error_code(420, "Unknown Attribute").add_unknown_attributes(unknown);
    b.add_message_integrity(as_bytes(local_.pwd)).add_fingerprint();
    emit({d.destination, d.source, b.finish()});
    return;
  }
  // RFC 8445 7.3.1.1: role conflicts, settled by the tie-breakers.
  if (role_ == IceRole::kControlling) {
    if (auto theirs = msg.ice_controlling()) {
      if (tie_breaker_ >= *theirs) {
        send_response(msg, d, 487, "Role Conflict", local_.pwd);
        return;
      }
      role_ = IceRole::kControlled;
      recompute_priorities();
      events_.push_back(IceRoleEvent{role_});
    }
  } else if (auto theirs = msg.ice_controlled()) {
    if (tie_breaker_ >= *theirs) {
      role_ = IceRole::kControlling;
      recompute_priorities();
      events_.push_back(IceRoleEvent{role_});
    } else {
      send_response(msg, d, 487, "Role Conflict", local_.pwd);
      return;
    }
  }
  send_response(msg, d, 0, "", local_.pwd);

  // RFC 8445 7.3.1.3: a source we do not know is a peer-reflexive remote candidate. Over
  // TCP it is the other kind of TCP candidate than ours (RFC 6544 7.2: the peer that
  // connected to our passive candidate is active).
  const Candidate& local_candidate = locals_[*local_index].candidate;
  std::optional<std::size_t> remote_index = find_remote(d.source, local_candidate.protocol);
  if (!remote_index) {
    if (remotes_.size() >= config_.max_remote_candidates) return;
    Candidate c;
    c.type = CandidateType::kPeerReflexive;
    c.protocol = local_candidate.protocol;
    if (c.protocol == TransportProtocol::kTcp)
      c.tcp_type =
          local_candidate.tcp_type == TcpType::kPassive ? TcpType::kActive : TcpType::kPassive;
    c.foundation = std::to_string(rng_.next_u32());
    c.priority = msg.priority().value_or(1);
    c.address = d.source.ip().to_string();
    c.port = d.source.port();
    remote_index = add_remote(std::move(c), d.source);
  }
  auto pair_index = find_pair(d.destination, d.source);
  if (!pair_index) return;
  Pair& pair = pairs_[*pair_index];
  // RFC 8445 7.3.1.4: a triggered check, unless the pair already succeeded.
  if (pair.state == PairState::kFrozen || pair.state == PairState::kWaiting ||
      pair.state == PairState::kFailed) {
    pair.state = PairState::kWaiting;
    if (std::find(triggered_.begin(), triggered_.end(), *pair_index) == triggered_.end())
      triggered_.push_back(*pair_index);
  }
  // RFC 8445 7.3.1.5: USE-CANDIDATE from the controlling agent nominates the pair.
  if (role_ == IceRole::kControlled && msg.use_candidate()) {
    pair.remote_nominated = true;
    if (pair.valid) {
      pair.nominated = true;
      select(*pair_index, now);
    }
  }
  if (state_ == IceTransportState::kNew) set_state(IceTransportState::kChecking);
}

void IceAgent::handle_response(const StunMessage& msg, const Datagram& d, Timestamp now) {
  const auto tag = transactions_.match_response(msg);
  if (!tag) return;
  const auto kind = static_cast<TransactionKind>(*tag >> kKindShift);
  const auto index = static_cast<std::size_t>(*tag & 0xFFFFFFFFu);
  if (kind == TransactionKind::kStunServer) {
    --stun_servers_outstanding_;
    if (index < stun_servers_pending_.size() &&
        msg.message_class() == StunClass::kSuccessResponse) {
      const SocketAddress base = stun_servers_pending_[index].first;
      auto mapped = msg.xor_mapped_address();
      if (mapped && *mapped != base) {
        Candidate c;
        c.type = CandidateType::kServerReflexive;
        c.foundation =
            foundation_for(c.type, base.ip(), stun_servers_pending_[index].second.to_string());
        c.priority = compute_priority(recommended_type_preference(c.type), 65535, 1);
        c.address = mapped->ip().to_string();
        c.port = mapped->port();
        c.related_address = base.ip().to_string();
        c.related_port = base.port();
        const bool duplicate =
            std::any_of(locals_.begin(), locals_.end(), [&](const LocalCandidate& l) {
              return l.candidate.type == CandidateType::kServerReflexive &&
                     l.candidate.address == c.address && l.candidate.port == c.port;
            });
        if (!duplicate) add_local(std::move(c), base);
      }
    }
    maybe_complete_gathering();
    return;
  }
  if (kind == TransactionKind::kPreviousConsent) {
    if (previous_ && msg.message_class() == StunClass::kSuccessResponse &&
        msg.check_integrity(as_bytes(previous_->remote_credentials.pwd)) ==
            stun::IntegrityCheck::kValid)
      last_consent_ = now;
    return;
  }
  if (!remote_ || index >= pairs_.size()) return;
  // Responses to checks must be authenticated with the peer's password.
  if (msg.check_integrity(as_bytes(remote_->pwd)) != stun::IntegrityCheck::kValid) return;
  Pair& pair = pairs_[index];
  if (kind == TransactionKind::kConsent) {
    if (msg.message_class() == StunClass::kSuccessResponse) last_consent_ = now;
    return;
  }
  pair.transaction.reset();
  if (msg.message_class() == StunClass::kErrorResponse) {
    auto error = msg.error_code();
    if (error && error->code == 487) {
      // RFC 8445 7.2.5.1: switch roles and try the pair again.
      role_ = role_ == IceRole::kControlling ? IceRole::kControlled : IceRole::kControlling;
      recompute_priorities();
      events_.push_back(IceRoleEvent{role_});
      pair.state = PairState::kWaiting;
      triggered_.push_back(index);
      return;
    }
    on_check_failure(index, now);
    return;
  }
  // RFC 8445 7.2.5.2.1: the response must come from where the request went.
  if (d.source != remotes_[pair.remote].address || d.destination != locals_[pair.local].base) {
    on_check_failure(index, now);
    return;
  }
  on_check_success(index, msg, d, now);
}

void IceAgent::on_check_success(std::size_t index, const StunMessage& /*msg*/,
                                const Datagram& /*d*/, Timestamp now) {
  Pair& pair = pairs_[index];
  pair.state = PairState::kSucceeded;
  pair.valid = true;
  last_consent_ = now;
  if (!first_valid_at_) first_valid_at_ = now;
  // RFC 8445 7.2.5.3.3: unfreeze pairs that share the foundation.
  const std::string foundation =
      locals_[pair.local].candidate.foundation + ":" + remotes_[pair.remote].candidate.foundation;
  for (auto& q : pairs_) {
    if (q.state == PairState::kFrozen &&
        locals_[q.local].candidate.foundation + ":" + remotes_[q.remote].candidate.foundation ==
            foundation)
      q.state = PairState::kWaiting;
  }
  if (role_ == IceRole::kControlling && pair.use_candidate_sent) {
    pair.nominated = true;
    select(index, now);
  } else if (role_ == IceRole::kControlled && pair.remote_nominated) {
    pair.nominated = true;
    select(index, now);
  }
}

void IceAgent::on_check_failure(std::size_t index, Timestamp now) {
  Pair& pair = pairs_[index];
  pair.state = PairState::kFailed;
  pair.transaction.reset();
  if (pair.use_candidate_sent && !pair.nominated) pair.use_candidate_sent = false;
  update_state(now);
}

Buffer IceAgent::build_check(const LocalCandidate& local, const IceCredentials& local_credentials,
                             const IceCredentials& remote_credentials, bool use_candidate,
                             const stun::TransactionId& id) const {
  StunMessageBuilder b(StunClass::kRequest, stun::method::kBinding, id);
  b.add_string(attr::kUsername, remote_credentials.ufrag + ":" + local_credentials.ufrag);
  // RFC 8445 7.1.1: PRIORITY is what a peer-reflexive candidate from this base would have.
  const std::uint32_t local_pref = (local.candidate.priority >> 8) & 0xFFFF;
  const std::uint32_t type_pref = local.candidate.protocol == TransportProtocol::kTcp
                                      ? tcp_type_preference(CandidateType::kPeerReflexive)
                                      : recommended_type_preference(CandidateType::kPeerReflexive);
  b.add_u32(attr::kPriority, compute_priority(type_pref, local_pref, 1));
  if (role_ == IceRole::kControlling) {
    b.add_u64(attr::kIceControlling, tie_breaker_);
  } else {
    b.add_u64(attr::kIceControlled, tie_breaker_);
  }
  if (use_candidate) b.add_flag(attr::kUseCandidate);
  b.add_message_integrity(as_bytes(remote_credentials.pwd));
  b.add_fingerprint();
  return b.finish();
}

void IceAgent::send_check(std::size_t index, bool use_candidate, Timestamp now) {
  Pair& pair = pairs_[index];
  if (pair.transaction) transactions_.cancel(*pair.transaction);
  const auto id = stun::random_transaction_id(rng_);
  transactions_.start(id, build_check(locals_[pair.local], local_, *remote_, use_candidate, id),
                      locals_[pair.local].base, remotes_[pair.remote].address, now,
                      make_tag(static_cast<std::uint64_t>(TransactionKind::kCheck), index));
  pair.transaction = id;
  if (pair.state != PairState::kSucceeded) pair.state = PairState::kInProgress;
  if (use_candidate) pair.use_candidate_sent = true;
  if (!first_check_at_) first_check_at_ = now;
  ++checks_sent_;
  if (state_ == IceTransportState::kNew) set_state(IceTransportState::kChecking);
}

void IceAgent::send_consent_check(Timestamp now) {
  // RFC 7675 5.1: a consent check is an ordinary connectivity check on the selected pair.
  const auto id = stun::random_transaction_id(rng_);
  if (selected_ && remote_) {
    const Pair& pair = pairs_[*selected_];
    transactions_.start(
        id, build_check(locals_[pair.local], local_, *remote_, false, id), locals_[pair.local].base,
        remotes_[pair.remote].address, now,
        make_tag(static_cast<std::uint64_t>(TransactionKind::kConsent), *selected_));
  } else if (previous_) {
    const LocalCandidate& local = locals_[previous_->local];
    transactions_.start(
        id,
        build_check(local, previous_->local_credentials, previous_->remote_credentials, false, id),
        local.base, previous_->remote.address, now,
        make_tag(static_cast<std::uint64_t>(TransactionKind::kPreviousConsent), 0));
  }
}

void IceAgent::maybe_nominate(Timestamp now) {
  if (role_ != IceRole::kControlling || selected_ || !first_valid_at_) return;
  if (std::any_of(pairs_.begin(), pairs_.end(), [](const Pair& p) { return p.use_candidate_sent; }))
    return;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    if (pairs_[i].valid && (!best || pairs_[i].priority > pairs_[*best].priority)) best = i;
  }
  if (!best) return;
  // Nominate once no pair that could beat the best valid one is still to be checked (the
  // usual case: checks go in priority order), or after the settling delay. Waiting for
  // lower-priority pairs only costs Ta per pair and cannot change the choice.
  const std::uint64_t best_priority = pairs_[*best].priority;
  const bool better_pending = std::any_of(pairs_.begin(), pairs_.end(), [&](const Pair& p) {
    return p.priority > best_priority &&
           (p.state == PairState::kWaiting || p.state == PairState::kInProgress ||
            p.state == PairState::kFrozen);
  });
  if (better_pending && now < *first_valid_at_ + config_.nomination_delay) return;
  if (best) send_check(*best, /*use_candidate=*/true, now);
}

void IceAgent::select(std::size_t index, Timestamp now) {
  if (selected_ && pairs_[*selected_].priority >= pairs_[index].priority) {
    update_state(now);
    return;
  }
  selected_ = index;
  restart_.reset();
  previous_.reset();
  const Pair& p = pairs_[index];
  events_.push_back(IceSelectedPairEvent{locals_[p.local].candidate, remotes_[p.remote].candidate,
                                         locals_[p.local].base, remotes_[p.remote].address});
  last_consent_ = now;
  const double jitter = 0.8 + 0.4 * rng_.uniform_double();
  next_consent_at_ = now + Duration::seconds_f(config_.consent_interval.seconds_f() * jitter);
  update_state(now);
}

std::optional<Datagram> IceAgent::wrap_for_selected_pair(Buffer payload, Timestamp now) {
  if (closed_ || (!selected_ && !previous_)) return std::nullopt;
  const LocalCandidate& local = locals_[selected_ ? pairs_[*selected_].local : previous_->local];
  const SocketAddress& remote =
      selected_ ? remotes_[pairs_[*selected_].remote].address : previous_->remote.address;
  if (!local.turn) return Datagram{local.base, remote, std::move(payload)};
  now_ = now;
  return turn_[*local.turn].client->wrap(remote, payload, now);
}

std::optional<IceAgent::SelectedPair> IceAgent::selected_pair() const {
  if (!selected_ && previous_)
    return SelectedPair{locals_[previous_->local].base, previous_->remote.address};
  if (!selected_) return std::nullopt;
  const Pair& p = pairs_[*selected_];
  return SelectedPair{locals_[p.local].base, remotes_[p.remote].address};
}

// --- Time --------------------------------------------------------------------------------

void IceAgent::handle_timeout(Timestamp now) {
  now_ = std::max(now_, now);
  for (auto& entry : turn_) entry.client->handle_timeout(now);
  process_turn_events(now);
  if (closed_) return;
  transactions_.handle_timeout(now);
  while (auto timeout = transactions_.poll_timeout()) {
    const auto kind = static_cast<TransactionKind>(timeout->tag >> kKindShift);
    const auto index = static_cast<std::size_t>(timeout->tag & 0xFFFFFFFFu);
    if (kind == TransactionKind::kStunServer) {
      --stun_servers_outstanding_;
      maybe_complete_gathering();
    } else if (kind == TransactionKind::kCheck && index < pairs_.size()) {
      on_check_failure(index, now);
    }
  }
  // One check every Ta: triggered checks first, then the best Waiting pair, then unfreeze.
  if (checks_allowed() && now >= next_check_at_) {
    std::optional<std::size_t> next;
    while (!triggered_.empty() && !next) {
      const std::size_t i = triggered_.front();
      triggered_.pop_front();
      if (pairs_[i].state != PairState::kSucceeded || pairs_[i].use_candidate_sent) next = i;
    }
    if (!next) {
      for (std::size_t i = 0; i < pairs_.size(); ++i) {
        if (pairs_[i].state == PairState::kWaiting &&
            (!next || pairs_[i].priority > pairs_[*next].priority))
          next = i;
      }
    }
    if (!next) {
      for (std::size_t i = 0; i < pairs_.size(); ++i) {
        if (pairs_[i].state == PairState::kFrozen &&
            (!next || pairs_[i].priority > pairs_[*next].priority))
          next = i;
      }
    }
    if (next) {
      send_check(*next, false, now);
      next_check_at_ = now + config_.ta;
    }
  }
  maybe_nominate(now);
  if ((selected_ || previous_) && now >= next_consent_at_) {
    send_consent_check(now);
    const double jitter = 0.8 + 0.4 * rng_.uniform_double();
    next_consent_at_ = now + Duration::seconds_f(config_.consent_interval.seconds_f() * jitter);
  }
  while (auto d = transactions_.poll_transmit()) emit(std::move(*d));
  update_state(now);
}

void IceAgent::update_state(Timestamp now) {
  if (closed_ || state_ == IceTransportState::kFailed) return;
  if (selected_ || previous_) {
    // RFC 7675 5.1: consent expires 30 s after the last response.
    if (now - last_consent_ >= config_.consent_timeout) {
      set_state(IceTransportState::kFailed);
      return;
    }
    if (now - last_consent_ >= config_.disconnected_after) {
      set_state(IceTransportState::kDisconnected);
      return;
    }
    const bool done = selected_ && remote_end_of_candidates_ &&
                      gathering_ == IceGatheringState::kComplete &&
                      std::none_of(pairs_.begin(), pairs_.end(), [](const Pair& p) {
                        return p.state == PairState::kWaiting ||
                               p.state == PairState::kInProgress || p.state == PairState::kFrozen;
                      });
    set_state(done ? IceTransportState::kCompleted : IceTransportState::kConnected);
    return;
  }
  if (state_ != IceTransportState::kChecking) return;
  const bool all_failed =
      !pairs_.empty() && std::all_of(pairs_.begin(), pairs_.end(),
                                     [](const Pair& p) { return p.state == PairState::kFailed; });
  if ((all_failed && remote_end_of_candidates_ && gathering_ == IceGatheringState::kComplete) ||
      (first_check_at_ && !first_valid_at_ && now - *first_check_at_ >= config_.checking_timeout)) {
    set_state(IceTransportState::kFailed);
  }
}

void IceAgent::set_state(IceTransportState state) {
  if (state_ == state) return;
  state_ = state;
  events_.push_back(IceStateEvent{state});
}

std::optional<Timestamp> IceAgent::next_timeout() const {
  std::optional<Timestamp> t;
  auto consider = [&t](Timestamp x) {
    if (!t || x < *t) t = x;
  };
  for (const auto& entry : turn_) {
    if (auto x = entry.client->next_timeout()) consider(*x);
  }
  if (closed_ || state_ == IceTransportState::kFailed) return t;
  if (auto x = transactions_.next_timeout()) consider(*x);
  const bool checks_left =
      !triggered_.empty() || std::any_of(pairs_.begin(), pairs_.end(), [](const Pair& p) {
        return p.state == PairState::kWaiting || p.state == PairState::kFrozen;
      });
  if (checks_allowed() && checks_left) consider(next_check_at_);
  const bool nominating =
      std::any_of(pairs_.begin(), pairs_.end(), [](const Pair& p) { return p.use_candidate_sent; });
  if (role_ == IceRole::kControlling && !selected_ && first_valid_at_ && !nominating)
    consider(*first_valid_at_ + config_.nomination_delay);
  if (selected_ || previous_) {
    consider(next_consent_at_);
    if (state_ != IceTransportState::kDisconnected)
      consider(last_consent_ + config_.disconnected_after);
    consider(last_consent_ + config_.consent_timeout);
  } else if (first_check_at_ && !first_valid_at_) {
    consider(*first_check_at_ + config_.checking_timeout);
  }
  return t;
}

std::optional<Datagram> IceAgent::poll_transmit() {
  for (auto& entry : turn_) {
    while (auto d = entry.client->poll_transmit()) outgoing_.push_back(std::move(*d));
  }
  if (outgoing_.empty()) return std::nullopt;
  Datagram d = std::move(outgoing_.front());
  outgoing_.pop_front();
  return d;
}

std::optional<IceEvent> IceAgent::poll_event() {
  if (events_.empty()) return std::nullopt;
  IceEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void IceAgent::close() {
  if (closed_) return;
  set_state(IceTransportState::kClosed);
  closed_ = true;
  outgoing_.clear();
  // RFC 8656 7.3: release the allocations (a Refresh with LIFETIME 0).
  for (auto& entry : turn_) entry.client->close(now_);
}

}  // namespace rtcpp::ice
