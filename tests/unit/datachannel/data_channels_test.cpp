// The data-channel procedure on its own (RFC 8831, RFC 8832) over two SCTP associations
// joined back to back: stream ids by DTLS role, OPEN/ACK, PPIDs, and the closing procedure.
#include "datachannel/data_channels.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rtcpp::datachannel {
namespace {

class Pair {
  // First: the procedures below refer to them.
  SeededRandom rng_{5};
  Timestamp now_ = Timestamp::millis(1);
  sctp::SctpAssociation a_;
  sctp::SctpAssociation b_;

 public:
  Pair() : a_(config(), rng_), b_(config(), rng_), channels_a(a_, 1024), channels_b(b_, 1024) {
    channels_a.set_dtls_client(true);
    channels_b.set_dtls_client(false);
    a_.connect(now_);
    b_.connect(now_);
    run();
  }
  static sctp::SctpConfig config() {
    sctp::SctpConfig c;
    c.streams = 1024;
    return c;
  }
  // Moves packets both ways and hands association events to the procedure until quiet; a
  // side's deferred closes are answered once its events are all polled, as the owner does.
  void run() {
    for (int round = 0; round < 100; ++round) {
      bool moved = false;
      moved |= pass(a_, b_);
      moved |= pass(b_, a_);
      moved |= feed(a_, channels_a, events_a);
      moved |= feed(b_, channels_b, events_b);
      if (!moved) {
        if (channels_a.answer_deferred_closes() || channels_b.answer_deferred_closes()) continue;
        return;
      }
    }
  }
  template <typename T>
  std::vector<T> take(std::vector<ChannelEvent>& events) {
    std::vector<T> out;
    for (auto& e : events)
      if (auto* t = std::get_if<T>(&e)) out.push_back(std::move(*t));
    events.clear();
    return out;
  }

  DataChannels channels_a;
  DataChannels channels_b;
  std::vector<ChannelEvent> events_a;
  std::vector<ChannelEvent> events_b;

 private:
  bool pass(sctp::SctpAssociation& from, sctp::SctpAssociation& to) {
    bool moved = false;
    Buffer packet;
    while (from.poll_transmit(packet)) {
      to.handle_packet(packet, now_);
      moved = true;
    }
    return moved;
  }
  bool feed(sctp::SctpAssociation& association, DataChannels& channels,
            std::vector<ChannelEvent>& events) {
    bool moved = false;
    while (auto e = association.poll_event()) {
      moved = true;
      if (std::holds_alternative<sctp::SctpConnected>(*e)) {
        channels.on_connected();
      } else if (auto* m = std::get_if<sctp::SctpMessage>(&*e)) {
        channels.on_message(std::move(*m));
      } else if (auto* r = std::get_if<sctp::SctpStreamsReset>(&*e)) {
        channels.on_streams_reset(*r);
      }
    }
    while (auto e = channels.poll_event()) {
      moved = true;
      events.push_back(std::move(*e));
    }
    return moved;
  }
};

TEST(DataChannels, StreamIdsFollowTheDtlsRole) {
  SeededRandom rng(1);
  sctp::SctpAssociation association(sctp::SctpConfig{}, rng);
  DataChannels unknown(association, 16);
  // RFC 8832 6: no id before the role is known, except a negotiated one.
  EXPECT_EQ(unknown.open({.label = "x"}).error().type(), RTCErrorType::kInvalidStateError);
  auto negotiated = unknown.open({.negotiated_id = 5});
  ASSERT_TRUE(negotiated);
  EXPECT_EQ(*negotiated, 5);
  EXPECT_EQ(unknown.open({.negotiated_id = 5}).error().type(), RTCErrorType::kOperationError);
  unknown.set_dtls_client(true);
  EXPECT_EQ(*unknown.open({.label = "a"}), 0);
  EXPECT_EQ(*unknown.open({.label = "b"}), 2);
  DataChannels server(association, 4);
  server.set_dtls_client(false);
  EXPECT_EQ(*server.open({.label = "a"}), 1);
  // Ids stay below the association's stream count.
  EXPECT_EQ(server.open({.label = "b"}).error().type(), RTCErrorType::kOperationError);
}

TEST(DataChannels, OpenAnnouncesTheChannelWithItsReliability) {
  Pair p;
  auto id = p.channels_a.open({.label = "chat", .protocol = "p", .max_retransmits = 3});
  ASSERT_TRUE(id);
  p.run();
  auto opened = p.take<ChannelOpenEvent>(p.events_b);
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0].channel.id, *id);
  EXPECT_EQ(opened[0].channel.label, "chat");
  EXPECT_EQ(opened[0].channel.protocol, "p");
  EXPECT_TRUE(opened[0].channel.remote);
  EXPECT_EQ(opened[0].channel.max_retransmits, std::optional<std::uint16_t>(3));
  EXPECT_FALSE(opened[0].channel.max_packet_life_time_ms);
}

