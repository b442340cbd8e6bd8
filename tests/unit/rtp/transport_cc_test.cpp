#include "rtp/transport_cc.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/hex.hpp"
#include "rtp/rtcp_packet.hpp"

namespace rtcpp::rtp {
namespace {

using Deltas = std::vector<std::optional<std::int16_t>>;

Buffer hex(std::string text) {
  std::erase(text, ' ');
  auto bytes = from_hex(text, '\0', 1 << 16);
  EXPECT_TRUE(bytes) << text;
  return bytes ? std::move(*bytes) : Buffer{};
}

Buffer write(const TransportFeedback& feedback) {
  Buffer out;
  ByteWriter writer(out);
  EXPECT_TRUE(feedback.write_to(writer));
  EXPECT_EQ(out.size(), feedback.size());
  return out;
}

TransportFeedback parse(BytesView bytes) {
  auto compound = parse_rtcp_compound(bytes);
  EXPECT_TRUE(compound) << (compound ? "" : to_string(compound.error()));
  if (!compound || compound->messages.size() != 1 ||
      !std::holds_alternative<TransportFeedback>(compound->messages[0])) {
    ADD_FAILURE() << "not one transport feedback message";
    return {};
  }
  return std::get<TransportFeedback>(compound->messages[0]);
}

// Built by hand from the draft's 3.1 layout: a run-length chunk and a two-bit vector, small,
// large and negative deltas, and padding marked the RFC 3550 way (as libwebrtc writes it).
TEST(TransportFeedback, ParsesEachKindOfChunkAndDelta) {
  const Buffer bytes =
      hex("af cd 0008"  // V=2 P=1 FMT=15 PT=205 length 8 (36 bytes)
          "11223344"    // sender SSRC
          "55667788"    // media SSRC
          "fffe 000a"   // base sequence 65534, 10 statuses
          "000102 07"   // reference time 258 (x 64 ms), feedback count 7
          "2003"        // run length: 3 small deltas
          "e106"        // two-bit vector: large, none, small, none, none, small, large
          "01 02 03"    // the three small deltas
          "fffe"        // -2 ticks
          "04 ff"       // small 4, small 255
          "012c"        // large 300
          "00 00 03");  // padding, its count last
  const TransportFeedback feedback = parse(bytes);
  EXPECT_EQ(feedback.sender_ssrc, 0x11223344u);
  EXPECT_EQ(feedback.media_ssrc, 0x55667788u);
  EXPECT_EQ(feedback.base_sequence, 65534);
  EXPECT_EQ(feedback.reference_time, 258u);
  EXPECT_EQ(feedback.feedback_count, 7);
  EXPECT_EQ(feedback.deltas,
            (Deltas{1, 2, 3, -2, std::nullopt, 4, std::nullopt, std::nullopt, 255, 300}));
  // Written back: the same statuses (the writer picks its own chunks), and the same size here.
  const Buffer again = write(feedback);
  EXPECT_EQ(again.size(), bytes.size());
  EXPECT_EQ(parse(again), feedback);
}

TEST(TransportFeedback, WriterPicksCompactChunks) {
  TransportFeedback feedback;
  feedback.base_sequence = 100;
  // 14 statuses without a large delta: one one-bit vector, and 7 delta bytes.
  for (int i = 0; i < 14; ++i) {
    if (i % 2 == 0) {
      feedback.deltas.emplace_back(static_cast<std::int16_t>(i));
    } else {
      feedback.deltas.emplace_back();
    }
  }
  EXPECT_EQ(write(feedback).size(), 20u + 2 + 7 + 3);
  // Then 1000 lost and one large delta: a run-length chunk and a two-bit vector.
  feedback.deltas.insert(feedback.deltas.end(), 1000, std::nullopt);
  feedback.deltas.emplace_back(-5);
  const Buffer bytes = write(feedback);
  EXPECT_EQ(bytes.size(), 20u + 2 + 2 + 2 + 7 + 2 + 1);
  EXPECT_EQ(bytes[0] & 0x20, 0x20);  // padded
  EXPECT_EQ(parse(bytes), feedback);
}

TEST(TransportFeedback, RefusesMalformedBodies) {
  const std::string header = "8fcd 0005 11223344 55667788";
  auto parses = [&](const std::string& rest) {
    Buffer bytes = hex(header + rest);
    while (bytes.size() % 4 != 0) bytes.push_back(0);
    bytes[3] = static_cast<std::uint8_t>(bytes.size() / 4 - 1);
    auto compound = parse_rtcp_compound(bytes);
    EXPECT_TRUE(compound);
    return compound && compound->messages.size() == 1;
  };
  EXPECT_TRUE(parses("0001 0001 000000 00 2001 05"));
  EXPECT_FALSE(parses("0001 0000 000000 00 2001 05"));    // no statuses
  EXPECT_FALSE(parses("0001 0001 000000 00 6001 05"));    // the reserved symbol
  EXPECT_FALSE(parses("0001 0001 000000 00 f000 05"));    // the same in a two-bit vector
  EXPECT_FALSE(parses("0001 0010 000000 00 2001 05"));    // chunks end too early
  EXPECT_FALSE(parses("0001 0003 000000 00 4003 0500"));  // large deltas cut short
  EXPECT_FALSE(parses("0001 0006 000000 00 2006 0506"));  // small deltas missing
}

TEST(TransportFeedback, WriterRefusesWhatTheWireCannotCarry) {
  TransportFeedback feedback;
  Buffer out;
  ByteWriter writer(out);
  EXPECT_FALSE(feedback.write_to(writer));  // nothing to report
  feedback.deltas.emplace_back(1);
  feedback.reference_time = 1u << 24;
  EXPECT_FALSE(feedback.write_to(writer));
  feedback.reference_time = 0;
  feedback.deltas.assign(0x10000, std::nullopt);
  EXPECT_FALSE(feedback.write_to(writer));
  EXPECT_TRUE(out.empty());
}

// Arrival times as the sender reconstructs them from one message.
std::vector<std::optional<std::int64_t>> arrivals(const TransportFeedback& feedback) {
  std::vector<std::optional<std::int64_t>> out;
  std::int64_t t = std::int64_t{feedback.reference_time} * TransportFeedback::kReferenceTickMicros;
  for (const auto& delta : feedback.deltas) {
    if (!delta) {
      out.emplace_back();
      continue;
    }
    t += *delta * TransportFeedback::kDeltaTickMicros;
    out.emplace_back(t);
  }
  return out;
}

TEST(TransportCcReceiver, ReportsArrivalsAndGapsEveryInterval) {
  TransportCcReceiver receiver;
  EXPECT_FALSE(receiver.next_feedback());
  const Timestamp t0 = Timestamp::millis(1000);
  for (std::uint16_t s : {10, 11, 13, 14}) {
    receiver.on_packet(s, t0 + Duration::micros(1300 * (s - 10)), 0xabcd);
  }
  EXPECT_TRUE(receiver.feedback_due(t0));
  auto messages = receiver.take_feedback(0x1234, t0 + Duration::millis(5));
  ASSERT_EQ(messages.size(), 1u);
  const TransportFeedback& m = messages[0];
  EXPECT_EQ(m.sender_ssrc, 0x1234u);
  EXPECT_EQ(m.media_ssrc, 0xabcdu);
  EXPECT_EQ(m.base_sequence, 10);
  EXPECT_EQ(m.feedback_count, 0);
  const auto times = arrivals(m);
  ASSERT_EQ(times.size(), 5u);
  EXPECT_FALSE(times[2]);  // 12 never came
  for (std::uint16_t s : {10, 11, 13, 14}) {
    ASSERT_TRUE(times[s - 10]) << s;
    // Rounded to the 250 us tick, without the error adding up.
    EXPECT_NEAR(static_cast<double>(*times[s - 10]), (t0 + Duration::micros(1300 * (s - 10))).us(),
                125)
        << s;
  }
  // Nothing new: nothing due. The next packet waits for the interval.
  EXPECT_FALSE(receiver.next_feedback());
  receiver.on_packet(15, t0 + Duration::millis(10), 0xabcd);
  EXPECT_EQ(receiver.next_feedback(),
            t0 + Duration::millis(5) + TransportCcReceiver::kFeedbackInterval);
  EXPECT_FALSE(receiver.feedback_due(t0 + Duration::millis(50)));
  messages = receiver.take_feedback(0x1234, t0 + Duration::millis(105));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].base_sequence, 15);
  EXPECT_EQ(messages[0].deltas.size(), 1u);
  EXPECT_EQ(messages[0].feedback_count, 1);
}

