#include "rtp/telephone_event.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtcpp::rtp {
namespace {

Buffer payload(std::uint8_t event, bool end, std::uint16_t duration, std::uint8_t volume = 10) {
  Buffer out;
  ByteWriter writer(out);
  EXPECT_TRUE(write_telephone_event(TelephoneEvent{event, end, volume, duration}, writer));
  return out;
}

TEST(TelephoneEvent, ParsesAndWritesThePayload) {
  // Digit 5, E set, R set (ignored), volume 10, duration 800.
  const Buffer bytes{0x05, 0xCA, 0x03, 0x20};
  auto parsed = parse_telephone_event(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->event, 5);
  EXPECT_TRUE(parsed->end);
  EXPECT_EQ(parsed->volume, 10);
  EXPECT_EQ(parsed->duration, 800);
  Buffer out;
  ByteWriter writer(out);
  ASSERT_TRUE(write_telephone_event(*parsed, writer));
  EXPECT_EQ(out, (Buffer{0x05, 0x8A, 0x03, 0x20}));  // R written as 0

  // Extra blocks (RFC 4733 2.5.1.5) are ignored.
  EXPECT_TRUE(parse_telephone_event(Buffer{1, 0, 0, 1, 2, 0, 0, 1}));
  EXPECT_EQ(parse_telephone_event({}).error(), PayloadError::kEmpty);
  EXPECT_EQ(parse_telephone_event(Buffer{1, 2, 3}).error(), PayloadError::kTruncated);

  Buffer small(3);
  ByteWriter fixed(small.mutable_view());
  EXPECT_FALSE(write_telephone_event(TelephoneEvent{1, false, 10, 0}, fixed));
  Buffer grown;
  ByteWriter loud(grown);
  EXPECT_FALSE(write_telephone_event(TelephoneEvent{1, false, 64, 0}, loud));
  EXPECT_TRUE(grown.empty());
}

TEST(TelephoneEvent, DtmfCodes) {
  // RFC 4733 2.3.1, table 7.
  const std::string keys = "0123456789*#ABCD";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(dtmf_event_code(keys[i]), i);
    EXPECT_EQ(dtmf_key(static_cast<std::uint8_t>(i)), keys[i]);
  }
  EXPECT_EQ(dtmf_event_code('a'), 12);
  EXPECT_EQ(dtmf_event_code('d'), 15);
  EXPECT_FALSE(dtmf_event_code('e'));
  EXPECT_FALSE(dtmf_event_code(','));
  EXPECT_FALSE(dtmf_event_code('\0'));
  EXPECT_FALSE(dtmf_key(16));
}

std::vector<ToneEvent> drain(TelephoneEventReceiver& receiver) {
  std::vector<ToneEvent> out;
  while (auto event = receiver.poll_event()) out.push_back(*event);
  return out;
}

using Kind = ToneEvent::Kind;

TEST(TelephoneEventReceiver, ReportsStartOnceAndEndOnce) {
  TelephoneEventReceiver receiver;
  ASSERT_TRUE(receiver.on_packet(10, 1000, true, payload(1, false, 400)));
  ASSERT_TRUE(receiver.on_packet(11, 1000, false, payload(1, false, 800)));
  for (std::uint16_t seq = 12; seq < 15; ++seq)
    ASSERT_TRUE(receiver.on_packet(seq, 1000, false, payload(1, true, 960)));
  const auto events = drain(receiver);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], (ToneEvent{Kind::kStart, 1, 1000, 400, 10, false}));
  EXPECT_EQ(events[1], (ToneEvent{Kind::kEnd, 1, 1000, 960, 10, true}));
  EXPECT_EQ(receiver.packets_ignored(), 2u);  // the two end repeats
  EXPECT_EQ(receiver.on_packet(15, 2000, true, Buffer{1}).error(), PayloadError::kTruncated);
}

