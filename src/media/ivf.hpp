// IVF, the simple container libvpx and ffmpeg use for VP8, VP9 and AV1 streams: a 32-byte file
// header, then each frame behind a 12-byte header. All fields are little-endian.
//
// File header:  'DKIF' | version (16) = 0 | header size (16) = 32 | fourcc | width (16) |
//               height (16) | timebase denominator (32) | timebase numerator (32) |
//               frame count (32) | unused (32)
// Frame header: frame size (32) | timestamp (64), in timebase units
//
// The byte codec below is sans-IO; IvfFileWriter and IvfFileReader put it on a file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::media {

inline constexpr std::size_t kIvfFileHeaderSize = 32;
inline constexpr std::size_t kIvfFrameHeaderSize = 12;
// The largest frame the reader accepts; an encoded 4K key frame is a few MB.
inline constexpr std::size_t kMaxIvfFrameSize = 32u << 20;
// The largest header the reader skips over when its size field says more than 32 bytes.
inline constexpr std::size_t kMaxIvfHeaderSize = 1024;

enum class IvfCodec : std::uint8_t { kVp8, kVp9, kAv1 };
// The fourcc IVF writes for a codec ("VP80", "VP90", "AV01").
std::string_view fourcc(IvfCodec codec) noexcept;

enum class IvfError : std::uint8_t {
  kTruncated,      // the input ends inside a header or a frame
  kBadSignature,   // not 'DKIF'
  kBadHeaderSize,  // a header size below 32 or above kMaxIvfHeaderSize
  kUnknownCodec,   // a fourcc other than VP80, VP90 and AV01
  kFrameTooLarge,  // a frame size above kMaxIvfFrameSize
  kBadTimebase,    // a zero timebase numerator or denominator
  kIo,             // the file could not be opened, read or written
  kClosed,         // the writer was closed (or never opened)
};
std::string_view to_string(IvfError error) noexcept;

struct IvfFileHeader {
  IvfCodec codec = IvfCodec::kVp8;
  std::uint16_t width = 0;
  std::uint16_t height = 0;
  // Timestamps count units of numerator/denominator seconds: 1/90000 for RTP video clocks,
  // 1/30 for frame numbers at 30 fps.
  std::uint32_t timebase_numerator = 1;
  std::uint32_t timebase_denominator = 90000;
  std::uint32_t frame_count = 0;
  // The header's length on disk (the reader skips bytes past the 32 it knows).
  std::size_t header_size = kIvfFileHeaderSize;
  friend bool operator==(const IvfFileHeader&, const IvfFileHeader&) = default;
};

struct IvfFrameHeader {
  std::uint32_t frame_size = 0;
  std::uint64_t timestamp = 0;
};

// Appends a 32-byte file header (header_size is ignored: we write 32).
void write_ivf_file_header(const IvfFileHeader& header, Buffer& out);
// Appends a frame header and the frame. Frames above 4 GiB cannot be written (false).
bool write_ivf_frame(std::uint64_t timestamp, BytesView frame, Buffer& out);

Expected<IvfFileHeader, IvfError> parse_ivf_file_header(BytesView bytes) noexcept;
Expected<IvfFrameHeader, IvfError> parse_ivf_frame_header(BytesView bytes) noexcept;

struct IvfFrame {
  std::uint64_t timestamp = 0;
  BytesView data;
};

// Reads an IVF file held in memory: the header, then frames one by one, each a view into the
// input. The frame count in the header is not trusted (writers that stopped early leave it
// 0); the frames are what follows.
class IvfParser {
 public:
  static Expected<IvfParser, IvfError> open(BytesView file) noexcept;
  const IvfFileHeader& header() const noexcept { return header_; }
  // The next frame; nothing at the end of the input; an error for a frame that runs past it
  // (and after an error, nothing more).
  Expected<std::optional<IvfFrame>, IvfError> next_frame() noexcept;

 private:
  IvfParser(IvfFileHeader header, BytesView rest) noexcept : header_(header), rest_(rest) {}
  IvfFileHeader header_;
  BytesView rest_;
};

// Writes an IVF file: the header first, then each frame as it comes; close() writes the frame
// count into the header (the destructor closes too, ignoring errors).
class IvfFileWriter {
 public:
  static Expected<IvfFileWriter, IvfError> create(const std::string& path,
                                                  const IvfFileHeader& header);
  IvfFileWriter(IvfFileWriter&& other) noexcept;
  IvfFileWriter& operator=(IvfFileWriter&& other) noexcept;
  IvfFileWriter(const IvfFileWriter&) = delete;
  IvfFileWriter& operator=(const IvfFileWriter&) = delete;
  ~IvfFileWriter();

  Expected<void, IvfError> write_frame(std::uint64_t timestamp, BytesView frame);
  std::uint32_t frame_count() const noexcept { return header_.frame_count; }
  // Patches the frame count and closes the file.
  Expected<void, IvfError> close();

 private:
  IvfFileWriter(std::FILE* file, const IvfFileHeader& header) noexcept
      : file_(file), header_(header) {}
  std::FILE* file_ = nullptr;
  IvfFileHeader header_;
  Buffer scratch_;
};

// Reads an IVF file frame by frame without holding it whole; each frame's size is checked
// against kMaxIvfFrameSize and against what the file still holds before anything is
// allocated.
class IvfFileReader {
 public:
  static Expected<IvfFileReader, IvfError> open(const std::string& path);
  IvfFileReader(IvfFileReader&& other) noexcept;
  IvfFileReader& operator=(IvfFileReader&& other) noexcept;
  IvfFileReader(const IvfFileReader&) = delete;
  IvfFileReader& operator=(const IvfFileReader&) = delete;
  ~IvfFileReader();

  const IvfFileHeader& header() const noexcept { return header_; }
  // The next frame's timestamp, its bytes in `data` (replaced; its capacity is reused);
  // nothing at the end of the file.
  Expected<std::optional<std::uint64_t>, IvfError> next_frame(Buffer& data);

 private:
  IvfFileReader(std::FILE* file, const IvfFileHeader& header, std::uint64_t remaining) noexcept
      : file_(file), header_(header), remaining_(remaining) {}
  std::FILE* file_ = nullptr;
  IvfFileHeader header_;
  std::uint64_t remaining_ = 0;  // bytes of the file not read yet
};

}  // namespace rtcpp::media
