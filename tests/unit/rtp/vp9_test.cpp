#include "rtp/vp9.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "base/hex.hpp"
#include "media/ivf.hpp"

namespace rtcpp::rtp {
namespace {

Buffer hex(std::string text) {
  std::erase(text, ' ');
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes) << text;
  return bytes ? std::move(*bytes) : Buffer{};
}

Buffer write_descriptor(const Vp9PayloadDescriptor& d) {
  Buffer out;
  ByteWriter writer(out);
  EXPECT_TRUE(d.write_to(writer));
  EXPECT_EQ(out.size(), d.size());
  return out;
}

// Writes bits most significant first, to build uncompressed headers.
class BitWriter {
 public:
  void put(std::uint32_t value, unsigned bits) {
    for (unsigned i = bits; i-- > 0;) {
      if (count_ % 8 == 0) bytes_.push_back(0);
      if ((value >> i) & 1u)
        bytes_[bytes_.size() - 1] |= static_cast<std::uint8_t>(0x80 >> (count_ % 8));
      ++count_;
    }
  }
  Buffer take() { return std::move(bytes_); }

 private:
  Buffer bytes_;
  std::size_t count_ = 0;
};

// A VP9 key frame's uncompressed header (VP9 spec 6.2) for `profile`, then `tail` bytes.
Buffer key_frame(std::uint16_t width, std::uint16_t height, std::size_t tail = 16,
                 unsigned profile = 0, unsigned color_space = 1) {
  BitWriter bits;
  bits.put(2, 2);             // frame_marker
  bits.put(profile & 1u, 1);  // profile_low_bit
  bits.put(profile >> 1, 1);  // profile_high_bit
  if (profile == 3) bits.put(0, 1);
  bits.put(0, 1);                    // show_existing_frame
  bits.put(0, 1);                    // frame_type: KEY_FRAME
  bits.put(1, 1);                    // show_frame
  bits.put(0, 1);                    // error_resilient_mode
  bits.put(0x498342, 24);            // frame_sync_code
  if (profile >= 2) bits.put(0, 1);  // ten_or_twelve_bit
  bits.put(color_space, 3);
  const bool odd = profile == 1 || profile == 3;
  if (color_space != 7) {
    bits.put(0, 1);           // color_range
    if (odd) bits.put(0, 3);  // subsampling_x, subsampling_y, reserved_zero
  } else if (odd) {
    bits.put(0, 1);  // reserved_zero
  }
  bits.put(width - 1u, 16);
  bits.put(height - 1u, 16);
  Buffer out = bits.take();
  for (std::size_t i = 0; i < tail; ++i) out.push_back(static_cast<std::uint8_t>(i * 7 + 1));
  return out;
}

// An inter frame: frame_type 1, then filler.
Buffer inter_frame(std::size_t size) {
  Buffer out(size);
  out[0] = 0x86;  // frame_marker 2, profile 0, show_existing 0, frame_type 1, show_frame 1
  for (std::size_t i = 1; i < size; ++i) out[i] = static_cast<std::uint8_t>(i * 13);
  return out;
}

Buffer payload(const Vp9PayloadDescriptor& d, BytesView data) {
  Buffer out = write_descriptor(d);
  out.append(data);
  return out;
}

std::vector<BytesView> views(const std::vector<Buffer>& buffers) {
  return {buffers.begin(), buffers.end()};
}

// --- Payload descriptor ------------------------------------------------------------------

TEST(Vp9Descriptor, ChromiumKeyFrameFirstPacket) {
  // I B V | M PID 0x1234 | SS: N_S 0, Y, G | 160 x 120 | N_G 1 | T0 U0 R1 | P_DIFF 1 | data.
  const Buffer bytes = hex("8a 9234 18 00a0 0078 01 04 01 aabb");
  auto parsed = parse_vp9_payload(bytes);
  ASSERT_TRUE(parsed) << to_string(parsed.error());
  const auto& d = parsed->descriptor;
  EXPECT_FALSE(d.inter_picture_predicted);
  EXPECT_FALSE(d.flexible_mode);
  EXPECT_TRUE(d.start_of_layer_frame);
  EXPECT_FALSE(d.end_of_layer_frame);
  EXPECT_EQ(d.picture_id, 0x1234);
  EXPECT_TRUE(d.long_picture_id);
  EXPECT_FALSE(d.layer);
  ASSERT_TRUE(d.scalability_structure);
  const auto& ss = *d.scalability_structure;
  EXPECT_EQ(ss.spatial_layers, 1);
  EXPECT_TRUE(ss.has_resolutions);
  EXPECT_EQ(ss.widths[0], 160);
  EXPECT_EQ(ss.heights[0], 120);
  EXPECT_TRUE(ss.has_picture_group);
  ASSERT_EQ(ss.picture_group_size, 1);
  EXPECT_EQ(ss.picture_group[0].reference_count, 1);
  EXPECT_EQ(ss.picture_group[0].reference_diffs[0], 1);
  EXPECT_EQ(to_hex(parsed->data), "aabb");
  EXPECT_EQ(to_hex(write_descriptor(d)), "8a92341800a00078010401");
}

TEST(Vp9Descriptor, NonFlexibleLayerIndices) {
  // I P L E Z | short PID 5 | TID 2 U SID 1 D | TL0PICIDX 0x77 | data.
  const Buffer bytes = hex("e5 05 53 77 01");
  auto parsed = parse_vp9_payload(bytes);
  ASSERT_TRUE(parsed);
  const auto& d = parsed->descriptor;
  EXPECT_TRUE(d.inter_picture_predicted);
  EXPECT_TRUE(d.end_of_layer_frame);
  EXPECT_TRUE(d.not_reference_for_upper_layer);
  EXPECT_EQ(d.picture_id, 5);
  EXPECT_FALSE(d.long_picture_id);
  ASSERT_TRUE(d.layer);
  EXPECT_EQ(d.layer->temporal_id, 2);
  EXPECT_TRUE(d.layer->switching_up_point);
  EXPECT_EQ(d.layer->spatial_id, 1);
  EXPECT_TRUE(d.layer->inter_layer_dependency);
  EXPECT_EQ(d.layer->tl0_pic_idx, 0x77);
  EXPECT_EQ(to_hex(write_descriptor(d)), "e5055377");
}

TEST(Vp9Descriptor, FlexibleModeReferenceDiffs) {
  for (std::uint8_t count = 1; count <= 3; ++count) {
    Vp9PayloadDescriptor d;
    d.inter_picture_predicted = true;
    d.flexible_mode = true;
    d.start_of_layer_frame = true;
    d.picture_id = 300;
    d.layer = Vp9LayerIndices{.temporal_id = 1, .spatial_id = 2};
    d.reference_count = count;
    d.reference_diffs = {1, 64, 127};
    const Buffer data = hex("ff");
    const Buffer bytes = payload(d, data);
    // 1 + 2 (PID) + 1 (L, no TL0PICIDX in flexible mode) + P_DIFFs.
    EXPECT_EQ(bytes.size(), 4u + count + 1u);
    auto parsed = parse_vp9_payload(bytes);
    ASSERT_TRUE(parsed);
    Vp9PayloadDescriptor expected = d;
    expected.long_picture_id = true;  // 300 needs two bytes
    for (std::size_t i = count; i < 3; ++i) expected.reference_diffs[i] = 0;
    EXPECT_EQ(parsed->descriptor, expected) << int{count};
    EXPECT_EQ(to_hex(parsed->data), "ff");
  }
  // The N bits: 1<<1|N, 64<<1|N, 127<<1.
  Vp9PayloadDescriptor d;
  d.inter_picture_predicted = d.flexible_mode = true;
  d.picture_id = 1;
  d.reference_count = 3;
  d.reference_diffs = {1, 64, 127};
  EXPECT_EQ(to_hex(write_descriptor(d)), "d0010381fe");
}

TEST(Vp9Descriptor, ScalabilityStructureRoundTrip) {
  Vp9PayloadDescriptor d;
  d.start_of_layer_frame = true;
  d.picture_id = 0x7FFF;
  d.long_picture_id = true;
  d.layer = Vp9LayerIndices{.temporal_id = 0, .spatial_id = 0, .tl0_pic_idx = 9};
  auto& ss = d.scalability_structure.emplace();
  ss.spatial_layers = 3;
  ss.has_resolutions = true;
  ss.widths = {320, 640, 1280};
  ss.heights = {180, 360, 720};
  ss.has_picture_group = true;
  ss.picture_group_size = 4;
  ss.picture_group[0] = {.temporal_id = 0, .reference_count = 1, .reference_diffs = {4}};
  ss.picture_group[1] = {
      .temporal_id = 2, .switching_up_point = true, .reference_count = 1, .reference_diffs = {1}};
  ss.picture_group[2] = {
      .temporal_id = 1, .switching_up_point = true, .reference_count = 1, .reference_diffs = {2}};
  ss.picture_group[3] = {.temporal_id = 2, .reference_count = 3, .reference_diffs = {1, 2, 255}};
  const Buffer bytes = payload(d, hex("01"));
  EXPECT_EQ(d.size(), 1u + 2 + 2 + (1 + 12 + 1 + 2 + 2 + 2 + 4));
  auto parsed = parse_vp9_payload(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->descriptor, d);

  // Without Y and G: one byte.
  Vp9PayloadDescriptor bare;
  bare.scalability_structure.emplace().spatial_layers = 8;
  EXPECT_EQ(to_hex(write_descriptor(bare)), "02e0");
  const Buffer bare_bytes = hex("02e0 00");
  auto bare_parsed = parse_vp9_payload(bare_bytes);
  ASSERT_TRUE(bare_parsed);
  EXPECT_EQ(bare_parsed->descriptor, bare);
}

TEST(Vp9Descriptor, ReservedBitsIgnored) {
  // SS reserved bits (0x07) and picture group reserved bits (0x03) set.
  const Buffer bytes = hex("02 0f 01 03 00");
  auto parsed = parse_vp9_payload(bytes);
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(parsed->descriptor.scalability_structure);
  EXPECT_EQ(parsed->descriptor.scalability_structure->picture_group_size, 1);
  EXPECT_EQ(parsed->descriptor.scalability_structure->picture_group[0].reference_count, 0);
}

TEST(Vp9Descriptor, Errors) {
  EXPECT_EQ(parse_vp9_payload({}).error(), PayloadError::kEmpty);
  const Buffer only_descriptor = hex("08");
  EXPECT_EQ(parse_vp9_payload(only_descriptor).error(), PayloadError::kEmpty);
  // Every prefix of a full descriptor is cut short.
  const Buffer full = hex("fa 9234 53 03 05 08 38 0010 0020 0020 0040 01 04 07 ee");
  ASSERT_TRUE(parse_vp9_payload(full)) << "reference";
  for (std::size_t size = 1; size + 1 < full.size(); ++size) {
    auto parsed = parse_vp9_payload(BytesView(full).first(size));
    ASSERT_FALSE(parsed) << size;
    EXPECT_EQ(parsed.error(), PayloadError::kTruncated) << size;
  }
  EXPECT_EQ(parse_vp9_payload(BytesView(full).first(full.size() - 1)).error(),
            PayloadError::kEmpty);
  // P_DIFFs without a picture ID.
  const Buffer no_picture_id = hex("50 02 00");
  EXPECT_EQ(parse_vp9_payload(no_picture_id).error(), PayloadError::kMalformed);
  // N set on the third P_DIFF.
  const Buffer four_diffs = hex("d0 01 03 03 03 03 00");
  EXPECT_EQ(parse_vp9_payload(four_diffs).error(), PayloadError::kMalformed);
}

TEST(Vp9Descriptor, WriteRefusesBadFields) {
  auto refuses = [](const Vp9PayloadDescriptor& d) {
    Buffer out;
    ByteWriter writer(out);
    return !d.write_to(writer);
  };
  Vp9PayloadDescriptor d;
  d.picture_id = 0x8000;
  EXPECT_TRUE(refuses(d));
  d = {};
  d.layer = Vp9LayerIndices{.temporal_id = 8};
  EXPECT_TRUE(refuses(d));
  d = {};
  d.layer = Vp9LayerIndices{.spatial_id = 8};
  EXPECT_TRUE(refuses(d));
  d = {};
  d.flexible_mode = d.inter_picture_predicted = true;
  d.picture_id = 1;
  EXPECT_TRUE(refuses(d));  // no P_DIFF
  d.reference_count = 4;
  EXPECT_TRUE(refuses(d));
  d.reference_count = 1;
  d.reference_diffs[0] = 128;
  EXPECT_TRUE(refuses(d));
  d.reference_diffs[0] = 1;
  d.picture_id.reset();
  EXPECT_TRUE(refuses(d));  // P_DIFFs need the picture ID
  d = {};
  d.reference_count = 1;  // P_DIFFs outside flexible mode
  EXPECT_TRUE(refuses(d));
  d = {};
  d.scalability_structure.emplace().spatial_layers = 0;
  EXPECT_TRUE(refuses(d));
  d.scalability_structure->spatial_layers = 9;
  EXPECT_TRUE(refuses(d));
  d.scalability_structure->spatial_layers = 1;
  d.scalability_structure->picture_group_size = 1;  // without G
  EXPECT_TRUE(refuses(d));
  d.scalability_structure->has_picture_group = true;
  d.scalability_structure->picture_group[0].reference_count = 4;
  EXPECT_TRUE(refuses(d));
  // No room.
  Vp9PayloadDescriptor fits;
  fits.picture_id = 1000;
  std::uint8_t small[2];
  ByteWriter fixed{MutableBytesView(small)};
  EXPECT_FALSE(fits.write_to(fixed));
}

// --- The uncompressed header --------------------------------------------------------------

TEST(Vp9FrameHeader, KeyFrameSizes) {
  for (unsigned profile = 0; profile < 4; ++profile) {
    for (unsigned color_space : {1u, 7u}) {
      const Buffer frame = key_frame(1280, 720, 4, profile, color_space);
      auto header = parse_vp9_frame_header(frame);
      ASSERT_TRUE(header) << profile << " " << color_space;
      EXPECT_EQ(header->profile, profile);
      EXPECT_TRUE(header->key_frame);
      EXPECT_TRUE(header->show_frame);
      EXPECT_EQ(header->width, 1280);
      EXPECT_EQ(header->height, 720);
    }
  }
  const Buffer largest = key_frame(65535, 1);
  EXPECT_EQ(parse_vp9_frame_header(largest)->width, 65535);
}

TEST(Vp9FrameHeader, InterAndShowExisting) {
  const Buffer inter = inter_frame(4);
  auto header = parse_vp9_frame_header(inter);
  ASSERT_TRUE(header);
  EXPECT_FALSE(header->key_frame);
  EXPECT_EQ(header->width, 0);
  const Buffer show_existing = hex("88");  // marker 2, profile 0, show_existing_frame 1
  header = parse_vp9_frame_header(show_existing);
  ASSERT_TRUE(header);
  EXPECT_TRUE(header->show_existing_frame);
  EXPECT_FALSE(header->key_frame);
}

TEST(Vp9FrameHeader, Errors) {
  EXPECT_EQ(parse_vp9_frame_header({}).error(), PayloadError::kTruncated);
  const Buffer bad_marker = hex("4249834200");
  EXPECT_EQ(parse_vp9_frame_header(bad_marker).error(), PayloadError::kMalformed);
  Buffer bad_sync = key_frame(16, 16);
  bad_sync[2] ^= 0x10;
  EXPECT_EQ(parse_vp9_frame_header(bad_sync).error(), PayloadError::kMalformed);
  const Buffer good = key_frame(16, 16, 0);
  for (std::size_t size = 1; size < good.size(); ++size)
    EXPECT_EQ(parse_vp9_frame_header(BytesView(good).first(size)).error(), PayloadError::kTruncated)
        << size;
  Buffer profile3_reserved = key_frame(16, 16, 0, 3);
  profile3_reserved[0] |= 0x08;  // the reserved bit after the profile bits
  EXPECT_EQ(parse_vp9_frame_header(profile3_reserved).error(), PayloadError::kMalformed);
}

// --- Superframes --------------------------------------------------------------------------

TEST(Vp9Superframe, ParseIndex) {
  // Two frames of 2 and 3 bytes, one byte per size: marker 0b110 00 001 = 0xc1.
  const Buffer frame = hex("aaaa bbbbbb c1 02 03 c1");
  auto index = parse_vp9_superframe_index(frame);
  ASSERT_TRUE(index);
  EXPECT_EQ(index->frame_count, 2u);
  EXPECT_EQ(index->frame_sizes[0], 2u);
  EXPECT_EQ(index->frame_sizes[1], 3u);
  EXPECT_EQ(index->index_size, 4u);
  // Inconsistent: sizes that do not add up, a missing leading marker, a zero size, too short.
  const Buffer wrong_sum = hex("aaaa bbbb c1 02 03 c1");
  EXPECT_FALSE(parse_vp9_superframe_index(wrong_sum));
  const Buffer no_lead = hex("aaaa bbbbbb c0 02 03 c1");
  EXPECT_FALSE(parse_vp9_superframe_index(no_lead));
  const Buffer zero = hex("aaaaaa c1 00 03 c1");
  EXPECT_FALSE(parse_vp9_superframe_index(zero));
  const Buffer short_index = hex("02 c1");
  EXPECT_FALSE(parse_vp9_superframe_index(short_index));
  EXPECT_FALSE(parse_vp9_superframe_index(hex("00")));
  EXPECT_FALSE(parse_vp9_superframe_index({}));
}

// --- Receiving ----------------------------------------------------------------------------

Vp9PayloadDescriptor layer_descriptor(bool begin, bool end, std::optional<std::uint8_t> sid,
                                      bool predicted = false, bool dependency = false) {
  Vp9PayloadDescriptor d;
  d.picture_id = 77;
  d.inter_picture_predicted = predicted;
  d.start_of_layer_frame = begin;
  d.end_of_layer_frame = end;
  if (sid) d.layer = Vp9LayerIndices{.spatial_id = *sid, .inter_layer_dependency = dependency};
  return d;
}

TEST(Vp9PayloadFormat, Inspect) {
  const Vp9PayloadFormat format;
  const Buffer data = hex("00");
  auto position = [&](const Vp9PayloadDescriptor& d) {
    auto result = format.inspect(payload(d, data));
    EXPECT_TRUE(result);
    return result ? *result : FramePosition::kUnknown;
  };
  EXPECT_EQ(position(layer_descriptor(true, false, std::nullopt)), FramePosition::kStart);
  EXPECT_EQ(position(layer_descriptor(true, true, 0)), FramePosition::kStart);
  EXPECT_EQ(position(layer_descriptor(false, true, std::nullopt)), FramePosition::kContinue);
  EXPECT_EQ(position(layer_descriptor(false, false, 0)), FramePosition::kContinue);
  // A higher spatial layer's start: inside the picture when it depends on the layer below,
  // else it may be the first layer sent.
  EXPECT_EQ(position(layer_descriptor(true, true, 1, false, true)), FramePosition::kContinue);
  EXPECT_EQ(position(layer_descriptor(true, true, 2, true, false)), FramePosition::kUnknown);
  EXPECT_EQ(format.inspect({}).error(), PayloadError::kEmpty);
  const Buffer truncated = hex("80");
  EXPECT_EQ(format.inspect(truncated).error(), PayloadError::kTruncated);
}

TEST(Vp9PayloadFormat, OneLayerFrameIsOutputAsItIs) {
  const Vp9PayloadFormat format;
  const Buffer frame = key_frame(320, 240, 40);
  std::vector<Buffer> payloads;
  payloads.push_back(
      payload(layer_descriptor(true, false, std::nullopt), BytesView(frame).first(10)));
  payloads.push_back(
      payload(layer_descriptor(false, false, std::nullopt), BytesView(frame).subspan(10, 20)));
  payloads.push_back(
      payload(layer_descriptor(false, true, std::nullopt), BytesView(frame).subspan(30)));
  Buffer out;
  auto info = format.assemble(views(payloads), out);
  ASSERT_TRUE(info) << to_string(info.error());
  EXPECT_EQ(out, frame);
  EXPECT_TRUE(info->key_frame);
  EXPECT_EQ(info->width, 320);
  EXPECT_EQ(info->height, 240);
  // With P set it is not a key frame, whatever the header says.
  payloads[0] =
      payload(layer_descriptor(true, false, std::nullopt, true), BytesView(frame).first(10));
  out.clear();
  info = format.assemble(views(payloads), out);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->key_frame);
  EXPECT_EQ(info->width, 0);
}

