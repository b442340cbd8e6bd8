#include "dtls/record_protection.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

namespace rtcpp::dtls {
namespace {

constexpr std::size_t kTagSize = 16;
constexpr std::size_t kGcmExplicitNonceSize = 8;  // RFC 5288 3
constexpr std::size_t kAadSize = 13;  // RFC 5246 6.2.3.3: seq_num, type, version, length

struct AeadShape {
  std::size_t key;
  std::size_t iv;
};

AeadShape shape_of(RecordAead aead) noexcept {
  switch (aead) {
    case RecordAead::kAes128Gcm:
      return {16, 4};
    case RecordAead::kAes256Gcm:
      return {32, 4};
    case RecordAead::kChaCha20Poly1305:
      return {32, 12};
  }
  return {16, 4};
}

const EVP_CIPHER* evp_cipher_of(RecordAead aead) noexcept {
  switch (aead) {
    case RecordAead::kAes128Gcm:
      return EVP_aes_128_gcm();
    case RecordAead::kAes256Gcm:
      return EVP_aes_256_gcm();
    case RecordAead::kChaCha20Poly1305:
      return EVP_chacha20_poly1305();
  }
  return nullptr;
}

void put_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// epoch (16 bits) and sequence number (48 bits): RFC 6347 4.1's 64-bit seq_num.
void put_epoch_sequence(std::uint8_t* p, std::uint16_t epoch, std::uint64_t sequence) noexcept {
  put_u16(p, epoch);
  for (int i = 0; i < 6; ++i) p[2 + i] = static_cast<std::uint8_t>(sequence >> (8 * (5 - i)));
}

// OpenSSL's TLS 1.2 PRF, fetched once for the process (a fetch walks the providers).
EVP_KDF* tls12_prf() {
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
  return kdf;
}

}  // namespace

Result<EpochKeys> derive_epoch_keys(RecordAead aead, std::string_view prf_digest,
                                    BytesView master_secret, BytesView client_random,
                                    BytesView server_random) {
  if (master_secret.empty() || client_random.size() != 32 || server_random.size() != 32)
    return invalid_state_error("DTLS keys: the handshake has no master secret yet");
  EVP_KDF* kdf = tls12_prf();
  if (kdf == nullptr) return operation_error("DTLS keys: OpenSSL has no TLS1-PRF");
  const AeadShape shape = shape_of(aead);
  Buffer block(2 * (shape.key + shape.iv));
  static constexpr std::string_view kLabel = "key expansion";
  Buffer seed;
  seed.append(as_bytes(kLabel));
  seed.append(server_random);
  seed.append(client_random);
  std::string digest(prf_digest);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
                                        const_cast<std::uint8_t*>(master_secret.data()),
                                        master_secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size()),
      OSSL_PARAM_construct_end()};
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  const bool derived =
      ctx != nullptr && EVP_KDF_derive(ctx, block.data(), block.size(), params) == 1;
  EVP_KDF_CTX_free(ctx);
  if (!derived) return operation_error("DTLS keys: the PRF failed");
  // RFC 5246 6.3: client_write_key, server_write_key, client_write_IV, server_write_IV (the
  // MAC keys come first and are empty for AEAD suites).
  const BytesView all = block.view();
  EpochKeys keys;
  keys.aead = aead;
  keys.client_write_key = Buffer(all.subspan(0, shape.key));
  keys.server_write_key = Buffer(all.subspan(shape.key, shape.key));
  keys.client_write_iv = Buffer(all.subspan(2 * shape.key, shape.iv));
  keys.server_write_iv = Buffer(all.subspan(2 * shape.key + shape.iv, shape.iv));
  return keys;
}

Result<RecordCipher> RecordCipher::create(RecordAead aead, BytesView key, BytesView iv) {
  const AeadShape shape = shape_of(aead);
  if (key.size() != shape.key || iv.size() != shape.iv)
    return invalid_access_error("DTLS record cipher: wrong key or IV length");
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr ||
      EVP_CipherInit_ex(ctx, evp_cipher_of(aead), nullptr, key.data(), nullptr, 1) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return operation_error("DTLS record cipher: OpenSSL refused the key");
  }
  return RecordCipher(aead, ctx, iv);
}

RecordCipher::RecordCipher(RecordAead aead, evp_cipher_ctx_st* ctx, BytesView iv)
    : aead_(aead), ctx_(ctx) {
  std::copy(iv.begin(), iv.end(), iv_.begin());
}

RecordCipher::RecordCipher(RecordCipher&& other) noexcept
    : aead_(other.aead_), ctx_(std::exchange(other.ctx_, nullptr)), iv_(other.iv_) {}

RecordCipher& RecordCipher::operator=(RecordCipher&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(ctx_);
    aead_ = other.aead_;
    ctx_ = std::exchange(other.ctx_, nullptr);
    iv_ = other.iv_;
  }
  return *this;
}

RecordCipher::~RecordCipher() {
  EVP_CIPHER_CTX_free(ctx_);
}

std::size_t RecordCipher::overhead() const noexcept {
  return (aead_ == RecordAead::kChaCha20Poly1305 ? 0 : kGcmExplicitNonceSize) + kTagSize;
}

std::size_t RecordCipher::plaintext_offset() const noexcept {
  return kDtlsRecordHeaderSize + overhead() - kTagSize;
}

