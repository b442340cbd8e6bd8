#include "rtp/srtp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/hex.hpp"
#include "base/random.hpp"

namespace rtcpp::rtp {
namespace {

constexpr SrtpProfile kAllProfiles[] = {SrtpProfile::kAes128CmHmacSha1_80,
                                        SrtpProfile::kAes128CmHmacSha1_32,
                                        SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm};

// Hex with spaces allowed, for vectors copied in groups.
Buffer hex(std::string_view text) {
  std::string digits;
  for (char c : text)
    if (c != ' ') digits.push_back(c);
  auto bytes = from_hex(digits, '\0', 1 << 20);
  EXPECT_TRUE(bytes) << text;
  return bytes ? std::move(*bytes) : Buffer();
}

Buffer filled(std::size_t size, std::uint8_t seed) {
  Buffer out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(seed + 7 * i);
  return out;
}

// An RTP packet: `csrcs` CSRCs, an RFC 8285 one-byte-header extension of `extension_words`
// words when that is not negative, and `payload_size` payload bytes.
Buffer rtp_packet(std::uint16_t seq, std::uint32_t ssrc = 0x11223344,
                  std::size_t payload_size = 160, int csrcs = 0, int extension_words = -1) {
  Buffer p;
  p.push_back(static_cast<std::uint8_t>(0x80 | (extension_words >= 0 ? 0x10 : 0) | csrcs));
  p.push_back(96);
  p.push_back(static_cast<std::uint8_t>(seq >> 8));
  p.push_back(static_cast<std::uint8_t>(seq));
  for (std::uint8_t b : {0x00, 0x01, 0xe2, 0x40}) p.push_back(b);  // timestamp
  for (int shift = 24; shift >= 0; shift -= 8)
    p.push_back(static_cast<std::uint8_t>(ssrc >> shift));
  for (int i = 0; i < csrcs * 4; ++i) p.push_back(static_cast<std::uint8_t>(0xc0 + i));
  if (extension_words >= 0) {
    p.append(hex("bede00"));
    p.push_back(static_cast<std::uint8_t>(extension_words));
    for (int i = 0; i < extension_words * 4; ++i) p.push_back(static_cast<std::uint8_t>(0x10 + i));
  }
  p.append(filled(payload_size, static_cast<std::uint8_t>(seq)));
  return p;
}

// A receiver report from `ssrc` with one report block.
Buffer rtcp_packet(std::uint32_t ssrc = 0x11223344) {
  Buffer p = hex("81c90007");
  for (int shift = 24; shift >= 0; shift -= 8)
    p.push_back(static_cast<std::uint8_t>(ssrc >> shift));
  p.append(filled(24, 0x5a));
  return p;
}

SrtpSession session(SrtpProfile profile, std::uint8_t key_seed = 1, SrtpConfig config = {}) {
  auto s = SrtpSession::create(profile, filled(srtp_master_key_length(profile), key_seed),
                               filled(srtp_master_salt_length(profile), key_seed + 100), config);
  EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
  return std::move(*s);
}

// --- Profiles and keys -------------------------------------------------------------------

TEST(SrtpProfiles, NamesAndIds) {
  EXPECT_EQ(*srtp_profile_from_name("SRTP_AES128_CM_SHA1_80"), SrtpProfile::kAes128CmHmacSha1_80);
  EXPECT_EQ(*srtp_profile_from_name("AES_CM_128_HMAC_SHA1_32"), SrtpProfile::kAes128CmHmacSha1_32);
  EXPECT_EQ(*srtp_profile_from_name("SRTP_AEAD_AES_128_GCM"), SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(*srtp_profile_from_name("AEAD_AES_256_GCM"), SrtpProfile::kAeadAes256Gcm);
  EXPECT_EQ(*srtp_profile_from_id(0x0007), SrtpProfile::kAeadAes128Gcm);
  for (SrtpProfile p : kAllProfiles) {
    EXPECT_EQ(*srtp_profile_from_name(to_string(p)), p);
    EXPECT_EQ(*srtp_profile_from_id(static_cast<std::uint16_t>(p)), p);
  }
  auto unknown = srtp_profile_from_name("SRTP_NULL_SHA1_80");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().type(), RTCErrorType::kNotSupportedError);
  EXPECT_FALSE(srtp_profile_from_id(0x0003));
  EXPECT_FALSE(SrtpSession::create("SRTP_AES256_CM_SHA1_80", filled(32, 0), filled(14, 0)));
}

TEST(SrtpProfiles, LengthsAndOverheads) {
  EXPECT_EQ(srtp_master_key_length(SrtpProfile::kAes128CmHmacSha1_80), 16u);
  EXPECT_EQ(srtp_master_salt_length(SrtpProfile::kAes128CmHmacSha1_80), 14u);
  EXPECT_EQ(srtp_master_key_length(SrtpProfile::kAeadAes256Gcm), 32u);
  EXPECT_EQ(srtp_master_salt_length(SrtpProfile::kAeadAes128Gcm), 12u);
  EXPECT_EQ(srtp_rtp_overhead(SrtpProfile::kAes128CmHmacSha1_80), 10u);
  EXPECT_EQ(srtp_rtp_overhead(SrtpProfile::kAes128CmHmacSha1_32), 4u);
  EXPECT_EQ(srtp_rtcp_overhead(SrtpProfile::kAes128CmHmacSha1_32), 14u);  // 80-bit SRTCP tag
  EXPECT_EQ(srtp_rtp_overhead(SrtpProfile::kAeadAes256Gcm), 16u);
  EXPECT_EQ(srtp_rtcp_overhead(SrtpProfile::kAeadAes128Gcm), 20u);
}

TEST(SrtpProfiles, WrongKeyLengthsAreRefused) {
  for (SrtpProfile p : kAllProfiles) {
    const std::size_t key = srtp_master_key_length(p);
    const std::size_t salt = srtp_master_salt_length(p);
    auto short_key = SrtpSession::create(p, filled(key - 1, 0), filled(salt, 0));
    ASSERT_FALSE(short_key);
    EXPECT_EQ(short_key.error().type(), RTCErrorType::kInvalidAccessError);
    EXPECT_FALSE(SrtpSession::create(p, filled(key, 0), filled(salt + 2, 0)));
    EXPECT_FALSE(SrtpSession::create(p, {}, {}));
    EXPECT_TRUE(SrtpSession::create(p, filled(key, 0), filled(salt, 0)));
  }
}

// RFC 3711 Appendix B.3: key derivation with a key derivation rate of 0.
TEST(SrtpVectors, Rfc3711KeyDerivation) {
  auto keys =
      derive_srtp_keys(SrtpProfile::kAes128CmHmacSha1_80, hex("E1F97A0D3E018BE0D64FA32C06DE4139"),
                       hex("0EC675AD498AFEEBB6960B3AABE6"));
  ASSERT_TRUE(keys);
  EXPECT_EQ(to_hex(keys->rtp.cipher_key), "c61e7a93744f39ee10734afe3ff7a087");
  EXPECT_EQ(to_hex(keys->rtp.salt), "30cbbc08863d8c85d49db34a9ae1");
  EXPECT_EQ(to_hex(keys->rtp.auth_key), "cebe321f6ff7716b6fd4ab49af256a156d38baa4");
  // The SRTCP labels give other keys of the same lengths.
  EXPECT_EQ(keys->rtcp.cipher_key.size(), 16u);
  EXPECT_EQ(keys->rtcp.salt.size(), 14u);
  EXPECT_EQ(keys->rtcp.auth_key.size(), 20u);
  EXPECT_NE(keys->rtcp.cipher_key, keys->rtp.cipher_key);
  // AES-GCM profiles derive no authentication key and a 12-byte salt.
  auto gcm = derive_srtp_keys(SrtpProfile::kAeadAes256Gcm, filled(32, 1), filled(12, 2));
  ASSERT_TRUE(gcm);
  EXPECT_EQ(gcm->rtp.cipher_key.size(), 32u);
  EXPECT_EQ(gcm->rtp.salt.size(), 12u);
  EXPECT_TRUE(gcm->rtp.auth_key.empty());
}

// RFC 3711 Appendix B.2: the AES-CM keystream of session key 2B7E..., session salt
// F0F1...FD, SSRC 0 and index 0 is what encrypts an all-zero payload.
TEST(SrtpVectors, Rfc3711AesCmKeystream) {
  SrtpSessionKeys keys{hex("2B7E151628AED2A6ABF7158809CF4F3C"), hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"),
                       filled(20, 9)};
  auto s = SrtpSession::create_from_session_keys(SrtpProfile::kAes128CmHmacSha1_80,
                                                 SrtpDerivedKeys{keys, keys});
  ASSERT_TRUE(s);
  Buffer packet = hex("80000000 00000000 00000000");  // seq 0, SSRC 0
  const std::size_t blocks = 0xff02;
  packet.append(Buffer(blocks * 16));
  Buffer out;
  ASSERT_TRUE(s->protect_rtp(packet, out));
  auto block = [&](std::size_t n) { return to_hex(BytesView(out).subspan(12 + 16 * n, 16)); };
  EXPECT_EQ(block(0), "e03ead0935c95e80e166b16dd92b4eb4");
  EXPECT_EQ(block(1), "d23513162b02d0f72a43a2fe4a5f97ab");
  EXPECT_EQ(block(2), "41e95b3bb0a2e8dd477901e4fca894c0");
  EXPECT_EQ(block(0xfeff), "ec8cdf7398607cb0f2d21675ea9ea1e4");
  EXPECT_EQ(block(0xff00), "362b7c3c6773516318a077d7fc5073ae");
  EXPECT_EQ(block(0xff01), "6a2cc3787889374fbeb4c81b17ba6c44");
}

// RFC 7714 16 and 17 give session keys directly (no derivation): key 0001..0f (AES-128) or
// 0001..1f (AES-256), salt "Quid pro quo".
SrtpSession rfc7714_session(SrtpProfile profile) {
  SrtpSessionKeys keys{profile == SrtpProfile::kAeadAes256Gcm
                           ? hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
                           : hex("000102030405060708090a0b0c0d0e0f"),
                       hex("517569642070726f2071756f"),
                       {}};
  auto s = SrtpSession::create_from_session_keys(profile, SrtpDerivedKeys{keys, keys});
  EXPECT_TRUE(s);
  return std::move(*s);
}

const char* const kRfc7714Rtp =
    "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070"
    " 61727465 73207472 6573";
const char* const kRfc7714Rtcp =
    "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef"
    " deadbeef deadbeef deadbeef";

void check_rfc7714_rtp(SrtpProfile profile, std::string_view expected) {
  SrtpSession sender = rfc7714_session(profile);
  Buffer out;
  ASSERT_TRUE(sender.protect_rtp(hex(kRfc7714Rtp), out));
  EXPECT_EQ(to_hex(out), to_hex(hex(expected)));
  SrtpSession receiver = rfc7714_session(profile);
  Buffer plain;
  ASSERT_TRUE(receiver.unprotect_rtp(hex(expected), plain));
  EXPECT_EQ(to_hex(plain), to_hex(hex(kRfc7714Rtp)));
}

// SRTCP index 0x5d4: the sender numbers its packets from 0, so 0x5d4 packets go first.
void check_rfc7714_rtcp(SrtpProfile profile, std::string_view expected) {
  SrtpSession sender = rfc7714_session(profile);
  Buffer out;
  for (int i = 0; i < 0x5d4; ++i) ASSERT_TRUE(sender.protect_rtcp(hex(kRfc7714Rtcp), out));
  ASSERT_TRUE(sender.protect_rtcp(hex(kRfc7714Rtcp), out));
  EXPECT_EQ(to_hex(out), to_hex(hex(expected)));
  SrtpSession receiver = rfc7714_session(profile);
  Buffer plain;
  ASSERT_TRUE(receiver.unprotect_rtcp(hex(expected), plain));
  EXPECT_EQ(to_hex(plain), to_hex(hex(kRfc7714Rtcp)));
}

TEST(SrtpVectors, Rfc7714AeadAes128GcmRtp) {  // RFC 7714 16.1.1
  check_rfc7714_rtp(SrtpProfile::kAeadAes128Gcm,
                    "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5"
                    " 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439"
                    " 0cce");
}

TEST(SrtpVectors, Rfc7714AeadAes256GcmRtp) {  // RFC 7714 16.2.1
  check_rfc7714_rtp(SrtpProfile::kAeadAes256Gcm,
                    "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238"
                    " 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7"
                    " 6c13");
}

TEST(SrtpVectors, Rfc7714AeadAes128GcmRtcp) {  // RFC 7714 17.1.1
  check_rfc7714_rtcp(SrtpProfile::kAeadAes128Gcm,
                     "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d"
                     " c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872"
                     " 45d9eade 800005d4");
}

TEST(SrtpVectors, Rfc7714AeadAes256GcmRtcp) {  // RFC 7714 17.2.1
  check_rfc7714_rtcp(SrtpProfile::kAeadAes256Gcm,
                     "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50"
                     " a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c"
                     " b26ac3be 800005d4");
}

// --- Round trips ----------------------------------------------------------------------

class SrtpEachProfile : public ::testing::TestWithParam<SrtpProfile> {};

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpEachProfile, ::testing::ValuesIn(kAllProfiles),
                         [](const auto& param_info) {
                           std::string name(to_string(param_info.param));
                           std::replace(name.begin(), name.end(), '_', 'x');
                           return name;
                         });

TEST_P(SrtpEachProfile, RtpRoundTripsWithCsrcsAndExtension) {
  SrtpSession sender = session(GetParam());
  SrtpSession receiver = session(GetParam());
  Buffer out;
  Buffer plain;
  std::uint16_t seq = 1000;
  for (int csrcs : {0, 1, 15}) {
    for (int extension : {-1, 0, 3}) {
      for (std::size_t payload : {0u, 1u, 17u, 1188u}) {
        const Buffer packet = rtp_packet(seq++, 0x11223344, payload, csrcs, extension);
        ASSERT_TRUE(sender.protect_rtp(packet, out));
        ASSERT_EQ(out.size(), packet.size() + srtp_rtp_overhead(GetParam()));
        const std::size_t header = packet.size() - payload;
        EXPECT_TRUE(std::equal(packet.begin(), packet.begin() + header, out.begin()));
        if (payload > 1) {
          EXPECT_FALSE(std::equal(packet.begin() + header, packet.end(), out.begin() + header));
        }
        ASSERT_TRUE(receiver.unprotect_rtp(out, plain));
        EXPECT_EQ(plain, packet);
      }
    }
  }
}

TEST_P(SrtpEachProfile, RtcpRoundTripsWithIndexAndEncryptedFlag) {
  SrtpSession sender = session(GetParam());
  SrtpSession receiver = session(GetParam());
  const bool gcm =
      GetParam() == SrtpProfile::kAeadAes128Gcm || GetParam() == SrtpProfile::kAeadAes256Gcm;
  Buffer out;
  Buffer plain;
  for (std::uint32_t i = 0; i < 5; ++i) {
    const Buffer packet = rtcp_packet();
    ASSERT_TRUE(sender.protect_rtcp(packet, out));
    ASSERT_EQ(out.size(), packet.size() + srtp_rtcp_overhead(GetParam()));
    // E = 1 and the index: last with GCM, before the 80-bit tag with AES-CM.
    const std::size_t word = gcm ? out.size() - 4 : packet.size();
    EXPECT_EQ(to_hex(BytesView(out).subspan(word, 4)), "8000000" + std::to_string(i));
    EXPECT_TRUE(std::equal(packet.begin(), packet.begin() + 8, out.begin()));
    ASSERT_TRUE(receiver.unprotect_rtcp(out, plain));
    EXPECT_EQ(plain, packet);
  }
  // A bare 8-byte RTCP header (nothing to encrypt) round-trips too.
  const Buffer header = hex("80c90000 11223345");
  ASSERT_TRUE(sender.protect_rtcp(header, out));
  ASSERT_TRUE(receiver.unprotect_rtcp(out, plain));
  EXPECT_EQ(plain, header);
}

TEST_P(SrtpEachProfile, SeveralSsrcsKeepTheirOwnState) {
  SrtpSession sender = session(GetParam());
  SrtpSession receiver = session(GetParam());
  Buffer out;
  Buffer plain;
  for (std::uint16_t seq : {7, 8, 9}) {
    for (std::uint32_t ssrc : {1u, 2u, 3u}) {
      ASSERT_TRUE(sender.protect_rtp(rtp_packet(seq, ssrc), out));
      ASSERT_TRUE(receiver.unprotect_rtp(out, plain));
      ASSERT_TRUE(sender.protect_rtcp(rtcp_packet(ssrc), out));
      ASSERT_TRUE(receiver.unprotect_rtcp(out, plain));
    }
  }
}

TEST_P(SrtpEachProfile, WrongKeyFailsAuthentication) {
  SrtpSession sender = session(GetParam(), 1);
  SrtpSession other = session(GetParam(), 2);
  Buffer out;
  Buffer plain;
  ASSERT_TRUE(sender.protect_rtp(rtp_packet(1), out));
  auto r = other.unprotect_rtp(out, plain);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), SrtpError::kAuthenticationFailed);
  EXPECT_TRUE(plain.empty());
  ASSERT_TRUE(sender.protect_rtcp(rtcp_packet(), out));
  EXPECT_EQ(other.unprotect_rtcp(out, plain).error(), SrtpError::kAuthenticationFailed);
}

