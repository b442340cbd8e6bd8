#include "turn/channel_data.hpp"

#include <cstring>

#include "base/byte_reader.hpp"

namespace rtcpp::turn {

std::string_view to_string(ChannelDataError error) noexcept {
  switch (error) {
    case ChannelDataError::kTooShort:
      return "shorter than a ChannelData header";
    case ChannelDataError::kBadChannel:
      return "channel number out of range";
    case ChannelDataError::kTruncated:
      return "ChannelData length runs past the datagram";
    case ChannelDataError::kTrailing:
      return "bytes after the ChannelData padding";
  }
  return "?";
}

Expected<ChannelData, ChannelDataError> parse_channel_data(BytesView datagram) {
  if (datagram.size() < kChannelDataHeaderSize) return ChannelDataError::kTooShort;
  const std::uint16_t channel = load_be16(datagram.data());
  if (!is_valid_channel(channel)) return ChannelDataError::kBadChannel;
  const std::size_t length = load_be16(datagram.data() + 2);
  const std::size_t available = datagram.size() - kChannelDataHeaderSize;
  if (length > available) return ChannelDataError::kTruncated;
  if (available - length > 3) return ChannelDataError::kTrailing;
  return ChannelData{channel, datagram.subspan(kChannelDataHeaderSize, length)};
}

std::size_t write_channel_data(std::uint16_t channel, BytesView data, bool pad, Buffer& out) {
  const std::size_t body = pad ? (data.size() + 3) & ~std::size_t{3} : data.size();
  out.resize(kChannelDataHeaderSize + body);
  store_be16(out.data(), channel);
  store_be16(out.data() + 2, static_cast<std::uint16_t>(data.size()));
  if (!data.empty()) std::memcpy(out.data() + kChannelDataHeaderSize, data.data(), data.size());
  if (body > data.size())
    std::memset(out.data() + kChannelDataHeaderSize + data.size(), 0, body - data.size());
  return out.size();
}

Buffer build_channel_data(std::uint16_t channel, BytesView data, bool pad) {
  Buffer out;
  write_channel_data(channel, data, pad, out);
  return out;
}

Expected<std::size_t, FramingError> stream_frame_length(BytesView stream) {
  if (stream.empty()) return std::size_t{0};
  const std::uint8_t first = stream[0];
  if (first <= 3) {
    // STUN: the header's length field counts the attributes (always a multiple of 4).
    if (stream.size() < 4) return std::size_t{0};
    return std::size_t{20} + load_be16(stream.data() + 2);
  }
  if (first >= 64 && first <= 79) {
    if (stream.size() < 4) return std::size_t{0};
    const std::size_t length = load_be16(stream.data() + 2);
    return kChannelDataHeaderSize + ((length + 3) & ~std::size_t{3});
  }
  return FramingError::kNotTurn;
}

}  // namespace rtcpp::turn
