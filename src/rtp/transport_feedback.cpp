// The transport-wide congestion control feedback message
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 3.1), declared in rtcp_packet.hpp.
#include <algorithm>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"
#include "rtp/rtcp_packet.hpp"
#include "rtp/rtcp_writing.hpp"

namespace rtcpp::rtp {
namespace {

// The status symbols (draft 3.1.1).
constexpr std::uint8_t kNotReceived = 0;
constexpr std::uint8_t kSmallDelta = 1;
constexpr std::uint8_t kLargeDelta = 2;  // or negative; 3 is reserved

constexpr std::size_t kFixedSize = kRtcpHeaderSize + 8 + 8;
constexpr std::size_t kMaxRunLength = 0x1FFF;  // 13 bits
constexpr std::size_t kOneBitSymbols = 14;
constexpr std::size_t kTwoBitSymbols = 7;
constexpr std::size_t kMaxStatuses = 0xFFFF;

std::uint8_t symbol_of(const std::optional<std::int16_t>& delta) {
  if (!delta) return kNotReceived;
  return *delta >= 0 && *delta <= TransportFeedback::kMaxSmallDelta ? kSmallDelta : kLargeDelta;
}

// Cuts the statuses into chunks, calling `emit` with each 2-byte chunk. Greedy: a run of 14 or
// more alike is one run-length chunk; else 14 statuses without a large delta fill a one-bit
// vector; else a run of 7 or more; else a two-bit vector of up to 7.
template <typename Emit>
void encode_chunks(const std::vector<std::optional<std::int16_t>>& deltas, Emit&& emit) {
  const std::size_t n = deltas.size();
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t first = symbol_of(deltas[i]);
    std::size_t run = 1;
    while (i + run < n && run < kMaxRunLength && symbol_of(deltas[i + run]) == first) ++run;
    std::size_t one_bit = 0;
    while (i + one_bit < n && one_bit < kOneBitSymbols &&
           symbol_of(deltas[i + one_bit]) != kLargeDelta)
      ++one_bit;
    const bool one_bit_fills = one_bit == std::min(kOneBitSymbols, n - i);
    if (run >= kOneBitSymbols || (!one_bit_fills && run >= kTwoBitSymbols)) {
      // |0| S (2) | run length (13) |
      emit(static_cast<std::uint16_t>((first << 13) | run));
      i += run;
    } else if (one_bit_fills) {
      // |1|0| 14 one-bit symbols |: 1 is a small delta.
      std::uint16_t chunk = 0x8000;
      for (std::size_t k = 0; k < one_bit; ++k) {
        if (symbol_of(deltas[i + k]) == kSmallDelta)
          chunk = static_cast<std::uint16_t>(chunk | (1u << (13 - k)));
      }
      emit(chunk);
      i += one_bit;
    } else {
      // |1|1| 7 two-bit symbols |
      const std::size_t count = std::min(kTwoBitSymbols, n - i);
      std::uint16_t chunk = 0xC000;
      for (std::size_t k = 0; k < count; ++k)
        chunk = static_cast<std::uint16_t>(chunk | (symbol_of(deltas[i + k]) << (12 - 2 * k)));
      emit(chunk);
      i += count;
    }
  }
}

// The size before padding.
std::size_t unpadded_size(const std::vector<std::optional<std::int16_t>>& deltas) {
  std::size_t size = kFixedSize;
  encode_chunks(deltas, [&](std::uint16_t) { size += 2; });
  for (const auto& delta : deltas) size += symbol_of(delta);
  return size;
}

}  // namespace

