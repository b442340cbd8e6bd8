// rtcpp/rtp_transceiver.hpp: RTCRtpTransceiver, RTCRtpSender, RTCRtpReceiver (W3C WebRTC 1.0,
// section 5), MediaStreamTrack (W3C Media Capture and Streams 4.3) and RTCTrackEvent.
//
// Media is carried as encoded frames, the unit the W3C encoded transform and WebCodecs
// chunks carry: a sender is fed frames its codec already encoded (with their RTP timestamps
// and key-frame flags) and cuts them into SRTP packets; a receiver puts packets back
// together and delivers whole frames, in order, never one missing a packet. Key-frame
// requests travel both ways: a receiver missing a frame asks the peer (RTCP PLI), and the
// peer's requests reach the sender's handler.
//
// Every method may be called from any thread; handlers run on the connection's loop thread.
// Codecs negotiated today: VP8 (RFC 7741), H.264 (RFC 6184, packetization modes 0 and 1),
// VP9 (RFC 9628) and AV1 (AOM RTP specification) for video; Opus, PCMU and PCMA for audio.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rtcpp/audio_frame.hpp"
#include "rtcpp/error.hpp"
#include "rtcpp/stats.hpp"
#include "rtcpp/video_frame.hpp"

namespace rtcpp {

namespace detail {
class PeerConnectionImpl;
struct TransceiverState;
}  // namespace detail

enum class RTCRtpTransceiverDirection { kSendRecv, kSendOnly, kRecvOnly, kInactive, kStopped };
std::string_view to_string(RTCRtpTransceiverDirection value) noexcept;

struct RTCRtpTransceiverInit {
  RTCRtpTransceiverDirection direction = RTCRtpTransceiverDirection::kSendRecv;
  // W3C streams: the ids of the MediaStreams the sender's track is in, as the peer's track
  // event reports them (a=msid). Empty: in no stream.
  std::vector<std::string> stream_ids;
};

// W3C webrtc-pc 5.2 RTCRtpCodec: a codec as capabilities list it and preferences name it.
struct RTCRtpCodec {
  std::string mime_type;  // "video/VP8", "video/H264", "audio/opus", "video/rtx", ...
  std::uint32_t clock_rate = 0;
  std::optional<std::uint16_t> channels;  // audio: 2 for Opus, 1 for G.711
  std::optional<std::string> sdp_fmtp_line;
};
struct RTCRtpHeaderExtensionCapability {
  std::string uri;
};
// W3C 5.2 RTCRtpCapabilities: what rtcpp sends and receives of a kind.
struct RTCRtpCapabilities {
  std::vector<RTCRtpCodec> codecs;
  std::vector<RTCRtpHeaderExtensionCapability> header_extensions;
};

// W3C webrtc-pc 5.2 RTCRtpEncodingParameters: one encoding of a sender (rtcpp sends one).
struct RTCRtpEncodingParameters {
  std::optional<std::string> rid;  // read-only: the RID of a simulcast layer (none here)
  // Whether the encoding is sent. A sender made inactive drops the frames it is given; made
  // active again, it asks its source for a key frame (on_key_frame_request).
  bool active = true;
  // Bits per second. Kept and returned; frames arrive encoded, so nothing here re-encodes to
  // meet it (an encoder, when there is one, is told).
  std::optional<std::uint32_t> max_bitrate;
  std::optional<double> max_framerate;  // video; not negative
  // Video, at least 1: the pictures given to send_video_frame() are scaled down by it in each
  // dimension (rounded down to an even size) before encoding. Encoded frames go as they are.
  std::optional<double> scale_resolution_down_by;
};
// W3C 5.2 RTCRtpCodecParameters: a codec negotiated for the stream.
struct RTCRtpCodecParameters {
  std::uint8_t payload_type = 0;
  std::string mime_type;
  std::uint32_t clock_rate = 0;
  std::optional<std::uint16_t> channels;
  std::optional<std::string> sdp_fmtp_line;
  friend bool operator==(const RTCRtpCodecParameters&, const RTCRtpCodecParameters&) = default;
};
// W3C 5.2 RTCRtpHeaderExtensionParameters: a negotiated header extension.
struct RTCRtpHeaderExtensionParameters {
  std::string uri;
  std::uint16_t id = 0;
  bool encrypted = false;
  friend bool operator==(const RTCRtpHeaderExtensionParameters&,
                         const RTCRtpHeaderExtensionParameters&) = default;
};
// W3C 5.2 RTCRtcpParameters.
struct RTCRtcpParameters {
  std::string cname;
  bool reduced_size = false;
  friend bool operator==(const RTCRtcpParameters&, const RTCRtcpParameters&) = default;
};
// W3C 5.2 RTCRtpParameters; the codecs, header extensions and RTCP parameters are what the
// last negotiation agreed (empty before one) and read-only.
struct RTCRtpParameters {
  std::vector<RTCRtpHeaderExtensionParameters> header_extensions;
  RTCRtcpParameters rtcp;
  std::vector<RTCRtpCodecParameters> codecs;
};
struct RTCRtpSendParameters : RTCRtpParameters {
  std::string transaction_id;
  std::vector<RTCRtpEncodingParameters> encodings;
};
struct RTCRtpReceiveParameters : RTCRtpParameters {};

// One encoded frame: a video frame (VP8, VP9, AV1 as IVF holds them; H.264 as an Annex B
// access unit), or an Opus/G.711 packet's worth of audio.
struct RTCEncodedFrame {
  // Video: a key frame (decodable on its own). Audio frames are always key frames.
  bool key_frame = false;
  // In the codec's clock: 90 kHz for video, 48 kHz for Opus, 8 kHz for G.711. Frames sent
  // keep their spacing on the wire (the sender adds one random offset, RFC 3550 5.1).
  std::uint32_t rtp_timestamp = 0;
  std::vector<std::uint8_t> data;
  // Audio: the frame's level, linear from 0 (silence) to 1 (0 dBov) as W3C's audioLevel. Sent
  // in the RFC 6464 header extension where it was negotiated (rounded to whole dB); given for
  // received frames that carried one.
  std::optional<double> audio_level;
  // The sources a mixer combined into this frame: the RTP CSRCs (at most 15), and for audio
  // optionally each one's linear level (RFC 6465), in the same order. A receiving browser
  // lists them in getContributingSources().
  std::vector<std::uint32_t> contributing_sources;
  std::vector<double> contributing_audio_levels;
};

// W3C webrtc-pc 5.4.4: a source of what a receiver got in the last 10 seconds: the SSRC of
// the sender (RTCRtpSynchronizationSource), or a CSRC a mixer listed in the packets
// (RTCRtpContributingSource).
struct RTCRtpContributingSource {
  // When its last packet arrived: milliseconds since the Unix epoch.
  double timestamp = 0;
  std::uint32_t source = 0;
  // Linear, 0 (silence) to 1 (0 dBov), from the RFC 6464 / RFC 6465 level of that packet,
  // when the sender wrote one (audio).
  std::optional<double> audio_level;
  std::uint32_t rtp_timestamp = 0;
};
struct RTCRtpSynchronizationSource : RTCRtpContributingSource {};

enum class MediaStreamTrackState { kLive, kEnded };
std::string_view to_string(MediaStreamTrackState value) noexcept;

// W3C Media Capture 4.3 MediaStreamTrack: a sender's (what it sends, made by the application
// and given to add_track, add_transceiver or replace_track) or a receiver's (what arrives,
// made by the connection). Methods may be called from any thread; the event handlers of a
// receiver's track run on the connection's loop thread.
class MediaStreamTrack {
 public:
  // A track of kind "audio" or "video" with a fresh random id (36 characters, as a browser's).
  static std::shared_ptr<MediaStreamTrack> create(std::string kind, std::string label = {});
  MediaStreamTrack(std::string kind, std::string id, std::string label);
  MediaStreamTrack(const MediaStreamTrack&) = delete;
  MediaStreamTrack& operator=(const MediaStreamTrack&) = delete;
  const std::string& kind() const noexcept { return kind_; }  // "audio" or "video"
  const std::string& id() const noexcept { return id_; }
  const std::string& label() const noexcept { return label_; }
  bool enabled() const noexcept { return enabled_; }
  void set_enabled(bool enabled) noexcept { enabled_ = enabled; }
  // W3C muted: the source gives no media now. A receiver's track starts muted, unmutes when
  // its first frame arrives, and mutes again when a negotiation stops the peer sending.
  bool muted() const noexcept { return muted_; }
  MediaStreamTrackState ready_state() const noexcept {
    return ended_ ? MediaStreamTrackState::kEnded : MediaStreamTrackState::kLive;
  }
  // Ends the track for good (W3C stop(); no ended event, as in a browser).
  void stop() noexcept { ended_ = true; }
  // W3C clone(): a new live track of the same kind and label, with a new id, the same
  // enabled state and muted state, and no handlers.
  std::shared_ptr<MediaStreamTrack> clone() const;
  // The mute, unmute and ended events (ended: the track ended by itself, such as a receiver's
  // when its transceiver stops or the peer rejects its section).
  void on_mute(std::function<void()> handler);
  void on_unmute(std::function<void()> handler);
  void on_ended(std::function<void()> handler);

