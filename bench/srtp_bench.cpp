// SRTP cost per packet: protect and unprotect of one 1200-byte RTP packet (12-byte header,
// 1188 bytes of payload), ours over OpenSSL EVP against libsrtp2 (Debian's, on NSS), for
// AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM. Every packet has the next sequence number,
// so the index, replay and ROC bookkeeping is measured as well.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "rtp/srtp.hpp"

#ifdef RTCPP_HAVE_LIBSRTP2
#include <srtp2/srtp.h>
#endif

namespace rtcpp::rtp {
namespace {

constexpr std::size_t kPacketSize = 1200;
constexpr std::size_t kBatch = 4096;  // packets protected ahead for the unprotect benchmarks

Buffer master_key(SrtpProfile profile) {
  Buffer key(srtp_master_key_length(profile) + srtp_master_salt_length(profile));
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 11 + 3);
  return key;
}

Buffer rtp_packet() {
  Buffer p(kPacketSize);
  const std::uint8_t header[12] = {0x80, 0x60, 0, 0, 0, 0, 0x10, 0, 0x12, 0x34, 0x56, 0x78};
  std::memcpy(p.data(), header, sizeof(header));
  for (std::size_t i = sizeof(header); i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i);
  return p;
}

void set_seq(std::uint8_t* packet, std::uint16_t seq) {
  packet[2] = static_cast<std::uint8_t>(seq >> 8);
  packet[3] = static_cast<std::uint8_t>(seq);
}

SrtpSession our_session(SrtpProfile profile) {
  const Buffer key = master_key(profile);
  const std::size_t key_length = srtp_master_key_length(profile);
  return std::move(*SrtpSession::create(profile, BytesView(key).first(key_length),
                                        BytesView(key).subspan(key_length)));
}

void ours_protect(benchmark::State& state, SrtpProfile profile) {
  SrtpSession sender = our_session(profile);
  Buffer packet = rtp_packet();
  Buffer out;
  std::uint16_t seq = 0;
  for (auto _ : state) {
    set_seq(packet.data(), seq++);
    if (!sender.protect_rtp(packet, out)) state.SkipWithError("protect failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPacketSize));
}

void ours_unprotect(benchmark::State& state, SrtpProfile profile) {
  SrtpSession sender = our_session(profile);
  SrtpSession receiver = our_session(profile);
  Buffer packet = rtp_packet();
  std::vector<Buffer> batch(kBatch);
  std::uint16_t seq = 0;
  auto refill = [&] {
    for (auto& p : batch) {
      set_seq(packet.data(), seq++);
      (void)sender.protect_rtp(packet, p);
    }
  };
  refill();
  std::size_t next = 0;
  Buffer plain;
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      refill();
      next = 0;
      state.ResumeTiming();
    }
    if (!receiver.unprotect_rtp(batch[next++], plain)) state.SkipWithError("unprotect failed");
    benchmark::DoNotOptimize(plain.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPacketSize));
}

void BM_SrtpOursProtectAesCm80(benchmark::State& s) {
  ours_protect(s, SrtpProfile::kAes128CmHmacSha1_80);
}
void BM_SrtpOursProtectAes128Gcm(benchmark::State& s) {
  ours_protect(s, SrtpProfile::kAeadAes128Gcm);
}
void BM_SrtpOursUnprotectAesCm80(benchmark::State& s) {
  ours_unprotect(s, SrtpProfile::kAes128CmHmacSha1_80);
}
void BM_SrtpOursUnprotectAes128Gcm(benchmark::State& s) {
  ours_unprotect(s, SrtpProfile::kAeadAes128Gcm);
}
BENCHMARK(BM_SrtpOursProtectAesCm80);
BENCHMARK(BM_SrtpOursProtectAes128Gcm);
BENCHMARK(BM_SrtpOursUnprotectAesCm80);
BENCHMARK(BM_SrtpOursUnprotectAes128Gcm);

#ifdef RTCPP_HAVE_LIBSRTP2

class Libsrtp {
 public:
  Libsrtp(SrtpProfile profile, bool outbound) : key_(master_key(profile)) {
    static const bool initialised = srtp_init() == srtp_err_status_ok;
    (void)initialised;
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof(policy));
    if (profile == SrtpProfile::kAeadAes128Gcm) {
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    } else {
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    }
    policy.key = key_.data();
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.window_size = 1024;  // as ours
    ok_ = srtp_create(&session_, &policy) == srtp_err_status_ok;
  }
  ~Libsrtp() {
    if (session_ != nullptr) srtp_dealloc(session_);
  }
  Libsrtp(const Libsrtp&) = delete;
  Libsrtp& operator=(const Libsrtp&) = delete;
  bool ok() const { return ok_; }
  srtp_t get() const { return session_; }

