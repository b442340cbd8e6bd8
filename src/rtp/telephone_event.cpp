#include "rtp/telephone_event.hpp"

#include <algorithm>

#include "base/serial.hpp"

namespace rtcpp::rtp {

namespace {
constexpr std::uint8_t kEndBit = 0x80;
constexpr std::uint8_t kVolumeMask = 0x3F;
constexpr std::uint32_t kMaxSegmentUnits = 0xFFFF;
constexpr int kEndPacketCount = 3;  // RFC 4733 2.5.1.4
constexpr std::string_view kDtmfKeys = "0123456789*#ABCD";
}  // namespace

Expected<TelephoneEvent, PayloadError> parse_telephone_event(BytesView payload) noexcept {
  if (payload.empty()) return PayloadError::kEmpty;
  if (payload.size() < kTelephoneEventSize) return PayloadError::kTruncated;
  TelephoneEvent event;
  event.event = payload[0];
  event.end = (payload[1] & kEndBit) != 0;
  event.volume = static_cast<std::uint8_t>(payload[1] & kVolumeMask);
  event.duration = static_cast<std::uint16_t>((payload[2] << 8) | payload[3]);
  return event;
}

bool write_telephone_event(const TelephoneEvent& event, ByteWriter& writer) noexcept {
  if (event.volume > kMaxTelephoneEventVolume) return false;
  std::uint8_t* out = writer.reserve(kTelephoneEventSize);
  if (out == nullptr) return false;
  out[0] = event.event;
  out[1] = static_cast<std::uint8_t>((event.end ? kEndBit : 0) | event.volume);
  out[2] = static_cast<std::uint8_t>(event.duration >> 8);
  out[3] = static_cast<std::uint8_t>(event.duration);
  return true;
}

std::optional<std::uint8_t> dtmf_event_code(char key) noexcept {
  const char upper = key >= 'a' && key <= 'd' ? static_cast<char>(key - 'a' + 'A') : key;
  const auto at = kDtmfKeys.find(upper);
  if (at == std::string_view::npos) return std::nullopt;
  return static_cast<std::uint8_t>(at);
}

std::optional<char> dtmf_key(std::uint8_t event) noexcept {
  if (event >= kDtmfKeys.size()) return std::nullopt;
  return kDtmfKeys[event];
}

// --- Receiving -----------------------------------------------------------------------------

Expected<void, PayloadError> TelephoneEventReceiver::on_packet(std::uint16_t /*sequence_number*/,
                                                               std::uint32_t timestamp, bool marker,
                                                               BytesView payload) {
  // Sequence numbers are not needed: the RTP timestamp names the event, and durations only
  // grow, so a reordered update within an event is harmless.
  auto parsed = parse_telephone_event(payload);
  if (!parsed) return parsed.error();
  const TelephoneEvent& packet = *parsed;

  if (current_ && timestamp == current_->segment_timestamp) {
    if (current_->ended || packet.event != current_->event) {
      ++packets_ignored_;  // an end repeat, or a different event at the same time
      return {};
    }
    current_->duration = std::max(current_->duration, current_->segment_base + packet.duration);
    if (packet.end) end_current(true);
    return {};
  }
  if (current_ && !serial_greater(timestamp, current_->segment_timestamp)) {
    ++packets_ignored_;  // an older event's packet, late
    return {};
  }
  // RFC 4733 2.5.1.3: the next segment of a long event has a later timestamp (the previous
  // one plus its duration, at most 0xFFFF) and no marker bit.
  if (current_ && !current_->ended && !marker && packet.event == current_->event &&
      timestamp - current_->segment_timestamp <= kMaxSegmentUnits) {
    current_->segment_base += timestamp - current_->segment_timestamp;
    current_->segment_timestamp = timestamp;
    current_->duration = std::max(current_->duration, current_->segment_base + packet.duration);
    if (packet.end) end_current(true);
    return {};
  }
  if (current_ && !current_->ended) end_current(false);
  Current next;
  next.timestamp = timestamp;
  next.segment_timestamp = timestamp;
  next.duration = packet.duration;
  next.event = packet.event;
  next.volume = packet.volume;
  current_ = next;
  push(ToneEvent{ToneEvent::Kind::kStart, packet.event, timestamp, packet.duration, packet.volume,
                 false});
  if (packet.end) end_current(true);
  return {};
}

void TelephoneEventReceiver::end_current(bool end_received) {
  current_->ended = true;
  push(ToneEvent{ToneEvent::Kind::kEnd, current_->event, current_->timestamp, current_->duration,
                 current_->volume, end_received});
}

void TelephoneEventReceiver::push(const ToneEvent& event) {
  if (pending_.size() >= kMaxPendingEvents) pending_.pop_front();
  pending_.push_back(event);
}

std::optional<ToneEvent> TelephoneEventReceiver::poll_event() {
  if (pending_.empty()) return std::nullopt;
  ToneEvent event = pending_.front();
  pending_.pop_front();
  return event;
}

// --- Sending -------------------------------------------------------------------------------

std::string_view to_string(DtmfError error) noexcept {
  switch (error) {
    case DtmfError::kInvalidCharacter:
      return "invalid DTMF character";
  }
  return "unknown DTMF error";
}

DtmfSender::DtmfSender(std::uint32_t clock_rate, std::uint8_t volume) noexcept
    : clock_rate_(clock_rate == 0 ? kDefaultTelephoneEventClockRate : clock_rate),
      volume_(std::min(volume, kMaxTelephoneEventVolume)) {}

Expected<void, DtmfError> DtmfSender::insert_dtmf(Timestamp now, std::string_view tones,
                                                  std::int64_t duration_ms,
                                                  std::int64_t inter_tone_gap_ms) {
  std::string buffer;
  buffer.reserve(tones.size());
  for (const char c : tones) {
    if (c == ',') {
      buffer.push_back(c);
      continue;
    }
    const auto code = dtmf_event_code(c);
    if (!code) return DtmfError::kInvalidCharacter;
    buffer.push_back(kDtmfKeys[*code]);  // a-d normalized to uppercase
  }
  tone_buffer_ = std::move(buffer);
  // Clamped in milliseconds first, so that no multiplication overflows.
  duration_ = Duration::millis(std::clamp(duration_ms, kMinDuration.ms(), kMaxDuration.ms()));
  inter_tone_gap_ =
      Duration::millis(std::clamp(inter_tone_gap_ms, kMinInterToneGap.ms(), kMaxInterToneGap.ms()));
  if (tone_buffer_.empty()) return {};
  // webrtc-pc 7.2: when a playout task is already scheduled it will take the new buffer.
  if (next_task_) return {};
  next_task_ = now;
  handle_timeout(now);
  return {};
}

void DtmfSender::handle_timeout(Timestamp now) {
  // The tone's packets come before a task due at the same time: a tone ends before the next
  // task (duration + gap later), and a task replacing it starts a new event.
  for (;;) {
    const bool packet_due = tone_ && tone_->next_packet <= now;
    const bool task_due = next_task_ && *next_task_ <= now;
    if (packet_due && (!task_due || tone_->next_packet <= *next_task_)) {
      send_packets(now);
    } else if (task_due) {
      run_task(*next_task_);
    } else {
      return;
    }
  }
}

void DtmfSender::run_task(Timestamp at) {
  // The task runs at its scheduled time, not when the caller got round to it, so that a late
  // handle_timeout() does not stretch the sequence.
  if (tone_buffer_.empty()) {
    next_task_.reset();
    tone_changes_.push_back(DtmfToneChange{""});
    return;
  }
  const char tone = tone_buffer_.front();
  tone_buffer_.erase(0, 1);
  if (tone == ',') {
    next_task_ = at + kCommaPause;
  } else {
    Tone playing;
    playing.event = *dtmf_event_code(tone);
    playing.start = at;
    playing.duration = duration_;
    playing.next_packet = at + std::min(kDtmfPacketInterval, duration_);
    tone_ = playing;
    next_task_ = at + duration_ + inter_tone_gap_;
  }
  tone_changes_.push_back(DtmfToneChange{std::string(1, tone)});
}

std::uint32_t DtmfSender::units(Duration elapsed) const noexcept {
  // At most 6 s: fits easily in 64 bits, and in 32 at any clock rate below 700 kHz.
  return static_cast<std::uint32_t>(elapsed.us() * clock_rate_ / 1'000'000);
}

void DtmfSender::send(std::uint32_t total_units, bool end) {
  // RFC 4733 2.5.1.3: past 0xFFFF units the event goes on in a new segment, whose timestamp
  // is the old one's plus 0xFFFF; the full segment's last packet goes three times, not ended.
  while (total_units - tone_->segment_offset > kMaxSegmentUnits) {
    for (int i = 0; i < kEndPacketCount; ++i) {
      packets_.push_back(DtmfPacket{tone_->start, tone_->segment_offset,
                                    !tone_->marker_sent && i == 0,
                                    TelephoneEvent{tone_->event, false, volume_,
                                                   static_cast<std::uint16_t>(kMaxSegmentUnits)}});
    }
    tone_->marker_sent = true;
    tone_->segment_offset += kMaxSegmentUnits;
  }
  const auto duration = static_cast<std::uint16_t>(total_units - tone_->segment_offset);
  const int count = end ? kEndPacketCount : 1;
  for (int i = 0; i < count; ++i) {
    packets_.push_back(DtmfPacket{tone_->start, tone_->segment_offset,
                                  !tone_->marker_sent && i == 0,
                                  TelephoneEvent{tone_->event, end, volume_, duration}});
  }
  tone_->marker_sent = true;
}

void DtmfSender::send_packets(Timestamp now) {
  const Timestamp end = tone_->start + tone_->duration;
  if (now >= end) {
    send(units(tone_->duration), true);
    tone_.reset();
    return;
  }
  // One update for the latest interval reached; a caller that wakes late skips the stale ones.
  const auto intervals = (now - tone_->start).us() / kDtmfPacketInterval.us();
  const Duration elapsed = kDtmfPacketInterval * intervals;
  send(units(elapsed), false);
  tone_->next_packet = std::min(end, tone_->start + elapsed + kDtmfPacketInterval);
}

std::optional<Timestamp> DtmfSender::next_timeout() const noexcept {
  std::optional<Timestamp> earliest = next_task_;
  if (tone_ && (!earliest || tone_->next_packet < *earliest)) earliest = tone_->next_packet;
  return earliest;
}

std::optional<DtmfToneChange> DtmfSender::poll_tone_change() {
  if (tone_changes_.empty()) return std::nullopt;
  DtmfToneChange change = std::move(tone_changes_.front());
  tone_changes_.pop_front();
  return change;
}

std::optional<DtmfPacket> DtmfSender::poll_packet() {
  if (packets_.empty()) return std::nullopt;
  DtmfPacket packet = packets_.front();
  packets_.pop_front();
  return packet;
}

}  // namespace rtcpp::rtp
