#include "rtp/h264.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "base/byte_reader.hpp"
#include "base/byte_writer.hpp"

namespace rtcpp::rtp {

namespace {

constexpr std::uint8_t kForbiddenBit = 0x80;
constexpr std::uint8_t kNriMask = 0x60;
constexpr std::uint8_t kFuStartBit = 0x80;
constexpr std::uint8_t kFuEndBit = 0x40;
constexpr std::size_t kStapSizeField = 2;
constexpr std::size_t kFuHeadersSize = 2;  // FU indicator and FU header
constexpr std::array<std::uint8_t, 4> kStartCode = {0, 0, 0, 1};

// A NAL unit type that a single NAL unit packet, an aggregation or a fragment may carry.
bool is_carried_nal_type(std::uint8_t type) noexcept {
  return type >= 1 && type <= 23;
}

// --- Bits of an RBSP -----------------------------------------------------------------------

// Reads the bits of a NAL unit's payload, skipping emulation prevention bytes (H.264 7.4.1:
// a 03 after two zero bytes is not part of the RBSP) as it goes.
class RbspBitReader {
 public:
  explicit RbspBitReader(BytesView bytes) noexcept : bytes_(bytes) {}

  std::optional<std::uint32_t> bit() noexcept {
    if (bits_left_ == 0 && !load_byte()) return std::nullopt;
    --bits_left_;
    return (current_ >> bits_left_) & 1u;
  }
  std::optional<std::uint32_t> bits(int count) noexcept {
    std::uint32_t value = 0;
    for (int i = 0; i < count; ++i) {
      auto b = bit();
      if (!b) return std::nullopt;
      value = (value << 1) | *b;
    }
    return value;
  }
  // ue(v), H.264 9.1: leading zeros, a one, then as many bits. Above 31 leading zeros the value
  // would not fit 32 bits: refused (nullopt), as is running out of input.
  std::optional<std::uint32_t> ue() noexcept {
    int leading_zeros = 0;
    while (true) {
      auto b = bit();
      if (!b) return std::nullopt;
      if (*b == 1) break;
      if (++leading_zeros > 31) return std::nullopt;
    }
    if (leading_zeros == 0) return 0;
    auto suffix = bits(leading_zeros);
    if (!suffix) return std::nullopt;
    return static_cast<std::uint32_t>((std::uint64_t{1} << leading_zeros) - 1 + *suffix);
  }
  // se(v), H.264 9.1.1: 1, 2, 3, 4... map to 1, -1, 2, -2...
  std::optional<std::int64_t> se() noexcept {
    auto code = ue();
    if (!code) return std::nullopt;
    const std::int64_t magnitude = (std::int64_t{*code} + 1) / 2;
    return (*code & 1u) != 0 ? magnitude : -magnitude;
  }
  // Whether the reader ran out (as opposed to reading a bad value).
  bool exhausted() const noexcept { return exhausted_; }

 private:
  bool load_byte() noexcept {
    if (position_ < bytes_.size() && zeros_ >= 2 && bytes_[position_] == 0x03) {
      ++position_;
      zeros_ = 0;
    }
    if (position_ >= bytes_.size()) {
      exhausted_ = true;
      return false;
    }
    current_ = bytes_[position_++];
    zeros_ = current_ == 0 ? zeros_ + 1 : 0;
    bits_left_ = 8;
    return true;
  }