 private:
  friend class detail::PeerConnectionImpl;
  // Changes the state and returns the handler to fire (in a task of the caller's), if any.
  std::function<void()> set_muted(bool muted);
  std::function<void()> end();

  std::string kind_;
  std::string id_;
  std::string label_;
  std::atomic<bool> enabled_{true};
  std::atomic<bool> muted_{false};
  std::atomic<bool> ended_{false};
  mutable std::mutex handlers_mutex_;
  std::function<void()> on_mute_;
  std::function<void()> on_unmute_;
  std::function<void()> on_ended_;
};

// W3C Media Capture 4.2.4 MediaStreamTrackEvent: the track a stream gained or lost.
struct MediaStreamTrackEvent {
  std::shared_ptr<MediaStreamTrack> track;
};

// W3C Media Capture 4.2 MediaStream: a set of tracks under one id. A connection makes one
// for each stream id the peer's a=msid names (the same object for the same id), puts each
// receiver's track in its streams, and takes it out when the peer stops sending; those
// changes fire addtrack and removetrack (the application's own add_track/remove_track do
// not, as in a browser). Methods may be called from any thread; a connection's events run on
// its loop thread.
class MediaStream {
 public:
  // A stream with a fresh random id (a UUID) holding `tracks`.
  static std::shared_ptr<MediaStream> create(
      const std::vector<std::shared_ptr<MediaStreamTrack>>& tracks = {});
  explicit MediaStream(std::string id);
  MediaStream(const MediaStream&) = delete;
  MediaStream& operator=(const MediaStream&) = delete;
  const std::string& id() const noexcept { return id_; }
  std::vector<std::shared_ptr<MediaStreamTrack>> get_tracks() const;
  std::vector<std::shared_ptr<MediaStreamTrack>> get_audio_tracks() const;
  std::vector<std::shared_ptr<MediaStreamTrack>> get_video_tracks() const;
  std::shared_ptr<MediaStreamTrack> get_track_by_id(std::string_view id) const;
  // Nothing for a track already in the stream (or null).
  void add_track(const std::shared_ptr<MediaStreamTrack>& track);
  void remove_track(const std::shared_ptr<MediaStreamTrack>& track);
  // A new stream (new id) with a clone of each track.
  std::shared_ptr<MediaStream> clone() const;
  // Some track is not ended.
  bool active() const;
  void on_add_track(std::function<void(const MediaStreamTrackEvent&)> handler);
  void on_remove_track(std::function<void(const MediaStreamTrackEvent&)> handler);

