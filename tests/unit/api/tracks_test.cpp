// Tracks on senders and transceivers through the public API, read against W3C webrtc-pc 5.1
// (addTrack, removeTrack), 5.2 (replaceTrack), 5.4 (stop) and 4.4.1.6 (the track event and the
// removal of a remote track), between two connections over loopback UDP.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

RTCEncodedFrame video_frame(std::uint8_t number, std::uint32_t timestamp) {
  const auto bytes = ::test_support::vp8_frame(number, /*key=*/true, 600);
  RTCEncodedFrame frame;
  frame.key_frame = true;
  frame.rtp_timestamp = timestamp;
  frame.data.assign(bytes.begin(), bytes.end());
  return frame;
}

// Counts the frames a receiver delivers.
struct FrameCounter {
  std::atomic<int> frames{0};
  void attach(const std::shared_ptr<RTCRtpReceiver>& receiver) {
    receiver->on_encoded_frame([this](const RTCEncodedFrame&) { ++frames; });
  }
};

// The remote end's transceiver with this mid.
std::shared_ptr<RTCRtpTransceiver> by_mid(const std::shared_ptr<RTCPeerConnection>& pc,
                                          const std::optional<std::string>& mid) {
  for (const auto& t : pc->get_transceivers()) {
    if (t->mid() == mid) return t;
  }
  return nullptr;
}