TEST(Vp9PayloadFormat, SpatialLayersBecomeASuperframe) {
  const Vp9PayloadFormat format;
  const Buffer base = key_frame(320, 180, 300);
  const Buffer upper = inter_frame(70);
  Vp9PayloadDescriptor first = layer_descriptor(true, false, 0);
  auto& ss = first.scalability_structure.emplace();
  ss.spatial_layers = 2;
  ss.has_resolutions = true;
  ss.widths = {320, 640};
  ss.heights = {180, 360};
  std::vector<Buffer> payloads;
  payloads.push_back(payload(first, BytesView(base).first(200)));
  payloads.push_back(payload(layer_descriptor(false, true, 0), BytesView(base).subspan(200)));
  payloads.push_back(payload(layer_descriptor(true, true, 1, false, true), upper));
  Buffer out;
  auto info = format.assemble(views(payloads), out);
  ASSERT_TRUE(info) << to_string(info.error());
  EXPECT_TRUE(info->key_frame);
  EXPECT_EQ(info->width, 640);
  EXPECT_EQ(info->height, 360);
  // Annex B: the frames, then 0b110 | 2 bytes per size (01) | 2 frames (001), the sizes
  // little-endian, and the marker again.
  Buffer expected = base;
  expected.append(upper);
  ASSERT_EQ(base.size(), 309u);
  expected.append(hex("c9 3501 4600 c9"));  // 309 = 0x0135, 70 = 0x0046
  EXPECT_EQ(to_hex(out), to_hex(expected));
  auto index = parse_vp9_superframe_index(out);
  ASSERT_TRUE(index);
  EXPECT_EQ(index->frame_count, 2u);
}