  BytesView bytes_;
  std::size_t position_ = 0;
  int zeros_ = 0;
  std::uint32_t current_ = 0;
  int bits_left_ = 0;
  bool exhausted_ = false;
};

// profile_idc values whose SPS carries chroma_format_idc, bit depths and scaling matrices
// (H.264 7.3.2.1.1: the High profiles and the SVC/MVC ones).
bool has_chroma_fields(std::uint8_t profile_idc) noexcept {
  constexpr std::array<std::uint8_t, 13> kProfiles = {100, 110, 122, 244, 44,  83, 86,
                                                      118, 128, 138, 139, 134, 135};
  return std::find(kProfiles.begin(), kProfiles.end(), profile_idc) != kProfiles.end();
}

// Skips scaling_list() (H.264 7.3.2.1.1.1): delta_scale values, until one makes the next
// scale 0 (the rest of the list repeats the last).
bool skip_scaling_list(RbspBitReader& reader, int size) noexcept {
  int last_scale = 8;
  int next_scale = 8;
  for (int j = 0; j < size; ++j) {
    if (next_scale != 0) {
      auto delta = reader.se();
      if (!delta || *delta < -128 || *delta > 127) return false;
      next_scale = (last_scale + static_cast<int>(*delta) + 256) % 256;
    }
    last_scale = next_scale == 0 ? last_scale : next_scale;
  }
  return true;
}

// Limits from H.264 7.4.2.1.1 (and a picture size that fits 16 bits).
constexpr std::uint32_t kMaxSpsId = 31;
constexpr std::uint32_t kMaxChromaFormatIdc = 3;
constexpr std::uint32_t kMaxBitDepthMinus8 = 6;
constexpr std::uint32_t kMaxLog2Minus4 = 12;
constexpr std::uint32_t kMaxPicOrderCntType = 2;
constexpr std::uint32_t kMaxRefFramesInPocCycle = 255;
constexpr std::uint32_t kMaxRefFrames = 16;
constexpr std::uint32_t kMaxPictureSize = 0xFFFF;

// --- Annex B -------------------------------------------------------------------------------

// Splits an Annex B access unit into its NAL units, without their start codes and trailing
// zero bytes. Empty NAL units are skipped; access unit delimiters are dropped.
Expected<void, PayloadError> split_annex_b(BytesView frame, std::vector<BytesView>& nal_units) {
  nal_units.clear();
  std::size_t start = find_h264_start_code(frame, 0);
  // Only zero bytes may come before the first start code (leading_zero_8bits, H.264 B.2).
  for (std::size_t i = 0; i < start; ++i) {
    if (frame[i] != 0) return PayloadError::kMalformed;
  }
  while (start < frame.size()) {
    const std::size_t begin = start + 3;
    const std::size_t next = find_h264_start_code(frame, begin);
    std::size_t end = next;
    while (end > begin && frame[end - 1] == 0) --end;
    start = next;
    if (end == begin) continue;
    const BytesView nal = frame.subspan(begin, end - begin);
    const std::uint8_t type = h264_nal_type(nal[0]);
    if (!is_carried_nal_type(type)) return PayloadError::kMalformed;
    if (type == kH264NalAccessUnitDelimiter) continue;
    if (nal_units.size() == kMaxH264NalUnitsPerFrame) return PayloadError::kTooLarge;
    nal_units.push_back(nal);
  }
  if (nal_units.empty()) return PayloadError::kMalformed;
  return {};
}

// --- Assembling ------------------------------------------------------------------------------

// Writes NAL units into the frame and keeps what assemble() reports about them.
class FrameWriter {
 public:
  explicit FrameWriter(Buffer& frame) noexcept : frame_(frame) {}

  // Starts a NAL unit: its start code and header.
  Expected<void, PayloadError> begin(std::uint8_t header) {
    finish_nal();
    if (++nal_count_ > kMaxH264NalUnitsPerFrame) return PayloadError::kTooLarge;
    if (auto ok = append(kStartCode); !ok) return ok;
    nal_begin_ = frame_.size();
    nal_type_ = h264_nal_type(header);
    if (nal_type_ == kH264NalIdrSlice) info_.key_frame = true;
    return append(BytesView(&header, 1));
  }
  Expected<void, PayloadError> append(BytesView bytes) {
    if (bytes.size() > kMaxH264FrameSize - frame_.size()) return PayloadError::kTooLarge;
    frame_.append(bytes);
    return {};
  }
  AssembledFrameInfo finish() {
    finish_nal();
    return info_;
  }

 private:
  // The first SPS that parses gives the picture size.
  void finish_nal() {
    if (nal_type_ == kH264NalSps && !sps_found_) {
      auto sps = parse_h264_sps(frame_.view().subspan(nal_begin_));
      if (sps) {
        sps_found_ = true;
        info_.width = sps->width;
        info_.height = sps->height;
      }
    }
    nal_type_ = 0;
  }

