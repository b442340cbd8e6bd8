// Media through the public API: transceivers, the track event, encoded frames sent by one
// RTCPeerConnection and received whole by another over real loopback UDP, key-frame
// requests, and the direction setter with its negotiation.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "common/eventually.hpp"
#include "common/signaling.hpp"
#include "common/vp8_frames.hpp"
#include "rtcpp/rtcpp.hpp"

namespace rtcpp {
namespace {

using namespace std::chrono_literals;
using test_support::eventually;
using test_support::Signaling;

using test_support::make_pc;

std::vector<std::uint8_t> vp8_frame(std::uint8_t number, bool key, std::size_t size) {
  const auto frame = ::test_support::vp8_frame(number, key, size);
  return {frame.begin(), frame.end()};
}

struct Received {
  std::mutex mutex;
  std::vector<RTCEncodedFrame> frames;
  std::size_t count() {
    std::lock_guard lock(mutex);
    return frames.size();
  }
};

TEST(MediaApi, EncodedVideoFramesTravelBetweenTwoConnections) {
  auto a = make_pc();
  auto b = make_pc();
  auto added = a->add_transceiver(MediaStreamTrack::create("video"),
                                  {RTCRtpTransceiverDirection::kSendOnly});
  ASSERT_TRUE(added) << added.error().to_string();
  auto sender_transceiver = *added;
  EXPECT_FALSE(sender_transceiver->mid());
  EXPECT_EQ(sender_transceiver->direction(), RTCRtpTransceiverDirection::kSendOnly);
  EXPECT_FALSE(sender_transceiver->current_direction());
  ASSERT_TRUE(sender_transceiver->sender()->track());
  EXPECT_EQ(sender_transceiver->sender()->track()->kind(), "video");

  std::atomic<int> key_requests{0};
  sender_transceiver->sender()->on_key_frame_request([&] { ++key_requests; });
  Received received;
  std::mutex track_mutex;
  std::optional<RTCTrackEvent> track_event;
  b->on_track([&](const RTCTrackEvent& e) {
    e.receiver->on_encoded_frame([&](const RTCEncodedFrame& f) {
      std::lock_guard lock(received.mutex);
      received.frames.push_back(f);
    });
    std::lock_guard lock(track_mutex);
    track_event = e;
  });

  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] {
    return a->connection_state() == RTCPeerConnectionState::kConnected &&
           b->connection_state() == RTCPeerConnectionState::kConnected;
  }));
  {
    std::lock_guard lock(track_mutex);
    ASSERT_TRUE(track_event);
    EXPECT_EQ(track_event->track->kind(), "video");
    EXPECT_EQ(track_event->track->ready_state(), MediaStreamTrackState::kLive);
    EXPECT_EQ(track_event->transceiver->mid(), std::optional<std::string>("0"));
    EXPECT_EQ(track_event->transceiver->current_direction(), RTCRtpTransceiverDirection::kRecvOnly);
    EXPECT_EQ(track_event->receiver->codec(), std::optional<std::string>("VP8"));
    EXPECT_TRUE(track_event->stream_ids.empty());  // addTransceiver without streams
  }
  EXPECT_EQ(sender_transceiver->mid(), std::optional<std::string>("0"));
  EXPECT_EQ(sender_transceiver->current_direction(), RTCRtpTransceiverDirection::kSendOnly);
  EXPECT_EQ(sender_transceiver->sender()->codec(), std::optional<std::string>("VP8"));
  EXPECT_EQ(b->get_transceivers().size(), 1u);
  EXPECT_EQ(b->get_receivers().size(), 1u);
  EXPECT_EQ(a->get_senders().size(), 1u);

  // 30 frames at 30 fps, a key frame first; SRTP may come up a moment after "connected".
  std::vector<std::vector<std::uint8_t>> sent;
  for (std::uint8_t i = 0; i < 30; ++i) {
    RTCEncodedFrame frame;
    frame.key_frame = i == 0;
    frame.rtp_timestamp = i * 3000u;
    frame.data = vp8_frame(i, frame.key_frame, i == 0 ? 6000 : 500 + i * 40);
    Result<> r = sender_transceiver->sender()->send_encoded_frame(frame);
    for (int tries = 0; !r && tries < 100; ++tries) {
      ASSERT_EQ(r.error().type(), RTCErrorType::kInvalidStateError) << r.error().to_string();
      std::this_thread::sleep_for(10ms);
      r = sender_transceiver->sender()->send_encoded_frame(frame);
    }
    ASSERT_TRUE(r) << r.error().to_string();
    sent.push_back(frame.data);
    std::this_thread::sleep_for(33ms);
  }
  ASSERT_TRUE(eventually([&] { return received.count() == sent.size(); }));
  {
    std::lock_guard lock(received.mutex);
    for (std::size_t i = 0; i < sent.size(); ++i) {
      EXPECT_EQ(received.frames[i].data, sent[i]) << "frame " << i;
      EXPECT_EQ(received.frames[i].key_frame, i == 0);
    }
    EXPECT_EQ(received.frames[5].rtp_timestamp - received.frames[4].rtp_timestamp, 3000u);
  }

  // webrtc-stats: the receiver's inbound-rtp, the sender's outbound-rtp, and once a receiver
  // report came back, remote-inbound-rtp with the round-trip time.
  const RTCStats* inbound = nullptr;
  auto b_stats = b->get_stats().get();
  for (const auto& [id, st] : b_stats) {
    if (st.type == "inbound-rtp") inbound = &st;
  }
  ASSERT_NE(inbound, nullptr);
  EXPECT_EQ(inbound->get<std::string>("kind"), std::optional<std::string>("video"));
  EXPECT_EQ(inbound->get<std::string>("mid"), std::optional<std::string>("0"));
  EXPECT_EQ(inbound->get<std::uint64_t>("framesReceived"), std::optional<std::uint64_t>(30));
  EXPECT_EQ(inbound->get<std::int64_t>("packetsLost"), std::optional<std::int64_t>(0));
  EXPECT_GT(inbound->get<std::uint64_t>("packetsReceived").value_or(0), 30u);
  RTCStatsReport a_stats;
  ASSERT_TRUE(eventually(
      [&] {
        a_stats = a->get_stats().get();
        for (const auto& [id, st] : a_stats) {
          if (st.type == "remote-inbound-rtp" && st.get<double>("roundTripTime")) return true;
        }
        return false;
      },
      5s));
  for (const auto& [id, st] : a_stats) {
    if (st.type == "outbound-rtp") {
      EXPECT_EQ(st.get<std::uint64_t>("framesSent"), std::optional<std::uint64_t>(30));
      EXPECT_EQ(st.get<std::uint64_t>("packetsSent"),
                inbound->get<std::uint64_t>("packetsReceived"));
      EXPECT_TRUE(a_stats.get(*st.get<std::string>("remoteId")));
    }
    if (st.type == "remote-inbound-rtp") {
      EXPECT_LT(*st.get<double>("roundTripTime"), 0.5);  // loopback
      EXPECT_EQ(st.get<std::int64_t>("packetsLost"), std::optional<std::int64_t>(0));
    }
  }

  // webrtc-stats: the codec both name, the sender's media-source, and once an SR arrived the
  // receiver's remote-outbound-rtp; the sender's and the receiver's own getStats select
  // their stream and what it names (W3C 8.5).
  const std::string codec_id = *inbound->get<std::string>("codecId");
  const RTCStats* codec = b_stats.get(codec_id);
  ASSERT_NE(codec, nullptr);
  EXPECT_EQ(codec->type, "codec");
  EXPECT_EQ(codec->get<std::string>("mimeType"), std::optional<std::string>("video/VP8"));
  EXPECT_EQ(codec->get<std::uint64_t>("clockRate"), std::optional<std::uint64_t>(90000));
  EXPECT_EQ(inbound->get<std::string>("trackIdentifier"),
            std::optional<std::string>(b->get_receivers().front()->track()->id()));
  EXPECT_GT(inbound->get<std::uint64_t>("headerBytesReceived").value_or(0), 0u);
  EXPECT_TRUE(inbound->get<double>("lastPacketReceivedTimestamp"));
  // An SR sent after the last frame counts every packet (reports come about once a second).
  RTCStatsReport receiver_stats;
  ASSERT_TRUE(eventually(
      [&] {
        receiver_stats = b->get_receivers().front()->get_stats().get();
        for (const auto& [id, st] : receiver_stats) {
          if (st.type == "remote-outbound-rtp" &&
              st.get<std::uint64_t>("packetsSent") ==
                  inbound->get<std::uint64_t>("packetsReceived"))
            return true;
        }
        return false;
      },
      5s));
  std::map<std::string, int> receiver_types;
  for (const auto& [id, st] : receiver_stats) {
    ++receiver_types[st.type];
    if (st.type == "remote-outbound-rtp") {
      EXPECT_GE(st.get<std::uint64_t>("bytesSent").value_or(0),
                inbound->get<std::uint64_t>("bytesReceived").value_or(0));
      EXPECT_GE(st.get<std::uint64_t>("reportsSent").value_or(0), 1u);
      const double sent_at = st.get<double>("remoteTimestamp").value_or(0);
      EXPECT_NEAR(sent_at, st.timestamp, 10'000.0);  // the peer's clock, in Unix milliseconds
    }
  }
  EXPECT_EQ(receiver_types["inbound-rtp"], 1);
  EXPECT_EQ(receiver_types["codec"], 1);
  EXPECT_EQ(receiver_types["transport"], 1);
  EXPECT_EQ(receiver_types["outbound-rtp"], 0);
  EXPECT_EQ(receiver_types["data-channel"], 0);
  const RTCStatsReport sender_stats = sender_transceiver->sender()->get_stats().get();
  std::map<std::string, int> sender_types;
  for (const auto& [id, st] : sender_stats) {
    ++sender_types[st.type];
    if (st.type == "media-source") {
      EXPECT_EQ(st.get<std::string>("trackIdentifier"),
                std::optional<std::string>(sender_transceiver->sender()->track()->id()));
      EXPECT_EQ(st.get<std::string>("kind"), std::optional<std::string>("video"));
    }
  }
  EXPECT_EQ(sender_types["outbound-rtp"], 1);
  EXPECT_EQ(sender_types["remote-inbound-rtp"], 1);
  EXPECT_EQ(sender_types["media-source"], 1);
  EXPECT_EQ(sender_types["codec"], 1);
  EXPECT_EQ(sender_types["inbound-rtp"], 0);
  // The callback form gives the same selection.
  std::promise<RTCStatsReport> from_callback;
  sender_transceiver->sender()->get_stats(
      [&](RTCStatsReport r) { from_callback.set_value(std::move(r)); });
  EXPECT_EQ(from_callback.get_future().get().size(), sender_stats.size());

  // The receiver asks; the sender's application hears it.
  auto receiver = b->get_receivers().front();
  ASSERT_TRUE(receiver->request_key_frame());
  ASSERT_TRUE(eventually([&] { return key_requests.load() == 1; }));

  // A frame the codec cannot carry, and sending on the receiving side, are refused.
  RTCEncodedFrame empty;
  EXPECT_EQ(sender_transceiver->sender()->send_encoded_frame(empty).error().type(),
            RTCErrorType::kTypeError);
  EXPECT_EQ(b->get_transceivers()
                .front()
                ->sender()
                ->send_encoded_frame(RTCEncodedFrame{true, 0, vp8_frame(1, true, 100)})
                .error()
                .type(),
            RTCErrorType::kInvalidStateError);
  a->close();
  b->close();
}

