// A FIFO queue on a ring of slots that keeps its storage. std::deque frees and allocates a
// block every few elements as it slides along; this one allocates only when it grows past
// its largest size so far, so a hot path that pushes and pops at a steady rate does not
// allocate at all. Popped slots keep their objects (and any capacity those own) for the next
// push_slot() to reuse.
#pragma once

#include <cstddef>
#include <iterator>
#include <utility>
#include <vector>

namespace rtcpp {

template <typename T>
class RingQueue {
  template <typename Queue, typename Value>
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = Value*;
    using reference = Value&;

    Iterator() = default;
    Iterator(Queue* queue, std::size_t index) : queue_(queue), index_(index) {}
    Value& operator*() const { return (*queue_)[index_]; }
    Value* operator->() const { return &(*queue_)[index_]; }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++index_;
      return before;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.index_ == b.index_; }

   private:
    Queue* queue_ = nullptr;
    std::size_t index_ = 0;
  };

 public:
  using iterator = Iterator<RingQueue, T>;
  using const_iterator = Iterator<const RingQueue, const T>;

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  T& operator[](std::size_t i) noexcept { return slots_[(head_ + i) & mask_]; }
  const T& operator[](std::size_t i) const noexcept { return slots_[(head_ + i) & mask_]; }
  T& front() noexcept { return (*this)[0]; }
  const T& front() const noexcept { return (*this)[0]; }
  T& back() noexcept { return (*this)[size_ - 1]; }
  const T& back() const noexcept { return (*this)[size_ - 1]; }

  // Appends a slot and returns it as its last occupant left it: the caller sets every field
  // it relies on (a Buffer keeps its capacity this way).
  T& push_slot() {
    if (size_ == slots_.size()) grow();
    ++size_;
    return back();
  }
  void push_back(T value) { push_slot() = std::move(value); }
  void pop_front() noexcept {
    head_ = (head_ + 1) & mask_;
    --size_;
  }
  void pop_back() noexcept { --size_; }
  // Removes element i, keeping the order of the others (linear: for short queues).
  void erase_at(std::size_t i) {
    for (; i + 1 < size_; ++i) std::swap((*this)[i], (*this)[i + 1]);
    --size_;
  }
  void clear() noexcept {
    head_ = 0;
    size_ = 0;
  }

  iterator begin() noexcept { return {this, 0}; }
  iterator end() noexcept { return {this, size_}; }
  const_iterator begin() const noexcept { return {this, 0}; }
  const_iterator end() const noexcept { return {this, size_}; }

 private:
  void grow() {
    // A power of two, so that an index wraps with a mask.
    std::vector<T> bigger(slots_.empty() ? 16 : 2 * slots_.size());
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_ = std::move(bigger);
    head_ = 0;
    mask_ = slots_.size() - 1;
  }

  std::vector<T> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t mask_ = 0;
};

}  // namespace rtcpp