TEST(Vp9PayloadFormat, LayerSuperframesAreOpenedUp) {
  const Vp9PayloadFormat format;
  // Layer 0 carries a hidden frame and a shown one in a superframe of its own.
  Buffer layer0 = hex("8600 860000 c1 02 03 c1");
  const Buffer layer1 = hex("86aabb");
  std::vector<Buffer> payloads;
  payloads.push_back(payload(layer_descriptor(true, true, 0, true), layer0));
  payloads.push_back(payload(layer_descriptor(true, true, 1, true), layer1));
  Buffer out;
  auto info = format.assemble(views(payloads), out);
  ASSERT_TRUE(info) << to_string(info.error());
  EXPECT_EQ(to_hex(out), "860086000086aabbc2020303c2");
  // Alone, a layer frame that is a superframe comes out whole.
  payloads.pop_back();
  out.clear();
  ASSERT_TRUE(format.assemble(views(payloads), out));
  EXPECT_EQ(out, layer0);
}

TEST(Vp9PayloadFormat, MoreThanEightFramesIsUnsupported) {
  const Vp9PayloadFormat format;
  // An 8-frame superframe in layer 0 and one more frame in layer 1.
  Buffer layer0;
  for (int i = 0; i < 8; ++i) layer0.push_back(0x86);
  layer0.append(hex("c7 0101010101010101 c7"));
  ASSERT_TRUE(parse_vp9_superframe_index(layer0));
  std::vector<Buffer> payloads;
  payloads.push_back(payload(layer_descriptor(true, true, 0, true), layer0));
  payloads.push_back(payload(layer_descriptor(true, true, 1, true), hex("86")));
  Buffer out;
  EXPECT_EQ(format.assemble(views(payloads), out).error(), PayloadError::kUnsupported);
  // Nine plain layer frames cannot all be counted either (SIDs 0-7, then a ninth).
  payloads.clear();
  for (std::uint8_t sid = 0; sid < 8; ++sid)
    payloads.push_back(payload(layer_descriptor(true, true, sid, true), hex("86")));
  out.clear();
  ASSERT_TRUE(format.assemble(views(payloads), out));
  EXPECT_EQ(parse_vp9_superframe_index(out)->frame_count, 8u);
}

