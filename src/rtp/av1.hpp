// The AV1 RTP payload format (AOM "RTP Payload Format For AV1", aomediacodec.github.io/
// av1-rtp-spec) over the AV1 bitstream's OBUs (AV1 spec 5.3): a PayloadFormat that joins
// received payloads back into temporal units, and a Packetizer that cuts temporal units into
// payloads.
//
// Every payload starts with the aggregation header (AV1-RTP 4.4), then OBU elements:
//     0 1 2 3 4 5 6 7
//    |Z|Y| W |N|-|-|-|   Z: the first element continues an OBU from the previous packet
//    | leb128 length |   Y: the last element continues in the next packet
//    | OBU element   |   W: the number of elements (0: any, every one with its length);
//    | ...           |      with W = 1-3 the last element has no length (it runs to the end)
//                        N: the first packet of a coded video sequence
// An element is an OBU, or a fragment of one: its obu_header (AV1 5.3.2: forbidden bit, type
// (4), extension flag, has_size_field, reserved bit), the extension byte (temporal and spatial
// ID) when flagged, and the payload; in RTP the size field is usually left out
// (has_size_field = 0). The RTP marker bit ends a temporal unit (AV1-RTP 4.2).
//
// Files (IVF) and decoders take the low-overhead bitstream format (AV1 5.2): a temporal unit
// starts with a temporal delimiter OBU, and every OBU has has_size_field = 1 and a leb128
// size. The receiving side writes that form; the sending side takes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"
#include "rtp/payload_format.hpp"

namespace rtcpp::rtp {

// AV1 4.10.5: a leb128 takes at most 8 bytes, and its value fits 32 bits.
inline constexpr std::size_t kMaxLeb128Bytes = 8;
inline constexpr std::uint64_t kMaxLeb128Value = 0xFFFFFFFF;
// OBUs the packetizer takes in one temporal unit (far above real ones: a frame has at most
// 4096 tiles, and encoders put few tile groups in a frame).
inline constexpr std::size_t kMaxAv1ObusPerTemporalUnit = 8192;
// W is two bits: up to 3 elements can be counted, the last one then without its length.
inline constexpr std::size_t kMaxAv1CountedElements = 3;

// AV1 6.2.2: obu_type.
enum class Av1ObuType : std::uint8_t {
  kSequenceHeader = 1,
  kTemporalDelimiter = 2,
  kFrameHeader = 3,
  kTileGroup = 4,
  kMetadata = 5,
  kFrame = 6,
  kRedundantFrameHeader = 7,
  kTileList = 8,
  kPadding = 15,
};

struct Leb128 {
  std::uint32_t value = 0;
  std::size_t length = 0;  // bytes it took
};
// Reads a leb128 at the start of `bytes`. kTruncated when it runs past them, kMalformed when it
// goes on past 8 bytes or its value does not fit 32 bits.
Expected<Leb128, PayloadError> read_leb128(BytesView bytes) noexcept;
// Bytes the shortest leb128 of `value` takes (1-5).
std::size_t leb128_size(std::uint32_t value) noexcept;
// Appends the shortest leb128 of `value`.
void write_leb128(std::uint32_t value, Buffer& out);

struct Av1ObuHeader {
  std::uint8_t type = 0;  // an Av1ObuType, or a reserved value
  bool has_extension = false;
  bool has_size_field = false;
  std::uint8_t temporal_id = 0;  // from the extension byte, else 0
  std::uint8_t spatial_id = 0;
  std::size_t size = 1;  // 1, or 2 with the extension byte
};
// Parses an obu_header (and extension byte). kMalformed when the forbidden bit is set.
Expected<Av1ObuHeader, PayloadError> parse_av1_obu_header(BytesView obu) noexcept;

// One OBU of a bitstream: its header, and a view of its payload.
struct Av1Obu {
  Av1ObuHeader header;
  BytesView payload;
  std::size_t total_size = 0;  // header, size field and payload, as read
};
// Reads the OBU at the start of `bytes`: one with has_size_field takes obu_size bytes of
// payload, one without takes the rest of `bytes` (AV1 5.3.1 with sz = bytes.size()).
Expected<Av1Obu, PayloadError> read_av1_obu(BytesView bytes);

// What the sequence header (AV1 5.5) tells, as far as the largest frame size.
struct Av1SequenceHeader {
  std::uint8_t profile = 0;
  bool still_picture = false;
  bool reduced_still_picture_header = false;
  std::uint32_t max_frame_width = 0;  // max_frame_width_minus_1 + 1, up to 65536
  std::uint32_t max_frame_height = 0;
};
// Parses a sequence header OBU's payload, walking timing info, the decoder model and the
// operating points to reach the frame size fields.
Expected<Av1SequenceHeader, PayloadError> parse_av1_sequence_header(BytesView payload) noexcept;

// Whether a frame header (the start of an OBU_FRAME_HEADER or OBU_FRAME payload, AV1 5.9.2)
// shows a new KEY_FRAME: show_existing_frame = 0 and frame_type = KEY_FRAME, or any frame of a
// reduced still picture header stream.
Expected<bool, PayloadError> av1_frame_header_is_key_frame(
    BytesView payload, bool reduced_still_picture_header) noexcept;

struct Av1AggregationHeader {
  bool continues_obu = false;             // Z
  bool continues_in_next = false;         // Y
  std::uint8_t element_count = 0;         // W, 0-3
  bool new_coded_video_sequence = false;  // N
};

// Reads the OBU elements of one RTP payload in order.
class Av1PayloadReader {
 public:
  // kEmpty for an empty payload, kMalformed for N with Z (a coded video sequence cannot
  // start inside an OBU) or an aggregation header with no element after it unless W = 1 (one
  // empty element).
  static Expected<Av1PayloadReader, PayloadError> open(BytesView payload) noexcept;
  const Av1AggregationHeader& header() const noexcept { return header_; }
  // The next element; nothing after the last. kTruncated when a length runs past the payload
  // or the payload ends before W elements; kMalformed for a bad leb128.
  Expected<std::optional<BytesView>, PayloadError> next();
  // Whether the element next() returned last was the payload's last.
  bool at_end() const noexcept { return done_; }