  Buffer& frame_;
  AssembledFrameInfo info_;
  std::size_t nal_count_ = 0;
  std::size_t nal_begin_ = 0;
  std::uint8_t nal_type_ = 0;
  bool sps_found_ = false;
};

// The NAL units aggregated in a STAP-A, each checked (RFC 6184 5.7.1).
template <typename Visit>
Expected<void, PayloadError> for_each_aggregated(BytesView payload, Visit&& visit) {
  ByteReader reader(payload.subspan(1));
  if (reader.empty()) return PayloadError::kTruncated;
  while (!reader.empty()) {
    auto size = reader.read_u16();
    if (!size) return PayloadError::kTruncated;
    if (*size == 0) return PayloadError::kMalformed;
    auto nal = reader.read_bytes(*size);
    if (!nal) return PayloadError::kTruncated;
    if (!is_carried_nal_type(h264_nal_type((*nal)[0]))) return PayloadError::kMalformed;
    if (auto ok = visit(*nal); !ok) return ok;
  }
  return {};
}

}  // namespace

std::size_t find_h264_start_code(BytesView data, std::size_t from) noexcept {
  for (std::size_t i = from; i + 3 <= data.size(); ++i) {
    if (data[i + 2] > 1) {
      i += 2;  // no start code can begin at i, i + 1 or i + 2
      continue;
    }
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) return i;
  }
  return data.size();
}

// --- SPS -----------------------------------------------------------------------------------

