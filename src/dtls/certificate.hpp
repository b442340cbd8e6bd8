// Certificates for DTLS (W3C RTCCertificate, WebRTC 1.0 section 4.9): generation with the
// W3C key algorithms, fingerprints (RFC 8122), PEM persistence.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "rtcpp/error.hpp"

// OpenSSL types, kept out of the interface.
struct x509_st;
struct evp_pkey_st;

namespace rtcpp::dtls {

// The key algorithms RTCPeerConnection.generateCertificate accepts.
struct KeyAlgorithm {
  enum class Kind : std::uint8_t { kEcdsaP256, kRsaPkcs1 };
  Kind kind = Kind::kEcdsaP256;
  // RSASSA-PKCS1-v1_5 parameters.
  std::uint32_t modulus_length = 2048;
  std::uint32_t public_exponent = 65537;
  std::string hash = "SHA-256";  // "SHA-256", "SHA-384" or "SHA-512"

  static KeyAlgorithm ecdsa_p256() { return {}; }
  static KeyAlgorithm rsa(std::uint32_t bits = 2048, std::uint32_t exponent = 65537,
                          std::string hash = "SHA-256") {
    return {Kind::kRsaPkcs1, bits, exponent, std::move(hash)};
  }
};

// RTCDtlsFingerprint: a hash function name as in SDP ("sha-256") and the digest.
struct Fingerprint {
  std::string algorithm;
  Buffer value;

  // Parses the value of an SDP a=fingerprint attribute: "sha-256 AB:CD:...".
  static Result<Fingerprint> parse(std::string_view sdp_value);
  // "sha-256 AB:CD:..." (uppercase hex, as browsers write it).
  std::string to_sdp() const;
  // "AB:CD:..." (the W3C RTCDtlsFingerprint.value form).
  std::string value_string() const;
  friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
};

// The hash names accepted in fingerprints (RFC 8122 5): sha-1, sha-224, sha-256, sha-384,
// sha-512.
bool is_supported_fingerprint_algorithm(std::string_view name) noexcept;

// A certificate and its private key. Immutable and shareable across connections.
class Certificate {
 public:
  // W3C generateCertificate: a fresh key pair and a self-signed certificate valid from one
  // day ago (clock skew) for `validity_seconds` (30 days by default, as browsers do).
  static Result<std::shared_ptr<const Certificate>> generate(
      const KeyAlgorithm& algorithm = KeyAlgorithm::ecdsa_p256(),
      std::int64_t validity_seconds = 30LL * 24 * 3600);
  // Loads a certificate and its key from PEM (both in one string, as to_pem writes them).
  static Result<std::shared_ptr<const Certificate>> from_pem(std::string_view pem);

  ~Certificate();
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  // The certificate then the private key, PEM encoded. Keep it secret.
  std::string to_pem() const;
  // W3C expires: milliseconds since the Unix epoch when the certificate stops being valid.
  std::int64_t expires_ms() const;
  // W3C getFingerprints: the sha-256 fingerprint.
  std::vector<Fingerprint> get_fingerprints() const;
  Result<Fingerprint> fingerprint(std::string_view algorithm) const;
  Buffer der() const;

  x509_st* x509() const noexcept { return x509_; }
  evp_pkey_st* key() const noexcept { return key_; }

 private:
  Certificate(x509_st* x509, evp_pkey_st* key) : x509_(x509), key_(key) {}
  x509_st* x509_;
  evp_pkey_st* key_;
};

// The fingerprint of a DER certificate with a named hash (for the peer's certificate).
Result<Fingerprint> fingerprint_of_der(BytesView der, std::string_view algorithm);

}  // namespace rtcpp::dtls
