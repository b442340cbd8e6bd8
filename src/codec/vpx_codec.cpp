#include "codec/vpx_codec.hpp"

#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <thread>

#include "codec/video_settings.hpp"

namespace rtcpp::codec {
namespace {

std::string vpx_message(vpx_codec_ctx_t* context, const char* what) {
  std::string text = std::string(what) + ": " + vpx_codec_error(context);
  if (const char* detail = vpx_codec_error_detail(context); detail != nullptr) {
    text += " (" + std::string(detail) + ")";
  }
  return text;
}

// Points a vpx_image_t at a frame's planes without copying them.
void wrap_frame(const media::VideoFrame& frame, vpx_image_t& image) {
  vpx_img_wrap(&image, VPX_IMG_FMT_I420, static_cast<unsigned>(frame.width()),
               static_cast<unsigned>(frame.height()), 1,
               const_cast<std::uint8_t*>(frame.data_y()));  // libvpx only reads it
  image.planes[VPX_PLANE_Y] = const_cast<std::uint8_t*>(frame.data_y());
  image.planes[VPX_PLANE_U] = const_cast<std::uint8_t*>(frame.data_u());
  image.planes[VPX_PLANE_V] = const_cast<std::uint8_t*>(frame.data_v());
  image.stride[VPX_PLANE_Y] = frame.stride_y();
  image.stride[VPX_PLANE_U] = frame.stride_u();
  image.stride[VPX_PLANE_V] = frame.stride_v();
}

// The VP8 reference structure of each temporal pattern, frame by frame: which buffers a frame
// may predict from and which it refreshes. A layer only ever references its own layer or
// lower ones, so dropping the upper layers leaves a decodable stream.
struct Vp8LayerFrame {
  int layer;
  vpx_enc_frame_flags_t flags;
};
constexpr vpx_enc_frame_flags_t kNoRefGoldenAltref = VP8_EFLAG_NO_REF_GF | VP8_EFLAG_NO_REF_ARF;
constexpr vpx_enc_frame_flags_t kNoUpdateAny =
    VP8_EFLAG_NO_UPD_LAST | VP8_EFLAG_NO_UPD_GF | VP8_EFLAG_NO_UPD_ARF;
// Two layers, 0 1 0 1: layer 1 frames predict from the last layer 0 frame and refresh nothing.
constexpr std::array<Vp8LayerFrame, 2> kVp8TwoLayers{{
    {0, kNoRefGoldenAltref | VP8_EFLAG_NO_UPD_GF | VP8_EFLAG_NO_UPD_ARF},
    {1, kNoRefGoldenAltref | kNoUpdateAny},
}};
// Three layers, 0 2 1 2: layer 1 predicts from layer 0 and refreshes golden; layer 2 predicts
// from last (layer 0) and golden (layer 1) and refreshes nothing.
constexpr std::array<Vp8LayerFrame, 4> kVp8ThreeLayers{{
    {0, kNoRefGoldenAltref | VP8_EFLAG_NO_UPD_GF | VP8_EFLAG_NO_UPD_ARF},
    {2, VP8_EFLAG_NO_REF_ARF | kNoUpdateAny},
    {1, kNoRefGoldenAltref | VP8_EFLAG_NO_UPD_LAST | VP8_EFLAG_NO_UPD_ARF},
    {2, VP8_EFLAG_NO_REF_ARF | kNoUpdateAny},
}};

class VpxEncoder final : public VideoEncoder {
 public:
  VpxEncoder(VideoCodec codec, const VideoEncoderConfig& config) : codec_(codec), config_(config) {}
  ~VpxEncoder() override { release(); }

