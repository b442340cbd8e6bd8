// Stream reconfiguration bookkeeping on its own (RFC 6525): our Outgoing SSN Reset
// Requests and the answers to the peer's.
#include "sctp/stream_reset.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtcpp::sctp {
namespace {

using R = ReconfigResponse::Result;
using Streams = std::vector<std::uint16_t>;
constexpr Duration kRto = Duration::millis(100);
constexpr Duration kRtoMax = Duration::seconds(1);

auto nothing_queued = [](std::uint16_t) { return false; };

OutgoingResetRequest parse_request(const Buffer& params) {
  auto parsed = parse_parameters(params.view());
  EXPECT_TRUE(parsed && parsed->size() == 1);
  auto request = OutgoingResetRequest::parse(parsed->at(0));
  EXPECT_TRUE(request);
  return *request;
}

TEST(StreamResetter, RequestWaitsForTheStreamsQueueToEmpty) {
  // RFC 8831 6.7: a stream is reset once everything queued on it has a TSN.
  StreamResetter r;
  r.start_outgoing(500);
  r.start_incoming(900);
  const Streams streams{1, 2};
  r.request(streams);
  EXPECT_TRUE(r.is_resetting(1));
  EXPECT_FALSE(r.is_resetting(3));
  auto queued = [](std::uint16_t s) { return s == 1 || s == 2; };
  EXPECT_FALSE(r.ready(queued));
  auto only_2_queued = [](std::uint16_t s) { return s == 2; };
  ASSERT_TRUE(r.ready(only_2_queued));
  r.make_request(Tsn(0x100000007), only_2_queued);
  EXPECT_FALSE(r.ready(nothing_queued));  // one outstanding at a time
  Buffer params;
  ASSERT_TRUE(r.write_request(params, Timestamp::zero(), kRto, kRtoMax));
  const OutgoingResetRequest sent = parse_request(params);
  EXPECT_EQ(sent.request_sequence, 500u);   // RFC 6525 5.1.1: starts at the initial TSN
  EXPECT_EQ(sent.response_sequence, 899u);  // 4.1: the peer's last request number
  EXPECT_EQ(sent.sender_last_tsn, 7u);
  EXPECT_EQ(sent.streams, Streams{1});
}

TEST(StreamResetter, RetransmissionsBackOff) {
  StreamResetter r;
  const Streams streams{1};
  r.request(streams);
  r.make_request(Tsn(1), nothing_queued);
  Buffer params;
  r.write_request(params, Timestamp::zero(), kRto, kRtoMax);
  EXPECT_EQ(r.timer().deadline(), Timestamp::millis(100));
  r.write_request(params, Timestamp::millis(100), kRto, kRtoMax);
  EXPECT_EQ(r.timer().deadline(), Timestamp::millis(300));
}

TEST(StreamResetter, ResponsesEndTheRequest) {
  StreamResetter r;
  r.start_outgoing(10);
  const Streams streams{4};
  r.request(streams);
  r.make_request(Tsn(99), nothing_queued);
  Buffer params;
  r.write_request(params, Timestamp::zero(), kRto, kRtoMax);
  // Another request's number: ignored.
  EXPECT_EQ(r.on_response({11, R::kSuccessPerformed}, Timestamp::zero(), kRto).kind,
            StreamResetter::Outcome::kNone);
  // RFC 6525 5.2.7: In Progress, asked again after an RTO.
  EXPECT_EQ(r.on_response({10, R::kInProgress}, Timestamp::millis(50), kRto).kind,
            StreamResetter::Outcome::kNone);
  EXPECT_EQ(r.timer().deadline(), Timestamp::millis(150));
  const auto done = r.on_response({10, R::kSuccessPerformed}, Timestamp::millis(60), kRto);
  EXPECT_EQ(done.kind, StreamResetter::Outcome::kPerformed);
  EXPECT_EQ(done.streams, Streams{4});
  EXPECT_EQ(done.last_tsn, Tsn(99));
  EXPECT_FALSE(r.is_resetting(4));
  EXPECT_FALSE(r.outstanding());
  EXPECT_FALSE(r.timer().running());
  // A refusal frees the streams too.
  r.request(streams);
  r.make_request(Tsn(100), nothing_queued);
  const auto refused = r.on_response({11, R::kDenied}, Timestamp::millis(70), kRto);
  EXPECT_EQ(refused.kind, StreamResetter::Outcome::kFailed);
  EXPECT_FALSE(r.is_resetting(4));
}

TEST(StreamResetter, PeersRequestIsPerformedOnceItsDataArrived) {
  // RFC 6525 5.2.2: deferred until the cumulative TSN reaches the sender's last TSN.
  StreamResetter r;
  r.start_incoming(700);
  OutgoingResetRequest request;
  request.request_sequence = 700;
  request.streams = {3};
  auto d = r.on_request(request, true, Tsn(50), Tsn(40));
  EXPECT_EQ(d.result, R::kInProgress);
  EXPECT_FALSE(d.perform_now);
  EXPECT_FALSE(r.take_due_incoming(Tsn(49)));
  // RFC 6525 5.2.1: a retransmission gets the last answer; a new one waits its turn.
  EXPECT_EQ(r.on_request(request, true, Tsn(50), Tsn(45)).result, R::kInProgress);
  request.request_sequence = 701;
  EXPECT_EQ(r.on_request(request, true, Tsn(50), Tsn(45)).result,
            R::kErrorRequestAlreadyInProgress);
  const auto due = r.take_due_incoming(Tsn(50));
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, Streams{3});
  request.request_sequence = 700;  // retransmitted after the reset: now performed
  EXPECT_EQ(r.on_request(request, true, Tsn(50), Tsn(50)).result, R::kSuccessPerformed);
}

TEST(StreamResetter, PeersRequestChecks) {
  StreamResetter r;
  r.start_incoming(700);
  OutgoingResetRequest request;
  request.request_sequence = 705;
  EXPECT_EQ(r.on_request(request, true, Tsn(1), Tsn(1)).result, R::kErrorBadSequenceNumber);
  request.request_sequence = 700;
  EXPECT_EQ(r.on_request(request, false, Tsn(1), Tsn(1)).result, R::kDenied);
  request.request_sequence = 701;
  const auto d = r.on_request(request, true, Tsn(1), Tsn(1));
  EXPECT_EQ(d.result, R::kSuccessPerformed);
  EXPECT_TRUE(d.perform_now);
}

}  // namespace
}  // namespace rtcpp::sctp