TEST(TransportCcReceiver, LatePacketsAreReportedAgainAndDuplicatesIgnored) {
  TransportCcReceiver receiver;
  const Timestamp t0 = Timestamp::seconds(5);
  receiver.on_packet(65534, t0, 1);
  receiver.on_packet(1, t0 + Duration::millis(2), 1);  // across the wrap; 65535 and 0 missing
  auto first = receiver.take_feedback(2, t0 + Duration::millis(3));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].base_sequence, 65534);
  EXPECT_EQ(first[0].deltas.size(), 4u);
  EXPECT_FALSE(first[0].deltas[1]);
  EXPECT_FALSE(first[0].deltas[2]);
  receiver.on_packet(0, t0 + Duration::millis(4), 1);  // late
  receiver.on_packet(0, t0 + Duration::millis(6), 1);  // duplicate
  receiver.on_packet(2, t0 + Duration::millis(3), 1);
  EXPECT_EQ(receiver.packets_recorded(), 4u);
  auto second = receiver.take_feedback(2, t0 + Duration::millis(200));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].base_sequence, 0);
  ASSERT_EQ(second[0].deltas.size(), 3u);
  const auto times = arrivals(second[0]);
  EXPECT_NEAR(static_cast<double>(*times[0]), (t0 + Duration::millis(4)).us(), 125);
  // 1, reported again: it arrived before 0, a negative delta.
  EXPECT_LT(*second[0].deltas[1], 0);
  EXPECT_NEAR(static_cast<double>(*times[1]), (t0 + Duration::millis(2)).us(), 125);
  EXPECT_NEAR(static_cast<double>(*times[2]), (t0 + Duration::millis(3)).us(), 125);
}

