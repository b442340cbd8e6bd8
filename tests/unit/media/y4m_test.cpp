#include "media/y4m.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/temp_files.hpp"

namespace rtcpp::media {
namespace {

using test_support::read_file;
using test_support::TempDir;
using test_support::write_file;

// A frame whose every byte depends on its position and `seed`.
VideoFrame pattern_frame(int width, int height, int seed) {
  auto frame = VideoFrame::create(width, height);
  EXPECT_TRUE(frame);
  const MutableBytesView bytes = frame->mutable_bytes();
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(i * 7 + static_cast<std::size_t>(seed) * 31);
  return std::move(*frame);
}

Buffer file_of(std::string_view header, int frames, std::size_t frame_size) {
  Buffer out(as_bytes(header));
  for (int i = 0; i < frames; ++i) {
    out.append(as_bytes("FRAME\n"));
    out.append(Buffer(frame_size));
  }
  return out;
}

TEST(Y4mVideoFrame, CreateMakesBlackFramesOfAnySizeInRange) {
  auto frame = VideoFrame::create(3, 5);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->width(), 3);
  EXPECT_EQ(frame->height(), 5);
  EXPECT_EQ(frame->bytes().size(), VideoFrame::byte_size(3, 5));
  EXPECT_EQ(frame->bytes().size(), 15u + 2 * 2 * 3);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(frame->data_y()[i], 16);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(frame->data_u()[i], 128);
    EXPECT_EQ(frame->data_v()[i], 128);
  }
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{
           {0, 1}, {1, 0}, {-4, 4}, {kMaxVideoDimension + 1, 2}, {2, kMaxVideoDimension + 1}}) {
    auto bad = VideoFrame::create(w, h);
    ASSERT_FALSE(bad) << w << "x" << h;
    EXPECT_EQ(bad.error().type(), RTCErrorType::kRangeError);
  }
}

TEST(Y4m, ParsesEveryHeaderTag) {
  const std::string line =
      "YUV4MPEG2 W64 H48 F30000:1001 It A128:117 C420mpeg2 XYSCSS=420MPEG2 Zfuture\n";
  std::size_t consumed = 0;
  auto header = parse_y4m_header(as_bytes(line + "FRAME\n"), consumed);
  ASSERT_TRUE(header) << to_string(header.error());
  EXPECT_EQ(consumed, line.size());
  EXPECT_EQ(header->width, 64);
  EXPECT_EQ(header->height, 48);
  EXPECT_EQ(header->fps_numerator, 30000u);
  EXPECT_EQ(header->fps_denominator, 1001u);
  EXPECT_EQ(header->interlacing, 't');
  EXPECT_EQ(header->aspect_numerator, 128u);
  EXPECT_EQ(header->aspect_denominator, 117u);
  EXPECT_EQ(header->color_space, "420mpeg2");
}

TEST(Y4m, DefaultsForAbsentTags) {
  std::size_t consumed = 0;
  auto header = parse_y4m_header(as_bytes("YUV4MPEG2 H2  W3\n"), consumed);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->width, 3);
  EXPECT_EQ(header->height, 2);
  EXPECT_EQ(header->fps_numerator, 25u);
  EXPECT_EQ(header->fps_denominator, 1u);
  EXPECT_EQ(header->interlacing, '?');
  EXPECT_EQ(header->color_space, "");
}

TEST(Y4m, AcceptsEvery420ColourSpace) {
  for (const char* space : {"420jpeg", "420paldv", "420mpeg2", "420"}) {
    std::size_t consumed = 0;
    const std::string line = std::string("YUV4MPEG2 W2 H2 C") + space + "\n";
    auto header = parse_y4m_header(as_bytes(line), consumed);
    ASSERT_TRUE(header) << space;
    EXPECT_EQ(header->color_space, space);
  }
}

