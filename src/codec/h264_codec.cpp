#include "codec/h264_codec.hpp"

#include <wels/codec_api.h>

#include <algorithm>
#include <string>

#include "codec/video_settings.hpp"

namespace rtcpp::codec {
namespace {

class OpenH264Encoder final : public VideoEncoder {
 public:
  explicit OpenH264Encoder(const VideoEncoderConfig& config) : config_(config) {}
  ~OpenH264Encoder() override { release(); }

  Result<void> initialize() {
    release();
    if (WelsCreateSVCEncoder(&encoder_) != 0 || encoder_ == nullptr) {
      return operation_error("OpenH264: no encoder");
    }
    int quiet = WELS_LOG_QUIET;
    encoder_->SetOption(ENCODER_OPTION_TRACE_LEVEL, &quiet);
    SEncParamExt params{};
    encoder_->GetDefaultParams(&params);
    params.iUsageType = CAMERA_VIDEO_REAL_TIME;
    params.iPicWidth = config_.width;
    params.iPicHeight = config_.height;
    params.iTargetBitrate = static_cast<int>(config_.bitrate_bps);
    params.iMaxBitrate = UNSPECIFIED_BIT_RATE;
    params.iRCMode = RC_BITRATE_MODE;
    params.fMaxFrameRate = static_cast<float>(config_.max_framerate);
    params.bEnableFrameSkip = true;
    params.uiIntraPeriod = static_cast<unsigned>(std::max(0, config_.key_frame_interval));
    params.eSpsPpsIdStrategy = CONSTANT_ID;
    params.bPrefixNalAddingCtrl = false;
    params.iEntropyCodingModeFlag = 0;  // CAVLC: constrained baseline has no CABAC
    params.bEnableDenoise = false;
    params.bEnableBackgroundDetection = true;
    params.bEnableAdaptiveQuant = true;
    params.bEnableSceneChangeDetect = true;
    params.bEnableLongTermReference = false;
    params.iNumRefFrame = 1;
    params.iMultipleThreadIdc = static_cast<unsigned short>(encoder_threads(config_));
    params.iTemporalLayerNum = 1;
    params.iSpatialLayerNum = 1;
    SSpatialLayerConfig& layer = params.sSpatialLayers[0];
    layer.iVideoWidth = config_.width;
    layer.iVideoHeight = config_.height;
    layer.fFrameRate = params.fMaxFrameRate;
    layer.iSpatialBitrate = params.iTargetBitrate;
    layer.iMaxSpatialBitrate = params.iMaxBitrate;
    layer.uiProfileIdc = PRO_BASELINE;
    // One slice a picture; the payload format splits large NAL units into FU-A fragments.
    layer.sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
    if (encoder_->InitializeExt(&params) != 0) {
      release();
      return operation_error("OpenH264: encoder settings refused");
    }
    int format = videoFormatI420;
    encoder_->SetOption(ENCODER_OPTION_DATAFORMAT, &format);
    return {};
  }

  VideoCodec codec() const noexcept override { return VideoCodec::kH264; }
  std::string_view implementation() const noexcept override { return "OpenH264"; }

  Result<void> encode(const media::VideoFrame& frame, bool force_key_frame,
                      std::vector<EncodedVideoFrame>& out) override {
    out.clear();
    if (frame.empty()) return range_error("encode: empty frame");
    if (frame.width() != config_.width || frame.height() != config_.height || encoder_ == nullptr) {
      config_.width = frame.width();
      config_.height = frame.height();
      if (auto ok = initialize(); !ok) return ok;
      force_key_frame = true;
    }
    if (force_key_frame) encoder_->ForceIntraFrame(true);
    SSourcePicture picture{};
    picture.iColorFormat = videoFormatI420;
    picture.iPicWidth = frame.width();
    picture.iPicHeight = frame.height();
    picture.iStride[0] = frame.stride_y();
    picture.iStride[1] = frame.stride_u();
    picture.iStride[2] = frame.stride_v();
    // OpenH264 only reads the source picture.
    picture.pData[0] = const_cast<std::uint8_t*>(frame.data_y());
    picture.pData[1] = const_cast<std::uint8_t*>(frame.data_u());
    picture.pData[2] = const_cast<std::uint8_t*>(frame.data_v());
    picture.uiTimeStamp = frame.timestamp_us / 1000;
    SFrameBSInfo info{};
    if (encoder_->EncodeFrame(&picture, &info) != cmResultSuccess) {
      return operation_error("OpenH264: encoding failed");
    }
    if (info.eFrameType == videoFrameTypeSkip || info.eFrameType == videoFrameTypeInvalid) {
      return {};
    }
    EncodedVideoFrame encoded;
    encoded.data.reserve(static_cast<std::size_t>(std::max(0, info.iFrameSizeInBytes)));
    // Every layer's NAL units already carry Annex B start codes.
    for (int i = 0; i < info.iLayerNum; ++i) {
      const SLayerBSInfo& layer = info.sLayerInfo[i];
      std::size_t size = 0;
      for (int n = 0; n < layer.iNalCount; ++n) {
        size += static_cast<std::size_t>(layer.pNalLengthInByte[n]);
      }
      encoded.data.append({layer.pBsBuf, size});
    }
    encoded.key_frame = info.eFrameType == videoFrameTypeIDR;
    encoded.width = frame.width();
    encoded.height = frame.height();
    encoded.timestamp_us = frame.timestamp_us;
    out.push_back(std::move(encoded));
    return {};
  }