 private:
  friend class detail::PeerConnectionImpl;
  // Changes the set and returns the handler to fire (in a task of the caller's), if any.
  std::function<void(const MediaStreamTrackEvent&)> add_by_peer(
      const std::shared_ptr<MediaStreamTrack>& track);
  std::function<void(const MediaStreamTrackEvent&)> remove_by_peer(
      const std::shared_ptr<MediaStreamTrack>& track);

  std::string id_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<MediaStreamTrack>> tracks_;
  std::function<void(const MediaStreamTrackEvent&)> on_add_track_;
  std::function<void(const MediaStreamTrackEvent&)> on_remove_track_;
};

// W3C webrtc-pc 7.3 RTCDTMFToneChangeEvent: the tone that started playing ("," for a pause),
// or "" once the tone buffer is empty.
struct RTCDTMFToneChangeEvent {
  std::string tone;
};

// W3C webrtc-pc 7.2 RTCDTMFSender: the tones of an audio sender, sent as RFC 4733 telephone
// events on its stream. Methods may be called from any thread; on_tone_change runs on the
// connection's loop thread.
class RTCDTMFSender {
 public:
  explicit RTCDTMFSender(std::shared_ptr<detail::TransceiverState> state);
  // Replaces the tone buffer with `tones` (0-9, A-D, a-d, #, *, and "," for a 2 s pause),
  // played `duration_ms` each (clamped to 40-6000) with `inter_tone_gap_ms` after each
  // (clamped to 30-6000); a tone already playing finishes first. InvalidStateError when
  // can_insert_dtmf() is false; InvalidCharacterError for any other character (nothing
  // changes). An empty string clears the buffer.
  Result<> insert_dtmf(std::string_view tones, std::int64_t duration_ms = 100,
                       std::int64_t inter_tone_gap_ms = 70);
  // The sender's negotiated direction sends audio and both sides listed a telephone-event
  // format at the audio codec's clock rate, over a connected transport.
  bool can_insert_dtmf() const;
  // The tones not yet played (upper case).
  std::string tone_buffer() const;
  void on_tone_change(std::function<void(const RTCDTMFToneChangeEvent&)> handler);

