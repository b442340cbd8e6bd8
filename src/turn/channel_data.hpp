// TURN ChannelData messages (RFC 8656 section 12.4) and the framing of STUN and ChannelData
// messages on a stream transport (RFC 8656 12.5: over TCP/TLS every ChannelData message is
// padded to a multiple of 4 bytes, so the stream is a plain sequence of self-delimiting
// messages).
#pragma once

#include <cstdint>
#include <string_view>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::turn {

inline constexpr std::size_t kChannelDataHeaderSize = 4;
// RFC 8656 12: channel numbers 0x4000-0x4FFF; 0x5000-0xFFFF are reserved.
inline constexpr std::uint16_t kMinChannel = 0x4000;
inline constexpr std::uint16_t kMaxChannel = 0x4FFF;

constexpr bool is_valid_channel(std::uint16_t channel) noexcept {
  return channel >= kMinChannel && channel <= kMaxChannel;
}

// RFC 7983 (as updated by RFC 9443): a first byte of 64-79 is ChannelData.
constexpr bool looks_like_channel_data(BytesView datagram) noexcept {
  return !datagram.empty() && datagram[0] >= 64 && datagram[0] <= 79;
}

enum class ChannelDataError : std::uint8_t {
  kTooShort,    // fewer than 4 bytes
  kBadChannel,  // channel number outside 0x4000-0x4FFF
  kTruncated,   // the length field runs past the datagram
  kTrailing,    // more bytes after the data than padding can explain
};
std::string_view to_string(ChannelDataError error) noexcept;

struct ChannelData {
  std::uint16_t channel = 0;
  BytesView data;  // a view into the parsed datagram
};

// Parses one ChannelData message that fills `datagram`. Up to 3 bytes of padding after the
// data are accepted (a UDP sender may pad, RFC 8656 12.5); anything beyond is an error.
Expected<ChannelData, ChannelDataError> parse_channel_data(BytesView datagram);

// The 4-byte header and the data; with `pad` (stream transports) zero-padded to 4 bytes.
Buffer build_channel_data(std::uint16_t channel, BytesView data, bool pad);
// Writes the same into `out`, which is resized; returns the size.
std::size_t write_channel_data(std::uint16_t channel, BytesView data, bool pad, Buffer& out);

// Stream framing: how many bytes the message at the front of `stream` occupies (STUN: 20 +
// length; ChannelData: 4 + length rounded up to 4), 0 when more bytes are needed to know, or
// an error when the first byte starts neither kind (the stream is then unusable).
enum class FramingError : std::uint8_t { kNotTurn };
Expected<std::size_t, FramingError> stream_frame_length(BytesView stream);

}  // namespace rtcpp::turn
