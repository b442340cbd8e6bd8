// Byte views and the owning byte buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace rtcpp {

// A non-owning view of bytes; the owner must outlive it.
using BytesView = std::span<const std::uint8_t>;
// A non-owning view of writable bytes.
using MutableBytesView = std::span<std::uint8_t>;

// Views a string's characters as bytes.
inline BytesView as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}
// Views bytes as characters (for text payloads and logs).
inline std::string_view as_string(BytesView bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
// Byte-wise equality of two views.
inline bool equal_bytes(BytesView a, BytesView b) noexcept {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// An owning, growable byte buffer. Moves are cheap; copies are explicit in intent but allowed.
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t size) : bytes_(size) {}
  Buffer(std::initializer_list<std::uint8_t> bytes) : bytes_(bytes) {}
  explicit Buffer(BytesView bytes) : bytes_(bytes.begin(), bytes.end()) {}

  static Buffer from_string(std::string_view text) { return Buffer(as_bytes(text)); }

  std::uint8_t* data() noexcept { return bytes_.data(); }
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return bytes_.size(); }
  bool empty() const noexcept { return bytes_.empty(); }
  std::size_t capacity() const noexcept { return bytes_.capacity(); }

  std::uint8_t& operator[](std::size_t i) noexcept { return bytes_[i]; }
  const std::uint8_t& operator[](std::size_t i) const noexcept { return bytes_[i]; }

  BytesView view() const noexcept { return {bytes_.data(), bytes_.size()}; }
  MutableBytesView mutable_view() noexcept { return {bytes_.data(), bytes_.size()}; }
  operator BytesView() const noexcept { return view(); }  // NOLINT(google-explicit-constructor)

  void resize(std::size_t size) { bytes_.resize(size); }
  void reserve(std::size_t capacity) { bytes_.reserve(capacity); }
  // Empties the buffer but keeps its capacity, so a reused buffer does not allocate.
  void clear() noexcept { bytes_.clear(); }
  void append(BytesView bytes) { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
  // Replaces the contents; within the capacity already held this does not allocate.
  void assign(BytesView bytes) { bytes_.assign(bytes.begin(), bytes.end()); }
  void push_back(std::uint8_t byte) { bytes_.push_back(byte); }

  auto begin() noexcept { return bytes_.begin(); }
  auto end() noexcept { return bytes_.end(); }
  auto begin() const noexcept { return bytes_.begin(); }
  auto end() const noexcept { return bytes_.end(); }

  friend bool operator==(const Buffer& a, const Buffer& b) noexcept {
    return equal_bytes(a.view(), b.view());
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

}  // namespace rtcpp
