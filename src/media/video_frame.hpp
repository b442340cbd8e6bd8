// Raw video frames: planar I420 (the format every codec here encodes from and decodes to),
// with conversion from the formats sources deliver (NV12, YUYV, MJPEG, ARGB) and scaling,
// all through libyuv.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::media {

// The largest picture side accepted anywhere a frame is made (8K is 7680).
inline constexpr int kMaxVideoDimension = 16384;

// An I420 picture: a full-resolution Y plane and U and V planes of half the width and half
// the height (rounded up), each tightly packed (stride equals width). Owns its pixels.
class VideoFrame {
 public:
  VideoFrame() = default;
  // A black frame; RangeError for a side below 1 or above kMaxVideoDimension.
  static Result<VideoFrame> create(int width, int height);

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  int chroma_width() const noexcept { return (width_ + 1) / 2; }
  int chroma_height() const noexcept { return (height_ + 1) / 2; }
  int stride_y() const noexcept { return width_; }
  int stride_u() const noexcept { return chroma_width(); }
  int stride_v() const noexcept { return chroma_width(); }
  bool empty() const noexcept { return width_ == 0; }

  std::uint8_t* data_y() noexcept { return pixels_.data(); }
  std::uint8_t* data_u() noexcept { return data_y() + plane_y_size(); }
  std::uint8_t* data_v() noexcept { return data_u() + plane_uv_size(); }
  const std::uint8_t* data_y() const noexcept { return pixels_.data(); }
  const std::uint8_t* data_u() const noexcept { return data_y() + plane_y_size(); }
  const std::uint8_t* data_v() const noexcept { return data_u() + plane_uv_size(); }
  // The three planes back to back (Y, U, V): the layout of a Y4M frame.
  BytesView bytes() const noexcept { return {pixels_.data(), pixels_.size()}; }
  MutableBytesView mutable_bytes() noexcept { return {pixels_.data(), pixels_.size()}; }
  static std::size_t byte_size(int width, int height) noexcept {
    const auto cw = static_cast<std::size_t>((width + 1) / 2);
    const auto ch = static_cast<std::size_t>((height + 1) / 2);
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) + 2 * cw * ch;
  }

  // Capture (or presentation) time in microseconds on the source's clock.
  std::int64_t timestamp_us = 0;

 private:
  std::size_t plane_y_size() const noexcept {
    return static_cast<std::size_t>(width_) * static_cast<std::size_t>(height_);
  }
  std::size_t plane_uv_size() const noexcept {
    return static_cast<std::size_t>(chroma_width()) * static_cast<std::size_t>(chroma_height());
  }
  int width_ = 0;
  int height_ = 0;
  std::vector<std::uint8_t> pixels_;
};

// Copies a picture given as three planes with their strides into a new frame.
Result<VideoFrame> copy_i420(const std::uint8_t* y, int stride_y, const std::uint8_t* u,
                             int stride_u, const std::uint8_t* v, int stride_v, int width,
                             int height);
// NV12 (a Y plane, then interleaved UV at half resolution), as hardware and cameras give.
Result<VideoFrame> i420_from_nv12(BytesView nv12, int width, int height);
Result<void> nv12_from_i420(const VideoFrame& frame, Buffer& out);
// Packed YUYV 4:2:2 (V4L2_PIX_FMT_YUYV), the uncompressed format of USB cameras.
Result<VideoFrame> i420_from_yuyv(BytesView yuyv, int width, int height);
// ARGB as libyuv names it: B, G, R, A bytes in memory (little-endian 0xAARRGGBB words),
// which is X11's 32-bit ZPixmap layout.
Result<VideoFrame> i420_from_argb(BytesView argb, int stride, int width, int height);
// A baseline or progressive JPEG (a V4L2 MJPEG frame); DataError for one libyuv cannot decode.
Result<VideoFrame> i420_from_mjpeg(BytesView jpeg, int width, int height);
// Scales to width x height with bilinear filtering (box when shrinking by more than half).
Result<VideoFrame> scale(const VideoFrame& frame, int width, int height);

// PSNR of the luma and both chroma planes together, in dB, of two frames of one size; 100 for
// identical frames. InvalidAccessError when the sizes differ.
Result<double> psnr(const VideoFrame& a, const VideoFrame& b);

}  // namespace rtcpp::media
