#include "rtp/vp9.hpp"

#include <algorithm>
#include <cstring>

#include "base/byte_reader.hpp"

namespace rtcpp::rtp {

namespace {

constexpr std::uint8_t kIBit = 0x80;
constexpr std::uint8_t kPBit = 0x40;
constexpr std::uint8_t kLBit = 0x20;
constexpr std::uint8_t kFBit = 0x10;
constexpr std::uint8_t kBBit = 0x08;
constexpr std::uint8_t kEBit = 0x04;
constexpr std::uint8_t kVBit = 0x02;
constexpr std::uint8_t kZBit = 0x01;
constexpr std::uint8_t kMBit = 0x80;
constexpr std::uint8_t kNBit = 0x01;  // another P_DIFF follows
constexpr std::uint8_t kYBit = 0x10;  // in the SS's first byte
constexpr std::uint8_t kGBit = 0x08;

// Reads bits most significant first, as the VP9 uncompressed header is written.
class BitReader {
 public:
  explicit BitReader(BytesView input) noexcept : input_(input) {}
  // `count` (at most 32) bits; nothing when fewer remain.
  std::optional<std::uint32_t> read(unsigned count) noexcept {
    if (count > remaining_bits()) return std::nullopt;
    std::uint32_t value = 0;
    for (unsigned i = 0; i < count; ++i, ++position_) {
      const unsigned bit = (input_[position_ / 8] >> (7 - position_ % 8)) & 1u;
      value = (value << 1) | bit;
    }
    return value;
  }

