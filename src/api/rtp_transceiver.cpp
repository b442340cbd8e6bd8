#include "rtcpp/rtp_transceiver.hpp"

#include <strings.h>

#include <algorithm>
#include <array>

#include "api/operation_forms.hpp"
#include "api/peer_connection_impl.hpp"
#include "api/transceiver_state.hpp"
#include "base/random.hpp"
#include "pc/rtp_parameters.hpp"
#include "rtp/header_extensions.hpp"
#include "runtime/interfaces.hpp"

namespace rtcpp {
namespace {

using detail::PeerConnectionImpl;

// Runs fn(impl, state) on the loop thread, or returns `closed` when the connection is gone.
template <typename R, typename F>
R with_connection(const std::shared_ptr<detail::TransceiverState>& d, R closed, F fn) {
  auto pc = d->pc.lock();
  if (!pc) return closed;
  return pc->sync([&] { return fn(*pc); });
}

}  // namespace

std::string_view to_string(RTCRtpTransceiverDirection value) noexcept {
  switch (value) {
    case RTCRtpTransceiverDirection::kSendRecv:
      return "sendrecv";
    case RTCRtpTransceiverDirection::kSendOnly:
      return "sendonly";
    case RTCRtpTransceiverDirection::kRecvOnly:
      return "recvonly";
    case RTCRtpTransceiverDirection::kInactive:
      return "inactive";
    case RTCRtpTransceiverDirection::kStopped:
      return "stopped";
  }
  return "inactive";
}

std::string_view to_string(MediaStreamTrackState value) noexcept {
  return value == MediaStreamTrackState::kLive ? "live" : "ended";
}

MediaStreamTrack::MediaStreamTrack(std::string kind, std::string id, std::string label)
    : kind_(std::move(kind)), id_(std::move(id)), label_(std::move(label)) {}

namespace {

// A version 4 UUID (RFC 9562 5.4), the form browsers give track and stream ids.
std::string random_uuid() {
  CryptoRandom rng;
  std::array<std::uint8_t, 16> bytes{};
  rng.fill(MutableBytesView(bytes.data(), bytes.size()));
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
  std::string id;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[bytes[i] >> 4];
    id += kHex[bytes[i] & 0x0f];
  }
  return id;
}

}  // namespace

std::shared_ptr<MediaStreamTrack> MediaStreamTrack::create(std::string kind, std::string label) {
  return std::make_shared<MediaStreamTrack>(std::move(kind), random_uuid(), std::move(label));
}

std::shared_ptr<MediaStreamTrack> MediaStreamTrack::clone() const {
  auto copy = create(kind_, label_);
  copy->enabled_ = enabled_.load();
  copy->muted_ = muted_.load();
  copy->ended_ = ended_.load();
  return copy;
}

void MediaStreamTrack::on_mute(std::function<void()> handler) {
  std::lock_guard lock(handlers_mutex_);
  on_mute_ = std::move(handler);
}

void MediaStreamTrack::on_unmute(std::function<void()> handler) {
  std::lock_guard lock(handlers_mutex_);
  on_unmute_ = std::move(handler);
}

void MediaStreamTrack::on_ended(std::function<void()> handler) {
  std::lock_guard lock(handlers_mutex_);
  on_ended_ = std::move(handler);
}

std::function<void()> MediaStreamTrack::set_muted(bool muted) {
  // Mediacapture 4.3.1.1: nothing happens to an ended track, or when the state is unchanged.
  if (ended_ || muted_.exchange(muted) == muted) return {};
  std::lock_guard lock(handlers_mutex_);
  return muted ? on_mute_ : on_unmute_;
}

std::function<void()> MediaStreamTrack::end() {
  if (ended_.exchange(true)) return {};
  std::lock_guard lock(handlers_mutex_);
  return on_ended_;
}

// --- MediaStream ---

MediaStream::MediaStream(std::string id) : id_(std::move(id)) {}

std::shared_ptr<MediaStream> MediaStream::create(
    const std::vector<std::shared_ptr<MediaStreamTrack>>& tracks) {
  auto stream = std::make_shared<MediaStream>(random_uuid());
  for (const auto& track : tracks) stream->add_track(track);
  return stream;
}

std::vector<std::shared_ptr<MediaStreamTrack>> MediaStream::get_tracks() const {
  std::lock_guard lock(mutex_);
  return tracks_;
}

