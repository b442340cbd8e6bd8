// H.264 RTP payloads, SPS and fmtp values from anywhere: never crash.
//  - The input split into records [length (8) | payload] is inspected payload by payload and
//    assembled as one frame: a frame that assembles starts with a start code and stays within
//    the limit, and a payload that inspect() refuses makes assemble() refuse the frame.
//  - The input made into an access unit (records as NAL units with a valid type, escaped so
//    that no start code hides in them) packetized at a payload size and mode taken from the
//    input comes back from assemble() as those NAL units behind 4-byte start codes.
//  - The input as an SPS and as an fmtp value parses or not, without crashing; parsed values
//    keep their invariants.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "base/byte_reader.hpp"
#include "rtp/h264.hpp"
#include "rtp/h264_profile.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

namespace {

constexpr std::uint8_t kLongStartCode[] = {0, 0, 0, 1};
constexpr std::uint8_t kShortStartCode[] = {0, 0, 1};

std::vector<BytesView> records(BytesView input) {
  std::vector<BytesView> out;
  ByteReader reader(input);
  while (!reader.empty()) {
    const std::uint8_t length = *reader.read_u8();
    out.push_back(*reader.read_bytes(std::min<std::size_t>(length, reader.remaining())));
  }
  return out;
}

void check_depacketizing(BytesView input) {
  const H264PayloadFormat format;
  const std::vector<BytesView> payloads = records(input);
  bool all_valid = true;
  for (const BytesView payload : payloads) {
    auto position = format.inspect(payload);
    if (!position) {
      all_valid = false;
      continue;
    }
    // Only a packet led by an SPS or an access unit delimiter starts a frame.
    if (*position == FramePosition::kStart) {
      std::uint8_t first = h264_nal_type(payload[0]);
      if (first == kH264StapA && payload.size() > 3) first = h264_nal_type(payload[3]);
      if (first != kH264NalSps && first != kH264NalAccessUnitDelimiter) std::abort();
    }
  }
  Buffer frame;
  auto info = format.assemble(payloads, frame);
  if (!info) {
    if (!frame.empty()) std::abort();
    return;
  }
  if (!all_valid || payloads.empty()) std::abort();
  if (frame.size() < 5 || frame.size() > kMaxH264FrameSize || frame[0] != 0 || frame[1] != 0 ||
      frame[2] != 0 || frame[3] != 1)
    std::abort();
  if ((info->width == 0) != (info->height == 0)) std::abort();
}

void check_round_trip(BytesView input) {
  if (input.size() < 2) return;
  // 3 to 1026 bytes: FU-A needs 3.
  const std::size_t max_payload = 3 + input[0] + ((input[1] & std::size_t{0x03}) << 8);
  const auto mode = (input[1] & 0x04) != 0 ? H264PacketizationMode::kSingleNalUnit
                                           : H264PacketizationMode::kNonInterleaved;
  Buffer access_unit;
  Buffer expected;
  std::size_t largest_nal = 0;
  std::size_t index = 0;
  for (const BytesView record : records(input.subspan(2))) {
    if (record.empty()) continue;
    // The header: a type 1-23, an access unit delimiter (type 9) now and then.
    const auto type = static_cast<std::uint8_t>(1 + (record[0] & 0x1F) % 23);
    const auto header = static_cast<std::uint8_t>((record[0] & 0xE0) | type);
    Buffer nal{header};
    int zeros = 0;
    for (const std::uint8_t byte : record.subspan(1)) {
      // Emulation prevention, so that no start code appears inside the NAL unit.
      if (zeros >= 2 && byte <= 3) {
        nal.push_back(3);
        zeros = 0;
      }
      nal.push_back(byte);
      zeros = byte == 0 ? zeros + 1 : 0;
    }
    std::size_t size = nal.size();
    while (size > 1 && nal[size - 1] == 0) --size;
    nal.resize(size);
    // 3- or 4-byte start codes, and trailing zero bytes, by the record's index.
    access_unit.append(index % 3 == 0 ? BytesView(kLongStartCode) : BytesView(kShortStartCode));
    access_unit.append(nal);
    if (index % 5 == 4) access_unit.append(BytesView(kLongStartCode).first(2));
    ++index;
    if (type == kH264NalAccessUnitDelimiter) continue;
    expected.append(kLongStartCode);
    expected.append(nal);
    largest_nal = std::max(largest_nal, nal.size());
  }
  H264Packetizer packetizer(max_payload, mode);
  auto started = packetizer.start_frame(access_unit, false);
  if (access_unit.empty()) {
    if (started || started.error() != PayloadError::kEmpty) std::abort();
    return;
  }
  if (expected.empty()) {
    if (started || started.error() != PayloadError::kMalformed) std::abort();
    return;
  }
  if (mode == H264PacketizationMode::kSingleNalUnit && largest_nal > max_payload) {
    if (started || started.error() != PayloadError::kTooLarge) std::abort();
    return;
  }
  if (!started) std::abort();
  const H264PayloadFormat format;
  std::vector<Buffer> payloads;
  while (packetizer.has_next()) {
    Buffer out;
    auto last = packetizer.next_payload(out);
    if (!last || out.empty() || out.size() > max_payload || *last == packetizer.has_next() ||
        !format.inspect(out))
      std::abort();
    if (mode == H264PacketizationMode::kSingleNalUnit && (out[0] & 0x1F) >= kH264StapA)
      std::abort();
    payloads.push_back(std::move(out));
  }
  Buffer out;
  if (packetizer.next_payload(out)) std::abort();
  const std::vector<BytesView> views(payloads.begin(), payloads.end());
  Buffer frame;
  auto info = format.assemble(views, frame);
  if (!info || !(frame == expected)) std::abort();
}

void check_sps(BytesView input) {
  auto sps = parse_h264_sps(input);
  if (sps && (sps->width == 0 || sps->height == 0 || sps->seq_parameter_set_id > 31)) std::abort();
}

void check_fmtp(BytesView input) {
  const std::string_view text = as_string(input);
  auto fmtp = parse_h264_fmtp(text);
  if (h264_formats_match(text, text) != fmtp.has_value()) std::abort();
  if (!fmtp) return;
  if (fmtp->packetization_mode > 2) std::abort();
  const std::string written = h264_profile_level_id_string(fmtp->profile_level_id);
  auto again = parse_h264_profile_level_id(written);
  if (!again || again->profile != fmtp->profile_level_id.profile ||
      again->level != fmtp->profile_level_id.level)
    std::abort();
  auto answer = h264_answer_fmtp(text, H264Level::k3_1);
  if (!answer || !h264_formats_match(text, *answer)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  check_depacketizing(input);
  check_round_trip(input);
  check_sps(input);
  if (!input.empty()) check_sps(input.subspan(1));  // after a byte made an SPS header
  check_fmtp(input);
  return 0;
}
