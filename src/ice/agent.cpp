#include "ice/agent.hpp"

#include <algorithm>

#include "ice/connectivity_check.hpp"

namespace rtcpp::ice {
namespace {

using stun::StunClass;
using stun::StunMessage;

// What a STUN transaction of ours is for, kept in its tag with an index (a pair's, a STUN
// server query's).
enum class TransactionKind : std::uint8_t { kCheck, kStunServer, kConsent, kPreviousConsent };
constexpr std::uint64_t kKindShift = 32;
constexpr std::uint64_t make_tag(TransactionKind kind, std::size_t index) {
  return (static_cast<std::uint64_t>(kind) << kKindShift) | static_cast<std::uint32_t>(index);
}
constexpr TransactionKind tag_kind(std::uint64_t tag) {
  return static_cast<TransactionKind>(tag >> kKindShift);
}
constexpr std::size_t tag_index(std::uint64_t tag) {
  return static_cast<std::size_t>(tag & 0xFFFFFFFFu);
}

}  // namespace

IceAgent::IceAgent(IceConfig config, IceRole role, IceCredentials local, Random& rng)
    : config_(config),
      role_(role),
      local_(std::move(local)),
      rng_(rng),
      tie_breaker_(rng.next_u64()),
      gatherer_(config, local_.ufrag, rng),
      check_list_(config.max_remote_candidates, config.max_pairs),
      consent_(config.consent_interval, config.disconnected_after, config.consent_unanswered_after,
               config.consent_timeout),
      transactions_(stun::TransactionConfig{config.check_rto, config.check_transmissions, 16,
                                            Duration::infinite(), false, Duration::millis(39500)}) {
}

void IceAgent::set_role(IceRole role) {
  if (role == role_) return;
  role_ = role;
  check_list_.recompute_priorities(gatherer_.candidates(), role_);
}

void IceAgent::switch_role(IceRole role) {
  role_ = role;
  check_list_.recompute_priorities(gatherer_.candidates(), role_);
  events_.push_back(IceRoleEvent{role_});
}

// --- Gathering ---------------------------------------------------------------------------

void IceAgent::add_host_address(const SocketAddress& address, Timestamp now) {
  if (!gatherer_.add_host_address(address, now, events_)) return;
  now_ = now;
  pair_new_locals();
  send_stun_queries(now);
}

void IceAgent::add_tcp_host_address(const SocketAddress& listening, Timestamp now) {
  if (!gatherer_.add_tcp_host_address(listening, events_)) return;
  now_ = now;
  pair_new_locals();
}

void IceAgent::tcp_connection_closed(const SocketAddress& local, const SocketAddress& remote,
                                     Timestamp now) {
  if (closed_) return;
  now_ = std::max(now_, now);
  const auto index = find_pair(local, remote);
  if (!index) return;
  if (const auto& transaction = check_list_.pair(*index).transaction)
    transactions_.cancel(*transaction);
  on_check_failure(*index, now);
  // The data path went with the connection: consent is lost at once (RFC 7675 5.1).
  if (selected_ == index) {
    consent_.revoke(now);
    update_state(now);
  }
}

void IceAgent::add_stun_server(const SocketAddress& server, Timestamp now, std::string url) {
  gatherer_.add_stun_server(server, std::move(url));
  send_stun_queries(now);
}

void IceAgent::send_stun_queries(Timestamp now) {
  while (auto query = gatherer_.poll_stun_query()) {
    transactions_.start(query->id, std::move(query->request), query->base, query->server, now,
                        make_tag(TransactionKind::kStunServer, query->query));
  }
}

void IceAgent::add_turn_server(const turn::TurnServerConfig& server, Timestamp now) {
  if (gatherer_.add_turn_server(server, now, events_)) now_ = now;
}

void IceAgent::turn_stream_failed(const SocketAddress& base, const SocketAddress& server,
                                  std::string text, Timestamp now) {
  gatherer_.turn_stream_failed(base, server, text);
  process_turn_events();
  update_state(now);
}

void IceAgent::process_turn_events() {
  gatherer_.process_turn_events(events_);
  pair_new_locals();
}

void IceAgent::pair_new_locals() {
  const auto& locals = gatherer_.candidates();
  for (; locals_paired_ < locals.size(); ++locals_paired_)
    check_list_.pair_local(locals, locals_paired_, role_);
}

void IceAgent::finish_gathering(Timestamp /*now*/) {
  gatherer_.finish_host_addresses(events_);
}

void IceAgent::emit(Datagram d) {
  if (!gatherer_.send_relayed(d, now_)) outgoing_.push_back(std::move(d));
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
    restart_.remote_changed();
  } else if (restart_.in_progress() && !remote_) {
    // The answer to our restart (a peer that kept its credentials still counts as answered).
    restart_.remote_changed();
  }
  remote_ = IceCredentials{std::move(ufrag), std::move(pwd)};
  handle_timeout(now);
  return {};
}

