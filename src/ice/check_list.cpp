#include "ice/check_list.hpp"

#include <algorithm>

namespace rtcpp::ice {

bool can_pair(const Candidate& local, const Candidate& remote) noexcept {
  if (local.protocol != remote.protocol) return false;
  if (local.protocol == TransportProtocol::kUdp) return true;
  // RFC 6544 6.2: active with passive. A local passive candidate pairs only with the
  // peer-reflexive candidates its accepted connections revealed: a signaled active candidate
  // has no address to check, and its connection arrives from a port it did not signal.
  if (local.tcp_type == TcpType::kActive) return remote.tcp_type == TcpType::kPassive;
  return local.tcp_type == TcpType::kPassive && remote.tcp_type == TcpType::kActive &&
         remote.type == CandidateType::kPeerReflexive;
}

// --- Forming pairs -----------------------------------------------------------------------

void CheckList::pair_local(Locals locals, std::size_t local, IceRole role) {
  if (locals[local].candidate.type == CandidateType::kServerReflexive) return;
  for (std::size_t r = 0; r < remotes_.size(); ++r) add_pair(locals, local, r, role);
}

std::size_t CheckList::add_remote(Locals locals, Candidate candidate, const SocketAddress& address,
                                  IceRole role) {
  remotes_.push_back({std::move(candidate), address});
  const std::size_t remote = remotes_.size() - 1;
  for (std::size_t l = 0; l < locals.size(); ++l) {
    if (locals[l].candidate.type != CandidateType::kServerReflexive)
      add_pair(locals, l, remote, role);
  }
  return remote;
}

std::optional<std::size_t> CheckList::find_remote(const SocketAddress& address,
                                                  TransportProtocol protocol) const {
  for (std::size_t i = 0; i < remotes_.size(); ++i) {
    if (remotes_[i].address == address && remotes_[i].candidate.protocol == protocol) return i;
  }
  return std::nullopt;
}

Result<bool> CheckList::add_signaled(Locals locals, const Candidate& candidate, IceRole role) {
  if (candidate.component != 1) return false;
  if (candidate.protocol == TransportProtocol::kTcp && candidate.tcp_type != TcpType::kPassive)
    return false;
  const auto address = candidate.socket_address();
  if (!address) return false;
  if (remotes_.size() >= max_remotes_) return operation_error("too many remote ICE candidates");
  if (const auto index = find_remote(*address, candidate.protocol)) {
    Candidate& known = remotes_[*index].candidate;
    // A peer-reflexive candidate (RFC 8445 7.3.1.3 learnt it from a check) is what the
    // description says it is. Anything else is a duplicate.
    if (known.type == CandidateType::kPeerReflexive &&
        candidate.type != CandidateType::kPeerReflexive) {
      known.type = candidate.type;
      known.foundation = candidate.foundation;
      known.priority = candidate.priority;
      known.address = candidate.address;
      known.related_address = candidate.related_address;
      known.related_port = candidate.related_port;
      recompute_priorities(locals, role);
    }
    return false;
  }
  add_remote(locals, candidate, *address, role);
  return true;
}

std::optional<std::size_t> CheckList::remote_for_check(Locals locals, std::size_t local,
                                                       const SocketAddress& source,
                                                       std::uint32_t priority, Random& rng,
                                                       IceRole role) {
  const Candidate& ours = locals[local].candidate;
  if (auto known = find_remote(source, ours.protocol)) return known;
  if (remotes_.size() >= max_remotes_) return std::nullopt;
  Candidate c;
  c.type = CandidateType::kPeerReflexive;
  c.protocol = ours.protocol;
  if (c.protocol == TransportProtocol::kTcp)
    c.tcp_type = ours.tcp_type == TcpType::kPassive ? TcpType::kActive : TcpType::kPassive;
  c.foundation = std::to_string(rng.next_u32());
  c.priority = priority;
  c.address = source.ip().to_string();
  c.port = source.port();
  return add_remote(locals, std::move(c), source, role);
}

void CheckList::add_pair(Locals locals, std::size_t local, std::size_t remote, IceRole role) {
  if (pairs_.size() >= max_pairs_) return;
  const LocalCandidate& l = locals[local];
  const RemoteCandidate& r = remotes_[remote];
  if (l.withdrawn) return;
  if (l.base.family() != r.address.family()) return;
  if (!can_pair(l.candidate, r.candidate)) return;
  // Loopback talks only to loopback.
  if (l.base.ip().is_loopback() != r.address.ip().is_loopback()) return;
  if (find_pair(locals, l.base, r.address)) return;
  CandidatePair p;
  p.local = local;
  p.remote = remote;
  p.priority = priority_of(locals, p, role);
  // RFC 8445 6.1.2.6: one pair per foundation starts Waiting, the rest Frozen.
  const std::string foundation = foundation_of(locals, p);
  const bool foundation_active = std::any_of(pairs_.begin(), pairs_.end(), [&](const auto& q) {
    return q.state != PairState::kFrozen && foundation_of(locals, q) == foundation;
  });
  p.state = foundation_active ? PairState::kFrozen : PairState::kWaiting;
  pairs_.push_back(p);
}

std::uint64_t CheckList::priority_of(Locals locals, const CandidatePair& pair, IceRole role) const {
  const std::uint64_t local = locals[pair.local].candidate.priority;
  const std::uint64_t remote = remotes_[pair.remote].candidate.priority;
  return role == IceRole::kControlling ? pair_priority(local, remote)
                                       : pair_priority(remote, local);
}

std::string CheckList::foundation_of(Locals locals, const CandidatePair& pair) const {
  return locals[pair.local].candidate.foundation + ":" + remotes_[pair.remote].candidate.foundation;
}

void CheckList::recompute_priorities(Locals locals, IceRole role) {
  for (auto& p : pairs_) p.priority = priority_of(locals, p, role);
}

std::optional<std::size_t> CheckList::find_pair(Locals locals, const SocketAddress& local_base,
                                                const SocketAddress& remote_address) const {
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    if (locals[pairs_[i].local].base == local_base &&
        remotes_[pairs_[i].remote].address == remote_address)
      return i;
  }
  return std::nullopt;
}

