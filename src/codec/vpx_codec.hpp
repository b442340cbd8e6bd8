// VP8 and VP9 through libvpx, set up for real-time communication: one-pass CBR, no
// look-ahead (lag 0), error-resilient, an explicit real-time speed, and optional temporal
// layers.
#pragma once

#include <memory>

#include "codec/codec.hpp"

namespace rtcpp::codec {

Result<std::unique_ptr<VideoEncoder>> make_vpx_encoder(VideoCodec codec,
                                                       const VideoEncoderConfig& config);
Result<std::unique_ptr<VideoDecoder>> make_vpx_decoder(VideoCodec codec);

}  // namespace rtcpp::codec
