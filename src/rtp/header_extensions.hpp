// The values of the RTP header extensions WebRTC negotiates by a=extmap (RFC 8285 carries
// them; rtp/rtp_packet.hpp reads and writes the elements): their URIs, and a parser and a
// writer for each. Parsers take the element's data and refuse a wrong size or a value outside
// the extension's syntax.
//
//   mid, rid, repaired-rid   text (RFC 9143 15, RFC 8852 3.1 and 3.2)
//   abs-send-time            24 bits: NTP send time, 6.18 fixed-point seconds
//   transport-wide-cc        16 bits: a sequence number over every packet of the transport
//   ssrc-audio-level         8 bits: V (voice activity), then the level, 0-127 -dBov
//                            (RFC 6464 3)
//   csrc-audio-level         one byte per CSRC, in CSRC order: 0, then the level (RFC 6465 3)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::rtp {

inline constexpr std::string_view kMidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
inline constexpr std::string_view kRidUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
inline constexpr std::string_view kRepairedRidUri =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
inline constexpr std::string_view kAbsSendTimeUri =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kTransportWideCcUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kSsrcAudioLevelUri =
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
inline constexpr std::string_view kCsrcAudioLevelUri =
    "urn:ietf:params:rtp-hdrext:csrc-audio-level";

// The longest identifier accepted in mid, rid and repaired-rid: an element carries at most
// 255 bytes (RFC 8285 4.3), and the identifiers browsers use are far shorter.
inline constexpr std::size_t kMaxIdentifierLength = 255;
// The quietest level: -127 dBov (RFC 6464 3), also written for digital silence.
inline constexpr std::uint8_t kMaxAudioLevel = 127;

enum class ExtensionError : std::uint8_t {
  kWrongSize,  // not the extension's size (or empty, or too long)
  kBadValue,   // a value outside its syntax (a rid character, a level's reserved bit)
};
std::string_view to_string(ExtensionError error) noexcept;

// mid (RFC 9143 15: any non-empty text); rid and repaired-rid (RFC 8851 10: letters, digits,
// '-' and '_'). The views point into `data`.
Expected<std::string_view, ExtensionError> parse_mid(BytesView data) noexcept;
Expected<std::string_view, ExtensionError> parse_rid(BytesView data) noexcept;
bool is_valid_rid(std::string_view rid) noexcept;

// abs-send-time: the 24 middle bits of a 64-bit NTP timestamp (6 bits of seconds, 18 of
// fraction), so it wraps every 64 s.
Expected<std::uint32_t, ExtensionError> parse_abs_send_time(BytesView data) noexcept;
std::array<std::uint8_t, 3> write_abs_send_time(std::uint32_t value) noexcept;
std::uint32_t abs_send_time_from_ntp(std::uint64_t ntp_timestamp) noexcept;

Expected<std::uint16_t, ExtensionError> parse_transport_sequence_number(BytesView data) noexcept;
std::array<std::uint8_t, 2> write_transport_sequence_number(std::uint16_t value) noexcept;

struct AudioLevel {
  std::uint8_t level = kMaxAudioLevel;  // 0 (loudest, 0 dBov) to 127 (-127 dBov)
  bool voice_activity = false;          // the sender's voice activity flag (ssrc form only)
  friend bool operator==(const AudioLevel&, const AudioLevel&) = default;
};
// RFC 6464 3: one byte. (A two-byte form with padding is also allowed by RFC 8285; the
// second byte is then ignored.)
Expected<AudioLevel, ExtensionError> parse_ssrc_audio_level(BytesView data) noexcept;
std::array<std::uint8_t, 1> write_ssrc_audio_level(AudioLevel level) noexcept;
// RFC 6465 3: the levels of the packet's CSRCs in order, one byte each (bit 0 must be 0);
// `csrc_count` is the packet's CC, which the element must not exceed.
Expected<std::vector<std::uint8_t>, ExtensionError> parse_csrc_audio_levels(BytesView data,
                                                                            std::size_t csrc_count);
// Levels above 127 are written as 127.
Buffer write_csrc_audio_levels(const std::vector<std::uint8_t>& levels);

// The level RFC 6464 3 writes for a linear audio level between 0 and 1 (W3C webrtc-pc's
// audioLevel): -20 log10 of it in whole dB, clamped to 0-127; and back.
std::uint8_t audio_level_from_linear(double linear) noexcept;
double linear_from_audio_level(std::uint8_t level) noexcept;

}  // namespace rtcpp::rtp
