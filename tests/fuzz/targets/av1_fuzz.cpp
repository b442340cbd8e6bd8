// AV1 RTP payloads and temporal units: never crash. inspect() and assemble() take any list of
// payloads, and what assemble() writes is no larger than the payloads allow (a temporal
// delimiter, and per OBU a size field of at most 5 bytes) and reads back as OBUs with size
// fields; the headers' parsers take any bytes; and a temporal unit packetized at any payload
// size comes back as normalize_av1_temporal_unit() writes it.
//
// Input: records [length (8) | payload], each payload also tried as an OBU, a sequence header
// and a frame header; the records together are one temporal unit's payloads; the whole input is
// also one temporal unit.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "base/byte_reader.hpp"
#include "rtp/av1.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

namespace {

// Whether `bytes` is a run of OBUs that all carry size fields, starting with a temporal
// delimiter, as assemble() and normalize_av1_temporal_unit() write.
bool low_overhead(BytesView bytes) {
  bool first = true;
  while (!bytes.empty()) {
    auto obu = read_av1_obu(bytes);
    if (!obu || !obu->header.has_size_field) return false;
    const bool delimiter =
        obu->header.type == static_cast<std::uint8_t>(Av1ObuType::kTemporalDelimiter);
    if (delimiter != first) return false;
    first = false;
    bytes = bytes.subspan(obu->total_size);
  }
  return !first;
}

void check_parsers(BytesView bytes) {
  if (auto leb = read_leb128(bytes)) {
    if (leb->length == 0 || leb->length > kMaxLeb128Bytes || leb->length > bytes.size())
      std::abort();
  }
  if (auto obu = read_av1_obu(bytes); obu && obu->total_size > bytes.size()) std::abort();
  if (auto header = parse_av1_sequence_header(bytes)) {
    if (header->max_frame_width == 0 || header->max_frame_width > 65536) std::abort();
  }
  (void)av1_frame_header_is_key_frame(bytes, false);
  Buffer normalized;
  if (normalize_av1_temporal_unit(bytes, normalized)) {
    if (normalized.size() > 2 + 6 * bytes.size() || !low_overhead(normalized)) std::abort();
  }
}

void check_packetizer(BytesView input) {
  if (input.empty()) return;
  const BytesView tu = input.first(std::min<std::size_t>(input.size(), 4096));
  const std::size_t max_payload = 1 + input[0] % 120;
  Av1Packetizer packetizer(max_payload);
  if (!packetizer.start_frame(tu, (input[0] & 1) != 0)) return;
  std::vector<Buffer> payloads;
  while (packetizer.has_next()) {
    Buffer payload;
    auto last = packetizer.next_payload(payload);
    if (!last || *last == packetizer.has_next() || payload.size() > max_payload) std::abort();
    payloads.push_back(std::move(payload));
  }
  const Av1PayloadFormat format;
  std::vector<BytesView> views(payloads.begin(), payloads.end());
  for (const BytesView payload : views)
    if (!format.inspect(payload)) std::abort();
  Buffer expected;
  if (!normalize_av1_temporal_unit(tu, expected)) std::abort();
  Buffer out;
  auto info = format.assemble(views, out);
  if (!info || !(out == expected)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  check_parsers(input);
  check_packetizer(input);

  const Av1PayloadFormat format;
  std::vector<BytesView> payloads;
  std::size_t total = 0;
  ByteReader reader(input);
  while (!reader.empty()) {
    const std::uint8_t length = *reader.read_u8();
    const BytesView payload = *reader.read_bytes(std::min<std::size_t>(length, reader.remaining()));
    check_parsers(payload);
    if (auto opened = Av1PayloadReader::open(payload)) {
      while (true) {
        auto element = opened->next();
        if (!element || !*element) break;
        if ((*element)->size() >= payload.size()) std::abort();  // the header byte is not in it
      }
    }
    if (format.inspect(payload)) {
      payloads.push_back(payload);
      total += payload.size();
    }
  }
  for (std::size_t first = 0; first < payloads.size(); ++first) {
    Buffer frame;
    if (!format.assemble(std::span(payloads).subspan(first), frame)) continue;
    if (frame.size() > 2 + 6 * total || !low_overhead(frame)) std::abort();
  }
  return 0;
}
