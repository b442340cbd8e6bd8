#include "rtp/h264_profile.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace rtcpp::rtp {
namespace {

H264ProfileLevelId parsed(std::string_view text) {
  auto id = parse_h264_profile_level_id(text);
  EXPECT_TRUE(id) << text;
  return id.value_or(H264ProfileLevelId{});
}

TEST(H264ProfileLevelId, ProfilesFromProfileIdcAndConstraintFlags) {
  struct Case {
    const char* text;
    H264Profile profile;
  };
  const std::vector<Case> cases = {
      {"42e01f", H264Profile::kConstrainedBaseline},  // set0, set1, set2
      {"42401f", H264Profile::kConstrainedBaseline},  // set1 alone decides
      {"42C02A", H264Profile::kConstrainedBaseline},
      {"4de01f", H264Profile::kConstrainedBaseline},  // Main with set0
      {"58f01f", H264Profile::kConstrainedBaseline},
      {"42001f", H264Profile::kBaseline},
      {"42a01f", H264Profile::kBaseline},
      {"58A01F", H264Profile::kBaseline},
      {"58001f", H264Profile::kExtended},
      {"4d001f", H264Profile::kMain},
      {"4d401f", H264Profile::kMain},
      {"64001f", H264Profile::kHigh},
      {"640032", H264Profile::kHigh},
      {"64081f", H264Profile::kProgressiveHigh},
      {"640c1f", H264Profile::kConstrainedHigh},
      {"6e001f", H264Profile::kHigh10},
      {"7a001f", H264Profile::kHigh422},
      {"f4001f", H264Profile::kHigh444Predictive},
      {"6e101f", H264Profile::kHigh10Intra},
      {"7a101f", H264Profile::kHigh422Intra},
      {"f4101f", H264Profile::kHigh444Intra},
      {"2c101f", H264Profile::kCavlc444Intra},
  };
  for (const Case& c : cases) EXPECT_EQ(parsed(c.text).profile, c.profile) << c.text;
  const H264ProfileLevelId id = parsed("42e01f");
  EXPECT_EQ(id.level, H264Level::k3_1);
  EXPECT_EQ(id.profile_idc, 0x42);
  EXPECT_EQ(id.profile_iop, 0xe0);
}

TEST(H264ProfileLevelId, Levels) {
  EXPECT_EQ(parsed("42e00a").level, H264Level::k1);
  EXPECT_EQ(parsed("42e00b").level, H264Level::k1_1);
  EXPECT_EQ(parsed("42f00b").level, H264Level::k1b);  // constraint_set3 with level_idc 11
  EXPECT_EQ(parsed("4d100b").level, H264Level::k1b);
  EXPECT_EQ(parsed("640009").level, H264Level::k1b);   // High: level_idc 9
  EXPECT_EQ(parsed("6e100b").level, H264Level::k1_1);  // set3 means Intra here, not 1b
  EXPECT_EQ(parsed("640c34").level, H264Level::k5_2);
  EXPECT_EQ(parsed("64003e").level, H264Level::k6_2);
  EXPECT_TRUE(h264_level_below(H264Level::k1, H264Level::k1b));
  EXPECT_TRUE(h264_level_below(H264Level::k1b, H264Level::k1_1));
  EXPECT_FALSE(h264_level_below(H264Level::k3_1, H264Level::k3_1));
  EXPECT_TRUE(h264_level_below(H264Level::k3_1, H264Level::k4));
}

TEST(H264ProfileLevelId, RefusesUnknownAndMalformed) {
  for (const char* text : {"", "42e01", "42e01f0", "42e0 f", "x2e01f", "+42e01",
                           "42e000",  // level 0
                           "42e063",  // no level 9.9
                           "420009",  // level_idc 9 is not 1b in Baseline
                           "42e11f",  // reserved bits set
                           "4d201f",  // Main with set2
                           "64101f",  // High with set3
                           "65001f", "00001f", "ffffff"}) {
    EXPECT_FALSE(parse_h264_profile_level_id(text)) << text;
  }
}

TEST(H264ProfileLevelId, WritesItBackWithAnotherLevel) {
  H264ProfileLevelId id = parsed("42e01f");
  EXPECT_EQ(h264_profile_level_id_string(id), "42e01f");
  id.level = H264Level::k1b;
  EXPECT_EQ(h264_profile_level_id_string(id), "42f00b");
  id = parsed("42f00b");
  id.level = H264Level::k1_1;
  EXPECT_EQ(h264_profile_level_id_string(id), "42e00b");
  id = parsed("640c34");
  id.level = H264Level::k1b;
  EXPECT_EQ(h264_profile_level_id_string(id), "640c09");
  EXPECT_EQ(h264_profile_level_id_string(parsed("4D401F")), "4d401f");
}

TEST(H264Fmtp, ParsesWhatBrowsersOffer) {
  // Chromium 156 (and Pion, aiortc: the same lines), from tests/data/sdp/*-offer-media.sdp.
  auto chromium =
      parse_h264_fmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  ASSERT_TRUE(chromium);
  EXPECT_EQ(chromium->profile_level_id.profile, H264Profile::kConstrainedBaseline);
  EXPECT_EQ(chromium->profile_level_id.level, H264Level::k3_1);
  EXPECT_TRUE(chromium->profile_level_id_present);
  EXPECT_EQ(chromium->packetization_mode, 1);
  EXPECT_TRUE(chromium->level_asymmetry_allowed);
  // Firefox writes profile-level-id first, and leaves packetization-mode out for mode 0. (Our
  // Firefox fixture offers no H.264: its OpenH264 plugin was not installed.)
  auto firefox = parse_h264_fmtp("profile-level-id=42e01f;level-asymmetry-allowed=1");
  ASSERT_TRUE(firefox);
  EXPECT_EQ(firefox->packetization_mode, 0);
  EXPECT_EQ(firefox->profile_level_id.profile, H264Profile::kConstrainedBaseline);

  auto defaults = parse_h264_fmtp("");
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(defaults->profile_level_id_present);
  EXPECT_EQ(defaults->profile_level_id.profile, H264Profile::kBaseline);  // RFC 6184 8.1
  EXPECT_EQ(defaults->profile_level_id.level, H264Level::k1);
  EXPECT_EQ(defaults->packetization_mode, 0);
  EXPECT_FALSE(defaults->level_asymmetry_allowed);

  auto spaced = parse_h264_fmtp(
      " Profile-Level-Id = 4D001F ;; packetization-mode=2 ; "
      "sprop-parameter-sets=Z0IACpZTBYmI,aMljiA==;"
      " max-mbps=40500; ");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->profile_level_id.profile, H264Profile::kMain);
  EXPECT_EQ(spaced->packetization_mode, 2);
}

