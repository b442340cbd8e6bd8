// Bytes waiting to go out on a stream socket (ICE-TCP connections, TURN over TCP or TLS), in
// order and bounded: a socket takes a buffer in pieces, so the queue remembers how much of
// the front one was written.
#pragma once

#include <cstddef>
#include <deque>

#include "base/bytes.hpp"

namespace rtcpp::runtime {

class StreamWriteQueue {
 public:
  explicit StreamWriteQueue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Queues `bytes`; false, and nothing queued, when that would pass the limit (the caller
  // drops it, as a full network queue would).
  bool push(Buffer bytes) {
    if (queued_bytes_ + bytes.size() > max_bytes_) return false;
    queued_bytes_ += bytes.size();
    queue_.push_back(std::move(bytes));
    return true;
  }
  bool empty() const noexcept { return queue_.empty(); }
  // What is left to write of the front buffer; only when !empty().
  BytesView pending() const noexcept {
    const Buffer& front = queue_.front();
    return BytesView(front.data() + written_, front.size() - written_);
  }
  // The socket took `n` bytes of pending().
  void consume(std::size_t n) noexcept {
    written_ += n;
    if (written_ < queue_.front().size()) return;
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    written_ = 0;
  }
  void clear() noexcept {
    queue_.clear();
    queued_bytes_ = 0;
    written_ = 0;
  }

 private:
  std::size_t max_bytes_;
  std::deque<Buffer> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t written_ = 0;  // of queue_.front()
};

}  // namespace rtcpp::runtime
