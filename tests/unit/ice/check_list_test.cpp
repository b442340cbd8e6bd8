// The check list on its own: which pairs form, their priorities and states, the order of
// checks, what outcomes do to other pairs, and nomination.
#include "ice/check_list.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtcpp::ice {
namespace {

const Timestamp kT0 = Timestamp::seconds(10);
const Duration kDelay = Duration::millis(100);

stun::TransactionId transaction(std::uint8_t n) {
  stun::TransactionId id{};
  id[0] = n;
  return id;
}

LocalCandidate udp_local(const std::string& address, std::uint32_t priority,
                         const std::string& foundation) {
  LocalCandidate l;
  l.candidate.type = CandidateType::kHost;
  l.candidate.foundation = foundation;
  l.candidate.priority = priority;
  l.candidate.address = SocketAddress::parse(address)->ip().to_string();
  l.candidate.port = SocketAddress::parse(address)->port();
  l.base = *SocketAddress::parse(address);
  return l;
}

Candidate remote(const std::string& text) {
  return *Candidate::parse(text);
}

struct Fixture {
  explicit Fixture(std::size_t max_remotes = 100, std::size_t max_pairs = 500)
      : list(max_remotes, max_pairs) {}
  CheckList list;
  std::vector<LocalCandidate> locals;
  IceRole role = IceRole::kControlling;

