#include "rtp/srtp.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>

namespace rtcpp::rtp {
namespace {

constexpr std::size_t kRtpFixedHeaderLength = 12;
constexpr std::size_t kRtcpHeaderLength = 8;  // V/P/RC, PT, length, sender SSRC
constexpr std::size_t kSrtcpIndexLength = 4;
constexpr std::uint32_t kSrtcpEncryptedFlag = 0x80000000;
constexpr std::uint32_t kMaxSrtcpIndex = 0x7fffffff;
constexpr std::uint64_t kMaxRolloverCounter = 0xffffffff;
constexpr std::size_t kHmacSha1Length = 20;
constexpr std::size_t kGcmTagLength = 16;
constexpr std::size_t kGcmIvLength = 12;
constexpr std::size_t kCmIvLength = 16;
constexpr std::size_t kCmSaltLength = 14;
constexpr std::size_t kGcmSaltLength = 12;
// RFC 3711 4.1.1: AES-CM leaves 16 bits of the counter for blocks within a packet.
constexpr std::size_t kMaxPayloadLength = std::size_t{16} << 16;
constexpr std::size_t kMaxReplayWindow = 0x8000;

// RFC 3711 4.3.2 / 4.3.3 key derivation labels.
enum class Label : std::uint8_t {
  kRtpCipher = 0x00,
  kRtpAuth = 0x01,
  kRtpSalt = 0x02,
  kRtcpCipher = 0x03,
  kRtcpAuth = 0x04,
  kRtcpSalt = 0x05,
};

bool is_gcm(SrtpProfile profile) noexcept {
  return profile == SrtpProfile::kAeadAes128Gcm || profile == SrtpProfile::kAeadAes256Gcm;
}

std::uint16_t load_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
std::uint32_t load_u32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
         std::uint32_t{p[3]};
}
void store_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
// XORs the low `bytes` bytes of `value` big-endian into p[0..bytes).
void xor_be(std::uint8_t* p, std::uint64_t value, std::size_t bytes) noexcept {
  for (std::size_t i = 0; i < bytes; ++i)
    p[bytes - 1 - i] ^= static_cast<std::uint8_t>(value >> (8 * i));
}

// The offset of the payload: the fixed header, the CSRCs and the RFC 8285 (RFC 3550 5.3.1)
// extension, all within the first `bound` bytes of the packet.
SrtpResult<std::size_t> rtp_header_length(BytesView packet, std::size_t bound) noexcept {
  if (bound < kRtpFixedHeaderLength) return SrtpError::kTooShort;
  if (packet[0] >> 6 != 2) return SrtpError::kMalformed;
  std::size_t length = kRtpFixedHeaderLength + 4 * std::size_t{packet[0] & 0x0fu};
  if ((packet[0] & 0x10) != 0) {
    if (length + 4 > bound) return SrtpError::kMalformed;
    length += 4 + 4 * std::size_t{load_u16(&packet[length + 2])};
  }
  if (length > bound) return SrtpError::kMalformed;
  return length;
}

// Whether two byte ranges share memory (integer comparison: the pointers are unrelated).
bool overlaps(BytesView input, const Buffer& out) noexcept {
  if (input.empty() || out.capacity() == 0) return false;
  const auto in_begin = reinterpret_cast<std::uintptr_t>(input.data());
  const auto out_begin = reinterpret_cast<std::uintptr_t>(out.data());
  return in_begin < out_begin + out.capacity() && out_begin < in_begin + input.size();
}

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
struct MacContextDeleter {
  void operator()(EVP_MAC_CTX* ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;
using MacContext = std::unique_ptr<EVP_MAC_CTX, MacContextDeleter>;

const EVP_CIPHER* ctr_cipher(std::size_t key_length) noexcept {
  return key_length == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
}

// RFC 3711 4.3.1 with a key derivation rate of 0: the AES-CM keystream of the master key
// at IV = (master salt XOR (label << 48)) * 2^16. A 12-byte (GCM) master salt is padded
// with zeros on the right to 112 bits (RFC 7714 11).
bool derive(BytesView master_key, BytesView master_salt, Label label, Buffer& out,
            std::size_t length) {
  std::array<std::uint8_t, kCmIvLength> iv{};
  std::copy(master_salt.begin(), master_salt.end(), iv.begin());
  iv[7] ^= static_cast<std::uint8_t>(label);
  CipherContext ctx(EVP_CIPHER_CTX_new());
  out.resize(length);
  std::fill(out.begin(), out.end(), std::uint8_t{0});
  int written = 0;
  return ctx &&
         EVP_EncryptInit_ex(ctx.get(), ctr_cipher(master_key.size()), nullptr, master_key.data(),
                            iv.data()) == 1 &&
         EVP_EncryptUpdate(ctx.get(), out.data(), &written, out.data(), static_cast<int>(length)) ==
             1;
}

struct ProfileNames {
  SrtpProfile profile;
  std::string_view dtls_name;
  std::string_view sdes_name;
};
constexpr std::array<ProfileNames, 4> kProfileNames{{
    {SrtpProfile::kAes128CmHmacSha1_80, "SRTP_AES128_CM_SHA1_80", "AES_CM_128_HMAC_SHA1_80"},
    {SrtpProfile::kAes128CmHmacSha1_32, "SRTP_AES128_CM_SHA1_32", "AES_CM_128_HMAC_SHA1_32"},
    {SrtpProfile::kAeadAes128Gcm, "SRTP_AEAD_AES_128_GCM", "AEAD_AES_128_GCM"},
    {SrtpProfile::kAeadAes256Gcm, "SRTP_AEAD_AES_256_GCM", "AEAD_AES_256_GCM"},
}};

// The highest index accepted and a bitmap of the `size` indices up to it, as a ring indexed
// by the index modulo size (a power of two).
class ReplayWindow {
 public:
  explicit ReplayWindow(std::size_t size) {
    size_ = 64;
    // Past 2^15 the index estimate itself (RFC 3711 3.3.1) cannot tell old from new.
    while (size_ < size && size_ < kMaxReplayWindow) size_ *= 2;
    bits_.assign(size_ / 64, 0);
  }

  bool started() const noexcept { return started_; }
  std::uint64_t highest() const noexcept { return highest_; }

  // Whether `index` is new: above the highest, or within the window and not seen.
  bool is_new(std::uint64_t index) const noexcept {
    if (!started_ || index > highest_) return true;
    if (highest_ - index >= size_) return false;
    return !test(index);
  }

  void accept(std::uint64_t index) noexcept {
    if (!started_) {
      started_ = true;
      highest_ = index;
    } else if (index > highest_) {
      if (index - highest_ >= size_) {
        std::fill(bits_.begin(), bits_.end(), std::uint64_t{0});
      } else {
        for (std::uint64_t i = highest_ + 1; i < index; ++i) clear(i);
      }
      highest_ = index;
    }
    set(index);
  }

 private:
  std::size_t slot(std::uint64_t index) const noexcept {
    return static_cast<std::size_t>(index & (size_ - 1));
  }
  bool test(std::uint64_t index) const noexcept {
    return (bits_[slot(index) / 64] >> (slot(index) % 64) & 1) != 0;
  }
  void set(std::uint64_t index) noexcept {
    bits_[slot(index) / 64] |= std::uint64_t{1} << (slot(index) % 64);
  }
  void clear(std::uint64_t index) noexcept {
    bits_[slot(index) / 64] &= ~(std::uint64_t{1} << (slot(index) % 64));
  }

  std::size_t size_;
  std::vector<std::uint64_t> bits_;
  std::uint64_t highest_ = 0;
  bool started_ = false;
};

}  // namespace

struct SrtpSession::RtpStream {
  explicit RtpStream(std::size_t window) : replay(window) {}
  ReplayWindow replay;  // its highest index is ROC * 2^16 + s_l
};

struct SrtpSession::RtcpStream {
  explicit RtcpStream(std::size_t window) : replay(window) {}
  std::uint32_t next_index = 0;  // sending
  ReplayWindow replay;           // receiving
};

namespace {

// RFC 3711 3.3.1 and Appendix A: the 48-bit index of a sequence number given the highest
// index so far (ROC * 2^16 + s_l). kReplayed when it falls before index 0, kIndexExhausted
// past 2^48 - 1.
SrtpResult<std::uint64_t> estimate_index(const ReplayWindow& window, std::uint16_t seq) {
  if (!window.started()) return std::uint64_t{seq};
  const std::uint64_t roc = window.highest() >> 16;
  const std::uint32_t s_l = static_cast<std::uint32_t>(window.highest() & 0xffff);
  std::int64_t v = static_cast<std::int64_t>(roc);
  if (s_l < 0x8000) {
    if (seq > s_l && seq - s_l > 0x8000) --v;
  } else if (s_l - 0x8000 > seq) {
    ++v;
  }
  if (v < 0) return SrtpError::kReplayed;
  if (static_cast<std::uint64_t>(v) > kMaxRolloverCounter) return SrtpError::kIndexExhausted;
  return static_cast<std::uint64_t>(v) << 16 | seq;
}

}  // namespace

// The keyed contexts of one direction. AES-CM: a CTR context per protocol and an HMAC-SHA1
// context per protocol; AES-GCM: a GCM context per protocol, its direction set per packet.
struct SrtpSession::Crypto {
  bool gcm = false;  // AEAD_AES_*_GCM rather than AES-CM + HMAC-SHA1
  std::size_t rtp_tag_length = 0;
  std::size_t rtcp_tag_length = 0;
  CipherContext rtp_cipher;
  CipherContext rtcp_cipher;
  MacContext rtp_mac;
  MacContext rtcp_mac;
  std::array<std::uint8_t, kCmSaltLength> rtp_salt{};
  std::array<std::uint8_t, kCmSaltLength> rtcp_salt{};

