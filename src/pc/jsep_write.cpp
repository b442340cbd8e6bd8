// Writing our offers and answers (RFC 8829 5.2 and 5.3) from the session's sections.
#include <algorithm>
#include <charconv>
#include <set>

#include "pc/jsep.hpp"

namespace rtcpp::pc {
namespace {

void add_transport_attributes(sdp::MediaDescription& m, const TransportDescription& t) {
  m.attributes.add("ice-ufrag", t.ice_ufrag);
  m.attributes.add("ice-pwd", t.ice_pwd);
  if (!t.ice_options.empty()) {
    std::string options;
    for (const auto& o : t.ice_options) options += (options.empty() ? "" : " ") + o;
    m.attributes.add("ice-options", options);
  }
  for (const auto& f : t.fingerprints) m.attributes.add("fingerprint", f.to_sdp());
  m.attributes.add("setup", std::string(to_string(t.setup)));
}

void add_candidates(sdp::MediaDescription& m, const TransportDescription& t) {
  for (const auto& c : t.candidates) {
    const std::string line = c.to_string();
    m.attributes.add("candidate", line.substr(std::string_view("candidate:").size()));
  }
  if (t.end_of_candidates) m.attributes.add("end-of-candidates");
}

sdp::MediaDescription write_section(const MSection& s, const TransportDescription& transport,
                                    bool carries_candidates) {
  sdp::MediaDescription m;
  m.media = s.media;
  m.protocol = s.protocol;
  m.formats = s.formats;
  m.connections.push_back({"IN", "IP4", "0.0.0.0"});
  if (s.rejected) {
    // JSEP 5.2.2 / 5.3.1: port zero, the mid kept, at least one format.
    m.port = 0;
    if (m.formats.empty()) m.formats.push_back("0");
    if (!s.mid.empty()) m.attributes.add("mid", s.mid);
    if (s.kind == MediaKind::kAudio || s.kind == MediaKind::kVideo) m.attributes.add("inactive");
    return m;
  }
  m.port = 9;
  if (s.kind != MediaKind::kApplication) m.attributes.add("rtcp", "9 IN IP4 0.0.0.0");
  add_transport_attributes(m, transport);
  m.attributes.add("mid", s.mid);
  if (s.data) {
    m.attributes.add("sctp-port", std::to_string(transport.sctp_port));
    m.attributes.add("max-message-size", std::to_string(transport.max_message_size));
  } else {
    m.attributes.add(std::string(to_string(s.direction)));
    m.attributes.add("rtcp-mux");
    m.attributes.add("rtcp-rsize");
    for (auto& a : rtp_attributes(s.rtp)) m.attributes.add(std::move(a.name), std::move(a.value));
  }
  if (carries_candidates) add_candidates(m, transport);
  return m;
}

}  // namespace

MSection media_section(MediaKind kind, std::string mid, std::uint32_t transceiver,
                       RtpDirection direction) {
  MSection s;
  s.kind = kind;
  s.media = kind == MediaKind::kAudio ? "audio" : "video";
  s.protocol = "UDP/TLS/RTP/SAVPF";
  s.mid = std::move(mid);
  s.transceiver = transceiver;
  s.direction = direction;
  s.rtp = local_rtp_parameters(kind);
  s.formats = payload_types(s.rtp);
  return s;
}

MSection data_section(std::string mid) {
  MSection s;
  s.mid = std::move(mid);
  s.data = true;
  return s;
}

std::string unused_mid(std::span<const MSection> sections) {
  std::set<std::uint64_t> used;
  for (const auto& s : sections) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.mid.data(), s.mid.data() + s.mid.size(), v);
    if (ec == std::errc() && p == s.mid.data() + s.mid.size()) used.insert(v);
  }
  std::uint64_t candidate = 0;
  while (used.count(candidate) != 0) ++candidate;
  return std::to_string(candidate);
}

std::vector<std::string> offer_bundle(std::span<const MSection> sections) {
  std::vector<std::string> bundle;
  for (const auto& s : sections) {
    if (!s.rejected) bundle.push_back(s.mid);
  }
  return bundle;
}

std::string write_description(const LocalDescriptionOptions& options,
                              std::span<const MSection> sections,
                              std::span<const std::string> bundle) {
  sdp::SessionDescription sd;
  sd.origin = {"rtcpp",
               std::to_string(options.session_id),
               std::to_string(options.session_version),
               "IN",
               "IP4",
               "127.0.0.1"};
  if (!bundle.empty()) {
    std::string group = "BUNDLE";
    for (const auto& mid : bundle) group += " " + mid;
    sd.attributes.add("group", group);
  }
  sd.attributes.add("msid-semantic", " WMS");
  // Candidates go with the section that carries the transport: the first bundled one, or
  // the first accepted one without a group.
  std::string candidate_mid;
  if (!bundle.empty()) {
    candidate_mid = bundle.front();
  } else {
    for (const auto& s : sections) {
      if (!s.rejected) {
        candidate_mid = s.mid;
        break;
      }
    }
  }
  bool candidates_written = false;
  for (const auto& s : sections) {
    const bool carries = !candidates_written && !s.rejected && s.mid == candidate_mid;
    candidates_written = candidates_written || carries;
    sd.media.push_back(write_section(s, options.transport, carries));
  }
  return sd.to_string();
}

}  // namespace rtcpp::pc
