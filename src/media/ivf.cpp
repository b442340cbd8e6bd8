#include "media/ivf.hpp"

#include <array>
#include <cstring>
#include <utility>

namespace rtcpp::media {

std::string_view fourcc(IvfCodec codec) noexcept {
  switch (codec) {
    case IvfCodec::kVp8:
      return "VP80";
    case IvfCodec::kVp9:
      return "VP90";
    case IvfCodec::kAv1:
      return "AV01";
  }
  return "VP80";
}

std::string_view to_string(IvfError error) noexcept {
  switch (error) {
    case IvfError::kTruncated:
      return "IVF input ends inside a header or frame";
    case IvfError::kBadSignature:
      return "not an IVF file (no DKIF signature)";
    case IvfError::kBadHeaderSize:
      return "IVF header size out of range";
    case IvfError::kUnknownCodec:
      return "IVF codec is not VP8, VP9 or AV1";
    case IvfError::kFrameTooLarge:
      return "IVF frame too large";
    case IvfError::kBadTimebase:
      return "IVF timebase has a zero term";
    case IvfError::kIo:
      return "IVF file input/output failed";
    case IvfError::kClosed:
      return "IVF writer closed";
  }
  return "unknown IVF error";
}

namespace {

constexpr std::size_t kFrameCountOffset = 24;

void put_le16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
void put_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_le64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint16_t get_le16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t get_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
std::uint64_t get_le64(const std::uint8_t* p) {
  return std::uint64_t{get_le32(p)} | (std::uint64_t{get_le32(p + 4)} << 32);
}

std::optional<IvfCodec> codec_of(const std::uint8_t* p) {
  const std::string_view code(reinterpret_cast<const char*>(p), 4);
  for (const IvfCodec codec : {IvfCodec::kVp8, IvfCodec::kVp9, IvfCodec::kAv1}) {
    if (code == fourcc(codec)) return codec;
  }
  return std::nullopt;
}

std::array<std::uint8_t, kIvfFrameHeaderSize> frame_header_bytes(std::uint32_t size,
                                                                 std::uint64_t timestamp) {
  std::array<std::uint8_t, kIvfFrameHeaderSize> bytes{};
  put_le32(bytes.data(), size);
  put_le64(bytes.data() + 4, timestamp);
  return bytes;
}

}  // namespace

void write_ivf_file_header(const IvfFileHeader& header, Buffer& out) {
  const std::size_t start = out.size();
  out.resize(start + kIvfFileHeaderSize);
  std::uint8_t* p = out.data() + start;
  std::memcpy(p, "DKIF", 4);
  put_le16(p + 4, 0);
  put_le16(p + 6, kIvfFileHeaderSize);
  std::memcpy(p + 8, fourcc(header.codec).data(), 4);
  put_le16(p + 12, header.width);
  put_le16(p + 14, header.height);
  // The rate (denominator) comes first, as libvpx and ffmpeg read it.
  put_le32(p + 16, header.timebase_denominator);
  put_le32(p + 20, header.timebase_numerator);
  put_le32(p + kFrameCountOffset, header.frame_count);
  put_le32(p + 28, 0);
}

bool write_ivf_frame(std::uint64_t timestamp, BytesView frame, Buffer& out) {
  if (frame.size() > UINT32_MAX) return false;
  const auto header = frame_header_bytes(static_cast<std::uint32_t>(frame.size()), timestamp);
  out.append(header);
  out.append(frame);
  return true;
}

Expected<IvfFileHeader, IvfError> parse_ivf_file_header(BytesView bytes) noexcept {
  if (bytes.size() < kIvfFileHeaderSize) return IvfError::kTruncated;
  const std::uint8_t* p = bytes.data();
  if (std::memcmp(p, "DKIF", 4) != 0) return IvfError::kBadSignature;
  IvfFileHeader header;
  // The version (p + 4) is 0 in every file we know; later ones would only add fields.
  header.header_size = get_le16(p + 6);
  if (header.header_size < kIvfFileHeaderSize || header.header_size > kMaxIvfHeaderSize)
    return IvfError::kBadHeaderSize;
  const auto codec = codec_of(p + 8);
  if (!codec) return IvfError::kUnknownCodec;
  header.codec = *codec;
  header.width = get_le16(p + 12);
  header.height = get_le16(p + 14);
  header.timebase_denominator = get_le32(p + 16);
  header.timebase_numerator = get_le32(p + 20);
  if (header.timebase_denominator == 0 || header.timebase_numerator == 0)
    return IvfError::kBadTimebase;
  header.frame_count = get_le32(p + kFrameCountOffset);
  return header;
}

Expected<IvfFrameHeader, IvfError> parse_ivf_frame_header(BytesView bytes) noexcept {
  if (bytes.size() < kIvfFrameHeaderSize) return IvfError::kTruncated;
  IvfFrameHeader header;
  header.frame_size = get_le32(bytes.data());
  header.timestamp = get_le64(bytes.data() + 4);
  if (header.frame_size > kMaxIvfFrameSize) return IvfError::kFrameTooLarge;
  return header;
}

// --- In memory -----------------------------------------------------------------------------

Expected<IvfParser, IvfError> IvfParser::open(BytesView file) noexcept {
  auto header = parse_ivf_file_header(file);
  if (!header) return header.error();
  if (file.size() < header->header_size) return IvfError::kTruncated;
  return IvfParser(*header, file.subspan(header->header_size));
}

Expected<std::optional<IvfFrame>, IvfError> IvfParser::next_frame() noexcept {
  if (rest_.empty()) return std::optional<IvfFrame>{};
  const BytesView input = rest_;
  rest_ = {};  // an error below ends the walk
  auto header = parse_ivf_frame_header(input);
  if (!header) return header.error();
  if (input.size() - kIvfFrameHeaderSize < header->frame_size) return IvfError::kTruncated;
  IvfFrame frame{header->timestamp, input.subspan(kIvfFrameHeaderSize, header->frame_size)};
  rest_ = input.subspan(kIvfFrameHeaderSize + header->frame_size);
  return std::optional<IvfFrame>{frame};
}

// --- Files ---------------------------------------------------------------------------------

Expected<IvfFileWriter, IvfError> IvfFileWriter::create(const std::string& path,
                                                        const IvfFileHeader& header) {
  if (header.timebase_denominator == 0 || header.timebase_numerator == 0)
    return IvfError::kBadTimebase;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return IvfError::kIo;
  IvfFileHeader written = header;
  written.frame_count = 0;
  written.header_size = kIvfFileHeaderSize;
  Buffer bytes;
  write_ivf_file_header(written, bytes);
  if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size()) {
    std::fclose(file);
    return IvfError::kIo;
  }
  return IvfFileWriter(file, written);
}

