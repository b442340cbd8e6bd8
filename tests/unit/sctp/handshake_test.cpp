// The association's setup pieces on their own: the extensions in INIT / INIT ACK, the state
// cookie (RFC 9260 5.1.3, 5.1.5), T1 (5.1.6) and the COOKIE ECHO cases of 5.2.4.
#include "sctp/handshake.hpp"

#include <gtest/gtest.h>

#include "base/random.hpp"

namespace rtcpp::sctp {
namespace {

constexpr std::uint8_t kAll = extension::kForwardTsn | extension::kReconfig | extension::kIData |
                              extension::kIForwardTsn | extension::kZeroChecksum;

TEST(Handshake, ExtensionsAdvertisedAreTheOnesLearnt) {
  for (const std::uint8_t ext :
       {std::uint8_t{0}, kAll, std::uint8_t{extension::kReconfig | extension::kIData},
        std::uint8_t{extension::kForwardTsn}, std::uint8_t{extension::kZeroChecksum}}) {
    InitChunk init;
    ExtensionValues values;
    // I-FORWARD-TSN follows from I-DATA with partial reliability (RFC 8260 2.3.1).
    add_extension_parameters(init, ext & ~extension::kIForwardTsn, values);
    EXPECT_EQ(advertised_extensions(init), ext) << int{ext};
  }
}

CookieContents sample_contents() {
  CookieContents c;
  c.peer.initiate_tag = 0x11111111;
  c.peer.initial_tsn = 0x22222222;
  c.peer.a_rwnd = 65536;
  c.peer.outbound_streams = 100;
  c.peer.inbound_streams = 200;
  c.our_tag = 0x33333333;
  c.our_initial_tsn = 0x44444444;
  c.local_tie_tag = 5;
  c.peer_tie_tag = 6;
  c.extensions = extension::kIData;
  return c;
}

TEST(Handshake, CookieRoundTripsWithinItsLifetime) {
  Handshake h;
  SeededRandom(7).fill(h.secret());
  const Buffer cookie = h.make_cookie(sample_contents(), Timestamp::seconds(100));
  const auto opened = h.open_cookie(cookie, Timestamp::seconds(159));
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->peer.initiate_tag, 0x11111111u);
  EXPECT_EQ(opened->peer.initial_tsn, 0x22222222u);
  EXPECT_EQ(opened->peer.a_rwnd, 65536u);
  EXPECT_EQ(opened->peer.outbound_streams, 100);
  EXPECT_EQ(opened->peer.inbound_streams, 200);
  EXPECT_EQ(opened->our_tag, 0x33333333u);
  EXPECT_EQ(opened->our_initial_tsn, 0x44444444u);
  EXPECT_EQ(opened->local_tie_tag, 5u);
  EXPECT_EQ(opened->peer_tie_tag, 6u);
  EXPECT_EQ(opened->extensions, extension::kIData);
  // RFC 9260 5.1.5: past its lifetime the cookie is stale.
  EXPECT_FALSE(h.open_cookie(cookie, Timestamp::seconds(161)));
}

TEST(Handshake, ForgedCookieIsRefused) {
  Handshake h;
  SeededRandom(7).fill(h.secret());
  Buffer cookie = h.make_cookie(sample_contents(), Timestamp::zero());
  Buffer tampered = cookie;
  tampered.data()[3] ^= 1;
  EXPECT_FALSE(h.open_cookie(tampered, Timestamp::zero()));
  EXPECT_FALSE(h.open_cookie(cookie.view().first(cookie.size() - 1), Timestamp::zero()));
  Handshake other;  // another secret
  SeededRandom(8).fill(other.secret());
  EXPECT_FALSE(other.open_cookie(cookie, Timestamp::zero()));
}

TEST(Handshake, T1RepeatsThePacketWithBackOffThenGivesUp) {
  Handshake h;
  Buffer init;
  init.assign(BytesView(reinterpret_cast<const std::uint8_t*>("INIT"), 4));
  h.start_t1(init, Timestamp::zero(), Duration::millis(500));
  EXPECT_EQ(h.t1().deadline(), Timestamp::millis(500));
  const Buffer* again =
      h.on_t1_expiry(Timestamp::millis(500), 2, Duration::millis(500), Duration::seconds(10));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*again, init);
  EXPECT_EQ(h.t1().deadline(), Timestamp::millis(1500));  // doubled (RFC 9260 5.1.6)
  ASSERT_NE(
      h.on_t1_expiry(Timestamp::millis(1500), 2, Duration::millis(500), Duration::seconds(10)),
      nullptr);
  EXPECT_EQ(h.t1().deadline(), Timestamp::millis(3500));
  EXPECT_EQ(
      h.on_t1_expiry(Timestamp::millis(3500), 2, Duration::millis(500), Duration::seconds(10)),
      nullptr);  // Max.Init.Retransmits
  h.stop_t1();
  EXPECT_FALSE(h.t1().running());
}

TEST(Handshake, CookieEchoCasesOfRfc9260Section5_2_4) {
  CookieContents c = sample_contents();
  const AssociationTags current{0x33333333, 0x11111111};
  // A new association: our tag in the cookie is ours.
  EXPECT_EQ(classify_cookie_echo(c, current, false, false, false), CookieEchoAction::kAccept);
  // COOKIE-ECHOED knows the peer's tag: another one is a different association.
  EXPECT_EQ(classify_cookie_echo(c, {0x33333333, 9}, false, false, true),
            CookieEchoAction::kDiscard);
  EXPECT_EQ(classify_cookie_echo(c, {9, 0x11111111}, false, false, false),
            CookieEchoAction::kDiscard);
  // Case D: both tags match an established association, our COOKIE ACK was lost.
  EXPECT_EQ(classify_cookie_echo(c, current, true, true, false), CookieEchoAction::kAckAgain);
  // Case A: new tags both ways, tie-tags naming the association in use.
  const AssociationTags tied{5, 6};
  EXPECT_EQ(classify_cookie_echo(c, tied, true, true, false), CookieEchoAction::kRestart);
  // ... but not while shutting down, and not with tie-tags of another association (B, C).
  EXPECT_EQ(classify_cookie_echo(c, tied, true, false, false), CookieEchoAction::kDiscard);
  EXPECT_EQ(classify_cookie_echo(c, {5, 7}, true, true, false), CookieEchoAction::kDiscard);
}

}  // namespace
}  // namespace rtcpp::sctp
