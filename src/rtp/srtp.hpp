// SRTP and SRTCP (RFC 3711) with the AES-GCM transforms of RFC 7714, our own over OpenSSL's
// EVP ciphers and MACs, keyed from DTLS-SRTP (RFC 5764).
//
// An SrtpSession holds the keys of one direction: one session protects what we send with our
// keys, another unprotects what the peer sends with the peer's keys. With DTLS-SRTP the DTLS
// client protects with the client write key and salt and the server with the server ones
// (RFC 5764 4.2): `make_dtls_srtp_sessions` picks them by role.
//
// Packets are never encrypted in place: every call reads a caller's view and writes the
// result into a caller's output buffer, reusing its capacity, so the steady state allocates
// only when a new SSRC appears. The per-packet calls return allocation-free SrtpError values
// (the layer above turns them into RTCError when it wants to); making a session returns
// Result<>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

namespace rtcpp::rtp {

// The DTLS-SRTP protection profiles (RFC 5764 4.1.2, RFC 7714 14.2), by their IANA ids.
enum class SrtpProfile : std::uint16_t {
  kAes128CmHmacSha1_80 = 0x0001,
  kAes128CmHmacSha1_32 = 0x0002,
  kAeadAes128Gcm = 0x0007,
  kAeadAes256Gcm = 0x0008,
};

// The profile of a DTLS-SRTP name ("SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM", as
// OpenSSL and dtls::SrtpKeyingMaterial spell them) or of an SDES crypto suite name
// ("AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM", RFC 4568 and RFC 7714 14.1).
// NotSupportedError for any other name.
Result<SrtpProfile> srtp_profile_from_name(std::string_view name);
// The profile of an IANA DTLS-SRTP profile id; NotSupportedError for any other id.
Result<SrtpProfile> srtp_profile_from_id(std::uint16_t id);
// The DTLS-SRTP name, e.g. "SRTP_AEAD_AES_128_GCM".
std::string_view to_string(SrtpProfile profile) noexcept;

// Master key and master salt lengths in bytes: 16 and 14 for AES-CM, 16 or 32 and 12 for
// AES-GCM (RFC 7714 12).
std::size_t srtp_master_key_length(SrtpProfile profile) noexcept;
std::size_t srtp_master_salt_length(SrtpProfile profile) noexcept;
// Bytes that protect_rtp adds to a packet (the authentication tag).
std::size_t srtp_rtp_overhead(SrtpProfile profile) noexcept;
// Bytes that protect_rtcp adds to a packet (the E flag and index word, and the tag).
std::size_t srtp_rtcp_overhead(SrtpProfile profile) noexcept;

// Why a packet was not protected or unprotected.
enum class SrtpError : std::uint8_t {
  kTooShort,              // shorter than its headers, or than its headers and the tag
  kMalformed,             // not RTP/RTCP version 2, or CSRCs or extension beyond the end
  kTooLong,               // more keystream than one packet may use (2^16 AES blocks)
  kAuthenticationFailed,  // the tag does not match: forged, corrupted or another key
  kReplayed,              // this index was already accepted (or protected), or it is older
                          // than the replay window
  kIndexExhausted,        // the 48-bit SRTP or 31-bit SRTCP index would wrap: rekey
  kAliasedBuffers,        // the input view points into the output buffer
  kCryptoFailed,          // OpenSSL failed on a keyed context (not expected)
};
std::string_view to_string(SrtpError error) noexcept;
template <typename T = void>
using SrtpResult = Expected<T, SrtpError>;

struct SrtpConfig {
  // How many packets below the highest index received are still accepted (each once), per
  // SSRC, for SRTP and SRTCP alike. RFC 3711 asks for at least 64; reordered video needs
  // more. Rounded up to a power of two, at least 64 and at most 32768.
  std::size_t replay_window = 1024;
  // Whether protect_rtp may protect the same SSRC and sequence number twice (a resent
  // packet without RTX). Off, it refuses with kReplayed: the same index over different
  // bytes would reuse the AES-CM keystream or the GCM nonce, which GCM does not survive.
  bool allow_repeated_rtp_index = false;
};

// Session keys derived from a master key and salt (RFC 3711 4.3, key derivation rate 0),
// for one of SRTP or SRTCP: the cipher key, the salt and (AES-CM only) the HMAC-SHA1 key.
struct SrtpSessionKeys {
  Buffer cipher_key;
  Buffer salt;
  Buffer auth_key;  // empty for AES-GCM
};

// The SRTP (labels 0-2) and SRTCP (labels 3-5) session keys of a master key and salt.
// InvalidAccessError when their lengths do not fit the profile.
struct SrtpDerivedKeys {
  SrtpSessionKeys rtp;
  SrtpSessionKeys rtcp;
};
Result<SrtpDerivedKeys> derive_srtp_keys(SrtpProfile profile, BytesView master_key,
                                         BytesView master_salt);

// The SRTP state of one direction: the session keys and, per SSRC, the rollover counter and
// the replay window of what was received (or sent). Not thread-safe; movable.
class SrtpSession {
 public:
  // A session from a master key and salt (what DTLS-SRTP exports for each side).
  // InvalidAccessError when their lengths do not fit the profile.
  static Result<SrtpSession> create(SrtpProfile profile, BytesView master_key,
                                    BytesView master_salt, SrtpConfig config = {});
  // The same with the profile given by its DTLS-SRTP name or id (see above).
  static Result<SrtpSession> create(std::string_view profile_name, BytesView master_key,
                                    BytesView master_salt, SrtpConfig config = {});
  // A session from session keys already derived (the RFC test vectors are given that way).
  static Result<SrtpSession> create_from_session_keys(SrtpProfile profile,
                                                      const SrtpDerivedKeys& keys,
                                                      SrtpConfig config = {});