// --- Scheduling checks -------------------------------------------------------------------

void CheckList::trigger(std::size_t index) {
  CandidatePair& pair = pairs_[index];
  if (pair.state != PairState::kFrozen && pair.state != PairState::kWaiting &&
      pair.state != PairState::kFailed)
    return;
  pair.state = PairState::kWaiting;
  if (std::find(triggered_.begin(), triggered_.end(), index) == triggered_.end())
    triggered_.push_back(index);
}

void CheckList::retry(std::size_t index) {
  pairs_[index].transaction.reset();
  pairs_[index].state = PairState::kWaiting;
  triggered_.push_back(index);
}

std::optional<std::size_t> CheckList::next_check() {
  // A triggered pair that succeeded meanwhile needs no second check, unless it is to
  // carry the nomination.
  while (!triggered_.empty()) {
    const std::size_t i = triggered_.front();
    triggered_.pop_front();
    if (pairs_[i].state != PairState::kSucceeded || pairs_[i].use_candidate_sent) return i;
  }
  std::optional<std::size_t> next;
  for (const PairState state : {PairState::kWaiting, PairState::kFrozen}) {
    for (std::size_t i = 0; i < pairs_.size(); ++i) {
      if (pairs_[i].state == state && (!next || pairs_[i].priority > pairs_[*next].priority))
        next = i;
    }
    if (next) break;
  }
  return next;
}

bool CheckList::checks_left() const {
  return !triggered_.empty() || std::any_of(pairs_.begin(), pairs_.end(), [](const auto& p) {
    return p.state == PairState::kWaiting || p.state == PairState::kFrozen;
  });
}

// --- Outcomes ----------------------------------------------------------------------------

void CheckList::on_check_sent(std::size_t index, const stun::TransactionId& transaction,
                              bool use_candidate, Timestamp now) {
  CandidatePair& pair = pairs_[index];
  pair.transaction = transaction;
  if (pair.state != PairState::kSucceeded) pair.state = PairState::kInProgress;
  if (use_candidate) pair.use_candidate_sent = true;
  if (!first_check_at_) first_check_at_ = now;
}

bool CheckList::on_success(Locals locals, std::size_t index, IceRole role, Timestamp now) {
  CandidatePair& pair = pairs_[index];
  pair.transaction.reset();
  pair.state = PairState::kSucceeded;
  pair.valid = true;
  if (!first_valid_at_) first_valid_at_ = now;
  // RFC 8445 7.2.5.3.3: what worked for one pair of a foundation likely works for the others.
  const std::string foundation = foundation_of(locals, pair);
  for (auto& q : pairs_) {
    if (q.state == PairState::kFrozen && foundation_of(locals, q) == foundation)
      q.state = PairState::kWaiting;
  }
  const bool nominated =
      role == IceRole::kControlling ? pair.use_candidate_sent : pair.remote_nominated;
  if (nominated) pair.nominated = true;
  return nominated;
}

void CheckList::on_failure(std::size_t index) {
  CandidatePair& pair = pairs_[index];
  pair.state = PairState::kFailed;
  pair.transaction.reset();
  // A nomination that failed is no nomination: another pair may be nominated.
  if (pair.use_candidate_sent && !pair.nominated) pair.use_candidate_sent = false;
}

bool CheckList::on_remote_nomination(std::size_t index) {
  CandidatePair& pair = pairs_[index];
  pair.remote_nominated = true;
  if (pair.valid) pair.nominated = true;
  return pair.valid;
}

// --- Nomination --------------------------------------------------------------------------

bool CheckList::nominating() const {
  return std::any_of(pairs_.begin(), pairs_.end(),
                     [](const auto& p) { return p.use_candidate_sent; });
}

std::optional<std::size_t> CheckList::nomination(Timestamp now, Duration delay) const {
  if (!first_valid_at_ || nominating()) return std::nullopt;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < pairs_.size(); ++i) {
    if (pairs_[i].valid && (!best || pairs_[i].priority > pairs_[*best].priority)) best = i;
  }
  if (!best) return std::nullopt;
  // Checks go in priority order, so usually nothing better is pending by now. Waiting for
  // lower-priority pairs would only cost Ta per pair and cannot change the choice.
  const std::uint64_t best_priority = pairs_[*best].priority;
  const bool better_pending = std::any_of(pairs_.begin(), pairs_.end(), [&](const auto& p) {
    return p.priority > best_priority &&
           (p.state == PairState::kWaiting || p.state == PairState::kInProgress ||
            p.state == PairState::kFrozen);
  });
  if (better_pending && now < *first_valid_at_ + delay) return std::nullopt;
  return best;
}

// --- Overall -----------------------------------------------------------------------------

bool CheckList::unfinished() const {
  return std::any_of(pairs_.begin(), pairs_.end(), [](const auto& p) {
    return p.state == PairState::kWaiting || p.state == PairState::kInProgress ||
           p.state == PairState::kFrozen;
  });
}

bool CheckList::all_failed() const {
  return !pairs_.empty() && std::all_of(pairs_.begin(), pairs_.end(), [](const auto& p) {
    return p.state == PairState::kFailed;
  });
}

void CheckList::clear() {
  pairs_.clear();
  remotes_.clear();
  triggered_.clear();
  first_check_at_.reset();
  first_valid_at_.reset();
}

}  // namespace rtcpp::ice
