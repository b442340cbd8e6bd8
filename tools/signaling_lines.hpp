// The peer contract's signaling lines (docs/peer-contract.md): one JSON object a line on
// stdin, written by a remote side that may send anything. Kept apart from the peer so that
// the parsing is a plain function, tested and fuzzed without threads or sockets.
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <variant>

#include "rtcpp/error.hpp"
#include "rtcpp/ice_candidate.hpp"
#include "rtcpp/session_description.hpp"

namespace rtcpp::tools {

// {"type":"offer"|"answer","sdp":"..."}.
struct DescriptionLine {
  RTCSdpType type = RTCSdpType::kOffer;
  std::string sdp;
};
// {"type":"candidate",...}: an RTCIceCandidateInit; "" is end-of-candidates. With neither
// sdpMid nor sdpMLineIndex it belongs to the first m-line.
struct CandidateLine {
  RTCIceCandidateInit init;
};
// {"type":"bye"}.
struct ByeLine {};
// Any other type: the contract has the peer ignore it.
struct UnknownLine {
  std::string type;
};
using SignalingLine = std::variant<DescriptionLine, CandidateLine, ByeLine, UnknownLine>;

// A line that is not a JSON object with a string "type", or a description without a string
// "sdp", is an error whose message is the peer's stderr line for it.
Result<SignalingLine> parse_signaling_line(std::string_view line);

// Far above any real description (a few hundred KiB at most), far below what hurts.
inline constexpr std::size_t kMaxSignalingLine = std::size_t{8} * 1024 * 1024;
enum class LineRead { kLine, kTooLong, kEnd };
// std::getline with a bound: a line longer than max_bytes is read to its end and dropped
// (kTooLong), never held whole, so that a stdin without newlines cannot take all memory.
LineRead read_signaling_line(std::istream& in, std::string& line,
                             std::size_t max_bytes = kMaxSignalingLine);

}  // namespace rtcpp::tools