TEST(H264Fmtp, Errors) {
  struct Case {
    std::string fmtp;
    H264FmtpError error;
  };
  const std::vector<Case> cases = {
      {"profile-level-id", H264FmtpError::kSyntax},
      {"=1", H264FmtpError::kSyntax},
      {"packetization-mode=1;packetization-mode=1", H264FmtpError::kDuplicate},
      {"profile-level-id=42e01f;PROFILE-LEVEL-ID=42e01f", H264FmtpError::kDuplicate},
      {"level-asymmetry-allowed=1;level-asymmetry-allowed=0", H264FmtpError::kDuplicate},
      {"profile-level-id=", H264FmtpError::kBadProfileLevelId},
      {"profile-level-id=42e01g", H264FmtpError::kBadProfileLevelId},
      {"profile-level-id=ffffff", H264FmtpError::kBadProfileLevelId},
      {"packetization-mode=3", H264FmtpError::kBadPacketizationMode},
      {"packetization-mode=01", H264FmtpError::kBadPacketizationMode},
      {"packetization-mode=", H264FmtpError::kBadPacketizationMode},
      {"level-asymmetry-allowed=yes", H264FmtpError::kBadLevelAsymmetry},
      {std::string(kMaxH264FmtpSize + 1, ' '), H264FmtpError::kTooLong},
  };
  for (const Case& c : cases) {
    auto fmtp = parse_h264_fmtp(c.fmtp);
    ASSERT_FALSE(fmtp) << c.fmtp;
    EXPECT_EQ(fmtp.error(), c.error) << c.fmtp;
  }
  std::string many;
  for (std::size_t i = 0; i <= kMaxH264FmtpParameters; ++i) many += "x=1;";
  EXPECT_EQ(parse_h264_fmtp(many).error(), H264FmtpError::kTooLong);
  many.resize(many.size() - 4);
  EXPECT_TRUE(parse_h264_fmtp(many));
}

