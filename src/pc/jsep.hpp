// JSEP (RFC 8829) with any number of m= sections and BUNDLE (RFC 9143): the sections of a
// session in their places, our offers and answers written from them, and the peer's
// descriptions read and checked against them.
//
// A connection has one transport (BUNDLE with rtcp-mux, as browsers negotiate it): the
// section that carries it is the first of the BUNDLE group, or the only accepted section
// when a peer does not bundle. Audio and video sections each belong to a transceiver
// (pc/transceivers.hpp); the application section carries the data channels.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dtls/certificate.hpp"
#include "dtls/dtls_transport.hpp"
#include "ice/candidate.hpp"
#include "pc/rtp_parameters.hpp"
#include "rtcpp/error.hpp"
#include "sdp/session_description.hpp"

namespace rtcpp::pc {

// RFC 8842 a=setup.
enum class DtlsSetup : std::uint8_t { kActpass, kActive, kPassive };
std::string_view to_string(DtlsSetup setup) noexcept;

enum class MediaKind : std::uint8_t { kAudio, kVideo, kApplication, kOther };
MediaKind media_kind(std::string_view media) noexcept;

// RFC 8866 6.7 / RFC 3264 6.1: the direction attribute of a media section.
enum class RtpDirection : std::uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::string_view to_string(RtpDirection direction) noexcept;
// The direction the other side sees (sendonly <-> recvonly).
RtpDirection reversed(RtpDirection direction) noexcept;
bool sends(RtpDirection direction) noexcept;
bool receives(RtpDirection direction) noexcept;
// The direction that sends only when both do and receives only when both do (JSEP 5.3.1:
// an answer's direction is the offer's reversed, within the transceiver's own).
RtpDirection intersect(RtpDirection a, RtpDirection b) noexcept;

// The transport of the session: ICE and DTLS parameters, our candidates, and the SCTP
// parameters of the data section (when there is one).
struct TransportDescription {
  std::string ice_ufrag;
  std::string ice_pwd;
  bool ice_lite = false;
  std::vector<std::string> ice_options;  // "trickle", ...
  std::vector<dtls::Fingerprint> fingerprints;
  DtlsSetup setup = DtlsSetup::kActpass;
  // The mid of the section that carries the transport (candidates are tagged with it).
  std::string mid = "0";
  std::uint16_t sctp_port = 5000;
  // a=max-message-size (RFC 8841 6); absent means 64 KiB, 0 (no limit) reads as SIZE_MAX.
  std::size_t max_message_size = 65536;
  std::vector<ice::Candidate> candidates;
  bool end_of_candidates = false;
};

// One m= section, in its place (JSEP 5.2.2: sections keep their order for the whole session;
// a rejected one stays as a placeholder until a new transceiver recycles it).
struct MSection {
  MediaKind kind = MediaKind::kApplication;
  std::string media = "application";  // as written: "audio", "video", "application", "text"...
  std::string protocol = "UDP/DTLS/SCTP";
  std::vector<std::string> formats = {"webrtc-datachannel"};
  std::string mid;
  bool rejected = false;
  bool data = false;  // the SCTP section of the data channels
  // Audio/video: the transceiver the section belongs to (TransceiverList handle).
  std::optional<std::uint32_t> transceiver;
  // Audio/video: the direction this side writes.
  RtpDirection direction = RtpDirection::kSendRecv;
  // Audio/video: the codecs, header extensions and SSRCs this side writes (`formats` are
  // their payload types).
  RtpParameters rtp;
};

// JSEP 5.2.1: a new section for a transceiver of this kind (with the codecs rtcpp
// negotiates: Opus, PCMU and PCMA for audio; VP8 with RTX for video), or for the data
// channels.
MSection media_section(MediaKind kind, std::string mid, std::uint32_t transceiver,
                       RtpDirection direction);
MSection data_section(std::string mid);

// The smallest non-negative number, as a string, that no section uses as its mid.
std::string unused_mid(std::span<const MSection> sections);

// What we write into an offer or an answer.
struct LocalDescriptionOptions {
  TransportDescription transport;
  std::uint64_t session_id = 1;
  std::uint64_t session_version = 1;
};

// Writes an offer or answer with these sections. Accepted sections carry the transport
// attributes; candidates go into the first bundled one (browsers trickle them with its mid);
// `bundle` is the BUNDLE group (empty: no group line).
std::string write_description(const LocalDescriptionOptions& options,
                              std::span<const MSection> sections,
                              std::span<const std::string> bundle);
// The BUNDLE group of an offer: every section that is not rejected, in order.
std::vector<std::string> offer_bundle(std::span<const MSection> sections);

// One section of a peer's description, as written.
struct RemoteSection {
  MediaKind kind = MediaKind::kOther;
  std::string media;
  std::string protocol;
  std::vector<std::string> formats;
  std::string mid;
  bool rejected = false;      // port 0 without a=bundle-only
  bool bundle_only = false;   // port 0 with a=bundle-only (RFC 9143 7.2): part of the bundle
  bool data_channel = false;  // application section for data channels (RFC 8841, or sctpmap)
  RtpDirection direction = RtpDirection::kSendRecv;
  RtpParameters rtp;  // audio/video: what the peer wrote
};

// A peer's section in its place, as our side of the session keeps it (what an answer to it
// must match): kind, media, protocol, formats, mid, rejected and whether it carries data
// channels.
MSection section_of(const RemoteSection& remote);

// A peer's description, read and checked.
struct RemoteDescription {
  std::vector<RemoteSection> sections;
  std::vector<std::string> bundle;  // the mids of its (first) BUNDLE group
  // The section that carries the transport, and its parameters; none when no section can
  // carry one (all rejected, or nothing we can use).
  std::optional<std::size_t> transport_section;
  std::optional<TransportDescription> transport;
  // The data-channel section we use (in the bundle, or the transport section).
  std::optional<std::size_t> data_section;

