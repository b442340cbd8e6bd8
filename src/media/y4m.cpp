#include "media/y4m.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

namespace rtcpp::media {

std::string_view to_string(Y4mError error) noexcept {
  switch (error) {
    case Y4mError::kTruncated:
      return "Y4M input ends inside a header, FRAME line or frame";
    case Y4mError::kBadSignature:
      return "not a Y4M file (no YUV4MPEG2 signature)";
    case Y4mError::kLineTooLong:
      return "Y4M header or FRAME line too long";
    case Y4mError::kBadTag:
      return "Y4M header tag malformed, or W or H missing";
    case Y4mError::kBadDimensions:
      return "Y4M picture size out of range";
    case Y4mError::kBadFrameRate:
      return "Y4M frame rate has a zero or oversized term";
    case Y4mError::kUnsupportedColorSpace:
      return "Y4M colour space is not 8-bit 4:2:0";
    case Y4mError::kBadFrameMarker:
      return "Y4M frame does not start with FRAME";
    case Y4mError::kSizeMismatch:
      return "Y4M frame size differs from the file's";
    case Y4mError::kIo:
      return "Y4M file input/output failed";
    case Y4mError::kClosed:
      return "Y4M writer closed";
  }
  return "unknown Y4M error";
}

namespace {

constexpr std::string_view kSignature = "YUV4MPEG2 ";
constexpr std::string_view kFrameMarker = "FRAME";
constexpr std::string_view kDefaultColorSpace = "420jpeg";

// A run of decimal digits, saturating at the u64 maximum; nothing for anything else.
std::optional<std::uint64_t> parse_number(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
  }
  return value;
}

// "num:den"; nothing when either side is not a number.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_ratio(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto num = parse_number(text.substr(0, colon));
  const auto den = parse_number(text.substr(colon + 1));
  if (!num || !den) return std::nullopt;
  return std::pair{*num, *den};
}

bool is_420(std::string_view space) {
  return space == "420jpeg" || space == "420paldv" || space == "420mpeg2" || space == "420";
}

// Finds the '\n' ending a line that starts at bytes[0]: its index, or the error for a line
// that does not end within kMaxY4mLineSize bytes.
Expected<std::size_t, Y4mError> line_end(BytesView bytes) noexcept {
  const std::size_t limit = std::min(bytes.size(), kMaxY4mLineSize);
  const void* nl = std::memchr(bytes.data(), '\n', limit);
  if (nl == nullptr)
    return bytes.size() >= kMaxY4mLineSize ? Y4mError::kLineTooLong : Y4mError::kTruncated;
  return static_cast<std::size_t>(static_cast<const std::uint8_t*>(nl) - bytes.data());
}

// Whether `bytes` starts with `prefix`; when it is shorter, whether it could (so that a cut
// input reads as truncated rather than wrong).
enum class Prefix : std::uint8_t { kYes, kNo, kShort };
Prefix starts_with(BytesView bytes, std::string_view prefix) noexcept {
  const std::size_t n = std::min(bytes.size(), prefix.size());
  if (n > 0 && std::memcmp(bytes.data(), prefix.data(), n) != 0) return Prefix::kNo;
  return n == prefix.size() ? Prefix::kYes : Prefix::kShort;
}

