#include "rtp/h264.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "base/hex.hpp"
#include "media/annexb.hpp"

namespace rtcpp::rtp {
namespace {

Buffer hex(std::string text) {
  std::erase(text, ' ');
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes) << text;
  return bytes ? std::move(*bytes) : Buffer{};
}

Buffer concat(std::initializer_list<BytesView> parts) {
  Buffer out;
  for (const BytesView part : parts) out.append(part);
  return out;
}

// Parameter sets as libx264 (ffmpeg 5.1) writes them for `ffmpeg -f lavfi -i
// testsrc=size=WxH:rate=30 -frames:v 1 -c:v libx264 -profile:v P -pix_fmt F -f h264 out.h264`.
// Baseline 160x120 (8 rows cropped; an emulation prevention byte in it):
const char* const kBaselineSps = "6742c00bd902847e5c0440000003004000000f03c50a92";
const char* const kBaselinePps = "68cb83cb20";
// High 4:4:4 Predictive, yuv444p, 176x144:
const char* const kHigh444Sps = "67f4000b919b28589d8088000003000800000301e078a14cb0";
// High 4:2:2, yuv422p, 250x100 (cropped from 256x112):
const char* const kHigh422Sps = "677a000cbcd94103f92370110000030001000003003c0f142996";
// High, 320x240, -x264-params interlaced=1 (frame_mbs_only_flag 0):
const char* const kInterlacedSps = "67640015acd941410fcb8088000003000800000301e0f8a14cb0";

std::vector<BytesView> views(const std::vector<Buffer>& payloads) {
  return {payloads.begin(), payloads.end()};
}

Expected<AssembledFrameInfo, PayloadError> assemble(const std::vector<Buffer>& payloads,
                                                    Buffer& frame) {
  const std::vector<BytesView> list = views(payloads);
  return H264PayloadFormat().assemble(list, frame);
}

// Every payload of a frame, checking each against the limit and the marker on the last only.
std::vector<Buffer> packetize(H264Packetizer& packetizer, BytesView frame,
                              std::size_t max_payload_size) {
  std::vector<Buffer> payloads;
  auto started = packetizer.start_frame(frame, false);
  EXPECT_TRUE(started) << to_string(started.error());
  if (!started) return payloads;
  while (packetizer.has_next()) {
    Buffer out;
    auto last = packetizer.next_payload(out);
    EXPECT_TRUE(last);
    if (!last) break;
    EXPECT_LE(out.size(), max_payload_size);
    EXPECT_GT(out.size(), 0u);
    EXPECT_EQ(*last, !packetizer.has_next());
    payloads.push_back(std::move(out));
  }
  return payloads;
}

// The access unit with every start code made 4 bytes long, trailing zeros and access unit
// delimiters dropped: what assemble() gives back for what the packetizer sent.
Buffer normalized(BytesView annex_b) {
  Buffer out;
  std::size_t i = 0;
  std::vector<std::pair<std::size_t, std::size_t>> nals;
  std::size_t begin = SIZE_MAX;
  while (i + 3 <= annex_b.size()) {
    if (annex_b[i] == 0 && annex_b[i + 1] == 0 && annex_b[i + 2] == 1) {
      if (begin != SIZE_MAX) nals.emplace_back(begin, i);
      begin = i + 3;
      i += 3;
    } else {
      ++i;
    }
  }
  if (begin != SIZE_MAX) nals.emplace_back(begin, annex_b.size());
  for (auto [b, e] : nals) {
    while (e > b && annex_b[e - 1] == 0) --e;
    if (e == b || (annex_b[b] & 0x1F) == kH264NalAccessUnitDelimiter) continue;
    out.append(std::initializer_list<std::uint8_t>{0, 0, 0, 1});
    out.append(annex_b.subspan(b, e - b));
  }
  return out;
}

// Writes SPS fields bit by bit, for the forms libx264 does not produce.
class BitWriter {
 public:
  void bits(std::uint32_t value, int count) {
    for (int i = count - 1; i >= 0; --i) bit((value >> i) & 1u);
  }
  void bit(std::uint32_t b) {
    if (used_ % 8 == 0) bytes_.push_back(0);
    if (b != 0) bytes_.back() |= static_cast<std::uint8_t>(0x80 >> (used_ % 8));
    ++used_;
  }
  void ue(std::uint32_t value) {
    const std::uint64_t code = std::uint64_t{value} + 1;
    int length = 0;
    while ((code >> length) > 1) ++length;
    bits(0, length);
    for (int i = length; i >= 0; --i) bit(static_cast<std::uint32_t>((code >> i) & 1u));
  }
  void se(std::int32_t value) {
    ue(value > 0 ? static_cast<std::uint32_t>(2 * value - 1)
                 : static_cast<std::uint32_t>(-2 * value));
  }
  // The NAL unit: header, RBSP with its stop bit, emulation prevention bytes inserted.
  Buffer nal(std::uint8_t header) {
    bit(1);
    Buffer out{header};
    int zeros = 0;
    for (const std::uint8_t byte : bytes_) {
      if (zeros >= 2 && byte <= 3) {
        out.push_back(3);
        zeros = 0;
      }
      out.push_back(byte);
      zeros = byte == 0 ? zeros + 1 : 0;
    }
    return out;
  }

