// The H.264 format parameters of SDP (RFC 6184 8.1) that decide whether two H.264 formats
// can talk, and what an answer says (8.2.2).
//
// profile-level-id is three bytes in hex: profile_idc, profile-iop (constraint_set0..5 flags
// and two reserved bits, most significant first) and level_idc, as in the SPS. The profile
// comes from profile_idc and the constraint flags together (RFC 6184 Table 5; H.264 A.2):
//   42 x1xx0000, 4D 1xxx0000, 58 11xx0000   Constrained Baseline
//   42 x0xx0000, 58 10xx0000                Baseline
//   58 00xx0000                             Extended
//   4D 0x0x0000                             Main
//   64 00000000                             High
//   64 00001000                             Progressive High
//   64 00001100                             Constrained High
//   6E 00000000 / 00010000                  High 10 / High 10 Intra
//   7A 00000000 / 00010000                  High 4:2:2 / High 4:2:2 Intra
//   F4 00000000 / 00010000                  High 4:4:4 Predictive / High 4:4:4 Intra
//   2C 00010000                             CAVLC 4:4:4 Intra
// (x: either value.) Other combinations are refused. Level 1b is level_idc 11 with
// constraint_set3_flag in the Baseline, Main and Extended profiles, level_idc 9 in the others.
//
// An fmtp value is `name=value` pairs separated by ';' (spaces around them tolerated; names
// compared without case, as RFC 4855 asks; unknown names ignored). Absent parameters take the
// RFC 6184 8.1 defaults: profile-level-id 42000a (Baseline, level 1), packetization-mode 0,
// level-asymmetry-allowed 0. (libwebrtc assumes Constrained Baseline 3.1 for a missing
// profile-level-id instead; every browser writes the parameter, so this rarely matters.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rtcpp/error.hpp"

namespace rtcpp::rtp {

enum class H264Profile : std::uint8_t {
  kConstrainedBaseline,
  kBaseline,
  kMain,
  kExtended,
  kHigh,
  kProgressiveHigh,
  kConstrainedHigh,
  kHigh10,
  kHigh422,
  kHigh444Predictive,
  kHigh10Intra,
  kHigh422Intra,
  kHigh444Intra,
  kCavlc444Intra,
};
std::string_view to_string(H264Profile profile) noexcept;

// Levels as level_idc values (H.264 Table A-1); 1b, which has none of its own, is 0 here.
enum class H264Level : std::uint8_t {
  k1b = 0,
  k1 = 10,
  k1_1 = 11,
  k1_2 = 12,
  k1_3 = 13,
  k2 = 20,
  k2_1 = 21,
  k2_2 = 22,
  k3 = 30,
  k3_1 = 31,
  k3_2 = 32,
  k4 = 40,
  k4_1 = 41,
  k4_2 = 42,
  k5 = 50,
  k5_1 = 51,
  k5_2 = 52,
  k6 = 60,
  k6_1 = 61,
  k6_2 = 62,
};
// Whether level `a` is below level `b` (1b lies between 1 and 1.1).
bool h264_level_below(H264Level a, H264Level b) noexcept;

struct H264ProfileLevelId {
  H264Profile profile = H264Profile::kBaseline;
  H264Level level = H264Level::k1;
  // The bytes as written, kept so that an answer names the profile the way the offer did.
  std::uint8_t profile_idc = 0x42;
  std::uint8_t profile_iop = 0x00;
  friend bool operator==(const H264ProfileLevelId&, const H264ProfileLevelId&) = default;
};
// Parses the six hex digits of profile-level-id (either case); nothing for anything else, an
// unknown profile or level included.
std::optional<H264ProfileLevelId> parse_h264_profile_level_id(std::string_view text) noexcept;
// The same profile bytes with another level (setting or clearing constraint_set3_flag for
// level 1b where that flag carries it), as six lowercase hex digits.
std::string h264_profile_level_id_string(const H264ProfileLevelId& id);

enum class H264FmtpError : std::uint8_t {
  kTooLong,               // beyond kMaxH264FmtpSize or kMaxH264FmtpParameters
  kSyntax,                // a part without '=' or with an empty name
  kDuplicate,             // one of the parameters below given twice
  kBadProfileLevelId,     // not six hex digits of a known profile and level
  kBadPacketizationMode,  // not 0, 1 or 2
  kBadLevelAsymmetry,     // not 0 or 1
};
std::string_view to_string(H264FmtpError error) noexcept;

inline constexpr std::size_t kMaxH264FmtpSize = 4096;
inline constexpr std::size_t kMaxH264FmtpParameters = 64;

struct H264Fmtp {
  H264ProfileLevelId profile_level_id;  // 42000a when absent
  bool profile_level_id_present = false;
  std::uint8_t packetization_mode = 0;  // 0, 1 or 2
  bool level_asymmetry_allowed = false;
};
Expected<H264Fmtp, H264FmtpError> parse_h264_fmtp(std::string_view fmtp) noexcept;

// Whether an offered and an answered (or a local and a remote) H.264 format describe the same
// stream form: the same profile and the same packetization-mode (levels may differ). This is
// how JSEP implementations pair H.264 payload types. False when either does not parse.
bool h264_formats_match(std::string_view offer_fmtp, std::string_view answer_fmtp);

// The fmtp an answerer writes for an offered H.264 format it accepts, given the highest level
// it can decode (RFC 6184 8.2.2): the offer's profile and packetization-mode, and a level that
// is the answerer's own when both sides allow level asymmetry (each side then states what it
// receives), else the lower of the offered level and its own (one level for both directions).
// level-asymmetry-allowed=1 is written when the answerer allows it.
Expected<std::string, H264FmtpError> h264_answer_fmtp(std::string_view offer_fmtp,
                                                      H264Level max_receive_level,
                                                      bool level_asymmetry_allowed = true);

}  // namespace rtcpp::rtp
