#include "media/annexb.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "rtp/h264.hpp"

namespace rtcpp::media {

std::string_view to_string(AnnexBError error) noexcept {
  switch (error) {
    case AnnexBError::kNoStartCode:
      return "Annex B stream does not start with a start code";
    case AnnexBError::kTooLarge:
      return "Annex B access unit too large";
    case AnnexBError::kIo:
      return "Annex B file input/output failed";
    case AnnexBError::kClosed:
      return "Annex B writer closed";
  }
  return "unknown Annex B error";
}

namespace {

constexpr std::size_t kStartCodeSize = 3;
constexpr std::uint8_t kIdrSlice = 5;

bool is_vcl(std::uint8_t type) noexcept {
  return type >= 1 && type <= 5;
}

// H.264 7.4.1.2.3: NAL units that, after a VCL NAL unit, begin the next access unit. A slice
// does when it is the first of a picture: first_mb_in_slice is 0.
bool starts_access_unit(std::uint8_t type, bool first_mb_in_slice_is_zero) noexcept {
  switch (type) {
    case 1:
    case 2:
    case 5:
      return first_mb_in_slice_is_zero;
    case 6:   // SEI
    case 7:   // SPS
    case 8:   // PPS
    case 9:   // access unit delimiter
    case 14:  // prefix NAL unit
    case 15:  // subset SPS
    case 16:  // depth parameter set
    case 17:
    case 18:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool starts_with_start_code(BytesView bytes) noexcept {
  std::size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == 0) ++zeros;
  return zeros >= 2 && zeros < bytes.size() && bytes[zeros] == 1;
}

// --- Splitter ------------------------------------------------------------------------------

Expected<std::optional<AnnexBSplitter::Boundary>, AnnexBError> AnnexBSplitter::find(
    BytesView data, bool end_of_stream) noexcept {
  using Result = std::optional<Boundary>;
  while (true) {
    if (pending_start_code_) {
      const std::size_t header = *pending_start_code_ + kStartCodeSize;
      // A slice's first_mb_in_slice is ue(v) at the start of the byte after the header: it is
      // 0 when that byte's top bit is set. (That byte is never an emulation prevention byte:
      // a slice's header byte is not zero.)
      if (header + 2 > data.size() && !end_of_stream) return Result{};
      if (header < data.size()) {
        const auto type = static_cast<std::uint8_t>(data[header] & 0x1F);
        const bool first_mb_zero = header + 1 < data.size() && (data[header + 1] & 0x80) != 0;
        if (seen_vcl_ && starts_access_unit(type, first_mb_zero)) {
          // The zero bytes before the start code go with the next access unit. They stop at
          // the previous slice's header at the latest, which is not zero.
          std::size_t end = *pending_start_code_;
          while (end > 0 && data[end - 1] == 0) --end;
          return Result{Boundary{end, key_frame_}};
        }
        if (is_vcl(type)) seen_vcl_ = true;
        if (type == kIdrSlice) key_frame_ = true;
      }
      pending_start_code_.reset();
      scan_from_ = header;
    }

    const std::size_t start_code = rtp::find_h264_start_code(data, scan_from_);
    if (!found_nal_unit_) {
      // Only zero bytes may come before the first start code.
      const std::size_t end = std::min(start_code, data.size());
      for (std::size_t i = scan_from_; i < end; ++i) {
        if (data[i] != 0) return AnnexBError::kNoStartCode;
      }
    }
    if (start_code == data.size()) {
      if (end_of_stream) {
        // Nothing, or only zero bytes: no access unit (but as many zero bytes as would be
        // refused before more came are refused here too).
        if (!found_nal_unit_) {
          if (data.size() > max_size_ + 2) return AnnexBError::kTooLarge;
          return Result{};
        }
        if (data.size() > max_size_) return AnnexBError::kTooLarge;
        return Result{Boundary{data.size(), key_frame_}};
      }
      // A start code found later begins at data.size() - 2 at the earliest.
      if (data.size() > max_size_ + 2) return AnnexBError::kTooLarge;
      scan_from_ = std::max(scan_from_, data.size() < 2 ? 0 : data.size() - 2);
      return Result{};
    }
    if (start_code > max_size_) return AnnexBError::kTooLarge;
    found_nal_unit_ = true;
    pending_start_code_ = start_code;
  }
}

void AnnexBSplitter::next() noexcept {
  scan_from_ = 0;
  found_nal_unit_ = false;
  pending_start_code_.reset();
  seen_vcl_ = false;
  key_frame_ = false;
}

// --- In memory -----------------------------------------------------------------------------

Expected<std::optional<AnnexBAccessUnit>, AnnexBError> AnnexBParser::next_access_unit() noexcept {
  using Result = std::optional<AnnexBAccessUnit>;
  auto found = splitter_.find(rest_, true);
  if (!found || !*found) {
    rest_ = {};
    splitter_.next();  // so that later calls see an empty stream
    if (!found) return found.error();
    return Result{};
  }
  const AnnexBAccessUnit unit{rest_.first((*found)->size), (*found)->key_frame};
  rest_ = rest_.subspan((*found)->size);
  splitter_.next();
  return Result{unit};
}

// --- Files ---------------------------------------------------------------------------------

Expected<AnnexBFileReader, AnnexBError> AnnexBFileReader::open(const std::string& path,
                                                               std::size_t max_access_unit_size) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return AnnexBError::kIo;
  return AnnexBFileReader(file, max_access_unit_size);
}

AnnexBFileReader::AnnexBFileReader(AnnexBFileReader&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      splitter_(other.splitter_),
      read_(std::move(other.read_)),
      read_offset_(other.read_offset_),
      end_of_file_(other.end_of_file_) {}

AnnexBFileReader& AnnexBFileReader::operator=(AnnexBFileReader&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) std::fclose(file_);
    file_ = std::exchange(other.file_, nullptr);
    splitter_ = other.splitter_;
    read_ = std::move(other.read_);
    read_offset_ = other.read_offset_;
    end_of_file_ = other.end_of_file_;
  }
  return *this;
}

AnnexBFileReader::~AnnexBFileReader() {
  if (file_ != nullptr) std::fclose(file_);
}

void AnnexBFileReader::stop() noexcept {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  read_.clear();
  read_offset_ = 0;
}

Expected<std::optional<AnnexBAccessUnitInfo>, AnnexBError> AnnexBFileReader::next_access_unit(
    Buffer& data) {
  using Result = std::optional<AnnexBAccessUnitInfo>;
  while (file_ != nullptr) {
    const BytesView unread = read_.view().subspan(read_offset_);
    auto found = splitter_.find(unread, end_of_file_);
    if (!found) {
      stop();
      return found.error();
    }
    if (*found) {
      data.assign(unread.first((*found)->size));
      read_offset_ += (*found)->size;
      splitter_.next();
      return Result{AnnexBAccessUnitInfo{(*found)->key_frame}};
    }
    if (end_of_file_) break;
    // Keep only the unread bytes, then read a chunk after them.
    if (read_offset_ > 0) {
      std::memmove(read_.data(), read_.data() + read_offset_, unread.size());
      read_.resize(unread.size());
      read_offset_ = 0;
    }
    const std::size_t kept = read_.size();
    read_.resize(kept + kAnnexBReadChunkSize);
    const std::size_t got = std::fread(read_.data() + kept, 1, kAnnexBReadChunkSize, file_);
    read_.resize(kept + got);
    if (got < kAnnexBReadChunkSize) {
      if (std::ferror(file_) != 0) {
        stop();
        return AnnexBError::kIo;
      }
      end_of_file_ = true;
    }
  }
  stop();
  return Result{};
}

Expected<AnnexBFileWriter, AnnexBError> AnnexBFileWriter::create(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return AnnexBError::kIo;
  return AnnexBFileWriter(file);
}

AnnexBFileWriter::AnnexBFileWriter(AnnexBFileWriter&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)), count_(other.count_) {}

AnnexBFileWriter& AnnexBFileWriter::operator=(AnnexBFileWriter&& other) noexcept {
  if (this != &other) {
    (void)close();
    file_ = std::exchange(other.file_, nullptr);
    count_ = other.count_;
  }
  return *this;
}

AnnexBFileWriter::~AnnexBFileWriter() {
  (void)close();
}

Expected<void, AnnexBError> AnnexBFileWriter::write_access_unit(BytesView access_unit) {
  if (file_ == nullptr) return AnnexBError::kClosed;
  if (!starts_with_start_code(access_unit)) return AnnexBError::kNoStartCode;
  if (access_unit.size() > kMaxAnnexBAccessUnitSize) return AnnexBError::kTooLarge;
  if (std::fwrite(access_unit.data(), 1, access_unit.size(), file_) != access_unit.size())
    return AnnexBError::kIo;
  ++count_;
  return {};
}

Expected<void, AnnexBError> AnnexBFileWriter::close() {
  if (file_ == nullptr) return AnnexBError::kClosed;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!closed) return AnnexBError::kIo;
  return {};
}

}  // namespace rtcpp::media
