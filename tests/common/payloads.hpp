// Test helpers over the payload-format interfaces (rtp/payload_format.hpp).
#pragma once

#include <vector>

#include "base/bytes.hpp"
#include "rtp/payload_format.hpp"

namespace test_support {

// Every payload of one frame, in order (the last one takes the marker bit).
inline rtcpp::Expected<std::vector<rtcpp::Buffer>, rtcpp::rtp::PayloadError> packetize_all(
    rtcpp::rtp::Packetizer& packetizer, rtcpp::BytesView frame, bool key_frame = true) {
  if (auto started = packetizer.start_frame(frame, key_frame); !started) return started.error();
  std::vector<rtcpp::Buffer> payloads;
  while (packetizer.has_next()) {
    rtcpp::Buffer payload;
    auto last = packetizer.next_payload(payload);
    if (!last) return last.error();
    payloads.push_back(std::move(payload));
    if (*last != !packetizer.has_next()) return rtcpp::rtp::PayloadError::kBrokenFrame;
  }
  return payloads;
}

}  // namespace test_support