Expected<H264Sps, PayloadError> parse_h264_sps(BytesView nal) noexcept {
  if (nal.empty()) return PayloadError::kEmpty;
  if (h264_nal_type(nal[0]) != kH264NalSps) return PayloadError::kMalformed;
  RbspBitReader reader(nal.subspan(1));
  // Every read below fails on running out (kTruncated) or on a value out of range.
  auto fail = [&reader] {
    return reader.exhausted() ? PayloadError::kTruncated : PayloadError::kMalformed;
  };
  H264Sps sps;
  auto profile = reader.bits(8);
  auto constraints = reader.bits(8);
  auto level = reader.bits(8);
  auto id = reader.ue();
  if (!profile || !constraints || !level || !id || *id > kMaxSpsId) return fail();
  sps.profile_idc = static_cast<std::uint8_t>(*profile);
  sps.constraint_flags = static_cast<std::uint8_t>(*constraints);
  sps.level_idc = static_cast<std::uint8_t>(*level);
  sps.seq_parameter_set_id = static_cast<std::uint8_t>(*id);

  std::uint32_t chroma_format_idc = 1;  // 4:2:0 when the SPS does not say
  bool separate_colour_planes = false;
  if (has_chroma_fields(sps.profile_idc)) {
    auto chroma = reader.ue();
    if (!chroma || *chroma > kMaxChromaFormatIdc) return fail();
    chroma_format_idc = *chroma;
    if (chroma_format_idc == 3) {
      auto separate = reader.bit();
      if (!separate) return fail();
      separate_colour_planes = *separate == 1;
    }
    auto luma_depth = reader.ue();
    auto chroma_depth = reader.ue();
    auto bypass = reader.bit();
    auto matrix_present = reader.bit();
    if (!luma_depth || *luma_depth > kMaxBitDepthMinus8 || !chroma_depth ||
        *chroma_depth > kMaxBitDepthMinus8 || !bypass || !matrix_present)
      return fail();
    if (*matrix_present == 1) {
      const int lists = chroma_format_idc != 3 ? 8 : 12;
      for (int i = 0; i < lists; ++i) {
        auto list_present = reader.bit();
        if (!list_present) return fail();
        // The first six lists are 4x4 (16 values), the rest 8x8 (64).
        if (*list_present == 1 && !skip_scaling_list(reader, i < 6 ? 16 : 64)) return fail();
      }
    }
  }

  auto log2_max_frame_num = reader.ue();
  auto poc_type = reader.ue();
  if (!log2_max_frame_num || *log2_max_frame_num > kMaxLog2Minus4 || !poc_type ||
      *poc_type > kMaxPicOrderCntType)
    return fail();
  if (*poc_type == 0) {
    auto log2_max_poc_lsb = reader.ue();
    if (!log2_max_poc_lsb || *log2_max_poc_lsb > kMaxLog2Minus4) return fail();
  } else if (*poc_type == 1) {
    auto always_zero = reader.bit();
    auto non_ref_offset = reader.se();
    auto field_offset = reader.se();
    auto cycle = reader.ue();
    if (!always_zero || !non_ref_offset || !field_offset || !cycle ||
        *cycle > kMaxRefFramesInPocCycle)
      return fail();
    for (std::uint32_t i = 0; i < *cycle; ++i) {
      if (!reader.se()) return fail();
    }
  }
  auto ref_frames = reader.ue();
  auto gaps_allowed = reader.bit();
  auto width_mbs_minus1 = reader.ue();
  auto height_map_units_minus1 = reader.ue();
  auto frame_mbs_only = reader.bit();
  if (!ref_frames || *ref_frames > kMaxRefFrames || !gaps_allowed || !width_mbs_minus1 ||
      !height_map_units_minus1 || !frame_mbs_only)
    return fail();
  if (*frame_mbs_only == 0 && !reader.bit()) return fail();  // mb_adaptive_frame_field_flag
  if (!reader.bit()) return fail();                          // direct_8x8_inference_flag
  auto cropping = reader.bit();
  if (!cropping) return fail();
  std::array<std::uint32_t, 4> crop{};  // left, right, top, bottom
  if (*cropping == 1) {
    for (auto& offset : crop) {
      auto value = reader.ue();
      if (!value) return fail();
      offset = *value;
    }
  }

  // H.264 7.4.2.1.1: sizes in macroblocks (16x16); without frame_mbs_only a map unit is a
  // field's macroblock pair row, so the frame height doubles. Cropping counts in chroma
  // sample units (CropUnitX, CropUnitY).
  const std::uint64_t field_factor = 2 - *frame_mbs_only;
  const std::uint64_t width = (std::uint64_t{*width_mbs_minus1} + 1) * 16;
  const std::uint64_t height = (std::uint64_t{*height_map_units_minus1} + 1) * 16 * field_factor;
  std::uint64_t crop_unit_x = 1;
  std::uint64_t crop_unit_y = field_factor;
  if (!separate_colour_planes && chroma_format_idc != 0) {
    const std::uint64_t sub_width = chroma_format_idc == 3 ? 1 : 2;
    const std::uint64_t sub_height = chroma_format_idc == 1 ? 2 : 1;
    crop_unit_x = sub_width;
    crop_unit_y = sub_height * field_factor;
  }
  const std::uint64_t crop_x = crop_unit_x * (std::uint64_t{crop[0]} + crop[1]);
  const std::uint64_t crop_y = crop_unit_y * (std::uint64_t{crop[2]} + crop[3]);
  if (crop_x >= width || crop_y >= height) return PayloadError::kMalformed;
  if (width - crop_x > kMaxPictureSize || height - crop_y > kMaxPictureSize)
    return PayloadError::kMalformed;
  sps.width = static_cast<std::uint16_t>(width - crop_x);
  sps.height = static_cast<std::uint16_t>(height - crop_y);
  return sps;
}

// --- Receiving -----------------------------------------------------------------------------