TEST(Y4m, RejectsMalformedHeaders) {
  struct Case {
    std::string text;
    Y4mError error;
  };
  const std::vector<Case> cases = {
      {"", Y4mError::kTruncated},
      {"YUV4", Y4mError::kTruncated},
      {"YUV4MPEG2 W2 H2", Y4mError::kTruncated},
      {"YUV4MPEG3 W2 H2\n", Y4mError::kBadSignature},
      {"YUV4MPEG2\tW2 H2\n", Y4mError::kBadSignature},
      {"RIFF", Y4mError::kBadSignature},
      {"YUV4MPEG2 W2 H2 X" + std::string(2000, 'x') + "\n", Y4mError::kLineTooLong},
      {"YUV4MPEG2 W2\n", Y4mError::kBadTag},
      {"YUV4MPEG2 H2\n", Y4mError::kBadTag},
      {"YUV4MPEG2 Wabc H2\n", Y4mError::kBadTag},
      {"YUV4MPEG2 W-2 H2\n", Y4mError::kBadTag},
      {"YUV4MPEG2 W H2\n", Y4mError::kBadTag},
      {"YUV4MPEG2 W0 H2\n", Y4mError::kBadDimensions},
      {"YUV4MPEG2 W2 H16385\n", Y4mError::kBadDimensions},
      {"YUV4MPEG2 W99999999999999999999999999 H2\n", Y4mError::kBadDimensions},
      {"YUV4MPEG2 W2 H2 F30\n", Y4mError::kBadTag},
      {"YUV4MPEG2 W2 H2 F30:x\n", Y4mError::kBadTag},
      {"YUV4MPEG2 W2 H2 F30:0\n", Y4mError::kBadFrameRate},
      {"YUV4MPEG2 W2 H2 F0:1\n", Y4mError::kBadFrameRate},
      {"YUV4MPEG2 W2 H2 F4294967296:1\n", Y4mError::kBadFrameRate},
      {"YUV4MPEG2 W2 H2 Ix\n", Y4mError::kBadTag},
      {"YUV4MPEG2 W2 H2 Ipp\n", Y4mError::kBadTag},
      {"YUV4MPEG2 W2 H2 A1\n", Y4mError::kBadTag},
      {"YUV4MPEG2 W2 H2 C422\n", Y4mError::kUnsupportedColorSpace},
      {"YUV4MPEG2 W2 H2 C444\n", Y4mError::kUnsupportedColorSpace},
      {"YUV4MPEG2 W2 H2 Cmono\n", Y4mError::kUnsupportedColorSpace},
      {"YUV4MPEG2 W2 H2 C420p10\n", Y4mError::kUnsupportedColorSpace},
      {"YUV4MPEG2 W2 H2 C\n", Y4mError::kUnsupportedColorSpace},
  };
  for (const Case& c : cases) {
    // From a Buffer, so that the empty case passes a null pointer.
    const Buffer bytes(as_bytes(c.text));
    auto parser = Y4mParser::open(bytes);
    ASSERT_FALSE(parser) << c.text;
    EXPECT_EQ(parser.error(), c.error) << c.text << ": " << to_string(parser.error());
    EXPECT_FALSE(to_string(parser.error()).empty());
  }
}

