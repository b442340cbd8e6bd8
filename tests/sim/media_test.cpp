// Media between two connection cores over the simulator: an offer with a video and an audio
// transceiver, the answer receiving both, DTLS-SRTP keys, and encoded frames sent as SRTP
// and put back together on the other side, with and without loss and reordering. A frame
// the receiver delivers is always one the sender sent, byte for byte; a receiver that lost
// part of a frame asks for a key frame (PLI) and the sender's application hears it.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <climits>
#include <map>

#include "common/vp8_frames.hpp"
#include "connection_node.hpp"
#include "network.hpp"
#include "pc/connection.hpp"

namespace rtcpp::sim {
namespace {

using testing::TwoConnections;

// What a side's application saw.
struct MediaSeen {
  bool connected = false;
  std::vector<std::uint32_t> tracks;
  std::map<std::uint32_t, std::vector<pc::EncodedFrame>> frames;  // by transceiver
  std::size_t key_frame_requests = 0;
};

// What the application of one side sees of an event.
void note_media_event(MediaSeen& self, pc::ConnectionEvent& e) {
  if (const auto* d = std::get_if<pc::DtlsStateChanged>(&e)) {
    self.connected = d->state == dtls::DtlsState::kConnected;
  } else if (const auto* t = std::get_if<pc::TrackAdded>(&e)) {
    self.tracks.push_back(t->transceiver);
  } else if (auto* f = std::get_if<pc::MediaFrameReceived>(&e)) {
    self.frames[f->transceiver].push_back(std::move(f->frame));
  } else if (std::holds_alternative<pc::KeyFrameRequested>(e)) {
    ++self.key_frame_requests;
  }
}

using test_support::vp8_frame;

using test_support::vp8_frame_number;

struct MediaOutcome {
  bool connected = false;
  std::size_t video_sent = 0;
  std::size_t audio_sent = 0;
  std::vector<std::uint32_t> receiver_tracks;
  std::vector<pc::EncodedFrame> video_received;
  std::vector<pc::EncodedFrame> audio_received;
  std::map<std::uint32_t, Buffer> video_sent_frames;  // by number
  std::size_t key_frame_requests = 0;
  std::uint64_t pli_sent = 0;
  std::string offer;
  std::string answer;
  pc::MediaStreamStats sender_video;    // the offerer's view of its video
  pc::MediaStreamStats receiver_video;  // the answerer's
  pc::MediaStreamStats receiver_audio;
  // Transport-wide congestion control: the offerer's view of its packets, the answerer's
  // feedback, and the offerer's per-packet results of the last second or so.
  pc::TransportFeedbackStats sender_transport;
  pc::TransportFeedbackStats receiver_transport;
  std::vector<rtp::TransportPacketResult> transport_results;
  // After the offerer closed: RTCP BYEs the answerer got for the video and the audio.
  std::uint64_t video_goodbyes = 0;
  std::uint64_t audio_goodbyes = 0;
};

MediaOutcome run_media_session(std::uint64_t seed, double loss, Duration jitter) {
  Network net(seed);
  LinkConfig link;
  link.delay = Duration::millis(15);
  link.jitter = jitter;
  link.loss = loss;

  SeededRandom rng(seed);
  std::array<MediaSeen, 2> seen;
  TwoConnections rig(net, rng, link, [&](int side, pc::ConnectionEvent&& e, Timestamp) {
    note_media_event(seen[static_cast<std::size_t>(side)], e);
  });
  auto& a = rig.connection(0);
  auto& b = rig.connection(1);
  MediaSeen& seen_a = seen[0];
  MediaSeen& seen_b = seen[1];

  MediaOutcome out;
  const Timestamp start = net.now();
  const auto video = a.add_transceiver(pc::MediaKind::kVideo, pc::RtpDirection::kSendOnly);
  const auto audio = a.add_transceiver(pc::MediaKind::kAudio, pc::RtpDirection::kSendRecv);
  auto negotiated = rig.negotiate(start);
  if (!negotiated) return out;
  out.offer = negotiated->offer;
  out.answer = negotiated->answer;
  out.connected = net.run_until([&] { return seen_a.connected && seen_b.connected; },
                                start + Duration::seconds(10));
  if (!out.connected) return out;

  // 4 s of 30 fps video (a key frame every 2 s, or when asked) and 50 packets/s of audio.
  bool key_next = true;
  std::size_t requests_seen = 0;
  const Timestamp media_start = net.now();
  for (std::uint32_t tick = 0; tick < 200; ++tick) {  // 20 ms ticks
    const Timestamp at = media_start + Duration::millis(20 * tick);
    net.run_until([] { return false; }, at);
    if (seen_a.key_frame_requests > requests_seen) {
      requests_seen = seen_a.key_frame_requests;
      key_next = true;
    }
    if (tick % 3 != 1) {  // 2 of every 3 ticks: 33.3 fps on average, near enough to 30
      const auto number = static_cast<std::uint32_t>(out.video_sent);
      const bool key = key_next || number % 60 == 0;
      key_next = false;
      // Key frames span several packets; delta frames one to three.
      const std::size_t size = key ? 9000 + number % 1000 : 300 + (number * 97) % 3000;
      Buffer frame = vp8_frame(number, key, size);
      pc::EncodedFrame encoded{number * 3000, key, frame};
      EXPECT_TRUE(a.send_frame(video, encoded, net.now()));
      out.video_sent_frames[number] = std::move(frame);
      ++out.video_sent;
    }
    Buffer opus(120);
    for (std::size_t i = 0; i < opus.size(); ++i) opus[i] = static_cast<std::uint8_t>(tick + i);
    EXPECT_TRUE(a.send_frame(audio, {tick * 960, true, std::move(opus)}, net.now()));
    ++out.audio_sent;
    net.wake(rig.node(0));
  }
  net.run_until([] { return false; }, net.now() + Duration::seconds(1));

  const auto* b_video = b.transceivers().find_mid("0");
  const auto* b_audio = b.transceivers().find_mid("1");
  EXPECT_TRUE(b_video && b_audio);
  if (!b_video || !b_audio) return out;
  out.video_received = seen_b.frames[b_video->handle];
  out.audio_received = seen_b.frames[b_audio->handle];
  out.key_frame_requests = seen_a.key_frame_requests;
  out.receiver_tracks = seen_b.tracks;
  if (const auto* stats = b.media_stats(b_video->handle)) {
    out.pli_sent = stats->pli_sent;
    out.receiver_video = *stats;
  }
  if (const auto* stats = a.media_stats(video)) out.sender_video = *stats;
  if (const auto* stats = b.media_stats(b_audio->handle)) out.receiver_audio = *stats;
  out.sender_transport = a.transport_feedback_stats();
  out.receiver_transport = b.transport_feedback_stats();
  out.transport_results = a.take_transport_results();
  // The offerer receives nothing on its sendonly video, and nothing was sent to its audio.
  EXPECT_TRUE(seen_a.frames.empty());
  // Closing says BYE for each stream that sent (RFC 3550 6.6).
  a.close(net.now());
  net.wake(rig.node(0));
  net.run_until([] { return false; }, net.now() + Duration::millis(200));
  if (const auto* stats = b.media_stats(b_video->handle))
    out.video_goodbyes = stats->goodbyes_received;
  if (const auto* stats = b.media_stats(b_audio->handle))
    out.audio_goodbyes = stats->goodbyes_received;
  return out;
}

TEST(SimMedia, VideoAndAudioFramesArriveWhole) {
  const MediaOutcome o = run_media_session(3, 0.0, Duration::zero());
  ASSERT_TRUE(o.connected);
  EXPECT_NE(o.answer.find("a=recvonly"), std::string::npos) << o.answer;
  EXPECT_NE(o.answer.find("VP8/90000"), std::string::npos) << o.answer;
  EXPECT_EQ(o.receiver_tracks.size(), 2u);
  ASSERT_EQ(o.video_received.size(), o.video_sent);
  for (std::size_t i = 0; i < o.video_received.size(); ++i) {
    const auto& frame = o.video_received[i];
    const std::uint32_t number = vp8_frame_number(frame.data);
    EXPECT_EQ(number, i);
    EXPECT_EQ(frame.data, o.video_sent_frames.at(number)) << "frame " << i;
  }
  // RTP timestamps keep their spacing (the sender adds one random offset to all).
  ASSERT_GE(o.video_received.size(), 2u);
  EXPECT_EQ(o.video_received[1].rtp_timestamp - o.video_received[0].rtp_timestamp, 3000u);
  EXPECT_EQ(o.audio_received.size(), o.audio_sent);
  EXPECT_EQ(o.key_frame_requests, 0u);
  // RTCP (RFC 3550): the sender's SRs echoed in the receiver's RRs give the round-trip time
  // (four 15 ms links); nothing was lost, and the audio, sent on its own clock's pace over
  // links without jitter, arrives with none.
  EXPECT_GE(o.sender_video.sender_reports_sent, 3u);
  EXPECT_GE(o.receiver_video.receiver_reports_sent, 3u);
  ASSERT_TRUE(o.sender_video.round_trip_time);
  EXPECT_NEAR(o.sender_video.round_trip_time->ms_f(), 60.0, 1.0);
  EXPECT_EQ(o.receiver_video.packets_lost, 0);
  EXPECT_EQ(o.sender_video.remote_packets_lost, std::optional<std::int32_t>(0));
  EXPECT_LT(o.receiver_audio.jitter_seconds, 0.0005);
  EXPECT_EQ(o.receiver_audio.packets_lost, 0);
  EXPECT_EQ(o.video_goodbyes, 1u);
  EXPECT_EQ(o.audio_goodbyes, 1u);
  // Transport-wide congestion control: every RTP packet numbered, and all reported received
  // by feedback about every 100 ms over the 5 s of media.
  EXPECT_NE(o.offer.find("transport-wide-cc-extensions-01"), std::string::npos) << o.offer;
  EXPECT_NE(o.answer.find("a=rtcp-fb:96 transport-cc"), std::string::npos) << o.answer;
  const std::uint64_t rtp_sent =
      o.sender_video.packets_sent + o.sender_video.packets_retransmitted + o.audio_sent;
  EXPECT_EQ(o.receiver_transport.packets_reported, rtp_sent);
  EXPECT_GE(o.receiver_transport.feedback_sent, 40u);
  EXPECT_EQ(o.sender_transport.feedback_received, o.receiver_transport.feedback_sent);
  EXPECT_EQ(o.sender_transport.packets_reported_received, rtp_sent);
  EXPECT_EQ(o.sender_transport.packets_reported_lost, 0u);
  // Over a link of constant delay, arrival minus send time is one value for every packet (the
  // receiver's clock has another origin), to within a 250 us tick.
  ASSERT_EQ(o.transport_results.size(), rtp_sent);
  std::int64_t low = INT64_MAX;
  std::int64_t high = INT64_MIN;
  for (const auto& r : o.transport_results) {
    ASSERT_TRUE(r.arrival);
    const std::int64_t one_way = (*r.arrival - r.sent).us();
    low = std::min(low, one_way);
    high = std::max(high, one_way);
  }
  EXPECT_LE(high - low, 250);
}

// Every delivered frame is a sent one, whole, and in sending order.
void expect_whole_frames_in_order(const MediaOutcome& o, std::uint64_t seed) {
  std::optional<std::uint32_t> previous;
  for (const auto& frame : o.video_received) {
    const std::uint32_t number = vp8_frame_number(frame.data);
    ASSERT_TRUE(o.video_sent_frames.count(number)) << "seed " << seed;
    EXPECT_EQ(frame.data, o.video_sent_frames.at(number)) << "seed " << seed;
    if (previous) {
      EXPECT_GT(number, *previous) << "seed " << seed;
    }
    previous = number;
  }
}

TEST(SimMedia, LossAndReorderingNeverDeliverABrokenFrame) {
  for (std::uint64_t seed : {5u, 6u, 7u}) {
    const MediaOutcome o = run_media_session(seed, 0.02, Duration::millis(8));
    ASSERT_TRUE(o.connected) << "seed " << seed;
    expect_whole_frames_in_order(o, seed);
    // Losses are repaired by NACK (RFC 4585) and retransmission from the sender's history,
    // over a 60 ms round trip: over seeds 1-30, 123 to 133 of the 133 frames arrive (41 to
    // 103 when only key-frame requests repaired a loss).
    EXPECT_GE(o.video_received.size(), o.video_sent * 9 / 10) << "seed " << seed;
    EXPECT_GT(o.receiver_video.nack_sent, 0u) << "seed " << seed;
    EXPECT_GT(o.sender_video.nack_received, 0u) << "seed " << seed;
    EXPECT_GT(o.sender_video.packets_retransmitted, 0u) << "seed " << seed;
    // As RFC 4588 repairs on the sender's RTX SSRC (a=ssrc-group:FID in its offer).
    EXPECT_NE(o.offer.find("a=ssrc-group:FID "), std::string::npos) << o.offer;
    EXPECT_GT(o.receiver_video.retransmitted_packets_received, 0u) << "seed " << seed;
    EXPECT_GT(o.audio_received.size(), o.audio_sent * 8 / 10) << "seed " << seed;
    // RFC 3550 A.3 counts a retransmission as a packet received, so repaired losses are no
    // losses; the reports still flow both ways.
    EXPECT_GE(o.receiver_video.packets_lost, 0) << "seed " << seed;
    EXPECT_TRUE(o.sender_video.remote_packets_lost) << "seed " << seed;
    EXPECT_GT(o.receiver_video.jitter_seconds, 0.0) << "seed " << seed;
    // Transport-cc feedback reports the losses (a lost feedback message loses its reports).
    EXPECT_GT(o.sender_transport.packets_reported_lost, 0u) << "seed " << seed;
    EXPECT_GT(o.sender_transport.packets_reported_received,
              o.receiver_transport.packets_reported * 9 / 10)
        << "seed " << seed;
  }
}

TEST(SimMedia, HeavierLossFallsBackOnKeyFrameRequests) {
  // 10 % on each link: a packet whose NACKs or retransmissions are lost again within the
  // frames' wait is given up, its frame dropped and a key frame asked for. Over seeds 1-30,
  // 86 to 133 of the 133 frames arrive.
  for (std::uint64_t seed : {5u, 6u, 7u}) {
    const MediaOutcome o = run_media_session(seed, 0.10, Duration::millis(8));
    ASSERT_TRUE(o.connected) << "seed " << seed;
    expect_whole_frames_in_order(o, seed);
    EXPECT_GT(o.video_received.size(), o.video_sent / 2) << "seed " << seed;
    EXPECT_GT(o.receiver_video.nack_sent, 10u) << "seed " << seed;
    EXPECT_GT(o.sender_video.packets_retransmitted, 10u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace rtcpp::sim

namespace rtcpp::sim {
namespace {

// What each side's application saw of DTMF.
struct DtmfSeen {
  bool connected = false;
  std::vector<std::pair<std::string, Timestamp>> tone_changes;
  std::vector<rtp::ToneEvent> tones;
  std::uint32_t tone_clock_rate = 0;
  std::size_t audio_frames = 0;
};

// W3C webrtc-pc 7.2 over RFC 4733: "1234#" with 100 ms tones and 70 ms gaps, between two
// cores over a 15 ms link with some jitter, while audio flows. Each tone change comes at its
// playout task's time (170 ms apart, "" after the last gap), and each tone arrives in order
// as one event lasting its 100 ms on the Opus clock.
TEST(SimMedia, DtmfTonesPlayOnTimeAndArriveInOrder) {
  Network net(11);
  LinkConfig link;
  link.delay = Duration::millis(15);
  link.jitter = Duration::millis(3);
  SeededRandom rng(11);
  std::array<DtmfSeen, 2> seen;
  TwoConnections rig(net, rng, link, [&](int side, pc::ConnectionEvent&& e, Timestamp now) {
    DtmfSeen& self = seen[static_cast<std::size_t>(side)];
    if (const auto* d = std::get_if<pc::DtlsStateChanged>(&e)) {
      self.connected = d->state == dtls::DtlsState::kConnected;
    } else if (const auto* change = std::get_if<pc::DtmfToneChanged>(&e)) {
      self.tone_changes.emplace_back(change->tone, now);
    } else if (const auto* tone = std::get_if<pc::DtmfToneReceived>(&e)) {
      self.tones.push_back(tone->event);
      self.tone_clock_rate = tone->clock_rate;
    } else if (std::holds_alternative<pc::MediaFrameReceived>(e)) {
      ++self.audio_frames;
    }
  });
  auto& a = rig.connection(0);
  auto& b = rig.connection(1);
  const auto audio = a.add_transceiver(pc::MediaKind::kAudio, pc::RtpDirection::kSendOnly);
  const auto video = a.add_transceiver(pc::MediaKind::kVideo, pc::RtpDirection::kSendOnly);
  ASSERT_TRUE(rig.negotiate(net.now()));
  ASSERT_TRUE(net.run_until([&] { return seen[0].connected && seen[1].connected; },
                            net.now() + Duration::seconds(10)));
  EXPECT_TRUE(a.can_insert_dtmf(audio));
  EXPECT_FALSE(a.can_insert_dtmf(video));  // video has no telephone events
  const auto* b_audio = b.transceivers().find_mid("0");
  ASSERT_NE(b_audio, nullptr);
  EXPECT_FALSE(b.can_insert_dtmf(b_audio->handle));  // it only receives
  EXPECT_EQ(b.insert_dtmf(b_audio->handle, "1", 100, 70, net.now()).error().type(),
            RTCErrorType::kInvalidStateError);
  EXPECT_EQ(a.insert_dtmf(audio, "12x", 100, 70, net.now()).error().type(),
            RTCErrorType::kInvalidCharacterError);

  const Timestamp start = net.now();
  ASSERT_TRUE(a.insert_dtmf(audio, "1234#", 100, 70, start));
  EXPECT_EQ(a.dtmf_tone_buffer(audio), "234#");      // "1" plays already
  for (std::uint32_t tick = 0; tick < 75; ++tick) {  // 1.5 s of 20 ms Opus packets
    net.run_until([] { return false; }, start + Duration::millis(20 * tick));
    Buffer opus(60);
    for (std::size_t i = 0; i < opus.size(); ++i) opus[i] = static_cast<std::uint8_t>(tick + i);
    EXPECT_TRUE(a.send_frame(audio, {tick * 960, true, std::move(opus)}, net.now()));
    net.wake(rig.node(0));
  }
  net.run_until([] { return false; }, net.now() + Duration::millis(500));

  const auto& changes = seen[0].tone_changes;
  ASSERT_EQ(changes.size(), 6u);
  const std::string expected[] = {"1", "2", "3", "4", "#", ""};
  for (std::size_t i = 0; i < changes.size(); ++i) {
    EXPECT_EQ(changes[i].first, expected[i]);
    // The runtime's timer resolution here is the simulator's: exact to a millisecond.
    EXPECT_NEAR((changes[i].second - start).ms_f(), 170.0 * static_cast<double>(i), 1.0)
        << "tone change " << i;
  }
  EXPECT_EQ(a.dtmf_tone_buffer(audio), "");

  // The receiver: a start and an end for each tone, in order, each 100 ms at 48 kHz.
  EXPECT_EQ(seen[1].tone_clock_rate, 48000u);
  std::string starts;
  std::vector<std::uint32_t> durations;
  for (const auto& t : seen[1].tones) {
    if (t.kind == rtp::ToneEvent::Kind::kStart) {
      starts += *rtp::dtmf_key(t.event);
    } else {
      EXPECT_TRUE(t.end_received);
      durations.push_back(t.duration);
    }
  }
  EXPECT_EQ(starts, "1234#");
  ASSERT_EQ(durations.size(), 5u);
  for (const auto d : durations) EXPECT_EQ(d, 4800u);  // 100 ms at 48 kHz
  // The audio went on beside the events, and none of them was taken for an audio frame.
  EXPECT_EQ(seen[1].audio_frames, 75u);
  const auto* stats = b.media_stats(b_audio->handle);
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(stats->packets_lost, 0);
}

// Without a telephone-event format at the audio codec's rate there is no DTMF: a peer whose
// preferences keep only Opus.
TEST(SimMedia, NoDtmfWithoutTelephoneEvent) {
  Network net(12);
  SeededRandom rng(12);
  std::array<bool, 2> connected{};
  TwoConnections rig(net, rng, LinkConfig{}, [&](int side, pc::ConnectionEvent&& e, Timestamp) {
    if (const auto* d = std::get_if<pc::DtlsStateChanged>(&e))
      connected[static_cast<std::size_t>(side)] = d->state == dtls::DtlsState::kConnected;
  });
  auto& a = rig.connection(0);
  const auto audio = a.add_transceiver(pc::MediaKind::kAudio, pc::RtpDirection::kSendRecv);
  ASSERT_TRUE(a.set_codec_preferences(audio, {{"opus", 48000, 2, {}}}));
  auto negotiated = rig.negotiate(net.now());
  ASSERT_TRUE(negotiated);
  EXPECT_EQ(negotiated->answer.find("telephone-event"), std::string::npos);
  ASSERT_TRUE(net.run_until([&] { return connected[0] && connected[1]; },
                            net.now() + Duration::seconds(10)));
  EXPECT_FALSE(a.can_insert_dtmf(audio));
  EXPECT_EQ(a.insert_dtmf(audio, "1", 100, 70, net.now()).error().type(),
            RTCErrorType::kInvalidStateError);
}

// A sender that sizes its frames by the bandwidth estimate, through links of 800 kbit/s with
// 300 ms of queue, against one that sends 1.5 Mbit/s whatever happens.
struct RateLimitedOutcome {
  std::size_t frames_sent_late = 0;      // in the last 10 s
  std::size_t frames_received_late = 0;  // of those
  double mean_estimate_late = 0;         // bits per second, over the last 10 s
  std::optional<std::uint32_t> available_outgoing_bitrate;
  std::uint64_t decreases = 0;
};

RateLimitedOutcome run_rate_limited(std::uint64_t seed, bool follow_estimate) {
  Network net(seed);
  LinkConfig link;
  link.delay = Duration::millis(20);
  link.bandwidth_bps = 800'000;
  link.queue_bytes = 30'000;
  SeededRandom rng(seed);
  std::array<MediaSeen, 2> seen;
  TwoConnections rig(net, rng, link, [&](int side, pc::ConnectionEvent&& e, Timestamp) {
    note_media_event(seen[static_cast<std::size_t>(side)], e);
  });
  auto& a = rig.connection(0);
  auto& b = rig.connection(1);
  RateLimitedOutcome out;
  const Timestamp start = net.now();
  const auto video = a.add_transceiver(pc::MediaKind::kVideo, pc::RtpDirection::kSendOnly);
  if (!rig.negotiate(start)) return out;
  if (!net.run_until([&] { return seen[0].connected && seen[1].connected; },
                     start + Duration::seconds(10)))
    return out;

  // 40 s at 30 fps; a key frame (three times a delta frame) every 3 s or when asked.
  constexpr std::uint32_t kFrames = 1200;
  constexpr std::uint32_t kLateFrom = kFrames - 300;
  std::size_t requests_seen = 0;
  double estimate_sum = 0;
  const Timestamp media_start = net.now();
  for (std::uint32_t number = 0; number < kFrames; ++number) {
    net.run_until([] { return false; }, media_start + Duration::micros(33'333LL * number));
    const bool asked = seen[0].key_frame_requests > requests_seen;
    requests_seen = seen[0].key_frame_requests;
    const bool key = asked || number % 90 == 0;
    const double rate = follow_estimate ? a.bandwidth_estimator().target_bps() : 1'500'000.0;
    const auto delta_bytes = static_cast<std::size_t>(rate / 8 / 30 / (1 + 2.0 / 90));
    Buffer frame = vp8_frame(number, key, key ? 3 * delta_bytes : delta_bytes);
    EXPECT_TRUE(a.send_frame(video, {number * 3000, key, std::move(frame)}, net.now()));
    net.wake(rig.node(0));
    if (number >= kLateFrom) {
      ++out.frames_sent_late;
      estimate_sum += a.bandwidth_estimator().target_bps();
    }
  }
  net.run_until([] { return false; }, net.now() + Duration::seconds(1));
  const auto* b_video = b.transceivers().find_mid("0");
  if (b_video == nullptr) return out;
  for (const auto& f : seen[1].frames[b_video->handle]) {
    if (vp8_frame_number(f.data) >= kLateFrom) ++out.frames_received_late;
  }
  out.mean_estimate_late = estimate_sum / static_cast<double>(out.frames_sent_late);
  out.available_outgoing_bitrate = a.available_outgoing_bitrate();
  out.decreases = a.bandwidth_estimator().decreases();
  return out;
}

TEST(SimMedia, FramesSizedByTheBandwidthEstimateFitALimitedLink) {
  for (std::uint64_t seed : {11u, 12u}) {
    const auto followed = run_rate_limited(seed, true);
    ASSERT_GT(followed.frames_sent_late, 0u) << "seed " << seed;
    // The estimate settles under the link's 800 kbit/s (the RTP, SRTP, UDP and IP headers
    // take their part of it) and nearly every frame arrives.
    EXPECT_GT(followed.mean_estimate_late, 450'000) << "seed " << seed;
    EXPECT_LT(followed.mean_estimate_late, 800'000) << "seed " << seed;
    EXPECT_GT(followed.decreases, 0u) << "seed " << seed;
    EXPECT_TRUE(followed.available_outgoing_bitrate) << "seed " << seed;
    EXPECT_GE(followed.frames_received_late, followed.frames_sent_late * 95 / 100)
        << "seed " << seed;
    // The same link at a fixed 1.5 Mbit/s loses most frames.
    const auto fixed = run_rate_limited(seed, false);
    EXPECT_LT(fixed.frames_received_late, fixed.frames_sent_late / 2) << "seed " << seed;
  }
}

}  // namespace
}  // namespace rtcpp::sim