 private:
  std::shared_ptr<detail::TransceiverState> d_;
};

// rtcpp extension (browsers do not surface received DTMF): a telephone event (RFC 4733) the
// peer sent on a receiver's stream, reported when it starts and when it ends.
struct RTCDTMFToneReceivedEvent {
  std::string tone;        // "0"-"9", "*", "#", "A"-"D"; empty for a non-DTMF event (16-255)
  std::uint8_t event = 0;  // the RFC 4733 event code
  bool ended = false;
  // At the end: how long the tone lasted; at the start: as far as the first packet says.
  double duration_ms = 0;
  std::uint32_t rtp_timestamp = 0;  // the event's start on the audio clock
};

class RTCRtpSender {
 public:
  explicit RTCRtpSender(std::shared_ptr<detail::TransceiverState> state);
  // The track it sends, or null (W3C: after remove_track, or for add_transceiver(kind)).
  std::shared_ptr<MediaStreamTrack> track() const;
  // W3C 5.2 replaceTrack: sends `track` (or nothing, for null) from now on, without a
  // negotiation. TypeError for a track of another kind; InvalidStateError on a closed
  // connection or a stopping transceiver. Chained as the other operations are.
  std::future<Result<>> replace_track(std::shared_ptr<MediaStreamTrack> track);
  void replace_track(std::shared_ptr<MediaStreamTrack> track, std::function<void(Result<>)> done);
  // Sends one encoded frame. InvalidStateError unless the sender has a live track, the
  // negotiated direction sends and the transport is connected; TypeError for an empty frame, more
  // than 15 contributing sources, levels that are not one per source, or a level outside 0-1;
  // OperationError for a frame the codec cannot carry (a VP8 key frame without its start code,
  // say).
  Result<> send_encoded_frame(const RTCEncodedFrame& frame);
  // The peer asked for a key frame (RTCP PLI or FIR): the next frame sent should be one.
  void on_key_frame_request(std::function<void()> handler);
  // rtcpp extension: encodes a raw picture with the negotiated codec (VP8, VP9, H.264, AV1)
  // and sends it, on the calling thread. The encoder is made at the first picture's size
  // (a new size starts again with a key frame) and runs in real-time CBR at the encoding's
  // max_bitrate (1 Mbit/s without one) and max_framerate (30 without one); a key frame
  // follows each request from the peer. The RTP timestamp comes from frame.timestamp_us.
  // While the track is disabled (MediaStreamTrack::set_enabled(false)) black pictures of the
  // same size go out instead, and silence instead of audio (W3C mediacapture 4.3.1).
  // Errors as send_encoded_frame; InvalidStateError before a codec is negotiated;
  // NotSupportedError for a codec this build cannot encode.
  Result<> send_video_frame(const VideoFrame& frame);
  // rtcpp extension: encodes raw audio with the negotiated codec (Opus, PCMU, PCMA) and sends
  // it: any length and rate (resampled to the codec's; more than two channels mixed down,
  // and to one for G.711), cut into 20 ms frames; the rest waits for the next call. The first
  // call's timestamp_us sets the RTP timestamp, which then counts samples. Opus at the
  // encoding's max_bitrate, else 32 kbit/s, with in-band FEC. RangeError for a malformed frame;
  // otherwise errors as send_video_frame.
  Result<> send_audio_frame(const AudioFrame& frame);
  // W3C 5.2 getParameters: the encodings with a new transaction id, and what the last
  // negotiation agreed.
  RTCRtpSendParameters get_parameters() const;
  // W3C 5.2 setParameters: `parameters` must come from the last get_parameters() (its
  // transaction id; each result serves one set_parameters, there being no JavaScript task
  // to end its validity here) with only the encodings' active, max_bitrate, max_framerate
  // and scale_resolution_down_by changed: InvalidStateError without a get_parameters() since
  // the last set, or for a stopping transceiver or closed connection;
  // InvalidModificationError for another transaction id, another number of encodings, a
  // changed rid or a read-only member changed; RangeError for scale_resolution_down_by
  // below 1 or a negative max_framerate. Chained as the other operations are.
  std::future<Result<>> set_parameters(RTCRtpSendParameters parameters);
  void set_parameters(RTCRtpSendParameters parameters, std::function<void(Result<>)> done);
  // The negotiated codec's name ("VP8", "opus", ...), once the direction sends.
  std::optional<std::string> codec() const;
  // W3C 5.2 dtmf: the DTMF sender of an audio sender; null for video.
  std::shared_ptr<RTCDTMFSender> dtmf() const;
  // W3C 5.2 getStats: the sender's outbound-rtp and what it names (codec, transport,
  // media-source, remote-inbound-rtp, ...), by the stats selection algorithm (W3C 8.5);
  // empty before it sends. The future and callback forms as on RTCPeerConnection.
  std::future<RTCStatsReport> get_stats() const;
  void get_stats(std::function<void(RTCStatsReport)> done) const;
  // W3C 5.2 getCapabilities: nothing for a kind other than "audio" and "video".
  static std::optional<RTCRtpCapabilities> get_capabilities(std::string_view kind);