  SrtpSession(SrtpSession&&) noexcept;
  SrtpSession& operator=(SrtpSession&&) noexcept;
  ~SrtpSession();

  SrtpProfile profile() const noexcept { return profile_; }

  // RTP packet -> SRTP packet in `out` (its size becomes the packet's plus
  // srtp_rtp_overhead). The header (CSRCs and RFC 8285 extension included) stays clear, the
  // payload is encrypted and the packet authenticated under the SSRC's rollover counter,
  // which advances when the sequence number wraps (RFC 3711 3.3.1).
  SrtpResult<> protect_rtp(BytesView packet, Buffer& out);
  // SRTP packet -> RTP packet in `out`. The index is estimated from the sequence number
  // (RFC 3711 Appendix A), checked against the replay window, the tag verified; only then
  // does the SSRC's state advance. On error `out` is left empty and the state untouched.
  SrtpResult<> unprotect_rtp(BytesView packet, Buffer& out);
  // (Compound) RTCP packet -> SRTCP packet in `out`: everything after the first 8 bytes is
  // encrypted, then the E flag and the SSRC's next SRTCP index are appended and the whole
  // authenticated (RFC 3711 3.4, RFC 7714 9).
  SrtpResult<> protect_rtcp(BytesView packet, Buffer& out);
  // SRTCP packet -> RTCP packet in `out`; packets sent with E = 0 (authenticated only) are
  // accepted too. Replay-checked per sender SSRC by the explicit index.
  SrtpResult<> unprotect_rtcp(BytesView packet, Buffer& out);

  // The rollover counter kept for an SSRC (what was sent, or the highest index received);
  // 0 for an SSRC not seen yet.
  std::uint32_t rollover_counter(std::uint32_t ssrc) const noexcept;

 private:
  struct Crypto;      // the keyed OpenSSL contexts and the session salts
  struct RtpStream;   // per SSRC: the highest index and the replay window below it
  struct RtcpStream;  // per SSRC: the next SRTCP index to send, or the replay window
  SrtpSession(SrtpProfile profile, SrtpConfig config, std::unique_ptr<Crypto> crypto);

  SrtpProfile profile_;
  SrtpConfig config_;
  std::unique_ptr<Crypto> crypto_;
  std::unordered_map<std::uint32_t, std::unique_ptr<RtpStream>> rtp_send_;
  std::unordered_map<std::uint32_t, std::unique_ptr<RtpStream>> rtp_receive_;
  std::unordered_map<std::uint32_t, std::unique_ptr<RtcpStream>> rtcp_send_;
  std::unordered_map<std::uint32_t, std::unique_ptr<RtcpStream>> rtcp_receive_;
};

// The two sessions of an endpoint after a DTLS-SRTP handshake (RFC 5764 4.2): `outbound`
// protects with the write keys of our DTLS role, `inbound` unprotects with the peer's.
// The arguments are the fields of dtls::SrtpKeyingMaterial.
struct SrtpSessions {
  SrtpSession outbound;
  SrtpSession inbound;
};
Result<SrtpSessions> make_dtls_srtp_sessions(std::string_view profile_name, BytesView client_key,
                                             BytesView client_salt, BytesView server_key,
                                             BytesView server_salt, bool local_is_dtls_client,
                                             SrtpConfig config = {});

}  // namespace rtcpp::rtp
