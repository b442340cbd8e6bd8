#include "rtp/av1.hpp"

#include <gtest/gtest.h>

#include <filesystem>
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

std::vector<BytesView> views(const std::vector<Buffer>& buffers) {
  return {buffers.begin(), buffers.end()};
}

// Writes bits most significant first, to build sequence headers.
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

// An OBU: its header (with or without the size field), an extension byte when given, payload.
Buffer obu(Av1ObuType type, BytesView payload, bool with_size,
           std::optional<std::uint8_t> extension = std::nullopt) {
  Buffer out;
  out.push_back(static_cast<std::uint8_t>((static_cast<std::uint8_t>(type) << 3) |
                                          (extension ? 0x04 : 0) | (with_size ? 0x02 : 0)));
  if (extension) out.push_back(*extension);
  if (with_size) write_leb128(static_cast<std::uint32_t>(payload.size()), out);
  out.append(payload);
  return out;
}

// A sequence header payload for width x height, the simple form libaom writes.
Buffer simple_sequence_header(std::uint32_t width, std::uint32_t height) {
  BitWriter bits;
  bits.put(0, 3);   // seq_profile
  bits.put(0, 1);   // still_picture
  bits.put(0, 1);   // reduced_still_picture_header
  bits.put(0, 1);   // timing_info_present_flag
  bits.put(0, 1);   // initial_display_delay_present_flag
  bits.put(0, 5);   // operating_points_cnt_minus_1
  bits.put(0, 12);  // operating_point_idc[0]
  bits.put(4, 5);   // seq_level_idx[0]
  bits.put(15, 4);  // frame_width_bits_minus_1
  bits.put(15, 4);  // frame_height_bits_minus_1
  bits.put(width - 1, 16);
  bits.put(height - 1, 16);
  bits.put(0x5A5A, 16);  // the rest of the header, not read
  return bits.take();
}

// A frame header's first bits: show_existing_frame = 0, frame_type, then filler.
Buffer frame_payload(bool key, std::size_t size = 8) {
  Buffer out(size);
  out[0] = key ? 0x10 : 0x30;  // 0 | 00 (KEY_FRAME) or 01 (INTER_FRAME) | show_frame 1
  for (std::size_t i = 1; i < size; ++i) out[i] = static_cast<std::uint8_t>(i * 29 + 3);
  return out;
}

// --- leb128 and OBUs ----------------------------------------------------------------------

TEST(Av1Leb128, RoundTripAndLimits) {
  for (std::uint32_t value : {0u, 1u, 127u, 128u, 16383u, 16384u, 0x0FFFFFFFu, 0xFFFFFFFFu}) {
    Buffer bytes;
    write_leb128(value, bytes);
    EXPECT_EQ(bytes.size(), leb128_size(value)) << value;
    auto read = read_leb128(bytes);
    ASSERT_TRUE(read) << value;
    EXPECT_EQ(read->value, value);
    EXPECT_EQ(read->length, bytes.size());
  }
  EXPECT_EQ(leb128_size(0xFFFFFFFFu), 5u);
  // Padded forms are allowed, up to 8 bytes.
  const Buffer padded = hex("8180808080808000");
  auto read = read_leb128(padded);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->value, 1u);
  EXPECT_EQ(read->length, 8u);
  EXPECT_EQ(read_leb128(hex("808080808080808000")).error(), PayloadError::kMalformed);
  EXPECT_EQ(read_leb128(hex("8080808010")).error(), PayloadError::kMalformed);  // 2^32
  EXPECT_EQ(read_leb128(hex("80")).error(), PayloadError::kTruncated);
  EXPECT_EQ(read_leb128({}).error(), PayloadError::kTruncated);
}

