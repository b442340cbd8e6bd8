#include "rtp/h264_profile.hpp"

#include <algorithm>
#include <array>

namespace rtcpp::rtp {

std::string_view to_string(H264Profile profile) noexcept {
  switch (profile) {
    case H264Profile::kConstrainedBaseline:
      return "Constrained Baseline";
    case H264Profile::kBaseline:
      return "Baseline";
    case H264Profile::kMain:
      return "Main";
    case H264Profile::kExtended:
      return "Extended";
    case H264Profile::kHigh:
      return "High";
    case H264Profile::kProgressiveHigh:
      return "Progressive High";
    case H264Profile::kConstrainedHigh:
      return "Constrained High";
    case H264Profile::kHigh10:
      return "High 10";
    case H264Profile::kHigh422:
      return "High 4:2:2";
    case H264Profile::kHigh444Predictive:
      return "High 4:4:4 Predictive";
    case H264Profile::kHigh10Intra:
      return "High 10 Intra";
    case H264Profile::kHigh422Intra:
      return "High 4:2:2 Intra";
    case H264Profile::kHigh444Intra:
      return "High 4:4:4 Intra";
    case H264Profile::kCavlc444Intra:
      return "CAVLC 4:4:4 Intra";
  }
  return "unknown H.264 profile";
}

std::string_view to_string(H264FmtpError error) noexcept {
  switch (error) {
    case H264FmtpError::kTooLong:
      return "H.264 fmtp too long";
    case H264FmtpError::kSyntax:
      return "H.264 fmtp parameter without a name or '='";
    case H264FmtpError::kDuplicate:
      return "H.264 fmtp parameter given twice";
    case H264FmtpError::kBadProfileLevelId:
      return "H.264 profile-level-id not a known profile and level";
    case H264FmtpError::kBadPacketizationMode:
      return "H.264 packetization-mode not 0, 1 or 2";
    case H264FmtpError::kBadLevelAsymmetry:
      return "H.264 level-asymmetry-allowed not 0 or 1";
  }
  return "unknown H.264 fmtp error";
}

namespace {

constexpr std::uint8_t kConstraintSet3 = 0x10;
// level_idc of level 1b outside the Baseline, Main and Extended profiles (H.264 A.3.1).
constexpr std::uint8_t kLevel1bIdc = 9;

// One row of the profile table in the header: profile_idc, the profile-iop bits that must
// have a value (mask) and that value.
struct ProfilePattern {
  std::uint8_t profile_idc;
  std::uint8_t mask;
  std::uint8_t value;
  H264Profile profile;
};

// x in the table is a bit outside the mask. Earlier rows win.
constexpr std::array<ProfilePattern, 16> kProfilePatterns = {{
    {0x42, 0b01001111, 0b01000000, H264Profile::kConstrainedBaseline},
    {0x4D, 0b10001111, 0b10000000, H264Profile::kConstrainedBaseline},
    {0x58, 0b11001111, 0b11000000, H264Profile::kConstrainedBaseline},
    {0x42, 0b01001111, 0b00000000, H264Profile::kBaseline},
    {0x58, 0b11001111, 0b10000000, H264Profile::kBaseline},
    {0x58, 0b11001111, 0b00000000, H264Profile::kExtended},
    {0x4D, 0b10101111, 0b00000000, H264Profile::kMain},
    {0x64, 0b11111111, 0b00000000, H264Profile::kHigh},
    {0x64, 0b11111111, 0b00001000, H264Profile::kProgressiveHigh},
    {0x64, 0b11111111, 0b00001100, H264Profile::kConstrainedHigh},
    {0x6E, 0b11111111, 0b00000000, H264Profile::kHigh10},
    {0x7A, 0b11111111, 0b00000000, H264Profile::kHigh422},
    {0xF4, 0b11111111, 0b00000000, H264Profile::kHigh444Predictive},
    {0x6E, 0b11111111, 0b00010000, H264Profile::kHigh10Intra},
    {0x7A, 0b11111111, 0b00010000, H264Profile::kHigh422Intra},
    {0xF4, 0b11111111, 0b00010000, H264Profile::kHigh444Intra},
}};
constexpr ProfilePattern kCavlc444IntraPattern = {0x2C, 0b11111111, 0b00010000,
                                                  H264Profile::kCavlc444Intra};

std::optional<H264Profile> profile_of(std::uint8_t profile_idc, std::uint8_t iop) noexcept {
  for (const ProfilePattern& row : kProfilePatterns) {
    if (row.profile_idc == profile_idc && (iop & row.mask) == row.value) return row.profile;
  }
  const ProfilePattern& row = kCavlc444IntraPattern;
  if (row.profile_idc == profile_idc && (iop & row.mask) == row.value) return row.profile;
  return std::nullopt;
}

// The profiles where constraint_set3_flag with level_idc 11 means level 1b (H.264 A.3.1).
bool signals_1b_by_constraint_set3(std::uint8_t profile_idc) noexcept {
  return profile_idc == 0x42 || profile_idc == 0x4D || profile_idc == 0x58;
}

bool is_level_idc(std::uint8_t idc) noexcept {
  constexpr std::array<std::uint8_t, 19> kLevels = {10, 11, 12, 13, 20, 21, 22, 30, 31, 32,
                                                    40, 41, 42, 50, 51, 52, 60, 61, 62};
  return std::find(kLevels.begin(), kLevels.end(), idc) != kLevels.end();
}

std::optional<std::uint8_t> hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
  return std::nullopt;
}

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The rank of a level in increasing order, 1b between 1 and 1.1.
int level_rank(H264Level level) noexcept {
  const auto idc = static_cast<int>(level);
  if (level == H264Level::k1b) return 2 * 10 + 1;
  return 2 * idc;
}

}  // namespace

