// The retransmission queue on its own: acknowledgement by SACK (RFC 9260 6.2.1, 3.3.4),
// fast retransmit after three miss indications (7.2.4) counted in transmission order or
// after the loss detection delay (RFC 8985 6.2), tail loss probes (RFC 8985 7), T3-rtx
// (6.3.3), and partial
// reliability's abandonment and FORWARD-TSN (RFC 3758 3.5).
#include "sctp/retransmission_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtcpp::sctp {
namespace {

constexpr std::uint32_t kInitialTsn = 100;

class Retransmission : public ::testing::Test {
 protected:
  Retransmission() {
    queue_.start(16);
    rtx_.start(kInitialTsn);
  }

  // Sends `chunks` one-chunk messages of 100 bytes each on `stream`, at `now`.
  void send(int chunks, Timestamp now, std::uint16_t stream = 0,
            std::optional<std::uint16_t> max_retransmits = std::nullopt) {
    for (int i = 0; i < chunks; ++i) {
      const std::uint64_t id =
          queue_.add(StreamId(stream), 51, BytesView(payload_.data(), payload_.size()),
                     {.max_retransmits = max_retransmits});
      SendQueue::Message* m = queue_.next();
      queue_.assign_sequence(*m);
      RetransmissionQueue::Chunk c;
      c.stream = stream;
      c.sequence = m->sequence;
      c.ppid = 51;
      c.flags = DataChunk::kFlagBeginning | DataChunk::kFlagEnd;
      c.slot = m->slot;
      c.offset = 0;
      c.length = 100;
      c.sent_at = now;
      c.message_id = id;
      c.max_retransmits = max_retransmits;
      queue_.add_reference(m->slot);
      queue_.pop(StreamId(stream));
      rtx_.add(c);
    }
  }

  SackChunk sack(std::uint32_t cumulative, std::vector<SackChunk::GapBlock> gaps = {}) {
    SackChunk s;
    s.cumulative_tsn_ack = cumulative;
    s.a_rwnd = 100000;
    s.gap_blocks = std::move(gaps);
    return s;
  }

  // A SACK, with loss detected by miss indications only unless `loss_delay` is given.
  RetransmissionQueue::SackOutcome ack(const SackChunk& s, Timestamp now, SendQueue& queue,
                                       Duration loss_delay = Duration::infinite()) {
    return rtx_.on_sack(s, now, loss_delay, queue);
  }

  // TSNs retransmitted now.
  std::vector<std::uint32_t> retransmitted(Timestamp now) {
    std::vector<std::uint32_t> tsns;
    rtx_.retransmit(now, [&](const RetransmissionQueue::Chunk& c) {
      tsns.push_back(c.tsn.wire());
      return true;
    });
    return tsns;
  }