TEST(Av1Obu, Headers) {
  const Buffer sequence_header = hex("0a 0b");
  auto header = parse_av1_obu_header(sequence_header);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->type, 1);
  EXPECT_TRUE(header->has_size_field);
  EXPECT_FALSE(header->has_extension);
  EXPECT_EQ(header->size, 1u);
  // A frame OBU with an extension: temporal_id 3, spatial_id 1.
  const Buffer extended = hex("34 68");
  header = parse_av1_obu_header(extended);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->type, 6);
  EXPECT_TRUE(header->has_extension);
  EXPECT_FALSE(header->has_size_field);
  EXPECT_EQ(header->temporal_id, 3);
  EXPECT_EQ(header->spatial_id, 1);
  EXPECT_EQ(header->size, 2u);
  EXPECT_EQ(parse_av1_obu_header(hex("8a")).error(), PayloadError::kMalformed);
  EXPECT_EQ(parse_av1_obu_header(hex("34")).error(), PayloadError::kTruncated);
  EXPECT_EQ(parse_av1_obu_header({}).error(), PayloadError::kTruncated);

  const Buffer two = hex("32 02 aabb 30 ccdd");
  auto first = read_av1_obu(two);
  ASSERT_TRUE(first);
  EXPECT_EQ(to_hex(first->payload), "aabb");
  EXPECT_EQ(first->total_size, 4u);
  auto second = read_av1_obu(BytesView(two).subspan(4));
  ASSERT_TRUE(second);
  EXPECT_EQ(to_hex(second->payload), "ccdd");  // no size field: the rest
  EXPECT_EQ(read_av1_obu(hex("32 03 aabb")).error(), PayloadError::kTruncated);
  EXPECT_EQ(read_av1_obu(hex("32")).error(), PayloadError::kTruncated);
}

TEST(Av1SequenceHeader, SimpleForm) {
  const Buffer payload = simple_sequence_header(1920, 1080);
  auto parsed = parse_av1_sequence_header(payload);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->profile, 0);
  EXPECT_FALSE(parsed->reduced_still_picture_header);
  EXPECT_EQ(parsed->max_frame_width, 1920u);
  EXPECT_EQ(parsed->max_frame_height, 1080u);
  // Cut anywhere before the sizes end, it is truncated.
  for (std::size_t size = 0; size + 2 < payload.size(); ++size)
    EXPECT_EQ(parse_av1_sequence_header(BytesView(payload).first(size)).error(),
              PayloadError::kTruncated)
        << size;
}

TEST(Av1SequenceHeader, TimingDecoderModelAndOperatingPoints) {
  BitWriter bits;
  bits.put(2, 3);  // seq_profile
  bits.put(0, 1);
  bits.put(0, 1);
  bits.put(1, 1);        // timing_info_present_flag
  bits.put(1001, 32);    // num_units_in_display_tick
  bits.put(60000, 32);   // time_scale
  bits.put(1, 1);        // equal_picture_interval
  bits.put(0b00110, 5);  // uvlc: two zeros, a one, then 2 bits (10): 5
  bits.put(1, 1);        // decoder_model_info_present_flag
  bits.put(9, 5);        // buffer_delay_length_minus_1: delays of 10 bits
  bits.put(90000, 32);   // num_units_in_decoding_tick
  bits.put(3, 5);        // buffer_removal_time_length_minus_1
  bits.put(3, 5);        // frame_presentation_time_length_minus_1
  bits.put(1, 1);        // initial_display_delay_present_flag
  bits.put(1, 5);        // operating_points_cnt_minus_1: two points
  for (int i = 0; i < 2; ++i) {
    bits.put(0x103, 12);          // operating_point_idc
    bits.put(i == 0 ? 9 : 4, 5);  // seq_level_idx, the first with a tier bit
    if (i == 0) bits.put(1, 1);
    bits.put(1, 1);       // decoder_model_present_for_this_op
    bits.put(0x155, 10);  // decoder_buffer_delay
    bits.put(0x2AA, 10);  // encoder_buffer_delay
    bits.put(1, 1);       // low_delay_mode_flag
    bits.put(1, 1);       // initial_display_delay_present_for_this_op
    bits.put(7, 4);       // initial_display_delay_minus_1
  }
  bits.put(10, 4);  // frame_width_bits_minus_1
  bits.put(9, 4);   // frame_height_bits_minus_1
  bits.put(1279, 11);
  bits.put(719, 10);
  const Buffer payload = bits.take();
  auto parsed = parse_av1_sequence_header(payload);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->profile, 2);
  EXPECT_EQ(parsed->max_frame_width, 1280u);
  EXPECT_EQ(parsed->max_frame_height, 720u);
}