bool h264_level_below(H264Level a, H264Level b) noexcept {
  return level_rank(a) < level_rank(b);
}

std::optional<H264ProfileLevelId> parse_h264_profile_level_id(std::string_view text) noexcept {
  if (text.size() != 6) return std::nullopt;
  std::array<std::uint8_t, 3> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto high = hex_digit(text[2 * i]);
    auto low = hex_digit(text[2 * i + 1]);
    if (!high || !low) return std::nullopt;
    bytes[i] = static_cast<std::uint8_t>((*high << 4) | *low);
  }
  H264ProfileLevelId id;
  id.profile_idc = bytes[0];
  id.profile_iop = bytes[1];
  const std::uint8_t level_idc = bytes[2];
  auto profile = profile_of(id.profile_idc, id.profile_iop);
  if (!profile) return std::nullopt;
  id.profile = *profile;
  if (signals_1b_by_constraint_set3(id.profile_idc)) {
    if (level_idc == 11 && (id.profile_iop & kConstraintSet3) != 0) {
      id.level = H264Level::k1b;
      return id;
    }
  } else if (level_idc == kLevel1bIdc) {
    id.level = H264Level::k1b;
    return id;
  }
  if (!is_level_idc(level_idc)) return std::nullopt;
  id.level = static_cast<H264Level>(level_idc);
  return id;
}

std::string h264_profile_level_id_string(const H264ProfileLevelId& id) {
  std::uint8_t iop = id.profile_iop;
  auto level_idc = static_cast<std::uint8_t>(id.level);
  if (signals_1b_by_constraint_set3(id.profile_idc)) {
    // constraint_set3_flag is free in these profiles' patterns: it carries only 1b.
    iop = static_cast<std::uint8_t>(id.level == H264Level::k1b ? iop | kConstraintSet3
                                                               : iop & ~kConstraintSet3);
    if (id.level == H264Level::k1b) level_idc = 11;
  } else if (id.level == H264Level::k1b) {
    level_idc = kLevel1bIdc;
  }
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t byte : {id.profile_idc, iop, level_idc}) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0F]);
  }
  return out;
}

Expected<H264Fmtp, H264FmtpError> parse_h264_fmtp(std::string_view fmtp) noexcept {
  if (fmtp.size() > kMaxH264FmtpSize) return H264FmtpError::kTooLong;
  H264Fmtp out;
  bool mode_present = false;
  bool asymmetry_present = false;
  std::size_t parameters = 0;
  while (!fmtp.empty()) {
    const std::size_t semicolon = fmtp.find(';');
    const std::string_view part = trim(fmtp.substr(0, semicolon));
    fmtp = semicolon == std::string_view::npos ? std::string_view() : fmtp.substr(semicolon + 1);
    if (part.empty()) continue;  // ";;" or a trailing ';'
    if (++parameters > kMaxH264FmtpParameters) return H264FmtpError::kTooLong;
    const std::size_t equals = part.find('=');
    if (equals == std::string_view::npos) return H264FmtpError::kSyntax;
    const std::string_view name = trim(part.substr(0, equals));
    const std::string_view value = trim(part.substr(equals + 1));
    if (name.empty()) return H264FmtpError::kSyntax;
    if (equals_ignoring_case(name, "profile-level-id")) {
      if (out.profile_level_id_present) return H264FmtpError::kDuplicate;
      auto id = parse_h264_profile_level_id(value);
      if (!id) return H264FmtpError::kBadProfileLevelId;
      out.profile_level_id = *id;
      out.profile_level_id_present = true;
    } else if (equals_ignoring_case(name, "packetization-mode")) {
      if (mode_present) return H264FmtpError::kDuplicate;
      if (value.size() != 1 || value[0] < '0' || value[0] > '2')
        return H264FmtpError::kBadPacketizationMode;
      out.packetization_mode = static_cast<std::uint8_t>(value[0] - '0');
      mode_present = true;
    } else if (equals_ignoring_case(name, "level-asymmetry-allowed")) {
      if (asymmetry_present) return H264FmtpError::kDuplicate;
      if (value != "0" && value != "1") return H264FmtpError::kBadLevelAsymmetry;
      out.level_asymmetry_allowed = value == "1";
      asymmetry_present = true;
    }
  }
  return out;
}

bool h264_formats_match(std::string_view offer_fmtp, std::string_view answer_fmtp) {
  auto offer = parse_h264_fmtp(offer_fmtp);
  auto answer = parse_h264_fmtp(answer_fmtp);
  return offer && answer && offer->profile_level_id.profile == answer->profile_level_id.profile &&
         offer->packetization_mode == answer->packetization_mode;
}

Expected<std::string, H264FmtpError> h264_answer_fmtp(std::string_view offer_fmtp,
                                                      H264Level max_receive_level,
                                                      bool level_asymmetry_allowed) {
  auto offer = parse_h264_fmtp(offer_fmtp);
  if (!offer) return offer.error();
  H264ProfileLevelId id = offer->profile_level_id;
  // RFC 6184 8.1/8.2.2: with level-asymmetry-allowed=1 on both sides, each states the level
  // it decodes; otherwise one level serves both directions, at most what the offer named.
  const bool asymmetric = offer->level_asymmetry_allowed && level_asymmetry_allowed;
  if (asymmetric || h264_level_below(max_receive_level, id.level)) id.level = max_receive_level;
  std::string out;
  if (level_asymmetry_allowed) out += "level-asymmetry-allowed=1;";
  out += "packetization-mode=";
  out.push_back(static_cast<char>('0' + offer->packetization_mode));
  out += ";profile-level-id=";
  out += h264_profile_level_id_string(id);
  return out;
}

}  // namespace rtcpp::rtp
