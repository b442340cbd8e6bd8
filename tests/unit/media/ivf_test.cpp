#include "media/ivf.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/hex.hpp"
#include "common/temp_files.hpp"

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

// Three 16x16 VP8 frames (a key frame and two inter frames) in the file ffmpeg 5.1 writes for
// `ffmpeg -f lavfi -i color=c=black:size=16x16:rate=30 -frames:v 3 -c:v libvpx out.ivf`.
const char* const kFfmpegFile =
    "444b4946 0000 2000 56503830 1000 1000 1e000000 01000000 03000000 00000000"
    "1f000000 0000000000000000"
    "1002009d012a100010000047088585888584880202000c0d6000feffab5080"
    "11000000 0100000000000000 b1010001101000180018582ff400080000"
    "11000000 0200000000000000 b1010001101000180018582ff400080000";
const char* const kKeyFrame = "1002009d012a100010000047088585888584880202000c0d6000feffab5080";
const char* const kInterFrame = "b1010001101000180018582ff400080000";

TEST(Ivf, WritesTheBytesFfmpegWrites) {
  IvfFileHeader header;
  header.width = 16;
  header.height = 16;
  header.timebase_numerator = 1;
  header.timebase_denominator = 30;
  header.frame_count = 3;
  Buffer out;
  write_ivf_file_header(header, out);
  ASSERT_TRUE(write_ivf_frame(0, hex(kKeyFrame), out));
  ASSERT_TRUE(write_ivf_frame(1, hex(kInterFrame), out));
  ASSERT_TRUE(write_ivf_frame(2, hex(kInterFrame), out));
  EXPECT_EQ(to_hex(out), to_hex(hex(kFfmpegFile)));
}

TEST(Ivf, ParsesAnFfmpegFile) {
  const Buffer file = hex(kFfmpegFile);
  auto parser = IvfParser::open(file);
  ASSERT_TRUE(parser);
  const IvfFileHeader& header = parser->header();
  EXPECT_EQ(header.codec, IvfCodec::kVp8);
  EXPECT_EQ(header.width, 16);
  EXPECT_EQ(header.height, 16);
  EXPECT_EQ(header.timebase_numerator, 1u);
  EXPECT_EQ(header.timebase_denominator, 30u);
  EXPECT_EQ(header.frame_count, 3u);
  std::vector<std::pair<std::uint64_t, std::string>> frames;
  while (true) {
    auto frame = parser->next_frame();
    ASSERT_TRUE(frame);
    if (!*frame) break;
    frames.emplace_back((*frame)->timestamp, to_hex((*frame)->data));
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], std::make_pair(std::uint64_t{0}, std::string(kKeyFrame)));
  EXPECT_EQ(frames[2], std::make_pair(std::uint64_t{2}, std::string(kInterFrame)));
}

TEST(Ivf, EveryCodec) {
  for (const IvfCodec codec : {IvfCodec::kVp8, IvfCodec::kVp9, IvfCodec::kAv1}) {
    IvfFileHeader header;
    header.codec = codec;
    header.width = 1920;
    header.height = 1080;
    Buffer out;
    write_ivf_file_header(header, out);
    EXPECT_EQ(as_string(BytesView(out).subspan(8, 4)), fourcc(codec));
    auto parsed = parse_ivf_file_header(out);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, header);
  }
}

TEST(Ivf, RejectsMalformedFiles) {
  const std::string good_header =
      "444b4946 0000 2000 56503830 1000 1000 1e000000 01000000 00000000 00000000";
  struct Case {
    std::string hex;
    IvfError error;
  };
  const Case cases[] = {
      {"", IvfError::kTruncated},
      {"444b4946 0000 2000 56503830", IvfError::kTruncated},
      {"444b4947 0000 2000 56503830 1000 1000 1e000000 01000000 00000000 00000000",
       IvfError::kBadSignature},
      {"444b4946 0000 1f00 56503830 1000 1000 1e000000 01000000 00000000 00000000",
       IvfError::kBadHeaderSize},
      {"444b4946 0000 0104 56503830 1000 1000 1e000000 01000000 00000000 00000000",
       IvfError::kBadHeaderSize},
      // A header size of 40 with 32 bytes present.
      {"444b4946 0000 2800 56503830 1000 1000 1e000000 01000000 00000000 00000000",
       IvfError::kTruncated},
      {"444b4946 0000 2000 48323634 1000 1000 1e000000 01000000 00000000 00000000",
       IvfError::kUnknownCodec},
      {"444b4946 0000 2000 56503830 1000 1000 00000000 01000000 00000000 00000000",
       IvfError::kBadTimebase},
      {"444b4946 0000 2000 56503830 1000 1000 1e000000 00000000 00000000 00000000",
       IvfError::kBadTimebase},
  };
  for (const Case& c : cases) {
    const Buffer file = hex(c.hex);
    auto parser = IvfParser::open(file);
    ASSERT_FALSE(parser) << c.hex;
    EXPECT_EQ(parser.error(), c.error) << c.hex << ": " << to_string(parser.error());
  }

  const Case frames[] = {
      {good_header + "0100", IvfError::kTruncated},                            // frame header cut
      {good_header + "05000000 0000000000000000 aabb", IvfError::kTruncated},  // frame cut
      {good_header + "ffffffff 0000000000000000 aabb", IvfError::kFrameTooLarge},
      {good_header + "01000000 0000000000000000 aa 01", IvfError::kTruncated},  // after one frame
  };
  for (const Case& c : frames) {
    const Buffer file = hex(c.hex);
    auto parser = IvfParser::open(file);
    ASSERT_TRUE(parser) << c.hex;
    auto frame = parser->next_frame();
    while (frame && *frame) frame = parser->next_frame();
    ASSERT_FALSE(frame) << c.hex;
    EXPECT_EQ(frame.error(), c.error) << c.hex;
    auto after = parser->next_frame();  // nothing more after an error
    ASSERT_TRUE(after);
    EXPECT_FALSE(*after);
  }
}