TEST(Tracks, AddTrackMakesASendRecvTransceiverWithItsStreams) {
  auto a = make_pc();
  auto track = MediaStreamTrack::create("video", "camera");
  EXPECT_EQ(track->id().size(), 36u);  // a UUID, as a browser's track ids
  EXPECT_EQ(track->label(), "camera");
  auto sender = a->add_track(track, {"stream-1"});
  ASSERT_TRUE(sender) << sender.error().to_string();
  EXPECT_EQ((*sender)->track(), track);
  ASSERT_EQ(a->get_transceivers().size(), 1u);
  EXPECT_EQ(a->get_transceivers().front()->direction(), RTCRtpTransceiverDirection::kSendRecv);
  // W3C 5.1 addTrack: the same track twice is InvalidAccessError; null and kinds other than
  // audio and video are TypeError.
  EXPECT_EQ(a->add_track(track).error().type(), RTCErrorType::kInvalidAccessError);
  EXPECT_EQ(a->add_track(nullptr).error().type(), RTCErrorType::kTypeError);
  auto odd = std::make_shared<MediaStreamTrack>("text", "x", "x");
  EXPECT_EQ(a->add_track(odd).error().type(), RTCErrorType::kTypeError);
  // The offer puts the track in its stream (RFC 8830 a=msid).
  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  EXPECT_NE(offer->sdp.find("a=msid:stream-1 "), std::string::npos) << offer->sdp;

  // The peer's track event names the stream.
  auto b = make_pc();
  std::mutex mutex;
  std::vector<std::string> streams;
  std::shared_ptr<MediaStreamTrack> remote_track;
  b->on_track([&](const RTCTrackEvent& e) {
    std::lock_guard lock(mutex);
    streams = e.stream_ids;
    remote_track = e.track;
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return remote_track != nullptr;
  }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(streams, std::vector<std::string>{"stream-1"});
  // W3C 5.3: a receiver's track is muted until media arrives.
  EXPECT_TRUE(remote_track->muted());
  a->close();
  b->close();
}

TEST(Tracks, AddTrackReusesATransceiverTheOfferMade) {
  auto a = make_pc();
  auto b = make_pc();
  ASSERT_TRUE(a->add_transceiver("audio"));  // sendrecv, with no track
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_EQ(b->get_transceivers().size(), 1u);
  auto made = b->get_transceivers().front();
  EXPECT_EQ(made->sender()->track(), nullptr);  // made by the offer: no track to send
  EXPECT_EQ(made->current_direction(), RTCRtpTransceiverDirection::kRecvOnly);
  // W3C 5.1 addTrack: the recvonly transceiver that never sent takes the track and sendrecv.
  std::atomic<int> needed{0};
  b->on_negotiation_needed([&] { ++needed; });
  auto sender = b->add_track(MediaStreamTrack::create("audio"));
  ASSERT_TRUE(sender);
  EXPECT_EQ(*sender, made->sender());
  EXPECT_EQ(b->get_transceivers().size(), 1u);
  EXPECT_EQ(made->direction(), RTCRtpTransceiverDirection::kSendRecv);
  ASSERT_TRUE(eventually([&] { return needed.load() >= 1; }));
  signaling.renegotiate({}, /*b_offers=*/true);
  EXPECT_EQ(made->current_direction(), RTCRtpTransceiverDirection::kSendRecv);
  EXPECT_EQ(a->get_transceivers().front()->current_direction(),
            RTCRtpTransceiverDirection::kSendRecv);
  // A video track finds no video transceiver: a new one.
  ASSERT_TRUE(b->add_track(MediaStreamTrack::create("video")));
  EXPECT_EQ(b->get_transceivers().size(), 2u);
  a->close();
  b->close();
}

TEST(Tracks, RemoveTrackStopsSendingAndMutesThePeersTrack) {
  auto a = make_pc();
  auto b = make_pc();
  auto sender = a->add_track(MediaStreamTrack::create("video"));
  ASSERT_TRUE(sender);
  std::shared_ptr<MediaStreamTrack> remote_track;
  std::atomic<int> tracks{0};
  b->on_track([&](const RTCTrackEvent& e) {
    remote_track = e.track;
    ++tracks;
  });
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_TRUE(eventually([&] { return tracks.load() == 1; }));
  std::atomic<int> unmuted{0};
  std::atomic<int> muted{0};
  remote_track->on_unmute([&] { ++unmuted; });
  remote_track->on_mute([&] { ++muted; });
  FrameCounter counter;
  counter.attach(b->get_receivers().front());
  ASSERT_TRUE(eventually([&] {
    return (*sender)->send_encoded_frame(video_frame(1, 3000)).has_value() &&
           counter.frames.load() > 0;
  }));
  ASSERT_TRUE(eventually([&] { return unmuted.load() == 1; }));
  EXPECT_FALSE(remote_track->muted());

  // W3C 5.1 removeTrack: the track goes, sendrecv becomes recvonly, negotiation is needed
  // (and the peer, which only receives, ends up inactive with us).
  std::atomic<int> needed{0};
  a->on_negotiation_needed([&] { ++needed; });
  auto transceiver = a->get_transceivers().front();
  ASSERT_TRUE(a->remove_track(*sender));
  EXPECT_EQ((*sender)->track(), nullptr);
  EXPECT_EQ(transceiver->direction(), RTCRtpTransceiverDirection::kRecvOnly);
  EXPECT_EQ((*sender)->send_encoded_frame(video_frame(2, 6000)).error().type(),
            RTCErrorType::kInvalidStateError);
  ASSERT_TRUE(eventually([&] { return needed.load() >= 1; }));
  signaling.renegotiate();
  EXPECT_EQ(transceiver->current_direction(), RTCRtpTransceiverDirection::kInactive);
  EXPECT_EQ(b->get_transceivers().front()->current_direction(),
            RTCRtpTransceiverDirection::kInactive);
  // W3C 4.4.1.6 process the removal of a remote track: the peer's track mutes.
  ASSERT_TRUE(eventually([&] { return muted.load() == 1; }));
  EXPECT_TRUE(remote_track->muted());
  EXPECT_EQ(remote_track->ready_state(), MediaStreamTrackState::kLive);

  // A sender of another connection is InvalidAccessError.
  auto other = make_pc();
  EXPECT_EQ(other->remove_track(*sender).error().type(), RTCErrorType::kInvalidAccessError);
  // Sending again on the same transceiver fires a second track event at the peer
  // ([[FiredDirection]] was reset by the removal).
  ASSERT_TRUE((*sender)->replace_track(MediaStreamTrack::create("video")).get());
  ASSERT_TRUE(transceiver->set_direction(RTCRtpTransceiverDirection::kSendRecv));
  signaling.renegotiate();
  ASSERT_TRUE(eventually([&] { return tracks.load() == 2; }));
  other->close();
  a->close();
  b->close();
}

TEST(Tracks, RemoteStreamsGainAndLoseTheTrack) {
  auto a = make_pc();
  auto b = make_pc();
  auto sender = a->add_track(MediaStreamTrack::create("audio"), {"call"});
  ASSERT_TRUE(sender);
  std::promise<RTCTrackEvent> fired;
  b->on_track([&](const RTCTrackEvent& e) { fired.set_value(e); });
  Signaling signaling(a, b);
  signaling.negotiate();
  auto future = fired.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  const RTCTrackEvent event = future.get();
  // W3C 4.4.1.6: a MediaStream per id the peer named, holding the receiver's track.
  ASSERT_EQ(event.streams.size(), 1u);
  auto stream = event.streams.front();
  EXPECT_EQ(stream->id(), "call");
  EXPECT_EQ(stream->get_tracks(), std::vector<std::shared_ptr<MediaStreamTrack>>{event.track});
  EXPECT_EQ(stream->get_audio_tracks().size(), 1u);
  EXPECT_TRUE(stream->get_video_tracks().empty());
  EXPECT_EQ(stream->get_track_by_id(event.track->id()), event.track);
  EXPECT_TRUE(stream->active());
  std::atomic<int> removed{0};
  std::atomic<int> added{0};
  stream->on_remove_track([&](const MediaStreamTrackEvent& e) {
    if (e.track == event.track) ++removed;
  });
  stream->on_add_track([&](const MediaStreamTrackEvent& e) {
    if (e.track == event.track) ++added;
  });
  // The peer stops sending: the track leaves the stream (removetrack).
  ASSERT_TRUE(a->remove_track(*sender));
  signaling.renegotiate();
  ASSERT_TRUE(eventually([&] { return removed.load() == 1; }));
  EXPECT_TRUE(stream->get_tracks().empty());
  // It sends again in the same stream: the same MediaStream object gains it back (addtrack).
  ASSERT_TRUE((*sender)->replace_track(MediaStreamTrack::create("audio")).get());
  ASSERT_TRUE(a->get_transceivers().front()->set_direction(RTCRtpTransceiverDirection::kSendRecv));
  signaling.renegotiate();
  ASSERT_TRUE(eventually([&] { return added.load() == 1; }));
  EXPECT_EQ(stream->get_tracks().size(), 1u);
  a->close();
  b->close();
}

TEST(Tracks, MediaStreamsHoldWhatTheApplicationPutsInThem) {
  auto audio = MediaStreamTrack::create("audio");
  auto video = MediaStreamTrack::create("video");
  auto stream = MediaStream::create({audio});
  EXPECT_EQ(stream->id().size(), 36u);
  std::atomic<int> events{0};
  stream->on_add_track([&](const MediaStreamTrackEvent&) { ++events; });
  stream->add_track(video);
  stream->add_track(video);  // once only
  stream->add_track(nullptr);
  EXPECT_EQ(stream->get_tracks().size(), 2u);
  EXPECT_EQ(events.load(), 0);  // the application's own changes fire nothing
  auto copy = stream->clone();
  EXPECT_NE(copy->id(), stream->id());
  ASSERT_EQ(copy->get_tracks().size(), 2u);
  EXPECT_NE(copy->get_tracks().front()->id(), audio->id());
  stream->remove_track(audio);
  EXPECT_EQ(stream->get_tracks(), std::vector<std::shared_ptr<MediaStreamTrack>>{video});
  video->stop();
  EXPECT_FALSE(stream->active());
}

TEST(Tracks, ReplaceTrackChecksKindAndNeedsNoNegotiation) {
  auto a = make_pc();
  auto b = make_pc();
  auto added = a->add_transceiver("video", {RTCRtpTransceiverDirection::kSendOnly, {}});
  ASSERT_TRUE(added);
  auto sender = (*added)->sender();
  EXPECT_EQ(sender->track(), nullptr);
  Signaling signaling(a, b);
  signaling.negotiate();
  FrameCounter counter;
  counter.attach(b->get_receivers().front());
  // No track: nothing is sent.
  EXPECT_EQ(sender->send_encoded_frame(video_frame(1, 3000)).error().type(),
            RTCErrorType::kInvalidStateError);
  std::atomic<int> needed{0};
  a->on_negotiation_needed([&] { ++needed; });
  auto camera = MediaStreamTrack::create("video");
  ASSERT_TRUE(sender->replace_track(camera).get());
  EXPECT_EQ(sender->track(), camera);
  // W3C 5.2 replaceTrack: a track of another kind is TypeError.
  EXPECT_EQ(sender->replace_track(MediaStreamTrack::create("audio")).get().error().type(),
            RTCErrorType::kTypeError);
  // The callback form.
  std::promise<Result<>> replaced;
  auto second = MediaStreamTrack::create("video");
  sender->replace_track(second, [&](Result<> r) { replaced.set_value(std::move(r)); });
  ASSERT_TRUE(replaced.get_future().get());
  EXPECT_EQ(sender->track(), second);
  ASSERT_TRUE(eventually([&] {
    return sender->send_encoded_frame(video_frame(1, 3000)).has_value() &&
           counter.frames.load() > 0;
  }));
  EXPECT_EQ(needed.load(), 0);
  // An ended track sends nothing.
  second->stop();
  EXPECT_EQ(sender->send_encoded_frame(video_frame(2, 6000)).error().type(),
            RTCErrorType::kInvalidStateError);
  a->close();
  EXPECT_EQ(sender->replace_track(camera).get().error().type(), RTCErrorType::kInvalidStateError);
  b->close();
}

TEST(Tracks, StopRejectsTheSectionAndBothEndsSeeStopped) {
  auto a = make_pc();
  auto b = make_pc();
  auto first = a->add_track(MediaStreamTrack::create("video"));
  auto second = a->add_track(MediaStreamTrack::create("video"));
  ASSERT_TRUE(first && second);
  Signaling signaling(a, b);
  signaling.negotiate();
  ASSERT_EQ(a->get_transceivers().size(), 2u);
  ASSERT_EQ(b->get_transceivers().size(), 2u);
  auto stopping = a->get_transceivers()[1];
  const auto mid = stopping->mid();
  auto remote = by_mid(b, mid);
  ASSERT_TRUE(remote);
  std::atomic<int> ended{0};
  remote->receiver()->track()->on_ended([&] { ++ended; });
  FrameCounter kept;
  kept.attach(by_mid(b, a->get_transceivers()[0]->mid())->receiver());

  // W3C 5.4 stop: stopping at once (direction reads stopped, the receiver's track ends,
  // nothing is sent), stopped once negotiated.
  std::atomic<int> needed{0};
  a->on_negotiation_needed([&] { ++needed; });
  ASSERT_TRUE(stopping->stop());
  EXPECT_EQ(stopping->direction(), RTCRtpTransceiverDirection::kStopped);
  EXPECT_EQ(stopping->current_direction(), RTCRtpTransceiverDirection::kSendOnly);
  EXPECT_EQ(stopping->receiver()->track()->ready_state(), MediaStreamTrackState::kEnded);
  EXPECT_EQ(stopping->set_direction(RTCRtpTransceiverDirection::kSendOnly).error().type(),
            RTCErrorType::kInvalidStateError);
  EXPECT_FALSE((*second)->send_encoded_frame(video_frame(1, 3000)));
  EXPECT_EQ((*second)->replace_track(MediaStreamTrack::create("video")).get().error().type(),
            RTCErrorType::kInvalidStateError);
  EXPECT_TRUE(stopping->stop());  // again: nothing
  ASSERT_TRUE(eventually([&] { return needed.load() >= 1; }));
  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  // JSEP 5.2.2: the stopped transceiver's section is rejected (port 0).
  EXPECT_NE(offer->sdp.find("m=video 0 "), std::string::npos) << offer->sdp;
  signaling.renegotiate();
  EXPECT_EQ(stopping->current_direction(), RTCRtpTransceiverDirection::kStopped);
  EXPECT_EQ(remote->current_direction(), RTCRtpTransceiverDirection::kStopped);
  EXPECT_EQ(remote->direction(), RTCRtpTransceiverDirection::kStopped);
  // W3C 4.4.1.6: stopped transceivers leave both sets; the peer's receiver track ended.
  EXPECT_EQ(a->get_transceivers().size(), 1u);
  EXPECT_EQ(b->get_transceivers().size(), 1u);
  ASSERT_TRUE(eventually([&] { return ended.load() == 1; }));
  EXPECT_EQ(remote->receiver()->track()->ready_state(), MediaStreamTrackState::kEnded);
  // The other transceiver still carries media.
  ASSERT_TRUE(eventually([&] {
    return (*first)->send_encoded_frame(video_frame(2, 6000)).has_value() && kept.frames.load() > 0;
  }));
  // A new video transceiver recycles the rejected section (JSEP 5.2.2) under a new mid.
  ASSERT_TRUE(a->add_track(MediaStreamTrack::create("video")));
  signaling.renegotiate();
  ASSERT_EQ(a->get_transceivers().size(), 2u);
  EXPECT_NE(a->get_transceivers()[1]->mid(), mid);
  EXPECT_EQ(a->get_transceivers()[1]->current_direction(), RTCRtpTransceiverDirection::kSendOnly);
  const auto description = a->local_description();
  ASSERT_TRUE(description);
  std::size_t video_sections = 0;
  for (auto at = description->sdp.find("m=video"); at != std::string::npos;
       at = description->sdp.find("m=video", at + 1))
    ++video_sections;
  EXPECT_EQ(video_sections, 2u);
  a->close();
  b->close();
}

TEST(Tracks, StoppingBeforeAnyOfferLeavesNoSection) {
  auto a = make_pc();
  auto audio = a->add_transceiver("audio");
  auto video = a->add_transceiver("video");
  ASSERT_TRUE(audio && video);
  ASSERT_TRUE((*audio)->stop());
  EXPECT_EQ((*audio)->current_direction(), RTCRtpTransceiverDirection::kStopped);
  auto offer = a->create_offer().get();
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->sdp.find("m=audio"), std::string::npos) << offer->sdp;
  EXPECT_NE(offer->sdp.find("m=video"), std::string::npos);
  a->close();
  EXPECT_EQ((*video)->stop().error().type(), RTCErrorType::kInvalidStateError);
}

