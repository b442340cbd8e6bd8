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
    case Vp8Error::kEmptyFrame:
      return "empty VP8 frame";
    case Vp8Error::kMaxPayloadTooSmall:
      return "VP8 payload size leaves no room for data";
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

// --- Depacketizer --------------------------------------------------------------------------

Vp8Depacketizer::Vp8Depacketizer(Vp8DepacketizerConfig config) : config_(config) {}

Expected<void, Vp8Error> Vp8Depacketizer::insert(std::uint16_t sequence_number,
                                                 std::uint32_t timestamp, bool marker,
                                                 BytesView payload) {
  auto parsed = parse_vp8_payload(payload);
  if (!parsed) {
    ++stats_.packets_rejected;
    return parsed.error();
  }
  const std::int64_t sequence = unwrapper_.unwrap(sequence_number);
  if ((consumed_through_ && sequence <= *consumed_through_) || pending_.contains(sequence)) {
    ++stats_.packets_late;
    return {};
  }
  PendingPacket packet;
  packet.timestamp = timestamp;
  packet.marker = marker;
  packet.frame_start = parsed->descriptor.starts_frame();
  // RFC 7741 4.3: the P bit of the first byte of the frame; 0 on key frames.
  packet.key_frame = packet.frame_start && (parsed->data[0] & 0x01) == 0;
  packet.picture_id = parsed->descriptor.picture_id;
  packet.data = Buffer(parsed->data);
  pending_bytes_ += packet.data.size();
  pending_.emplace(sequence, std::move(packet));
  bool dropped = false;
  while (!pending_.empty() && (pending_.size() > config_.max_pending_packets ||
                               pending_bytes_ > config_.max_pending_bytes)) {
    drop_oldest_frame();
    dropped = true;
  }
  // Nothing else can have changed what assemble() decided last time.
  if (dropped || completes_frame(sequence)) assemble();
  return {};
}

bool Vp8Depacketizer::completes_frame(std::int64_t sequence) const {
  const auto at = pending_.find(sequence);
  if (at == pending_.end()) return false;
  const std::uint32_t timestamp = at->second.timestamp;
  // Forward to the marker, then back to the start, through consecutive packets of one
  // timestamp (the same run complete_frames() looks for).
  auto it = at;
  while (!it->second.marker) {
    auto next = std::next(it);
    if (next == pending_.end() || next->first != it->first + 1 || next->second.frame_start ||
        next->second.timestamp != timestamp)
      return false;
    it = next;
  }
  it = at;
  while (!it->second.frame_start) {
    if (it == pending_.begin()) return false;
    auto previous = std::prev(it);
    if (previous->first != it->first - 1 || previous->second.timestamp != timestamp) return false;
    it = previous;
  }
  return true;
}

std::optional<Vp8Frame> Vp8Depacketizer::poll_frame() {
  if (ready_.empty()) return std::nullopt;
  Vp8Frame frame = std::move(ready_.front());
  ready_.pop_front();
  return frame;
}

std::vector<Vp8Depacketizer::CompleteFrame> Vp8Depacketizer::complete_frames() const {
  std::vector<CompleteFrame> frames;
  auto it = pending_.begin();
  while (it != pending_.end()) {
    if (!it->second.frame_start) {
      ++it;
      continue;
    }
    // Walk forward from the start while the sequence numbers follow on with one timestamp,
    // until the marker bit; a gap, a new start or a timestamp change leaves it incomplete.
    const auto start = it;
    bool complete = false;
    while (true) {
      if (it->second.marker) {
        complete = true;
        break;
      }
      auto next = std::next(it);
      if (next == pending_.end() || next->first != it->first + 1 || next->second.frame_start ||
          next->second.timestamp != start->second.timestamp)
        break;
      it = next;
    }
    if (complete) frames.push_back({start->first, it->first, start->second.key_frame});
    ++it;
  }
  return frames;
}

