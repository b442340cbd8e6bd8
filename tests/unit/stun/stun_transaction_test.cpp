#include "stun/stun_transaction.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtcpp::stun {
namespace {

const SocketAddress kClient = *SocketAddress::parse("10.0.0.1:5000");
const SocketAddress kServer = *SocketAddress::parse("192.0.2.7:3478");

struct Request {
  TransactionId id;
  Buffer bytes;
};

Request binding_request() {
  static SeededRandom rng(11);
  Request r{random_transaction_id(rng), {}};
  r.bytes = StunMessageBuilder(StunClass::kRequest, method::kBinding, r.id).finish();
  return r;
}

// Runs the transactions' timers until nothing is outstanding; returns the send times (ms).
std::vector<std::int64_t> send_times(ClientTransactions& tx, Timestamp start) {
  std::vector<std::int64_t> times;
  Timestamp now = start;
  for (int guard = 0; guard < 100; ++guard) {
    while (auto d = tx.poll_transmit()) times.push_back((now - start).ms());
    auto next = tx.next_timeout();
    if (!next) break;
    now = *next;
    tx.handle_timeout(now);
  }
  return times;
}

TEST(ClientTransactions, Rfc8489RetransmissionSchedule) {
  ClientTransactions tx;
  auto r = binding_request();
  ASSERT_TRUE(tx.start(r.id, r.bytes, kClient, kServer, Timestamp::seconds(10), 42));
  const auto times = send_times(tx, Timestamp::seconds(10));
  // RFC 8489 6.2.1 example: with RTO 500 ms, sent at 0, 500, 1500, 3500, 7500, 15500 and
  // 31500 ms; failure declared at 39500 ms.
  EXPECT_EQ(times, (std::vector<std::int64_t>{0, 500, 1500, 3500, 7500, 15500, 31500}));
  auto timeout = tx.poll_timeout();
  ASSERT_TRUE(timeout);
  EXPECT_EQ(timeout->id, r.id);
  EXPECT_EQ(timeout->tag, 42u);
  EXPECT_FALSE(tx.poll_timeout());
  EXPECT_EQ(tx.outstanding(), 0u);
}

TEST(ClientTransactions, TimeoutFiresAtRfcDeadline) {
  ClientTransactions tx;
  auto r = binding_request();
  const Timestamp start = Timestamp::zero();
  tx.start(r.id, r.bytes, kClient, kServer, start);
  Timestamp now = start;
  while (auto next = tx.next_timeout()) {
    now = *next;
    tx.handle_timeout(now);
    while (tx.poll_transmit()) {
    }
  }
  EXPECT_EQ((now - start).ms(), 39500);
  EXPECT_TRUE(tx.poll_timeout());
}

TEST(ClientTransactions, ResponseEndsTransactionAndReturnsTag) {
  ClientTransactions tx;
  auto r = binding_request();
  tx.start(r.id, r.bytes, kClient, kServer, Timestamp::zero(), 7);
  auto sent = tx.poll_transmit();
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->destination, kServer);
  EXPECT_EQ(sent->source, kClient);
  EXPECT_EQ(sent->payload, r.bytes);

  auto request = StunMessage::parse(r.bytes);
  ASSERT_TRUE(request);
  auto builder = StunMessageBuilder::response_to(*request, StunClass::kSuccessResponse);
  builder.add_xor_address(attr::kXorMappedAddress, kClient);
  const Buffer response_bytes = builder.finish();
  auto response = StunMessage::parse(response_bytes);
  ASSERT_TRUE(response);
  EXPECT_EQ(tx.match_response(*response), 7u);
  EXPECT_EQ(tx.outstanding(), 0u);
  EXPECT_FALSE(tx.next_timeout());
  EXPECT_FALSE(tx.match_response(*response));  // a duplicate response matches nothing
}

TEST(ClientTransactions, RequestsAndUnknownIdsDoNotMatch) {
  ClientTransactions tx;
  auto r = binding_request();
  tx.start(r.id, r.bytes, kClient, kServer, Timestamp::zero());
  auto request = StunMessage::parse(r.bytes);
  EXPECT_FALSE(tx.match_response(*request));  // same id, but a request
  auto other = binding_request();
  auto builder = StunMessageBuilder(StunClass::kSuccessResponse, method::kBinding, other.id);
  const Buffer bytes = builder.finish();
  EXPECT_FALSE(tx.match_response(*StunMessage::parse(bytes)));
  EXPECT_EQ(tx.outstanding(), 1u);
}

