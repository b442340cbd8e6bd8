#include "media/wav.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cmath>
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

using namespace std::string_view_literals;

// Little-endian building blocks for hand-made files.
void le16(Buffer& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void le32(Buffer& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void chunk(Buffer& out, std::string_view id, BytesView body, bool pad = true) {
  out.append(as_bytes(id));
  le32(out, static_cast<std::uint32_t>(body.size()));
  out.append(body);
  if (pad && body.size() % 2 == 1) out.push_back(0);
}
Buffer fmt_body(std::uint16_t tag, std::uint16_t channels, std::uint32_t rate, std::uint16_t bits) {
  Buffer body;
  le16(body, tag);
  le16(body, channels);
  le32(body, rate);
  le32(body, rate * channels * bits / 8);
  le16(body, static_cast<std::uint16_t>(channels * bits / 8));
  le16(body, bits);
  return body;
}
Buffer extensible_body(std::uint16_t channels, std::uint32_t rate, std::uint16_t bits,
                       std::uint16_t subformat) {
  Buffer body = fmt_body(0xFFFE, channels, rate, bits);
  le16(body, 22);
  le16(body, bits);
  le32(body, 0);
  le32(body, subformat);
  for (const std::uint8_t b :
       {0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71})
    body.push_back(b);
  return body;
}
Buffer riff(BytesView chunks) {
  Buffer out(as_bytes("RIFF"));
  le32(out, static_cast<std::uint32_t>(4 + chunks.size()));
  out.append(as_bytes("WAVE"));
  out.append(chunks);
  return out;
}
Buffer samples_le16(const std::vector<std::int16_t>& samples) {
  Buffer out;
  for (const std::int16_t s : samples) le16(out, static_cast<std::uint16_t>(s));
  return out;
}

TEST(Wav, WritesTheCanonicalHeader) {
  Buffer out;
  write_wav_header(8000, 1, 4, out);
  EXPECT_EQ(to_hex(out),
            "52494646"
            "28000000"
            "57415645"
            "666d7420"
            "10000000"
            "0100"
            "0100"
            "401f0000"
            "803e0000"
            "0200"
            "1000"
            "64617461"
            "04000000");
}

TEST(Wav, SkipsUnknownChunksWithTheirPadding) {
  Buffer chunks;
  chunk(chunks, "LIST", as_bytes("INFOodd"sv));  // 7 bytes and a pad byte
  chunk(chunks, "fmt ", fmt_body(1, 2, 16000, 16));
  chunk(chunks, "fact", as_bytes("\x04\0\0\0"sv));
  chunk(chunks, "data", samples_le16({1, -1, 2, -2, 3, -3}));
  chunk(chunks, "LIST", as_bytes("trailing"));
  const Buffer file = riff(chunks);
  auto parser = WavParser::open(file);
  ASSERT_TRUE(parser) << to_string(parser.error());
  EXPECT_EQ(parser->format().sample_rate, 16000);
  EXPECT_EQ(parser->format().channels, 2);
  EXPECT_EQ(parser->total_samples_per_channel(), 3u);
  const AudioFrame first = parser->read(2);
  EXPECT_EQ(first.samples, (std::vector<std::int16_t>{1, -1, 2, -2}));
  EXPECT_EQ(first.timestamp_us, 0);
  const AudioFrame second = parser->read(2);
  EXPECT_EQ(second.samples, (std::vector<std::int16_t>{3, -3}));
  EXPECT_EQ(second.timestamp_us, 125);  // 2 samples at 16 kHz
  EXPECT_TRUE(parser->read(2).samples.empty());
  parser->rewind();
  EXPECT_EQ(parser->read(1).samples, (std::vector<std::int16_t>{1, -1}));
}

TEST(Wav, DataSizesMeaningToTheEnd) {
  const Buffer samples = samples_le16({10, 20, 30, 40});
  for (const std::uint32_t size : {0u, 0xFFFFFFFFu, 1000u}) {
    Buffer chunks;
    chunk(chunks, "fmt ", fmt_body(1, 1, 8000, 16));
    chunks.append(as_bytes("data"));
    le32(chunks, size);
    chunks.append(samples);
    chunks.push_back(0x55);            // half a sample: dropped
    const Buffer file = riff(chunks);  // the parser views it
    auto parser = WavParser::open(file);
    ASSERT_TRUE(parser) << size;
    EXPECT_EQ(parser->read(100).samples, (std::vector<std::int16_t>{10, 20, 30, 40})) << size;
  }
}

TEST(Wav, ReadsExtensiblePcm) {
  Buffer chunks;
  chunk(chunks, "fmt ", extensible_body(3, 48000, 16, 1));
  chunk(chunks, "data", samples_le16({1, 2, 3, 4, 5, 6}));
  const Buffer file = riff(chunks);  // the parser views it
  auto parser = WavParser::open(file);
  ASSERT_TRUE(parser) << to_string(parser.error());
  EXPECT_TRUE(parser->format().extensible);
  EXPECT_EQ(parser->format().channels, 3);
  const AudioFrame frame = parser->read(10);
  EXPECT_EQ(frame.channels, 3);
  EXPECT_EQ(frame.samples_per_channel(), 2u);
}

TEST(Wav, ConvertsOtherSampleFormatsTo16Bits) {
  {
    Buffer chunks;
    chunk(chunks, "fmt ", fmt_body(1, 1, 8000, 8));
    chunk(chunks, "data", Buffer{0x00, 0x80, 0xFF});  // odd: padded
    const Buffer file = riff(chunks);                 // the parser views it
    auto parser = WavParser::open(file);
    ASSERT_TRUE(parser);
    EXPECT_EQ(parser->read(10).samples, (std::vector<std::int16_t>{-32768, 0, 32512}));
  }
  {
    Buffer chunks;
    chunk(chunks, "fmt ", fmt_body(1, 1, 8000, 24));
    chunk(chunks, "data", Buffer{0x00, 0x00, 0x80, 0xFF, 0xFF, 0x7F, 0xFF, 0x34, 0x12});
    const Buffer file = riff(chunks);  // the parser views it
    auto parser = WavParser::open(file);
    ASSERT_TRUE(parser);
    EXPECT_EQ(parser->read(10).samples, (std::vector<std::int16_t>{-32768, 32767, 0x1234}));
  }
  {
    Buffer chunks;
    chunk(chunks, "fmt ", extensible_body(1, 8000, 32, 1));
    chunk(chunks, "data", Buffer{0x00, 0x00, 0x00, 0x80, 0xFF, 0xFF, 0x34, 0x12});
    const Buffer file = riff(chunks);  // the parser views it
    auto parser = WavParser::open(file);
    ASSERT_TRUE(parser);
    EXPECT_EQ(parser->read(10).samples, (std::vector<std::int16_t>{-32768, 0x1234}));
  }
  {
    Buffer data;
    for (const float f : {0.0F, 0.5F, -1.0F, 1.0F, 2.0F, -3.0F, std::nanf("")})
      le32(data, std::bit_cast<std::uint32_t>(f));
    Buffer chunks;
    chunk(chunks, "fmt ", fmt_body(3, 1, 8000, 32));
    chunk(chunks, "data", data);
    const Buffer file = riff(chunks);  // the parser views it
    auto parser = WavParser::open(file);
    ASSERT_TRUE(parser);
    EXPECT_EQ(parser->format().sample_format, WavSampleFormat::kFloat);
    EXPECT_EQ(parser->read(10).samples,
              (std::vector<std::int16_t>{0, 16384, -32768, 32767, 32767, -32768, 0}));
  }
  {
    Buffer data;
    for (const double d : {-0.25, 0.25}) {
      const auto bits = std::bit_cast<std::uint64_t>(d);
      le32(data, static_cast<std::uint32_t>(bits));
      le32(data, static_cast<std::uint32_t>(bits >> 32));
    }
    Buffer chunks;
    chunk(chunks, "fmt ", extensible_body(1, 8000, 64, 3));
    chunk(chunks, "data", data);
    const Buffer file = riff(chunks);  // the parser views it
    auto parser = WavParser::open(file);
    ASSERT_TRUE(parser);
    EXPECT_EQ(parser->read(10).samples, (std::vector<std::int16_t>{-8192, 8192}));
  }
}

TEST(Wav, RejectsMalformedFiles) {
  const Buffer good_fmt = fmt_body(1, 1, 8000, 16);
  const Buffer data = samples_le16({1, 2});
  auto file = [&](std::initializer_list<std::pair<std::string_view, Buffer>> chunks) {
    Buffer body;
    for (const auto& [id, bytes] : chunks) chunk(body, id, bytes);
    return riff(body);
  };
  auto bad_fmt = [](std::size_t offset, std::uint16_t value) {
    Buffer body = fmt_body(1, 1, 8000, 16);
    body[offset] = static_cast<std::uint8_t>(value);
    body[offset + 1] = static_cast<std::uint8_t>(value >> 8);
    return body;
  };
  Buffer bad_rate = fmt_body(1, 1, 8000, 16);
  bad_rate[4] = 0;
  bad_rate[5] = 0;
  Buffer huge_rate = fmt_body(1, 1, 384001, 16);
  Buffer wrong_guid = extensible_body(1, 8000, 16, 1);
  wrong_guid[30] ^= 0xFF;
  Buffer short_extension = extensible_body(1, 8000, 16, 1);
  short_extension.resize(30);
  Buffer lying_chunk = riff(Buffer{});
  lying_chunk.append(as_bytes("LIST"));
  le32(lying_chunk, 0x7FFFFFF0);
  lying_chunk.append(Buffer(16));
  Buffer lying_fmt = riff(Buffer{});
  lying_fmt.append(as_bytes("fmt "));
  le32(lying_fmt, 0xFFFFFFF0);
  lying_fmt.append(good_fmt);

  struct Case {
    const char* name;
    Buffer bytes;
    WavError error;
  };
  const std::vector<Case> cases = {
      {"empty", Buffer{}, WavError::kTruncated},
      {"cut RIFF", Buffer(as_bytes("RIF"sv)), WavError::kTruncated},
      {"cut WAVE", Buffer(as_bytes("RIFF\x10\0\0\0WA"sv)), WavError::kTruncated},
      {"RIFX", Buffer(as_bytes("RIFX\x10\0\0\0WAVE"sv)), WavError::kBadSignature},
      {"AVI", Buffer(as_bytes("RIFF\x10\0\0\0AVI "sv)), WavError::kBadSignature},
      {"no chunks", riff(Buffer{}), WavError::kNoFormat},
      {"data first", file({{"data", data}, {"fmt ", good_fmt}}), WavError::kNoFormat},
      {"no data", file({{"fmt ", good_fmt}, {"LIST", data}}), WavError::kNoData},
      {"short fmt", file({{"fmt ", Buffer(BytesView(good_fmt).first(14))}, {"data", data}}),
       WavError::kBadFormat},
      {"ADPCM", file({{"fmt ", bad_fmt(0, 2)}, {"data", data}}), WavError::kUnsupportedFormat},
      {"A-law", file({{"fmt ", bad_fmt(0, 6)}, {"data", data}}), WavError::kUnsupportedFormat},
      {"12 bits", file({{"fmt ", bad_fmt(14, 12)}, {"data", data}}), WavError::kUnsupportedFormat},
      {"float 16", file({{"fmt ", fmt_body(3, 1, 8000, 16)}, {"data", data}}),
       WavError::kUnsupportedFormat},
      {"other GUID", file({{"fmt ", wrong_guid}, {"data", data}}), WavError::kUnsupportedFormat},
      {"short extension", file({{"fmt ", short_extension}, {"data", data}}), WavError::kBadFormat},
      {"0 channels", file({{"fmt ", bad_fmt(2, 0)}, {"data", data}}), WavError::kBadChannels},
      {"9 channels", file({{"fmt ", fmt_body(1, 9, 8000, 16)}, {"data", data}}),
       WavError::kBadChannels},
      {"0 Hz", file({{"fmt ", bad_rate}, {"data", data}}), WavError::kBadSampleRate},
      {"384001 Hz", file({{"fmt ", huge_rate}, {"data", data}}), WavError::kBadSampleRate},
      {"block align", file({{"fmt ", bad_fmt(12, 4)}, {"data", data}}), WavError::kBadFormat},
      {"huge fmt", file({{"fmt ", Buffer(2000)}, {"data", data}}), WavError::kBadFormat},
      {"chunk past the end", lying_chunk, WavError::kTruncated},
      {"fmt past the end", lying_fmt, WavError::kTruncated},
  };
  TempDir dir("wav");
  const std::string path = dir.file("bad.wav");
  for (const Case& c : cases) {
    auto parser = WavParser::open(c.bytes);
    ASSERT_FALSE(parser) << c.name;
    EXPECT_EQ(parser.error(), c.error) << c.name << ": " << to_string(parser.error());
    // The file reader walks the same way.
    write_file(path, c.bytes);
    auto reader = WavFileReader::open(path);
    ASSERT_FALSE(reader) << c.name;
    EXPECT_EQ(reader.error(), c.error) << c.name;
  }
  EXPECT_EQ(WavFileReader::open(dir.file("missing.wav")).error(), WavError::kIo);
}

TEST(Wav, WriterAndReaderRoundTrip) {
  TempDir dir("wav");
  const std::string path = dir.file("round.wav");
  AudioFrame frame;
  frame.sample_rate = 16000;
  frame.channels = 2;
  for (int i = 0; i < 320; ++i) frame.samples.push_back(static_cast<std::int16_t>(i * 97 - 16000));
  {
    auto writer = WavFileWriter::create(path, 16000, 2);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write(frame));
    ASSERT_TRUE(writer->write(frame));
    EXPECT_EQ(writer->samples_per_channel(), 320u);
    AudioFrame other = frame;
    other.channels = 1;
    EXPECT_EQ(writer->write(other).error(), WavError::kFormatMismatch);
    other = frame;
    other.sample_rate = 48000;
    EXPECT_EQ(writer->write(other).error(), WavError::kFormatMismatch);
    other = frame;
    other.samples.pop_back();  // not whole sample frames
    EXPECT_EQ(writer->write(other).error(), WavError::kFormatMismatch);
    ASSERT_TRUE(writer->close());
    EXPECT_EQ(writer->close().error(), WavError::kClosed);
    EXPECT_EQ(writer->write(frame).error(), WavError::kClosed);
  }
  const Buffer bytes = read_file(path);
  ASSERT_EQ(bytes.size(), kWavHeaderSize + 4 * 320);
  Buffer header;
  write_wav_header(16000, 2, 4 * 320, header);
  EXPECT_TRUE(equal_bytes(BytesView(bytes).first(kWavHeaderSize), header));

  auto reader = WavFileReader::open(path);
  ASSERT_TRUE(reader) << to_string(reader.error());
  EXPECT_EQ(reader->format().sample_rate, 16000);
  EXPECT_EQ(reader->format().channels, 2);
  EXPECT_EQ(reader->format().bits_per_sample, 16);
  EXPECT_EQ(reader->total_samples_per_channel(), 320u);
  std::vector<std::int16_t> all;
  std::int64_t expected_timestamp = 0;
  while (true) {
    auto piece = reader->read(100);
    ASSERT_TRUE(piece);
    if (piece->samples.empty()) break;
    EXPECT_EQ(piece->timestamp_us, expected_timestamp);
    expected_timestamp += piece->duration_us();
    all.insert(all.end(), piece->samples.begin(), piece->samples.end());
  }
  std::vector<std::int16_t> twice = frame.samples;
  twice.insert(twice.end(), frame.samples.begin(), frame.samples.end());
  EXPECT_EQ(all, twice);
  ASSERT_TRUE(reader->rewind());
  auto again = reader->read(1);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->timestamp_us, 0);
  EXPECT_EQ(again->samples, (std::vector<std::int16_t>{frame.samples[0], frame.samples[1]}));
}