  void add_local(LocalCandidate l) {
    locals.push_back(std::move(l));
    list.pair_local(locals, locals.size() - 1, role);
  }
  bool add_remote(const std::string& text) {
    auto added = list.add_signaled(locals, remote(text), role);
    EXPECT_TRUE(added);
    return added && *added;
  }
  PairState state(std::size_t pair) const { return list.pair(pair).state; }
};

TEST(CheckList, PairPriorityFollowsRfc8445) {
  // RFC 8445 6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0).
  EXPECT_EQ(pair_priority(5, 3), (3ull << 32) + 10 + 1);
  EXPECT_EQ(pair_priority(3, 5), (3ull << 32) + 10);
  EXPECT_EQ(pair_priority(7, 7), (7ull << 32) + 14);
  // Both agents compute the same value: the controlling one's candidate is always G.
  Fixture controlling;
  controlling.add_local(udp_local("10.0.0.1:5000", 2000, "1"));
  controlling.add_remote("candidate:9 1 udp 1000 10.0.0.2 6000 typ host");
  EXPECT_EQ(controlling.list.pair(0).priority, pair_priority(2000, 1000));
  controlling.list.recompute_priorities(controlling.locals, IceRole::kControlled);
  EXPECT_EQ(controlling.list.pair(0).priority, pair_priority(1000, 2000));
}

TEST(CheckList, PairsOnlyWhatCanReachEachOther) {
  Fixture f;
  f.add_local(udp_local("10.0.0.1:5000", 2000, "1"));
  f.add_local(udp_local("127.0.0.1:5001", 1900, "2"));
  f.add_local(udp_local("[2001:db8::1]:5002", 2100, "3"));
  LocalCandidate srflx = udp_local("10.0.0.1:5000", 1500, "4");
  srflx.candidate.type = CandidateType::kServerReflexive;
  f.add_local(srflx);
  f.add_remote("candidate:9 1 udp 1000 10.0.0.2 6000 typ host");
  // Loopback only with loopback, families apart, server-reflexive pruned (RFC 8445 6.1.2.4).
  ASSERT_EQ(f.list.pairs().size(), 1u);
  EXPECT_EQ(f.list.pair(0).local, 0u);
  EXPECT_EQ(f.list.find_pair(f.locals, *SocketAddress::parse("10.0.0.1:5000"),
                             *SocketAddress::parse("10.0.0.2:6000")),
            0u);
  f.add_remote("candidate:8 1 udp 1000 127.0.0.1 6001 typ host");
  f.add_remote("candidate:7 1 udp 1000 2001:db8::2 6002 typ host");
  EXPECT_EQ(f.list.pairs().size(), 3u);
}

TEST(CheckList, TcpPairsActiveWithPassive) {
  const Candidate udp = remote("candidate:1 1 udp 1 10.0.0.2 6000 typ host");
  const Candidate passive = remote("candidate:1 1 tcp 1 10.0.0.2 7000 typ host tcptype passive");
  const Candidate active = remote("candidate:1 1 tcp 1 10.0.0.2 9 typ host tcptype active");
  Candidate prflx_active = active;
  prflx_active.type = CandidateType::kPeerReflexive;
  EXPECT_TRUE(can_pair(udp, udp));
  EXPECT_FALSE(can_pair(udp, passive));
  EXPECT_TRUE(can_pair(active, passive));
  EXPECT_FALSE(can_pair(active, active));
  // RFC 6544 6.2: a passive candidate of ours waits for connections; only the peer-reflexive
  // candidate an accepted connection revealed pairs with it.
  EXPECT_FALSE(can_pair(passive, active));
  EXPECT_TRUE(can_pair(passive, prflx_active));
}

TEST(CheckList, OnePairPerFoundationStartsWaiting) {
  Fixture f;
  f.add_local(udp_local("10.0.0.1:5000", 2000, "1"));
  f.add_local(udp_local("10.0.0.1:5001", 1900, "1"));  // same foundation
  f.add_local(udp_local("10.0.0.3:5002", 1800, "2"));
  f.add_remote("candidate:9 1 udp 1000 10.0.0.2 6000 typ host");
  ASSERT_EQ(f.list.pairs().size(), 3u);
  EXPECT_EQ(f.state(0), PairState::kWaiting);
  EXPECT_EQ(f.state(1), PairState::kFrozen);  // RFC 8445 6.1.2.6
  EXPECT_EQ(f.state(2), PairState::kWaiting);

  // RFC 8445 7.2.5.3.3: a success wakes the pairs of its foundation.
  f.list.on_check_sent(0, transaction(1), false, kT0);
  EXPECT_FALSE(f.list.on_success(f.locals, 0, f.role, kT0));
  EXPECT_EQ(f.state(0), PairState::kSucceeded);
  EXPECT_TRUE(f.list.pair(0).valid);
  EXPECT_FALSE(f.list.pair(0).transaction);
  EXPECT_EQ(f.state(1), PairState::kWaiting);
  EXPECT_EQ(f.list.first_valid_at(), kT0);
}

TEST(CheckList, TriggeredChecksFirstThenWaitingThenFrozenByPriority) {
  Fixture f;
  f.add_local(udp_local("10.0.0.1:5000", 3000, "1"));
  f.add_local(udp_local("10.0.0.1:5001", 2000, "1"));
  f.add_local(udp_local("10.0.0.3:5002", 1000, "2"));
  f.add_remote("candidate:9 1 udp 1000 10.0.0.2 6000 typ host");
  // Pairs: 0 Waiting (best), 1 Frozen, 2 Waiting (worst).
  f.list.trigger(2);  // RFC 8445 7.3.1.4
  f.list.trigger(2);  // queued once
  EXPECT_TRUE(f.list.checks_left());
  EXPECT_EQ(f.list.next_check(), 2u);
  f.list.on_check_sent(2, transaction(1), false, kT0);
  EXPECT_EQ(f.state(2), PairState::kInProgress);
  f.list.trigger(2);  // in progress: nothing to do
  EXPECT_EQ(f.list.next_check(), 0u);
  f.list.on_check_sent(0, transaction(2), false, kT0);
  EXPECT_EQ(f.list.next_check(), 1u);  // only the frozen one is left
  f.list.on_check_sent(1, transaction(3), false, kT0);
  EXPECT_FALSE(f.list.next_check());
  EXPECT_FALSE(f.list.checks_left());
  EXPECT_EQ(f.list.first_check_at(), kT0);

  // A failed pair the peer checks is checked again; one that succeeded meanwhile is not.
  f.list.on_failure(1);
  f.list.trigger(1);
  EXPECT_EQ(f.state(1), PairState::kWaiting);
  f.list.on_success(f.locals, 0, f.role, kT0);
  f.list.trigger(0);
  EXPECT_EQ(f.list.next_check(), 1u);
}

TEST(CheckList, RoleConflictRetriesThePair) {
  Fixture f;
  f.add_local(udp_local("10.0.0.1:5000", 3000, "1"));
  f.add_remote("candidate:9 1 udp 1000 10.0.0.2 6000 typ host");
  ASSERT_EQ(f.list.next_check(), 0u);
  f.list.on_check_sent(0, transaction(1), false, kT0);
  f.list.retry(0);  // RFC 8445 7.2.5.1
  EXPECT_EQ(f.state(0), PairState::kWaiting);
  EXPECT_FALSE(f.list.pair(0).transaction);
  EXPECT_EQ(f.list.next_check(), 0u);
}

TEST(CheckList, ControllingNominatesTheBestValidPairOnceNothingBetterIsPending) {
  Fixture f;
  f.add_local(udp_local("10.0.0.1:5000", 3000, "1"));
  f.add_local(udp_local("10.0.0.3:5001", 2000, "2"));
  f.add_remote("candidate:9 1 udp 1000 10.0.0.2 6000 typ host");
  EXPECT_FALSE(f.list.nomination(kT0, kDelay));  // nothing valid yet
  // The lower pair succeeds first; the better one is still being checked.
  f.list.on_check_sent(0, transaction(1), false, kT0);
  f.list.on_check_sent(1, transaction(2), false, kT0);
  f.list.on_success(f.locals, 1, f.role, kT0);
  EXPECT_FALSE(f.list.nomination(kT0 + Duration::millis(99), kDelay));
  EXPECT_EQ(f.list.nomination(kT0 + kDelay, kDelay), 1u);  // settled by the delay
  // Or at once when the better one is done.
  f.list.on_success(f.locals, 0, f.role, kT0 + Duration::millis(20));
  EXPECT_EQ(f.list.nomination(kT0 + Duration::millis(20), kDelay), 0u);

  // The check with USE-CANDIDATE nominates when it succeeds.
  f.list.on_check_sent(0, transaction(3), /*use_candidate=*/true, kT0);
  EXPECT_TRUE(f.list.nominating());
  EXPECT_FALSE(f.list.nomination(kT0 + Duration::seconds(1), kDelay));  // one at a time
  EXPECT_TRUE(f.list.on_success(f.locals, 0, f.role, kT0));
  EXPECT_TRUE(f.list.pair(0).nominated);
}

TEST(CheckList, AFailedNominationIsNoNomination) {
  Fixture f;
  f.add_local(udp_local("10.0.0.1:5000", 3000, "1"));
  f.add_remote("candidate:9 1 udp 1000 10.0.0.2 6000 typ host");
  f.list.on_success(f.locals, 0, f.role, kT0);
  f.list.on_check_sent(0, transaction(1), true, kT0);
  f.list.on_failure(0);
  EXPECT_FALSE(f.list.nominating());
  EXPECT_FALSE(f.list.pair(0).nominated);
  // The pair stays valid (it worked once), so nomination may be tried again.
  EXPECT_EQ(f.list.nomination(kT0, kDelay), 0u);
}

TEST(CheckList, ControlledFollowsUseCandidate) {
  Fixture f;
  f.role = IceRole::kControlled;
  f.add_local(udp_local("10.0.0.1:5000", 3000, "1"));
  f.add_local(udp_local("10.0.0.3:5001", 2000, "2"));
  f.add_remote("candidate:9 1 udp 1000 10.0.0.2 6000 typ host");
  // RFC 8445 7.3.1.5: USE-CANDIDATE on a pair not yet valid nominates it when its own check
  // succeeds; on a valid pair, at once.
  EXPECT_FALSE(f.list.on_remote_nomination(0));
  EXPECT_TRUE(f.list.on_success(f.locals, 0, f.role, kT0));
  EXPECT_TRUE(f.list.pair(0).nominated);
  EXPECT_FALSE(f.list.on_success(f.locals, 1, f.role, kT0));
  EXPECT_TRUE(f.list.on_remote_nomination(1));
  EXPECT_TRUE(f.list.pair(1).nominated);
}

TEST(CheckList, SignaledCandidatesThatCannotBeCheckedAreSkipped) {
  Fixture f;
  f.add_local(udp_local("10.0.0.1:5000", 3000, "1"));
  auto add = [&](const std::string& text) {
    return *f.list.add_signaled(f.locals, remote(text), f.role);
  };
  EXPECT_FALSE(add("candidate:1 2 udp 1 10.0.0.2 6001 typ host"));  // RTCP component
  EXPECT_FALSE(add("candidate:1 1 tcp 1 10.0.0.2 9 typ host tcptype active"));
  EXPECT_FALSE(add("candidate:1 1 tcp 1 10.0.0.2 9 typ host tcptype so"));
  EXPECT_FALSE(add("candidate:1 1 udp 1 1f4712db-ea17-4bcf-a596-105139dfd8bf.local 6000 typ host"));
  EXPECT_TRUE(add("candidate:1 1 udp 1 10.0.0.2 6000 typ host"));
  EXPECT_FALSE(add("candidate:1 1 udp 1 10.0.0.2 6000 typ host"));  // a duplicate
  EXPECT_TRUE(add("candidate:1 1 tcp 1 10.0.0.2 6000 typ host tcptype passive"));
  EXPECT_EQ(f.list.remotes().size(), 2u);
}

TEST(CheckList, RemoteCandidatesAndPairsAreBounded) {
  Fixture f(/*max_remotes=*/2, /*max_pairs=*/3);
  f.add_local(udp_local("10.0.0.1:5000", 3000, "1"));
  f.add_local(udp_local("10.0.0.3:5001", 2000, "2"));
  f.add_remote("candidate:1 1 udp 1 10.0.0.2 6000 typ host");
  f.add_remote("candidate:1 1 udp 1 10.0.0.2 6001 typ host");
  EXPECT_EQ(f.list.pairs().size(), 3u);
  EXPECT_FALSE(
      f.list.add_signaled(f.locals, remote("candidate:1 1 udp 1 10.0.0.2 6002 typ host"), f.role));
  SeededRandom rng(1);
  EXPECT_FALSE(
      f.list.remote_for_check(f.locals, 0, *SocketAddress::parse("10.0.0.2:7000"), 5, rng, f.role));
  // A known source is still found.
  EXPECT_EQ(
      f.list.remote_for_check(f.locals, 0, *SocketAddress::parse("10.0.0.2:6001"), 5, rng, f.role),
      1u);
}

TEST(CheckList, UnknownSourceOfACheckIsPeerReflexiveUntilSignaled) {
  Fixture f;
  f.add_local(udp_local("10.0.0.1:5000", 3000, "1"));
  SeededRandom rng(1);
  const SocketAddress source = *SocketAddress::parse("203.0.113.5:7000");
  // RFC 8445 7.3.1.3: priority from the request's PRIORITY.
  const auto index = f.list.remote_for_check(f.locals, 0, source, 1234, rng, f.role);
  ASSERT_EQ(index, 0u);
  const Candidate& learnt = f.list.remotes()[0].candidate;
  EXPECT_EQ(learnt.type, CandidateType::kPeerReflexive);
  EXPECT_EQ(learnt.priority, 1234u);
  EXPECT_EQ(learnt.socket_address(), source);
  ASSERT_EQ(f.list.pairs().size(), 1u);
  EXPECT_EQ(f.list.pair(0).priority, pair_priority(3000, 1234));
  EXPECT_EQ(f.list.remote_for_check(f.locals, 0, source, 1234, rng, f.role), 0u);

  // The description tells later what it really is; the pair's priority follows.
  EXPECT_FALSE(*f.list.add_signaled(
      f.locals, remote("candidate:77 1 udp 5000 203.0.113.5 7000 typ srflx raddr 10.0.0.2 rport 1"),
      f.role));
  EXPECT_EQ(learnt.type, CandidateType::kServerReflexive);
  EXPECT_EQ(learnt.foundation, "77");
  EXPECT_EQ(f.list.pair(0).priority, pair_priority(3000, 5000));
}

TEST(CheckList, PeerReflexiveOverTcpIsTheOtherKind) {
  Fixture f;
  LocalCandidate passive = udp_local("10.0.0.1:7000", 3000, "1");
  passive.candidate.protocol = TransportProtocol::kTcp;
  passive.candidate.tcp_type = TcpType::kPassive;
  f.add_local(passive);
  SeededRandom rng(1);
  // RFC 6544 7.2: a peer that connected to our passive candidate is active.
  const auto index =
      f.list.remote_for_check(f.locals, 0, *SocketAddress::parse("10.0.0.2:41000"), 1, rng, f.role);
  ASSERT_TRUE(index);
  EXPECT_EQ(f.list.remotes()[*index].candidate.protocol, TransportProtocol::kTcp);
  EXPECT_EQ(f.list.remotes()[*index].candidate.tcp_type, TcpType::kActive);
  EXPECT_EQ(f.list.pairs().size(), 1u);
}

TEST(CheckList, OverallStateAndClear) {
  Fixture f;
  EXPECT_FALSE(f.list.all_failed());  // nothing to fail
  f.add_local(udp_local("10.0.0.1:5000", 3000, "1"));
  f.add_remote("candidate:1 1 udp 1 10.0.0.2 6000 typ host");
  f.add_remote("candidate:2 1 udp 1 10.0.0.2 6001 typ host");
  EXPECT_TRUE(f.list.unfinished());
  f.list.on_failure(0);
  EXPECT_FALSE(f.list.all_failed());
  f.list.on_failure(1);
  EXPECT_TRUE(f.list.all_failed());
  EXPECT_FALSE(f.list.unfinished());
  f.list.on_check_sent(0, transaction(1), false, kT0);
  f.list.clear();
  EXPECT_TRUE(f.list.pairs().empty());
  EXPECT_TRUE(f.list.remotes().empty());
  EXPECT_FALSE(f.list.first_check_at());
  EXPECT_FALSE(f.list.next_check());
}

}  // namespace
}  // namespace rtcpp::ice
