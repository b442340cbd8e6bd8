// The media half of PeerConnectionImpl: transceivers and their API objects, encoded frames
// and DTMF in, and the core's media events out to the application's handlers.
#include <algorithm>

#include "api/conversions.hpp"
#include "api/handler_call.hpp"
#include "api/peer_connection_impl.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/telephone_event.hpp"
#include "runtime/interfaces.hpp"

namespace rtcpp::detail {

using runtime::monotonic_now;

namespace {

// Loop thread: decodes a received frame for on_video_frame / on_audio_frame; a decoder that
// lost its reference asks the peer for a key frame (PLI).
void decode_received(const std::shared_ptr<TransceiverState>& state, const RTCEncodedFrame& frame,
                     const std::string& codec) {
  if (state->kind == "audio") {
    if (!state->on_audio_frame) return;
    decode_audio(*state->receive_coder, codec, frame,
                 [&](const AudioFrame& audio) { fire(state->on_audio_frame, audio); });
    return;
  }
  if (!state->on_video_frame) return;
  const bool wants_key_frame =
      decode_video(*state->receive_coder, codec, frame,
                   [&](const VideoFrame& picture) { fire(state->on_video_frame, picture); });
  if (wants_key_frame) {
    if (auto pc = state->pc.lock()) (void)pc->request_key_frame(state->handle);
  }
}

}  // namespace

PeerConnectionImpl::TransceiverObjects& PeerConnectionImpl::transceiver_objects(
    std::uint32_t handle) {
  auto& objects = transceivers_[handle];
  if (objects.state) return objects;
  const auto* core = core_.transceivers().find(handle);
  auto state = std::make_shared<TransceiverState>();
  state->pc = weak_from_this();
  state->handle = handle;
  state->kind = core != nullptr && core->kind == pc::MediaKind::kAudio ? "audio" : "video";
  // W3C 5.2 addTransceiver: the receiver's track exists from the start, named for the peer's.
  const std::string track_id = core != nullptr ? core->track_id : std::to_string(handle);
  state->receiver_track = std::make_shared<MediaStreamTrack>(state->kind, track_id, track_id);
  // W3C 4.4.1.6 / 5.3: a receiver's track is muted until media arrives.
  state->receiver_track->muted_ = true;
  objects.state = state;
  objects.transceiver = std::make_shared<RTCRtpTransceiver>(state);
  objects.sender = std::make_shared<RTCRtpSender>(state);
  objects.receiver = std::make_shared<RTCRtpReceiver>(state);
  return objects;
}

Result<std::shared_ptr<RTCRtpTransceiver>> PeerConnectionImpl::add_transceiver(
    std::string_view kind, const RTCRtpTransceiverInit& init,
    std::shared_ptr<MediaStreamTrack> track) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (kind != "audio" && kind != "video")
    return type_error(R"(a transceiver's kind is "audio" or "video")");
  if (init.direction == RTCRtpTransceiverDirection::kStopped)
    return type_error("a new transceiver cannot be stopped");
  const auto handle = core_.add_transceiver(
      kind == "audio" ? pc::MediaKind::kAudio : pc::MediaKind::kVideo, from_api(init.direction));
  auto& objects = transceiver_objects(handle);
  objects.state->sender_track = std::move(track);
  // W3C 5.1 addTransceiver: the init's streams are the sender's; the check for negotiation
  // ran already, and runs again with them.
  if (!init.stream_ids.empty()) core_.set_sender_streams(handle, init.stream_ids);
  kick();
  return objects.transceiver;
}

Result<std::shared_ptr<RTCRtpSender>> PeerConnectionImpl::add_track(
    const std::shared_ptr<MediaStreamTrack>& track, std::vector<std::string> stream_ids) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (!track) return type_error("addTrack needs a track");
  if (track->kind() != "audio" && track->kind() != "video")
    return type_error(R"(a track's kind is "audio" or "video")");
  const auto kind = track->kind() == "audio" ? pc::MediaKind::kAudio : pc::MediaKind::kVideo;
  for (const auto& t : core_.transceivers().all()) {
    if (transceiver_objects(t.handle).state->sender_track == track)
      return invalid_access_error("a sender already sends this track");
  }
  // W3C 5.1 addTrack: reuse a sender of the kind that has no track, never sent, and is not
  // stopping; its direction gains send.
  for (const auto& t : core_.transceivers().all()) {
    auto& objects = transceiver_objects(t.handle);
    if (t.kind != kind || t.stopping || t.has_sent || objects.state->sender_track) continue;
    objects.state->sender_track = track;
    core_.set_sender_streams(t.handle, std::move(stream_ids));
    if (t.direction == pc::RtpDirection::kRecvOnly)
      (void)core_.set_direction(t.handle, pc::RtpDirection::kSendRecv);
    else if (t.direction == pc::RtpDirection::kInactive)
      (void)core_.set_direction(t.handle, pc::RtpDirection::kSendOnly);
    kick();
    return objects.sender;
  }
  RTCRtpTransceiverInit init;
  init.stream_ids = std::move(stream_ids);
  auto added = add_transceiver(track->kind(), init, track);
  if (!added) return added.error();
  return (*added)->sender();
}

