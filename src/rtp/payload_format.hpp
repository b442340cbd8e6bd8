// The codec-specific half of carrying encoded frames over RTP, behind one interface per
// direction so that the media session and the frame assembler need not know the codec.
//
// Receiving: the assembler (rtp/frame_assembler.hpp) orders a stream's packets and finds
// frames by their boundaries; a PayloadFormat says what one payload tells about those
// boundaries (inspect) and joins a complete frame's payloads into the codec's bitstream
// (assemble). Sending: a Packetizer cuts one frame into payloads, written one at a time into
// a caller's buffer so that a steady stream allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::rtp {

enum class PayloadError : std::uint8_t {
  kEmpty,        // an empty payload, or an empty frame to packetize
  kTruncated,    // a header or length field runs past the payload
  kMalformed,    // a field value the format forbids
  kUnsupported,  // valid, but a form this implementation does not handle (named in docs)
  kTooLarge,     // a frame or part of one beyond an explicit limit
  kBrokenFrame,  // the payloads of a frame do not join up (a fragment missing or repeated)
  kNoRoom,       // the maximum payload size leaves no room for data
  kNoFrame,      // next_payload() without a frame in progress
};
std::string_view to_string(PayloadError error) noexcept;

// Where one payload sits in its frame, as far as the payload alone tells.
enum class FramePosition : std::uint8_t {
  kStart,     // the format marks it as a frame's first packet (VP8 S=1 PID=0, VP9 B=1)
  kContinue,  // the format marks it as not the first (a middle or last fragment)
  // The format does not say (H.264 single NAL units and STAP-A): the frame starts after the
  // previous frame's last packet (the marker bit), or where the RTP timestamp changes.
  kUnknown,
};

// What the joined frame is.
struct AssembledFrameInfo {
  bool key_frame = false;  // decodable on its own
  // Known from a key frame's header (VP8, VP9) or sequence parameters (H.264, AV1); 0 else.
  std::uint16_t width = 0;
  std::uint16_t height = 0;
};

class PayloadFormat {
 public:
  virtual ~PayloadFormat() = default;
  // Checks one RTP payload. An error refuses the packet; it is then not kept.
  virtual Expected<FramePosition, PayloadError> inspect(BytesView payload) const = 0;
  // Joins the payloads of one frame, in sequence order (the first is the frame's first
  // packet, the last carries the marker bit), appending the codec's bitstream for the frame
  // to `frame` (which comes empty). kBrokenFrame when they do not join up; the frame is then
  // dropped, never delivered in part.
  virtual Expected<AssembledFrameInfo, PayloadError> assemble(std::span<const BytesView> payloads,
                                                              Buffer& frame) const = 0;
};

class Packetizer {
 public:
  virtual ~Packetizer() = default;
  // Starts cutting a frame into payloads; `frame` must stay valid until its last payload is
  // taken. An error for a frame the format cannot carry (empty, or malformed for the codec);
  // a frame in progress is abandoned either way.
  virtual Expected<void, PayloadError> start_frame(BytesView frame, bool key_frame) = 0;
  // Whether payloads of the current frame remain.
  virtual bool has_next() const noexcept = 0;
  // Writes the next payload into `out` (its contents replaced, its capacity reused): at most
  // the maximum payload size given at construction. True when this is the frame's last
  // payload (the sender sets the RTP marker bit on it). kNoFrame when none remains.
  virtual Expected<bool, PayloadError> next_payload(Buffer& out) = 0;
};

}  // namespace rtcpp::rtp
