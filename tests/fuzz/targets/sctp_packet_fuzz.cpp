// SCTP packets from the DTLS layer: never crash; every typed chunk parser gets every chunk,
// and what parses as a chunk writes back and parses to the same values.
#include <cstdint>
#include <cstdlib>

#include "sctp/packet.hpp"

using namespace rtcpp;
using namespace rtcpp::sctp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto packet = parse_packet(BytesView(data, size), ChecksumMode::kSkip);
  if (!packet) return 0;
  Buffer out;
  PacketBuilder builder(out, packet->header, 1 << 17);
  for (const auto& chunk : packet->chunks) {
    if (auto d = DataChunk::parse(chunk)) {
      if (!d->write_to(builder)) std::abort();
    }
    if (auto d = IDataChunk::parse(chunk)) {
      // I-DATA (RFC 8260) writes back to the same fields, the reserved ones as zero.
      Buffer one;
      PacketBuilder b(one, {}, 1 << 17);
      if (!d->write_to(b)) std::abort();
      auto again = parse_packet(one, ChecksumMode::kSkip);
      if (!again || again->chunks.size() != 1) std::abort();
      auto d2 = IDataChunk::parse(again->chunks[0]);
      if (!d2 || d2->tsn != d->tsn || d2->stream_id != d->stream_id ||
          d2->message_id != d->message_id || d2->fsn() != d->fsn() || d2->flags() != d->flags() ||
          !equal_bytes(d2->payload, d->payload))
        std::abort();
    }
    if (auto s = SackChunk::parse(chunk)) {
      Buffer one;
      PacketBuilder b(one, {}, 1 << 17);
      if (!s->write_to(b)) std::abort();
      auto again = parse_packet(one, ChecksumMode::kSkip);
      if (!again || again->chunks.size() != 1) std::abort();
      auto s2 = SackChunk::parse(again->chunks[0]);
      if (!s2 || s2->gap_blocks != s->gap_blocks || s2->duplicate_tsns != s->duplicate_tsns)
        std::abort();
    }
    if (auto i = InitChunk::parse(chunk)) (void)i->write_to(builder, chunk.type);
    for (const bool interleaved : {false, true}) {
      auto f = ForwardTsnChunk::parse(chunk, interleaved);
      if (!f) continue;
      Buffer one;
      PacketBuilder b(one, {}, 1 << 17);
      if (!f->write_to(b, interleaved)) std::abort();
      auto again = parse_packet(one, ChecksumMode::kSkip);
      if (!again || again->chunks.size() != 1) std::abort();
      auto f2 = ForwardTsnChunk::parse(again->chunks[0], interleaved);
      if (!f2 || f2->new_cumulative_tsn != f->new_cumulative_tsn || f2->skipped != f->skipped)
        std::abort();
    }
    if (auto params = parse_parameters(chunk.value)) {
      for (const auto& p : *params) {
        (void)OutgoingResetRequest::parse(p);
        (void)ReconfigResponse::parse(p);
        (void)parse_zero_checksum_acceptable(p);
      }
    }
  }
  builder.finish();
  // What we rebuilt from parsed chunks must parse again (a packet needs at least one chunk).
  if (!builder.empty() && !parse_packet(out, ChecksumMode::kVerify)) std::abort();
  return 0;
}
