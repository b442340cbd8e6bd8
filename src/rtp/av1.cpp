#include "rtp/av1.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <utility>

namespace rtcpp::rtp {

namespace {

constexpr std::uint8_t kForbiddenBit = 0x80;
constexpr std::uint8_t kExtensionBit = 0x04;
constexpr std::uint8_t kHasSizeBit = 0x02;
constexpr std::uint8_t kZBit = 0x80;
constexpr std::uint8_t kYBit = 0x40;
constexpr std::uint8_t kNBit = 0x08;
// A temporal delimiter OBU in the low-overhead format: type 2 with has_size_field, size 0.
constexpr std::uint8_t kTemporalDelimiter[] = {0x12, 0x00};

// Reads bits most significant first (AV1 4.10.2 f(n)).
class BitReader {
 public:
  explicit BitReader(BytesView input) noexcept : input_(input) {}
  // `count` (at most 32) bits; nothing when fewer remain.
  std::optional<std::uint32_t> read(unsigned count) noexcept {
    if (count > input_.size() * 8 - position_) return std::nullopt;
    std::uint64_t value = 0;
    for (unsigned i = 0; i < count; ++i, ++position_)
      value = (value << 1) | ((input_[position_ / 8] >> (7 - position_ % 8)) & 1u);
    return static_cast<std::uint32_t>(value);
  }
  // AV1 4.10.3 uvlc(): leading zeros, a one, then as many bits as there were zeros.
  std::optional<std::uint32_t> read_uvlc() noexcept {
    unsigned leading_zeros = 0;
    while (true) {
      auto done = read(1);
      if (!done) return std::nullopt;
      if (*done != 0) break;
      ++leading_zeros;
    }
    if (leading_zeros >= 32) return 0xFFFFFFFFu;
    auto value = read(leading_zeros);
    if (!value) return std::nullopt;
    return static_cast<std::uint32_t>(*value + ((std::uint64_t{1} << leading_zeros) - 1));
  }

 private:
  BytesView input_;
  std::size_t position_ = 0;
};

bool is_dropped(std::uint8_t type) {
  // AV1-RTP 5: temporal delimiters and tile lists are not sent; a receiver drops any that come.
  return type == static_cast<std::uint8_t>(Av1ObuType::kTemporalDelimiter) ||
         type == static_cast<std::uint8_t>(Av1ObuType::kTileList);
}

std::size_t encode_leb128(std::uint32_t value, std::uint8_t* out) {
  std::size_t length = 0;
  do {
    std::uint8_t byte = value & 0x7F;
    value >>= 7;
    if (value != 0) byte |= 0x80;
    out[length++] = byte;
  } while (value != 0);
  return length;
}

}  // namespace

// --- leb128 and OBUs -----------------------------------------------------------------------

Expected<Leb128, PayloadError> read_leb128(BytesView bytes) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < kMaxLeb128Bytes; ++i) {
    if (i >= bytes.size()) return PayloadError::kTruncated;
    value |= std::uint64_t{bytes[i] & 0x7Fu} << (7 * i);
    if ((bytes[i] & 0x80) == 0) {
      if (value > kMaxLeb128Value) return PayloadError::kMalformed;
      return Leb128{static_cast<std::uint32_t>(value), i + 1};
    }
  }
  return PayloadError::kMalformed;  // AV1 4.10.5: at most 8 bytes
}

std::size_t leb128_size(std::uint32_t value) noexcept {
  std::size_t length = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++length;
  }
  return length;
}

void write_leb128(std::uint32_t value, Buffer& out) {
  std::uint8_t bytes[8];
  out.append(BytesView(bytes, encode_leb128(value, bytes)));
}

