// Y4M files from anywhere: never crash; frames stay inside the input and are exactly one
// picture long; a file that parses (up to its first bad frame) writes back to one that parses
// to the same header and pictures.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "media/y4m.hpp"

using namespace rtcpp;
using namespace rtcpp::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  auto parser = Y4mParser::open(input);
  if (!parser) return 0;
  const Y4mHeader& header = parser->header();
  if (header.width < 1 || header.height < 1 || header.width > kMaxVideoDimension ||
      header.height > kMaxVideoDimension || header.fps_numerator == 0 ||
      header.fps_denominator == 0)
    std::abort();
  const std::size_t picture = VideoFrame::byte_size(header.width, header.height);
  std::vector<Y4mFrame> frames;
  while (true) {
    auto frame = parser->next_frame();
    if (!frame || !*frame) break;
    const BytesView bytes = (*frame)->data;
    if (bytes.size() != picture || bytes.data() < data || bytes.data() + bytes.size() > data + size)
      std::abort();
    if ((*frame)->index != frames.size()) std::abort();
    if (!frames.empty() && (*frame)->timestamp_us < frames.back().timestamp_us) std::abort();
    frames.push_back(**frame);
  }

  Buffer out;
  write_y4m_header(header, out);
  for (const auto& frame : frames) write_y4m_frame(frame.data, out);
  auto again = Y4mParser::open(out);
  if (!again) std::abort();
  Y4mHeader expected = header;
  if (expected.color_space.empty()) expected.color_space = "420jpeg";
  if (!(again->header() == expected)) std::abort();
  for (const auto& frame : frames) {
    auto next = again->next_frame();
    if (!next || !*next || (*next)->timestamp_us != frame.timestamp_us ||
        !equal_bytes((*next)->data, frame.data))
      std::abort();
  }
  auto end = again->next_frame();
  if (!end || *end) std::abort();
  return 0;
}
