// AV1: decoding through dav1d, encoding through libaom in its real-time mode. Both take and
// give temporal units in the low-overhead bitstream format (AV1 5.2), which the RTP payload
// format (rtp/av1.hpp) joins and cuts.
#pragma once

#include <memory>

#include "codec/codec.hpp"

namespace rtcpp::codec {

Result<std::unique_ptr<VideoEncoder>> make_av1_encoder(const VideoEncoderConfig& config);
Result<std::unique_ptr<VideoDecoder>> make_av1_decoder();

}  // namespace rtcpp::codec
