// YUV4MPEG2 (Y4M), the raw video file format of mjpegtools that ffmpeg, x264 and libvpx's
// tools read and write: a one-line text header, then each frame as a "FRAME" line followed
// by the picture's planes.
//
// Header: "YUV4MPEG2" then tags, each a space and a letter with its value, ending in '\n':
//   W<width> H<height>  picture size (required)
//   F<num>:<den>        frame rate (ffmpeg assumes 25:1 when absent, and so do we)
//   I<p|t|b|m|?>        interlacing;  A<num>:<den> pixel aspect ratio (0:0 unknown)
//   C<space>            colour space and chroma siting (420jpeg when absent)
//   X<anything>         application data (ffmpeg writes XYSCSS=...)
// Unknown tags are ignored. Frame: "FRAME", optional tags of its own (ignored), '\n', then
// Y, U and V planes tightly packed: exactly VideoFrame::byte_size(width, height) bytes.
//
// Only 8-bit 4:2:0 is read (C420jpeg, C420paldv, C420mpeg2, C420: they differ only in
// where chroma samples sit, which I420 does not record). The byte codec is sans-IO;
// Y4mParser reads a file in memory, Y4mFileReader and Y4mFileWriter put it on files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/bytes.hpp"
#include "media/video_frame.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::media {

// The longest header or FRAME line accepted, '\n' included.
inline constexpr std::size_t kMaxY4mLineSize = 1024;

enum class Y4mError : std::uint8_t {
  kTruncated,              // the input ends inside a header line, a FRAME line or a frame
  kBadSignature,           // not "YUV4MPEG2 " at the start
  kLineTooLong,            // a header or FRAME line longer than kMaxY4mLineSize
  kBadTag,                 // a W, H, F, A or I tag whose value does not parse; no W or H
  kBadDimensions,          // a width or height outside 1..kMaxVideoDimension
  kBadFrameRate,           // a frame rate with a zero term
  kUnsupportedColorSpace,  // a colour space other than 8-bit 4:2:0
  kBadFrameMarker,         // something other than a FRAME line where a frame should start
  kSizeMismatch,           // a frame of another size given to the writer
  kIo,                     // the file could not be opened, read or written
  kClosed,                 // the writer was closed (or never opened)
};
std::string_view to_string(Y4mError error) noexcept;

struct Y4mHeader {
  int width = 0;
  int height = 0;
  std::uint32_t fps_numerator = 25;
  std::uint32_t fps_denominator = 1;
  char interlacing = '?';
  std::uint32_t aspect_numerator = 0;  // 0:0 when unknown
  std::uint32_t aspect_denominator = 0;
  // The C tag's value ("420jpeg"), empty when the header has none.
  std::string color_space;
  friend bool operator==(const Y4mHeader&, const Y4mHeader&) = default;
};

// Parses a header line, '\n' included; the bytes it took in `consumed`. Bytes after the
// line are not looked at.
Expected<Y4mHeader, Y4mError> parse_y4m_header(BytesView bytes, std::size_t& consumed);
// Parses a FRAME line, '\n' included; its length in `consumed`.
Expected<void, Y4mError> parse_y4m_frame_line(BytesView bytes, std::size_t& consumed);

// Appends a header line: W, H, F, I, A and C (420jpeg when color_space is empty).
void write_y4m_header(const Y4mHeader& header, Buffer& out);
// Appends "FRAME\n" and the picture.
void write_y4m_frame(BytesView picture, Buffer& out);

// The presentation time of frame `index` at the header's frame rate, in microseconds.
std::int64_t y4m_timestamp_us(const Y4mHeader& header, std::uint64_t index) noexcept;

struct Y4mFrame {
  std::uint64_t index = 0;
  std::int64_t timestamp_us = 0;
  BytesView data;  // byte_size(width, height) bytes: Y, U and V planes
};

// Reads a Y4M file held in memory, each frame a view into the input.
class Y4mParser {
 public:
  static Expected<Y4mParser, Y4mError> open(BytesView file);
  const Y4mHeader& header() const noexcept { return header_; }
  // The next frame; nothing at the end of the input; an error for a bad FRAME line or a
  // frame cut short (and after an error, nothing more).
  Expected<std::optional<Y4mFrame>, Y4mError> next_frame();

 private:
  Y4mParser(Y4mHeader header, BytesView rest) noexcept : header_(std::move(header)), rest_(rest) {}
  Y4mHeader header_;
  BytesView rest_;
  std::uint64_t index_ = 0;
};

// Reads a Y4M file frame by frame. Each frame's size is checked against what the file
// still holds before its picture is allocated.
class Y4mFileReader {
 public:
  static Expected<Y4mFileReader, Y4mError> open(const std::string& path);
  Y4mFileReader(Y4mFileReader&& other) noexcept;
  Y4mFileReader& operator=(Y4mFileReader&& other) noexcept;
  Y4mFileReader(const Y4mFileReader&) = delete;
  Y4mFileReader& operator=(const Y4mFileReader&) = delete;
  ~Y4mFileReader();

  const Y4mHeader& header() const noexcept { return header_; }
  // The next picture, timestamped from its index and the frame rate; nothing at the end of
  // the file, unless looping: then the first frame again, the index (and the timestamps)
  // counting on.
  Expected<std::optional<VideoFrame>, Y4mError> next_frame();
  void set_loop(bool loop) noexcept { loop_ = loop; }
  // Back to the first frame; the index starts again from 0.
  Expected<void, Y4mError> rewind();

 private:
  Y4mFileReader(std::FILE* file, Y4mHeader header, std::uint64_t data_start,
                std::uint64_t size) noexcept
      : file_(file),
        header_(std::move(header)),
        data_start_(data_start),
        size_(size),
        position_(data_start) {}
  Expected<std::optional<VideoFrame>, Y4mError> read_frame();
  std::FILE* file_ = nullptr;
  Y4mHeader header_;
  std::uint64_t data_start_ = 0;  // the offset of the first FRAME line
  std::uint64_t size_ = 0;        // of the file
  std::uint64_t position_ = 0;
  std::uint64_t index_ = 0;
  bool loop_ = false;
};

// Writes a Y4M file of one picture size: the header on create(), a frame on each
// write_frame(). The destructor closes too, ignoring errors.
class Y4mFileWriter {
 public:
  static Expected<Y4mFileWriter, Y4mError> create(const std::string& path, int width, int height,
                                                  std::uint32_t fps_numerator,
                                                  std::uint32_t fps_denominator);
  Y4mFileWriter(Y4mFileWriter&& other) noexcept;
  Y4mFileWriter& operator=(Y4mFileWriter&& other) noexcept;
  Y4mFileWriter(const Y4mFileWriter&) = delete;
  Y4mFileWriter& operator=(const Y4mFileWriter&) = delete;
  ~Y4mFileWriter();

  // kSizeMismatch for a frame of another size than the file's.
  Expected<void, Y4mError> write_frame(const VideoFrame& frame);
  std::uint64_t frame_count() const noexcept { return frame_count_; }
  Expected<void, Y4mError> close();

 private:
  Y4mFileWriter(std::FILE* file, int width, int height) noexcept
      : file_(file), width_(width), height_(height) {}
  std::FILE* file_ = nullptr;
  int width_ = 0;
  int height_ = 0;
  std::uint64_t frame_count_ = 0;
};

}  // namespace rtcpp::media
