// The RTP side of an audio or video m= section: codecs (RFC 8866 6.6 rtpmap, RFC 8866 6.15
// fmtp, RFC 4585 rtcp-fb, RFC 4588 rtx), header extensions (RFC 8285 extmap) and the
// sender's SSRCs (RFC 5576), read from a peer's section and written into ours, and the
// JSEP 5.3.1 choice of what an answer accepts.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rtp/header_extensions.hpp"
#include "sdp/session_description.hpp"

namespace rtcpp::pc {

enum class MediaKind : std::uint8_t;

struct RtpCodec {
  std::uint8_t payload_type = 0;
  std::string name;  // as in rtpmap: "VP8", "opus", "PCMU", ...
  std::uint32_t clock_rate = 0;
  std::uint16_t channels = 1;
  std::string parameters;             // the fmtp value as written ("" when none)
  std::vector<std::string> feedback;  // rtcp-fb values: "nack", "nack pli", "ccm fir", ...
  // The RFC 4588 retransmission format repairing this codec (rtx with apt=payload_type).
  std::optional<std::uint8_t> rtx_payload_type;
  friend bool operator==(const RtpCodec&, const RtpCodec&) = default;
};

struct RtpHeaderExtension {
  std::uint8_t id = 0;  // 1-14 (one-byte form) or up to 255 (two-byte form)
  std::string uri;
  // RFC 8285 8: "sendonly", "recvonly", "sendrecv" or "inactive" after the id; "" when none
  // was written (sendrecv).
  std::string direction;
  friend bool operator==(const RtpHeaderExtension&, const RtpHeaderExtension&) = default;
};

inline constexpr std::string_view kMidExtensionUri = rtp::kMidUri;
// The a=msid lines read from one section; a track is rarely in more than one stream.
inline constexpr std::size_t kMaxMsids = 16;

struct RtpParameters {
  std::vector<RtpCodec> codecs;  // in preference order, rtx folded into the codec it repairs
  std::vector<RtpHeaderExtension> extensions;
  std::vector<std::uint32_t> ssrcs;  // a=ssrc lines: the media SSRC first, then its RTX
  std::string cname;
  // RFC 8830 a=msid lines, each "<stream id> <track id>" (one per stream the track is in; a
  // single "- <track id>" for a track in no stream), written by a sender.
  std::vector<std::string> msids;
  friend bool operator==(const RtpParameters&, const RtpParameters&) = default;
  const RtpCodec* find_codec(std::uint8_t payload_type) const;
  std::optional<std::uint8_t> extension_id(std::string_view uri) const;
};

// Reads a section's RTP parameters; formats without a usable rtpmap (and that are not the
// static PCMU 0 / PCMA 8) are left out, as are malformed lines (a peer's oddities never fail
// a description).
RtpParameters read_rtp_parameters(const sdp::AttributeList& attributes,
                                  std::span<const std::string> formats);
// What rtcpp offers for a new section of this kind: VP8, H.264 (Constrained Baseline,
// packetization-mode 1), VP9 (profile 0) and AV1, each with RTX, for video; Opus, PCMU and
// PCMA for audio; the mid header extension, and for audio ssrc-audio-level (RFC 6464) and
// csrc-audio-level (RFC 6465).
RtpParameters local_rtp_parameters(MediaKind kind);
// JSEP 5.3.1: the codecs of an offer we can take, in the offerer's order with its payload
// types, and the extensions we understand with its ids (mid; for audio ssrc-audio-level and
// csrc-audio-level), a direction answered with its mirror (RFC 8285 7: an offer's recvonly is
// answered sendonly); nullopt when no codec is usable.
std::optional<RtpParameters> answer_rtp_parameters(MediaKind kind, const RtpParameters& offered);
// A codec named by the application (W3C webrtc-pc 5.2 RTCRtpCodec): for
// setCodecPreferences, and as a capability.
struct CodecPreference {
  std::string name;  // the rtpmap encoding name: "VP8", "H264", "opus", "rtx"
  std::uint32_t clock_rate = 0;
  std::uint16_t channels = 1;
  std::string parameters;  // the fmtp line; "" names every format of the codec
  friend bool operator==(const CodecPreference&, const CodecPreference&) = default;
};
// Whether a preference names this codec: the name (case aside), clock rate and channels, and
// the format parameters when it gives them (H.264 by profile and packetization mode, RFC
// 6184 8.2.2, others as written).
bool preference_matches(const CodecPreference& preference, const RtpCodec& codec);
// What rtcpp can send and receive of a kind (W3C getCapabilities): every codec of
// local_rtp_parameters(), then "rtx".
std::vector<CodecPreference> codec_capabilities(MediaKind kind);
// W3C setCodecPreferences with JSEP 5.2.1 / 5.3.1: the codecs of `parameters` some preference
// names, in the preferences' order (each codec keeps its RTX). Preferences that name only
// "rtx" keep nothing of themselves.
RtpParameters prefer_codecs(const RtpParameters& parameters,
                            std::span<const CodecPreference> preferences);

// A description's payload types (for the m= line) and the rtpmap, fmtp, rtcp-fb, extmap and
// ssrc lines of these parameters.
std::vector<std::string> payload_types(const RtpParameters& parameters);
std::vector<sdp::Attribute> rtp_attributes(const RtpParameters& parameters);

}  // namespace rtcpp::pc
