#include "tools/signaling_lines.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace rtcpp::tools {
namespace {

TEST(SignalingLines, ReadsAnOffer) {
  auto line = parse_signaling_line(R"({"type":"offer","sdp":"v=0\r\n"})");
  ASSERT_TRUE(line);
  const auto* d = std::get_if<DescriptionLine>(&*line);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->type, RTCSdpType::kOffer);
  EXPECT_EQ(d->sdp, "v=0\r\n");
}

TEST(SignalingLines, ReadsACandidateWithItsSection) {
  auto line = parse_signaling_line(
      R"({"type":"candidate","candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMid":"1","sdpMLineIndex":1})");
  ASSERT_TRUE(line);
  const auto& init = std::get<CandidateLine>(*line).init;
  EXPECT_EQ(init.candidate, "candidate:1 1 udp 1 1.2.3.4 5 typ host");
  EXPECT_EQ(init.sdp_mid, "1");
  EXPECT_EQ(init.sdp_m_line_index, 1);
}

TEST(SignalingLines, ACandidateWithoutSectionBelongsToTheFirst) {
  auto line = parse_signaling_line(R"({"type":"candidate","candidate":"","sdpMid":null})");
  ASSERT_TRUE(line);
  const auto& init = std::get<CandidateLine>(*line).init;
  EXPECT_TRUE(init.candidate.empty());
  EXPECT_FALSE(init.sdp_mid);
  EXPECT_EQ(init.sdp_m_line_index, 0);
}

TEST(SignalingLines, ByeAndUnknownTypes) {
  auto bye = parse_signaling_line(R"({"type":"bye"})");
  ASSERT_TRUE(bye);
  EXPECT_TRUE(std::holds_alternative<ByeLine>(*bye));
  auto other = parse_signaling_line(R"({"type":"pranswer","sdp":"v=0"})");
  ASSERT_TRUE(other);
  EXPECT_EQ(std::get<UnknownLine>(*other).type, "pranswer");
}

TEST(SignalingLines, RefusesMalformedLines) {
  for (const char* text : {"", "{", "[]", "\"offer\"", R"({"sdp":"v=0"})", R"({"type":7})",
                           "{\"type\":\"bye\"} trailing", "{\"type\":\"\xff\"}"}) {
    auto line = parse_signaling_line(text);
    ASSERT_FALSE(line) << text;
    EXPECT_EQ(line.error().message(), "ignoring malformed signaling line");
  }
  auto no_sdp = parse_signaling_line(R"({"type":"answer","sdp":null})");
  ASSERT_FALSE(no_sdp);
  EXPECT_EQ(no_sdp.error().message(), "answer without sdp");
}

// sdpMLineIndex is an unsigned short: 70000 used to be cut to 4464, and -1 or 1.5 dropped
// (so the candidate went to m-line 0). Such a line is refused now.
TEST(SignalingLines, RefusesAnSdpMLineIndexThatIsNotAnUnsignedShort) {
  for (const char* text : {R"({"type":"candidate","candidate":"","sdpMLineIndex":70000})",
                           R"({"type":"candidate","candidate":"","sdpMLineIndex":65536})",
                           R"({"type":"candidate","candidate":"","sdpMLineIndex":-1})",
                           R"({"type":"candidate","candidate":"","sdpMLineIndex":1.5})",
                           R"({"type":"candidate","candidate":"","sdpMLineIndex":"1"})"}) {
    auto line = parse_signaling_line(text);
    ASSERT_FALSE(line) << text;
    EXPECT_EQ(line.error().message(), "ignoring candidate with a bad sdpMLineIndex");
  }
  auto top = parse_signaling_line(R"({"type":"candidate","candidate":"","sdpMLineIndex":65535})");
  ASSERT_TRUE(top);
  EXPECT_EQ(std::get<CandidateLine>(*top).init.sdp_m_line_index, 65535);
}

// std::getline held a line of any length: a stdin without newlines grew without bound.
TEST(SignalingLines, ReadsLinesUpToABound) {
  std::istringstream in("a\n" + std::string(100, 'x') + "\n\n" + std::string(10, 'y') + "\nb");
  std::string line;
  EXPECT_EQ(read_signaling_line(in, line, 10), LineRead::kLine);
  EXPECT_EQ(line, "a");
  EXPECT_EQ(read_signaling_line(in, line, 10), LineRead::kTooLong);
  EXPECT_TRUE(line.empty());
  EXPECT_EQ(read_signaling_line(in, line, 10), LineRead::kLine);
  EXPECT_EQ(line, "");
  EXPECT_EQ(read_signaling_line(in, line, 10), LineRead::kLine);
  EXPECT_EQ(line, std::string(10, 'y'));
  EXPECT_EQ(read_signaling_line(in, line, 10), LineRead::kLine);
  EXPECT_EQ(line, "b");
  EXPECT_EQ(read_signaling_line(in, line, 10), LineRead::kEnd);
}

}  // namespace
}  // namespace rtcpp::tools