std::vector<std::string> h264_fmtps_in(const std::string& name) {
  std::ifstream in(std::string(RTCPP_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::vector<std::string> fmtps;
  std::vector<std::string> h264_payload_types;
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    const std::string rtpmap = "a=rtpmap:";
    if (line.rfind(rtpmap, 0) == 0 && line.find(" H264/90000") != std::string::npos)
      h264_payload_types.push_back(line.substr(rtpmap.size(), line.find(' ') - rtpmap.size()));
  }
  for (const std::string& pt : h264_payload_types) {
    const std::string prefix = "a=fmtp:" + pt + " ";
    for (const std::string& l : lines) {
      if (l.rfind(prefix, 0) == 0) fmtps.push_back(l.substr(prefix.size()));
    }
  }
  return fmtps;
}

TEST(H264Fmtp, EveryH264FormatInTheBrowserFixturesParses) {
  std::size_t total = 0;
  for (const char* name :
       {"chromium-offer-media.sdp", "pion-offer-media.sdp", "aiortc-offer-media.sdp"}) {
    const std::vector<std::string> fmtps = h264_fmtps_in(name);
    EXPECT_FALSE(fmtps.empty()) << name;
    for (const std::string& fmtp : fmtps) {
      auto parsed_fmtp = parse_h264_fmtp(fmtp);
      EXPECT_TRUE(parsed_fmtp) << name << ": " << fmtp;
      EXPECT_TRUE(parsed_fmtp->profile_level_id_present);
      EXPECT_TRUE(h264_formats_match(fmtp, fmtp));
      ++total;
    }
  }
  EXPECT_EQ(total, 6u + 5u + 2u);
}

TEST(H264Fmtp, FormatsMatchOnProfileAndPacketizationMode) {
  const char* const cb1 = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
  const char* const cb0 = "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f";
  const char* const b1 = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f";
  const char* const main1 =
      "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f";
  const char* const high1 =
      "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640032";
  EXPECT_TRUE(h264_formats_match(cb1, "packetization-mode=1;profile-level-id=42e00b"));
  EXPECT_TRUE(h264_formats_match(cb1, "profile-level-id=4de01f;packetization-mode=1"));
  EXPECT_FALSE(h264_formats_match(cb1, cb0));
  EXPECT_FALSE(h264_formats_match(cb1, b1));
  EXPECT_FALSE(h264_formats_match(cb1, main1));
  EXPECT_FALSE(h264_formats_match(high1, "packetization-mode=1;profile-level-id=640c1f"));
  EXPECT_TRUE(h264_formats_match("", "profile-level-id=42000a"));  // both default Baseline
  EXPECT_FALSE(h264_formats_match(cb1, "packetization-mode=7"));
  EXPECT_FALSE(h264_formats_match("garbage", "garbage"));
}

TEST(H264Fmtp, AnswerLevels) {
  const char* const chromium =
      "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
  // Both allow asymmetry: our own level, above or below the offer's.
  EXPECT_EQ(h264_answer_fmtp(chromium, H264Level::k5_1).value(),
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e033");
  EXPECT_EQ(h264_answer_fmtp(chromium, H264Level::k2).value(),
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e014");
  // We do not: the lower of the two.
  EXPECT_EQ(h264_answer_fmtp(chromium, H264Level::k5_1, false).value(),
            "packetization-mode=1;profile-level-id=42e01f");
  EXPECT_EQ(h264_answer_fmtp(chromium, H264Level::k1b, false).value(),
            "packetization-mode=1;profile-level-id=42f00b");
  // The offer does not: the lower of the two, and the offer's profile bytes kept.
  EXPECT_EQ(h264_answer_fmtp("profile-level-id=4de01e", H264Level::k5_1).value(),
            "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4de01e");
  EXPECT_EQ(
      h264_answer_fmtp("profile-level-id=640c34;packetization-mode=1", H264Level::k3_1).value(),
      "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f");
  // No profile-level-id: Baseline level 1, and an answer never above it without asymmetry.
  EXPECT_EQ(h264_answer_fmtp("", H264Level::k3_1).value(),
            "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42000a");
  EXPECT_EQ(h264_answer_fmtp("packetization-mode=x", H264Level::k3_1).error(),
            H264FmtpError::kBadPacketizationMode);
  // What an answer says matches what was offered.
  EXPECT_TRUE(h264_formats_match(chromium, h264_answer_fmtp(chromium, H264Level::k4).value()));
}

}  // namespace
}  // namespace rtcpp::rtp
