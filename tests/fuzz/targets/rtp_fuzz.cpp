// RTP packets from the network: never crash; the views stay inside the packet and add up to
// it; what parses rebuilds (through RtpPacketBuilder) into a packet that parses to the same
// fields, extension elements and payload.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rtp/rtp_packet.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

namespace {

bool inside(BytesView part, BytesView whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

std::vector<HeaderExtension> elements(const RtpPacketView& packet) {
  std::vector<HeaderExtension> out;
  auto it = packet.extensions();
  while (auto e = it.next()) out.push_back(*e);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  auto packet = parse_rtp_packet(input);
  if (!packet) return 0;
  if (packet->header_size + packet->payload.size() + packet->padding_size != size) std::abort();
  if (!inside(packet->payload, input) || !inside(packet->extension_data, input)) std::abort();
  if (packet->csrc_count > kMaxCsrcs || packet->payload_type > kMaxPayloadType) std::abort();

  const auto original = elements(*packet);
  RtpPacketBuilder builder;
  builder.set_marker(packet->marker)
      .set_payload_type(packet->payload_type)
      .set_sequence_number(packet->sequence_number)
      .set_timestamp(packet->timestamp)
      .set_ssrc(packet->ssrc)
      .set_payload(packet->payload)
      .set_padding(static_cast<std::uint8_t>(packet->padding_size));
  for (std::size_t i = 0; i < packet->csrc_count; ++i) builder.add_csrc(packet->csrcs[i]);
  for (const auto& e : original) {
    if (!inside(e.data, packet->extension_data)) std::abort();
    if (!packet->extension(e.id)) std::abort();
    builder.add_extension(e.id, e.data);
  }
  Buffer out;
  // The builder refuses what it cannot write (repeated ids, too many elements); the parser
  // accepts them, so only those cases may fail.
  if (!builder.write(out)) return 0;
  auto again = parse_rtp_packet(out);
  if (!again) std::abort();
  if (again->marker != packet->marker || again->payload_type != packet->payload_type ||
      again->sequence_number != packet->sequence_number || again->timestamp != packet->timestamp ||
      again->ssrc != packet->ssrc || again->csrc_count != packet->csrc_count ||
      again->csrcs != packet->csrcs || again->padding_size != packet->padding_size ||
      !equal_bytes(again->payload, packet->payload))
    std::abort();
  const auto rebuilt = elements(*again);
  if (rebuilt.size() != original.size()) std::abort();
  for (std::size_t i = 0; i < rebuilt.size(); ++i) {
    if (rebuilt[i].id != original[i].id || !equal_bytes(rebuilt[i].data, original[i].data))
      std::abort();
  }
  return 0;
}