  ~Crypto() {
    OPENSSL_cleanse(rtp_salt.data(), rtp_salt.size());
    OPENSSL_cleanse(rtcp_salt.data(), rtcp_salt.size());
  }

  // AES-CM IV (RFC 3711 4.1.1): (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16).
  static std::array<std::uint8_t, kCmIvLength> cm_iv(const std::array<std::uint8_t, 14>& salt,
                                                     std::uint32_t ssrc, std::uint64_t index) {
    std::array<std::uint8_t, kCmIvLength> iv{};
    std::copy(salt.begin(), salt.end(), iv.begin());
    xor_be(&iv[4], ssrc, 4);
    xor_be(&iv[8], index, 6);
    return iv;
  }
  // AES-GCM IV for SRTP (RFC 7714 8.1): 00 00 || SSRC || ROC || SEQ, XOR the salt; for SRTCP
  // (RFC 7714 9.1): 00 00 || SSRC || 00 00 || 0 || index, XOR the salt.
  static std::array<std::uint8_t, kGcmIvLength> gcm_iv(const std::array<std::uint8_t, 14>& salt,
                                                       std::uint32_t ssrc, std::uint64_t index) {
    std::array<std::uint8_t, kGcmIvLength> iv{};
    std::copy_n(salt.begin(), kGcmIvLength, iv.begin());
    xor_be(&iv[2], ssrc, 4);
    xor_be(&iv[6], index, 6);
    return iv;
  }