TEST(Vp9PayloadFormat, BrokenFrames) {
  const Vp9PayloadFormat format;
  const Buffer data = hex("86");
  auto assemble = [&](const std::vector<Vp9PayloadDescriptor>& descriptors) {
    std::vector<Buffer> payloads;
    payloads.reserve(descriptors.size());
    for (const auto& d : descriptors) payloads.push_back(payload(d, data));
    Buffer out;
    auto result = format.assemble(views(payloads), out);
    return result ? std::optional<PayloadError>() : std::optional(result.error());
  };
  const auto kBroken = std::optional(PayloadError::kBrokenFrame);
  // No B on the first payload.
  EXPECT_EQ(assemble({layer_descriptor(false, true, std::nullopt)}), kBroken);
  // B twice within a layer frame.
  EXPECT_EQ(assemble({layer_descriptor(true, false, 0), layer_descriptor(true, true, 1)}), kBroken);
  // The last payload without E.
  EXPECT_EQ(assemble({layer_descriptor(true, false, 0), layer_descriptor(false, false, 0)}),
            kBroken);
  // A fragment after E with no B.
  EXPECT_EQ(assemble({layer_descriptor(true, true, 0), layer_descriptor(false, true, 0)}), kBroken);
  // Spatial layers not rising, or two layer frames without layer indices.
  EXPECT_EQ(assemble({layer_descriptor(true, true, 1), layer_descriptor(true, true, 1)}), kBroken);
  EXPECT_EQ(assemble({layer_descriptor(true, true, 2), layer_descriptor(true, true, 1)}), kBroken);
  EXPECT_EQ(assemble({layer_descriptor(true, true, std::nullopt),
                      layer_descriptor(true, true, std::nullopt)}),
            kBroken);
  // Two pictures.
  auto other = layer_descriptor(false, true, 0);
  other.picture_id = 78;
  EXPECT_EQ(assemble({layer_descriptor(true, false, 0), other}), kBroken);
  // Errors of a payload come through; an empty list is kEmpty.
  std::vector<BytesView> bad = {BytesView()};
  Buffer out;
  EXPECT_EQ(format.assemble(bad, out).error(), PayloadError::kEmpty);
  EXPECT_EQ(format.assemble({}, out).error(), PayloadError::kEmpty);
  // The good order.
  EXPECT_EQ(assemble({layer_descriptor(true, false, 0), layer_descriptor(false, true, 0),
                      layer_descriptor(true, true, 1)}),
            std::nullopt);
}