Result<> PeerConnectionImpl::remove_track(const std::shared_ptr<RTCRtpSender>& sender) {
  if (closed_) return invalid_state_error("the connection is closed");
  for (auto& [handle, objects] : transceivers_) {
    if (objects.sender != sender) continue;
    const auto* t = core_.transceivers().find(handle);
    // W3C 5.1 removeTrack: nothing for a stopping transceiver or a sender without a track.
    if (t == nullptr || t->stopping || !objects.state->sender_track) return {};
    objects.state->sender_track.reset();
    if (t->direction == pc::RtpDirection::kSendRecv)
      (void)core_.set_direction(handle, pc::RtpDirection::kRecvOnly);
    else if (t->direction == pc::RtpDirection::kSendOnly)
      (void)core_.set_direction(handle, pc::RtpDirection::kInactive);
    kick();
    return {};
  }
  return invalid_access_error("the sender is not one of this connection's");
}

Result<> PeerConnectionImpl::replace_track(TransceiverState& state,
                                           std::shared_ptr<MediaStreamTrack> track) {
  if (closed_) return invalid_state_error("the connection is closed");
  const auto* t = core_.transceivers().find(state.handle);
  if (t == nullptr || t->stopping) return invalid_state_error("the transceiver is stopped");
  if (track && track->kind() != state.kind)
    return type_error("a " + track->kind() + " track cannot replace a " + state.kind + " one");
  state.sender_track = std::move(track);
  return {};
}

Result<> PeerConnectionImpl::set_parameters(TransceiverState& state,
                                            const RTCRtpSendParameters& parameters) {
  if (closed_) return invalid_state_error("the connection is closed");
  const auto* t = core_.transceivers().find(state.handle);
  if (t == nullptr || t->stopping) return invalid_state_error("the transceiver is stopped");
  // W3C 5.2 setParameters: only against the parameters getParameters returned, once.
  auto last = std::move(state.last_returned);
  state.last_returned.reset();
  if (!last) return invalid_state_error("setParameters without getParameters first");
  if (parameters.transaction_id != last->transaction_id)
    return invalid_modification_error("the transaction id is not the last getParameters'");
  if (parameters.encodings.size() != last->encodings.size())
    return invalid_modification_error("the number of encodings cannot change");
  if (parameters.codecs != last->codecs ||
      parameters.header_extensions != last->header_extensions || parameters.rtcp != last->rtcp)
    return invalid_modification_error("codecs, header extensions and rtcp are read-only");
  for (std::size_t i = 0; i < parameters.encodings.size(); ++i) {
    const auto& encoding = parameters.encodings[i];
    if (encoding.rid != last->encodings[i].rid)
      return invalid_modification_error("an encoding's rid is read-only");
    if (encoding.scale_resolution_down_by && !(*encoding.scale_resolution_down_by >= 1.0))
      return range_error("scaleResolutionDownBy below 1");
    if (encoding.max_framerate && !(*encoding.max_framerate >= 0.0))
      return range_error("a negative maxFramerate");
  }
  const bool reactivated = !state.encodings.front().active && parameters.encodings.front().active;
  state.encodings = parameters.encodings;
  // A stream sent again must start with a key frame: ask the source, as a PLI would.
  if (reactivated) {
    auto shared = transceiver_objects(state.handle).state;
    shared->send_coder->key_frame_requested = true;
    queue_task([shared] { fire(shared->on_key_frame_request); });
  }
  return {};
}

