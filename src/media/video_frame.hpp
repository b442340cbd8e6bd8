// Raw video frames (rtcpp::VideoFrame, rtcpp/video_frame.hpp): conversion from the formats
// sources deliver (NV12, YUYV, MJPEG, ARGB), scaling and comparison, all through libyuv.
#pragma once

#include <cstdint>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"
#include "rtcpp/video_frame.hpp"

namespace rtcpp::media {

using rtcpp::kMaxVideoDimension;
using rtcpp::VideoFrame;

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
// Scales to width x height with libyuv's box filter (its highest quality).
Result<VideoFrame> scale(const VideoFrame& frame, int width, int height);

// PSNR of the luma and both chroma planes together, in dB, of two frames of one size; 100 for
// identical frames. InvalidAccessError when the sizes differ.
Result<double> psnr(const VideoFrame& a, const VideoFrame& b);

}  // namespace rtcpp::media