TEST(MediaApi, DirectionChangesAreNegotiated) {
  auto a = make_pc();
  auto b = make_pc();
  auto transceiver = a->add_transceiver("audio");
  ASSERT_TRUE(transceiver);
  EXPECT_FALSE(a->add_transceiver("text"));
  EXPECT_EQ(a->add_transceiver("text").error().type(), RTCErrorType::kTypeError);
  std::atomic<int> needed{0};
  a->on_negotiation_needed([&] { ++needed; });
  Signaling signaling(a, b);
  signaling.negotiate();
  // The answerer's transceiver was made by the offer, recvonly: the audio goes one way.
  EXPECT_EQ((*transceiver)->current_direction(), RTCRtpTransceiverDirection::kSendOnly);
  ASSERT_EQ(b->get_transceivers().size(), 1u);
  auto remote = b->get_transceivers().front();
  EXPECT_EQ(remote->current_direction(), RTCRtpTransceiverDirection::kRecvOnly);
  EXPECT_EQ(remote->receiver()->codec(), std::optional<std::string>("opus"));

  // The answerer turns its side to sendrecv and offers: both ends agree on sendrecv.
  std::atomic<int> b_needed{0};
  b->on_negotiation_needed([&] { ++b_needed; });
  EXPECT_EQ(remote->set_direction(RTCRtpTransceiverDirection::kStopped).error().type(),
            RTCErrorType::kTypeError);
  ASSERT_TRUE(remote->set_direction(RTCRtpTransceiverDirection::kSendRecv));
  ASSERT_TRUE(eventually([&] { return b_needed.load() >= 1; }));
  signaling.renegotiate({}, /*b_offers=*/true);
  EXPECT_EQ(remote->current_direction(), RTCRtpTransceiverDirection::kSendRecv);
  EXPECT_EQ((*transceiver)->current_direction(), RTCRtpTransceiverDirection::kSendRecv);

  // Inactive on the first side: the next negotiation makes both inactive.
  ASSERT_TRUE((*transceiver)->set_direction(RTCRtpTransceiverDirection::kInactive));
  ASSERT_TRUE(eventually([&] { return needed.load() >= 1; }));
  signaling.renegotiate();
  EXPECT_EQ((*transceiver)->current_direction(), RTCRtpTransceiverDirection::kInactive);
  EXPECT_EQ(remote->current_direction(), RTCRtpTransceiverDirection::kInactive);
  a->close();
  b->close();
}

}  // namespace
TEST(MediaApi, CapabilitiesListWhatIsCarried) {
  auto video = RTCRtpReceiver::get_capabilities("video");
  ASSERT_TRUE(video);
  std::vector<std::string> mimes;
  for (const auto& c : video->codecs) mimes.push_back(c.mime_type);
  EXPECT_EQ(mimes, (std::vector<std::string>{"video/VP8", "video/H264", "video/VP9", "video/AV1",
                                             "video/rtx"}));
  auto audio = RTCRtpSender::get_capabilities("audio");
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->codecs.front().mime_type, "audio/opus");
  EXPECT_EQ(audio->codecs.front().channels, std::optional<std::uint16_t>(2));
  EXPECT_FALSE(audio->header_extensions.empty());
  EXPECT_FALSE(RTCRtpSender::get_capabilities("application"));
}

