// RTCStatsReport serialisation and the report a connection builds (W3C webrtc-stats).
#include "rtcpp/stats.hpp"

#include <cmath>
#include <cstdio>

#include "api/conversions.hpp"
#include "api/data_channel_state.hpp"
#include "api/peer_connection_impl.hpp"
#include "base/hex.hpp"

namespace rtcpp {
namespace {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out += buf;
}

void append_value(std::string& out, const RTCStatsValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          append_json_string(out, v);
        } else if constexpr (std::is_same_v<T, double>) {
          append_json_number(out, v);
        } else {
          out += std::to_string(v);
        }
      },
      value);
}

std::string base64(std::span<const std::uint8_t> data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    const std::uint32_t v = data[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    const std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

RTCStats candidate_stats(const std::string& id, const std::string& type, double timestamp,
                         const ice::Candidate& c) {
  RTCStats s{id, type, timestamp, {}};
  s.members["transportId"] = std::string("T01");
  s.members["address"] = c.address;
  s.members["port"] = std::int64_t{c.port};
  s.members["protocol"] = std::string(c.protocol == ice::TransportProtocol::kUdp ? "udp" : "tcp");
  s.members["candidateType"] = std::string(ice::to_string(c.type));
  if (c.tcp_type != ice::TcpType::kNone)
    s.members["tcpType"] = std::string(ice::to_string(c.tcp_type));
  s.members["priority"] = std::int64_t{c.priority};
  s.members["foundation"] = c.foundation;
  if (!c.related_address.empty()) s.members["relatedAddress"] = c.related_address;
  if (c.related_port) s.members["relatedPort"] = std::int64_t{*c.related_port};
  if (!c.ufrag.empty()) s.members["usernameFragment"] = c.ufrag;
  return s;
}

// webrtc-stats RTCIceCandidateStats url (local "srflx" and "relay" candidates) and
// relayProtocol (local "relay" candidates).
RTCStats local_candidate_stats(const std::string& id, double timestamp,
                               const pc::GatheredCandidate& gathered) {
  RTCStats s = candidate_stats(id, "local-candidate", timestamp, gathered.candidate);
  const auto type = gathered.candidate.type;
  if (!gathered.url.empty() &&
      (type == ice::CandidateType::kServerReflexive || type == ice::CandidateType::kRelayed))
    s.members["url"] = gathered.url;
  if (type == ice::CandidateType::kRelayed && !gathered.relay_protocol.empty())
    s.members["relayProtocol"] = gathered.relay_protocol;
  return s;
}

std::string_view pair_state_name(ice::PairState state) {
  switch (state) {
    case ice::PairState::kFrozen:
      return "frozen";
    case ice::PairState::kWaiting:
      return "waiting";
    case ice::PairState::kInProgress:
      return "in-progress";
    case ice::PairState::kSucceeded:
      return "succeeded";
    case ice::PairState::kFailed:
      return "failed";
  }
  return "frozen";
}

// webrtc-stats 7.19 RTCIceCandidatePairStats: the pair's own checks (consent checks included)
// and the round trips of the answered ones, in seconds.
void add_check_counters(RTCStats& p, const ice::CandidatePair& pair) {
  p.members["priority"] = std::uint64_t{pair.priority};
  p.members["requestsSent"] = pair.requests_sent;
  p.members["responsesReceived"] = pair.responses_received;
  p.members["requestsReceived"] = pair.requests_received;
  p.members["responsesSent"] = pair.responses_sent;
  p.members["totalRoundTripTime"] = pair.total_round_trip_time.seconds_f();
  if (pair.current_round_trip_time)
    p.members["currentRoundTripTime"] = pair.current_round_trip_time->seconds_f();
}

}  // namespace

std::string RTCStatsReport::to_json() const {
  std::string out = "{";
  bool first = true;
  for (const auto& [id, stats] : stats_) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, id);
    out += ":{\"id\":";
    append_json_string(out, stats.id);
    out += ",\"type\":";
    append_json_string(out, stats.type);
    out += ",\"timestamp\":";
    append_json_number(out, stats.timestamp);
    for (const auto& [name, value] : stats.members) {
      out += ',';
      append_json_string(out, name);
      out += ':';
      append_value(out, value);
    }
    out += '}';
  }
  out += '}';
  return out;
}