TEST(Ivf, LongerHeadersAreSkipped) {
  // A header size of 36: four unknown bytes before the first frame.
  const Buffer file =
      hex("444b4946 0000 2400 56503830 1000 1000 1e000000 01000000 01000000 00000000 eeeeeeee"
          "01000000 0700000000000000 aa");
  auto parser = IvfParser::open(file);
  ASSERT_TRUE(parser);
  auto frame = parser->next_frame();
  ASSERT_TRUE(frame && *frame);
  EXPECT_EQ((*frame)->timestamp, 7u);
  EXPECT_EQ(to_hex((*frame)->data), "aa");
}

TEST(Ivf, FileWriterAndReaderRoundTrip) {
  TempDir dir("ivf");
  const std::string path = dir.file("round.ivf");
  IvfFileHeader header;
  header.width = 640;
  header.height = 480;
  {
    auto writer = IvfFileWriter::create(path, header);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write_frame(0, hex(kKeyFrame)));
    ASSERT_TRUE(writer->write_frame(3000, hex(kInterFrame)));
    ASSERT_TRUE(writer->write_frame(1ull << 40, hex("01")));
    EXPECT_EQ(writer->frame_count(), 3u);
    ASSERT_TRUE(writer->close());
    EXPECT_EQ(writer->write_frame(0, hex("01")).error(), IvfError::kClosed);
  }
  auto reader = IvfFileReader::open(path);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->header().frame_count, 3u);  // patched by close()
  EXPECT_EQ(reader->header().width, 640);
  EXPECT_EQ(reader->header().timebase_denominator, 90000u);
  Buffer data;
  std::vector<std::uint64_t> timestamps;
  while (true) {
    auto ts = reader->next_frame(data);
    ASSERT_TRUE(ts);
    if (!*ts) break;
    timestamps.push_back(**ts);
    if (timestamps.size() == 1) {
      EXPECT_EQ(to_hex(data), kKeyFrame);
    }
  }
  EXPECT_EQ(timestamps, (std::vector<std::uint64_t>{0, 3000, 1ull << 40}));
  EXPECT_EQ(to_hex(data), "01");

  // The destructor closes (and patches) too.
  const std::string second = dir.file("dtor.ivf");
  {
    auto writer = IvfFileWriter::create(second, header);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write_frame(0, hex(kKeyFrame)));
  }
  auto again = IvfFileReader::open(second);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->header().frame_count, 1u);
}

TEST(Ivf, FileReaderRefusesLyingSizesBeforeAllocating) {
  TempDir dir("ivf");
  const std::string path = dir.file("lying.ivf");
  // A frame that claims 16 MiB in a file of 45 bytes.
  write_file(path, hex("444b4946 0000 2000 56503830 1000 1000 1e000000 01000000 01000000 00000000"
                       "00000001 0000000000000000 aa"));
  auto reader = IvfFileReader::open(path);
  ASSERT_TRUE(reader);
  Buffer data;
  auto frame = reader->next_frame(data);
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error(), IvfError::kTruncated);
  EXPECT_LT(data.capacity(), 1024u);
  auto after = reader->next_frame(data);
  ASSERT_TRUE(after);
  EXPECT_FALSE(*after);

  EXPECT_EQ(IvfFileReader::open(dir.file("missing.ivf")).error(), IvfError::kIo);
  write_file(dir.file("short.ivf"), hex("444b4946"));
  EXPECT_EQ(IvfFileReader::open(dir.file("short.ivf")).error(), IvfError::kTruncated);
  EXPECT_EQ(IvfFileWriter::create(dir.file("no/such/dir.ivf"), IvfFileHeader{}).error(),
            IvfError::kIo);
}

// ffprobe decodes every frame of a file our writer wrote: the file is one ffmpeg reads. The
// test is skipped where ffmpeg is not installed.
TEST(Ivf, FfprobeReadsWhatWeWrite) {
  if (std::system("command -v ffprobe >/dev/null 2>&1") != 0) GTEST_SKIP() << "no ffprobe";
  TempDir dir("ivf");
  const std::string path = dir.file("probe.ivf");
  IvfFileHeader header;
  header.width = 16;
  header.height = 16;
  {
    auto writer = IvfFileWriter::create(path, header);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write_frame(0, hex(kKeyFrame)));
    ASSERT_TRUE(writer->write_frame(3000, hex(kInterFrame)));
    ASSERT_TRUE(writer->write_frame(6000, hex(kInterFrame)));
    ASSERT_TRUE(writer->close());
  }
  const std::string errors = dir.file("errors.txt");
  const std::string command =
      "ffprobe -v error -count_frames -show_entries stream=codec_name,width,height,nb_read_frames "
      "-of csv=p=0 '" +
      path + "' 2>'" + errors + "'";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 256> chunk{};
  while (std::fgets(chunk.data(), static_cast<int>(chunk.size()), pipe) != nullptr)
    output += chunk.data();
  const int status = ::pclose(pipe);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(output, "vp8,16,16,3\n");
  EXPECT_EQ(as_string(read_file(errors)), "");
}

}  // namespace
}  // namespace rtcpp::media
