// RFC 4733 telephone events: payloads that parse write back to the same bytes (R aside), the
// receiver turns any packet sequence into well-formed reports (an event's end after its
// start, at most one of each per event), and the DTMF sender, driven by the input, keeps its
// timing rules.
//
// Input: records [sequence (16) | marker bit + timestamp index (8) | length (8) | payload],
// the same bytes also read as insert_dtmf() calls.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "base/byte_reader.hpp"
#include "rtp/telephone_event.hpp"

using namespace rtcpp;
using namespace rtcpp::rtp;

namespace {

void check_payload(BytesView payload) {
  auto event = parse_telephone_event(payload);
  if (!event) return;
  Buffer out;
  ByteWriter writer(out);
  if (!write_telephone_event(*event, writer) || out.size() != kTelephoneEventSize) std::abort();
  if (out[0] != payload[0] || out[1] != (payload[1] & 0xBF) || out[2] != payload[2] ||
      out[3] != payload[3])
    std::abort();
}

void check_receiver(BytesView input) {
  TelephoneEventReceiver receiver;
  ByteReader reader(input);
  std::optional<ToneEvent> open;  // the event started and not yet ended
  while (reader.remaining() >= 4) {
    const std::uint16_t seq = *reader.read_u16();
    const std::uint8_t flags = *reader.read_u8();
    const std::uint8_t length = *reader.read_u8();
    const BytesView payload = *reader.read_bytes(std::min<std::size_t>(length, reader.remaining()));
    check_payload(payload);
    // Timestamps from a few values, some close enough to look like segments.
    const std::uint32_t timestamp = (flags >> 1) * 40000u;
    (void)receiver.on_packet(seq, timestamp, (flags & 1) != 0, payload);
    while (auto event = receiver.poll_event()) {
      if (event->kind == ToneEvent::Kind::kStart) {
        if (open) std::abort();  // the previous one was not ended first
        open = event;
      } else {
        if (!open || open->timestamp != event->timestamp || open->event != event->event ||
            event->duration < open->duration)
          std::abort();
        open.reset();
      }
    }
  }
}

void check_sender(BytesView input) {
  if (input.size() < 3) return;
  DtmfSender sender(input[0] % 2 == 0 ? 8000 : 48000);
  static constexpr std::string_view kChars = "0123456789ABCDabcd#*,x";
  Timestamp now = Timestamp::seconds(1);
  ByteReader reader(input.subspan(1));
  std::size_t steps = 0;
  while (reader.remaining() >= 3 && steps < 64) {
    ++steps;
    const std::uint8_t op = *reader.read_u8();
    const std::uint8_t a = *reader.read_u8();
    const std::uint8_t b = *reader.read_u8();
    if (op % 3 == 0) {
      std::string tones;
      for (std::size_t i = 0; i < op % 8; ++i) tones.push_back(kChars[(a + i * b) % kChars.size()]);
      auto inserted = sender.insert_dtmf(now, tones, a * 30 - 200, b * 30 - 200);
      if (inserted.has_value() == (tones.find('x') != std::string::npos)) std::abort();
      if (sender.duration() < DtmfSender::kMinDuration ||
          sender.duration() > DtmfSender::kMaxDuration ||
          sender.inter_tone_gap() < DtmfSender::kMinInterToneGap ||
          sender.inter_tone_gap() > DtmfSender::kMaxInterToneGap)
        std::abort();
    } else {
      now += Duration::millis(a * 40 + b);
      sender.handle_timeout(now);
    }
    if (auto next = sender.next_timeout(); next && *next <= now) std::abort();
    while (auto change = sender.poll_tone_change()) {
      if (change->tone.size() > 1) std::abort();
    }
    while (auto packet = sender.poll_packet()) {
      if (packet->payload.event > 15 || packet->payload.volume > 63 || packet->event_start > now)
        std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const BytesView input(data, size);
  check_payload(input);
  check_receiver(input);
  check_sender(input);
  return 0;
}
