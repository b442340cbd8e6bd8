// Opus through libopus (RFC 6716), as WebRTC uses it (RFC 7587): VoIP application, in-band
// FEC and DTX on request, packet-loss concealment and FEC recovery on the receive side.
#pragma once

#include <memory>

#include "codec/codec.hpp"

namespace rtcpp::codec {

Result<std::unique_ptr<AudioEncoder>> make_opus_encoder(const AudioEncoderConfig& config);
Result<std::unique_ptr<AudioDecoder>> make_opus_decoder(int sample_rate, int channels);

}  // namespace rtcpp::codec
