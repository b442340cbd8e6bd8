#include "ice/agent.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>

namespace rtcpp::ice {
namespace {

const SocketAddress kA = *SocketAddress::parse("10.0.0.1:5000");
const SocketAddress kB = *SocketAddress::parse("10.0.0.2:6000");
const SocketAddress kB2 = *SocketAddress::parse("10.0.0.2:6002");
const SocketAddress kStunServer = *SocketAddress::parse("198.51.100.1:3478");
const SocketAddress kAPublic = *SocketAddress::parse("203.0.113.9:40000");

// Two agents on an in-memory network with a virtual clock, optional loss and a STUN server.
class Net {
 public:
  explicit Net(std::uint64_t seed, IceRole a_role = IceRole::kControlling,
               IceRole b_role = IceRole::kControlled)
      : rng_(seed),
        a_(IceConfig{}, a_role, IceCredentials::random(rng_), rng_),
        b_(IceConfig{}, b_role, IceCredentials::random(rng_), rng_) {}

  IceAgent& a() { return a_; }
  IceAgent& b() { return b_; }
  Timestamp now() const { return now_; }
  double loss = 0;
  bool b_silent = false;
  // Sees every datagram as it is delivered; true drops it.
  std::function<bool(const Datagram&, Timestamp)> drop;
  std::vector<Candidate> a_candidates;
  std::vector<Candidate> b_candidates;

  void exchange_credentials() {
    ASSERT_TRUE(
        a_.set_remote_credentials(b_.local_credentials().ufrag, b_.local_credentials().pwd, now_));
    ASSERT_TRUE(
        b_.set_remote_credentials(a_.local_credentials().ufrag, a_.local_credentials().pwd, now_));
  }

  void drain_events() {
    for (auto* agent : {&a_, &b_}) {
      while (auto e = agent->poll_event()) {
        if (auto* c = std::get_if<IceLocalCandidateEvent>(&*e))
          (agent == &a_ ? a_candidates : b_candidates).push_back(c->candidate);
      }
    }
  }

  bool run(const std::function<bool()>& done, Duration limit = Duration::seconds(40)) {
    const Timestamp deadline = now_ + limit;
    while (!done()) {
      std::vector<Datagram> in_flight;
      for (auto* agent : {&a_, &b_}) {
        while (auto d = agent->poll_transmit()) in_flight.push_back(std::move(*d));
      }
      drain_events();
      if (!in_flight.empty()) {
        now_ += Duration::millis(10);
        for (auto& d : in_flight) deliver(d);
        continue;
      }
      std::optional<Timestamp> next;
      for (auto* agent : {&a_, &b_}) {
        auto t = agent->next_timeout();
        if (t && (!next || *t < *next)) next = t;
      }
      if (!next || *next > deadline) return done();
      now_ = std::max(now_, *next);
      a_.handle_timeout(now_);
      b_.handle_timeout(now_);
    }
    return true;
  }

 private:
  void deliver(const Datagram& d) {
    if (rng_.bernoulli(loss)) return;
    if (drop && drop(d, now_)) return;
    if (d.destination == kStunServer) {
      // A STUN server behind which A appears as kAPublic.
      auto req = stun::StunMessage::parse(d.payload);
      if (!req) return;
      auto b = stun::StunMessageBuilder::response_to(*req, stun::StunClass::kSuccessResponse);
      b.add_xor_address(stun::attr::kXorMappedAddress, kAPublic);
      deliver({kStunServer, d.source, b.finish()});
      return;
    }
    if (d.destination == kA) a_.handle_packet(d, now_);
    if ((d.destination == kB || d.destination == kB2) && !b_silent) b_.handle_packet(d, now_);
  }