// --- Replay, rollover, reordering ----------------------------------------------------------

TEST_P(SrtpEachProfile, ReplayedPacketsAreRejected) {
  SrtpSession sender = session(GetParam());
  SrtpSession receiver = session(GetParam());
  Buffer first;
  Buffer second;
  Buffer plain;
  ASSERT_TRUE(sender.protect_rtp(rtp_packet(10), first));
  ASSERT_TRUE(sender.protect_rtp(rtp_packet(11), second));
  ASSERT_TRUE(receiver.unprotect_rtp(second, plain));
  ASSERT_TRUE(receiver.unprotect_rtp(first, plain));  // late, still in the window
  EXPECT_EQ(receiver.unprotect_rtp(first, plain).error(), SrtpError::kReplayed);
  EXPECT_EQ(receiver.unprotect_rtp(second, plain).error(), SrtpError::kReplayed);

  Buffer rtcp;
  ASSERT_TRUE(sender.protect_rtcp(rtcp_packet(), rtcp));
  ASSERT_TRUE(receiver.unprotect_rtcp(rtcp, plain));
  EXPECT_EQ(receiver.unprotect_rtcp(rtcp, plain).error(), SrtpError::kReplayed);
}

TEST_P(SrtpEachProfile, SenderRefusesToReuseAnIndexUnlessAllowed) {
  SrtpSession sender = session(GetParam());
  Buffer out;
  ASSERT_TRUE(sender.protect_rtp(rtp_packet(5), out));
  EXPECT_EQ(sender.protect_rtp(rtp_packet(5), out).error(), SrtpError::kReplayed);
  EXPECT_TRUE(sender.protect_rtp(rtp_packet(4), out));  // not sent yet: fine

  SrtpConfig config;
  config.allow_repeated_rtp_index = true;
  SrtpSession resender = session(GetParam(), 1, config);
  SrtpSession receiver = session(GetParam(), 1);
  Buffer again;
  Buffer plain;
  ASSERT_TRUE(resender.protect_rtp(rtp_packet(5), out));
  ASSERT_TRUE(resender.protect_rtp(rtp_packet(5), again));
  EXPECT_EQ(out, again);  // the same bytes under the same index: the same ciphertext
  ASSERT_TRUE(receiver.unprotect_rtp(again, plain));
  EXPECT_EQ(receiver.unprotect_rtp(out, plain).error(), SrtpError::kReplayed);
}

