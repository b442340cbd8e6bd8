// ByteWriter: bounds-checked writes of network-byte-order fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "base/bytes.hpp"

namespace rtcpp {

// Writes big-endian fields into a fixed, caller-owned region, or appends them to a Buffer
// that grows. In fixed mode a write that does not fit writes nothing, returns false and
// marks the writer failed (ok() turns false and stays false), so a serializer can write a
// whole message and check once at the end.
class ByteWriter {
 public:
  // Fixed mode: writes into `out`, never past its end.
  explicit ByteWriter(MutableBytesView out) noexcept : fixed_(out) {}
  // Growing mode: appends to `out` (existing contents are kept).
  explicit ByteWriter(Buffer& out) noexcept : growing_(&out), position_(out.size()) {}

  bool ok() const noexcept { return ok_; }
  // Bytes written so far (in growing mode, the buffer's size).
  std::size_t position() const noexcept { return position_; }
  // Room left in fixed mode; unbounded (SIZE_MAX) in growing mode.
  std::size_t remaining() const noexcept {
    return growing_ ? SIZE_MAX - position_ : fixed_.size() - position_;
  }
  // The written bytes.
  BytesView written() const noexcept {
    return growing_ ? growing_->view() : BytesView(fixed_.data(), position_);
  }

  bool write_u8(std::uint8_t v) noexcept { return write_be(v, 1); }
  bool write_u16(std::uint16_t v) noexcept { return write_be(v, 2); }
  bool write_u24(std::uint32_t v) noexcept { return write_be(v, 3); }
  bool write_u32(std::uint32_t v) noexcept { return write_be(v, 4); }
  bool write_u48(std::uint64_t v) noexcept { return write_be(v, 6); }
  bool write_u64(std::uint64_t v) noexcept { return write_be(v, 8); }
  bool write_bytes(BytesView bytes) noexcept {
    std::uint8_t* dst = reserve(bytes.size());
    if (dst == nullptr) return false;
    if (!bytes.empty()) std::memcpy(dst, bytes.data(), bytes.size());
    return true;
  }
  // Writes `count` zero bytes.
  bool write_zeros(std::size_t count) noexcept {
    std::uint8_t* dst = reserve(count);
    if (dst == nullptr) return false;
    if (count != 0) std::memset(dst, 0, count);
    return true;
  }
  // Zero-pads up to the next multiple of `alignment` from the start.
  bool pad_to(std::size_t alignment) noexcept {
    return write_zeros((alignment - position_ % alignment) % alignment);
  }
  // Overwrites a 16-bit field already written at `offset` (for lengths known at the end).
  bool patch_u16(std::size_t offset, std::uint16_t v) noexcept;
  bool patch_u32(std::size_t offset, std::uint32_t v) noexcept;

  // Claims `count` bytes and returns where to write them, or nullptr (and failure) if they
  // do not fit. The pointer is valid until the next write.
  std::uint8_t* reserve(std::size_t count) noexcept;

 private:
  bool write_be(std::uint64_t v, std::size_t n) noexcept {
    std::uint8_t* dst = reserve(n);
    if (dst == nullptr) return false;
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<std::uint8_t>(v >> (8 * (n - 1 - i)));
    return true;
  }
  std::uint8_t* at(std::size_t offset) noexcept {
    return growing_ ? growing_->data() + offset : fixed_.data() + offset;
  }

  MutableBytesView fixed_;
  Buffer* growing_ = nullptr;
  std::size_t position_ = 0;
  bool ok_ = true;
};

}  // namespace rtcpp
