// H.264 through Cisco's OpenH264: constrained baseline (CAVLC, no B frames) in Annex B
// access units, which is what packetization-mode 1 (RFC 6184) carries. Built only with
// RTCPP_WITH_OPENH264 (see the README on H.264's patents).
#pragma once

#include <memory>

#include "codec/codec.hpp"

namespace rtcpp::codec {

Result<std::unique_ptr<VideoEncoder>> make_h264_encoder(const VideoEncoderConfig& config);
Result<std::unique_ptr<VideoDecoder>> make_h264_decoder();

}  // namespace rtcpp::codec