TEST_P(SrtpEachProfile, RolloverCounterAdvancesAcrossTheSequenceWrap) {
  SrtpSession sender = session(GetParam());
  SrtpSession receiver = session(GetParam());
  const std::uint32_t ssrc = 0x11223344;
  std::vector<Buffer> protected_packets;
  for (std::uint32_t i = 65530; i < 65536 + 6; ++i) {
    Buffer out;
    ASSERT_TRUE(sender.protect_rtp(rtp_packet(static_cast<std::uint16_t>(i), ssrc), out));
    protected_packets.push_back(std::move(out));
  }
  EXPECT_EQ(sender.rollover_counter(ssrc), 1u);
  Buffer plain;
  // 65533 is held back and arrives after the wrap: its index is estimated with ROC - 1.
  for (std::size_t i = 0; i < protected_packets.size(); ++i) {
    if (i == 3) continue;
    ASSERT_TRUE(receiver.unprotect_rtp(protected_packets[i], plain)) << i;
    EXPECT_EQ(plain, rtp_packet(static_cast<std::uint16_t>(65530 + i), ssrc));
  }
  EXPECT_EQ(receiver.rollover_counter(ssrc), 1u);
  ASSERT_TRUE(receiver.unprotect_rtp(protected_packets[3], plain));
  EXPECT_EQ(plain, rtp_packet(65533, ssrc));
  EXPECT_EQ(receiver.unprotect_rtp(protected_packets[7], plain).error(), SrtpError::kReplayed);
  // A packet of ROC 1 authenticated under ROC 0 would fail: the ROC is in the tag or nonce.
  SrtpSession fresh = session(GetParam());
  EXPECT_EQ(fresh.unprotect_rtp(protected_packets[8], plain).error(),
            SrtpError::kAuthenticationFailed);
}

