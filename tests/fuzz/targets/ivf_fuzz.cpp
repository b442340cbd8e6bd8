// IVF files from anywhere: never crash; frames stay inside the input; a file that parses
// (up to its first bad frame) writes back to one that parses to the same header and frames.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "media/ivf.hpp"

using namespace rtcpp;
using namespace rtcpp::media;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  auto parser = IvfParser::open(input);
  if (!parser) return 0;
  std::vector<IvfFrame> frames;
  while (true) {
    auto frame = parser->next_frame();
    if (!frame || !*frame) break;
    const BytesView bytes = (*frame)->data;
    if (!bytes.empty() && (bytes.data() < data || bytes.data() + bytes.size() > data + size))
      std::abort();
    frames.push_back(**frame);
  }

  Buffer out;
  write_ivf_file_header(parser->header(), out);
  for (const auto& frame : frames) {
    if (!write_ivf_frame(frame.timestamp, frame.data, out)) std::abort();
  }
  auto again = IvfParser::open(out);
  if (!again) std::abort();
  IvfFileHeader expected = parser->header();
  expected.header_size = kIvfFileHeaderSize;
  if (!(again->header() == expected)) std::abort();
  for (const auto& frame : frames) {
    auto next = again->next_frame();
    if (!next || !*next || (*next)->timestamp != frame.timestamp ||
        !equal_bytes((*next)->data, frame.data))
      std::abort();
  }
  auto end = again->next_frame();
  if (!end || *end) std::abort();
  return 0;
}
