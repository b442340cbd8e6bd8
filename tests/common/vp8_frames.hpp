// VP8 frames for tests and benchmarks that carry frames without a codec: the 3-byte frame tag
// (RFC 6386 9.1: P bit, show_frame, a first partition size), on key frames the start code and
// the dimensions, then the frame's number and a filler, so that each frame is recognisable
// wherever it arrives.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.hpp"

namespace test_support {

// At least 14 bytes for a key frame and 7 for another (smaller sizes are raised to that).
inline rtcpp::Buffer vp8_frame(std::uint32_t number, bool key, std::size_t size,
                               std::uint16_t width = 320, std::uint16_t height = 240) {
  const std::size_t header = key ? 10 : 3;
  rtcpp::Buffer frame(size < header + 4 ? header + 4 : size);
  const std::uint32_t tag = (key ? 0u : 1u) | (1u << 4) | (100u << 5);
  frame[0] = static_cast<std::uint8_t>(tag);
  frame[1] = static_cast<std::uint8_t>(tag >> 8);
  frame[2] = static_cast<std::uint8_t>(tag >> 16);
  if (key) {
    const std::uint8_t start[] = {0x9d,
                                  0x01,
                                  0x2a,
                                  static_cast<std::uint8_t>(width),
                                  static_cast<std::uint8_t>(width >> 8),
                                  static_cast<std::uint8_t>(height),
                                  static_cast<std::uint8_t>(height >> 8)};
    for (std::size_t i = 0; i < sizeof start; ++i) frame[3 + i] = start[i];
  }
  for (std::size_t i = 0; i < 4; ++i)
    frame[header + i] = static_cast<std::uint8_t>(number >> (8 * i));
  for (std::size_t at = header + 4; at < frame.size(); ++at)
    frame[at] = static_cast<std::uint8_t>(at * 7 + number);
  return frame;
}

// The number vp8_frame() wrote into a frame.
inline std::uint32_t vp8_frame_number(rtcpp::BytesView frame) {
  const std::size_t at = (frame[0] & 0x01) == 0 ? 10 : 3;
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < 4; ++i) n |= static_cast<std::uint32_t>(frame[at + i]) << (8 * i);
  return n;
}

}  // namespace test_support
