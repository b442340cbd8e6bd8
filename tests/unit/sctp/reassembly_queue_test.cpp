// Reassembly and per-stream delivery on their own (RFC 9260 6.5, 6.6, 6.9; RFC 8260 2.1;
// RFC 3758 3.6; RFC 6525 5.2.2): DATA and I-DATA fragments in, messages out.
#include "sctp/reassembly_queue.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace rtcpp::sctp {
namespace {

constexpr std::uint64_t kBase = std::uint64_t{1} << 32;

BytesView text(const std::string& s) {
  return BytesView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

class Reassembly : public ::testing::Test {
 protected:
  Reassembly() : queue_(64 * 1024, 1024) { queue_.start(16); }

  void data(std::uint64_t tsn, std::uint16_t stream, std::uint16_t ssn, const std::string& payload,
            bool beginning = true, bool end = true, bool unordered = false) {
    payloads_.push_back(payload);
    DataChunk d;
    d.tsn = static_cast<std::uint32_t>(tsn);
    d.stream_id = stream;
    d.stream_sequence = ssn;
    d.ppid = 51;
    d.beginning = beginning;
    d.end = end;
    d.unordered = unordered;
    d.payload = text(payloads_.back());
    EXPECT_FALSE(queue_.add_data(Tsn(kBase + tsn), d, events_));
  }

  std::optional<ReceiveViolation> idata(std::uint16_t stream, std::uint32_t mid, std::uint32_t fsn,
                                        const std::string& payload, bool end,
                                        bool unordered = false) {
    payloads_.push_back(payload);
    IDataChunk d;
    d.stream_id = stream;
    d.message_id = mid;
    d.beginning = fsn == 0;
    d.ppid_or_fsn = fsn == 0 ? 51 : fsn;
    d.end = end;
    d.unordered = unordered;
    d.payload = text(payloads_.back());
    if (auto v = queue_.check_idata(d)) return v;
    return queue_.add_idata(d, events_);
  }

  // The messages delivered so far, as "stream:text".
  std::vector<std::string> delivered() {
    std::vector<std::string> out;
    while (!events_.empty()) {
      if (auto* m = std::get_if<SctpMessage>(&events_.front())) {
        out.push_back(std::to_string(m->stream) + ":" +
                      std::string(reinterpret_cast<const char*>(m->data.data()), m->data.size()));
      } else if (auto* r = std::get_if<SctpStreamsReset>(&events_.front())) {
        out.push_back("reset" + std::to_string(r->streams.size()));
      }
      events_.pop_front();
    }
    return out;
  }

  ReassemblyQueue queue_;
  SctpEvents events_;
  std::deque<std::string> payloads_;  // chunks view their payload until it is copied
};

using Strings = std::vector<std::string>;

TEST_F(Reassembly, FragmentsOfConsecutiveTsnsMakeAMessage) {
  data(1, 0, 0, "he", true, false);
  data(2, 0, 0, "ll", false, false);
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(queue_.buffered_bytes(), 4u);
  data(3, 0, 0, "o", false, true);
  EXPECT_EQ(delivered(), Strings{"0:hello"});
  EXPECT_EQ(queue_.buffered_bytes(), 0u);
}

TEST_F(Reassembly, FragmentsOutOfOrderStillMakeTheMessage) {
  data(3, 0, 0, "o", false, true);
  data(1, 0, 0, "he", true, false);
  EXPECT_TRUE(delivered().empty());
  data(2, 0, 0, "ll", false, false);
  EXPECT_EQ(delivered(), Strings{"0:hello"});
}

TEST_F(Reassembly, OrderedMessagesWaitForTheirTurnPerStream) {
  // RFC 9260 6.6: in SSN order per stream; other streams are not held up.
  data(2, 1, 1, "second");
  data(3, 2, 0, "other");
  EXPECT_EQ(delivered(), Strings{"2:other"});
  data(1, 1, 0, "first");
  EXPECT_EQ(delivered(), (Strings{"1:first", "1:second"}));
}

TEST_F(Reassembly, UnorderedMessagesAreDeliveredAtOnce) {
  data(2, 1, 0, "late", true, true, true);
  EXPECT_EQ(delivered(), Strings{"1:late"});
}

TEST_F(Reassembly, MessagesOverTheLimitAreAViolation) {
  ReassemblyQueue small(64 * 1024, 4);
  small.start(1);
  const std::string payload = "12345";
  DataChunk d;
  d.tsn = 1;
  d.payload = text(payload);
  const auto v = small.add_data(Tsn(kBase + 1), d, events_);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->cause, 0);
}

TEST_F(Reassembly, AdmissionBeyondTheWindowTakesOnlyTheNextInOrderTsn) {
  // RFC 9260 6.2: beyond the window, the next in-order TSN is still taken so that the
  // window can drain; a peer pushing much further is overrunning us.
  ReassemblyQueue q(100, 50);
  EXPECT_EQ(q.admit(false, 100), ReassemblyQueue::Admission::kAccept);
  EXPECT_EQ(q.admit(false, 101), ReassemblyQueue::Admission::kDrop);
  EXPECT_EQ(q.admit(true, 101), ReassemblyQueue::Admission::kAccept);
  EXPECT_EQ(q.admit(true, 151), ReassemblyQueue::Admission::kOverrun);
  EXPECT_EQ(q.window_left(), 100u);
}

TEST_F(Reassembly, ForwardTsnDropsSkippedFragmentsAndResumesTheStream) {
  // RFC 3758 3.6: fragments at or below the new cumulative TSN go; the stream continues
  // after the skipped SSN, delivering what waited behind it.
  data(1, 0, 0, "lost-", true, false);  // its other fragment never comes
  data(4, 0, 1, "next");
  EXPECT_TRUE(delivered().empty());
  const std::vector<ForwardTsnChunk::Skipped> skipped{{0, false, 0}};
  queue_.skip_data(Tsn(kBase + 2), skipped, events_);
  EXPECT_EQ(delivered(), Strings{"0:next"});
  EXPECT_EQ(queue_.buffered_bytes(), 0u);
}

TEST_F(Reassembly, IDataFragmentsByFsnInterleavedAcrossMessages) {
  // RFC 8260 2.1: fragments of several messages interleave; FSNs order each one.
  EXPECT_FALSE(idata(1, 0, 0, "ab", false));
  EXPECT_FALSE(idata(2, 0, 0, "xy", false));
  EXPECT_FALSE(idata(1, 0, 2, "e", true));
  EXPECT_FALSE(idata(2, 0, 1, "z", true));
  EXPECT_EQ(delivered(), Strings{"2:xyz"});
  EXPECT_FALSE(idata(1, 0, 1, "cd", false));
  EXPECT_EQ(delivered(), Strings{"1:abcde"});
  EXPECT_EQ(queue_.buffered_bytes(), 0u);
}

TEST_F(Reassembly, IDataOrderedByMid) {
  EXPECT_FALSE(idata(3, 1, 0, "second", true));
  EXPECT_TRUE(delivered().empty());
  EXPECT_FALSE(idata(3, 0, 0, "first", true));
  EXPECT_EQ(delivered(), (Strings{"3:first", "3:second"}));
}

TEST_F(Reassembly, IDataFragmentsThatDisagreeOnTheEndAreAViolation) {
  EXPECT_FALSE(idata(1, 0, 0, "a", false));
  EXPECT_FALSE(idata(1, 0, 3, "d", true));
  const auto v = idata(1, 0, 5, "f", false);  // past the last FSN
  ASSERT_TRUE(v);
  EXPECT_EQ(v->cause, error_cause::kProtocolViolation);
  // An FSN beyond max-message-size cannot belong to a valid message (checked before the TSN
  // is accounted for).
  ASSERT_TRUE(idata(2, 0, 2000, "x", true));
}

TEST_F(Reassembly, IForwardTsnSkipsMessagesByMid) {
  // RFC 8260 2.3.1: ordered messages up to the MID named are abandoned; the stream resumes.
  EXPECT_FALSE(idata(1, 0, 0, "part", false));
  EXPECT_FALSE(idata(1, 1, 0, "after", true));
  const std::vector<ForwardTsnChunk::Skipped> skipped{{1, false, 0}};
  queue_.skip_idata(skipped, events_);
  EXPECT_EQ(delivered(), Strings{"1:after"});
  EXPECT_EQ(queue_.buffered_bytes(), 0u);
}

TEST_F(Reassembly, IncomingResetRestartsTheSequence) {
  // RFC 6525 5.2.2 and RFC 8260 2.3.2: after a reset the stream starts again at 0.
  data(1, 5, 0, "old");
  queue_.reset_streams({5}, events_);
  data(2, 5, 0, "new");
  EXPECT_EQ(delivered(), (Strings{"5:old", "reset1", "5:new"}));
}

}  // namespace
}  // namespace rtcpp::sctp