TEST(Wav, DestructorPatchesSizesAndAnUnclosedFileStillReads) {
  TempDir dir("wav");
  const std::string path = dir.file("scoped.wav");
  AudioFrame frame;
  frame.sample_rate = 8000;
  frame.samples = {5, 6, 7};
  {
    auto writer = WavFileWriter::create(path, 8000, 1);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write(frame));
  }
  const Buffer bytes = read_file(path);
  ASSERT_EQ(bytes.size(), kWavHeaderSize + 6);
  EXPECT_EQ(bytes[4], 36 + 6);
  EXPECT_EQ(bytes[40], 6);
  // As a writer that crashed would leave it: the sizes still zero.
  Buffer unpatched = bytes;
  unpatched[4] = 36;
  unpatched[40] = 0;
  auto parser = WavParser::open(unpatched);
  ASSERT_TRUE(parser);
  EXPECT_EQ(parser->read(10).samples, frame.samples);
}

TEST(Wav, WriterRefusesBadArguments) {
  TempDir dir("wav");
  EXPECT_EQ(WavFileWriter::create(dir.file("a.wav"), 0, 1).error(), WavError::kBadSampleRate);
  EXPECT_EQ(WavFileWriter::create(dir.file("a.wav"), kMaxAudioSampleRate + 1, 1).error(),
            WavError::kBadSampleRate);
  EXPECT_EQ(WavFileWriter::create(dir.file("a.wav"), 8000, 0).error(), WavError::kBadChannels);
  EXPECT_EQ(WavFileWriter::create(dir.file("a.wav"), 8000, kMaxAudioChannels + 1).error(),
            WavError::kBadChannels);
  EXPECT_EQ(WavFileWriter::create(dir.file("no/such/dir.wav"), 8000, 1).error(), WavError::kIo);
}

