// Telephone events over RTP (RFC 4733), the "telephone-event" payload WebRTC uses for DTMF:
// the payload, a receiver that turns packets into tone starts and ends, and the sending side
// of RTCDTMFSender (W3C webrtc-pc 7.2) as a sans-IO state machine.
//
// The payload (RFC 4733 2.3), one per packet here:
//      0                   1                   2                   3
//     |     event     |E|R|  volume   |          duration             |
//   event: 0-255 (DTMF digits 0-15, 2.3.1); E: the event has ended; R: reserved (0);
//   volume: the power level, 0 to -63 dBm0 (0-63); duration: how long the event has lasted
//   so far, in RTP clock units from the RTP timestamp (the event's start).
//
// One event is a run of packets sharing an RTP timestamp (its start): the first with the
// marker bit, then updates whose duration grows, then the end (E set, the final duration)
// sent three times (RFC 4733 2.5.1). Events longer than the 16-bit duration allows are cut
// into segments, each with its own timestamp (2.5.1.3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "base/byte_writer.hpp"
#include "base/bytes.hpp"
#include "base/time.hpp"
#include "rtcpp/error.hpp"
#include "rtp/payload_format.hpp"

namespace rtcpp::rtp {

inline constexpr std::size_t kTelephoneEventSize = 4;
inline constexpr std::uint8_t kMaxTelephoneEventVolume = 63;
// The clock rate of telephone-event when SDP does not say otherwise.
inline constexpr std::uint32_t kDefaultTelephoneEventClockRate = 8000;

struct TelephoneEvent {
  std::uint8_t event = 0;
  bool end = false;
  std::uint8_t volume = 0;  // 0-63: 0 to -63 dBm0
  std::uint16_t duration = 0;
  friend bool operator==(const TelephoneEvent&, const TelephoneEvent&) = default;
};

// Parses the first event of a payload. kEmpty for no bytes, kTruncated for fewer than four.
// A payload may pack several events (RFC 4733 2.5.1.5, for redundancy); the blocks after the
// first are ignored. The R bit is ignored.
Expected<TelephoneEvent, PayloadError> parse_telephone_event(BytesView payload) noexcept;
// Writes the four bytes (R = 0); false, with nothing written, for a volume above 63 or when
// they do not fit.
bool write_telephone_event(const TelephoneEvent& event, ByteWriter& writer) noexcept;

// The DTMF event code of a key (RFC 4733 2.3.1, table 7): '0'-'9' are 0-9, '*' 10, '#' 11,
// 'A'-'D' 12-15 (lowercase too); nothing for other characters.
std::optional<std::uint8_t> dtmf_event_code(char key) noexcept;
// The key of a DTMF event code 0-15 ('0'-'9', '*', '#', 'A'-'D').
std::optional<char> dtmf_key(std::uint8_t event) noexcept;

// --- Receiving -----------------------------------------------------------------------------

struct ToneEvent {
  enum class Kind : std::uint8_t { kStart, kEnd };
  Kind kind = Kind::kStart;
  std::uint8_t event = 0;
  std::uint32_t timestamp = 0;  // the RTP timestamp of the event's start
  // kEnd: the total duration in RTP clock units (segments added up); kStart: as first seen.
  std::uint32_t duration = 0;
  std::uint8_t volume = 0;
  // kEnd: false when no end packet arrived (a newer event ended it).
  bool end_received = false;
  friend bool operator==(const ToneEvent&, const ToneEvent&) = default;
};

// Turns one stream's telephone-event packets into events: one kStart at an event's first
// packet seen (the first with a new, newer RTP timestamp; the marker bit is not needed, since
// that packet may be lost) and one kEnd at its first end packet (the two repeats are
// ignored), or when a newer event starts while it was still running (its end packets were
// all lost). Packets of older events, by serial-number comparison of RTP timestamps, are
// ignored: events are not reported out of order. A new timestamp that continues the running
// event as its next segment (RFC 4733 2.5.1.3: no marker bit, same event, at most 0xFFFF
// units on) extends it. State is the current event and a bounded queue of reports (the
// oldest dropped past kMaxPendingEvents when the caller does not poll).
class TelephoneEventReceiver {
 public:
  static constexpr std::size_t kMaxPendingEvents = 64;

  // Takes one packet's fields; a payload that does not parse is refused and changes nothing.
  Expected<void, PayloadError> on_packet(std::uint16_t sequence_number, std::uint32_t timestamp,
                                         bool marker, BytesView payload);
  std::optional<ToneEvent> poll_event();

  std::uint64_t packets_ignored() const noexcept { return packets_ignored_; }

