// ByteReader: bounds-checked reads of network-byte-order fields from untrusted input.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp {

// Why a read failed. Parsers turn this into their own protocol error.
enum class ReadError : std::uint8_t {
  kTruncated,  // fewer bytes remain than the read needs
};

template <typename T>
using ReadResult = Expected<T, ReadError>;

// Reads big-endian integers and byte ranges from a view. Every read checks the remaining
// length first: a read past the end returns ReadError::kTruncated and consumes nothing, so a
// parser can never touch memory outside its input.
class ByteReader {
 public:
  explicit ByteReader(BytesView input) noexcept : input_(input) {}

  std::size_t position() const noexcept { return position_; }
  std::size_t remaining() const noexcept { return input_.size() - position_; }
  bool empty() const noexcept { return remaining() == 0; }
  // The unread bytes.
  BytesView rest() const noexcept { return input_.subspan(position_); }
  // The whole input, read and unread.
  BytesView input() const noexcept { return input_; }

  ReadResult<std::uint8_t> read_u8() noexcept {
    if (remaining() < 1) return ReadError::kTruncated;
    return input_[position_++];
  }
  ReadResult<std::uint16_t> read_u16() noexcept { return read_be<std::uint16_t, 2>(); }
  ReadResult<std::uint32_t> read_u24() noexcept { return read_be<std::uint32_t, 3>(); }
  ReadResult<std::uint32_t> read_u32() noexcept { return read_be<std::uint32_t, 4>(); }
  ReadResult<std::uint64_t> read_u48() noexcept { return read_be<std::uint64_t, 6>(); }
  ReadResult<std::uint64_t> read_u64() noexcept { return read_be<std::uint64_t, 8>(); }

  // A view of the next `count` bytes (into the input, not a copy).
  ReadResult<BytesView> read_bytes(std::size_t count) noexcept {
    if (remaining() < count) return ReadError::kTruncated;
    BytesView out = input_.subspan(position_, count);
    position_ += count;
    return out;
  }
  // Copies the next out.size() bytes into `out`.
  Expected<void, ReadError> read_into(MutableBytesView out) noexcept;

  Expected<void, ReadError> skip(std::size_t count) noexcept {
    if (remaining() < count) return ReadError::kTruncated;
    position_ += count;
    return {};
  }
  // Skips padding up to the next multiple of `alignment` (a power of two) from the start.
  Expected<void, ReadError> align(std::size_t alignment) noexcept {
    const std::size_t pad = (alignment - position_ % alignment) % alignment;
    return skip(pad);
  }

  // Peeks without consuming.
  ReadResult<std::uint8_t> peek_u8() const noexcept {
    if (remaining() < 1) return ReadError::kTruncated;
    return input_[position_];
  }

  // A sub-reader over the next `count` bytes; this reader moves past them.
  ReadResult<ByteReader> sub_reader(std::size_t count) noexcept {
    auto bytes = read_bytes(count);
    if (!bytes) return bytes.error();
    return ByteReader(*bytes);
  }

 private:
  template <typename T, std::size_t N>
  ReadResult<T> read_be() noexcept {
    if (remaining() < N) return ReadError::kTruncated;
    T value = 0;
    for (std::size_t i = 0; i < N; ++i)
      value = static_cast<T>((value << 8) | input_[position_ + i]);
    position_ += N;
    return value;
  }

  BytesView input_;
  std::size_t position_ = 0;
};

// Loads and stores of big-endian integers at a known-valid location (callers check bounds).
inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace rtcpp
