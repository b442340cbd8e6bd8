// pc::MediaSession under hostile input: decrypted RTP and RTCP as a peer could send them
// (routing by MID, SSRC and payload type; VP8 reassembly; PLI, FIR and NACK handling, NACKs
// sent and RTX repairs both ways), mixed with frames the application sends, and the periodic
// reports. Never a crash, an unbounded queue or a frame out of nothing.
//
// Input: records [kind (8) | length (8) | bytes]: kind % 3 is an RTP packet, an RTCP compound,
// or a frame to send on transceiver 1 + (kind / 3) % 3 (one that does not exist included).
#include <cstdint>
#include <cstdlib>

#include "base/byte_reader.hpp"
#include "pc/media_session.hpp"

using namespace rtcpp;
using namespace rtcpp::pc;

namespace {

RtpParameters parameters(bool video) {
  RtpParameters p;
  if (video) {
    p.codecs = {{96, "VP8", 90000, 1, {}, {"nack", "nack pli"}, 97}};
  } else {
    p.codecs = {{111, "opus", 48000, 2, {}, {}, {}}, {0, "PCMU", 8000, 1, {}, {}, {}}};
  }
  p.extensions = {{4, std::string(kMidExtensionUri)}};
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SeededRandom rng(size);
  MediaSession session(rng);
  MediaBinding video{1, "0", MediaKind::kVideo, true, true, parameters(true), parameters(true)};
  video.local.ssrcs = {0x01020304, 0x05060708};  // media, then RFC 4588 repairs
  video.remote.ssrcs = {0x0A0B0C0D, 0x0A0B0C0E};
  MediaBinding audio{2, "1", MediaKind::kAudio, true, true, parameters(false), parameters(false)};
  audio.local.ssrcs = {0x11121314};
  session.configure({video, audio});

  ByteReader reader(BytesView(data, size));
  Timestamp now = Timestamp::zero();
  std::size_t outgoing = 0;
  while (reader.remaining() >= 2) {
    const std::uint8_t kind = *reader.read_u8();
    const std::uint8_t length = *reader.read_u8();
    const BytesView bytes = *reader.read_bytes(std::min<std::size_t>(length, reader.remaining()));
    now += Duration::millis(7 * (kind & 0x1F));
    session.handle_timeout(now);  // reports, from what arrived so far
    switch (kind % 3) {
      case 0:
        session.handle_rtp(bytes, now);
        break;
      case 1:
        session.handle_rtcp(bytes, now);
        break;
      default: {
        const std::uint32_t transceiver = 1 + (kind / 3) % 3;
        (void)session.send_frame(transceiver, {kind, (kind & 8) != 0, Buffer(bytes)}, now);
        break;
      }
    }
    while (auto e = session.poll_event()) {
      if (const auto* f = std::get_if<MediaFrameReceived>(&*e)) {
        if (f->frame.data.empty() || (f->transceiver != 1 && f->transceiver != 2)) std::abort();
      }
    }
    while (auto p = session.poll_transmit()) {
      if (p->bytes.empty() || p->bytes.size() > MediaSession::kMaxRtpPacketSize) std::abort();
      ++outgoing;
    }
  }
  (void)outgoing;
  return 0;
}
