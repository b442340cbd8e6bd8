#include "codec/av1_codec.hpp"

#include <aom/aom_encoder.h>
#include <aom/aomcx.h>
#include <dav1d/dav1d.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "codec/video_settings.hpp"

namespace rtcpp::codec {
namespace {

class AomEncoder final : public VideoEncoder {
 public:
  explicit AomEncoder(const VideoEncoderConfig& config) : config_(config) {}
  ~AomEncoder() override { release(); }

  Result<void> initialize() {
    release();
    aom_codec_iface_t* iface = aom_codec_av1_cx();
    if (aom_codec_enc_config_default(iface, &settings_, AOM_USAGE_REALTIME) != AOM_CODEC_OK) {
      return operation_error("libaom: no real-time configuration");
    }
    settings_.g_w = static_cast<unsigned>(config_.width);
    settings_.g_h = static_cast<unsigned>(config_.height);
    settings_.g_timebase = {1, 90000};
    settings_.g_threads = static_cast<unsigned>(encoder_threads(config_));
    settings_.g_lag_in_frames = 0;
    settings_.g_error_resilient = 0;
    settings_.g_pass = AOM_RC_ONE_PASS;
    settings_.rc_end_usage = AOM_CBR;
    settings_.rc_target_bitrate = std::max(1u, config_.bitrate_bps / 1000);
    settings_.rc_min_quantizer = 10;
    settings_.rc_max_quantizer = 56;
    settings_.rc_undershoot_pct = 50;
    settings_.rc_overshoot_pct = 50;
    settings_.rc_buf_initial_sz = 600;
    settings_.rc_buf_optimal_sz = 600;
    settings_.rc_buf_sz = 1000;
    settings_.rc_dropframe_thresh = 0;
    if (config_.key_frame_interval > 0) {
      settings_.kf_mode = AOM_KF_AUTO;
      settings_.kf_max_dist = static_cast<unsigned>(config_.key_frame_interval);
    } else {
      settings_.kf_mode = AOM_KF_DISABLED;
    }
    if (aom_codec_enc_init(&context_, iface, &settings_, 0) != AOM_CODEC_OK) {
      return operation_error(std::string("libaom encoder: ") + aom_codec_error(&context_));
    }
    initialized_ = true;
    // Real-time speed 9: speed 10 leaves stale blocks behind on static content (the test
    // pattern's stamp read wrong in about one picture in 15 at 1 Mbit/s, 640x480); the search
    // tools that cost much and gain little on camera content are switched off.
    aom_codec_control(&context_, AOME_SET_CPUUSED, 9);
    aom_codec_control(&context_, AV1E_SET_AQ_MODE, 3);
    aom_codec_control(&context_, AV1E_SET_ROW_MT, 1);
    aom_codec_control(&context_, AV1E_SET_ENABLE_TPL_MODEL, 0);
    aom_codec_control(&context_, AV1E_SET_DELTAQ_MODE, 0);
    aom_codec_control(&context_, AV1E_SET_ENABLE_ORDER_HINT, 0);
    aom_codec_control(&context_, AV1E_SET_ENABLE_GLOBAL_MOTION, 0);
    aom_codec_control(&context_, AV1E_SET_ENABLE_WARPED_MOTION, 0);
    aom_codec_control(&context_, AV1E_SET_ENABLE_OBMC, 0);
    aom_codec_control(&context_, AV1E_SET_ENABLE_CDEF, 1);
    aom_codec_control(&context_, AV1E_SET_COEFF_COST_UPD_FREQ, 3);
    aom_codec_control(&context_, AV1E_SET_MODE_COST_UPD_FREQ, 3);
    aom_codec_control(&context_, AV1E_SET_MV_COST_UPD_FREQ, 3);
    aom_codec_control(&context_, AV1E_SET_TILE_COLUMNS, settings_.g_threads > 1 ? 1 : 0);
    return {};
  }

  VideoCodec codec() const noexcept override { return VideoCodec::kAv1; }
  std::string_view implementation() const noexcept override { return "libaom"; }