Expected<void, Y4mError> apply_tag(std::string_view tag, Y4mHeader& header, bool& has_w,
                                   bool& has_h) {
  const std::string_view value = tag.substr(1);
  switch (tag[0]) {
    case 'W':
    case 'H': {
      const auto n = parse_number(value);
      if (!n) return Y4mError::kBadTag;
      if (*n < 1 || *n > static_cast<std::uint64_t>(kMaxVideoDimension))
        return Y4mError::kBadDimensions;
      (tag[0] == 'W' ? header.width : header.height) = static_cast<int>(*n);
      (tag[0] == 'W' ? has_w : has_h) = true;
      return {};
    }
    case 'F': {
      const auto rate = parse_ratio(value);
      if (!rate) return Y4mError::kBadTag;
      constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max();
      if (rate->first == 0 || rate->second == 0 || rate->first > kMax || rate->second > kMax)
        return Y4mError::kBadFrameRate;
      header.fps_numerator = static_cast<std::uint32_t>(rate->first);
      header.fps_denominator = static_cast<std::uint32_t>(rate->second);
      return {};
    }
    case 'A': {
      const auto aspect = parse_ratio(value);
      constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max();
      if (!aspect || aspect->first > kMax || aspect->second > kMax) return Y4mError::kBadTag;
      header.aspect_numerator = static_cast<std::uint32_t>(aspect->first);
      header.aspect_denominator = static_cast<std::uint32_t>(aspect->second);
      return {};
    }
    case 'I':
      if (value.size() != 1 || std::string_view("ptbm?").find(value[0]) == std::string_view::npos)
        return Y4mError::kBadTag;
      header.interlacing = value[0];
      return {};
    case 'C':
      if (!is_420(value)) return Y4mError::kUnsupportedColorSpace;
      header.color_space = std::string(value);
      return {};
    default:
      return {};  // X (application data) and tags of later versions
  }
}

}  // namespace

Expected<Y4mHeader, Y4mError> parse_y4m_header(BytesView bytes, std::size_t& consumed) {
  consumed = 0;
  switch (starts_with(bytes, kSignature)) {
    case Prefix::kNo:
      return Y4mError::kBadSignature;
    case Prefix::kShort:
      return Y4mError::kTruncated;
    case Prefix::kYes:
      break;
  }
  auto end = line_end(bytes);
  if (!end) return end.error();
  const std::string_view line =
      as_string(bytes.subspan(kSignature.size(), *end - kSignature.size()));
  Y4mHeader header;
  bool has_w = false;
  bool has_h = false;
  std::size_t start = 0;
  while (start <= line.size()) {
    std::size_t stop = line.find(' ', start);
    if (stop == std::string_view::npos) stop = line.size();
    const std::string_view tag = line.substr(start, stop - start);
    // Tags are separated by one space; a doubled one leaves an empty tag, passed over.
    if (!tag.empty()) {
      if (auto ok = apply_tag(tag, header, has_w, has_h); !ok) return ok.error();
    }
    start = stop + 1;
  }
  if (!has_w || !has_h) return Y4mError::kBadTag;
  consumed = *end + 1;
  return header;
}

Expected<void, Y4mError> parse_y4m_frame_line(BytesView bytes, std::size_t& consumed) {
  consumed = 0;
  switch (starts_with(bytes, kFrameMarker)) {
    case Prefix::kNo:
      return Y4mError::kBadFrameMarker;
    case Prefix::kShort:
      return Y4mError::kTruncated;
    case Prefix::kYes:
      break;
  }
  if (bytes.size() == kFrameMarker.size()) return Y4mError::kTruncated;
  // "FRAMEX" is not a frame line; "FRAME" then its own tags (ignored) is.
  const std::uint8_t next = bytes[kFrameMarker.size()];
  if (next != '\n' && next != ' ') return Y4mError::kBadFrameMarker;
  auto end = line_end(bytes);
  if (!end) return end.error();
  consumed = *end + 1;
  return {};
}

void write_y4m_header(const Y4mHeader& header, Buffer& out) {
  std::string line(kSignature);
  line += "W" + std::to_string(header.width) + " H" + std::to_string(header.height);
  line +=
      " F" + std::to_string(header.fps_numerator) + ":" + std::to_string(header.fps_denominator);
  line += " I";
  line += header.interlacing;
  line += " A" + std::to_string(header.aspect_numerator) + ":" +
          std::to_string(header.aspect_denominator);
  line += " C";
  line += header.color_space.empty() ? kDefaultColorSpace : std::string_view(header.color_space);
  line += '\n';
  out.append(as_bytes(line));
}

void write_y4m_frame(BytesView picture, Buffer& out) {
  out.append(as_bytes("FRAME\n"));
  out.append(picture);
}

