// H.264 Annex B byte streams, the raw form encoders and `ffmpeg -f h264` write (for example
// `ffmpeg -i in.mp4 -c:v libx264 -bsf:v h264_mp4toannexb -f h264 out.h264`): NAL units one after
// another, each behind a start code 00 00 01, which may have more zero bytes before it
// (H.264 B.1: zero_byte, leading_zero_8bits, trailing_zero_8bits).
//
// The stream holds no frame boundaries; they are found from the NAL units (H.264 7.4.1.2.3).
// After a VCL NAL unit (a coded slice, types 1-5) a new access unit starts at an access unit
// delimiter (9), SPS (7), PPS (8), SEI (6), a NAL unit of types 14-18, or a slice (types 1, 2,
// 5) whose first_mb_in_slice is 0. (A stream whose pictures start with a slice other than the
// first macroblock's, as arbitrary slice order allows, would be split wrongly; encoders for
// WebRTC do not use it.)
//
// Each access unit is given as it lies in the stream: from the zero bytes before its first
// start code up to the zero bytes before the next access unit's start code. So the access units
// of a stream, joined, are the stream itself: nothing is dropped, except a stream of only zero
// bytes, which holds no access unit (and is refused as kTooLarge beyond the size limit). A stream
// must begin with a start code (after any zero bytes); its first access unit starts there.
//
// AnnexBSplitter is the sans-IO core; AnnexBParser walks a stream held in memory,
// AnnexBFileReader one read from a file in bounded memory, and AnnexBFileWriter records one.
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

// The largest access unit read or written; an encoded 4K IDR frame is a few MB. The size is
// counted up to the next access unit's start code, its zero bytes included.
inline constexpr std::size_t kMaxAnnexBAccessUnitSize = 16u << 20;
// How much the file reader reads at a time.
inline constexpr std::size_t kAnnexBReadChunkSize = 64u << 10;

enum class AnnexBError : std::uint8_t {
  kNoStartCode,  // the stream (or an access unit given to the writer) does not start with one
  kTooLarge,     // an access unit beyond its maximum size
  kIo,           // the file could not be opened, read or written
  kClosed,       // the writer was closed (or never opened)
};
std::string_view to_string(AnnexBError error) noexcept;

// Whether `bytes` begins with 00 00 01 after zero bytes.
bool starts_with_start_code(BytesView bytes) noexcept;

// Finds where the access unit at the start of a stream's unread bytes ends, as the bytes come.
class AnnexBSplitter {
 public:
  struct Boundary {
    std::size_t size = 0;    // bytes of the access unit, from the start of `data`
    bool key_frame = false;  // it holds an IDR slice (type 5)
  };

  explicit AnnexBSplitter(std::size_t max_access_unit_size = kMaxAnnexBAccessUnitSize) noexcept
      : max_size_(max_access_unit_size) {}

  // `data` holds the stream from the start of the current access unit: what the previous call
  // saw, perhaps with more bytes after it (the splitter resumes where it stopped).
  // `end_of_stream`: no byte will follow. Gives the access unit once its end is known; nothing
  // when it needs more bytes, or at the end of the stream when no access unit remains. After
  // taking an access unit, call next() and pass the bytes after it.
  Expected<std::optional<Boundary>, AnnexBError> find(BytesView data, bool end_of_stream) noexcept;
  // Starts on the next access unit.
  void next() noexcept;

 private:
  std::size_t max_size_;
  std::size_t scan_from_ = 0;  // where the search for the next start code resumes
  bool found_nal_unit_ = false;
  // A start code found whose NAL unit is not classified yet (it may need more bytes).
  std::optional<std::size_t> pending_start_code_;
  bool seen_vcl_ = false;
  bool key_frame_ = false;
};

struct AnnexBAccessUnit {
  BytesView data;
  bool key_frame = false;
};

// Walks a stream held in memory, access unit by access unit, each a view into it.
class AnnexBParser {
 public:
  explicit AnnexBParser(BytesView stream,
                        std::size_t max_access_unit_size = kMaxAnnexBAccessUnitSize) noexcept
      : splitter_(max_access_unit_size), rest_(stream) {}
  // The next access unit; nothing at the end; an error (and after it, nothing more) for a
  // stream not starting with a start code or an access unit beyond the maximum.
  Expected<std::optional<AnnexBAccessUnit>, AnnexBError> next_access_unit() noexcept;

 private:
  AnnexBSplitter splitter_;
  BytesView rest_;
};

struct AnnexBAccessUnitInfo {
  bool key_frame = false;
};

// Reads a stream from a file access unit by access unit, holding at most one access unit and
// one read chunk of what follows it.
class AnnexBFileReader {
 public:
  static Expected<AnnexBFileReader, AnnexBError> open(
      const std::string& path, std::size_t max_access_unit_size = kMaxAnnexBAccessUnitSize);
  AnnexBFileReader(AnnexBFileReader&& other) noexcept;
  AnnexBFileReader& operator=(AnnexBFileReader&& other) noexcept;
  AnnexBFileReader(const AnnexBFileReader&) = delete;
  AnnexBFileReader& operator=(const AnnexBFileReader&) = delete;
  ~AnnexBFileReader();

  // The next access unit's bytes in `data` (replaced; its capacity is reused); nothing at the
  // end of the file. After an error, nothing more.
  Expected<std::optional<AnnexBAccessUnitInfo>, AnnexBError> next_access_unit(Buffer& data);

 private:
  AnnexBFileReader(std::FILE* file, std::size_t max_access_unit_size) noexcept
      : file_(file), splitter_(max_access_unit_size) {}
  void stop() noexcept;

  std::FILE* file_ = nullptr;
  AnnexBSplitter splitter_;
  Buffer read_;  // bytes read and not yet given out start at read_offset_
  std::size_t read_offset_ = 0;
  bool end_of_file_ = false;
};

// Records a stream: access units appended as they come (the destructor closes, ignoring
// errors).
class AnnexBFileWriter {
 public:
  static Expected<AnnexBFileWriter, AnnexBError> create(const std::string& path);
  AnnexBFileWriter(AnnexBFileWriter&& other) noexcept;
  AnnexBFileWriter& operator=(AnnexBFileWriter&& other) noexcept;
  AnnexBFileWriter(const AnnexBFileWriter&) = delete;
  AnnexBFileWriter& operator=(const AnnexBFileWriter&) = delete;
  ~AnnexBFileWriter();

  // Appends one access unit in Annex B form (as H264PayloadFormat::assemble() writes it):
  // kNoStartCode unless it begins with a start code, kTooLarge beyond
  // kMaxAnnexBAccessUnitSize.
  Expected<void, AnnexBError> write_access_unit(BytesView access_unit);
  std::uint64_t access_unit_count() const noexcept { return count_; }
  Expected<void, AnnexBError> close();

 private:
  explicit AnnexBFileWriter(std::FILE* file) noexcept : file_(file) {}
  std::FILE* file_ = nullptr;
  std::uint64_t count_ = 0;
};

}  // namespace rtcpp::media