 private:
  std::shared_ptr<detail::TransceiverState> d_;
  std::shared_ptr<RTCDTMFSender> dtmf_;  // audio senders only
};

class RTCRtpReceiver {
 public:
  explicit RTCRtpReceiver(std::shared_ptr<detail::TransceiverState> state);
  std::shared_ptr<MediaStreamTrack> track() const;
  // Each whole frame received, in order. Frames that arrive before a handler is set are
  // dropped (as a browser drops media nobody attached).
  void on_encoded_frame(std::function<void(const RTCEncodedFrame&)> handler);
  // Asks the peer's sender for a key frame (RTCP PLI). InvalidStateError before anything
  // was received.
  Result<> request_key_frame();
  // rtcpp extension: each picture decoded from what arrives (VP8, VP9, H.264, AV1), on the
  // connection's loop thread, its timestamp_us from the RTP timestamp (90 kHz, unwrapped
  // from 0 at the first frame). The decoder starts at a key frame and asks the peer for one
  // (PLI) when a frame does not decode. Setting a handler starts decoding; null stops it.
  void on_video_frame(std::function<void(const VideoFrame&)> handler);
  // rtcpp extension: the audio decoded from what arrives (Opus at 48 kHz, G.711 at 8 kHz;
  // mono), one call per packet, on the loop thread; lost packets are concealed (Opus PLC).
  void on_audio_frame(std::function<void(const AudioFrame&)> handler);
  // rtcpp extension: each telephone event the peer sends on this receiver's stream (when
  // both sides listed telephone-event), at its start and at its end.
  void on_dtmf_tone(std::function<void(const RTCDTMFToneReceivedEvent&)> handler);
  // W3C 5.3 getStats: the receiver's inbound-rtp and what it names (codec, transport,
  // remote-outbound-rtp, ...); empty before anything arrived.
  std::future<RTCStatsReport> get_stats() const;
  void get_stats(std::function<void(RTCStatsReport)> done) const;
  // The codec of the frames arriving (their payload type's rtpmap name), else the first the
  // negotiation agreed on.
  std::optional<std::string> codec() const;
  // The sources heard from in the last 10 s, most recent first (W3C 5.4.4); empty on a
  // closed connection.
  std::vector<RTCRtpSynchronizationSource> get_synchronization_sources() const;
  std::vector<RTCRtpContributingSource> get_contributing_sources() const;
  // W3C 5.3 getParameters: what the last negotiation agreed for receiving.
  RTCRtpReceiveParameters get_parameters() const;
  // W3C 5.3 getCapabilities (the same codecs as the sender's: what is received is what can
  // be sent).
  static std::optional<RTCRtpCapabilities> get_capabilities(std::string_view kind);