namespace detail {

RTCStatsReport PeerConnectionImpl::stats() {
  RTCStatsReport report;
  const double now = unix_time_ms();

  RTCStats pc{"P", "peer-connection", now, {}};
  pc.members["dataChannelsOpened"] = core_.channels_opened();
  pc.members["dataChannelsClosed"] = core_.channels_closed();
  report.add(std::move(pc));

  // The local certificate, and the peer's once DTLS is up.
  const auto add_certificate = [&](const std::string& id, std::span<const std::uint8_t> der,
                                   const std::string& fingerprint) {
    RTCStats s{id, "certificate", now, {}};
    s.members["fingerprint"] = fingerprint;
    s.members["fingerprintAlgorithm"] = std::string("sha-256");
    s.members["base64Certificate"] = base64(der);
    report.add(std::move(s));
  };
  const Buffer local_der = certificate_->impl()->der();
  const auto local_fingerprints = certificate_->get_fingerprints();
  add_certificate("CFlocal", {local_der.data(), local_der.size()},
                  local_fingerprints.empty() ? std::string() : local_fingerprints.front().value);
  const Buffer& remote_der = core_.remote_certificate_der();
  if (!remote_der.empty()) {
    auto fingerprint =
        dtls::fingerprint_of_der(BytesView(remote_der.data(), remote_der.size()), "sha-256");
    add_certificate("CFremote", {remote_der.data(), remote_der.size()},
                    fingerprint ? fingerprint->value_string() : std::string());
  }

  if (const pc::PeerTransport* transport = core_.transport()) {
    const auto ice_role = core_.ice_role();
    const auto dtls_role = core_.dtls_role();
    // ICE's own list: candidate-pair stats name its indexes.
    std::vector<pc::GatheredCandidate> local_candidates;
    for (const auto& c : transport->ice().local_candidates())
      local_candidates.push_back({c.candidate, c.url, c.relay_protocol});
    RTCStats t{"T01", "transport", now, {}};
    // webrtc-stats 7.20: payload only (DTLS and SRTP), not the ICE checks.
    const pc::PayloadCounters& payload = transport->payload_counters();
    t.members["packetsSent"] = payload.packets_sent;
    t.members["packetsReceived"] = payload.packets_received;
    t.members["bytesSent"] = payload.bytes_sent;
    t.members["bytesReceived"] = payload.bytes_received;
    t.members["iceRole"] = std::string(
        !ice_role ? "unknown"
                  : (*ice_role == ice::IceRole::kControlling ? "controlling" : "controlled"));
    t.members["iceLocalUsernameFragment"] = core_.local_credentials().ufrag;
    t.members["iceState"] = std::string(to_string(ice_transport_state_));
    t.members["dtlsState"] = std::string(to_string(dtls_state_));
    if (dtls_role)
      t.members["dtlsRole"] =
          std::string(*dtls_role == dtls::DtlsRole::kClient ? "client" : "server");
    if (dtls_state_ == RTCDtlsTransportState::kConnected) {
      t.members["dtlsCipher"] = transport->dtls().cipher_suite();
      t.members["tlsVersion"] = std::string("FEFD");  // DTLS 1.2, as browsers report it
    }
    t.members["localCertificateId"] = std::string("CFlocal");
    if (!remote_der.empty()) t.members["remoteCertificateId"] = std::string("CFremote");
    for (std::size_t i = 0; i < local_candidates.size(); ++i)
      report.add(local_candidate_stats("I" + std::to_string(i), now, local_candidates[i]));
    // What ICE knows: signaled and trickled candidates (mDNS names resolved) and the
    // peer-reflexive ones it learnt.
    const auto remotes = transport->ice().remote_candidates();
    for (std::size_t i = 0; i < remotes.size(); ++i)
      report.add(candidate_stats("R" + std::to_string(i), "remote-candidate", now, remotes[i]));
    // webrtc-stats 7.19: every pair of the check list, with its own check counters; no payload
    // goes over the pairs that are not selected.
    const auto& pairs = transport->ice().pairs();
    const auto selected_index =
        selected_pair_ ? transport->ice().selected_pair_index() : std::optional<std::size_t>{};
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      if (selected_index == i) continue;  // reported as CPsel below
      const ice::CandidatePair& pair = pairs[i];
      const std::string local_id = "I" + std::to_string(pair.local);
      const std::string remote_id = "R" + std::to_string(pair.remote);
      if (report.get(local_id) == nullptr || report.get(remote_id) == nullptr) continue;
      RTCStats p{"CP" + std::to_string(pair.local) + "_" + std::to_string(pair.remote),
                 "candidate-pair",
                 now,
                 {}};
      p.members["transportId"] = std::string("T01");
      p.members["localCandidateId"] = local_id;
      p.members["remoteCandidateId"] = remote_id;
      p.members["state"] = std::string(pair_state_name(pair.state));
      p.members["nominated"] = pair.nominated;
      p.members["packetsSent"] = std::uint64_t{0};
      p.members["packetsReceived"] = std::uint64_t{0};
      p.members["bytesSent"] = std::uint64_t{0};
      p.members["bytesReceived"] = std::uint64_t{0};
      add_check_counters(p, pair);
      report.add(std::move(p));
    }
    if (selected_pair_) {
      // The selected pair's candidates under their own ids, so the pair always resolves.
      auto local = ice::Candidate::parse(selected_pair_->local.candidate());
      auto remote = ice::Candidate::parse(selected_pair_->remote.candidate());
      if (local && remote) {
        pc::GatheredCandidate selected{*local, {}, {}};
        for (const auto& gathered : local_candidates) {
          if (gathered.candidate.to_string() == local->to_string()) selected = gathered;
        }
        report.add(local_candidate_stats("Isel", now, selected));
        report.add(candidate_stats("Rsel", "remote-candidate", now, *remote));
        RTCStats p{"CPsel", "candidate-pair", now, {}};
        p.members["transportId"] = std::string("T01");
        p.members["localCandidateId"] = std::string("Isel");
        p.members["remoteCandidateId"] = std::string("Rsel");
        p.members["state"] = std::string("succeeded");
        p.members["nominated"] = true;
        p.members["packetsSent"] = payload.packets_sent;
        p.members["packetsReceived"] = payload.packets_received;
        p.members["bytesSent"] = payload.bytes_sent;
        p.members["bytesReceived"] = payload.bytes_received;
        if (selected_index && *selected_index < pairs.size())
          add_check_counters(p, pairs[*selected_index]);
        // webrtc-stats 7.19: what the congestion controller lets all RTP streams on the pair
        // send, where transport-cc feedback runs it.
        if (auto available = core_.available_outgoing_bitrate())
          p.members["availableOutgoingBitrate"] = static_cast<double>(*available);
        report.add(std::move(p));
        t.members["selectedCandidatePairId"] = std::string("CPsel");
      }
    }
    report.add(std::move(t));
  }