std::vector<std::shared_ptr<MediaStreamTrack>> MediaStream::get_audio_tracks() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<MediaStreamTrack>> out;
  for (const auto& t : tracks_) {
    if (t->kind() == "audio") out.push_back(t);
  }
  return out;
}

std::vector<std::shared_ptr<MediaStreamTrack>> MediaStream::get_video_tracks() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<MediaStreamTrack>> out;
  for (const auto& t : tracks_) {
    if (t->kind() == "video") out.push_back(t);
  }
  return out;
}

std::shared_ptr<MediaStreamTrack> MediaStream::get_track_by_id(std::string_view id) const {
  std::lock_guard lock(mutex_);
  for (const auto& t : tracks_) {
    if (t->id() == id) return t;
  }
  return nullptr;
}

void MediaStream::add_track(const std::shared_ptr<MediaStreamTrack>& track) {
  (void)add_by_peer(track);  // the application's own change fires nothing
}

void MediaStream::remove_track(const std::shared_ptr<MediaStreamTrack>& track) {
  (void)remove_by_peer(track);
}

std::function<void(const MediaStreamTrackEvent&)> MediaStream::add_by_peer(
    const std::shared_ptr<MediaStreamTrack>& track) {
  std::lock_guard lock(mutex_);
  if (!track || std::find(tracks_.begin(), tracks_.end(), track) != tracks_.end()) return {};
  tracks_.push_back(track);
  return on_add_track_;
}

std::function<void(const MediaStreamTrackEvent&)> MediaStream::remove_by_peer(
    const std::shared_ptr<MediaStreamTrack>& track) {
  std::lock_guard lock(mutex_);
  auto it = std::find(tracks_.begin(), tracks_.end(), track);
  if (it == tracks_.end()) return {};
  tracks_.erase(it);
  return on_remove_track_;
}

std::shared_ptr<MediaStream> MediaStream::clone() const {
  std::vector<std::shared_ptr<MediaStreamTrack>> clones;
  for (const auto& t : get_tracks()) clones.push_back(t->clone());
  return create(clones);
}

bool MediaStream::active() const {
  std::lock_guard lock(mutex_);
  return std::any_of(tracks_.begin(), tracks_.end(), [](const auto& t) {
    return t->ready_state() == MediaStreamTrackState::kLive;
  });
}

void MediaStream::on_add_track(std::function<void(const MediaStreamTrackEvent&)> handler) {
  std::lock_guard lock(mutex_);
  on_add_track_ = std::move(handler);
}

void MediaStream::on_remove_track(std::function<void(const MediaStreamTrackEvent&)> handler) {
  std::lock_guard lock(mutex_);
  on_remove_track_ = std::move(handler);
}

// --- RTCRtpSender ---

RTCRtpSender::RTCRtpSender(std::shared_ptr<detail::TransceiverState> state) : d_(std::move(state)) {
  // W3C 5.2: an audio sender's dtmf attribute, for its lifetime.
  if (d_->kind == "audio") dtmf_ = std::make_shared<RTCDTMFSender>(d_);
}

std::shared_ptr<MediaStreamTrack> RTCRtpSender::track() const {
  return with_connection(d_, d_->sender_track,
                         [&](PeerConnectionImpl&) { return d_->sender_track; });
}

namespace {

// A sender's chained operation (W3C 4.4.1.2) in its future form; InvalidStateError once the
// connection is gone.
template <typename Op>
std::future<Result<>> sender_operation(const std::shared_ptr<detail::TransceiverState>& d, Op op) {
  auto pc = d->pc.lock();
  if (!pc) {
    std::promise<Result<>> gone;
    gone.set_value(invalid_state_error("the connection is gone"));
    return gone.get_future();
  }
  return detail::run_future<Result<>>(pc, std::move(op));
}

// The same in the callback form.
template <typename Op>
void sender_operation(const std::shared_ptr<detail::TransceiverState>& d, Op op,
                      std::function<void(Result<>)> done) {
  auto pc = d->pc.lock();
  if (!pc) {
    if (done) done(invalid_state_error("the connection is gone"));
    return;
  }
  detail::run_callback<Result<>>(pc, std::move(op), std::move(done));
}

}  // namespace

std::future<Result<>> RTCRtpSender::replace_track(std::shared_ptr<MediaStreamTrack> track) {
  return sender_operation(d_, [state = d_, track = std::move(track)](PeerConnectionImpl& impl) {
    return impl.replace_track(*state, track);
  });
}