// --- Sending ------------------------------------------------------------------------------

std::vector<Buffer> packetize(Vp9Packetizer& packetizer, BytesView frame, bool key) {
  std::vector<Buffer> out;
  auto started = packetizer.start_frame(frame, key);
  EXPECT_TRUE(started) << to_string(started.error());
  if (!started) return out;
  while (packetizer.has_next()) {
    Buffer payload;
    auto last = packetizer.next_payload(payload);
    EXPECT_TRUE(last);
    if (!last) break;
    out.push_back(std::move(payload));
    EXPECT_EQ(*last, !packetizer.has_next());
  }
  return out;
}

TEST(Vp9Packetizer, Descriptors) {
  Vp9Packetizer packetizer(100, 0x7FFE);
  const Buffer key = key_frame(640, 480, 250);
  auto payloads = packetize(packetizer, key, true);
  ASSERT_EQ(payloads.size(), 3u);
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_LE(payloads[i].size(), 100u);
    auto parsed = parse_vp9_payload(payloads[i]);
    ASSERT_TRUE(parsed);
    const auto& d = parsed->descriptor;
    EXPECT_EQ(d.picture_id, 0x7FFE);
    EXPECT_TRUE(d.long_picture_id);
    EXPECT_FALSE(d.inter_picture_predicted);
    EXPECT_FALSE(d.flexible_mode);
    EXPECT_FALSE(d.layer);
    EXPECT_EQ(d.start_of_layer_frame, i == 0);
    EXPECT_EQ(d.end_of_layer_frame, i + 1 == payloads.size());
    EXPECT_EQ(d.scalability_structure.has_value(), i == 0);
  }
  // What Chromium writes for one layer: I B V | PID | N_S 0 Y G | size | N_G 1 | R 1 | 1.
  EXPECT_EQ(to_hex(BytesView(payloads[0]).first(11)), "8afffe18028001e0010401");

  const Buffer inter = inter_frame(50);
  payloads = packetize(packetizer, inter, false);
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_EQ(to_hex(BytesView(payloads[0]).first(3)), "ccffff");  // I P B E, PID 0x7FFF
  payloads = packetize(packetizer, inter, false);
  EXPECT_EQ(to_hex(BytesView(payloads[0]).first(3)), "cc8000");  // wrapped to 0
  EXPECT_EQ(packetizer.next_picture_id(), 1);
}