  // webrtc-stats 7.17 data-channel: every channel the connection had, closed ones included
  // (state "closed"), each under an id no later channel takes (the handle, never reused; the
  // SCTP stream id and the label both are).
  const auto add_channel = [&](pc::ChannelHandle handle, const pc::ChannelStatus& status,
                               RTCDataChannelState state) {
    RTCStats d{"D" + std::to_string(handle), "data-channel", now, {}};
    d.members["label"] = status.init.label;
    d.members["protocol"] = status.init.protocol;
    if (status.id) d.members["dataChannelIdentifier"] = std::int64_t{*status.id};
    d.members["state"] = std::string(to_string(state));
    d.members["messagesSent"] = status.messages_sent;
    d.members["bytesSent"] = status.bytes_sent;
    d.members["messagesReceived"] = status.messages_received;
    d.members["bytesReceived"] = status.bytes_received;
    report.add(std::move(d));
  };
  for (const auto& [handle, channel] : channels_) {
    if (const pc::ChannelStatus* status = core_.channel(handle))
      add_channel(handle, *status, channel->d_->state);
  }
  for (const auto& [handle, status] : core_.closed_channels())
    add_channel(handle, status, RTCDataChannelState::kClosed);

  // webrtc-stats 7.2 codec: one per payload type a stream uses, by direction.
  const auto add_codec = [&](const pc::RtpCodec& codec, pc::MediaKind kind, char direction) {
    std::string id = std::string("C") + direction + std::to_string(codec.payload_type);
    if (report.get(id) != nullptr) return id;
    RTCStats c{id, "codec", now, {}};
    c.members["payloadType"] = std::uint64_t{codec.payload_type};
    c.members["transportId"] = std::string("T01");
    c.members["mimeType"] =
        std::string(kind == pc::MediaKind::kAudio ? "audio/" : "video/") + codec.name;
    c.members["clockRate"] = std::uint64_t{codec.clock_rate};
    if (kind == pc::MediaKind::kAudio) c.members["channels"] = std::uint64_t{codec.channels};
    if (!codec.parameters.empty()) c.members["sdpFmtpLine"] = codec.parameters;
    report.add(std::move(c));
    return id;
  };
  // RFC 5905 6: NTP seconds count from 1900, 2208988800 s before the Unix epoch.
  const auto ntp_to_unix_ms = [](std::uint64_t ntp) {
    const double seconds = static_cast<double>(ntp >> 32) - 2208988800.0;
    const double fraction = static_cast<double>(ntp & 0xFFFFFFFFu) / 4294967296.0;
    return (seconds + fraction) * 1000.0;
  };