TEST(TelephoneEventReceiver, AnEventWhoseEndIsLostEndsAtTheNextOne) {
  TelephoneEventReceiver receiver;
  ASSERT_TRUE(receiver.on_packet(1, 1000, true, payload(1, false, 400)));
  ASSERT_TRUE(receiver.on_packet(2, 1000, false, payload(1, false, 800)));
  // The end packets are lost; the next event (its first packet lost too: no marker) comes.
  ASSERT_TRUE(receiver.on_packet(7, 3000, false, payload(2, false, 800)));
  ASSERT_TRUE(receiver.on_packet(8, 3000, false, payload(2, true, 960)));
  const auto events = drain(receiver);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, Kind::kStart);
  EXPECT_EQ(events[1], (ToneEvent{Kind::kEnd, 1, 1000, 800, 10, false}));
  EXPECT_EQ(events[2], (ToneEvent{Kind::kStart, 2, 3000, 800, 10, false}));
  EXPECT_EQ(events[3], (ToneEvent{Kind::kEnd, 2, 3000, 960, 10, true}));
}

TEST(TelephoneEventReceiver, IgnoresOldEventsDuplicatesAndReorderedUpdates) {
  TelephoneEventReceiver receiver;
  ASSERT_TRUE(receiver.on_packet(1, 5000, true, payload(3, false, 400)));
  // A late packet of an older event: ignored, nothing reported.
  ASSERT_TRUE(receiver.on_packet(0, 4000, false, payload(9, true, 800)));
  // A reordered update (800 before 400 again) and a duplicate.
  ASSERT_TRUE(receiver.on_packet(3, 5000, false, payload(3, false, 1200)));
  ASSERT_TRUE(receiver.on_packet(2, 5000, false, payload(3, false, 800)));
  ASSERT_TRUE(receiver.on_packet(3, 5000, false, payload(3, false, 1200)));
  ASSERT_TRUE(receiver.on_packet(4, 5000, false, payload(3, true, 1600)));
  // An end repeat arriving after the next event started: old, ignored.
  ASSERT_TRUE(receiver.on_packet(6, 7000, true, payload(4, false, 400)));
  ASSERT_TRUE(receiver.on_packet(5, 5000, false, payload(3, true, 1600)));
  const auto events = drain(receiver);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], (ToneEvent{Kind::kStart, 3, 5000, 400, 10, false}));
  EXPECT_EQ(events[1], (ToneEvent{Kind::kEnd, 3, 5000, 1600, 10, true}));
  EXPECT_EQ(events[2], (ToneEvent{Kind::kStart, 4, 7000, 400, 10, false}));
  EXPECT_EQ(receiver.packets_ignored(), 2u);
}

TEST(TelephoneEventReceiver, TimestampsCompareAcrossTheWrap) {
  TelephoneEventReceiver receiver;
  ASSERT_TRUE(receiver.on_packet(1, 0xFFFFFF00u, true, payload(1, true, 400)));
  ASSERT_TRUE(receiver.on_packet(2, 0x00000100u, true, payload(2, true, 400)));  // newer
  ASSERT_TRUE(receiver.on_packet(3, 0xFFFFFF00u, true, payload(1, true, 400)));  // old
  const auto events = drain(receiver);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].event, 2);
  EXPECT_EQ(events[3].kind, Kind::kEnd);
}

TEST(TelephoneEventReceiver, JoinsTheSegmentsOfALongEvent) {
  TelephoneEventReceiver receiver;
  ASSERT_TRUE(receiver.on_packet(1, 100, true, payload(0, false, 0xFFFF)));
  // RFC 4733 2.5.1.3: the next segment starts 0xFFFF later, without the marker bit.
  ASSERT_TRUE(receiver.on_packet(2, 100 + 0xFFFF, false, payload(0, false, 1000)));
  ASSERT_TRUE(receiver.on_packet(3, 100 + 0xFFFF, false, payload(0, true, 2000)));
  const auto events = drain(receiver);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1], (ToneEvent{Kind::kEnd, 0, 100, 0xFFFF + 2000, 10, true}));
}

TEST(TelephoneEventReceiver, KeepsABoundedQueue) {
  TelephoneEventReceiver receiver;
  for (std::uint32_t i = 0; i < 1000; ++i)
    ASSERT_TRUE(
        receiver.on_packet(static_cast<std::uint16_t>(i), i * 1000, true, payload(1, true, 400)));
  EXPECT_EQ(drain(receiver).size(), TelephoneEventReceiver::kMaxPendingEvents);
}

// --- DtmfSender ----------------------------------------------------------------------------

struct Record {
  std::int64_t at_ms;
  std::string what;  // "tone:X" or "pkt:<event>:<M><E>:<duration>:<start ms>:<offset>"
};

