// Our SRTP against libsrtp2 (Debian's, built on NSS): what one protects the other unprotects,
// both ways, for every profile both implement, RTP across a rollover and RTCP.
#include "rtp/srtp.hpp"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace rtcpp::rtp {
namespace {

struct Libsrtp {
  Libsrtp() { initialised = srtp_init() == srtp_err_status_ok; }
  bool initialised = false;
};
bool libsrtp_ready() {
  static Libsrtp library;
  return library.initialised;
}

// A libsrtp session of one direction (inbound or outbound) for one of our profiles. Debian's
// NSS build has the GCM transforms too, so every profile is tested.
class LibsrtpSession {
 public:
  LibsrtpSession(SrtpProfile profile, BytesView key, BytesView salt, bool outbound,
                 bool encrypt_rtcp = true) {
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof(policy));
    switch (profile) {
      case SrtpProfile::kAes128CmHmacSha1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
        break;
      case SrtpProfile::kAes128CmHmacSha1_32:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);  // RFC 5764 4.1.2
        break;
      case SrtpProfile::kAeadAes128Gcm:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
        break;
      case SrtpProfile::kAeadAes256Gcm:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtcp);
        break;
    }
    if (!encrypt_rtcp) policy.rtcp.sec_serv = sec_serv_auth;
    key_.assign(key.begin(), key.end());
    key_.insert(key_.end(), salt.begin(), salt.end());
    policy.key = key_.data();
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.window_size = 1024;
    status_ = srtp_create(&session_, &policy);
  }
  ~LibsrtpSession() {
    if (session_ != nullptr) srtp_dealloc(session_);
  }
  LibsrtpSession(const LibsrtpSession&) = delete;
  LibsrtpSession& operator=(const LibsrtpSession&) = delete;

  srtp_err_status_t status() const { return status_; }

  // Runs one libsrtp call on a copy of `packet` with room for its trailer.
  template <typename Call>
  srtp_err_status_t run(Call call, BytesView packet, Buffer& out) {
    out.resize(packet.size() + SRTP_MAX_TRAILER_LEN + 4);
    std::memcpy(out.data(), packet.data(), packet.size());
    int length = static_cast<int>(packet.size());
    srtp_err_status_t status = call(session_, out.data(), &length);
    out.resize(status == srtp_err_status_ok ? static_cast<std::size_t>(length) : 0);
    return status;
  }
  srtp_err_status_t protect(BytesView p, Buffer& out) { return run(srtp_protect, p, out); }
  srtp_err_status_t unprotect(BytesView p, Buffer& out) { return run(srtp_unprotect, p, out); }
  srtp_err_status_t protect_rtcp(BytesView p, Buffer& out) {
    return run(srtp_protect_rtcp, p, out);
  }
  srtp_err_status_t unprotect_rtcp(BytesView p, Buffer& out) {
    return run(srtp_unprotect_rtcp, p, out);
  }

 private:
  std::vector<std::uint8_t> key_;
  srtp_t session_ = nullptr;
  srtp_err_status_t status_ = srtp_err_status_fail;
};

Buffer pattern(std::size_t size, std::uint8_t seed) {
  Buffer out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(seed * 13 + i * 5);
  return out;
}

// RTP with two CSRCs and a one-byte-header extension, so the payload offset is not 12.
Buffer rtp_packet(std::uint16_t seq, std::uint32_t ssrc, std::size_t payload_size) {
  Buffer p{0x92,
           0x6f,
           static_cast<std::uint8_t>(seq >> 8),
           static_cast<std::uint8_t>(seq),
           0x00,
           0x00,
           0x10,
           0x00,
           static_cast<std::uint8_t>(ssrc >> 24),
           static_cast<std::uint8_t>(ssrc >> 16),
           static_cast<std::uint8_t>(ssrc >> 8),
           static_cast<std::uint8_t>(ssrc)};
  p.append(pattern(8, 1));                                           // CSRCs
  p.append(Buffer{0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0x00, 0x00});  // extension
  p.append(pattern(payload_size, static_cast<std::uint8_t>(seq)));
  return p;
}

