#include "ice/tcp_framing.hpp"

#include <algorithm>
#include <cstring>

namespace rtcpp::ice {

std::optional<Buffer> frame_rfc4571(BytesView packet) {
  if (packet.size() > 65535) return std::nullopt;
  Buffer out(packet.size() + 2);
  out[0] = static_cast<std::uint8_t>(packet.size() >> 8);
  out[1] = static_cast<std::uint8_t>(packet.size() & 0xFF);
  if (!packet.empty()) std::memcpy(out.data() + 2, packet.data(), packet.size());
  return out;
}

std::size_t Rfc4571Deframer::length_at(std::size_t at) const {
  return (std::size_t{pending_[at]} << 8) | std::size_t{pending_[at + 1]};
}

bool Rfc4571Deframer::push(BytesView bytes) {
  if (failed_) return false;
  // Forget what was handed out, so the buffer holds only frames not taken yet.
  if (consumed_ > 0) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  // Every length prefix that is complete is checked now, before its body is waited for.
  std::size_t at = 0;
  while (pending_.size() - at >= 2) {
    const std::size_t length = length_at(at);
    if (length > max_packet_) {
      failed_ = true;
      pending_.clear();
      pending_.shrink_to_fit();
      return false;
    }
    if (pending_.size() - at < 2 + length) break;
    at += 2 + length;
  }
  return true;
}

std::optional<Buffer> Rfc4571Deframer::next() {
  if (failed_) return std::nullopt;
  const std::size_t have = pending_.size() - consumed_;
  if (have < 2) return std::nullopt;
  const std::size_t length = length_at(consumed_);
  if (have < 2 + length) return std::nullopt;
  Buffer packet(BytesView(pending_.data() + consumed_ + 2, length));
  consumed_ += 2 + length;
  if (consumed_ == pending_.size()) {
    pending_.clear();
    consumed_ = 0;
  }
  return packet;
}

}  // namespace rtcpp::ice