TEST(Y4m, ParserWalksFramesWithTimestamps) {
  const std::size_t size = VideoFrame::byte_size(3, 3);
  EXPECT_EQ(size, 9u + 2 * 4);
  Buffer file = file_of("YUV4MPEG2 W3 H3 F30000:1001\n", 1, size);
  // FRAME lines may carry parameters of their own.
  file.append(as_bytes("FRAME Ip XYZ=1\n"));
  file.append(Buffer(size));
  auto parser = Y4mParser::open(file);
  ASSERT_TRUE(parser);
  std::vector<std::int64_t> timestamps;
  while (true) {
    auto frame = parser->next_frame();
    ASSERT_TRUE(frame);
    if (!*frame) break;
    EXPECT_EQ((*frame)->data.size(), size);
    EXPECT_EQ((*frame)->index, timestamps.size());
    timestamps.push_back((*frame)->timestamp_us);
  }
  EXPECT_EQ(timestamps, (std::vector<std::int64_t>{0, 33367}));
  EXPECT_EQ(y4m_timestamp_us(parser->header(), 30000), 1'001'000'000);
}

TEST(Y4m, RejectsMalformedFrames) {
  const std::string header = "YUV4MPEG2 W2 H2\n";
  const std::size_t size = VideoFrame::byte_size(2, 2);
  struct Case {
    std::string frames;
    Y4mError error;
  };
  const std::vector<Case> cases = {
      {"FRAM", Y4mError::kTruncated},
      {"FRAME", Y4mError::kTruncated},
      {"FRAME Ip", Y4mError::kTruncated},
      {"FRAMX\n" + std::string(size, 'a'), Y4mError::kBadFrameMarker},
      {"FRAMES\n" + std::string(size, 'a'), Y4mError::kBadFrameMarker},
      {"frame\n" + std::string(size, 'a'), Y4mError::kBadFrameMarker},
      {"FRAME " + std::string(2000, 'x') + "\n", Y4mError::kLineTooLong},
      {"FRAME\n" + std::string(size - 1, 'a'), Y4mError::kTruncated},
      // One byte too many: the next "frame" does not start with FRAME.
      {"FRAME\n" + std::string(size + 1, 'a'), Y4mError::kBadFrameMarker},
  };
  for (const Case& c : cases) {
    const std::string text = header + c.frames;
    auto parser = Y4mParser::open(as_bytes(text));
    ASSERT_TRUE(parser);
    auto frame = parser->next_frame();
    if (frame && *frame) frame = parser->next_frame();  // the one-too-many case
    ASSERT_FALSE(frame) << c.frames.substr(0, 20);
    EXPECT_EQ(frame.error(), c.error) << c.frames.substr(0, 20);
    // After an error, nothing more.
    auto after = parser->next_frame();
    ASSERT_TRUE(after);
    EXPECT_FALSE(*after);
  }
}

TEST(Y4m, WriterAndReaderRoundTripOddSizes) {
  TempDir dir("y4m");
  const std::string path = dir.file("odd.y4m");
  std::vector<VideoFrame> frames;
  for (int i = 0; i < 3; ++i) frames.push_back(pattern_frame(33, 17, i));
  {
    auto writer = Y4mFileWriter::create(path, 33, 17, 30, 1);
    ASSERT_TRUE(writer);
    for (const auto& frame : frames) ASSERT_TRUE(writer->write_frame(frame));
    EXPECT_EQ(writer->frame_count(), 3u);
    ASSERT_TRUE(writer->close());
    EXPECT_EQ(writer->close().error(), Y4mError::kClosed);
    EXPECT_EQ(writer->write_frame(frames[0]).error(), Y4mError::kClosed);
  }
  const Buffer bytes = read_file(path);
  const std::string header = "YUV4MPEG2 W33 H17 F30:1 Ip A1:1 C420jpeg\n";
  EXPECT_EQ(as_string(bytes).substr(0, header.size()), header);
  EXPECT_EQ(bytes.size(), header.size() + 3 * (6 + VideoFrame::byte_size(33, 17)));

  auto reader = Y4mFileReader::open(path);
  ASSERT_TRUE(reader) << to_string(reader.error());
  EXPECT_EQ(reader->header().width, 33);
  EXPECT_EQ(reader->header().height, 17);
  EXPECT_EQ(reader->header().color_space, "420jpeg");
  for (int i = 0; i < 3; ++i) {
    auto frame = reader->next_frame();
    ASSERT_TRUE(frame);
    ASSERT_TRUE(*frame);
    EXPECT_EQ((*frame)->width(), 33);
    EXPECT_EQ((*frame)->timestamp_us, y4m_timestamp_us(reader->header(), i));
    EXPECT_TRUE(equal_bytes((*frame)->bytes(), frames[i].bytes())) << i;
  }
  auto end = reader->next_frame();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);

  // The same bytes through the memory parser.
  auto parser = Y4mParser::open(bytes);
  ASSERT_TRUE(parser);
  EXPECT_EQ(parser->header(), reader->header());
}