TEST(TransportCcReceiver, SplitsLongReportsAndLongSilences) {
  TransportCcReceiver receiver;
  Timestamp t = Timestamp::seconds(1);
  // 3000 packets with a large delta each (arrival order reversed within pairs) and a gap.
  std::uint16_t s = 0;
  for (int i = 0; i < 3000; ++i, ++s) {
    if (i % 3 == 2) continue;
    receiver.on_packet(s, t + Duration::millis(i % 2 == 0 ? 100 * i : 100 * i - 150), 7);
  }
  // After 10 s of silence: a delta 16 bits cannot hold.
  receiver.on_packet(s, t + Duration::seconds(400), 7);
  const auto messages = receiver.take_feedback(8, t + Duration::seconds(401));
  ASSERT_GT(messages.size(), 2u);
  std::uint16_t expected = 0;
  std::size_t statuses = 0;
  for (const auto& m : messages) {
    Buffer out;
    ByteWriter writer(out);
    ASSERT_TRUE(m.write_to(writer));
    EXPECT_LE(out.size(), TransportCcReceiver::kMaxMessageSize);
    EXPECT_EQ(m.base_sequence, expected);
    expected = static_cast<std::uint16_t>(expected + m.deltas.size());
    statuses += m.deltas.size();
  }
  EXPECT_EQ(statuses, 3001u);
  EXPECT_EQ(messages.back().deltas.size(), 1u);  // the packet after the silence, on its own
}

TEST(TransportCcReceiver, AJumpBeyondTheWindowForgetsWhatCameBefore) {
  TransportCcReceiver receiver;
  const Timestamp t0 = Timestamp::seconds(1);
  receiver.on_packet(0, t0, 1);
  receiver.on_packet(20000, t0 + Duration::millis(1), 1);
  const auto messages = receiver.take_feedback(2, t0 + Duration::millis(2));
  std::size_t statuses = 0;
  for (const auto& m : messages) statuses += m.deltas.size();
  EXPECT_LE(statuses, TransportCcReceiver::kWindow);
  EXPECT_EQ(messages.back().base_sequence + messages.back().deltas.size() - 1, 20000u);
  // Packets older than the window are not recorded.
  receiver.on_packet(1, t0 + Duration::millis(3), 1);
  EXPECT_FALSE(receiver.next_feedback());
}

TEST(TransportCc, SenderMatchesFeedbackWithWhatItSent) {
  TransportCcSender sender;
  TransportCcReceiver receiver;
  const Timestamp sent0 = Timestamp::seconds(10);
  // The receiver's clock is elsewhere; 40 ms of delay, growing 1 ms per packet (a queue).
  const Timestamp arrived0 = Timestamp::seconds(777);
  for (int i = 0; i < 50; ++i) {
    const std::uint16_t sequence = sender.next_sequence();
    const Timestamp sent = sent0 + Duration::millis(5 * i);
    sender.on_packet_sent(1000 + i, sent);
    if (i % 10 == 3) continue;  // lost
    receiver.on_packet(sequence, arrived0 + Duration::millis(5 * i + 40 + i), 9);
  }
  std::vector<TransportPacketResult> results;
  for (const auto& m : receiver.take_feedback(1, arrived0 + Duration::seconds(1))) {
    auto r = sender.on_feedback(m);
    results.insert(results.end(), r.begin(), r.end());
  }
  ASSERT_EQ(results.size(), 50u);
  EXPECT_EQ(sender.packets_reported_received(), 45u);
  EXPECT_EQ(sender.packets_reported_lost(), 5u);
  for (int i = 0; i < 50; ++i) {
    const auto& r = results[i];
    EXPECT_EQ(r.size, 1000u + i);
    EXPECT_EQ(r.sent, sent0 + Duration::millis(5 * i));
    EXPECT_EQ(r.arrival.has_value(), i % 10 != 3) << i;
    if (!r.arrival || i == 0) continue;
    // The arrival spacing of consecutive packets is 6 ms, to within one tick.
    if (results[i - 1].arrival) {
      EXPECT_NEAR(static_cast<double>((*r.arrival - *results[i - 1].arrival).us()), 6000, 250);
    }
  }
  // The same feedback again reports nothing new.
  receiver.on_packet(sender.next_sequence(), arrived0 + Duration::seconds(2), 9);
  sender.on_packet_sent(10, sent0 + Duration::seconds(1));
  const auto again = receiver.take_feedback(1, arrived0 + Duration::seconds(3));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(sender.on_feedback(again[0]).size(), 1u);
  EXPECT_TRUE(sender.on_feedback(again[0]).empty());
  EXPECT_EQ(sender.feedback_received(), 3u);
}

}  // namespace
}  // namespace rtcpp::rtp
