// Helpers shared by the RTCP message parsers and writers (rtcp_packet.cpp and
// transport_feedback.cpp): the common header, size checks and the RTPFB/PSFB SSRCs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "rtp/rtcp_packet.hpp"

namespace rtcpp::rtp::rtcp_detail {

// Writes the common header of a packet of `size` bytes (a multiple of 4).
inline void write_header(ByteWriter& writer, std::uint8_t count, std::uint8_t type,
                         std::size_t size) {
  writer.write_u8(static_cast<std::uint8_t>(0x80 | count));
  writer.write_u8(type);
  writer.write_u16(static_cast<std::uint16_t>(size / 4 - 1));
}

// Whether a packet of `size` bytes can be written: its length field holds it, and the writer
// has room for all of it (so that the writes after this check cannot fail halfway).
inline bool fits(const ByteWriter& writer, std::size_t size) {
  return size % 4 == 0 && size / 4 - 1 <= 0xFFFF && writer.ok() && writer.remaining() >= size;
}

inline std::size_t round_up4(std::size_t n) {
  return (n + 3) / 4 * 4;
}

// The two SSRCs that start every RTPFB and PSFB message (RFC 4585 6.1).
struct FeedbackHeader {
  std::uint32_t sender_ssrc = 0;
  std::uint32_t media_ssrc = 0;
};

inline RtcpResult<FeedbackHeader> read_feedback_header(const RtcpPacketView& packet,
                                                       std::uint8_t type, std::uint8_t fmt,
                                                       ByteReader& reader) {
  if (packet.type != type || packet.count != fmt) return RtcpParseError::kWrongType;
  auto sender = reader.read_u32();
  auto media = reader.read_u32();
  if (!sender || !media) return RtcpParseError::kMalformed;
  return FeedbackHeader{*sender, *media};
}

}  // namespace rtcpp::rtp::rtcp_detail