 private:
  std::vector<std::uint8_t> bytes_;
  int used_ = 0;
};

// --- SPS -----------------------------------------------------------------------------------

TEST(H264Sps, LibX264ParameterSets) {
  struct Case {
    const char* sps;
    std::uint8_t profile;
    std::uint16_t width;
    std::uint16_t height;
  };
  for (const Case& c : {Case{kBaselineSps, 66, 160, 120}, Case{kHigh444Sps, 244, 176, 144},
                        Case{kHigh422Sps, 122, 250, 100}, Case{kInterlacedSps, 100, 320, 240}}) {
    const Buffer nal = hex(c.sps);
    auto sps = parse_h264_sps(nal);
    ASSERT_TRUE(sps) << c.sps << ": " << to_string(sps.error());
    EXPECT_EQ(sps->profile_idc, c.profile) << c.sps;
    EXPECT_EQ(sps->width, c.width) << c.sps;
    EXPECT_EQ(sps->height, c.height) << c.sps;
  }
  auto baseline = parse_h264_sps(hex(kBaselineSps));
  ASSERT_TRUE(baseline);
  EXPECT_EQ(baseline->constraint_flags, 0xC0);
  EXPECT_EQ(baseline->level_idc, 11);
  EXPECT_EQ(baseline->seq_parameter_set_id, 0);
}

TEST(H264Sps, ScalingListsPicOrderType1FieldsAndCropping) {
  BitWriter w;
  w.bits(100, 8);  // High
  w.bits(0, 8);
  w.bits(40, 8);
  w.ue(3);   // seq_parameter_set_id
  w.ue(1);   // chroma_format_idc 4:2:0
  w.ue(2);   // bit_depth_luma_minus8
  w.ue(2);   // bit_depth_chroma_minus8
  w.bit(0);  // qpprime_y_zero_transform_bypass_flag
  w.bit(1);  // seq_scaling_matrix_present_flag
  for (int i = 0; i < 8; ++i) {
    w.bit(i % 3 != 2);  // lists 2 and 5 absent
    if (i % 3 == 2) continue;
    const int size = i < 6 ? 16 : 64;
    if (i == 0) {
      w.se(-8);  // nextScale 0 at once: the default list
      continue;
    }
    for (int j = 0; j < size; ++j) w.se(j % 2 == 0 ? 3 : -3);
  }
  w.ue(4);   // log2_max_frame_num_minus4
  w.ue(1);   // pic_order_cnt_type
  w.bit(0);  // delta_pic_order_always_zero_flag
  w.se(-5);  // offset_for_non_ref_pic
  w.se(7);   // offset_for_top_to_bottom_field
  w.ue(3);   // num_ref_frames_in_pic_order_cnt_cycle
  w.se(1);
  w.se(-2);
  w.se(3);
  w.ue(4);    // max_num_ref_frames
  w.bit(0);   // gaps_in_frame_num_value_allowed_flag
  w.ue(119);  // pic_width_in_mbs_minus1: 1920
  w.ue(33);   // pic_height_in_map_units_minus1: 34 field rows, 1088 lines
  w.bit(0);   // frame_mbs_only_flag
  w.bit(1);   // mb_adaptive_frame_field_flag
  w.bit(1);   // direct_8x8_inference_flag
  w.bit(1);   // frame_cropping_flag
  w.ue(2);    // left: 4 pixels
  w.ue(0);
  w.ue(0);
  w.ue(2);   // bottom: 2 * 2 * 2 = 8 lines
  w.bit(0);  // vui_parameters_present_flag
  const Buffer nal = w.nal(0x67);
  auto sps = parse_h264_sps(nal);
  ASSERT_TRUE(sps) << to_string(sps.error());
  EXPECT_EQ(sps->profile_idc, 100);
  EXPECT_EQ(sps->seq_parameter_set_id, 3);
  EXPECT_EQ(sps->width, 1916);
  EXPECT_EQ(sps->height, 1080);
}

TEST(H264Sps, Errors) {
  EXPECT_EQ(parse_h264_sps({}).error(), PayloadError::kEmpty);
  EXPECT_EQ(parse_h264_sps(hex(kBaselinePps)).error(), PayloadError::kMalformed);
  const Buffer sps = hex(kBaselineSps);
  // Every cut before the end of the cropping fields runs out; the VUI after them is not read.
  for (std::size_t size = 1; size < 9; ++size)
    EXPECT_EQ(parse_h264_sps(BytesView(sps).first(size)).error(), PayloadError::kTruncated) << size;
  EXPECT_TRUE(parse_h264_sps(BytesView(sps).first(9)));

  BitWriter bad_id;
  bad_id.bits(66, 8);
  bad_id.bits(0, 16);
  bad_id.ue(32);  // seq_parameter_set_id above 31
  for (int i = 0; i < 8; ++i) bad_id.ue(0);
  EXPECT_EQ(parse_h264_sps(bad_id.nal(0x67)).error(), PayloadError::kMalformed);

  // 40 leading zero bits: no exp-Golomb value fits 32 bits.
  EXPECT_EQ(parse_h264_sps(hex("6742c00b0000000000ff")).error(), PayloadError::kMalformed);

  auto sized = [](std::uint32_t width_mbs, std::uint32_t crop_left) {
    BitWriter w;
    w.bits(66, 8);
    w.bits(0, 16);
    w.ue(0);
    w.ue(0);  // log2_max_frame_num_minus4
    w.ue(2);  // pic_order_cnt_type 2
    w.ue(1);
    w.bit(0);
    w.ue(width_mbs - 1);
    w.ue(0);
    w.bit(1);
    w.bit(1);
    w.bit(crop_left != 0 ? 1 : 0);
    if (crop_left != 0) {
      w.ue(crop_left);
      w.ue(0);
      w.ue(0);
      w.ue(0);
    }
    return w.nal(0x67);
  };
  auto small = parse_h264_sps(sized(2, 0));
  ASSERT_TRUE(small);
  EXPECT_EQ(small->width, 32);
  EXPECT_EQ(small->height, 16);
  EXPECT_EQ(parse_h264_sps(sized(2, 15)).value().width, 2);
  EXPECT_EQ(parse_h264_sps(sized(2, 16)).error(), PayloadError::kMalformed);    // all cropped
  EXPECT_EQ(parse_h264_sps(sized(4096, 0)).error(), PayloadError::kMalformed);  // 65536 wide
  EXPECT_TRUE(parse_h264_sps(sized(4095, 0)));
}

// --- inspect -------------------------------------------------------------------------------

TEST(H264PayloadFormat, InspectsEveryPacketType) {
  const H264PayloadFormat format;
  auto position = [&format](const char* text) { return format.inspect(hex(text)); };
  EXPECT_EQ(position("65888405").value(), FramePosition::kUnknown);  // IDR slice
  EXPECT_EQ(position("41").value(), FramePosition::kUnknown);        // a header alone
  EXPECT_EQ(position("e5aa").value(), FramePosition::kUnknown);      // F bit set: passed on
  // A packet led by an SPS or an access unit delimiter opens an access unit.
  EXPECT_EQ(position("780002 6742 0001 68").value(), FramePosition::kStart);  // STAP-A, SPS
  EXPECT_EQ(position("780001 68 0001 65").value(), FramePosition::kUnknown);  // STAP-A, PPS
  EXPECT_EQ(position("6742").value(), FramePosition::kStart);                 // an SPS alone
  EXPECT_EQ(position("0910").value(), FramePosition::kStart);                 // AUD
  EXPECT_EQ(position("7c85 aabb").value(), FramePosition::kUnknown);          // FU-A start
  EXPECT_EQ(position("7c05 aabb").value(), FramePosition::kContinue);
  EXPECT_EQ(position("7c45 aabb").value(), FramePosition::kContinue);  // FU-A end
  EXPECT_EQ(position("7c25 aabb").value(), FramePosition::kContinue);  // R ignored

  EXPECT_EQ(format.inspect({}).error(), PayloadError::kEmpty);
  for (const char* reserved : {"00aa", "80aa", "1eaa", "1faa", "7eaa", "7faa"})
    EXPECT_EQ(position(reserved).error(), PayloadError::kMalformed) << reserved;
  for (const char* interleaved : {"19000100aa", "1aaa", "1baa", "1d85aa"})
    EXPECT_EQ(position(interleaved).error(), PayloadError::kUnsupported) << interleaved;

  // STAP-A: nothing aggregated, a size past the end, a size byte alone, an empty unit, a unit
  // of a type no aggregation carries.
  EXPECT_EQ(position("78").error(), PayloadError::kTruncated);
  EXPECT_EQ(position("780003 6742").error(), PayloadError::kTruncated);
  EXPECT_EQ(position("780001 67 00").error(), PayloadError::kTruncated);
  EXPECT_EQ(position("780000 0001 67").error(), PayloadError::kMalformed);
  EXPECT_EQ(position("780001 78").error(), PayloadError::kMalformed);
  EXPECT_EQ(position("780001 00").error(), PayloadError::kMalformed);

  // FU-A: no FU header, no fragment data, S and E together, a fragmented STAP-A or type 0.
  EXPECT_EQ(position("7c").error(), PayloadError::kTruncated);
  EXPECT_EQ(position("7c85").error(), PayloadError::kTruncated);
  EXPECT_EQ(position("7cc5aa").error(), PayloadError::kMalformed);
  EXPECT_EQ(position("7c98aa").error(), PayloadError::kMalformed);
  EXPECT_EQ(position("7c80aa").error(), PayloadError::kMalformed);
}

// --- assemble ------------------------------------------------------------------------------

TEST(H264PayloadFormat, AssemblesSingleStapAndFuA) {
  const Buffer sps = hex(kBaselineSps);
  const Buffer pps = hex(kBaselinePps);
  Buffer stap{0x78};
  for (const Buffer* nal : {&sps, &pps}) {
    stap.push_back(0);
    stap.push_back(static_cast<std::uint8_t>(nal->size()));
    stap.append(*nal);
  }
  // An IDR slice (NRI 3) in three fragments, then a one-packet SEI.
  const std::vector<Buffer> payloads = {stap, hex("7c85 b8 00 04"), hex("7c05 11 22"),
                                        hex("7c45 33"), hex("06 05 01 80")};
  Buffer frame;
  auto info = assemble(payloads, frame);
  ASSERT_TRUE(info) << to_string(info.error());
  EXPECT_TRUE(info->key_frame);
  EXPECT_EQ(info->width, 160);
  EXPECT_EQ(info->height, 120);
  const Buffer expected = concat({hex("00000001"), sps, hex("00000001"), pps,
                                  hex("00000001 65 b8000411 2233"), hex("00000001 06050180")});
  EXPECT_EQ(to_hex(frame), to_hex(expected));
}

TEST(H264PayloadFormat, InterFrameWithoutSps) {
  Buffer frame;
  auto info = assemble({hex("41 9a 02"), hex("01 9e 21")}, frame);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->key_frame);
  EXPECT_EQ(info->width, 0);
  EXPECT_EQ(to_hex(frame),
            "00000001419a02"
            "00000001019e21");
}