TEST(Av1SequenceHeader, ReducedStillPicture) {
  BitWriter bits;
  bits.put(1, 3);  // seq_profile
  bits.put(1, 1);  // still_picture
  bits.put(1, 1);  // reduced_still_picture_header
  bits.put(8, 5);  // seq_level_idx[0]
  bits.put(15, 4);
  bits.put(15, 4);
  bits.put(65535, 16);  // 65536 wide
  bits.put(99, 16);
  const Buffer payload = bits.take();
  auto parsed = parse_av1_sequence_header(payload);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->still_picture);
  EXPECT_TRUE(parsed->reduced_still_picture_header);
  EXPECT_EQ(parsed->max_frame_width, 65536u);
  EXPECT_EQ(parsed->max_frame_height, 100u);
}

TEST(Av1FrameHeader, KeyFrame) {
  EXPECT_TRUE(*av1_frame_header_is_key_frame(frame_payload(true), false));
  EXPECT_FALSE(*av1_frame_header_is_key_frame(frame_payload(false), false));
  EXPECT_FALSE(*av1_frame_header_is_key_frame(hex("80"), false));  // show_existing_frame
  EXPECT_TRUE(*av1_frame_header_is_key_frame({}, true));
  EXPECT_EQ(av1_frame_header_is_key_frame({}, false).error(), PayloadError::kTruncated);
}

// --- RTP payloads -------------------------------------------------------------------------

std::vector<std::string> elements(const Buffer& payload) {
  std::vector<std::string> out;
  auto reader = Av1PayloadReader::open(payload);
  EXPECT_TRUE(reader);
  if (!reader) return out;
  while (true) {
    auto element = reader->next();
    EXPECT_TRUE(element);
    if (!element || !*element) break;
    out.push_back(to_hex(**element));
  }
  return out;
}

TEST(Av1PayloadReader, Elements) {
  // W = 0: every element with its length.
  EXPECT_EQ(elements(hex("00 02aabb 01cc")), (std::vector<std::string>{"aabb", "cc"}));
  // W = 2: the second runs to the end.
  EXPECT_EQ(elements(hex("20 02aabb ccdd")), (std::vector<std::string>{"aabb", "ccdd"}));
  // W = 1 with nothing after the header: one empty element.
  EXPECT_EQ(elements(hex("10")), (std::vector<std::string>{""}));
  const Buffer flags = hex("c8 00");
  auto reader = Av1PayloadReader::open(hex("68 01 aa"));
  ASSERT_TRUE(reader);
  EXPECT_FALSE(reader->header().continues_obu);
  EXPECT_TRUE(reader->header().continues_in_next);
  EXPECT_EQ(reader->header().element_count, 2);
  EXPECT_TRUE(reader->header().new_coded_video_sequence);
}