Expected<Av1ObuHeader, PayloadError> parse_av1_obu_header(BytesView obu) noexcept {
  if (obu.empty()) return PayloadError::kTruncated;
  const std::uint8_t first = obu[0];
  if ((first & kForbiddenBit) != 0) return PayloadError::kMalformed;
  Av1ObuHeader header;
  header.type = static_cast<std::uint8_t>((first >> 3) & 0x0F);
  header.has_extension = (first & kExtensionBit) != 0;
  header.has_size_field = (first & kHasSizeBit) != 0;
  if (header.has_extension) {
    if (obu.size() < 2) return PayloadError::kTruncated;
    // AV1 5.3.3: temporal_id (3), spatial_id (2), reserved (3).
    header.temporal_id = static_cast<std::uint8_t>(obu[1] >> 5);
    header.spatial_id = static_cast<std::uint8_t>((obu[1] >> 3) & 0x03);
    header.size = 2;
  }
  return header;
}

Expected<Av1Obu, PayloadError> read_av1_obu(BytesView bytes) {
  auto header = parse_av1_obu_header(bytes);
  if (!header) return header.error();
  Av1Obu obu;
  obu.header = *header;
  const BytesView rest = bytes.subspan(header->size);
  if (!header->has_size_field) {
    obu.payload = rest;
    obu.total_size = bytes.size();
    return obu;
  }
  auto size = read_leb128(rest);
  if (!size) return size.error();
  if (size->value > rest.size() - size->length) return PayloadError::kTruncated;
  obu.payload = rest.subspan(size->length, size->value);
  obu.total_size = header->size + size->length + size->value;
  return obu;
}

// --- Sequence and frame headers ------------------------------------------------------------

Expected<Av1SequenceHeader, PayloadError> parse_av1_sequence_header(BytesView payload) noexcept {
  BitReader bits(payload);
  Av1SequenceHeader out;
  auto profile = bits.read(3);
  auto still_picture = bits.read(1);
  auto reduced = bits.read(1);
  if (!profile || !still_picture || !reduced) return PayloadError::kTruncated;
  out.profile = static_cast<std::uint8_t>(*profile);
  out.still_picture = *still_picture != 0;
  out.reduced_still_picture_header = *reduced != 0;
  if (out.reduced_still_picture_header) {
    if (!bits.read(5)) return PayloadError::kTruncated;  // seq_level_idx[0]
  } else {
    auto timing_info_present = bits.read(1);
    if (!timing_info_present) return PayloadError::kTruncated;
    bool decoder_model_info_present = false;
    std::uint32_t buffer_delay_length = 0;
    if (*timing_info_present != 0) {
      // timing_info() (5.5.3): num_units_in_display_tick, time_scale, equal_picture_interval
      // and then num_ticks_per_picture_minus_1.
      if (!bits.read(32) || !bits.read(32)) return PayloadError::kTruncated;
      auto equal_picture_interval = bits.read(1);
      if (!equal_picture_interval) return PayloadError::kTruncated;
      if (*equal_picture_interval != 0 && !bits.read_uvlc()) return PayloadError::kTruncated;
      auto present = bits.read(1);
      if (!present) return PayloadError::kTruncated;
      decoder_model_info_present = *present != 0;
      if (decoder_model_info_present) {
        // decoder_model_info() (5.5.4).
        auto delay_length_minus_1 = bits.read(5);
        if (!delay_length_minus_1 || !bits.read(32) || !bits.read(5) || !bits.read(5))
          return PayloadError::kTruncated;
        buffer_delay_length = *delay_length_minus_1 + 1;
      }
    }
    auto initial_display_delay_present = bits.read(1);
    auto operating_points_minus_1 = bits.read(5);
    if (!initial_display_delay_present || !operating_points_minus_1)
      return PayloadError::kTruncated;
    for (std::uint32_t i = 0; i <= *operating_points_minus_1; ++i) {
      auto idc = bits.read(12);
      auto level = bits.read(5);
      if (!idc || !level) return PayloadError::kTruncated;
      if (*level > 7 && !bits.read(1)) return PayloadError::kTruncated;  // seq_tier
      if (decoder_model_info_present) {
        auto model_present = bits.read(1);
        if (!model_present) return PayloadError::kTruncated;
        // operating_parameters_info() (5.5.5): two delays and low_delay_mode_flag.
        if (*model_present != 0 &&
            (!bits.read(buffer_delay_length) || !bits.read(buffer_delay_length) || !bits.read(1)))
          return PayloadError::kTruncated;
      }
      if (*initial_display_delay_present != 0) {
        auto delay_present = bits.read(1);
        if (!delay_present) return PayloadError::kTruncated;
        if (*delay_present != 0 && !bits.read(4)) return PayloadError::kTruncated;
      }
    }
  }
  auto width_bits_minus_1 = bits.read(4);
  auto height_bits_minus_1 = bits.read(4);
  if (!width_bits_minus_1 || !height_bits_minus_1) return PayloadError::kTruncated;
  auto width_minus_1 = bits.read(*width_bits_minus_1 + 1);
  auto height_minus_1 = bits.read(*height_bits_minus_1 + 1);
  if (!width_minus_1 || !height_minus_1) return PayloadError::kTruncated;
  out.max_frame_width = *width_minus_1 + 1;
  out.max_frame_height = *height_minus_1 + 1;
  return out;
}