TEST_P(SrtpEachProfile, ReorderingWithinTheWindowIsAcceptedOlderIsNot) {
  SrtpSession sender = session(GetParam());
  std::vector<Buffer> packets(2001);
  for (std::uint16_t seq = 0; seq <= 2000; ++seq)
    ASSERT_TRUE(sender.protect_rtp(rtp_packet(seq, 7, 20), packets[seq]));

  SrtpSession receiver = session(GetParam());  // the default window: 1024
  Buffer plain;
  ASSERT_TRUE(receiver.unprotect_rtp(packets[2000], plain));
  ASSERT_TRUE(receiver.unprotect_rtp(packets[1000], plain));  // 1000 behind
  ASSERT_TRUE(receiver.unprotect_rtp(packets[977], plain));   // 1023 behind, the last slot
  EXPECT_EQ(receiver.unprotect_rtp(packets[976], plain).error(), SrtpError::kReplayed);
  EXPECT_EQ(receiver.unprotect_rtp(packets[900], plain).error(), SrtpError::kReplayed);
  // Everything between, shuffled, is accepted once.
  std::vector<int> order;
  for (int seq = 978; seq < 2000; ++seq)
    if (seq != 1000) order.push_back(seq);
  SeededRandom random(7);
  for (std::size_t i = order.size() - 1; i > 0; --i)
    std::swap(order[i], order[random.uniform(i + 1)]);
  for (int seq : order) ASSERT_TRUE(receiver.unprotect_rtp(packets[seq], plain)) << seq;
  for (int seq : order) ASSERT_FALSE(receiver.unprotect_rtp(packets[seq], plain)) << seq;

  SrtpConfig wide;
  wide.replay_window = 4096;
  SrtpSession wide_receiver = session(GetParam(), 1, wide);
  ASSERT_TRUE(wide_receiver.unprotect_rtp(packets[2000], plain));
  EXPECT_TRUE(wide_receiver.unprotect_rtp(packets[0], plain));
}