TEST(Tracks, SetParametersFollowsGetParametersAndInactiveStopsSending) {
  auto a = make_pc();
  auto b = make_pc();
  auto sender = a->add_track(MediaStreamTrack::create("video"));
  ASSERT_TRUE(sender);
  // Before a negotiation: one encoding, nothing negotiated.
  auto before = (*sender)->get_parameters();
  ASSERT_EQ(before.encodings.size(), 1u);
  EXPECT_TRUE(before.encodings.front().active);
  EXPECT_TRUE(before.codecs.empty());
  Signaling signaling(a, b);
  signaling.negotiate();
  std::atomic<int> key_requests{0};
  (*sender)->on_key_frame_request([&] { ++key_requests; });
  FrameCounter counter;
  counter.attach(b->get_receivers().front());

  auto parameters = (*sender)->get_parameters();
  ASSERT_FALSE(parameters.codecs.empty());
  EXPECT_EQ(parameters.codecs.front().mime_type, "video/VP8");
  EXPECT_EQ(parameters.codecs.front().clock_rate, 90000u);
  EXPECT_FALSE(parameters.rtcp.cname.empty());
  EXPECT_TRUE(parameters.rtcp.reduced_size);
  EXPECT_FALSE(parameters.header_extensions.empty());
  const auto receive = b->get_receivers().front()->get_parameters();
  ASSERT_FALSE(receive.codecs.empty());
  EXPECT_EQ(receive.codecs.front().payload_type, parameters.codecs.front().payload_type);

  // W3C 5.2 setParameters: the checks, each consuming the last getParameters.
  auto changed = parameters;
  changed.transaction_id += "x";
  EXPECT_EQ((*sender)->set_parameters(changed).get().error().type(),
            RTCErrorType::kInvalidModificationError);
  EXPECT_EQ((*sender)->set_parameters(parameters).get().error().type(),
            RTCErrorType::kInvalidStateError);  // used up by the failed call
  parameters = (*sender)->get_parameters();
  changed = parameters;
  changed.encodings.push_back({});
  EXPECT_EQ((*sender)->set_parameters(changed).get().error().type(),
            RTCErrorType::kInvalidModificationError);
  parameters = (*sender)->get_parameters();
  changed = parameters;
  changed.encodings.front().rid = "hi";
  EXPECT_EQ((*sender)->set_parameters(changed).get().error().type(),
            RTCErrorType::kInvalidModificationError);
  parameters = (*sender)->get_parameters();
  changed = parameters;
  changed.codecs.pop_back();
  EXPECT_EQ((*sender)->set_parameters(changed).get().error().type(),
            RTCErrorType::kInvalidModificationError);
  parameters = (*sender)->get_parameters();
  changed = parameters;
  changed.encodings.front().scale_resolution_down_by = 0.5;
  EXPECT_EQ((*sender)->set_parameters(changed).get().error().type(), RTCErrorType::kRangeError);
  parameters = (*sender)->get_parameters();
  changed = parameters;
  changed.encodings.front().max_framerate = -1;
  EXPECT_EQ((*sender)->set_parameters(changed).get().error().type(), RTCErrorType::kRangeError);

  // Inactive: frames are taken and not sent.
  parameters = (*sender)->get_parameters();
  parameters.encodings.front().active = false;
  parameters.encodings.front().max_bitrate = 300'000;
  ASSERT_TRUE((*sender)->set_parameters(parameters).get());
  EXPECT_FALSE((*sender)->get_parameters().encodings.front().active);
  EXPECT_EQ((*sender)->get_parameters().encodings.front().max_bitrate,
            std::optional<std::uint32_t>(300'000));
  for (std::uint8_t i = 1; i <= 5; ++i)
    ASSERT_TRUE((*sender)->send_encoded_frame(video_frame(i, 3000u * i)));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(counter.frames.load(), 0);
  // Active again: the source is asked for a key frame, and frames flow.
  const int requests_before = key_requests.load();
  parameters = (*sender)->get_parameters();
  parameters.encodings.front().active = true;
  std::promise<Result<>> set;
  (*sender)->set_parameters(parameters, [&](Result<> r) { set.set_value(std::move(r)); });
  ASSERT_TRUE(set.get_future().get());
  ASSERT_TRUE(eventually([&] { return key_requests.load() > requests_before; }));
  ASSERT_TRUE(eventually([&] {
    return (*sender)->send_encoded_frame(video_frame(9, 30000)).has_value() &&
           counter.frames.load() > 0;
  }));
  a->close();
  b->close();
}

TEST(Tracks, CloneIsANewLiveTrack) {
  auto track = MediaStreamTrack::create("audio", "mic");
  track->set_enabled(false);
  auto copy = track->clone();
  EXPECT_NE(copy->id(), track->id());
  EXPECT_EQ(copy->kind(), "audio");
  EXPECT_EQ(copy->label(), "mic");
  EXPECT_FALSE(copy->enabled());
  track->stop();
  EXPECT_EQ(copy->ready_state(), MediaStreamTrackState::kLive);
}

}  // namespace
}  // namespace rtcpp