TEST(Av1PayloadReader, Errors) {
  EXPECT_EQ(Av1PayloadReader::open({}).error(), PayloadError::kEmpty);
  EXPECT_EQ(Av1PayloadReader::open(hex("88 01 aa")).error(), PayloadError::kMalformed);  // N, Z
  EXPECT_EQ(Av1PayloadReader::open(hex("00")).error(), PayloadError::kMalformed);
  EXPECT_EQ(Av1PayloadReader::open(hex("20")).error(), PayloadError::kMalformed);
  auto next_error = [](const Buffer& payload) {
    auto reader = Av1PayloadReader::open(payload);
    EXPECT_TRUE(reader);
    while (true) {
      auto element = reader->next();
      if (!element) return element.error();
      if (!*element) return PayloadError::kNoFrame;  // no error
    }
  };
  EXPECT_EQ(next_error(hex("00 05 aabb")), PayloadError::kTruncated);
  EXPECT_EQ(next_error(hex("30 01 aa")), PayloadError::kTruncated);  // W = 3, one element
  EXPECT_EQ(next_error(hex("00 ffffffffffffffff ff")), PayloadError::kMalformed);
  EXPECT_EQ(next_error(hex("00 80")), PayloadError::kTruncated);
  EXPECT_EQ(next_error(hex("00 01aa 00")), PayloadError::kNoFrame);  // a last empty element
}

TEST(Av1Normalize, TemporalUnit) {
  Buffer tu = obu(Av1ObuType::kTemporalDelimiter, {}, true);
  tu.append(obu(Av1ObuType::kSequenceHeader, hex("0102"), true));
  tu.append(obu(Av1ObuType::kTileList, hex("ff"), true));
  tu.append(obu(Av1ObuType::kFrame, hex("030405"), true, 0x08));
  tu.append(obu(Av1ObuType::kPadding, hex("00"), false));  // the last may run to the end
  Buffer out;
  ASSERT_TRUE(normalize_av1_temporal_unit(tu, out));
  EXPECT_EQ(to_hex(out), "12000a0201023608030304057a0100");
  Buffer bad;
  EXPECT_EQ(normalize_av1_temporal_unit(hex("0a05aa"), bad).error(), PayloadError::kTruncated);
}

// --- Receiving ----------------------------------------------------------------------------

TEST(Av1PayloadFormat, Inspect) {
  const Av1PayloadFormat format;
  EXPECT_EQ(*format.inspect(hex("80 01aa")), FramePosition::kContinue);
  EXPECT_EQ(*format.inspect(hex("c0 01aa")), FramePosition::kContinue);
  EXPECT_EQ(*format.inspect(hex("18 0a")), FramePosition::kStart);
  EXPECT_EQ(*format.inspect(hex("10 32aa")), FramePosition::kUnknown);
  EXPECT_EQ(*format.inspect(hex("40 01aa")), FramePosition::kUnknown);
  EXPECT_EQ(format.inspect({}).error(), PayloadError::kEmpty);
  EXPECT_EQ(format.inspect(hex("00 09 aa")).error(), PayloadError::kTruncated);
}

TEST(Av1PayloadFormat, AssemblesFragmentsIntoTheLowOverheadFormat) {
  const Av1PayloadFormat format;
  const Buffer sequence_header = simple_sequence_header(640, 360);
  const Buffer frame = frame_payload(true, 300);
  const Buffer frame_obu = obu(Av1ObuType::kFrame, frame, false);
  // Packet 1: N, W = 2: the sequence header, then the frame's first 100 bytes (Y).
  Buffer first = hex("68");
  write_leb128(static_cast<std::uint32_t>(sequence_header.size() + 1), first);
  first.append(obu(Av1ObuType::kSequenceHeader, sequence_header, false));
  first.append(BytesView(frame_obu).first(100));
  // Packet 2: Z Y W = 1, the middle. Packet 3: Z W = 1, the end.
  Buffer middle = hex("d0");
  middle.append(BytesView(frame_obu).subspan(100, 100));
  Buffer last = hex("90");
  last.append(BytesView(frame_obu).subspan(200));
  std::vector<Buffer> payloads = {first, middle, last};
  Buffer out;
  auto info = format.assemble(views(payloads), out);
  ASSERT_TRUE(info) << to_string(info.error());
  Buffer expected = hex("1200");
  expected.append(obu(Av1ObuType::kSequenceHeader, sequence_header, true));
  expected.append(obu(Av1ObuType::kFrame, frame, true));
  EXPECT_EQ(to_hex(out), to_hex(expected));
  EXPECT_TRUE(info->key_frame);
  EXPECT_EQ(info->width, 640);
  EXPECT_EQ(info->height, 360);

  // Without N, the sequence header and the key frame header still say key frame.
  payloads[0][0] = 0x60;
  out.clear();
  info = format.assemble(views(payloads), out);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->key_frame);
  // An inter frame without a sequence header is not.
  const Buffer inter = obu(Av1ObuType::kFrame, frame_payload(false), false);
  Buffer alone = hex("10");
  alone.append(inter);
  out.clear();
  info = format.assemble(std::vector<BytesView>{alone}, out);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->key_frame);
  EXPECT_EQ(info->width, 0);
  // N alone says key frame.
  alone[0] = 0x18;
  out.clear();
  EXPECT_TRUE(format.assemble(std::vector<BytesView>{alone}, out)->key_frame);
}

