// Conversion, scaling and comparison of raw video frames, all through libyuv (its SIMD row
// functions are what browsers use for the same work).
#include <libyuv/compare.h>
#include <libyuv/convert.h>
#include <libyuv/convert_from.h>
#include <libyuv/scale.h>

#include <cstdint>
#include <string>

#include "media/video_frame.hpp"

namespace rtcpp::media {
namespace {

bool valid_size(int width, int height) noexcept {
  return width >= 1 && height >= 1 && width <= kMaxVideoDimension && height <= kMaxVideoDimension;
}

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

Result<void> check_input(BytesView input, std::size_t needed, const char* format, int width,
                         int height) {
  if (input.size() < needed) {
    return range_error(std::string(format) + " " + size_text(width, height) + " needs " +
                       std::to_string(needed) + " bytes, got " + std::to_string(input.size()));
  }
  return {};
}

}  // namespace

Result<VideoFrame> copy_i420(const std::uint8_t* y, int stride_y, const std::uint8_t* u,
                             int stride_u, const std::uint8_t* v, int stride_v, int width,
                             int height) {
  auto frame = VideoFrame::create(width, height);
  if (!frame) return frame;
  if (y == nullptr || u == nullptr || v == nullptr || stride_y < width ||
      stride_u < frame->chroma_width() || stride_v < frame->chroma_width()) {
    return range_error("copy_i420: missing planes or strides below the width");
  }
  libyuv::I420Copy(y, stride_y, u, stride_u, v, stride_v, frame->data_y(), frame->stride_y(),
                   frame->data_u(), frame->stride_u(), frame->data_v(), frame->stride_v(), width,
                   height);
  return frame;
}

Result<VideoFrame> i420_from_nv12(BytesView nv12, int width, int height) {
  if (!valid_size(width, height)) return range_error("NV12 size " + size_text(width, height));
  const int chroma_stride = 2 * ((width + 1) / 2);
  const std::size_t needed =
      static_cast<std::size_t>(width) * static_cast<std::size_t>(height) +
      static_cast<std::size_t>(chroma_stride) * static_cast<std::size_t>((height + 1) / 2);
  if (auto ok = check_input(nv12, needed, "NV12", width, height); !ok) return ok.error();
  auto frame = VideoFrame::create(width, height);
  if (!frame) return frame;
  const std::uint8_t* uv = nv12.data() + static_cast<std::size_t>(width) * height;
  libyuv::NV12ToI420(nv12.data(), width, uv, chroma_stride, frame->data_y(), frame->stride_y(),
                     frame->data_u(), frame->stride_u(), frame->data_v(), frame->stride_v(), width,
                     height);
  return frame;
}

Result<void> nv12_from_i420(const VideoFrame& frame, Buffer& out) {
  if (frame.empty()) return range_error("nv12_from_i420: empty frame");
  const int width = frame.width();
  const int height = frame.height();
  const int chroma_stride = 2 * frame.chroma_width();
  const std::size_t y_size = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  out.resize(y_size + static_cast<std::size_t>(chroma_stride) *
                          static_cast<std::size_t>(frame.chroma_height()));
  libyuv::I420ToNV12(frame.data_y(), frame.stride_y(), frame.data_u(), frame.stride_u(),
                     frame.data_v(), frame.stride_v(), out.data(), width, out.data() + y_size,
                     chroma_stride, width, height);
  return {};
}

Result<VideoFrame> i420_from_yuyv(BytesView yuyv, int width, int height) {
  if (!valid_size(width, height)) return range_error("YUYV size " + size_text(width, height));
  const int stride = 2 * ((width + 1) / 2) * 2;
  const std::size_t needed = static_cast<std::size_t>(stride) * static_cast<std::size_t>(height);
  if (auto ok = check_input(yuyv, needed, "YUYV", width, height); !ok) return ok.error();
  auto frame = VideoFrame::create(width, height);
  if (!frame) return frame;
  libyuv::YUY2ToI420(yuyv.data(), stride, frame->data_y(), frame->stride_y(), frame->data_u(),
                     frame->stride_u(), frame->data_v(), frame->stride_v(), width, height);
  return frame;
}

Result<VideoFrame> i420_from_argb(BytesView argb, int stride, int width, int height) {
  if (!valid_size(width, height)) return range_error("ARGB size " + size_text(width, height));
  if (stride < 4 * width) return range_error("ARGB stride below 4 bytes a pixel");
  const std::size_t needed =
      static_cast<std::size_t>(stride) * static_cast<std::size_t>(height - 1) +
      4 * static_cast<std::size_t>(width);
  if (auto ok = check_input(argb, needed, "ARGB", width, height); !ok) return ok.error();
  auto frame = VideoFrame::create(width, height);
  if (!frame) return frame;
  libyuv::ARGBToI420(argb.data(), stride, frame->data_y(), frame->stride_y(), frame->data_u(),
                     frame->stride_u(), frame->data_v(), frame->stride_v(), width, height);
  return frame;
}

Result<VideoFrame> i420_from_mjpeg(BytesView jpeg, int width, int height) {
  if (!valid_size(width, height)) return range_error("MJPEG size " + size_text(width, height));
  // libyuv's JPEG reader has no hard limit of its own; a camera frame is well under this.
  constexpr std::size_t kMaxJpegSize = 64u << 20;
  if (jpeg.size() < 4 || jpeg.size() > kMaxJpegSize) {
    return data_error("MJPEG frame of " + std::to_string(jpeg.size()) + " bytes");
  }
  int jpeg_width = 0;
  int jpeg_height = 0;
  if (libyuv::MJPGSize(jpeg.data(), jpeg.size(), &jpeg_width, &jpeg_height) != 0) {
    return data_error("MJPEG frame: not a JPEG libyuv can read");
  }
  if (jpeg_width != width || jpeg_height != height) {
    return data_error("MJPEG frame is " + size_text(jpeg_width, jpeg_height) + ", expected " +
                      size_text(width, height));
  }
  auto frame = VideoFrame::create(width, height);
  if (!frame) return frame;
  if (libyuv::MJPGToI420(jpeg.data(), jpeg.size(), frame->data_y(), frame->stride_y(),
                         frame->data_u(), frame->stride_u(), frame->data_v(), frame->stride_v(),
                         width, height, width, height) != 0) {
    return data_error("MJPEG frame: decoding failed");
  }
  return frame;
}

Result<VideoFrame> scale(const VideoFrame& frame, int width, int height) {
  if (frame.empty()) return range_error("scale: empty frame");
  if (!valid_size(width, height)) return range_error("scale to " + size_text(width, height));
  auto scaled = VideoFrame::create(width, height);
  if (!scaled) return scaled;
  libyuv::I420Scale(frame.data_y(), frame.stride_y(), frame.data_u(), frame.stride_u(),
                    frame.data_v(), frame.stride_v(), frame.width(), frame.height(),
                    scaled->data_y(), scaled->stride_y(), scaled->data_u(), scaled->stride_u(),
                    scaled->data_v(), scaled->stride_v(), width, height, libyuv::kFilterBox);
  scaled->timestamp_us = frame.timestamp_us;
  return scaled;
}

Result<double> psnr(const VideoFrame& a, const VideoFrame& b) {
  if (a.empty() || a.width() != b.width() || a.height() != b.height()) {
    return invalid_access_error("psnr of frames of different sizes");
  }
  // libyuv gives 128 (its kMaxPsnr) for identical pictures; the header promises 100.
  const double value = libyuv::I420Psnr(
      a.data_y(), a.stride_y(), a.data_u(), a.stride_u(), a.data_v(), a.stride_v(), b.data_y(),
      b.stride_y(), b.data_u(), b.stride_u(), b.data_v(), b.stride_v(), a.width(), a.height());
  return value > 100.0 ? 100.0 : value;
}

}  // namespace rtcpp::media