Expected<bool, PayloadError> av1_frame_header_is_key_frame(
    BytesView payload, bool reduced_still_picture_header) noexcept {
  // AV1 5.9.2: a reduced still picture header stream has key frames only.
  if (reduced_still_picture_header) return true;
  BitReader bits(payload);
  auto show_existing_frame = bits.read(1);
  if (!show_existing_frame) return PayloadError::kTruncated;
  if (*show_existing_frame != 0) return false;  // shows a frame decoded before
  auto frame_type = bits.read(2);
  if (!frame_type) return PayloadError::kTruncated;
  return *frame_type == 0;  // KEY_FRAME
}

// --- RTP payloads --------------------------------------------------------------------------

Expected<Av1PayloadReader, PayloadError> Av1PayloadReader::open(BytesView payload) noexcept {
  if (payload.empty()) return PayloadError::kEmpty;
  const std::uint8_t byte = payload[0];
  Av1AggregationHeader header;
  header.continues_obu = (byte & kZBit) != 0;
  header.continues_in_next = (byte & kYBit) != 0;
  header.element_count = static_cast<std::uint8_t>((byte >> 4) & 0x03);
  header.new_coded_video_sequence = (byte & kNBit) != 0;
  // AV1-RTP 4.4: N marks the first packet of a coded video sequence, which starts with a new
  // OBU.
  if (header.new_coded_video_sequence && header.continues_obu) return PayloadError::kMalformed;
  const BytesView rest = payload.subspan(1);
  // Only W = 1 can say "one empty element" with no byte after the header.
  if (rest.empty() && header.element_count != 1) return PayloadError::kMalformed;
  return Av1PayloadReader(header, rest);
}

Expected<std::optional<BytesView>, PayloadError> Av1PayloadReader::next() {
  if (done_) return std::optional<BytesView>();
  const std::size_t count = header_.element_count;
  if (count != 0 && read_ + 1 == count) {
    // AV1-RTP 4.4: with W set, the last element has no length and runs to the end.
    const BytesView element = rest_;
    rest_ = {};
    ++read_;
    done_ = true;
    return std::optional<BytesView>(element);
  }
  if (rest_.empty()) {
    if (count != 0) return PayloadError::kTruncated;  // fewer elements than W says
    done_ = true;
    return std::optional<BytesView>();
  }
  auto length = read_leb128(rest_);
  if (!length) return length.error();
  if (length->value > rest_.size() - length->length) return PayloadError::kTruncated;
  const BytesView element = rest_.subspan(length->length, length->value);
  rest_ = rest_.subspan(length->length + length->value);
  ++read_;
  if (count == 0 && rest_.empty()) done_ = true;
  return std::optional<BytesView>(element);
}

Expected<void, PayloadError> normalize_av1_temporal_unit(BytesView temporal_unit, Buffer& out) {
  out.append(kTemporalDelimiter);
  BytesView rest = temporal_unit;
  while (!rest.empty()) {
    auto obu = read_av1_obu(rest);
    if (!obu) return obu.error();
    const BytesView raw = rest;
    rest = rest.subspan(obu->total_size);
    if (is_dropped(obu->header.type)) continue;
    if (obu->payload.size() > kMaxLeb128Value) return PayloadError::kTooLarge;
    out.push_back(static_cast<std::uint8_t>(raw[0] | kHasSizeBit));
    if (obu->header.has_extension) out.push_back(raw[1]);
    write_leb128(static_cast<std::uint32_t>(obu->payload.size()), out);
    out.append(obu->payload);
  }
  return {};
}