TEST(Av1PayloadFormat, DropsDelimitersAndTileListsAndRewritesSizes) {
  const Av1PayloadFormat format;
  // W = 0: a temporal delimiter, a tile list, a metadata OBU with its own (padded) size
  // field, and a frame header with an extension.
  Buffer payload = hex("00");
  const Buffer delimiter = obu(Av1ObuType::kTemporalDelimiter, {}, false);
  const Buffer tile_list = obu(Av1ObuType::kTileList, hex("0102"), false);
  const Buffer metadata = hex("2a 8380 00 aabbcc");  // size 3 written in two bytes
  const Buffer frame_header = obu(Av1ObuType::kFrameHeader, hex("30"), false, 0x20);
  for (const Buffer* element : {&delimiter, &tile_list, &metadata, &frame_header}) {
    write_leb128(static_cast<std::uint32_t>(element->size()), payload);
    payload.append(*element);
  }
  Buffer out;
  ASSERT_TRUE(format.assemble(std::vector<BytesView>{payload}, out));
  EXPECT_EQ(to_hex(out), "12002a03aabbcc1e200130");
  // A size field that does not match what the OBU holds.
  const Buffer wrong_size = hex("10 2a 04 aabbcc");
  out.clear();
  EXPECT_EQ(format.assemble(std::vector<BytesView>{wrong_size}, out).error(),
            PayloadError::kMalformed);
}

TEST(Av1PayloadFormat, BrokenAndMalformed) {
  const Av1PayloadFormat format;
  auto assemble = [&](const std::vector<Buffer>& payloads) {
    Buffer out;
    auto result = format.assemble(views(payloads), out);
    return result ? std::optional<PayloadError>() : std::optional(result.error());
  };
  const auto kBroken = std::optional(PayloadError::kBrokenFrame);
  EXPECT_EQ(assemble({hex("90 30aa")}), kBroken);                  // starts inside an OBU
  EXPECT_EQ(assemble({hex("50 30aa")}), kBroken);                  // ends inside one
  EXPECT_EQ(assemble({hex("50 30aa"), hex("10 30bb")}), kBroken);  // Y then no Z
  EXPECT_EQ(assemble({hex("10 30aa"), hex("90 bb")}), kBroken);    // Z after a whole OBU
  EXPECT_EQ(assemble({hex("50 30aa"), hex("90 bb")}), std::nullopt);
  EXPECT_EQ(assemble({hex("00 00")}), std::optional(PayloadError::kMalformed));    // empty OBU
  EXPECT_EQ(assemble({hex("10 b2aa")}), std::optional(PayloadError::kMalformed));  // forbidden
  EXPECT_EQ(assemble({hex("10 34")}), std::optional(PayloadError::kTruncated));    // no ext byte
  EXPECT_EQ(assemble({hex("00 05aa")}), std::optional(PayloadError::kTruncated));
  EXPECT_EQ(assemble({}), std::optional(PayloadError::kEmpty));
  // An empty fragment (W = 1, no bytes) may carry a Y over.
  EXPECT_EQ(assemble({hex("50 30aa"), hex("d0"), hex("90 bb")}), std::nullopt);
}

