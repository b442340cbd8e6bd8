// An ICE-TCP stream from a remote peer (RFC 4571 framing): never crash, never hold more than
// the input, never hand out a packet over the limit, and what comes out re-frames into the
// bytes that went in.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "ice/tcp_framing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using rtcpp::ice::Rfc4571Deframer;
  if (size < 1) return 0;
  // The first byte picks the limit and how the stream is cut into reads.
  const std::size_t limit = 16u + std::size_t{data[0]} * 64u;
  const std::size_t chunk = 1u + (data[0] % 13u);
  Rfc4571Deframer deframer(limit);
  rtcpp::Buffer reframed;
  std::size_t at = 1;
  while (at < size) {
    const std::size_t n = std::min(chunk, size - at);
    if (!deframer.push(rtcpp::BytesView(data + at, n))) break;
    at += n;
    while (auto packet = deframer.next()) {
      if (packet->size() > limit) std::abort();
      reframed.append(*rtcpp::ice::frame_rfc4571(*packet));
    }
    if (deframer.buffered() > n + limit + 2) std::abort();
  }
  if (!deframer.failed()) {
    // Whole frames out + what is still buffered = the input, byte for byte.
    if (reframed.size() + deframer.buffered() != size - 1) std::abort();
    for (std::size_t i = 0; i < reframed.size(); ++i) {
      if (reframed[i] != data[1 + i]) std::abort();
    }
  }
  return 0;
}