TEST(ClientTransactions, DuplicateIdRejectedAndCancel) {
  ClientTransactions tx;
  auto r = binding_request();
  EXPECT_TRUE(tx.start(r.id, r.bytes, kClient, kServer, Timestamp::zero()));
  EXPECT_FALSE(tx.start(r.id, r.bytes, kClient, kServer, Timestamp::zero()));
  EXPECT_TRUE(tx.cancel(r.id));
  EXPECT_FALSE(tx.cancel(r.id));
  EXPECT_FALSE(tx.next_timeout());
}

TEST(ClientTransactions, ReliableTransportSendsOnceAndWaits) {
  TransactionConfig config;
  config.reliable = true;
  ClientTransactions tx(config);
  auto r = binding_request();
  tx.start(r.id, r.bytes, kClient, kServer, Timestamp::zero());
  const auto times = send_times(tx, Timestamp::zero());
  EXPECT_EQ(times, std::vector<std::int64_t>{0});
  EXPECT_TRUE(tx.poll_timeout());
}

TEST(ClientTransactions, RetransmitNowSendsAgainAndRestartsTheBackOff) {
  ClientTransactions tx;
  auto r = binding_request();
  const Timestamp start = Timestamp::zero();
  tx.start(r.id, r.bytes, kClient, kServer, start);
  ASSERT_TRUE(tx.poll_transmit());
  tx.handle_timeout(start + Duration::millis(500));  // second transmission; RTO now 1 s
  ASSERT_TRUE(tx.poll_transmit());
  const Timestamp asked = start + Duration::millis(700);
  ASSERT_TRUE(tx.retransmit_now(r.id, asked));
  auto again = tx.poll_transmit();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->payload, r.bytes);
  // The back-off restarts from the initial RTO: next at +500 ms, then +1 s, +2 s.
  EXPECT_EQ(send_times(tx, asked), (std::vector<std::int64_t>{500, 1500, 3500, 7500}));
  // Seven transmissions in all, then the transaction timed out: there is nothing to send again.
  EXPECT_TRUE(tx.poll_timeout());
  EXPECT_FALSE(tx.retransmit_now(r.id, asked));
}

TEST(ClientTransactions, RetransmitNowStopsAtTheLastTransmission) {
  TransactionConfig config;
  config.max_transmissions = 2;
  ClientTransactions tx(config);
  auto r = binding_request();
  tx.start(r.id, r.bytes, kClient, kServer, Timestamp::zero());
  EXPECT_TRUE(tx.retransmit_now(r.id, Timestamp::zero()));
  EXPECT_FALSE(tx.retransmit_now(r.id, Timestamp::zero()));
  auto other = binding_request();
  EXPECT_FALSE(tx.retransmit_now(other.id, Timestamp::zero()));
  int sent = 0;
  while (tx.poll_transmit()) ++sent;
  EXPECT_EQ(sent, 2);
}

TEST(ClientTransactions, RetransmitNowIsRefusedOverReliableTransports) {
  TransactionConfig config;
  config.reliable = true;
  ClientTransactions tx(config);
  auto r = binding_request();
  tx.start(r.id, r.bytes, kClient, kServer, Timestamp::zero());
  ASSERT_TRUE(tx.poll_transmit());
  EXPECT_FALSE(tx.retransmit_now(r.id, Timestamp::zero() + Duration::millis(10)));
  EXPECT_FALSE(tx.poll_transmit());
}

TEST(ClientTransactions, CustomRtoAndCap) {
  TransactionConfig config;
  config.initial_rto = Duration::millis(100);
  config.max_rto = Duration::millis(400);
  config.max_transmissions = 6;
  config.final_wait_factor = 4;
  ClientTransactions tx(config);
  auto r = binding_request();
  tx.start(r.id, r.bytes, kClient, kServer, Timestamp::zero());
  EXPECT_EQ(send_times(tx, Timestamp::zero()),
            (std::vector<std::int64_t>{0, 100, 300, 700, 1100, 1500}));
}

TEST(ClientTransactions, ManyTransactionsEachOnTheirOwnSchedule) {
  ClientTransactions tx;
  std::vector<Request> requests;
  for (int i = 0; i < 10; ++i) {
    requests.push_back(binding_request());
    tx.start(requests.back().id, requests.back().bytes, kClient, kServer, Timestamp::millis(i * 20),
             static_cast<std::uint64_t>(i));
  }
  EXPECT_EQ(tx.next_timeout(), Timestamp::millis(500));
  int sent = 0;
  while (tx.poll_transmit()) ++sent;
  EXPECT_EQ(sent, 10);
  tx.handle_timeout(Timestamp::millis(530));  // the first two are due
  sent = 0;
  while (tx.poll_transmit()) ++sent;
  EXPECT_EQ(sent, 2);
}

}  // namespace
}  // namespace rtcpp::stun