TEST(H264PayloadFormat, FuHeaderRebuiltFromIndicatorFAndNri) {
  Buffer frame;
  // F set and NRI 1 in the indicator, type 1 in the FU header; the FU header's other bits
  // (S, E, R) do not leak into the NAL header.
  auto info = assemble({hex("bc a1 01"), hex("bc 41 02")}, frame);
  ASSERT_TRUE(info);
  EXPECT_EQ(to_hex(frame),
            "00000001a1"
            "0102");
}

TEST(H264PayloadFormat, AnSpsThatDoesNotParseLeavesTheSizeUnknown) {
  Buffer frame;
  auto info = assemble({hex("6742"), hex("65 88")}, frame);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->key_frame);
  EXPECT_EQ(info->width, 0);
  EXPECT_EQ(info->height, 0);
  EXPECT_EQ(to_hex(frame),
            "000000016742"
            "000000016588");
}

TEST(H264PayloadFormat, SpsInFragmentsGivesTheSize) {
  const Buffer sps = hex(kHigh422Sps);
  const BytesView body = BytesView(sps).subspan(1);
  const std::vector<Buffer> payloads = {concat({hex("7c87"), body.first(10)}),
                                        concat({hex("7c47"), body.subspan(10)}), hex("65 88")};
  Buffer frame;
  auto info = assemble(payloads, frame);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->width, 250);
  EXPECT_EQ(info->height, 100);
}