  Result<void> encode(const media::VideoFrame& frame, bool force_key_frame,
                      std::vector<EncodedVideoFrame>& out) override {
    out.clear();
    if (frame.empty()) return range_error("encode: empty frame");
    if (frame.width() != config_.width || frame.height() != config_.height || !initialized_) {
      config_.width = frame.width();
      config_.height = frame.height();
      if (auto ok = initialize(); !ok) return ok;
      force_key_frame = true;
    }
    aom_image_t image{};
    aom_img_wrap(&image, AOM_IMG_FMT_I420, static_cast<unsigned>(frame.width()),
                 static_cast<unsigned>(frame.height()), 1,
                 const_cast<std::uint8_t*>(frame.data_y()));  // libaom only reads it
    image.planes[AOM_PLANE_Y] = const_cast<std::uint8_t*>(frame.data_y());
    image.planes[AOM_PLANE_U] = const_cast<std::uint8_t*>(frame.data_u());
    image.planes[AOM_PLANE_V] = const_cast<std::uint8_t*>(frame.data_v());
    image.stride[AOM_PLANE_Y] = frame.stride_y();
    image.stride[AOM_PLANE_U] = frame.stride_u();
    image.stride[AOM_PLANE_V] = frame.stride_v();
    const auto pts = static_cast<aom_codec_pts_t>(frame.timestamp_us * 9 / 100);
    const auto duration =
        static_cast<unsigned long>(90000.0 / std::max(1.0, config_.max_framerate));
    if (aom_codec_encode(&context_, &image, pts, duration,
                         force_key_frame ? AOM_EFLAG_FORCE_KF : 0) != AOM_CODEC_OK) {
      return operation_error(std::string("libaom encode: ") + aom_codec_error(&context_));
    }
    aom_codec_iter_t iter = nullptr;
    EncodedVideoFrame encoded;
    bool any = false;
    // One temporal unit may come out as several packets; they form one frame.
    while (const aom_codec_cx_pkt_t* packet = aom_codec_get_cx_data(&context_, &iter)) {
      if (packet->kind != AOM_CODEC_CX_FRAME_PKT) continue;
      encoded.data.append(
          {static_cast<const std::uint8_t*>(packet->data.frame.buf), packet->data.frame.sz});
      encoded.key_frame = encoded.key_frame || (packet->data.frame.flags & AOM_FRAME_IS_KEY) != 0;
      any = true;
    }
    if (!any) return {};
    encoded.width = frame.width();
    encoded.height = frame.height();
    encoded.timestamp_us = frame.timestamp_us;
    int qp = -1;
    if (aom_codec_control(&context_, AOME_GET_LAST_QUANTIZER, &qp) == AOM_CODEC_OK) {
      encoded.qp = qp;
    }
    out.push_back(std::move(encoded));
    return {};
  }

  Result<void> set_rates(std::uint32_t bitrate_bps, double framerate) override {
    if (auto ok = check_rates(bitrate_bps, framerate); !ok) return ok;
    config_.bitrate_bps = bitrate_bps;
    config_.max_framerate = framerate;
    if (!initialized_) return {};
    settings_.rc_target_bitrate = bitrate_bps / 1000;
    if (aom_codec_enc_config_set(&context_, &settings_) != AOM_CODEC_OK) {
      return operation_error(std::string("libaom rate change: ") + aom_codec_error(&context_));
    }
    return {};
  }

 private:
  void release() {
    if (initialized_) aom_codec_destroy(&context_);
    initialized_ = false;
  }

  VideoEncoderConfig config_;
  aom_codec_enc_cfg_t settings_{};
  aom_codec_ctx_t context_{};
  bool initialized_ = false;
};

class Dav1dDecoder final : public VideoDecoder {
 public:
  ~Dav1dDecoder() override { dav1d_close(&context_); }

