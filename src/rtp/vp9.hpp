// The VP9 RTP payload format (RFC 9628): the payload descriptor, the start of the VP9
// bitstream (the uncompressed header: key frame or not, and a key frame's size), a
// PayloadFormat that finds pictures in received payloads and joins them back into frames,
// and a Packetizer that cuts frames into payloads.
//
// The payload descriptor (RFC 9628 4.2), at the start of every RTP payload:
//         0 1 2 3 4 5 6 7
//        |I|P|L|F|B|E|V|Z|  I: picture ID present     P: inter-picture predicted
//    I:  |M| PICTURE ID  |  L: layer indices present  F: flexible mode
//    M:  | EXTENDED PID  |  B: start of a layer frame E: end of a layer frame
//    L:  | TID |U| SID |D|  V: scalability structure  Z: not a reference for upper layers
//  L,!F: |   TL0PICIDX   |  (non-flexible mode only)
//   P,F: | P_DIFF      |N|  up to 3 times (flexible mode, inter-picture predicted)
//    V:  | SS ...        |
//
// The scalability structure (RFC 9628 4.2.1):
//        | N_S |Y|G|-|-|-|  N_S: spatial layers - 1; Y: resolutions present; G: picture group
//    Y:  | WIDTH (16)    |  N_S + 1 times
//        | HEIGHT (16)   |
//    G:  |      N_G      |
//        | TID |U| R |-|-|  N_G times, each followed by R P_DIFF bytes
//
// A picture is one layer frame per spatial layer, all with one RTP timestamp; each layer frame
// is B...E, and the RTP marker bit is on the last packet of the picture (RFC 9628 4.1). The
// frame this format delivers is the whole picture: its single layer frame as it is (what
// libvpx decodes and IVF stores), or, with several spatial layers, the layer frames joined
// into one VP9 superframe (VP9 bitstream spec, Annex B).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/byte_writer.hpp"
#include "base/bytes.hpp"
#include "rtcpp/error.hpp"
#include "rtp/payload_format.hpp"

namespace rtcpp::rtp {

inline constexpr std::uint16_t kMaxVp9PictureId = 0x7FFF;
inline constexpr std::uint8_t kMaxVp9ShortPictureId = 0x7F;
inline constexpr std::uint8_t kMaxVp9LayerId = 7;            // TID and SID are 3 bits
inline constexpr std::size_t kMaxVp9ReferenceDiffs = 3;      // P_DIFFs per descriptor
inline constexpr std::uint8_t kMaxVp9ReferenceDiff = 0x7F;   // P_DIFF is 7 bits there
inline constexpr std::size_t kMaxVp9SpatialLayers = 8;       // N_S is 3 bits
inline constexpr std::size_t kMaxVp9PictureGroupSize = 255;  // N_G is 8 bits
inline constexpr std::size_t kMaxVp9GroupReferences = 3;     // R is 2 bits
// VP9 spec Annex B: a superframe holds at most 8 frames.
inline constexpr std::size_t kMaxVp9SuperframeFrames = 8;

struct Vp9LayerIndices {
  std::uint8_t temporal_id = 0;         // TID
  bool switching_up_point = false;      // U
  std::uint8_t spatial_id = 0;          // SID
  bool inter_layer_dependency = false;  // D
  // TL0PICIDX, carried only in non-flexible mode (ignored and parsed as 0 in flexible mode).
  std::uint8_t tl0_pic_idx = 0;
  friend bool operator==(const Vp9LayerIndices&, const Vp9LayerIndices&) = default;
};

// One picture of the picture group in the scalability structure.
struct Vp9PictureGroupEntry {
  std::uint8_t temporal_id = 0;                                        // TID
  bool switching_up_point = false;                                     // U
  std::uint8_t reference_count = 0;                                    // R, 0-3
  std::array<std::uint8_t, kMaxVp9GroupReferences> reference_diffs{};  // P_DIFF, 8 bits here
  friend bool operator==(const Vp9PictureGroupEntry&, const Vp9PictureGroupEntry&) = default;
};

struct Vp9ScalabilityStructure {
  std::uint8_t spatial_layers = 1;  // N_S + 1, 1-8
  bool has_resolutions = false;     // Y: widths and heights below are sent
  std::array<std::uint16_t, kMaxVp9SpatialLayers> widths{};
  std::array<std::uint16_t, kMaxVp9SpatialLayers> heights{};
  bool has_picture_group = false;       // G: N_G and the entries are sent
  std::uint8_t picture_group_size = 0;  // N_G
  std::array<Vp9PictureGroupEntry, kMaxVp9PictureGroupSize> picture_group{};

  // Bytes it takes.
  std::size_t size() const noexcept;
  friend bool operator==(const Vp9ScalabilityStructure&, const Vp9ScalabilityStructure&) = default;
};

struct Vp9PayloadDescriptor {
  bool inter_picture_predicted = false;        // P
  bool flexible_mode = false;                  // F
  bool start_of_layer_frame = false;           // B
  bool end_of_layer_frame = false;             // E
  bool not_reference_for_upper_layer = false;  // Z
  std::optional<std::uint16_t> picture_id;     // I: 7 or 15 bits
  // M: the picture ID takes two bytes (written so whenever it is above 127).
  bool long_picture_id = false;
  std::optional<Vp9LayerIndices> layer;  // L
  // P_DIFFs, present exactly when F and P are both set (then 1-3 of them).
  std::uint8_t reference_count = 0;
  std::array<std::uint8_t, kMaxVp9ReferenceDiffs> reference_diffs{};
  std::optional<Vp9ScalabilityStructure> scalability_structure;  // V