RtcpResult<TransportFeedback> TransportFeedback::parse(const RtcpPacketView& packet) {
  ByteReader reader(packet.body);
  auto header = rtcp_detail::read_feedback_header(packet, rtcp_type::kTransportFeedback,
                                                  rtcp_fmt::kTransportWideFeedback, reader);
  if (!header) return header.error();
  auto base = reader.read_u16();
  auto count = reader.read_u16();
  auto reference = reader.read_u24();
  auto feedback_count = reader.read_u8();
  // Draft 3.1: a message reports at least one packet.
  if (!base || !count || !reference || !feedback_count || *count == 0)
    return RtcpParseError::kMalformed;
  // Each chunk takes 2 bytes, so the statuses a body can describe are bounded by its size
  // (a run-length chunk describes up to 8191 with no delta bytes: at most 65535 in all).
  std::vector<std::uint8_t> symbols;
  symbols.reserve(*count);
  while (symbols.size() < *count) {
    auto chunk = reader.read_u16();
    if (!chunk) return RtcpParseError::kMalformed;
    const std::size_t left = *count - symbols.size();
    if ((*chunk & 0x8000) == 0) {
      const auto symbol = static_cast<std::uint8_t>((*chunk >> 13) & 0x3);
      if (symbol > kLargeDelta) return RtcpParseError::kMalformed;
      symbols.insert(symbols.end(), std::min<std::size_t>(*chunk & 0x1FFF, left), symbol);
    } else if ((*chunk & 0x4000) == 0) {
      for (std::size_t k = 0; k < std::min(kOneBitSymbols, left); ++k)
        symbols.push_back(static_cast<std::uint8_t>((*chunk >> (13 - k)) & 0x1));
    } else {
      for (std::size_t k = 0; k < std::min(kTwoBitSymbols, left); ++k) {
        const auto symbol = static_cast<std::uint8_t>((*chunk >> (12 - 2 * k)) & 0x3);
        if (symbol > kLargeDelta) return RtcpParseError::kMalformed;
        symbols.push_back(symbol);
      }
    }
  }
  TransportFeedback feedback;
  feedback.sender_ssrc = header->sender_ssrc;
  feedback.media_ssrc = header->media_ssrc;
  feedback.base_sequence = *base;
  feedback.reference_time = *reference;
  feedback.feedback_count = *feedback_count;
  feedback.deltas.reserve(symbols.size());
  for (const std::uint8_t symbol : symbols) {
    if (symbol == kNotReceived) {
      feedback.deltas.emplace_back();
    } else if (symbol == kSmallDelta) {
      auto delta = reader.read_u8();
      if (!delta) return RtcpParseError::kMalformed;
      feedback.deltas.emplace_back(static_cast<std::int16_t>(*delta));
    } else {
      auto delta = reader.read_u16();
      if (!delta) return RtcpParseError::kMalformed;
      feedback.deltas.emplace_back(static_cast<std::int16_t>(*delta));
    }
  }
  // What follows the deltas is padding to the next 32-bit word.
  return feedback;
}

std::size_t TransportFeedback::size() const noexcept {
  return rtcp_detail::round_up4(unpadded_size(deltas));
}

bool TransportFeedback::write_to(ByteWriter& writer) const {
  if (deltas.empty() || deltas.size() > kMaxStatuses || reference_time > 0xFFFFFF) return false;
  const std::size_t unpadded = unpadded_size(deltas);
  const std::size_t total = rtcp_detail::round_up4(unpadded);
  if (!rtcp_detail::fits(writer, total)) return false;
  // Padded as libwebrtc does: P set and the last byte counting the padding (RFC 3550 6.4.1).
  const std::size_t padding = total - unpadded;
  writer.write_u8(static_cast<std::uint8_t>(0x80 | (padding > 0 ? 0x20 : 0) |
                                            rtcp_fmt::kTransportWideFeedback));
  writer.write_u8(rtcp_type::kTransportFeedback);
  writer.write_u16(static_cast<std::uint16_t>(total / 4 - 1));
  writer.write_u32(sender_ssrc);
  writer.write_u32(media_ssrc);
  writer.write_u16(base_sequence);
  writer.write_u16(static_cast<std::uint16_t>(deltas.size()));
  writer.write_u24(reference_time);
  writer.write_u8(feedback_count);
  encode_chunks(deltas, [&](std::uint16_t chunk) { writer.write_u16(chunk); });
  for (const auto& delta : deltas) {
    const std::uint8_t symbol = symbol_of(delta);
    if (symbol == kSmallDelta) writer.write_u8(static_cast<std::uint8_t>(*delta));
    if (symbol == kLargeDelta) writer.write_u16(static_cast<std::uint16_t>(*delta));
  }
  for (std::size_t k = 1; k < padding; ++k) writer.write_u8(0);
  if (padding > 0) writer.write_u8(static_cast<std::uint8_t>(padding));
  return writer.ok();
}

}  // namespace rtcpp::rtp