TEST(MediaApi, CodecPreferencesChooseTheCodecOfOffersAndAnswers) {
  auto a = make_pc();
  auto b = make_pc();
  auto added = a->add_transceiver(MediaStreamTrack::create("video"),
                                  {RTCRtpTransceiverDirection::kSendOnly});
  ASSERT_TRUE(added);
  auto transceiver = *added;
  // W3C 5.4: only codecs of the receiver's capabilities, not only repair formats.
  auto bad = transceiver->set_codec_preferences({{"video/H265", 90000, {}, {}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().type(), RTCErrorType::kInvalidModificationError);
  EXPECT_FALSE(transceiver->set_codec_preferences({{"video/rtx", 90000, {}, {}}}));
  EXPECT_FALSE(transceiver->set_codec_preferences({{"audio/opus", 48000, 2, {}}}));
  // H.264 by profile and packetization mode, whatever the level Chromium writes.
  ASSERT_TRUE(transceiver->set_codec_preferences(
      {{"video/H264", 90000, {}, "packetization-mode=1;profile-level-id=42e034"},
       {"video/rtx", 90000, {}, {}}}));

  std::mutex mutex;
  std::shared_ptr<RTCRtpReceiver> receiver;
  b->on_track([&](const RTCTrackEvent& e) {
    std::lock_guard lock(mutex);
    receiver = e.receiver;
  });
  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  EXPECT_NE(offer->sdp.find("m=video 9 UDP/TLS/RTP/SAVPF 102 103\r\n"), std::string::npos)
      << offer->sdp;
  EXPECT_EQ(offer->sdp.find("VP8"), std::string::npos);
  ASSERT_TRUE(a->set_local_description(*offer).get());
  ASSERT_TRUE(b->set_remote_description(*offer).get());
  auto answer = b->create_answer().get();
  ASSERT_TRUE(answer);
  ASSERT_TRUE(b->set_local_description(*answer).get());
  ASSERT_TRUE(a->set_remote_description(*answer).get());
  EXPECT_EQ(transceiver->sender()->codec(), std::optional<std::string>("H264"));
  // The track event is a task of its own: the promise's get() may return before it ran.
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return receiver != nullptr;
  }));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(receiver->codec(), std::optional<std::string>("H264"));
  }
  a->close();
  b->close();

  // The answerer's preferences order its answer: VP9 first, then VP8, nothing else.
  auto c = make_pc();
  auto d = make_pc();
  ASSERT_TRUE(c->add_transceiver("video", {RTCRtpTransceiverDirection::kSendRecv}));
  auto offer2 = c->create_offer().get();
  ASSERT_TRUE(offer2);
  ASSERT_TRUE(d->set_remote_description(*offer2).get());
  auto d_transceivers = d->get_transceivers();
  ASSERT_EQ(d_transceivers.size(), 1u);
  ASSERT_TRUE(d_transceivers[0]->set_codec_preferences(
      {{"video/VP9", 90000, {}, {}}, {"video/VP8", 90000, {}, {}}}));
  auto answer2 = d->create_answer().get();
  ASSERT_TRUE(answer2);
  EXPECT_NE(answer2->sdp.find("m=video 9 UDP/TLS/RTP/SAVPF 98 99 96 97\r\n"), std::string::npos)
      << answer2->sdp;
  // Back to rtcpp's own order: the full intersection again.
  ASSERT_TRUE(d_transceivers[0]->set_codec_preferences({}));
  auto answer3 = d->create_answer().get();
  ASSERT_TRUE(answer3);
  EXPECT_NE(answer3->sdp.find("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 98 99 35 36\r\n"),
            std::string::npos)
      << answer3->sdp;
  c->close();
  d->close();
}

}  // namespace rtcpp

