// Turns the RTP packets of one video stream (one SSRC) back into whole encoded frames, for any
// payload format (rtp/payload_format.hpp): the format says where each payload sits in its
// frame and joins a complete frame's payloads; the assembler orders packets, finds frames and
// decides when a missing packet is lost.
//
// A frame is a run of consecutive sequence numbers with one RTP timestamp, from its first
// packet to the one with the marker bit. Its first packet is known by the format's mark
// (FramePosition::kStart), or, for formats without one (H.264), by the packet before it: the
// end of the previous frame (marker) or another timestamp. Packets may come in any order and
// twice. Frames are delivered in sequence order and only whole: a frame complete behind a
// missing packet waits for it (it may only be reordered, or asked for again) until more than
// max_frames_behind_gap frames do, or, with max_wait_behind_gap, until the frames waiting span
// more media time than that; then it is lost, and the frame missing it is dropped, as is
// every frame after it until a key frame, since they cannot be decoded without it.
// waiting_for_key_frame() tells the session to ask for one (PLI). The stream starts waiting
// for a key frame.
//
// Packets are held in a ring of max_pending_packets slots whose buffers are reused, so a
// steady stream allocates only each delivered frame's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"
#include "rtp/payload_format.hpp"
#include "rtp/rtp_packet.hpp"

namespace rtcpp::rtp {

struct FrameAssemblerConfig {
  // The span of sequence numbers held while frames are incomplete, and the payload bytes;
  // past either, the oldest frame is dropped.
  std::size_t max_pending_packets = 1024;
  std::size_t max_pending_bytes = 8u << 20;
  // Complete frames allowed to wait behind a missing packet before it is declared lost.
  std::size_t max_frames_behind_gap = 2;
  // When not zero, also a bound in media time (RTP clock ticks): the packet is lost once the
  // newest frame waiting is more than this after the oldest. A retransmission takes a round
  // trip whatever the frame rate, so this is the bound a receiver that asks for missing
  // packets needs (with max_frames_behind_gap then only a cap).
  std::uint32_t max_wait_behind_gap = 0;
};

struct AssembledFrame {
  std::uint32_t rtp_timestamp = 0;
  bool key_frame = false;
  std::uint16_t width = 0;  // from a key frame's header; 0 when unknown
  std::uint16_t height = 0;
  // The unwrapped sequence numbers of its first and last packets.
  std::int64_t first_sequence = 0;
  std::int64_t last_sequence = 0;
  Buffer data;
};

struct FrameAssemblerStats {
  std::uint64_t frames_delivered = 0;
  // Incomplete, broken (their payloads did not join up), or undecodable while waiting for a
  // key frame.
  std::uint64_t frames_dropped = 0;
  std::uint64_t frames_broken = 0;     // of those, the ones the format refused to join
  std::uint64_t packets_rejected = 0;  // payloads the format refused
  std::uint64_t packets_late = 0;      // duplicates, or for frames already delivered or dropped
};

class FrameAssembler {
 public:
  explicit FrameAssembler(std::unique_ptr<const PayloadFormat> format,
                          FrameAssemblerConfig config = {});

  // Takes a packet of the stream; its payload is copied. A payload the format refuses is an
  // error and changes nothing.
  Expected<void, PayloadError> insert(std::uint16_t sequence_number, std::uint32_t timestamp,
                                      bool marker, BytesView payload);
  Expected<void, PayloadError> insert(const RtpPacketView& packet) {
    return insert(packet.sequence_number, packet.timestamp, packet.marker, packet.payload);
  }
  // The next frame ready, oldest first.
  std::optional<AssembledFrame> poll_frame();

  bool waiting_for_key_frame() const noexcept { return waiting_for_key_frame_; }
  // Changes FrameAssemblerConfig::max_wait_behind_gap (the round-trip time it follows moves).
  void set_max_wait_behind_gap(std::uint32_t ticks) noexcept {
    config_.max_wait_behind_gap = ticks;
  }
  const FrameAssemblerStats& stats() const noexcept { return stats_; }
  const PayloadFormat& format() const noexcept { return *format_; }

 private:
  struct Slot {
    std::int64_t sequence = -1;  // -1: empty
    std::uint32_t timestamp = 0;
    bool marker = false;
    FramePosition position = FramePosition::kUnknown;
    // Whether the frame starting here is a key frame, once a search for one assembled it.
    std::optional<bool> key_frame;
    Buffer payload;
  };
  enum class Start : std::uint8_t { kNo, kYes, kMaybe };
  struct CompleteFrame {
    std::int64_t first = 0;
    std::int64_t last = 0;
    // kMaybe: a format without start marks, and the packet before is missing, so whether this
    // is the frame's first packet is not known.
    Start start = Start::kYes;
  };

  Slot* slot(std::int64_t sequence) noexcept;
  const Slot* slot(std::int64_t sequence) const noexcept;
  Start starts_frame(std::int64_t sequence) const noexcept;
  // Whether the packet at `sequence` is part of a complete frame.
  bool completes_frame(std::int64_t sequence) const noexcept;
  void find_complete_frames();
  void assemble();
  Expected<AssembledFrameInfo, PayloadError> join(const CompleteFrame& frame, Buffer& out);
  // Delivers (or, when `deliver` is false or the format refuses it, drops) a complete frame.
  void take(const CompleteFrame& frame, bool deliver, Buffer* joined = nullptr,
            const AssembledFrameInfo* info = nullptr);
  void erase(std::int64_t sequence) noexcept;
  // Removes the pending packets before `sequence` and counts the frames they belonged to.
  void drop_before(std::int64_t sequence);
  void drop_oldest_frame();
  // Whether the complete frames waiting behind a gap have waited too long.
  bool gap_waited_too_long() const noexcept;

  std::unique_ptr<const PayloadFormat> format_;
  FrameAssemblerConfig config_;
  SequenceNumberUnwrapper unwrapper_;
  std::vector<Slot> slots_;
  std::size_t pending_packets_ = 0;
  std::size_t pending_bytes_ = 0;
  std::int64_t lowest_ = 0;  // the lowest and highest pending sequence numbers, when any
  std::int64_t highest_ = 0;
  // The last sequence number delivered or dropped; older packets are late. `clean`: it ended a
  // frame that was taken whole (rather than dropped as lost), so the next packet starts one.
  std::optional<std::int64_t> consumed_through_;
  bool consumed_clean_ = false;
  bool waiting_for_key_frame_ = true;
  std::vector<CompleteFrame> complete_;  // scratch, reused
  std::vector<BytesView> views_;         // scratch, reused
  std::deque<AssembledFrame> ready_;
  FrameAssemblerStats stats_;
};

}  // namespace rtcpp::rtp