TEST(H264PayloadFormat, BrokenFrames) {
  struct Case {
    std::vector<const char*> payloads;
    PayloadError error;
  };
  const std::vector<Case> cases = {
      {{"7c05 aa", "7c45 bb"}, PayloadError::kBrokenFrame},           // no S
      {{"7c85 aa", "7c05 bb"}, PayloadError::kBrokenFrame},           // no E
      {{"7c85 aa"}, PayloadError::kBrokenFrame},                      // no E
      {{"7c85 aa", "41 9a", "7c45 bb"}, PayloadError::kBrokenFrame},  // interrupted
      {{"7c85 aa", "780002 4101", "7c45 bb"}, PayloadError::kBrokenFrame},
      {{"7c85 aa", "7c85 bb", "7c45 cc"}, PayloadError::kBrokenFrame},  // a second S
      {{"7c85 aa", "7c41 bb"}, PayloadError::kBrokenFrame},             // types mixed
      {{"7c85 aa", "7c45 bb", "7c45 cc"}, PayloadError::kBrokenFrame},  // after E
      {{"41 9a", "1e 00"}, PayloadError::kMalformed},
      {{"41 9a", "1a 00"}, PayloadError::kUnsupported},
      {{"41 9a", ""}, PayloadError::kEmpty},
      {{"78 0005 41"}, PayloadError::kTruncated},
  };
  for (const Case& c : cases) {
    std::vector<Buffer> payloads;
    for (const char* text : c.payloads) payloads.push_back(hex(text));
    Buffer frame;
    auto info = assemble(payloads, frame);
    ASSERT_FALSE(info) << c.payloads.front();
    EXPECT_EQ(info.error(), c.error) << c.payloads.front();
    EXPECT_TRUE(frame.empty());
  }
  Buffer frame;
  EXPECT_EQ(H264PayloadFormat().assemble({}, frame).error(), PayloadError::kEmpty);
}