void RTCRtpSender::replace_track(std::shared_ptr<MediaStreamTrack> track,
                                 std::function<void(Result<>)> done) {
  sender_operation(
      d_,
      [state = d_, track = std::move(track)](PeerConnectionImpl& impl) {
        return impl.replace_track(*state, track);
      },
      std::move(done));
}

Result<> RTCRtpSender::send_encoded_frame(const RTCEncodedFrame& frame) {
  return with_connection(d_, Result<>(invalid_state_error("the connection is gone")),
                         [&](PeerConnectionImpl& pc) -> Result<> {
                           // W3C 5.2: a sender without a live track sends nothing.
                           if (!d_->sender_track)
                             return invalid_state_error("the sender has no track");
                           if (d_->sender_track->ready_state() == MediaStreamTrackState::kEnded)
                             return invalid_state_error("the sender's track has ended");
                           // W3C 5.2.1 active: an inactive encoding is not sent.
                           if (!d_->encodings.front().active) return {};
                           return pc.send_frame(d_->handle, frame);
                         });
}

namespace {

// Encodes under the sender's coder lock, then sends what came out.
template <typename Frame, typename Encode>
Result<> send_raw(const std::shared_ptr<detail::TransceiverState>& d, RTCRtpSender& sender,
                  const Frame& frame, Encode encode) {
  auto settings = with_connection(
      d, std::optional<detail::SendSettings>(),
      [&](PeerConnectionImpl& pc) -> std::optional<detail::SendSettings> {
        auto codec = pc.core().send_codec(d->handle);
        if (!codec) return std::nullopt;
        const auto& encoding = d->encodings.front();
        detail::SendSettings made{*codec, encoding.max_bitrate, encoding.max_framerate,
                                  encoding.scale_resolution_down_by,
                                  d->sender_track == nullptr || d->sender_track->enabled()};
        if (d->kind == "video") made.bandwidth_share = pc.video_bandwidth_share(d->handle);
        return made;
      });
  if (!settings) return invalid_state_error("no codec negotiated to send with yet");
  auto& coder = *d->send_coder;
  std::lock_guard lock(coder.mutex);
  auto frames = encode(coder, *settings, frame);
  if (!frames) return frames.error();
  for (const auto& out : *frames) {
    auto sent = sender.send_encoded_frame(out);
    if (!sent) {
      // What reaches the peer first once it can must be decodable on its own.
      coder.need_key_frame = true;
      return sent;
    }
  }
  return {};
}

}  // namespace

Result<> RTCRtpSender::send_video_frame(const VideoFrame& frame) {
  if (d_->kind != "video") return invalid_state_error("send_video_frame on an audio sender");
  return send_raw(d_, *this, frame, detail::encode_video);
}

Result<> RTCRtpSender::send_audio_frame(const AudioFrame& frame) {
  if (d_->kind != "audio") return invalid_state_error("send_audio_frame on a video sender");
  return send_raw(d_, *this, frame, detail::encode_audio);
}

void RTCRtpSender::on_key_frame_request(std::function<void()> handler) {
  with_connection(d_, 0, [&](PeerConnectionImpl& pc) {
    if (!pc.closed_) d_->on_key_frame_request = std::move(handler);
    return 0;
  });
}

namespace {

// W3C 5.2 getParameters: the codecs, header extensions and RTCP parameters of the
// negotiated section (what we wrote in it: the payload types both sides use).
RTCRtpParameters negotiated_parameters(const PeerConnectionImpl& pc, std::uint32_t handle,
                                       const std::string& kind) {
  RTCRtpParameters out;
  const auto* section = pc.core().negotiated_section(handle);
  if (section == nullptr) return out;
  for (const auto& c : section->rtp.codecs) {
    RTCRtpCodecParameters codec;
    codec.payload_type = c.payload_type;
    codec.mime_type = kind + "/" + c.name;
    codec.clock_rate = c.clock_rate;
    if (kind == "audio") codec.channels = c.channels;
    if (!c.parameters.empty()) codec.sdp_fmtp_line = c.parameters;
    out.codecs.push_back(std::move(codec));
    if (c.rtx_payload_type) {
      // RFC 4588 8.6: the retransmission format names the payload type it repairs.
      out.codecs.push_back({*c.rtx_payload_type, kind + "/rtx", c.clock_rate, std::nullopt,
                            "apt=" + std::to_string(c.payload_type)});
    }
  }
  for (const auto& e : section->rtp.extensions)
    out.header_extensions.push_back({e.uri, e.id, false});
  out.rtcp.cname = pc.core().cname();
  out.rtcp.reduced_size = true;  // RFC 5506: our sections say a=rtcp-rsize
  return out;
}

}  // namespace