TEST(Av1PayloadFormat, SizesAboveSixteenBitsAreUnknown) {
  BitWriter bits;
  bits.put(0, 3);
  bits.put(1, 1);
  bits.put(1, 1);
  bits.put(0, 5);
  bits.put(15, 4);
  bits.put(15, 4);
  bits.put(65535, 16);
  bits.put(65535, 16);
  const Buffer header = bits.take();
  Buffer payload = hex("18");
  payload.append(obu(Av1ObuType::kSequenceHeader, header, false));
  const Av1PayloadFormat format;
  Buffer out;
  auto info = format.assemble(std::vector<BytesView>{payload}, out);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->width, 0);
  EXPECT_EQ(info->height, 0);
}

// --- Sending ------------------------------------------------------------------------------

std::vector<Buffer> packetize(Av1Packetizer& packetizer, BytesView tu, bool key) {
  std::vector<Buffer> out;
  auto started = packetizer.start_frame(tu, key);
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

Buffer normalized(BytesView tu) {
  Buffer out;
  EXPECT_TRUE(normalize_av1_temporal_unit(tu, out));
  return out;
}

TEST(Av1Packetizer, SmallTemporalUnitInOnePayload) {
  Buffer tu = obu(Av1ObuType::kTemporalDelimiter, {}, true);
  tu.append(obu(Av1ObuType::kSequenceHeader, simple_sequence_header(320, 240), true));
  tu.append(obu(Av1ObuType::kFrame, frame_payload(true, 20), true));
  Av1Packetizer packetizer(1200);
  auto payloads = packetize(packetizer, tu, true);
  ASSERT_EQ(payloads.size(), 1u);
  // N, W = 2: the sequence header with its length, then the frame without.
  EXPECT_EQ(payloads[0][0], 0x28);
  EXPECT_EQ(to_hex(BytesView(payloads[0]).first(3)), "280c08");
  EXPECT_EQ(payloads[0][14], 0x30);  // the frame's header, size field cleared
  EXPECT_EQ(payloads[0].size(), 1u + 1 + 12 + 1 + 20);
  // Not a key frame: no N.
  payloads = packetize(packetizer, tu, false);
  EXPECT_EQ(payloads[0][0], 0x20);
}

TEST(Av1Packetizer, ManyObusUseUncountedElements) {
  Buffer tu;
  for (int i = 0; i < 6; ++i) tu.append(obu(Av1ObuType::kMetadata, hex("0102"), true));
  Av1Packetizer packetizer(100);
  auto payloads = packetize(packetizer, tu, false);
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_EQ(payloads[0][0], 0x00);  // W = 0
  EXPECT_EQ(elements(payloads[0]).size(), 6u);
  // With room for three elements only, counting them is better.
  Av1Packetizer small(12);
  payloads = packetize(small, tu, false);
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(payloads[0][0], 0x30);
  EXPECT_EQ(payloads[0].size(), 12u);  // 1 + (1 + 3) * 2 + 3
}

TEST(Av1Packetizer, LayersGoInSeparatePayloads) {
  Buffer tu;
  tu.append(obu(Av1ObuType::kFrame, frame_payload(true, 10), true, 0x00));   // S0
  tu.append(obu(Av1ObuType::kFrame, frame_payload(false, 10), true, 0x08));  // S1
  tu.append(obu(Av1ObuType::kMetadata, hex("01"), true));
  Av1Packetizer packetizer(1200);
  auto payloads = packetize(packetizer, tu, false);
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(elements(payloads[0]).size(), 1u);
  EXPECT_EQ(elements(payloads[1]).size(), 2u);
  const Av1PayloadFormat format;
  Buffer out;
  ASSERT_TRUE(format.assemble(views(payloads), out));
  EXPECT_EQ(out, normalized(tu));
}

TEST(Av1Packetizer, RoundTripAtManySizes) {
  std::mt19937 random(11);
  auto bytes = [&](std::size_t size) {
    Buffer out(size);
    for (auto& b : out) b = static_cast<std::uint8_t>(random());
    return out;
  };
  std::vector<std::pair<Buffer, bool>> units;
  Buffer key = obu(Av1ObuType::kTemporalDelimiter, {}, true);
  key.append(obu(Av1ObuType::kSequenceHeader, simple_sequence_header(176, 144), true));
  Buffer big = frame_payload(true, 3000);
  key.append(obu(Av1ObuType::kFrame, big, true));
  units.emplace_back(key, true);
  Buffer mixed;
  for (std::size_t size : {0u, 1u, 2u, 127u, 128u, 300u, 5u})
    mixed.append(obu(Av1ObuType::kMetadata, bytes(size), true));
  mixed.append(obu(Av1ObuType::kFrameHeader, frame_payload(false, 4), true, 0x20));
  mixed.append(obu(Av1ObuType::kTileGroup, bytes(1000), true, 0x20));
  mixed.append(obu(Av1ObuType::kTileGroup, bytes(17), true, 0x28));
  mixed.append(obu(Av1ObuType::kPadding, bytes(3), false));
  units.emplace_back(mixed, false);

  const Av1PayloadFormat format;
  for (std::size_t max_payload = 2; max_payload < 1300; max_payload += max_payload < 40 ? 1 : 37) {
    Av1Packetizer packetizer(max_payload);
    for (const auto& [tu, is_key] : units) {
      auto payloads = packetize(packetizer, tu, is_key);
      ASSERT_FALSE(payloads.empty());
      for (std::size_t i = 0; i < payloads.size(); ++i) {
        ASSERT_LE(payloads[i].size(), max_payload);
        auto position = format.inspect(payloads[i]);
        ASSERT_TRUE(position) << max_payload << " " << i;
        if (i == 0) {
          EXPECT_EQ(*position, is_key ? FramePosition::kStart : FramePosition::kUnknown);
        } else {
          EXPECT_NE(*position, FramePosition::kStart);
        }
      }
      Buffer out;
      auto info = format.assemble(views(payloads), out);
      ASSERT_TRUE(info) << max_payload << " " << to_string(info.error());
      ASSERT_EQ(to_hex(out), to_hex(normalized(tu))) << max_payload;
      EXPECT_EQ(info->key_frame, is_key);
      if (is_key) {
        EXPECT_EQ(info->width, 176);
      }
    }
  }
}

TEST(Av1Packetizer, Errors) {
  Av1Packetizer packetizer(100);
  EXPECT_EQ(packetizer.start_frame({}, false).error(), PayloadError::kEmpty);
  EXPECT_EQ(packetizer.start_frame(hex("1200"), false).error(), PayloadError::kEmpty);
  EXPECT_EQ(packetizer.start_frame(hex("3205aa"), false).error(), PayloadError::kTruncated);
  EXPECT_EQ(packetizer.start_frame(hex("b200"), false).error(), PayloadError::kMalformed);
  EXPECT_FALSE(packetizer.has_next());
  Buffer out;
  EXPECT_EQ(packetizer.next_payload(out).error(), PayloadError::kNoFrame);
  Av1Packetizer tiny(1);
  EXPECT_EQ(tiny.start_frame(hex("3200"), false).error(), PayloadError::kNoRoom);
  Buffer too_many;
  for (std::size_t i = 0; i <= kMaxAv1ObusPerTemporalUnit; ++i) too_many.append(hex("7a00"));
  EXPECT_EQ(packetizer.start_frame(too_many, false).error(), PayloadError::kTooLarge);
}

TEST(Av1Packetizer, ReusesCapacity) {
  Buffer tu = obu(Av1ObuType::kFrame, frame_payload(false, 5000), true);
  Av1Packetizer packetizer(1000);
  Buffer out;
  ASSERT_TRUE(packetizer.start_frame(tu, false));
  ASSERT_TRUE(packetizer.next_payload(out));
  const std::uint8_t* storage = out.data();
  for (int frame = 0; frame < 10; ++frame) {
    ASSERT_TRUE(packetizer.start_frame(tu, false));
    while (packetizer.has_next()) ASSERT_TRUE(packetizer.next_payload(out));
  }
  EXPECT_EQ(out.data(), storage);
}

// --- A real stream ------------------------------------------------------------------------

Buffer read_file(const std::string& name) {
  std::ifstream in(std::string(RTCPP_TEST_DATA_DIR) + "/video/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return Buffer(as_bytes(bytes));
}

// Whether a temporal unit holds a sequence header and then a key frame's header.
bool holds_key_frame(BytesView tu) {
  bool sequence_header = false;
  while (!tu.empty()) {
    auto obu = read_av1_obu(tu);
    if (!obu) return false;
    tu = tu.subspan(obu->total_size);
    if (obu->header.type == static_cast<std::uint8_t>(Av1ObuType::kSequenceHeader))
      sequence_header = true;
    if (obu->header.type == static_cast<std::uint8_t>(Av1ObuType::kFrame))
      return sequence_header && *av1_frame_header_is_key_frame(obu->payload, false);
  }
  return false;
}

// tests/data/video/testsrc_160x120.av1.ivf: 30 temporal units of libaom AV1, made with
//   ffmpeg -f lavfi -i testsrc=size=160x120:rate=30 -t 1 -pix_fmt yuv420p
//     -c:v libaom-av1 -cpu-used 8 -b:v 200k -g 15 testsrc_160x120.av1.ivf
// The reassembled temporal units are also written to an IVF file in the test's temporary
// directory, for a decoder to check: ffmpeg -v error -i <that file> -f null -
TEST(Av1Fixture, PacketizeAndAssembleEveryTemporalUnit) {
  const Buffer file = read_file("testsrc_160x120.av1.ivf");
  auto parser = media::IvfParser::open(file);
  ASSERT_TRUE(parser);
  EXPECT_EQ(parser->header().codec, media::IvfCodec::kAv1);
  const std::string path = testing::TempDir() + "rtcpp_av1_reassembled.ivf";
  auto writer = media::IvfFileWriter::create(path, parser->header());
  ASSERT_TRUE(writer);
  const Av1PayloadFormat format;
  Av1Packetizer packetizer(1200);
  std::size_t units = 0;
  std::size_t key_frames = 0;
  while (true) {
    auto next = parser->next_frame();
    ASSERT_TRUE(next);
    if (!*next) break;
    const BytesView tu = (*next)->data;
    const bool key = holds_key_frame(tu);
    auto payloads = packetize(packetizer, tu, key);
    ASSERT_FALSE(payloads.empty());
    for (const Buffer& payload : payloads) EXPECT_LE(payload.size(), 1200u);
    Buffer out;
    auto info = format.assemble(views(payloads), out);
    ASSERT_TRUE(info) << units;
    EXPECT_EQ(out, normalized(tu)) << units;
    // libaom already writes the low-overhead form with the shortest sizes: it comes back as is.
    EXPECT_TRUE(equal_bytes(out, tu)) << units;
    EXPECT_EQ(info->key_frame, key);
    if (units == 0) {
      EXPECT_TRUE(info->key_frame);
      EXPECT_GT(payloads.size(), 1u);
      EXPECT_EQ(info->width, 160);
      EXPECT_EQ(info->height, 120);
    }
    ASSERT_TRUE(writer->write_frame((*next)->timestamp, out));
    key_frames += info->key_frame ? 1 : 0;
    ++units;
  }
  ASSERT_TRUE(writer->close());
  EXPECT_EQ(units, 30u);
  EXPECT_GE(key_frames, 1u);
  EXPECT_TRUE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace rtcpp::rtp
