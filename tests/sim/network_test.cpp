// The simulator's event loop, routing, binding and trace.
#include <gtest/gtest.h>

#include <stdexcept>

#include "sim_test_util.hpp"

namespace rtcpp::sim {
namespace {

using testing::kIpA;
using testing::kIpB;
using testing::Probe;
using testing::TwoHosts;

TEST(SimNetwork, ClockStartsAtTheOriginAndRunUntilNeverPassesTheDeadline) {
  LinkConfig link;
  link.delay = Duration::millis(30);
  TwoHosts t(1, link);
  EXPECT_EQ(t.net.now(), Network::kOrigin);
  t.a.start({kIpB, 2000}, 10, Duration::millis(10), t.net.now());
  t.net.wake(t.node_a);
  const Timestamp deadline = t.net.now() + Duration::millis(25);
  EXPECT_FALSE(t.net.run_until([&] { return !t.b.arrivals.empty(); }, deadline));
  EXPECT_EQ(t.net.now(), deadline);
  EXPECT_FALSE(t.net.idle());
  // The first datagram lands at 30 ms; the condition stops the run right there.
  EXPECT_TRUE(t.net.run_until([&] { return !t.b.arrivals.empty(); },
                              Network::kOrigin + Duration::seconds(1)));
  EXPECT_EQ(t.net.now(), Network::kOrigin + Duration::millis(30));
  EXPECT_EQ(t.b.arrivals.size(), 1u);
  t.net.run_for(Duration::seconds(1));
  EXPECT_EQ(t.b.arrivals.size(), 10u);
  EXPECT_TRUE(t.net.idle());
  EXPECT_FALSE(t.net.step());
}

TEST(SimNetwork, SameTimeEventsKeepTheirOrder) {
  TwoHosts t(2, LinkConfig{});  // zero delay: everything happens at one instant
  for (int i = 0; i < 50; ++i) t.a.send_now({kIpB, 2000}, t.net.now());
  t.net.wake(t.node_a);
  t.net.run_for(Duration::zero());
  ASSERT_EQ(t.b.arrivals.size(), 50u);
  for (std::uint32_t i = 0; i < 50; ++i) EXPECT_EQ(t.b.arrivals[i].sequence, i);
  EXPECT_EQ(t.net.now(), Network::kOrigin);
}

TEST(SimNetwork, UnboundAndBadSourceAreCountedNotFatal) {
  TwoHosts t(3, LinkConfig{});
  t.a.send_now({kIpB, 9999}, t.net.now());  // nobody is bound there
  t.net.wake(t.node_a);
  t.net.run_for(Duration::millis(10));
  EXPECT_EQ(t.net.counters().unbound, 1u);
  EXPECT_EQ(t.net.counters().sent, 1u);
  EXPECT_EQ(t.net.counters().delivered, 0u);
  EXPECT_TRUE(t.net.errors().empty());

  Probe stray({kIpA, 7777});  // sends from an address that is not bound to it
  SansIoNode<Probe> stray_node(stray);
  stray.send_now({kIpB, 2000}, t.net.now());
  t.net.wake(stray_node);
  t.net.run_for(Duration::millis(10));
  EXPECT_EQ(t.net.counters().bad_source, 1u);
  EXPECT_TRUE(t.b.arrivals.empty());
  ASSERT_EQ(t.net.errors().size(), 1u);
  EXPECT_NE(t.net.errors()[0].find("198.51.100.1:7777"), std::string::npos);
}

TEST(SimNetwork, BindRejectsForeignAndDuplicateAddresses) {
  TwoHosts t(4, LinkConfig{});
  Probe p({kIpB, 1});
  SansIoNode<Probe> node(p);
  EXPECT_THROW(t.net.bind(t.host_a, {kIpB, 1}, node), std::invalid_argument);
  EXPECT_THROW(t.net.bind(t.host_b, {kIpB, 2000}, node), std::invalid_argument);
  EXPECT_THROW(t.net.add_host({kIpA}), std::invalid_argument);
}

TEST(SimNetwork, NodeMayBindSeveralAddressesAndHostsMayBeDualStack) {
  const IpAddress v6 = *IpAddress::parse("2001:db8::2");
  Network net(5);
  const auto a = net.add_host({kIpA, *IpAddress::parse("2001:db8::1")});
  const auto b = net.add_host({kIpB, v6});
  Probe pa({kIpA, 1}), pa6({*IpAddress::parse("2001:db8::1"), 1}), pb({kIpB, 2});
  SansIoNode<Probe> na(pa), na6(pa6), nb(pb);
  net.bind(a, {kIpA, 1}, na);
  net.bind(a, {*IpAddress::parse("2001:db8::1"), 1}, na6);
  net.bind(b, {kIpB, 2}, nb);
  net.bind(b, {v6, 2}, nb);
  pa.send_now({kIpB, 2}, net.now());
  pa6.send_now({v6, 2}, net.now());
  pa.send_now({v6, 2}, net.now());  // IPv4 source to an IPv6 destination: unroutable
  net.wake(na);
  net.wake(na6);
  net.run_for(Duration::millis(1));
  ASSERT_EQ(pb.arrivals.size(), 2u);
  EXPECT_TRUE(pb.arrivals[0].from.ip().is_v4());
  EXPECT_TRUE(pb.arrivals[1].from.ip().is_v6());
  EXPECT_EQ(net.counters().unroutable, 1u);
}

TEST(SimNetwork, DefaultLinkAppliesToLinksWithoutTheirOwn) {
  LinkConfig slow;
  slow.delay = Duration::millis(7);
  Network net(6);
  net.set_default_link(slow);
  const auto a = net.add_host({kIpA});
  const auto b = net.add_host({kIpB});
  Probe pa({kIpA, 1}), pb({kIpB, 2});
  SansIoNode<Probe> na(pa), nb(pb);
  net.bind(a, {kIpA, 1}, na);
  net.bind(b, {kIpB, 2}, nb);
  pa.send_now({kIpB, 2}, net.now());
  net.wake(na);
  net.run_for(Duration::millis(100));
  ASSERT_EQ(pb.arrivals.size(), 1u);
  EXPECT_EQ((pb.arrivals[0].received - pb.arrivals[0].sent).us(), 14000);  // up + down
  net.set_links(b, LinkConfig{}, LinkConfig{});
  pa.send_now({kIpB, 2}, net.now());
  net.wake(na);
  net.run_for(Duration::millis(100));
  ASSERT_EQ(pb.arrivals.size(), 2u);
  EXPECT_EQ((pb.arrivals[1].received - pb.arrivals[1].sent).us(), 7000);
}

TEST(SimNetwork, NatLinksAreTraversedAndCounted) {
  Network net(7);
  const auto nat = net.add_nat(nat_presets::full_cone(IpAddress::v4(203, 0, 113, 1)));
  LinkConfig up;
  up.delay = Duration::millis(3);
  LinkConfig down;
  down.delay = Duration::millis(5);
  net.set_nat_links(nat, up, down);
  const SocketAddress inside(IpAddress::v4(10, 0, 0, 2), 1);
  Probe client(inside), server({kIpA, 2});
  server.echo = true;
  SansIoNode<Probe> nc(client), ns(server);
  net.bind(net.add_host({inside.ip()}, nat), inside, nc);
  net.bind(net.add_host({kIpA}), {kIpA, 2}, ns);
  client.send_now({kIpA, 2}, net.now());
  net.wake(nc);
  net.run_for(Duration::millis(100));
  ASSERT_EQ(server.arrivals.size(), 1u);
  ASSERT_EQ(client.arrivals.size(), 1u);
  EXPECT_EQ((server.arrivals[0].received - server.arrivals[0].sent).us(), 3000);
  EXPECT_EQ((client.arrivals[0].received - client.arrivals[0].sent).us(), 8000);
  EXPECT_EQ(net.nat_link(nat, Direction::kUp).sent, 1u);
  EXPECT_EQ(net.nat_link(nat, Direction::kDown).delivered, 1u);
}

// Wants handle_timeout at `now` forever: the simulator must not hang.
class StuckTimer {
 public:
  void handle_packet(const Datagram&, Timestamp) {}
  void handle_timeout(Timestamp now) {
    ++fired;
    last = now;
  }
  std::optional<Datagram> poll_transmit() { return std::nullopt; }
  std::optional<int> poll_event() { return std::nullopt; }
  std::optional<Timestamp> next_timeout() const { return Timestamp::zero(); }  // the past
  int fired = 0;
  Timestamp last;
};

TEST(SimNetwork, ATimerStormIsReportedAndParkedInsteadOfHanging) {
  Network net(8);
  const auto host = net.add_host({kIpA});
  StuckTimer stuck;
  SansIoNode<StuckTimer> node(stuck);
  net.bind(host, {kIpA, 1}, node);
  net.wake(node);
  net.run_for(Duration::seconds(1));
  EXPECT_EQ(stuck.fired, static_cast<int>(Network::kMaxTimerFiresPerInstant));
  EXPECT_EQ(stuck.last, Network::kOrigin);  // a timer in the past fires at now
  ASSERT_EQ(net.errors().size(), 1u);
  EXPECT_NE(net.errors()[0].find("parked"), std::string::npos);
  EXPECT_EQ(net.now(), Network::kOrigin + Duration::seconds(1));
}

// Emits one event per timer, and re-arms at +10 ms three times.
class Ticker {
 public:
  void handle_packet(const Datagram&, Timestamp) {}
  void handle_timeout(Timestamp now) {
    events_.push_back(++ticks_);
    next_ = ticks_ < 3 ? std::optional(now + Duration::millis(10)) : std::nullopt;
  }
  std::optional<Datagram> poll_transmit() { return std::nullopt; }
  std::optional<int> poll_event() {
    if (events_.empty()) return std::nullopt;
    const int e = events_.back();
    events_.pop_back();
    return e;
  }
  std::optional<Timestamp> next_timeout() const { return next_; }
  std::optional<Timestamp> next_ = Network::kOrigin + Duration::millis(10);

