// VP8 RTP payloads and packet sequences: never crash. Descriptors that parse write back to
// the same descriptor; arbitrary packet sequences (any order, duplicates, gaps, timestamps)
// give frames in sequence order, each from consecutive packets; and a frame packetized at
// any payload size comes back whole.
//
// Input: a sequence of records [sequence (16) | marker bit + timestamp index (8) | length (8)
// | payload], each payload also tried as a descriptor; the whole input is also one frame.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

#include "base/byte_reader.hpp"
#include "rtp/frame_assembler.hpp"
#include "rtp/vp8.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

namespace {

void check_descriptor(BytesView payload) {
  auto parsed = parse_vp8_payload(payload);
  if (!parsed) return;
  if (parsed->data.empty()) std::abort();
  Buffer out;
  ByteWriter writer(out);
  if (!parsed->descriptor.write_to(writer) || out.size() != parsed->descriptor.size()) std::abort();
  // The rewrite is never longer; it is shorter when X was set with no field after it.
  if (out.size() + parsed->data.size() > payload.size()) std::abort();
  out.append(parsed->data);
  auto again = parse_vp8_payload(out);
  if (!again || !(again->descriptor == parsed->descriptor) ||
      !equal_bytes(again->data, parsed->data))
    std::abort();
}

void check_packetizer(BytesView input) {
  if (input.empty()) return;
  input = input.first(std::min<std::size_t>(input.size(), 1024));  // keeps runs fast
  Buffer frame(input);
  frame[0] &= 0xFE;  // a key frame, so that the depacketizer delivers it at once
  Vp8Packetizer packetizer(5 + input[0] % 200, input.size() > 1 ? input[1] : 0);
  if (!packetizer.start_frame(frame, true)) std::abort();
  std::vector<Buffer> payloads;
  std::size_t payload_bytes = 0;
  while (packetizer.has_next()) {
    Buffer payload;
    auto last = packetizer.next_payload(payload);
    if (!last || payload.size() > 5 + input[0] % 200u || *last == packetizer.has_next())
      std::abort();
    payload_bytes += payload.size();
    payloads.push_back(std::move(payload));
  }
  // Room for the whole frame, descriptors included (the assembler holds payloads as they came).
  FrameAssemblerConfig config;
  config.max_pending_packets = payloads.size();
  config.max_pending_bytes = payload_bytes;
  FrameAssembler depacketizer(std::make_unique<Vp8PayloadFormat>(), config);
  const std::uint16_t first = input.size() > 2 ? static_cast<std::uint16_t>(input[2] << 8) : 0;
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    const auto seq = static_cast<std::uint16_t>(first + i);
    if (!depacketizer.insert(seq, 1234, i + 1 == payloads.size(), payloads[i])) std::abort();
  }
  auto out = depacketizer.poll_frame();
  if (!out || !(out->data == frame) || !out->key_frame || depacketizer.poll_frame()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  check_descriptor(input);
  check_packetizer(input);

  FrameAssemblerConfig config;
  config.max_pending_packets = 64;
  config.max_pending_bytes = 4096;
  config.max_frames_behind_gap = input.empty() ? 0 : input[0] % 4;
  FrameAssembler depacketizer(std::make_unique<Vp8PayloadFormat>(), config);
  ByteReader reader(input);
  std::optional<std::int64_t> last_delivered;
  std::size_t inserted = 0;
  while (reader.remaining() >= 4) {
    const std::uint16_t seq = *reader.read_u16();
    const std::uint8_t flags = *reader.read_u8();
    const std::uint8_t length = *reader.read_u8();
    const BytesView payload = *reader.read_bytes(std::min<std::size_t>(length, reader.remaining()));
    check_descriptor(payload);
    (void)depacketizer.insert(seq, (flags >> 1) * 3000u, (flags & 1) != 0, payload);
    ++inserted;
    while (auto frame = depacketizer.poll_frame()) {
      if (frame->data.empty() || frame->last_sequence < frame->first_sequence) std::abort();
      if (last_delivered && frame->first_sequence <= *last_delivered) std::abort();
      // Each packet carried at least one byte of the frame.
      const auto packets =
          static_cast<std::uint64_t>(frame->last_sequence - frame->first_sequence + 1);
      if (packets > frame->data.size() || packets > inserted) std::abort();
      if (frame->key_frame != ((frame->data[0] & 1) == 0)) std::abort();
      last_delivered = frame->last_sequence;
    }
  }
  const auto& stats = depacketizer.stats();
  if (stats.frames_delivered + stats.frames_dropped > inserted) std::abort();
  return 0;
}
