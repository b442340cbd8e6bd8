#include "media/annexb.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "base/hex.hpp"
#include "common/temp_files.hpp"
#include "rtp/h264.hpp"

namespace rtcpp::media {
namespace {

using test_support::read_file;
using test_support::TempDir;
using test_support::write_file;

Buffer hex(std::string text) {
  std::erase(text, ' ');
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes) << text;
  return bytes ? std::move(*bytes) : Buffer{};
}

// tests/data/testsrc-160x120-baseline.h264: 30 frames, IDR frames at 0 and 15 (ffprobe
// -count_frames reports 30), made with
//   ffmpeg -f lavfi -i testsrc=size=160x120:rate=30 -frames:v 30 -c:v libx264
//     -profile:v baseline -g 15 -pix_fmt yuv420p -bsf:v h264_mp4toannexb -f h264
//     testsrc-160x120-baseline.h264
std::string fixture_path() {
  return std::string(RTCPP_TEST_DATA_DIR) + "/testsrc-160x120-baseline.h264";
}
constexpr int kFixtureFrames = 30;

struct Unit {
  std::string hex;
  bool key_frame;
};

std::vector<Unit> split(BytesView stream, std::size_t max = kMaxAnnexBAccessUnitSize) {
  AnnexBParser parser(stream, max);
  std::vector<Unit> units;
  while (true) {
    auto unit = parser.next_access_unit();
    EXPECT_TRUE(unit) << to_string(unit.error());
    if (!unit || !*unit) break;
    units.push_back({to_hex((*unit)->data), (*unit)->key_frame});
  }
  return units;
}

// The first byte after a slice header byte: 0x80 starts a picture (first_mb_in_slice 0),
// 0x40 does not (first_mb_in_slice 1).
TEST(AnnexBParser, SplitsAtTheFirstNalUnitOfEachAccessUnit) {
  const Buffer stream =
      hex("00000001 6742 00000001 68ce 000001 0605 00000001 6588aa"  // key frame
          "00000001 419a 000001 4140"                                // two slices
          "00000001 09f0 000001 4180"                                // AUD first
          "000001 0605 0000 000001 0180 000001 0c");                 // SEI, slice, filler
  const std::vector<Unit> units = split(stream);
  ASSERT_EQ(units.size(), 4u);
  EXPECT_EQ(units[0].hex,
            "00000001674200000001"
            "68ce"
            "0000010605"
            "000000016588aa");
  EXPECT_TRUE(units[0].key_frame);
  EXPECT_EQ(units[1].hex, "00000001419a0000014140");
  EXPECT_FALSE(units[1].key_frame);
  EXPECT_EQ(units[2].hex, "0000000109f00000014180");
  EXPECT_EQ(units[3].hex, "0000010605000000000101800000010c");
}

TEST(AnnexBParser, JoinedUnitsAreTheStream) {
  const Buffer stream = hex("0000 000001 6588 0000 00000001 4188 000001 4188 00 00");
  AnnexBParser parser(stream);
  Buffer joined;
  int count = 0;
  while (true) {
    auto unit = parser.next_access_unit();
    ASSERT_TRUE(unit);
    if (!*unit) break;
    joined.append((*unit)->data);
    ++count;
  }
  EXPECT_EQ(count, 3);
  EXPECT_EQ(joined, stream);
}

TEST(AnnexBParser, EdgesAndErrors) {
  EXPECT_TRUE(split({}).empty());
  EXPECT_TRUE(split(hex("000000")).empty());  // only zero bytes: no access unit
  for (const char* bad : {"01", "0001 65", "aa 000001 65", "0000 02 000001 65"}) {
    const Buffer stream = hex(bad);  // the parser holds a view: it must outlive it
    AnnexBParser parser(stream);
    auto unit = parser.next_access_unit();
    ASSERT_FALSE(unit) << bad;
    EXPECT_EQ(unit.error(), AnnexBError::kNoStartCode);
    EXPECT_TRUE(parser.next_access_unit().value() == std::nullopt);  // nothing after an error
  }
  // A start code with nothing after it, and NAL units of a reserved type, are kept.
  const std::vector<Unit> odd = split(hex("000001 000001 1f 000001"));
  ASSERT_EQ(odd.size(), 1u);
  EXPECT_EQ(odd[0].hex, "0000010000011f000001");

  // The limit counts up to the next access unit's start code.
  const Buffer two = hex("000001 6588 0000 000001 4188");
  EXPECT_EQ(split(two, 7).size(), 2u);
  AnnexBParser tight(two, 6);
  EXPECT_EQ(tight.next_access_unit().error(), AnnexBError::kTooLarge);
  EXPECT_TRUE(tight.next_access_unit().value() == std::nullopt);  // nothing after an error
  // Zero bytes count too, even without a start code after them.
  EXPECT_EQ(AnnexBParser(Buffer(6), 3).next_access_unit().error(), AnnexBError::kTooLarge);
  EXPECT_TRUE(AnnexBParser(Buffer(5), 3).next_access_unit().value() == std::nullopt);
  ASSERT_EQ(split(hex("000001 6588 000001 4188"), 5).size(), 2u);
  EXPECT_EQ(AnnexBParser(hex("000001 658899"), 5).next_access_unit().error(),
            AnnexBError::kTooLarge);
  EXPECT_EQ(AnnexBParser(hex("000000000000 01 65"), 3).next_access_unit().error(),
            AnnexBError::kTooLarge);
}

TEST(AnnexBSplitter, ByteByByteMatchesWhole) {
  const Buffer stream = read_file(fixture_path());
  ASSERT_FALSE(stream.empty());
  std::vector<std::size_t> whole;
  AnnexBParser parser(stream);
  while (true) {
    auto unit = parser.next_access_unit();
    ASSERT_TRUE(unit);
    if (!*unit) break;
    whole.push_back((*unit)->data.size());
  }
  // Fed one byte more each call, the splitter finds the same access units.
  AnnexBSplitter splitter;
  std::vector<std::size_t> streamed;
  std::size_t begin = 0;
  for (std::size_t end = begin; end <= stream.size(); ++end) {
    while (true) {
      auto found =
          splitter.find(BytesView(stream).subspan(begin, end - begin), end == stream.size());
      ASSERT_TRUE(found);
      if (!*found) break;
      streamed.push_back((*found)->size);
      begin += (*found)->size;
      splitter.next();
    }
  }
  EXPECT_EQ(streamed, whole);
}

TEST(AnnexBFileReader, ReadsTheLibX264Fixture) {
  auto reader = AnnexBFileReader::open(fixture_path());
  ASSERT_TRUE(reader);
  Buffer unit;
  Buffer joined;
  int frames = 0;
  int key_frames = 0;
  while (true) {
    auto info = reader->next_access_unit(unit);
    ASSERT_TRUE(info) << to_string(info.error());
    if (!*info) break;
    if (frames == 0 || frames == 15) {
      EXPECT_TRUE((*info)->key_frame) << frames;
    }
    key_frames += (*info)->key_frame ? 1 : 0;
    joined.append(unit);
    if ((*info)->key_frame) {
      // The first NAL unit is the SPS: 160x120, Constrained Baseline.
      ASSERT_GT(unit.size(), 5u);
      std::size_t end = 4;
      // It ends at the next start code (00 00 00 or 00 00 01; 00 00 03 is an escape in it).
      while (end + 3 < unit.size() && !(unit[end] == 0 && unit[end + 1] == 0 && unit[end + 2] <= 1))
        ++end;
      auto sps = rtp::parse_h264_sps(BytesView(unit).subspan(4, end - 4));
      ASSERT_TRUE(sps);
      EXPECT_EQ(sps->width, 160);
      EXPECT_EQ(sps->height, 120);
      EXPECT_EQ(sps->profile_idc, 66);
    }
    ++frames;
  }
  EXPECT_EQ(frames, kFixtureFrames);
  EXPECT_EQ(key_frames, 2);
  EXPECT_EQ(joined, read_file(fixture_path()));
  Buffer more;
  EXPECT_TRUE(reader->next_access_unit(more).value() == std::nullopt);
}

TEST(AnnexBFileReader, AcrossReadChunksAndErrors) {
  TempDir dir("annexb");
  // Access units larger than a read chunk.
  Buffer stream;
  for (int i = 0; i < 3; ++i) {
    stream.append(hex(i == 0 ? "00000001 6588" : "00000001 4188"));
    for (std::size_t j = 0; j < kAnnexBReadChunkSize + 1000; ++j) stream.push_back(0x5a);
  }
  write_file(dir.file("big.h264"), stream);
  auto reader = AnnexBFileReader::open(dir.file("big.h264"));
  ASSERT_TRUE(reader);
  Buffer unit;
  Buffer joined;
  int count = 0;
  while (true) {
    auto info = reader->next_access_unit(unit);
    ASSERT_TRUE(info);
    if (!*info) break;
    EXPECT_EQ((*info)->key_frame, count == 0);
    joined.append(unit);
    ++count;
  }
  EXPECT_EQ(count, 3);
  EXPECT_EQ(joined, stream);

  auto limited = AnnexBFileReader::open(dir.file("big.h264"), 1000);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->next_access_unit(unit).error(), AnnexBError::kTooLarge);
  EXPECT_TRUE(limited->next_access_unit(unit).value() == std::nullopt);