TEST(Vp9Packetizer, RoundTripAtManySizes) {
  const Vp9PayloadFormat format;
  std::mt19937 random(7);
  for (std::size_t max_payload = 12; max_payload < 400; max_payload += 7) {
    Vp9Packetizer packetizer(max_payload, static_cast<std::uint16_t>(max_payload * 31));
    for (std::size_t size : {1u, 2u, 5u, 50u, 999u, 3000u}) {
      for (bool key : {true, false}) {
        Buffer frame = key ? key_frame(176, 144, size) : inter_frame(size);
        for (std::size_t i = 12; i < frame.size(); ++i)
          frame[i] = static_cast<std::uint8_t>(random());
        auto payloads = packetize(packetizer, frame, key);
        ASSERT_FALSE(payloads.empty());
        std::size_t smallest = SIZE_MAX;
        std::size_t largest = 0;
        for (std::size_t i = 0; i < payloads.size(); ++i) {
          ASSERT_LE(payloads[i].size(), max_payload);
          auto position = format.inspect(payloads[i]);
          ASSERT_TRUE(position);
          EXPECT_EQ(*position, i == 0 ? FramePosition::kStart : FramePosition::kContinue);
          smallest = std::min(smallest, payloads[i].size());
          largest = std::max(largest, payloads[i].size());
        }
        // Nearly equal: the first carries the SS on key frames, so allow its size.
        if (payloads.size() > 2 && max_payload > 40) {
          EXPECT_LE(largest - smallest, 12u);
        }
        Buffer out;
        auto info = format.assemble(views(payloads), out);
        ASSERT_TRUE(info) << max_payload << " " << size;
        ASSERT_EQ(out, frame) << max_payload << " " << size;
        EXPECT_EQ(info->key_frame, key);
        if (key) {
          EXPECT_EQ(info->width, 176);
          EXPECT_EQ(info->height, 144);
        }
      }
    }
  }
}