TEST(Y4m, ReaderLoopsAndRewinds) {
  TempDir dir("y4m");
  const std::string path = dir.file("loop.y4m");
  {
    auto writer = Y4mFileWriter::create(path, 4, 2, 10, 1);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write_frame(pattern_frame(4, 2, 1)));
    ASSERT_TRUE(writer->write_frame(pattern_frame(4, 2, 2)));
  }
  auto reader = Y4mFileReader::open(path);
  ASSERT_TRUE(reader);
  reader->set_loop(true);
  for (int i = 0; i < 5; ++i) {
    auto frame = reader->next_frame();
    ASSERT_TRUE(frame);
    ASSERT_TRUE(*frame);
    EXPECT_EQ((*frame)->timestamp_us, i * 100'000);  // counting on across the loop
    EXPECT_TRUE(equal_bytes((*frame)->bytes(), pattern_frame(4, 2, 1 + i % 2).bytes())) << i;
  }
  ASSERT_TRUE(reader->rewind());
  reader->set_loop(false);
  for (int i = 0; i < 2; ++i) {
    auto frame = reader->next_frame();
    ASSERT_TRUE(frame && *frame);
    EXPECT_EQ((*frame)->timestamp_us, i * 100'000);
  }
  auto end = reader->next_frame();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(Y4m, LoopingAFileWithoutFramesEnds) {
  TempDir dir("y4m");
  const std::string path = dir.file("empty.y4m");
  { ASSERT_TRUE(Y4mFileWriter::create(path, 4, 2, 10, 1)); }
  auto reader = Y4mFileReader::open(path);
  ASSERT_TRUE(reader);
  reader->set_loop(true);
  auto frame = reader->next_frame();
  ASSERT_TRUE(frame);
  EXPECT_FALSE(*frame);
}

TEST(Y4m, FileReaderErrors) {
  TempDir dir("y4m");
  EXPECT_EQ(Y4mFileReader::open(dir.file("missing.y4m")).error(), Y4mError::kIo);

  const std::string bad = dir.file("bad.y4m");
  write_file(bad, as_bytes("YUV4MPEG2 W2 H2 C444\n"));
  EXPECT_EQ(Y4mFileReader::open(bad).error(), Y4mError::kUnsupportedColorSpace);
  write_file(bad, as_bytes("YUV4MPEG2 W2 H2"));
  EXPECT_EQ(Y4mFileReader::open(bad).error(), Y4mError::kTruncated);
  write_file(bad, BytesView());
  EXPECT_EQ(Y4mFileReader::open(bad).error(), Y4mError::kTruncated);

  // The largest picture the header allows, in a file far too short for it: refused before a
  // 400 MB frame is allocated.
  const std::string huge = dir.file("huge.y4m");
  write_file(huge, as_bytes("YUV4MPEG2 W16384 H16384\nFRAME\nabc"));
  auto reader = Y4mFileReader::open(huge);
  ASSERT_TRUE(reader);
  auto frame = reader->next_frame();
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error(), Y4mError::kTruncated);
  auto after = reader->next_frame();
  ASSERT_TRUE(after);
  EXPECT_FALSE(*after);

  const std::string marker = dir.file("marker.y4m");
  write_file(marker, file_of("YUV4MPEG2 W2 H2\n", 1, 6));
  Buffer broken = read_file(marker);
  broken.append(as_bytes("FRAMX\n"));
  write_file(marker, broken);
  auto second = Y4mFileReader::open(marker);
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->next_frame());
  auto bad_frame = second->next_frame();
  ASSERT_FALSE(bad_frame);
  EXPECT_EQ(bad_frame.error(), Y4mError::kBadFrameMarker);
}