TEST(H264PayloadFormat, FrameSizeAndNalCountLimits) {
  // kMaxH264FrameSize + a little, in 60000-byte fragments.
  const std::size_t fragment = 60000;
  const std::size_t count = kMaxH264FrameSize / fragment + 2;
  std::vector<Buffer> big;
  for (std::size_t i = 0; i < count; ++i) {
    Buffer payload(fragment + 2);
    payload[0] = 0x7c;
    payload[1] = static_cast<std::uint8_t>((i == 0 ? 0x80 : 0) | (i + 1 == count ? 0x40 : 0) | 5);
    big.push_back(std::move(payload));
  }
  Buffer frame;
  EXPECT_EQ(assemble(big, frame).error(), PayloadError::kTooLarge);
  EXPECT_TRUE(frame.empty());

  // Aggregated one-byte units beyond kMaxH264NalUnitsPerFrame.
  Buffer stap{0x78};
  for (int i = 0; i < 1000; ++i) stap.append(hex("0001 09"));
  std::vector<Buffer> many(kMaxH264NalUnitsPerFrame / 1000, stap);
  EXPECT_TRUE(assemble(many, frame));
  many.push_back(stap);
  EXPECT_EQ(assemble(many, frame).error(), PayloadError::kTooLarge);
}

// --- Packetizer ----------------------------------------------------------------------------