  static bool ctr_xor(EVP_CIPHER_CTX* ctx, const std::uint8_t* iv, const std::uint8_t* in,
                      std::size_t length, std::uint8_t* out) {
    if (length == 0) return true;
    int written = 0;
    return EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) == 1 &&
           EVP_EncryptUpdate(ctx, out, &written, in, static_cast<int>(length)) == 1;
  }

  // HMAC-SHA1 over data || trailer (the ROC for SRTP, nothing for SRTCP).
  static bool hmac(EVP_MAC_CTX* ctx, BytesView data, BytesView trailer,
                   std::array<std::uint8_t, kHmacSha1Length>& mac) {
    std::size_t length = 0;
    return EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 &&
           EVP_MAC_update(ctx, data.data(), data.size()) == 1 &&
           (trailer.empty() || EVP_MAC_update(ctx, trailer.data(), trailer.size()) == 1) &&
           EVP_MAC_final(ctx, mac.data(), &length, mac.size()) == 1;
  }

  // AES-GCM over `length` bytes with two pieces of associated data; encrypting writes the
  // tag, decrypting checks it (false when it does not match).
  static bool gcm_crypt(EVP_CIPHER_CTX* ctx, bool encrypt, const std::uint8_t* iv, BytesView aad,
                        BytesView aad_tail, const std::uint8_t* in, std::size_t length,
                        std::uint8_t* out, std::uint8_t* tag) {
    int written = 0;
    if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, iv, encrypt ? 1 : 0) != 1) return false;
    if (!aad.empty() &&
        EVP_CipherUpdate(ctx, nullptr, &written, aad.data(), static_cast<int>(aad.size())) != 1)
      return false;
    if (!aad_tail.empty() && EVP_CipherUpdate(ctx, nullptr, &written, aad_tail.data(),
                                              static_cast<int>(aad_tail.size())) != 1)
      return false;
    if (length > 0 && EVP_CipherUpdate(ctx, out, &written, in, static_cast<int>(length)) != 1)
      return false;
    if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagLength, tag) != 1)
      return false;
    std::uint8_t final_block[16];
    if (EVP_CipherFinal_ex(ctx, final_block, &written) != 1) return false;
    return !encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagLength, tag) == 1;
  }
};

