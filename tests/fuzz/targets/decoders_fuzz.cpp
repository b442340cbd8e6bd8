// Every decoder on hostile frames: never a crash, a hang or unbounded memory; each error a
// value. The frames are what a depacketizer could hand a decoder: any bytes, in any order.
//
// Input: [codec (8)] then records [length (16) | frame]. Codec, modulo 7: VP8, VP9, H.264,
// AV1, Opus, PCMU, PCMA. Seeds hold real frames from our encoders (a key frame, then deltas),
// so that mutations reach deep into each bitstream.
#include <cstdint>
#include <cstdlib>

#include "base/byte_reader.hpp"
#include "codec/codec.hpp"

using namespace rtcpp;

namespace {

constexpr int kMaxFrames = 64;

void decode_video(codec::VideoCodec type, ByteReader& reader) {
  if (!codec::can_decode(type)) return;
  auto decoder = codec::create_video_decoder(type);
  if (!decoder) std::abort();
  for (int i = 0; i < kMaxFrames && reader.remaining() >= 2; ++i) {
    const std::uint16_t length = reader.read_u16().value_or(0);
    auto frame = reader.read_bytes(std::min<std::size_t>(length, reader.remaining()));
    if (!frame) return;
    auto picture = (*decoder)->decode(*frame, i);
    if (picture && picture->has_value()) {
      const auto& shown = **picture;
      if (shown.width() < 1 || shown.height() < 1 ||
          shown.bytes().size() != media::VideoFrame::byte_size(shown.width(), shown.height())) {
        std::abort();
      }
    }
  }
}

void decode_audio(codec::AudioCodec type, ByteReader& reader) {
  const int rate = type == codec::AudioCodec::kOpus ? 48000 : 8000;
  auto decoder = codec::create_audio_decoder(type, rate, 2);
  if (!decoder) std::abort();
  media::AudioFrame out;
  for (int i = 0; i < kMaxFrames && reader.remaining() >= 2; ++i) {
    const std::uint16_t length = reader.read_u16().value_or(0);
    auto packet = reader.read_bytes(std::min<std::size_t>(length, reader.remaining()));
    if (!packet) return;
    if (length % 5 == 4) {
      // Some losses: concealment and FEC recovery from the packet after.
      (void)(*decoder)->decode_fec(*packet, rate / 50, out);
      (void)(*decoder)->conceal(rate / 100, out);
    }
    if ((*decoder)->decode(*packet, out)) {
      // At most 120 ms a packet (RFC 6716 3.2.1), two channels.
      if (out.samples.size() > static_cast<std::size_t>(rate / 1000 * 120 * 2)) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteReader reader(BytesView(data, size));
  auto selector = reader.read_u8();
  if (!selector) return 0;
  switch (*selector % 7) {
    case 0:
      decode_video(codec::VideoCodec::kVp8, reader);
      break;
    case 1:
      decode_video(codec::VideoCodec::kVp9, reader);
      break;
    case 2:
      decode_video(codec::VideoCodec::kH264, reader);
      break;
    case 3:
      decode_video(codec::VideoCodec::kAv1, reader);
      break;
    case 4:
      decode_audio(codec::AudioCodec::kOpus, reader);
      break;
    case 5:
      decode_audio(codec::AudioCodec::kPcmu, reader);
      break;
    default:
      decode_audio(codec::AudioCodec::kPcma, reader);
      break;
  }
  return 0;
}