  // webrtc-stats 7.6-7.11: a stream's counters, from the media session of the core.
  for (const auto& t : core_.transceivers().all()) {
    const pc::MediaStreamStats* m = core_.media_stats(t.handle);
    if (m == nullptr) continue;
    const std::string kind = t.kind == pc::MediaKind::kAudio ? "audio" : "video";
    const bool video = t.kind == pc::MediaKind::kVideo;
    const auto& objects = transceiver_objects(t.handle);
    if (core_.receive_codec(t.handle) && m->remote_ssrc) {
      const std::string in_id = "IT" + std::to_string(*m->remote_ssrc);
      const std::string remote_id = "RO" + std::to_string(*m->remote_ssrc);
      RTCStats in{in_id, "inbound-rtp", now, {}};
      in.members["ssrc"] = std::uint64_t{*m->remote_ssrc};
      in.members["kind"] = kind;
      in.members["transportId"] = std::string("T01");
      if (const auto* codec = core_.receive_codec_description(t.handle))
        in.members["codecId"] = add_codec(*codec, t.kind, 'I');
      if (t.mid) in.members["mid"] = *t.mid;
      in.members["trackIdentifier"] = objects.state->receiver_track->id();
      in.members["packetsReceived"] = m->packets_received;
      in.members["bytesReceived"] = m->bytes_received;
      in.members["headerBytesReceived"] = m->header_bytes_received;
      in.members["packetsLost"] = std::int64_t{m->packets_lost};
      in.members["jitter"] = m->jitter_seconds;
      if (m->last_packet_received)
        in.members["lastPacketReceivedTimestamp"] = core_.unix_time_ms(*m->last_packet_received);
      // Missing packets are asked for by NACK where it was negotiated (video); key frames by
      // PLI (FIR is not sent).
      in.members["nackCount"] = m->nack_sent;
      in.members["retransmittedPacketsReceived"] = m->retransmitted_packets_received;
      in.members["retransmittedBytesReceived"] = m->retransmitted_bytes_received;
      // rtcpp extension in use: what the receiver decoded for on_video_frame/on_audio_frame.
      if (const auto& coder = *objects.state->receive_coder; coder.video || coder.audio) {
        const auto& d = coder.stats;
        in.members["decoderImplementation"] = std::string(
            coder.video ? coder.video->implementation() : coder.audio->implementation());
        in.members["totalDecodeTime"] = d.total_decode_time;
        if (video) {
          in.members["framesDecoded"] = d.frames_decoded;
          in.members["keyFramesDecoded"] = d.key_frames_decoded;
          if (d.frame_width > 0) {
            in.members["frameWidth"] = std::uint64_t(d.frame_width);
            in.members["frameHeight"] = std::uint64_t(d.frame_height);
          }
        } else {
          in.members["totalSamplesReceived"] = d.total_samples_received;
          in.members["concealedSamples"] = d.concealed_samples;
          in.members["concealmentEvents"] = d.concealment_events;
          in.members["audioLevel"] = d.audio_level;
          in.members["totalAudioEnergy"] = d.total_audio_energy;
          in.members["totalSamplesDuration"] = d.total_samples_duration;
        }
      }
      if (video) {
        in.members["framesReceived"] = m->frames_received;
        in.members["framesDropped"] = m->frames_dropped;
        in.members["pliCount"] = m->pli_sent;
        in.members["firCount"] = std::uint64_t{0};
      }
      if (m->remote_report_ntp) {
        // webrtc-stats 7.11: what the peer's SRs say about the stream it sends us.
        in.members["remoteId"] = remote_id;
        RTCStats remote{remote_id, "remote-outbound-rtp", now, {}};
        remote.members["ssrc"] = std::uint64_t{*m->remote_ssrc};
        remote.members["kind"] = kind;
        remote.members["transportId"] = std::string("T01");
        if (const auto codec = in.get<std::string>("codecId")) remote.members["codecId"] = *codec;
        remote.members["localId"] = in_id;
        remote.members["packetsSent"] = std::uint64_t{m->remote_packets_sent};
        remote.members["bytesSent"] = std::uint64_t{m->remote_bytes_sent};
        remote.members["remoteTimestamp"] = ntp_to_unix_ms(*m->remote_report_ntp);
        remote.members["reportsSent"] = m->remote_sender_reports;
        report.add(std::move(remote));
      }
      report.add(std::move(in));
    }
    if (core_.send_codec(t.handle) && m->packets_sent > 0) {
      const std::string out_id = "OT" + std::to_string(t.ssrc);
      const std::string remote_id = "RI" + std::to_string(t.ssrc);
      const std::string source_id = "S" + std::to_string(t.handle);
      RTCStats out{out_id, "outbound-rtp", now, {}};
      out.members["ssrc"] = std::uint64_t{t.ssrc};
      out.members["kind"] = kind;
      out.members["transportId"] = std::string("T01");
      if (const auto* codec = core_.send_codec_description(t.handle))
        out.members["codecId"] = add_codec(*codec, t.kind, 'O');
      if (t.mid) out.members["mid"] = *t.mid;
      out.members["packetsSent"] = m->packets_sent + m->packets_retransmitted;
      out.members["bytesSent"] = m->bytes_sent;
      out.members["headerBytesSent"] = m->header_bytes_sent;
      out.members["retransmittedPacketsSent"] = m->packets_retransmitted;
      out.members["nackCount"] = m->nack_received;
      if (video) {
        out.members["framesSent"] = m->frames_sent;
        out.members["pliCount"] = m->pli_received;
        out.members["firCount"] = m->fir_received;
      }
      // rtcpp extension in use: what the sender encoded from send_video_frame/send_audio_frame.
      SendCoder::Stats encoded;
      std::string encoder;
      {
        // Only the stats lock: the sending thread holds the coder's own lock while it waits
        // for this loop.
        auto& coder = *objects.state->send_coder;
        std::lock_guard lock(coder.stats_mutex);
        encoded = coder.stats;
        encoder = coder.implementation;
      }
      if (!encoder.empty()) {
        out.members["encoderImplementation"] = encoder;
        out.members["totalEncodeTime"] = encoded.total_encode_time;
        if (video) {
          out.members["framesEncoded"] = encoded.frames_encoded;
          out.members["keyFramesEncoded"] = encoded.key_frames_encoded;
          out.members["qpSum"] = encoded.qp_sum;
          if (encoded.target_bitrate > 0)
            out.members["targetBitrate"] = static_cast<double>(encoded.target_bitrate);
          if (encoded.frame_width > 0) {
            out.members["frameWidth"] = std::uint64_t(encoded.frame_width);
            out.members["frameHeight"] = std::uint64_t(encoded.frame_height);
          }
        }
      }
      // webrtc-stats 7.13: the track the sender sends; what its raw frames were, when it is
      // given raw frames (encoded frames say nothing about samples or pictures).
      if (const auto& track = objects.state->sender_track) {
        out.members["mediaSourceId"] = source_id;
        RTCStats source{source_id, "media-source", now, {}};
        source.members["trackIdentifier"] = track->id();
        source.members["kind"] = kind;
        if (!encoder.empty() && video) {
          source.members["frames"] = encoded.source_frames;
          if (encoded.frame_width > 0) {
            source.members["width"] = std::uint64_t(encoded.frame_width);
            source.members["height"] = std::uint64_t(encoded.frame_height);
          }
        } else if (!encoder.empty()) {
          source.members["audioLevel"] = encoded.audio_level;
          source.members["totalAudioEnergy"] = encoded.total_audio_energy;
          source.members["totalSamplesDuration"] = encoded.total_samples_duration;
        }
        report.add(std::move(source));
      }
      if (m->remote_packets_lost) {
        out.members["remoteId"] = remote_id;
        RTCStats remote{remote_id, "remote-inbound-rtp", now, {}};
        remote.members["ssrc"] = std::uint64_t{t.ssrc};
        remote.members["kind"] = kind;
        remote.members["transportId"] = std::string("T01");
        if (const auto codec = out.get<std::string>("codecId")) remote.members["codecId"] = *codec;
        remote.members["localId"] = out_id;
        remote.members["packetsLost"] = std::int64_t{*m->remote_packets_lost};
        if (m->remote_fraction_lost) remote.members["fractionLost"] = *m->remote_fraction_lost;
        if (m->remote_jitter_seconds) remote.members["jitter"] = *m->remote_jitter_seconds;
        if (m->round_trip_time) remote.members["roundTripTime"] = m->round_trip_time->seconds_f();
        report.add(std::move(remote));
      }
      report.add(std::move(out));
    }
  }
  return report;
}