Expected<FramePosition, PayloadError> H264PayloadFormat::inspect(BytesView payload) const {
  if (payload.empty()) return PayloadError::kEmpty;
  // H.264 7.4.1.2.3: an access unit delimiter opens an access unit, and a sequence parameter
  // set comes before its first slice, where encoders put it first; a packet led by either
  // starts a frame. This lets a key frame be taken without the packet before it.
  auto position_of = [](std::uint8_t nal_type) {
    return nal_type == kH264NalAccessUnitDelimiter || nal_type == kH264NalSps
               ? FramePosition::kStart
               : FramePosition::kUnknown;
  };
  const std::uint8_t type = h264_nal_type(payload[0]);
  if (is_carried_nal_type(type)) return position_of(type);
  switch (type) {
    case kH264StapA: {
      std::optional<std::uint8_t> first_type;
      auto ok = for_each_aggregated(payload, [&](BytesView nal) {
        if (!first_type && !nal.empty()) first_type = h264_nal_type(nal[0]);
        return Expected<void, PayloadError>{};
      });
      if (!ok) return ok.error();
      return first_type ? position_of(*first_type) : FramePosition::kUnknown;
    }
    case kH264FuA: {
      // RFC 6184 5.8: FU indicator, FU header, and at least one byte of the fragment.
      if (payload.size() <= kFuHeadersSize) return PayloadError::kTruncated;
      const std::uint8_t fu_header = payload[1];
      const bool start = (fu_header & kFuStartBit) != 0;
      const bool end = (fu_header & kFuEndBit) != 0;
      // A NAL unit that fits one fragment goes whole; S and E together are forbidden. The R
      // bit is ignored, as 5.8 tells receivers.
      if (start && end) return PayloadError::kMalformed;
      if (!is_carried_nal_type(h264_nal_type(fu_header))) return PayloadError::kMalformed;
      return start ? FramePosition::kUnknown : FramePosition::kContinue;
    }
    case kH264StapB:
    case kH264Mtap16:
    case kH264Mtap24:
    case kH264FuB:
      return PayloadError::kUnsupported;  // interleaved mode only
    default:
      return PayloadError::kMalformed;  // 0, 30, 31
  }
}

Expected<AssembledFrameInfo, PayloadError> H264PayloadFormat::assemble(
    std::span<const BytesView> payloads, Buffer& frame) const {
  frame.clear();
  if (payloads.empty()) return PayloadError::kEmpty;
  FrameWriter writer(frame);
  // While the FU-A fragments of a NAL unit are being joined: that unit's type.
  bool fragment_open = false;
  std::uint8_t open_type = 0;
  auto fail = [&frame](PayloadError error) {
    frame.clear();
    return error;
  };
  for (const BytesView payload : payloads) {
    auto position = inspect(payload);
    if (!position) return fail(position.error());
    const std::uint8_t type = h264_nal_type(payload[0]);
    if (type != kH264FuA) {
      // A whole NAL unit (or several) between the fragments of one.
      if (fragment_open) return fail(PayloadError::kBrokenFrame);
      if (type == kH264StapA) {
        auto ok = for_each_aggregated(payload, [&writer](BytesView nal) {
          auto begun = writer.begin(nal[0]);
          if (!begun) return begun;
          return writer.append(nal.subspan(1));
        });
        if (!ok) return fail(ok.error());
      } else {
        auto ok = writer.begin(payload[0]);
        if (ok) ok = writer.append(payload.subspan(1));
        if (!ok) return fail(ok.error());
      }
      continue;
    }
    const std::uint8_t fu_header = payload[1];
    const std::uint8_t fragment_type = h264_nal_type(fu_header);
    if ((fu_header & kFuStartBit) != 0) {
      if (fragment_open) return fail(PayloadError::kBrokenFrame);  // no E before it
      // RFC 6184 5.8: the header is F and NRI from the FU indicator, the type from the FU
      // header.
      const auto header =
          static_cast<std::uint8_t>((payload[0] & (kForbiddenBit | kNriMask)) | fragment_type);
      auto ok = writer.begin(header);
      if (!ok) return fail(ok.error());
      fragment_open = true;
      open_type = fragment_type;
    } else if (!fragment_open || open_type != fragment_type) {
      return fail(PayloadError::kBrokenFrame);  // no S before it, or another NAL unit's
    }
    auto ok = writer.append(payload.subspan(kFuHeadersSize));
    if (!ok) return fail(ok.error());
    if ((fu_header & kFuEndBit) != 0) fragment_open = false;
  }
  if (fragment_open) return fail(PayloadError::kBrokenFrame);  // the last lacks E
  return writer.finish();
}

// --- Sending -------------------------------------------------------------------------------

H264Packetizer::H264Packetizer(std::size_t max_payload_size, H264PacketizationMode mode)
    : max_payload_size_(max_payload_size), mode_(mode) {}

