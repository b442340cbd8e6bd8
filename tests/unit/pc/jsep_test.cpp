#include "pc/jsep.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/sdp_fixture.hpp"
#include "pc/transceivers.hpp"

namespace rtcpp::pc {
namespace {

using test_support::sdp_fixture;

TransportDescription our_transport(DtlsSetup setup) {
  TransportDescription t;
  t.ice_ufrag = "abcd";
  t.ice_pwd = "0123456789012345678901";
  t.ice_options = {"trickle"};
  static const auto certificate = *dtls::Certificate::generate();
  t.fingerprints = certificate->get_fingerprints();
  t.setup = setup;
  t.max_message_size = 262144;
  return t;
}

// The sections a remote offer puts in place, as our offer-side bookkeeping would hold them:
// what a description we answered must match.
std::vector<MSection> as_offered(const RemoteDescription& offer) {
  std::vector<MSection> out;
  for (const auto& s : offer.sections) out.push_back(section_of(s));
  return out;
}

struct Answered {
  AnswerPlan plan;
  std::string text;
  sdp::SessionDescription parsed;
};

// Answers a remote offer as the connection does: transceivers for its media sections, media
// rejected until RTP lands, the data section accepted.
Answered answer(const RemoteDescription& offer, TransceiverList& transceivers) {
  Answered a;
  a.plan = plan_answer(
      offer,
      [&](std::size_t i) -> std::optional<std::uint32_t> {
        if (offer.sections[i].rejected) return std::nullopt;
        return transceivers.associate_remote(offer.sections[i].kind, offer.sections[i].mid);
      },
      [](std::size_t) { return false; });
  a.text =
      write_description({our_transport(DtlsSetup::kActive), 5, 1}, a.plan.sections, a.plan.bundle);
  auto parsed = sdp::SessionDescription::parse(a.text);
  EXPECT_TRUE(parsed);
  if (parsed) a.parsed = *parsed;
  return a;
}

TEST(Jsep, ReadsEveryStacksDataChannelOffer) {
  for (const char* name : {"chromium-offer-datachannel.sdp", "firefox-offer-datachannel.sdp",
                           "pion-offer-datachannel.sdp", "aiortc-offer-datachannel.sdp",
                           "ldc-offer-datachannel.sdp"}) {
    auto d = read_remote_description(sdp_fixture(name));
    ASSERT_TRUE(d) << name << ": " << d.error().to_string();
    ASSERT_TRUE(d->transport) << name;
    ASSERT_TRUE(d->data_section) << name;
    const auto& t = *d->transport;
    EXPECT_FALSE(t.ice_ufrag.empty()) << name;
    EXPECT_GE(t.ice_pwd.size(), 22u) << name;
    ASSERT_FALSE(t.fingerprints.empty()) << name;
    EXPECT_EQ(t.fingerprints[0].algorithm, "sha-256") << name;
    EXPECT_EQ(t.setup, DtlsSetup::kActpass) << name;
    EXPECT_EQ(t.sctp_port, 5000) << name;
  }
  auto chromium = read_remote_description(sdp_fixture("chromium-offer-datachannel.sdp"));
  EXPECT_EQ(chromium->transport->ice_ufrag, "C/TQ");
  EXPECT_EQ(chromium->transport->max_message_size, 262144u);
  EXPECT_EQ(chromium->transport->mid, "0");
  EXPECT_EQ(chromium->bundle, std::vector<std::string>{"0"});
  auto aiortc = read_remote_description(sdp_fixture("aiortc-offer-datachannel.sdp"));
  EXPECT_EQ(aiortc->transport->candidates.size(), 1u);  // candidates inline, no trickle
  EXPECT_TRUE(aiortc->transport->end_of_candidates);
  EXPECT_EQ(aiortc->transport->max_message_size, 65536u);
}

TEST(Jsep, ReadsOtherStacksAnswersToChromium) {
  const std::vector<MSection> offered{data_section("0")};
  for (const char* name : {"firefox-answer-datachannel.sdp", "pion-answer-datachannel.sdp",
                           "aiortc-answer-datachannel.sdp", "ldc-answer-datachannel.sdp",
                           "chromium-answer-datachannel.sdp"}) {
    auto d = read_remote_description(sdp_fixture(name), offered);
    ASSERT_TRUE(d) << name << ": " << d.error().to_string();
    ASSERT_TRUE(d->transport && d->data_section) << name;
    EXPECT_EQ(d->transport->setup, DtlsSetup::kActive) << name;
  }
}

// JSEP 5.3.1 for every offer in the fixtures, media ones included: one answer section per
// offered one, in order, with its mid; the data section accepted, media sections rejected
// (port 0) with their transceivers made; the answer reads back as an answer to that offer.
TEST(Jsep, EveryFixtureOfferIsAnswered) {
  for (const char* name :
       {"chromium-offer-datachannel.sdp", "firefox-offer-datachannel.sdp",
        "pion-offer-datachannel.sdp", "aiortc-offer-datachannel.sdp", "ldc-offer-datachannel.sdp",
        "chromium-offer-media.sdp", "firefox-offer-media.sdp", "pion-offer-media.sdp",
        "aiortc-offer-media.sdp"}) {
    SCOPED_TRACE(name);
    const auto offer_sdp = sdp_fixture(name);
    auto offer = read_remote_description(offer_sdp);
    ASSERT_TRUE(offer) << offer.error().to_string();
    TransceiverList transceivers;
    auto a = answer(*offer, transceivers);
    ASSERT_EQ(a.parsed.media.size(), offer_sdp.media.size());
    std::size_t media_sections = 0;
    std::vector<std::string> accepted;
    for (std::size_t i = 0; i < offer_sdp.media.size(); ++i) {
      const auto& ours = a.parsed.media[i];
      EXPECT_EQ(ours.media, offer_sdp.media[i].media) << i;
      EXPECT_EQ(ours.protocol, offer_sdp.media[i].protocol) << i;
      EXPECT_EQ(ours.attributes.value("mid"), offer_sdp.media[i].attributes.value("mid")) << i;
      if (ours.media == "application") {
        EXPECT_NE(ours.port, 0) << i;
        EXPECT_TRUE(ours.attributes.has("ice-ufrag"));
        EXPECT_EQ(ours.attributes.value("setup"), "active");
        accepted.emplace_back(*ours.attributes.value("mid"));
      } else {
        ++media_sections;
        EXPECT_EQ(ours.port, 0) << i;
        EXPECT_TRUE(ours.attributes.has("inactive")) << i;
        EXPECT_FALSE(ours.attributes.has("ice-ufrag")) << i;
      }
    }
    EXPECT_EQ(transceivers.all().size(), media_sections);
    if (accepted.empty()) {
      EXPECT_FALSE(a.parsed.attributes.has("group"));
    } else {
      EXPECT_EQ(a.parsed.attributes.value("group"), "BUNDLE " + accepted.front());
    }
    auto reread = read_remote_description(a.parsed, as_offered(*offer));
    ASSERT_TRUE(reread) << reread.error().to_string();
    EXPECT_EQ(reread->data_section.has_value(), !accepted.empty());
  }
}

// Firefox offers the later sections of a bundle as bundle-only (port 0): they are part of
// the bundle, not rejected. The transport comes from the first section of the group; a
// data section that is bundle-only is answered and carries the SCTP parameters.
TEST(Jsep, BundleOnlySectionsAreBundledNotRejected) {
  auto offer_sdp = sdp_fixture("firefox-offer-media.sdp");
  auto data = sdp_fixture("firefox-offer-datachannel.sdp").media[0];
  data.port = 0;
  data.attributes.remove("mid");
  data.attributes.add("mid", "2");
  data.attributes.add("bundle-only");
  data.attributes.remove("max-message-size");
  data.attributes.add("max-message-size", "1073741823");
  offer_sdp.media.push_back(data);
  offer_sdp.attributes.remove("group");
  offer_sdp.attributes.add("group", "BUNDLE 0 1 2");
  auto offer = read_remote_description(offer_sdp);
  ASSERT_TRUE(offer) << offer.error().to_string();
  EXPECT_TRUE(offer->sections[1].bundle_only);
  EXPECT_FALSE(offer->sections[1].rejected);
  ASSERT_EQ(offer->transport_section, 0u);
  EXPECT_EQ(offer->transport->ice_ufrag, "ea03f7eb");
  EXPECT_EQ(offer->transport->mid, "0");
  ASSERT_EQ(offer->data_section, 2u);
  EXPECT_EQ(offer->transport->max_message_size, 1073741823u);
  TransceiverList transceivers;
  auto a = answer(*offer, transceivers);
  EXPECT_EQ(a.plan.bundle, std::vector<std::string>{"2"});
  EXPECT_NE(a.parsed.media[2].port, 0);
  EXPECT_EQ(a.parsed.attributes.value("group"), "BUNDLE 2");
  // A tagged section that is itself bundle-only cannot carry the transport.
  auto bad = offer_sdp;
  bad.media[0].port = 0;
  bad.media[0].attributes.add("bundle-only");
  EXPECT_EQ(read_remote_description(bad).error().type(), RTCErrorType::kInvalidAccessError);
}

// A section rejected by the offerer (port 0, no bundle-only) stays rejected, and a section
// outside the BUNDLE group cannot share our one transport.
TEST(Jsep, RejectedAndUnbundledSectionsAreRejected) {
  auto offer_sdp = sdp_fixture("chromium-offer-media.sdp");
  auto data = sdp_fixture("chromium-offer-datachannel.sdp").media[0];
  data.attributes.remove("mid");
  data.attributes.add("mid", "2");
  offer_sdp.media.push_back(data);  // not in the group "BUNDLE 0 1"
  offer_sdp.media[0].port = 0;
  auto offer = read_remote_description(offer_sdp);
  ASSERT_TRUE(offer);
  EXPECT_TRUE(offer->sections[0].rejected);
  EXPECT_FALSE(offer->data_section);
  TransceiverList transceivers;
  auto a = answer(*offer, transceivers);
  for (const auto& m : a.parsed.media) EXPECT_EQ(m.port, 0);
  EXPECT_EQ(transceivers.all().size(), 1u);  // none for the rejected audio section
}

TEST(Jsep, OfferWithMediaAndDataReadsBack) {
  TransceiverList transceivers;
  transceivers.add(MediaKind::kAudio, RtpDirection::kSendRecv);
  transceivers.add(MediaKind::kVideo, RtpDirection::kRecvOnly);
  auto sections = plan_offer({}, transceivers);
  ASSERT_EQ(sections.size(), 3u);
  EXPECT_EQ(sections[0].media, "audio");
  EXPECT_EQ(sections[1].media, "video");
  EXPECT_TRUE(sections[2].data);
  EXPECT_EQ(sections[0].mid, "0");
  EXPECT_EQ(sections[1].mid, "1");
  EXPECT_EQ(sections[2].mid, "2");
  auto t = our_transport(DtlsSetup::kActpass);
  t.candidates.push_back(
      *ice::Candidate::parse("candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host"));
  const auto text = write_description({t, 7, 2}, sections, offer_bundle(sections));
  auto parsed = sdp::SessionDescription::parse(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->attributes.value("group"), "BUNDLE 0 1 2");
  EXPECT_TRUE(parsed->media[1].attributes.has("recvonly"));
  EXPECT_TRUE(parsed->media[0].attributes.has("rtcp-mux"));
  // Candidates once, in the first bundled section.
  EXPECT_EQ(parsed->media[0].attributes.values("candidate").size(), 1u);
  EXPECT_TRUE(parsed->media[2].attributes.values("candidate").empty());
  auto d = read_remote_description(*parsed);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->transport->setup, DtlsSetup::kActpass);
  EXPECT_EQ(d->transport->ice_pwd, t.ice_pwd);
  EXPECT_EQ(d->transport->mid, "0");
  EXPECT_EQ(d->data_section, 2u);
  EXPECT_EQ(d->transport->max_message_size, 262144u);
}

// JSEP 5.2.2: later offers keep every section in place; a stopped transceiver's section is
// rejected, and a new transceiver of that kind recycles it under a new mid.
TEST(Jsep, LaterOffersKeepSectionsAndRecycleRejectedOnes) {
  TransceiverList transceivers;
  const auto audio = transceivers.add(MediaKind::kAudio, RtpDirection::kSendRecv);
  auto first = plan_offer({}, transceivers);
  transceivers.find(audio)->mid = first[0].mid;
  transceivers.stop(audio);
  auto second = plan_offer(first, transceivers);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_TRUE(second[0].rejected);
  EXPECT_EQ(second[0].mid, "0");
  EXPECT_TRUE(second[1].data);
  transceivers.apply_negotiated(audio, true, RtpDirection::kInactive);
  EXPECT_TRUE(transceivers.find(audio)->stopped);
  const auto video = transceivers.add(MediaKind::kVideo, RtpDirection::kSendRecv);
  const auto audio2 = transceivers.add(MediaKind::kAudio, RtpDirection::kSendOnly);
  auto third = plan_offer(second, transceivers);
  ASSERT_EQ(third.size(), 3u);
  EXPECT_EQ(third[0].transceiver, audio2);  // recycled
  EXPECT_FALSE(third[0].rejected);
  EXPECT_EQ(third[0].mid, "3");  // the video transceiver, added first, took "2"
  EXPECT_EQ(third[0].direction, RtpDirection::kSendOnly);
  EXPECT_EQ(third[1].mid, "1");
  EXPECT_EQ(third[2].transceiver, video);
  EXPECT_EQ(third[2].mid, "2");
  EXPECT_EQ(offer_bundle(third), (std::vector<std::string>{"3", "1", "2"}));
}

// A remote offer's transceivers go on rollback; those of the negotiated session stay.
TEST(Jsep, RollbackRemovesTransceiversOfTheRemoteOffer) {
  TransceiverList transceivers;
  const auto kept = transceivers.associate_remote(MediaKind::kAudio, "0");
  transceivers.commit_remote_offer();
  EXPECT_EQ(transceivers.associate_remote(MediaKind::kAudio, "0"), kept);
  transceivers.associate_remote(MediaKind::kVideo, "1");
  EXPECT_EQ(transceivers.all().size(), 2u);
  const std::vector<std::string> negotiated{"0"};
  transceivers.roll_back_remote_offer(negotiated);
  ASSERT_EQ(transceivers.all().size(), 1u);
  EXPECT_EQ(transceivers.all()[0].handle, kept);
}

TEST(Jsep, AnswersThatDoNotMatchTheOfferAreRefused) {
  TransceiverList transceivers;
  transceivers.add(MediaKind::kAudio, RtpDirection::kSendRecv);
  auto offered = plan_offer({}, transceivers);                            // audio 0, application 1
  auto chromium_answer = sdp_fixture("chromium-answer-datachannel.sdp");  // one section
  EXPECT_EQ(read_remote_description(chromium_answer, offered).error().type(),
            RTCErrorType::kInvalidAccessError);
  auto swapped = sdp_fixture("chromium-offer-media.sdp");  // audio, video: wrong kind second
  EXPECT_EQ(read_remote_description(swapped, offered).error().type(),
            RTCErrorType::kInvalidAccessError);
}

TEST(Jsep, MissingPiecesAreInvalidAccessErrors) {
  auto sd = sdp_fixture("chromium-offer-datachannel.sdp");
  auto error_of = [](const sdp::SessionDescription& d) -> std::optional<RTCErrorType> {
    auto r = read_remote_description(d);
    if (r) return std::nullopt;
    return r.error().type();
  };
  auto no_pwd = sd;
  no_pwd.media[0].attributes.remove("ice-pwd");
  EXPECT_EQ(error_of(no_pwd), RTCErrorType::kInvalidAccessError);
  auto no_fp = sd;
  no_fp.media[0].attributes.remove("fingerprint");
  EXPECT_EQ(error_of(no_fp), RTCErrorType::kInvalidAccessError);
  auto bad_setup = sd;
  bad_setup.media[0].attributes.remove("setup");
  bad_setup.media[0].attributes.add("setup", "sideways");
  EXPECT_EQ(error_of(bad_setup), RTCErrorType::kInvalidAccessError);
  auto unknown_bundle = sd;
  unknown_bundle.attributes.remove("group");
  unknown_bundle.attributes.add("group", "BUNDLE 0 7");
  EXPECT_EQ(error_of(unknown_bundle), RTCErrorType::kInvalidAccessError);
  auto twice = sdp_fixture("chromium-offer-media.sdp");
  twice.media[1].attributes.remove("mid");
  twice.media[1].attributes.add("mid", "0");
  EXPECT_EQ(error_of(twice), RTCErrorType::kInvalidAccessError);
  auto no_mid = sdp_fixture("chromium-offer-media.sdp");
  no_mid.media[1].attributes.remove("mid");
  EXPECT_EQ(error_of(no_mid), RTCErrorType::kInvalidAccessError);
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

namespace rtcpp::pc {
namespace {

// A mid is a token (RFC 5888): one with a space could not be named in a BUNDLE group.
TEST(Jsep, MidsMustBeTokens) {
  auto spaced = sdp_fixture("chromium-offer-datachannel.sdp");
  spaced.media[0].attributes.remove("mid");
  spaced.media[0].attributes.add("mid", "a b");
  auto read = read_remote_description(spaced);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().type(), RTCErrorType::kInvalidAccessError);
  auto long_mid = sdp_fixture("chromium-offer-datachannel.sdp");
  long_mid.media[0].attributes.remove("mid");
  long_mid.media[0].attributes.add("mid", std::string(300, 'm'));
  EXPECT_FALSE(read_remote_description(long_mid));
}

}  // namespace
}  // namespace rtcpp::pc