// --- Receiving -----------------------------------------------------------------------------

Expected<FramePosition, PayloadError> Av1PayloadFormat::inspect(BytesView payload) const {
  auto reader = Av1PayloadReader::open(payload);
  if (!reader) return reader.error();
  while (true) {
    auto element = reader->next();
    if (!element) return element.error();
    if (!*element) break;
  }
  const auto& header = reader->header();
  if (header.continues_obu) return FramePosition::kContinue;
  if (header.new_coded_video_sequence) return FramePosition::kStart;
  return FramePosition::kUnknown;
}

namespace {

// What assemble() learns from the OBUs it writes.
struct TemporalUnitInfo {
  std::optional<Av1SequenceHeader> sequence_header;
  bool frame_header_seen = false;
  bool key_frame_after_sequence_header = false;
};

// Rewrites the OBU at frame[start...] (as received: its header, maybe a size field, its
// payload) into the low-overhead form in place, or removes it when it is not kept.
Expected<void, PayloadError> finish_obu(Buffer& frame, std::size_t start, TemporalUnitInfo& info) {
  const BytesView raw(frame.data() + start, frame.size() - start);
  if (raw.empty()) return PayloadError::kMalformed;  // an OBU of no bytes
  auto header = parse_av1_obu_header(raw);
  if (!header) return header.error();
  std::size_t payload_start = header->size;
  if (header->has_size_field) {
    auto size = read_leb128(raw.subspan(header->size));
    if (!size) return size.error();
    // The element's length and the OBU's own size must agree.
    if (size->value != raw.size() - header->size - size->length) return PayloadError::kMalformed;
    payload_start += size->length;
  }
  const std::size_t payload_size = raw.size() - payload_start;
  if (is_dropped(header->type)) {
    frame.resize(start);
    return {};
  }
  if (payload_size > kMaxLeb128Value) return PayloadError::kTooLarge;
  const std::uint8_t header_bytes[2] = {static_cast<std::uint8_t>(raw[0] | kHasSizeBit),
                                        header->has_extension ? raw[1] : std::uint8_t{0}};
  std::uint8_t size_field[8];
  const std::size_t size_length =
      encode_leb128(static_cast<std::uint32_t>(payload_size), size_field);
  const std::size_t prefix = header->size + size_length;
  if (prefix > payload_start) {
    frame.resize(frame.size() + (prefix - payload_start));
    std::memmove(frame.data() + start + prefix, frame.data() + start + payload_start, payload_size);
  } else if (prefix < payload_start) {
    std::memmove(frame.data() + start + prefix, frame.data() + start + payload_start, payload_size);
    frame.resize(frame.size() - (payload_start - prefix));
  }
  std::memcpy(frame.data() + start, header_bytes, header->size);
  std::memcpy(frame.data() + start + header->size, size_field, size_length);

  const BytesView payload(frame.data() + start + prefix, payload_size);
  if (header->type == static_cast<std::uint8_t>(Av1ObuType::kSequenceHeader)) {
    if (auto parsed = parse_av1_sequence_header(payload)) info.sequence_header = *parsed;
  } else if ((header->type == static_cast<std::uint8_t>(Av1ObuType::kFrameHeader) ||
              header->type == static_cast<std::uint8_t>(Av1ObuType::kFrame)) &&
             !info.frame_header_seen) {
    info.frame_header_seen = true;
    if (info.sequence_header) {
      auto key = av1_frame_header_is_key_frame(payload,
                                               info.sequence_header->reduced_still_picture_header);
      info.key_frame_after_sequence_header = key && *key;
    }
  }
  return {};
}

}  // namespace