  bool in_bundle(std::string_view mid) const;
  const RemoteSection* find_mid(std::string_view mid) const;
};

// Reads a remote offer (`offer` empty) or a remote answer to the sections we offered.
// InvalidAccessError for what JSEP forbids: duplicate or missing mids with several sections,
// a BUNDLE group naming an unknown mid, an answer whose sections do not match the offer's, a
// transport without ICE credentials or fingerprint, bad SCTP parameters or candidates.
Result<RemoteDescription> read_remote_description(const sdp::SessionDescription& remote,
                                                  std::span<const MSection> offer = {});

// JSEP 5.3.1: our answer's sections for a remote offer, one per offered section in order:
// the data section accepted when it can share the transport, media sections accepted when
// `accept_media` says so for them (until media lands nothing does: they are rejected, which
// is how an endpoint answers a section it cannot take), everything else rejected.
// `transceiver_of(i)` gives the transceiver of offered media section i.
struct AnswerPlan {
  std::vector<MSection> sections;
  std::vector<std::string> bundle;  // the answer's BUNDLE group
};
template <typename TransceiverOf, typename AcceptMedia>
AnswerPlan plan_answer(const RemoteDescription& offer, TransceiverOf transceiver_of,
                       AcceptMedia accept_media);

// Our DTLS role once both setups are known (RFC 8842 5.3): the answerer's choice decides.
Result<dtls::DtlsRole> negotiate_dtls_role(DtlsSetup local, DtlsSetup remote,
                                           bool local_is_offerer);

// --- implementation of the template above ---

template <typename TransceiverOf, typename AcceptMedia>
AnswerPlan plan_answer(const RemoteDescription& offer, TransceiverOf transceiver_of,
                       AcceptMedia accept_media) {
  AnswerPlan plan;
  const bool bundled = !offer.bundle.empty();
  for (std::size_t i = 0; i < offer.sections.size(); ++i) {
    const RemoteSection& offered = offer.sections[i];
    MSection answer = section_of(offered);
    // One transport: a section outside the bundle can only be the transport section itself.
    const bool reachable = !offered.rejected &&
                           (bundled ? offer.in_bundle(offered.mid) : offer.transport_section == i);
    if (offered.kind == MediaKind::kApplication) {
      answer.rejected = !(reachable && offer.data_section == i);
    } else if (offered.kind == MediaKind::kAudio || offered.kind == MediaKind::kVideo) {
      answer.transceiver = transceiver_of(i);
      answer.direction = reversed(offered.direction);
      // JSEP 5.3.1: the offered codecs we can carry, with the offerer's payload types.
      auto rtp = answer_rtp_parameters(offered.kind, offered.rtp);
      answer.rejected = !(reachable && answer.transceiver && rtp && accept_media(i));
      if (!answer.rejected) {
        answer.formats = payload_types(*rtp);
        answer.rtp = std::move(*rtp);
      }
    } else {
      answer.rejected = true;
    }
    if (answer.rejected) {
      answer.direction = RtpDirection::kInactive;
      if (!answer.formats.empty()) answer.formats.resize(1);
    }
    plan.sections.push_back(std::move(answer));
  }
  // RFC 9143 7.3.1: the answer's group lists the accepted sections of the offer's group, in
  // its order; the first of them is the answerer-tagged section.
  for (const auto& mid : offer.bundle) {
    for (const auto& s : plan.sections) {
      if (s.mid == mid && !s.rejected) plan.bundle.push_back(mid);
    }
  }
  return plan;
}

}  // namespace rtcpp::pc
