// MediaSession: frames out as RTP, retransmissions (as they were or as RFC 4588 repairs),
// and DTMF (W3C webrtc-pc 7, RFC 4733).
#include <algorithm>
#include <array>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "pc/media_session.hpp"
#include "pc/media_session_stream.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtcp_packet.hpp"
#include "rtp/rtp_packet.hpp"

namespace rtcpp::pc {

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
  std::array<std::uint8_t, 2> transport_sequence{};
  if (transport_cc_sender_) {
    transport_sequence =
        rtp::write_transport_sequence_number(transport_cc_sender_->next_sequence());
    builder.add_extension(*transport_cc_id_,
                          BytesView(transport_sequence.data(), transport_sequence.size()));
  }
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
    media_session_log().warning("RTP packet not written: ", rtp::to_string(written.error()));
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
    stream.history_resent.resize(kSendHistoryPackets);
  }
  const auto sequence = static_cast<std::uint16_t>(stream.next_sequence - 1);
  const std::size_t slot = sequence % kSendHistoryPackets;
  stream.history[slot].assign(packet.view());
  stream.history_sequence[slot] = sequence;
  stream.history_resent[slot].reset();
  queue_rtp_packet(stream, std::move(packet));
}

void MediaSession::retransmit(Stream& stream, std::uint16_t sequence_number) {
  const std::size_t slot = sequence_number % kSendHistoryPackets;
  if (stream.history.empty() || stream.history_sequence[slot] != sequence_number) {
    ++stream.stats.retransmissions_missed;
    return;
  }
  // A NACK repeated within a round trip asks for what is on its way already; and repairs
  // wait behind the paced video, so where that queue is long they would come too late and
  // crowd out new frames on a path already losing packets.
  auto& resent = stream.history_resent[slot];
  const Duration rtt = round_trip_time(stream).value_or(Duration::millis(100));
  if (resent && now_ - *resent < std::max(rtt, Duration::millis(10))) return;
  if (static_cast<double>(paced_bytes_) > pacing_rate_bytes() * kMaxRepairQueue.seconds_f()) {
    ++stream.stats.retransmissions_dropped;
    return;
  }
  resent = now_;
  ++stream.stats.packets_retransmitted;
  Buffer packet = take_buffer();
  if (!write_repair(stream, stream.history[slot].view(), packet)) {
    // Without RFC 4588 negotiated for the format, the packet goes again as it was, on its own
    // SSRC and sequence number, which a receiver takes as a late arrival.
    packet.assign(stream.history[slot].view());
  }
  // A repair is a new packet on the transport: it gets its own transport-wide number.
  queue_rtp_packet(stream, std::move(packet));
}

void MediaSession::queue_rtp_packet(const Stream& stream, Buffer packet) {
  const auto offset = transport_sequence_offset(packet.view());
  MediaPacket queued{std::move(packet), false, offset};
  if (stream.binding.kind == MediaKind::kVideo) {
    queue_paced(std::move(queued));
  } else {
    outgoing_.push_back(std::move(queued));
  }
}

void MediaSession::drop_paced(const Stream& stream) {
  for (std::size_t i = paced_.size(); i-- > 0;) {
    const Buffer& bytes = paced_[i].bytes;
    if (bytes.size() < 12) continue;
    const std::uint32_t ssrc = load_be32(bytes.data() + 8);
    if (ssrc != stream.local_ssrc && (stream.local_rtx_ssrc == 0 || ssrc != stream.local_rtx_ssrc))
      continue;
    paced_bytes_ -= bytes.size();
    paced_.erase_at(i);
  }
}

std::uint16_t MediaSession::transport_sequence_offset(BytesView packet) const {
  if (!transport_cc_sender_) return 0;
  auto parsed = rtp::parse_rtp_packet(packet);
  if (!parsed) return 0;
  auto value = parsed->extension(*transport_cc_id_);
  if (!value || value->size() != 2) return 0;
  return static_cast<std::uint16_t>(value->data() - packet.data());
}

void MediaSession::stamp_transport_sequence(MediaPacket& packet) {
  if (!transport_cc_sender_ || packet.transport_sequence_at == 0) return;
  if (packet.transport_sequence_at + 2U > packet.bytes.size()) return;
  store_be16(packet.bytes.data() + packet.transport_sequence_at,
             transport_cc_sender_->next_sequence());
  transport_cc_sender_->on_packet_sent(packet.bytes.size(), now_);
}

void MediaSession::queue_paced(MediaPacket packet) {
  // The rate video comes in at, over the last one or two periods of kInputPeriod.
  if (!input_period_start_ || now_ - *input_period_start_ >= kInputPeriod) {
    const bool consecutive = input_period_start_ && now_ - *input_period_start_ < kInputPeriod * 2;
    previous_input_bytes_ = consecutive ? current_input_bytes_ : 0;
    current_input_bytes_ = 0;
    input_period_start_ = now_;
  }
  current_input_bytes_ += packet.bytes.size();
  paced_bytes_ += packet.bytes.size();
  paced_.push_back(std::move(packet));
}

double MediaSession::pacing_rate_bytes() const {
  const double paced = kPacingFactor * bandwidth_.target_bps() / 8;
  // An application that sends more than the estimate (encoded frames it cannot resize) is
  // smoothed, not held back: a standing queue would only add delay.
  double input = 0;
  if (input_period_start_) {
    const double span = (kInputPeriod + (now_ - *input_period_start_)).seconds_f();
    input =
        kInputHeadroom * static_cast<double>(previous_input_bytes_ + current_input_bytes_) / span;
  }
  // Never below what drains the queue within kMaxPacingDelay, nor below 100 kbit/s.
  const double draining = static_cast<double>(paced_bytes_) / kMaxPacingDelay.seconds_f();
  return std::max({paced, input, draining, 100'000.0 / 8});
}

void MediaSession::refill_pacing_budget() {
  const double rate = pacing_rate_bytes();
  const double burst = rate * kPacingBurst.seconds_f();
  if (!pacing_updated_) {
    pacing_updated_ = now_;
    pacing_budget_ = burst;
    return;
  }
  if (now_ <= *pacing_updated_) return;
  const double elapsed = (now_ - *pacing_updated_).seconds_f();
  pacing_updated_ = now_;
  pacing_budget_ = std::min(pacing_budget_ + rate * elapsed, burst);
}

bool MediaSession::take_next(MediaPacket& out) {
  RingQueue<MediaPacket>* queue = nullptr;
  if (!outgoing_.empty()) {
    queue = &outgoing_;
  } else if (!paced_.empty()) {
    refill_pacing_budget();
    if (pacing_budget_ <= 0) return false;
    queue = &paced_;
  } else {
    return false;
  }
  MediaPacket& front = queue->front();
  if (queue == &paced_) {
    paced_bytes_ -= front.bytes.size();
    pacing_budget_ -= static_cast<double>(front.bytes.size());
  }
  if (!front.rtcp) stamp_transport_sequence(front);
  std::swap(out.bytes, front.bytes);
  out.rtcp = front.rtcp;
  out.transport_sequence_at = front.transport_sequence_at;
  // What `out` held before goes back to the pool (bounded: a burst's worth).
  if (spare_.size() < kSpareBuffers && front.bytes.capacity() > 0)
    spare_.push_back(std::move(front.bytes));
  queue->pop_front();
  return true;
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

}  // namespace rtcpp::pc
