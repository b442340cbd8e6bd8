#include "rtcpp/video_frame.hpp"

#include <algorithm>
#include <string>

namespace rtcpp {

Result<VideoFrame> VideoFrame::create(int width, int height) {
  if (width < 1 || height < 1 || width > kMaxVideoDimension || height > kMaxVideoDimension)
    return range_error("video frame size " + std::to_string(width) + "x" + std::to_string(height) +
                       " outside 1.." + std::to_string(kMaxVideoDimension));
  VideoFrame frame;
  frame.width_ = width;
  frame.height_ = height;
  // Black in studio range (BT.601/709): Y 16, U and V at their midpoint 128.
  frame.pixels_.assign(byte_size(width, height), 128);
  std::fill_n(frame.pixels_.begin(), frame.plane_y_size(), std::uint8_t{16});
  return frame;
}

}  // namespace rtcpp