void H264Packetizer::abandon() noexcept {
  nal_units_.clear();
  next_nal_ = 0;
  fragment_offset_ = 0;
}

Expected<void, PayloadError> H264Packetizer::start_frame(BytesView frame, bool /*key_frame*/) {
  abandon();
  if (frame.empty()) return PayloadError::kEmpty;
  if (frame.size() > kMaxH264FrameSize) return PayloadError::kTooLarge;
  if (max_payload_size_ == 0) return PayloadError::kNoRoom;
  if (auto ok = split_annex_b(frame, nal_units_); !ok) {
    abandon();
    return ok;
  }
  for (const BytesView nal : nal_units_) {
    if (nal.size() <= max_payload_size_) continue;
    const PayloadError error = mode_ == H264PacketizationMode::kSingleNalUnit
                                   ? PayloadError::kTooLarge
                                   : PayloadError::kNoRoom;
    // FU-A needs its two header bytes and one byte of the fragment.
    if (mode_ == H264PacketizationMode::kSingleNalUnit || max_payload_size_ <= kFuHeadersSize) {
      abandon();
      return error;
    }
  }
  return {};
}

std::size_t H264Packetizer::aggregatable() const noexcept {
  if (mode_ != H264PacketizationMode::kNonInterleaved) return 0;
  std::size_t size = 1;  // the STAP-A header
  std::size_t count = 0;
  for (std::size_t i = next_nal_; i < nal_units_.size(); ++i) {
    const std::size_t nal_size = nal_units_[i].size();
    if (nal_size > 0xFFFF || size + kStapSizeField + nal_size > max_payload_size_) break;
    size += kStapSizeField + nal_size;
    ++count;
  }
  return count;
}

Expected<bool, PayloadError> H264Packetizer::next_payload(Buffer& out) {
  if (!has_next()) return PayloadError::kNoFrame;
  out.clear();
  ByteWriter writer(out);
  const BytesView nal = nal_units_[next_nal_];
  if (nal.size() <= max_payload_size_ && fragment_offset_ == 0) {
    const std::size_t count = aggregatable();
    if (count >= 2) {
      // RFC 6184 5.7.1: F is set when any aggregated unit has it; NRI is their highest.
      std::uint8_t forbidden = 0;
      std::uint8_t nri = 0;
      for (std::size_t i = next_nal_; i < next_nal_ + count; ++i) {
        forbidden = static_cast<std::uint8_t>(forbidden | (nal_units_[i][0] & kForbiddenBit));
        nri = std::max(nri, static_cast<std::uint8_t>(nal_units_[i][0] & kNriMask));
      }
      writer.write_u8(static_cast<std::uint8_t>(forbidden | nri | kH264StapA));
      for (std::size_t i = next_nal_; i < next_nal_ + count; ++i) {
        writer.write_u16(static_cast<std::uint16_t>(nal_units_[i].size()));
        writer.write_bytes(nal_units_[i]);
      }
      next_nal_ += count;
    } else {
      writer.write_bytes(nal);
      ++next_nal_;
    }
    return !has_next();
  }

  // FU-A: the NAL unit's payload (after its header) in fragments of nearly equal size.
  const BytesView body = nal.subspan(1);
  const std::size_t capacity = max_payload_size_ - kFuHeadersSize;
  const std::size_t remaining = body.size() - fragment_offset_;
  const std::size_t fragments_left = (remaining + capacity - 1) / capacity;
  const std::size_t length = (remaining + fragments_left - 1) / fragments_left;
  const bool start = fragment_offset_ == 0;
  const bool end = length == remaining;
  writer.write_u8(static_cast<std::uint8_t>((nal[0] & (kForbiddenBit | kNriMask)) | kH264FuA));
  writer.write_u8(static_cast<std::uint8_t>((start ? kFuStartBit : 0) | (end ? kFuEndBit : 0) |
                                            h264_nal_type(nal[0])));
  writer.write_bytes(body.subspan(fragment_offset_, length));
  if (end) {
    fragment_offset_ = 0;
    ++next_nal_;
  } else {
    fragment_offset_ += length;
  }
  return !has_next();
}

}  // namespace rtcpp::rtp
