#include "ice/gatherer.hpp"

#include <algorithm>

#include "base/log.hpp"

namespace rtcpp::ice {
namespace {

// RFC 8445 5.1.1.3: candidates of the same type, base IP, server and transport protocol share
// a foundation. `transport` is empty for UDP (so UDP foundations stay what they always were)
// and names the TCP candidate kind otherwise.
std::string foundation_for(CandidateType type, const IpAddress& base, const std::string& server,
                           std::string_view transport = {}) {
  std::uint32_t h = 2166136261u;  // FNV-1a
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

// RFC 8445 5.1.2.1 leaves the local preference to us. Relays reached over UDP first, then
// TCP, then TLS (as browsers do).
std::uint32_t relay_transport_preference(turn::TurnTransport transport) {
  switch (transport) {
    case turn::TurnTransport::kUdp:
      return 65535u;
    case turn::TurnTransport::kTcp:
      return 32767u;
    case turn::TurnTransport::kTls:
      return 16383u;
  }
  return 16383u;
}

}  // namespace

Gatherer::Gatherer(const IceConfig& config, std::string ufrag, Random& rng)
    : relay_only_(config.relay_only),
      next_relay_only_(config.relay_only),
      udp_candidates_(config.udp_candidates),
      turn_config_(config.turn),
      max_turn_clients_(config.max_turn_clients),
      ufrag_(std::move(ufrag)),
      rng_(rng) {}

std::optional<std::size_t> Gatherer::find_by_base(const SocketAddress& base) const {
  for (std::size_t i = 0; i < candidates_.size(); ++i) {
    if (candidates_[i].candidate.type != CandidateType::kServerReflexive &&
        candidates_[i].base == base)
      return i;
  }
  return std::nullopt;
}

void Gatherer::begin_gathering(std::deque<IceEvent>& events) {
  if (state_ != IceGatheringState::kNew) return;
  state_ = IceGatheringState::kGathering;
  events.push_back(IceGatheringStateEvent{state_});
}

void Gatherer::maybe_complete(std::deque<IceEvent>& events) {
  if (state_ != IceGatheringState::kGathering || !hosts_done_ || stun_queries_outstanding_ > 0 ||
      turns_outstanding_ > 0)
    return;
  state_ = IceGatheringState::kComplete;
  events.push_back(IceGatheringStateEvent{state_});
}

void Gatherer::add_candidate(Candidate candidate, const SocketAddress& base,
                             std::deque<IceEvent>& events, std::optional<std::size_t> turn,
                             std::string url, std::string relay_protocol) {
  candidate.ufrag = ufrag_;
  candidate.generation = 0;
  candidates_.push_back({candidate, base, turn, url, relay_protocol});
  events.push_back(
      IceLocalCandidateEvent{std::move(candidate), std::move(url), std::move(relay_protocol)});
}

// --- Hosts -------------------------------------------------------------------------------

bool Gatherer::add_host_address(const SocketAddress& address, Timestamp now,
                                std::deque<IceEvent>& events) {
  if (closed_ ||
      std::find(host_addresses_.begin(), host_addresses_.end(), address) != host_addresses_.end())
    return false;
  begin_gathering(events);
  host_addresses_.push_back(address);
  for (const auto& server : turn_servers_) start_turn(address, server, now, events);
  // Relay-only (or TCP-only): the socket serves the TURN clients and is never a candidate.
  if (relay_only_ || !udp_candidates_) return true;
  add_host_candidate(address, events);
  return true;
}

void Gatherer::add_host_candidate(const SocketAddress& address, std::deque<IceEvent>& events) {
  const auto at = std::find(host_addresses_.begin(), host_addresses_.end(), address);
  Candidate c;
  c.type = CandidateType::kHost;
  c.foundation = foundation_for(c.type, address.ip(), "");
  c.component = 1;
  c.protocol = TransportProtocol::kUdp;
  // RFC 8445 5.1.2.1: local preference decreasing with the order interfaces were added;
  // RFC 8421: IPv6 first when both exist.
  const auto order = static_cast<std::uint32_t>(at - host_addresses_.begin());
  const std::uint32_t local_pref =
      (address.ip().is_v6() ? 65535u : 65000u) - std::min<std::uint32_t>(order * 10, 60000u);
  c.priority = compute_priority(recommended_type_preference(c.type), local_pref, 1);
  c.address = address.ip().to_string();
  c.port = address.port();
  add_candidate(std::move(c), address, events);
  for (const auto& server : stun_servers_) query_stun_server(address, server);
}

bool Gatherer::add_tcp_host_address(const SocketAddress& listening, std::deque<IceEvent>& events) {
  if (closed_ || relay_only_ || listening.port() == 0 || listening.port() == kTcpActivePort ||
      std::find(tcp_listeners_.begin(), tcp_listeners_.end(), listening) != tcp_listeners_.end())
    return false;
  begin_gathering(events);
  tcp_listeners_.push_back(listening);
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
    const SocketAddress base =
        tcp_type == TcpType::kActive ? tcp_active_base(listening.ip()) : listening;
    c.port = base.port();
    add_candidate(std::move(c), base, events);
  }
  return true;
}

void Gatherer::finish_host_addresses(std::deque<IceEvent>& events) {
  hosts_done_ = true;
  begin_gathering(events);
  maybe_complete(events);
}

void Gatherer::restart(std::string ufrag, std::deque<IceEvent>& events) {
  ufrag_ = std::move(ufrag);
  // W3C 4.4.1.6: the gathering state goes back to gathering and ends with a new
  // end-of-candidates; the sockets and allocations stay.
  state_ = IceGatheringState::kGathering;
  events.push_back(IceGatheringStateEvent{state_});
  if (next_relay_only_ != relay_only_) apply_relay_only(next_relay_only_);
  for (auto& local : candidates_) {
    local.candidate.ufrag = ufrag_;
    if (local.withdrawn) continue;
    events.push_back(IceLocalCandidateEvent{local.candidate, local.url, local.relay_protocol});
  }
  maybe_complete(events);
}

// A new policy at a restart: relay-only withdraws every candidate but the relayed ones; back
// to all, they return, and sockets that were only the TURN clients' become host candidates
// (with their STUN queries).
void Gatherer::apply_relay_only(bool relay_only) {
  relay_only_ = relay_only;
  for (auto& local : candidates_) {
    if (local.candidate.type != CandidateType::kRelayed) local.withdrawn = relay_only;
  }
  if (relay_only || !udp_candidates_) return;
  std::deque<IceEvent> added;  // announced below with the others
  for (const auto& host : host_addresses_) {
    const bool has_candidate =
        std::any_of(candidates_.begin(), candidates_.end(), [&](const LocalCandidate& l) {
          return l.candidate.type == CandidateType::kHost &&
                 l.candidate.protocol == TransportProtocol::kUdp && l.base == host;
        });
    if (!has_candidate) add_host_candidate(host, added);
  }
}

void Gatherer::remove_server(const std::string& url, Timestamp now, std::deque<IceEvent>& events) {
  for (std::size_t i = 0; i < stun_servers_.size();) {
    if (stun_server_urls_[i] == url) {
      stun_servers_.erase(stun_servers_.begin() + static_cast<std::ptrdiff_t>(i));
      stun_server_urls_.erase(stun_server_urls_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  std::erase_if(turn_servers_, [&](const turn::TurnServerConfig& s) { return s.url == url; });
  for (auto& entry : turns_) {
    if (entry.client->server().url != url) continue;
    entry.client->close(now);
    if (entry.gathering) {
      entry.gathering = false;
      --turns_outstanding_;
    }
  }
  for (auto& local : candidates_) {
    if (!local.url.empty() && local.url == url) local.withdrawn = true;
  }
  maybe_complete(events);
}

// --- STUN servers ------------------------------------------------------------------------

void Gatherer::add_stun_server(const SocketAddress& server, std::string url) {
  if (std::find(stun_servers_.begin(), stun_servers_.end(), server) != stun_servers_.end()) return;
  stun_servers_.push_back(server);
  stun_server_urls_.push_back(std::move(url));
  for (const auto& host : host_addresses_) query_stun_server(host, server);
}

void Gatherer::query_stun_server(const SocketAddress& host, const SocketAddress& server) {
  if (relay_only_ || !udp_candidates_) return;
  // Loopback sockets cannot reach a server elsewhere, and families must match.
  if (host.family() != server.family() || host.ip().is_loopback() != server.ip().is_loopback())
    return;
  const auto id = stun::random_transaction_id(rng_);
  stun::StunMessageBuilder b(stun::StunClass::kRequest, stun::method::kBinding, id);
  b.add_fingerprint();
  stun_queries_unsent_.push_back({stun_queries_.size(), id, b.finish(), host, server});
  const auto known = std::find(stun_servers_.begin(), stun_servers_.end(), server);
  stun_queries_.push_back(
      {host, server,
       known == stun_servers_.end()
           ? std::string()
           : stun_server_urls_[static_cast<std::size_t>(known - stun_servers_.begin())]});
  ++stun_queries_outstanding_;
}

std::optional<Gatherer::StunQuery> Gatherer::poll_stun_query() {
  if (stun_queries_unsent_.empty()) return std::nullopt;
  StunQuery query = std::move(stun_queries_unsent_.front());
  stun_queries_unsent_.pop_front();
  return query;
}

void Gatherer::on_stun_response(std::size_t query, const stun::StunMessage& response,
                                std::deque<IceEvent>& events) {
  const auto mapped = response.xor_mapped_address();
  // A mapped address equal to the base is no news: there is no NAT in between.
  if (query < stun_queries_.size() &&
      response.message_class() == stun::StunClass::kSuccessResponse && mapped &&
      *mapped != stun_queries_[query].base) {
    const SocketAddress base = stun_queries_[query].base;
    Candidate c;
    c.type = CandidateType::kServerReflexive;
    c.foundation = foundation_for(c.type, base.ip(), stun_queries_[query].server.to_string());
    c.priority = compute_priority(recommended_type_preference(c.type), 65535, 1);
    c.address = mapped->ip().to_string();
    c.port = mapped->port();
    c.related_address = base.ip().to_string();
    c.related_port = base.port();
    // Two sockets behind one NAT mapping (or two servers) can report the same address.
    const bool duplicate =
        std::any_of(candidates_.begin(), candidates_.end(), [&](const LocalCandidate& l) {
          return l.candidate.type == CandidateType::kServerReflexive &&
                 l.candidate.address == c.address && l.candidate.port == c.port;
        });
    // A server removed while its query was out brings nothing.
    const bool removed = std::find(stun_server_urls_.begin(), stun_server_urls_.end(),
                                   stun_queries_[query].url) == stun_server_urls_.end();
    if (!duplicate && !removed)
      add_candidate(std::move(c), base, events, std::nullopt, stun_queries_[query].url);
  }
  stun_query_done(events);
}

void Gatherer::on_stun_timeout(std::deque<IceEvent>& events) {
  stun_query_done(events);
}

void Gatherer::stun_query_done(std::deque<IceEvent>& events) {
  --stun_queries_outstanding_;
  maybe_complete(events);
}

// --- TURN --------------------------------------------------------------------------------

bool Gatherer::add_turn_server(const turn::TurnServerConfig& server, Timestamp now,
                               std::deque<IceEvent>& events) {
  if (closed_) return false;
  for (const auto& s : turn_servers_) {
    if (s.server == server.server && s.username == server.username &&
        s.transport == server.transport)
      return false;
  }
  turn_servers_.push_back(server);
  for (const auto& host : host_addresses_) start_turn(host, server, now, events);
  return true;
}

void Gatherer::start_turn(const SocketAddress& host, const turn::TurnServerConfig& server,
                          Timestamp now, std::deque<IceEvent>& events) {
  if (host.family() != server.server.family() ||
      host.ip().is_loopback() != server.server.ip().is_loopback())
    return;
  if (turns_.size() >= max_turn_clients_) return;
  begin_gathering(events);
  const SocketAddress base =
      server.transport == turn::TurnTransport::kUdp ? host : turn_stream_base(host.ip());
  for (const auto& entry : turns_) {
    // Two host sockets on one IP share the stream allocation.
    if (entry.client->base() == base && entry.client->server_address() == server.server) return;
  }
  turns_.push_back({std::make_unique<turn::TurnClient>(turn_config_, server, base, rng_), true});
  ++turns_outstanding_;
  turns_.back().client->allocate(now);
}

void Gatherer::process_turn_events(std::deque<IceEvent>& events) {
  for (std::size_t i = 0; i < turns_.size(); ++i) {
    TurnEntry& entry = turns_[i];
    while (auto e = entry.client->poll_event()) {
      if (auto* allocated = std::get_if<turn::TurnAllocatedEvent>(&*e)) {
        if (entry.gathering) {
          entry.gathering = false;
          --turns_outstanding_;
        }
        if (closed_) continue;
        add_relayed_candidates(i, *allocated, events);
        maybe_complete(events);
      } else if (auto* error = std::get_if<turn::TurnErrorEvent>(&*e)) {
        if (error->allocation_lost && entry.gathering) {
          entry.gathering = false;
          --turns_outstanding_;
          maybe_complete(events);
        }
        if (!closed_)
          events.push_back(IceCandidateErrorEvent{entry.client->server().url, entry.client->base(),
                                                  error->code, error->text});
      }
    }
  }
}

void Gatherer::add_relayed_candidates(std::size_t turn_index,
                                      const turn::TurnAllocatedEvent& allocated,
                                      std::deque<IceEvent>& events) {
  const turn::TurnClient& client = *turns_[turn_index].client;
  // RFC 8445 5.1.1.2: a relayed candidate's related address is the mapped address the
  // server reported (RFC 8839 5.1), and the candidate is its own base. A dual allocation
  // gives one candidate per family.
  const SocketAddress& host = client.base();
  const std::uint32_t local_pref =
      relay_transport_preference(client.server().transport) -
      std::min<std::uint32_t>(static_cast<std::uint32_t>(turn_index) * 10, 16000u);
  for (const SocketAddress* relayed :
       {&allocated.relayed,
        allocated.additional_relayed ? &*allocated.additional_relayed : nullptr}) {
    if (relayed == nullptr) continue;
    const bool additional = relayed != &allocated.relayed;
    Candidate c;
    c.type = CandidateType::kRelayed;
    // RFC 8445 5.1.1.3: the two relays of one allocation have different bases (each relay is
    // its own), so different foundations.
    c.foundation = foundation_for(
        c.type, host.ip(), client.server_address().to_string() + (additional ? "+additional" : ""));
    c.priority =
        compute_priority(recommended_type_preference(c.type), local_pref - (additional ? 5 : 0), 1);
    c.address = relayed->ip().to_string();
    c.port = relayed->port();
    c.related_address = allocated.mapped.ip().to_string();
    c.related_port = allocated.mapped.port();
    const auto transport = client.server().transport;
    add_candidate(std::move(c), *relayed, events, turn_index, client.server().url,
                  transport == turn::TurnTransport::kUdp   ? "udp"
                  : transport == turn::TurnTransport::kTcp ? "tcp"
                                                           : "tls");
  }
}

bool Gatherer::from_turn_server(const Datagram& d) const {
  return std::any_of(turns_.begin(), turns_.end(), [&](const TurnEntry& e) {
    return e.client->base() == d.destination && e.client->server_address() == d.source;
  });
}

turn::TurnClient* Gatherer::turn_client_for(const Datagram& d) {
  for (auto& entry : turns_) {
    if (entry.client->base() == d.destination && entry.client->server_address() == d.source)
      return entry.client.get();
  }
  return nullptr;
}

bool Gatherer::send_relayed(const Datagram& d, Timestamp now) {
  for (auto& entry : turns_) {
    if (!entry.client->is_relayed_address(d.source)) continue;
    static const Logger log("ice");
    if (!entry.client->send_to(d.destination, d.payload, now))
      log.debug("not relayed to ", d.destination.to_string(), ": the TURN allocation is gone");
    return true;
  }
  return false;
}

void Gatherer::turn_stream_failed(const SocketAddress& base, const SocketAddress& server,
                                  const std::string& text) {
  for (auto& entry : turns_) {
    if (entry.client->base() == base && entry.client->server_address() == server)
      entry.client->transport_failed(text);
  }
}

void Gatherer::handle_timeout(Timestamp now) {
  for (auto& entry : turns_) entry.client->handle_timeout(now);
}

std::optional<Datagram> Gatherer::poll_transmit() {
  for (auto& entry : turns_) {
    if (auto d = entry.client->poll_transmit()) return d;
  }
  return std::nullopt;
}

std::optional<Timestamp> Gatherer::next_timeout() const {
  std::optional<Timestamp> t;
  for (const auto& entry : turns_) {
    if (auto x = entry.client->next_timeout(); x && (!t || *x < *t)) t = x;
  }
  return t;
}

void Gatherer::close(Timestamp now) {
  closed_ = true;
  // RFC 8656 7.3: release the allocations (a Refresh with LIFETIME 0).
  for (auto& entry : turns_) entry.client->close(now);
}

bool Gatherer::is_tcp_base(const SocketAddress& address) const {
  return std::any_of(tcp_listeners_.begin(), tcp_listeners_.end(), [&](const SocketAddress& l) {
    return address == l || address == tcp_active_base(l.ip());
  });
}

}  // namespace rtcpp::ice