// SPS, PPS, an SEI and an IDR slice of `idr_size` bytes.
Buffer key_access_unit(std::size_t idr_size, std::uint32_t seed = 1) {
  Buffer au = concat({hex("00000001"), hex(kBaselineSps), hex("000001"), hex(kBaselinePps),
                      hex("00000001 0605 0380aabb 80")});
  au.append(hex("00000001 65"));
  std::mt19937 random(seed);
  for (std::size_t i = 1; i < idr_size; ++i) {
    // No zero bytes: a run of them could read as a start code.
    au.push_back(static_cast<std::uint8_t>(1 + random() % 255));
  }
  return au;
}

TEST(H264Packetizer, AggregatesParameterSetsAndFragmentsTheSlice) {
  const Buffer au = key_access_unit(3000);
  H264Packetizer packetizer(1200, H264PacketizationMode::kNonInterleaved);
  const std::vector<Buffer> payloads = packetize(packetizer, au, 1200);
  ASSERT_EQ(payloads.size(), 4u);
  // SPS, PPS and SEI in one STAP-A whose NRI is the highest (3, from the SPS).
  EXPECT_EQ(payloads[0][0], 0x78);
  EXPECT_EQ(payloads[0].size(), 1 + 2 + 23 + 2 + 5 + 2 + 7u);
  // The 3000-byte slice: 2999 bytes after its header in three near-equal FU-A fragments.
  EXPECT_EQ(to_hex(BytesView(payloads[1]).first(2)), "7c85");
  EXPECT_EQ(to_hex(BytesView(payloads[2]).first(2)), "7c05");
  EXPECT_EQ(to_hex(BytesView(payloads[3]).first(2)), "7c45");
  EXPECT_EQ(payloads[1].size(), 1000 + 2u);
  EXPECT_EQ(payloads[2].size(), 1000 + 2u);
  EXPECT_EQ(payloads[3].size(), 999 + 2u);
  Buffer frame;
  auto info = assemble(payloads, frame);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->key_frame);
  EXPECT_EQ(info->width, 160);
  EXPECT_EQ(frame, normalized(au));
}