Expected<AssembledFrameInfo, PayloadError> Av1PayloadFormat::assemble(
    std::span<const BytesView> payloads, Buffer& frame) const {
  if (payloads.empty()) return PayloadError::kEmpty;
  frame.append(kTemporalDelimiter);
  TemporalUnitInfo info;
  bool new_coded_video_sequence = false;
  bool obu_open = false;  // the last element read continues in the next payload
  std::size_t obu_start = 0;
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    auto reader = Av1PayloadReader::open(payloads[i]);
    if (!reader) return reader.error();
    const Av1AggregationHeader header = reader->header();
    if (i == 0) new_coded_video_sequence = header.new_coded_video_sequence;
    // AV1-RTP 4.4: Z says the first element goes on with the OBU the previous payload's last
    // element began (its Y).
    if (header.continues_obu != obu_open) return PayloadError::kBrokenFrame;
    bool first_element = true;
    while (true) {
      auto element = reader->next();
      if (!element) return element.error();
      if (!*element) break;
      if (!(first_element && header.continues_obu)) obu_start = frame.size();
      first_element = false;
      frame.append(**element);
      obu_open = reader->at_end() && header.continues_in_next;
      if (!obu_open) {
        auto finished = finish_obu(frame, obu_start, info);
        if (!finished) return finished.error();
      }
    }
  }
  if (obu_open) return PayloadError::kBrokenFrame;  // the last OBU never ends

  AssembledFrameInfo out;
  out.key_frame = new_coded_video_sequence || info.key_frame_after_sequence_header;
  if (info.sequence_header && info.sequence_header->max_frame_width <= UINT16_MAX &&
      info.sequence_header->max_frame_height <= UINT16_MAX) {
    out.width = static_cast<std::uint16_t>(info.sequence_header->max_frame_width);
    out.height = static_cast<std::uint16_t>(info.sequence_header->max_frame_height);
  }
  return out;
}

// --- Sending -------------------------------------------------------------------------------

Av1Packetizer::Av1Packetizer(std::size_t max_payload_size) : max_payload_size_(max_payload_size) {}

Expected<void, PayloadError> Av1Packetizer::start_frame(BytesView frame, bool key_frame) {
  obus_.clear();
  next_obu_ = 0;
  next_offset_ = 0;
  if (frame.empty()) return PayloadError::kEmpty;
  // One byte of aggregation header and at least one byte of an element.
  if (max_payload_size_ < 2) return PayloadError::kNoRoom;
  bool has_sequence_header = false;
  BytesView rest = frame;
  while (!rest.empty()) {
    auto obu = read_av1_obu(rest);
    if (!obu) {
      obus_.clear();
      return obu.error();
    }
    const BytesView raw = rest;
    rest = rest.subspan(obu->total_size);
    if (is_dropped(obu->header.type)) continue;
    if (obus_.size() == kMaxAv1ObusPerTemporalUnit || obu->payload.size() > kMaxLeb128Value) {
      obus_.clear();
      return PayloadError::kTooLarge;
    }
    SendObu send;
    // AV1-RTP 4.5: OBUs go without their size field; the element's length says it.
    send.header[0] = static_cast<std::uint8_t>(raw[0] & ~kHasSizeBit);
    send.header_size = static_cast<std::uint8_t>(obu->header.size);
    send.has_extension = obu->header.has_extension;
    if (send.has_extension) send.header[1] = raw[1];
    send.temporal_id = obu->header.temporal_id;
    send.spatial_id = obu->header.spatial_id;
    send.payload = obu->payload;
    if (obu->header.type == static_cast<std::uint8_t>(Av1ObuType::kSequenceHeader))
      has_sequence_header = true;
    obus_.push_back(send);
  }
  if (obus_.empty()) return PayloadError::kEmpty;
  new_coded_video_sequence_ = key_frame && has_sequence_header;
  first_payload_ = true;
  return {};
}

namespace {

// Appends bytes [offset, offset + length) of an OBU as sent (header bytes, then payload).
template <typename Obu>
void append_part(const Obu& obu, std::size_t offset, std::size_t length, Buffer& out) {
  while (length > 0 && offset < obu.header_size) {
    out.push_back(obu.header[offset++]);
    --length;
  }
  out.append(obu.payload.subspan(offset - obu.header_size, length));
}

}  // namespace

