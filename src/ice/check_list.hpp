// The check list (RFC 8445 6.1.2): the peer's candidates, the pairs they form with ours, the
// pairs' priorities (6.1.2.3) and states (6.1.2.6), which pair to check next (6.1.4.2, with
// triggered checks first, 7.3.1.4), what a check's outcome does to the other pairs (7.2.5.3.3),
// and which valid pair the controlling agent nominates (8.1.1). It sends nothing: the agent
// runs the checks and reports their outcomes.
//
// Our candidates are the gatherer's; every call that looks at them takes them as `locals`
// (pairs hold indices into it, which stay valid: candidates are only appended).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/net.hpp"
#include "base/random.hpp"
#include "base/time.hpp"
#include "ice/candidate.hpp"
#include "ice/types.hpp"
#include "rtcpp/error.hpp"
#include "stun/stun_message.hpp"

namespace rtcpp::ice {

enum class PairState : std::uint8_t { kFrozen, kWaiting, kInProgress, kSucceeded, kFailed };

struct CandidatePair {
  std::size_t local = 0;   // index into the local candidates
  std::size_t remote = 0;  // index into CheckList::remotes()
  PairState state = PairState::kFrozen;
  std::uint64_t priority = 0;
  bool valid = false;
  bool nominated = false;
  bool use_candidate_sent = false;  // controlling: nomination in flight or done
  bool remote_nominated = false;    // controlled: the peer sent USE-CANDIDATE
  std::optional<stun::TransactionId> transaction;
  // webrtc-stats RTCIceCandidatePairStats, this pair's own: connectivity and consent checks
  // (retransmissions not counted) and the round trips of those answered.
  std::uint64_t requests_sent = 0;
  std::uint64_t responses_received = 0;
  std::uint64_t requests_received = 0;
  std::uint64_t responses_sent = 0;
  Duration total_round_trip_time;
  std::optional<Duration> current_round_trip_time;
  Timestamp last_request_sent = Timestamp::zero();
};

// RFC 8445 6.1.2.3: G is the controlling agent's candidate priority, D the controlled's.
constexpr std::uint64_t pair_priority(std::uint64_t g, std::uint64_t d) noexcept {
  return (std::min(g, d) << 32) + 2 * std::max(g, d) + (g > d ? 1 : 0);
}

// Whether the two candidates can be checked against each other (same transport; over TCP
// an active candidate with a passive one, RFC 6544 6.2).
bool can_pair(const Candidate& local, const Candidate& remote) noexcept;

class CheckList {
 public:
  using Locals = std::span<const LocalCandidate>;

  // The bounds keep a hostile peer from growing the list without limit.
  CheckList(std::size_t max_remotes, std::size_t max_pairs) noexcept
      : max_remotes_(max_remotes), max_pairs_(max_pairs) {}

  const std::vector<RemoteCandidate>& remotes() const noexcept { return remotes_; }
  const std::vector<CandidatePair>& pairs() const noexcept { return pairs_; }
  const CandidatePair& pair(std::size_t index) const { return pairs_[index]; }
  // For the counters (the fields the check list itself keeps are not to be touched).
  CandidatePair& pair_counters(std::size_t index) { return pairs_[index]; }