 private:
  struct Current {
    std::uint32_t timestamp = 0;  // of its first segment
    std::uint32_t segment_timestamp = 0;
    std::uint32_t segment_base = 0;  // duration of the segments before this one
    std::uint32_t duration = 0;      // total so far
    std::uint8_t event = 0;
    std::uint8_t volume = 0;
    bool ended = false;
  };
  void push(const ToneEvent& event);
  void end_current(bool end_received);

  std::optional<Current> current_;
  std::deque<ToneEvent> pending_;
  std::uint64_t packets_ignored_ = 0;
};

// --- Sending (RTCDTMFSender) ---------------------------------------------------------------

enum class DtmfError : std::uint8_t {
  kInvalidCharacter,  // a tone outside 0-9 A-D a-d # * , (the API's InvalidCharacterError)
};
std::string_view to_string(DtmfError error) noexcept;

// A tonechange event: the tone that starts ("," for a pause), or "" when the buffer ran out.
struct DtmfToneChange {
  std::string tone;
};

// One telephone-event packet to send. The caller gives it the RTP timestamp of
// `event_start` on its audio clock plus `timestamp_offset` (nonzero only for later segments
// of a long event), the next sequence number and the marker bit.
struct DtmfPacket {
  Timestamp event_start;
  std::uint32_t timestamp_offset = 0;
  bool marker = false;
  TelephoneEvent payload;
};

// The playout of RTCDTMFSender (W3C webrtc-pc 7.2, insertDTMF and its "DTMF playout task
// steps"), sans-IO: the caller passes `now`, calls handle_timeout() at next_timeout(), and
// polls tone changes and packets.
//
// insert_dtmf() replaces the tone buffer; the tone playing and the next task's time are left
// as they are (so a new buffer starts after the current tone and its gap). When nothing is
// playing the first tone starts at once. Each task takes the next character: a tone plays for
// the duration, and the next task runs duration + gap later; ',' sends nothing for 2 s. A
// task that finds the buffer empty reports the tone change "" and playout stops.
//
// Packets for a tone: an update every kDtmfPacketInterval after its start (the first with the
// marker bit), its duration the time elapsed in clock units, then at the tone's end the end
// packet (E, the full duration) three times (RFC 4733 2.5.1.4). The three are given at once,
// back to back, not one update interval apart as 2.5.1.4 suggests: the next tone may start
// 30 ms after the end, and its packets should not interleave with the previous event's.
class DtmfSender {
 public:
  static constexpr Duration kMinDuration = Duration::millis(40);
  static constexpr Duration kMaxDuration = Duration::millis(6000);
  static constexpr Duration kMinInterToneGap = Duration::millis(30);
  static constexpr Duration kMaxInterToneGap = Duration::millis(6000);
  static constexpr Duration kCommaPause = Duration::seconds(2);
  // RFC 4733 2.5.1.2 suggests 50 ms between updates (or the audio packetization interval).
  static constexpr Duration kDtmfPacketInterval = Duration::millis(50);
  static constexpr std::uint8_t kDefaultVolume = 10;  // -10 dBm0

  explicit DtmfSender(std::uint32_t clock_rate = kDefaultTelephoneEventClockRate,
                      std::uint8_t volume = kDefaultVolume) noexcept;

  // W3C defaults: 100 ms tones, 70 ms gaps. Durations are clamped to 40-6000 ms and gaps to
  // 30-6000 ms. An invalid character changes nothing.
  Expected<void, DtmfError> insert_dtmf(Timestamp now, std::string_view tones,
                                        std::int64_t duration_ms = 100,
                                        std::int64_t inter_tone_gap_ms = 70);
  const std::string& tone_buffer() const noexcept { return tone_buffer_; }
  Duration duration() const noexcept { return duration_; }
  Duration inter_tone_gap() const noexcept { return inter_tone_gap_; }
  bool playing() const noexcept { return next_task_.has_value() || tone_.has_value(); }

  void handle_timeout(Timestamp now);
  std::optional<Timestamp> next_timeout() const noexcept;
  std::optional<DtmfToneChange> poll_tone_change();
  std::optional<DtmfPacket> poll_packet();

 private:
  struct Tone {
    std::uint8_t event = 0;
    Timestamp start;
    Duration duration;
    Timestamp next_packet;
    std::uint32_t segment_offset = 0;  // clock units from the start to the current segment
    bool marker_sent = false;
  };
  void run_task(Timestamp at);
  void send_packets(Timestamp now);
  void send(std::uint32_t units, bool end);
  std::uint32_t units(Duration elapsed) const noexcept;

  std::uint32_t clock_rate_;
  std::uint8_t volume_;
  std::string tone_buffer_;
  Duration duration_ = Duration::millis(100);
  Duration inter_tone_gap_ = Duration::millis(70);
  std::optional<Timestamp> next_task_;
  std::optional<Tone> tone_;
  std::deque<DtmfToneChange> tone_changes_;
  std::deque<DtmfPacket> packets_;
};

}  // namespace rtcpp::rtp
