// DCEP, the Data Channel Establishment Protocol (RFC 8832): the DATA_CHANNEL_OPEN and
// DATA_CHANNEL_ACK messages sent on an SCTP stream with PPID 50.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::datachannel {

inline constexpr std::uint32_t kPpidDcep = 50;

// RFC 8832 5.1 channel types: bit 7 is "unordered", the low bits the reliability kind.
enum class Reliability : std::uint8_t {
  kReliable = 0x00,
  kPartialReliableRetransmit = 0x01,  // reliability parameter = max retransmissions
  kPartialReliableTimed = 0x02,       // reliability parameter = lifetime in milliseconds
};

struct DataChannelOpen {
  bool ordered = true;
  Reliability reliability = Reliability::kReliable;
  // RFC 8832 5.1 priority; the W3C priorities map to 128/256/512/1024.
  std::uint16_t priority = 256;
  std::uint32_t reliability_parameter = 0;
  std::string label;
  std::string protocol;

  std::uint8_t channel_type() const noexcept {
    return static_cast<std::uint8_t>((ordered ? 0x00 : 0x80) |
                                     static_cast<std::uint8_t>(reliability));
  }
  friend bool operator==(const DataChannelOpen&, const DataChannelOpen&) = default;
};

struct DataChannelAck {
  friend bool operator==(const DataChannelAck&, const DataChannelAck&) = default;
};

using DcepMessage = std::variant<DataChannelOpen, DataChannelAck>;

// Parses a DCEP message. Unknown message or channel types, and lengths that do not add up,
// are errors (RFC 8832 leaves the response to the implementation: we close the stream).
Result<DcepMessage> parse_dcep(BytesView payload);
Buffer serialize(const DataChannelOpen& open);
Buffer serialize(const DataChannelAck& ack);

}  // namespace rtcpp::datachannel