std::int64_t y4m_timestamp_us(const Y4mHeader& header, std::uint64_t index) noexcept {
  if (header.fps_numerator == 0) return 0;
  // In double: exact for any index and rate a file will hold (under 2^53 microseconds).
  const double us = static_cast<double>(index) * 1e6 * static_cast<double>(header.fps_denominator) /
                    static_cast<double>(header.fps_numerator);
  if (us >= 9.2e18) return std::numeric_limits<std::int64_t>::max();
  return std::llround(us);
}

// --- In memory -----------------------------------------------------------------------------

Expected<Y4mParser, Y4mError> Y4mParser::open(BytesView file) {
  std::size_t consumed = 0;
  auto header = parse_y4m_header(file, consumed);
  if (!header) return header.error();
  return Y4mParser(std::move(*header), file.subspan(consumed));
}

Expected<std::optional<Y4mFrame>, Y4mError> Y4mParser::next_frame() {
  if (rest_.empty()) return std::optional<Y4mFrame>{};
  const BytesView input = rest_;
  rest_ = {};  // an error below ends the walk
  std::size_t line = 0;
  if (auto ok = parse_y4m_frame_line(input, line); !ok) return ok.error();
  const std::size_t size = VideoFrame::byte_size(header_.width, header_.height);
  if (input.size() - line < size) return Y4mError::kTruncated;
  Y4mFrame frame{index_, y4m_timestamp_us(header_, index_), input.subspan(line, size)};
  ++index_;
  rest_ = input.subspan(line + size);
  return std::optional<Y4mFrame>{frame};
}

// --- Files ---------------------------------------------------------------------------------

Expected<Y4mFileReader, Y4mError> Y4mFileReader::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Y4mError::kIo;
  auto fail = [file](Y4mError error) {
    std::fclose(file);
    return error;
  };
  if (std::fseek(file, 0, SEEK_END) != 0) return fail(Y4mError::kIo);
  const long size = std::ftell(file);
  if (size < 0 || std::fseek(file, 0, SEEK_SET) != 0) return fail(Y4mError::kIo);
  Buffer line(std::min(static_cast<std::size_t>(size), kMaxY4mLineSize));
  if (line.empty()) return fail(Y4mError::kTruncated);
  if (std::fread(line.data(), 1, line.size(), file) != line.size()) return fail(Y4mError::kIo);
  std::size_t consumed = 0;
  auto header = parse_y4m_header(line, consumed);
  if (!header) return fail(header.error());
  if (std::fseek(file, static_cast<long>(consumed), SEEK_SET) != 0) return fail(Y4mError::kIo);
  return Y4mFileReader(file, std::move(*header), consumed, static_cast<std::uint64_t>(size));
}

Y4mFileReader::Y4mFileReader(Y4mFileReader&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      header_(std::move(other.header_)),
      data_start_(other.data_start_),
      size_(other.size_),
      position_(other.position_),
      index_(other.index_),
      loop_(other.loop_) {}

Y4mFileReader& Y4mFileReader::operator=(Y4mFileReader&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) std::fclose(file_);
    file_ = std::exchange(other.file_, nullptr);
    header_ = std::move(other.header_);
    data_start_ = other.data_start_;
    size_ = other.size_;
    position_ = other.position_;
    index_ = other.index_;
    loop_ = other.loop_;
  }
  return *this;
}

Y4mFileReader::~Y4mFileReader() {
  if (file_ != nullptr) std::fclose(file_);
}

Expected<void, Y4mError> Y4mFileReader::rewind() {
  if (file_ == nullptr) return Y4mError::kClosed;
  if (std::fseek(file_, static_cast<long>(data_start_), SEEK_SET) != 0) return Y4mError::kIo;
  position_ = data_start_;
  index_ = 0;
  return {};
}

Expected<std::optional<VideoFrame>, Y4mError> Y4mFileReader::next_frame() {
  if (file_ == nullptr) return std::optional<VideoFrame>{};
  // A loop over a file with no frames would never end.
  if (position_ >= size_ && loop_ && size_ > data_start_) {
    if (std::fseek(file_, static_cast<long>(data_start_), SEEK_SET) != 0) return Y4mError::kIo;
    position_ = data_start_;
  }
  auto frame = read_frame();
  if (!frame) position_ = size_;  // after an error, nothing more (but a loop starts again)
  return frame;
}

