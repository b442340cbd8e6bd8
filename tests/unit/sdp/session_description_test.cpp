#include "sdp/session_description.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace rtcpp::sdp {
namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(RTCPP_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> all_fixtures() {
  std::vector<std::string> names;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(RTCPP_TEST_DATA_DIR) + "/sdp")) {
    if (e.path().extension() == ".sdp") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Sdp, EveryFixtureParsesAndWritesBackByteForByte) {
  const auto names = all_fixtures();
  ASSERT_GE(names.size(), 14u);
  for (const auto& name : names) {
    const std::string text = read_fixture(name);
    ASSERT_FALSE(text.empty()) << name;
    auto sd = SessionDescription::parse(text);
    ASSERT_TRUE(sd) << name << ": " << sd.error().to_string();
    EXPECT_EQ(sd->to_string(), text) << name;
    EXPECT_FALSE(sd->media.empty()) << name;
  }
}

TEST(Sdp, ChromiumDataChannelOffer) {
  auto sd = SessionDescription::parse(read_fixture("chromium-offer-datachannel.sdp"));
  ASSERT_TRUE(sd);
  EXPECT_EQ(sd->origin.session_id, "7831778648431828620");
  EXPECT_EQ(sd->attributes.value("group"), "BUNDLE 0");
  ASSERT_EQ(sd->media.size(), 1u);
  const auto& m = sd->media[0];
  EXPECT_EQ(m.media, "application");
  EXPECT_EQ(m.port, 9);
  EXPECT_EQ(m.protocol, "UDP/DTLS/SCTP");
  EXPECT_EQ(m.formats, std::vector<std::string>{"webrtc-datachannel"});
  ASSERT_EQ(m.connections.size(), 1u);
  EXPECT_EQ(m.connections[0].address, "0.0.0.0");
  EXPECT_EQ(m.attributes.value("ice-ufrag"), "C/TQ");
  EXPECT_EQ(m.attributes.value("setup"), "actpass");
  EXPECT_EQ(m.attributes.value("sctp-port"), "5000");
  EXPECT_EQ(m.attributes.value("max-message-size"), "262144");
  EXPECT_TRUE(m.attributes.value("fingerprint")->starts_with("sha-256 FD:BD:2B"));
}

TEST(Sdp, MediaOffersKeepEverySection) {
  auto sd = SessionDescription::parse(read_fixture("chromium-offer-media.sdp"));
  ASSERT_TRUE(sd);
  ASSERT_GE(sd->media.size(), 2u);
  std::vector<std::string> kinds;
  for (const auto& m : sd->media) kinds.push_back(m.media);
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "audio"), kinds.end());
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "video"), kinds.end());
  for (const auto& m : sd->media) {
    if (m.media == "video") {
      EXPECT_FALSE(m.attributes.values("rtpmap").empty());
      EXPECT_GT(m.formats.size(), 1u);
    }
  }
}

TEST(Sdp, AiortcCandidatesInline) {
  auto sd = SessionDescription::parse(read_fixture("aiortc-offer-datachannel.sdp"));
  ASSERT_TRUE(sd);
  const auto& m = sd->media[0];
  EXPECT_EQ(m.protocol, "DTLS/SCTP");
  EXPECT_EQ(m.attributes.values("candidate").size(), 1u);
  EXPECT_TRUE(m.attributes.has("end-of-candidates"));
  EXPECT_EQ(m.attributes.value("end-of-candidates"), "");
}

TEST(Sdp, AcceptsBareLf) {
  auto sd = SessionDescription::parse("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\n");
  ASSERT_TRUE(sd);
  EXPECT_EQ(sd->to_string(), "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
}

TEST(Sdp, BuildsAndEdits) {
  SessionDescription sd;
  sd.attributes.add("group", "BUNDLE 0");
  MediaDescription m;
  m.media = "application";
  m.protocol = "UDP/DTLS/SCTP";
  m.formats = {"webrtc-datachannel"};
  m.connections.push_back({});
  m.attributes.add("mid", "0");
  m.attributes.add("candidate", "1 1 udp 1 10.0.0.1 5 typ host");
  m.attributes.add("candidate", "2 1 udp 1 10.0.0.1 6 typ host");
  m.attributes.add("end-of-candidates");
  sd.media.push_back(m);
  const std::string text = sd.to_string();
  auto back = SessionDescription::parse(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, sd);
  EXPECT_EQ(back->media[0].attributes.remove("candidate"), 2u);
  EXPECT_FALSE(back->media[0].attributes.has("candidate"));
}

struct BadCase {
  const char* text;
  int line;
};

TEST(Sdp, MalformedIsSdpSyntaxErrorWithLineNumber) {
  const BadCase cases[] = {
      {"", 1},
      {"o=- 1 2 IN IP4 1.1.1.1\r\n", 1},                                // no v=
      {"v=1\r\n", 1},                                                   // version
      {"v=0\r\ns=-\r\n", 2},                                            // s= before o=
      {"v=0\r\no=- x 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n", 2},         // session id
      {"v=0\r\no=- 1 2 IN IP4\r\ns=-\r\nt=0 0\r\n", 2},                 // short o=
      {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=\r\nt=0 0\r\n", 3},          // empty s=
      {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\n", 3},                  // no t=
      {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nx=1\r\n", 5},  // unknown type
      {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\na=x\r\nc=IN IP4 0.0.0.0\r\n", 6},
      {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP\r\n", 5},
      {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n", 5},
      {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=x\r\nc=IN "
       "IP4 0.0.0.0\r\n",
       7},
      {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP4\r\n", 6},
      {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\na=\r\n", 5},  // empty name
      {"v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\n\r\ns=-\r\nt=0 0\r\n", 3},    // empty line
      {"v=0\r\nbad\r\n", 2},
  };
  for (const auto& c : cases) {
    auto sd = SessionDescription::parse(c.text);
    ASSERT_FALSE(sd) << c.text;
    EXPECT_EQ(sd.error().type(), RTCErrorType::kOperationError);
    EXPECT_EQ(sd.error().error_detail(), RTCErrorDetailType::kSdpSyntaxError);
    EXPECT_EQ(sd.error().sdp_line_number, c.line) << c.text << " -> " << sd.error().message();
  }
}

TEST(Sdp, EnforcesLimits) {
  std::string huge = "v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n";
  EXPECT_FALSE(
      SessionDescription::parse(huge + "a=x:" + std::string(kMaxLineLength, 'y') + "\r\n"));
  std::string many = huge;
  for (std::size_t i = 0; i <= kMaxMediaSections; ++i) many += "m=audio 9 RTP/AVP 0\r\n";
  EXPECT_FALSE(SessionDescription::parse(many));
  EXPECT_FALSE(SessionDescription::parse(std::string(kMaxDescriptionSize + 1, 'a')));
  std::string nul = huge + "a=x:y";
  nul.push_back('\0');
  EXPECT_FALSE(SessionDescription::parse(nul));
}

}  // namespace
}  // namespace rtcpp::sdp