namespace {

Result<CipherContext> make_cipher(const EVP_CIPHER* cipher, BytesView key) {
  CipherContext ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), nullptr, 1) != 1)
    return operation_error("SRTP: cannot set up the OpenSSL cipher");
  return ctx;
}

Result<MacContext> make_hmac_sha1(BytesView key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return operation_error("SRTP: OpenSSL has no HMAC");
  MacContext ctx(EVP_MAC_CTX_new(mac));
  EVP_MAC_free(mac);  // the context holds its own reference
  char digest[] = "SHA1";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1)
    return operation_error("SRTP: cannot set up HMAC-SHA1");
  return ctx;
}

Result<> check_master_lengths(SrtpProfile profile, BytesView key, BytesView salt) {
  if (key.size() != srtp_master_key_length(profile) ||
      salt.size() != srtp_master_salt_length(profile))
    return invalid_access_error(
        "SRTP " + std::string(to_string(profile)) + " takes a " +
        std::to_string(srtp_master_key_length(profile)) + "-byte master key and a " +
        std::to_string(srtp_master_salt_length(profile)) + "-byte master salt");
  return {};
}

}  // namespace

Result<SrtpProfile> srtp_profile_from_name(std::string_view name) {
  for (const auto& entry : kProfileNames)
    if (name == entry.dtls_name || name == entry.sdes_name) return entry.profile;
  return not_supported_error("unknown SRTP profile \"" + std::string(name) + "\"");
}

Result<SrtpProfile> srtp_profile_from_id(std::uint16_t id) {
  for (const auto& entry : kProfileNames)
    if (static_cast<std::uint16_t>(entry.profile) == id) return entry.profile;
  return not_supported_error("unknown SRTP profile id " + std::to_string(id));
}

std::string_view to_string(SrtpProfile profile) noexcept {
  for (const auto& entry : kProfileNames)
    if (entry.profile == profile) return entry.dtls_name;
  return "unknown";
}

std::size_t srtp_master_key_length(SrtpProfile profile) noexcept {
  return profile == SrtpProfile::kAeadAes256Gcm ? 32 : 16;
}
std::size_t srtp_master_salt_length(SrtpProfile profile) noexcept {
  return is_gcm(profile) ? kGcmSaltLength : kCmSaltLength;
}
std::size_t srtp_rtp_overhead(SrtpProfile profile) noexcept {
  if (is_gcm(profile)) return kGcmTagLength;
  return profile == SrtpProfile::kAes128CmHmacSha1_32 ? 4 : 10;
}
std::size_t srtp_rtcp_overhead(SrtpProfile profile) noexcept {
  // SRTCP keeps the 80-bit tag in the _32 profile too (RFC 5764 4.1.2).
  return kSrtcpIndexLength + (is_gcm(profile) ? kGcmTagLength : 10);
}

std::string_view to_string(SrtpError error) noexcept {
  switch (error) {
    case SrtpError::kTooShort:
      return "packet too short";
    case SrtpError::kMalformed:
      return "malformed header";
    case SrtpError::kTooLong:
      return "packet too long";
    case SrtpError::kAuthenticationFailed:
      return "authentication failed";
    case SrtpError::kReplayed:
      return "replayed or too old";
    case SrtpError::kIndexExhausted:
      return "index exhausted, rekey";
    case SrtpError::kAliasedBuffers:
      return "input aliases the output buffer";
    case SrtpError::kCryptoFailed:
      return "OpenSSL failed";
  }
  return "unknown SRTP error";
}

Result<SrtpDerivedKeys> derive_srtp_keys(SrtpProfile profile, BytesView master_key,
                                         BytesView master_salt) {
  if (auto ok = check_master_lengths(profile, master_key, master_salt); !ok) return ok.error();
  const std::size_t key_length = srtp_master_key_length(profile);
  const std::size_t salt_length = srtp_master_salt_length(profile);
  const std::size_t auth_length = is_gcm(profile) ? 0 : kHmacSha1Length;
  SrtpDerivedKeys keys;
  bool ok = derive(master_key, master_salt, Label::kRtpCipher, keys.rtp.cipher_key, key_length) &&
            derive(master_key, master_salt, Label::kRtpSalt, keys.rtp.salt, salt_length) &&
            derive(master_key, master_salt, Label::kRtcpCipher, keys.rtcp.cipher_key, key_length) &&
            derive(master_key, master_salt, Label::kRtcpSalt, keys.rtcp.salt, salt_length);
  if (ok && auth_length > 0)
    ok = derive(master_key, master_salt, Label::kRtpAuth, keys.rtp.auth_key, auth_length) &&
         derive(master_key, master_salt, Label::kRtcpAuth, keys.rtcp.auth_key, auth_length);
  if (!ok) return operation_error("SRTP key derivation failed in OpenSSL");
  return keys;
}