Buffer rtcp_packet(std::uint32_t ssrc, std::uint8_t seed) {
  Buffer p{0x81,
           0xc9,
           0x00,
           0x07,
           static_cast<std::uint8_t>(ssrc >> 24),
           static_cast<std::uint8_t>(ssrc >> 16),
           static_cast<std::uint8_t>(ssrc >> 8),
           static_cast<std::uint8_t>(ssrc)};
  p.append(pattern(24, seed));
  return p;
}

class SrtpAgainstLibsrtp : public ::testing::TestWithParam<SrtpProfile> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(libsrtp_ready());
    key_ = pattern(srtp_master_key_length(GetParam()), 3);
    salt_ = pattern(srtp_master_salt_length(GetParam()), 4);
  }
  SrtpSession ours() {
    auto s = SrtpSession::create(GetParam(), key_, salt_);
    EXPECT_TRUE(s);
    return std::move(*s);
  }
  Buffer key_;
  Buffer salt_;
};

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpAgainstLibsrtp,
                         ::testing::Values(SrtpProfile::kAes128CmHmacSha1_80,
                                           SrtpProfile::kAes128CmHmacSha1_32,
                                           SrtpProfile::kAeadAes128Gcm,
                                           SrtpProfile::kAeadAes256Gcm),
                         [](const auto& param_info) {
                           std::string name(to_string(param_info.param));
                           std::replace(name.begin(), name.end(), '_', 'x');
                           return name;
                         });

// Sequence numbers from 65000 through the wrap to 500: the ROC goes to 1 on both sides.
std::vector<std::uint16_t> sequence_across_rollover() {
  std::vector<std::uint16_t> seqs;
  for (std::uint32_t i = 65000; i < 65536 + 500; i += 7)
    seqs.push_back(static_cast<std::uint16_t>(i));
  return seqs;
}

TEST_P(SrtpAgainstLibsrtp, OursProtectsLibsrtpUnprotectsRtp) {
  SrtpSession sender = ours();
  LibsrtpSession receiver(GetParam(), key_, salt_, false);
  ASSERT_EQ(receiver.status(), srtp_err_status_ok);
  Buffer protected_packet;
  Buffer plain;
  for (std::uint16_t seq : sequence_across_rollover()) {
    const Buffer packet = rtp_packet(seq, 0xcafe0001, 10 + seq % 1190);
    ASSERT_TRUE(sender.protect_rtp(packet, protected_packet));
    ASSERT_EQ(receiver.unprotect(protected_packet, plain), srtp_err_status_ok) << seq;
    ASSERT_EQ(plain, packet) << seq;
  }
  EXPECT_EQ(sender.rollover_counter(0xcafe0001), 1u);
}

TEST_P(SrtpAgainstLibsrtp, LibsrtpProtectsOursUnprotectsRtp) {
  LibsrtpSession sender(GetParam(), key_, salt_, true);
  ASSERT_EQ(sender.status(), srtp_err_status_ok);
  SrtpSession receiver = ours();
  Buffer protected_packet;
  Buffer plain;
  for (std::uint16_t seq : sequence_across_rollover()) {
    const Buffer packet = rtp_packet(seq, 0xcafe0002, 1188 - seq % 1000);
    ASSERT_EQ(sender.protect(packet, protected_packet), srtp_err_status_ok);
    ASSERT_EQ(protected_packet.size(), packet.size() + srtp_rtp_overhead(GetParam()));
    auto result = receiver.unprotect_rtp(protected_packet, plain);
    ASSERT_TRUE(result) << seq << ": " << to_string(result.error());
    ASSERT_EQ(plain, packet) << seq;
  }
  EXPECT_EQ(receiver.rollover_counter(0xcafe0002), 1u);
}