  // --- Forming pairs ---
  // Pairs local candidate `local` with every remote candidate. Server-reflexive candidates
  // are never paired: their base, the host candidate, already is (RFC 8445 6.1.2.4).
  void pair_local(Locals locals, std::size_t local, IceRole role);
  // A candidate the peer signaled (RFC 8838 trickle). The ones ICE can check are added and
  // paired: component 1 (RTCP-mux and BUNDLE), an IP address (names are the runtime's to
  // resolve first), UDP or TCP passive (RFC 6544: an active peer shows itself by connecting,
  // and simultaneous open is not implemented). One the peer's checks revealed first takes
  // the signaled type, foundation and priority. True when a new candidate was added; an
  // error when the bound on remote candidates is reached.
  Result<bool> add_signaled(Locals locals, const Candidate& candidate, IceRole role);
  // RFC 8445 7.3.1.3: the remote candidate an authenticated check from `source` to local
  // candidate `local` comes from. An unknown source is a new peer-reflexive candidate with
  // the request's PRIORITY and a random foundation; over TCP it is the other kind than ours
  // (RFC 6544 7.2: a peer that connected to our passive candidate is active). nullopt when
  // the bound on remote candidates is reached.
  std::optional<std::size_t> remote_for_check(Locals locals, std::size_t local,
                                              const SocketAddress& source, std::uint32_t priority,
                                              Random& rng, IceRole role);
  std::optional<std::size_t> find_remote(const SocketAddress& address,
                                         TransportProtocol protocol) const;
  // After a role change: G and D swap.
  void recompute_priorities(Locals locals, IceRole role);
  std::optional<std::size_t> find_pair(Locals locals, const SocketAddress& local_base,
                                       const SocketAddress& remote_address) const;

  // --- Scheduling checks ---
  // RFC 8445 7.3.1.4: the peer checked this pair; check it back soon, unless it is in
  // progress or has succeeded.
  void trigger(std::size_t pair);
  // RFC 8445 7.2.5.1: the peer answered 487 (role conflict); check again after switching.
  void retry(std::size_t pair);
  // The pair to check now: a triggered one, else the best Waiting one, else the best Frozen
  // one. Consumes the triggered queue up to the pair returned.
  std::optional<std::size_t> next_check();
  // Whether next_check() could return a pair.
  bool checks_left() const;

  // --- Outcomes ---
  void on_check_sent(std::size_t pair, const stun::TransactionId& transaction, bool use_candidate,
                     Timestamp now);
  // A successful check: the pair is valid and its foundation's frozen pairs wait
  // (7.2.5.3.3). Returns true when that nominates the pair: the controlling agent's check
  // carried USE-CANDIDATE, or the controlled agent's peer had sent one (7.3.1.5).
  bool on_success(Locals locals, std::size_t pair, IceRole role, Timestamp now);
  void on_failure(std::size_t pair);
  // The controlled agent saw USE-CANDIDATE on the pair (7.3.1.5). True when the pair is
  // already valid, which nominates it; otherwise its own check's success will.
  bool on_remote_nomination(std::size_t pair);

  std::optional<Timestamp> first_check_at() const noexcept { return first_check_at_; }
  std::optional<Timestamp> first_valid_at() const noexcept { return first_valid_at_; }

  // --- Nomination (regular, RFC 8445 8.1.1) ---
  // A check with USE-CANDIDATE has been sent and not failed.
  bool nominating() const;
  // The pair the controlling agent nominates now: the best valid one, once no pair that
  // could beat it is still to be checked or `delay` has passed since the first valid pair.
  std::optional<std::size_t> nomination(Timestamp now, Duration delay) const;

  // --- Overall ---
  // Some pair is still to be checked or being checked.
  bool unfinished() const;
  bool all_failed() const;
  // Drops every remote candidate and pair (an ICE restart); the caller cancels the pairs'
  // transactions first.
  void clear();

 private:
  std::size_t add_remote(Locals locals, Candidate candidate, const SocketAddress& address,
                         IceRole role);
  void add_pair(Locals locals, std::size_t local, std::size_t remote, IceRole role);
  std::uint64_t priority_of(Locals locals, const CandidatePair& pair, IceRole role) const;
  std::string foundation_of(Locals locals, const CandidatePair& pair) const;

  std::size_t max_remotes_;
  std::size_t max_pairs_;
  std::vector<RemoteCandidate> remotes_;
  std::vector<CandidatePair> pairs_;
  std::deque<std::size_t> triggered_;  // pair indices
  std::optional<Timestamp> first_check_at_;
  std::optional<Timestamp> first_valid_at_;
};

}  // namespace rtcpp::ice
