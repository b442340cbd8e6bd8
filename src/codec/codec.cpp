#include "codec/codec.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "codec/av1_codec.hpp"
#include "codec/g711.hpp"
#include "codec/opus_codec.hpp"
#include "codec/vpx_codec.hpp"
#ifdef RTCPP_WITH_OPENH264
#include "codec/h264_codec.hpp"
#endif

namespace rtcpp::codec {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string_view rtp_name(VideoCodec codec) noexcept {
  switch (codec) {
    case VideoCodec::kVp8:
      return "VP8";
    case VideoCodec::kVp9:
      return "VP9";
    case VideoCodec::kH264:
      return "H264";
    case VideoCodec::kAv1:
      return "AV1";
  }
  return "";
}

std::string_view rtp_name(AudioCodec codec) noexcept {
  switch (codec) {
    case AudioCodec::kOpus:
      return "opus";
    case AudioCodec::kPcmu:
      return "PCMU";
    case AudioCodec::kPcma:
      return "PCMA";
  }
  return "";
}

std::optional<VideoCodec> video_codec_from_name(std::string_view name) noexcept {
  for (VideoCodec codec :
       {VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264, VideoCodec::kAv1}) {
    if (equal_ignoring_case(name, rtp_name(codec))) return codec;
  }
  return std::nullopt;
}

std::optional<AudioCodec> audio_codec_from_name(std::string_view name) noexcept {
  for (AudioCodec codec : {AudioCodec::kOpus, AudioCodec::kPcmu, AudioCodec::kPcma}) {
    if (equal_ignoring_case(name, rtp_name(codec))) return codec;
  }
  return std::nullopt;
}

int rtp_clock_rate(AudioCodec codec) noexcept {
  return codec == AudioCodec::kOpus ? 48000 : 8000;
}

bool can_encode(VideoCodec codec) noexcept {
#ifndef RTCPP_WITH_OPENH264
  if (codec == VideoCodec::kH264) return false;
#endif
  (void)codec;
  return true;
}

bool can_decode(VideoCodec codec) noexcept {
  return can_encode(codec);
}

Result<std::unique_ptr<VideoEncoder>> create_video_encoder(VideoCodec codec,
                                                           const VideoEncoderConfig& config) {
  switch (codec) {
    case VideoCodec::kVp8:
    case VideoCodec::kVp9:
      return make_vpx_encoder(codec, config);
    case VideoCodec::kAv1:
      return make_av1_encoder(config);
    case VideoCodec::kH264:
#ifdef RTCPP_WITH_OPENH264
      return make_h264_encoder(config);
#else
      break;
#endif
  }
  return not_supported_error("no " + std::string(rtp_name(codec)) + " encoder in this build");
}

Result<std::unique_ptr<VideoDecoder>> create_video_decoder(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::kVp8:
    case VideoCodec::kVp9:
      return make_vpx_decoder(codec);
    case VideoCodec::kAv1:
      return make_av1_decoder();
    case VideoCodec::kH264:
#ifdef RTCPP_WITH_OPENH264
      return make_h264_decoder();
#else
      break;
#endif
  }
  return not_supported_error("no " + std::string(rtp_name(codec)) + " decoder in this build");
}

Result<std::unique_ptr<AudioEncoder>> create_audio_encoder(AudioCodec codec,
                                                           const AudioEncoderConfig& config) {
  if (codec == AudioCodec::kOpus) return make_opus_encoder(config);
  return make_g711_encoder(codec, config);
}

Result<std::unique_ptr<AudioDecoder>> create_audio_decoder(AudioCodec codec, int sample_rate,
                                                           int channels) {
  if (codec == AudioCodec::kOpus) return make_opus_decoder(sample_rate, channels);
  return make_g711_decoder(codec, sample_rate, channels);
}

}  // namespace rtcpp::codec