SrtpSession::SrtpSession(SrtpProfile profile, SrtpConfig config, std::unique_ptr<Crypto> crypto)
    : profile_(profile), config_(config), crypto_(std::move(crypto)) {}
SrtpSession::SrtpSession(SrtpSession&&) noexcept = default;
SrtpSession& SrtpSession::operator=(SrtpSession&&) noexcept = default;
SrtpSession::~SrtpSession() = default;

Result<SrtpSession> SrtpSession::create(SrtpProfile profile, BytesView master_key,
                                        BytesView master_salt, SrtpConfig config) {
  auto keys = derive_srtp_keys(profile, master_key, master_salt);
  if (!keys) return keys.error();
  auto session = create_from_session_keys(profile, *keys, config);
  for (Buffer* secret : {&keys->rtp.cipher_key, &keys->rtp.salt, &keys->rtp.auth_key,
                         &keys->rtcp.cipher_key, &keys->rtcp.salt, &keys->rtcp.auth_key})
    OPENSSL_cleanse(secret->data(), secret->size());
  return session;
}

Result<SrtpSession> SrtpSession::create(std::string_view profile_name, BytesView master_key,
                                        BytesView master_salt, SrtpConfig config) {
  auto profile = srtp_profile_from_name(profile_name);
  if (!profile) return profile.error();
  return create(*profile, master_key, master_salt, config);
}

Result<SrtpSession> SrtpSession::create_from_session_keys(SrtpProfile profile,
                                                          const SrtpDerivedKeys& keys,
                                                          SrtpConfig config) {
  const bool gcm = is_gcm(profile);
  const std::size_t key_length = srtp_master_key_length(profile);
  const std::size_t salt_length = srtp_master_salt_length(profile);
  const std::size_t auth_length = gcm ? 0 : kHmacSha1Length;
  for (const SrtpSessionKeys* k : {&keys.rtp, &keys.rtcp})
    if (k->cipher_key.size() != key_length || k->salt.size() != salt_length ||
        k->auth_key.size() != auth_length)
      return invalid_access_error("SRTP " + std::string(to_string(profile)) +
                                  ": session key lengths do not fit the profile");
  auto crypto = std::make_unique<Crypto>();
  crypto->gcm = gcm;
  crypto->rtp_tag_length = srtp_rtp_overhead(profile);
  crypto->rtcp_tag_length = srtp_rtcp_overhead(profile) - kSrtcpIndexLength;
  const EVP_CIPHER* cipher =
      gcm ? (key_length == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm()) : ctr_cipher(key_length);
  auto rtp_cipher = make_cipher(cipher, keys.rtp.cipher_key);
  if (!rtp_cipher) return rtp_cipher.error();
  auto rtcp_cipher = make_cipher(cipher, keys.rtcp.cipher_key);
  if (!rtcp_cipher) return rtcp_cipher.error();
  crypto->rtp_cipher = std::move(*rtp_cipher);
  crypto->rtcp_cipher = std::move(*rtcp_cipher);
  if (!gcm) {
    auto rtp_mac = make_hmac_sha1(keys.rtp.auth_key);
    if (!rtp_mac) return rtp_mac.error();
    auto rtcp_mac = make_hmac_sha1(keys.rtcp.auth_key);
    if (!rtcp_mac) return rtcp_mac.error();
    crypto->rtp_mac = std::move(*rtp_mac);
    crypto->rtcp_mac = std::move(*rtcp_mac);
  }
  std::copy(keys.rtp.salt.begin(), keys.rtp.salt.end(), crypto->rtp_salt.begin());
  std::copy(keys.rtcp.salt.begin(), keys.rtcp.salt.end(), crypto->rtcp_salt.begin());
  return SrtpSession(profile, config, std::move(crypto));
}

std::uint32_t SrtpSession::rollover_counter(std::uint32_t ssrc) const noexcept {
  for (const auto* streams : {&rtp_send_, &rtp_receive_}) {
    auto it = streams->find(ssrc);
    if (it != streams->end() && it->second->replay.started())
      return static_cast<std::uint32_t>(it->second->replay.highest() >> 16);
  }
  return 0;
}

