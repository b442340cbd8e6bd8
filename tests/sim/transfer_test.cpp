// The example reliable transfer and the demo scenario built on it.
#include "transfer.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "demo.hpp"
#include "sim_test_util.hpp"

namespace rtcpp::sim {
namespace {

using testing::kIpA;
using testing::kIpB;

struct TransferRun {
  bool complete = false;
  TransferStats sender;
  TransferStats receiver;
  std::uint32_t received = 0;
  Counters counters;
};

TransferRun transfer_between_public_hosts(std::uint64_t seed, double loss) {
  Network net(seed);
  LinkConfig link;
  link.delay = Duration::millis(20);
  link.jitter = Duration::millis(5);
  link.loss = loss;
  link.reorder = 0.02;
  link.duplicate = 0.01;
  net.set_default_link(link);
  const SocketAddress s_addr(kIpA, 1000);
  const SocketAddress r_addr(kIpB, 2000);
  TransferConfig config;
  config.count = 300;
  config.payload_size = 800;
  ReliableSender sender(s_addr, config);
  ReliableReceiver receiver(r_addr);
  std::uint32_t completions = 0;
  SansIoNode<ReliableSender> ns(sender, [&](TransferEvent&& e, Timestamp) {
    if (e.kind == TransferEvent::Kind::kComplete) ++completions;
  });
  SansIoNode<ReliableReceiver> nr(receiver);
  net.bind(net.add_host({kIpA}), s_addr, ns);
  net.bind(net.add_host({kIpB}), r_addr, nr);
  sender.start(r_addr, net.now());
  net.wake(ns);
  TransferRun run;
  run.complete = net.run_until([&] { return sender.complete() && receiver.complete(); },
                               net.now() + Duration::seconds(120));
  EXPECT_EQ(completions, run.complete ? 1u : 0u);
  run.sender = sender.stats();
  run.receiver = receiver.stats();
  run.received = receiver.received();
  run.counters = net.counters();
  return run;
}

TEST(SimTransfer, CompletesOverTenPercentLossEachWay) {
  for (std::uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    const TransferRun r = transfer_between_public_hosts(seed, 0.10);
    ASSERT_TRUE(r.complete);
    EXPECT_EQ(r.received, 300u);
    EXPECT_EQ(r.receiver.corrupt, 0u);
    // Two impaired links each way: a data packet or its ack is lost about 34 % of the time.
    EXPECT_GT(r.sender.retransmissions, 30u);
    EXPECT_EQ(r.sender.data_sent, 300 + r.sender.retransmissions);
    EXPECT_GT(r.sender.fast_retransmissions, 0u);
    EXPECT_LE(r.sender.fast_retransmissions, r.sender.retransmissions);
    EXPECT_GT(r.counters.lost, 0u);
  }
}

TEST(SimTransfer, CleanLinkNeedsNoRetransmissions) {
  const TransferRun r = transfer_between_public_hosts(4, 0.0);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.sender.retransmissions, 0u);
  EXPECT_EQ(r.sender.fast_retransmissions, 0u);
  EXPECT_EQ(r.sender.data_sent, 300u);
}

TEST(SimTransfer, ReflectorReportsThePublicMapping) {
  Network net(5);
  const auto nat = net.add_nat(nat_presets::symmetric(IpAddress::v4(203, 0, 113, 7)));
  const SocketAddress inside(IpAddress::v4(10, 1, 2, 3), 4444);
  const SocketAddress reflector_addr(kIpA, 3478);
  Reflector reflector(reflector_addr);
  ReliableReceiver endpoint(inside);
  SansIoNode<Reflector> nref(reflector);
  std::optional<SocketAddress> learned;
  SansIoNode<ReliableReceiver> ne(endpoint, [&](TransferEvent&& e, Timestamp) {
    if (e.kind == TransferEvent::Kind::kAddressLearned) learned = e.address;
  });
  net.bind(net.add_host({kIpA}), reflector_addr, nref);
  net.bind(net.add_host({inside.ip()}, nat), inside, ne);
  LinkConfig lossy;
  lossy.loss = 0.5;  // the query is retried until it gets through
  net.set_nat_links(nat, lossy, lossy);
  endpoint.query_reflector(reflector_addr, net.now());
  net.wake(ne);
  ASSERT_TRUE(
      net.run_until([&] { return learned.has_value(); }, net.now() + Duration::seconds(30)));
  EXPECT_EQ(*learned, SocketAddress(IpAddress::v4(203, 0, 113, 7), 49152));
  EXPECT_EQ(endpoint.reflexive_address(), learned);
}

TEST(SimDemo, CompletesBehindTwoNatsOverTenPercentLoss) {
  for (std::uint64_t seed : {1, 7, 99}) {
    SCOPED_TRACE(seed);
    DemoOptions options;
    options.seed = seed;
    options.loss = 0.10;
    const DemoReport r = run_demo_scenario(options);
    ASSERT_TRUE(r.complete) << r.error;
    EXPECT_GT(r.retransmissions, 0u);
    EXPECT_GT(r.lost, 0u);
    EXPECT_EQ(r.sender_public.rfind("203.0.113.10:", 0), 0u) << r.sender_public;
    EXPECT_EQ(r.receiver_public.rfind("198.51.100.20:", 0), 0u) << r.receiver_public;
    EXPECT_GE(r.mappings_sender_nat, 1u);
    EXPECT_GE(r.mappings_receiver_nat, 1u);
    EXPECT_GT(r.elapsed, Duration::zero());
  }
}

TEST(SimDemo, IsDeterministic) {
  DemoOptions options;
  options.seed = 3;
  const DemoReport a = run_demo_scenario(options);
  const DemoReport b = run_demo_scenario(options);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.elapsed, b.elapsed);
  options.seed = 4;
  EXPECT_NE(run_demo_scenario(options).trace_hash, a.trace_hash);
}

TEST(SimDemo, PrintsASummaryAndReturnsZero) {
  std::ostringstream out;
  DemoOptions options;
  options.packets = 50;
  EXPECT_EQ(run_demo(out, options), 0);
  const std::string text = out.str();
  EXPECT_NE(text.find("virtual"), std::string::npos) << text;
  EXPECT_NE(text.find("complete"), std::string::npos) << text;
  EXPECT_NE(text.find("trace hash: " + run_demo_scenario(options).trace_hash), std::string::npos)
      << text;
}

TEST(SimDemo, RejectsBadOptions) {
  std::ostringstream out;
  DemoOptions options;
  options.loss = 1.0;
  EXPECT_EQ(run_demo(out, options), 2);
  options.loss = 0.1;
  options.pcap_path = "/nonexistent-dir/x.pcap";
  EXPECT_EQ(run_demo(out, options), 2);
  options.pcap_path.clear();
  options.payload_size = 1500;
  EXPECT_EQ(run_demo(out, options), 2);
}

TEST(SimDemo, ReportsFailureWhenTheTransferCannotFinish) {
  std::ostringstream out;
  DemoOptions options;
  options.loss = 0.95;
  options.time_limit = Duration::seconds(5);
  EXPECT_EQ(run_demo(out, options), 1);
  EXPECT_NE(out.str().find("FAILED"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace rtcpp::sim