TEST_P(SrtpEachProfile, RtcpReplayWindowFollowsTheExplicitIndex) {
  SrtpSession sender = session(GetParam());
  std::vector<Buffer> packets(1100);
  for (auto& p : packets) ASSERT_TRUE(sender.protect_rtcp(rtcp_packet(), p));
  SrtpSession receiver = session(GetParam());
  Buffer plain;
  ASSERT_TRUE(receiver.unprotect_rtcp(packets[1099], plain));
  ASSERT_TRUE(receiver.unprotect_rtcp(packets[500], plain));
  EXPECT_EQ(receiver.unprotect_rtcp(packets[500], plain).error(), SrtpError::kReplayed);
  EXPECT_EQ(receiver.unprotect_rtcp(packets[10], plain).error(), SrtpError::kReplayed);
}

// --- Forged and hostile input -----------------------------------------------------------------

TEST_P(SrtpEachProfile, TamperingAnywhereFailsAuthenticationAndChangesNothing) {
  SrtpSession sender = session(GetParam());
  SrtpSession receiver = session(GetParam());
  Buffer out;
  Buffer plain;
  ASSERT_TRUE(sender.protect_rtp(rtp_packet(100, 0x11223344, 40, 2, 1), out));
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i == 2 || i == 3) continue;  // the sequence number: may land as a replay or too old
    Buffer forged = out;
    forged[i] ^= 0x01;
    auto r = receiver.unprotect_rtp(forged, plain);
    ASSERT_FALSE(r) << "byte " << i;
    // A flipped CSRC count (byte 0) or extension length (byte 22) breaks the header itself.
    if (i != 0 && i != 22) {
      EXPECT_EQ(r.error(), SrtpError::kAuthenticationFailed) << "byte " << i;
    }
    EXPECT_TRUE(plain.empty());
  }
  ASSERT_TRUE(receiver.unprotect_rtp(out, plain));  // the genuine packet is still new

  ASSERT_TRUE(sender.protect_rtcp(rtcp_packet(), out));
  for (std::size_t i = 0; i < out.size(); ++i) {
    Buffer forged = out;
    forged[i] ^= 0x40;
    ASSERT_FALSE(receiver.unprotect_rtcp(forged, plain)) << "byte " << i;
  }
  ASSERT_TRUE(receiver.unprotect_rtcp(out, plain));
}