RTCStatsReport PeerConnectionImpl::stats_of(std::uint32_t transceiver, bool sender) {
  // W3C webrtc-pc 8.5 stats selection: the sender's outbound-rtp (or the receiver's
  // inbound-rtp) and every object those name, directly or through others, by an "...Id"
  // member.
  const RTCStatsReport all = stats();
  RTCStatsReport selected;
  const auto* t = core_.transceivers().find(transceiver);
  if (t == nullptr) return selected;
  const pc::MediaStreamStats* m = core_.media_stats(transceiver);
  std::vector<std::string> pending;
  if (sender) {
    pending.push_back("OT" + std::to_string(t->ssrc));
  } else if (m != nullptr && m->remote_ssrc) {
    pending.push_back("IT" + std::to_string(*m->remote_ssrc));
  }
  while (!pending.empty()) {
    const std::string id = std::move(pending.back());
    pending.pop_back();
    const RTCStats* s = all.get(id);
    if (s == nullptr || selected.get(id) != nullptr) continue;
    for (const auto& [name, value] : s->members) {
      const auto* referenced = std::get_if<std::string>(&value);
      if (referenced != nullptr && name.size() > 2 && name.ends_with("Id") &&
          all.get(*referenced) != nullptr)
        pending.push_back(*referenced);
    }
    selected.add(*s);
  }
  return selected;
}

}  // namespace detail
}  // namespace rtcpp