// Runs the sender on a virtual clock until it is idle, recording what comes out when.
std::vector<Record> run(DtmfSender& sender, Timestamp now, Timestamp until) {
  std::vector<Record> out;
  auto drain = [&](Timestamp at) {
    while (auto change = sender.poll_tone_change())
      out.push_back({at.ms(), "tone:" + change->tone});
    while (auto packet = sender.poll_packet()) {
      out.push_back({at.ms(), "pkt:" + std::to_string(packet->payload.event) + ":" +
                                  (packet->marker ? "M" : "-") + (packet->payload.end ? "E" : "-") +
                                  ":" + std::to_string(packet->payload.duration) + ":" +
                                  std::to_string(packet->event_start.ms()) + ":" +
                                  std::to_string(packet->timestamp_offset)});
    }
  };
  drain(now);
  while (auto next = sender.next_timeout()) {
    if (*next > until) break;
    EXPECT_GE(*next, now);
    now = *next;
    sender.handle_timeout(now);
    drain(now);
  }
  return out;
}

std::vector<std::int64_t> tone_times(const std::vector<Record>& records, std::string* tones) {
  std::vector<std::int64_t> times;
  for (const Record& r : records) {
    if (r.what.rfind("tone:", 0) == 0) {
      times.push_back(r.at_ms);
      *tones += r.what.substr(5) + "|";
    }
  }
  return times;
}

TEST(DtmfSender, PlaysTonesWithDurationAndGap) {
  DtmfSender sender;
  const Timestamp t0 = Timestamp::seconds(10);
  ASSERT_TRUE(sender.insert_dtmf(t0, "1a", 100, 70));
  EXPECT_EQ(sender.tone_buffer(), "A");  // the first tone started at once; 'a' taken as 'A'
  const auto records = run(sender, t0, t0 + Duration::seconds(10));
  std::string tones;
  const auto times = tone_times(records, &tones);
  EXPECT_EQ(tones, "1|A||");
  EXPECT_EQ(times, (std::vector<std::int64_t>{10000, 10170, 10340}));
  EXPECT_FALSE(sender.playing());
  // Tone 1: an update at 50 ms with the marker, the end at 100 ms three times; at 8 kHz.
  std::vector<std::string> tone1;
  for (const Record& r : records) {
    if (r.what.rfind("pkt:1:", 0) == 0) tone1.push_back(std::to_string(r.at_ms) + " " + r.what);
  }
  EXPECT_EQ(tone1, (std::vector<std::string>{
                       "10050 pkt:1:M-:400:10000:0",
                       "10100 pkt:1:-E:800:10000:0",
                       "10100 pkt:1:-E:800:10000:0",
                       "10100 pkt:1:-E:800:10000:0",
                   }));
}

TEST(DtmfSender, CommaIsATwoSecondPause) {
  DtmfSender sender;
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::zero(), "1,2", 100, 70));
  const auto records = run(sender, Timestamp::zero(), Timestamp::seconds(10));
  std::string tones;
  EXPECT_EQ(tone_times(records, &tones), (std::vector<std::int64_t>{0, 170, 2170, 2340}));
  EXPECT_EQ(tones, "1|,|2||");
  for (const Record& r : records) {
    if (r.what.rfind("pkt:", 0) == 0) {
      EXPECT_TRUE(r.at_ms <= 100 || r.at_ms >= 2170) << r.what;
    }
  }
}

TEST(DtmfSender, ClampsDurationAndGap) {
  DtmfSender sender;
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::zero(), "12", 10, 5));
  EXPECT_EQ(sender.duration(), Duration::millis(40));
  EXPECT_EQ(sender.inter_tone_gap(), Duration::millis(30));
  auto records = run(sender, Timestamp::zero(), Timestamp::seconds(10));
  std::string tones;
  EXPECT_EQ(tone_times(records, &tones), (std::vector<std::int64_t>{0, 70, 140}));
  // A 40 ms tone: no update before its end, so the first end packet carries the marker.
  EXPECT_EQ(records[1].what, "pkt:1:ME:320:0:0");
  EXPECT_EQ(records[2].what, "pkt:1:-E:320:0:0");

  ASSERT_TRUE(sender.insert_dtmf(Timestamp::seconds(20), "3", 100000, 100000));
  EXPECT_EQ(sender.duration(), Duration::millis(6000));
  EXPECT_EQ(sender.inter_tone_gap(), Duration::millis(6000));
  records = run(sender, Timestamp::seconds(20), Timestamp::seconds(100));
  tones.clear();
  EXPECT_EQ(tone_times(records, &tones), (std::vector<std::int64_t>{20000, 32000}));
  EXPECT_EQ(records[records.size() - 2].what, "pkt:3:-E:48000:20000:0");
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::seconds(200), "4", -5, -5));
  EXPECT_EQ(sender.duration(), Duration::millis(40));
}

