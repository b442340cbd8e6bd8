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

LineRead read_signaling_line(std::istream& in, std::string& line, std::size_t max_bytes) {
  line.clear();
  bool any = false;
  bool too_long = false;
  std::streambuf* buf = in.rdbuf();
  while (true) {
    const auto c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      if (!any) return LineRead::kEnd;
      break;
    }
    any = true;
    if (c == '\n') break;
    if (too_long) continue;
    if (line.size() == max_bytes) {
      too_long = true;
      line.clear();
      line.shrink_to_fit();
      continue;
    }
    line.push_back(std::char_traits<char>::to_char_type(c));
  }
  return too_long ? LineRead::kTooLong : LineRead::kLine;
}

}  // namespace rtcpp::tools
