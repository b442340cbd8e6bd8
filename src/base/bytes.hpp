// Byte views and the owning byte buffer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "base/packet_pool.hpp"

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
// Packet-sized storage comes from the per-thread packet pool (base/packet_pool.hpp).
class Buffer {
 public:
  Buffer() = default;
  // `size` zero bytes.
  explicit Buffer(std::size_t size) { resize(size); }
  Buffer(std::initializer_list<std::uint8_t> bytes) { assign({bytes.begin(), bytes.size()}); }
  explicit Buffer(BytesView bytes) { assign(bytes); }
  Buffer(const Buffer& other) { assign(other.view()); }
  Buffer(Buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  Buffer& operator=(const Buffer& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  ~Buffer() { release(); }

  static Buffer from_string(std::string_view text) { return Buffer(as_bytes(text)); }

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t capacity() const noexcept { return capacity_; }

  std::uint8_t& operator[](std::size_t i) noexcept { return data_[i]; }
  const std::uint8_t& operator[](std::size_t i) const noexcept { return data_[i]; }

  BytesView view() const noexcept { return {data_, size_}; }
  MutableBytesView mutable_view() noexcept { return {data_, size_}; }
  operator BytesView() const noexcept { return view(); }  // NOLINT(google-explicit-constructor)

  // Bytes added at the end are zero. Growth at least doubles the capacity, so a buffer grown a
  // field at a time (ByteWriter) is copied a logarithmic number of times.
  void resize(std::size_t size) {
    if (size > size_) {
      if (size > capacity_) reallocate(std::max(size, capacity_ * 2));
      std::memset(data_ + size_, 0, size - size_);
    }
    size_ = size;
  }
  void reserve(std::size_t capacity) {
    if (capacity > capacity_) reallocate(capacity);
  }
  // Empties the buffer but keeps its capacity, so a reused buffer does not allocate.
  void clear() noexcept { size_ = 0; }
  // `bytes` may view this buffer itself.
  void append(BytesView bytes) {
    if (bytes.empty()) return;
    if (size_ + bytes.size() > capacity_) {
      const std::size_t capacity = std::max(size_ + bytes.size(), capacity_ * 2);
      auto* bigger = PacketAllocator<std::uint8_t>().allocate(capacity);
      if (size_ > 0) std::memcpy(bigger, data_, size_);
      std::memcpy(bigger + size_, bytes.data(), bytes.size());
      const std::size_t size = size_ + bytes.size();
      release();
      data_ = bigger;
      size_ = size;
      capacity_ = capacity;
      return;
    }
    std::memmove(data_ + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  // Replaces the contents; within the capacity already held this does not allocate.
  void assign(BytesView bytes) {
    if (bytes.size() > capacity_) {
      release();
      reallocate(bytes.size());
    }
    if (!bytes.empty()) std::memmove(data_, bytes.data(), bytes.size());
    size_ = bytes.size();
  }
  void push_back(std::uint8_t byte) {
    if (size_ == capacity_) reallocate(std::max<std::size_t>(16, capacity_ * 2));
    data_[size_++] = byte;
  }

  std::uint8_t* begin() noexcept { return data_; }
  std::uint8_t* end() noexcept { return data_ + size_; }
  const std::uint8_t* begin() const noexcept { return data_; }
  const std::uint8_t* end() const noexcept { return data_ + size_; }

  friend bool operator==(const Buffer& a, const Buffer& b) noexcept {
    return equal_bytes(a.view(), b.view());
  }

 private:
  // Storage for at least `capacity` bytes, the contents kept.
  void reallocate(std::size_t capacity) {
    auto* bigger = PacketAllocator<std::uint8_t>().allocate(capacity);
    if (size_ > 0) std::memcpy(bigger, data_, size_);
    const std::size_t size = size_;
    release();
    data_ = bigger;
    size_ = size;
    capacity_ = capacity;
  }
  void release() noexcept {
    if (data_ != nullptr) PacketAllocator<std::uint8_t>().deallocate(data_, capacity_);
    data_ = nullptr;
    size_ = 0;
    capacity_ = 0;
  }

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace rtcpp