  Result<void> initialize() {
    release();
    vpx_codec_iface_t* iface = codec_ == VideoCodec::kVp8 ? vpx_codec_vp8_cx() : vpx_codec_vp9_cx();
    if (vpx_codec_enc_config_default(iface, &settings_, 0) != VPX_CODEC_OK) {
      return operation_error("libvpx: no default encoder configuration");
    }
    settings_.g_w = static_cast<unsigned>(config_.width);
    settings_.g_h = static_cast<unsigned>(config_.height);
    settings_.g_timebase = {1, 90000};  // RTP's video clock: pts are RTP timestamps
    settings_.g_threads = static_cast<unsigned>(encoder_threads(config_));
    settings_.g_pass = VPX_RC_ONE_PASS;
    settings_.g_lag_in_frames = 0;  // every frame out as it goes in
    settings_.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
    settings_.rc_end_usage = VPX_CBR;
    settings_.rc_target_bitrate = std::max(1u, config_.bitrate_bps / 1000);
    settings_.rc_min_quantizer = 2;
    settings_.rc_max_quantizer = codec_ == VideoCodec::kVp8 ? 56 : 52;
    settings_.rc_undershoot_pct = 100;
    settings_.rc_overshoot_pct = 15;
    settings_.rc_buf_initial_sz = 500;
    settings_.rc_buf_optimal_sz = 600;
    settings_.rc_buf_sz = 1000;
    settings_.rc_dropframe_thresh = 30;  // drop rather than overshoot badly on a hard scene
    settings_.rc_resize_allowed = 0;
    if (config_.key_frame_interval > 0) {
      settings_.kf_mode = VPX_KF_AUTO;
      settings_.kf_min_dist = 0;
      settings_.kf_max_dist = static_cast<unsigned>(config_.key_frame_interval);
    } else {
      settings_.kf_mode = VPX_KF_DISABLED;
    }
    configure_layers();

    if (vpx_codec_enc_init(&context_, iface, &settings_, 0) != VPX_CODEC_OK) {
      std::string text = vpx_message(&context_, "libvpx encoder");
      return operation_error(text);
    }
    initialized_ = true;
    if (codec_ == VideoCodec::kVp8) {
      // Real-time speed must be set: libvpx's default (0) is several times slower. -6 is
      // the fast end of what keeps quality for camera content.
      control(VP8E_SET_CPUUSED, -6);
      control(VP8E_SET_NOISE_SENSITIVITY, 0);
      control(VP8E_SET_STATIC_THRESHOLD, 1);
      control(VP8E_SET_TOKEN_PARTITIONS, static_cast<int>(VP8_ONE_TOKENPARTITION));
      control(VP8E_SET_MAX_INTRA_BITRATE_PCT, max_intra_percent());
    } else {
      control(VP8E_SET_CPUUSED, 7);
      control(VP9E_SET_AQ_MODE, 3);  // cyclic refresh, the real-time mode
      control(VP9E_SET_ROW_MT, 1);
      control(VP9E_SET_TILE_COLUMNS, settings_.g_threads > 1 ? 1 : 0);
      control(VP9E_SET_FRAME_PARALLEL_DECODING, 0);
      control(VP8E_SET_MAX_INTRA_BITRATE_PCT, max_intra_percent());
      control(VP9E_SET_NOISE_SENSITIVITY, 0);
      if (settings_.ts_number_layers > 1) {
        // Temporal layers alone are SVC with one spatial layer at full scale.
        control(VP9E_SET_SVC, 1);
        vpx_svc_extra_cfg_t svc{};
        for (unsigned layer = 0; layer < settings_.ts_number_layers; ++layer) {
          svc.max_quantizers[layer] = static_cast<int>(settings_.rc_max_quantizer);
          svc.min_quantizers[layer] = static_cast<int>(settings_.rc_min_quantizer);
        }
        svc.scaling_factor_num[0] = 1;
        svc.scaling_factor_den[0] = 1;
        vpx_codec_control(&context_, VP9E_SET_SVC_PARAMETERS, &svc);
      }
    }
    frames_in_pattern_ = 0;
    return {};
  }