bool have_ffmpeg() {
  return std::system("command -v ffmpeg >/dev/null 2>&1") == 0;
}

std::vector<std::int16_t> read_all(WavFileReader& reader) {
  std::vector<std::int16_t> out;
  while (true) {
    auto piece = reader.read(1000);
    EXPECT_TRUE(piece);
    if (!piece || piece->samples.empty()) break;
    out.insert(out.end(), piece->samples.begin(), piece->samples.end());
  }
  return out;
}

// ffmpeg's files in every sample format read here to the samples ffmpeg gives as s16. ffmpeg
// adds a LIST chunk, and writes WAVE_FORMAT_EXTENSIBLE for more than two channels.
TEST(Wav, ReadsWhatFfmpegWrites) {
  if (!have_ffmpeg()) GTEST_SKIP() << "no ffmpeg";
  TempDir dir("wav");
  const std::string raw = dir.file("x.raw");
  for (const std::string channels : {"2", "3"}) {
    const std::string source = dir.file("source.wav");
    const std::string make = "ffmpeg -v error -y -f lavfi -i sine=frequency=440 -t 0.2 -ac " +
                             channels + " " + source + " && ffmpeg -v error -y -i " + source +
                             " -f s16le " + raw;
    ASSERT_EQ(std::system(make.c_str()), 0);
    const Buffer pcm = read_file(raw);
    std::vector<std::int16_t> expected(pcm.size() / 2);
    for (std::size_t i = 0; i < expected.size(); ++i)
      expected[i] = static_cast<std::int16_t>(pcm[2 * i] | (pcm[2 * i + 1] << 8));
    ASSERT_EQ(expected.size(), 8820u * std::stoul(channels));

    struct Variant {
      const char* codec;
      int tolerance;  // in 16-bit steps
    };
    for (const Variant v :
         {Variant{"pcm_s16le", 0}, Variant{"pcm_u8", 256}, Variant{"pcm_s24le", 0},
          Variant{"pcm_s32le", 0}, Variant{"pcm_f32le", 1}, Variant{"pcm_f64le", 1}}) {
      const std::string wav = dir.file("x.wav");
      const std::string convert =
          "ffmpeg -v error -y -i " + source + " -c:a " + v.codec + " " + wav;
      ASSERT_EQ(std::system(convert.c_str()), 0) << v.codec;
      auto reader = WavFileReader::open(wav);
      ASSERT_TRUE(reader) << v.codec << ": " << to_string(reader.error());
      EXPECT_EQ(reader->format().sample_rate, 44100) << v.codec;
      EXPECT_EQ(reader->format().channels, std::stoi(channels)) << v.codec;
      const std::vector<std::int16_t> samples = read_all(*reader);
      ASSERT_EQ(samples.size(), expected.size()) << v.codec;
      int worst = 0;
      for (std::size_t i = 0; i < samples.size(); ++i)
        worst = std::max(worst, std::abs(samples[i] - expected[i]));
      EXPECT_LE(worst, v.tolerance) << v.codec << " with " << channels << " channels";
    }
  }
}

// ffmpeg reads a file our writer wrote to the same samples.
TEST(Wav, FfmpegReadsWhatWeWrite) {
  if (!have_ffmpeg()) GTEST_SKIP() << "no ffmpeg";
  TempDir dir("wav");
  const std::string wav = dir.file("ours.wav");
  const std::string raw = dir.file("ours.raw");
  AudioFrame frame;
  frame.sample_rate = 48000;
  frame.channels = 2;
  for (int i = 0; i < 960; ++i)
    frame.samples.push_back(static_cast<std::int16_t>(std::lround(8000 * std::sin(i * 0.05))));
  {
    auto writer = WavFileWriter::create(wav, 48000, 2);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write(frame));
  }
  const std::string convert = "ffmpeg -v error -y -i " + wav + " -f s16le " + raw;
  ASSERT_EQ(std::system(convert.c_str()), 0);
  EXPECT_TRUE(read_file(raw) == samples_le16(frame.samples));
}

}  // namespace
}  // namespace rtcpp::media