SrtpResult<> SrtpSession::protect_rtp(BytesView packet, Buffer& out) {
  if (overlaps(packet, out)) return SrtpError::kAliasedBuffers;
  out.clear();
  auto header_length = rtp_header_length(packet, packet.size());
  if (!header_length) return header_length.error();
  const std::size_t payload_length = packet.size() - *header_length;
  if (payload_length > kMaxPayloadLength) return SrtpError::kTooLong;
  const std::uint16_t seq = load_u16(&packet[2]);
  const std::uint32_t ssrc = load_u32(&packet[8]);

  auto [it, inserted] = rtp_send_.try_emplace(ssrc);
  if (inserted) it->second = std::make_unique<RtpStream>(config_.replay_window);
  ReplayWindow& sent = it->second->replay;
  auto index = estimate_index(sent, seq);
  if (!index) return index.error();
  if (!config_.allow_repeated_rtp_index && !sent.is_new(*index)) return SrtpError::kReplayed;
  const auto roc = static_cast<std::uint32_t>(*index >> 16);

  const std::size_t tag_length = crypto_->rtp_tag_length;
  out.resize(packet.size() + tag_length);
  std::memcpy(out.data(), packet.data(), *header_length);
  const std::uint8_t* payload = packet.data() + *header_length;
  std::uint8_t* encrypted = out.data() + *header_length;
  std::uint8_t* tag = out.data() + packet.size();
  bool ok = false;
  if (crypto_->gcm) {
    const auto iv = Crypto::gcm_iv(crypto_->rtp_salt, ssrc, *index);
    ok = Crypto::gcm_crypt(crypto_->rtp_cipher.get(), true, iv.data(), packet.first(*header_length),
                           {}, payload, payload_length, encrypted, tag);
  } else {
    const auto iv = Crypto::cm_iv(crypto_->rtp_salt, ssrc, *index);
    std::array<std::uint8_t, 4> roc_bytes;
    store_u32(roc_bytes.data(), roc);
    std::array<std::uint8_t, kHmacSha1Length> mac;
    ok =
        Crypto::ctr_xor(crypto_->rtp_cipher.get(), iv.data(), payload, payload_length, encrypted) &&
        Crypto::hmac(crypto_->rtp_mac.get(), BytesView(out.data(), packet.size()), roc_bytes, mac);
    if (ok) std::memcpy(tag, mac.data(), tag_length);
  }
  if (!ok) {
    out.clear();
    return SrtpError::kCryptoFailed;
  }
  sent.accept(*index);
  return {};
}

SrtpResult<> SrtpSession::unprotect_rtp(BytesView packet, Buffer& out) {
  if (overlaps(packet, out)) return SrtpError::kAliasedBuffers;
  out.clear();
  const std::size_t tag_length = crypto_->rtp_tag_length;
  if (packet.size() < kRtpFixedHeaderLength + tag_length) return SrtpError::kTooShort;
  const std::size_t authenticated_length = packet.size() - tag_length;
  auto header_length = rtp_header_length(packet, authenticated_length);
  if (!header_length) return header_length.error();
  const std::size_t payload_length = authenticated_length - *header_length;
  if (payload_length > kMaxPayloadLength) return SrtpError::kTooLong;
  const std::uint16_t seq = load_u16(&packet[2]);
  const std::uint32_t ssrc = load_u32(&packet[8]);

  // The stream's state is created only once a packet of it authenticates.
  auto it = rtp_receive_.find(ssrc);
  SrtpResult<std::uint64_t> index = std::uint64_t{seq};  // a new stream starts at ROC 0
  if (it != rtp_receive_.end()) {
    index = estimate_index(it->second->replay, seq);
    if (!index) return index.error();
    if (!it->second->replay.is_new(*index)) return SrtpError::kReplayed;
  }
  const auto roc = static_cast<std::uint32_t>(*index >> 16);

  const std::uint8_t* tag = packet.data() + authenticated_length;
  out.resize(authenticated_length);
  std::memcpy(out.data(), packet.data(), *header_length);
  const std::uint8_t* payload = packet.data() + *header_length;
  std::uint8_t* decrypted = out.data() + *header_length;
  bool ok = false;
  if (crypto_->gcm) {
    const auto iv = Crypto::gcm_iv(crypto_->rtp_salt, ssrc, *index);
    std::array<std::uint8_t, kGcmTagLength> expected;
    std::memcpy(expected.data(), tag, kGcmTagLength);
    ok =
        Crypto::gcm_crypt(crypto_->rtp_cipher.get(), false, iv.data(), packet.first(*header_length),
                          {}, payload, payload_length, decrypted, expected.data());
  } else {
    std::array<std::uint8_t, 4> roc_bytes;
    store_u32(roc_bytes.data(), roc);
    std::array<std::uint8_t, kHmacSha1Length> mac;
    ok = Crypto::hmac(crypto_->rtp_mac.get(), packet.first(authenticated_length), roc_bytes, mac) &&
         CRYPTO_memcmp(mac.data(), tag, tag_length) == 0;
    if (ok) {
      const auto iv = Crypto::cm_iv(crypto_->rtp_salt, ssrc, *index);
      ok =
          Crypto::ctr_xor(crypto_->rtp_cipher.get(), iv.data(), payload, payload_length, decrypted);
    }
  }
  if (!ok) {
    out.clear();
    return SrtpError::kAuthenticationFailed;
  }
  if (it == rtp_receive_.end())
    it = rtp_receive_.emplace(ssrc, std::make_unique<RtpStream>(config_.replay_window)).first;
  it->second->replay.accept(*index);
  return {};
}