 private:
  std::shared_ptr<detail::TransceiverState> d_;
};

class RTCRtpTransceiver {
 public:
  explicit RTCRtpTransceiver(std::shared_ptr<detail::TransceiverState> state);
  // Set once a description associates it with an m= section.
  std::optional<std::string> mid() const;
  RTCRtpTransceiverDirection direction() const;
  // W3C 5.4 direction setter: negotiationneeded fires when it changes what our description
  // says. TypeError for kStopped; InvalidStateError for a stopping or stopped transceiver
  // or a closed connection.
  Result<> set_direction(RTCRtpTransceiverDirection direction);
  // The direction the last completed negotiation gave it; nullopt before one.
  std::optional<RTCRtpTransceiverDirection> current_direction() const;
  // W3C 5.4 stop(): stops sending (an RTCP BYE) and receiving at once (the receiver's track
  // ends), direction() reads kStopped, and the next negotiation rejects its section
  // (negotiationneeded fires), after which current_direction() reads kStopped and the
  // transceiver leaves get_transceivers(). InvalidStateError on a closed connection; nothing
  // for a transceiver already stopping.
  Result<> stop();
  std::shared_ptr<RTCRtpSender> sender() const;
  std::shared_ptr<RTCRtpReceiver> receiver() const;
  // W3C 5.4 setCodecPreferences: the codecs the next offers and answers list for this
  // transceiver, in this order (an answer keeps those the offer has; a section left without
  // any is rejected). Empty: rtcpp's own order. InvalidModificationError for a codec not in
  // RTCRtpReceiver::get_capabilities(kind) (matched by MIME type, clock rate, channels and,
  // when given, the fmtp line: H.264 by profile and packetization mode), or for a list of
  // repair formats (rtx) only.
  Result<> set_codec_preferences(std::vector<RTCRtpCodec> codecs);

 private:
  std::shared_ptr<detail::TransceiverState> d_;
};

// The track event (W3C 5.7): a description made a receiver receive.
struct RTCTrackEvent {
  std::shared_ptr<RTCRtpReceiver> receiver;
  std::shared_ptr<MediaStreamTrack> track;
  std::vector<std::shared_ptr<MediaStream>> streams;  // the peer's a=msid streams
  std::vector<std::string> stream_ids;                // their ids
  std::shared_ptr<RTCRtpTransceiver> transceiver;
};

}  // namespace rtcpp
