// VP9 RTP payloads and frames: never crash. Descriptors that parse write back to the same
// bytes' worth and parse again to the same descriptor; inspect() and assemble() take any list
// of payloads and never output more than the payloads hold (plus a superframe index); and a
// frame packetized at any payload size comes back whole.
//
// Input: records [length (8) | payload], each payload also tried as a descriptor and a frame
// header; the records together are one frame's payloads; the whole input is also one frame.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "base/byte_reader.hpp"
#include "rtp/vp9.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

namespace {

// A superframe index: 2 marker bytes and up to 8 sizes of up to 4 bytes.
constexpr std::size_t kMaxIndexSize = 2 + 4 * kMaxVp9SuperframeFrames;

void check_descriptor(BytesView payload) {
  auto parsed = parse_vp9_payload(payload);
  if (!parsed) return;
  if (parsed->data.empty()) std::abort();
  Buffer out;
  ByteWriter writer(out);
  if (!parsed->descriptor.write_to(writer) || out.size() != parsed->descriptor.size()) std::abort();
  // Reserved bits aside, the descriptor is written as it came.
  if (out.size() + parsed->data.size() != payload.size()) std::abort();
  out.append(parsed->data);
  auto again = parse_vp9_payload(out);
  if (!again || !(again->descriptor == parsed->descriptor) ||
      !equal_bytes(again->data, parsed->data))
    std::abort();
}

void check_headers(BytesView bytes) {
  if (auto header = parse_vp9_frame_header(bytes); header && !header->key_frame) {
    if (header->width != 0 || header->height != 0) std::abort();
  }
  if (auto index = parse_vp9_superframe_index(bytes)) {
    if (index->frame_count == 0 || index->frame_count > kMaxVp9SuperframeFrames ||
        index->index_size > bytes.size())
      std::abort();
  }
}

void check_packetizer(BytesView input) {
  if (input.empty()) return;
  const BytesView frame = input.first(std::min<std::size_t>(input.size(), 2048));
  Vp9Packetizer packetizer(4 + input[0] % 200, input.size() > 1 ? input[1] << 7 : 0);
  bool key = (input[0] & 1) != 0;
  auto started = packetizer.start_frame(frame, key);
  if (!started && key) {
    if (started.error() != PayloadError::kMalformed && started.error() != PayloadError::kNoRoom)
      std::abort();
    key = false;
    started = packetizer.start_frame(frame, key);
  }
  if (!started) {
    if (started.error() != PayloadError::kNoRoom) std::abort();
    return;
  }
  std::vector<Buffer> payloads;
  while (packetizer.has_next()) {
    Buffer payload;
    auto last = packetizer.next_payload(payload);
    if (!last || *last == packetizer.has_next() || payload.size() > 4 + input[0] % 200u)
      std::abort();
    payloads.push_back(std::move(payload));
  }
  const Vp9PayloadFormat format;
  std::vector<BytesView> views(payloads.begin(), payloads.end());
  for (std::size_t i = 0; i < views.size(); ++i) {
    auto position = format.inspect(views[i]);
    if (!position || *position != (i == 0 ? FramePosition::kStart : FramePosition::kContinue))
      std::abort();
  }
  Buffer out;
  auto info = format.assemble(views, out);
  if (!info || !equal_bytes(out, frame) || info->key_frame != key) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  check_descriptor(input);
  check_headers(input);
  check_packetizer(input);

  const Vp9PayloadFormat format;
  std::vector<BytesView> payloads;
  std::size_t data_bytes = 0;
  ByteReader reader(input);
  while (!reader.empty()) {
    const std::uint8_t length = *reader.read_u8();
    const BytesView payload = *reader.read_bytes(std::min<std::size_t>(length, reader.remaining()));
    check_descriptor(payload);
    check_headers(payload);
    if (format.inspect(payload)) payloads.push_back(payload);
    if (auto parsed = parse_vp9_payload(payload)) data_bytes += parsed->data.size();
  }
  // Every suffix of the list (a frame may be cut anywhere by loss).
  for (std::size_t first = 0; first < payloads.size(); ++first) {
    Buffer frame;
    auto info = format.assemble(std::span(payloads).subspan(first), frame);
    if (!info) continue;
    if (frame.empty() || frame.size() > data_bytes + kMaxIndexSize) std::abort();
  }
  return 0;
}
