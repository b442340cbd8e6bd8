// The VP8 RTP payload format (RFC 7741): the payload descriptor, the start of the VP8
// bitstream (key frame or not, and a key frame's dimensions), the format the frame assembler
// uses to turn RTP packets back into whole frames, and a packetizer that cuts frames into RTP
// payloads.
//
// The payload descriptor (RFC 7741 4.2), at the start of every RTP payload:
//       0 1 2 3 4 5 6 7
//      |X|R|N|S|R| PID |   X: the next byte is present; N: non-reference frame;
//   X: |I|L|T|K| RSV   |   S: start of a partition; PID: partition index
//   I: |M| PictureID   |   M: PictureID is 15 bits, and a second byte follows
//      |   PictureID   |
//   L: |   TL0PICIDX   |
// T/K: |TID|Y| KEYIDX  |
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "base/byte_writer.hpp"
#include "base/bytes.hpp"
#include "rtcpp/error.hpp"
#include "rtp/payload_format.hpp"

namespace rtcpp::rtp {

inline constexpr std::uint16_t kMaxVp8PictureId = 0x7FFF;
inline constexpr std::uint8_t kMaxVp8ShortPictureId = 0x7F;
inline constexpr std::uint8_t kMaxVp8PartitionIndex = 7;
inline constexpr std::uint8_t kMaxVp8TemporalId = 3;
inline constexpr std::uint8_t kMaxVp8KeyIndex = 31;

enum class Vp8Error : std::uint8_t {
  kEmpty,         // an empty RTP payload
  kTruncated,     // the descriptor runs past the payload
  kNoPayload,     // a descriptor and no VP8 data after it
  kBadStartCode,  // a key frame without the 9d 01 2a start code (RFC 6386 9.1)
};
std::string_view to_string(Vp8Error error) noexcept;

struct Vp8PayloadDescriptor {
  bool non_reference = false;               // N
  bool start_of_partition = false;          // S
  std::uint8_t partition_index = 0;         // PID, 0-7
  std::optional<std::uint16_t> picture_id;  // I: 7 or 15 bits
  // M: the PictureID takes two bytes (written so whenever it is above 127).
  bool long_picture_id = false;
  std::optional<std::uint8_t> tl0_pic_idx;  // L
  std::optional<std::uint8_t> temporal_id;  // T: TID, 0-3
  bool layer_sync = false;                  // Y, meaningful with a TID
  std::optional<std::uint8_t> key_index;    // K: KEYIDX, 0-31

  // RFC 7741 4.1: a frame starts at the packet with S set and PID 0.
  bool starts_frame() const noexcept { return start_of_partition && partition_index == 0; }
  // Bytes the descriptor takes.
  std::size_t size() const noexcept;
  // Writes the descriptor; false (nothing written) when a field is out of range or it does
  // not fit.
  bool write_to(ByteWriter& writer) const;
  friend bool operator==(const Vp8PayloadDescriptor&, const Vp8PayloadDescriptor&) = default;
};

// An RTP payload split into its descriptor and the VP8 data after it (a view).
struct Vp8Payload {
  Vp8PayloadDescriptor descriptor;
  BytesView data;
};
// Parses an RTP payload's descriptor. Reserved bits are ignored (RFC 7741 4.2).
Expected<Vp8Payload, Vp8Error> parse_vp8_payload(BytesView rtp_payload) noexcept;

// The start of a VP8 frame (RFC 6386 9.1, RFC 7741 4.3): the 3-byte frame tag and, for key
// frames, the start code and the dimensions.
struct Vp8FrameHeader {
  bool key_frame = false;  // the tag's P bit is 0
  std::uint8_t version = 0;
  bool show_frame = false;
  std::uint32_t first_partition_size = 0;
  // Key frames only: 14-bit dimensions and 2-bit upscaling codes.
  std::uint16_t width = 0;
  std::uint16_t height = 0;
  std::uint8_t horizontal_scale = 0;
  std::uint8_t vertical_scale = 0;
};
Expected<Vp8FrameHeader, Vp8Error> parse_vp8_frame_header(BytesView frame) noexcept;

// The VP8 format for the frame assembler (rtp/frame_assembler.hpp): a payload with S set and
// PID 0 starts a frame (RFC 7741 4.1); a frame is its payloads' data after the descriptors;
// the P bit of its first byte says whether it is a key frame (RFC 7741 4.3), whose header
// gives the dimensions.
class Vp8PayloadFormat final : public PayloadFormat {
 public:
  Expected<FramePosition, PayloadError> inspect(BytesView payload) const override;
  Expected<AssembledFrameInfo, PayloadError> assemble(std::span<const BytesView> payloads,
                                                      Buffer& frame) const override;
};

// Cuts encoded frames into RTP payloads of at most `max_payload_size` bytes, descriptor
// included. Every payload carries a 15-bit PictureID (one per frame, counting up and
// wrapping) and PID 0; the first has S set. The frame is split into payloads of nearly equal
// size (RFC 7741 4.4 lets a sender cut anywhere).
class Vp8Packetizer final : public Packetizer {
 public:
  explicit Vp8Packetizer(std::size_t max_payload_size, std::uint16_t first_picture_id = 0);

  Expected<void, PayloadError> start_frame(BytesView frame, bool key_frame) override;
  bool has_next() const noexcept override { return next_ < count_; }
  Expected<bool, PayloadError> next_payload(Buffer& out) override;
  // The PictureID the next frame gets.
  std::uint16_t next_picture_id() const noexcept { return picture_id_; }

 private:
  std::size_t max_payload_size_;
  std::uint16_t picture_id_;
  Vp8PayloadDescriptor descriptor_;
  BytesView frame_;
  std::size_t count_ = 0;  // payloads of the current frame
  std::size_t next_ = 0;
  std::size_t offset_ = 0;
};

}  // namespace rtcpp::rtp
