// DTLS 1.2 record protection after the handshake's ChangeCipherSpec, done by rtcpp rather
// than by OpenSSL. OpenSSL runs the handshake; rtcpp takes the negotiated secret (RFC 5246
// 6.3), seals and opens the epoch-1 records itself (RFC 5288 for AES-GCM, RFC 7905 for
// ChaCha20-Poly1305, with RFC 6347 4.1's record header) and keeps the replay window
// (RFC 6347 4.1.2.6). Owning the record layer lets every protected record go out with a number
// of ours (a Finished sent again is a new record to the peer, which BoringSSL needs before it
// sends its own final flight again) and spares a copy of each record on each side.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

struct evp_cipher_ctx_st;

namespace rtcpp::dtls {

// The AEADs of the cipher suites rtcpp offers.
enum class RecordAead : std::uint8_t { kAes128Gcm, kAes256Gcm, kChaCha20Poly1305 };

// RFC 6347 4.1: type, version, epoch, sequence number, length.
inline constexpr std::size_t kDtlsRecordHeaderSize = 13;
// RFC 6347 4.1: sequence numbers are 48 bits within an epoch.
inline constexpr std::uint64_t kMaxRecordSequence = (std::uint64_t{1} << 48) - 1;

// One epoch's keys, both directions (RFC 5246 6.3; AEAD suites have no MAC keys).
struct EpochKeys {
  RecordAead aead = RecordAead::kAes128Gcm;
  Buffer client_write_key;
  Buffer server_write_key;
  Buffer client_write_iv;  // 4 bytes of salt for AES-GCM (RFC 5288 3), 12 for ChaCha20
  Buffer server_write_iv;
};

// RFC 5246 6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random)
// with the suite's PRF hash ("SHA256", "SHA384"), cut into the keys and IVs.
Result<EpochKeys> derive_epoch_keys(RecordAead aead, std::string_view prf_digest,
                                    BytesView master_secret, BytesView client_random,
                                    BytesView server_random);

// One direction's AEAD for one epoch.
class RecordCipher {
 public:
  static Result<RecordCipher> create(RecordAead aead, BytesView key, BytesView iv);
  RecordCipher(RecordCipher&&) noexcept;
  RecordCipher& operator=(RecordCipher&&) noexcept;
  ~RecordCipher();

  // What protection adds to a record's plaintext: the explicit nonce (8 bytes, AES-GCM only)
  // and the 16-byte tag.
  std::size_t overhead() const noexcept;
  // Where a sealed record's ciphertext starts: after the header and any explicit nonce.
  std::size_t plaintext_offset() const noexcept;

  // Writes one DTLS 1.2 record (header, then the protected plaintext) at `out`, which must
  // hold kDtlsRecordHeaderSize + plaintext.size() + overhead() bytes. `plaintext` may be
  // at out + plaintext_offset() (sealing in place), or must not overlap `out`. False for a
  // record over 2^16 bytes or a number past 2^48, or if OpenSSL fails.
  bool seal(std::uint8_t type, std::uint16_t epoch, std::uint64_t sequence, BytesView plaintext,
            std::uint8_t* out);

  // Opens one whole record (header included, its length field matching). Writes the
  // plaintext, record.size() - header - overhead() bytes, at `plaintext`, which may be the
  // record's own ciphertext (record.data() + plaintext_offset()) or must not overlap it.
  // False when the record is too short or does not authenticate (the plaintext written is
  // then garbage).
  bool open(BytesView record, std::uint8_t* plaintext);

 private:
  RecordCipher(RecordAead aead, evp_cipher_ctx_st* ctx, BytesView iv);
  void nonce_for(std::uint16_t epoch, std::uint64_t sequence, const std::uint8_t* explicit_nonce,
                 std::uint8_t* nonce) const noexcept;

  RecordAead aead_;
  evp_cipher_ctx_st* ctx_ = nullptr;
  std::array<std::uint8_t, 12> iv_{};
};

// RFC 6347 4.1.2.6: which records of an epoch were received, in a window that slides with the
// highest sequence number seen. A record older than the window counts as seen.
class ReplayWindow {
 public:
  static constexpr std::uint64_t kSize = 256;
  // Whether a record with this number may be new (check before authenticating it).
  bool fresh(std::uint64_t sequence) const noexcept;
  // Records a number whose record authenticated.
  void mark(std::uint64_t sequence) noexcept;

 private:
  bool any_ = false;
  std::uint64_t highest_ = 0;
  std::array<std::uint64_t, kSize / 64> bits_{};  // bit i: highest_ - i was received
};

}  // namespace rtcpp::dtls