SrtpResult<> SrtpSession::protect_rtcp(BytesView packet, Buffer& out) {
  if (overlaps(packet, out)) return SrtpError::kAliasedBuffers;
  out.clear();
  if (packet.size() < kRtcpHeaderLength) return SrtpError::kTooShort;
  if (packet[0] >> 6 != 2) return SrtpError::kMalformed;
  const std::size_t body_length = packet.size() - kRtcpHeaderLength;
  if (body_length > kMaxPayloadLength) return SrtpError::kTooLong;
  const std::uint32_t ssrc = load_u32(&packet[4]);

  auto [it, inserted] = rtcp_send_.try_emplace(ssrc);
  if (inserted) it->second = std::make_unique<RtcpStream>(config_.replay_window);
  RtcpStream& stream = *it->second;
  if (stream.next_index > kMaxSrtcpIndex) return SrtpError::kIndexExhausted;
  const std::uint32_t index = stream.next_index;
  std::array<std::uint8_t, kSrtcpIndexLength> index_word;
  store_u32(index_word.data(), kSrtcpEncryptedFlag | index);

  const std::size_t tag_length = crypto_->rtcp_tag_length;
  out.resize(packet.size() + kSrtcpIndexLength + tag_length);
  std::memcpy(out.data(), packet.data(), kRtcpHeaderLength);
  const std::uint8_t* body = packet.data() + kRtcpHeaderLength;
  std::uint8_t* encrypted = out.data() + kRtcpHeaderLength;
  bool ok = false;
  if (crypto_->gcm) {
    // RFC 7714 9: header || ciphertext || tag || E + index; the index word is authenticated.
    const auto iv = Crypto::gcm_iv(crypto_->rtcp_salt, ssrc, index);
    std::uint8_t* tag = out.data() + packet.size();
    ok = Crypto::gcm_crypt(crypto_->rtcp_cipher.get(), true, iv.data(),
                           packet.first(kRtcpHeaderLength), index_word, body, body_length,
                           encrypted, tag);
    std::memcpy(tag + tag_length, index_word.data(), kSrtcpIndexLength);
  } else {
    // RFC 3711 3.4: header || ciphertext || E + index || tag.
    const auto iv = Crypto::cm_iv(crypto_->rtcp_salt, ssrc, index);
    std::memcpy(out.data() + packet.size(), index_word.data(), kSrtcpIndexLength);
    std::array<std::uint8_t, kHmacSha1Length> mac;
    const std::size_t authenticated_length = packet.size() + kSrtcpIndexLength;
    ok =
        Crypto::ctr_xor(crypto_->rtcp_cipher.get(), iv.data(), body, body_length, encrypted) &&
        Crypto::hmac(crypto_->rtcp_mac.get(), BytesView(out.data(), authenticated_length), {}, mac);
    if (ok) std::memcpy(out.data() + authenticated_length, mac.data(), tag_length);
  }
  if (!ok) {
    out.clear();
    return SrtpError::kCryptoFailed;
  }
  ++stream.next_index;
  return {};
}

