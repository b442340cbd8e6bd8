#include "media/wav.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

namespace rtcpp::media {

std::string_view to_string(WavError error) noexcept {
  switch (error) {
    case WavError::kTruncated:
      return "WAV input ends inside a header or chunk";
    case WavError::kBadSignature:
      return "not a WAV file (no RIFF/WAVE signature)";
    case WavError::kNoFormat:
      return "WAV file has no fmt chunk before its data";
    case WavError::kBadFormat:
      return "WAV fmt chunk malformed";
    case WavError::kUnsupportedFormat:
      return "WAV sample format not supported (integer PCM or IEEE float only)";
    case WavError::kBadChannels:
      return "WAV channel count out of range";
    case WavError::kBadSampleRate:
      return "WAV sample rate out of range";
    case WavError::kNoData:
      return "WAV file has no data chunk";
    case WavError::kFormatMismatch:
      return "audio frame differs from the WAV file's rate or channels";
    case WavError::kTooLarge:
      return "WAV data would exceed 4 GiB";
    case WavError::kIo:
      return "WAV file input/output failed";
    case WavError::kClosed:
      return "WAV writer closed";
  }
  return "unknown WAV error";
}

namespace {

constexpr std::uint16_t kFormatPcm = 1;
constexpr std::uint16_t kFormatFloat = 3;
constexpr std::uint16_t kFormatExtensible = 0xFFFE;
constexpr std::size_t kBasicFormatSize = 16;
constexpr std::size_t kExtensibleFormatSize = 40;
// The sub-format GUIDs KSDATAFORMAT_SUBTYPE_PCM and _IEEE_FLOAT are
// {0000000X-0000-0010-8000-00AA00389B71}: the format tag, then these 14 bytes as stored.
constexpr std::array<std::uint8_t, 14> kGuidTail = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                                    0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
// The RIFF size counts from 'WAVE' on: 4 + the fmt chunk (8 + 16) + the data chunk header.
constexpr std::uint32_t kRiffOverhead = 36;
constexpr std::size_t kRiffSizeOffset = 4;
constexpr std::size_t kDataSizeOffset = 40;

std::uint16_t get_le16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t get_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
void put_le16(Buffer& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put_le32(Buffer& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::array<std::uint8_t, 4> le32_bytes(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
}

std::int16_t from_float(double value) {
  if (std::isnan(value)) return 0;
  const double scaled = std::clamp(value * 32768.0, -32768.0, 32767.0);
  return static_cast<std::int16_t>(std::lround(scaled));
}

struct Layout {
  WavFormat format;
  std::uint64_t data_offset = 0;
  std::uint64_t data_size = 0;  // whole sample frames
};

// Walks the chunks of a file of `size` bytes up to its data chunk. read_at(offset, out)
// fills `out` from the file (the walk never asks for bytes past the end).
template <typename ReadAt>
Expected<Layout, WavError> walk_chunks(std::uint64_t size, ReadAt&& read_at) {
  std::array<std::uint8_t, 12> riff{};
  const auto head = static_cast<std::size_t>(std::min<std::uint64_t>(size, riff.size()));
  if (!read_at(0, MutableBytesView(riff.data(), head))) return WavError::kIo;
  // Compare what is there, so that a cut header reads as truncated, not as foreign.
  const std::array<std::uint8_t, 12> expected = {'R', 'I', 'F', 'F', 0,   0,
                                                 0,   0,   'W', 'A', 'V', 'E'};
  for (std::size_t i = 0; i < head; ++i) {
    if ((i < 4 || i >= 8) && riff[i] != expected[i]) return WavError::kBadSignature;
  }
  if (head < riff.size()) return WavError::kTruncated;

  std::optional<WavFormat> format;
  std::uint64_t offset = riff.size();
  while (size - offset >= 8) {
    std::array<std::uint8_t, 8> header{};
    if (!read_at(offset, MutableBytesView(header))) return WavError::kIo;
    const std::uint32_t chunk_size = get_le32(header.data() + 4);
    const std::uint64_t body = offset + 8;
    const std::uint64_t available = size - body;
    if (std::memcmp(header.data(), "data", 4) == 0) {
      if (!format) return WavError::kNoFormat;
      // 0 and 0xFFFFFFFF come from writers that could not seek back; a size past the end
      // from one that stopped early. Either way the samples are what the file holds.
      std::uint64_t data_size = chunk_size;
      if (chunk_size == 0 || chunk_size == 0xFFFFFFFF || chunk_size > available)
        data_size = available;
      data_size -= data_size % format->block_align();
      return Layout{*format, body, data_size};
    }
    if (chunk_size > available) return WavError::kTruncated;
    if (std::memcmp(header.data(), "fmt ", 4) == 0) {
      if (chunk_size > kMaxWavFormatSize) return WavError::kBadFormat;
      std::array<std::uint8_t, kMaxWavFormatSize> bytes{};
      const MutableBytesView fmt(bytes.data(), chunk_size);
      if (!read_at(body, fmt)) return WavError::kIo;
      auto parsed = parse_wav_format(fmt);
      if (!parsed) return parsed.error();
      format = *parsed;
    }
    // RIFF pads a chunk of odd size to an even length (a last chunk may lack the pad).
    offset = std::min(size, body + chunk_size + (chunk_size & 1u));
  }
  return format ? WavError::kNoData : WavError::kNoFormat;
}

}  // namespace

Expected<WavFormat, WavError> parse_wav_format(BytesView body) noexcept {
  if (body.size() < kBasicFormatSize) return WavError::kBadFormat;
  const std::uint8_t* p = body.data();
  WavFormat format;
  std::uint16_t tag = get_le16(p);
  const std::uint16_t channels = get_le16(p + 2);
  const std::uint32_t rate = get_le32(p + 4);
  // p + 8 is the byte rate: redundant, and wrong in files from some writers; not checked.
  const std::uint16_t block_align = get_le16(p + 12);
  const std::uint16_t bits = get_le16(p + 14);
  if (tag == kFormatExtensible) {
    // The extension: cbSize (16) = 22, valid bits (16), channel mask (32), sub-format GUID.
    if (body.size() < kExtensibleFormatSize || get_le16(p + 16) < 22) return WavError::kBadFormat;
    const std::uint8_t* guid = p + 24;
    if (std::memcmp(guid + 2, kGuidTail.data(), kGuidTail.size()) != 0)
      return WavError::kUnsupportedFormat;
    tag = get_le16(guid);
    format.extensible = true;
  }
  if (tag == kFormatPcm) {
    format.sample_format = WavSampleFormat::kInteger;
    if (bits != 8 && bits != 16 && bits != 24 && bits != 32) return WavError::kUnsupportedFormat;
  } else if (tag == kFormatFloat) {
    format.sample_format = WavSampleFormat::kFloat;
    if (bits != 32 && bits != 64) return WavError::kUnsupportedFormat;
  } else {
    return WavError::kUnsupportedFormat;  // A-law, μ-law, ADPCM, MP3 ...
  }
  if (channels < 1 || channels > kMaxAudioChannels) return WavError::kBadChannels;
  if (rate < 1 || rate > static_cast<std::uint32_t>(kMaxAudioSampleRate))
    return WavError::kBadSampleRate;
  format.channels = channels;
  format.sample_rate = static_cast<int>(rate);
  format.bits_per_sample = bits;
  if (block_align != format.block_align()) return WavError::kBadFormat;
  return format;
}

void write_wav_header(int sample_rate, int channels, std::uint32_t data_bytes, Buffer& out) {
  const auto rate = static_cast<std::uint32_t>(sample_rate);
  const auto block = static_cast<std::uint16_t>(2 * channels);
  out.append(as_bytes("RIFF"));
  put_le32(out, data_bytes > UINT32_MAX - kRiffOverhead ? UINT32_MAX : data_bytes + kRiffOverhead);
  out.append(as_bytes("WAVEfmt "));
  put_le32(out, kBasicFormatSize);
  put_le16(out, kFormatPcm);
  put_le16(out, static_cast<std::uint16_t>(channels));
  put_le32(out, rate);
  put_le32(out, rate * block);
  put_le16(out, block);
  put_le16(out, 16);
  out.append(as_bytes("data"));
  put_le32(out, data_bytes);
}

void wav_to_s16(const WavFormat& format, BytesView data, std::vector<std::int16_t>& out) {
  const auto width = static_cast<std::size_t>(format.bits_per_sample / 8);
  if (width == 0 || format.block_align() == 0) return;
  const std::size_t count = data.size() / format.block_align() * format.channels;
  out.reserve(out.size() + count);
  const std::uint8_t* p = data.data();
  for (std::size_t i = 0; i < count; ++i, p += width) {
    std::int16_t sample = 0;
    if (format.sample_format == WavSampleFormat::kFloat) {
      if (width == 4) {
        sample = from_float(std::bit_cast<float>(get_le32(p)));
      } else {
        const std::uint64_t bits = get_le32(p) | (std::uint64_t{get_le32(p + 4)} << 32);
        sample = from_float(std::bit_cast<double>(bits));
      }
    } else {
      switch (width) {
        case 1:  // 8-bit WAV is unsigned, 128 the zero
          sample = static_cast<std::int16_t>((p[0] - 128) * 256);
          break;
        case 2:
          sample = static_cast<std::int16_t>(get_le16(p));
          break;
        default:  // 24 and 32 bits: keep the top 16
          sample = static_cast<std::int16_t>(get_le16(p + width - 2));
          break;
      }
    }
    out.push_back(sample);
  }
}

// --- In memory -----------------------------------------------------------------------------

Expected<WavParser, WavError> WavParser::open(BytesView file) noexcept {
  auto layout = walk_chunks(file.size(), [file](std::uint64_t offset, MutableBytesView out) {
    if (!out.empty()) std::memcpy(out.data(), file.data() + offset, out.size());
    return true;
  });
  if (!layout) return layout.error();
  return WavParser(layout->format, file.subspan(static_cast<std::size_t>(layout->data_offset),
                                                static_cast<std::size_t>(layout->data_size)));
}

AudioFrame WavParser::read(std::size_t samples_per_channel) {
  AudioFrame frame;
  frame.sample_rate = format_.sample_rate;
  frame.channels = format_.channels;
  frame.timestamp_us = static_cast<std::int64_t>(position_ * 1'000'000 /
                                                 static_cast<std::uint64_t>(format_.sample_rate));
  const std::uint64_t count =
      std::min<std::uint64_t>(samples_per_channel, total_samples_per_channel() - position_);
  const std::size_t block = format_.block_align();
  wav_to_s16(format_,
             data_.subspan(static_cast<std::size_t>(position_) * block,
                           static_cast<std::size_t>(count) * block),
             frame.samples);
  position_ += count;
  return frame;
}

// --- Files ---------------------------------------------------------------------------------

Expected<WavFileReader, WavError> WavFileReader::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return WavError::kIo;
  auto fail = [file](WavError error) {
    std::fclose(file);
    return error;
  };
  if (std::fseek(file, 0, SEEK_END) != 0) return fail(WavError::kIo);
  const long size = std::ftell(file);
  if (size < 0) return fail(WavError::kIo);
  auto layout = walk_chunks(static_cast<std::uint64_t>(size),
                            [file](std::uint64_t offset, MutableBytesView out) {
                              return std::fseek(file, static_cast<long>(offset), SEEK_SET) == 0 &&
                                     std::fread(out.data(), 1, out.size(), file) == out.size();
                            });
  if (!layout) return fail(layout.error());
  if (std::fseek(file, static_cast<long>(layout->data_offset), SEEK_SET) != 0)
    return fail(WavError::kIo);
  return WavFileReader(file, layout->format, layout->data_offset,
                       layout->data_size / layout->format.block_align());
}

WavFileReader::WavFileReader(WavFileReader&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      format_(other.format_),
      data_start_(other.data_start_),
      total_(other.total_),
      position_(other.position_),
      scratch_(std::move(other.scratch_)) {}

WavFileReader& WavFileReader::operator=(WavFileReader&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) std::fclose(file_);
    file_ = std::exchange(other.file_, nullptr);
    format_ = other.format_;
    data_start_ = other.data_start_;
    total_ = other.total_;
    position_ = other.position_;
    scratch_ = std::move(other.scratch_);
  }
  return *this;
}

WavFileReader::~WavFileReader() {
  if (file_ != nullptr) std::fclose(file_);
}

Expected<AudioFrame, WavError> WavFileReader::read(std::size_t samples_per_channel) {
  AudioFrame frame;
  frame.sample_rate = format_.sample_rate;
  frame.channels = format_.channels;
  frame.timestamp_us = static_cast<std::int64_t>(position_ * 1'000'000 /
                                                 static_cast<std::uint64_t>(format_.sample_rate));
  if (file_ == nullptr) return frame;
  const std::uint64_t count = std::min<std::uint64_t>(samples_per_channel, total_ - position_);
  if (count == 0) return frame;
  scratch_.resize(static_cast<std::size_t>(count) * format_.block_align());
  if (std::fread(scratch_.data(), 1, scratch_.size(), file_) != scratch_.size())
    return WavError::kIo;
  wav_to_s16(format_, scratch_, frame.samples);
  position_ += count;
  return frame;
}

Expected<void, WavError> WavFileReader::rewind() {
  if (file_ == nullptr) return WavError::kClosed;
  if (std::fseek(file_, static_cast<long>(data_start_), SEEK_SET) != 0) return WavError::kIo;
  position_ = 0;
  return {};
}

Expected<WavFileWriter, WavError> WavFileWriter::create(const std::string& path, int sample_rate,
                                                        int channels) {
  if (sample_rate < 1 || sample_rate > kMaxAudioSampleRate) return WavError::kBadSampleRate;
  if (channels < 1 || channels > kMaxAudioChannels) return WavError::kBadChannels;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return WavError::kIo;
  Buffer header;
  write_wav_header(sample_rate, channels, 0, header);
  if (std::fwrite(header.data(), 1, header.size(), file) != header.size()) {
    std::fclose(file);
    return WavError::kIo;
  }
  return WavFileWriter(file, sample_rate, channels);
}

WavFileWriter::WavFileWriter(WavFileWriter&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      sample_rate_(other.sample_rate_),
      channels_(other.channels_),
      data_bytes_(other.data_bytes_),
      scratch_(std::move(other.scratch_)) {}

WavFileWriter& WavFileWriter::operator=(WavFileWriter&& other) noexcept {
  if (this != &other) {
    (void)close();
    file_ = std::exchange(other.file_, nullptr);
    sample_rate_ = other.sample_rate_;
    channels_ = other.channels_;
    data_bytes_ = other.data_bytes_;
    scratch_ = std::move(other.scratch_);
  }
  return *this;
}

WavFileWriter::~WavFileWriter() {
  (void)close();
}

Expected<void, WavError> WavFileWriter::write(const AudioFrame& frame) {
  if (file_ == nullptr) return WavError::kClosed;
  if (frame.sample_rate != sample_rate_ || frame.channels != channels_ ||
      frame.samples.size() % static_cast<std::size_t>(channels_) != 0)
    return WavError::kFormatMismatch;
  const std::uint64_t bytes = 2 * static_cast<std::uint64_t>(frame.samples.size());
  if (data_bytes_ + bytes > UINT32_MAX - kRiffOverhead) return WavError::kTooLarge;
  scratch_.clear();
  for (const std::int16_t sample : frame.samples) {
    const auto v = static_cast<std::uint16_t>(sample);
    scratch_.push_back(static_cast<std::uint8_t>(v));
    scratch_.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  if (std::fwrite(scratch_.data(), 1, scratch_.size(), file_) != scratch_.size())
    return WavError::kIo;
  data_bytes_ += bytes;
  return {};
}

Expected<void, WavError> WavFileWriter::close() {
  if (file_ == nullptr) return WavError::kClosed;
  const auto data = static_cast<std::uint32_t>(data_bytes_);
  const auto riff = le32_bytes(data + kRiffOverhead);
  const auto size = le32_bytes(data);
  const bool ok = std::fseek(file_, kRiffSizeOffset, SEEK_SET) == 0 &&
                  std::fwrite(riff.data(), 1, riff.size(), file_) == riff.size() &&
                  std::fseek(file_, kDataSizeOffset, SEEK_SET) == 0 &&
                  std::fwrite(size.data(), 1, size.size(), file_) == size.size();
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) return WavError::kIo;
  return {};
}

}  // namespace rtcpp::media
