#include "pc/media_session.hpp"

#include <algorithm>
#include <array>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "base/log.hpp"
#include "rtp/frame_assembler.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/payload_formats.hpp"
#include "rtp/rtcp_packet.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_statistics.hpp"

namespace rtcpp::pc {
namespace {

const Logger& log() {
  static const Logger logger("media");
  return logger;
}

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

bool has_nack(const RtpCodec& codec) {
  return std::find(codec.feedback.begin(), codec.feedback.end(), "nack") != codec.feedback.end();
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

struct MediaSession::Stream {
  MediaBinding binding;
  std::optional<RtpCodec> codec;                    // what both sides agreed on, first choice
  std::optional<std::uint8_t> mid_id;               // the MID extension's id, when negotiated
  std::optional<std::uint8_t> audio_level_id;       // RFC 6464, when negotiated
  std::optional<std::uint8_t> csrc_audio_level_id;  // RFC 6465
  std::uint32_t local_ssrc = 0;                     // our media SSRC (also the RTCP sender's)
  std::uint32_t local_rtx_ssrc = 0;                 // our RFC 4588 repair stream's, if any
  std::uint16_t next_rtx_sequence = 0;
  // Sending.
  std::uint16_t next_sequence = 0;
  std::uint32_t timestamp_offset = 0;  // RFC 3550 5.1: a random start for the timestamps
  // Video: cuts frames of the sending codec (named by packetizer_codec) into payloads.
  std::unique_ptr<rtp::Packetizer> packetizer;
  std::string packetizer_codec;
  Buffer payload;  // the payload being written, reused
  // The last packets sent, by sequence number modulo the history's size (each slot keeps its
  // capacity, so steady sending allocates nothing for it).
  std::vector<Buffer> history;
  std::vector<std::optional<std::uint16_t>> history_sequence;
  // Audio: the last frame's RTP timestamp and when it went, for the events' timestamps.
  std::optional<std::pair<std::uint32_t, Timestamp>> last_audio;
  Timestamp configured_at;
  // DTMF: the telephone-event format to send with, and the playout of the tones inserted.
  std::optional<RtpCodec> telephone_event;
  std::unique_ptr<rtp::DtmfSender> dtmf;
  // Receiving.
  // Video: puts frames of the codec received last back together.
  std::unique_ptr<rtp::FrameAssembler> assembler;
  std::string assembler_codec;
  std::uint64_t assembler_drops_seen = 0;
  std::optional<Timestamp> first_packet_at;
  std::string received_codec;  // of the last packet received
  std::optional<std::uint8_t> received_payload_type;
  // The sources of the packets received (a handful: an SSRC, and the CSRCs of a mixer).
  std::vector<MediaSource> synchronization_sources;
  std::vector<MediaSource> contributing_sources;
  std::optional<Timestamp> last_pli;
  // Video with NACK negotiated for some of its formats: the packets missing, to ask for.
  std::vector<std::uint8_t> nack_payload_types;
  std::optional<rtp::NackTracker> nack;
  // The peer's telephone events, by the clock rate of their format.
  rtp::TelephoneEventReceiver tone_receiver;
  // RFC 3550 statistics: of what we send, and of the peer's stream we receive.
  std::optional<rtp::SendStatistics> sent;
  std::optional<rtp::ReceiveStatistics> received;
  MediaStreamStats stats;
};

MediaSession::MediaSession(Random& rng) : rng_(rng) {}
MediaSession::~MediaSession() = default;

void MediaSession::configure(std::vector<MediaBinding> bindings) {
  std::map<std::uint32_t, std::unique_ptr<Stream>> next;
  ssrc_routes_.clear();
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

void MediaSession::handle_rtp(BytesView bytes, Timestamp now) {
  now_ = now;
  auto packet = rtp::parse_rtp_packet(bytes);
  if (!packet) {
    log().debug("RTP packet dropped: ", rtp::to_string(packet.error()));
    ++packets_unrouted_;
    return;
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
      log().debug("video payload dropped: no payload format for ", codec.name);
      return;
    }
    // Where missing packets are asked for, frames complete behind a gap wait for the
    // retransmission (about a round trip) rather than only for reordering.
    rtp::FrameAssemblerConfig config;
    if (stream.nack) config.max_frames_behind_gap = kFramesBehindGapWithNack;
    stream.assembler = std::make_unique<rtp::FrameAssembler>(std::move(format), config);
    stream.assembler_codec = codec.name;
    stream.assembler_drops_seen = 0;
  }
  auto& assembler = *stream.assembler;
  if (auto inserted = assembler.insert(packet); !inserted)
    log().debug(codec.name, " payload dropped: ", rtp::to_string(inserted.error()));
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

std::optional<Duration> MediaSession::round_trip_time(const Stream& stream) {
  return stream.stats.round_trip_time;
}

// RFC 4585 6.2.1: the missing packets due for a request, in one generic NACK (as many items
// as their spacing needs) after the receiver report a compound starts with.
void MediaSession::send_nacks(Stream& stream, Timestamp now) {
  if (!stream.nack || !stream.received || closed_) return;
  const auto due = stream.nack->take_due(now, round_trip_time(stream));
  if (due.empty()) return;
  ++stream.stats.nack_sent;
  Buffer compound = take_buffer();
  ByteWriter writer(compound);
  rtp::write_rtcp(rtp::ReceiverReport{stream.local_ssrc, {}}, writer);
  rtp::write_rtcp(
      rtp::GenericNack::from_lost_packets(stream.local_ssrc, stream.received->ssrc(), due), writer);
  outgoing_.push_back(MediaPacket{std::move(compound), true});
}

void MediaSession::send_pli(Stream& stream, Timestamp now) {
  if (!stream.stats.remote_ssrc) return;
  stream.last_pli = now;
  ++stream.stats.pli_sent;
  // RFC 4585 3.1 / RFC 3550 6.1: a compound packet starts with a report; ours has no blocks
  // yet (reception statistics come with the full RTCP of this milestone).
  Buffer compound = take_buffer();
  ByteWriter writer(compound);
  rtp::write_rtcp(rtp::ReceiverReport{stream.local_ssrc, {}}, writer);
  rtp::write_rtcp(rtp::PictureLossIndication{stream.local_ssrc, *stream.stats.remote_ssrc}, writer);
  outgoing_.push_back(MediaPacket{std::move(compound), true});
}

Result<> MediaSession::request_key_frame(std::uint32_t transceiver, Timestamp now) {
  Stream* stream = find(transceiver);
  if (stream == nullptr || !stream->binding.receive)
    return invalid_state_error("the transceiver is not receiving");
  if (!stream->stats.remote_ssrc) return invalid_state_error("nothing received yet");
  send_pli(*stream, now);
  return {};
}

void MediaSession::handle_rtcp(BytesView bytes, Timestamp now) {
  now_ = now;
  auto compound = rtp::parse_rtcp_compound(bytes);
  if (!compound) {
    log().debug("RTCP compound dropped: ", rtp::to_string(compound.error()));
    return;
  }
  auto sender_of = [&](std::uint32_t ssrc) -> Stream* {
    for (auto& [handle, stream] : streams_) {
      if (stream->binding.send && stream->local_ssrc == ssrc) return stream.get();
    }
    return nullptr;
  };
  for (const auto& message : compound->messages) {
    if (const auto* sr = std::get_if<rtp::SenderReport>(&message)) {
      for (auto& [handle, stream] : streams_) {
        if (stream->received && stream->received->ssrc() == sr->sender_ssrc) {
          stream->received->on_sender_report(sr->ntp_timestamp, now);
          auto& stats = stream->stats;
          ++stats.reports_received;
          ++stats.remote_sender_reports;
          stats.remote_packets_sent = sr->packet_count;
          stats.remote_bytes_sent = sr->octet_count;
          stats.remote_report_ntp = sr->ntp_timestamp;
        }
      }
      on_report_blocks(sr->report_blocks, now);
    } else if (const auto* bye = std::get_if<rtp::Goodbye>(&message)) {
      // RFC 3550 6.6: the source leaves. Its track lives on (W3C ends tracks by negotiation
      // only); a new SSRC may follow.
      for (auto& [handle, stream] : streams_) {
        if (!stream->received) continue;
        for (const auto ssrc : bye->ssrcs) {
          if (ssrc == stream->received->ssrc()) ++stream->stats.goodbyes_received;
        }
      }
    } else if (const auto* rr = std::get_if<rtp::ReceiverReport>(&message)) {
      on_report_blocks(rr->report_blocks, now);
    } else if (const auto* pli = std::get_if<rtp::PictureLossIndication>(&message)) {
      if (Stream* s = sender_of(pli->media_ssrc)) {
        ++s->stats.pli_received;
        events_.push_back(KeyFrameRequested{s->binding.transceiver});
      }
    } else if (const auto* nack = std::get_if<rtp::GenericNack>(&message)) {
      if (Stream* s = sender_of(nack->media_ssrc)) {
        ++s->stats.nack_received;
        for (const auto sequence : nack->lost_packets()) retransmit(*s, sequence);
      }
    } else if (const auto* fir = std::get_if<rtp::FullIntraRequest>(&message)) {
      for (const auto& entry : fir->entries) {
        if (Stream* s = sender_of(entry.ssrc)) {
          ++s->stats.fir_received;
          events_.push_back(KeyFrameRequested{s->binding.transceiver});
        }
      }
    }
  }
}

Result<> MediaSession::send_frame(std::uint32_t transceiver, const EncodedFrame& frame,
                                  Timestamp now) {
  now_ = now;
  Stream* stream = find(transceiver);
  if (stream == nullptr || !stream->binding.send)
    return invalid_state_error("the transceiver has no negotiated sending direction");
  if (!stream->codec) return invalid_state_error("no codec was negotiated");
  if (frame.data.empty()) return type_error("an empty frame");
  // RFC 3550 5.1: the CC field counts up to 15 CSRCs; RFC 6465 3 gives each one a level.
  if (frame.contributing_sources.size() > rtp::kMaxCsrcs)
    return type_error("more than 15 contributing sources");
  if (!frame.contributing_levels.empty() &&
      frame.contributing_levels.size() != frame.contributing_sources.size())
    return type_error("contributing source levels must be none or one per source");
  const bool has_sources = !frame.contributing_sources.empty() || frame.audio_level;
  const RtpCodec& codec = *stream->codec;
  const std::uint32_t timestamp = frame.rtp_timestamp + stream->timestamp_offset;
  if (stream->binding.kind == MediaKind::kVideo) {
    if (!stream->packetizer) return operation_error("no payload format for " + codec.name);
    auto& packetizer = *stream->packetizer;
    if (auto started = packetizer.start_frame(frame.data, frame.key_frame); !started)
      return operation_error(std::string(rtp::to_string(started.error())));
    while (packetizer.has_next()) {
      auto last = packetizer.next_payload(stream->payload);
      if (!last) return operation_error(std::string(rtp::to_string(last.error())));
      queue_rtp(*stream, codec, timestamp, *last, stream->payload, std::nullopt,
                has_sources ? &frame : nullptr);
    }
  } else {
    if (frame.data.size() > kMaxPayloadSize)
      return type_error("an audio frame larger than one packet");
    queue_rtp(*stream, codec, timestamp, false, frame.data, std::nullopt,
              has_sources ? &frame : nullptr);
    stream->last_audio = {timestamp, now_};
  }
  ++stream->stats.frames_sent;
  if (frame.key_frame) ++stream->stats.key_frames_sent;
  return {};
}

void MediaSession::queue_rtp(Stream& stream, const RtpCodec& codec, std::uint32_t timestamp,
                             bool marker, BytesView payload, std::optional<std::uint32_t> clock_now,
                             const EncodedFrame* sources) {
  rtp::RtpPacketBuilder builder;
  builder.set_payload_type(codec.payload_type)
      .set_sequence_number(stream.next_sequence++)
      .set_timestamp(timestamp)
      .set_ssrc(stream.local_ssrc)
      .set_marker(marker)
      .set_payload(payload);
  if (stream.mid_id) builder.add_extension(*stream.mid_id, as_bytes(stream.binding.mid));
  std::array<std::uint8_t, 1> level{};
  std::array<std::uint8_t, rtp::kMaxCsrcs> csrc_levels{};
  if (sources != nullptr) {
    for (const auto csrc : sources->contributing_sources) builder.add_csrc(csrc);
    if (stream.audio_level_id && sources->audio_level) {
      level =
          rtp::write_ssrc_audio_level({std::min<std::uint8_t>(*sources->audio_level, 127), false});
      builder.add_extension(*stream.audio_level_id, BytesView(level.data(), level.size()));
    }
    const auto& levels = sources->contributing_levels;
    if (stream.csrc_audio_level_id && !levels.empty()) {
      for (std::size_t i = 0; i < levels.size(); ++i)
        csrc_levels[i] = std::min<std::uint8_t>(levels[i], 127);
      builder.add_extension(*stream.csrc_audio_level_id,
                            BytesView(csrc_levels.data(), levels.size()));
    }
  }
  Buffer packet = take_buffer();
  if (auto written = builder.write(packet); !written) {
    log().warning("RTP packet not written: ", rtp::to_string(written.error()));
    return;
  }
  ++stream.stats.packets_sent;
  stream.stats.bytes_sent += payload.size();
  stream.stats.header_bytes_sent += packet.size() - payload.size();
  if (!stream.sent) stream.sent.emplace(codec.clock_rate);
  stream.sent->on_packet(clock_now.value_or(timestamp), now_, payload.size());
  // Kept as sent (before SRTP: the transport protects a copy each time it goes out).
  if (stream.history.empty()) {
    stream.history.resize(kSendHistoryPackets);
    stream.history_sequence.resize(kSendHistoryPackets);
  }
  const auto sequence = static_cast<std::uint16_t>(stream.next_sequence - 1);
  const std::size_t slot = sequence % kSendHistoryPackets;
  stream.history[slot].assign(packet.view());
  stream.history_sequence[slot] = sequence;
  outgoing_.push_back(MediaPacket{std::move(packet), false});
}

void MediaSession::retransmit(Stream& stream, std::uint16_t sequence_number) {
  const std::size_t slot = sequence_number % kSendHistoryPackets;
  if (stream.history.empty() || stream.history_sequence[slot] != sequence_number) {
    ++stream.stats.retransmissions_missed;
    return;
  }
  ++stream.stats.packets_retransmitted;
  Buffer packet = take_buffer();
  if (!write_repair(stream, stream.history[slot].view(), packet)) {
    // Without RFC 4588 negotiated for the format, the packet goes again as it was, on its own
    // SSRC and sequence number, which a receiver takes as a late arrival.
    packet.assign(stream.history[slot].view());
  }
  outgoing_.push_back(MediaPacket{std::move(packet), false});
}

// RFC 4588 4: the repair of a packet whose format both sides paired with an rtx format: the
// original header (extensions and CSRCs included, padding dropped) on the repair stream's
// SSRC, its own sequence number and the rtx payload type, then the original sequence number
// (OSN) and payload.
bool MediaSession::write_repair(Stream& stream, BytesView original, Buffer& out) {
  if (stream.local_rtx_ssrc == 0) return false;
  auto parsed = rtp::parse_rtp_packet(original);
  if (!parsed) return false;
  const RtpCodec* ours = stream.binding.local.find_codec(parsed->payload_type);
  const RtpCodec* theirs = stream.binding.remote.find_codec(parsed->payload_type);
  if (ours == nullptr || theirs == nullptr || !ours->rtx_payload_type ||
      ours->rtx_payload_type != theirs->rtx_payload_type)
    return false;
  out.assign(original.subspan(0, parsed->header_size));
  out[0] &= 0xdf;  // P: no padding
  out[1] = static_cast<std::uint8_t>((out[1] & 0x80) | *ours->rtx_payload_type);
  store_be16(out.data() + 2, stream.next_rtx_sequence++);
  store_be32(out.data() + 8, stream.local_rtx_ssrc);
  const std::uint8_t osn[2] = {static_cast<std::uint8_t>(parsed->sequence_number >> 8),
                               static_cast<std::uint8_t>(parsed->sequence_number)};
  out.append(BytesView(osn, 2));
  out.append(parsed->payload);
  return true;
}

void MediaSession::set_report_identity(std::string cname, Duration ntp_offset) {
  cname_ = std::move(cname);
  ntp_offset_ = ntp_offset;
}

void MediaSession::on_report_blocks(const std::vector<rtp::ReportBlock>& blocks, Timestamp now) {
  for (const auto& block : blocks) {
    for (auto& [handle, stream] : streams_) {
      if (!stream->sent || stream->local_ssrc != block.ssrc) continue;
      stream->sent->on_report_block(block, now, ntp_offset_);
      auto& stats = stream->stats;
      ++stats.reports_received;
      stats.remote_packets_lost = block.cumulative_lost;
      stats.remote_fraction_lost = block.fraction_lost / 256.0;
      const std::uint32_t rate = stream->codec ? stream->codec->clock_rate : 0;
      if (rate != 0) stats.remote_jitter_seconds = static_cast<double>(block.jitter) / rate;
      if (auto rtt = stream->sent->round_trip_time()) stats.round_trip_time = rtt;
    }
  }
}

void MediaSession::send_report(Stream& stream, Timestamp now, bool goodbye) {
  const bool sending = stream.sent && stream.sent->sent_anything();
  const bool receiving = stream.received && stream.received->started();
  if (!sending && !receiving) return;
  Buffer compound = take_buffer();
  ByteWriter writer(compound);
  std::vector<rtp::ReportBlock> blocks;
  if (receiving) blocks.push_back(stream.received->report_block(now));
  // RFC 3550 6.1: a compound starts with an SR or RR, and carries an SDES CNAME.
  if (sending) {
    auto sr = stream.sent->sender_report(stream.local_ssrc, now, ntp_offset_);
    sr.report_blocks = std::move(blocks);
    rtp::write_rtcp(sr, writer);
    ++stream.stats.sender_reports_sent;
  } else {
    rtp::write_rtcp(rtp::ReceiverReport{stream.local_ssrc, std::move(blocks)}, writer);
    ++stream.stats.receiver_reports_sent;
  }
  if (!cname_.empty()) {
    rtp::SourceDescription sdes;
    sdes.chunks.push_back({stream.local_ssrc, {{rtp::sdes_item::kCname, cname_}}});
    rtp::write_rtcp(sdes, writer);
  }
  if (goodbye) {
    // RFC 3550 6.6: BYE ends a compound packet that starts with the usual report.
    rtp::write_rtcp(rtp::Goodbye{{stream.local_ssrc}, {}}, writer);
    ++stream.stats.goodbyes_sent;
  }
  outgoing_.push_back(MediaPacket{std::move(compound), true});
}

void MediaSession::close(Timestamp now) {
  if (closed_) return;
  now_ = now;
  for (auto& [handle, stream] : streams_) send_report(*stream, now, true);
  closed_ = true;
}

void MediaSession::handle_timeout(Timestamp now) {
  now_ = now;
  if (closed_) return;
  for (auto& [handle, stream] : streams_) {
    if (stream->dtmf) run_dtmf(*stream, now);
    send_nacks(*stream, now);
  }
  if (!next_report_) {
    next_report_ = now + kReportInterval / 2;
    return;
  }
  if (now < *next_report_) return;
  for (auto& [handle, stream] : streams_) send_report(*stream, now);
  // RFC 3550 6.3.5: the interval is randomized, 0.5 to 1.5 times the nominal one.
  next_report_ = now + Duration::micros(rng_.uniform_range(kReportInterval.us() / 2,
                                                           kReportInterval.us() * 3 / 2));
}

std::optional<Timestamp> MediaSession::next_timeout() const {
  if (streams_.empty() || closed_) return std::nullopt;
  Timestamp next = next_report_ ? *next_report_ : now_;
  for (const auto& [handle, stream] : streams_) {
    if (stream->nack) {
      if (auto due = stream->nack->next_due(round_trip_time(*stream)); due && *due < next)
        next = *due;
    }
    if (!stream->dtmf) continue;
    if (auto due = stream->dtmf->next_timeout(); due && *due < next) next = *due;
  }
  return next;
}

bool MediaSession::can_insert_dtmf(std::uint32_t transceiver) const {
  const Stream* s = find(transceiver);
  return s != nullptr && s->dtmf != nullptr;
}

Result<> MediaSession::insert_dtmf(std::uint32_t transceiver, std::string_view tones,
                                   std::int64_t duration_ms, std::int64_t inter_tone_gap_ms,
                                   Timestamp now) {
  now_ = now;
  Stream* stream = find(transceiver);
  if (stream == nullptr || !stream->dtmf)
    return invalid_state_error(
        "the transceiver does not send audio with a telephone-event format both sides listed");
  if (auto inserted = stream->dtmf->insert_dtmf(now, tones, duration_ms, inter_tone_gap_ms);
      !inserted)
    return RTCError(RTCErrorType::kInvalidCharacterError,
                    std::string(rtp::to_string(inserted.error())));
  run_dtmf(*stream, now);
  return {};
}

std::string MediaSession::dtmf_tone_buffer(std::uint32_t transceiver) const {
  const Stream* s = find(transceiver);
  return s != nullptr && s->dtmf ? s->dtmf->tone_buffer() : std::string();
}

std::uint32_t MediaSession::audio_timestamp_at(const Stream& stream, Timestamp at) {
  // The audio's RTP clock extrapolated from its last frame (or from its random start when
  // none went yet), so that an event's timestamp sits among the audio's (RFC 4733 2.3.5).
  const std::uint32_t rate = stream.telephone_event ? stream.telephone_event->clock_rate : 8000;
  const auto [base, base_at] =
      stream.last_audio
          ? *stream.last_audio
          : std::pair<std::uint32_t, Timestamp>{stream.timestamp_offset, stream.configured_at};
  const std::int64_t elapsed_us = (at - base_at).us();
  const std::int64_t units = elapsed_us * static_cast<std::int64_t>(rate) / 1'000'000;
  return base + static_cast<std::uint32_t>(units);
}

void MediaSession::run_dtmf(Stream& stream, Timestamp now) {
  rtp::DtmfSender& dtmf = *stream.dtmf;
  dtmf.handle_timeout(now);
  const RtpCodec& format = *stream.telephone_event;
  while (auto packet = dtmf.poll_packet()) {
    Buffer payload = take_buffer();
    ByteWriter writer(payload);
    if (!rtp::write_telephone_event(packet->payload, writer)) continue;
    const std::uint32_t timestamp =
        audio_timestamp_at(stream, packet->event_start) + packet->timestamp_offset;
    queue_rtp(stream, format, timestamp, packet->marker, payload.view(),
              audio_timestamp_at(stream, now));
    if (spare_.size() < kSpareBuffers) spare_.push_back(std::move(payload));
  }
  while (auto change = dtmf.poll_tone_change())
    events_.push_back(DtmfToneChanged{stream.binding.transceiver, std::move(change->tone)});
}

void MediaSession::receive_telephone_event(Stream& stream, const RtpCodec& codec,
                                           const rtp::RtpPacketView& packet) {
  if (auto taken = stream.tone_receiver.on_packet(packet.sequence_number, packet.timestamp,
                                                  packet.marker, packet.payload);
      !taken)
    return;
  while (auto event = stream.tone_receiver.poll_event())
    events_.push_back(DtmfToneReceived{stream.binding.transceiver, *event, codec.clock_rate});
}

Buffer MediaSession::take_buffer() {
  if (spare_.empty()) return {};
  Buffer buffer = std::move(spare_.back());
  spare_.pop_back();
  buffer.clear();
  return buffer;
}

bool MediaSession::poll_transmit(MediaPacket& out) {
  if (outgoing_.empty()) return false;
  MediaPacket& front = outgoing_.front();
  std::swap(out.bytes, front.bytes);
  out.rtcp = front.rtcp;
  // What `out` held before goes back to the pool (bounded: a burst's worth).
  if (spare_.size() < kSpareBuffers) spare_.push_back(std::move(front.bytes));
  outgoing_.pop_front();
  return true;
}

std::optional<MediaPacket> MediaSession::poll_transmit() {
  if (outgoing_.empty()) return std::nullopt;
  MediaPacket p = std::move(outgoing_.front());
  outgoing_.pop_front();
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

const MediaStreamStats* MediaSession::stats(std::uint32_t transceiver) const {
  const Stream* s = find(transceiver);
  return s == nullptr ? nullptr : &s->stats;
}

}  // namespace rtcpp::pc
