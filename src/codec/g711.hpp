// G.711 (ITU-T G.711, 11/1988): 64 kbit/s logarithmic PCM, μ-law (RTP "PCMU") and A-law
// ("PCMA"), 8 bits a sample at 8000 Hz (RFC 3551 4.5.14). Our own code, from the
// recommendation's segment rules:
//
// μ-law works on 14-bit magnitudes: with a bias of 33 added, a value falls in one of 8
// segments (each twice as wide as the one before) split into 16 equal steps; the code is
// sign | segment (3 bits) | step (4 bits), all bits inverted. Positive codes have bit 7 set
// (after the inversion: 0x80..0xFF), and 0 encodes to 0xFF.
//
// A-law works on 13-bit magnitudes: segment 0 and 1 both have steps of 2 (so the curve is
// linear near zero), each further segment doubles; the code is sign | segment | step with
// the even bits inverted (xor 0x55), positive codes having bit 7 set, so 0 encodes to 0xD5.
//
// Here samples are 16-bit: the bits below the 14 (μ-law) or 13 (A-law) the law resolves are
// dropped when encoding, and decoding returns each step's midpoint scaled back to 16 bits.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "codec/codec.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::codec {

inline constexpr int kG711SampleRate = 8000;
inline constexpr std::uint32_t kG711BitratePerChannel = 64000;

std::uint8_t ulaw_encode(std::int16_t sample) noexcept;
std::uint8_t alaw_encode(std::int16_t sample) noexcept;

namespace g711_detail {

constexpr std::int16_t ulaw_decode_value(std::uint8_t code) noexcept {
  const int bits = static_cast<std::uint8_t>(~code);
  const int segment = (bits >> 4) & 0x7;
  const int step = bits & 0xF;
  // The step's midpoint in 16-bit units: the bias (33 << 2 = 132) comes off again.
  const int magnitude = (((step << 3) + 132) << segment) - 132;
  return static_cast<std::int16_t>((bits & 0x80) != 0 ? -magnitude : magnitude);
}

constexpr std::int16_t alaw_decode_value(std::uint8_t code) noexcept {
  const int bits = code ^ 0x55;
  const int segment = (bits >> 4) & 0x7;
  const int step = bits & 0xF;
  // Segment 0 starts at 0; segment s >= 1 at 16 << (s + 3) with an implicit leading 1.
  const int magnitude = segment == 0 ? (step << 4) + 8 : ((step << 4) + 256 + 8) << (segment - 1);
  return static_cast<std::int16_t>((bits & 0x80) != 0 ? magnitude : -magnitude);
}

constexpr std::array<std::int16_t, 256> make_table(std::int16_t (*decode)(std::uint8_t)) {
  std::array<std::int16_t, 256> table{};
  for (int code = 0; code < 256; ++code) table[code] = decode(static_cast<std::uint8_t>(code));
  return table;
}

}  // namespace g711_detail

// The 16-bit value of every code.
inline constexpr std::array<std::int16_t, 256> kUlawDecodeTable =
    g711_detail::make_table(g711_detail::ulaw_decode_value);
inline constexpr std::array<std::int16_t, 256> kAlawDecodeTable =
    g711_detail::make_table(g711_detail::alaw_decode_value);

inline std::int16_t ulaw_decode(std::uint8_t code) noexcept {
  return kUlawDecodeTable[code];
}
inline std::int16_t alaw_decode(std::uint8_t code) noexcept {
  return kAlawDecodeTable[code];
}

// Spans: `out` must be at least as long as `in` (only in.size() elements are written).
void ulaw_encode(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept;
void alaw_encode(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept;
void ulaw_decode(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept;
void alaw_decode(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept;

// An encoder for kPcmu or kPcma: sample_rate 8000, channels 1 or 2, frame_ms 10, 20, ... 60.
// The fixed 64 kbit/s per channel leaves config.bitrate_bps, fec, expected_loss_percent and
// dtx without effect. NotSupportedError for kOpus, RangeError for another shape.
Result<std::unique_ptr<AudioEncoder>> make_g711_encoder(AudioCodec codec,
                                                        const AudioEncoderConfig& config);
// A decoder for kPcmu or kPcma at 8000 Hz with 1 or 2 channels. Lost packets are concealed
// by repeating the last 10 ms decoded, fading by 6 dB every 10 ms, silent from 60 ms on.
// A packet is any whole number of sample frames. Neither decode() nor conceal() touches
// out.timestamp_us: a G.711 packet carries no time, the RTP timestamp is the caller's.
Result<std::unique_ptr<AudioDecoder>> make_g711_decoder(AudioCodec codec, int sample_rate,
                                                        int channels);

}  // namespace rtcpp::codec