 private:
  [[nodiscard]] std::size_t remaining_bits() const noexcept {
    return input_.size() * 8 - position_;
  }
  BytesView input_;
  std::size_t position_ = 0;
};

bool writes_long_picture_id(const Vp9PayloadDescriptor& d) {
  return d.long_picture_id || *d.picture_id > kMaxVp9ShortPictureId;
}

bool carries_reference_diffs(const Vp9PayloadDescriptor& d) {
  return d.flexible_mode && d.inter_picture_predicted;
}

Expected<Vp9ScalabilityStructure, PayloadError> parse_scalability_structure(ByteReader& reader) {
  auto first = reader.read_u8();
  if (!first) return PayloadError::kTruncated;
  Vp9ScalabilityStructure ss;
  ss.spatial_layers = static_cast<std::uint8_t>((*first >> 5) + 1);
  ss.has_resolutions = (*first & kYBit) != 0;
  ss.has_picture_group = (*first & kGBit) != 0;
  if (ss.has_resolutions) {
    for (std::size_t i = 0; i < ss.spatial_layers; ++i) {
      auto width = reader.read_u16();
      auto height = reader.read_u16();
      if (!width || !height) return PayloadError::kTruncated;
      ss.widths[i] = *width;
      ss.heights[i] = *height;
    }
  }
  if (ss.has_picture_group) {
    auto count = reader.read_u8();
    if (!count) return PayloadError::kTruncated;
    ss.picture_group_size = *count;
    for (std::size_t i = 0; i < ss.picture_group_size; ++i) {
      auto byte = reader.read_u8();
      if (!byte) return PayloadError::kTruncated;
      auto& entry = ss.picture_group[i];
      entry.temporal_id = static_cast<std::uint8_t>(*byte >> 5);
      entry.switching_up_point = (*byte & 0x10) != 0;
      entry.reference_count = static_cast<std::uint8_t>((*byte >> 2) & 0x03);
      for (std::size_t r = 0; r < entry.reference_count; ++r) {
        auto diff = reader.read_u8();
        if (!diff) return PayloadError::kTruncated;
        entry.reference_diffs[r] = *diff;
      }
    }
  }
  return ss;
}

bool write_scalability_structure(const Vp9ScalabilityStructure& ss, ByteWriter& writer) {
  if (ss.spatial_layers < 1 || ss.spatial_layers > kMaxVp9SpatialLayers) return false;
  if (!ss.has_picture_group && ss.picture_group_size != 0) return false;
  writer.write_u8(static_cast<std::uint8_t>(((ss.spatial_layers - 1) << 5) |
                                            (ss.has_resolutions ? kYBit : 0) |
                                            (ss.has_picture_group ? kGBit : 0)));
  if (ss.has_resolutions) {
    for (std::size_t i = 0; i < ss.spatial_layers; ++i) {
      writer.write_u16(ss.widths[i]);
      writer.write_u16(ss.heights[i]);
    }
  }
  if (ss.has_picture_group) {
    writer.write_u8(ss.picture_group_size);
    for (std::size_t i = 0; i < ss.picture_group_size; ++i) {
      const auto& entry = ss.picture_group[i];
      if (entry.temporal_id > kMaxVp9LayerId || entry.reference_count > kMaxVp9GroupReferences)
        return false;
      writer.write_u8(static_cast<std::uint8_t>((entry.temporal_id << 5) |
                                                (entry.switching_up_point ? 0x10 : 0) |
                                                (entry.reference_count << 2)));
      for (std::size_t r = 0; r < entry.reference_count; ++r)
        writer.write_u8(entry.reference_diffs[r]);
    }
  }
  return writer.ok();
}

}  // namespace

// --- Payload descriptor --------------------------------------------------------------------

std::size_t Vp9ScalabilityStructure::size() const noexcept {
  std::size_t size = 1;
  if (has_resolutions) size += 4 * std::min<std::size_t>(spatial_layers, kMaxVp9SpatialLayers);
  if (has_picture_group) {
    ++size;
    for (std::size_t i = 0; i < picture_group_size; ++i)
      size += 1 + std::min<std::size_t>(picture_group[i].reference_count, kMaxVp9GroupReferences);
  }
  return size;
}

std::size_t Vp9PayloadDescriptor::size() const noexcept {
  std::size_t size = 1;
  if (picture_id) size += writes_long_picture_id(*this) ? 2 : 1;
  if (layer) size += flexible_mode ? 1 : 2;
  if (carries_reference_diffs(*this))
    size += std::min<std::size_t>(reference_count, kMaxVp9ReferenceDiffs);
  if (scalability_structure) size += scalability_structure->size();
  return size;
}

bool Vp9PayloadDescriptor::write_to(ByteWriter& writer) const {
  if (picture_id && *picture_id > kMaxVp9PictureId) return false;
  if (layer && (layer->temporal_id > kMaxVp9LayerId || layer->spatial_id > kMaxVp9LayerId))
    return false;
  if (carries_reference_diffs(*this)) {
    // RFC 9628 4.2: the P_DIFFs count back from the picture ID; at least one, at most three.
    if (!picture_id || reference_count == 0 || reference_count > kMaxVp9ReferenceDiffs)
      return false;
    for (std::size_t i = 0; i < reference_count; ++i)
      if (reference_diffs[i] > kMaxVp9ReferenceDiff) return false;
  } else if (reference_count != 0) {
    return false;
  }
  if (!writer.ok() || writer.remaining() < size()) return false;
  writer.write_u8(static_cast<std::uint8_t>(
      (picture_id ? kIBit : 0) | (inter_picture_predicted ? kPBit : 0) | (layer ? kLBit : 0) |
      (flexible_mode ? kFBit : 0) | (start_of_layer_frame ? kBBit : 0) |
      (end_of_layer_frame ? kEBit : 0) | (scalability_structure ? kVBit : 0) |
      (not_reference_for_upper_layer ? kZBit : 0)));
  if (picture_id) {
    if (writes_long_picture_id(*this)) {
      writer.write_u16(static_cast<std::uint16_t>((kMBit << 8) | *picture_id));
    } else {
      writer.write_u8(static_cast<std::uint8_t>(*picture_id));
    }
  }
  if (layer) {
    writer.write_u8(static_cast<std::uint8_t>(
        (layer->temporal_id << 5) | (layer->switching_up_point ? 0x10 : 0) |
        (layer->spatial_id << 1) | (layer->inter_layer_dependency ? 0x01 : 0)));
    if (!flexible_mode) writer.write_u8(layer->tl0_pic_idx);
  }
  if (carries_reference_diffs(*this)) {
    for (std::size_t i = 0; i < reference_count; ++i) {
      const bool more = i + 1 < reference_count;
      writer.write_u8(static_cast<std::uint8_t>((reference_diffs[i] << 1) | (more ? kNBit : 0)));
    }
  }
  if (scalability_structure && !write_scalability_structure(*scalability_structure, writer))
    return false;
  return writer.ok();
}

Expected<Vp9Payload, PayloadError> parse_vp9_payload(BytesView rtp_payload) {
  if (rtp_payload.empty()) return PayloadError::kEmpty;
  ByteReader reader(rtp_payload);
  Vp9Payload out;
  auto& d = out.descriptor;
  const std::uint8_t first = *reader.read_u8();
  d.inter_picture_predicted = (first & kPBit) != 0;
  d.flexible_mode = (first & kFBit) != 0;
  d.start_of_layer_frame = (first & kBBit) != 0;
  d.end_of_layer_frame = (first & kEBit) != 0;
  d.not_reference_for_upper_layer = (first & kZBit) != 0;
  if ((first & kIBit) != 0) {
    auto id = reader.read_u8();
    if (!id) return PayloadError::kTruncated;
    if ((*id & kMBit) != 0) {
      auto low = reader.read_u8();
      if (!low) return PayloadError::kTruncated;
      d.long_picture_id = true;
      d.picture_id = static_cast<std::uint16_t>(((*id & 0x7F) << 8) | *low);
    } else {
      d.picture_id = *id;
    }
  }
  if ((first & kLBit) != 0) {
    auto byte = reader.read_u8();
    if (!byte) return PayloadError::kTruncated;
    Vp9LayerIndices layer;
    layer.temporal_id = static_cast<std::uint8_t>(*byte >> 5);
    layer.switching_up_point = (*byte & 0x10) != 0;
    layer.spatial_id = static_cast<std::uint8_t>((*byte >> 1) & 0x07);
    layer.inter_layer_dependency = (*byte & 0x01) != 0;
    if (!d.flexible_mode) {
      auto tl0 = reader.read_u8();
      if (!tl0) return PayloadError::kTruncated;
      layer.tl0_pic_idx = *tl0;
    }
    d.layer = layer;
  }
  if (carries_reference_diffs(d)) {
    // RFC 9628 4.2: P_DIFF counts back from the picture ID, so one is needed; N marks that
    // another P_DIFF follows, up to three in all.
    if (!d.picture_id) return PayloadError::kMalformed;
    while (true) {
      auto byte = reader.read_u8();
      if (!byte) return PayloadError::kTruncated;
      d.reference_diffs[d.reference_count++] = static_cast<std::uint8_t>(*byte >> 1);
      if ((*byte & kNBit) == 0) break;
      if (d.reference_count == kMaxVp9ReferenceDiffs) return PayloadError::kMalformed;
    }
  }
  if ((first & kVBit) != 0) {
    auto ss = parse_scalability_structure(reader);
    if (!ss) return ss.error();
    d.scalability_structure = *ss;
  }
  if (reader.empty()) return PayloadError::kEmpty;
  out.data = reader.rest();
  return out;
}

// --- The uncompressed header ---------------------------------------------------------------

Expected<Vp9FrameHeader, PayloadError> parse_vp9_frame_header(BytesView frame) noexcept {
  BitReader bits(frame);
  Vp9FrameHeader header;
  // VP9 spec 6.2: frame_marker (2) = 2, profile_low_bit, profile_high_bit, and for profile 3
  // a reserved zero bit.
  auto marker = bits.read(2);
  auto profile_low = bits.read(1);
  auto profile_high = bits.read(1);
  if (!marker || !profile_low || !profile_high) return PayloadError::kTruncated;
  if (*marker != 2) return PayloadError::kMalformed;
  header.profile = static_cast<std::uint8_t>((*profile_high << 1) | *profile_low);
  if (header.profile == 3) {
    auto reserved = bits.read(1);
    if (!reserved) return PayloadError::kTruncated;
    if (*reserved != 0) return PayloadError::kMalformed;
  }
  auto show_existing = bits.read(1);
  if (!show_existing) return PayloadError::kTruncated;
  header.show_existing_frame = *show_existing != 0;
  if (header.show_existing_frame) return header;  // a 3-bit index and nothing more
  auto frame_type = bits.read(1);
  auto show_frame = bits.read(1);
  auto error_resilient = bits.read(1);
  if (!frame_type || !show_frame || !error_resilient) return PayloadError::kTruncated;
  header.key_frame = *frame_type == 0;  // KEY_FRAME is 0
  header.show_frame = *show_frame != 0;
  header.error_resilient = *error_resilient != 0;
  if (!header.key_frame) return header;
  // frame_sync_code (6.2.1), then color_config (6.2.2).
  auto sync = bits.read(24);
  if (!sync) return PayloadError::kTruncated;
  if (*sync != 0x498342) return PayloadError::kMalformed;
  if (header.profile >= 2 && !bits.read(1)) return PayloadError::kTruncated;  // ten_or_twelve_bit
  auto color_space = bits.read(3);
  if (!color_space) return PayloadError::kTruncated;
  constexpr std::uint32_t kColorSpaceRgb = 7;
  const bool odd_profile = header.profile == 1 || header.profile == 3;
  if (*color_space != kColorSpaceRgb) {
    if (!bits.read(1)) return PayloadError::kTruncated;  // color_range
    if (odd_profile) {
      auto subsampling = bits.read(2);
      auto reserved = bits.read(1);
      if (!subsampling || !reserved) return PayloadError::kTruncated;
      if (*reserved != 0) return PayloadError::kMalformed;
    }
  } else if (odd_profile) {
    auto reserved = bits.read(1);
    if (!reserved) return PayloadError::kTruncated;
    if (*reserved != 0) return PayloadError::kMalformed;
  }
  // frame_size (6.2.3): frame_width_minus_1 (16), frame_height_minus_1 (16).
  auto width_minus_1 = bits.read(16);
  auto height_minus_1 = bits.read(16);
  if (!width_minus_1 || !height_minus_1) return PayloadError::kTruncated;
  header.width = static_cast<std::uint16_t>(*width_minus_1 + 1);  // 65536 wraps to 0
  header.height = static_cast<std::uint16_t>(*height_minus_1 + 1);
  return header;
}

// --- Superframes ---------------------------------------------------------------------------

std::optional<Vp9SuperframeIndex> parse_vp9_superframe_index(BytesView frame) noexcept {
  if (frame.empty()) return std::nullopt;
  // Annex B: the index ends with a marker byte 0b110 | bytes_per_framesize_minus_1 (2) |
  // frames_in_superframe_minus_1 (3), and starts with the same byte.
  const std::uint8_t marker = frame.back();
  if ((marker & 0xE0) != 0xC0) return std::nullopt;
  Vp9SuperframeIndex index;
  index.frame_count = (marker & 0x07) + 1u;
  const std::size_t bytes_per_size = ((marker >> 3) & 0x03) + 1u;
  index.index_size = 2 + bytes_per_size * index.frame_count;
  if (frame.size() < index.index_size) return std::nullopt;
  const std::size_t index_start = frame.size() - index.index_size;
  if (frame[index_start] != marker) return std::nullopt;
  std::size_t total = 0;
  for (std::size_t i = 0; i < index.frame_count; ++i) {
    std::uint32_t size = 0;
    for (std::size_t b = 0; b < bytes_per_size; ++b)
      size |= std::uint32_t{frame[index_start + 1 + i * bytes_per_size + b]} << (8 * b);
    if (size == 0) return std::nullopt;
    index.frame_sizes[i] = size;
    total += size;
  }
  if (total != index_start) return std::nullopt;
  return index;
}

namespace {

void append_superframe_index(std::span<const std::uint32_t> sizes, Buffer& out) {
  const std::uint32_t largest = *std::max_element(sizes.begin(), sizes.end());
  std::size_t bytes_per_size = 1;
  while (bytes_per_size < 4 && (largest >> (8 * bytes_per_size)) != 0) ++bytes_per_size;
  const auto marker =
      static_cast<std::uint8_t>(0xC0 | ((bytes_per_size - 1) << 3) | (sizes.size() - 1));
  out.push_back(marker);
  for (const std::uint32_t size : sizes)
    for (std::size_t b = 0; b < bytes_per_size; ++b)
      out.push_back(static_cast<std::uint8_t>(size >> (8 * b)));
  out.push_back(marker);
}

}  // namespace

// --- Receiving -----------------------------------------------------------------------------

Expected<FramePosition, PayloadError> Vp9PayloadFormat::inspect(BytesView payload) const {
  auto parsed = parse_vp9_payload(payload);
  if (!parsed) return parsed.error();
  const auto& d = parsed->descriptor;
  if (!d.start_of_layer_frame) return FramePosition::kContinue;
  // RFC 9628 4.1: a picture's layer frames go from the lowest spatial layer up, and the
  // marker bit ends the picture, so only the lowest layer's start is the frame's start.
  if (!d.layer || d.layer->spatial_id == 0) return FramePosition::kStart;
  if (d.layer->inter_layer_dependency) return FramePosition::kContinue;
  return FramePosition::kUnknown;
}

Expected<AssembledFrameInfo, PayloadError> Vp9PayloadFormat::assemble(
    std::span<const BytesView> payloads, Buffer& frame) const {
  if (payloads.empty()) return PayloadError::kEmpty;
  const std::size_t base = frame.size();
  std::array<std::uint32_t, kMaxVp9SuperframeFrames> sizes{};
  std::size_t frame_count = 0;  // frames in `sizes`, with superframes opened up
  std::size_t layer_count = 0;
  // A lone layer frame that is a superframe is output whole: its index is kept aside here.
  std::array<std::uint8_t, 2 + 4 * kMaxVp9SuperframeFrames> first_index{};
  std::size_t first_index_size = 0;

  bool first_predicted = false;
  std::optional<std::uint16_t> picture_id;
  bool in_layer = false;
  std::size_t layer_start = 0;
  std::optional<std::uint8_t> last_spatial_id;
  int top_spatial_id = -1;  // of the last layer frame, when its layer indices told it
  bool has_resolutions = false;
  std::uint8_t resolution_layers = 0;
  std::array<std::uint16_t, kMaxVp9SpatialLayers> widths{};
  std::array<std::uint16_t, kMaxVp9SpatialLayers> heights{};

  for (std::size_t i = 0; i < payloads.size(); ++i) {
    auto parsed = parse_vp9_payload(payloads[i]);
    if (!parsed) return parsed.error();
    const auto& d = parsed->descriptor;
    if (i == 0) {
      first_predicted = d.inter_picture_predicted;
      picture_id = d.picture_id;
    } else if (d.picture_id != picture_id) {
      return PayloadError::kBrokenFrame;  // payloads of two pictures
    }
    if (d.start_of_layer_frame) {
      if (in_layer) return PayloadError::kBrokenFrame;  // the last layer frame has no end
      const std::uint8_t spatial_id = d.layer ? d.layer->spatial_id : 0;
      if (last_spatial_id && spatial_id <= *last_spatial_id) return PayloadError::kBrokenFrame;
      last_spatial_id = spatial_id;
      top_spatial_id = d.layer ? d.layer->spatial_id : -1;
      in_layer = true;
      layer_start = frame.size();
    } else if (!in_layer) {
      return PayloadError::kBrokenFrame;  // a fragment without its layer frame's start
    }
    if (d.scalability_structure && d.scalability_structure->has_resolutions) {
      has_resolutions = true;
      resolution_layers = d.scalability_structure->spatial_layers;
      widths = d.scalability_structure->widths;
      heights = d.scalability_structure->heights;
    }
    frame.append(parsed->data);
    if (!d.end_of_layer_frame) continue;

    in_layer = false;
    const BytesView layer(frame.data() + layer_start, frame.size() - layer_start);
    if (auto index = parse_vp9_superframe_index(layer)) {
      if (frame_count + index->frame_count > kMaxVp9SuperframeFrames)
        return PayloadError::kUnsupported;
      if (layer_count == 0) {
        std::memcpy(first_index.data(), layer.data() + layer.size() - index->index_size,
                    index->index_size);
        first_index_size = index->index_size;
      }
      for (std::size_t f = 0; f < index->frame_count; ++f)
        sizes[frame_count++] = index->frame_sizes[f];
      frame.resize(frame.size() - index->index_size);
    } else {
      if (frame_count == kMaxVp9SuperframeFrames) return PayloadError::kUnsupported;
      if (layer.size() > UINT32_MAX) return PayloadError::kTooLarge;
      sizes[frame_count++] = static_cast<std::uint32_t>(layer.size());
    }
    ++layer_count;
  }
  if (in_layer) return PayloadError::kBrokenFrame;  // the picture ends inside a layer frame

  if (layer_count == 1) {
    frame.append(BytesView(first_index.data(), first_index_size));
  } else {
    append_superframe_index(std::span<const std::uint32_t>(sizes.data(), frame_count), frame);
  }

  AssembledFrameInfo info;
  auto header = parse_vp9_frame_header(BytesView(frame.data() + base, frame.size() - base));
  info.key_frame = !first_predicted && header && header->key_frame;
  if (has_resolutions) {
    // The picture shows its top layer: the SID of the last layer frame, or without layer
    // indices, the count of layer frames.
    const std::size_t top =
        top_spatial_id >= 0 ? static_cast<std::size_t>(top_spatial_id) : layer_count - 1;
    if (top < resolution_layers) {
      info.width = widths[top];
      info.height = heights[top];
    }
  } else if (info.key_frame && layer_count == 1) {
    info.width = header->width;
    info.height = header->height;
  }
  return info;
}

// --- Sending -------------------------------------------------------------------------------

Vp9Packetizer::Vp9Packetizer(std::size_t max_payload_size, std::uint16_t first_picture_id)
    : max_payload_size_(max_payload_size),
      picture_id_(static_cast<std::uint16_t>(first_picture_id & kMaxVp9PictureId)) {}

Expected<void, PayloadError> Vp9Packetizer::start_frame(BytesView frame, bool key_frame) {
  frame_ = {};
  frame_offset_ = 0;
  payload_index_ = 0;
  if (frame.empty()) return PayloadError::kEmpty;

  descriptor_.inter_picture_predicted = !key_frame;
  descriptor_.flexible_mode = false;
  descriptor_.picture_id = picture_id_;
  descriptor_.long_picture_id = true;
  descriptor_.layer.reset();
  descriptor_.reference_count = 0;
  descriptor_.scalability_structure.reset();
  if (key_frame) {
    auto header = parse_vp9_frame_header(frame);
    if (!header || !header->key_frame || header->width == 0 || header->height == 0)
      return PayloadError::kMalformed;
    // What Chromium sends for one spatial and one temporal layer: the resolution, and a
    // picture group of one base-layer picture that refers to the picture before it.
    Vp9ScalabilityStructure& ss = descriptor_.scalability_structure.emplace();
    ss.spatial_layers = 1;
    ss.has_resolutions = true;
    ss.widths[0] = header->width;
    ss.heights[0] = header->height;
    ss.has_picture_group = true;
    ss.picture_group_size = 1;
    ss.picture_group[0].reference_count = 1;
    ss.picture_group[0].reference_diffs[0] = 1;
  }
  const std::size_t first_header = descriptor_.size();
  const std::size_t header =
      first_header - (key_frame ? descriptor_.scalability_structure->size() : 0);
  if (max_payload_size_ <= first_header) return PayloadError::kNoRoom;
  const std::size_t capacity = max_payload_size_ - header;
  const std::size_t first_capacity = max_payload_size_ - first_header;

  if (frame.size() <= first_capacity) {
    first_length_ = frame.size();
    rest_count_ = rest_base_ = rest_larger_ = 0;
  } else {
    // Spread the bytes evenly, counting the first payload's scalability structure as data it
    // carries, so that every payload is about the same size on the wire.
    const std::size_t extra = first_header - header;
    const std::size_t count = 1 + (frame.size() - first_capacity + capacity - 1) / capacity;
    const std::size_t total = frame.size() + extra;
    const std::size_t first_share = total / count + (total % count != 0 ? 1 : 0);
    first_length_ =
        std::clamp<std::size_t>(first_share > extra ? first_share - extra : 1, 1, first_capacity);
    const std::size_t rest = frame.size() - first_length_;
    rest_count_ = (rest + capacity - 1) / capacity;
    rest_base_ = rest / rest_count_;
    rest_larger_ = rest % rest_count_;
  }
  frame_ = frame;
  picture_id_ = static_cast<std::uint16_t>((picture_id_ + 1) & kMaxVp9PictureId);
  return {};
}

Expected<bool, PayloadError> Vp9Packetizer::next_payload(Buffer& out) {
  if (!has_next()) return PayloadError::kNoFrame;
  const std::size_t length = payload_index_ == 0
                                 ? first_length_
                                 : rest_base_ + (payload_index_ - 1 < rest_larger_ ? 1 : 0);
  const bool last = frame_offset_ + length == frame_.size();
  const bool first = payload_index_ == 0;
  descriptor_.start_of_layer_frame = first;
  descriptor_.end_of_layer_frame = last;
  // RFC 9628 4.2: the scalability structure rides on the first payload only.
  if (!first) descriptor_.scalability_structure.reset();
  out.clear();
  ByteWriter writer(out);
  if (!descriptor_.write_to(writer)) return PayloadError::kNoRoom;
  writer.write_bytes(frame_.subspan(frame_offset_, length));
  frame_offset_ += length;
  ++payload_index_;
  if (last) {
    frame_ = {};
    frame_offset_ = 0;
  }
  return last;
}

}  // namespace rtcpp::rtp
