#include "rtp/opus.hpp"

namespace rtcpp::rtp {

OpusToc parse_opus_toc(std::uint8_t toc) noexcept {
  OpusToc out;
  out.config = static_cast<std::uint8_t>(toc >> 3);
  out.stereo = (toc & 0x04) != 0;
  out.frame_count_code = static_cast<std::uint8_t>(toc & 0x03);
  const unsigned config = out.config;
  // RFC 6716 3.1, table 2: configurations come in runs of four durations (SILK, CELT) or two
  // (Hybrid) per bandwidth.
  if (config < 12) {
    out.mode = OpusMode::kSilk;
    static constexpr OpusBandwidth kSilkBandwidths[] = {
        OpusBandwidth::kNarrowband, OpusBandwidth::kMediumband, OpusBandwidth::kWideband};
    static constexpr std::uint32_t kSilkSamples[] = {480, 960, 1920, 2880};  // 10-60 ms
    out.bandwidth = kSilkBandwidths[config / 4];
    out.frame_samples = kSilkSamples[config % 4];
  } else if (config < 16) {
    out.mode = OpusMode::kHybrid;
    out.bandwidth = config < 14 ? OpusBandwidth::kSuperWideband : OpusBandwidth::kFullband;
    out.frame_samples = config % 2 == 0 ? 480 : 960;  // 10 or 20 ms
  } else {
    out.mode = OpusMode::kCelt;
    static constexpr OpusBandwidth kCeltBandwidths[] = {
        OpusBandwidth::kNarrowband, OpusBandwidth::kWideband, OpusBandwidth::kSuperWideband,
        OpusBandwidth::kFullband};
    static constexpr std::uint32_t kCeltSamples[] = {120, 240, 480, 960};  // 2.5-20 ms
    out.bandwidth = kCeltBandwidths[(config - 16) / 4];
    out.frame_samples = kCeltSamples[config % 4];
  }
  return out;
}

namespace {

// Reads from a view without going past its end (plain indexes, so that nothing can throw).
struct Cursor {
  BytesView bytes;
  std::size_t at = 0;
  [[nodiscard]] std::size_t remaining() const noexcept { return bytes.size() - at; }
  bool read_u8(std::uint8_t& out) noexcept {
    if (at >= bytes.size()) return false;
    out = bytes[at++];
    return true;
  }
};

// RFC 6716 3.2.1: a frame length takes one byte (0-251) or two (252-255, then a second byte
// counting fours). False when the bytes run out.
bool read_frame_length(Cursor& cursor, std::size_t& length) noexcept {
  std::uint8_t first = 0;
  if (!cursor.read_u8(first)) return false;
  if (first < 252) {
    length = first;
    return true;
  }
  std::uint8_t second = 0;
  if (!cursor.read_u8(second)) return false;
  length = std::size_t{second} * 4 + first;
  return true;
}

}  // namespace

Expected<OpusPacketInfo, PayloadError> parse_opus_packet(BytesView packet) noexcept {
  if (packet.empty()) return PayloadError::kEmpty;  // R1
  OpusPacketInfo info;
  info.toc = parse_opus_toc(packet[0]);
  Cursor reader{packet, 1};
  switch (info.toc.frame_count_code) {
    case 0:
      if (reader.remaining() > kMaxOpusFrameSize) return PayloadError::kMalformed;  // R2
      info.frame_count = 1;
      break;
    case 1:
      // R3: two frames of equal size.
      if (reader.remaining() % 2 != 0) return PayloadError::kMalformed;
      if (reader.remaining() / 2 > kMaxOpusFrameSize) return PayloadError::kMalformed;  // R2
      info.frame_count = 2;
      break;
    case 2: {
      std::size_t first = 0;
      if (!read_frame_length(reader, first)) return PayloadError::kTruncated;
      // R4: the first frame fits in what follows its length; R2 for the second.
      if (first > reader.remaining()) return PayloadError::kTruncated;
      if (reader.remaining() - first > kMaxOpusFrameSize) return PayloadError::kMalformed;
      info.frame_count = 2;
      break;
    }
    default: {
      std::uint8_t count_byte = 0;
      if (!reader.read_u8(count_byte)) return PayloadError::kTruncated;
      const bool variable = (count_byte & 0x80) != 0;
      const bool padded = (count_byte & 0x40) != 0;
      info.frame_count = static_cast<std::uint8_t>(count_byte & 0x3F);
      // R5: at least one frame, at most 120 ms.
      if (info.frame_count == 0) return PayloadError::kMalformed;
      if (std::uint32_t{info.frame_count} * info.toc.frame_samples > kMaxOpusPacketSamples)
        return PayloadError::kMalformed;
      if (padded) {
        // RFC 6716 3.2.5: each 255 adds 254 bytes and another length byte follows.
        std::uint8_t length = 255;
        while (length == 255) {
          if (!reader.read_u8(length)) return PayloadError::kTruncated;
          info.padding += length == 255 ? 254 : length;
        }
        if (info.padding > reader.remaining()) return PayloadError::kTruncated;
      }
      const std::size_t data = reader.remaining() - info.padding;
      if (variable) {
        // R7: M-1 coded lengths, then the last frame takes what remains.
        Cursor lengths{packet.subspan(reader.at, data)};
        std::size_t coded = 0;
        for (unsigned i = 0; i + 1 < info.frame_count; ++i) {
          std::size_t length = 0;
          if (!read_frame_length(lengths, length)) return PayloadError::kTruncated;
          if (length > kMaxOpusFrameSize) return PayloadError::kMalformed;
          coded += length;
        }
        if (coded > lengths.remaining()) return PayloadError::kTruncated;
        if (lengths.remaining() - coded > kMaxOpusFrameSize) return PayloadError::kMalformed;
      } else {
        // R6: the frames share what is left equally.
        if (data % info.frame_count != 0) return PayloadError::kMalformed;
        if (data / info.frame_count > kMaxOpusFrameSize) return PayloadError::kMalformed;
      }
      break;
    }
  }
  info.samples = std::uint32_t{info.frame_count} * info.toc.frame_samples;
  return info;
}

Expected<std::uint32_t, PayloadError> opus_packet_samples(BytesView packet) noexcept {
  const auto info = parse_opus_packet(packet);
  if (!info.has_value()) return info.error();
  return info.value_or(OpusPacketInfo{}).samples;
}

}  // namespace rtcpp::rtp