void Vp8Depacketizer::assemble() {
  while (true) {
    const std::vector<CompleteFrame> frames = complete_frames();
    if (frames.empty()) return;
    // The first complete frame is taken when it follows on from what was taken last. While
    // waiting for a key frame, a key frame is taken wherever it is: nothing older matters then.
    // Otherwise a frame behind a gap waits, in case the gap is only reordering.
    const CompleteFrame* chosen = nullptr;
    if (consumed_through_ && frames.front().first == *consumed_through_ + 1) {
      chosen = &frames.front();
    } else if (waiting_for_key_frame_) {
      for (const auto& frame : frames) {
        if (frame.key_frame) {
          chosen = &frame;
          break;
        }
      }
    }
    if (chosen != nullptr) {
      if (chosen->key_frame) {
        drop_before(chosen->first);
        waiting_for_key_frame_ = false;
      }
      take(*chosen, !waiting_for_key_frame_);
      continue;
    }
    if (frames.size() <= config_.max_frames_behind_gap) return;
    // Too many frames wait behind the gap: what it lacks is lost.
    drop_before(frames.front().first);
    waiting_for_key_frame_ = true;
  }
}

void Vp8Depacketizer::take(const CompleteFrame& frame, bool deliver) {
  auto first = pending_.find(frame.first);
  auto end = std::next(pending_.find(frame.last));
  Vp8Frame out;
  out.rtp_timestamp = first->second.timestamp;
  out.key_frame = frame.key_frame;
  out.picture_id = first->second.picture_id;
  out.first_sequence = frame.first;
  out.last_sequence = frame.last;
  std::size_t size = 0;
  for (auto it = first; it != end; ++it) size += it->second.data.size();
  if (deliver) {
    out.data.reserve(size);
    for (auto it = first; it != end; ++it) out.data.append(it->second.data);
  }
  pending_bytes_ -= size;
  pending_.erase(first, end);
  consumed_through_ = frame.last;
  if (deliver) {
    ++stats_.frames_delivered;
    ready_.push_back(std::move(out));
  } else {
    ++stats_.frames_dropped;
  }
}

void Vp8Depacketizer::drop_before(std::int64_t sequence) {
  auto end = pending_.lower_bound(sequence);
  std::optional<std::uint32_t> last_timestamp;
  for (auto it = pending_.begin(); it != end; ++it) {
    if (it->second.timestamp != last_timestamp) ++stats_.frames_dropped;
    last_timestamp = it->second.timestamp;
    pending_bytes_ -= it->second.data.size();
  }
  pending_.erase(pending_.begin(), end);
  if (!consumed_through_ || *consumed_through_ < sequence - 1) consumed_through_ = sequence - 1;
}

void Vp8Depacketizer::drop_oldest_frame() {
  // The oldest frame is the run of packets at the front that share a timestamp.
  const std::uint32_t timestamp = pending_.begin()->second.timestamp;
  auto it = pending_.begin();
  while (it != pending_.end() && it->second.timestamp == timestamp) ++it;
  const std::int64_t through = std::prev(it)->first;
  drop_before(through + 1);
  waiting_for_key_frame_ = true;
}

// --- Packetizer ----------------------------------------------------------------------------

Vp8Packetizer::Vp8Packetizer(std::size_t max_payload_size, std::uint16_t first_picture_id)
    : max_payload_size_(max_payload_size),
      picture_id_(static_cast<std::uint16_t>(first_picture_id & kMaxVp8PictureId)) {}

Expected<std::vector<Buffer>, Vp8Error> Vp8Packetizer::packetize(BytesView frame,
                                                                 bool non_reference) {
  if (frame.empty()) return Vp8Error::kEmptyFrame;
  Vp8PayloadDescriptor descriptor;
  descriptor.non_reference = non_reference;
  descriptor.picture_id = picture_id_;
  descriptor.long_picture_id = true;
  const std::size_t descriptor_size = descriptor.size();
  if (max_payload_size_ <= descriptor_size) return Vp8Error::kMaxPayloadTooSmall;
  const std::size_t capacity = max_payload_size_ - descriptor_size;
  const std::size_t count = (frame.size() + capacity - 1) / capacity;
  // Spread the bytes evenly: the first `larger` payloads carry one byte more.
  const std::size_t base = frame.size() / count;
  const std::size_t larger = frame.size() % count;

  std::vector<Buffer> payloads;
  payloads.reserve(count);
  std::size_t offset = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t length = base + (i < larger ? 1 : 0);
    descriptor.start_of_partition = i == 0;
    Buffer payload;
    payload.reserve(descriptor_size + length);
    ByteWriter writer(payload);
    descriptor.write_to(writer);
    writer.write_bytes(frame.subspan(offset, length));
    offset += length;
    payloads.push_back(std::move(payload));
  }
  picture_id_ = static_cast<std::uint16_t>((picture_id_ + 1) & kMaxVp8PictureId);
  return payloads;
}

}  // namespace rtcpp::rtp