namespace rtcpp {
namespace {

// How late the loop thread's timers may fire: 20 ms, or three times that in a sanitizer build
// where every test shares the two cores with instrumented code.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kTimerSlackMs = 60.0;
#else
constexpr double kTimerSlackMs = 20.0;
#endif

// W3C webrtc-pc 7 over the public API: an audio sender's RTCDTMFSender plays "1234#" (100 ms
// tones, 70 ms gaps) to another RTCPeerConnection over loopback UDP. Its tonechange events
// come at the playout task times (within 20 ms on the loop thread's timers), and the
// receiver's on_dtmf_tone hears each tone start and end, in order.
TEST(MediaApi, DtmfTonesReachThePeerAtTheW3cTimings) {
  auto a = make_pc();
  auto b = make_pc();
  auto audio = a->add_transceiver(MediaStreamTrack::create("audio"),
                                  {RTCRtpTransceiverDirection::kSendOnly});
  ASSERT_TRUE(audio);
  auto video = a->add_transceiver(MediaStreamTrack::create("video"),
                                  {RTCRtpTransceiverDirection::kSendOnly});
  ASSERT_TRUE(video);
  auto dtmf = (*audio)->sender()->dtmf();
  ASSERT_TRUE(dtmf);
  EXPECT_FALSE((*video)->sender()->dtmf());  // W3C 5.2: null for video
  EXPECT_FALSE(dtmf->can_insert_dtmf());     // nothing negotiated yet
  EXPECT_EQ(dtmf->insert_dtmf("1").error().type(), RTCErrorType::kInvalidStateError);

  using Clock = std::chrono::steady_clock;
  std::mutex mutex;
  std::vector<std::pair<std::string, Clock::time_point>> changes;
  std::vector<RTCDTMFToneReceivedEvent> tones;
  dtmf->on_tone_change([&](const RTCDTMFToneChangeEvent& e) {
    std::lock_guard lock(mutex);
    changes.emplace_back(e.tone, Clock::now());
  });
  b->on_track([&](const RTCTrackEvent& e) {
    e.receiver->on_dtmf_tone([&](const RTCDTMFToneReceivedEvent& t) {
      std::lock_guard lock(mutex);
      tones.push_back(t);
    });
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return dtmf->can_insert_dtmf(); }));
  EXPECT_EQ(dtmf->insert_dtmf("12x").error().type(), RTCErrorType::kInvalidCharacterError);
  EXPECT_EQ(dtmf->tone_buffer(), "");

