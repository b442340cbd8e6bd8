// The connection's media: the senders' identities in our descriptions, the negotiated
// sections handed to the media session, track events, and RTP between the session and the
// transport.
#include <algorithm>

#include "base/log.hpp"
#include "pc/connection.hpp"

namespace rtcpp::pc {
namespace {

Logger& media_log() {
  static Logger log("pc");
  return log;
}

}  // namespace

void Connection::assign_sender_identities() {
  for (auto& t : transceivers_.all()) {
    if (t.ssrc != 0) continue;
    // RFC 3550 8.1: a random SSRC; 0 is kept as "none" here.
    while (t.ssrc == 0) t.ssrc = rng_.next_u32();
    while (t.rtx_ssrc == 0 || t.rtx_ssrc == t.ssrc) t.rtx_ssrc = rng_.next_u32();
    t.track_id = random_alphanumeric(rng_, 24);
  }
}

void Connection::stamp_senders(std::vector<MSection>& sections) const {
  for (auto& s : sections) {
    if (!s.transceiver || s.rejected) continue;
    const Transceiver* t = transceivers_.find(*s.transceiver);
    if (t == nullptr) continue;
    s.rtp.ssrcs.clear();
    s.rtp.cname.clear();
    s.rtp.msids.clear();
    if (!sends(s.direction)) continue;
    // RFC 5576 / RFC 8830: the sender's SSRC with our CNAME, and its track in each of its
    // streams ("-": in none).
    s.rtp.ssrcs = {t->ssrc};
    // RFC 4588 8.3 / RFC 5576 4.2: the repair stream's SSRC in an FID group after the media's.
    const bool rtx = std::any_of(s.rtp.codecs.begin(), s.rtp.codecs.end(),
                                 [](const RtpCodec& c) { return c.rtx_payload_type.has_value(); });
    if (rtx) s.rtp.ssrcs.push_back(t->rtx_ssrc);
    s.rtp.cname = cname_;
    for (const auto& stream : t->stream_ids) s.rtp.msids.push_back(stream + " " + t->track_id);
    if (s.rtp.msids.empty()) s.rtp.msids.push_back("- " + t->track_id);
  }
}

void Connection::apply_answer_directions(std::vector<MSection>& sections) const {
  for (std::size_t i = 0; i < sections.size() && i < pending_remote_sections_.size(); ++i) {
    auto& section = sections[i];
    if (!section.transceiver || section.rejected) continue;
    const auto* t = transceivers_.find(*section.transceiver);
    if (t == nullptr) continue;
    if (t->stopping || t->stopped) {
      // JSEP 5.3.1: a stopped transceiver's section is rejected in the answer.
      section.rejected = true;
      section.direction = RtpDirection::kInactive;
      if (section.formats.size() > 1) section.formats.resize(1);
      continue;
    }
    section.direction = intersect(reversed(pending_remote_sections_[i].direction), t->direction);
  }
}

void Connection::record_local_directions(const std::vector<MSection>& sections) {
  for (const auto& s : sections) {
    if (!s.transceiver) continue;
    auto* t = transceivers_.find(*s.transceiver);
    if (t == nullptr) continue;
    t->local_direction = s.direction;
    // The streams our a=msid lines named ("-" is none).
    std::vector<std::string> streams;
    for (const auto& msid : s.rtp.msids) {
      const auto stream = msid.substr(0, msid.find(' '));
      if (stream != "-") streams.push_back(stream);
    }
    t->local_stream_ids = std::move(streams);
  }
}

Result<> Connection::stop_transceiver(std::uint32_t transceiver) {
  if (closed_) return invalid_state_error("the connection is closed");
  Transceiver* t = transceivers_.find(transceiver);
  if (t == nullptr || t->stopping) return {};
  transceivers_.stop(transceiver);
  // W3C 5.4 stop the RTCRtpTransceiver: sending ends with an RTCP BYE and receiving ends now,
  // not at the next negotiation.
  configure_media();
  flush_media();
  emit(TransceiverStopped{transceiver});
  check_negotiation_needed();
  return {};
}

void Connection::set_sender_streams(std::uint32_t transceiver,
                                    std::vector<std::string> stream_ids) {
  Transceiver* t = transceivers_.find(transceiver);
  if (t == nullptr) return;
  t->stream_ids = std::move(stream_ids);
  check_negotiation_needed();
}

Result<> Connection::set_direction(std::uint32_t transceiver, RtpDirection direction) {
  if (closed_) return invalid_state_error("the connection is closed");
  Transceiver* t = transceivers_.find(transceiver);
  if (t == nullptr) return invalid_state_error("no such transceiver");
  if (t->stopping || t->stopped) return invalid_state_error("the transceiver is stopping");
  if (t->direction == direction) return {};
  t->direction = direction;
  check_negotiation_needed();
  return {};
}

Result<> Connection::set_codec_preferences(std::uint32_t transceiver,
                                           std::vector<CodecPreference> codecs) {
  if (closed_) return invalid_state_error("the connection is closed");
  Transceiver* t = transceivers_.find(transceiver);
  if (t == nullptr) return invalid_state_error("no such transceiver");
  // W3C 5.4 setCodecPreferences: every codec must be one we can receive, and not only
  // repair formats; an empty list goes back to our own order.
  const auto capabilities = codec_capabilities(t->kind);
  bool media_codec = false;
  for (const auto& codec : codecs) {
    const bool known = std::any_of(capabilities.begin(), capabilities.end(), [&](const auto& c) {
      return preference_matches(
          codec, RtpCodec{0, c.name, c.clock_rate, c.channels, c.parameters, {}, std::nullopt});
    });
    if (!known)
      return invalid_modification_error("codec " + codec.name + "/" +
                                        std::to_string(codec.clock_rate) +
                                        " is not in the receiver's capabilities");
    const bool repair = codec.name == "rtx" || codec.name == "red" || codec.name == "ulpfec";
    media_codec = media_codec || !repair;
  }
  if (!codecs.empty() && !media_codec)
    return invalid_modification_error("the preferences name no media codec");
  t->codec_preferences = std::move(codecs);
  return {};
}

void Connection::apply_codec_preferences(std::vector<MSection>& sections,
                                         std::span<const RemoteSection> offered) const {
  for (std::size_t i = 0; i < sections.size(); ++i) {
    MSection& s = sections[i];
    if (!s.transceiver || s.rejected) continue;
    const Transceiver* t = transceivers_.find(*s.transceiver);
    if (t == nullptr || (t->codec_preferences.empty() && i >= offered.size())) continue;
    // An answer starts again from what the offer and we share (JSEP 5.3.1), so that a
    // preference set after an earlier createAnswer can widen it again; an offer filters what
    // the section has (all of our codecs for a new section).
    RtpParameters base = s.rtp;
    if (i < offered.size()) {
      if (auto shared = answer_rtp_parameters(s.kind, offered[i].rtp)) base = std::move(*shared);
    }
    RtpParameters preferred =
        t->codec_preferences.empty() ? base : prefer_codecs(base, t->codec_preferences);
    if (preferred.codecs.empty()) {
      // JSEP 5.3.1: no codec in common is a rejected section.
      s.rejected = true;
      s.direction = RtpDirection::kInactive;
      if (s.formats.size() > 1) s.formats.resize(1);
      continue;
    }
    s.formats = payload_types(preferred);
    s.rtp = std::move(preferred);
  }
}

void Connection::fire_track_events(const std::vector<MSection>& ours,
                                   std::span<const RemoteSection> remote) {
  // W3C 4.4.1.6: a section the peer starts sending on fires its transceiver's track event
  // ([[FiredDirection]]), whatever our own direction; one it stops sending on (or that is
  // rejected) processes the removal of the remote track.
  for (std::size_t i = 0; i < ours.size() && i < remote.size(); ++i) {
    const MSection& s = ours[i];
    if (!s.transceiver) continue;
    Transceiver* t = transceivers_.find(*s.transceiver);
    if (t == nullptr) continue;
    const bool peer_sends = !s.rejected && !remote[i].rejected && sends(remote[i].direction);
    if (!peer_sends) {
      if (t->track_fired) {
        t->track_fired = false;
        emit(TrackRemoved{t->handle});
      }
      continue;
    }
    // RFC 8830 2: "<stream id> <track id>" per stream; "-" names no stream.
    std::vector<std::string> streams;
    for (const auto& msid : remote[i].rtp.msids) {
      const std::string stream = msid.substr(0, msid.find(' '));
      if (!stream.empty() && stream != "-" &&
          std::find(streams.begin(), streams.end(), stream) == streams.end())
        streams.push_back(stream);
    }
    const bool streams_changed = streams != t->remote_stream_ids;
    t->remote_stream_ids = std::move(streams);
    if (t->track_fired) {
      if (streams_changed) emit(RemoteStreamsChanged{t->handle});
      continue;
    }
    t->track_fired = true;
    emit(TrackAdded{t->handle});
  }
}

void Connection::configure_media() {
  std::vector<MediaBinding> bindings;
  for (const auto& s : sections_) {
    if (!s.transceiver || s.rejected || s.data) continue;
    if (s.kind != MediaKind::kAudio && s.kind != MediaKind::kVideo) continue;
    auto remote = std::find_if(current_remote_sections_.begin(), current_remote_sections_.end(),
                               [&](const RemoteSection& r) { return r.mid == s.mid; });
    if (remote == current_remote_sections_.end() || remote->rejected) continue;
    const Transceiver* t = transceivers_.find(*s.transceiver);
    if (t == nullptr || t->stopping) continue;  // W3C 5.4 stop: no more media either way
    MediaBinding b;
    b.transceiver = *s.transceiver;
    b.mid = s.mid;
    b.kind = s.kind;
    b.send = sends(s.direction);
    b.receive = receives(s.direction);
    b.local = s.rtp;
    // A recvonly section names no SSRC; its RTCP still comes from the transceiver's.
    if (b.local.ssrcs.empty()) b.local.ssrcs = {t->ssrc};
    b.remote = remote->rtp;
    bindings.push_back(std::move(b));
  }
  media_.configure(std::move(bindings));
}

void Connection::flush_media() {
  while (media_.poll_transmit(media_packet_)) {
    if (!transport_ || !transport_->srtp_ready()) continue;  // nowhere to send it yet
    auto sent = media_packet_.rtcp ? transport_->send_rtcp(media_packet_.bytes)
                                   : transport_->send_rtp(media_packet_.bytes);
    if (!sent) media_log().debug("media packet not sent: ", sent.error().message());
  }
  while (auto event = media_.poll_event())
    std::visit([&](auto&& e) { emit(std::forward<decltype(e)>(e)); }, std::move(*event));
}

Result<> Connection::send_frame(std::uint32_t transceiver, const EncodedFrame& frame,
                                Timestamp now) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (!transport_ || !transport_->srtp_ready())
    return invalid_state_error("media cannot be sent before DTLS-SRTP is connected");
  now_ = std::max(now_, now);
  auto sent = media_.send_frame(transceiver, frame, now);
  flush_media();
  return sent;
}

Result<> Connection::request_key_frame(std::uint32_t transceiver, Timestamp now) {
  if (closed_) return invalid_state_error("the connection is closed");
  auto requested = media_.request_key_frame(transceiver, now);
  flush_media();
  return requested;
}

bool Connection::can_insert_dtmf(std::uint32_t transceiver) const {
  return !closed_ && transport_ && transport_->srtp_ready() && media_.can_insert_dtmf(transceiver);
}

Result<> Connection::insert_dtmf(std::uint32_t transceiver, std::string_view tones,
                                 std::int64_t duration_ms, std::int64_t inter_tone_gap_ms,
                                 Timestamp now) {
  if (closed_) return invalid_state_error("the connection is closed");
  if (!transport_ || !transport_->srtp_ready())
    return invalid_state_error("tones cannot be sent before DTLS-SRTP is connected");
  now_ = std::max(now_, now);
  auto inserted = media_.insert_dtmf(transceiver, tones, duration_ms, inter_tone_gap_ms, now);
  flush_media();
  return inserted;
}

}  // namespace rtcpp::pc
