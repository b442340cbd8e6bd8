// Raw video in and out of rtcpp (an rtcpp extension: a browser paints and captures pictures
// itself): a picture in planar I420, the format every codec here encodes from and decodes to.
// RTCRtpSender::send_video_frame encodes them; RTCRtpReceiver::on_video_frame hands out the
// decoded ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rtcpp/error.hpp"

namespace rtcpp {

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
  std::span<const std::uint8_t> bytes() const noexcept { return {pixels_.data(), pixels_.size()}; }
  std::span<std::uint8_t> mutable_bytes() noexcept { return {pixels_.data(), pixels_.size()}; }
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

}  // namespace rtcpp
