#include "pc/rtp_parameters.hpp"

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "pc/jsep.hpp"
#include "rtp/h264_profile.hpp"

namespace rtcpp::pc {
namespace {

template <typename T>
std::optional<T> number(std::string_view text) {
  T value{};
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint8_t> payload_type(std::string_view text) {
  auto value = number<unsigned>(text);
  // RFC 3550 5.1: seven bits; RFC 5761 4 keeps 64-95 apart from RTCP with rtcp-mux.
  if (!value || *value > 127 || (*value >= 64 && *value <= 95)) return std::nullopt;
  return static_cast<std::uint8_t>(*value);
}

// "<pt> <rest>" of rtpmap, fmtp and rtcp-fb values.
std::optional<std::pair<std::uint8_t, std::string_view>> split_format(std::string_view value) {
  const auto space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto pt = payload_type(value.substr(0, space));
  if (!pt) return std::nullopt;
  return std::pair{*pt, value.substr(space + 1)};
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The codecs rtcpp can carry, by kind (RFC 7741 VP8; RFC 7587 Opus; RFC 3551 G.711).
bool supported(MediaKind kind, const RtpCodec& codec) {
  if (kind == MediaKind::kVideo) {
    if (codec.clock_rate != 90000) return false;
    // VP8, VP9 (any profile) and AV1 frames are carried as they are.
    if (same_name(codec.name, "VP8") || same_name(codec.name, "VP9") ||
        same_name(codec.name, "AV1"))
      return true;
    // H.264 frames are carried as they are, whatever the profile; the packetization modes
    // are 0 and 1 (RFC 6184 6.2, 6.3), not the interleaved 2.
    if (same_name(codec.name, "H264")) {
      auto fmtp = rtp::parse_h264_fmtp(codec.parameters);
      return fmtp && fmtp->packetization_mode <= 1;
    }
    return false;
  }
  if (kind == MediaKind::kAudio)
    return (same_name(codec.name, "opus") && codec.clock_rate == 48000 && codec.channels == 2) ||
           (same_name(codec.name, "PCMU") && codec.clock_rate == 8000) ||
           (same_name(codec.name, "PCMA") && codec.clock_rate == 8000) ||
           // RFC 4733 DTMF, at the clock rate of Opus or of G.711.
           (same_name(codec.name, "telephone-event") &&
            (codec.clock_rate == 48000 || codec.clock_rate == 8000));
  return false;
}

// The RTCP feedback we act on (RFC 4585 NACK and PLI, RFC 5104 FIR, transport-wide congestion
// control feedback).
bool supported_feedback(std::string_view fb) {
  return fb == "nack" || fb == "nack pli" || fb == "ccm fir" || fb == "transport-cc";
}

}  // namespace

const RtpCodec* RtpParameters::find_codec(std::uint8_t pt) const {
  for (const auto& c : codecs)
    if (c.payload_type == pt) return &c;
  return nullptr;
}

std::optional<std::uint8_t> RtpParameters::extension_id(std::string_view uri) const {
  for (const auto& e : extensions)
    if (e.uri == uri) return e.id;
  return std::nullopt;
}

RtpParameters read_rtp_parameters(const sdp::AttributeList& attributes,
                                  std::span<const std::string> formats) {
  std::map<std::uint8_t, RtpCodec> by_type;
  std::map<std::uint8_t, std::uint8_t> rtx_of;  // rtx pt -> apt
  for (const auto& value : attributes.values("rtpmap")) {
    auto format = split_format(value);
    if (!format) continue;
    // "<name>/<clock rate>[/<channels>]"
    const std::string_view encoding = format->second;
    const auto slash = encoding.find('/');
    if (slash == std::string_view::npos || slash == 0) continue;
    const std::string_view rest = encoding.substr(slash + 1);
    const auto slash2 = rest.find('/');
    auto rate = number<std::uint32_t>(rest.substr(0, slash2));
    if (!rate || *rate == 0) continue;
    RtpCodec codec;
    codec.payload_type = format->first;
    codec.name = std::string(encoding.substr(0, slash));
    codec.clock_rate = *rate;
    if (slash2 != std::string_view::npos) {
      auto channels = number<std::uint16_t>(rest.substr(slash2 + 1));
      if (!channels || *channels == 0) continue;
      codec.channels = *channels;
    }
    by_type[codec.payload_type] = std::move(codec);
  }
  // RFC 3551 6: the static types a peer may leave without rtpmap.
  for (const auto& f : formats) {
    auto pt = payload_type(f);
    if (!pt || by_type.count(*pt) != 0) continue;
    if (*pt == 0) by_type[0] = RtpCodec{0, "PCMU", 8000, 1, {}, {}, {}};
    if (*pt == 8) by_type[8] = RtpCodec{8, "PCMA", 8000, 1, {}, {}, {}};
  }
  for (const auto& value : attributes.values("fmtp")) {
    auto format = split_format(value);
    if (!format) continue;
    auto it = by_type.find(format->first);
    if (it == by_type.end()) continue;
    it->second.parameters = std::string(format->second);
    if (same_name(it->second.name, "rtx") && format->second.starts_with("apt=")) {
      if (auto apt = payload_type(format->second.substr(4))) rtx_of[format->first] = *apt;
    }
  }
  for (const auto& value : attributes.values("rtcp-fb")) {
    auto format = split_format(value);
    if (!format) continue;
    if (auto it = by_type.find(format->first); it != by_type.end())
      it->second.feedback.emplace_back(format->second);
  }
  RtpParameters out;
  for (const auto& f : formats) {
    auto pt = payload_type(f);
    if (!pt) continue;
    auto it = by_type.find(*pt);
    if (it == by_type.end() || same_name(it->second.name, "rtx")) continue;
    if (out.find_codec(*pt) != nullptr) continue;
    RtpCodec codec = it->second;
    for (const auto& [rtx, apt] : rtx_of) {
      if (apt == *pt &&
          std::find(formats.begin(), formats.end(), std::to_string(rtx)) != formats.end())
        codec.rtx_payload_type = rtx;
    }
    out.codecs.push_back(std::move(codec));
  }
  for (const auto& value : attributes.values("extmap")) {
    // "<id>[/<direction>] <uri> [<attributes>]" (RFC 8285 8)
    const auto space = value.find(' ');
    if (space == std::string_view::npos) continue;
    const auto id_end = value.find_first_of("/ ");
    auto id = number<unsigned>(value.substr(0, id_end));
    if (!id || *id == 0 || *id > 255) continue;
    std::string_view direction;
    if (value[id_end] == '/') direction = value.substr(id_end + 1, space - id_end - 1);
    if (!direction.empty() && direction != "sendonly" && direction != "recvonly" &&
        direction != "sendrecv" && direction != "inactive")
      continue;
    std::string_view uri = value.substr(space + 1);
    uri = uri.substr(0, uri.find(' '));
    if (uri.empty()) continue;
    out.extensions.push_back(
        {static_cast<std::uint8_t>(*id), std::string(uri), std::string(direction)});
  }
  for (const auto& value : attributes.values("ssrc")) {
    // "<ssrc> <attribute>[:<value>]" (RFC 5576 4.1)
    const auto space = value.find(' ');
    auto ssrc = number<std::uint32_t>(value.substr(0, space));
    if (!ssrc) continue;
    if (std::find(out.ssrcs.begin(), out.ssrcs.end(), *ssrc) == out.ssrcs.end())
      out.ssrcs.push_back(*ssrc);
    if (space != std::string_view::npos && value.substr(space + 1).starts_with("cname:") &&
        out.cname.empty())
      out.cname = std::string(value.substr(space + 1 + 6));
  }
  for (const auto& msid : attributes.values("msid")) {
    if (out.msids.size() == kMaxMsids) break;  // a hostile description's thousand streams
    out.msids.emplace_back(msid.substr(0, 512));
  }
  return out;
}

RtpParameters local_rtp_parameters(MediaKind kind) {
  RtpParameters p;
  if (kind == MediaKind::kAudio) {
    // Telephone events (RFC 4733) at each audio clock rate, for DTMF: the sixteen DTMF events.
    p.codecs = {{111, "opus", 48000, 2, "minptime=10;useinbandfec=1", {"transport-cc"}, {}},
                {0, "PCMU", 8000, 1, {}, {}, {}},
                {8, "PCMA", 8000, 1, {}, {}, {}},
                {110, "telephone-event", 48000, 1, "0-15", {}, {}},
                {126, "telephone-event", 8000, 1, "0-15", {}, {}}};
  } else {
    const std::vector<std::string> feedback{"nack", "nack pli", "ccm fir", "transport-cc"};
    p.codecs = {
        {96, "VP8", 90000, 1, {}, feedback, 97},
        // Constrained Baseline 3.1, what every browser decodes.
        {102, "H264", 90000, 1,
         "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", feedback, 103},
        {98, "VP9", 90000, 1, "profile-id=0", feedback, 99},
        {35, "AV1", 90000, 1, {}, feedback, 36}};
  }
  // Ids as Chromium numbers them, so that a bundle with its sections agrees on them.
  p.extensions = {{3, std::string(rtp::kTransportWideCcUri), {}},
                  {4, std::string(kMidExtensionUri), {}}};
  if (kind == MediaKind::kAudio) {
    p.extensions.push_back({1, std::string(rtp::kSsrcAudioLevelUri), {}});
    p.extensions.push_back({2, std::string(rtp::kCsrcAudioLevelUri), {}});
  }
  return p;
}

std::optional<RtpParameters> answer_rtp_parameters(MediaKind kind, const RtpParameters& offered) {
  RtpParameters answer;
  for (const auto& codec : offered.codecs) {
    if (!supported(kind, codec)) continue;
    RtpCodec taken = codec;
    std::erase_if(taken.feedback, [](const std::string& fb) { return !supported_feedback(fb); });
    answer.codecs.push_back(std::move(taken));
  }
  if (answer.codecs.empty()) return std::nullopt;
  for (const auto& e : offered.extensions) {
    const bool audio_level = e.uri == rtp::kSsrcAudioLevelUri || e.uri == rtp::kCsrcAudioLevelUri;
    const bool both_kinds = e.uri == kMidExtensionUri || e.uri == rtp::kTransportWideCcUri;
    if (!both_kinds && !(kind == MediaKind::kAudio && audio_level)) continue;
    RtpHeaderExtension taken = e;
    if (e.direction == "recvonly") taken.direction = "sendonly";
    if (e.direction == "sendonly") taken.direction = "recvonly";
    answer.extensions.push_back(std::move(taken));
  }
  return answer;
}

bool preference_matches(const CodecPreference& preference, const RtpCodec& codec) {
  if (!same_name(preference.name, codec.name) || preference.clock_rate != codec.clock_rate ||
      preference.channels != codec.channels)
    return false;
  if (preference.parameters.empty()) return true;
  if (same_name(codec.name, "H264"))
    return rtp::h264_formats_match(preference.parameters, codec.parameters);
  return preference.parameters == codec.parameters;
}

std::vector<CodecPreference> codec_capabilities(MediaKind kind) {
  std::vector<CodecPreference> out;
  const RtpParameters local = local_rtp_parameters(kind);
  bool rtx = false;
  for (const auto& c : local.codecs) {
    out.push_back({c.name, c.clock_rate, c.channels, c.parameters});
    rtx = rtx || c.rtx_payload_type.has_value();
  }
  if (rtx) out.push_back({"rtx", 90000, 1, {}});
  return out;
}

RtpParameters prefer_codecs(const RtpParameters& parameters,
                            std::span<const CodecPreference> preferences) {
  RtpParameters out = parameters;
  out.codecs.clear();
  std::vector<bool> taken(parameters.codecs.size(), false);
  for (const auto& preference : preferences) {
    for (std::size_t i = 0; i < parameters.codecs.size(); ++i) {
      if (taken[i] || !preference_matches(preference, parameters.codecs[i])) continue;
      taken[i] = true;
      out.codecs.push_back(parameters.codecs[i]);
    }
  }
  return out;
}

std::vector<std::string> payload_types(const RtpParameters& parameters) {
  std::vector<std::string> out;
  for (const auto& c : parameters.codecs) {
    out.push_back(std::to_string(c.payload_type));
    if (c.rtx_payload_type) out.push_back(std::to_string(*c.rtx_payload_type));
  }
  return out;
}

std::vector<sdp::Attribute> rtp_attributes(const RtpParameters& parameters) {
  std::vector<sdp::Attribute> out;
  for (const auto& e : parameters.extensions)
    out.push_back({"extmap", std::to_string(e.id) + (e.direction.empty() ? "" : "/" + e.direction) +
                                 " " + e.uri});
  for (const auto& c : parameters.codecs) {
    const std::string pt = std::to_string(c.payload_type);
    std::string encoding = pt + " " + c.name + "/" + std::to_string(c.clock_rate);
    if (c.channels > 1) encoding += "/" + std::to_string(c.channels);
    out.push_back({"rtpmap", encoding});
    if (!c.parameters.empty()) out.push_back({"fmtp", pt + " " + c.parameters});
    for (const auto& fb : c.feedback) out.push_back({"rtcp-fb", pt + " " + fb});
    if (c.rtx_payload_type) {
      const std::string rtx = std::to_string(*c.rtx_payload_type);
      out.push_back({"rtpmap", rtx + " rtx/" + std::to_string(c.clock_rate)});
      out.push_back({"fmtp", rtx + " apt=" + pt});
    }
  }
  if (!parameters.ssrcs.empty()) {
    if (parameters.ssrcs.size() > 1) {
      std::string group = "FID";
      for (const auto s : parameters.ssrcs) group += " " + std::to_string(s);
      out.push_back({"ssrc-group", group});
    }
    for (const auto s : parameters.ssrcs)
      out.push_back({"ssrc", std::to_string(s) + " cname:" + parameters.cname});
  }
  for (const auto& msid : parameters.msids) out.push_back({"msid", msid});
  return out;
}

}  // namespace rtcpp::pc