void RecordCipher::nonce_for(std::uint16_t epoch, std::uint64_t sequence,
                             const std::uint8_t* explicit_nonce,
                             std::uint8_t* nonce) const noexcept {
  if (aead_ == RecordAead::kChaCha20Poly1305) {
    // RFC 7905 2: the IV XOR the 64-bit record sequence number padded on the left to 96 bits.
    std::uint8_t padded[12] = {};
    put_epoch_sequence(padded + 4, epoch, sequence);
    for (std::size_t i = 0; i < 12; ++i) nonce[i] = static_cast<std::uint8_t>(iv_[i] ^ padded[i]);
    return;
  }
  // RFC 5288 3: the 4-byte salt, then the record's explicit nonce.
  std::memcpy(nonce, iv_.data(), 4);
  std::memcpy(nonce + 4, explicit_nonce, kGcmExplicitNonceSize);
}

bool RecordCipher::seal(std::uint8_t type, std::uint16_t epoch, std::uint64_t sequence,
                        BytesView plaintext, std::uint8_t* out) {
  const std::size_t length = plaintext.size() + overhead();
  if (length > 0xffff || sequence > kMaxRecordSequence) return false;
  out[0] = type;
  out[1] = 0xfe;  // DTLS 1.2
  out[2] = 0xfd;
  put_epoch_sequence(out + 3, epoch, sequence);
  put_u16(out + 11, static_cast<std::uint16_t>(length));
  std::uint8_t* body = out + kDtlsRecordHeaderSize;
  // The explicit nonce is the record's own epoch and number, as OpenSSL and BoringSSL send:
  // unique for the key as long as the numbers are.
  if (aead_ != RecordAead::kChaCha20Poly1305) {
    put_epoch_sequence(body, epoch, sequence);
    body += kGcmExplicitNonceSize;
  }
  std::uint8_t nonce[12];
  nonce_for(epoch, sequence, out + kDtlsRecordHeaderSize, nonce);
  std::uint8_t aad[kAadSize];
  put_epoch_sequence(aad, epoch, sequence);
  aad[8] = type;
  aad[9] = out[1];
  aad[10] = out[2];
  put_u16(aad + 11, static_cast<std::uint16_t>(plaintext.size()));
  int written = 0;
  if (EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, nonce, 1) != 1 ||
      EVP_CipherUpdate(ctx_, nullptr, &written, aad, kAadSize) != 1)
    return false;
  if (!plaintext.empty() && EVP_CipherUpdate(ctx_, body, &written, plaintext.data(),
                                             static_cast<int>(plaintext.size())) != 1)
    return false;
  std::uint8_t final_block[16];
  return EVP_CipherFinal_ex(ctx_, final_block, &written) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, kTagSize, body + plaintext.size()) == 1;
}

bool RecordCipher::open(BytesView record, std::uint8_t* plaintext) {
  if (record.size() < kDtlsRecordHeaderSize + overhead()) return false;
  const std::uint8_t* header = record.data();
  const std::size_t length = (std::size_t{header[11]} << 8) | header[12];
  if (length != record.size() - kDtlsRecordHeaderSize) return false;
  const auto epoch = static_cast<std::uint16_t>((header[3] << 8) | header[4]);
  std::uint64_t sequence = 0;
  for (int i = 5; i < 11; ++i) sequence = (sequence << 8) | header[i];
  const std::uint8_t* body = header + kDtlsRecordHeaderSize;
  std::uint8_t nonce[12];
  nonce_for(epoch, sequence, body, nonce);
  if (aead_ != RecordAead::kChaCha20Poly1305) body += kGcmExplicitNonceSize;
  const std::size_t plaintext_size = length - overhead();
  std::uint8_t aad[kAadSize];
  std::memcpy(aad, header + 3, 8);
  aad[8] = header[0];
  aad[9] = header[1];
  aad[10] = header[2];
  put_u16(aad + 11, static_cast<std::uint16_t>(plaintext_size));
  // The tag is copied out first: opening in place may overwrite nothing after the ciphertext,
  // but OpenSSL wants a writable tag buffer.
  std::uint8_t tag[kTagSize];
  std::memcpy(tag, body + plaintext_size, kTagSize);
  int written = 0;
  if (EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, nonce, 0) != 1 ||
      EVP_CipherUpdate(ctx_, nullptr, &written, aad, kAadSize) != 1)
    return false;
  if (plaintext_size > 0 &&
      EVP_CipherUpdate(ctx_, plaintext, &written, body, static_cast<int>(plaintext_size)) != 1)
    return false;
  std::uint8_t final_block[16];
  return EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, kTagSize, tag) == 1 &&
         EVP_CipherFinal_ex(ctx_, final_block, &written) == 1;
}

bool ReplayWindow::fresh(std::uint64_t sequence) const noexcept {
  if (!any_ || sequence > highest_) return true;
  const std::uint64_t behind = highest_ - sequence;
  if (behind >= kSize) return false;
  return (bits_[behind / 64] & (std::uint64_t{1} << (behind % 64))) == 0;
}

void ReplayWindow::mark(std::uint64_t sequence) noexcept {
  if (!any_ || sequence > highest_) {
    const std::uint64_t shift = any_ ? sequence - highest_ : kSize;
    any_ = true;
    highest_ = sequence;
    if (shift >= kSize) {
      bits_.fill(0);
    } else {
      // Bit i moves to bit i + shift.
      const std::size_t words = shift / 64;
      const std::size_t bits = shift % 64;
      for (std::size_t k = bits_.size(); k-- > 0;) {
        std::uint64_t v = 0;
        if (k >= words) {
          v = bits_[k - words] << bits;
          if (bits != 0 && k > words) v |= bits_[k - words - 1] >> (64 - bits);
        }
        bits_[k] = v;
      }
    }
    bits_[0] |= 1;
    return;
  }
  const std::uint64_t behind = highest_ - sequence;
  if (behind < kSize) bits_[behind / 64] |= std::uint64_t{1} << (behind % 64);
}

}  // namespace rtcpp::dtls
