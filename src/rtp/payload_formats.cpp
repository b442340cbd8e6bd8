#include "rtp/payload_formats.hpp"

#include <algorithm>

#include "rtp/av1.hpp"
#include "rtp/h264.hpp"
#include "rtp/h264_profile.hpp"
#include "rtp/vp8.hpp"
#include "rtp/vp9.hpp"

namespace rtcpp::rtp {
namespace {

bool same_name(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return (x | 0x20) == (y | 0x20); });
}

}  // namespace

bool has_video_payload_format(std::string_view codec_name) noexcept {
  return same_name(codec_name, "VP8") || same_name(codec_name, "H264") ||
         same_name(codec_name, "VP9") || same_name(codec_name, "AV1");
}

std::unique_ptr<PayloadFormat> make_payload_format(std::string_view codec_name) {
  if (same_name(codec_name, "VP8")) return std::make_unique<Vp8PayloadFormat>();
  if (same_name(codec_name, "H264")) return std::make_unique<H264PayloadFormat>();
  if (same_name(codec_name, "VP9")) return std::make_unique<Vp9PayloadFormat>();
  if (same_name(codec_name, "AV1")) return std::make_unique<Av1PayloadFormat>();
  return nullptr;
}

std::unique_ptr<Packetizer> make_packetizer(std::string_view codec_name,
                                            const PacketizerOptions& options) {
  if (same_name(codec_name, "VP8"))
    return std::make_unique<Vp8Packetizer>(options.max_payload_size,
                                           options.first_picture_id & kMaxVp8PictureId);
  if (same_name(codec_name, "H264")) {
    // RFC 6184 8.1: packetization-mode 0 when absent; mode 2 (interleaved) is never agreed.
    auto fmtp = parse_h264_fmtp(options.format_parameters);
    const bool non_interleaved = fmtp && fmtp->packetization_mode == 1;
    return std::make_unique<H264Packetizer>(
        options.max_payload_size, non_interleaved ? H264PacketizationMode::kNonInterleaved
                                                  : H264PacketizationMode::kSingleNalUnit);
  }
  if (same_name(codec_name, "VP9"))
    return std::make_unique<Vp9Packetizer>(options.max_payload_size,
                                           options.first_picture_id & 0x7FFF);
  if (same_name(codec_name, "AV1"))
    return std::make_unique<Av1Packetizer>(options.max_payload_size);
  return nullptr;
}

}  // namespace rtcpp::rtp
