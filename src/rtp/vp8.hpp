// The VP8 RTP payload format (RFC 7741): the payload descriptor, the start of the VP8
// bitstream (key frame or not, and a key frame's dimensions), a depacketizer that turns RTP
// packets back into whole frames, and a packetizer that cuts frames into RTP payloads.
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
#include "rtp/rtp_packet.hpp"

namespace rtcpp::rtp {

inline constexpr std::uint16_t kMaxVp8PictureId = 0x7FFF;
inline constexpr std::uint8_t kMaxVp8ShortPictureId = 0x7F;
inline constexpr std::uint8_t kMaxVp8PartitionIndex = 7;
inline constexpr std::uint8_t kMaxVp8TemporalId = 3;
inline constexpr std::uint8_t kMaxVp8KeyIndex = 31;

enum class Vp8Error : std::uint8_t {
  kEmpty,               // an empty RTP payload
  kTruncated,           // the descriptor runs past the payload
  kNoPayload,           // a descriptor and no VP8 data after it
  kBadStartCode,        // a key frame without the 9d 01 2a start code (RFC 6386 9.1)
  kEmptyFrame,          // nothing to packetize
  kMaxPayloadTooSmall,  // no room for data after the descriptor
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

// A frame put back together from its packets.
struct Vp8Frame {
  std::uint32_t rtp_timestamp = 0;
  bool key_frame = false;
  std::optional<std::uint16_t> picture_id;
  // The unwrapped sequence numbers of its first and last packets.
  std::int64_t first_sequence = 0;
  std::int64_t last_sequence = 0;
  Buffer data;
};

struct Vp8DepacketizerConfig {
  // Packets and payload bytes held while frames are incomplete; past either, the oldest
  // frame is dropped.
  std::size_t max_pending_packets = 1024;
  std::size_t max_pending_bytes = 8u << 20;
  // Complete frames allowed to wait behind a missing packet (in case it was only reordered)
  // before the packet is declared lost.
  std::size_t max_frames_behind_gap = 2;
};

struct Vp8DepacketizerStats {
  std::uint64_t frames_delivered = 0;
  std::uint64_t frames_dropped = 0;    // incomplete, or undecodable while waiting for a key frame
  std::uint64_t packets_rejected = 0;  // payloads without a valid descriptor
  std::uint64_t packets_late = 0;      // duplicates, or for frames already delivered or dropped
};

// Reassembles the frames of one VP8 RTP stream (one SSRC). Packets may come in any order and
// twice; a frame is delivered only when every packet from its start (S=1, PID 0) to its end
// (the RTP marker bit) is present with one timestamp, and in sequence order. Frames complete
// behind a missing packet wait for it (it may only be reordered) until more than
// max_frames_behind_gap of them do; then it is lost: the frame missing it is dropped, and so
// is every frame after it until a key frame, since they cannot be decoded without it.
// waiting_for_key_frame() tells the session to ask for one (PLI). The stream starts waiting
// for a key frame.
class Vp8Depacketizer {
 public:
  explicit Vp8Depacketizer(Vp8DepacketizerConfig config = {});

  // Takes a packet of the stream; its payload is copied. A payload that is not VP8 is
  // refused with an error and changes nothing.
  Expected<void, Vp8Error> insert(std::uint16_t sequence_number, std::uint32_t timestamp,
                                  bool marker, BytesView payload);
  Expected<void, Vp8Error> insert(const RtpPacketView& packet) {
    return insert(packet.sequence_number, packet.timestamp, packet.marker, packet.payload);
  }
  // The next frame ready, oldest first.
  std::optional<Vp8Frame> poll_frame();

  bool waiting_for_key_frame() const noexcept { return waiting_for_key_frame_; }
  const Vp8DepacketizerStats& stats() const noexcept { return stats_; }

 private:
  struct PendingPacket {
    std::uint32_t timestamp = 0;
    bool marker = false;
    bool frame_start = false;
    bool key_frame = false;  // on a frame's first packet
    std::optional<std::uint16_t> picture_id;
    Buffer data;
  };
  using PendingMap = std::map<std::int64_t, PendingPacket>;
  struct CompleteFrame {
    std::int64_t first = 0;
    std::int64_t last = 0;
    bool key_frame = false;
  };

  void assemble();
  // Whether the packet at `sequence` is part of a complete frame.
  bool completes_frame(std::int64_t sequence) const;
  std::vector<CompleteFrame> complete_frames() const;
  // Removes the pending packets before `sequence` and counts the frames they belonged to.
  void drop_before(std::int64_t sequence);
  void drop_oldest_frame();
  void take(const CompleteFrame& frame, bool deliver);

  Vp8DepacketizerConfig config_;
  SequenceNumberUnwrapper unwrapper_;
  PendingMap pending_;
  std::size_t pending_bytes_ = 0;
  // The last sequence number delivered or dropped; older packets are late.
  std::optional<std::int64_t> consumed_through_;
  bool waiting_for_key_frame_ = true;
  std::deque<Vp8Frame> ready_;
  Vp8DepacketizerStats stats_;
};

// Cuts encoded frames into RTP payloads of at most `max_payload_size` bytes, descriptor
// included. Every payload carries a 15-bit PictureID (one per frame, counting up and
// wrapping) and PID 0; the first has S set. The frame is split into payloads of nearly equal
// size (RFC 7741 4.4 lets a sender cut anywhere).
class Vp8Packetizer {
 public:
  explicit Vp8Packetizer(std::size_t max_payload_size, std::uint16_t first_picture_id = 0);

  // The payloads of one frame, for consecutive sequence numbers with one timestamp; the
  // caller sets the marker bit on the last (RFC 7741 4.1). `non_reference` sets N.
  Expected<std::vector<Buffer>, Vp8Error> packetize(BytesView frame, bool non_reference = false);
  std::uint16_t next_picture_id() const noexcept { return picture_id_; }

 private:
  std::size_t max_payload_size_;
  std::uint16_t picture_id_;
};

}  // namespace rtcpp::rtp