TEST_P(SrtpEachProfile, TruncatedPacketsAreRejected) {
  SrtpSession sender = session(GetParam());
  SrtpSession receiver = session(GetParam());
  Buffer rtp;
  Buffer rtcp;
  Buffer plain;
  ASSERT_TRUE(sender.protect_rtp(rtp_packet(1, 5, 30, 3, 2), rtp));
  ASSERT_TRUE(sender.protect_rtcp(rtcp_packet(), rtcp));
  for (std::size_t n = 0; n < rtp.size(); ++n)
    ASSERT_FALSE(receiver.unprotect_rtp(BytesView(rtp).first(n), plain)) << n;
  for (std::size_t n = 0; n < rtcp.size(); ++n)
    ASSERT_FALSE(receiver.unprotect_rtcp(BytesView(rtcp).first(n), plain)) << n;
  EXPECT_EQ(receiver.unprotect_rtp({}, plain).error(), SrtpError::kTooShort);
  EXPECT_EQ(receiver.unprotect_rtcp(BytesView(rtcp).first(8), plain).error(), SrtpError::kTooShort);
  ASSERT_TRUE(receiver.unprotect_rtp(rtp, plain));
  ASSERT_TRUE(receiver.unprotect_rtcp(rtcp, plain));
}

TEST_P(SrtpEachProfile, MalformedHeadersAreRejected) {
  SrtpSession s = session(GetParam());
  Buffer out;
  const std::size_t tag = srtp_rtp_overhead(GetParam());
  // Too short for the fixed header, version 1, 15 CSRCs in a short packet, an extension
  // whose length runs past the end, an extension header cut off.
  EXPECT_EQ(s.protect_rtp(hex("8060000100000000000000"), out).error(), SrtpError::kTooShort);
  EXPECT_EQ(s.protect_rtp(hex("4060000100000000000000aa"), out).error(), SrtpError::kMalformed);
  EXPECT_EQ(s.protect_rtp(hex("8f60000100000000000000aa 00000000"), out).error(),
            SrtpError::kMalformed);
  EXPECT_EQ(s.protect_rtp(hex("9060000100000000000000aa bede0002 00000000"), out).error(),
            SrtpError::kMalformed);
  EXPECT_EQ(s.protect_rtp(hex("9060000100000000000000aa bede"), out).error(),
            SrtpError::kMalformed);
  // The same headers with room for a tag: the header must end before the tag.
  Buffer long_extension = hex("9060000100000000000000aa beded000");
  long_extension.append(Buffer(tag));
  EXPECT_EQ(s.unprotect_rtp(long_extension, out).error(), SrtpError::kMalformed);
  Buffer version_one = hex("4060000100000000000000aa");
  version_one.append(Buffer(tag));
  EXPECT_EQ(s.unprotect_rtp(version_one, out).error(), SrtpError::kMalformed);
  // RTCP: version 0, and a header shorter than 8 bytes.
  EXPECT_EQ(s.protect_rtcp(hex("00c9000111223344"), out).error(), SrtpError::kMalformed);
  EXPECT_EQ(s.protect_rtcp(hex("80c9000111"), out).error(), SrtpError::kTooShort);
  EXPECT_TRUE(out.empty());
}

