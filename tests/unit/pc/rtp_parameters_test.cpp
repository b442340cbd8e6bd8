// Codec and header-extension negotiation (JSEP 5.3.1) from real browser offers.
#include "pc/rtp_parameters.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/sdp_fixture.hpp"
#include "pc/jsep.hpp"

namespace rtcpp::pc {
namespace {

using test_support::sdp_fixture;

const sdp::MediaDescription& section(const sdp::SessionDescription& sd, std::string_view media) {
  for (const auto& m : sd.media)
    if (m.media == media) return m;
  ADD_FAILURE() << "no " << media << " section";
  return sd.media.front();
}

TEST(RtpParameters, ChromiumVideoOfferIsAnsweredWithVp8AndItsRtx) {
  const auto sd = sdp_fixture("chromium-offer-media.sdp");
  const auto& video = section(sd, "video");
  const auto offered = read_rtp_parameters(video.attributes, video.formats);
  ASSERT_FALSE(offered.codecs.empty());
  EXPECT_EQ(offered.codecs.front().name, "VP8");
  EXPECT_EQ(offered.codecs.front().payload_type, 96);
  EXPECT_EQ(offered.codecs.front().rtx_payload_type, std::optional<std::uint8_t>(97));
  EXPECT_EQ(offered.extension_id(kMidExtensionUri), std::optional<std::uint8_t>(4));
  // No rtx entry stands alone: each is folded into the codec it repairs.
  for (const auto& c : offered.codecs) EXPECT_NE(c.name, "rtx");

  const auto answer = answer_rtp_parameters(MediaKind::kVideo, offered);
  ASSERT_TRUE(answer);
  // VP8 first as offered, then the six H.264 formats (packetization-mode 0 and 1, every
  // profile: frames are carried as they are), AV1 and both VP9 profiles; not red or ulpfec.
  std::vector<std::string> names;
  for (const auto& c : answer->codecs)
    names.push_back(c.name + "/" + std::to_string(c.payload_type));
  EXPECT_EQ(names,
            (std::vector<std::string>{"VP8/96", "H264/102", "H264/104", "H264/108", "H264/114",
                                      "H264/116", "H264/39", "AV1/45", "VP9/98", "VP9/100"}));
  EXPECT_EQ(answer->codecs[0].payload_type, 96);  // the offerer's payload type kept
  // Only the feedback we act on: not goog-remb.
  EXPECT_EQ(answer->codecs[0].feedback,
            (std::vector<std::string>{"transport-cc", "ccm fir", "nack", "nack pli"}));
  const auto types = payload_types(*answer);
  ASSERT_GE(types.size(), 2u);
  EXPECT_EQ(types[0], "96");
  EXPECT_EQ(types[1], "97");
  // The MID and the transport-wide sequence number, with the offer's ids.
  EXPECT_EQ(answer->extensions,
            (std::vector<RtpHeaderExtension>{{3, std::string(rtp::kTransportWideCcUri)},
                                             {4, std::string(kMidExtensionUri)}}));
}

TEST(RtpParameters, FirefoxAudioOfferKeepsOpusG711AndTelephoneEvent) {
  const auto sd = sdp_fixture("firefox-offer-media.sdp");
  const auto& audio = section(sd, "audio");
  const auto answer = answer_rtp_parameters(MediaKind::kAudio,
                                            read_rtp_parameters(audio.attributes, audio.formats));
  ASSERT_TRUE(answer);
  std::vector<std::string> names;
  for (const auto& c : answer->codecs) names.push_back(c.name);
  EXPECT_EQ(names.front(), "opus");
  EXPECT_NE(std::find(names.begin(), names.end(), "PCMU"), names.end());
  // Firefox's telephone-event/8000 is taken: it serves G.711 (DTMF with Opus needs the
  // 48 kHz one, which Firefox does not offer).
  const auto event = std::find_if(answer->codecs.begin(), answer->codecs.end(),
                                  [](const RtpCodec& c) { return c.name == "telephone-event"; });
  ASSERT_NE(event, answer->codecs.end());
  EXPECT_EQ(event->clock_rate, 8000u);
}

TEST(RtpParameters, AnOfferWithoutACodecWeCarryIsNotAnswerable) {
  sdp::AttributeList attributes;
  attributes.add("rtpmap", "102 H264/90000");
  attributes.add("fmtp", "102 packetization-mode=2;profile-level-id=42e01f");  // interleaved
  attributes.add("rtpmap", "103 H265/90000");
  const std::vector<std::string> formats{"102", "103"};
  EXPECT_FALSE(answer_rtp_parameters(MediaKind::kVideo, read_rtp_parameters(attributes, formats)));
}

TEST(RtpParameters, MalformedLinesAreSkipped) {
  sdp::AttributeList attributes;
  attributes.add("rtpmap", "96");             // no encoding
  attributes.add("rtpmap", "300 VP8/90000");  // not a payload type
  attributes.add("rtpmap", "72 VP8/90000");   // RTCP's range under rtcp-mux (RFC 5761)
  attributes.add("rtpmap", "97 VP8/0");       // no clock rate
  attributes.add("rtpmap", "98 VP8/90000");
  attributes.add("fmtp", "99 apt=98");  // fmtp of a type without rtpmap
  attributes.add("extmap", "0 urn:x");  // id 0 is not an id
  attributes.add("extmap", "5");        // no URI
  attributes.add("ssrc", "notanumber cname:x");
  const std::vector<std::string> formats{"96", "300", "72", "97", "98", "99", "0"};
  const auto p = read_rtp_parameters(attributes, formats);
  ASSERT_EQ(p.codecs.size(), 2u);
  EXPECT_EQ(p.codecs[0].payload_type, 98);
  EXPECT_EQ(p.codecs[1].name, "PCMU");  // static type 0 without rtpmap (RFC 3551 6)
  EXPECT_TRUE(p.extensions.empty());
  EXPECT_TRUE(p.ssrcs.empty());
}

TEST(RtpParameters, OurLinesReadBackTheSame) {
  RtpParameters p = local_rtp_parameters(MediaKind::kVideo);
  p.ssrcs = {1111, 2222};
  p.cname = "rtcpp";
  sdp::AttributeList attributes;
  for (auto& a : rtp_attributes(p)) attributes.add(a.name, a.value);
  const auto formats = payload_types(p);
  EXPECT_EQ(read_rtp_parameters(attributes, formats), p);
}

TEST(RtpParameters, AudioLevelExtensionsAreAnsweredWithMirroredDirections) {
  const auto sd = sdp_fixture("firefox-offer-media.sdp");
  const auto& audio = section(sd, "audio");
  const auto offered = read_rtp_parameters(audio.attributes, audio.formats);
  // Firefox: "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level".
  const auto csrc = std::find_if(offered.extensions.begin(), offered.extensions.end(),
                                 [](const auto& e) { return e.uri == rtp::kCsrcAudioLevelUri; });
  ASSERT_NE(csrc, offered.extensions.end());
  EXPECT_EQ(csrc->direction, "recvonly");
  const auto answer = answer_rtp_parameters(MediaKind::kAudio, offered);
  ASSERT_TRUE(answer);
  std::vector<std::string> lines;
  for (const auto& a : rtp_attributes(*answer))
    if (a.name == "extmap" && a.value) lines.push_back(*a.value);
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "2/sendonly urn:ietf:params:rtp-hdrext:csrc-audio-level"),
            lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "1 urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
            lines.end());
  // Video takes neither.
  const auto& video = section(sd, "video");
  const auto video_answer = answer_rtp_parameters(
      MediaKind::kVideo, read_rtp_parameters(video.attributes, video.formats));
  ASSERT_TRUE(video_answer);
  for (const auto& e : video_answer->extensions) {
    EXPECT_NE(e.uri, rtp::kSsrcAudioLevelUri);
    EXPECT_NE(e.uri, rtp::kCsrcAudioLevelUri);
  }
  // An unknown direction makes the line unusable.
  sdp::AttributeList attributes;
  attributes.add("rtpmap", "111 opus/48000/2");
  attributes.add("extmap", "1/sideways urn:ietf:params:rtp-hdrext:ssrc-audio-level");
  const std::vector<std::string> formats{"111"};
  EXPECT_TRUE(read_rtp_parameters(attributes, formats).extensions.empty());
}

}  // namespace
}  // namespace rtcpp::pc
