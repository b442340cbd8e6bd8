// The video payload formats rtcpp carries, by codec name (the rtpmap encoding name, compared
// without regard to case). Audio needs none: an audio RTP packet is one frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "rtp/payload_format.hpp"

namespace rtcpp::rtp {

// Whether frames of this video codec can be sent and received.
bool has_video_payload_format(std::string_view codec_name) noexcept;

// The receiving half; nullptr for a codec without one.
std::unique_ptr<PayloadFormat> make_payload_format(std::string_view codec_name);

struct PacketizerOptions {
  std::size_t max_payload_size = 1100;
  // Where per-stream counters (VP8 and VP9 picture ids) start; random, so that a restarted
  // sender does not repeat them.
  std::uint16_t first_picture_id = 0;
  // The format parameters both sides agreed on (the fmtp value), e.g. H.264's
  // packetization-mode.
  std::string_view format_parameters;
};
// The sending half; nullptr for a codec without one.
std::unique_ptr<Packetizer> make_packetizer(std::string_view codec_name,
                                            const PacketizerOptions& options);

}  // namespace rtcpp::rtp