  write_file(dir.file("bad.h264"), hex("47 40 00 10"));  // an MPEG-TS packet, say
  auto bad = AnnexBFileReader::open(dir.file("bad.h264"));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->next_access_unit(unit).error(), AnnexBError::kNoStartCode);

  EXPECT_EQ(AnnexBFileReader::open(dir.file("missing.h264")).error(), AnnexBError::kIo);
}

TEST(AnnexBFileWriter, WritesWhatTheReaderReadsBack) {
  TempDir dir("annexb");
  const std::string path = dir.file("out.h264");
  {
    auto writer = AnnexBFileWriter::create(path);
    ASSERT_TRUE(writer);
    EXPECT_TRUE(writer->write_access_unit(hex("00000001 6742 00000001 6588")));
    EXPECT_TRUE(writer->write_access_unit(hex("000001 4188")));
    EXPECT_EQ(writer->write_access_unit(hex("4188")).error(), AnnexBError::kNoStartCode);
    EXPECT_EQ(writer->write_access_unit({}).error(), AnnexBError::kNoStartCode);
    EXPECT_EQ(writer->access_unit_count(), 2u);
    EXPECT_TRUE(writer->close());
    EXPECT_EQ(writer->write_access_unit(hex("000001 4188")).error(), AnnexBError::kClosed);
    EXPECT_EQ(writer->close().error(), AnnexBError::kClosed);
  }
  EXPECT_EQ(to_hex(read_file(path)), "0000000167420000000165880000014188");
  auto reader = AnnexBFileReader::open(path);
  ASSERT_TRUE(reader);
  Buffer unit;
  auto first = reader->next_access_unit(unit);
  ASSERT_TRUE(first && *first);
  EXPECT_TRUE((*first)->key_frame);
  EXPECT_EQ(to_hex(unit),
            "00000001674200000001658"
            "8");
  auto second = reader->next_access_unit(unit);
  ASSERT_TRUE(second && *second);
  EXPECT_EQ(to_hex(unit), "0000014188");

  EXPECT_EQ(AnnexBFileWriter::create(dir.file("no/such/dir.h264")).error(), AnnexBError::kIo);
}

}  // namespace
}  // namespace rtcpp::media