 private:
  int ticks_ = 0;
  std::vector<int> events_;
};

TEST(SimNetwork, TimersFireOnTimeAndEventsReachTheCallback) {
  Network net(9);
  const auto host = net.add_host({kIpA});
  Ticker ticker;
  std::vector<std::pair<int, Timestamp>> seen;
  SansIoNode<Ticker> node(ticker, [&](int&& e, Timestamp at) { seen.emplace_back(e, at); });
  net.bind(host, {kIpA, 1}, node);
  net.wake(node);
  net.run_for(Duration::seconds(1));
  ASSERT_EQ(seen.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(seen[i].first, i + 1);
    EXPECT_EQ(seen[i].second, Network::kOrigin + Duration::millis(10 * (i + 1)));
  }
}

TEST(SimNetwork, UnbindCancelsTimersAndDelivery) {
  Network net(10);
  const auto host = net.add_host({kIpA});
  Ticker ticker;
  int events = 0;
  SansIoNode<Ticker> node(ticker, [&](int&&, Timestamp) { ++events; });
  net.bind(host, {kIpA, 1}, node);
  net.wake(node);
  net.unbind(node);
  net.run_for(Duration::seconds(1));
  EXPECT_EQ(events, 0);
  net.bind(host, {kIpA, 1}, node);  // the address is free again
}

TEST(SimNetwork, TraceObserverSeesEveryKind) {
  LinkConfig link;
  link.loss = 0.3;
  link.duplicate = 0.3;
  TwoHosts t(11, link);
  std::map<TraceKind, int> kinds;
  std::map<DropReason, int> reasons;
  t.net.set_trace_observer([&](const TraceRecord& r) {
    ++kinds[r.kind];
    if (r.kind == TraceKind::kDrop) ++reasons[r.reason];
  });
  t.send(200, Duration::millis(1));
  EXPECT_EQ(kinds[TraceKind::kSend], 200);
  EXPECT_EQ(static_cast<std::uint64_t>(kinds[TraceKind::kDeliver]), t.b.arrivals.size());
  EXPECT_EQ(static_cast<std::uint64_t>(kinds[TraceKind::kDuplicate]), t.net.counters().duplicated);
  EXPECT_EQ(static_cast<std::uint64_t>(reasons[DropReason::kLoss]), t.net.counters().lost);
  EXPECT_GT(reasons[DropReason::kLoss], 0);
  EXPECT_EQ(kinds[TraceKind::kDrop], reasons[DropReason::kLoss]);
}

TEST(SimNetwork, TraceHashCoversPayloadsAndTimes) {
  auto run = [](std::size_t payload, Duration delay) {
    LinkConfig link;
    link.delay = delay;
    TwoHosts t(12, link, payload);
    t.send(10, Duration::millis(1));
    return t.net.trace_hash();
  };
  const std::string base = run(100, Duration::millis(5));
  EXPECT_EQ(run(100, Duration::millis(5)), base);
  EXPECT_NE(run(101, Duration::millis(5)), base);
  EXPECT_NE(run(100, Duration::millis(6)), base);
}

}  // namespace
}  // namespace rtcpp::sim
