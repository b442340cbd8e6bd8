// The `rtcpp peer` signaling lines from stdin (docs/peer-contract.md): the input is read
// line by line as the peer reads its stdin. Never crash; a line read as a description or a
// candidate, written back out as the peer writes its own, reads back the same.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tools/signaling_lines.hpp"

namespace {

using namespace rtcpp;
using json = nlohmann::ordered_json;

std::string write_line(const tools::SignalingLine& line) {
  json j;
  if (const auto* d = std::get_if<tools::DescriptionLine>(&line)) {
    // Only offers and answers come out (to_string is the API's, not in the fuzz build).
    j = {{"type", d->type == RTCSdpType::kOffer ? "offer" : "answer"}, {"sdp", d->sdp}};
  } else if (const auto* c = std::get_if<tools::CandidateLine>(&line)) {
    j = {{"type", "candidate"}, {"candidate", c->init.candidate}};
    if (c->init.sdp_mid) j["sdpMid"] = *c->init.sdp_mid;
    if (c->init.sdp_m_line_index) j["sdpMLineIndex"] = *c->init.sdp_m_line_index;
  } else if (std::holds_alternative<tools::ByeLine>(line)) {
    j = {{"type", "bye"}};
  } else {
    j = {{"type", std::get<tools::UnknownLine>(line).type}};
  }
  // Throws (and so aborts the run) on a string that is not UTF-8: none may come out of a
  // line that parsed.
  return j.dump();
}

bool same(const tools::SignalingLine& a, const tools::SignalingLine& b) {
  if (a.index() != b.index()) return false;
  if (const auto* d = std::get_if<tools::DescriptionLine>(&a)) {
    const auto& e = std::get<tools::DescriptionLine>(b);
    return d->type == e.type && d->sdp == e.sdp;
  }
  if (const auto* c = std::get_if<tools::CandidateLine>(&a)) {
    const auto& e = std::get<tools::CandidateLine>(b);
    return c->init.candidate == e.init.candidate && c->init.sdp_mid == e.init.sdp_mid &&
           c->init.sdp_m_line_index == e.init.sdp_m_line_index;
  }
  if (const auto* u = std::get_if<tools::UnknownLine>(&a))
    return u->type == std::get<tools::UnknownLine>(b).type;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Lines as the peer reads them from stdin.
  std::vector<std::string> lines;
  {
    std::istringstream in(text);
    std::string line;
    while (tools::read_signaling_line(in, line) == tools::LineRead::kLine) lines.push_back(line);
  }
  // Again with a bound that inputs reach (libFuzzer's stay short): the same lines, those
  // longer than the bound dropped whole.
  {
    constexpr std::size_t kBound = 64;
    std::istringstream in(text);
    std::string line;
    std::size_t n = 0;
    for (auto read = tools::read_signaling_line(in, line, kBound); read != tools::LineRead::kEnd;
         read = tools::read_signaling_line(in, line, kBound), ++n) {
      if (n >= lines.size()) std::abort();
      const bool too_long = lines[n].size() > kBound;
      if (too_long != (read == tools::LineRead::kTooLong)) std::abort();
      if (too_long ? !line.empty() : line != lines[n]) std::abort();
    }
    if (n != lines.size()) std::abort();
  }
  for (const auto& line : lines) {
    auto parsed = tools::parse_signaling_line(line);
    if (!parsed) continue;
    if (const auto* d = std::get_if<tools::DescriptionLine>(&*parsed);
        d && d->type != RTCSdpType::kOffer && d->type != RTCSdpType::kAnswer)
      std::abort();
    if (const auto* c = std::get_if<tools::CandidateLine>(&*parsed)) {
      if (!c->init.sdp_mid && !c->init.sdp_m_line_index) std::abort();
      // The index read is the index sent, never a value cut to 16 bits.
      const auto j = json::parse(line);
      if (j.contains("sdpMLineIndex") && !j["sdpMLineIndex"].is_null() &&
          j["sdpMLineIndex"].get<std::uint64_t>() != c->init.sdp_m_line_index)
        std::abort();
    }
    auto again = tools::parse_signaling_line(write_line(*parsed));
    if (!again || !same(*again, *parsed)) std::abort();
  }
  return 0;
}