TEST(H264Packetizer, SingleNalUnitMode) {
  const Buffer au = key_access_unit(900);
  H264Packetizer packetizer(1000, H264PacketizationMode::kSingleNalUnit);
  const std::vector<Buffer> payloads = packetize(packetizer, au, 1000);
  ASSERT_EQ(payloads.size(), 4u);
  EXPECT_EQ(to_hex(payloads[0]), kBaselineSps);
  EXPECT_EQ(to_hex(payloads[1]), kBaselinePps);
  EXPECT_EQ(payloads[3].size(), 900u);

  H264Packetizer small(899, H264PacketizationMode::kSingleNalUnit);
  EXPECT_EQ(small.start_frame(au, true).error(), PayloadError::kTooLarge);
  EXPECT_FALSE(small.has_next());
}

TEST(H264Packetizer, StartCodesZerosAndDelimiters) {
  // Leading zeros, an AUD, 3- and 4-byte start codes, trailing zeros, an empty NAL unit.
  const Buffer au = hex("0000 00000001 0910 000001 6742 0000 000001 000001 41aa 000000");
  H264Packetizer packetizer(1200, H264PacketizationMode::kSingleNalUnit);
  const std::vector<Buffer> payloads = packetize(packetizer, au, 1200);
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(to_hex(payloads[0]), "6742");
  EXPECT_EQ(to_hex(payloads[1]), "41aa");
}

TEST(H264Packetizer, Errors) {
  H264Packetizer packetizer(1200, H264PacketizationMode::kNonInterleaved);
  Buffer out;
  EXPECT_EQ(packetizer.next_payload(out).error(), PayloadError::kNoFrame);
  EXPECT_EQ(packetizer.start_frame({}, true).error(), PayloadError::kEmpty);
  EXPECT_EQ(packetizer.start_frame(hex("00000000"), true).error(), PayloadError::kMalformed);
  EXPECT_EQ(packetizer.start_frame(hex("6742"), true).error(), PayloadError::kMalformed);
  EXPECT_EQ(packetizer.start_frame(hex("aa 00000001 6742"), true).error(),
            PayloadError::kMalformed);  // bytes before the first start code
  EXPECT_EQ(packetizer.start_frame(hex("00000001 0910"), true).error(),
            PayloadError::kMalformed);  // only a delimiter
  for (const char* type : {"00", "18", "1c", "1f"}) {
    EXPECT_EQ(
        packetizer.start_frame(hex(std::string("00000001 6742 00000001 ") + type + "aa"), true)
            .error(),
        PayloadError::kMalformed)
        << type;
  }
  // A failed start abandons the frame in progress.
  ASSERT_TRUE(packetizer.start_frame(key_access_unit(100), true));
  EXPECT_TRUE(packetizer.has_next());
  EXPECT_FALSE(packetizer.start_frame({}, true));
  EXPECT_FALSE(packetizer.has_next());

  H264Packetizer tiny(2, H264PacketizationMode::kNonInterleaved);
  EXPECT_EQ(tiny.start_frame(hex("00000001 41aabb"), false).error(), PayloadError::kNoRoom);
  EXPECT_TRUE(tiny.start_frame(hex("00000001 41aa"), false));
  H264Packetizer none(0, H264PacketizationMode::kNonInterleaved);
  EXPECT_EQ(none.start_frame(hex("00000001 41aa"), false).error(), PayloadError::kNoRoom);

  Buffer huge(kMaxH264FrameSize + 1);
  huge[3] = 1;
  huge[4] = 0x41;
  EXPECT_EQ(packetizer.start_frame(huge, false).error(), PayloadError::kTooLarge);
  Buffer many;
  for (std::size_t i = 0; i <= kMaxH264NalUnitsPerFrame; ++i) many.append(hex("000001 41aa"));
  EXPECT_EQ(packetizer.start_frame(many, false).error(), PayloadError::kTooLarge);
}