void PeerConnectionImpl::associate_remote_streams(TransceiverState& state,
                                                  const std::vector<std::string>& ids) {
  std::vector<std::shared_ptr<MediaStream>> streams;
  for (const auto& id : ids) {
    auto& stream = remote_streams_[id];
    if (!stream) stream = std::make_shared<MediaStream>(id);
    streams.push_back(stream);
  }
  const auto contains = [](const auto& list, const auto& stream) {
    return std::find(list.begin(), list.end(), stream) != list.end();
  };
  const MediaStreamTrackEvent event{state.receiver_track};
  for (const auto& old : state.remote_streams) {
    if (contains(streams, old)) continue;
    if (auto handler = old->remove_by_peer(state.receiver_track))
      queue_task([handler, event] { fire(handler, event); });
  }
  for (const auto& stream : streams) {
    if (contains(state.remote_streams, stream)) continue;
    if (auto handler = stream->add_by_peer(state.receiver_track))
      queue_task([handler, event] { fire(handler, event); });
  }
  state.remote_streams = std::move(streams);
}

Result<> PeerConnectionImpl::stop_transceiver(std::uint32_t transceiver) {
  if (closed_) return invalid_state_error("the connection is closed");
  auto stopped = core_.stop_transceiver(transceiver);
  kick();
  return stopped;
}

std::vector<std::shared_ptr<RTCRtpTransceiver>> PeerConnectionImpl::get_transceivers() {
  std::vector<std::shared_ptr<RTCRtpTransceiver>> out;
  for (const auto& t : core_.transceivers().all())
    out.push_back(transceiver_objects(t.handle).transceiver);
  return out;
}

Result<> PeerConnectionImpl::send_frame(std::uint32_t transceiver, const RTCEncodedFrame& frame) {
  if (closed_) return invalid_state_error("the connection is closed");
  pc::EncodedFrame encoded{frame.rtp_timestamp, frame.key_frame,
                           Buffer(BytesView(frame.data.data(), frame.data.size()))};
  const auto valid_level = [](double level) { return level >= 0.0 && level <= 1.0; };
  if (frame.audio_level) {
    if (!valid_level(*frame.audio_level)) return type_error("an audio level outside 0-1");
    encoded.audio_level = rtp::audio_level_from_linear(*frame.audio_level);
  }
  encoded.contributing_sources = frame.contributing_sources;
  for (const double level : frame.contributing_audio_levels) {
    if (!valid_level(level)) return type_error("a contributing source's level outside 0-1");
    encoded.contributing_levels.push_back(rtp::audio_level_from_linear(level));
  }
  auto sent = core_.send_frame(transceiver, encoded, monotonic_now());
  kick();
  return sent;
}

std::uint32_t PeerConnectionImpl::video_bandwidth_share(std::uint32_t transceiver) const {
  // What Opus sends by default; an audio encoding's max_bitrate where it has one.
  constexpr std::uint32_t kAudioAllowance = 40'000;
  constexpr std::uint32_t kMinVideoShare = 30'000;
  std::uint64_t audio = 0;
  std::uint32_t video_senders = 0;
  bool counted_self = false;
  for (const auto& [handle, objects] : transceivers_) {
    const auto& state = *objects.state;
    if (!state.sender_track || !state.encodings.front().active || !core_.send_codec(handle))
      continue;
    if (state.kind == "audio") {
      audio += state.encodings.front().max_bitrate.value_or(kAudioAllowance);
    } else {
      ++video_senders;
      counted_self = counted_self || handle == transceiver;
    }
  }
  if (!counted_self) ++video_senders;
  const std::uint64_t target = core_.bandwidth_estimator().target_bps();
  const std::uint64_t left = target > audio ? target - audio : 0;
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(left / video_senders, kMinVideoShare));
}

Result<> PeerConnectionImpl::insert_dtmf(std::uint32_t transceiver, std::string_view tones,
                                         std::int64_t duration_ms, std::int64_t inter_tone_gap_ms) {
  if (closed_) return invalid_state_error("the connection is closed");
  auto inserted =
      core_.insert_dtmf(transceiver, tones, duration_ms, inter_tone_gap_ms, monotonic_now());
  kick();
  return inserted;
}

Result<> PeerConnectionImpl::request_key_frame(std::uint32_t transceiver) {
  if (closed_) return invalid_state_error("the connection is closed");
  auto requested = core_.request_key_frame(transceiver, monotonic_now());
  kick();
  return requested;
}

Result<> PeerConnectionImpl::set_direction(std::uint32_t transceiver,
                                           RTCRtpTransceiverDirection direction) {
  if (closed_) return invalid_state_error("the connection is closed");
  auto set = core_.set_direction(transceiver, from_api(direction));
  kick();
  return set;
}

Result<> PeerConnectionImpl::set_codec_preferences(std::uint32_t transceiver,
                                                   std::vector<pc::CodecPreference> preferences) {
  if (closed_) return invalid_state_error("the connection is closed");
  return core_.set_codec_preferences(transceiver, std::move(preferences));
}