  VideoCodec codec() const noexcept override { return codec_; }
  std::string_view implementation() const noexcept override { return "libvpx"; }

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
    vpx_image_t image{};
    wrap_frame(frame, image);
    vpx_enc_frame_flags_t flags = force_key_frame ? VPX_EFLAG_FORCE_KF : 0;
    int layer = 0;
    if (codec_ == VideoCodec::kVp8 && settings_.ts_number_layers > 1) {
      const Vp8LayerFrame step = vp8_pattern_step();
      layer = step.layer;
      if (!force_key_frame) flags |= step.flags;
      control(VP8E_SET_TEMPORAL_LAYER_ID, layer);
    }
    const auto pts = static_cast<vpx_codec_pts_t>(frame.timestamp_us * 9 / 100);
    const auto duration =
        static_cast<unsigned long>(90000.0 / std::max(1.0, config_.max_framerate));
    if (vpx_codec_encode(&context_, &image, pts, duration, flags, VPX_DL_REALTIME) !=
        VPX_CODEC_OK) {
      return operation_error(vpx_message(&context_, "libvpx encode"));
    }
    ++frames_in_pattern_;
    vpx_codec_iter_t iter = nullptr;
    while (const vpx_codec_cx_pkt_t* packet = vpx_codec_get_cx_data(&context_, &iter)) {
      if (packet->kind != VPX_CODEC_CX_FRAME_PKT) continue;
      EncodedVideoFrame encoded;
      encoded.data.assign(
          {static_cast<const std::uint8_t*>(packet->data.frame.buf), packet->data.frame.sz});
      encoded.key_frame = (packet->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
      encoded.width = frame.width();
      encoded.height = frame.height();
      encoded.timestamp_us = frame.timestamp_us;
      encoded.temporal_layer = layer;
      if (codec_ == VideoCodec::kVp9 && settings_.ts_number_layers > 1) {
        vpx_svc_layer_id_t layer_id{};
        if (vpx_codec_control(&context_, VP9E_GET_SVC_LAYER_ID, &layer_id) == VPX_CODEC_OK) {
          encoded.temporal_layer = layer_id.temporal_layer_id;
        }
      }
      int qp = -1;
      if (vpx_codec_control(&context_, VP8E_GET_LAST_QUANTIZER, &qp) == VPX_CODEC_OK) {
        encoded.qp = qp;
      }
      out.push_back(std::move(encoded));
    }
    return {};
  }

  Result<void> set_rates(std::uint32_t bitrate_bps, double framerate) override {
    if (auto ok = check_rates(bitrate_bps, framerate); !ok) return ok;
    config_.bitrate_bps = bitrate_bps;
    config_.max_framerate = framerate;
    if (!initialized_) return {};
    settings_.rc_target_bitrate = bitrate_bps / 1000;
    configure_layers();
    if (vpx_codec_enc_config_set(&context_, &settings_) != VPX_CODEC_OK) {
      return operation_error(vpx_message(&context_, "libvpx rate change"));
    }
    return {};
  }

 private:
  template <typename T>
  void control(int id, T value) {
    // A control the build of libvpx lacks is not worth failing the encoder for.
    (void)vpx_codec_control_(&context_, id, value);
  }

  // Caps key frames at this percent of an average frame's budget (libwebrtc's formula: half
  // the buffer's optimal size, in frames), so that one key frame does not flood the path.
  int max_intra_percent() const {
    const double percent = 0.5 * settings_.rc_buf_optimal_sz * config_.max_framerate / 10.0;
    return std::max(300, static_cast<int>(percent));
  }

  void configure_layers() {
    const int layers = std::clamp(config_.temporal_layers, 1, 3);
    settings_.ts_number_layers = static_cast<unsigned>(layers);
    if (layers == 1) {
      settings_.ts_periodicity = 0;
      return;
    }
    const unsigned total = settings_.rc_target_bitrate;
    if (layers == 2) {
      // Cumulative shares: the base layer takes 60 %.
      settings_.ts_target_bitrate[0] = total * 60 / 100;
      settings_.ts_target_bitrate[1] = total;
      settings_.ts_rate_decimator[0] = 2;
      settings_.ts_rate_decimator[1] = 1;
      settings_.ts_periodicity = 2;
      settings_.ts_layer_id[0] = 0;
      settings_.ts_layer_id[1] = 1;
      settings_.temporal_layering_mode = VP9E_TEMPORAL_LAYERING_MODE_0101;
    } else {
      settings_.ts_target_bitrate[0] = total * 40 / 100;
      settings_.ts_target_bitrate[1] = total * 60 / 100;
      settings_.ts_target_bitrate[2] = total;
      settings_.ts_rate_decimator[0] = 4;
      settings_.ts_rate_decimator[1] = 2;
      settings_.ts_rate_decimator[2] = 1;
      settings_.ts_periodicity = 4;
      settings_.ts_layer_id[0] = 0;
      settings_.ts_layer_id[1] = 2;
      settings_.ts_layer_id[2] = 1;
      settings_.ts_layer_id[3] = 2;
      settings_.temporal_layering_mode = VP9E_TEMPORAL_LAYERING_MODE_0212;
    }
    // VP9 reads the per-layer rates of its SVC configuration (one spatial layer here).
    settings_.ss_number_layers = 1;
    for (int layer = 0; layer < layers; ++layer) {
      settings_.layer_target_bitrate[layer] = settings_.ts_target_bitrate[layer];
    }
  }

