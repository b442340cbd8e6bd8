#include "pc/media_session.hpp"

#include <algorithm>
#include <array>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "base/log.hpp"
#include "pc/media_session_stream.hpp"
#include "rtp/frame_assembler.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/payload_formats.hpp"
#include "rtp/rtcp_packet.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_statistics.hpp"

namespace rtcpp::pc {
namespace {

bool is_codec(const RtpCodec& codec, std::string_view name) {
  return std::equal(codec.name.begin(), codec.name.end(), name.begin(), name.end(),
                    [](char a, char b) { return (a | 0x20) == (b | 0x20); });
}

bool is_telephone_event(const RtpCodec& codec) {
  return is_codec(codec, "telephone-event");
}

// The codec both sides agreed on first: the peer's order where it lists ours (after JSEP
// both lists carry the offerer's payload types). Telephone events are not a codec to send
// media with.
std::optional<RtpCodec> agreed_codec(const MediaBinding& binding) {
  for (const auto& codec : binding.remote.codecs) {
    if (is_telephone_event(codec)) continue;
    if (binding.local.find_codec(codec.payload_type) != nullptr) return codec;
  }
  return std::nullopt;
}

// W3C webrtc-pc 7.2 (canInsertDTMF) and RFC 4733 2.1: the telephone-event format both sides
// listed with the audio codec's clock rate, since the events share the audio's RTP clock.
std::optional<RtpCodec> agreed_telephone_event(const MediaBinding& binding,
                                               const std::optional<RtpCodec>& audio) {
  if (binding.kind != MediaKind::kAudio || !audio) return std::nullopt;
  for (const auto& codec : binding.remote.codecs) {
    if (is_telephone_event(codec) && codec.clock_rate == audio->clock_rate &&
        binding.local.find_codec(codec.payload_type) != nullptr)
      return codec;
  }
  return std::nullopt;
}

bool has_feedback(const RtpCodec& codec, std::string_view feedback) {
  return std::find(codec.feedback.begin(), codec.feedback.end(), feedback) != codec.feedback.end();
}

bool has_nack(const RtpCodec& codec) {
  return has_feedback(codec, "nack");
}

// The draft's section 4 (and JSEP's rtcp-fb rules): feedback goes for a section where both
// sides listed transport-cc for one of its formats.
bool transport_feedback_negotiated(const MediaBinding& binding) {
  for (const auto& codec : binding.local.codecs) {
    const RtpCodec* theirs = binding.remote.find_codec(codec.payload_type);
    if (theirs != nullptr && has_feedback(codec, "transport-cc") &&
        has_feedback(*theirs, "transport-cc"))
      return true;
  }
  return false;
}

// RFC 4585 4.2: the receiver asks with NACKs for a format both sides listed "nack" for.
std::vector<std::uint8_t> nack_payload_types(const MediaBinding& binding) {
  std::vector<std::uint8_t> out;
  if (binding.kind != MediaKind::kVideo || !binding.receive) return out;
  for (const auto& codec : binding.local.codecs) {
    const RtpCodec* theirs = binding.remote.find_codec(codec.payload_type);
    if (theirs != nullptr && has_nack(codec) && has_nack(*theirs))
      out.push_back(codec.payload_type);
  }
  return out;
}

// The codec that an RFC 4588 payload type repairs, as our description pairs them (apt).
const RtpCodec* repaired_by(const RtpParameters& parameters, std::uint8_t payload_type) {
  for (const auto& codec : parameters.codecs) {
    if (codec.rtx_payload_type == payload_type) return &codec;
  }
  return nullptr;
}

}  // namespace

const Logger& media_session_log() {
  static const Logger logger("media");
  return logger;
}

MediaSession::MediaSession(Random& rng) : rng_(rng) {}
MediaSession::~MediaSession() = default;

void MediaSession::configure(std::vector<MediaBinding> bindings) {
  std::map<std::uint32_t, std::unique_ptr<Stream>> next;
  ssrc_routes_.clear();
  // RFC 8843 9.1: one id per extension across the bundle; the first section that negotiated
  // the transport-wide sequence number names it.
  transport_cc_id_.reset();
  bool transport_feedback = false;
  for (const auto& binding : bindings) {
    if (!binding.local.extension_id(rtp::kTransportWideCcUri)) continue;
    auto id = binding.remote.extension_id(rtp::kTransportWideCcUri);
    if (!id) continue;
    if (!transport_cc_id_) transport_cc_id_ = id;
    transport_feedback = transport_feedback || transport_feedback_negotiated(binding);
  }
  if (transport_cc_id_ && !transport_cc_sender_) transport_cc_sender_.emplace();
  if (!transport_cc_id_) transport_cc_sender_.reset();
  if (transport_cc_id_ && transport_feedback) {
    if (!transport_cc_receiver_) transport_cc_receiver_.emplace();
  } else {
    transport_cc_receiver_.reset();
  }
  for (auto& binding : bindings) {
    auto found = streams_.find(binding.transceiver);
    std::unique_ptr<Stream> stream;
    if (found != streams_.end()) {
      stream = std::move(found->second);
    } else {
      stream = std::make_unique<Stream>();
      stream->next_sequence = static_cast<std::uint16_t>(rng_.next_u32());
      stream->timestamp_offset = rng_.next_u32();
      stream->next_rtx_sequence = static_cast<std::uint16_t>(rng_.next_u32());
      stream->configured_at = now_;
    }
    stream->binding = std::move(binding);
    const MediaBinding& b = stream->binding;
    stream->codec = agreed_codec(b);
    stream->mid_id = b.remote.extension_id(kMidExtensionUri);
    if (!b.local.extension_id(kMidExtensionUri)) stream->mid_id.reset();
    // The ids the peer writes, where both sides listed the extension.
    auto negotiated = [&](std::string_view uri) -> std::optional<std::uint8_t> {
      if (!b.local.extension_id(uri)) return std::nullopt;
      return b.remote.extension_id(uri);
    };
    stream->audio_level_id = negotiated(rtp::kSsrcAudioLevelUri);
    stream->csrc_audio_level_id = negotiated(rtp::kCsrcAudioLevelUri);
    if (!b.local.ssrcs.empty()) stream->local_ssrc = b.local.ssrcs.front();
    stream->local_rtx_ssrc = b.local.ssrcs.size() > 1 ? b.local.ssrcs[1] : 0;
    const std::uint32_t dtmf_rate =
        stream->telephone_event ? stream->telephone_event->clock_rate : 0;
    stream->telephone_event = b.send ? agreed_telephone_event(b, stream->codec) : std::nullopt;
    if (!stream->telephone_event) {
      stream->dtmf.reset();  // W3C 7.2: a tone buffer with nothing to play it is gone
    } else if (!stream->dtmf || stream->telephone_event->clock_rate != dtmf_rate) {
      // New, or on another audio clock (the codec changed): the events follow that clock.
      stream->dtmf = std::make_unique<rtp::DtmfSender>(stream->telephone_event->clock_rate);
    }
    if (b.kind == MediaKind::kVideo && stream->codec &&
        (!stream->packetizer || !is_codec(*stream->codec, stream->packetizer_codec))) {
      rtp::PacketizerOptions options;
      options.max_payload_size = kMaxVideoPayloadSize;
      options.first_picture_id = static_cast<std::uint16_t>(rng_.next_u32());
      options.format_parameters = stream->codec->parameters;
      stream->packetizer = rtp::make_packetizer(stream->codec->name, options);
      stream->packetizer_codec = stream->codec->name;
    }
    stream->nack_payload_types = nack_payload_types(b);
    if (stream->nack_payload_types.empty()) {
      stream->nack.reset();
    } else if (!stream->nack) {
      stream->nack.emplace();
    }
    // RFC 8843 9.2: the peer's a=ssrc lines route its packets before any MID is seen.
    if (b.receive) {
      for (const auto ssrc : b.remote.ssrcs) ssrc_routes_[ssrc] = b.transceiver;
    }
    next[b.transceiver] = std::move(stream);
  }
  // RFC 3550 6.6: a stream that ends (its transceiver stopped, its section rejected) says BYE.
  for (auto& [handle, gone] : streams_) {
    if (gone && !closed_) send_report(*gone, now_, /*goodbye=*/true);
  }
  streams_ = std::move(next);
}

MediaSession::Stream* MediaSession::find(std::uint32_t transceiver) {
  auto it = streams_.find(transceiver);
  return it == streams_.end() ? nullptr : it->second.get();
}

const MediaSession::Stream* MediaSession::find(std::uint32_t transceiver) const {
  return const_cast<MediaSession*>(this)->find(transceiver);
}

MediaSession::Stream* MediaSession::route(const rtp::RtpPacketView& packet) {
  // RFC 8843 9.2: a MID in the packet names the section, and teaches its SSRC.
  for (auto& [handle, stream] : streams_) {
    if (!stream->mid_id) continue;
    auto mid = packet.extension(*stream->mid_id);
    if (!mid) continue;
    const std::string_view text(reinterpret_cast<const char*>(mid->data()), mid->size());
    for (auto& [other, candidate] : streams_) {
      if (candidate->binding.mid == text) {
        ssrc_routes_[packet.ssrc] = other;
        return candidate.get();
      }
    }
    return nullptr;  // a MID we do not know: RFC 8843 9.2 says drop it
  }
  if (auto it = ssrc_routes_.find(packet.ssrc); it != ssrc_routes_.end()) return find(it->second);
  // Last, a payload type that exactly one receiving section uses.
  Stream* only = nullptr;
  for (auto& [handle, stream] : streams_) {
    if (!stream->binding.receive) continue;
    if (stream->binding.local.find_codec(packet.payload_type) == nullptr) continue;
    if (only != nullptr) return nullptr;
    only = stream.get();
  }
  if (only != nullptr) ssrc_routes_[packet.ssrc] = only->binding.transceiver;
  return only;
}

void MediaSession::handle_rtp(BytesView bytes, Timestamp now, std::optional<Timestamp> arrival) {
  now_ = now;
  auto packet = rtp::parse_rtp_packet(bytes);
  if (!packet) {
    media_session_log().debug("RTP packet dropped: ", rtp::to_string(packet.error()));
    ++packets_unrouted_;
    return;
  }
  // Every packet of the transport counts for its feedback, whichever section takes it.
  if (transport_cc_receiver_) {
    if (auto value = packet->extension(*transport_cc_id_)) {
      if (auto sequence = rtp::parse_transport_sequence_number(*value))
        transport_cc_receiver_->on_packet(*sequence, arrival.value_or(now), packet->ssrc);
    }
  }
  Stream* stream = route(*packet);
  if (stream == nullptr || !stream->binding.receive) {
    ++packets_unrouted_;
    return;
  }
  receive(*stream, *packet, now);
}

void MediaSession::receive(Stream& stream, const rtp::RtpPacketView& packet, Timestamp now) {
  const RtpCodec* codec = stream.binding.local.find_codec(packet.payload_type);
  if (codec == nullptr) {
    if (const RtpCodec* repaired = repaired_by(stream.binding.local, packet.payload_type)) {
      receive_repair(stream, *repaired, packet, now);
      return;
    }
    ++packets_unrouted_;  // a format we did not agree on: not ours to decode
    return;
  }
  auto& stats = stream.stats;
  const bool telephone_event = is_telephone_event(*codec);
  if (!telephone_event) {
    if (stream.received_codec != codec->name) stream.received_codec = codec->name;
    stream.received_payload_type = packet.payload_type;
  }
  if (!stream.received || stream.received->ssrc() != packet.ssrc) {
    stream.received.emplace(packet.ssrc, codec->clock_rate);
    if (stream.nack) stream.nack->reset();
  }
  if (stream.nack && !telephone_event &&
      std::find(stream.nack_payload_types.begin(), stream.nack_payload_types.end(),
                packet.payload_type) != stream.nack_payload_types.end()) {
    stream.nack->on_packet(packet.sequence_number, now);
    send_nacks(stream, now);
  }
  stream.received->on_packet(packet.sequence_number, packet.timestamp, now, packet.payload.size());
  stats.packets_lost = stream.received->cumulative_lost();
  stats.jitter_seconds = stream.received->jitter_seconds();
  ++stats.packets_received;
  stats.bytes_received += packet.payload.size();
  stats.header_bytes_received += packet.packet.size() - packet.payload.size();
  stats.last_packet_received = now;
  stats.remote_ssrc = packet.ssrc;
  note_sources(stream, packet, now);
  if (telephone_event) {
    // RFC 4733 2.1: events share the audio's SSRC and sequence numbers (counted above).
    receive_telephone_event(stream, *codec, packet);
    return;
  }
  if (stream.binding.kind == MediaKind::kVideo) {
    receive_video(stream, *codec, packet, now);
    return;
  }
  // Audio (Opus, G.711): every packet is one frame; a padding-only packet is none.
  if (packet.payload.empty()) return;
  ++stats.frames_received;
  ++stats.key_frames_received;
  EncodedFrame frame{packet.timestamp, true, Buffer(packet.payload)};
  if (stream.audio_level_id) {
    if (auto data = packet.extension(*stream.audio_level_id)) {
      if (auto parsed = rtp::parse_ssrc_audio_level(*data)) frame.audio_level = parsed->level;
    }
  }
  if (packet.csrc_count > 0) {
    frame.contributing_sources.assign(packet.csrcs.begin(),
                                      packet.csrcs.begin() + packet.csrc_count);
    if (stream.csrc_audio_level_id) {
      if (auto data = packet.extension(*stream.csrc_audio_level_id)) {
        if (auto parsed = rtp::parse_csrc_audio_levels(*data, packet.csrc_count);
            parsed && parsed->size() == packet.csrc_count)
          frame.contributing_levels = std::move(*parsed);
      }
    }
  }
  events_.push_back(MediaFrameReceived{stream.binding.transceiver, std::move(frame)});
}

namespace {

// Records a packet from `source` in a short list, most recent first, forgetting sources
// silent for longer than kSourceLifetime.
void remember_source(std::vector<MediaSource>& sources, std::uint32_t source,
                     std::uint32_t rtp_timestamp, std::optional<std::uint8_t> level,
                     Timestamp now) {
  // A mixer may list up to 15 CSRCs (RFC 3550 5.1); a few more are kept while old ones age.
  constexpr std::size_t kMaxSources = 32;
  std::erase_if(sources, [&](const MediaSource& s) {
    return s.source == source || now - s.last_received > MediaSession::kSourceLifetime;
  });
  if (sources.size() >= kMaxSources) sources.pop_back();
  sources.insert(sources.begin(), MediaSource{source, now, rtp_timestamp, level});
}

}  // namespace

void MediaSession::note_sources(Stream& stream, const rtp::RtpPacketView& packet, Timestamp now) {
  std::optional<std::uint8_t> level;
  if (stream.audio_level_id) {
    if (auto data = packet.extension(*stream.audio_level_id)) {
      if (auto parsed = rtp::parse_ssrc_audio_level(*data)) level = parsed->level;
    }
  }
  remember_source(stream.synchronization_sources, packet.ssrc, packet.timestamp, level, now);
  if (packet.csrc_count == 0) return;
  std::vector<std::uint8_t> csrc_levels;
  if (stream.csrc_audio_level_id) {
    if (auto data = packet.extension(*stream.csrc_audio_level_id)) {
      if (auto parsed = rtp::parse_csrc_audio_levels(*data, packet.csrc_count))
        csrc_levels = std::move(*parsed);
    }
  }
  for (std::size_t i = 0; i < packet.csrc_count; ++i) {
    std::optional<std::uint8_t> csrc_level;
    if (i < csrc_levels.size()) csrc_level = csrc_levels[i];
    remember_source(stream.contributing_sources, packet.csrcs[i], packet.timestamp, csrc_level,
                    now);
  }
}

std::vector<MediaSource> MediaSession::synchronization_sources(std::uint32_t transceiver,
                                                               Timestamp now) const {
  std::vector<MediaSource> out;
  if (const Stream* s = find(transceiver)) {
    for (const auto& source : s->synchronization_sources)
      if (now - source.last_received <= kSourceLifetime) out.push_back(source);
  }
  return out;
}

std::vector<MediaSource> MediaSession::contributing_sources(std::uint32_t transceiver,
                                                            Timestamp now) const {
  std::vector<MediaSource> out;
  if (const Stream* s = find(transceiver)) {
    for (const auto& source : s->contributing_sources)
      if (now - source.last_received <= kSourceLifetime) out.push_back(source);
  }
  return out;
}

void MediaSession::receive_video(Stream& stream, const RtpCodec& codec,
                                 const rtp::RtpPacketView& packet, Timestamp now) {
  auto& stats = stream.stats;
  if (!stream.assembler || !is_codec(codec, stream.assembler_codec)) {
    auto format = rtp::make_payload_format(codec.name);
    if (!format) {
      media_session_log().debug("video payload dropped: no payload format for ", codec.name);
      return;
    }
    // Where missing packets are asked for, frames complete behind a gap wait for the
    // retransmission (about a round trip) rather than only for reordering.
    rtp::FrameAssemblerConfig config;
    if (stream.nack) config.max_frames_behind_gap = kMaxFramesBehindGapWithNack;
    stream.assembler = std::make_unique<rtp::FrameAssembler>(std::move(format), config);
    stream.assembler_codec = codec.name;
    stream.assembler_drops_seen = 0;
  }
  auto& assembler = *stream.assembler;
  if (stream.nack) {
    const auto rtt = round_trip_time(stream);
    const Duration wait = std::clamp(rtt ? *rtt * 2 + Duration::millis(130) : kGapWaitWithoutRtt,
                                     kMinGapWait, kMaxGapWait);
    assembler.set_max_wait_behind_gap(
        static_cast<std::uint32_t>(wait.us() * codec.clock_rate / 1'000'000));
  }
  if (auto inserted = assembler.insert(packet); !inserted)
    media_session_log().debug(codec.name, " payload dropped: ", rtp::to_string(inserted.error()));
  while (auto frame = assembler.poll_frame()) {
    ++stats.frames_received;
    if (frame->key_frame) ++stats.key_frames_received;
    events_.push_back(MediaFrameReceived{
        stream.binding.transceiver,
        EncodedFrame{frame->rtp_timestamp, frame->key_frame, std::move(frame->data)}});
  }
  // RFC 4585 6.3.1: ask for a key frame when a frame was lost (what follows cannot be
  // decoded), or when none has come a while after the stream started; not while the first
  // key frame is simply still arriving.
  const std::uint64_t drops = assembler.stats().frames_dropped;
  const bool lost = drops > stream.assembler_drops_seen;
  stats.frames_dropped += drops - stream.assembler_drops_seen;
  stream.assembler_drops_seen = drops;
  if (!stream.first_packet_at) stream.first_packet_at = now;
  const bool overdue = now - *stream.first_packet_at >= kPliInterval;
  if (assembler.waiting_for_key_frame() && (lost || overdue) &&
      (!stream.last_pli || now - *stream.last_pli >= kPliInterval))
    send_pli(stream, now);
}

// RFC 4588 4: a repair carries the original sequence number (OSN) and then the original
// payload, on a stream of its own (SSRC and sequence numbers); the rest of the original header
// (timestamp, marker, extensions) is repeated. Taken as the packet it repairs; it counts as a
// retransmission, not in the media stream's reception statistics.
void MediaSession::receive_repair(Stream& stream, const RtpCodec& repaired,
                                  const rtp::RtpPacketView& packet, Timestamp now) {
  // Padding alone (a sender probing bandwidth) repairs nothing, and a repair before the media
  // stream is known has nothing to join.
  if (stream.binding.kind != MediaKind::kVideo || packet.payload.size() < 2 || !stream.received)
    return;
  rtp::RtpPacketView original = packet;
  original.payload_type = repaired.payload_type;
  original.sequence_number = load_be16(packet.payload.data());
  original.ssrc = stream.received->ssrc();
  original.payload = packet.payload.subspan(2);
  ++stream.stats.retransmitted_packets_received;
  stream.stats.retransmitted_bytes_received += original.payload.size();
  if (stream.nack) stream.nack->on_packet(original.sequence_number, now);
  receive_video(stream, repaired, original, now);
}

Buffer MediaSession::take_buffer() {
  if (spare_.empty()) return {};
  Buffer buffer = std::move(spare_.back());
  spare_.pop_back();
  buffer.clear();
  return buffer;
}

bool MediaSession::poll_transmit(MediaPacket& out) {
  return take_next(out);
}

std::optional<MediaPacket> MediaSession::poll_transmit() {
  MediaPacket p;
  if (!take_next(p)) return std::nullopt;
  return p;
}

std::optional<MediaEvent> MediaSession::poll_event() {
  std::optional<MediaEvent> e;
  if (events_.empty()) return e;
  e.emplace(std::move(events_.front()));
  events_.pop_front();
  return e;
}

std::optional<std::string> MediaSession::send_codec(std::uint32_t transceiver) const {
  const Stream* s = find(transceiver);
  if (s == nullptr || !s->binding.send || !s->codec) return std::nullopt;
  return s->codec->name;
}

std::optional<std::string> MediaSession::receive_codec(std::uint32_t transceiver) const {
  const Stream* s = find(transceiver);
  if (s == nullptr || !s->binding.receive) return std::nullopt;
  // What arrives: a peer may send any codec of the answer, or (libwebrtc as the answerer)
  // the first of the offer's that it has.
  if (!s->received_codec.empty()) return s->received_codec;
  if (!s->codec) return std::nullopt;
  return s->codec->name;
}

const RtpCodec* MediaSession::send_codec_description(std::uint32_t transceiver) const {
  const Stream* s = find(transceiver);
  if (s == nullptr || !s->binding.send || !s->codec) return nullptr;
  return s->binding.local.find_codec(s->codec->payload_type);
}

const RtpCodec* MediaSession::receive_codec_description(std::uint32_t transceiver) const {
  const Stream* s = find(transceiver);
  if (s == nullptr || !s->binding.receive) return nullptr;
  if (s->received_payload_type) return s->binding.local.find_codec(*s->received_payload_type);
  return s->codec ? s->binding.local.find_codec(s->codec->payload_type) : nullptr;
}

TransportFeedbackStats MediaSession::transport_feedback_stats() const {
  TransportFeedbackStats out;
  out.feedback_sent = transport_feedback_sent_;
  if (transport_cc_receiver_) out.packets_reported = transport_cc_receiver_->packets_recorded();
  if (transport_cc_sender_) {
    out.feedback_received = transport_cc_sender_->feedback_received();
    out.packets_reported_received = transport_cc_sender_->packets_reported_received();
    out.packets_reported_lost = transport_cc_sender_->packets_reported_lost();
  }
  return out;
}

std::vector<rtp::TransportPacketResult> MediaSession::take_transport_results() {
  std::vector<rtp::TransportPacketResult> out;
  out.swap(transport_results_);
  return out;
}

std::optional<std::uint32_t> MediaSession::available_outgoing_bitrate() const {
  if (!bandwidth_.has_delay_based()) return std::nullopt;
  return bandwidth_.target_bps();
}

const MediaStreamStats* MediaSession::stats(std::uint32_t transceiver) const {
  const Stream* s = find(transceiver);
  return s == nullptr ? nullptr : &s->stats;
}

}  // namespace rtcpp::pc