TEST_P(SrtpAgainstLibsrtp, SameBytesForTheSamePacket) {
  SrtpSession ours_sender = ours();
  LibsrtpSession their_sender(GetParam(), key_, salt_, true);
  Buffer a;
  Buffer b;
  for (std::uint16_t seq : {1, 2, 3}) {
    const Buffer packet = rtp_packet(seq, 0xcafe0003, 100);
    ASSERT_TRUE(ours_sender.protect_rtp(packet, a));
    ASSERT_EQ(their_sender.protect(packet, b), srtp_err_status_ok);
    EXPECT_EQ(a, b);
  }
  // SRTCP bytes differ by design: RFC 3711 3.4 numbers the first SRTCP packet 0, libsrtp
  // numbers it 1; RtcpBothWays checks that each accepts the other's.
}

TEST_P(SrtpAgainstLibsrtp, RtcpBothWays) {
  SrtpSession ours_sender = ours();
  SrtpSession ours_receiver = ours();
  LibsrtpSession their_sender(GetParam(), key_, salt_, true);
  LibsrtpSession their_receiver(GetParam(), key_, salt_, false);
  ASSERT_EQ(their_sender.status(), srtp_err_status_ok);
  ASSERT_EQ(their_receiver.status(), srtp_err_status_ok);
  Buffer protected_packet;
  Buffer plain;
  for (std::uint8_t i = 0; i < 50; ++i) {
    const Buffer packet = rtcp_packet(0xcafe0004, i);
    ASSERT_TRUE(ours_sender.protect_rtcp(packet, protected_packet));
    ASSERT_EQ(their_receiver.unprotect_rtcp(protected_packet, plain), srtp_err_status_ok) << +i;
    ASSERT_EQ(plain, packet);

    const Buffer other = rtcp_packet(0xcafe0005, i);
    ASSERT_EQ(their_sender.protect_rtcp(other, protected_packet), srtp_err_status_ok);
    ASSERT_EQ(protected_packet.size(), other.size() + srtp_rtcp_overhead(GetParam()));
    auto result = ours_receiver.unprotect_rtcp(protected_packet, plain);
    ASSERT_TRUE(result) << +i << ": " << to_string(result.error());
    ASSERT_EQ(plain, other);
  }
}

// SRTCP sent authenticated only (E = 0) by libsrtp is accepted by ours.
TEST_P(SrtpAgainstLibsrtp, UnencryptedRtcpFromLibsrtp) {
  LibsrtpSession sender(GetParam(), key_, salt_, true, /*encrypt_rtcp=*/false);
  ASSERT_EQ(sender.status(), srtp_err_status_ok);
  SrtpSession receiver = ours();
  Buffer protected_packet;
  Buffer plain;
  for (std::uint8_t i = 0; i < 5; ++i) {
    const Buffer packet = rtcp_packet(0xcafe0006, i);
    ASSERT_EQ(sender.protect_rtcp(packet, protected_packet), srtp_err_status_ok);
    // The packet travels in clear: only the index word (E = 0) and the tag are added.
    ASSERT_TRUE(std::equal(packet.begin(), packet.end(), protected_packet.begin()));
    auto result = receiver.unprotect_rtcp(protected_packet, plain);
    ASSERT_TRUE(result) << +i << ": " << to_string(result.error());
    ASSERT_EQ(plain, packet);
  }
}

// What either rejects as forged or replayed, so does the other.
TEST_P(SrtpAgainstLibsrtp, BothRejectForgeriesAndReplays) {
  SrtpSession ours_sender = ours();
  LibsrtpSession their_receiver(GetParam(), key_, salt_, false);
  Buffer protected_packet;
  Buffer plain;
  ASSERT_TRUE(ours_sender.protect_rtp(rtp_packet(9, 0xcafe0007, 50), protected_packet));
  Buffer forged = protected_packet;
  forged[forged.size() - 1] ^= 1;
  EXPECT_EQ(their_receiver.unprotect(forged, plain), srtp_err_status_auth_fail);
  ASSERT_EQ(their_receiver.unprotect(protected_packet, plain), srtp_err_status_ok);
  EXPECT_EQ(their_receiver.unprotect(protected_packet, plain), srtp_err_status_replay_fail);
}

}  // namespace
}  // namespace rtcpp::rtp