IvfFileWriter::IvfFileWriter(IvfFileWriter&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      header_(other.header_),
      scratch_(std::move(other.scratch_)) {}

IvfFileWriter& IvfFileWriter::operator=(IvfFileWriter&& other) noexcept {
  if (this != &other) {
    (void)close();
    file_ = std::exchange(other.file_, nullptr);
    header_ = other.header_;
    scratch_ = std::move(other.scratch_);
  }
  return *this;
}

IvfFileWriter::~IvfFileWriter() {
  (void)close();
}

Expected<void, IvfError> IvfFileWriter::write_frame(std::uint64_t timestamp, BytesView frame) {
  if (file_ == nullptr) return IvfError::kClosed;
  if (frame.size() > kMaxIvfFrameSize) return IvfError::kFrameTooLarge;
  const auto header = frame_header_bytes(static_cast<std::uint32_t>(frame.size()), timestamp);
  if (std::fwrite(header.data(), 1, header.size(), file_) != header.size() ||
      std::fwrite(frame.data(), 1, frame.size(), file_) != frame.size())
    return IvfError::kIo;
  ++header_.frame_count;
  return {};
}

Expected<void, IvfError> IvfFileWriter::close() {
  if (file_ == nullptr) return IvfError::kClosed;
  std::array<std::uint8_t, 4> count{};
  put_le32(count.data(), header_.frame_count);
  const bool ok = std::fseek(file_, kFrameCountOffset, SEEK_SET) == 0 &&
                  std::fwrite(count.data(), 1, count.size(), file_) == count.size();
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) return IvfError::kIo;
  return {};
}

Expected<IvfFileReader, IvfError> IvfFileReader::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return IvfError::kIo;
  auto fail = [file](IvfError error) {
    std::fclose(file);
    return error;
  };
  if (std::fseek(file, 0, SEEK_END) != 0) return fail(IvfError::kIo);
  const long size = std::ftell(file);
  if (size < 0 || std::fseek(file, 0, SEEK_SET) != 0) return fail(IvfError::kIo);
  std::array<std::uint8_t, kIvfFileHeaderSize> bytes{};
  if (static_cast<std::uint64_t>(size) < bytes.size()) return fail(IvfError::kTruncated);
  if (std::fread(bytes.data(), 1, bytes.size(), file) != bytes.size()) return fail(IvfError::kIo);
  auto header = parse_ivf_file_header(bytes);
  if (!header) return fail(header.error());
  if (static_cast<std::uint64_t>(size) < header->header_size) return fail(IvfError::kTruncated);
  if (std::fseek(file, static_cast<long>(header->header_size), SEEK_SET) != 0)
    return fail(IvfError::kIo);
  return IvfFileReader(file, *header, static_cast<std::uint64_t>(size) - header->header_size);
}

IvfFileReader::IvfFileReader(IvfFileReader&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      header_(other.header_),
      remaining_(other.remaining_) {}

IvfFileReader& IvfFileReader::operator=(IvfFileReader&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) std::fclose(file_);
    file_ = std::exchange(other.file_, nullptr);
    header_ = other.header_;
    remaining_ = other.remaining_;
  }
  return *this;
}

IvfFileReader::~IvfFileReader() {
  if (file_ != nullptr) std::fclose(file_);
}

Expected<std::optional<std::uint64_t>, IvfError> IvfFileReader::next_frame(Buffer& data) {
  if (file_ == nullptr || remaining_ == 0) return std::optional<std::uint64_t>{};
  std::array<std::uint8_t, kIvfFrameHeaderSize> bytes{};
  if (remaining_ < bytes.size()) {
    remaining_ = 0;
    return IvfError::kTruncated;
  }
  if (std::fread(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    remaining_ = 0;
    return IvfError::kIo;
  }
  remaining_ -= bytes.size();
  auto header = parse_ivf_frame_header(bytes);
  if (!header || header->frame_size > remaining_) {
    remaining_ = 0;
    return header ? IvfError::kTruncated : header.error();
  }
  data.resize(header->frame_size);
  if (std::fread(data.data(), 1, data.size(), file_) != data.size()) {
    remaining_ = 0;
    return IvfError::kIo;
  }
  remaining_ -= header->frame_size;
  return std::optional<std::uint64_t>{header->timestamp};
}

}  // namespace rtcpp::media
