// Opus packet framing: never crashes, and what it accepts is consistent (RFC 6716 3.4: one
// to 48 frames, at most 120 ms, padding inside the packet).
#include <cstdint>
#include <cstdlib>

#include "rtp/opus.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  auto info = parse_opus_packet(input);
  auto samples = opus_packet_samples(input);
  if (info.has_value() != samples.has_value()) std::abort();
  if (!info) return 0;
  if (info->frame_count == 0 || info->frame_count > 48) std::abort();
  if (info->samples != info->frame_count * info->toc.frame_samples) std::abort();
  if (info->samples > kMaxOpusPacketSamples || info->samples != *samples) std::abort();
  if (info->padding >= size) std::abort();
  if (info->toc.config != data[0] >> 3) std::abort();
  return 0;
}