Av1Packetizer::Plan Av1Packetizer::fill(Position from, bool counted, Buffer* out) const {
  std::size_t space = max_payload_size_ - 1;  // after the aggregation header
  if (out != nullptr) {
    out->clear();
    out->push_back(0);  // the aggregation header, set by the caller
  }
  Position at = from;
  std::uint8_t count = 0;
  // AV1-RTP 5: the OBUs with extension headers in one packet share temporal and spatial IDs.
  std::optional<std::pair<std::uint8_t, std::uint8_t>> layer;
  auto same_layer = [](const SendObu& a, const SendObu& b) {
    return !a.has_extension || !b.has_extension ||
           (a.temporal_id == b.temporal_id && a.spatial_id == b.spatial_id);
  };
  auto joins = [&](const SendObu& obu) {
    return !obu.has_extension || !layer || *layer == std::pair(obu.temporal_id, obu.spatial_id);
  };
  auto take = [&](std::size_t length, bool with_length) {
    const SendObu& obu = obus_[at.obu];
    if (obu.has_extension) layer = std::pair(obu.temporal_id, obu.spatial_id);
    if (out != nullptr) {
      if (with_length) write_leb128(static_cast<std::uint32_t>(length), *out);
      append_part(obu, at.offset, length, *out);
    }
    space -= length + (with_length ? leb128_size(static_cast<std::uint32_t>(length)) : 0);
    at.offset += length;
    if (at.offset == obu.size()) at = Position{at.obu + 1, 0};
    ++count;
  };
  while (at.obu < obus_.size() && joins(obus_[at.obu])) {
    // Room for one byte without a length (counted), or with a one-byte length (W = 0).
    if (space < (counted ? 1u : 2u)) break;
    const std::size_t rest = obus_[at.obu].size() - at.offset;
    const std::size_t rest_with_length = rest + leb128_size(static_cast<std::uint32_t>(rest));
    if (counted) {
      // Whole and with its length when another element can follow it in this payload; else
      // this is the last element, without a length, as much of it as fits.
      const bool another_follows = std::size_t{count} + 1 < kMaxAv1CountedElements &&
                                   at.obu + 1 < obus_.size() && rest_with_length < space &&
                                   joins(obus_[at.obu + 1]) &&
                                   same_layer(obus_[at.obu], obus_[at.obu + 1]);
      if (another_follows) {
        take(rest, true);
        continue;
      }
      take(std::min(rest, space), false);
      break;
    }
    if (rest_with_length <= space) {
      take(rest, true);
      continue;
    }
    // The largest fragment that fits with its length.
    std::size_t fragment = space - 1;
    while (fragment > 0 && fragment + leb128_size(static_cast<std::uint32_t>(fragment)) > space)
      --fragment;
    if (fragment > 0) take(fragment, true);
    break;
  }
  return Plan{at, counted ? count : std::uint8_t{0}};
}

Expected<bool, PayloadError> Av1Packetizer::next_payload(Buffer& out) {
  if (!has_next()) return PayloadError::kNoFrame;
  const Position from{next_obu_, next_offset_};
  const Plan counted = fill(from, true, nullptr);
  const Plan uncounted = fill(from, false, nullptr);
  const bool use_counted = std::tie(uncounted.end.obu, uncounted.end.offset) <=
                           std::tie(counted.end.obu, counted.end.offset);
  const Plan plan = fill(from, use_counted, &out);
  const bool continues_in_next = plan.end.offset != 0;
  out[0] = static_cast<std::uint8_t>((from.offset != 0 ? kZBit : 0) |
                                     (continues_in_next ? kYBit : 0) | (plan.element_count << 4) |
                                     (first_payload_ && new_coded_video_sequence_ ? kNBit : 0));
  next_obu_ = plan.end.obu;
  next_offset_ = plan.end.offset;
  first_payload_ = false;
  return !has_next();
}

}  // namespace rtcpp::rtp
