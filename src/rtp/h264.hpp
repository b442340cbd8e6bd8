// The H.264 RTP payload format (RFC 6184), non-interleaved: what a received payload holds, the
// joining of a frame's payloads back into an Annex B access unit, and a packetizer that cuts an
// Annex B access unit into payloads.
//
// Every payload starts with a one-byte NAL unit header (H.264 7.3.1):
//   |F|NRI|  Type   |   F: forbidden_zero_bit; NRI: nal_ref_idc; Type: nal_unit_type
// Type 1-23 is a single NAL unit packet: the payload is one whole NAL unit (RFC 6184 5.6).
// Type 24, STAP-A (5.7.1), aggregates whole NAL units of one access unit, each behind a 16-bit
// size:   |F|NRI| 24 | size (16) | NAL unit | size (16) | NAL unit | ...
// Type 28, FU-A (5.8), carries one fragment of a NAL unit too large for one packet:
//   |F|NRI| 28 | S|E|R| Type | fragment...   S: first fragment; E: last fragment; Type: the
// fragmented NAL unit's type. The fragmented unit's own header is not sent: it is F and NRI of
// the FU indicator with the FU header's type.
// STAP-B (25), MTAP16 (26), MTAP24 (27) and FU-B (29) exist only in interleaved mode
// (packetization-mode=2), which we do not negotiate: they are refused as kUnsupported. Types 0,
// 30 and 31 are reserved or undefined: kMalformed.
//
// A payload whose F bit is set is accepted and passed on as it is (RFC 6184 5.3 lets a receiver
// hand such a NAL unit to a decoder that can cope with bit errors).
//
// An access unit (one frame) in Annex B form (H.264 Annex B) is each NAL unit behind a start
// code, 00 00 01 or 00 00 00 01. assemble() writes 00 00 00 01 before every NAL unit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"
#include "rtp/payload_format.hpp"

namespace rtcpp::rtp {

// nal_unit_type values (H.264 Table 7-1) and the RFC 6184 packet types.
inline constexpr std::uint8_t kH264NalSlice = 1;
inline constexpr std::uint8_t kH264NalIdrSlice = 5;
inline constexpr std::uint8_t kH264NalSei = 6;
inline constexpr std::uint8_t kH264NalSps = 7;
inline constexpr std::uint8_t kH264NalPps = 8;
inline constexpr std::uint8_t kH264NalAccessUnitDelimiter = 9;
inline constexpr std::uint8_t kH264StapA = 24;
inline constexpr std::uint8_t kH264StapB = 25;
inline constexpr std::uint8_t kH264Mtap16 = 26;
inline constexpr std::uint8_t kH264Mtap24 = 27;
inline constexpr std::uint8_t kH264FuA = 28;
inline constexpr std::uint8_t kH264FuB = 29;

inline constexpr std::uint8_t h264_nal_type(std::uint8_t header) noexcept {
  return header & 0x1F;
}

// The largest access unit assemble() writes and the packetizer takes (an encoded 4K IDR frame is
// a few MB).
inline constexpr std::size_t kMaxH264FrameSize = 16u << 20;
// The most NAL units one access unit may hold (slices, parameter sets, SEI).
inline constexpr std::size_t kMaxH264NalUnitsPerFrame = 4096;

// The parts of a sequence parameter set (H.264 7.3.2.1.1) a receiver wants to know: the
// profile and level, and the picture size after cropping.
struct H264Sps {
  std::uint8_t profile_idc = 0;
  std::uint8_t constraint_flags = 0;  // constraint_set0_flag..set5_flag and 2 reserved bits
  std::uint8_t level_idc = 0;
  std::uint8_t seq_parameter_set_id = 0;
  std::uint16_t width = 0;
  std::uint16_t height = 0;
};
// Parses an SPS NAL unit (its header byte first, emulation prevention bytes still in). Reads
// up to the frame cropping fields; the VUI after them is not read. kTruncated when the fields
// run past the end; kMalformed for a value out of its range (or a size beyond 16 bits).
Expected<H264Sps, PayloadError> parse_h264_sps(BytesView nal) noexcept;

// Annex B: the offset of the next 00 00 01 start code at or after `from`, or data.size().
std::size_t find_h264_start_code(BytesView data, std::size_t from) noexcept;

// Receiving H.264, packetization-mode 0 or 1. inspect() gives kContinue for an FU-A fragment
// without S, kStart for a packet whose first NAL unit is an access unit delimiter or an SPS
// (what opens an access unit in practice), and kUnknown for everything else (H.264 payloads
// have no frame-start flag; the frame ends at the RTP marker bit). assemble() writes each NAL unit
// with a 4-byte start code: single NAL units as they are, STAP-A unpacked, FU-A fragments joined
// under a rebuilt header. It refuses a frame (kBrokenFrame) whose FU-A fragments do not run from S
// to E with one NAL type and nothing between them. key_frame: the frame holds an IDR slice. width
// and height: from the frame's first SPS, when it has one that parses (a bad SPS leaves them 0).
class H264PayloadFormat final : public PayloadFormat {
 public:
  Expected<FramePosition, PayloadError> inspect(BytesView payload) const override;
  Expected<AssembledFrameInfo, PayloadError> assemble(std::span<const BytesView> payloads,
                                                      Buffer& frame) const override;
};

// RFC 6184 6: the packetization-mode parameter.
enum class H264PacketizationMode : std::uint8_t {
  kSingleNalUnit = 0,   // single NAL unit packets only
  kNonInterleaved = 1,  // single NAL units, STAP-A and FU-A
};

// Cuts an Annex B access unit (3- or 4-byte start codes, zero bytes before the first) into RTP
// payloads of at most max_payload_size bytes. Zero bytes at the end of a NAL unit
// (trailing_zero_8bits) are not sent, nor are access unit delimiters (type 9; RFC 6184 does
// not need them, as the RTP timestamp and marker bit delimit access units).
// Mode 1 (non-interleaved): a NAL unit that fits goes alone, or aggregated in a STAP-A with the
// ones after it while they fit together (SPS, PPS and a small IDR slice in one packet); a
// larger one is cut into FU-A fragments of nearly equal size. Mode 0: each NAL unit in one
// packet; an access unit with a NAL unit too large for one is kTooLarge.
// start_frame errors: kEmpty for an empty access unit; kMalformed when it holds no NAL unit to
// send or a NAL unit of a type a packet cannot carry (0, 24-31); kTooLarge beyond
// kMaxH264FrameSize or kMaxH264NalUnitsPerFrame; kNoRoom when max_payload_size leaves no room
// for a fragment (below 3 bytes, and a NAL unit does not fit whole).
// The NAL unit list keeps its capacity, so a steady stream of frames does not allocate.
class H264Packetizer final : public Packetizer {
 public:
  H264Packetizer(std::size_t max_payload_size, H264PacketizationMode mode);

  Expected<void, PayloadError> start_frame(BytesView frame, bool key_frame) override;
  bool has_next() const noexcept override { return next_nal_ < nal_units_.size(); }
  Expected<bool, PayloadError> next_payload(Buffer& out) override;

 private:
  void abandon() noexcept;
  // How many NAL units from next_nal_ fit in one STAP-A (0 or 1: aggregation is pointless).
  std::size_t aggregatable() const noexcept;

  std::size_t max_payload_size_;
  H264PacketizationMode mode_;
  std::vector<BytesView> nal_units_;  // views into the current frame
  std::size_t next_nal_ = 0;
  // The bytes of next_nal_'s payload (after its header) already sent as FU-A fragments.
  std::size_t fragment_offset_ = 0;
};

}  // namespace rtcpp::rtp