  // Bytes the descriptor takes.
  std::size_t size() const noexcept;
  // Writes the descriptor; false (and the writer may have written part of it) when a field is
  // out of range, the fields contradict each other, or it does not fit.
  bool write_to(ByteWriter& writer) const;
  friend bool operator==(const Vp9PayloadDescriptor&, const Vp9PayloadDescriptor&) = default;
};

// An RTP payload split into its descriptor and the VP9 data after it (a view).
struct Vp9Payload {
  Vp9PayloadDescriptor descriptor;
  BytesView data;
};
// Parses an RTP payload's descriptor. kEmpty for an empty payload or one with no VP9 data
// after the descriptor; kTruncated when the descriptor runs past the payload; kMalformed for
// P_DIFFs without a picture ID or with N set on the third. Reserved bits are ignored.
Expected<Vp9Payload, PayloadError> parse_vp9_payload(BytesView rtp_payload);

// The start of a VP9 frame's uncompressed header (VP9 bitstream spec 6.2), as far as a key
// frame's size.
struct Vp9FrameHeader {
  std::uint8_t profile = 0;  // 0-3
  bool show_existing_frame = false;
  bool key_frame = false;  // frame_type == KEY_FRAME
  bool show_frame = false;
  bool error_resilient = false;
  // Key frames only: frame_width_minus_1 + 1 and frame_height_minus_1 + 1; 65536, which does
  // not fit, is reported as 0 ("unknown").
  std::uint16_t width = 0;
  std::uint16_t height = 0;
};
// kMalformed for a frame marker other than 2, a bad sync code or a set reserved bit.
Expected<Vp9FrameHeader, PayloadError> parse_vp9_frame_header(BytesView frame) noexcept;

// The frame sizes of a VP9 superframe index (Annex B) at the end of `frame`, when it carries a
// consistent one (the marker byte at both ends of the index and the sizes adding up to the
// bytes before it); nothing otherwise (a plain frame).
struct Vp9SuperframeIndex {
  std::size_t frame_count = 0;
  std::array<std::uint32_t, kMaxVp9SuperframeFrames> frame_sizes{};
  std::size_t index_size = 0;  // bytes the index takes at the end
};
std::optional<Vp9SuperframeIndex> parse_vp9_superframe_index(BytesView frame) noexcept;

// Receives VP9 (RFC 9628).
//
// inspect(): a payload with B set starts a picture when it is the lowest spatial layer: no
// layer indices, or SID 0 (kStart). A layer frame of a higher spatial layer (B set, SID > 0)
// starts the picture only when the layers below it were not sent, which the payload cannot
// tell: kUnknown when it does not depend on a lower layer (D = 0), so that the assembler
// decides by the previous marker bit and the timestamp; kContinue when it does (D = 1), since
// the layer it depends on comes first. Every other payload is kContinue. This keeps a whole
// picture, which ends at the marker bit, in one frame.
//
// assemble(): the layer frames must each run B...E, one after another, with one picture ID
// and rising spatial layer indices (else kBrokenFrame). One layer frame is output as it is;
// several are joined into a superframe (a layer frame that is itself a superframe is opened
// up first; more than 8 frames in all is kUnsupported). key_frame: the first payload has P = 0
// and the first frame's uncompressed header says KEY_FRAME. width/height: from the
// scalability structure's resolution for the top layer received when a payload carries one,
// else from a lone key frame's uncompressed header.
class Vp9PayloadFormat final : public PayloadFormat {
 public:
  Expected<FramePosition, PayloadError> inspect(BytesView payload) const override;
  Expected<AssembledFrameInfo, PayloadError> assemble(std::span<const BytesView> payloads,
                                                      Buffer& frame) const override;
};

// Sends VP9 frames of one spatial and one temporal layer (what a plain VP9 encoder gives), as
// Chromium sends them for such a stream: non-flexible mode without layer indices, a 15-bit
// picture ID counting up per frame, P = 0 on key frames, and on the first payload of a key
// frame the scalability structure (one spatial layer with the frame's resolution, read from its
// uncompressed header, and a picture group of one picture referring to the one before). With
// neither layer indices nor P_DIFFs, the receiver (Chromium's included) takes each frame to
// refer to the previous picture ID, which is what such a stream does; flexible mode would need
// a P_DIFF list that a plain encoder does not tell us.
//
// The frame is split into payloads of nearly equal size, the first a little smaller when it
// carries the scalability structure. start_frame(): kEmpty for an empty frame, kMalformed for
// a key frame whose uncompressed header does not parse as one, kNoRoom when the maximum
// payload size leaves no room for data.
class Vp9Packetizer final : public Packetizer {
 public:
  explicit Vp9Packetizer(std::size_t max_payload_size, std::uint16_t first_picture_id = 0);

  Expected<void, PayloadError> start_frame(BytesView frame, bool key_frame) override;
  bool has_next() const noexcept override { return frame_offset_ < frame_.size(); }
  Expected<bool, PayloadError> next_payload(Buffer& out) override;

  // The picture ID the next frame will carry.
  std::uint16_t next_picture_id() const noexcept { return picture_id_; }

 private:
  std::size_t max_payload_size_;
  std::uint16_t picture_id_;
  Vp9PayloadDescriptor descriptor_;  // the current frame's; B, E and V change per payload
  BytesView frame_;
  std::size_t frame_offset_ = 0;
  std::size_t payload_index_ = 0;
  std::size_t first_length_ = 0;  // data bytes in the first payload
  // The payloads after the first: `rest_count_` of them, the first `rest_larger_` holding
  // rest_base_ + 1 bytes, the others rest_base_.
  std::size_t rest_count_ = 0;
  std::size_t rest_base_ = 0;
  std::size_t rest_larger_ = 0;
};

}  // namespace rtcpp::rtp
