// RFC 4571 framing for ICE-TCP (RFC 6544 3): every STUN, DTLS or other packet on an ICE-TCP
// connection is preceded by its length as a 16-bit big-endian number. The deframer is a
// bounded, sans-IO parser: bytes from the stream go in, whole packets come out, and a length
// beyond the configured limit is an error after which the connection is to be closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/bytes.hpp"

namespace rtcpp::ice {

// The 2-byte length prefix followed by the packet. Packets longer than 65535 bytes cannot be
// framed (RFC 4571 2): nullopt.
std::optional<Buffer> frame_rfc4571(BytesView packet);

class Rfc4571Deframer {
 public:
  // The longest packet accepted. A DTLS record is at most 2^14 bytes of plaintext plus its
  // expansion (RFC 6347 4.1.1.1 / RFC 5246 6.2.3), and a STUN message over ICE is far
  // smaller, so 18 KiB admits everything a peer legitimately frames.
  static constexpr std::size_t kDefaultMaxPacket = 18 * 1024;

  explicit Rfc4571Deframer(std::size_t max_packet = kDefaultMaxPacket)
      : max_packet_(max_packet < 65535 ? max_packet : 65535) {}

  // Appends bytes read from the stream. Returns false (and stays failed) when a length
  // prefix announces a packet larger than the limit; nothing more is buffered then. The
  // caller takes the whole packets (next()) before pushing more, so what is held stays
  // within one read plus one packet.
  bool push(BytesView bytes);
  // The next whole packet, if one is buffered. Zero-length frames are legal (RFC 4571 2
  // does not forbid them) and come out as empty packets.
  std::optional<Buffer> next();

  bool failed() const noexcept { return failed_; }
  // Bytes held and not handed out yet.
  std::size_t buffered() const noexcept { return pending_.size() - consumed_; }

 private:
  std::size_t length_at(std::size_t at) const;

  std::size_t max_packet_;
  std::vector<std::uint8_t> pending_;
  std::size_t consumed_ = 0;  // of pending_, handed out already
  bool failed_ = false;
};

}  // namespace rtcpp::ice