RTCRtpSendParameters RTCRtpSender::get_parameters() const {
  return with_connection(d_, RTCRtpSendParameters{}, [&](PeerConnectionImpl& pc) {
    RTCRtpSendParameters parameters;
    static_cast<RTCRtpParameters&>(parameters) = negotiated_parameters(pc, d_->handle, d_->kind);
    parameters.encodings = d_->encodings;
    parameters.transaction_id = std::to_string(++d_->transactions);
    d_->last_returned = parameters;
    return parameters;
  });
}

std::future<Result<>> RTCRtpSender::set_parameters(RTCRtpSendParameters parameters) {
  return sender_operation(
      d_, [state = d_, parameters = std::move(parameters)](PeerConnectionImpl& impl) {
        return impl.set_parameters(*state, parameters);
      });
}

void RTCRtpSender::set_parameters(RTCRtpSendParameters parameters,
                                  std::function<void(Result<>)> done) {
  sender_operation(
      d_,
      [state = d_, parameters = std::move(parameters)](PeerConnectionImpl& impl) {
        return impl.set_parameters(*state, parameters);
      },
      std::move(done));
}

std::optional<std::string> RTCRtpSender::codec() const {
  return with_connection(d_, std::optional<std::string>(),
                         [&](PeerConnectionImpl& pc) { return pc.core().send_codec(d_->handle); });
}

std::shared_ptr<RTCDTMFSender> RTCRtpSender::dtmf() const {
  return dtmf_;
}

namespace {

// The stats of a transceiver's sender or receiver, in either operation form; an empty
// report once the connection is gone.
std::future<RTCStatsReport> stats_future(const std::shared_ptr<detail::TransceiverState>& d,
                                         bool sender) {
  auto pc = d->pc.lock();
  if (!pc) {
    std::promise<RTCStatsReport> empty;
    empty.set_value({});
    return empty.get_future();
  }
  return detail::run_future<RTCStatsReport>(pc,
                                            [handle = d->handle, sender](PeerConnectionImpl& impl) {
                                              return impl.stats_of(handle, sender);
                                            });
}

void stats_callback(const std::shared_ptr<detail::TransceiverState>& d, bool sender,
                    std::function<void(RTCStatsReport)> done) {
  auto pc = d->pc.lock();
  if (!pc) return;
  detail::run_callback<RTCStatsReport>(
      pc,
      [handle = d->handle, sender](PeerConnectionImpl& impl) {
        return impl.stats_of(handle, sender);
      },
      std::move(done));
}

}  // namespace

std::future<RTCStatsReport> RTCRtpSender::get_stats() const {
  return stats_future(d_, true);
}

void RTCRtpSender::get_stats(std::function<void(RTCStatsReport)> done) const {
  stats_callback(d_, true, std::move(done));
}

// --- RTCDTMFSender ---

RTCDTMFSender::RTCDTMFSender(std::shared_ptr<detail::TransceiverState> state)
    : d_(std::move(state)) {}

Result<> RTCDTMFSender::insert_dtmf(std::string_view tones, std::int64_t duration_ms,
                                    std::int64_t inter_tone_gap_ms) {
  return with_connection(d_, Result<>(invalid_state_error("the connection is gone")),
                         [&](PeerConnectionImpl& pc) {
                           return pc.insert_dtmf(d_->handle, tones, duration_ms, inter_tone_gap_ms);
                         });
}

bool RTCDTMFSender::can_insert_dtmf() const {
  return with_connection(d_, false, [&](PeerConnectionImpl& pc) {
    return !pc.closed_ && pc.core().can_insert_dtmf(d_->handle);
  });
}

std::string RTCDTMFSender::tone_buffer() const {
  return with_connection(d_, std::string(), [&](PeerConnectionImpl& pc) {
    return pc.core().dtmf_tone_buffer(d_->handle);
  });
}

void RTCDTMFSender::on_tone_change(std::function<void(const RTCDTMFToneChangeEvent&)> handler) {
  with_connection(d_, 0, [&](PeerConnectionImpl& pc) {
    if (!pc.closed_) d_->on_tone_change = std::move(handler);
    return 0;
  });
}