  std::vector<std::uint8_t> payload_ = std::vector<std::uint8_t>(100, 7);
  SendQueue queue_;
  RetransmissionQueue rtx_;
};

TEST_F(Retransmission, CumulativeAckReleasesAndMeasuresTheRoundTrip) {
  send(3, Timestamp::millis(0));
  EXPECT_EQ(rtx_.flight_size(), 300u);
  EXPECT_EQ(queue_.total_buffered(), 300u);
  const auto out = ack(sack(kInitialTsn + 1), Timestamp::millis(30), queue_);
  EXPECT_TRUE(out.valid);
  EXPECT_TRUE(out.cumulative_advanced);
  EXPECT_EQ(out.bytes_acked, 200u);
  EXPECT_EQ(out.rtt, Duration::millis(30));
  EXPECT_EQ(rtx_.flight_size(), 100u);
  EXPECT_EQ(queue_.total_buffered(), 100u);
  EXPECT_EQ(rtx_.cumulative_acked().wire(), kInitialTsn + 1);
}

TEST_F(Retransmission, OldOrImpossibleSacksAreIgnored) {
  send(2, Timestamp::zero());
  EXPECT_TRUE(ack(sack(kInitialTsn), Timestamp::zero(), queue_).valid);
  EXPECT_FALSE(ack(sack(kInitialTsn - 1), Timestamp::zero(), queue_).valid);
  EXPECT_FALSE(ack(sack(kInitialTsn + 5), Timestamp::zero(), queue_).valid);
}

TEST_F(Retransmission, ThirdMissIndicationTriggersFastRetransmit) {
  // RFC 9260 7.2.4: TSN 100 missing while 101, 102, 103 arrive one SACK at a time.
  send(4, Timestamp::zero());
  for (std::uint16_t end = 1; end <= 3; ++end) {
    const auto out = ack(sack(kInitialTsn - 1, {{2, static_cast<std::uint16_t>(end + 1)}}),
                         Timestamp::millis(end), queue_);
    EXPECT_EQ(out.fast_retransmit, end == 3) << end;
  }
  EXPECT_TRUE(rtx_.retransmits_waiting());
  EXPECT_EQ(rtx_.flight_size(), 0u);  // 101-103 acked, 100 out of the flight until resent
  EXPECT_EQ(retransmitted(Timestamp::millis(10)), std::vector<std::uint32_t>{kInitialTsn});
  EXPECT_EQ(rtx_.flight_size(), 100u);
  // Karn: the retransmitted chunk gives no RTT sample.
  EXPECT_FALSE(ack(sack(kInitialTsn + 3), Timestamp::millis(20), queue_).rtt);
}

TEST_F(Retransmission, ARetransmissionLostAgainIsFoundByLaterAcknowledgements) {
  // TSN 100 is fast-retransmitted at 10 ms and lost again. By TSN order (RFC 9260 7.2.4)
  // nothing above it could ever count against it again, leaving it to T3-rtx; by
  // transmission order, the chunks sent after the retransmission and acknowledged count.
  send(4, Timestamp::zero());
  for (std::uint16_t end = 1; end <= 3; ++end)
    ack(sack(kInitialTsn - 1, {{2, static_cast<std::uint16_t>(end + 1)}}), Timestamp::millis(end),
        queue_);
  ASSERT_EQ(retransmitted(Timestamp::millis(10)), std::vector<std::uint32_t>{kInitialTsn});
  send(3, Timestamp::millis(11));  // 104-106, after the retransmission
  for (std::uint16_t end = 5; end <= 7; ++end) {
    const auto out = ack(sack(kInitialTsn - 1, {{2, end}}), Timestamp::millis(10 + end), queue_);
    EXPECT_EQ(out.fast_retransmit, end == 7) << end;
  }
  EXPECT_EQ(retransmitted(Timestamp::millis(20)), std::vector<std::uint32_t>{kInitialTsn});
}

TEST_F(Retransmission, AMissingChunkIsLostOnceTheLossDelayHasPassed) {
  // RFC 8985 6.2: one SACK acknowledging a later chunk; no more SACKs come (the flight was
  // small). The chunk is lost a loss delay after it was sent, not at the third indication.
  const Duration loss_delay = Duration::millis(5);
  send(2, Timestamp::zero());
  const auto out = ack(sack(kInitialTsn - 1, {{2, 2}}), Timestamp::millis(1), queue_, loss_delay);
  EXPECT_FALSE(out.fast_retransmit);
  ASSERT_EQ(rtx_.loss_deadline(), Timestamp::millis(5));
  EXPECT_FALSE(rtx_.detect_losses(Timestamp::millis(4), loss_delay, 0, queue_));
  EXPECT_TRUE(rtx_.detect_losses(Timestamp::millis(5), loss_delay, 0, queue_));
  EXPECT_FALSE(rtx_.loss_deadline());
  EXPECT_EQ(retransmitted(Timestamp::millis(5)), std::vector<std::uint32_t>{kInitialTsn});
  // A chunk nothing later has been acknowledged after is never declared lost by time.
  send(1, Timestamp::millis(6));
  EXPECT_FALSE(rtx_.detect_losses(Timestamp::seconds(10), loss_delay, 0, queue_));
}

TEST_F(Retransmission, TailLossProbeResendsTheNewestOutstandingChunk) {
  send(3, Timestamp::zero());
  ack(sack(kInitialTsn - 1, {{3, 3}}), Timestamp::millis(1), queue_);  // 102 acked
  ASSERT_TRUE(rtx_.mark_probe());
  EXPECT_EQ(retransmitted(Timestamp::millis(20)), std::vector<std::uint32_t>{kInitialTsn + 1});
  EXPECT_EQ(rtx_.flight_size(), 200u);  // the probe stays in the flight it was already in
  ack(sack(kInitialTsn + 2), Timestamp::millis(21), queue_);
  EXPECT_FALSE(rtx_.mark_probe());  // nothing outstanding
}

TEST_F(Retransmission, T3ExpiryMarksEverythingOutstanding) {
  // RFC 9260 6.3.3 E3.
  send(3, Timestamp::zero());
  ack(sack(kInitialTsn - 1, {{2, 2}}), Timestamp::zero(), queue_);  // 101 acked
  rtx_.on_t3_expiry(Timestamp::seconds(1), queue_);
  EXPECT_EQ(retransmitted(Timestamp::seconds(1)),
            (std::vector<std::uint32_t>{kInitialTsn, kInitialTsn + 2}));
}

TEST_F(Retransmission, AbandonedMessagesMoveTheAckPointAndAForwardTsnIsDue) {
  // RFC 3758 3.5: max_retransmits 0 allows one transmission; at T3 expiry the chunk is
  // abandoned, and the FORWARD-TSN names its stream's SSN.
  rtx_.set_extensions(true, false);
  send(1, Timestamp::zero(), 5, 0);
  send(1, Timestamp::zero(), 6);
  rtx_.on_t3_expiry(Timestamp::seconds(1), queue_);
  rtx_.update_forward_tsn();
  EXPECT_EQ(rtx_.abandoned_messages(), 1u);
  ASSERT_TRUE(rtx_.forward_tsn_due());
  Buffer packet;
  PacketBuilder b(packet, {1, 2, 3}, 1200);
  EXPECT_TRUE(rtx_.write_forward_tsn(b));
  b.finish();
  EXPECT_FALSE(rtx_.forward_tsn_due());
  EXPECT_EQ(rtx_.forward_tsns_sent(), 1u);
  auto parsed = parse_packet(packet.view());
  ASSERT_TRUE(parsed);
  auto f = ForwardTsnChunk::parse(parsed->chunks.at(0), false);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->new_cumulative_tsn, kInitialTsn);
  EXPECT_EQ(f->skipped, (std::vector<ForwardTsnChunk::Skipped>{{5, false, 0}}));
  // The reliable one is still retransmitted.
  EXPECT_EQ(retransmitted(Timestamp::seconds(1)), std::vector<std::uint32_t>{kInitialTsn + 1});
}

TEST_F(Retransmission, WithoutPartialReliabilityNothingIsAbandoned) {
  send(1, Timestamp::zero(), 5, 0);
  rtx_.on_t3_expiry(Timestamp::seconds(1), queue_);
  EXPECT_EQ(rtx_.abandoned_messages(), 0u);
  EXPECT_EQ(retransmitted(Timestamp::seconds(1)), std::vector<std::uint32_t>{kInitialTsn});
}

TEST_F(Retransmission, UnacknowledgedMessagesAreCounted) {
  send(3, Timestamp::zero());
  EXPECT_EQ(rtx_.unacknowledged_messages(), 3u);
  ack(sack(kInitialTsn), Timestamp::zero(), queue_);
  EXPECT_EQ(rtx_.unacknowledged_messages(), 2u);
}

}  // namespace
}  // namespace rtcpp::sctp
