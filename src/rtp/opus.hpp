// Opus packets as RTP carries them (RFC 7587): what the first byte of a packet says, and how
// many samples the packet holds, without decoding it.
//
// RFC 7587 puts exactly one Opus packet in each RTP payload, with no payload header. The RTP
// clock of Opus is always 48 kHz, whatever rate the encoder really ran at (RFC 7587 4.1), so
// the sample counts here are at 48 kHz: they are what the RTP timestamp advances by.
//
// The packet (RFC 6716 3.1) starts with a TOC byte:
//      0 1 2 3 4 5 6 7
//     | config  |s| c |   config: mode, audio bandwidth and frame duration (table below)
//                         s: stereo; c: frame count code
//   c = 0: one frame;  c = 1: two frames of equal size;  c = 2: two frames, the first one's
//   length coded after the TOC;  c = 3: a frame count byte |v|p|  M  | follows (v: each
//   frame's length coded, else all equal; p: padding-length bytes follow; M: 1-48 frames).
//
//   config  0-11  SILK-only,  NB/MB/WB,  10/20/40/60 ms
//          12-15  Hybrid,     SWB/FB,    10/20 ms
//          16-31  CELT-only,  NB/WB/SWB/FB, 2.5/5/10/20 ms
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"
#include "rtp/payload_format.hpp"

namespace rtcpp::rtp {

// The RTP clock rate of Opus, whatever the real sample rate (RFC 7587 4.1).
inline constexpr std::uint32_t kOpusRtpClockRate = 48000;
// RFC 6716 3.4 R2: no frame is longer than this.
inline constexpr std::size_t kMaxOpusFrameSize = 1275;
// RFC 6716 3.4 R5: a packet holds at most 120 ms of audio (5760 samples at 48 kHz).
inline constexpr std::uint32_t kMaxOpusPacketSamples = 5760;

enum class OpusMode : std::uint8_t { kSilk, kHybrid, kCelt };
enum class OpusBandwidth : std::uint8_t {
  kNarrowband,     // 4 kHz audio bandwidth, 8 kHz effective rate
  kMediumband,     // 6 kHz, 12 kHz
  kWideband,       // 8 kHz, 16 kHz
  kSuperWideband,  // 12 kHz, 24 kHz
  kFullband,       // 20 kHz, 48 kHz
};

// The TOC byte (RFC 6716 3.1).
struct OpusToc {
  std::uint8_t config = 0;  // 0-31
  OpusMode mode = OpusMode::kSilk;
  OpusBandwidth bandwidth = OpusBandwidth::kNarrowband;
  std::uint32_t frame_samples = 0;  // one frame's duration in 48 kHz samples (120 = 2.5 ms)
  bool stereo = false;
  std::uint8_t frame_count_code = 0;  // c, 0-3
};
OpusToc parse_opus_toc(std::uint8_t toc) noexcept;

// What a whole packet holds, from its framing (nothing is decoded).
struct OpusPacketInfo {
  OpusToc toc;
  std::uint8_t frame_count = 0;  // 1-48 (a 0-length frame counts: DTX / lost frame)
  std::uint32_t samples = 0;     // frame_count * toc.frame_samples, at 48 kHz
  std::size_t padding = 0;       // code 3 padding bytes at the end
};

// Checks the framing of one Opus packet against the rules of RFC 6716 3.4 that need no
// decoding (R1-R7): at least one byte; frames no longer than 1275 bytes; code 1 halves of
// equal size; code 2 and code 3 length fields within the packet; a code 3 count of at least
// one frame and at most 120 ms; padding within the packet. kEmpty for no byte at all,
// kTruncated for a length or header that runs past the end, kMalformed for the rest.
Expected<OpusPacketInfo, PayloadError> parse_opus_packet(BytesView packet) noexcept;
// The samples in the packet at 48 kHz (what the RTP timestamp advances by).
Expected<std::uint32_t, PayloadError> opus_packet_samples(BytesView packet) noexcept;

}  // namespace rtcpp::rtp