TEST_P(SrtpEachProfile, RandomBytesNeverUnprotect) {
  SrtpSession s = session(GetParam());
  SeededRandom random(42);
  Buffer packet;
  Buffer out;
  for (int i = 0; i < 2000; ++i) {
    packet.resize(random.uniform(201));
    for (auto& b : packet) b = static_cast<std::uint8_t>(random.next_u64());
    if (i % 2 == 0 && !packet.empty())
      packet[0] = static_cast<std::uint8_t>(0x80 | (packet[0] & 0x3f));
    EXPECT_FALSE(s.unprotect_rtp(packet, out));
    EXPECT_FALSE(s.unprotect_rtcp(packet, out));
    EXPECT_TRUE(out.empty());
  }
}

// --- Buffers -----------------------------------------------------------------------------

TEST_P(SrtpEachProfile, OutputBufferCapacityIsReused) {
  SrtpSession sender = session(GetParam());
  SrtpSession receiver = session(GetParam());
  Buffer out;
  Buffer plain;
  out.reserve(1500);
  plain.reserve(1500);
  const std::uint8_t* out_storage = out.data();
  const std::uint8_t* plain_storage = plain.data();
  for (std::uint16_t seq = 0; seq < 50; ++seq) {
    ASSERT_TRUE(sender.protect_rtp(rtp_packet(seq, 1, 1188), out));
    ASSERT_TRUE(receiver.unprotect_rtp(out, plain));
    ASSERT_TRUE(sender.protect_rtcp(rtcp_packet(), out));
    ASSERT_TRUE(receiver.unprotect_rtcp(out, plain));
  }
  EXPECT_EQ(out.data(), out_storage);
  EXPECT_EQ(plain.data(), plain_storage);
}

