#include "rtp/header_extensions.hpp"

#include <algorithm>
#include <cmath>

namespace rtcpp::rtp {

std::string_view to_string(ExtensionError error) noexcept {
  switch (error) {
    case ExtensionError::kWrongSize:
      return "header extension of the wrong size";
    case ExtensionError::kBadValue:
      return "header extension value outside its syntax";
  }
  return "unknown header extension error";
}

Expected<std::string_view, ExtensionError> parse_mid(BytesView data) noexcept {
  if (data.empty() || data.size() > kMaxIdentifierLength) return ExtensionError::kWrongSize;
  return as_string(data);
}

bool is_valid_rid(std::string_view rid) noexcept {
  if (rid.empty() || rid.size() > kMaxIdentifierLength) return false;
  return std::all_of(rid.begin(), rid.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

Expected<std::string_view, ExtensionError> parse_rid(BytesView data) noexcept {
  if (data.empty() || data.size() > kMaxIdentifierLength) return ExtensionError::kWrongSize;
  const std::string_view rid = as_string(data);
  if (!is_valid_rid(rid)) return ExtensionError::kBadValue;
  return rid;
}

Expected<std::uint32_t, ExtensionError> parse_abs_send_time(BytesView data) noexcept {
  if (data.size() != 3) return ExtensionError::kWrongSize;
  return (std::uint32_t{data[0]} << 16) | (std::uint32_t{data[1]} << 8) | data[2];
}

std::array<std::uint8_t, 3> write_abs_send_time(std::uint32_t value) noexcept {
  return {static_cast<std::uint8_t>(value >> 16), static_cast<std::uint8_t>(value >> 8),
          static_cast<std::uint8_t>(value)};
}

std::uint32_t abs_send_time_from_ntp(std::uint64_t ntp_timestamp) noexcept {
  // 32.32 fixed point to 6.18: drop the 14 lowest fraction bits, keep 24.
  return static_cast<std::uint32_t>((ntp_timestamp >> 14) & 0xFFFFFF);
}

Expected<std::uint16_t, ExtensionError> parse_transport_sequence_number(BytesView data) noexcept {
  if (data.size() != 2) return ExtensionError::kWrongSize;
  return static_cast<std::uint16_t>((data[0] << 8) | data[1]);
}

std::array<std::uint8_t, 2> write_transport_sequence_number(std::uint16_t value) noexcept {
  return {static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
}

Expected<AudioLevel, ExtensionError> parse_ssrc_audio_level(BytesView data) noexcept {
  if (data.empty() || data.size() > 2) return ExtensionError::kWrongSize;
  return AudioLevel{static_cast<std::uint8_t>(data[0] & 0x7F), (data[0] & 0x80) != 0};
}

std::array<std::uint8_t, 1> write_ssrc_audio_level(AudioLevel level) noexcept {
  const auto value = std::min(level.level, kMaxAudioLevel);
  return {static_cast<std::uint8_t>((level.voice_activity ? 0x80 : 0) | value)};
}

Expected<std::vector<std::uint8_t>, ExtensionError> parse_csrc_audio_levels(
    BytesView data, std::size_t csrc_count) {
  if (data.empty() || data.size() > csrc_count) return ExtensionError::kWrongSize;
  std::vector<std::uint8_t> levels;
  levels.reserve(data.size());
  for (const std::uint8_t byte : data) {
    if ((byte & 0x80) != 0) return ExtensionError::kBadValue;  // RFC 6465 3: must be zero
    levels.push_back(byte);
  }
  return levels;
}

Buffer write_csrc_audio_levels(const std::vector<std::uint8_t>& levels) {
  Buffer out;
  out.reserve(levels.size());
  for (const auto level : levels) out.push_back(std::min(level, kMaxAudioLevel));
  return out;
}

std::uint8_t audio_level_from_linear(double linear) noexcept {
  if (!(linear > 0)) return kMaxAudioLevel;  // silence, and NaN
  if (linear >= 1) return 0;
  const double db = -20 * std::log10(linear);
  return static_cast<std::uint8_t>(std::min<double>(std::lround(db), kMaxAudioLevel));
}

double linear_from_audio_level(std::uint8_t level) noexcept {
  // RFC 6464 3: -127 dBov is digital silence; W3C webrtc-pc gives silence as 0.
  if (level >= kMaxAudioLevel) return 0;
  return std::pow(10.0, -static_cast<double>(level) / 20.0);
}

}  // namespace rtcpp::rtp