Expected<std::optional<VideoFrame>, Y4mError> Y4mFileReader::read_frame() {
  if (position_ >= size_) return std::optional<VideoFrame>{};
  // The FRAME line, a byte at a time: it is a few bytes, and the picture follows.
  std::array<std::uint8_t, kMaxY4mLineSize> line{};
  std::size_t length = 0;
  const auto available =
      static_cast<std::size_t>(std::min<std::uint64_t>(size_ - position_, kMaxY4mLineSize));
  while (length < available) {
    const int c = std::fgetc(file_);
    if (c == EOF) return Y4mError::kIo;
    line[length++] = static_cast<std::uint8_t>(c);
    if (c == '\n') break;
  }
  position_ += length;
  std::size_t consumed = 0;
  if (auto ok = parse_y4m_frame_line(BytesView(line.data(), length), consumed); !ok)
    return ok.error();
  const std::size_t size = VideoFrame::byte_size(header_.width, header_.height);
  if (size_ - position_ < size) return Y4mError::kTruncated;
  auto frame = VideoFrame::create(header_.width, header_.height);
  if (!frame) return Y4mError::kBadDimensions;
  const MutableBytesView pixels = frame->mutable_bytes();
  if (std::fread(pixels.data(), 1, pixels.size(), file_) != pixels.size()) return Y4mError::kIo;
  position_ += size;
  frame->timestamp_us = y4m_timestamp_us(header_, index_++);
  return std::optional<VideoFrame>{std::move(*frame)};
}

Expected<Y4mFileWriter, Y4mError> Y4mFileWriter::create(const std::string& path, int width,
                                                        int height, std::uint32_t fps_numerator,
                                                        std::uint32_t fps_denominator) {
  if (width < 1 || height < 1 || width > kMaxVideoDimension || height > kMaxVideoDimension)
    return Y4mError::kBadDimensions;
  if (fps_numerator == 0 || fps_denominator == 0) return Y4mError::kBadFrameRate;
  Y4mHeader header;
  header.width = width;
  header.height = height;
  header.fps_numerator = fps_numerator;
  header.fps_denominator = fps_denominator;
  header.interlacing = 'p';
  header.aspect_numerator = 1;  // square pixels, as ffmpeg writes for a plain source
  header.aspect_denominator = 1;
  Buffer bytes;
  write_y4m_header(header, bytes);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return Y4mError::kIo;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size()) {
    std::fclose(file);
    return Y4mError::kIo;
  }
  return Y4mFileWriter(file, width, height);
}

Y4mFileWriter::Y4mFileWriter(Y4mFileWriter&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      width_(other.width_),
      height_(other.height_),
      frame_count_(other.frame_count_) {}

Y4mFileWriter& Y4mFileWriter::operator=(Y4mFileWriter&& other) noexcept {
  if (this != &other) {
    (void)close();
    file_ = std::exchange(other.file_, nullptr);
    width_ = other.width_;
    height_ = other.height_;
    frame_count_ = other.frame_count_;
  }
  return *this;
}

Y4mFileWriter::~Y4mFileWriter() {
  (void)close();
}

Expected<void, Y4mError> Y4mFileWriter::write_frame(const VideoFrame& frame) {
  if (file_ == nullptr) return Y4mError::kClosed;
  if (frame.width() != width_ || frame.height() != height_) return Y4mError::kSizeMismatch;
  constexpr std::string_view kLine = "FRAME\n";
  const BytesView pixels = frame.bytes();
  if (std::fwrite(kLine.data(), 1, kLine.size(), file_) != kLine.size() ||
      std::fwrite(pixels.data(), 1, pixels.size(), file_) != pixels.size())
    return Y4mError::kIo;
  ++frame_count_;
  return {};
}

Expected<void, Y4mError> Y4mFileWriter::close() {
  if (file_ == nullptr) return Y4mError::kClosed;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!closed) return Y4mError::kIo;
  return {};
}

}  // namespace rtcpp::media
