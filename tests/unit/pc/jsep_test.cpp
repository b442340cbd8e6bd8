#include "pc/jsep.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace rtcpp::pc {
namespace {

sdp::SessionDescription fixture(const std::string& name) {
  std::ifstream in(std::string(RTCPP_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  auto sd = sdp::SessionDescription::parse(s.str());
  EXPECT_TRUE(sd) << name;
  return *sd;
}

TEST(Jsep, ReadsEveryStacksDataChannelOffer) {
  for (const char* name : {"chromium-offer-datachannel.sdp", "firefox-offer-datachannel.sdp",
                           "pion-offer-datachannel.sdp", "aiortc-offer-datachannel.sdp",
                           "ldc-offer-datachannel.sdp"}) {
    auto t = read_remote_transport(fixture(name));
    ASSERT_TRUE(t) << name << ": " << t.error().to_string();
    EXPECT_FALSE(t->ice_ufrag.empty()) << name;
    EXPECT_GE(t->ice_pwd.size(), 22u) << name;
    ASSERT_FALSE(t->fingerprints.empty()) << name;
    EXPECT_EQ(t->fingerprints[0].algorithm, "sha-256") << name;
    EXPECT_EQ(t->setup, DtlsSetup::kActpass) << name;
    EXPECT_EQ(t->sctp_port, 5000) << name;
  }
  auto chromium = read_remote_transport(fixture("chromium-offer-datachannel.sdp"));
  EXPECT_EQ(chromium->ice_ufrag, "C/TQ");
  EXPECT_EQ(chromium->max_message_size, 262144u);
  EXPECT_EQ(chromium->mid, "0");
  auto aiortc = read_remote_transport(fixture("aiortc-offer-datachannel.sdp"));
  EXPECT_EQ(aiortc->candidates.size(), 1u);  // candidates inline, no trickle
  EXPECT_TRUE(aiortc->end_of_candidates);
  EXPECT_EQ(aiortc->max_message_size, 65536u);
}

TEST(Jsep, ReadsOtherStacksAnswersToChromium) {
  for (const char* name : {"firefox-answer-datachannel.sdp", "pion-answer-datachannel.sdp",
                           "aiortc-answer-datachannel.sdp", "ldc-answer-datachannel.sdp",
                           "chromium-answer-datachannel.sdp"}) {
    auto t = read_remote_transport(fixture(name));
    ASSERT_TRUE(t) << name << ": " << t.error().to_string();
    EXPECT_EQ(t->setup, DtlsSetup::kActive) << name;
  }
}

TEST(Jsep, AnswerToChromiumOfferReadsBack) {
  TransportDescription ours;
  ours.ice_ufrag = "abcd";
  ours.ice_pwd = "0123456789012345678901";
  ours.ice_options = {"trickle"};
  ours.fingerprints = (*dtls::Certificate::generate())->get_fingerprints();
  ours.setup = DtlsSetup::kActive;
  ours.max_message_size = 262144;
  ours.candidates.push_back(
      *ice::Candidate::parse("candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"));
  auto answer = build_answer({ours, 42, 1}, fixture("chromium-offer-datachannel.sdp"));
  ASSERT_TRUE(answer);
  auto parsed = sdp::SessionDescription::parse(*answer);
  ASSERT_TRUE(parsed) << *answer;
  EXPECT_EQ(parsed->attributes.value("group"), "BUNDLE 0");
  auto t = read_remote_transport(*parsed);
  ASSERT_TRUE(t) << t.error().to_string();
  EXPECT_EQ(t->ice_ufrag, "abcd");
  EXPECT_EQ(t->setup, DtlsSetup::kActive);
  EXPECT_EQ(t->fingerprints, ours.fingerprints);
  EXPECT_EQ(t->candidates.size(), 1u);
  EXPECT_EQ(t->mid, "0");
}

TEST(Jsep, AnswerRejectsMediaSectionsAndKeepsOrder) {
  // An offer with audio, video and a data channel: answered in order, media rejected.
  auto offer = fixture("chromium-offer-media.sdp");
  auto data = fixture("chromium-offer-datachannel.sdp").media[0];
  data.attributes.remove("mid");
  data.attributes.add("mid", "2");
  offer.media.push_back(data);
  TransportDescription ours;
  ours.ice_ufrag = "abcd";
  ours.ice_pwd = "0123456789012345678901";
  ours.fingerprints = (*dtls::Certificate::generate())->get_fingerprints();
  ours.setup = DtlsSetup::kActive;
  auto answer = build_answer({ours, 1, 1}, offer);
  ASSERT_TRUE(answer);
  auto parsed = *sdp::SessionDescription::parse(*answer);
  ASSERT_EQ(parsed.media.size(), offer.media.size());
  for (std::size_t i = 0; i + 1 < parsed.media.size(); ++i) {
    EXPECT_EQ(parsed.media[i].port, 0) << i;
    EXPECT_EQ(parsed.media[i].media, offer.media[i].media);
    EXPECT_EQ(parsed.media[i].attributes.value("mid"), offer.media[i].attributes.value("mid"));
  }
  EXPECT_EQ(parsed.media.back().attributes.value("mid"), "2");
  EXPECT_EQ(parsed.attributes.value("group"), "BUNDLE 2");
  // A media-only offer cannot be answered yet.
  EXPECT_EQ(build_answer({ours, 1, 1}, fixture("chromium-offer-media.sdp")).error().type(),
            RTCErrorType::kNotSupportedError);
}

TEST(Jsep, OfferReadsBack) {
  TransportDescription ours;
  ours.ice_ufrag = "wxyz";
  ours.ice_pwd = "zyxwvutsrqponmlkjihgfe";
  ours.fingerprints = (*dtls::Certificate::generate())->get_fingerprints();
  const std::string offer = build_offer({ours, 7, 2});
  auto parsed = sdp::SessionDescription::parse(offer);
  ASSERT_TRUE(parsed);
  auto t = read_remote_transport(*parsed);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->setup, DtlsSetup::kActpass);
  EXPECT_EQ(t->ice_pwd, "zyxwvutsrqponmlkjihgfe");
}

TEST(Jsep, MissingPiecesAreInvalidAccessErrors) {
  auto sd = fixture("chromium-offer-datachannel.sdp");
  auto no_pwd = sd;
  no_pwd.media[0].attributes.remove("ice-pwd");
  EXPECT_EQ(read_remote_transport(no_pwd).error().type(), RTCErrorType::kInvalidAccessError);
  auto no_fp = sd;
  no_fp.media[0].attributes.remove("fingerprint");
  EXPECT_EQ(read_remote_transport(no_fp).error().type(), RTCErrorType::kInvalidAccessError);
  auto bad_setup = sd;
  bad_setup.media[0].attributes.remove("setup");
  bad_setup.media[0].attributes.add("setup", "sideways");
  EXPECT_FALSE(read_remote_transport(bad_setup));
  EXPECT_EQ(read_remote_transport(fixture("chromium-offer-media.sdp")).error().type(),
            RTCErrorType::kInvalidAccessError);
}

TEST(Jsep, DtlsRoleNegotiation) {
  // RFC 8842: the answerer's active/passive decides.
  EXPECT_EQ(*negotiate_dtls_role(DtlsSetup::kActpass, DtlsSetup::kActive, true),
            dtls::DtlsRole::kServer);
  EXPECT_EQ(*negotiate_dtls_role(DtlsSetup::kActpass, DtlsSetup::kPassive, true),
            dtls::DtlsRole::kClient);
  EXPECT_EQ(*negotiate_dtls_role(DtlsSetup::kActive, DtlsSetup::kActpass, false),
            dtls::DtlsRole::kClient);
  EXPECT_EQ(*negotiate_dtls_role(DtlsSetup::kPassive, DtlsSetup::kActpass, false),
            dtls::DtlsRole::kServer);
  EXPECT_FALSE(negotiate_dtls_role(DtlsSetup::kActpass, DtlsSetup::kActpass, true));
}

}  // namespace
}  // namespace rtcpp::pc