TEST(Vp9Packetizer, Errors) {
  Vp9Packetizer packetizer(100);
  EXPECT_EQ(packetizer.start_frame({}, false).error(), PayloadError::kEmpty);
  EXPECT_EQ(packetizer.start_frame(inter_frame(10), true).error(), PayloadError::kMalformed);
  const Buffer garbage = hex("00010203");
  EXPECT_EQ(packetizer.start_frame(garbage, true).error(), PayloadError::kMalformed);
  EXPECT_FALSE(packetizer.has_next());
  Buffer out;
  EXPECT_EQ(packetizer.next_payload(out).error(), PayloadError::kNoFrame);
  EXPECT_EQ(packetizer.next_picture_id(), 0);  // no frame was taken
  // Three bytes of descriptor (eleven on a key frame) leave no room.
  Vp9Packetizer tiny(3);
  EXPECT_EQ(tiny.start_frame(inter_frame(5), false).error(), PayloadError::kNoRoom);
  Vp9Packetizer key_tiny(11);
  EXPECT_EQ(key_tiny.start_frame(key_frame(16, 16), true).error(), PayloadError::kNoRoom);
  EXPECT_TRUE(key_tiny.start_frame(inter_frame(5), false));
}

TEST(Vp9Packetizer, AbandonsAFrameAndReusesCapacity) {
  Vp9Packetizer packetizer(200);
  const Buffer big = inter_frame(1000);
  ASSERT_TRUE(packetizer.start_frame(big, false));
  Buffer out;
  ASSERT_TRUE(packetizer.next_payload(out));
  const std::uint8_t* storage = out.data();
  // A new frame replaces the one in progress.
  const Buffer small = inter_frame(10);
  ASSERT_TRUE(packetizer.start_frame(small, false));
  auto last = packetizer.next_payload(out);
  ASSERT_TRUE(last);
  EXPECT_TRUE(*last);
  EXPECT_EQ(out.size(), 13u);
  for (int frame = 0; frame < 10; ++frame) {
    ASSERT_TRUE(packetizer.start_frame(big, false));
    while (packetizer.has_next()) ASSERT_TRUE(packetizer.next_payload(out));
  }
  EXPECT_EQ(out.data(), storage);  // written in place, never reallocated
}