TEST(H264Packetizer, RoundTripsAtManyPayloadSizes) {
  // Two slices, the second small enough to share a STAP-A with what follows.
  Buffer au = key_access_unit(5000, 7);
  au.append(hex("00000001 41 9a 0203"));
  au.append(hex("000001 01 9e 11 00 00 03 22"));
  for (const auto mode :
       {H264PacketizationMode::kNonInterleaved, H264PacketizationMode::kSingleNalUnit}) {
    for (std::size_t size : {3,   4,   5,    7,    10,   23,   24,   25,   26,    37,
                             100, 999, 1200, 1500, 4999, 5000, 5001, 6000, 65535, 100000}) {
      H264Packetizer packetizer(size, mode);
      if (mode == H264PacketizationMode::kSingleNalUnit && size < 5000) {
        EXPECT_EQ(packetizer.start_frame(au, true).error(), PayloadError::kTooLarge);
        continue;
      }
      const std::vector<Buffer> payloads = packetize(packetizer, au, size);
      Buffer frame;
      auto info = assemble(payloads, frame);
      ASSERT_TRUE(info) << size;
      EXPECT_EQ(frame, normalized(au)) << size;
      EXPECT_TRUE(info->key_frame);
      EXPECT_EQ(info->width, 160);
    }
  }
}

TEST(H264Packetizer, ReusesThePayloadBuffer) {
  // Once `out` has held a full payload, later payloads are written into the same memory.
  H264Packetizer packetizer(1200, H264PacketizationMode::kNonInterleaved);
  const Buffer first = key_access_unit(4000);
  const Buffer second = key_access_unit(3000, 2);
  Buffer out;
  out.reserve(1200);
  const std::uint8_t* data = out.data();
  for (const Buffer* au : {&first, &second, &first}) {
    ASSERT_TRUE(packetizer.start_frame(*au, true));
    while (packetizer.has_next()) {
      ASSERT_TRUE(packetizer.next_payload(out));
      EXPECT_EQ(out.data(), data);
    }
  }
}

// --- The libx264 fixture -------------------------------------------------------------------

// tests/data/testsrc-160x120-baseline.h264, 30 frames with IDR frames at 0 and 15:
//   ffmpeg -f lavfi -i testsrc=size=160x120:rate=30 -frames:v 30 -c:v libx264
//     -profile:v baseline -g 15 -pix_fmt yuv420p -bsf:v h264_mp4toannexb -f h264
//     testsrc-160x120-baseline.h264
TEST(H264Packetizer, LibX264StreamRoundTripsAt1200Bytes) {
  std::ifstream in(std::string(RTCPP_TEST_DATA_DIR) + "/testsrc-160x120-baseline.h264",
                   std::ios::binary);
  ASSERT_TRUE(in);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  const Buffer file(BytesView(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  media::AnnexBParser parser(file);
  H264Packetizer packetizer(1200, H264PacketizationMode::kNonInterleaved);
  int frames = 0;
  int key_frames = 0;
  int fragmented = 0;
  while (true) {
    auto unit = parser.next_access_unit();
    ASSERT_TRUE(unit);
    if (!*unit) break;
    const std::vector<Buffer> payloads = packetize(packetizer, (*unit)->data, 1200);
    for (const Buffer& payload : payloads) fragmented += (payload[0] & 0x1F) == kH264FuA ? 1 : 0;
    Buffer frame;
    auto info = assemble(payloads, frame);
    ASSERT_TRUE(info) << frames;
    EXPECT_EQ(frame, normalized((*unit)->data)) << frames;
    EXPECT_EQ(info->key_frame, (*unit)->key_frame) << frames;
    if (info->key_frame) {
      ++key_frames;
      EXPECT_EQ(info->width, 160);
      EXPECT_EQ(info->height, 120);
    }
    ++frames;
  }
  EXPECT_EQ(frames, 30);
  EXPECT_EQ(key_frames, 2);
  EXPECT_GT(fragmented, 0);  // the IDR frames need FU-A at 1200 bytes
}

}  // namespace
}  // namespace rtcpp::rtp
