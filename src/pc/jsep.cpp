#include "pc/jsep.hpp"

#include <charconv>

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
  m.attributes.add("mid", t.mid);
  m.attributes.add("sctp-port", std::to_string(t.sctp_port));
  m.attributes.add("max-message-size", std::to_string(t.max_message_size));
  for (const auto& c : t.candidates) {
    const std::string line = c.to_string();
    m.attributes.add("candidate", line.substr(std::string_view("candidate:").size()));
  }
  if (t.end_of_candidates) m.attributes.add("end-of-candidates");
}

sdp::SessionDescription skeleton(const LocalDescriptionOptions& o) {
  sdp::SessionDescription sd;
  sd.origin = {
      "rtcpp",    std::to_string(o.session_id), std::to_string(o.session_version), "IN", "IP4",
      "127.0.0.1"};
  return sd;
}

sdp::MediaDescription data_section(const TransportDescription& t) {
  sdp::MediaDescription m;
  m.media = "application";
  m.port = 9;
  m.protocol = "UDP/DTLS/SCTP";
  m.formats = {"webrtc-datachannel"};
  m.connections.push_back({"IN", "IP4", "0.0.0.0"});
  add_transport_attributes(m, t);
  return m;
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

std::string build_offer(const LocalDescriptionOptions& options) {
  auto sd = skeleton(options);
  sd.attributes.add("group", "BUNDLE " + options.transport.mid);
  sd.attributes.add("msid-semantic", " WMS");
  sd.media.push_back(data_section(options.transport));
  return sd.to_string();
}

Result<std::string> build_answer(const LocalDescriptionOptions& options,
                                 const sdp::SessionDescription& remote_offer) {
  auto sd = skeleton(options);
  bool answered_data = false;
  std::string bundle;
  // RFC 8829 5.3.1: one m= section per offered one, in order; ours accepts the data section
  // and rejects the rest (port 0) for now.
  for (const auto& offered : remote_offer.media) {
    const std::string mid(offered.attributes.value("mid").value_or(""));
    if (!answered_data && is_data_channel_section(offered)) {
      TransportDescription t = options.transport;
      t.mid = mid;
      sd.media.push_back(data_section(t));
      answered_data = true;
      bundle = mid;
      continue;
    }
    sdp::MediaDescription rejected;
    rejected.media = offered.media;
    rejected.port = 0;
    rejected.protocol = offered.protocol;
    rejected.formats = offered.formats;
    rejected.connections.push_back({"IN", "IP4", "0.0.0.0"});
    if (!mid.empty()) rejected.attributes.add("mid", mid);
    rejected.attributes.add("inactive");
    sd.media.push_back(std::move(rejected));
  }
  if (!answered_data) return not_supported_error("the offer has no data channel section");
  sd.attributes.all().insert(sd.attributes.all().begin(), {"group", "BUNDLE " + bundle});
  return sd.to_string();
}

Result<TransportDescription> read_remote_transport(const sdp::SessionDescription& remote) {
  const sdp::MediaDescription* m = nullptr;
  for (const auto& section : remote.media) {
    if (is_data_channel_section(section) && section.port != 0) {
      m = &section;
      break;
    }
  }
  if (m == nullptr)
    return invalid_access_error("no data channel m= section in the remote description");
  auto attribute = [&](std::string_view name) -> std::optional<std::string_view> {
    if (auto v = m->attributes.value(name)) return v;
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
    std::size_t i = 0;
    while (i < options->size()) {
      auto end = options->find(' ', i);
      if (end == std::string_view::npos) end = options->size();
      if (end > i) t.ice_options.emplace_back(options->substr(i, end - i));
      i = end + 1;
    }
  }
  auto fingerprints = m->attributes.values("fingerprint");
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
  t.mid = std::string(m->attributes.value("mid").value_or(""));
  if (auto port = m->attributes.value("sctp-port")) {
    auto v = number(*port);
    if (!v || *v == 0 || *v > 65535) return invalid_access_error("bad a=sctp-port");
    t.sctp_port = static_cast<std::uint16_t>(*v);
  } else if (m->protocol == "DTLS/SCTP" && !m->formats.empty()) {
    auto v = number(m->formats[0]);
    if (!v || *v == 0 || *v > 65535) return invalid_access_error("bad SCTP port format");
    t.sctp_port = static_cast<std::uint16_t>(*v);
  }
  if (auto size = m->attributes.value("max-message-size")) {
    auto v = number(*size);
    if (!v) return invalid_access_error("bad a=max-message-size");
    // RFC 8841 6: 0 means "no limit"; we still bound what we send ourselves elsewhere.
    t.max_message_size = *v == 0 ? SIZE_MAX : static_cast<std::size_t>(*v);
  }
  for (auto c : m->attributes.values("candidate")) {
    auto parsed = ice::Candidate::parse(c);
    if (!parsed) return invalid_access_error("bad candidate: " + parsed.error().message());
    t.candidates.push_back(std::move(*parsed));
  }
  t.end_of_candidates = m->attributes.has("end-of-candidates");
  return t;
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

}  // namespace rtcpp::pc