Result<> IceAgent::add_remote_candidate(const Candidate& candidate, Timestamp now) {
  if (closed_) return invalid_state_error("ICE agent closed");
  // A candidate from before the peer's restart belongs to pairs that are gone.
  if (!candidate.ufrag.empty() && remote_ && candidate.ufrag != remote_->ufrag) return {};
  auto added = check_list_.add_signaled(gatherer_.candidates(), candidate, role_);
  if (!added) return added.error();
  if (*added) handle_timeout(now);
  return {};
}

void IceAgent::end_of_remote_candidates(Timestamp now) {
  remote_end_of_candidates_ = true;
  update_state(now);
}

// --- ICE restart -------------------------------------------------------------------------

void IceAgent::begin_restart(Timestamp now) {
  if (!restart_.begin()) return;
  // A failed pair is not worth keeping; a working one carries data until its successor is
  // selected (RFC 8445 9).
  if (selected_ && remote_ && state_ != IceTransportState::kFailed) {
    const CandidatePair& p = check_list_.pair(*selected_);
    restart_.keep_previous_path({p.local, check_list_.remotes()[p.remote], local_, *remote_});
  }
  for (const auto& p : check_list_.pairs()) {
    if (p.transaction) transactions_.cancel(*p.transaction);
  }
  check_list_.clear();
  selected_.reset();
  remote_end_of_candidates_ = false;
  next_check_at_ = now;
  if (!restart_.previous_path() && state_ != IceTransportState::kNew)
    set_state(IceTransportState::kChecking);
}

void IceAgent::restart_local(IceCredentials local, Timestamp now) {
  if (closed_) return;
  now_ = std::max(now_, now);
  begin_restart(now);
  restart_.local_changed();
  local_ = std::move(local);
  // Our offer restarts; the peer's old credentials end with it (its answer brings new ones).
  if (!restart_.has_remote_changed()) remote_.reset();
  gatherer_.restart(local_.ufrag, events_);
  // A policy change can bring candidates (and STUN queries) of sockets that had none.
  pair_new_locals();
  send_stun_queries(now);
  handle_timeout(now);
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
  return gatherer_.from_turn_server(d);
}