TEST(DataChannels, MessagesKeepTextBinaryAndEmpty) {
  Pair p;
  auto id = p.channels_a.open({.label = "m"});
  ASSERT_TRUE(id);
  p.run();
  p.events_b.clear();
  ASSERT_TRUE(p.channels_a.send(*id, as_bytes(std::string_view("hi")), false));
  ASSERT_TRUE(p.channels_a.send(*id, as_bytes(std::string_view("\x01\x02")), true));
  ASSERT_TRUE(p.channels_a.send(*id, BytesView(), false));
  ASSERT_TRUE(p.channels_a.send(*id, BytesView(), true));
  p.run();
  auto messages = p.take<ChannelMessageEvent>(p.events_b);
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_FALSE(messages[0].binary);
  EXPECT_EQ(messages[0].data.size(), 2u);
  EXPECT_TRUE(messages[1].binary);
  // RFC 8831 6.6: empty messages arrive empty, with their kind.
  EXPECT_FALSE(messages[2].binary);
  EXPECT_EQ(messages[2].data.size(), 0u);
  EXPECT_TRUE(messages[3].binary);
  EXPECT_EQ(messages[3].data.size(), 0u);
  EXPECT_EQ(p.channels_a.send(999, BytesView(), true).error().type(),
            RTCErrorType::kInvalidStateError);
}

TEST(DataChannels, ClosingResetsBothDirectionsAndFreesTheId) {
  Pair p;
  auto id = p.channels_a.open({.label = "c"});
  ASSERT_TRUE(id);
  p.run();
  p.events_b.clear();
  ASSERT_TRUE(p.channels_a.close(*id));
  // From the call on, sends are refused.
  EXPECT_EQ(p.channels_a.send(*id, BytesView(), true).error().type(),
            RTCErrorType::kInvalidStateError);
  p.run();
  EXPECT_EQ(p.take<ChannelClosedEvent>(p.events_a).size(), 1u);
  EXPECT_EQ(p.take<ChannelClosedEvent>(p.events_b).size(), 1u);
  EXPECT_EQ(p.channels_a.close(*id).error().type(), RTCErrorType::kInvalidStateError);
  auto again = p.channels_a.open({.label = "again"});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *id);
}

TEST(DataChannels, GarbageDcepAndARestartAreHandled) {
  Pair p;
  auto id = p.channels_a.open({.label = "g"});
  ASSERT_TRUE(id);
  p.run();
  p.events_b.clear();
  sctp::SctpMessage garbage;
  garbage.stream = 7;
  garbage.ppid = kPpidDcep;
  garbage.data = Buffer{0x03, 0xff};
  p.channels_b.on_message(std::move(garbage));
  EXPECT_FALSE(p.channels_b.poll_event());
  // RFC 9260 5.2.4: after a restart no channel survives.
  p.channels_b.on_restarted();
  auto closed = p.channels_b.poll_event();
  ASSERT_TRUE(closed);
  EXPECT_TRUE(std::holds_alternative<ChannelClosedEvent>(*closed));
}

}  // namespace
}  // namespace rtcpp::datachannel
