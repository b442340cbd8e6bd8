#include "rtp/vp8.hpp"

#include "base/byte_reader.hpp"

namespace rtcpp::rtp {

std::string_view to_string(Vp8Error error) noexcept {
  switch (error) {
    case Vp8Error::kEmpty:
      return "empty VP8 RTP payload";
    case Vp8Error::kTruncated:
      return "VP8 payload descriptor runs past the payload";
    case Vp8Error::kNoPayload:
      return "VP8 payload descriptor without data";
    case Vp8Error::kBadStartCode:
      return "VP8 key frame without its start code";
  }
  return "unknown VP8 error";
}

// --- Payload descriptor --------------------------------------------------------------------

namespace {
constexpr std::uint8_t kXBit = 0x80;
constexpr std::uint8_t kNBit = 0x20;
constexpr std::uint8_t kSBit = 0x10;
constexpr std::uint8_t kIBit = 0x80;
constexpr std::uint8_t kLBit = 0x40;
constexpr std::uint8_t kTBit = 0x20;
constexpr std::uint8_t kKBit = 0x10;
constexpr std::uint8_t kMBit = 0x80;
constexpr std::uint8_t kYBit = 0x20;

bool writes_long_picture_id(const Vp8PayloadDescriptor& d) {
  return d.long_picture_id || *d.picture_id > kMaxVp8ShortPictureId;
}
bool has_extension(const Vp8PayloadDescriptor& d) {
  return d.picture_id || d.tl0_pic_idx || d.temporal_id || d.key_index;
}
}  // namespace

std::size_t Vp8PayloadDescriptor::size() const noexcept {
  std::size_t size = 1;
  if (!has_extension(*this)) return size;
  ++size;
  if (picture_id) size += writes_long_picture_id(*this) ? 2 : 1;
  if (tl0_pic_idx) ++size;
  if (temporal_id || key_index) ++size;
  return size;
}

bool Vp8PayloadDescriptor::write_to(ByteWriter& writer) const {
  if (partition_index > kMaxVp8PartitionIndex) return false;
  if (picture_id && *picture_id > kMaxVp8PictureId) return false;
  if (temporal_id && *temporal_id > kMaxVp8TemporalId) return false;
  if (key_index && *key_index > kMaxVp8KeyIndex) return false;
  if (!writer.ok() || writer.remaining() < size()) return false;
  const bool extended = has_extension(*this);
  writer.write_u8(static_cast<std::uint8_t>((extended ? kXBit : 0) | (non_reference ? kNBit : 0) |
                                            (start_of_partition ? kSBit : 0) | partition_index));
  if (!extended) return writer.ok();
  writer.write_u8(static_cast<std::uint8_t>((picture_id ? kIBit : 0) | (tl0_pic_idx ? kLBit : 0) |
                                            (temporal_id ? kTBit : 0) | (key_index ? kKBit : 0)));
  if (picture_id) {
    if (writes_long_picture_id(*this)) {
      writer.write_u16(static_cast<std::uint16_t>(0x8000 | *picture_id));
    } else {
      writer.write_u8(static_cast<std::uint8_t>(*picture_id));
    }
  }
  if (tl0_pic_idx) writer.write_u8(*tl0_pic_idx);
  if (temporal_id || key_index) {
    std::uint8_t byte = 0;
    if (temporal_id)
      byte = static_cast<std::uint8_t>((*temporal_id << 6) | (layer_sync ? kYBit : 0));
    if (key_index) byte = static_cast<std::uint8_t>(byte | *key_index);
    writer.write_u8(byte);
  }
  return writer.ok();
}

Expected<Vp8Payload, Vp8Error> parse_vp8_payload(BytesView rtp_payload) noexcept {
  if (rtp_payload.empty()) return Vp8Error::kEmpty;
  ByteReader reader(rtp_payload);
  Vp8Payload out;
  auto& d = out.descriptor;
  const std::uint8_t first = *reader.read_u8();
  d.non_reference = (first & kNBit) != 0;
  d.start_of_partition = (first & kSBit) != 0;
  d.partition_index = first & 0x07;
  if ((first & kXBit) != 0) {
    auto flags = reader.read_u8();
    if (!flags) return Vp8Error::kTruncated;
    if ((*flags & kIBit) != 0) {
      auto id = reader.read_u8();
      if (!id) return Vp8Error::kTruncated;
      if ((*id & kMBit) != 0) {
        auto low = reader.read_u8();
        if (!low) return Vp8Error::kTruncated;
        d.long_picture_id = true;
        d.picture_id = static_cast<std::uint16_t>(((*id & 0x7F) << 8) | *low);
      } else {
        d.picture_id = *id;
      }
    }
    if ((*flags & kLBit) != 0) {
      auto tl0 = reader.read_u8();
      if (!tl0) return Vp8Error::kTruncated;
      d.tl0_pic_idx = *tl0;
    }
    if ((*flags & (kTBit | kKBit)) != 0) {
      auto byte = reader.read_u8();
      if (!byte) return Vp8Error::kTruncated;
      // TID and Y mean something only with T, KEYIDX only with K (RFC 7741 4.2).
      if ((*flags & kTBit) != 0) {
        d.temporal_id = static_cast<std::uint8_t>(*byte >> 6);
        d.layer_sync = (*byte & kYBit) != 0;
      }
      if ((*flags & kKBit) != 0) d.key_index = static_cast<std::uint8_t>(*byte & 0x1F);
    }
  }
  if (reader.empty()) return Vp8Error::kNoPayload;
  out.data = reader.rest();
  return out;
}

// --- The VP8 frame header ------------------------------------------------------------------

Expected<Vp8FrameHeader, Vp8Error> parse_vp8_frame_header(BytesView frame) noexcept {
  if (frame.size() < 3) return Vp8Error::kTruncated;
  // RFC 6386 9.1: a 24-bit little-endian tag; bit 0 is the frame type (0 = key frame).
  const std::uint32_t tag =
      frame[0] | (std::uint32_t{frame[1]} << 8) | (std::uint32_t{frame[2]} << 16);
  Vp8FrameHeader header;
  header.key_frame = (tag & 0x01) == 0;
  header.version = static_cast<std::uint8_t>((tag >> 1) & 0x07);
  header.show_frame = ((tag >> 4) & 0x01) != 0;
  header.first_partition_size = tag >> 5;
  if (!header.key_frame) return header;
  if (frame.size() < 10) return Vp8Error::kTruncated;
  if (frame[3] != 0x9D || frame[4] != 0x01 || frame[5] != 0x2A) return Vp8Error::kBadStartCode;
  const auto width = static_cast<std::uint16_t>(frame[6] | (frame[7] << 8));
  const auto height = static_cast<std::uint16_t>(frame[8] | (frame[9] << 8));
  header.width = width & 0x3FFF;
  header.horizontal_scale = static_cast<std::uint8_t>(width >> 14);
  header.height = height & 0x3FFF;
  header.vertical_scale = static_cast<std::uint8_t>(height >> 14);
  return header;
}

// --- Payload format ------------------------------------------------------------------------

namespace {
PayloadError payload_error(Vp8Error error) noexcept {
  switch (error) {
    case Vp8Error::kEmpty:
      return PayloadError::kEmpty;
    case Vp8Error::kTruncated:
    case Vp8Error::kNoPayload:
      return PayloadError::kTruncated;
    case Vp8Error::kBadStartCode:
      break;
  }
  return PayloadError::kMalformed;
}
}  // namespace

Expected<FramePosition, PayloadError> Vp8PayloadFormat::inspect(BytesView payload) const {
  auto parsed = parse_vp8_payload(payload);
  if (!parsed) return payload_error(parsed.error());
  return parsed->descriptor.starts_frame() ? FramePosition::kStart : FramePosition::kContinue;
}

Expected<AssembledFrameInfo, PayloadError> Vp8PayloadFormat::assemble(
    std::span<const BytesView> payloads, Buffer& frame) const {
  for (const BytesView payload : payloads) {
    auto parsed = parse_vp8_payload(payload);
    if (!parsed) return payload_error(parsed.error());
    frame.append(parsed->data);
  }
  if (frame.empty()) return PayloadError::kEmpty;
  AssembledFrameInfo info;
  // RFC 7741 4.3: the P bit of the frame's first byte; 0 on key frames.
  info.key_frame = (frame[0] & 0x01) == 0;
  if (info.key_frame) {
    if (auto header = parse_vp8_frame_header(frame)) {
      info.width = header->width;
      info.height = header->height;
    }
  }
  return info;
}

// --- Packetizer ----------------------------------------------------------------------------

Vp8Packetizer::Vp8Packetizer(std::size_t max_payload_size, std::uint16_t first_picture_id)
    : max_payload_size_(max_payload_size),
      picture_id_(static_cast<std::uint16_t>(first_picture_id & kMaxVp8PictureId)) {
  descriptor_.long_picture_id = true;
}

Expected<void, PayloadError> Vp8Packetizer::start_frame(BytesView frame, bool /*key_frame*/) {
  count_ = next_ = offset_ = 0;
  frame_ = {};
  if (frame.empty()) return PayloadError::kEmpty;
  descriptor_.picture_id = picture_id_;
  const std::size_t descriptor_size = descriptor_.size();
  if (max_payload_size_ <= descriptor_size) return PayloadError::kNoRoom;
  const std::size_t capacity = max_payload_size_ - descriptor_size;
  frame_ = frame;
  count_ = (frame.size() + capacity - 1) / capacity;
  picture_id_ = static_cast<std::uint16_t>((picture_id_ + 1) & kMaxVp8PictureId);
  return {};
}

Expected<bool, PayloadError> Vp8Packetizer::next_payload(Buffer& out) {
  if (next_ >= count_) return PayloadError::kNoFrame;
  // Spread the bytes evenly: the first (size % count) payloads carry one byte more.
  const std::size_t length = frame_.size() / count_ + (next_ < frame_.size() % count_ ? 1 : 0);
  descriptor_.start_of_partition = next_ == 0;
  out.clear();
  ByteWriter writer(out);
  descriptor_.write_to(writer);
  writer.write_bytes(frame_.subspan(offset_, length));
  offset_ += length;
  ++next_;
  return next_ == count_;
}

}  // namespace rtcpp::rtp