  SeededRandom rng_;
  IceAgent a_;
  IceAgent b_;
  Timestamp now_ = Timestamp::seconds(100);
};

bool connected(const IceAgent& agent) {
  return agent.state() == IceTransportState::kConnected ||
         agent.state() == IceTransportState::kCompleted;
}

void gather_hosts(Net& net) {
  net.a().add_host_address(kA, net.now());
  net.a().finish_gathering(net.now());
  net.b().add_host_address(kB, net.now());
  net.b().finish_gathering(net.now());
  net.drain_events();
}

TEST(IceAgent, HostCandidatesConnectAndAgreeOnThePair) {
  Net net(1);
  gather_hosts(net);
  ASSERT_EQ(net.a_candidates.size(), 1u);
  EXPECT_EQ(net.a_candidates[0].type, CandidateType::kHost);
  EXPECT_EQ(net.a_candidates[0].ufrag, net.a().local_credentials().ufrag);
  EXPECT_EQ(net.a().gathering_state(), IceGatheringState::kComplete);
  net.exchange_credentials();
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  ASSERT_TRUE(net.b().add_remote_candidate(net.a_candidates[0], net.now()));
  const Timestamp start = net.now();
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
  EXPECT_LT((net.now() - start).ms(), 300);
  ASSERT_TRUE(net.a().selected_pair());
  ASSERT_TRUE(net.b().selected_pair());
  EXPECT_EQ(net.a().selected_pair()->local, kA);
  EXPECT_EQ(net.a().selected_pair()->remote, kB);
  EXPECT_EQ(net.b().selected_pair()->local, kB);
  EXPECT_EQ(net.b().selected_pair()->remote, kA);
  // With end-of-candidates on both sides the agents reach completed.
  net.a().end_of_remote_candidates(net.now());
  net.b().end_of_remote_candidates(net.now());
  net.run([&] { return net.a().state() == IceTransportState::kCompleted; }, Duration::seconds(2));
  EXPECT_EQ(net.a().state(), IceTransportState::kCompleted);
}

TEST(IceAgent, PeerReflexiveWhenTheControlledSideNeverGetsCandidates) {
  Net net(2);
  gather_hosts(net);
  net.exchange_credentials();
  // Only A learns B's candidate; B discovers A from A's checks (RFC 8445 7.3.1.3).
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
  EXPECT_EQ(net.b().selected_pair()->remote, kA);
}

TEST(IceAgent, CandidatesBeforeCredentials) {
  Net net(3);
  gather_hosts(net);
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  ASSERT_TRUE(net.b().add_remote_candidate(net.a_candidates[0], net.now()));
  net.run([] { return false; }, Duration::millis(500));
  EXPECT_EQ(net.a().checks_sent(), 0u);  // no checks without the peer's password
  net.exchange_credentials();
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
}

class IceRoleConflict : public ::testing::TestWithParam<IceRole> {};

TEST_P(IceRoleConflict, IsRepairedByTieBreakers) {
  Net net(4, GetParam(), GetParam());
  gather_hosts(net);
  net.exchange_credentials();
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  ASSERT_TRUE(net.b().add_remote_candidate(net.a_candidates[0], net.now()));
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
  EXPECT_NE(net.a().role(), net.b().role());
}

INSTANTIATE_TEST_SUITE_P(BothSameRole, IceRoleConflict,
                         ::testing::Values(IceRole::kControlling, IceRole::kControlled));

TEST(IceAgent, ConsentExpiryWhenThePeerVanishes) {
  Net net(5);
  gather_hosts(net);
  net.exchange_credentials();
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  ASSERT_TRUE(net.b().add_remote_candidate(net.a_candidates[0], net.now()));
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
  // Consent keeps the connection up while both are there.
  net.run([] { return false; }, Duration::seconds(20));
  EXPECT_TRUE(connected(net.a()));
  const Timestamp gone = net.now();
  net.b_silent = true;
  ASSERT_TRUE(net.run([&] { return net.a().state() == IceTransportState::kDisconnected; }));
  // The next check (within 6 s, RFC 7675 5.1) then 2 s without its answer.
  EXPECT_LE((net.now() - gone).seconds_f(), 8.5);
  ASSERT_TRUE(net.run([&] { return net.a().state() == IceTransportState::kFailed; }));
  // RFC 7675: consent expires 30 s after the last response.
  EXPECT_LE((net.now() - gone).seconds_f(), 30.5);
  EXPECT_GE((net.now() - gone).seconds_f(), 27.0);
}

TEST(IceAgent, WrongPasswordNeverConnects) {
  Net net(6);
  gather_hosts(net);
  ASSERT_TRUE(net.a().set_remote_credentials(net.b().local_credentials().ufrag,
                                             "wrongwrongwrongwrongwrong", net.now()));
  ASSERT_TRUE(net.b().set_remote_credentials(net.a().local_credentials().ufrag,
                                             net.a().local_credentials().pwd, net.now()));
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  net.a().end_of_remote_candidates(net.now());
  ASSERT_TRUE(net.run([&] { return net.a().state() == IceTransportState::kFailed; }));
  EXPECT_FALSE(net.a().selected_pair());
}

bool is_request(const Datagram& d) {
  auto m = stun::StunMessage::parse(d.payload);
  return m && m->message_class() == stun::StunClass::kRequest;
}
bool is_success_response(const Datagram& d) {
  auto m = stun::StunMessage::parse(d.payload);
  return m && m->message_class() == stun::StunClass::kSuccessResponse;
}

TEST(IceAgent, ARequestOnAPairInProgressSendsItsCheckAgainAtOnce) {
  // RFC 8445 7.3.1.4. A's requests to B are lost for the first second, so A's check backs
  // off (0, 250, 750 ms). B's request reaches A (and A's answer reaches B): A sends its own
  // check again in the same instant, instead of waiting for its next retransmission.
  Net net(21);
  gather_hosts(net);
  net.exchange_credentials();
  const Timestamp start = net.now();
  std::vector<Timestamp> a_requests;
  std::vector<Timestamp> b_requests_at_a;
  net.drop = [&](const Datagram& d, Timestamp now) {
    if (d.source == kA && is_request(d)) {
      a_requests.push_back(now);
      return now < start + Duration::seconds(1);
    }
    if (d.source == kB && is_request(d)) b_requests_at_a.push_back(now);
    return false;
  };
  // A knows B's candidate at once; B learns A's only later, so A's check is under way first.
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  net.run([] { return false; }, Duration::millis(300));
  ASSERT_EQ(a_requests.size(), 2u);  // at 0 and 250 ms
  ASSERT_TRUE(net.b().add_remote_candidate(net.a_candidates[0], net.now()));
  net.run([&] { return !b_requests_at_a.empty(); }, Duration::millis(200));
  ASSERT_FALSE(b_requests_at_a.empty());
  const Timestamp b_request_arrived = b_requests_at_a.front();
  ASSERT_LT(b_request_arrived, start + Duration::millis(750));
  net.run([&] { return a_requests.size() >= 3; }, Duration::millis(500));
  ASSERT_GE(a_requests.size(), 3u);
  // A's third request left (and was delivered one hop later) right after B's arrived, well
  // before its 750 ms retransmission.
  EXPECT_LE(a_requests[2] - b_request_arrived, Duration::millis(10));
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
}

TEST(IceAgent, ACheckThatTimedOutIsTriedAgainWhileThePeerReachesUs) {
  // B's answers to A are lost for 21 s: A's check on the only pair exhausts its seven
  // transmissions (about 20 s). B's own check succeeded, and B waits for A's nomination.
  // Since B's request reached A on that pair, A checks it again instead of failing it, and
  // connects once the answers come through.
  Net net(22);
  gather_hosts(net);
  net.exchange_credentials();
  const Timestamp start = net.now();
  net.drop = [&](const Datagram& d, Timestamp now) {
    return d.source == kB && is_success_response(d) && now < start + Duration::seconds(21);
  };
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  ASSERT_TRUE(net.b().add_remote_candidate(net.a_candidates[0], net.now()));
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
  EXPECT_GE((net.now() - start).seconds_f(), 21.0);
  EXPECT_LT((net.now() - start).seconds_f(), 25.0);
}

TEST(IceAgent, DataOnAPairBeforeSelectionSendsItsCheckAgainAtOnce) {
  // B's answers never reach A, so A's check stays in progress. DTLS from B on that pair (B
  // selected it) makes A send the check again at once; after selection data changes nothing.
  Net net(23);
  gather_hosts(net);
  net.exchange_credentials();
  net.drop = [&](const Datagram& d, Timestamp) { return d.source == kB && is_success_response(d); };
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  net.run([] { return false; }, Duration::millis(400));
  EXPECT_FALSE(net.a().poll_transmit());
  const Datagram dtls{kB, kA, Buffer::from_string("\x16\xfe\xfd")};
  net.a().on_data_before_selection(dtls, net.now());
  auto again = net.a().poll_transmit();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->destination, kB);
  EXPECT_TRUE(is_request(*again));
  // Data from an address that is no pair of ours is ignored.
  net.a().on_data_before_selection({kB2, kA, Buffer::from_string("\x16\xfe\xfd")}, net.now());
  EXPECT_FALSE(net.a().poll_transmit());
  net.drop = nullptr;
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
  net.a().on_data_before_selection(dtls, net.now());
  EXPECT_FALSE(net.a().poll_transmit());
}

TEST(IceAgent, ATimedOutCheckIsNotTriedAgainOnceCheckingFailed) {
  // The same, with B's answers lost for good: the retries end with checking, which fails
  // 30 s after the first check; A sends nothing more on the pair after that.
  Net net(24);
  gather_hosts(net);
  net.exchange_credentials();
  const Timestamp start = net.now();
  std::vector<Timestamp> a_requests;
  net.drop = [&](const Datagram& d, Timestamp now) {
    if (d.source == kA && is_request(d)) a_requests.push_back(now);
    return d.source == kB && is_success_response(d);
  };
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  ASSERT_TRUE(net.b().add_remote_candidate(net.a_candidates[0], net.now()));
  ASSERT_TRUE(net.run([&] { return net.a().state() == IceTransportState::kFailed; }));
  EXPECT_NEAR((net.now() - start).seconds_f(), 30.0, 0.5);
  net.run([] { return false; }, Duration::seconds(60));
  ASSERT_FALSE(a_requests.empty());
  EXPECT_LT(a_requests.back(), start + Duration::seconds(30));
}

class IceLoss : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(IceLoss, ConnectsWithTenPercentLoss) {
  Net net(GetParam());
  net.loss = 0.1;
  gather_hosts(net);
  net.exchange_credentials();
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  ASSERT_TRUE(net.b().add_remote_candidate(net.a_candidates[0], net.now()));
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
}

INSTANTIATE_TEST_SUITE_P(Seeds, IceLoss, ::testing::Range<std::uint64_t>(100, 120));

TEST(IceAgent, ServerReflexiveCandidateFromStunServer) {
  Net net(7);
  net.a().add_stun_server(kStunServer, net.now());
  net.a().add_host_address(kA, net.now());
  net.a().finish_gathering(net.now());
  net.drain_events();
  EXPECT_EQ(net.a().gathering_state(), IceGatheringState::kGathering);
  ASSERT_TRUE(net.run([&] { return net.a().gathering_state() == IceGatheringState::kComplete; }));
  net.drain_events();
  ASSERT_EQ(net.a_candidates.size(), 2u);
  const Candidate& srflx = net.a_candidates[1];
  EXPECT_EQ(srflx.type, CandidateType::kServerReflexive);
  EXPECT_EQ(srflx.socket_address(), kAPublic);
  EXPECT_EQ(srflx.related_address, "10.0.0.1");
  EXPECT_EQ(srflx.related_port, 5000);
  EXPECT_LT(srflx.priority, net.a_candidates[0].priority);
}

TEST(IceAgent, RejectsBadInput) {
  Net net(8);
  gather_hosts(net);
  EXPECT_EQ(net.a().set_remote_credentials("ab", "short", net.now()).error().type(),
            RTCErrorType::kInvalidAccessError);
  Candidate c = net.b_candidates[0];
  for (int i = 0; i < 100; ++i) {
    c.port = static_cast<std::uint16_t>(7000 + i);
    ASSERT_TRUE(net.a().add_remote_candidate(c, net.now()));
  }
  c.port = 9999;
  EXPECT_FALSE(net.a().add_remote_candidate(c, net.now()));
  // Garbage and unauthenticated STUN to A: answered or dropped, never a crash or a pair.
  SeededRandom rng(1);
  for (int i = 0; i < 500; ++i) {
    Buffer junk(static_cast<std::size_t>(20 + rng.uniform(100)));
    rng.fill(junk.mutable_view());
    junk[0] = 0;
    junk[1] = 1;
    net.a().handle_packet({kB, kA, junk}, net.now());
  }
  EXPECT_FALSE(net.a().selected_pair());
}

// Connects A and B over host candidates.
void connect(Net& net) {
  gather_hosts(net);
  net.exchange_credentials();
  ASSERT_TRUE(net.a().add_remote_candidate(net.b_candidates[0], net.now()));
  ASSERT_TRUE(net.b().add_remote_candidate(net.a_candidates[0], net.now()));
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
}

// The signaling of an ICE restart offered by A: A's new credentials reach B, B answers with
// its own new ones, and the candidates each side gathers again are trickled to the other.
void restart_from_a(Net& net, SeededRandom& rng) {
  net.a_candidates.clear();
  net.b_candidates.clear();
  const auto a_new = IceCredentials::random(rng);
  net.a().restart_local(a_new, net.now());
  ASSERT_TRUE(net.b().set_remote_credentials(a_new.ufrag, a_new.pwd, net.now()));
  const auto b_new = IceCredentials::random(rng);
  net.b().restart_local(b_new, net.now());
  ASSERT_TRUE(net.a().set_remote_credentials(b_new.ufrag, b_new.pwd, net.now()));
  net.drain_events();
  for (const auto& c : net.b_candidates) ASSERT_TRUE(net.a().add_remote_candidate(c, net.now()));
  for (const auto& c : net.a_candidates) ASSERT_TRUE(net.b().add_remote_candidate(c, net.now()));
}

TEST(IceAgent, RestartKeepsTheOldPairUntilANewOneIsSelected) {
  Net net(20);
  connect(net);
  SeededRandom rng(99);
  const auto old_ufrag = net.a().local_credentials().ufrag;
  const auto a_new = IceCredentials::random(rng);
  net.a().restart_local(a_new, net.now());
  EXPECT_TRUE(net.a().restarting());
  EXPECT_EQ(net.a().gathering_state(), IceGatheringState::kComplete);
  net.a_candidates.clear();
  net.drain_events();
  // The candidates are offered again under the new ufrag.
  ASSERT_EQ(net.a_candidates.size(), 1u);
  EXPECT_EQ(net.a_candidates[0].ufrag, a_new.ufrag);
  EXPECT_NE(a_new.ufrag, old_ufrag);
  // The answer is slow to come: the old pair carries data and keeps consent meanwhile.
  net.run([] { return false; }, Duration::seconds(20));
  EXPECT_TRUE(connected(net.a()));
  EXPECT_TRUE(connected(net.b()));
  auto wrapped =
      net.a().wrap_for_selected_pair(Buffer(as_bytes(std::string_view("data"))), net.now());
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(wrapped->source, kA);
  EXPECT_EQ(wrapped->destination, kB);
  // B sees the restart, answers with new credentials and a second address.
  ASSERT_TRUE(net.b().set_remote_credentials(a_new.ufrag, a_new.pwd, net.now()));
  EXPECT_TRUE(net.b().restarting());
  EXPECT_TRUE(connected(net.b()));
  const auto b_new = IceCredentials::random(rng);
  net.b_candidates.clear();
  net.b().restart_local(b_new, net.now());
  net.b().add_host_address(kB2, net.now());
  net.drain_events();
  ASSERT_EQ(net.b_candidates.size(), 2u);
  ASSERT_TRUE(net.a().set_remote_credentials(b_new.ufrag, b_new.pwd, net.now()));
  for (const auto& c : net.b_candidates) ASSERT_TRUE(net.a().add_remote_candidate(c, net.now()));
  for (const auto& c : net.a_candidates) ASSERT_TRUE(net.b().add_remote_candidate(c, net.now()));
  const Timestamp start = net.now();
  ASSERT_TRUE(net.run([&] { return !net.a().restarting() && !net.b().restarting(); }));
  EXPECT_LT((net.now() - start).ms(), 500);
  EXPECT_TRUE(connected(net.a()));
  EXPECT_TRUE(connected(net.b()));
  EXPECT_EQ(net.a().selected_pair()->local, kA);
  // The new pairs were checked under the new credentials: consent keeps working with them.
  net.run([] { return false; }, Duration::seconds(40));
  EXPECT_TRUE(connected(net.a()));
  EXPECT_TRUE(connected(net.b()));
}

TEST(IceAgent, CandidatesOfTheGenerationBeforeARestartAreIgnored) {
  Net net(21);
  connect(net);
  const Candidate old_candidate = net.b_candidates[0];
  SeededRandom rng(5);
  restart_from_a(net, rng);
  Candidate stale = old_candidate;
  stale.port = 6100;  // a candidate that only the old generation had
  const std::size_t pairs = net.a().pair_count();
  ASSERT_TRUE(net.a().add_remote_candidate(stale, net.now()));
  EXPECT_EQ(net.a().pair_count(), pairs);
  ASSERT_TRUE(net.run([&] { return !net.a().restarting() && !net.b().restarting(); }));
}

TEST(IceAgent, RestartRecoversAFailedConnection) {
  Net net(22);
  connect(net);
  net.b_silent = true;
  ASSERT_TRUE(net.run([&] { return net.a().state() == IceTransportState::kFailed; }));
  net.b_silent = false;
  SeededRandom rng(6);
  restart_from_a(net, rng);
  EXPECT_EQ(net.a().state(), IceTransportState::kChecking);
  EXPECT_FALSE(net.a().selected_pair());
  ASSERT_TRUE(net.run([&] { return connected(net.a()) && connected(net.b()); }));
  EXPECT_FALSE(net.a().restarting());
}

class IceRestartLoss : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(IceRestartLoss, RestartsWithTenPercentLoss) {
  Net net(GetParam());
  connect(net);
  net.loss = 0.1;
  SeededRandom rng(GetParam() + 1000);  // not the network's seed: new credentials differ
  restart_from_a(net, rng);
  ASSERT_TRUE(net.run([&] { return !net.a().restarting() && !net.b().restarting(); }));
  EXPECT_TRUE(connected(net.a()));
  EXPECT_TRUE(connected(net.b()));
}

INSTANTIATE_TEST_SUITE_P(Seeds, IceRestartLoss, ::testing::Range<std::uint64_t>(200, 210));

}  // namespace
}  // namespace rtcpp::ice

namespace rtcpp::ice {
namespace {

// Everything an agent sends is determined by the Random it is given: two agents seeded alike
// write the same bytes (STUN transaction ids included), differently seeded ones do not.
std::vector<Buffer> first_datagrams(std::uint64_t seed) {
  SeededRandom rng(seed);
  IceAgent agent({}, IceRole::kControlling, IceCredentials::random(rng), rng);
  const Timestamp now = Timestamp::seconds(1);
  agent.add_host_address(*SocketAddress::parse("10.0.0.1:5000"), now);
  agent.add_stun_server(*SocketAddress::parse("192.0.2.1:3478"), now);
  agent.handle_timeout(now);
  std::vector<Buffer> out;
  while (auto d = agent.poll_transmit()) out.push_back(std::move(d->payload));
  return out;
}

TEST(IceAgent, SameSeedSameBytes) {
  const auto first = first_datagrams(42);
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first, first_datagrams(42));
  EXPECT_NE(first, first_datagrams(43));
}

}  // namespace
}  // namespace rtcpp::ice