TEST_P(SrtpEachProfile, InputInsideTheOutputBufferIsRefused) {
  SrtpSession s = session(GetParam());
  Buffer buffer = rtp_packet(1);
  buffer.reserve(2000);
  const Buffer original = buffer;
  EXPECT_EQ(s.protect_rtp(buffer, buffer).error(), SrtpError::kAliasedBuffers);
  EXPECT_EQ(s.unprotect_rtp(BytesView(buffer).subspan(1), buffer).error(),
            SrtpError::kAliasedBuffers);
  EXPECT_EQ(s.protect_rtcp(buffer, buffer).error(), SrtpError::kAliasedBuffers);
  EXPECT_EQ(buffer, original);  // never touched
}

// --- DTLS-SRTP -----------------------------------------------------------------------------

TEST(SrtpDtls, EachSideProtectsWithItsOwnRoleKeys) {
  const Buffer client_key = filled(16, 1);
  const Buffer client_salt = filled(12, 2);
  const Buffer server_key = filled(16, 3);
  const Buffer server_salt = filled(12, 4);
  auto client = make_dtls_srtp_sessions("SRTP_AEAD_AES_128_GCM", client_key, client_salt,
                                        server_key, server_salt, true);
  auto server = make_dtls_srtp_sessions("SRTP_AEAD_AES_128_GCM", client_key, client_salt,
                                        server_key, server_salt, false);
  ASSERT_TRUE(client);
  ASSERT_TRUE(server);
  Buffer out;
  Buffer plain;
  ASSERT_TRUE(client->outbound.protect_rtp(rtp_packet(1), out));
  EXPECT_TRUE(server->inbound.unprotect_rtp(out, plain));
  EXPECT_FALSE(client->inbound.unprotect_rtp(out, plain));
  // The client's keys alone protect what the client sends (RFC 5764 4.2).
  auto by_hand = SrtpSession::create(SrtpProfile::kAeadAes128Gcm, client_key, client_salt);
  ASSERT_TRUE(by_hand);
  Buffer again;
  ASSERT_TRUE(by_hand->protect_rtp(rtp_packet(1), again));
  EXPECT_EQ(again, out);
  ASSERT_TRUE(server->outbound.protect_rtcp(rtcp_packet(), out));
  EXPECT_TRUE(client->inbound.unprotect_rtcp(out, plain));

  auto unknown =
      make_dtls_srtp_sessions("SRTP_NULL", client_key, client_salt, server_key, server_salt, true);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().type(), RTCErrorType::kNotSupportedError);
}

TEST(SrtpErrors, HaveNames) {
  EXPECT_EQ(to_string(SrtpError::kAuthenticationFailed), "authentication failed");
  EXPECT_EQ(to_string(SrtpError::kReplayed), "replayed or too old");
  EXPECT_EQ(to_string(SrtpError::kTooShort), "packet too short");
}

}  // namespace
}  // namespace rtcpp::rtp
