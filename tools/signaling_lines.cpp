#include "tools/signaling_lines.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>

namespace rtcpp::tools {

Result<SignalingLine> parse_signaling_line(std::string_view line) {
  // Without exceptions: a bad line is a discarded value, not a throw. Ordered, as the peer
  // has always read them.
  const auto msg = nlohmann::ordered_json::parse(line, nullptr, false);
  if (msg.is_discarded() || !msg.is_object())
    return syntax_error("ignoring malformed signaling line");
  const auto type_it = msg.find("type");
  if (type_it == msg.end() || !type_it->is_string())
    return syntax_error("ignoring malformed signaling line");
  const auto& type = type_it->get_ref<const std::string&>();
  if (type == "offer" || type == "answer") {
    const auto sdp = msg.find("sdp");
    if (sdp == msg.end() || !sdp->is_string()) return syntax_error(type + " without sdp");
    return SignalingLine{DescriptionLine{type == "offer" ? RTCSdpType::kOffer : RTCSdpType::kAnswer,
                                         sdp->get<std::string>()}};
  }
  if (type == "candidate") {
    CandidateLine out;
    if (const auto c = msg.find("candidate"); c != msg.end() && c->is_string())
      out.init.candidate = c->get<std::string>();
    if (const auto mid = msg.find("sdpMid"); mid != msg.end() && mid->is_string())
      out.init.sdp_mid = mid->get<std::string>();
    if (const auto index = msg.find("sdpMLineIndex"); index != msg.end() && !index->is_null()) {
      // An unsigned short (W3C RTCIceCandidateInit). Anything else used to be cut to 16 bits
      // or dropped, which put the candidate on the wrong m-line (70000 read as 4464).
      if (!index->is_number_unsigned() || index->get<std::uint64_t>() > 0xffff)
        return syntax_error("ignoring candidate with a bad sdpMLineIndex");
      out.init.sdp_m_line_index = static_cast<std::uint16_t>(index->get<std::uint64_t>());
    }
    if (!out.init.sdp_mid && !out.init.sdp_m_line_index) out.init.sdp_m_line_index = 0;
    return SignalingLine{std::move(out)};
  }
  if (type == "bye") return SignalingLine{ByeLine{}};
  return SignalingLine{UnknownLine{type}};
}

}  // namespace rtcpp::tools