namespace {

std::optional<RTCRtpCapabilities> capabilities(std::string_view kind) {
  pc::MediaKind media_kind;
  if (kind == "audio") {
    media_kind = pc::MediaKind::kAudio;
  } else if (kind == "video") {
    media_kind = pc::MediaKind::kVideo;
  } else {
    return std::nullopt;
  }
  RTCRtpCapabilities out;
  for (const auto& c : pc::codec_capabilities(media_kind)) {
    RTCRtpCodec codec;
    codec.mime_type = std::string(kind) + "/" + c.name;
    codec.clock_rate = c.clock_rate;
    if (media_kind == pc::MediaKind::kAudio) codec.channels = c.channels;
    if (!c.parameters.empty()) codec.sdp_fmtp_line = c.parameters;
    out.codecs.push_back(std::move(codec));
  }
  for (const auto& e : pc::local_rtp_parameters(media_kind).extensions)
    out.header_extensions.push_back({e.uri});
  return out;
}

}  // namespace

std::optional<RTCRtpCapabilities> RTCRtpSender::get_capabilities(std::string_view kind) {
  return capabilities(kind);
}

// --- RTCRtpReceiver ---

RTCRtpReceiver::RTCRtpReceiver(std::shared_ptr<detail::TransceiverState> state)
    : d_(std::move(state)) {}

std::shared_ptr<MediaStreamTrack> RTCRtpReceiver::track() const {
  return d_->receiver_track;  // made with the receiver, never replaced
}

void RTCRtpReceiver::on_encoded_frame(std::function<void(const RTCEncodedFrame&)> handler) {
  with_connection(d_, 0, [&](PeerConnectionImpl& pc) {
    if (!pc.closed_) d_->on_encoded_frame = std::move(handler);
    return 0;
  });
}

void RTCRtpReceiver::on_video_frame(std::function<void(const VideoFrame&)> handler) {
  with_connection(d_, 0, [&](PeerConnectionImpl& pc) {
    if (!pc.closed_ && d_->kind == "video") d_->on_video_frame = std::move(handler);
    return 0;
  });
}

void RTCRtpReceiver::on_audio_frame(std::function<void(const AudioFrame&)> handler) {
  with_connection(d_, 0, [&](PeerConnectionImpl& pc) {
    if (!pc.closed_ && d_->kind == "audio") d_->on_audio_frame = std::move(handler);
    return 0;
  });
}

Result<> RTCRtpReceiver::request_key_frame() {
  return with_connection(d_, Result<>(invalid_state_error("the connection is gone")),
                         [&](PeerConnectionImpl& pc) { return pc.request_key_frame(d_->handle); });
}

std::future<RTCStatsReport> RTCRtpReceiver::get_stats() const {
  return stats_future(d_, false);
}

void RTCRtpReceiver::get_stats(std::function<void(RTCStatsReport)> done) const {
  stats_callback(d_, false, std::move(done));
}

void RTCRtpReceiver::on_dtmf_tone(std::function<void(const RTCDTMFToneReceivedEvent&)> handler) {
  with_connection(d_, 0, [&](PeerConnectionImpl& pc) {
    if (!pc.closed_) d_->on_dtmf_tone = std::move(handler);
    return 0;
  });
}

std::optional<std::string> RTCRtpReceiver::codec() const {
  return with_connection(d_, std::optional<std::string>(), [&](PeerConnectionImpl& pc) {
    return pc.core().receive_codec(d_->handle);
  });
}

namespace {

template <typename Source>
std::vector<Source> to_sources(const pc::Connection& core,
                               const std::vector<pc::MediaSource>& sources) {
  std::vector<Source> out;
  out.reserve(sources.size());
  for (const auto& s : sources) {
    Source source;
    source.timestamp = core.unix_time_ms(s.last_received);
    source.source = s.source;
    if (s.audio_level) source.audio_level = rtp::linear_from_audio_level(*s.audio_level);
    source.rtp_timestamp = s.rtp_timestamp;
    out.push_back(source);
  }
  return out;
}

}  // namespace

std::vector<RTCRtpSynchronizationSource> RTCRtpReceiver::get_synchronization_sources() const {
  return with_connection(
      d_, std::vector<RTCRtpSynchronizationSource>(), [&](PeerConnectionImpl& pc) {
        return to_sources<RTCRtpSynchronizationSource>(
            pc.core(), pc.core().synchronization_sources(d_->handle, runtime::monotonic_now()));
      });
}

std::vector<RTCRtpContributingSource> RTCRtpReceiver::get_contributing_sources() const {
  return with_connection(d_, std::vector<RTCRtpContributingSource>(), [&](PeerConnectionImpl& pc) {
    return to_sources<RTCRtpContributingSource>(
        pc.core(), pc.core().contributing_sources(d_->handle, runtime::monotonic_now()));
  });
}