 private:
  Buffer key_;
  srtp_t session_ = nullptr;
  bool ok_ = false;
};

// libsrtp works in place: the packet is protected where it lies, with room for the tag. The
// ciphertext left from the previous iteration serves as the next plaintext (its bytes do
// not change the cost), so no copy is counted.
void libsrtp_protect(benchmark::State& state, SrtpProfile profile) {
  Libsrtp sender(profile, true);
  if (!sender.ok()) return state.SkipWithError("libsrtp2 refused the policy");
  Buffer packet = rtp_packet();
  packet.resize(kPacketSize + SRTP_MAX_TRAILER_LEN);
  std::uint16_t seq = 0;
  for (auto _ : state) {
    set_seq(packet.data(), seq++);
    int length = static_cast<int>(kPacketSize);
    if (srtp_protect(sender.get(), packet.data(), &length) != srtp_err_status_ok)
      state.SkipWithError("srtp_protect failed");
    benchmark::DoNotOptimize(packet.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPacketSize));
}

void libsrtp_unprotect(benchmark::State& state, SrtpProfile profile) {
  Libsrtp sender(profile, true);
  Libsrtp receiver(profile, false);
  if (!sender.ok() || !receiver.ok()) return state.SkipWithError("libsrtp2 refused the policy");
  const Buffer packet = rtp_packet();
  std::vector<Buffer> batch(kBatch, Buffer(kPacketSize + SRTP_MAX_TRAILER_LEN));
  std::vector<int> lengths(kBatch);
  std::uint16_t seq = 0;
  auto refill = [&] {
    for (std::size_t i = 0; i < kBatch; ++i) {
      std::memcpy(batch[i].data(), packet.data(), kPacketSize);
      set_seq(batch[i].data(), seq++);
      lengths[i] = static_cast<int>(kPacketSize);
      (void)srtp_protect(sender.get(), batch[i].data(), &lengths[i]);
    }
  };
  refill();
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      refill();
      next = 0;
      state.ResumeTiming();
    }
    if (srtp_unprotect(receiver.get(), batch[next].data(), &lengths[next]) != srtp_err_status_ok)
      state.SkipWithError("srtp_unprotect failed");
    benchmark::DoNotOptimize(batch[next].data());
    ++next;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPacketSize));
}

void BM_SrtpLibsrtpProtectAesCm80(benchmark::State& s) {
  libsrtp_protect(s, SrtpProfile::kAes128CmHmacSha1_80);
}
void BM_SrtpLibsrtpProtectAes128Gcm(benchmark::State& s) {
  libsrtp_protect(s, SrtpProfile::kAeadAes128Gcm);
}
void BM_SrtpLibsrtpUnprotectAesCm80(benchmark::State& s) {
  libsrtp_unprotect(s, SrtpProfile::kAes128CmHmacSha1_80);
}
void BM_SrtpLibsrtpUnprotectAes128Gcm(benchmark::State& s) {
  libsrtp_unprotect(s, SrtpProfile::kAeadAes128Gcm);
}
BENCHMARK(BM_SrtpLibsrtpProtectAesCm80);
BENCHMARK(BM_SrtpLibsrtpProtectAes128Gcm);
BENCHMARK(BM_SrtpLibsrtpUnprotectAesCm80);
BENCHMARK(BM_SrtpLibsrtpUnprotectAes128Gcm);

#endif  // RTCPP_HAVE_LIBSRTP2

}  // namespace
}  // namespace rtcpp::rtp
