// WAV: RIFF/WAVE files of PCM audio. All fields little-endian.
//
//   'RIFF' | size (32) | 'WAVE' | chunks, each: id (4) | size (32) | body | a pad byte when
//   the size is odd
//
// The 'fmt ' chunk: format tag (16) | channels (16) | sample rate (32) | byte rate (32) |
// block align (16) | bits per sample (16) [| extension size (16) | valid bits (16) |
// channel mask (32) | sub-format GUID (16 bytes), for WAVE_FORMAT_EXTENSIBLE 0xFFFE]. The
// 'data' chunk holds the samples, interleaved. Other chunks (LIST, fact, cue ...) are passed
// over. The RIFF size is not trusted, and a data size of 0 or 0xFFFFFFFF (what streaming
// writers leave) means "to the end of the file"; a data size past the end is cut to it.
//
// Read: integer PCM (tag 1, or extensible with the PCM sub-format) of 8 (unsigned), 16, 24
// or 32 bits, and IEEE float (tag 3, or extensible) of 32 or 64 bits, all given as 16-bit
// samples (AudioFrame); written: 16-bit PCM. WavParser reads a file in memory;
// WavFileReader and WavFileWriter put it on files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "media/audio_frame.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::media {

inline constexpr std::size_t kWavHeaderSize = 44;  // what the writer writes
inline constexpr std::size_t kMaxWavFormatSize = 1024;

enum class WavError : std::uint8_t {
  kTruncated,          // the input ends inside a header, or a chunk runs past the end
  kBadSignature,       // not RIFF....WAVE
  kNoFormat,           // no fmt chunk before the data chunk
  kBadFormat,          // a fmt chunk too short, too long or with inconsistent fields
  kUnsupportedFormat,  // neither integer PCM nor IEEE float, or a sample size not read
  kBadChannels,        // channels outside 1..kMaxAudioChannels
  kBadSampleRate,      // a sample rate outside 1..kMaxAudioSampleRate
  kNoData,             // no data chunk
  kFormatMismatch,     // a frame of another rate or channel count given to the writer
  kTooLarge,           // the writer's data would pass the 4 GiB RIFF limit
  kIo,                 // the file could not be opened, read or written
  kClosed,             // the writer was closed (or never opened)
};
std::string_view to_string(WavError error) noexcept;

enum class WavSampleFormat : std::uint8_t { kInteger, kFloat };

struct WavFormat {
  int sample_rate = 48000;
  int channels = 1;
  // The container size of a sample: 8, 16, 24 or 32 (integer), 32 or 64 (float).
  int bits_per_sample = 16;
  WavSampleFormat sample_format = WavSampleFormat::kInteger;
  bool extensible = false;
  std::size_t block_align() const noexcept {
    return static_cast<std::size_t>(channels) * static_cast<std::size_t>(bits_per_sample / 8);
  }
  friend bool operator==(const WavFormat&, const WavFormat&) = default;
};

// Parses a fmt chunk's body.
Expected<WavFormat, WavError> parse_wav_format(BytesView body) noexcept;
// Appends the 44-byte header of a 16-bit PCM file (format tag 1) whose data chunk holds
// `data_bytes` bytes.
void write_wav_header(int sample_rate, int channels, std::uint32_t data_bytes, Buffer& out);
// Converts whole sample frames of `data` in `format` to 16-bit samples, appended to `out`.
void wav_to_s16(const WavFormat& format, BytesView data, std::vector<std::int16_t>& out);

// Reads a WAV file held in memory.
class WavParser {
 public:
  static Expected<WavParser, WavError> open(BytesView file) noexcept;
  const WavFormat& format() const noexcept { return format_; }
  // The data chunk, whole sample frames only.
  BytesView data() const noexcept { return data_; }
  std::uint64_t total_samples_per_channel() const noexcept {
    return data_.size() / format_.block_align();
  }
  // Up to samples_per_channel more samples, timestamped from their position; an empty
  // frame at the end.
  AudioFrame read(std::size_t samples_per_channel);
  void rewind() noexcept { position_ = 0; }

 private:
  WavParser(WavFormat format, BytesView data) noexcept : format_(format), data_(data) {}
  WavFormat format_;
  BytesView data_;
  std::uint64_t position_ = 0;  // in samples per channel
};

// Reads a WAV file piece by piece: only the headers and the samples asked for are held.
class WavFileReader {
 public:
  static Expected<WavFileReader, WavError> open(const std::string& path);
  WavFileReader(WavFileReader&& other) noexcept;
  WavFileReader& operator=(WavFileReader&& other) noexcept;
  WavFileReader(const WavFileReader&) = delete;
  WavFileReader& operator=(const WavFileReader&) = delete;
  ~WavFileReader();

  const WavFormat& format() const noexcept { return format_; }
  std::uint64_t total_samples_per_channel() const noexcept { return total_; }
  // Up to samples_per_channel more samples, timestamped from their position; an empty
  // frame at the end.
  Expected<AudioFrame, WavError> read(std::size_t samples_per_channel);
  Expected<void, WavError> rewind();

 private:
  WavFileReader(std::FILE* file, WavFormat format, std::uint64_t data_start,
                std::uint64_t total) noexcept
      : file_(file), format_(format), data_start_(data_start), total_(total) {}
  std::FILE* file_ = nullptr;
  WavFormat format_;
  std::uint64_t data_start_ = 0;  // the file offset of the first sample
  std::uint64_t total_ = 0;       // samples per channel in the data chunk
  std::uint64_t position_ = 0;    // samples per channel read
  Buffer scratch_;
};

// Writes a 16-bit PCM WAV file: a header with zero sizes on create(), the samples as they
// come, and the RIFF and data sizes patched in on close() (the destructor closes too,
// ignoring errors). A file left unclosed still reads: a data size of 0 means "to the end".
class WavFileWriter {
 public:
  static Expected<WavFileWriter, WavError> create(const std::string& path, int sample_rate,
                                                  int channels);
  WavFileWriter(WavFileWriter&& other) noexcept;
  WavFileWriter& operator=(WavFileWriter&& other) noexcept;
  WavFileWriter(const WavFileWriter&) = delete;
  WavFileWriter& operator=(const WavFileWriter&) = delete;
  ~WavFileWriter();

  // kFormatMismatch for a frame of another rate or channel count.
  Expected<void, WavError> write(const AudioFrame& frame);
  std::uint64_t samples_per_channel() const noexcept {
    return data_bytes_ / (2 * static_cast<std::uint64_t>(channels_));
  }
  Expected<void, WavError> close();

 private:
  WavFileWriter(std::FILE* file, int sample_rate, int channels) noexcept
      : file_(file), sample_rate_(sample_rate), channels_(channels) {}
  std::FILE* file_ = nullptr;
  int sample_rate_ = 0;
  int channels_ = 0;
  std::uint64_t data_bytes_ = 0;
  Buffer scratch_;
};

}  // namespace rtcpp::media
