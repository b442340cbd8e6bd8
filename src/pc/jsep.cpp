// Reading a peer's offers and answers (RFC 8829 5.7-5.8, RFC 9143 BUNDLE) and the DTLS role.
#include "pc/jsep.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace rtcpp::pc {
namespace {

bool is_data_channel_section(const sdp::MediaDescription& m) {
  if (m.media != "application") return false;
  if (m.protocol == "UDP/DTLS/SCTP" || m.protocol == "TCP/DTLS/SCTP")
    return !m.formats.empty() && m.formats[0] == "webrtc-datachannel";
  // The pre-RFC 8841 form: "DTLS/SCTP 5000" with a=sctpmap:5000 webrtc-datachannel.
  return m.protocol == "DTLS/SCTP";
}

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    auto end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    if (end > i) out.push_back(text.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

// RFC 5888 4: a mid is a token (RFC 8866 9), and browsers keep it short; a group line is a
// list of them separated by spaces, so anything else could not be named in one.
bool is_valid_mid(std::string_view mid) {
  if (mid.empty() || mid.size() > 256) return false;
  return std::all_of(mid.begin(), mid.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`{|}~").find(c) != std::string_view::npos;
  });
}

RtpDirection direction_of(const sdp::MediaDescription& m) {
  if (m.attributes.has("sendonly")) return RtpDirection::kSendOnly;
  if (m.attributes.has("recvonly")) return RtpDirection::kRecvOnly;
  if (m.attributes.has("inactive")) return RtpDirection::kInactive;
  return RtpDirection::kSendRecv;  // RFC 3264 5.1: sendrecv when none is given
}

// ICE and DTLS parameters of the transport section, with session-level fallback.
Result<TransportDescription> read_transport(const sdp::SessionDescription& remote,
                                            const sdp::MediaDescription& m) {
  auto attribute = [&](std::string_view name) -> std::optional<std::string_view> {
    if (auto v = m.attributes.value(name)) return v;
    return remote.attributes.value(name);
  };
  TransportDescription t;
  auto ufrag = attribute("ice-ufrag");
  auto pwd = attribute("ice-pwd");
  if (!ufrag || !pwd || ufrag->empty() || pwd->empty())
    return invalid_access_error("the remote description has no ICE ufrag/pwd");
  // RFC 8839 5.4: 4-256 and 22-256 characters.
  if (ufrag->size() < 4 || ufrag->size() > 256 || pwd->size() < 22 || pwd->size() > 256)
    return invalid_access_error("the remote ICE ufrag/pwd length is out of range");
  t.ice_ufrag = std::string(*ufrag);
  t.ice_pwd = std::string(*pwd);
  t.ice_lite = remote.attributes.has("ice-lite");
  if (auto options = attribute("ice-options")) {
    for (auto o : words(*options)) t.ice_options.emplace_back(o);
  }
  auto fingerprints = m.attributes.values("fingerprint");
  if (fingerprints.empty()) fingerprints = remote.attributes.values("fingerprint");
  for (auto f : fingerprints) {
    auto parsed = dtls::Fingerprint::parse(f);
    if (!parsed) return invalid_access_error("bad fingerprint: " + parsed.error().message());
    t.fingerprints.push_back(std::move(*parsed));
  }
  if (t.fingerprints.empty())
    return invalid_access_error("the remote description has no fingerprint");
  const auto setup = attribute("setup").value_or("actpass");
  if (setup == "actpass") {
    t.setup = DtlsSetup::kActpass;
  } else if (setup == "active") {
    t.setup = DtlsSetup::kActive;
  } else if (setup == "passive") {
    t.setup = DtlsSetup::kPassive;
  } else {
    return invalid_access_error("bad a=setup: " + std::string(setup));
  }
  t.mid = std::string(m.attributes.value("mid").value_or(""));
  for (auto c : m.attributes.values("candidate")) {
    auto parsed = ice::Candidate::parse(c);
    if (!parsed) return invalid_access_error("bad candidate: " + parsed.error().message());
    t.candidates.push_back(std::move(*parsed));
  }
  t.end_of_candidates = m.attributes.has("end-of-candidates");
  return t;
}

// The SCTP parameters of the data section (RFC 8841 5-6).
Result<> read_sctp(const sdp::MediaDescription& m, TransportDescription& t) {
  if (auto port = m.attributes.value("sctp-port")) {
    auto v = number(*port);
    if (!v || *v == 0 || *v > 65535) return invalid_access_error("bad a=sctp-port");
    t.sctp_port = static_cast<std::uint16_t>(*v);
  } else if (m.protocol == "DTLS/SCTP" && !m.formats.empty()) {
    auto v = number(m.formats[0]);
    if (!v || *v == 0 || *v > 65535) return invalid_access_error("bad SCTP port format");
    t.sctp_port = static_cast<std::uint16_t>(*v);
  }
  if (auto size = m.attributes.value("max-message-size")) {
    auto v = number(*size);
    if (!v) return invalid_access_error("bad a=max-message-size");
    // RFC 8841 6: 0 means "no limit" (SIZE_MAX here); W3C maxMessageSize then takes the size
    // of our send buffer.
    t.max_message_size = *v == 0 ? SIZE_MAX : static_cast<std::size_t>(*v);
  }
  return {};
}

}  // namespace

std::string_view to_string(DtlsSetup setup) noexcept {
  switch (setup) {
    case DtlsSetup::kActpass:
      return "actpass";
    case DtlsSetup::kActive:
      return "active";
    case DtlsSetup::kPassive:
      return "passive";
  }
  return "actpass";
}

MediaKind media_kind(std::string_view media) noexcept {
  if (media == "audio") return MediaKind::kAudio;
  if (media == "video") return MediaKind::kVideo;
  if (media == "application") return MediaKind::kApplication;
  return MediaKind::kOther;
}

std::string_view to_string(RtpDirection direction) noexcept {
  switch (direction) {
    case RtpDirection::kSendRecv:
      return "sendrecv";
    case RtpDirection::kSendOnly:
      return "sendonly";
    case RtpDirection::kRecvOnly:
      return "recvonly";
    case RtpDirection::kInactive:
      return "inactive";
  }
  return "inactive";
}

RtpDirection reversed(RtpDirection direction) noexcept {
  if (direction == RtpDirection::kSendOnly) return RtpDirection::kRecvOnly;
  if (direction == RtpDirection::kRecvOnly) return RtpDirection::kSendOnly;
  return direction;
}

bool sends(RtpDirection direction) noexcept {
  return direction == RtpDirection::kSendRecv || direction == RtpDirection::kSendOnly;
}

bool receives(RtpDirection direction) noexcept {
  return direction == RtpDirection::kSendRecv || direction == RtpDirection::kRecvOnly;
}

RtpDirection intersect(RtpDirection a, RtpDirection b) noexcept {
  const bool send = sends(a) && sends(b);
  const bool receive = receives(a) && receives(b);
  if (send && receive) return RtpDirection::kSendRecv;
  if (send) return RtpDirection::kSendOnly;
  if (receive) return RtpDirection::kRecvOnly;
  return RtpDirection::kInactive;
}

bool RemoteDescription::in_bundle(std::string_view mid) const {
  return std::find(bundle.begin(), bundle.end(), mid) != bundle.end();
}

const RemoteSection* RemoteDescription::find_mid(std::string_view mid) const {
  for (const auto& s : sections) {
    if (s.mid == mid) return &s;
  }
  return nullptr;
}

Result<RemoteDescription> read_remote_description(const sdp::SessionDescription& remote,
                                                  std::span<const MSection> offer) {
  const bool is_answer = !offer.empty();
  RemoteDescription out;
  std::set<std::string> mids;
  for (const auto& m : remote.media) {
    RemoteSection s;
    s.kind = media_kind(m.media);
    s.media = m.media;
    s.protocol = m.protocol;
    s.formats = m.formats;
    s.mid = std::string(m.attributes.value("mid").value_or(""));
    s.bundle_only = m.port == 0 && m.attributes.has("bundle-only");
    s.rejected = m.port == 0 && !s.bundle_only;
    s.data_channel = is_data_channel_section(m);
    s.direction = direction_of(m);
    if (s.kind == MediaKind::kAudio || s.kind == MediaKind::kVideo)
      s.rtp = read_rtp_parameters(m.attributes, m.formats);
    // RFC 9143 / JSEP 5.7: every section has a unique mid (one lone section may go without,
    // as older stacks write it).
    if (s.mid.empty() && remote.media.size() > 1 && !s.rejected)
      return invalid_access_error("an m= section has no a=mid");
    if (!s.mid.empty() && !is_valid_mid(s.mid))
      return invalid_access_error("a=mid:" + s.mid + " is not a token");
    if (!s.mid.empty() && !mids.insert(s.mid).second)
      return invalid_access_error("the mid " + s.mid + " is used twice");
    out.sections.push_back(std::move(s));
  }
  for (const auto& group : remote.attributes.all()) {
    if (group.name != "group" || !group.value || !out.bundle.empty()) continue;
    auto ids = words(*group.value);
    if (ids.empty() || ids.front() != "BUNDLE") continue;
    for (std::size_t i = 1; i < ids.size(); ++i) {
      if (mids.count(std::string(ids[i])) == 0)
        return invalid_access_error("the BUNDLE group names an unknown mid " + std::string(ids[i]));
      out.bundle.emplace_back(ids[i]);
    }
  }
  // A later BUNDLE group (more than one transport) is not supported: its sections are
  // outside our bundle and so rejected or unused.
  if (is_answer) {
    // JSEP 5.8 / RFC 3264 6: one answer section per offered section, same kind and mid.
    if (out.sections.size() != offer.size())
      return invalid_access_error("the answer has " + std::to_string(out.sections.size()) +
                                  " m= sections, the offer " + std::to_string(offer.size()));
    for (std::size_t i = 0; i < offer.size(); ++i) {
      const auto& answered = out.sections[i];
      if (answered.media != offer[i].media)
        return invalid_access_error("m= section " + std::to_string(i) + " is " + answered.media +
                                    " in the answer and " + offer[i].media + " in the offer");
      if (!answered.rejected && answered.mid != offer[i].mid && !answered.mid.empty())
        return invalid_access_error("m= section " + std::to_string(i) + " has mid " + answered.mid +
                                    " in the answer and " + offer[i].mid + " in the offer");
      // An answer cannot accept what the offer rejected.
      if (offer[i].rejected) out.sections[i].rejected = true;
    }
  }
  // The transport: the first section of the group that is not rejected (the tagged one),
  // else the data section, else the first section that is not rejected.
  for (const auto& mid : out.bundle) {
    for (std::size_t i = 0; i < out.sections.size(); ++i) {
      if (out.sections[i].mid == mid && !out.sections[i].rejected && !out.transport_section)
        out.transport_section = i;
    }
  }
  std::optional<std::size_t> first_data;
  for (std::size_t i = 0; i < out.sections.size(); ++i) {
    const auto& s = out.sections[i];
    if (!s.data_channel || s.rejected || first_data) continue;
    if (!out.bundle.empty() && !out.in_bundle(s.mid)) continue;
    first_data = i;
  }
  if (!out.transport_section) {
    if (first_data) {
      out.transport_section = first_data;
    } else {
      for (std::size_t i = 0; i < out.sections.size() && !out.transport_section; ++i) {
        if (!out.sections[i].rejected) out.transport_section = i;
      }
    }
  }
  if (!out.transport_section) return out;  // nothing to connect
  const auto& tm = remote.media[*out.transport_section];
  if (tm.port == 0 && tm.attributes.has("bundle-only"))
    return invalid_access_error("the BUNDLE-tagged m= section is bundle-only");
  auto transport = read_transport(remote, tm);
  if (!transport) return std::move(transport).error();
  if (first_data && (out.bundle.empty() ? *first_data == *out.transport_section : true)) {
    if (auto ok = read_sctp(remote.media[*first_data], *transport); !ok) return ok.error();
    out.data_section = first_data;
  }
  out.transport = std::move(*transport);
  return out;
}

Result<dtls::DtlsRole> negotiate_dtls_role(DtlsSetup local, DtlsSetup remote,
                                           bool local_is_offerer) {
  const DtlsSetup answer = local_is_offerer ? remote : local;
  if (answer == DtlsSetup::kActpass)
    return invalid_access_error("an answer cannot say a=setup:actpass");
  const bool answerer_is_client = answer == DtlsSetup::kActive;
  const bool local_is_client = local_is_offerer ? !answerer_is_client : answerer_is_client;
  return local_is_client ? dtls::DtlsRole::kClient : dtls::DtlsRole::kServer;
}

MSection section_of(const RemoteSection& remote) {
  MSection m;
  m.kind = remote.kind;
  m.media = remote.media;
  m.protocol = remote.protocol;
  m.formats = remote.formats;
  m.mid = remote.mid;
  m.rejected = remote.rejected;
  m.data = remote.data_channel;
  return m;
}

}  // namespace rtcpp::pc
