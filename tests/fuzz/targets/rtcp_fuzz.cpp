// RTCP compounds from the network: never crash; the walk and the split agree; every message
// that parses writes back (within the size it came in) and parses to the same value.
#include <cstdint>
#include <cstdlib>

#include "rtp/rtcp_packet.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  auto packets = split_rtcp_compound(input);
  auto compound = parse_rtcp_compound(input);
  if (packets.has_value() != compound.has_value()) std::abort();
  if (!packets) return 0;

  std::size_t walked = 0;
  std::size_t total = 0;
  RtcpCompoundReader reader(input);
  while (true) {
    auto next = reader.next();
    if (!next) std::abort();  // the split succeeded
    if (!*next) break;
    const RtcpPacketView& p = **next;
    if (p.type != (*packets)[walked].type || p.bytes.size() != (*packets)[walked].bytes.size())
      std::abort();
    if (p.body.size() + kRtcpHeaderSize > p.bytes.size()) std::abort();
    total += p.bytes.size();
    ++walked;
  }
  if (walked != packets->size() || total != size) std::abort();
  if (compound->messages.size() + compound->unknown_skipped + compound->malformed_skipped !=
      packets->size())
    std::abort();

  for (const RtcpMessage& message : compound->messages) {
    Buffer out;
    ByteWriter writer(out);
    if (!write_rtcp(message, writer)) std::abort();
    if (out.size() != rtcp_size(message)) std::abort();
    // Written with no more bytes than it came in, except transport-cc feedback, whose writer
    // picks its own chunks (the statuses and deltas are what must come back).
    if (out.size() > size && !std::holds_alternative<TransportFeedback>(message)) std::abort();
    auto again = parse_rtcp_compound(out);
    if (!again || again->messages.size() != 1 || !(again->messages[0] == message)) std::abort();
  }
  return 0;
}