SrtpResult<> SrtpSession::unprotect_rtcp(BytesView packet, Buffer& out) {
  if (overlaps(packet, out)) return SrtpError::kAliasedBuffers;
  out.clear();
  const std::size_t tag_length = crypto_->rtcp_tag_length;
  if (packet.size() < kRtcpHeaderLength + kSrtcpIndexLength + tag_length)
    return SrtpError::kTooShort;
  if (packet[0] >> 6 != 2) return SrtpError::kMalformed;
  const std::size_t rtcp_length = packet.size() - kSrtcpIndexLength - tag_length;
  if (rtcp_length - kRtcpHeaderLength > kMaxPayloadLength) return SrtpError::kTooLong;
  const std::uint32_t ssrc = load_u32(&packet[4]);
  // The index word follows the tag with GCM and precedes it with AES-CM.
  const std::uint8_t* index_word =
      packet.data() + (crypto_->gcm ? packet.size() - kSrtcpIndexLength : rtcp_length);
  const std::uint32_t word = load_u32(index_word);
  const bool encrypted = (word & kSrtcpEncryptedFlag) != 0;
  const std::uint32_t index = word & kMaxSrtcpIndex;

  auto it = rtcp_receive_.find(ssrc);
  if (it != rtcp_receive_.end() && !it->second->replay.is_new(index)) return SrtpError::kReplayed;

  out.resize(rtcp_length);
  std::memcpy(out.data(), packet.data(), kRtcpHeaderLength);
  const std::uint8_t* body = packet.data() + kRtcpHeaderLength;
  const std::size_t body_length = rtcp_length - kRtcpHeaderLength;
  bool ok = false;
  if (crypto_->gcm) {
    const auto iv = Crypto::gcm_iv(crypto_->rtcp_salt, ssrc, index);
    std::array<std::uint8_t, kGcmTagLength> tag;
    std::memcpy(tag.data(), packet.data() + rtcp_length, kGcmTagLength);
    const BytesView index_bytes(index_word, kSrtcpIndexLength);
    if (encrypted) {
      ok = Crypto::gcm_crypt(crypto_->rtcp_cipher.get(), false, iv.data(),
                             packet.first(kRtcpHeaderLength), index_bytes, body, body_length,
                             out.data() + kRtcpHeaderLength, tag.data());
    } else {
      // E = 0 (RFC 7714 9.2): the whole packet is associated data, nothing is encrypted.
      ok =
          Crypto::gcm_crypt(crypto_->rtcp_cipher.get(), false, iv.data(), packet.first(rtcp_length),
                            index_bytes, nullptr, 0, nullptr, tag.data());
      if (ok) std::memcpy(out.data(), packet.data(), rtcp_length);
    }
  } else {
    std::array<std::uint8_t, kHmacSha1Length> mac;
    ok =
        Crypto::hmac(crypto_->rtcp_mac.get(), packet.first(rtcp_length + kSrtcpIndexLength), {},
                     mac) &&
        CRYPTO_memcmp(mac.data(), packet.data() + rtcp_length + kSrtcpIndexLength, tag_length) == 0;
    if (ok) {
      if (encrypted) {
        const auto iv = Crypto::cm_iv(crypto_->rtcp_salt, ssrc, index);
        ok = Crypto::ctr_xor(crypto_->rtcp_cipher.get(), iv.data(), body, body_length,
                             out.data() + kRtcpHeaderLength);
      } else {
        std::memcpy(out.data(), packet.data(), rtcp_length);
      }
    }
  }
  if (!ok) {
    out.clear();
    return SrtpError::kAuthenticationFailed;
  }
  if (it == rtcp_receive_.end())
    it = rtcp_receive_.emplace(ssrc, std::make_unique<RtcpStream>(config_.replay_window)).first;
  it->second->replay.accept(index);
  return {};
}

Result<SrtpSessions> make_dtls_srtp_sessions(std::string_view profile_name, BytesView client_key,
                                             BytesView client_salt, BytesView server_key,
                                             BytesView server_salt, bool local_is_dtls_client,
                                             SrtpConfig config) {
  // RFC 5764 4.2: the client writes with the client keys, the server with the server keys.
  const BytesView local_key = local_is_dtls_client ? client_key : server_key;
  const BytesView local_salt = local_is_dtls_client ? client_salt : server_salt;
  const BytesView remote_key = local_is_dtls_client ? server_key : client_key;
  const BytesView remote_salt = local_is_dtls_client ? server_salt : client_salt;
  auto outbound = SrtpSession::create(profile_name, local_key, local_salt, config);
  if (!outbound) return outbound.error();
  auto inbound = SrtpSession::create(profile_name, remote_key, remote_salt, config);
  if (!inbound) return inbound.error();
  return SrtpSessions{std::move(*outbound), std::move(*inbound)};
}

}  // namespace rtcpp::rtp