bool PeerConnectionImpl::on_media_event(pc::ConnectionEvent& event) {
  if (const auto* added = std::get_if<pc::TrackAdded>(&event)) {
    auto& objects = transceiver_objects(added->transceiver);
    RTCTrackEvent track_event;
    track_event.receiver = objects.receiver;
    track_event.track = objects.state->receiver_track;
    track_event.transceiver = objects.transceiver;
    if (const auto* t = core_.transceivers().find(added->transceiver))
      track_event.stream_ids = t->remote_stream_ids;
    associate_remote_streams(*objects.state, track_event.stream_ids);
    track_event.streams = objects.state->remote_streams;
    queue_task([this, track_event] { fire(on_track_, track_event); });
    return true;
  }
  if (const auto* changed = std::get_if<pc::RemoteStreamsChanged>(&event)) {
    auto& objects = transceiver_objects(changed->transceiver);
    if (const auto* t = core_.transceivers().find(changed->transceiver))
      associate_remote_streams(*objects.state, t->remote_stream_ids);
    return true;
  }
  if (const auto* removed = std::get_if<pc::TrackRemoved>(&event)) {
    // W3C 4.4.1.6 process the removal of a remote track: the track leaves its streams and
    // mutes.
    auto& state = *transceiver_objects(removed->transceiver).state;
    associate_remote_streams(state, {});
    auto track = state.receiver_track;
    if (auto handler = track->set_muted(true)) queue_task([handler] { fire(handler); });
    return true;
  }
  if (const auto* stopped = std::get_if<pc::TransceiverStopped>(&event)) {
    // W3C 5.4 stop receiving: the receiver's track ends.
    auto track = transceiver_objects(stopped->transceiver).state->receiver_track;
    if (auto handler = track->end()) queue_task([handler] { fire(handler); });
    return true;
  }
  if (auto* frame = std::get_if<pc::MediaFrameReceived>(&event)) {
    auto state = transceiver_objects(frame->transceiver).state;
    // Media arrives: the receiver's track unmutes (W3C 5.3, muted until RTP is received).
    if (auto handler = state->receiver_track->set_muted(false))
      queue_task([handler] { fire(handler); });
    auto delivered = std::make_shared<RTCEncodedFrame>();
    delivered->key_frame = frame->frame.key_frame;
    delivered->rtp_timestamp = frame->frame.rtp_timestamp;
    delivered->data.assign(frame->frame.data.data(),
                           frame->frame.data.data() + frame->frame.data.size());
    if (frame->frame.audio_level)
      delivered->audio_level = rtp::linear_from_audio_level(*frame->frame.audio_level);
    delivered->contributing_sources = frame->frame.contributing_sources;
    for (const auto level : frame->frame.contributing_levels)
      delivered->contributing_audio_levels.push_back(rtp::linear_from_audio_level(level));
    queue_task([state, delivered] { fire(state->on_encoded_frame, *delivered); });
    // rtcpp extension: decoded media for the handlers that want it.
    if (state->on_video_frame || state->on_audio_frame) {
      const std::string codec = core_.receive_codec(frame->transceiver).value_or("");
      queue_task([state, delivered, codec] { decode_received(state, *delivered, codec); });
    }
    return true;
  }
  if (const auto* request = std::get_if<pc::KeyFrameRequested>(&event)) {
    auto state = transceiver_objects(request->transceiver).state;
    state->send_coder->key_frame_requested = true;
    queue_task([state] { fire(state->on_key_frame_request); });
    return true;
  }
  if (const auto* change = std::get_if<pc::DtmfToneChanged>(&event)) {
    auto state = transceiver_objects(change->transceiver).state;
    RTCDTMFToneChangeEvent tone_change{change->tone};
    queue_task([state, tone_change] { fire(state->on_tone_change, tone_change); });
    return true;
  }
  if (const auto* tone = std::get_if<pc::DtmfToneReceived>(&event)) {
    auto state = transceiver_objects(tone->transceiver).state;
    RTCDTMFToneReceivedEvent received;
    if (auto key = rtp::dtmf_key(tone->event.event)) received.tone = std::string(1, *key);
    received.event = tone->event.event;
    received.ended = tone->event.kind == rtp::ToneEvent::Kind::kEnd;
    received.duration_ms = tone->clock_rate == 0 ? 0.0
                                                 : static_cast<double>(tone->event.duration) *
                                                       1000.0 / tone->clock_rate;
    received.rtp_timestamp = tone->event.timestamp;
    queue_task([state, received] { fire(state->on_dtmf_tone, received); });
    return true;
  }
  return false;
}

}  // namespace rtcpp::detail