 private:
  Av1PayloadReader(Av1AggregationHeader header, BytesView rest) noexcept
      : header_(header), rest_(rest) {}
  Av1AggregationHeader header_;
  BytesView rest_;
  std::size_t read_ = 0;  // elements returned so far
  bool done_ = false;
};

// Rewrites a temporal unit (in the low-overhead format, or OBUs without size fields where the
// last one runs to the end) into the form Av1PayloadFormat::assemble() writes: a temporal
// delimiter first, temporal delimiters and tile lists received dropped, every other OBU with
// has_size_field = 1 and the shortest leb128 size. Appends to `out`.
Expected<void, PayloadError> normalize_av1_temporal_unit(BytesView temporal_unit, Buffer& out);

// Receives AV1.
//
// inspect(): Z = 1 is kContinue (the packet goes on with an OBU begun earlier). N = 1 is
// kStart: a new coded video sequence starts a temporal unit. Any other payload is kUnknown: it
// begins a new OBU, which may open a temporal unit or be the next OBU in one (a frame OBU after
// a sequence header in its own packet, the next tile group, the next layer's frame), so the
// temporal unit starts after the previous one's marker bit or where the timestamp changes.
// The elements are checked as assemble() reads them.
//
// assemble(): joins the OBU fragments across payloads (each payload's Z must match the Y of
// the one before, the first has Z = 0 and the last Y = 0, else kBrokenFrame) and writes the
// temporal unit in the low-overhead format (see normalize_av1_temporal_unit()). An OBU whose
// has_size_field is set must carry a size equal to what it holds (else kMalformed).
// key_frame: N = 1 on the first payload, or a sequence header followed by a frame header that
// shows a new key frame. width/height: the sequence header's maximum frame size, when the
// temporal unit has one (0 when it does not fit 16 bits).
class Av1PayloadFormat final : public PayloadFormat {
 public:
  Expected<FramePosition, PayloadError> inspect(BytesView payload) const override;
  Expected<AssembledFrameInfo, PayloadError> assemble(std::span<const BytesView> payloads,
                                                      Buffer& frame) const override;
};

// Sends AV1 temporal units in the low-overhead format (as IVF stores them). Temporal delimiters
// and tile lists are dropped and every OBU is sent without its size field. Payloads are filled
// in order: elements are counted in W (the last without a length) when a payload holds at most
// three, else W = 0 with every length, whichever carries more; an OBU that does not fit is
// fragmented (Y, then Z on the next payload). A payload never mixes OBUs of different temporal
// or spatial IDs (AV1-RTP 5). N = 1 on the first payload of a key frame's temporal unit that
// holds a sequence header.
//
// start_frame(): kEmpty for a temporal unit with no OBU left to send, kTruncated/kMalformed
// for OBUs that do not parse, kTooLarge past kMaxAv1ObusPerTemporalUnit, kNoRoom for a maximum
// payload size below 2. The OBU list is kept in capacity held by the packetizer.
class Av1Packetizer final : public Packetizer {
 public:
  explicit Av1Packetizer(std::size_t max_payload_size);

  Expected<void, PayloadError> start_frame(BytesView frame, bool key_frame) override;
  bool has_next() const noexcept override { return next_obu_ < obus_.size(); }
  Expected<bool, PayloadError> next_payload(Buffer& out) override;

 private:
  // An OBU as sent: its header bytes (has_size_field cleared) and its payload.
  struct SendObu {
    std::uint8_t header[2] = {0, 0};
    std::uint8_t header_size = 1;
    bool has_extension = false;
    std::uint8_t temporal_id = 0;
    std::uint8_t spatial_id = 0;
    BytesView payload;
    std::size_t size() const noexcept { return header_size + payload.size(); }
  };
  struct Position {
    std::size_t obu = 0;
    std::size_t offset = 0;  // into the OBU as sent
  };
  // Fills one payload from `from`: with `counted` W counts the elements (at most three, the
  // last without a length), else W = 0. Writes into `out` when given. Returns where the next
  // payload starts and the W value used.
  struct Plan {
    Position end;
    std::uint8_t element_count = 0;
  };
  Plan fill(Position from, bool counted, Buffer* out) const;

  std::size_t max_payload_size_;
  std::vector<SendObu> obus_;
  std::size_t next_obu_ = 0;
  std::size_t next_offset_ = 0;
  bool new_coded_video_sequence_ = false;
  bool first_payload_ = false;
};

}  // namespace rtcpp::rtp