TEST(Y4m, WriterRefusesBadArguments) {
  TempDir dir("y4m");
  EXPECT_EQ(Y4mFileWriter::create(dir.file("a.y4m"), 0, 2, 30, 1).error(),
            Y4mError::kBadDimensions);
  EXPECT_EQ(Y4mFileWriter::create(dir.file("a.y4m"), 2, kMaxVideoDimension + 1, 30, 1).error(),
            Y4mError::kBadDimensions);
  EXPECT_EQ(Y4mFileWriter::create(dir.file("a.y4m"), 2, 2, 0, 1).error(), Y4mError::kBadFrameRate);
  EXPECT_EQ(Y4mFileWriter::create(dir.file("a.y4m"), 2, 2, 30, 0).error(), Y4mError::kBadFrameRate);
  EXPECT_EQ(Y4mFileWriter::create(dir.file("no/such/dir.y4m"), 2, 2, 30, 1).error(), Y4mError::kIo);
  auto writer = Y4mFileWriter::create(dir.file("b.y4m"), 4, 4, 30, 1);
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->write_frame(pattern_frame(4, 2, 0)).error(), Y4mError::kSizeMismatch);
  EXPECT_EQ(writer->write_frame(VideoFrame()).error(), Y4mError::kSizeMismatch);
}

bool have_ffmpeg() {
  return std::system("command -v ffmpeg >/dev/null 2>&1") == 0;
}

// A file ffmpeg writes reads here, frame for frame as ffmpeg decodes it.
TEST(Y4m, ReadsWhatFfmpegWrites) {
  if (!have_ffmpeg()) GTEST_SKIP() << "no ffmpeg";
  TempDir dir("y4m");
  const std::string y4m = dir.file("x.y4m");
  const std::string raw = dir.file("x.yuv");
  const std::string make =
      "ffmpeg -v error -y -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 3 -pix_fmt yuv420p " +
      y4m + " && ffmpeg -v error -y -i " + y4m + " -f rawvideo -pix_fmt yuv420p " + raw;
  ASSERT_EQ(std::system(make.c_str()), 0);
  const Buffer pixels = read_file(raw);
  const std::size_t size = VideoFrame::byte_size(64, 48);
  ASSERT_EQ(pixels.size(), 3 * size);
  auto reader = Y4mFileReader::open(y4m);
  ASSERT_TRUE(reader) << to_string(reader.error());
  EXPECT_EQ(reader->header().fps_numerator, 10u);
  EXPECT_EQ(reader->header().fps_denominator, 1u);
  for (int i = 0; i < 3; ++i) {
    auto frame = reader->next_frame();
    ASSERT_TRUE(frame) << to_string(frame.error());
    ASSERT_TRUE(*frame);
    EXPECT_EQ((*frame)->timestamp_us, i * 100'000);
    EXPECT_TRUE(equal_bytes((*frame)->bytes(), BytesView(pixels).subspan(i * size, size)));
  }
  auto end = reader->next_frame();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

// ffmpeg reads a file our writer wrote to the same pixels.
TEST(Y4m, FfmpegReadsWhatWeWrite) {
  if (!have_ffmpeg()) GTEST_SKIP() << "no ffmpeg";
  TempDir dir("y4m");
  const std::string y4m = dir.file("ours.y4m");
  const std::string raw = dir.file("ours.yuv");
  Buffer expected;
  {
    auto writer = Y4mFileWriter::create(y4m, 35, 21, 25, 1);
    ASSERT_TRUE(writer);
    for (int i = 0; i < 2; ++i) {
      const VideoFrame frame = pattern_frame(35, 21, i);
      ASSERT_TRUE(writer->write_frame(frame));
      expected.append(frame.bytes());
    }
  }
  const std::string convert =
      "ffmpeg -v error -y -i " + y4m + " -f rawvideo -pix_fmt yuv420p " + raw;
  ASSERT_EQ(std::system(convert.c_str()), 0);
  EXPECT_TRUE(read_file(raw) == expected);
}

}  // namespace
}  // namespace rtcpp::media