std::optional<Datagram> IceAgent::handle_turn_packet(const Datagram& d, Timestamp now) {
  now_ = now;
  turn::TurnClient* client = gatherer_.turn_client_for(d);
  if (client == nullptr) return std::nullopt;
  auto input = client->handle_packet(d.payload, now);
  process_turn_events();
  if (std::holds_alternative<turn::NotTurn>(input)) {
    // Not TURN: e.g. the server's answer to a STUN Binding of ours.
    if (!closed_) handle_stun(d, now);
    return std::nullopt;
  }
  if (auto* data = std::get_if<turn::PeerData>(&input); data && !closed_) {
    Datagram inner{data->peer, *client->relayed_address_for(data->peer), Buffer(data->data)};
    if (stun::is_stun_message(inner.payload)) {
      handle_stun(inner, now);
      return std::nullopt;
    }
    return inner;
  }
  handle_timeout(now);
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

void IceAgent::handle_request(const StunMessage& msg, const Datagram& d, Timestamp now) {
  const auto local_index = gatherer_.find_by_base(d.destination);
  if (!local_index) return;
  const auto& previous = restart_.previous_path();
  const ResponderCredentials credentials{local_, previous ? &previous->local_credentials : nullptr,
                                         !restart_.in_progress() || restart_.has_local_changed()};
  CheckAnswer answer = answer_check_request(msg, d.source, credentials, role_, tie_breaker_);
  if (answer.verdict == CheckAnswer::Verdict::kDropped) return;
  if (answer.new_role) switch_role(*answer.new_role);
  emit({d.destination, d.source, std::move(answer.response)});
  if (answer.verdict != CheckAnswer::Verdict::kAccepted) return;

  // RFC 8445 7.3.1.3: an unknown source is a peer-reflexive candidate.
  if (!check_list_.remote_for_check(gatherer_.candidates(), *local_index, d.source,
                                    msg.priority().value_or(1), rng_, role_))
    return;
  const auto pair = find_pair(d.destination, d.source);
  if (!pair) return;
  ++check_list_.pair_counters(*pair).requests_received;
  ++check_list_.pair_counters(*pair).responses_sent;
  check_list_.trigger(*pair);
  // RFC 8445 7.3.1.4: a request on a pair whose check is in progress calls for a new check
  // now. We send the outstanding request again at once, with its back-off restarted: the
  // same effect on the wire, one transaction. Under loss this is what brings a pair up when
  // our own retransmissions have backed off to seconds while the peer's reach us. The same
  // goes for a nominating check on a succeeded pair: the peer's requests show the path works.
  if (const auto& pending = check_list_.pairs()[*pair]; pending.transaction)
    transactions_.retransmit_now(*pending.transaction, now);
  // RFC 8445 7.3.1.5: USE-CANDIDATE from the controlling agent nominates the pair.
  if (role_ == IceRole::kControlled && msg.use_candidate() &&
      check_list_.on_remote_nomination(*pair))
    select(*pair, now);
  if (state_ == IceTransportState::kNew) set_state(IceTransportState::kChecking);
}

void IceAgent::handle_response(const StunMessage& msg, const Datagram& d, Timestamp now) {
  const auto tag = transactions_.match_response(msg);
  if (!tag) return;
  const auto kind = tag_kind(*tag);
  const auto index = tag_index(*tag);
  const bool success = msg.message_class() == StunClass::kSuccessResponse;
  if (kind == TransactionKind::kStunServer) {
    gatherer_.on_stun_response(index, msg, events_);
    pair_new_locals();
    return;
  }
  if (kind == TransactionKind::kPreviousConsent) {
    const auto& previous = restart_.previous_path();
    if (previous && success &&
        msg.check_integrity(as_bytes(previous->remote_credentials.pwd)) ==
            stun::IntegrityCheck::kValid)
      consent_.refresh(now);
    return;
  }
  if (!remote_ || index >= check_list_.pairs().size()) return;
  // Responses to checks must be authenticated with the peer's password.
  if (msg.check_integrity(as_bytes(remote_->pwd)) != stun::IntegrityCheck::kValid) return;
  if (success) {
    CandidatePair& counters = check_list_.pair_counters(index);
    ++counters.responses_received;
    const Duration rtt = now - counters.last_request_sent;
    counters.total_round_trip_time = counters.total_round_trip_time + rtt;
    counters.current_round_trip_time = rtt;
  }
  if (kind == TransactionKind::kConsent) {
    if (success) consent_.refresh(now);
    return;
  }
  handle_check_response(index, msg, d, now);
}

void IceAgent::handle_check_response(std::size_t index, const StunMessage& msg, const Datagram& d,
                                     Timestamp now) {
  if (msg.message_class() == StunClass::kErrorResponse) {
    if (auto error = msg.error_code(); error && error->code == 487) {
      // RFC 8445 7.2.5.1: switch roles and try the pair again.
      switch_role(other_role(role_));
      check_list_.retry(index);
      return;
    }
    on_check_failure(index, now);
    return;
  }
  // RFC 8445 7.2.5.2.1: the response must come from where the request went.
  const CandidatePair& pair = check_list_.pair(index);
  if (d.source != check_list_.remotes()[pair.remote].address ||
      d.destination != gatherer_.candidates()[pair.local].base) {
    on_check_failure(index, now);
    return;
  }
  on_check_success(index, now);
}

// --- Checks and nomination ---------------------------------------------------------------

void IceAgent::on_check_success(std::size_t index, Timestamp now) {
  consent_.refresh(now);
  if (check_list_.on_success(gatherer_.candidates(), index, role_, now)) select(index, now);
}

void IceAgent::on_check_failure(std::size_t index, Timestamp now) {
  check_list_.on_failure(index);
  update_state(now);
}

void IceAgent::send_check(std::size_t index, bool use_candidate, Timestamp now) {
  const CandidatePair& pair = check_list_.pair(index);
  if (pair.transaction) transactions_.cancel(*pair.transaction);
  const LocalCandidate& local = gatherer_.candidates()[pair.local];
  const auto id = stun::random_transaction_id(rng_);
  transactions_.start(id,
                      build_check_request(id, local.candidate, local_, *remote_, role_,
                                          tie_breaker_, use_candidate),
                      local.base, check_list_.remotes()[pair.remote].address, now,
                      make_tag(TransactionKind::kCheck, index));
  check_list_.on_check_sent(index, id, use_candidate, now);
  ++check_list_.pair_counters(index).requests_sent;
  check_list_.pair_counters(index).last_request_sent = now;
  ++checks_sent_;
  if (state_ == IceTransportState::kNew) set_state(IceTransportState::kChecking);
}

void IceAgent::send_consent_check(Timestamp now) {
  // RFC 7675 5.1: a consent check is an ordinary connectivity check on the selected pair.
  const auto id = stun::random_transaction_id(rng_);
  if (selected_ && remote_) {
    const CandidatePair& pair = check_list_.pair(*selected_);
    const LocalCandidate& local = gatherer_.candidates()[pair.local];
    transactions_.start(
        id, build_check_request(id, local.candidate, local_, *remote_, role_, tie_breaker_, false),
        local.base, check_list_.remotes()[pair.remote].address, now,
        make_tag(TransactionKind::kConsent, *selected_));
    ++check_list_.pair_counters(*selected_).requests_sent;
    check_list_.pair_counters(*selected_).last_request_sent = now;
  } else if (const auto& previous = restart_.previous_path()) {
    const LocalCandidate& local = gatherer_.candidates()[previous->local];
    transactions_.start(
        id,
        build_check_request(id, local.candidate, previous->local_credentials,
                            previous->remote_credentials, role_, tie_breaker_, false),
        local.base, previous->remote.address, now, make_tag(TransactionKind::kPreviousConsent, 0));
  }
}

void IceAgent::maybe_nominate(Timestamp now) {
  if (role_ != IceRole::kControlling || selected_) return;
  if (const auto pair = check_list_.nomination(now, config_.nomination_delay))
    send_check(*pair, /*use_candidate=*/true, now);
}

void IceAgent::select(std::size_t index, Timestamp now) {
  if (selected_ && check_list_.pair(*selected_).priority >= check_list_.pair(index).priority) {
    update_state(now);
    return;
  }
  selected_ = index;
  restart_.finish();
  const CandidatePair& p = check_list_.pair(index);
  const LocalCandidate& local = gatherer_.candidates()[p.local];
  const RemoteCandidate& remote = check_list_.remotes()[p.remote];
  events_.push_back(
      IceSelectedPairEvent{local.candidate, remote.candidate, local.base, remote.address});
  consent_.start(now, rng_);
  update_state(now);
}

bool IceAgent::accepts_data_from(const Datagram& datagram) const {
  if (const auto path = data_path(); path && *path->remote == datagram.source) return true;
  return find_pair(datagram.destination, datagram.source).has_value();
}

void IceAgent::on_data_before_selection(const Datagram& datagram, Timestamp now) {
  if (selected_ || closed_) return;
  const auto pair = find_pair(datagram.destination, datagram.source);
  if (!pair) return;
  const auto& transaction = check_list_.pairs()[*pair].transaction;
  if (!transaction || !transactions_.retransmit_now(*transaction, now)) return;
  while (auto d = transactions_.poll_transmit()) emit(std::move(*d));
}

std::optional<IceAgent::DataPath> IceAgent::data_path() const {
  if (selected_) {
    const CandidatePair& p = check_list_.pair(*selected_);
    return DataPath{&gatherer_.candidates()[p.local], &check_list_.remotes()[p.remote].address};
  }
  if (const auto& previous = restart_.previous_path())
    return DataPath{&gatherer_.candidates()[previous->local], &previous->remote.address};
  return std::nullopt;
}

std::optional<Datagram> IceAgent::wrap_for_selected_pair(Buffer payload, Timestamp now) {
  if (closed_) return std::nullopt;
  const auto path = data_path();
  if (!path) return std::nullopt;
  if (!path->local->turn) {
    Datagram d{path->local->base, *path->remote, std::move(payload)};
    d.route = route_of(d.source);
    return d;
  }
  now_ = now;
  auto wrapped = gatherer_.turn_client(*path->local->turn).wrap(*path->remote, payload, now);
  if (wrapped) wrapped->route = route_of(wrapped->source);
  return wrapped;
}

Route IceAgent::route_of(const SocketAddress& source) const {
  // Our conventions for bases that are not UDP sockets (turn_stream_base, tcp_active_base and
  // listening addresses), turned into the route the runtime needs.
  if (source == turn_stream_base(source.ip())) return Route::kTurnStream;
  if (gatherer_.is_tcp_base(source)) return Route::kTcp;
  return Route::kUdp;
}

std::optional<IceAgent::SelectedPair> IceAgent::selected_pair() const {
  const auto path = data_path();
  if (!path) return std::nullopt;
  return SelectedPair{path->local->base, *path->remote};
}

// --- Time --------------------------------------------------------------------------------

void IceAgent::handle_timeout(Timestamp now) {
  now_ = std::max(now_, now);
  gatherer_.handle_timeout(now);
  process_turn_events();
  if (closed_) return;
  transactions_.handle_timeout(now);
  while (auto timeout = transactions_.poll_timeout()) {
    const auto kind = tag_kind(timeout->tag);
    const auto index = tag_index(timeout->tag);
    if (kind == TransactionKind::kStunServer) {
      gatherer_.on_stun_timeout(events_);
    } else if (kind == TransactionKind::kCheck && index < check_list_.pairs().size()) {
      // Before anything is selected, a pair the peer's checks reach us on is worth more than
      // Rc transmissions: under heavy loss both of our answers and our requests can all be
      // lost while the peer's one success leaves it waiting for our nomination. It is checked
      // again (paced by Ta) while checking lasts (checking_timeout ends it).
      const CandidatePair& pair = check_list_.pair(index);
      if (!selected_ && state_ == IceTransportState::kChecking && !pair.use_candidate_sent &&
          pair.requests_received > 0) {
        check_list_.retry(index);
      } else {
        on_check_failure(index, now);
      }
    }
  }
  // RFC 8445 6.1.4.2: one check every Ta.
  if (checks_allowed() && now >= next_check_at_) {
    if (const auto next = check_list_.next_check()) {
      send_check(*next, false, now);
      next_check_at_ = now + config_.ta;
    }
  }
  maybe_nominate(now);
  if ((selected_ || restart_.previous_path()) && consent_.check_due(now)) {
    send_consent_check(now);
    consent_.schedule_next(now, rng_);
  }
  while (auto d = transactions_.poll_transmit()) emit(std::move(*d));
  update_state(now);
}

void IceAgent::update_state(Timestamp now) {
  if (closed_ || state_ == IceTransportState::kFailed) return;
  if (selected_ || restart_.previous_path()) {
    switch (consent_.status(now)) {
      case ConsentFreshness::Status::kExpired:
        set_state(IceTransportState::kFailed);
        return;
      case ConsentFreshness::Status::kDisconnected:
        set_state(IceTransportState::kDisconnected);
        return;
      case ConsentFreshness::Status::kFresh:
        break;
    }
    const bool done = selected_ && remote_end_of_candidates_ &&
                      gatherer_.state() == IceGatheringState::kComplete &&
                      !check_list_.unfinished();
    set_state(done ? IceTransportState::kCompleted : IceTransportState::kConnected);
    return;
  }
  if (state_ != IceTransportState::kChecking) return;
  const auto first_check = check_list_.first_check_at();
  if ((check_list_.all_failed() && remote_end_of_candidates_ &&
       gatherer_.state() == IceGatheringState::kComplete) ||
      (first_check && !check_list_.first_valid_at() &&
       now - *first_check >= config_.checking_timeout)) {
    set_state(IceTransportState::kFailed);
  }
}

void IceAgent::set_state(IceTransportState state) {
  if (state_ == state) return;
  state_ = state;
  events_.push_back(IceStateEvent{state});
}

std::optional<Timestamp> IceAgent::next_timeout() const {
  std::optional<Timestamp> t = gatherer_.next_timeout();
  auto consider = [&t](Timestamp x) {
    if (!t || x < *t) t = x;
  };
  if (closed_ || state_ == IceTransportState::kFailed) return t;
  if (auto x = transactions_.next_timeout()) consider(*x);
  if (checks_allowed() && check_list_.checks_left()) consider(next_check_at_);
  const auto first_valid = check_list_.first_valid_at();
  if (role_ == IceRole::kControlling && !selected_ && first_valid && !check_list_.nominating())
    consider(*first_valid + config_.nomination_delay);
  if (selected_ || restart_.previous_path()) {
    consider(consent_.next_timeout(state_ == IceTransportState::kDisconnected));
  } else if (const auto first_check = check_list_.first_check_at(); first_check && !first_valid) {
    consider(*first_check + config_.checking_timeout);
  }
  return t;
}

std::optional<Datagram> IceAgent::poll_transmit() {
  while (auto d = gatherer_.poll_transmit()) outgoing_.push_back(std::move(*d));
  if (outgoing_.empty()) return std::nullopt;
  Datagram d = std::move(outgoing_.front());
  outgoing_.pop_front();
  d.route = route_of(d.source);
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
  gatherer_.close(now_);
}

}  // namespace rtcpp::ice