RTCRtpReceiveParameters RTCRtpReceiver::get_parameters() const {
  return with_connection(d_, RTCRtpReceiveParameters{}, [&](PeerConnectionImpl& pc) {
    RTCRtpReceiveParameters parameters;
    static_cast<RTCRtpParameters&>(parameters) = negotiated_parameters(pc, d_->handle, d_->kind);
    return parameters;
  });
}

std::optional<RTCRtpCapabilities> RTCRtpReceiver::get_capabilities(std::string_view kind) {
  return capabilities(kind);
}

// --- RTCRtpTransceiver ---

RTCRtpTransceiver::RTCRtpTransceiver(std::shared_ptr<detail::TransceiverState> state)
    : d_(std::move(state)) {}

std::optional<std::string> RTCRtpTransceiver::mid() const {
  return with_connection(d_, std::optional<std::string>(), [&](PeerConnectionImpl& pc) {
    const auto* t = pc.core().transceivers().find(d_->handle);
    return t != nullptr ? t->mid : std::nullopt;
  });
}

RTCRtpTransceiverDirection RTCRtpTransceiver::direction() const {
  return with_connection(d_, RTCRtpTransceiverDirection::kStopped, [&](PeerConnectionImpl& pc) {
    const auto* t = pc.core().transceivers().find(d_->handle);
    if (t == nullptr || t->stopping) return RTCRtpTransceiverDirection::kStopped;
    return detail::to_api(t->direction);
  });
}

Result<> RTCRtpTransceiver::set_direction(RTCRtpTransceiverDirection direction) {
  if (direction == RTCRtpTransceiverDirection::kStopped)
    return type_error("\"stopped\" is not a direction to set (use stop())");
  return with_connection(
      d_, Result<>(invalid_state_error("the connection is gone")),
      [&](PeerConnectionImpl& pc) { return pc.set_direction(d_->handle, direction); });
}

Result<> RTCRtpTransceiver::set_codec_preferences(std::vector<RTCRtpCodec> codecs) {
  const std::string prefix = d_->kind + "/";
  std::vector<pc::CodecPreference> preferences;
  for (const auto& codec : codecs) {
    // W3C 5.4: a codec of another kind is not in this kind's capabilities.
    if (codec.mime_type.size() <= prefix.size() ||
        strncasecmp(codec.mime_type.c_str(), prefix.c_str(), prefix.size()) != 0)
      return invalid_modification_error("codec " + codec.mime_type + " is not of kind " + d_->kind);
    preferences.push_back({codec.mime_type.substr(prefix.size()), codec.clock_rate,
                           codec.channels.value_or(1), codec.sdp_fmtp_line.value_or("")});
  }
  return with_connection(d_, Result<>(invalid_state_error("the connection is gone")),
                         [&](PeerConnectionImpl& pc) {
                           return pc.set_codec_preferences(d_->handle, std::move(preferences));
                         });
}

std::optional<RTCRtpTransceiverDirection> RTCRtpTransceiver::current_direction() const {
  return with_connection(d_, std::optional<RTCRtpTransceiverDirection>(),
                         [&](PeerConnectionImpl& pc) -> std::optional<RTCRtpTransceiverDirection> {
                           const auto* t = pc.core().transceivers().find(d_->handle);
                           if (t == nullptr || t->stopped)
                             return RTCRtpTransceiverDirection::kStopped;
                           if (!t->current_direction) return std::nullopt;
                           return detail::to_api(*t->current_direction);
                         });
}

Result<> RTCRtpTransceiver::stop() {
  return with_connection(d_, Result<>(invalid_state_error("the connection is gone")),
                         [&](PeerConnectionImpl& pc) { return pc.stop_transceiver(d_->handle); });
}

std::shared_ptr<RTCRtpSender> RTCRtpTransceiver::sender() const {
  return with_connection(d_, std::shared_ptr<RTCRtpSender>(), [&](PeerConnectionImpl& pc) {
    return pc.transceiver_objects(d_->handle).sender;
  });
}

std::shared_ptr<RTCRtpReceiver> RTCRtpTransceiver::receiver() const {
  return with_connection(d_, std::shared_ptr<RTCRtpReceiver>(), [&](PeerConnectionImpl& pc) {
    return pc.transceiver_objects(d_->handle).receiver;
  });
}

}  // namespace rtcpp