TEST(DtmfSender, RefusesInvalidCharacters) {
  DtmfSender sender;
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::zero(), "123", 100, 70));
  EXPECT_EQ(sender.insert_dtmf(Timestamp::zero(), "12e", 100, 70).error(),
            DtmfError::kInvalidCharacter);
  EXPECT_EQ(sender.insert_dtmf(Timestamp::zero(), "1 2", 100, 70).error(),
            DtmfError::kInvalidCharacter);
  EXPECT_EQ(sender.tone_buffer(), "23");  // unchanged
}

TEST(DtmfSender, ANewInsertReplacesTheBufferAndTheToneFinishes) {
  DtmfSender sender;
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::zero(), "123", 100, 70));
  EXPECT_EQ(sender.poll_tone_change()->tone, "1");
  sender.handle_timeout(Timestamp::millis(50));
  // Replaced while '1' plays: '1' finishes, its gap runs, then '9' plays with the new times.
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::millis(60), "9", 200, 50));
  EXPECT_EQ(sender.tone_buffer(), "9");
  const auto records = run(sender, Timestamp::millis(60), Timestamp::seconds(10));
  std::string tones;
  const auto times = tone_times(records, &tones);
  EXPECT_EQ(tones, "9||");
  EXPECT_EQ(times, (std::vector<std::int64_t>{170, 420}));
  int ends_of_1 = 0;
  for (const Record& r : records) ends_of_1 += r.what == "pkt:1:-E:800:0:0" ? 1 : 0;
  EXPECT_EQ(ends_of_1, 3);

  // An empty insert cancels what is queued; the playing tone still ends with "".
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::seconds(20), "12", 100, 70));
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::seconds(20), "", 100, 70));
  const auto cancelled = run(sender, Timestamp::seconds(20), Timestamp::seconds(30));
  tones.clear();
  EXPECT_EQ(tone_times(cancelled, &tones), (std::vector<std::int64_t>{20000, 20170}));
  EXPECT_EQ(tones, "1||");
  // Nothing playing: an empty insert does nothing.
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::seconds(40), "", 100, 70));
  EXPECT_FALSE(sender.next_timeout());
  EXPECT_FALSE(sender.poll_tone_change());
}

TEST(DtmfSender, LongEventsAtFortyEightKilohertzAreSegmented) {
  DtmfSender sender(48000);
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::zero(), "#", 2000, 70));
  const auto records = run(sender, Timestamp::zero(), Timestamp::seconds(10));
  // 2 s at 48 kHz is 96000 units: one full segment of 0xFFFF, then 30465 in the next.
  std::vector<std::string> segment_ends;
  std::vector<std::string> ends;
  for (const Record& r : records) {
    if (r.what.find(":65535:0:0") != std::string::npos) segment_ends.push_back(r.what);
    if (r.what.find("-E:") != std::string::npos) ends.push_back(r.what);
  }
  EXPECT_EQ(segment_ends.size(), 3u);
  ASSERT_EQ(ends.size(), 3u);
  EXPECT_EQ(ends[0], "pkt:11:-E:30465:0:65535");
  // The first packet (50 ms, 2400 units) carries the marker.
  EXPECT_EQ(records[1].what, "pkt:11:M-:2400:0:0");
}

TEST(DtmfSender, ALateWakeUpSkipsStaleUpdates) {
  DtmfSender sender;
  ASSERT_TRUE(sender.insert_dtmf(Timestamp::zero(), "5", 1000, 70));
  (void)sender.poll_tone_change();
  sender.handle_timeout(Timestamp::millis(420));
  auto packet = sender.poll_packet();
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->marker);
  EXPECT_EQ(packet->payload.duration, 400 * 8);
  EXPECT_FALSE(sender.poll_packet());
  EXPECT_EQ(sender.next_timeout(), Timestamp::millis(450));
}

}  // namespace
}  // namespace rtcpp::rtp
