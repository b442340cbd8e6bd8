// The send queue on its own: per-stream queues, DATA's send() order, I-DATA's round robin
// (RFC 8260 3.2), sequence numbers taken at first transmission (RFC 9260 6.6), and the bytes
// held for buffered_amount.
#include "sctp/send_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtcpp::sctp {
namespace {

BytesView text(const std::string& s) {
  return BytesView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

std::string payload_text(const SendQueue& q, const SendQueue::Message& m) {
  const BytesView p = q.payload(m.slot, 0, static_cast<std::uint32_t>(m.size));
  return std::string(reinterpret_cast<const char*>(p.data()), p.size());
}

TEST(SendQueue, DataLeavesWholeMessagesInSendOrder) {
  SendQueue q;
  q.start(16);
  const std::string a = "aaa", b = "bb", c = "c";
  q.add(StreamId(2), 51, text(a), {});
  q.add(StreamId(1), 51, text(b), {});
  q.add(StreamId(2), 51, text(c), {});
  EXPECT_EQ(q.queued_messages(), 3u);
  EXPECT_EQ(q.buffered_amount(StreamId(2)), 4u);
  EXPECT_EQ(q.total_buffered(), 6u);
  std::vector<std::string> order;
  while (SendQueue::Message* m = q.next()) {
    order.push_back(payload_text(q, *m));
    q.pop(StreamId(m->stream));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"aaa", "bb", "c"}));
  EXPECT_TRUE(q.empty());
  // Popping does not acknowledge: the bytes stay buffered until released.
  EXPECT_EQ(q.total_buffered(), 6u);
  q.release_bytes(StreamId(2), 4);
  EXPECT_EQ(q.buffered_amount(StreamId(2)), 0u);
}

TEST(SendQueue, InterleavedStreamsTakeTurnsOneFragmentEach) {
  // RFC 8260 3.2: round robin, so a small message is not stuck behind a large one.
  SendQueue q;
  q.start(16);
  q.set_interleaved(true);
  const std::string big = "BBBBBB", small = "s";
  q.add(StreamId(1), 51, text(big), {});
  q.add(StreamId(2), 51, text(small), {});
  SendQueue::Message* m = q.next();
  ASSERT_EQ(m->stream, 1);
  m->offset += 2;
  q.fragment_cut(StreamId(1));
  m = q.next();
  ASSERT_EQ(m->stream, 2);  // the small one goes next
  q.pop(StreamId(2));
  m = q.next();
  EXPECT_EQ(m->stream, 1);
  EXPECT_EQ(m->offset, 2u);
}

TEST(SendQueue, SequenceNumbersAreTakenAtFirstTransmission) {
  // RFC 9260 6.6 / RFC 8260 2.2.2: a message dropped unsent leaves no hole.
  SendQueue q;
  q.start(16);
  const std::string x = "x";
  q.add(StreamId(3), 51, text(x), {});
  q.add(StreamId(3), 51, text(x), {});
  q.pop(StreamId(3));  // dropped before it was sent
  SendQueue::Message* m = q.next();
  q.assign_sequence(*m);
  EXPECT_EQ(m->sequence, 0u);
  // Unordered DATA carries no SSN; I-DATA counts ordered and unordered MIDs apart.
  SendQueue iq;
  iq.start(16);
  iq.set_interleaved(true);
  iq.add(StreamId(1), 51, text(x), {.unordered = true});
  iq.add(StreamId(1), 51, text(x), {});
  SendQueue::Message* u = iq.next();
  iq.assign_sequence(*u);
  EXPECT_EQ(u->sequence, 0u);
  iq.pop(StreamId(1));
  SendQueue::Message* o = iq.next();
  iq.assign_sequence(*o);
  EXPECT_EQ(o->sequence, 0u);
}

TEST(SendQueue, ResetSequencesRestartsTheStream) {
  SendQueue q;
  q.start(16);
  const std::string x = "x";
  for (int i = 0; i < 2; ++i) {
    q.add(StreamId(4), 51, text(x), {});
    SendQueue::Message* m = q.next();
    q.assign_sequence(*m);
    EXPECT_EQ(m->sequence, static_cast<std::uint32_t>(i));
    q.pop(StreamId(4));
  }
  q.reset_sequences(StreamId(4));  // RFC 6525: SSNs restart at 0
  q.add(StreamId(4), 51, text(x), {});
  SendQueue::Message* m = q.next();
  q.assign_sequence(*m);
  EXPECT_EQ(m->sequence, 0u);
}

TEST(SendQueue, PartlySentMessageIsDroppedWhenAbandoned) {
  // RFC 3758 3.5 A3: the unsent rest of an abandoned message goes too.
  SendQueue q;
  q.start(16);
  const std::string data = "0123456789";
  const std::uint64_t id = q.add(StreamId(1), 51, text(data), {});
  SendQueue::Message* m = q.next();
  m->offset = 4;
  q.drop_partly_sent(StreamId(1), id + 1);  // another message: nothing happens
  EXPECT_FALSE(q.empty());
  q.drop_partly_sent(StreamId(1), id);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.buffered_amount(StreamId(1)), 4u);  // the sent part waits for its chunks
}

TEST(SendQueue, PayloadStaysWhileChunksReferToIt) {
  SendQueue q;
  q.start(16);
  const std::string data = "hello";
  q.add(StreamId(0), 51, text(data), {});
  SendQueue::Message* m = q.next();
  const std::uint32_t slot = m->slot;
  q.add_reference(slot);  // a chunk cut from it
  q.pop(StreamId(0));
  const BytesView p = q.payload(slot, 1, 3);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p.data()), p.size()), "ell");
  q.release_reference(slot);
}

}  // namespace
}  // namespace rtcpp::sctp
