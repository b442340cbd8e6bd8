#include "datachannel/dcep.hpp"

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "base/utf8.hpp"

namespace rtcpp::datachannel {
namespace {

constexpr std::uint8_t kMessageOpen = 0x03;
constexpr std::uint8_t kMessageAck = 0x02;

}  // namespace

Result<DcepMessage> parse_dcep(BytesView payload) {
  ByteReader r(payload);
  auto type = r.read_u8();
  if (!type) return syntax_error("empty DCEP message");
  if (*type == kMessageAck) {
    // RFC 8832 5.2: the ACK is the type byte alone; tolerate nothing after it.
    if (!r.empty()) return syntax_error("DATA_CHANNEL_ACK with trailing bytes");
    return DataChannelAck{};
  }
  if (*type != kMessageOpen)
    return syntax_error("unknown DCEP message type " + std::to_string(*type));
  auto channel_type = r.read_u8();
  auto priority = r.read_u16();
  auto parameter = r.read_u32();
  auto label_length = r.read_u16();
  auto protocol_length = r.read_u16();
  if (!protocol_length) return syntax_error("truncated DATA_CHANNEL_OPEN");
  DataChannelOpen open;
  open.ordered = (*channel_type & 0x80) == 0;
  const std::uint8_t kind = *channel_type & 0x7F;
  if (kind > 0x02)
    return syntax_error("unknown DCEP channel type " + std::to_string(*channel_type));
  open.reliability = static_cast<Reliability>(kind);
  open.priority = *priority;
  open.reliability_parameter = *parameter;
  auto label = r.read_bytes(*label_length);
  auto protocol = r.read_bytes(*protocol_length);
  if (!label || !protocol) return syntax_error("DATA_CHANNEL_OPEN label/protocol overrun");
  if (!r.empty()) return syntax_error("DATA_CHANNEL_OPEN with trailing bytes");
  // RFC 8832 5.1 says UTF-8; what is not reaches the application as a browser's USVString
  // conversion would give it.
  open.label = replace_invalid_utf8(as_string(*label));
  open.protocol = replace_invalid_utf8(as_string(*protocol));
  return open;
}

Buffer serialize(const DataChannelOpen& open) {
  Buffer out;
  out.reserve(12 + open.label.size() + open.protocol.size());
  ByteWriter w(out);
  w.write_u8(kMessageOpen);
  w.write_u8(open.channel_type());
  w.write_u16(open.priority);
  w.write_u32(open.reliability == Reliability::kReliable ? 0 : open.reliability_parameter);
  // Labels and protocols are limited to 65535 bytes by the API (TypeError) before this.
  w.write_u16(static_cast<std::uint16_t>(open.label.size()));
  w.write_u16(static_cast<std::uint16_t>(open.protocol.size()));
  w.write_bytes(as_bytes(open.label));
  w.write_bytes(as_bytes(open.protocol));
  return out;
}

Buffer serialize(const DataChannelAck&) {
  return Buffer{kMessageAck};
}

}  // namespace rtcpp::datachannel