  const auto start = Clock::now();
  ASSERT_TRUE(dtmf->insert_dtmf("1234#", 100, 70));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return changes.size() == 6 && tones.size() == 10;
  }));
  std::lock_guard lock(mutex);
  const std::string expected[] = {"1", "2", "3", "4", "#", ""};
  for (std::size_t i = 0; i < changes.size(); ++i) {
    EXPECT_EQ(changes[i].first, expected[i]);
    const double at = std::chrono::duration<double, std::milli>(changes[i].second - start).count();
    EXPECT_NEAR(at, 170.0 * static_cast<double>(i), kTimerSlackMs) << "tone change " << i;
  }
  std::string started;
  for (const auto& t : tones) {
    if (!t.ended) {
      started += t.tone;
      continue;
    }
    EXPECT_NEAR(t.duration_ms, 100.0, 0.5) << t.tone;
  }
  EXPECT_EQ(started, "1234#");
  EXPECT_TRUE(tones.back().ended);
  EXPECT_EQ(tones.back().tone, "#");
}

}  // namespace
}  // namespace rtcpp

namespace rtcpp {
namespace {

// RFC 6464 and RFC 6465 through the public API: an audio frame's own level and its
// contributing sources with theirs are sent in the RTP header (CSRCs and the two audio-level
// extensions), reach the receiving application with the frame, and show in the receiver's
// getSynchronizationSources / getContributingSources (W3C 5.4.4). Levels travel in whole dB.
TEST(MediaApi, AudioLevelsAndContributingSourcesTravelWithTheFrames) {
  auto a = make_pc();
  auto b = make_pc();
  auto audio = a->add_transceiver(MediaStreamTrack::create("audio"),
                                  {RTCRtpTransceiverDirection::kSendOnly});
  ASSERT_TRUE(audio);
  Received received;
  std::shared_ptr<RTCRtpReceiver> receiver;
  std::mutex receiver_mutex;
  b->on_track([&](const RTCTrackEvent& e) {
    e.receiver->on_encoded_frame([&](const RTCEncodedFrame& f) {
      std::lock_guard lock(received.mutex);
      received.frames.push_back(f);
    });
    std::lock_guard lock(receiver_mutex);
    receiver = e.receiver;
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  auto sender = (*audio)->sender();

  RTCEncodedFrame frame;
  frame.key_frame = true;
  frame.data.assign(80, 0x5A);
  frame.audio_level = 0.5;  // -6 dBov
  frame.contributing_sources = {1111, 2222};
  frame.contributing_audio_levels = {0.1, 1.0};  // -20 and 0 dBov
  for (std::uint32_t i = 0; i < 10; ++i) {
    frame.rtp_timestamp = i * 960;
    Result<> r = sender->send_encoded_frame(frame);
    for (int tries = 0; !r && tries < 100; ++tries) {
      ASSERT_EQ(r.error().type(), RTCErrorType::kInvalidStateError) << r.error().to_string();
      std::this_thread::sleep_for(10ms);
      r = sender->send_encoded_frame(frame);
    }
    ASSERT_TRUE(r) << r.error().to_string();
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(eventually([&] { return received.count() == 10; }));
  // What a frame may carry is checked; nothing of a refused frame is sent.
  RTCEncodedFrame bad = frame;
  bad.contributing_sources.assign(16, 7);
  bad.contributing_audio_levels.clear();
  EXPECT_EQ(sender->send_encoded_frame(bad).error().type(), RTCErrorType::kTypeError);
  bad = frame;
  bad.contributing_audio_levels = {0.5};
  EXPECT_EQ(sender->send_encoded_frame(bad).error().type(), RTCErrorType::kTypeError);
  bad = frame;
  bad.audio_level = 1.5;
  EXPECT_EQ(sender->send_encoded_frame(bad).error().type(), RTCErrorType::kTypeError);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(received.count(), 10u);
  const auto db = [](double linear) { return 20.0 * std::log10(linear); };
  {
    std::lock_guard lock(received.mutex);
    const RTCEncodedFrame& got = received.frames.back();
    ASSERT_TRUE(got.audio_level);
    EXPECT_NEAR(db(*got.audio_level), -6.0, 0.01);
    EXPECT_EQ(got.contributing_sources, (std::vector<std::uint32_t>{1111, 2222}));
    ASSERT_EQ(got.contributing_audio_levels.size(), 2u);
    EXPECT_NEAR(db(got.contributing_audio_levels[0]), -20.0, 0.01);
    EXPECT_NEAR(got.contributing_audio_levels[1], 1.0, 1e-9);
  }
  std::lock_guard lock(receiver_mutex);
  ASSERT_TRUE(receiver);
  const auto synchronization = receiver->get_synchronization_sources();
  ASSERT_EQ(synchronization.size(), 1u);
  ASSERT_TRUE(synchronization[0].audio_level);
  EXPECT_NEAR(db(*synchronization[0].audio_level), -6.0, 0.01);
  {
    std::lock_guard frames_lock(received.mutex);
    EXPECT_EQ(synchronization[0].rtp_timestamp, received.frames.back().rtp_timestamp);
  }
  const auto contributing = receiver->get_contributing_sources();
  ASSERT_EQ(contributing.size(), 2u);
  std::map<std::uint32_t, double> levels;
  for (const auto& c : contributing) levels[c.source] = c.audio_level.value_or(-1);
  EXPECT_NEAR(db(levels.at(1111)), -20.0, 0.01);
  EXPECT_NEAR(levels.at(2222), 1.0, 1e-9);
}

}  // namespace
}  // namespace rtcpp