// --- A real stream ------------------------------------------------------------------------

Buffer read_file(const std::string& name) {
  std::ifstream in(std::string(RTCPP_TEST_DATA_DIR) + "/video/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return Buffer(as_bytes(bytes));
}

// tests/data/video/testsrc_160x120.vp9.ivf: 30 frames of libvpx VP9 (two key frames), made with
//   ffmpeg -f lavfi -i testsrc=size=160x120:rate=30 -t 1 -pix_fmt yuv420p
//     -c:v libvpx-vp9 -b:v 200k -g 15 testsrc_160x120.vp9.ivf
TEST(Vp9Fixture, PacketizeAndAssembleEveryFrame) {
  const Buffer file = read_file("testsrc_160x120.vp9.ivf");
  auto parser = media::IvfParser::open(file);
  ASSERT_TRUE(parser);
  EXPECT_EQ(parser->header().codec, media::IvfCodec::kVp9);
  const Vp9PayloadFormat format;
  Vp9Packetizer packetizer(1200);
  std::size_t frames = 0;
  std::size_t key_frames = 0;
  while (true) {
    auto next = parser->next_frame();
    ASSERT_TRUE(next);
    if (!*next) break;
    const BytesView frame = (*next)->data;
    auto header = parse_vp9_frame_header(frame);
    ASSERT_TRUE(header);
    auto payloads = packetize(packetizer, frame, header->key_frame);
    ASSERT_FALSE(payloads.empty());
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      EXPECT_LE(payloads[i].size(), 1200u);
      EXPECT_EQ(*format.inspect(payloads[i]),
                i == 0 ? FramePosition::kStart : FramePosition::kContinue);
    }
    Buffer out;
    auto info = format.assemble(views(payloads), out);
    ASSERT_TRUE(info) << frames;
    EXPECT_TRUE(equal_bytes(out, frame)) << frames;
    EXPECT_EQ(info->key_frame, header->key_frame);
    if (frames == 0) {
      EXPECT_TRUE(info->key_frame);
      EXPECT_GT(payloads.size(), 1u);
      EXPECT_EQ(info->width, 160);
      EXPECT_EQ(info->height, 120);
    }
    key_frames += info->key_frame ? 1 : 0;
    ++frames;
  }
  EXPECT_EQ(frames, 30u);
  EXPECT_EQ(key_frames, 2u);
}

}  // namespace
}  // namespace rtcpp::rtp