  Result<void> initialize() {
    Dav1dSettings settings;
    dav1d_default_settings(&settings);
    settings.n_threads = 1;
    settings.max_frame_delay = 1;        // a picture out for every frame in: no added latency
    settings.logger.callback = nullptr;  // errors come back as values; no stderr chatter
    if (dav1d_open(&context_, &settings) != 0) return operation_error("dav1d: no decoder");
    return {};
  }

  VideoCodec codec() const noexcept override { return VideoCodec::kAv1; }
  std::string_view implementation() const noexcept override { return "dav1d"; }

  Result<std::optional<media::VideoFrame>> decode(BytesView frame,
                                                  std::int64_t timestamp_us) override {
    if (frame.empty()) return data_error("decode: empty frame");
    if (frame.size() > kMaxEncodedFrameSize) return data_error("decode: frame too large");
    Dav1dData data{};
    std::uint8_t* copy = dav1d_data_create(&data, frame.size());
    if (copy == nullptr) return operation_error("dav1d: out of memory");
    std::memcpy(copy, frame.data(), frame.size());
    std::optional<media::VideoFrame> shown;
    // Feed the whole unit; with a frame delay of 1 the decoder hands out what it has
    // between sends.
    while (data.sz > 0) {
      const int sent = dav1d_send_data(context_, &data);
      if (sent < 0 && sent != DAV1D_ERR(EAGAIN)) {
        dav1d_data_unref(&data);
        dav1d_flush(context_);
        return data_error("dav1d: corrupt frame (" + std::to_string(-sent) + ")");
      }
      auto picture = take_picture(timestamp_us);
      if (!picture) {
        dav1d_data_unref(&data);
        return picture.error();
      }
      if (picture->has_value()) shown = std::move(*picture);
    }
    dav1d_data_unref(&data);
    for (;;) {
      auto picture = take_picture(timestamp_us);
      if (!picture) return picture.error();
      if (!picture->has_value()) break;
      shown = std::move(*picture);
    }
    return shown;
  }

 private:
  Result<std::optional<media::VideoFrame>> take_picture(std::int64_t timestamp_us) {
    Dav1dPicture picture{};
    const int got = dav1d_get_picture(context_, &picture);
    if (got == DAV1D_ERR(EAGAIN)) return std::optional<media::VideoFrame>{};
    if (got < 0) {
      dav1d_flush(context_);
      return data_error("dav1d: decoding failed (" + std::to_string(-got) + ")");
    }
    if (picture.p.layout != DAV1D_PIXEL_LAYOUT_I420 || picture.p.bpc != 8) {
      dav1d_picture_unref(&picture);
      return not_supported_error("dav1d: only 8-bit 4:2:0 pictures are supported");
    }
    auto frame = media::copy_i420(
        static_cast<const std::uint8_t*>(picture.data[0]), static_cast<int>(picture.stride[0]),
        static_cast<const std::uint8_t*>(picture.data[1]), static_cast<int>(picture.stride[1]),
        static_cast<const std::uint8_t*>(picture.data[2]), static_cast<int>(picture.stride[1]),
        picture.p.w, picture.p.h);
    dav1d_picture_unref(&picture);
    if (!frame) return frame.error();
    frame->timestamp_us = timestamp_us;
    return std::optional<media::VideoFrame>(std::move(*frame));
  }

  Dav1dContext* context_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<VideoEncoder>> make_av1_encoder(const VideoEncoderConfig& config) {
  if (auto ok = check_encoder_config(config); !ok) return ok.error();
  if (config.temporal_layers != 1) {
    return not_supported_error("AV1: temporal layers are not set up yet");
  }
  auto encoder = std::make_unique<AomEncoder>(config);
  if (auto ok = encoder->initialize(); !ok) return ok.error();
  return std::unique_ptr<VideoEncoder>(std::move(encoder));
}

Result<std::unique_ptr<VideoDecoder>> make_av1_decoder() {
  auto decoder = std::make_unique<Dav1dDecoder>();
  if (auto ok = decoder->initialize(); !ok) return ok.error();
  return std::unique_ptr<VideoDecoder>(std::move(decoder));
}

}  // namespace rtcpp::codec