  Vp8LayerFrame vp8_pattern_step() const {
    if (settings_.ts_number_layers == 2) return kVp8TwoLayers[frames_in_pattern_ % 2];
    return kVp8ThreeLayers[frames_in_pattern_ % 4];
  }

  void release() {
    if (initialized_) vpx_codec_destroy(&context_);
    initialized_ = false;
  }

  VideoCodec codec_;
  VideoEncoderConfig config_;
  vpx_codec_enc_cfg_t settings_{};
  vpx_codec_ctx_t context_{};
  bool initialized_ = false;
  std::uint64_t frames_in_pattern_ = 0;
};

class VpxDecoder final : public VideoDecoder {
 public:
  explicit VpxDecoder(VideoCodec codec) : codec_(codec) {}
  ~VpxDecoder() override {
    if (initialized_) vpx_codec_destroy(&context_);
  }

  Result<void> initialize() {
    vpx_codec_dec_cfg_t settings{};
    settings.threads = 1;
    vpx_codec_iface_t* iface = codec_ == VideoCodec::kVp8 ? vpx_codec_vp8_dx() : vpx_codec_vp9_dx();
    if (vpx_codec_dec_init(&context_, iface, &settings, 0) != VPX_CODEC_OK) {
      return operation_error(vpx_message(&context_, "libvpx decoder"));
    }
    initialized_ = true;
    return {};
  }

  VideoCodec codec() const noexcept override { return codec_; }
  std::string_view implementation() const noexcept override { return "libvpx"; }

  Result<std::optional<media::VideoFrame>> decode(BytesView frame,
                                                  std::int64_t timestamp_us) override {
    if (frame.empty()) return data_error("decode: empty frame");
    if (frame.size() > kMaxEncodedFrameSize) return data_error("decode: frame too large");
    if (vpx_codec_decode(&context_, frame.data(), static_cast<unsigned>(frame.size()), nullptr,
                         0) != VPX_CODEC_OK) {
      return data_error(vpx_message(&context_, "libvpx decode"));
    }
    std::optional<media::VideoFrame> picture;
    vpx_codec_iter_t iter = nullptr;
    while (vpx_image_t* image = vpx_codec_get_frame(&context_, &iter)) {
      if (image->fmt != VPX_IMG_FMT_I420) {
        // VP9 profiles 1-3 (4:4:4, 10-bit) are not negotiated by WebRTC's default profile.
        return not_supported_error("libvpx decode: only 8-bit 4:2:0 pictures are supported");
      }
      auto copy = media::copy_i420(image->planes[VPX_PLANE_Y], image->stride[VPX_PLANE_Y],
                                   image->planes[VPX_PLANE_U], image->stride[VPX_PLANE_U],
                                   image->planes[VPX_PLANE_V], image->stride[VPX_PLANE_V],
                                   static_cast<int>(image->d_w), static_cast<int>(image->d_h));
      if (!copy) return copy.error();
      copy->timestamp_us = timestamp_us;
      picture = std::move(*copy);
    }
    return picture;
  }

 private:
  VideoCodec codec_;
  vpx_codec_ctx_t context_{};
  bool initialized_ = false;
};

}  // namespace

Result<std::unique_ptr<VideoEncoder>> make_vpx_encoder(VideoCodec codec,
                                                       const VideoEncoderConfig& config) {
  if (auto ok = check_encoder_config(config); !ok) return ok.error();
  auto encoder = std::make_unique<VpxEncoder>(codec, config);
  if (auto ok = encoder->initialize(); !ok) return ok.error();
  return std::unique_ptr<VideoEncoder>(std::move(encoder));
}

Result<std::unique_ptr<VideoDecoder>> make_vpx_decoder(VideoCodec codec) {
  auto decoder = std::make_unique<VpxDecoder>(codec);
  if (auto ok = decoder->initialize(); !ok) return ok.error();
  return std::unique_ptr<VideoDecoder>(std::move(decoder));
}

}  // namespace rtcpp::codec
