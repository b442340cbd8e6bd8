// MediaSession: RTCP feedback and reports, in and out (RFC 3550 6, RFC 4585), and the timers.
#include <algorithm>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "pc/media_session.hpp"
#include "pc/media_session_stream.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtcp_packet.hpp"
#include "rtp/rtp_packet.hpp"

namespace rtcpp::pc {

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

// Transport-wide congestion control feedback (draft 3.1), after an empty receiver report so that
// the compound is valid without RFC 5506.
void MediaSession::send_transport_feedback(Timestamp now) {
  if (!transport_cc_receiver_ || closed_ || streams_.empty() ||
      !transport_cc_receiver_->feedback_due(now))
    return;
  const std::uint32_t sender_ssrc = streams_.begin()->second->local_ssrc;
  for (const auto& message : transport_cc_receiver_->take_feedback(sender_ssrc, now)) {
    Buffer compound = take_buffer();
    ByteWriter writer(compound);
    rtp::write_rtcp(rtp::ReceiverReport{sender_ssrc, {}}, writer);
    rtp::write_rtcp(message, writer);
    outgoing_.push_back(MediaPacket{std::move(compound), true});
    ++transport_feedback_sent_;
  }
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
    media_session_log().debug("RTCP compound dropped: ", rtp::to_string(compound.error()));
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
    } else if (const auto* feedback = std::get_if<rtp::TransportFeedback>(&message)) {
      if (transport_cc_sender_) {
        auto results = transport_cc_sender_->on_feedback(*feedback);
        media_session_log().debug("transport-cc feedback: ", feedback->deltas.size(), " statuses, ",
                                  results.size(), " new results");
        bandwidth_.on_transport_results(results, now);
        if (!last_estimate_log_ || now - *last_estimate_log_ >= Duration::seconds(1)) {
          last_estimate_log_ = now;
          media_session_log().debug(
              "bandwidth estimate ", bandwidth_.target_bps() / 1000, " kbit/s (delay-based ",
              bandwidth_.delay_based_bps() / 1000, ", acknowledged ",
              bandwidth_.acknowledged_bps().value_or(0) / 1000, ", trend ",
              bandwidth_.detector().trend(), " threshold ", bandwidth_.detector().threshold(), ")");
        }
        // Bounded: the oldest results go when nobody takes them.
        transport_results_.insert(transport_results_.end(), results.begin(), results.end());
        if (transport_results_.size() > kMaxTransportResults) {
          transport_results_.erase(
              transport_results_.begin(),
              transport_results_.begin() +
                  static_cast<std::ptrdiff_t>(transport_results_.size() - kMaxTransportResults));
        }
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

void MediaSession::set_report_identity(std::string cname, Duration ntp_offset) {
  cname_ = std::move(cname);
  ntp_offset_ = ntp_offset;
}

void MediaSession::on_report_blocks(const std::vector<rtp::ReportBlock>& blocks, Timestamp now) {
  // The worst loss any of our streams saw: a lossless audio stream must not raise the rate
  // while the video beside it loses packets.
  std::optional<std::uint8_t> worst_loss;
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
      if (auto rtt = stream->sent->round_trip_time()) {
        stats.round_trip_time = rtt;
        bandwidth_.on_round_trip_time(*rtt);
      }
      if (stream->sent->sent_anything())
        worst_loss = std::max(worst_loss.value_or(0), block.fraction_lost);
    }
  }
  // Without transport-cc feedback, the loss the peer reports is what the estimate has.
  if (worst_loss) bandwidth_.on_loss_report(*worst_loss, now);
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
    // Nothing of the stream follows its BYE: what still waits in the pacer goes.
    drop_paced(stream);
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
  paced_.clear();
  paced_bytes_ = 0;
  closed_ = true;
}

void MediaSession::handle_timeout(Timestamp now) {
  now_ = now;
  if (closed_) return;
  for (auto& [handle, stream] : streams_) {
    if (stream->dtmf) run_dtmf(*stream, now);
    send_nacks(*stream, now);
  }
  send_transport_feedback(now);
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
  if ((streams_.empty() && paced_.empty()) || closed_) return std::nullopt;
  Timestamp next = next_report_ ? *next_report_ : now_;
  if (transport_cc_receiver_) {
    if (auto due = transport_cc_receiver_->next_feedback(); due && *due < next) next = *due;
  }
  if (!paced_.empty()) {
    // When the pacing budget is back above zero.
    const double rate = pacing_rate_bytes();
    const Timestamp base = pacing_updated_.value_or(now_);
    const auto wait = Duration::micros(
        std::max<std::int64_t>(1000, static_cast<std::int64_t>(-pacing_budget_ / rate * 1e6) + 1));
    if (base + wait < next) next = base + wait;
  }
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

}  // namespace rtcpp::pc