  Result<void> set_rates(std::uint32_t bitrate_bps, double framerate) override {
    if (auto ok = check_rates(bitrate_bps, framerate); !ok) return ok;
    config_.bitrate_bps = bitrate_bps;
    config_.max_framerate = framerate;
    if (encoder_ == nullptr) return {};
    SBitrateInfo rate{};
    rate.iLayer = SPATIAL_LAYER_ALL;
    rate.iBitrate = static_cast<int>(bitrate_bps);
    auto fps = static_cast<float>(framerate);
    if (encoder_->SetOption(ENCODER_OPTION_BITRATE, &rate) != 0 ||
        encoder_->SetOption(ENCODER_OPTION_FRAME_RATE, &fps) != 0) {
      return operation_error("OpenH264: rate change refused");
    }
    return {};
  }

 private:
  void release() {
    if (encoder_ != nullptr) {
      encoder_->Uninitialize();
      WelsDestroySVCEncoder(encoder_);
      encoder_ = nullptr;
    }
  }

  VideoEncoderConfig config_;
  ISVCEncoder* encoder_ = nullptr;
};

class OpenH264Decoder final : public VideoDecoder {
 public:
  ~OpenH264Decoder() override {
    if (decoder_ != nullptr) {
      decoder_->Uninitialize();
      WelsDestroyDecoder(decoder_);
    }
  }

  Result<void> initialize() {
    if (WelsCreateDecoder(&decoder_) != 0 || decoder_ == nullptr) {
      return operation_error("OpenH264: no decoder");
    }
    int quiet = WELS_LOG_QUIET;
    decoder_->SetOption(DECODER_OPTION_TRACE_LEVEL, &quiet);
    SDecodingParam params{};
    params.sVideoProperty.size = sizeof(params.sVideoProperty);
    params.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_AVC;
    // No concealed pictures: a frame that cannot be decoded is an error, and the receiver
    // asks for a key frame.
    params.eEcActiveIdc = ERROR_CON_DISABLE;
    if (decoder_->Initialize(&params) != 0) return operation_error("OpenH264: decoder settings");
    return {};
  }

  VideoCodec codec() const noexcept override { return VideoCodec::kH264; }
  std::string_view implementation() const noexcept override { return "OpenH264"; }

  Result<std::optional<media::VideoFrame>> decode(BytesView frame,
                                                  std::int64_t timestamp_us) override {
    if (frame.empty()) return data_error("decode: empty frame");
    if (frame.size() > kMaxEncodedFrameSize) return data_error("decode: frame too large");
    std::uint8_t* planes[3] = {nullptr, nullptr, nullptr};
    SBufferInfo info{};
    const DECODING_STATE state =
        decoder_->DecodeFrameNoDelay(frame.data(), static_cast<int>(frame.size()), planes, &info);
    if (state != dsErrorFree) {
      return data_error("OpenH264: decoding failed (state " + std::to_string(state) + ")");
    }
    if (info.iBufferStatus != 1) return std::optional<media::VideoFrame>{};
    const SSysMEMBuffer& picture = info.UsrData.sSystemBuffer;
    auto copy = media::copy_i420(planes[0], picture.iStride[0], planes[1], picture.iStride[1],
                                 planes[2], picture.iStride[1], picture.iWidth, picture.iHeight);
    if (!copy) return copy.error();
    copy->timestamp_us = timestamp_us;
    return std::optional<media::VideoFrame>(std::move(*copy));
  }

 private:
  ISVCDecoder* decoder_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<VideoEncoder>> make_h264_encoder(const VideoEncoderConfig& config) {
  if (auto ok = check_encoder_config(config); !ok) return ok.error();
  if (config.temporal_layers != 1) return not_supported_error("H.264: one temporal layer only");
  auto encoder = std::make_unique<OpenH264Encoder>(config);
  if (auto ok = encoder->initialize(); !ok) return ok.error();
  return std::unique_ptr<VideoEncoder>(std::move(encoder));
}

Result<std::unique_ptr<VideoDecoder>> make_h264_decoder() {
  auto decoder = std::make_unique<OpenH264Decoder>();
  if (auto ok = decoder->initialize(); !ok) return ok.error();
  return std::unique_ptr<VideoDecoder>(std::move(decoder));
}

}  // namespace rtcpp::codec
